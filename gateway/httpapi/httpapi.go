// Package httpapi is smppd's HTTP surface as an http.Handler over the
// gateway: liveness and readiness for orchestrators, Prometheus metrics,
// the REST API under /v1/ (described by the OpenAPI document it serves at
// /v1/openapi.json), and a mount point for the handlers of other
// components (a backend's webhooks).
package httpapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"net/http"
	"time"

	"github.com/smppkit/smpp/gateway"
	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
)

// Gateway is what the HTTP surface needs of the engine for /ready.
type Gateway interface {
	// Ready reports whether the store answers.
	Ready(ctx context.Context) error
	// Pending is the number of unfinished messages; WaitingDeliveries the
	// receipts and MO messages not yet acknowledged.
	Pending() int64
	WaitingDeliveries() int64
}

// API is what the REST API needs of the engine (*gateway.Gateway has it).
type API interface {
	Send(ctx context.Context, r gateway.SendRequest) ([]string, error)
	Message(ctx context.Context, account, id string) (*store.Message, error)
	// History is a message's states over time (ok false: the store keeps
	// none).
	History(ctx context.Context, account, id string) (events []store.Event, ok bool, err error)
	Find(ctx context.Context, f store.Filter) ([]*store.Message, error)
	Cancel(ctx context.Context, account, id string) error
	InjectMO(ctx context.Context, mo *backend.MO) (string, error)
	Sessions(account string) []gateway.SessionInfo
	// Authenticate checks an account's SMPP credentials (HTTP Basic);
	// HasAccounts tells whether any are configured.
	Authenticate(systemID, password string) bool
	HasAccounts() bool
}

// Options configure the handler.
type Options struct {
	Gateway Gateway
	// Listening reports whether the SMPP listeners are up (for /ready).
	Listening func() bool
	// Metrics serves GET /metrics (promhttp); nil serves 404.
	Metrics http.Handler
	// API serves /v1/; nil serves none of it.
	API API
	// APIKeys returns the keys the API accepts (http.api_keys); it is
	// asked on each request, so a reload takes effect at once.
	APIKeys func() []string
	// Reload re-reads the accounts (POST /v1/reload, as SIGHUP does) and
	// returns how many there are now.
	Reload func(ctx context.Context) (int, error)
	// Mounts are extra handlers by path pattern (http.ServeMux syntax),
	// e.g. a backend's webhook receiver.
	Mounts map[string]http.Handler
}

// OpenAPI is the OpenAPI 3 document of the HTTP API, as served at
// /v1/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// New returns the HTTP handler.
func New(o Options) http.Handler {
	mux, _ := newMux(o)
	return mux
}

// newMux builds the handler and lists the "METHOD /path" patterns it
// serves (the test holds them to the OpenAPI document).
func newMux(o Options) (*http.ServeMux, []string) {
	mux := http.NewServeMux()
	var routes []string
	handle := func(pattern string, h http.HandlerFunc) {
		routes = append(routes, pattern)
		mux.HandleFunc(pattern, h)
	}
	handle("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	handle("GET /ready", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		body := map[string]any{"status": "ready", "pending_messages": o.Gateway.Pending(), "waiting_deliveries": o.Gateway.WaitingDeliveries()}
		status := http.StatusOK
		if err := o.Gateway.Ready(ctx); err != nil {
			status, body["status"], body["store"] = http.StatusServiceUnavailable, "not ready", err.Error()
		}
		if o.Listening != nil && !o.Listening() {
			status, body["status"], body["smpp"] = http.StatusServiceUnavailable, "not ready", "not listening"
		}
		writeJSON(w, status, body)
	})
	if o.Metrics != nil {
		handle("GET /metrics", o.Metrics.ServeHTTP)
	}
	if o.API != nil {
		a := &api{o: o}
		handle("GET /v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(OpenAPI)
		})
		handle("POST /v1/messages", a.auth(a.send))
		handle("GET /v1/messages", a.auth(a.list))
		handle("GET /v1/messages/{id}", a.auth(a.get))
		handle("DELETE /v1/messages/{id}", a.auth(a.cancel))
		handle("GET /v1/sessions", a.auth(a.sessions))
		handle("POST /v1/mo", a.auth(a.admin(a.mo)))
		handle("POST /v1/reload", a.auth(a.admin(a.reload)))
		mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "no such route: "+r.Method+" "+r.URL.Path+" (see /v1/openapi.json)", "")
		})
	}
	for pattern, h := range o.Mounts {
		mux.Handle(pattern, h)
	}
	return mux, routes
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// errorBody is every error the API returns.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func writeError(w http.ResponseWriter, status int, msg, field string) {
	writeJSON(w, status, errorBody{Error: msg, Field: field})
}

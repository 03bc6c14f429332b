// Package httpapi is smppd's HTTP surface as an http.Handler over the
// gateway: liveness and readiness for orchestrators, and a mount point for
// the handlers of other components (a backend's webhooks).
package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Gateway is what the HTTP surface needs of the engine.
type Gateway interface {
	// Ready reports whether the store answers.
	Ready(ctx context.Context) error
	// Pending is the number of unfinished messages; WaitingDeliveries the
	// receipts and MO messages not yet acknowledged.
	Pending() int64
	WaitingDeliveries() int64
}

// Options configure the handler.
type Options struct {
	Gateway Gateway
	// Listening reports whether the SMPP listeners are up (for /ready).
	Listening func() bool
	// Mounts are extra handlers by path pattern (http.ServeMux syntax),
	// e.g. a backend's webhook receiver.
	Mounts map[string]http.Handler
}

// New returns the HTTP handler.
func New(o Options) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, r *http.Request) {
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
	for pattern, h := range o.Mounts {
		mux.Handle(pattern, h)
	}
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

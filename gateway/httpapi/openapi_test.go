package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/smppkit/smpp/gateway/backend/sim"
)

func loadDoc(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, router
}

// The handler serves exactly the routes the document describes.
func TestRoutesMatchOpenAPI(t *testing.T) {
	doc, _ := loadDoc(t)
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	_, served := newMux(Options{Gateway: nil, Metrics: http.NotFoundHandler(), API: nil})
	_, withAPI := newMux(Options{Metrics: http.NotFoundHandler(), API: &stubAPI{}})
	sort.Strings(documented)
	sort.Strings(withAPI)
	if strings.Join(documented, "\n") != strings.Join(withAPI, "\n") {
		t.Errorf("served routes:\n%s\n\ndocumented routes:\n%s", strings.Join(withAPI, "\n"), strings.Join(documented, "\n"))
	}
	if len(served) != 3 {
		t.Errorf("without an API, %d routes are served (%v), want health, ready and metrics", len(served), served)
	}
}

// Every documented operation, exercised through a real server: requests
// and responses are validated against the document, every response
// status must be documented, and every operation must be exercised.
func TestAPIConformsToOpenAPI(t *testing.T) {
	_, router := loadDoc(t)
	h := newHarness(t, sim.Options{})
	c := h.dial("acme", "secret") // a session for /v1/sessions, a receiver for MO
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)

	type step struct {
		method, path, body, auth string
		status                   int
		// invalid: the request breaks the document on purpose (bad
		// input must get a documented 4xx, not a 500).
		invalid bool
	}
	// ids filled in as the steps run.
	var sent, scheduled string
	steps := []func() step{
		func() step { return step{method: "GET", path: "/health", auth: "-", status: 200} },
		func() step { return step{method: "GET", path: "/ready", auth: "-", status: 200} },
		func() step { return step{method: "GET", path: "/metrics", auth: "-", status: 200} },
		func() step { return step{method: "GET", path: "/v1/openapi.json", auth: "-", status: 200} },
		func() step {
			return step{method: "POST", path: "/v1/messages", body: `{"account":"acme","from":"Shop","to":"+4915550001","text":"hello","receipt":true}`, status: 201}
		},
		func() step {
			return step{method: "POST", path: "/v1/messages", body: `{"account":"acme","to":"+4915550001","text":"later","schedule":"` + future + `","validity":"2h"}`, status: 201}
		},
		func() step {
			return step{method: "POST", path: "/v1/messages", body: `{"to":"+4915550001","text":"long ` + strings.Repeat("x", 300) + `"}`, auth: "acme:secret", status: 201}
		},
		func() step {
			return step{method: "POST", path: "/v1/messages", body: `{"account":"acme","to":"+4915550001","data":"AAEC","data_coding":4}`, auth: "key:" + testKey, status: 201}
		},
		func() step {
			return step{method: "POST", path: "/v1/messages", body: `{"account":"acme","text":"no to"}`, status: 400, invalid: true}
		},
		func() step {
			return step{method: "POST", path: "/v1/messages", body: `{"account":"acme","to":"1","text":"x","colour":"red"}`, status: 400, invalid: true}
		},
		func() step {
			return step{method: "POST", path: "/v1/messages", body: `{"account":"acme","to":"1","text":"x","validity":"soon"}`, status: 400}
		},
		func() step {
			return step{method: "POST", path: "/v1/messages", body: `{"account":"nobody","to":"1","text":"x"}`, status: 400}
		},
		func() step {
			return step{method: "POST", path: "/v1/messages", body: `{"to":"1","text":"x"}`, auth: "-", status: 401}
		},
		func() step {
			return step{method: "POST", path: "/v1/messages", body: `{"account":"other","to":"1","text":"x"}`, auth: "acme:secret", status: 403}
		},
		func() step { return step{method: "GET", path: "/v1/messages?account=acme&limit=2", status: 200} },
		func() step {
			return step{method: "GET", path: "/v1/messages?state=delivered,scheduled&dest=4915550001", auth: "acme:secret", status: 200}
		},
		func() step { return step{method: "GET", path: "/v1/messages?limit=0", status: 400, invalid: true} },
		func() step {
			return step{method: "GET", path: "/v1/messages?since=yesterday", status: 400, invalid: true}
		},
		func() step { return step{method: "GET", path: "/v1/messages?state=LOST", status: 400} },
		func() step { return step{method: "GET", path: "/v1/messages", auth: "acme:wrong", status: 401} },
		func() step { return step{method: "GET", path: "/v1/messages/" + sent, status: 200} },
		func() step {
			return step{method: "GET", path: "/v1/messages/" + sent, auth: "other:other-pw", status: 404}
		},
		func() step { return step{method: "GET", path: "/v1/messages/nope", status: 404} },
		func() step {
			return step{method: "DELETE", path: "/v1/messages/" + scheduled, auth: "acme:secret", status: 204}
		},
		func() step { return step{method: "DELETE", path: "/v1/messages/" + scheduled, status: 409} },
		func() step { return step{method: "DELETE", path: "/v1/messages/nope", status: 404} },
		func() step { return step{method: "GET", path: "/v1/sessions", status: 200} },
		func() step { return step{method: "GET", path: "/v1/sessions", auth: "other:other-pw", status: 200} },
		func() step {
			return step{method: "POST", path: "/v1/mo", body: `{"from":"+4915550001","to":"+447000123","text":"hi there"}`, status: 202}
		},
		func() step {
			return step{method: "POST", path: "/v1/mo", body: `{"from":"+4915550001","to":"+999","data":"aGk="}`, status: 400}
		},
		func() step {
			return step{method: "POST", path: "/v1/mo", body: `{"from":"1","to":"+447000123","text":"x"}`, auth: "acme:secret", status: 403}
		},
		func() step { return step{method: "POST", path: "/v1/reload", status: 200} },
		func() step { return step{method: "POST", path: "/v1/reload", auth: "acme:secret", status: 403} },
	}
	exercised := map[string]bool{}
	for i, mk := range steps {
		s := mk()
		req, err := http.NewRequest(s.method, h.srv.URL+s.path, strings.NewReader(s.body))
		if err != nil {
			t.Fatal(err)
		}
		if s.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		setAuth(req, s.auth)
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatalf("step %d: %s %s is not in the document: %v", i, s.method, s.path, err)
		}
		exercised[s.method+" "+route.Path] = true
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		err = openapi3filter.ValidateRequest(context.Background(), in)
		if s.invalid != (err != nil) {
			t.Errorf("step %d: %s %s: request validation: %v (meant invalid: %v)", i, s.method, s.path, err, s.invalid)
		}
		req.Body = io.NopCloser(strings.NewReader(s.body)) // (validation read it)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != s.status {
			t.Errorf("step %d: %s %s: status %d, want %d: %s", i, s.method, s.path, resp.StatusCode, s.status, body)
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
			Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("step %d: %s %s: response does not match the document: %v\n%s", i, s.method, s.path, err, body)
		}
		if resp.StatusCode >= 400 {
			var e errorBody
			if json.Unmarshal(body, &e) != nil || e.Error == "" {
				t.Errorf("step %d: error without a JSON message: %s", i, body)
			}
		}
		if s.method == "POST" && s.path == "/v1/messages" && resp.StatusCode == 201 {
			var r struct{ IDs []string }
			json.Unmarshal(body, &r)
			switch {
			case sent == "":
				sent = r.IDs[0]
			case scheduled == "":
				scheduled = r.IDs[0]
			default:
				if strings.Contains(s.body, "long") && len(r.IDs) != 2 {
					t.Errorf("a 305-character text gave %d ids, want 2", len(r.IDs))
				}
			}
		}
	}
	doc, _ := loadDoc(t)
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !exercised[method+" "+path] {
				t.Errorf("%s %s is documented but not exercised", method, path)
			}
		}
	}
	select {
	case m := <-c.mo:
		if m.Text != "hi there" {
			t.Errorf("MO text %q", m.Text)
		}
	case <-time.After(5 * time.Second):
		t.Error("the injected MO message did not reach the account's session")
	}
}

// stubAPI only lets newMux list its routes.
type stubAPI struct{ API }

func (*stubAPI) HasAccounts() bool { return false }

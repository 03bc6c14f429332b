package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway"
	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/backend/sim"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/gateway/store/memory"
)

// A message sent over REST takes the SMPP path: its receipt reaches the
// account's bound session, and its history shows each state.
func TestRESTSendTakesTheSMPPPath(t *testing.T) {
	h := newHarness(t, sim.Options{})
	c := h.dial("acme", "secret")
	resp, body := h.do("POST", "/v1/messages", `{"from":"Shop","to":"+4915550001","text":"via REST","receipt":true}`, "acme:secret")
	if resp.StatusCode != 201 {
		t.Fatalf("send: %d %s", resp.StatusCode, body)
	}
	var sent struct{ IDs []string }
	json.Unmarshal([]byte(body), &sent)
	select {
	case r := <-c.receipts:
		if r.ID != sent.IDs[0] {
			t.Errorf("receipt for %q, want %q", r.ID, sent.IDs[0])
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no receipt for the REST message on the SMPP session")
	}
	// The receipt goes out as the final state is committed, so the
	// history may lag it by a commit: ask until the commit is in.
	var m messageView
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		resp, body = h.do("GET", "/v1/messages/"+sent.IDs[0], "", "acme:secret")
		m = messageView{}
		if err := json.Unmarshal([]byte(body), &m); err != nil || resp.StatusCode != 200 {
			t.Fatalf("get: %d %s", resp.StatusCode, body)
		}
		if len(m.History) >= 2 || time.Now().After(deadline) {
			break
		}
	}
	if m.State != "DELIVERED" || m.Text == nil || *m.Text != "via REST" || m.Account != "acme" || m.DoneAt == nil {
		t.Errorf("message %+v", m)
	}
	var states []string
	for _, e := range m.History {
		states = append(states, e.State)
	}
	if strings.Join(states, " ") != "ACCEPTED DELIVERED" {
		t.Errorf("history %v, want ACCEPTED DELIVERED", states)
	}
	// Another account does not see it, in a listing either.
	if resp, _ := h.do("GET", "/v1/messages/"+sent.IDs[0], "", "other:other-pw"); resp.StatusCode != 404 {
		t.Errorf("another account got %d for acme's message", resp.StatusCode)
	}
	_, body = h.do("GET", "/v1/messages?account=acme", "", "other:other-pw")
	if !strings.Contains(body, "error") {
		t.Errorf("another account listed acme's messages: %s", body)
	}
	_, body = h.do("GET", "/v1/messages", "", "other:other-pw")
	if strings.Contains(body, sent.IDs[0]) {
		t.Errorf("another account's listing shows acme's message: %s", body)
	}
}

// Without keys or accounts the API is open to loopback clients only.
func TestOpenAPIIsLoopbackOnly(t *testing.T) {
	gw, err := gateway.New(context.Background(), gateway.Options{Store: memory.New(),
		Backends: map[string]backend.Backend{"sim": sim.New(sim.Options{})}, AcceptAny: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Shutdown(context.Background()) })
	hd := New(Options{Gateway: gw, API: gw})
	send := func(remote string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/v1/messages", strings.NewReader(`{"to":"+4915550001","text":"hi"}`))
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		hd.ServeHTTP(rec, req)
		return rec
	}
	if rec := send("127.0.0.1:40000"); rec.Code != http.StatusCreated {
		t.Errorf("loopback: %d %s", rec.Code, rec.Body)
	}
	if rec := send("[::1]:40000"); rec.Code != http.StatusCreated {
		t.Errorf("loopback v6: %d %s", rec.Code, rec.Body)
	}
	if rec := send("192.0.2.7:40000"); rec.Code != http.StatusForbidden {
		t.Errorf("remote: %d %s, want 403", rec.Code, rec.Body)
	}
	ms, _ := gw.Find(context.Background(), storeFilterAccount("api"))
	if len(ms) != 2 {
		t.Errorf("%d messages stored as account api, want 2", len(ms))
	}
}

func storeFilterAccount(a string) store.Filter { return store.Filter{Account: a} }

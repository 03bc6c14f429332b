package smsgate

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/backend/smsgate/smsgatefake"
	"github.com/smppkit/smpp/gateway/store"
)

// TestAddAccount: credentials learnt after Start (a pass-through account at
// its first bind) get their webhooks, once; until they are known, that
// account's messages fail temporarily with WaitForCredentials.
func TestAddAccount(t *testing.T) {
	var mu sync.Mutex
	known := map[string]string{}
	e := setup(t, func(o *Options, f *smsgatefake.Server) {
		f.AddUser("late", "late-password", "")
		o.Username, o.Password = "", ""
		o.WaitForCredentials = true
		o.Credentials = func(a string) (string, string, bool) {
			mu.Lock()
			defer mu.Unlock()
			p, ok := known[a]
			return a, p, ok
		}
	})
	m := short("491761234567", 0, gsm("before the bind"))
	m.Account = "late"
	_, err := e.b.Submit(context.Background(), []*store.Message{m})
	if _, perm := backend.Permanent(err); err == nil || perm || !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("Submit without credentials: %v, want a temporary ErrUnavailable", err)
	}
	if err := e.b.AddAccount(context.Background(), "late"); err == nil {
		t.Fatal("AddAccount of an account without credentials succeeded")
	}

	mu.Lock()
	known["late"] = "late-password"
	mu.Unlock()
	for range 2 {
		if err := e.b.AddAccount(context.Background(), "late"); err != nil {
			t.Fatal(err)
		}
	}
	hooks := e.fake.Webhooks("late")
	if len(hooks) != len(events) {
		t.Fatalf("webhooks %+v, want one per event", hooks)
	}
	for _, h := range hooks {
		if !strings.HasSuffix(h.URL, "?account=late") {
			t.Errorf("webhook %+v", h)
		}
	}
	if n := e.fake.Hits(http.MethodGet, "/webhooks"); n != 1 {
		t.Errorf("GET /webhooks %d times, want 1 (the second AddAccount had nothing to do)", n)
	}
	if _, err := e.b.Submit(context.Background(), []*store.Message{m}); err != nil {
		t.Fatal(err)
	}
	if u := e.fake.Messages()[0].User; u != "late" {
		t.Errorf("sent as %q", u)
	}
	e.rec.waitFinal(t, []*store.Message{m})
}

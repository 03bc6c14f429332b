package httpapi

import (
	"context"
	"fmt"
	"testing"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway/backend/sim"
	"github.com/smppkit/smpp/pdu"
)

// A reload keeps the sessions of accounts that stay (with their bind
// count) and unbinds those of an account removed.
func TestReloadKeepsSessionsAndUnbindsRemoved(t *testing.T) {
	h := newHarness(t, sim.Options{})
	acme := h.dial("acme", "secret")
	h.dial("other", "other-pw")

	next := testAccounts()[:1] // "other" goes
	next[0].MaxBinds = 1       // acme has one bind already
	h.accounts = next
	if resp, body := h.do("POST", "/v1/reload", "", ""); resp.StatusCode != 200 {
		t.Fatalf("reload: %d %s", resp.StatusCode, body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(h.gw.Sessions("other")) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(h.gw.Sessions("other")); n != 0 {
		t.Fatalf("the removed account still has %d sessions", n)
	}
	if _, err := acme.Submit(context.Background(), &pdu.SubmitSM{DestinationAddr: "4915550001", ShortMessage: []byte("still bound")}); err != nil {
		t.Fatalf("acme's session did not survive the reload: %v", err)
	}
	// The bind count carried over: max_binds 1 refuses a second bind.
	_, err := smpp.Dial(context.Background(), fmt.Sprintf("smpp://acme:secret@%s?bind=tx", h.smppAddr), &smpp.ClientConfig{NoReconnect: true})
	if err == nil {
		t.Fatal("a second bind was accepted beyond max_binds 1")
	}
	// And the removed account cannot bind again.
	if _, err := smpp.Dial(context.Background(), fmt.Sprintf("smpp://other:other-pw@%s?bind=tx", h.smppAddr), &smpp.ClientConfig{NoReconnect: true}); err == nil {
		t.Fatal("a removed account could bind")
	}
}

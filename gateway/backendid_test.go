package gateway_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway"
	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/pdu"
)

func (s *memStore) backendID(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.msgs[id]; m != nil {
		return m.BackendID
	}
	return ""
}

// An update that carries only the backend's id reaches the message the
// backend took under it, once: a final state drops it from the index.
func TestUpdateByBackendIDAlone(t *testing.T) {
	st := newMemStore()
	be := newFakeBackend()
	be.hold["4917"] = true
	h := start(t, st, be, nil)
	c := h.dial("shop", "trx", nil)
	id := c.submit(t, "491761", 1, "held by the backend")
	waitFor(t, func() bool { return st.backendID(id) == "fake-"+id }, "backend id recorded")

	ev := be.events()
	ev.Update(backend.Update{BackendID: "fake-" + id, State: store.Delivered})
	if r := c.receipt(t); r.ID != id || r.State != pdu.StateDelivered {
		t.Fatalf("receipt %+v, want DELIVRD for %s", r.Receipt, id)
	}
	ev.Update(backend.Update{BackendID: "fake-" + id, State: store.Undeliverable})
	ev.Update(backend.Update{BackendID: "fake-unknown", State: store.Delivered})
	c.noReceipt(t, 100*time.Millisecond)
}

// After a restart the index is rebuilt from the store: an update by backend
// id alone finds a message the backend took before, even when it is not
// handed to the backend again (here: the backend fails meanwhile).
func TestUpdateByBackendIDAfterRestart(t *testing.T) {
	st := newMemStore()
	be := newFakeBackend()
	be.hold["4917"] = true
	h := start(t, st, be, nil)
	c := h.dial("shop", "tx", nil)
	id := c.submit(t, "491761", 1, "held over a restart")
	waitFor(t, func() bool { return st.backendID(id) == "fake-"+id }, "backend id recorded")
	c.Close()
	h.stop()

	be.setFail(errors.New("down"))
	h2 := start(t, st, be, func(o *gateway.Options) { o.RetryMin, o.RetryMax = time.Hour, time.Hour })
	rx := h2.dial("shop", "rx", nil)
	be.events().Update(backend.Update{BackendID: "fake-" + id, State: store.Undeliverable, ErrorCode: 7})
	if r := rx.receipt(t); r.ID != id || r.State != pdu.StateUndeliverable {
		t.Fatalf("receipt %+v, want UNDELIV for %s", r.Receipt, id)
	}
}

// A backend may refuse a message for good as expired (SMSGate: its
// validity passed before it could be sent).
func TestPermanentErrorExpired(t *testing.T) {
	st := newMemStore()
	be := newFakeBackend()
	be.setFail(&backend.PermanentError{State: store.Expired, Err: errors.New("too late")})
	h := start(t, st, be, nil)
	c := h.dial("shop", "trx", nil)
	id := c.submit(t, "491761", 1, "too late")
	r := c.receipt(t)
	if r.ID != id || r.State != pdu.StateExpired || r.Stat != "EXPIRED" {
		t.Fatalf("receipt %+v, want EXPIRED for %s", r.Receipt, id)
	}
	// The receipt goes out as its state change is committed, so the
	// store may have it a moment later.
	waitFor(t, func() bool {
		m, err := st.Message(context.Background(), id)
		return err == nil && m.State == store.Expired
	}, "EXPIRED stored")
}

// An MO that no account's addresses claim goes to the account the backend
// names; with pass-through on, also to one that has not bound yet.
func TestMOGoesToBackendsAccount(t *testing.T) {
	be := newFakeBackend()
	h := start(t, newMemStore(), be, func(o *gateway.Options) {
		o.AcceptAny = false
		o.PassThrough = func(context.Context, string, string) error { return nil }
	})
	ev := be.events()
	if err := ev.Received(context.Background(), &backend.MO{Source: store.Address{Addr: "491761"}, Dest: store.Address{Addr: "device-1"},
		Account: "phoneuser", Body: []byte("before the bind")}); err != nil {
		t.Fatal(err)
	}
	if err := ev.Received(context.Background(), &backend.MO{Dest: store.Address{Addr: "device-1"}}); err == nil {
		t.Fatal("an MO without an account or owner was accepted")
	}
	c := h.dial("phoneuser", "rx", nil)
	select {
	case m := <-c.mo:
		if m.Text != "before the bind" {
			t.Errorf("got %q", m.Text)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no MO")
	}
}

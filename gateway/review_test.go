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

// gateStore is a memStore whose next Apply, once armed, waits for release.
type gateStore struct {
	*memStore
	entered chan struct{}
	release chan struct{}
}

func (s *gateStore) Apply(ctx context.Context, b *store.Batch) error {
	select {
	case s.entered <- struct{}{}:
		<-s.release
	default:
	}
	return s.memStore.Apply(ctx, b)
}

// An MO whose caller stops waiting (SMSGate's webhook times out or hangs
// up) while its commit is under way is stored all the same: it must then
// be delivered too, not left in the store until the next restart.
func TestMOStoredAfterCallerGaveUpIsDelivered(t *testing.T) {
	st := &gateStore{memStore: newMemStore(), entered: make(chan struct{}), release: make(chan struct{})}
	be := newFakeBackend()
	o := gateway.Options{
		Store: st, Backends: map[string]backend.Backend{"fake": be},
		Accounts:        []gateway.Account{{SystemID: "a", CheckPassword: func(string) bool { return true }, Addresses: []string{"4930*"}}},
		ReceiptRetryMin: 20 * time.Millisecond, ReceiptRetryMax: 100 * time.Millisecond,
	}
	g, err := gateway.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Shutdown(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() {
		res <- be.events().Received(ctx, &backend.MO{Source: store.Address{Addr: "491761"}, Dest: store.Address{Addr: "4930123"}, Body: []byte("hi")})
	}()
	<-st.entered // the MO's commit is under way
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("Received: %v, want the caller's cancellation", err)
	}
	close(st.release)
	// The commit goes through: the MO is stored, and must be queued.
	deadline := time.Now().Add(2 * time.Second)
	for g.WaitingDeliveries() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("stored MO not queued for delivery: stored %d, WaitingDeliveries %d", st.deliveries(), g.WaitingDeliveries())
		}
		time.Sleep(time.Millisecond)
	}
}

// slowBackend blocks each Submit until release, and tells whether the
// submit's context was cancelled meanwhile.
type slowBackend struct {
	*fakeBackend
	entered   chan struct{}
	release   chan struct{}
	cancelled chan struct{}
}

func (b *slowBackend) Submit(ctx context.Context, parts []*store.Message) ([]backend.Result, error) {
	b.entered <- struct{}{}
	select {
	case <-b.release:
		return b.fakeBackend.Submit(ctx, parts)
	case <-ctx.Done():
		close(b.cancelled)
		return nil, ctx.Err()
	}
}

// Shutdown lets the submits under way to backends finish (README,
// "Stopping"): cancelling one may leave a message the backend took
// recorded as not handed over, and sent again after the restart.
func TestShutdownLetsSubmitsUnderWayFinish(t *testing.T) {
	st := newMemStore()
	be := &slowBackend{fakeBackend: newFakeBackend(), entered: make(chan struct{}, 1), release: make(chan struct{}), cancelled: make(chan struct{})}
	o := gateway.Options{Store: st, Backends: map[string]backend.Backend{"fake": be}, AcceptAny: true}
	g, err := gateway.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Send(context.Background(), gateway.SendRequest{Account: "shop", From: "Shop", To: "4917", Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	<-be.entered
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- g.Shutdown(ctx) }()
	select {
	case <-be.cancelled:
		t.Fatal("Shutdown cancelled a submit under way")
	case <-time.After(300 * time.Millisecond):
	}
	close(be.release)
	<-shut
	ms, _ := st.Find(context.Background(), store.Filter{})
	if len(ms) != 1 || ms[0].State != store.Delivered {
		t.Fatalf("stored: %+v", ms)
	}
}

// Reload moves a bound session to its account's new settings at once: a
// source address the account may no longer use is refused on the session
// that bound before the reload.
func TestReloadAppliesToBoundSessions(t *testing.T) {
	ok := func(string) bool { return true }
	h := start(t, newMemStore(), newFakeBackend(), func(o *gateway.Options) {
		o.AcceptAny = false
		o.Accounts = []gateway.Account{{SystemID: "shop", CheckPassword: ok}}
	})
	c := h.dial("shop", "tx", nil)
	c.submit(t, "4917", 0, "before")
	if err := h.g.Reload([]gateway.Account{{SystemID: "shop", CheckPassword: ok, SourceAddresses: []string{"Other"}}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Submit(context.Background(), &pdu.SubmitSM{SourceAddr: "Shop", DestinationAddr: "4917", ShortMessage: []byte("after")})
	if !errors.Is(err, pdu.ESME_RINVSRCADR) {
		t.Fatalf("submit from a source no longer allowed: %v, want ESME_RINVSRCADR", err)
	}
}

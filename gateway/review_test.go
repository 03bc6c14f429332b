package gateway_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway"
	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
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

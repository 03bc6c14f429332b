package smpp

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/smppkit/smpp/pdu"
)

type account struct{ name string }

type ctxKey struct{}

func TestBindValueAndBaseContext(t *testing.T) {
	seen := make(chan any, 1)
	base := context.WithValue(context.Background(), ctxKey{}, "base")
	var baseL net.Listener
	srv := &Server{
		BaseContext: func(l net.Listener) context.Context { baseL = l; return base },
		Auth: func(_ context.Context, b *BindRequest) pdu.Status {
			b.Value = &account{name: b.SystemID}
			return pdu.ESME_ROK
		},
		Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
			seen <- r.Session.Value()
			if r.Context().Value(ctxKey{}) != "base" {
				t.Error("the request context does not derive from BaseContext's")
			}
			w.RespondStatus(pdu.ESME_ROK)
		}),
	}
	addr := testServer(t, srv)
	c := dialWindow(t, addr, 1)
	if _, err := c.Submit(context.Background(), &pdu.SubmitSM{DestinationAddr: "1"}); err != nil {
		t.Fatal(err)
	}
	if a, ok := (<-seen).(*account); !ok || a.name != "u" {
		t.Errorf("Value = %v, want the account Auth set", a)
	}
	if baseL == nil || baseL.Addr().String() != addr {
		t.Errorf("BaseContext called with %v, want the listener", baseL)
	}
	if s := srv.Sessions("u"); len(s) != 1 || s[0].Value().(*account).name != "u" {
		t.Errorf("Sessions(u) = %v", s)
	}
}

func TestAuthTimeout(t *testing.T) {
	srv := &Server{AuthTimeout: 50 * time.Millisecond, Auth: func(ctx context.Context, _ *BindRequest) pdu.Status {
		<-ctx.Done()
		return pdu.ESME_RBINDFAIL
	}}
	addr := testServer(t, srv)
	start := time.Now()
	_, err := Dial(context.Background(), "smpp://u:p@"+addr, &ClientConfig{NoReconnect: true})
	if !errors.Is(err, pdu.ESME_RBINDFAIL) {
		t.Fatalf("Dial: %v, want ESME_RBINDFAIL", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("bind refused after %v", d)
	}
}

func TestEnquireLinkIntervalZeroIsTheDefault(t *testing.T) {
	srv := &Server{}
	if got := srv.settings().enquireInterval; got != defaultEnquireLinkInterval {
		t.Errorf("server: %v", got)
	}
	srv.EnquireLinkInterval = -1
	if got := srv.settings().enquireInterval; got != 0 {
		t.Errorf("server, negative: %v, want off", got)
	}
	c := &Client{}
	c.defaults()
	if got := c.settings().enquireInterval; got != defaultEnquireLinkInterval {
		t.Errorf("client: %v", got)
	}
	c.cfg.EnquireLinkInterval = -1
	if got := c.settings().enquireInterval; got != 0 {
		t.Errorf("client, negative: %v, want off", got)
	}
}

// The index follows binds and closes; Deliver and DeliverAsync find an
// ESME's receivers there and nothing else.
func TestDeliverAsync(t *testing.T) {
	srv := &Server{}
	t.Cleanup(func() { srv.Close() })
	bindIdle(t, srv, 20)
	d := &pdu.DeliverSM{SourceAddr: "1", DestinationAddr: "2"}
	ctx := context.Background()
	if err := srv.DeliverAsync(ctx, "target", d, func(pdu.PDU, error) { t.Error("done called") }); !errors.Is(err, ErrNotBound) {
		t.Fatalf("DeliverAsync to nobody: %v", err)
	}
	a := bindPipe(t, srv, "target", true)
	bindPipe(t, srv, "target", true)
	if n := len(srv.Sessions("target")); n != 2 {
		t.Fatalf("Sessions(target) = %d sessions, want 2", n)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	calls := map[*pdu.DeliverSM]int{}
	const n = 200
	for range n {
		p := &pdu.DeliverSM{SourceAddr: "1", DestinationAddr: "2"}
		wg.Add(1)
		if err := srv.DeliverAsync(ctx, "target", p, func(resp pdu.PDU, err error) {
			if err != nil || resp.CommandID() != pdu.DeliverSMRespID {
				t.Errorf("done(%v, %v)", resp, err)
			}
			mu.Lock()
			calls[p]++
			mu.Unlock()
			wg.Done()
		}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	for p, k := range calls {
		if k != 1 {
			t.Errorf("done called %d times for %p", k, p)
		}
	}
	if len(calls) != n {
		t.Errorf("done called for %d deliveries, want %d", len(calls), n)
	}
	sent := 0
	for _, s := range srv.Sessions("target") {
		k := s.Stats().Sent["deliver_sm"]
		if k == 0 {
			t.Errorf("session %d got no delivery: not spread", s.ID())
		}
		sent += int(k)
	}
	if sent != n {
		t.Errorf("%d deliver_sm sent, want %d", sent, n)
	}
	// A closed session leaves the index; the other one takes everything.
	a.Close()
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.Sessions("target")) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("a closed session stays in the index")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := srv.Deliver(ctx, "target", d); err != nil {
		t.Fatal(err)
	}
	for _, s := range srv.Sessions("target") {
		s.Close()
	}
	if _, err := srv.Deliver(ctx, "target", d); !errors.Is(err, ErrNotBound) {
		t.Fatalf("Deliver after the last close: %v", err)
	}
	if n := len(srv.Sessions("")); n != 20 {
		t.Errorf("Sessions(\"\") = %d, want the 20 idle ones", n)
	}
}

// A transmitter is no place for a delivery; an unbinding session neither.
func TestDeliverSkipsTransmittersAndUnbinding(t *testing.T) {
	srv := &Server{}
	addr := testServer(t, srv)
	dialWindow(t, addr, 1) // bind=tx as "u"
	if _, err := srv.Deliver(context.Background(), "u", &pdu.DeliverSM{}); !errors.Is(err, ErrNotBound) {
		t.Fatalf("Deliver to a transmitter: %v", err)
	}
	bindPipe(t, srv, "v", true)
	s := srv.Sessions("v")[0]
	s.unbinding.Store(true)
	if err := srv.DeliverAsync(context.Background(), "v", &pdu.DeliverSM{}, func(pdu.PDU, error) {}); !errors.Is(err, ErrNotBound) {
		t.Fatalf("DeliverAsync to an unbinding session: %v", err)
	}
}

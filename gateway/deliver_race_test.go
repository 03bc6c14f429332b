package gateway

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/gateway/store/memory"
	"github.com/smppkit/smpp/pdu"
)

// nopBackend takes every message and reports nothing.
type nopBackend struct{}

func (nopBackend) Name() string                                { return "nop" }
func (nopBackend) Start(context.Context, backend.Events) error { return nil }
func (nopBackend) Stop(context.Context) error                  { return nil }
func (nopBackend) Submit(_ context.Context, ps []*store.Message) ([]backend.Result, error) {
	return make([]backend.Result, len(ps)), nil
}

// A receiver that binds while the deliverer is looking for one (it found
// none, and has not parked the outbox yet) must get the waiting delivery:
// its bind's unpark came before the park, so nothing else would unpark it.
func TestBindDuringSendDoesNotStrandOutbox(t *testing.T) {
	g, err := New(context.Background(), Options{Store: memory.New(), Backends: map[string]backend.Backend{"nop": nopBackend{}},
		AcceptAny: true, ReceiptRetryMin: 20 * time.Millisecond, ReceiptRetryMax: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Shutdown(context.Background())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(l)

	got := make(chan string, 1)
	var once sync.Once
	// The first time send has found no receiver: a receiver binds, and
	// its bind is told (the outbox's gen moves) before send goes on.
	g.deliver.afterReceivers = func() {
		once.Do(func() {
			d := g.deliver
			d.mu.Lock()
			gen := d.accounts["a"].gen
			d.mu.Unlock()
			in := &smpp.Inbound{OnMessage: func(_ context.Context, m *smpp.InboundMessage) pdu.Status {
				got <- string(m.Text)
				return pdu.ESME_ROK
			}}
			cl, err := smpp.Dial(context.Background(), fmt.Sprintf("smpp://a:pw@%s?bind=rx", l.Addr()), &smpp.ClientConfig{Inbound: in, NoReconnect: true})
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(func() { cl.Close() })
			for {
				d.mu.Lock()
				moved := d.accounts["a"].gen != gen
				d.mu.Unlock()
				if moved {
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	dl := &store.Delivery{ID: g.ids.delivery(), Account: "a", Kind: store.MO, Source: store.Address{Addr: "491761"},
		Dest: store.Address{Addr: "4930"}, Body: []byte("hello"), CreatedAt: time.Now()}
	g.commit.add(func(b *store.Batch) { b.Deliveries = append(b.Deliveries, dl) }, func(err error) {
		if err == nil {
			g.deliver.enqueue(dl)
		}
	})
	select {
	case txt := <-got:
		if txt != "hello" {
			t.Fatalf("got %q", txt)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("delivery stranded: the receiver bound, the outbox stayed parked")
	}
}

package gateway_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway"
	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/backend/sim"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/gateway/store/memory"
	"github.com/smppkit/smpp/pdu"
)

// BenchmarkSubmitReceipt is the engine's hot path end to end, as smpp
// serve runs it: submit_sm over loopback, the in-memory store's commit,
// submit_sm_resp, the simulator delivering at once, the receipt's
// deliver_sm and its deliver_sm_resp. One op is one message with its
// receipt; the time, CPU time and allocations include the client's side. The
// memory store keeps every message, so compare runs of one size
// (-benchtime=Nx).
//
// With store=null the store keeps nothing and costs nothing: what is left
// is the engine's own cost (and the client's).
func BenchmarkSubmitReceipt(b *testing.B) {
	b.Run("store=memory", func(b *testing.B) { benchSubmitReceipt(b, memory.New()) })
	b.Run("store=null", func(b *testing.B) { benchSubmitReceipt(b, nullStore{}) })
}

// nullStore commits everything at once and keeps nothing.
type nullStore struct{}

func (nullStore) Apply(context.Context, *store.Batch) error { return nil }
func (nullStore) Message(context.Context, string) (*store.Message, error) {
	return nil, store.ErrNotFound
}
func (nullStore) Find(context.Context, store.Filter) ([]*store.Message, error) { return nil, nil }
func (nullStore) Unfinished(context.Context, func(*store.Message) error) error { return nil }
func (nullStore) Deliveries(context.Context, func(*store.Delivery) error) error {
	return nil
}
func (nullStore) NextEpoch(context.Context) (uint32, error) { return 1, nil }
func (nullStore) Ping(context.Context) error                { return nil }
func (nullStore) Close() error                              { return nil }

func benchSubmitReceipt(b *testing.B, st store.Store) {
	const conns, window = 2, 100
	g, err := gateway.New(context.Background(), gateway.Options{
		Store:    st,
		Backends: map[string]backend.Backend{"simulator": sim.New(sim.Options{})},
		// As smpp serve and smppd run the simulator.
		InboundWindow:  window,
		OutboundWindow: window,
		Workers:        map[string]int{"simulator": 2},
		AcceptAny:      true,
	})
	if err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go g.Serve(l)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		g.Shutdown(ctx)
	}()

	var receipts atomic.Int64
	all := make(chan struct{})
	var want atomic.Int64
	want.Store(-1)
	onDeliver := smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
		w.RespondStatus(pdu.ESME_ROK)
		if _, ok := r.PDU.(*pdu.DeliverSM); ok && receipts.Add(1) == want.Load() {
			close(all)
		}
	})
	clients := make([]*smpp.Client, conns)
	for i := range clients {
		url := fmt.Sprintf("smpp://bench:pw@%s?bind=trx", l.Addr())
		c, err := smpp.Dial(context.Background(), url, &smpp.ClientConfig{Handler: onDeliver, OutboundWindow: window,
			InboundWindow: window, NoReconnect: true, ReusePDUs: true})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
	}

	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	want.Store(int64(b.N))
	if b.N == 0 {
		close(all)
	}
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i, c := range clients {
		n := b.N / conns
		if i == 0 {
			n += b.N % conns
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				p := &pdu.SubmitSM{SourceAddr: "Sender", DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: "491761234567",
					RegisteredDelivery: 1, ShortMessage: []byte("hello world")}
				err := c.CallAsync(context.Background(), p, func(resp pdu.PDU, err error) {
					if err != nil || resp.Head().CommandStatus != pdu.ESME_ROK {
						failed.Add(1)
					}
				})
				if err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-all:
	case <-time.After(60 * time.Second):
		b.Fatalf("%d receipts of %d", receipts.Load(), b.N)
	}
	b.StopTimer()
	if b.N > 0 {
		// The process's CPU time (client's and server's) per message:
		// with both cores busy, ns/op shows only part of it.
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	}
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d submits failed", n)
	}
}

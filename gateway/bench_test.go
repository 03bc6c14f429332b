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
	"github.com/smppkit/smpp/gateway/store/memory"
	"github.com/smppkit/smpp/pdu"
)

// BenchmarkSubmitReceipt is the engine's hot path end to end, as smpp
// serve runs it: submit_sm over loopback, the in-memory store's commit,
// submit_sm_resp, the simulator delivering at once, the receipt's
// deliver_sm and its deliver_sm_resp. One op is one message with its
// receipt; the time and allocations include the client's side. The
// memory store keeps every message, so compare runs of one size
// (-benchtime=Nx).
func BenchmarkSubmitReceipt(b *testing.B) {
	const conns, window = 2, 100
	g, err := gateway.New(context.Background(), gateway.Options{
		Store:         memory.New(),
		Backends:      map[string]backend.Backend{"simulator": sim.New(sim.Options{})},
		InboundWindow: window,
		AcceptAny:     true,
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
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d submits failed", n)
	}
}

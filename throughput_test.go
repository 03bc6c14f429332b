package smpp

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/smppkit/smpp/pdu"
)

// benchmarkThroughput drives conns client connections with window requests
// in flight each, against a Server whose handler answers at once; reuse
// sets ReusePDUs on both ends.
func benchmarkThroughput(b *testing.B, conns, window int, reuse bool) {
	addr := testServer(b, &Server{Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		w.Respond(&pdu.SubmitSMResp{MessageID: "0a1b2c3d4e"})
	}), Window: window, ReusePDUs: reuse})
	ctx := context.Background()
	clients := make([]*Client, conns)
	for i := range clients {
		c, err := Dial(ctx, "smpp://bench:pw@"+addr+"?bind=tx", &ClientConfig{Window: window, ReusePDUs: reuse})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
	}
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N / conns
	for i, c := range clients {
		n := per
		if i == 0 {
			n += b.N % conns
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var done sync.WaitGroup
			done.Add(n)
			p := &pdu.SubmitSM{SourceAddrTON: 5, SourceAddr: "Sender", DestAddrTON: 1, DestAddrNPI: 1,
				DestinationAddr: "491761234567", RegisteredDelivery: 1, ShortMessage: []byte("Hello world")}
			cb := func(_ pdu.PDU, err error) {
				if err != nil {
					b.Error(err)
				}
				done.Done()
			}
			for j := 0; j < n; j++ {
				if err := c.CallAsync(ctx, p, cb); err != nil {
					b.Error(err)
					done.Done()
				}
			}
			done.Wait()
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
}

func BenchmarkThroughput1x100(b *testing.B)      { benchmarkThroughput(b, 1, 100, false) }
func BenchmarkThroughput4x100(b *testing.B)      { benchmarkThroughput(b, 4, 100, false) }
func BenchmarkThroughput1x100Reuse(b *testing.B) { benchmarkThroughput(b, 1, 100, true) }
func BenchmarkThroughput4x100Reuse(b *testing.B) { benchmarkThroughput(b, 4, 100, true) }

// BenchmarkCallSync is one caller doing synchronous Calls: the round-trip
// cost of the request/response path.
func BenchmarkCallSync(b *testing.B) {
	addr := testServer(b, &Server{Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		w.Respond(&pdu.SubmitSMResp{MessageID: "1"})
	})})
	c, err := Dial(context.Background(), "smpp://bench:pw@"+addr, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	p := &pdu.SubmitSM{SourceAddr: "Sender", DestinationAddr: "491761234567", ShortMessage: []byte("Hello world")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Submit(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
}

func TestWriteCoalescingReport(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	var srvSess atomic.Pointer[Session]
	addr := testServer(t, &Server{Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		srvSess.Store(r.Session)
		w.Respond(&pdu.SubmitSMResp{MessageID: "0a1b2c3d4e"})
	}), Window: 100})
	c, err := Dial(context.Background(), "smpp://bench:pw@"+addr+"?bind=tx", &ClientConfig{Window: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var done sync.WaitGroup
	p := &pdu.SubmitSM{SourceAddr: "Sender", DestinationAddr: "491761234567", ShortMessage: []byte("Hello world")}
	const n = 200000
	done.Add(n)
	for i := 0; i < n; i++ {
		c.CallAsync(context.Background(), p, func(pdu.PDU, error) { done.Done() })
	}
	done.Wait()
	s, _ := c.Session(context.Background())
	cs, ss := s.Stats(), srvSess.Load().Stats()
	t.Logf("client: %d writes, %.1f PDUs/write; server: %d writes, %.1f PDUs/write",
		cs.Writes, float64(n)/float64(cs.Writes), ss.Writes, float64(n)/float64(ss.Writes))
}

package smpp

import (
	"context"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/smppkit/smpp/pdu"
)

// bindPipe binds a transceiver as systemID on a new in-memory connection to
// srv and returns the peer's end; with answer set, a goroutine answers every
// deliver_sm on it until the connection closes. Pipes cost no descriptors,
// so thousands of sessions fit in one test.
func bindPipe(tb testing.TB, srv *Server, systemID string, answer bool) net.Conn {
	tb.Helper()
	ours, theirs := net.Pipe()
	tb.Cleanup(func() { theirs.Close() })
	if srv.startSession(ours, StateOpen) == nil {
		tb.Fatal("server closed")
	}
	b, _ := pdu.Marshal(&pdu.BindTransceiver{Header: hdr(1), SystemID: systemID, InterfaceVersion: 0x34})
	if _, err := theirs.Write(b); err != nil {
		tb.Fatal(err)
	}
	r := pdu.NewReader(theirs, 0)
	resp, err := r.Read()
	if err != nil || resp.CommandID() != pdu.BindTransceiverRespID || resp.Head().CommandStatus != pdu.ESME_ROK {
		tb.Fatalf("bind %s: %v %v", systemID, resp, err)
	}
	if answer {
		go func() {
			for {
				p, err := r.Read()
				if err != nil {
					return
				}
				if p.CommandID() == pdu.DeliverSMID {
					b, _ := pdu.Marshal(pdu.NewResponse(p, pdu.ESME_ROK))
					if _, err := theirs.Write(b); err != nil {
						return
					}
				}
			}
		}()
	}
	return theirs
}

// bindIdle binds n idle transceivers named idle-0, idle-1, …
func bindIdle(tb testing.TB, srv *Server, n int) {
	for i := range n {
		bindPipe(tb, srv, fmt.Sprintf("idle-%d", i), false)
	}
}

// benchmarkDeliver measures a synchronous Deliver to one ESME among n bound
// sessions (the others idle, each with its own system_id).
func benchmarkDeliver(b *testing.B, n int) {
	srv := &Server{}
	b.Cleanup(func() { srv.Close() })
	bindIdle(b, srv, n-1)
	bindPipe(b, srv, "target", true)
	ctx := context.Background()
	d := &pdu.DeliverSM{SourceAddr: "4917612345678", DestinationAddr: "12345", ShortMessage: []byte("hi")}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := srv.Deliver(ctx, "target", d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeliver100(b *testing.B)  { benchmarkDeliver(b, 100) }
func BenchmarkDeliver5000(b *testing.B) { benchmarkDeliver(b, 5000) }

// benchmarkIdleCPU binds n idle sessions and reports the process CPU they
// cost over two seconds, in per cent of one core (run with -benchtime 1x).
// With a handler, this is mostly the slow-handler monitor's.
func benchmarkIdleCPU(b *testing.B, n int, withHandler bool) {
	srv := &Server{}
	if withHandler {
		srv.Handler = echoHandler()
	}
	b.Cleanup(func() { srv.Close() })
	bindIdle(b, srv, n)
	time.Sleep(500 * time.Millisecond) // let the binds settle (and idle sessions leave the monitor)
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.ResetTimer()
	for b.Loop() {
		start, c0 := time.Now(), cpu()
		time.Sleep(2 * time.Second)
		b.ReportMetric(100*float64(cpu()-c0)/float64(time.Since(start)), "%core")
	}
}

func BenchmarkIdleCPU5000Handler(b *testing.B)   { benchmarkIdleCPU(b, 5000, true) }
func BenchmarkIdleCPU5000NoHandler(b *testing.B) { benchmarkIdleCPU(b, 5000, false) }

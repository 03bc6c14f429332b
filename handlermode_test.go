package smpp

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppkit/smpp/pdu"
)

// concurrency is a handler that answers after d and records how many of
// its calls ran at once, and on which sessions.
type concurrency struct {
	d        time.Duration
	cur, max atomic.Int32
	sess     atomic.Pointer[Session]
}

func (h *concurrency) ServeSMPP(w ResponseWriter, r *Request) {
	h.sess.Store(r.Session)
	n := h.cur.Add(1)
	for m := h.max.Load(); n > m && !h.max.CompareAndSwap(m, n); m = h.max.Load() {
	}
	time.Sleep(h.d)
	h.cur.Add(-1)
	w.Respond(&pdu.SubmitSMResp{MessageID: "1"})
}

// submitN keeps up to the client's window of submit_sm in flight until n
// are answered.
func submitN(tb testing.TB, c *Client, n int) {
	tb.Helper()
	var done sync.WaitGroup
	done.Add(n)
	p := &pdu.SubmitSM{SourceAddr: "Sender", DestinationAddr: "491761234567", ShortMessage: []byte("Hello world")}
	for range n {
		if err := c.CallAsync(context.Background(), p, func(_ pdu.PDU, err error) {
			if err != nil {
				tb.Error(err)
			}
			done.Done()
		}); err != nil {
			tb.Fatal(err)
		}
	}
	done.Wait()
}

func dialWindow(tb testing.TB, addr string, window int) *Client {
	tb.Helper()
	c, err := Dial(context.Background(), "smpp://u:p@"+addr+"?bind=tx", &ClientConfig{OutboundWindow: window, NoReconnect: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func TestHandleInlineNeverGoesConcurrent(t *testing.T) {
	h := &concurrency{d: 12 * time.Millisecond}
	addr := testServer(t, &Server{Handler: h, HandlerMode: HandleInline})
	submitN(t, dialWindow(t, addr, 10), 20)
	if m := h.max.Load(); m != 1 {
		t.Errorf("%d handler calls at once, want 1", m)
	}
	if n := h.sess.Load().Stats().Takeovers; n != 0 {
		t.Errorf("%d takeovers, want 0", n)
	}
}

func TestHandleConcurrentFromTheStart(t *testing.T) {
	// Five calls that each wait for all five: only concurrent handling
	// gets through, and from the first request on.
	var in sync.WaitGroup
	in.Add(5)
	all := make(chan struct{})
	go func() { in.Wait(); close(all) }()
	addr := testServer(t, &Server{HandlerMode: HandleConcurrent, InboundWindow: 5,
		Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
			in.Done()
			select {
			case <-all:
				w.RespondStatus(pdu.ESME_ROK)
			case <-time.After(5 * time.Second):
				w.RespondStatus(pdu.ESME_RSYSERR)
			}
		})})
	c := dialWindow(t, addr, 5)
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Submit(context.Background(), &pdu.SubmitSM{DestinationAddr: "1"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

// A handler that blocks 1 ms each time never trips the 10 ms rule, but
// holds its session to under 1,000 requests a second: Auto must move it to
// workers.
func TestHandleAutoCatchesRepeatedShortBlocks(t *testing.T) {
	h := &concurrency{d: time.Millisecond}
	addr := testServer(t, &Server{Handler: h})
	submitN(t, dialWindow(t, addr, 100), 400)
	// The switch replaces the reader when it is caught in the handler; one
	// that has just returned sees the switch itself and is not replaced,
	// so there is at most one takeover. That handlers ran at once (below)
	// is what shows the switch.
	if n := h.sess.Load().Stats().Takeovers; n > 1 {
		t.Errorf("%d takeovers, want at most 1", n)
	}
	if m := h.max.Load(); m < 10 {
		t.Errorf("at most %d handler calls at once, want many", m)
	}
}

// A handler that answers from memory stays on the reader however hard it
// is driven.
func TestHandleAutoKeepsFastHandlerInline(t *testing.T) {
	var sess atomic.Pointer[Session]
	var logs syncBuffer
	addr := testServer(t, &Server{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		sess.Store(r.Session)
		w.Respond(&pdu.SubmitSMResp{MessageID: "1"})
	})})
	submitN(t, dialWindow(t, addr, 100), 50000)
	// The averaging rule must never take fast calls for slow ones. (The
	// 10 ms rule may see a call stalled that long when the whole process
	// stalls, as under the race detector on a busy machine: that is not
	// what is tested here.)
	if log := logs.String(); strings.Contains(log, "requests waiting") {
		t.Errorf("a fast handler was moved to workers; log:\n%s", log)
	} else if n := sess.Load().Stats().Takeovers; n != 0 {
		t.Logf("%d takeovers after a stall; log:\n%s", n, log)
	}
}

// syncBuffer is a bytes.Buffer for several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitWatching waits until the monitor watches n sessions.
func waitWatching(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for watching() != n {
		if time.Now().After(deadline) {
			t.Fatalf("monitor watches %d sessions, want %d", watching(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Idle sessions cost the monitor nothing: a session joins its list when a
// handler runs inline and leaves once idle.
func TestMonitorWatchesActiveSessionsOnly(t *testing.T) {
	srv := &Server{Handler: echoHandler()}
	t.Cleanup(func() { srv.Close() })
	waitWatching(t, 0) // (sessions of earlier tests leave)
	bindIdle(t, srv, 50)
	if n := watching(); n != 0 {
		t.Fatalf("monitor watches %d idle sessions", n)
	}
	peer := bindPipe(t, srv, "busy", false)
	b, _ := pdu.Marshal(&pdu.SubmitSM{Header: hdr(2), DestinationAddr: "1"})
	if _, err := peer.Write(b); err != nil {
		t.Fatal(err)
	}
	if _, err := pdu.NewReader(peer, 0).Read(); err != nil {
		t.Fatal(err)
	}
	if n := watching(); n != 1 {
		t.Fatalf("monitor watches %d sessions after a request, want 1", n)
	}
	waitWatching(t, 0)
}

func benchmarkSlowHandler(b *testing.B, d time.Duration, mode HandlerMode) {
	h := &concurrency{d: d}
	addr := testServer(b, &Server{Handler: h, HandlerMode: mode, InboundWindow: 100})
	c := dialWindow(b, addr, 100)
	b.ResetTimer()
	submitN(b, c, b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
}

// BenchmarkSlowHandler: one bind, 100 in flight, a handler that blocks
// 1, 3 or 12 ms, in each mode.
func BenchmarkSlowHandler(b *testing.B) {
	for _, d := range []time.Duration{time.Millisecond, 3 * time.Millisecond, 12 * time.Millisecond} {
		for _, m := range []HandlerMode{HandleAuto, HandleInline, HandleConcurrent} {
			b.Run(fmt.Sprintf("%v/%v", d, m), func(b *testing.B) { benchmarkSlowHandler(b, d, m) })
		}
	}
}

// A peer that keeps to the inbound window is never refused: a request's
// slot is free by the time its response can reach the peer.
func TestWindowKeepingPeerIsNeverRefused(t *testing.T) {
	h := &concurrency{d: 50 * time.Microsecond}
	addr := testServer(t, &Server{Handler: h, HandlerMode: HandleConcurrent, InboundWindow: 10})
	submitN(t, dialWindow(t, addr, 10), 3000)
	if n := h.sess.Load().Stats().WindowRejects; n != 0 {
		t.Errorf("%d requests refused for the window", n)
	}
}

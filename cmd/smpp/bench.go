package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/pdu"
)

func init() {
	register(command{name: "bench", summary: "load-test an SMSC: many submit_sm over N connections with a window each", run: runBench})
}

func runBench(e env) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var lf linkFlags
	lf.register(fs, 100)
	conns := fs.Int("conns", 1, "connections (binds)")
	count := fs.Int64("count", 0, "messages to send in all (default 100000 unless --duration)")
	duration := fs.Duration("duration", 0, "send for this long instead of a count")
	rate := fs.Float64("rate", 0, "messages per second in all (0 = as fast as the window allows)")
	from := fs.String("from", "Sender", "source_addr")
	to := fs.String("to", "491761234567", "destination_addr")
	textArg := fs.String("text", "Hello world", "short_message")
	dlrFlag := fs.Bool("dlr", false, "ask for delivery receipts (registered_delivery 1)")
	quiet := fs.Bool("q", false, "no live progress line")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: smpp bench --url URL [--conns N] [--window W] (--count N | --duration D) [--rate R]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(e.args); err != nil {
		return 2
	}
	if lf.url == "" {
		fmt.Fprintln(e.stderr, "smpp bench: --url is required")
		return 2
	}
	if *count == 0 && *duration == 0 {
		*count = 100000
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg := lf.config(e.stderr)
	cfg.NoThrottleRetry = true // count throttling as an error, do not hide it
	cfg.ReusePDUs = true       // the callbacks keep no response
	clients := make([]*smpp.Client, *conns)
	for i := range clients {
		c, err := smpp.Dial(ctx, lf.url, cfg)
		if err != nil {
			fmt.Fprintln(e.stderr, "smpp bench:", err)
			return 1
		}
		defer c.Close()
		clients[i] = c
	}

	// Each connection keeps its own counters, histogram and in-flight
	// count: they are updated on that connection's reader for every
	// message, and shared ones would bounce between cores.
	loads := make([]*connLoad, len(clients))
	for i := range loads {
		loads[i] = &connLoad{}
	}
	var (
		errMu sync.Mutex
		errs  = map[string]int64{}
	)
	recordErr := func(l *connLoad, err error) {
		l.failed.Add(1)
		key := err.Error()
		var st pdu.Status
		if errors.As(err, &st) {
			key = st.String()
		}
		errMu.Lock()
		errs[key]++
		errMu.Unlock()
	}
	total := func() (h hist, sent, ok, failed int64) {
		for _, l := range loads {
			h.merge(&l.h)
			sent += l.sent.Load()
			ok += l.ok.Load()
			failed += l.failed.Load()
		}
		return
	}
	// The load loop reads no clock per message: a timer ends a timed run,
	// and latency is sampled on one message in eight.
	var expired atomic.Bool
	if *duration > 0 {
		t := time.AfterFunc(*duration, func() { expired.Store(true) })
		defer t.Stop()
	}
	// One budget for --count, so that a connection that falls behind (or
	// whose chains end) leaves its share to the others. (Timed runs, the
	// ones to measure with, share nothing per message.)
	var budget atomic.Int64
	budget.Store(*count)
	for _, l := range loads {
		l.take = func() bool {
			if *count > 0 {
				return budget.Add(-1) >= 0
			}
			return !expired.Load()
		}
	}
	start := time.Now()
	progressDone := make(chan struct{})
	if !*quiet {
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			last, lastT := int64(0), start
			for {
				select {
				case <-progressDone:
					fmt.Fprint(e.stderr, "\r\033[K")
					return
				case now := <-t.C:
					h, sent, ok, failed := total()
					n := ok + failed
					fmt.Fprintf(e.stderr, "\r\033[K%.0f msg/s  sent %d  in flight %d  errors %d  p99 %v",
						float64(n-last)/now.Sub(lastT).Seconds(), sent, sent-n, failed, round(h.quantile(0.99)))
					last, lastT = n, now
				}
			}
		}()
	}
	var wg sync.WaitGroup
	perConnRate := *rate / float64(len(clients))
	newSubmit := func() *pdu.SubmitSM {
		p := &pdu.SubmitSM{SourceAddr: *from, DestinationAddr: *to, ShortMessage: []byte(*textArg)}
		p.SourceAddrTON, p.SourceAddrNPI = 5, 0
		p.DestAddrTON, p.DestAddrNPI = 1, 1
		if *dlrFlag {
			p.RegisteredDelivery = 1
		}
		return p
	}
	for i, c := range clients {
		l := loads[i]
		l.recordErr = func(err error) { recordErr(l, err) }
		wg.Add(1)
		go func() {
			defer wg.Done()
			if perConnRate > 0 {
				l.paced(ctx, c, newSubmit(), perConnRate, start)
			} else {
				l.closedLoop(ctx, c, newSubmit)
			}
			l.inflight.Wait()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(progressDone)
	time.Sleep(10 * time.Millisecond)
	for _, c := range clients {
		uctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		c.Unbind(uctx)
		cancel()
	}
	h, sent, ok, failed := total()
	n := ok + failed
	fmt.Fprintf(e.stdout, "rate=%.0f msg/s ok=%d err=%d sent=%d elapsed=%.3fs conns=%d window=%d %s\n",
		float64(n)/elapsed.Seconds(), ok, failed, sent, elapsed.Seconds(), len(clients), lf.window, h.summary())
	if len(errs) > 0 {
		keys := make([]string, 0, len(errs))
		for k := range errs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "  %-40s %d\n", k, errs[k])
		}
		fmt.Fprint(e.stdout, "errors by status:\n", b.String())
		return 1
	}
	return 0
}

// connLoad is one connection's share of the load and its results.
type connLoad struct {
	take      func() bool // whether to send one more
	recordErr func(error)

	h                hist
	sent, ok, failed atomic.Int64
	inflight         sync.WaitGroup
	_                [64]byte // (keeps connections' hot counters apart)
}

// done records a response.
func (l *connLoad) done(err error) {
	if err != nil {
		l.recordErr(err)
	} else {
		l.ok.Add(1)
	}
	l.inflight.Done()
}

// paced sends at a fixed rate from one goroutine.
func (l *connLoad) paced(ctx context.Context, c *smpp.Client, p *pdu.SubmitSM, rate float64, start time.Time) {
	untimed := func(_ pdu.PDU, err error) { l.done(err) }
	var i int64
	for l.take() && ctx.Err() == nil {
		due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		i++
		l.inflight.Add(1)
		done := untimed
		if i%8 == 0 {
			t0 := time.Now()
			done = func(_ pdu.PDU, err error) {
				l.h.add(time.Since(t0))
				l.done(err)
			}
		}
		if err := c.CallAsync(ctx, p, done); err != nil {
			l.inflight.Done()
			if ctx.Err() == nil {
				l.recordErr(err)
			}
			continue
		}
		l.sent.Add(1)
	}
}

// closedLoop keeps the window full the way a pipelining application would:
// this goroutine fills it, and from then on every response that comes back
// issues the next request from its completion callback (TryCallAsync, on
// the session's reader), so no goroutine switch is needed per message.
// Latency is sampled on one message in eight.
func (l *connLoad) closedLoop(ctx context.Context, c *smpp.Client, newSubmit func() *pdu.SubmitSM) {
	chained := newSubmit() // used only on the reader goroutine
	var n int64            // (likewise)
	var untimed func(pdu.PDU, error)
	// next issues one more request from a successful completion.
	next := func() {
		if !l.take() || ctx.Err() != nil {
			return
		}
		l.inflight.Add(1)
		cb := untimed
		if n++; n%8 == 0 {
			t0 := time.Now()
			cb = func(resp pdu.PDU, err error) {
				l.h.add(time.Since(t0))
				untimed(resp, err)
			}
		}
		if err := c.TryCallAsync(chained, cb); err != nil {
			l.inflight.Done()
			l.recordErr(err)
			return
		}
		l.sent.Add(1)
	}
	untimed = func(_ pdu.PDU, err error) {
		// A completion issues the next request (before done, so the
		// in-flight count never touches zero early), also after an error
		// status or a timeout; a link that went down ends the chain.
		var st pdu.Status
		if err == nil || errors.As(err, &st) || errors.Is(err, smpp.ErrTimeout) {
			next()
		}
		l.done(err)
	}
	p := newSubmit()
	s, err := c.Session(ctx)
	if err != nil {
		l.recordErr(err)
		return
	}
	for i := 0; i < s.OutboundWindow() && l.take() && ctx.Err() == nil; i++ {
		l.inflight.Add(1)
		if err := c.CallAsync(ctx, p, untimed); err != nil {
			l.inflight.Done()
			if ctx.Err() == nil {
				l.recordErr(err)
			}
			return
		}
		l.sent.Add(1)
	}
}

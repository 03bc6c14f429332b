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

	var (
		h        hist
		sent     atomic.Int64
		ok       atomic.Int64
		failed   atomic.Int64
		errMu    sync.Mutex
		errs     = map[string]int64{}
		inflight sync.WaitGroup
	)
	recordErr := func(err error) {
		failed.Add(1)
		key := err.Error()
		var st pdu.Status
		if errors.As(err, &st) {
			key = st.String()
		}
		errMu.Lock()
		errs[key]++
		errMu.Unlock()
	}
	// The load loop reads no clock per message: a timer ends a timed run,
	// and latency is sampled on one message in eight.
	var expired atomic.Bool
	if *duration > 0 {
		t := time.AfterFunc(*duration, func() { expired.Store(true) })
		defer t.Stop()
	}
	var budget atomic.Int64
	budget.Store(*count)
	take := func() bool {
		if *count > 0 {
			return budget.Add(-1) >= 0
		}
		return !expired.Load()
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
					n := ok.Load() + failed.Load()
					fmt.Fprintf(e.stderr, "\r\033[K%.0f msg/s  sent %d  in flight %d  errors %d  p99 %v",
						float64(n-last)/now.Sub(lastT).Seconds(), sent.Load(), sent.Load()-n, failed.Load(), round(h.quantile(0.99)))
					last, lastT = n, now
				}
			}
		}()
	}
	untimed := func(_ pdu.PDU, err error) {
		if err != nil {
			recordErr(err)
		} else {
			ok.Add(1)
		}
		inflight.Done()
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
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if perConnRate > 0 {
				paced(ctx, c, newSubmit(), perConnRate, start, take, &inflight, &sent, untimed, &h, recordErr)
				return
			}
			closedLoop(ctx, c, newSubmit, take, &inflight, &sent, untimed, &h, recordErr)
		}()
	}
	wg.Wait()
	inflight.Wait()
	elapsed := time.Since(start)
	close(progressDone)
	time.Sleep(10 * time.Millisecond)
	for _, c := range clients {
		uctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		c.Unbind(uctx)
		cancel()
	}
	n := ok.Load() + failed.Load()
	fmt.Fprintf(e.stdout, "rate=%.0f msg/s ok=%d err=%d sent=%d elapsed=%.3fs conns=%d window=%d %s\n",
		float64(n)/elapsed.Seconds(), ok.Load(), failed.Load(), sent.Load(), elapsed.Seconds(), len(clients), lf.window, h.summary())
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

// paced sends at a fixed rate from one goroutine.
func paced(ctx context.Context, c *smpp.Client, p *pdu.SubmitSM, rate float64, start time.Time, take func() bool,
	inflight *sync.WaitGroup, sent *atomic.Int64, untimed func(pdu.PDU, error), h *hist, recordErr func(error)) {
	var i int64
	for take() && ctx.Err() == nil {
		due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		i++
		inflight.Add(1)
		done := untimed
		if i%8 == 0 {
			t0 := time.Now()
			done = func(_ pdu.PDU, err error) {
				h.add(time.Since(t0))
				untimed(nil, err)
			}
		}
		if err := c.CallAsync(ctx, p, done); err != nil {
			inflight.Done()
			if ctx.Err() == nil {
				recordErr(err)
			}
			continue
		}
		sent.Add(1)
	}
}

// closedLoop keeps the window full the way a pipelining application would:
// this goroutine fills it, and from then on every response that comes back
// issues the next request from its completion callback (TryCallAsync, on
// the session's reader), so no goroutine switch is needed per message.
// Latency is sampled on one message in eight.
func closedLoop(ctx context.Context, c *smpp.Client, newSubmit func() *pdu.SubmitSM, take func() bool,
	inflight *sync.WaitGroup, sent *atomic.Int64, untimed func(pdu.PDU, error), h *hist, recordErr func(error)) {
	chained := newSubmit() // used only on the reader goroutine
	var n atomic.Int64
	var done func(timed bool, t0 time.Time) func(pdu.PDU, error)
	var untimedChain func(pdu.PDU, error) // made once: no closure per message
	// next issues one more request from a successful completion.
	next := func() {
		if !take() || ctx.Err() != nil {
			return
		}
		inflight.Add(1)
		cb := untimedChain
		if n.Add(1)%8 == 0 {
			cb = done(true, time.Now())
		}
		if err := c.TryCallAsync(chained, cb); err != nil {
			inflight.Done()
			recordErr(err)
			return
		}
		sent.Add(1)
	}
	done = func(timed bool, t0 time.Time) func(pdu.PDU, error) {
		f := func(resp pdu.PDU, err error) {
			if err == nil {
				next() // before Done, so the in-flight count never touches zero early
			}
			untimed(resp, err)
		}
		if !timed {
			return f
		}
		return func(resp pdu.PDU, err error) {
			h.add(time.Since(t0))
			f(resp, err)
		}
	}
	untimedChain = done(false, time.Time{})
	p := newSubmit()
	s, err := c.Session(ctx)
	if err != nil {
		recordErr(err)
		return
	}
	for i := 0; i < s.Window() && take() && ctx.Err() == nil; i++ {
		inflight.Add(1)
		n.Add(1)
		if err := c.CallAsync(ctx, p, untimedChain); err != nil {
			inflight.Done()
			if ctx.Err() == nil {
				recordErr(err)
			}
			return
		}
		sent.Add(1)
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
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

// benchSummary is the result of a run, as --json prints it.
type benchSummary struct {
	Rate     float64          `json:"rate"` // responses per second
	OK       int64            `json:"ok"`
	Failed   int64            `json:"failed"`
	Sent     int64            `json:"sent"`
	Elapsed  float64          `json:"elapsed_s"`
	Conns    int              `json:"conns"`
	Window   int              `json:"window"`
	Latency  latencySummary   `json:"latency"`
	Errors   map[string]int64 `json:"errors,omitempty"` // by status or kind
	LinkLost bool             `json:"link_lost,omitempty"`
	Receipts *receiptSummary  `json:"receipts,omitempty"`
}

// latencySummary holds percentiles in milliseconds.
type latencySummary struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p99_9_ms"`
	Max  float64 `json:"max_ms"`
}

func latencyOf(h *hist) latencySummary {
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	return latencySummary{ms(h.quantile(0.5)), ms(h.quantile(0.9)), ms(h.quantile(0.99)), ms(h.quantile(0.999)),
		ms(time.Duration(h.max.Load()))}
}

// receiptSummary counts the receipts of a --dlr run. Latency runs from the
// submit_sm_resp to the receipt.
type receiptSummary struct {
	Expected  int64            `json:"expected"` // messages accepted
	Received  int64            `json:"received"` // receipts matched to them
	Unmatched int64            `json:"unmatched,omitempty"`
	States    map[string]int64 `json:"states,omitempty"`
	Latency   latencySummary   `json:"latency"`
	TimedOut  bool             `json:"timed_out,omitempty"` // --dlr-wait ended the wait
}

// receiptCounter matches receipts with the ids of accepted messages.
type receiptCounter struct {
	mu        sync.Mutex
	accepted  map[string]time.Time // id → when submit_sm_resp came
	expected  int64
	received  int64
	unmatched int64
	states    map[string]int64
	h         hist
	changed   chan struct{}
}

func (rc *receiptCounter) accept(id string) {
	now := time.Now()
	rc.mu.Lock()
	rc.accepted[id] = now
	rc.expected++
	rc.mu.Unlock()
}

func (rc *receiptCounter) receipt(r *smpp.Receipt) {
	now := time.Now()
	rc.mu.Lock()
	t0, ok := rc.accepted[r.ID]
	if !ok && r.TextID != "" {
		t0, ok = rc.accepted[r.TextID]
	}
	if ok && !r.Intermediate {
		delete(rc.accepted, r.ID)
		delete(rc.accepted, r.TextID)
		rc.received++
		rc.states[r.State.String()]++
		rc.h.add(now.Sub(t0))
	} else if !ok {
		rc.unmatched++
	}
	rc.mu.Unlock()
	select {
	case rc.changed <- struct{}{}:
	default:
	}
}

func (rc *receiptCounter) outstanding() int64 {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.expected - rc.received
}

func runBench(e env) int {
	fs := newFlags(e, "bench", `usage: smpp bench --url URL [--conns N] [--window W] (--count N | --duration D) [--rate R]

Load-tests an SMSC: keeps --window submit_sm in flight on each of --conns
binds, shows a progress line each second (on stderr; plain lines when it is
not a terminal), and ends with the rate, latency percentiles and errors
grouped by status or kind. A timed run stops at --duration even when the
link is lost (it then says so). With --dlr it waits for the receipts and
counts them. Exits 1 when any message failed, a receipt is missing or the
link was lost.`)
	var lf linkFlags
	lf.register(fs, 100)
	conns := fs.Int("conns", 1, "connections (binds)")
	count := fs.Int64("count", 0, "messages to send in all (default 100000 unless --duration)")
	duration := fs.Duration("duration", 0, "send for this long instead of a count")
	rate := fs.Float64("rate", 0, "messages per second in all (0 = as fast as the window allows)")
	from := fs.String("from", "Sender", "source_addr (sent as alphanumeric, TON 5)")
	to := fs.String("to", "491761234567", "destination_addr (sent as international, TON 1 NPI 1)")
	textArg := fs.String("text", "Hello world", "short_message")
	dlrFlag := fs.Bool("dlr", false, "ask for delivery receipts (registered_delivery 1), wait for them and count them")
	dlrWait := fs.Duration("dlr-wait", 30*time.Second, "with --dlr: how long to wait for the last receipts after the run")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	quiet := fs.Bool("q", false, "no progress line")
	if _, code, ok := parseFlags(fs, e); !ok {
		return code
	}
	if lf.url == "" {
		return usageError(e.stderr, "bench", "--url is required")
	}
	if *conns < 1 {
		return usageError(e.stderr, "bench", "--conns must be at least 1")
	}
	if *count < 0 || *duration < 0 || *rate < 0 {
		return usageError(e.stderr, "bench", "--count, --duration and --rate cannot be negative")
	}
	if *count == 0 && *duration == 0 {
		*count = 100000
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg := lf.config(e.stderr)
	cfg.NoThrottleRetry = true // count throttling as an error, do not hide it
	cfg.ReusePDUs = true       // the callbacks keep no response
	// A call made while the link is down fails at once (and is counted as
	// "link lost") instead of waiting for a rebind that may never come.
	cfg.FailFast = true
	var receipts *receiptCounter
	if *dlrFlag {
		receipts = &receiptCounter{accepted: map[string]time.Time{}, states: map[string]int64{}, changed: make(chan struct{}, 1)}
		cfg.Inbound = &smpp.Inbound{OnReceipt: func(_ context.Context, r *smpp.Receipt) pdu.Status {
			receipts.receipt(r)
			return pdu.ESME_ROK
		}}
	}
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
	// A timed run ends at its duration whatever the link does: the calls
	// still waiting (for window room) are cancelled with it.
	runCtx := ctx
	if *duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}

	// Each connection keeps its own counters, histogram and in-flight
	// count: they are updated on that connection's reader for every
	// message, and shared ones would bounce between cores.
	loads := make([]*connLoad, len(clients))
	for i := range loads {
		loads[i] = &connLoad{ctx: runCtx}
		if receipts != nil {
			loads[i].accepted = receipts.accept
		}
	}
	var (
		errMu    sync.Mutex
		errs     = map[string]int64{}
		linkLost atomic.Bool
	)
	recordErr := func(l *connLoad, err error) {
		l.failed.Add(1)
		key, lost := errorKind(err)
		if lost {
			linkLost.Store(true)
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
	// The load loop reads no clock per message: the context ends a timed
	// run, and latency is sampled on one message in eight.
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
			return runCtx.Err() == nil
		}
	}
	start := time.Now()
	progressDone := make(chan struct{})
	progressStopped := make(chan struct{})
	if !*quiet {
		tty := isTerminal(e.stderr)
		go func() {
			defer close(progressStopped)
			t := time.NewTicker(time.Second)
			defer t.Stop()
			last, lastT := int64(0), start
			for {
				select {
				case <-progressDone:
					if tty {
						fmt.Fprint(e.stderr, "\r\033[K")
					}
					return
				case now := <-t.C:
					h, sent, ok, failed := total()
					n := ok + failed
					line := fmt.Sprintf("%.0f msg/s  sent %d  in flight %d  errors %d  p99 %v",
						float64(n-last)/now.Sub(lastT).Seconds(), sent, sent-n, failed, round(h.quantile(0.99)))
					if tty {
						fmt.Fprint(e.stderr, "\r\033[K"+line)
					} else {
						fmt.Fprintln(e.stderr, line)
					}
					last, lastT = n, now
				}
			}
		}()
	} else {
		close(progressStopped)
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
				l.paced(c, newSubmit(), perConnRate, start)
			} else {
				l.closedLoop(c, newSubmit)
			}
			l.inflight.Wait()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var rs *receiptSummary
	if receipts != nil {
		rs = waitReceipts(ctx, receipts, *dlrWait, linkLost.Load)
	}
	close(progressDone)
	<-progressStopped
	for _, c := range clients {
		if linkLost.Load() {
			break // (Close, deferred, is enough; an unbind would wait for a rebind)
		}
		uctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		c.Unbind(uctx)
		cancel()
	}
	h, sent, ok, failed := total()
	n := ok + failed
	sum := benchSummary{Rate: float64(n) / elapsed.Seconds(), OK: ok, Failed: failed, Sent: sent, Elapsed: elapsed.Seconds(),
		Conns: len(clients), Window: lf.window, Latency: latencyOf(&h), LinkLost: linkLost.Load(), Receipts: rs}
	if len(errs) > 0 {
		sum.Errors = errs
	}
	if *asJSON {
		js, _ := json.Marshal(sum)
		fmt.Fprintln(e.stdout, string(js))
	} else {
		printBenchSummary(e.stdout, &sum, &h)
	}
	code := 0
	if len(errs) > 0 || (rs != nil && (rs.Received < rs.Expected || rs.Unmatched > 0)) {
		code = 1
	}
	if sum.LinkLost {
		fmt.Fprintln(e.stderr, "smpp bench: link lost: the connection to the SMSC went down during the run")
		code = 1
	}
	return code
}

// waitReceipts waits until every accepted message has its receipt, wait has
// passed since the last one came, the link is lost, or ctx ends.
func waitReceipts(ctx context.Context, rc *receiptCounter, wait time.Duration, lost func() bool) *receiptSummary {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	timedOut := false
	for rc.outstanding() > 0 && !lost() && !timedOut {
		select {
		case <-rc.changed:
			if !timer.Stop() {
				<-timer.C
			}
			timer.Reset(wait)
		case <-timer.C:
			timedOut = true
		case <-ctx.Done():
			timedOut = true
		}
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return &receiptSummary{Expected: rc.expected, Received: rc.received, Unmatched: rc.unmatched, States: rc.states,
		Latency: latencyOf(&rc.h), TimedOut: timedOut}
}

func printBenchSummary(w io.Writer, s *benchSummary, h *hist) {
	fmt.Fprintf(w, "rate=%.0f msg/s ok=%d err=%d sent=%d elapsed=%.3fs conns=%d window=%d %s\n",
		s.Rate, s.OK, s.Failed, s.Sent, s.Elapsed, s.Conns, s.Window, h.summary())
	if r := s.Receipts; r != nil {
		fmt.Fprintf(w, "receipts=%d/%d unmatched=%d latency p50=%.1fms p99=%.1fms max=%.1fms", r.Received, r.Expected,
			r.Unmatched, r.Latency.P50, r.Latency.P99, r.Latency.Max)
		keys := make([]string, 0, len(r.States))
		for k := range r.States {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, " %s=%d", k, r.States[k])
		}
		if r.TimedOut {
			fmt.Fprint(w, " (stopped waiting)")
		}
		fmt.Fprintln(w)
	}
	if len(s.Errors) > 0 {
		keys := make([]string, 0, len(s.Errors))
		for k := range s.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "  %-40s %d\n", k, s.Errors[k])
		}
		fmt.Fprint(w, "errors by status or kind:\n", b.String())
	}
}

// errorKind names an error for grouping: the command_status for an error
// response, else its kind, never the raw text (which carries addresses and
// port numbers that would make every connection's errors a group of its
// own). lost is true for the errors a lost link causes.
func errorKind(err error) (kind string, lost bool) {
	var st pdu.Status
	switch {
	case errors.As(err, &st):
		return st.String(), false
	case errors.Is(err, smpp.ErrTimeout):
		return "response timeout", false
	case errors.Is(err, smpp.ErrWindowFull):
		return "window full", false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "cancelled", false
	case errors.Is(err, smpp.ErrPeerDead):
		return "link lost (peer stopped answering enquire_link)", true
	case errors.Is(err, smpp.ErrUnbinding):
		return "link lost (unbinding)", true
	case errors.Is(err, smpp.ErrNotBound):
		return "link lost (not bound)", true
	case errors.Is(err, smpp.ErrClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "link lost (connection closed)", true
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) {
		return "link lost (network error)", true
	}
	return fmt.Sprintf("other (%T)", errors.Unwrap(err)), false
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// connLoad is one connection's share of the load and its results.
type connLoad struct {
	ctx       context.Context // ends a timed run
	take      func() bool     // whether to send one more
	recordErr func(error)
	accepted  func(id string) // with --dlr: a message the SMSC accepted

	h                hist
	sent, ok, failed atomic.Int64
	inflight         sync.WaitGroup
	_                [64]byte // (keeps connections' hot counters apart)
}

// done records a response.
func (l *connLoad) done(resp pdu.PDU, err error) {
	if err != nil {
		l.recordErr(err)
	} else {
		l.ok.Add(1)
		if r, ok := resp.(*pdu.SubmitSMResp); ok && l.accepted != nil {
			l.accepted(r.MessageID) // (strings in a reused PDU are never overwritten)
		}
	}
	l.inflight.Done()
}

// callFailed records an error from issuing a call, unless the run is over
// (a call cancelled because the duration ended is no failure).
func (l *connLoad) callFailed(err error) {
	if l.ctx.Err() == nil || !(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		l.recordErr(err)
	}
}

// paced sends at a fixed rate from one goroutine.
func (l *connLoad) paced(c *smpp.Client, p *pdu.SubmitSM, rate float64, start time.Time) {
	ctx := l.ctx
	untimed := l.done
	var i int64
	for l.take() && ctx.Err() == nil {
		due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		i++
		l.inflight.Add(1)
		done := untimed
		if i%8 == 0 {
			t0 := time.Now()
			done = func(resp pdu.PDU, err error) {
				l.h.add(time.Since(t0))
				l.done(resp, err)
			}
		}
		if err := c.CallAsync(ctx, p, done); err != nil {
			l.inflight.Done()
			l.callFailed(err)
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
func (l *connLoad) closedLoop(c *smpp.Client, newSubmit func() *pdu.SubmitSM) {
	ctx := l.ctx
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
	untimed = func(resp pdu.PDU, err error) {
		// A completion issues the next request (before done, so the
		// in-flight count never touches zero early), also after an error
		// status or a timeout; a link that went down ends the chain.
		var st pdu.Status
		if err == nil || errors.As(err, &st) || errors.Is(err, smpp.ErrTimeout) {
			next()
		}
		l.done(resp, err)
	}
	p := newSubmit()
	s, err := c.Session(ctx)
	if err != nil {
		l.callFailed(err)
		return
	}
	for i := 0; i < s.OutboundWindow() && l.take() && ctx.Err() == nil; i++ {
		l.inflight.Add(1)
		if err := c.CallAsync(ctx, p, untimed); err != nil {
			l.inflight.Done()
			l.callFailed(err)
			return
		}
		l.sent.Add(1)
	}
}

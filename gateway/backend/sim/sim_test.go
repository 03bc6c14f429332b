package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
)

// events records what the simulator reports.
type events struct {
	updates chan backend.Update
	mos     chan *backend.MO
	fail    atomic.Int32 // Received fails this many more times
	calls   atomic.Int32 // Received calls
}

func newEvents() *events {
	return &events{updates: make(chan backend.Update, 1<<16), mos: make(chan *backend.MO, 1<<10)}
}

func (e *events) Update(u backend.Update) { e.updates <- u }

func (e *events) Received(ctx context.Context, mo *backend.MO) error {
	e.calls.Add(1)
	if e.fail.Add(-1) >= 0 {
		return errors.New("store down")
	}
	e.mos <- mo
	return nil
}

const timeout = 5 * time.Second

func next[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		t.Fatalf("nothing arrived within %v", timeout)
		panic("unreachable")
	}
}

// empty asserts nothing is waiting in ch. It is only used where whatever
// could arrive would have arrived already (after Stop, or after a later
// report that the scheduler makes in order).
func empty[T any](t *testing.T, ch <-chan T) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("unexpected %+v", v)
	default:
	}
}

// start returns a started simulator, stopped at the end of the test.
func start(t *testing.T, o Options) (*Sim, *events) {
	t.Helper()
	s := New(o)
	ev := newEvents()
	if err := s.Start(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return s, ev
}

func msg(id, dest string) *store.Message {
	return &store.Message{ID: id, Source: store.Address{TON: 5, Addr: "Shop"}, Dest: store.Address{TON: 1, NPI: 1, Addr: dest}, Body: []byte("hello")}
}

func submit(t *testing.T, s *Sim, parts ...*store.Message) []backend.Result {
	t.Helper()
	res, err := s.Submit(context.Background(), parts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(parts) {
		t.Fatalf("%d results for %d parts", len(res), len(parts))
	}
	return res
}

func TestName(t *testing.T) {
	var b backend.Backend = New(Options{})
	if b.Name() != "simulator" {
		t.Fatal(b.Name())
	}
	var _ backend.Admitter = New(Options{})
	var _ backend.Querier = New(Options{})
	var _ backend.Canceller = New(Options{})
}

func TestDefaultDeliversAtOnce(t *testing.T) {
	s, ev := start(t, Options{ErrorCode: 99})
	res := submit(t, s, msg("a", "491701"))
	if res[0] != (backend.Result{State: store.Delivered}) {
		t.Fatalf("result %+v, want Delivered with no error code", res[0])
	}
	// A final state in the Result means no Update may follow.
	s.Stop(context.Background())
	empty(t, ev.updates)
}

func TestDelay(t *testing.T) {
	const delay = 30 * time.Millisecond
	s, ev := start(t, Options{Delay: delay})
	before := time.Now()
	res := submit(t, s, msg("a", "491701"))
	if res[0].State != store.Enroute {
		t.Fatalf("result %+v, want Enroute", res[0])
	}
	if u, err := s.Query(context.Background(), msg("a", "")); err != nil || u.State != store.Enroute {
		t.Fatalf("query while pending: %+v, %v", u, err)
	}
	u := next(t, ev.updates)
	if u.ID != "a" || u.State != store.Delivered || u.ErrorCode != 0 {
		t.Fatalf("update %+v", u)
	}
	if got := u.At.Sub(before); got < delay {
		t.Fatalf("outcome after %v, want at least %v", got, delay)
	}
	if q, err := s.Query(context.Background(), msg("a", "")); err != nil || q.State != store.Delivered {
		t.Fatalf("query after the outcome: %+v, %v", q, err)
	}
}

func TestEnroute(t *testing.T) {
	for _, delay := range []time.Duration{0, 10 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			s, ev := start(t, Options{Enroute: true, Delay: delay})
			if res := submit(t, s, msg("a", "1")); res[0].State != store.Enroute {
				t.Fatalf("result %+v, want Enroute", res[0])
			}
			if u := next(t, ev.updates); u.ID != "a" || u.State != store.Enroute {
				t.Fatalf("first update %+v, want ENROUTE", u)
			}
			if u := next(t, ev.updates); u.ID != "a" || u.State != store.Delivered {
				t.Fatalf("second update %+v, want DELIVERED", u)
			}
		})
	}
}

func TestLongMessage(t *testing.T) {
	parts := func() []*store.Message {
		var ps []*store.Message
		for i := range 3 {
			m := msg(fmt.Sprintf("p%d", i+1), "4917")
			m.Group, m.Part, m.Parts = "g", uint8(i+1), 3
			ps = append(ps, m)
		}
		return ps
	}
	t.Run("at once", func(t *testing.T) {
		// With a mix, every part of one message still gets one outcome.
		s, _ := start(t, Options{Outcomes: map[store.State]int{store.Delivered: 1, store.Undeliverable: 1}, Seed: 7})
		for range 100 {
			res := submit(t, s, parts()...)
			for _, r := range res[1:] {
				if r != res[0] {
					t.Fatalf("parts got different results: %+v", res)
				}
			}
		}
	})
	t.Run("delayed", func(t *testing.T) {
		s, ev := start(t, Options{Delay: time.Millisecond, Outcomes: map[store.State]int{store.Rejected: 1}, ErrorCode: 3})
		submit(t, s, parts()...)
		for i := range 3 {
			u := next(t, ev.updates)
			if u.ID != fmt.Sprintf("p%d", i+1) || u.State != store.Rejected || u.ErrorCode != 3 {
				t.Fatalf("update %d: %+v", i, u)
			}
		}
	})
}

func draws(t *testing.T, seed int64, n int) []backend.Result {
	s, _ := start(t, Options{Outcomes: map[store.State]int{store.Delivered: 90, store.Undeliverable: 10}, ErrorCode: 11, Seed: seed})
	out := make([]backend.Result, n)
	for i := range out {
		out[i] = submit(t, s, msg(fmt.Sprint(i), "1"))[0]
	}
	return out
}

func TestOutcomeMix(t *testing.T) {
	const n = 10000
	a := draws(t, 42, n)
	undeliv := 0
	for _, r := range a {
		switch r {
		case backend.Result{State: store.Delivered}:
		case backend.Result{State: store.Undeliverable, ErrorCode: 11}:
			undeliv++
		default:
			t.Fatalf("result %+v", r)
		}
	}
	// Binomial(10000, 0.1): mean 1000, σ 30; ±5σ.
	if undeliv < 850 || undeliv > 1150 {
		t.Fatalf("%d undeliverable of %d, want about 1000", undeliv, n)
	}
	if b := draws(t, 42, n); !equal(a, b) {
		t.Fatal("the same seed drew a different sequence")
	}
	if c := draws(t, 43, n); equal(a, c) {
		t.Fatal("another seed drew the same sequence")
	}
	if x, y := draws(t, 0, 200), draws(t, 0, 200); equal(x, y) {
		t.Fatal("seed 0 drew the same sequence twice")
	}
}

func equal(a, b []backend.Result) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

func TestMixWeights(t *testing.T) {
	// Three outcomes, one of weight 0 (never drawn).
	s, _ := start(t, Options{Outcomes: map[store.State]int{store.Delivered: 1, store.Expired: 3, store.Rejected: 0}, Seed: 1})
	count := map[store.State]int{}
	for i := range 8000 {
		count[submit(t, s, msg(fmt.Sprint(i), "1"))[0].State]++
	}
	if count[store.Rejected] != 0 || count[store.Delivered] < 1700 || count[store.Delivered] > 2300 || count[store.Expired] < 5700 || count[store.Expired] > 6300 {
		t.Fatalf("counts %v, want about 2000 delivered and 6000 expired", count)
	}
}

func TestRules(t *testing.T) {
	s, ev := start(t, Options{
		Delay:     time.Hour, // the rules below all report before it
		ErrorCode: 1,
		Outcomes:  map[store.State]int{store.Expired: 1},
		Rules: []Rule{
			{Prefix: "4915", Outcome: store.Undeliverable, ErrorCode: 34, Delay: -1},
			{Prefix: "491", Outcome: store.Delivered, Delay: -1}, // 4915 matched first
			{Prefix: "44", Outcome: store.Rejected, Delay: -1},   // inherits error code 1
			{Prefix: "33", Delay: -1},                            // outcome from the mix
			{Prefix: "1", Outcome: store.Delivered, Delay: 20 * time.Millisecond},
			{Prefix: "2", Outcome: store.Undeliverable, Delay: 10 * time.Millisecond},
		},
	})
	for _, c := range []struct {
		dest string
		want backend.Result
	}{
		{"491551", backend.Result{State: store.Undeliverable, ErrorCode: 34}},
		{"491701", backend.Result{State: store.Delivered}},
		{"4420", backend.Result{State: store.Rejected, ErrorCode: 1}},
		{"3361", backend.Result{State: store.Expired, ErrorCode: 1}},
		{"5", backend.Result{State: store.Enroute}}, // no rule: Options.Delay
	} {
		if got := submit(t, s, msg(c.dest, c.dest))[0]; got != c.want {
			t.Errorf("%s: %+v, want %+v", c.dest, got, c.want)
		}
	}
	// Rule delays: submitted 1 then 2, reported 2 (10 ms) then 1 (20 ms).
	submit(t, s, msg("one", "100"))
	submit(t, s, msg("two", "200"))
	if u := next(t, ev.updates); u.ID != "two" || u.State != store.Undeliverable || u.ErrorCode != 1 {
		t.Fatalf("first update %+v, want two UNDELIVERABLE", u)
	}
	if u := next(t, ev.updates); u.ID != "one" || u.State != store.Delivered {
		t.Fatalf("second update %+v, want one DELIVERED", u)
	}
}

func TestAdmit(t *testing.T) {
	s := New(Options{Rules: []Rule{
		{Prefix: "999", SubmitStatus: 0x58},
		{Prefix: "998", SubmitDelay: 2 * time.Second},
		{Prefix: "997", NoAnswer: true},
	}})
	ctx := context.Background()
	for dest, want := range map[string]backend.Admission{
		"9991": {Status: 0x58},
		"9981": {Delay: 2 * time.Second},
		"9971": {Drop: true},
		"4917": {},
	} {
		if got := s.Admit(ctx, msg("x", dest)); got != want {
			t.Errorf("%s: %+v, want %+v", dest, got, want)
		}
	}
}

func TestLoopback(t *testing.T) {
	owned := func(addr string) bool { return strings.HasPrefix(addr, "4917") }
	for _, delay := range []time.Duration{0, time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			s, ev := start(t, Options{Loopback: true, Owns: owned, Delay: delay,
				Rules: []Rule{{Prefix: "49170", Outcome: store.Undeliverable}}})
			// Neither of these loops back: not owned, not delivered.
			submit(t, s, msg("x", "4915"))
			submit(t, s, msg("y", "491701"))
			// A long message with a UDH, to an owned address.
			var parts []*store.Message
			for i := range 2 {
				m := msg(fmt.Sprintf("p%d", i), "491712")
				m.ESMClass = 0x40 | 0x03 // UDHI, store and forward mode
				m.DataCoding = 8
				m.Body = []byte{5, 0, 3, 7, 2, byte(i + 1), 0, 'h'}
				m.TLVs = []byte{0x02, 0x04, 0, 2, 0, 1}
				parts = append(parts, m)
			}
			submit(t, s, parts...)
			for i, p := range parts {
				mo := next(t, ev.mos)
				if mo.Source != p.Source || mo.Dest != p.Dest || mo.DataCoding != 8 || mo.ESMClass != 0x40 ||
					!bytes.Equal(mo.Body, p.Body) || !bytes.Equal(mo.TLVs, p.TLVs) || mo.At.IsZero() {
					t.Fatalf("MO %d: %+v, from %+v", i, mo, p)
				}
				if &mo.Body[0] == &p.Body[0] {
					t.Fatal("the MO shares the message's body")
				}
			}
			s.Stop(context.Background())
			empty(t, ev.mos) // x and y would have come before the parts
			if s.LostMO() != 0 {
				t.Fatalf("%d MOs lost", s.LostMO())
			}
		})
	}
}

func TestStopLoopbackEmpty(t *testing.T) {
	s, _ := start(t, Options{Loopback: true, Owns: func(string) bool { return true }})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop with nothing queued: %v", err)
	}
}

func TestLoopbackNeedsOwns(t *testing.T) {
	s, ev := start(t, Options{Loopback: true})
	submit(t, s, msg("a", "4917"))
	s.Stop(context.Background())
	empty(t, ev.mos)
}

func TestLoopbackRetries(t *testing.T) {
	s, ev := start(t, Options{Loopback: true, Owns: func(string) bool { return true }})
	ev.fail.Store(2)
	submit(t, s, msg("a", "4917"))
	if mo := next(t, ev.mos); mo.Dest.Addr != "4917" {
		t.Fatalf("MO %+v", mo)
	}
	if n := ev.calls.Load(); n != 3 {
		t.Fatalf("%d calls to Received, want 3", n)
	}
}

func TestLoopbackGivesUpAtStop(t *testing.T) {
	s, ev := start(t, Options{Loopback: true, Owns: func(string) bool { return true }})
	ev.fail.Store(1 << 30)
	submit(t, s, msg("a", "4917"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no time to retry
	if err := s.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop: %v, want context.Canceled", err)
	}
	if s.LostMO() != 1 {
		t.Fatalf("%d MOs lost, want 1", s.LostMO())
	}
}

func TestCancel(t *testing.T) {
	ctx := context.Background()
	s, ev := start(t, Options{Delay: 20 * time.Millisecond, Rules: []Rule{{Prefix: "0", Delay: -1}}})
	a, b := msg("a", "1"), msg("b", "1")
	submit(t, s, a)
	if err := s.Cancel(ctx, a); err != nil {
		t.Fatalf("cancel pending: %v", err)
	}
	if u, err := s.Query(ctx, a); err != nil || u.State != store.Deleted {
		t.Fatalf("query after cancel: %+v, %v", u, err)
	}
	if err := s.Cancel(ctx, a); !errors.Is(err, ErrFinal) {
		t.Fatalf("second cancel: %v, want ErrFinal", err)
	}
	// b falls due after a would have: its outcome coming first and alone
	// shows a's was not reported.
	submit(t, s, b)
	if u := next(t, ev.updates); u.ID != "b" {
		t.Fatalf("update %+v for a cancelled message", u)
	}
	if err := s.Cancel(ctx, b); !errors.Is(err, ErrFinal) {
		t.Fatalf("cancel after the outcome: %v, want ErrFinal", err)
	}
	c := msg("c", "01")
	submit(t, s, c) // final at once
	if err := s.Cancel(ctx, c); !errors.Is(err, ErrUnknown) || !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cancel of a message final at once: %v, want ErrUnknown", err)
	}
	if _, err := s.Query(ctx, msg("never", "1")); !errors.Is(err, ErrUnknown) {
		t.Fatalf("query of an unknown message: %v", err)
	}
}

func TestCancelEnroute(t *testing.T) {
	// Cancelled after the ENROUTE notification, before the outcome.
	ctx := context.Background()
	s, ev := start(t, Options{Enroute: true, Delay: 20 * time.Millisecond})
	a := msg("a", "1")
	submit(t, s, a)
	if u := next(t, ev.updates); u.State != store.Enroute {
		t.Fatalf("update %+v", u)
	}
	if err := s.Cancel(ctx, a); err != nil {
		t.Fatal(err)
	}
	submit(t, s, msg("b", "1"))
	if u := next(t, ev.updates); u.ID != "b" || u.State != store.Enroute {
		t.Fatalf("update %+v, want b ENROUTE", u)
	}
	if u := next(t, ev.updates); u.ID != "b" || u.State != store.Delivered {
		t.Fatalf("update %+v, want b DELIVERED", u)
	}
}

func TestQueryForgets(t *testing.T) {
	s, ev := start(t, Options{Delay: time.Nanosecond})
	ctx := context.Background()
	const n = keepDone + 10
	for i := range n {
		submit(t, s, msg(fmt.Sprint(i), "1"))
	}
	for range n {
		next(t, ev.updates)
	}
	if _, err := s.Query(ctx, msg("0", "")); !errors.Is(err, ErrUnknown) {
		t.Fatalf("oldest outcome: %v, want ErrUnknown", err)
	}
	if u, err := s.Query(ctx, msg(fmt.Sprint(n-1), "")); err != nil || u.State != store.Delivered {
		t.Fatalf("latest outcome: %+v, %v", u, err)
	}
	s.mu.Lock()
	known := len(s.known)
	s.mu.Unlock()
	if known != keepDone {
		t.Fatalf("%d messages kept, want %d", known, keepDone)
	}
}

func TestResubmitWhilePending(t *testing.T) {
	// The same id again (a retry): only the latest submission reports.
	s, ev := start(t, Options{Rules: []Rule{
		{Prefix: "1", Outcome: store.Undeliverable, Delay: 10 * time.Millisecond},
		{Prefix: "2", Outcome: store.Delivered, Delay: 20 * time.Millisecond},
		{Prefix: "3", Delay: 30 * time.Millisecond},
	}})
	submit(t, s, msg("a", "1"))
	submit(t, s, msg("a", "2"))
	submit(t, s, msg("z", "3"))
	if u := next(t, ev.updates); u.ID != "a" || u.State != store.Delivered {
		t.Fatalf("update %+v, want a DELIVERED", u)
	}
	if u := next(t, ev.updates); u.ID != "z" {
		t.Fatalf("update %+v, want z", u)
	}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	s := New(Options{Delay: time.Hour})
	if _, err := s.Submit(ctx, []*store.Message{msg("a", "1")}); !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("submit before Start: %v", err)
	}
	ev := newEvents()
	if err := s.Start(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx, ev); err == nil {
		t.Fatal("second Start succeeded")
	}
	for i := range 100 {
		submit(t, s, msg(fmt.Sprint(i), "1"))
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	empty(t, ev.updates) // pending outcomes dropped
	if _, err := s.Submit(ctx, []*store.Message{msg("b", "1")}); !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("submit after Stop: %v", err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := s.Start(ctx, ev); err == nil {
		t.Fatal("Start after Stop succeeded")
	}
	if err := New(Options{}).Stop(ctx); err != nil {
		t.Fatalf("Stop before Start: %v", err)
	}
}

func TestStartContext(t *testing.T) {
	// Cancelling Start's context does not stop the simulator.
	ctx, cancel := context.WithCancel(context.Background())
	s := New(Options{Delay: time.Millisecond})
	ev := newEvents()
	if err := s.Start(ctx, ev); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	cancel()
	submit(t, s, msg("a", "1"))
	if u := next(t, ev.updates); u.ID != "a" {
		t.Fatalf("update %+v", u)
	}
}

func TestConcurrent(t *testing.T) {
	const workers, each = 8, 1000
	ctx := context.Background()
	s, ev := start(t, Options{
		Delay:    time.Millisecond,
		Enroute:  true,
		Outcomes: map[store.State]int{store.Delivered: 3, store.Undeliverable: 1},
		Rules:    []Rule{{Prefix: "0", Delay: -1}, {Prefix: "5", Delay: 5 * time.Millisecond}},
		Loopback: true,
		Owns:     func(a string) bool { return a == "1" },
	})
	var cancelled atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				m := msg(fmt.Sprintf("%d-%d", w, i), fmt.Sprint(i%10))
				if res := submit(t, s, m); res[0].State != store.Enroute {
					t.Errorf("result %+v, want Enroute", res[0])
				}
				s.Admit(ctx, m)
				if i%7 == 0 && s.Cancel(ctx, m) == nil {
					cancelled.Add(1)
				}
				s.Query(ctx, m)
			}
		})
	}
	wg.Wait()
	// Every message not cancelled reports one outcome.
	want := int64(workers*each) - cancelled.Load()
	var finals, loops int
	seen := map[string]bool{}
	for int64(finals) < want {
		u := next(t, ev.updates)
		if !u.State.Final() {
			continue
		}
		if seen[u.ID] {
			t.Fatalf("second outcome for %s", u.ID)
		}
		seen[u.ID] = true
		finals++
		var w, i int
		fmt.Sscanf(u.ID, "%d-%d", &w, &i)
		if u.State == store.Delivered && i%10 == 1 {
			loops++
		}
	}
	if cancelled.Load() == 0 {
		t.Fatal("no cancel succeeded")
	}
	s.Stop(ctx) // hands over the queued MOs
	for len(ev.updates) > 0 {
		if u := <-ev.updates; u.State.Final() {
			t.Fatalf("more outcomes than messages: %+v", u)
		}
	}
	if len(ev.mos) != loops || s.LostMO() != 0 {
		t.Fatalf("%d MOs (%d lost), want %d", len(ev.mos), s.LostMO(), loops)
	}
}

func TestValidate(t *testing.T) {
	for _, o := range []Options{
		{Delay: -1},
		{Outcomes: map[store.State]int{store.Enroute: 1}},
		{Outcomes: map[store.State]int{store.Delivered: -1, store.Expired: 2}},
		{Outcomes: map[store.State]int{store.Delivered: 0}},
		{Rules: []Rule{{Prefix: "1", Outcome: store.Accepted}}},
		{Rules: []Rule{{Prefix: "1", SubmitDelay: -1}}},
	} {
		if o.Validate() == nil {
			t.Errorf("%+v is valid", o)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v) did not panic", o)
				}
			}()
			New(o)
		}()
	}
	ok := Options{Delay: time.Second, Outcomes: map[store.State]int{store.Delivered: 9, store.Rejected: 0, store.Skipped: 1},
		Rules: []Rule{{Prefix: "1", Outcome: store.Expired, Delay: -1}, {Prefix: "2"}}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParseOutcome(t *testing.T) {
	for name, want := range map[string]store.State{
		"delivered": store.Delivered, "UNDELIVERABLE": store.Undeliverable, " Expired ": store.Expired,
		"rejected": store.Rejected, "deleted": store.Deleted, "skipped": store.Skipped,
	} {
		if got, err := ParseOutcome(name); err != nil || got != want {
			t.Errorf("%q: %v, %v", name, got, err)
		}
	}
	for _, name := range []string{"", "enroute", "accepted", "unknown", "bogus"} {
		if _, err := ParseOutcome(name); err == nil {
			t.Errorf("%q parsed", name)
		}
	}
}

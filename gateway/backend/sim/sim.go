// Package sim is smppd's built-in SMSC simulator: a backend that sends
// messages nowhere and reports outcomes as a network would, so that the
// whole flow (submit, store, outcome, receipt, MO) can be seen and tested
// without a carrier. It offers in Go what SMPPSim offers: a delay before
// the outcome, an intermediate ENROUTE notification, a weighted mix of
// outcomes (reproducible with a seed), deterministic outcomes and
// submit-time faults by destination prefix, and loopback of messages to
// the gateway's own accounts as mobile-originated messages.
//
// By default every message is delivered at once: Submit returns the final
// state, Delivered, in its Result and no Update follows. This path starts
// no goroutine and no timer and takes no lock. With a Delay (or Enroute)
// Submit returns Enroute and the outcome follows through Events.Update,
// from one scheduler goroutine that keeps every pending outcome in one queue
// (a FIFO for a constant delay, a heap for the others) under a single
// timer.
//
// Pending outcomes live in memory only: those not reported when Stop is
// called are dropped. Nothing is lost by that, because the gateway keeps
// every message it has no final state for and submits it again after a
// restart.
package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
)

// Errors of Query and Cancel.
var (
	// ErrUnknown: the simulator has no record of the message (it reported
	// its outcome in Submit's Result, reported it long ago, or was
	// restarted since); the gateway's own record answers. It matches
	// store.ErrNotFound with errors.Is.
	ErrUnknown = fmt.Errorf("simulator: message not known: %w", store.ErrNotFound)
	// ErrFinal: the message's outcome has been reported; it can no longer
	// be cancelled.
	ErrFinal = errors.New("simulator: outcome already reported")
)

const (
	// golden is SplitMix64's increment: draw n is splitmix64(seed+n·golden).
	golden = 0x9e3779b97f4a7c15
	// keepDone is how many reported outcomes Query still answers from
	// memory, for the moment between an Update and the gateway storing it.
	keepDone = 1 << 12
	// maxBatch bounds the reports taken from the queue under one lock.
	maxBatch = 1024
)

// Sim is the simulator backend. It implements backend.Backend,
// backend.Admitter, backend.Querier and backend.Canceller. Its methods
// may be called from many goroutines.
type Sim struct {
	delay   time.Duration
	enroute bool
	mix     mix
	errCode uint16
	seed    uint64
	owns    func(string) bool // nil unless Options.Loopback
	rules   []Rule
	draws   atomic.Uint64

	running atomic.Bool // Submit's check: between Start and Stop
	life    sync.Mutex  // serialises Start and Stop
	phase   int         // 0 new, 1 started, 2 stopped; under life
	ev      backend.Events
	base    time.Time // the scheduler's clock counts nanoseconds from it

	mu    sync.Mutex
	q     queue            // pending reports
	ord   uint64           // push counter: equal due times keep their order
	seq   uint64           // record counter: tells a record from a later one of the same id
	known map[string]entry // pending messages and recently reported ones
	done  [keepDone]doneRef
	dpos  int
	next  int64 // due time the scheduler sleeps until (math.MaxInt64: none)

	wake      chan struct{}
	quit      chan struct{}
	schedDone chan struct{}

	mo       chan *backend.MO
	loopDone chan struct{}
	lostMO   atomic.Uint64
	ctx      context.Context // for Events.Received; cancelled by Stop
	cancel   context.CancelFunc
}

// item is one report the scheduler owes: an ENROUTE notification or an
// outcome.
type item struct {
	due   int64
	ord   uint64
	seq   uint64
	id    string
	m     *store.Message // the part, when it loops back as an MO
	state store.State
	code  uint16
}

// entry is what the simulator knows about a message it took: Enroute
// until its outcome is reported, then the outcome.
type entry struct {
	seq   uint64
	state store.State
	code  uint16
	at    int64
}

type doneRef struct {
	id  string
	seq uint64
}

// New returns a simulator configured by o. It panics if o is not valid
// (see Options.Validate).
func New(o Options) *Sim {
	if err := o.Validate(); err != nil {
		panic(err)
	}
	s := &Sim{
		delay:   o.Delay,
		enroute: o.Enroute,
		mix:     newMix(o.Outcomes),
		errCode: o.ErrorCode,
		seed:    uint64(o.Seed),
		rules:   append([]Rule(nil), o.Rules...),
		known:   make(map[string]entry),
		next:    math.MaxInt64,
	}
	if s.seed == 0 {
		s.seed = rand.Uint64()
	}
	if o.Loopback {
		s.owns = o.Owns
	}
	return s
}

// Name returns "simulator".
func (s *Sim) Name() string { return "simulator" }

// Start begins work: from now on outcomes and MO messages are reported to
// ev. ctx only carries values for the calls to ev.Received; the simulator
// runs until Stop, not until ctx is done. A Sim starts once.
func (s *Sim) Start(ctx context.Context, ev backend.Events) error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.phase != 0 {
		return errors.New("simulator: already started")
	}
	s.phase = 1
	s.ev = ev
	s.base = time.Now()
	s.wake = make(chan struct{}, 1)
	s.quit = make(chan struct{})
	s.schedDone = make(chan struct{})
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go s.run()
	if s.owns != nil {
		s.mo = make(chan *backend.MO, 1024)
		s.loopDone = make(chan struct{})
		go s.loop()
	}
	s.running.Store(true)
	return nil
}

// Stop ends work: it stops the scheduler, dropping the outcomes not yet
// reported (the gateway submits those messages again after a restart), and
// hands the MO messages already queued to the gateway, within ctx (it
// returns ctx's error if some were given up for want of time). After Stop,
// Submit fails with backend.ErrUnavailable.
func (s *Sim) Stop(ctx context.Context) error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.phase != 1 {
		s.phase = 2
		return nil
	}
	s.phase = 2
	s.running.Store(false)
	close(s.quit)
	<-s.schedDone
	var err error
	if s.loopDone != nil {
		lost := s.lostMO.Load()
		stop := context.AfterFunc(ctx, s.cancel)
		<-s.loopDone
		if !stop() && s.lostMO.Load() != lost {
			err = ctx.Err() // MOs were given up for want of time
		}
	}
	s.cancel()
	s.mu.Lock()
	s.q.reset()
	s.mu.Unlock()
	return err
}

// Submit takes the parts of one message. All parts get the same outcome
// (rules match the destination, which the parts share), drawn once per
// message. With no delay and no Enroute the outcome is returned in the
// Results and no Update follows; otherwise the Results say Enroute and the
// outcome (and, first, ENROUTE if Options.Enroute) follows through
// Events.Update for each part, possibly before the caller has handled the
// Results. Submit-time faults (Rule.SubmitStatus, SubmitDelay, NoAnswer)
// are Admit's: Submit does not apply them again.
func (s *Sim) Submit(ctx context.Context, parts []*store.Message) ([]backend.Result, error) {
	if !s.running.Load() {
		return nil, backend.ErrUnavailable
	}
	if len(parts) == 0 {
		return nil, nil
	}
	dest := parts[0].Dest.Addr
	st, code, delay := s.decide(dest)
	loop := s.owns != nil && st == store.Delivered && s.owns(dest)
	res := make([]backend.Result, len(parts))
	if delay <= 0 && !s.enroute {
		for i := range res {
			res[i] = backend.Result{State: st, ErrorCode: code}
		}
		if loop {
			for _, p := range parts {
				s.queueMO(ctx, p, time.Now())
			}
		}
		return res, nil
	}
	now := s.now()
	due := now + int64(max(delay, 0))
	s.mu.Lock()
	for i, p := range parts {
		s.seq++
		s.known[p.ID] = entry{seq: s.seq, state: store.Enroute, at: now}
		if s.enroute {
			s.push(item{due: now, seq: s.seq, id: p.ID, state: store.Enroute})
		}
		it := item{due: due, seq: s.seq, id: p.ID, state: st, code: code}
		if loop {
			it.m = p
		}
		s.push(it)
		res[i].State = store.Enroute
	}
	s.mu.Unlock()
	return res, nil
}

// Admit answers the gateway's question before it accepts a message: the
// first matching rule's SubmitStatus, SubmitDelay and NoAnswer.
func (s *Sim) Admit(ctx context.Context, m *store.Message) backend.Admission {
	r := s.match(m.Dest.Addr)
	if r == nil {
		return backend.Admission{}
	}
	return backend.Admission{Delay: r.SubmitDelay, Drop: r.NoAnswer, Status: r.SubmitStatus}
}

// Query returns the simulated state of a message whose outcome is pending
// (Enroute) or was reported a moment ago. For any other message it returns
// ErrUnknown, and the gateway's own record answers: the simulator keeps no
// record of outcomes it returned in Submit's Results, and none across a
// restart.
func (s *Sim) Query(ctx context.Context, m *store.Message) (backend.Update, error) {
	s.mu.Lock()
	e, ok := s.known[m.ID]
	s.mu.Unlock()
	if !ok {
		return backend.Update{}, ErrUnknown
	}
	return backend.Update{ID: m.ID, State: e.state, ErrorCode: e.code, At: s.base.Add(time.Duration(e.at))}, nil
}

// Cancel cancels a message whose outcome has not been reported yet: no
// outcome is reported for it, and Query says Deleted. It fails with
// ErrFinal for a message whose outcome was reported, and ErrUnknown for
// one the simulator does not know (every message delivered at once is
// final in Submit's Result, so it cannot be cancelled).
func (s *Sim) Cancel(ctx context.Context, m *store.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.known[m.ID]
	switch {
	case !ok:
		return ErrUnknown
	case e.state != store.Enroute:
		return ErrFinal
	}
	s.finish(m.ID, entry{seq: e.seq, state: store.Deleted, at: s.now()})
	return nil
}

// decide returns a message's outcome, its error code and its delay.
func (s *Sim) decide(dest string) (store.State, uint16, time.Duration) {
	code, delay := s.errCode, s.delay
	var st store.State
	if r := s.match(dest); r != nil {
		st = r.Outcome
		if r.ErrorCode != 0 {
			code = r.ErrorCode
		}
		if r.Delay != 0 {
			delay = r.Delay
		}
	}
	if st == 0 {
		st = s.draw()
	}
	if st == store.Delivered {
		code = 0
	}
	return st, code, delay
}

// draw draws an outcome from the mix.
func (s *Sim) draw() store.State {
	if s.mix.fixed() {
		return s.mix.states[0]
	}
	n := s.draws.Add(1)
	return s.mix.pick(splitmix64(s.seed + n*golden))
}

func (s *Sim) match(dest string) *Rule {
	for i := range s.rules {
		if strings.HasPrefix(dest, s.rules[i].Prefix) {
			return &s.rules[i]
		}
	}
	return nil
}

// now is the scheduler's clock: monotonic nanoseconds since Start.
func (s *Sim) now() int64 { return int64(time.Since(s.base)) }

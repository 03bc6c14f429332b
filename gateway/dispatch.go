package gateway

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"sync"
	"time"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
)

// dispatcher takes stored messages to their backends: it holds scheduled
// messages until their time, gathers the parts of long messages, keeps a
// queue and workers per backend, retries temporary failures with back-off,
// expires messages whose validity has passed, and records every state
// change (with the receipts it calls for) through the committer.
type dispatcher struct {
	g      *Gateway
	log    *slog.Logger
	timers *timers
	queues map[string]*queue

	live      liveSet      // every unfinished message, by id
	byBackend backendIndex // the live messages a backend holds, by its id

	gmu    sync.Mutex
	groups map[string]*group

	slots   submitSlots    // each worker's submit under way
	wg      sync.WaitGroup // the sweeper
	workers sync.WaitGroup
	ctx     context.Context
	quit    context.CancelFunc
}

// group gathers the parts of one long message.
type group struct {
	parts []*store.Message
	since time.Time
}

// how long the parts of a long message are waited for before the ones that
// came are sent on their own.
const groupWait = time.Minute

func newDispatcher(g *Gateway) *dispatcher {
	d := &dispatcher{g: g, log: g.log, timers: newTimers(), queues: map[string]*queue{}, groups: map[string]*group{}}
	d.live.init()
	d.byBackend.m = map[string][]string{}
	d.ctx, d.quit = context.WithCancel(context.Background())
	return d
}

// start starts each backend's workers.
func (d *dispatcher) start() {
	total := 0
	for name := range d.g.backends {
		total += d.workersOf(name)
	}
	d.slots = make(submitSlots, total)
	slot := 0
	for name, b := range d.g.backends {
		q := newQueue()
		d.queues[name] = q
		for range d.workersOf(name) {
			d.workers.Add(1)
			go d.work(b, q, slot)
			slot++
		}
	}
	d.wg.Add(1)
	go d.sweep()
}

func (d *dispatcher) workersOf(backend string) int {
	if n := d.g.opts.Workers[backend]; n > 0 {
		return n
	}
	return 4
}

// stop lets the workers finish the submits under way (until ctx is done,
// when they are cancelled) and stops them; what is queued stays in the
// store for the next start.
func (d *dispatcher) stop(ctx context.Context) {
	for _, q := range d.queues {
		q.close()
	}
	idle := make(chan struct{})
	go func() { d.workers.Wait(); close(idle) }()
	select {
	case <-idle:
	case <-ctx.Done():
		d.stopSubmits()
		<-idle
	}
	d.stopSubmits()
	d.wg.Wait()
	d.timers.close()
}

// enqueue takes a message that is durably stored (accepted now, or
// unfinished at start-up) towards its backend.
func (d *dispatcher) enqueue(m *store.Message) {
	d.live.put(m)
	d.route(m)
}

// route hands m on: to a timer until its schedule, to its group until the
// other parts are in, else to its backend's queue.
func (d *dispatcher) route(m *store.Message) {
	if !m.ScheduleAt.IsZero() && m.ScheduleAt.After(d.g.now()) {
		d.timers.at(m.ScheduleAt, func() { d.route(m) })
		return
	}
	if m.Group != "" && m.Parts > 1 {
		d.gmu.Lock()
		gr := d.groups[m.Group]
		if gr == nil {
			gr = &group{since: d.g.now()}
			d.groups[m.Group] = gr
		}
		for _, p := range gr.parts {
			if p.Part == m.Part {
				// The same part again: the reference has been reused
				// by a newer message. Send what is gathered first.
				delete(d.groups, m.Group)
				d.gmu.Unlock()
				d.push(gr.parts)
				d.route(m)
				return
			}
		}
		gr.parts = append(gr.parts, m)
		if len(gr.parts) < int(m.Parts) {
			d.gmu.Unlock()
			return
		}
		delete(d.groups, m.Group)
		d.gmu.Unlock()
		sortParts(gr.parts)
		d.push(gr.parts)
		return
	}
	d.push([]*store.Message{m})
}

func sortParts(ps []*store.Message) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].Part < ps[j-1].Part; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

func (d *dispatcher) push(parts []*store.Message) {
	q := d.queues[parts[0].Route]
	if q == nil {
		for _, m := range parts {
			d.log.Error("no such backend; message undeliverable", "message_id", m.ID, "route", m.Route)
			d.g.transition(m, store.Undeliverable, 0, "")
		}
		return
	}
	q.push(parts)
}

// work submits messages to one backend.
func (d *dispatcher) work(b backend.Backend, q *queue, slot int) {
	defer d.workers.Done()
	for {
		parts, ok := q.pop()
		if !ok {
			return
		}
		d.submit(b, parts, slot)
	}
}

// submitTimeout bounds one Submit to a backend.
const submitTimeout = 2 * time.Minute

func (d *dispatcher) submit(b backend.Backend, parts []*store.Message, slot int) {
	var now time.Time // (read only for a message with a validity)
	// Drop parts that became final meanwhile (cancelled, expired) or
	// were replaced (replace_sm routes the new version); claim the others,
	// which ends their replaceability.
	live := parts[:0]
	for _, m := range parts {
		if !d.live.claim(m) {
			continue
		}
		if !m.ExpireAt.IsZero() && now.IsZero() {
			now = d.g.now()
		}
		if !m.ExpireAt.IsZero() && !now.Before(m.ExpireAt) {
			d.g.transition(m, store.Expired, 0, "")
			continue
		}
		live = append(live, m)
	}
	if len(live) == 0 {
		return
	}
	parts = live
	ctx := d.beginSubmit(slot, submitTimeout)
	res, err := b.Submit(ctx, parts)
	d.endSubmit(slot, ctx)
	if err != nil {
		if pe, ok := backend.Permanent(err); ok {
			d.log.Info("backend refused a message", "backend", b.Name(), "message_id", parts[0].ID, "err", err)
			for _, m := range parts {
				d.g.transition(m, pe.State, pe.ErrorCode, "")
			}
			return
		}
		d.retry(b, parts, err)
		return
	}
	for i, m := range parts {
		r := backend.Result{State: store.Enroute}
		if i < len(res) {
			r = res[i]
		}
		if r.State == store.Accepted {
			r.State = store.Enroute
		}
		d.g.transition(m, r.State, r.ErrorCode, r.BackendID)
	}
}

// retry schedules another attempt after a temporary failure, with
// exponential back-off, unless the attempts are used up.
func (d *dispatcher) retry(b backend.Backend, parts []*store.Message, err error) {
	o := &d.g.opts
	m0 := parts[0]
	// Under the shard lock: a backend's report may be recording m0
	// meanwhile (transition reads Attempts).
	mu := d.live.mu(m0.ID)
	mu.Lock()
	m0.Attempts++
	attempts := m0.Attempts
	mu.Unlock()
	if o.MaxAttempts > 0 && attempts >= o.MaxAttempts {
		d.log.Warn("backend failed too often; message undeliverable", "backend", b.Name(), "message_id", m0.ID, "attempts", attempts, "err", err)
		for _, m := range parts {
			d.g.transition(m, store.Undeliverable, 0, "")
		}
		return
	}
	wait := backoff(o.RetryMin, o.RetryMax, attempts)
	if !errors.Is(err, backend.ErrUnavailable) || attempts == 1 {
		d.log.Warn("backend failed; will retry", "backend", b.Name(), "message_id", m0.ID, "attempt", attempts, "retry_in", wait, "err", err)
	}
	for _, m := range parts[1:] {
		mu := d.live.mu(m.ID)
		mu.Lock()
		m.Attempts = attempts
		mu.Unlock()
	}
	// Back in waiting, not handed over: replace_sm may change them again.
	for _, m := range parts {
		d.live.unclaim(m)
	}
	d.timers.at(d.g.now().Add(wait), func() { d.push(parts) })
}

func backoff(lo, hi time.Duration, attempts int) time.Duration {
	if lo <= 0 {
		lo = time.Second
	}
	if hi < lo {
		hi = lo
	}
	w := lo
	for i := 1; i < attempts && w < hi; i++ {
		w *= 2
	}
	return min(w, hi)
}

// update records a state change the backend route reported. One that
// carries only the backend's id (the backend took the message before a
// restart, or lost track of it) applies to every live message the backend
// holds under that id: the parts of one long message share it.
func (d *dispatcher) update(route string, u backend.Update) {
	if u.ID == "" {
		ids := d.byBackend.lookup(route, u.BackendID)
		if len(ids) == 0 {
			d.log.Debug("state change for a backend id not in progress", "backend", route, "backend_id", u.BackendID, "state", u.State.String())
			return
		}
		for _, id := range ids {
			v := u
			v.ID = id
			d.update(route, v)
		}
		return
	}
	m := d.live.get(u.ID)
	if m == nil {
		d.log.Debug("state change for a message not in progress", "message_id", u.ID, "state", u.State.String())
		return
	}
	d.g.transition(m, u.State, u.ErrorCode, u.BackendID)
}

// cancel deletes a message that is not final: a waiting one (scheduled,
// queued, between retries) at once, one its backend holds if the backend
// can cancel it, not one a worker is handing to its backend just now.
func (d *dispatcher) cancel(ctx context.Context, m *store.Message) error {
	lm := d.live.get(m.ID)
	if lm == nil {
		return errors.New("message is final")
	}
	st, busy := d.live.stateOf(lm)
	if busy && st != store.Enroute {
		// A worker is handing it over: its backend may deliver it
		// whatever is recorded here.
		return errors.New("message is being handed to its backend")
	}
	if st == store.Enroute {
		c, ok := d.g.backends[lm.Route].(backend.Canceller)
		if !ok {
			return errors.New("backend cannot cancel")
		}
		if err := c.Cancel(ctx, lm); err != nil {
			return err
		}
	}
	if !d.g.transition(lm, store.Deleted, 0, "") {
		d.live.mu(m.ID).Lock()
		st := lm.State
		d.live.mu(m.ID).Unlock()
		if st == store.Deleted {
			return nil // the backend reported the cancellation first
		}
		return errors.New("message became final meanwhile")
	}
	return nil
}

// sweep expires messages past their validity, whether a backend holds them
// or they wait (scheduled, queued, between retries; the worker that takes a
// queued one expires it too), and sends the parts of long messages whose
// other parts never came.
func (d *dispatcher) sweep() {
	defer d.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
		}
		d.expireSubmits(time.Now())
		now := d.g.now()
		for _, m := range d.live.expired(now) {
			d.g.transition(m, store.Expired, 0, "")
		}
		var late [][]*store.Message
		d.gmu.Lock()
		for k, gr := range d.groups {
			if now.Sub(gr.since) > groupWait {
				delete(d.groups, k)
				late = append(late, gr.parts)
			}
		}
		d.gmu.Unlock()
		for _, ps := range late {
			sortParts(ps)
			d.log.Warn("long message incomplete; sending the parts that came", "group", ps[0].Group, "parts", len(ps), "of", ps[0].Parts)
			d.push(ps)
		}
	}
}

// queue holds the submits waiting for one backend's workers: one unbounded
// FIFO per priority_flag level (0–3), the highest level served first, so
// push and pop stay O(1). Pushing never blocks (the committer's callbacks
// push), so a slow backend makes messages wait in memory (and in the
// store), not sessions. Within a level the order is that of arrival; a
// long message goes by the priority of its first part.
type queue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	levels [priorityLevels]fifo
	n      int
	closed bool
}

// priorityLevels are priority_flag's values for GSM SMS (0 normal, 1–3
// priority); the handler refuses others.
const priorityLevels = 4

// fifo is a slice used as a queue: taken from head, compacted as it drains.
type fifo struct {
	items [][]*store.Message
	head  int
}

func (f *fifo) push(p []*store.Message) { f.items = append(f.items, p) }

func (f *fifo) empty() bool { return f.head == len(f.items) }

func (f *fifo) pop() []*store.Message {
	p := f.items[f.head]
	f.items[f.head] = nil
	f.head++
	if f.head == len(f.items) {
		f.items, f.head = f.items[:0], 0
	} else if f.head > 1024 && f.head*2 > len(f.items) {
		n := copy(f.items, f.items[f.head:])
		clear(f.items[n:])
		f.items, f.head = f.items[:n], 0
	}
	return p
}

func newQueue() *queue {
	q := &queue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func levelOf(parts []*store.Message) int {
	return int(min(parts[0].Priority, priorityLevels-1))
}

func (q *queue) push(parts []*store.Message) {
	q.mu.Lock()
	q.levels[levelOf(parts)].push(parts)
	q.n++
	q.mu.Unlock()
	q.cond.Signal()
}

func (q *queue) pop() ([]*store.Message, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.n == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return nil, false // (what is queued is stored: taken up at the next start)
	}
	for l := priorityLevels - 1; l >= 0; l-- {
		if f := &q.levels[l]; !f.empty() {
			q.n--
			return f.pop(), true
		}
	}
	panic("gateway: queue count out of step") // (q.n counts the levels' items)
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// backendIndex maps a backend's ids (with the backend's name) to the ids
// of the live messages it holds under them. The gateway keeps it as it
// records backend ids and as messages become final.
type backendIndex struct {
	mu sync.Mutex
	m  map[string][]string
}

func backendKey(route, backendID string) string { return route + "\x00" + backendID }

func (x *backendIndex) add(route, backendID, id string) {
	if backendID == "" {
		return
	}
	k := backendKey(route, backendID)
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, have := range x.m[k] {
		if have == id {
			return
		}
	}
	x.m[k] = append(x.m[k], id)
}

func (x *backendIndex) remove(route, backendID, id string) {
	if backendID == "" {
		return
	}
	k := backendKey(route, backendID)
	x.mu.Lock()
	defer x.mu.Unlock()
	ids := x.m[k]
	for i, have := range ids {
		if have == id {
			ids = append(ids[:i], ids[i+1:]...)
			break
		}
	}
	if len(ids) == 0 {
		delete(x.m, k)
	} else {
		x.m[k] = ids
	}
}

// lookup returns a copy of the ids held under backendID.
func (x *backendIndex) lookup(route, backendID string) []string {
	if backendID == "" {
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]string(nil), x.m[backendKey(route, backendID)]...)
}

func (x *backendIndex) len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.m)
}

// liveSet holds the unfinished messages by id, in shards so that sessions
// and workers seldom wait for one another. A shard's mutex also guards the
// state of the messages in it, and which of them a worker has claimed
// (taken to hand to its backend: no longer replaceable).
//
// A message object in the set is never changed but for its state (under
// the lock): replace_sm puts a new object in the old one's place, so the
// timers, groups and queues that still hold the old one read it without
// a lock, and a worker that takes the old one finds it is not live.
type liveSet struct {
	seed   maphash.Seed
	shards [32]liveShard
}

type liveShard struct {
	sync.Mutex
	m    map[string]*store.Message
	busy map[string]struct{}
	// unsaved holds the state changes made and not yet committed, by
	// message id (they may outlive the message's stay in m): a receipt
	// goes out before its state change is durable, and query_sm must not
	// contradict it meanwhile.
	unsaved map[string]store.Update
}

func (l *liveSet) init() {
	l.seed = maphash.MakeSeed()
	for i := range l.shards {
		l.shards[i].m = map[string]*store.Message{}
		l.shards[i].busy = map[string]struct{}{}
		l.shards[i].unsaved = map[string]store.Update{}
	}
}

// shardOf returns id's shard.
func (l *liveSet) shardOf(id string) *liveShard { return &l.shards[l.shard(id)] }

// lockLive locks m's shard and returns it, or returns nil (locking
// nothing) when m is no longer live (it became final meanwhile). The
// caller may change m's state, then calls unlockLive.
func (l *liveSet) lockLive(m *store.Message) *liveShard {
	s := l.shardOf(m.ID)
	s.Lock()
	if s.m[m.ID] != m {
		s.Unlock()
		return nil
	}
	return s
}

// unlockLive ends lockLive: a final state removes m.
func (l *liveSet) unlockLive(s *liveShard, m *store.Message) {
	if m.State.Final() {
		delete(s.m, m.ID)
		delete(s.busy, m.ID)
	}
	s.Unlock()
}

// claim marks m as taken by a worker; it reports false when m is no longer
// the live object of its id (final, or replaced).
func (l *liveSet) claim(m *store.Message) bool {
	s := &l.shards[l.shard(m.ID)]
	s.Lock()
	defer s.Unlock()
	if s.m[m.ID] != m {
		return false
	}
	s.busy[m.ID] = struct{}{}
	return true
}

// stateOf returns m's state and whether a worker has claimed it.
func (l *liveSet) stateOf(m *store.Message) (store.State, bool) {
	s := &l.shards[l.shard(m.ID)]
	s.Lock()
	defer s.Unlock()
	_, busy := s.busy[m.ID]
	return m.State, busy
}

// unclaim returns m to waiting (a retry).
func (l *liveSet) unclaim(m *store.Message) {
	s := &l.shards[l.shard(m.ID)]
	s.Lock()
	if s.m[m.ID] == m {
		delete(s.busy, m.ID)
	}
	s.Unlock()
}

// errNotReplaceable is why a message cannot be replaced or replace
// another: it is final, handed to a backend, or part of a long message.
var errNotReplaceable = errors.New("message is final, handed to a backend, or part of a long message")

// swap replaces the live message id with what change makes of a copy of
// it, provided it waits still: not final, not claimed, ACCEPTED or
// SCHEDULED, and not a part of a long message. change may refuse (its
// error is returned). It returns the new object, and a copy of it for the
// store (the live one's state may change as soon as the lock is released).
func (l *liveSet) swap(id string, change func(m *store.Message) error) (m, snap *store.Message, err error) {
	s := &l.shards[l.shard(id)]
	s.Lock()
	defer s.Unlock()
	old := s.m[id]
	if old == nil {
		return nil, nil, errNotReplaceable
	}
	if _, busy := s.busy[id]; busy || (old.State != store.Accepted && old.State != store.Scheduled) || old.Parts > 1 {
		return nil, nil, errNotReplaceable
	}
	c := *old
	if err := change(&c); err != nil {
		return nil, nil, err
	}
	s.m[id] = &c
	cp := c
	return &c, &cp, nil
}

func (l *liveSet) shard(id string) int {
	return int(maphash.String(l.seed, id) % uint64(len(l.shards)))
}

func (l *liveSet) put(m *store.Message) {
	s := &l.shards[l.shard(m.ID)]
	s.Lock()
	s.m[m.ID] = m
	s.Unlock()
}

// mu is the lock of id's shard, which also guards the state of the
// messages in it.
func (l *liveSet) mu(id string) *sync.Mutex { return &l.shards[l.shard(id)].Mutex }

// snapshot returns a copy of a live message, taken under its shard's lock.
func (l *liveSet) snapshot(id string) (*store.Message, bool) {
	s := &l.shards[l.shard(id)]
	s.Lock()
	defer s.Unlock()
	m := s.m[id]
	if m == nil {
		return nil, false
	}
	c := *m
	return &c, true
}

func (l *liveSet) get(id string) *store.Message {
	s := &l.shards[l.shard(id)]
	s.Lock()
	defer s.Unlock()
	return s.m[id]
}

func (l *liveSet) len() int {
	n := 0
	for i := range l.shards {
		l.shards[i].Lock()
		n += len(l.shards[i].m)
		l.shards[i].Unlock()
	}
	return n
}

// expired returns the live messages whose validity has passed: those a
// backend holds (ENROUTE) and those waiting (scheduled, queued, between
// retries), not one a worker is handing to its backend just now (its
// outcome decides; if ENROUTE, a later sweep expires it).
func (l *liveSet) expired(now time.Time) []*store.Message {
	var out []*store.Message
	for i := range l.shards {
		s := &l.shards[i]
		s.Lock()
		for id, m := range s.m {
			if m.ExpireAt.IsZero() || now.Before(m.ExpireAt) {
				continue
			}
			if _, busy := s.busy[id]; m.State == store.Enroute || !busy {
				out = append(out, m)
			}
		}
		s.Unlock()
	}
	return out
}

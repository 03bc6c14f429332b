package sim

import (
	"math"
	"time"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
)

// The scheduler: one goroutine, one timer and a queue of pending reports,
// whatever the number of messages, so a delayed outcome costs a queue push
// and a map entry rather than a timer or a goroutine.

// run reports what falls due until Stop.
func (s *Sim) run() {
	defer close(s.schedDone)
	t := time.NewTimer(time.Hour)
	t.Stop()
	var batch []item
	for {
		s.mu.Lock()
		now := s.now()
		batch = s.takeDue(now, batch[:0])
		wait := int64(-1)
		if len(batch) == 0 {
			s.next = math.MaxInt64
			if e := s.q.peek(); e != nil {
				s.next = e.due
				wait = s.next - now
			}
		}
		s.mu.Unlock()
		if len(batch) > 0 {
			s.report(batch)
			clear(batch) // drop the references to messages
			select {
			case <-s.quit:
				return
			default:
			}
			continue
		}
		if wait >= 0 {
			t.Reset(time.Duration(wait))
		}
		select {
		case <-t.C:
		case <-s.wake:
			t.Stop()
		case <-s.quit:
			t.Stop()
			return
		}
	}
}

// takeDue moves the reports due at now from the queue to batch, skipping
// those of cancelled (or since resubmitted) messages and recording the
// outcomes as reported. Called with mu held.
func (s *Sim) takeDue(now int64, batch []item) []item {
	for len(batch) < maxBatch {
		if e := s.q.peek(); e == nil || e.due > now {
			break
		}
		it := s.q.pop()
		e, ok := s.known[it.id]
		if !ok || e.seq != it.seq || e.state != store.Enroute {
			continue
		}
		if it.state != store.Enroute {
			s.finish(it.id, entry{seq: it.seq, state: it.state, code: it.code, at: now})
		}
		batch = append(batch, it)
	}
	return batch
}

// report hands a batch to the gateway, outside the lock.
func (s *Sim) report(batch []item) {
	at := time.Now()
	for i := range batch {
		it := &batch[i]
		s.ev.Update(backend.Update{ID: it.id, State: it.state, ErrorCode: it.code, At: at})
		if it.m != nil {
			s.queueMO(s.ctx, it.m, at)
		}
	}
}

// finish records a message's final state, and keeps it for Query among
// the last keepDone. Called with mu held.
func (s *Sim) finish(id string, e entry) {
	s.known[id] = e
	old := s.done[s.dpos]
	if old.seq != 0 {
		if k, ok := s.known[old.id]; ok && k.seq == old.seq {
			delete(s.known, old.id)
		}
	}
	s.done[s.dpos] = doneRef{id: id, seq: e.seq}
	s.dpos = (s.dpos + 1) % keepDone
}

func less(a, b *item) bool {
	return a.due < b.due || a.due == b.due && a.ord < b.ord
}

// push adds a report and wakes the scheduler if it is due before the time
// the scheduler sleeps until. Called with mu held.
func (s *Sim) push(it item) {
	s.ord++
	it.ord = s.ord
	s.q.push(it)
	if it.due < s.next {
		s.next = it.due
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// queue keeps the pending reports in due order. Reports pushed in due
// order (all of them, with one delay for every message) go to a FIFO, in
// O(1); the others to a heap. The earliest is at the head of one of them.
type queue struct {
	fifo []item
	head int // fifo[head:] are pending
	heap []item
}

func (q *queue) len() int { return len(q.fifo) - q.head + len(q.heap) }

// peek returns the earliest report, or nil.
func (q *queue) peek() *item {
	var f, h *item
	if q.head < len(q.fifo) {
		f = &q.fifo[q.head]
	}
	if len(q.heap) > 0 {
		h = &q.heap[0]
	}
	if f == nil || h != nil && less(h, f) {
		return h
	}
	return f
}

func (q *queue) push(it item) {
	if n := len(q.fifo); n == q.head || !less(&it, &q.fifo[n-1]) {
		if q.head > 1024 && q.head > n/2 {
			// Reuse the front instead of growing forever behind it.
			m := copy(q.fifo, q.fifo[q.head:])
			clear(q.fifo[m:])
			q.fifo, q.head = q.fifo[:m], 0
		}
		q.fifo = append(q.fifo, it)
		return
	}
	h := append(q.heap, it)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !less(&h[i], &h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	q.heap = h
}

// pop removes the earliest report; the queue must not be empty.
func (q *queue) pop() item {
	if len(q.heap) == 0 || q.head < len(q.fifo) && less(&q.fifo[q.head], &q.heap[0]) {
		it := q.fifo[q.head]
		q.fifo[q.head] = item{}
		q.head++
		if q.head == len(q.fifo) {
			q.fifo, q.head = q.fifo[:0], 0
		}
		return it
	}
	h := q.heap
	n := len(h) - 1
	it := h[0]
	h[0] = h[n]
	h[n] = item{}
	h = h[:n]
	for i := 0; ; {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && less(&h[c+1], &h[c]) {
			c++
		}
		if !less(&h[c], &h[i]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	q.heap = h
	return it
}

// reset drops every report.
func (q *queue) reset() {
	clear(q.fifo)
	clear(q.heap)
	*q = queue{fifo: q.fifo[:0], heap: q.heap[:0]}
}

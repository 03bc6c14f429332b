package gateway

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/smppkit/smpp/gateway/store"
)

// committer gathers the changes of every session and component into one
// batch and commits it with one store.Apply while the next batch fills up:
// group commit. A change's done is called once the batch that holds it is
// durable (or has failed), on the committer's goroutine, so it must be
// quick: answer a PDU, hand a message on.
type committer struct {
	st       store.Store
	log      *slog.Logger
	maxBatch int
	onCommit func(n int, took time.Duration) // metrics hook, may be nil
	// onStored hears of each addMessage's message, onSaved of each
	// addUpdate's change, once durable (or failed): typed callbacks, so
	// that the hot path adds no closure per change.
	onStored func(s *stored, err error)
	onSaved  func(u store.Update, err error)

	mu  sync.Mutex
	cur *store.Batch
	// unsent maps the deliveries in cur to their index, so that one
	// acknowledged before its commit cancels out: neither the insert nor
	// the removal is written (see ack).
	unsent    map[uint64]int
	cancelled int
	done      []doneEntry
	saved     []store.Update // cur's state changes from addUpdate
	free      []committed    // batches (and callback slices) to reuse
	notify    chan committed
	wake      chan struct{}
	room      *sync.Cond // waits for a batch under maxBatch
	stopped   bool
	exited    chan struct{}
}

func newCommitter(st store.Store, log *slog.Logger, maxBatch int) *committer {
	if maxBatch <= 0 {
		maxBatch = 4096
	}
	c := &committer{st: st, log: log, maxBatch: maxBatch, cur: &store.Batch{}, notify: make(chan committed, 1), unsent: map[uint64]int{},
		wake: make(chan struct{}, 1), exited: make(chan struct{})}
	c.room = sync.NewCond(&c.mu)
	return c
}

// doneEntry is one callback owed once a batch is durable: fn, or (fn
// nil) onStored with st.
type doneEntry struct {
	fn func(error)
	st stored
}

// add records a change: fill appends it to the batch being gathered, and
// done (may be nil) hears when it is durable. When the batch is full, add
// waits for the commit under way to finish: the store sets the pace.
func (c *committer) add(fill func(b *store.Batch), done func(error)) { c.put(fill, done, true) }

func (c *committer) put(fill func(b *store.Batch), done func(error), wait bool) {
	if !c.lock(wait) {
		if done != nil {
			done(errStopped)
		}
		return
	}
	fill(c.cur)
	if done != nil {
		c.done = append(c.done, doneEntry{fn: done})
	}
	c.unlock()
}

// lock takes c.mu, first waiting for room in the batch if wait; it
// reports false (c.mu not held) once the committer has stopped.
func (c *committer) lock(wait bool) bool {
	c.mu.Lock()
	for wait && c.cur.Len() >= c.maxBatch && !c.stopped {
		c.room.Wait()
	}
	if c.stopped {
		c.mu.Unlock()
		return false
	}
	return true
}

// unlock releases c.mu and wakes the commit loop.
func (c *committer) unlock() {
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// addMessage records a new message (like add); onStored hears of it with
// st once it is durable.
func (c *committer) addMessage(st stored) {
	if !c.lock(true) {
		s := st // (escapes; st, in the common case, need not)
		c.onStored(&s, errStopped)
		return
	}
	c.cur.Messages = append(c.cur.Messages, st.m)
	c.done = append(c.done, doneEntry{st: st})
	c.unlock()
}

// addUpdate records a state change, and with it the new delivery rc if
// not nil, remembering where rc is so that an acknowledgement before the
// commit can cancel it. It never waits for room: its callers hold a lock
// the committer's callbacks may need (a message's shard, see transition),
// so the batch may grow past maxBatch a little. onSaved hears of u once it
// is durable. It reports false, recording nothing, once
// the committer has stopped: the caller (which may hold the lock onSaved
// takes) must then see to u itself.
func (c *committer) addUpdate(u store.Update, rc *store.Delivery) bool {
	if !c.lock(false) {
		return false
	}
	c.cur.Updates = append(c.cur.Updates, u)
	c.saved = append(c.saved, u)
	if rc != nil {
		c.unsent[rc.ID] = len(c.cur.Deliveries)
		c.cur.Deliveries = append(c.cur.Deliveries, rc)
	}
	c.unlock()
	return true
}

// ack removes an acknowledged delivery. When its insert has not been
// committed yet, the two cancel out and nothing is written: a receipt
// sent and acknowledged within one commit costs the store nothing. (Were
// the process to die before the state change that made the receipt is
// committed, the message is resumed and its receipt made again: a receipt
// may come twice after a crash, never not at all.)
func (c *committer) ack(id uint64) {
	if !c.lock(true) {
		return
	}
	if i, ok := c.unsent[id]; ok {
		c.cur.Deliveries[i] = nil
		delete(c.unsent, id)
		c.cancelled++
	} else {
		c.cur.Done = append(c.cur.Done, id)
	}
	c.unlock()
}

func (c *committer) run() {
	go c.notifyLoop()
	defer close(c.notify)
	for {
		<-c.wake
		for {
			c.mu.Lock()
			if c.cur.Len() == 0 {
				stopped := c.stopped
				c.mu.Unlock()
				if stopped {
					return
				}
				break
			}
			b, done, saved := c.cur, c.done, c.saved
			c.cur, c.done, c.saved = c.freeBatch()
			if c.cancelled > 0 {
				b.Deliveries = slices.DeleteFunc(b.Deliveries, func(d *store.Delivery) bool { return d == nil })
				c.cancelled = 0
			}
			clear(c.unsent)
			c.room.Broadcast()
			c.mu.Unlock()
			if b.Len() == 0 {
				c.callBack(committed{b, done, saved, nil})
				continue
			}

			start := time.Now()
			err := c.apply(b)
			if c.onCommit != nil {
				c.onCommit(b.Len(), time.Since(start))
			}
			// The callbacks (answers to thousands of submits) run on
			// their own goroutine while the next batch commits.
			c.notify <- committed{b, done, saved, err}
		}
	}
}

// committed is a batch whose commit is over, for its callbacks.
type committed struct {
	b     *store.Batch
	done  []doneEntry
	saved []store.Update
	err   error
}

// notifyLoop calls the callbacks of each committed batch, in commit order,
// and returns the batch for reuse.
func (c *committer) notifyLoop() {
	defer close(c.exited)
	for r := range c.notify {
		c.callBack(r)
	}
}

// callBack calls r's callbacks and returns its batch and slices for reuse.
func (c *committer) callBack(r committed) {
	for i := range r.done {
		if e := &r.done[i]; e.fn != nil {
			e.fn(r.err)
		} else {
			c.onStored(&e.st, r.err)
		}
	}
	for _, u := range r.saved {
		c.onSaved(u, r.err)
	}
	clear(r.done)
	clear(r.saved)
	r.b.Reset()
	c.mu.Lock()
	c.free = append(c.free, committed{b: r.b, done: r.done[:0], saved: r.saved[:0]})
	c.mu.Unlock()
}

// freeBatch returns an empty batch and callback slices; c.mu is held.
func (c *committer) freeBatch() (*store.Batch, []doneEntry, []store.Update) {
	if n := len(c.free); n > 0 {
		f := c.free[n-1]
		c.free = c.free[:n-1]
		return f.b, f.done, f.saved
	}
	return &store.Batch{}, nil, nil
}

// apply commits b, retrying a failing store for a while: a change that was
// never committed is reported as failed, so nothing acknowledged is lost,
// but a store that hiccups (a busy disk) should not fail every session.
func (c *committer) apply(b *store.Batch) error {
	var err error
	for try, wait := 0, 10*time.Millisecond; try < 5; try, wait = try+1, wait*2 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = c.st.Apply(ctx, b)
		cancel()
		if err == nil {
			return nil
		}
		c.log.Error("store commit failed", "changes", b.Len(), "try", try+1, "err", err)
		time.Sleep(wait)
	}
	return err
}

// stop commits what is gathered and ends the committer; later adds fail.
func (c *committer) stop() {
	c.mu.Lock()
	c.stopped = true
	c.room.Broadcast()
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	<-c.exited
}

package gateway

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// submitCtx is the context of one Submit to a backend: done when Submit
// has returned, when its deadline has passed, or when the dispatcher stops
// (quit). context.WithTimeout would do, but costs four allocations and a
// runtime timer per message; here the deadline is watched by the
// dispatcher's sweeper (within a second of it), the channel is made only
// if a backend asks for it, and one allocation is all.
type submitCtx struct {
	deadline time.Time

	mu   sync.Mutex
	done chan struct{} // made by Done
	err  error
}

func (c *submitCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *submitCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		}
	}
	return c.done
}

func (c *submitCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Value is nil: the dispatcher's context carries no values. (Passing
// the lookup on to it would also hand context.Cause and WithCancel its
// cancellation instead of this context's own.)
func (c *submitCtx) Value(key any) any { return nil }

// cancel ends the context with err (the first call only).
func (c *submitCtx) cancel(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
		if c.done != nil {
			close(c.done)
		}
	}
	c.mu.Unlock()
}

// submitSlots hold each worker's submit under way, for the sweeper (its
// deadline) and for quit.
type submitSlots []atomic.Pointer[submitCtx]

// beginSubmit makes the context of a submit by worker i, due within
// timeout.
func (d *dispatcher) beginSubmit(i int, timeout time.Duration) *submitCtx {
	c := &submitCtx{deadline: time.Now().Add(timeout)}
	d.slots[i].Store(c)
	// After the store: a quit that this misses sees the slot.
	if err := d.ctx.Err(); err != nil {
		c.cancel(err)
	}
	return c
}

// endSubmit ends worker i's submit: its context is done from now on.
func (d *dispatcher) endSubmit(i int, c *submitCtx) {
	d.slots[i].Store(nil)
	c.cancel(context.Canceled)
}

// expireSubmits ends the submits whose deadline has passed (the sweeper).
func (d *dispatcher) expireSubmits(now time.Time) {
	for i := range d.slots {
		if c := d.slots[i].Load(); c != nil && !now.Before(c.deadline) {
			c.cancel(context.DeadlineExceeded)
		}
	}
}

// stopSubmits cancels the dispatcher's context and the submits under way.
func (d *dispatcher) stopSubmits() {
	d.quit()
	for i := range d.slots {
		if c := d.slots[i].Load(); c != nil {
			c.cancel(context.Canceled)
		}
	}
}

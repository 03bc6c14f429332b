package smpp

import (
	"context"
	"sync/atomic"
)

// window bounds the requests in flight. Taking and returning a slot are
// atomic operations; only a caller that finds the window full parks, and a
// release wakes one parked caller whenever there is room. A woken caller
// that finds more room passes the wake-up on, so a burst of releases wakes
// the waiters one after another without a wake-up per release.
type window struct {
	n       atomic.Int32 // slots taken
	max     int32
	waiters atomic.Int32
	wake    chan struct{}
}

func newWindow(size int) *window {
	return &window{max: int32(size), wake: make(chan struct{}, 1)}
}

// tryAcquire takes a slot if one is free and nobody is parked waiting for
// one: parked callers go first, or callers that never wait (TryCallAsync in
// a loop) could take every slot a release frees before a woken waiter runs.
func (w *window) tryAcquire() bool {
	if w.waiters.Load() > 0 {
		return false
	}
	return w.take()
}

// take takes a slot if one is free.
func (w *window) take() bool {
	if w.n.Add(1) <= w.max {
		return true
	}
	// The failed attempt held n above max for a moment: a release that
	// came in between saw no room, so this rollback must wake in its
	// place.
	w.release()
	return false
}

// acquire takes a slot, waiting for one within ctx or until done closes.
func (w *window) acquire(ctx context.Context, done <-chan struct{}) error {
	for woken := false; ; {
		if (woken || w.waiters.Load() == 0) && w.take() {
			w.passOn()
			return nil
		}
		w.waiters.Add(1)
		// Re-check after announcing ourselves, or a release that came
		// in between would not know to wake us.
		if w.n.Load() < w.max {
			w.waiters.Add(-1)
			woken = true
			continue
		}
		select {
		case <-w.wake:
			w.waiters.Add(-1)
			woken = true
		case <-ctx.Done():
			w.waiters.Add(-1)
			w.passOn()
			return ctx.Err()
		case <-done:
			w.waiters.Add(-1)
			w.passOn()
			return ErrClosed
		}
	}
}

// passOn wakes the next waiter while there is room for it.
func (w *window) passOn() {
	if w.waiters.Load() > 0 && w.n.Load() < w.max {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// release returns a slot and wakes a waiter.
func (w *window) release() {
	w.n.Add(-1)
	w.passOn()
}

// full reports whether every slot is taken.
func (w *window) full() bool { return w.n.Load() >= w.max }

// inFlight returns the number of slots taken.
func (w *window) inFlight() int { return int(max(w.n.Load(), 0)) }

package smpp

import (
	"context"
	"sync/atomic"
)

// window bounds the requests in flight. Taking and returning a slot are
// atomic operations; only a caller that finds the window full parks. To keep
// a window-bound producer from being woken (a context switch) for every
// single response, a release wakes a waiter only once a quarter of the window
// is free, or the window is empty; each woken waiter passes the wake-up on
// while room remains.
type window struct {
	n       atomic.Int32 // slots taken
	max     int32
	batch   int32
	waiters atomic.Int32
	wake    chan struct{}
}

func newWindow(size int) *window {
	w := &window{max: int32(size), batch: max(1, int32(size)/4), wake: make(chan struct{}, 1)}
	return w
}

// tryAcquire takes a slot if one is free.
func (w *window) tryAcquire() bool {
	if w.n.Add(1) <= w.max {
		return true
	}
	w.release(false)
	return false
}

// acquire takes a slot, waiting for one within ctx or until done closes.
func (w *window) acquire(ctx context.Context, done <-chan struct{}) error {
	for {
		if w.tryAcquire() {
			w.passOn()
			return nil
		}
		w.waiters.Add(1)
		// Re-check after announcing ourselves, or a release that came
		// in between would not know to wake us.
		if w.n.Load() < w.max {
			w.waiters.Add(-1)
			continue
		}
		select {
		case <-w.wake:
			w.waiters.Add(-1)
		case <-ctx.Done():
			w.waiters.Add(-1)
			w.passOn()
			return ctx.Err()
		case <-done:
			w.waiters.Add(-1)
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

// release returns a slot.
func (w *window) release(wake bool) {
	n := w.n.Add(-1)
	if !wake || w.waiters.Load() == 0 {
		return
	}
	if w.max-n >= w.batch || n == 0 {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// full reports whether every slot is taken.
func (w *window) full() bool { return w.n.Load() >= w.max }

// inFlight returns the number of slots taken.
func (w *window) inFlight() int { return int(max(w.n.Load(), 0)) }

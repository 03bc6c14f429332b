package gateway

import (
	"container/heap"
	"sync"
	"time"
)

// timers runs functions at given times on one goroutine: scheduled
// messages, retries. The functions must be quick (they hand work on).
type timers struct {
	mu   sync.Mutex
	h    timerHeap
	wake chan struct{}
	stop chan struct{}
	done chan struct{}
	seq  uint64
}

type timerEntry struct {
	at  time.Time
	seq uint64 // keeps entries with one time in the order they came
	fn  func()
}

type timerHeap []timerEntry

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = timerEntry{}
	*h = old[:len(old)-1]
	return e
}

func newTimers() *timers {
	t := &timers{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go t.run()
	return t
}

// at runs fn at (or soon after) when.
func (t *timers) at(when time.Time, fn func()) {
	t.mu.Lock()
	t.seq++
	heap.Push(&t.h, timerEntry{at: when, seq: t.seq, fn: fn})
	first := t.h[0].seq == t.seq
	t.mu.Unlock()
	if first {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

// len is the number of functions waiting.
func (t *timers) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.h)
}

func (t *timers) run() {
	defer close(t.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		t.mu.Lock()
		var due []func()
		now := time.Now()
		for len(t.h) > 0 && !t.h[0].at.After(now) {
			due = append(due, heap.Pop(&t.h).(timerEntry).fn)
		}
		next := time.Hour
		if len(t.h) > 0 {
			next = t.h[0].at.Sub(now)
		}
		t.mu.Unlock()
		for _, fn := range due {
			fn()
		}
		if len(due) > 0 {
			continue
		}
		timer.Reset(next)
		select {
		case <-timer.C:
		case <-t.wake:
			if !timer.Stop() {
				<-timer.C
			}
		case <-t.stop:
			return
		}
	}
}

func (t *timers) close() {
	close(t.stop)
	<-t.done
}

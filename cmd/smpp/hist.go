package main

import (
	"fmt"
	"math/bits"
	"sync/atomic"
	"time"
)

// hist is a lock-free log-linear latency histogram: 16 sub-buckets per power
// of two of nanoseconds, so a percentile is within about 6 % of the truth.
type hist struct {
	b   [64 * 16]atomic.Uint64
	n   atomic.Uint64
	max atomic.Int64
}

func (h *hist) add(d time.Duration) {
	ns := uint64(max(d, 1))
	e := bits.Len64(ns) - 1 // ns in [2^e, 2^(e+1))
	var sub uint64
	if e >= 4 {
		sub = (ns >> (e - 4)) & 15
	} else {
		sub = (ns << (4 - e)) & 15
	}
	h.b[e*16+int(sub)].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if int64(ns) <= m || h.max.CompareAndSwap(m, int64(ns)) {
			break
		}
	}
}

// merge adds o's counts to h (h is not being added to meanwhile).
func (h *hist) merge(o *hist) {
	for i := range o.b {
		if v := o.b[i].Load(); v != 0 {
			h.b[i].Add(v)
		}
	}
	h.n.Add(o.n.Load())
	if m := o.max.Load(); m > h.max.Load() {
		h.max.Store(m)
	}
}

// quantile returns the upper edge of the bucket holding quantile q.
func (h *hist) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	want := uint64(q*float64(n)) + 1
	var seen uint64
	for i := range h.b {
		seen += h.b[i].Load()
		if seen >= want {
			e, sub := i/16, uint64(i%16)
			var hi uint64
			if e >= 4 {
				hi = (1<<e + (sub+1)<<(e-4)) - 1
			} else {
				hi = uint64(1) << e
			}
			return min(time.Duration(hi), time.Duration(h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}

func (h *hist) summary() string {
	return fmt.Sprintf("p50=%v p90=%v p99=%v p99.9=%v max=%v",
		round(h.quantile(0.50)), round(h.quantile(0.90)), round(h.quantile(0.99)), round(h.quantile(0.999)), round(time.Duration(h.max.Load())))
}

func round(d time.Duration) time.Duration {
	switch {
	case d > 10*time.Millisecond:
		return d.Round(time.Millisecond)
	case d > 10*time.Microsecond:
		return d.Round(time.Microsecond)
	}
	return d
}

package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistQuantiles(t *testing.T) {
	var h hist
	var all []time.Duration
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100000; i++ {
		d := time.Duration(r.ExpFloat64() * float64(100*time.Microsecond))
		all = append(all, d)
		h.add(d)
	}
	slices.Sort(all)
	prev := time.Duration(0)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		got, want := h.quantile(q), all[int(q*float64(len(all)))]
		if got < prev {
			t.Fatalf("q%.3f = %v below the previous quantile %v", q, got, prev)
		}
		if float64(got) < float64(want)*0.99 || float64(got) > float64(want)*1.07 {
			t.Errorf("q%.3f = %v, want about %v", q, got, want)
		}
		prev = got
	}
}

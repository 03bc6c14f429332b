package smpp

import "testing"

func TestPendingCallsOverflow(t *testing.T) {
	p := newPendingCalls(2) // a ring of 8
	old := &call{seq: 3}
	p.put(old)
	// A call 8 numbers later lands on the same slot: it must go to the
	// overflow map and both stay reachable.
	later := &call{seq: 11}
	p.put(later)
	p.put(&call{seq: 4})
	if p.n != 3 || p.overflow[11] != later {
		t.Fatalf("n=%d overflow=%v", p.n, p.overflow)
	}
	if p.take(11) != later || p.take(3) != old || p.take(3) != nil || p.take(99) != nil {
		t.Fatal("take")
	}
	var seen []uint32
	p.each(func(c *call) { seen = append(seen, p.take(c.seq).seq) })
	if len(seen) != 1 || seen[0] != 4 || p.n != 0 {
		t.Fatalf("each saw %v, n=%d", seen, p.n)
	}
}

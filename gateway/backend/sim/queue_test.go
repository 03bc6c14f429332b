package sim

import (
	"math/rand/v2"
	"testing"
)

// TestQueueOrder pushes reports mostly in order (the FIFO, long enough to
// be compacted) and some not (the heap), popping as it goes, and checks
// that they come out in (due, push) order.
func TestQueueOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var q queue
	var ord uint64
	var last item
	popped, pushed := 0, 0
	pop := func() {
		p := *q.peek()
		it := q.pop()
		if it != p {
			t.Fatalf("popped %+v, peeked %+v", it, p)
		}
		if popped > 0 && less(&it, &last) {
			t.Fatalf("popped %+v after %+v", it, last)
		}
		last = it
		popped++
	}
	now := int64(0)
	for range 20000 {
		now += r.Int64N(3)
		due := now + 100
		if r.IntN(10) == 0 {
			due = now + r.Int64N(90) // before the FIFO's last: to the heap
		}
		if due < last.due {
			due = last.due // never in the past of what was popped
		}
		ord++
		q.push(item{due: due, ord: ord})
		pushed++
		for q.len() > 0 && q.peek().due <= now {
			pop()
		}
	}
	if len(q.heap) == 0 || q.head == 0 || cap(q.fifo) > 4096 {
		t.Fatalf("heap %d, fifo capacity %d: the test does not exercise both", len(q.heap), cap(q.fifo))
	}
	for q.len() > 0 {
		pop()
	}
	if popped != pushed {
		t.Fatalf("popped %d of %d", popped, pushed)
	}
	q.reset()
	if q.len() != 0 || q.peek() != nil {
		t.Fatal("reset left reports")
	}
}

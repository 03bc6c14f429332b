package gateway

import (
	"fmt"
	"testing"

	"github.com/smppkit/smpp/gateway/store"
)

func TestQueueServesHigherPriorityFirst(t *testing.T) {
	q := newQueue()
	push := func(id string, prio uint8) { q.push([]*store.Message{{ID: id, Priority: prio}}) }
	push("a0", 0)
	push("b1", 1)
	push("c0", 0)
	push("d3", 3)
	push("e1", 1)
	push("f9", 9) // (refused by the handler; a stored one goes as 3)
	push("g2", 2)
	if q.len() != 7 {
		t.Fatalf("len %d", q.len())
	}
	var got []string
	for q.len() > 0 {
		p, ok := q.pop()
		if !ok {
			t.Fatal("pop failed")
		}
		got = append(got, p[0].ID)
	}
	want := "[d3 f9 g2 b1 e1 a0 c0]"
	if fmt.Sprint(got) != want {
		t.Fatalf("order %v, want %s", got, want)
	}
	q.close()
	if _, ok := q.pop(); ok {
		t.Fatal("pop after close")
	}
}

// TestQueueCompacts: a level that is drained while pushed to keeps its
// order and does not grow without bound.
func TestQueueCompacts(t *testing.T) {
	q := newQueue()
	next := 0
	for i := range 5000 {
		q.push([]*store.Message{{ID: fmt.Sprint(i)}})
		if i%2 == 1 {
			p, _ := q.pop()
			if p[0].ID != fmt.Sprint(next) {
				t.Fatalf("got %s, want %d", p[0].ID, next)
			}
			next++
		}
	}
	if f := &q.levels[0]; len(f.items)-f.head != 2500 || cap(f.items) > 8192 {
		t.Fatalf("level holds %d (cap %d)", len(f.items)-f.head, cap(f.items))
	}
}

func BenchmarkQueue(b *testing.B) {
	q := newQueue()
	parts := [4][]*store.Message{}
	for i := range parts {
		parts[i] = []*store.Message{{Priority: uint8(i)}}
	}
	for i := 0; b.Loop(); i++ {
		q.push(parts[i&3])
		q.pop()
	}
}

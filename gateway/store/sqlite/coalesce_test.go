package sqlite

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/store"
)

func TestCoalesce(t *testing.T) {
	t0, t1, t2, t3 := testTime(0), testTime(1), testTime(2), testTime(3)
	msg := func(id string) *store.Message {
		return &store.Message{ID: id, Account: "acme", State: store.Accepted, SubmittedAt: t0, Body: []byte("old")}
	}
	del := func(id uint64) *store.Delivery { return &store.Delivery{ID: id, Account: "acme", CreatedAt: t0} }
	ev := func(st store.State, code uint16, at time.Time) store.Event {
		return store.Event{State: st, ErrorCode: code, At: at}
	}
	for _, tc := range []struct {
		name    string
		batches func() []*store.Batch
		want    func() *coalesced
	}{{
		name: "insert and updates: one message in its final state, with every event",
		batches: func() []*store.Batch {
			return []*store.Batch{
				{Messages: []*store.Message{msg("a")}},
				{Updates: []store.Update{{ID: "a", State: store.Enroute, BackendID: "be-1", Attempts: 1, At: t1}}},
				{Updates: []store.Update{
					{ID: "a", State: store.Undeliverable, ErrorCode: 9, Attempts: 2, At: t2},
					{ID: "a", State: store.Delivered, At: t3}, // final again: DoneAt stays
				}},
			}
		},
		want: func() *coalesced {
			m := msg("a")
			m.State, m.ErrorCode, m.BackendID, m.Attempts, m.UpdatedAt, m.DoneAt = store.Delivered, 0, "be-1", 0, t3, t2
			return &coalesced{
				msgs:   []*store.Message{m},
				events: [][]store.Event{{ev(store.Accepted, 0, t0), ev(store.Enroute, 0, t1), ev(store.Undeliverable, 9, t2), ev(store.Delivered, 0, t3)}},
			}
		},
	}, {
		name: "a change before the insert in the run is dropped",
		batches: func() []*store.Batch {
			return []*store.Batch{
				{Updates: []store.Update{{ID: "a", State: store.Delivered, At: t1}}, Replaces: []*store.Message{{ID: "a", Body: []byte("early")}}},
				{Messages: []*store.Message{msg("a")}},
				{Updates: []store.Update{{ID: "a", State: store.Enroute, At: t2}}},
			}
		},
		want: func() *coalesced {
			m := msg("a")
			m.State, m.UpdatedAt = store.Enroute, t2
			return &coalesced{
				msgs:   []*store.Message{m},
				events: [][]store.Event{{ev(store.Accepted, 0, t0), ev(store.Enroute, 0, t2)}},
			}
		},
	}, {
		name: "a replace of a new message is folded in; its state stays",
		batches: func() []*store.Batch {
			r := msg("a")
			r.Body, r.Dest, r.ScheduleAt, r.State, r.BackendID = []byte("new"), store.Address{TON: 1, Addr: "44"}, t3, store.Rejected, "no"
			return []*store.Batch{
				{Messages: []*store.Message{msg("a")}},
				{Replaces: []*store.Message{r}},
			}
		},
		want: func() *coalesced {
			m := msg("a")
			m.Body, m.Dest, m.ScheduleAt = []byte("new"), store.Address{TON: 1, Addr: "44"}, t3
			return &coalesced{msgs: []*store.Message{m}, events: [][]store.Event{{ev(store.Accepted, 0, t0)}}}
		},
	}, {
		name: "changes of stored messages are kept, in order",
		batches: func() []*store.Batch {
			return []*store.Batch{
				{Updates: []store.Update{{ID: "s1", State: store.Enroute, At: t1}, {ID: "s2", State: store.Enroute, At: t1}}},
				{Replaces: []*store.Message{{ID: "s2", Body: []byte("1")}}, Updates: []store.Update{{ID: "s1", State: store.Delivered, At: t2}}},
				{Messages: []*store.Message{msg("n")}, Replaces: []*store.Message{{ID: "s2", Body: []byte("2")}}, Updates: []store.Update{{ID: "s2", State: store.Expired, At: t3}}},
			}
		},
		want: func() *coalesced {
			return &coalesced{
				msgs:     []*store.Message{msg("n")},
				events:   [][]store.Event{{ev(store.Accepted, 0, t0)}},
				replaces: []*store.Message{{ID: "s2", Body: []byte("1")}, {ID: "s2", Body: []byte("2")}},
				updates: []store.Update{
					{ID: "s1", State: store.Enroute, At: t1}, {ID: "s2", State: store.Enroute, At: t1},
					{ID: "s1", State: store.Delivered, At: t2}, {ID: "s2", State: store.Expired, At: t3},
				},
			}
		},
	}, {
		name: "a delivery inserted and done in the run is never written",
		batches: func() []*store.Batch {
			return []*store.Batch{
				{Deliveries: []*store.Delivery{del(1), del(2)}},
				{Retries: []store.DeliveryRetry{{ID: 1, Attempts: 1, NextAttempt: t1}}},
				{Done: []uint64{1}},
			}
		},
		want: func() *coalesced { return &coalesced{dels: []*store.Delivery{del(2)}} },
	}, {
		name: "inserted and done in one batch",
		batches: func() []*store.Batch {
			return []*store.Batch{{Deliveries: []*store.Delivery{del(1)}, Done: []uint64{1}}}
		},
		want: func() *coalesced { return &coalesced{} },
	}, {
		name: "a stored delivery done, then its id inserted again: done listed, and inserted",
		batches: func() []*store.Batch {
			return []*store.Batch{
				{Done: []uint64{5}},
				{Deliveries: []*store.Delivery{del(5)}},
			}
		},
		want: func() *coalesced { return &coalesced{done: []uint64{5}, dels: []*store.Delivery{del(5)}} },
	}, {
		name: "stored, done, inserted, done: done listed once, nothing inserted",
		batches: func() []*store.Batch {
			return []*store.Batch{
				{Done: []uint64{5}},
				{Deliveries: []*store.Delivery{del(5)}},
				{Done: []uint64{5}},
			}
		},
		want: func() *coalesced { return &coalesced{done: []uint64{5}} },
	}, {
		name: "inserted, done, inserted again: the second one is written",
		batches: func() []*store.Batch {
			d := del(5)
			d.Body = []byte("second")
			return []*store.Batch{
				{Deliveries: []*store.Delivery{del(5)}},
				{Done: []uint64{5}},
				{Deliveries: []*store.Delivery{d}},
			}
		},
		want: func() *coalesced {
			d := del(5)
			d.Body = []byte("second")
			return &coalesced{dels: []*store.Delivery{d}}
		},
	}, {
		name: "retries are folded into new deliveries; those of stored ones kept in order",
		batches: func() []*store.Batch {
			return []*store.Batch{
				{Deliveries: []*store.Delivery{del(1)}, Retries: []store.DeliveryRetry{{ID: 9, Attempts: 1, NextAttempt: t1}}},
				{Retries: []store.DeliveryRetry{{ID: 1, Attempts: 1, NextAttempt: t1}, {ID: 8, Attempts: 4, NextAttempt: t2}}},
				{Retries: []store.DeliveryRetry{{ID: 1, Attempts: 2, NextAttempt: t2}, {ID: 9, Attempts: 2, NextAttempt: t3}}},
			}
		},
		want: func() *coalesced {
			d := del(1)
			d.Attempts, d.NextAttempt = 2, t2
			return &coalesced{
				dels:    []*store.Delivery{d},
				retries: []store.DeliveryRetry{{ID: 9, Attempts: 1, NextAttempt: t1}, {ID: 8, Attempts: 4, NextAttempt: t2}, {ID: 9, Attempts: 2, NextAttempt: t3}},
			}
		},
	}, {
		name: "new messages and deliveries keep the log's order",
		batches: func() []*store.Batch {
			return []*store.Batch{
				{Messages: []*store.Message{msg("c"), msg("a")}, Deliveries: []*store.Delivery{del(3), del(1)}},
				{Messages: []*store.Message{msg("b")}, Deliveries: []*store.Delivery{del(2)}},
			}
		},
		want: func() *coalesced {
			e := []store.Event{ev(store.Accepted, 0, t0)}
			return &coalesced{
				msgs:   []*store.Message{msg("c"), msg("a"), msg("b")},
				events: [][]store.Event{e, e, e},
				dels:   []*store.Delivery{del(3), del(1), del(2)},
			}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, want := coalesce(tc.batches()), tc.want()
			if !reflect.DeepEqual(normCoalesced(got), normCoalesced(want)) {
				t.Errorf("got\n%s\nwant\n%s", dumpCoalesced(got), dumpCoalesced(want))
			}
		})
	}
}

// normCoalesced makes empty slices nil, so that DeepEqual compares content.
func normCoalesced(c *coalesced) *coalesced {
	n := *c
	if len(n.msgs) == 0 {
		n.msgs = nil
	}
	if len(n.events) == 0 {
		n.events = nil
	}
	if len(n.replaces) == 0 {
		n.replaces = nil
	}
	if len(n.updates) == 0 {
		n.updates = nil
	}
	if len(n.retries) == 0 {
		n.retries = nil
	}
	if len(n.done) == 0 {
		n.done = nil
	}
	if len(n.dels) == 0 {
		n.dels = nil
	}
	return &n
}

func dumpCoalesced(c *coalesced) string {
	var b strings.Builder
	for i, m := range c.msgs {
		fmt.Fprintf(&b, "msg %+v\n", *m)
		for _, e := range c.events[i] {
			fmt.Fprintf(&b, "  event %v %d %v\n", e.State, e.ErrorCode, e.At)
		}
	}
	for _, r := range c.replaces {
		fmt.Fprintf(&b, "replace %+v\n", *r)
	}
	for _, u := range c.updates {
		fmt.Fprintf(&b, "update %+v\n", u)
	}
	for _, d := range c.dels {
		fmt.Fprintf(&b, "delivery %+v\n", *d)
	}
	fmt.Fprintf(&b, "retries %+v\ndone %v\n", c.retries, c.done)
	return b.String()
}

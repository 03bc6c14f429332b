// Package storetest is the conformance suite every store.Store runs, so that
// the gateway can rely on one behaviour whatever keeps its messages.
//
// A store's tests call Run (and RunDurable for a store that outlives its
// process). The suite checks, beyond what store.Store's comments say:
//
//   - every field of Message and Delivery round-trips; times to within a
//     millisecond (a zero time stays zero), and a nil or empty Body or TLVs
//     may come back as either nil or empty;
//   - a batch with a failing part (an id already stored, or repeated in the
//     batch) fails as a whole and changes nothing;
//   - the parts of a batch apply in order (store.Batch), and Update sets
//     UpdatedAt and DoneAt as store.Update says;
//   - a Replace changes exactly the fields store.Replace copies, and one for
//     an unknown id is ignored;
//   - Find's Before naming an unknown message returns nothing (no error);
//   - Apply with a context already cancelled fails and changes nothing;
//   - after Close, Ping fails, and a second Close does not panic.
//
// Stores are opened afresh for each subtest and closed by the suite when the
// subtest ends.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/store"
)

// Run runs the conformance suite on the stores open returns, one fresh
// empty store per subtest.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"NoAliasing", testNoAliasing},
		{"Updates", testUpdates},
		{"UpdateOrder", testUpdateOrder},
		{"Replaces", testReplaces},
		{"Deliveries", testDeliveries},
		{"UnknownIDsIgnored", testUnknownIDs},
		{"DuplicateMessage", testDuplicateMessage},
		{"DuplicateDelivery", testDuplicateDelivery},
		{"EmptyBatch", testEmptyBatch},
		{"CancelledContext", testCancelled},
		{"NotFound", testNotFound},
		{"Find", testFind},
		{"FindLimit", testFindLimit},
		{"FindPaging", testFindPaging},
		{"Unfinished", testUnfinished},
		{"CallbackError", testCallbackError},
		{"NextEpoch", testNextEpoch},
		{"PingClose", testPingClose},
		{"Concurrent", testConcurrent},
		{"BigBatch", testBigBatch},
		{"History", testHistory},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s)
		})
	}
}

// RunDurable runs Run on stores kept in fresh directories, then checks what
// must survive closing and reopening a store on the same directory: every
// message and delivery, and NextEpoch's order. open must return a store
// kept in dir, reopening what is there.
func RunDurable(t *testing.T, open func(t *testing.T, dir string) store.Store) {
	Run(t, func(t *testing.T) store.Store { return open(t, t.TempDir()) })
	t.Run("Reopen", func(t *testing.T) {
		dir := t.TempDir()
		s := open(t, dir)
		m1, m2 := fullMessage("reopen-1"), fullMessage("reopen-2")
		d := fullDelivery(71)
		mustApply(t, s, &store.Batch{Messages: []*store.Message{m1, m2}, Deliveries: []*store.Delivery{d}})
		u := store.Update{ID: m2.ID, State: store.Delivered, At: m2.SubmittedAt.Add(time.Second)}
		mustApply(t, s, &store.Batch{Updates: []store.Update{u}})
		e1 := mustEpoch(t, s)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}

		s = open(t, dir)
		t.Cleanup(func() { s.Close() })
		checkMessage(t, s, m1)
		updateModel(m2, u)
		checkMessage(t, s, m2)
		checkDeliveries(t, s, []*store.Delivery{d})
		checkUnfinished(t, s, []*store.Message{m1})
		if e2 := mustEpoch(t, s); e2 <= e1 {
			t.Errorf("NextEpoch after reopen = %d, want > %d", e2, e1)
		}
	})
	t.Run("EpochAcrossReopens", func(t *testing.T) {
		dir := t.TempDir()
		var last uint32
		for range 3 {
			s := open(t, dir)
			for range 2 {
				e := mustEpoch(t, s)
				if e <= last {
					t.Fatalf("NextEpoch = %d after %d", e, last)
				}
				last = e
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
	})
}

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)

// fullMessage returns a message with every field set, distinct per id.
func fullMessage(id string) *store.Message {
	h := byte(len(id))
	for _, c := range []byte(id) {
		h = h*31 + c
	}
	loc := time.FixedZone("X", 5*3600+1800)
	return &store.Message{
		ID:                 id,
		Account:            "acct-" + id,
		Route:              "route-" + id,
		Source:             store.Address{TON: 5, NPI: 0, Addr: "SRC" + id},
		Dest:               store.Address{TON: 1, NPI: 1, Addr: "4470" + id},
		ServiceType:        "CMT",
		ESMClass:           0x40,
		ProtocolID:         0x7f,
		Priority:           3,
		RegisteredDelivery: 0x11,
		DataCoding:         8,
		Body:               []byte{0x05, 0x00, 0x03, h, 2, 1, 0x00, 'h', 0x00, 'i', 0xff, 0x00},
		TLVs:               []byte{0x14, 0x27, 0x00, 0x01, h, 0x00, 0x00},
		Group:              "grp-" + id,
		Part:               1,
		Parts:              2,
		SubmittedAt:        t0.Add(time.Duration(h) * time.Millisecond),
		ScheduleAt:         t0.Add(time.Hour).In(loc),
		ExpireAt:           time.Date(2199, 12, 31, 23, 59, 59, 999000000, time.UTC),
		State:              store.Enroute,
		ErrorCode:          0xfffe,
		DoneAt:             time.Time{},
		BackendID:          "be-" + id,
		Attempts:           1 << 20,
		UpdatedAt:          t0.Add(2 * time.Second),
	}
}

func fullDelivery(id uint64) *store.Delivery {
	return &store.Delivery{
		ID:          id,
		Account:     fmt.Sprint("acct-", id),
		Kind:        store.Receipt,
		Source:      store.Address{TON: 1, NPI: 1, Addr: fmt.Sprint("447", id)},
		Dest:        store.Address{TON: 5, NPI: 9, Addr: "INFO"},
		ESMClass:    0x04,
		DataCoding:  3,
		Body:        []byte(fmt.Sprint("id:", id, " sub:001 dlvrd:001 stat:DELIVRD err:000 text:\xe9")),
		TLVs:        []byte{0x04, 0x27, 0x00, 0x01, 0x02},
		MessageID:   fmt.Sprint("msg-", id),
		State:       store.Delivered,
		ErrorCode:   0x1234,
		CreatedAt:   t0.Add(time.Duration(id) * time.Microsecond),
		Attempts:    7,
		NextAttempt: time.Date(1971, 2, 3, 4, 5, 6, 7000000, time.UTC),
	}
}

func mustApply(t *testing.T, s store.Store, b *store.Batch) {
	t.Helper()
	if err := s.Apply(context.Background(), b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func mustEpoch(t *testing.T, s store.Store) uint32 {
	t.Helper()
	e, err := s.NextEpoch(context.Background())
	if err != nil {
		t.Fatalf("NextEpoch: %v", err)
	}
	return e
}

// sameTime reports whether a store kept t: to the millisecond, zero as
// zero.
func sameTime(got, want time.Time) bool {
	if want.IsZero() || got.IsZero() {
		return want.IsZero() == got.IsZero()
	}
	return got.Sub(want).Abs() < time.Millisecond
}

// messageDiff describes how got differs from want ("" if it does not).
func messageDiff(got, want *store.Message) string {
	var d []string
	add := func(field string, g, w any) { d = append(d, fmt.Sprintf("%s = %v, want %v", field, g, w)) }
	g, w := *got, *want
	for _, f := range []struct {
		name string
		g, w *time.Time
	}{{"SubmittedAt", &g.SubmittedAt, &w.SubmittedAt}, {"ScheduleAt", &g.ScheduleAt, &w.ScheduleAt},
		{"ExpireAt", &g.ExpireAt, &w.ExpireAt}, {"DoneAt", &g.DoneAt, &w.DoneAt}, {"UpdatedAt", &g.UpdatedAt, &w.UpdatedAt}} {
		if !sameTime(*f.g, *f.w) {
			add(f.name, *f.g, *f.w)
		}
		*f.g, *f.w = time.Time{}, time.Time{}
	}
	if !bytes.Equal(g.Body, w.Body) {
		add("Body", g.Body, w.Body)
	}
	if !bytes.Equal(g.TLVs, w.TLVs) {
		add("TLVs", g.TLVs, w.TLVs)
	}
	g.Body, w.Body, g.TLVs, w.TLVs = nil, nil, nil, nil
	if !reflect.DeepEqual(g, w) {
		add("other fields", fmt.Sprintf("%+v", g), fmt.Sprintf("%+v", w))
	}
	return strings.Join(d, "; ")
}

func deliveryDiff(got, want *store.Delivery) string {
	var d []string
	add := func(field string, g, w any) { d = append(d, fmt.Sprintf("%s = %v, want %v", field, g, w)) }
	g, w := *got, *want
	if !sameTime(g.CreatedAt, w.CreatedAt) {
		add("CreatedAt", g.CreatedAt, w.CreatedAt)
	}
	if !sameTime(g.NextAttempt, w.NextAttempt) {
		add("NextAttempt", g.NextAttempt, w.NextAttempt)
	}
	if !bytes.Equal(g.Body, w.Body) {
		add("Body", g.Body, w.Body)
	}
	if !bytes.Equal(g.TLVs, w.TLVs) {
		add("TLVs", g.TLVs, w.TLVs)
	}
	g.CreatedAt, w.CreatedAt, g.NextAttempt, w.NextAttempt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	g.Body, w.Body, g.TLVs, w.TLVs = nil, nil, nil, nil
	if !reflect.DeepEqual(g, w) {
		add("other fields", fmt.Sprintf("%+v", g), fmt.Sprintf("%+v", w))
	}
	return strings.Join(d, "; ")
}

func checkMessage(t *testing.T, s store.Store, want *store.Message) {
	t.Helper()
	got, err := s.Message(context.Background(), want.ID)
	if err != nil {
		t.Fatalf("Message(%q): %v", want.ID, err)
	}
	if d := messageDiff(got, want); d != "" {
		t.Errorf("Message(%q): %s", want.ID, d)
	}
}

func checkAbsent(t *testing.T, s store.Store, id string) {
	t.Helper()
	if m, err := s.Message(context.Background(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Message(%q) = %v, %v; want ErrNotFound", id, m, err)
	}
}

func allDeliveries(t *testing.T, s store.Store) []*store.Delivery {
	t.Helper()
	var got []*store.Delivery
	if err := s.Deliveries(context.Background(), func(d *store.Delivery) error {
		got = append(got, d)
		return nil
	}); err != nil {
		t.Fatalf("Deliveries: %v", err)
	}
	return got
}

func checkDeliveries(t *testing.T, s store.Store, want []*store.Delivery) {
	t.Helper()
	got := allDeliveries(t, s)
	if len(got) != len(want) {
		t.Fatalf("Deliveries gave %d, want %d (%v)", len(got), len(want), deliveryIDs(got))
	}
	for i := range got {
		if d := deliveryDiff(got[i], want[i]); d != "" {
			t.Errorf("Deliveries[%d] (id %d): %s", i, want[i].ID, d)
		}
	}
}

func deliveryIDs(ds []*store.Delivery) []uint64 {
	ids := make([]uint64, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	return ids
}

func messageIDs(ms []*store.Message) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

func checkUnfinished(t *testing.T, s store.Store, want []*store.Message) {
	t.Helper()
	var got []*store.Message
	if err := s.Unfinished(context.Background(), func(m *store.Message) error {
		got = append(got, m)
		return nil
	}); err != nil {
		t.Fatalf("Unfinished: %v", err)
	}
	if g, w := messageIDs(got), messageIDs(want); !slices.Equal(g, w) {
		t.Fatalf("Unfinished gave %q, want %q", g, w)
	}
	for i := range got {
		if d := messageDiff(got[i], want[i]); d != "" {
			t.Errorf("Unfinished[%d] (%s): %s", i, want[i].ID, d)
		}
	}
}

// updateModel applies u to m as store.Update says a store does.
func updateModel(m *store.Message, u store.Update) {
	m.State, m.ErrorCode, m.Attempts, m.UpdatedAt = u.State, u.ErrorCode, u.Attempts, u.At
	if u.BackendID != "" {
		m.BackendID = u.BackendID
	}
	if u.State.Final() && m.DoneAt.IsZero() {
		m.DoneAt = u.At
	}
}

func cloneMessage(m *store.Message) *store.Message {
	c := *m
	c.Body, c.TLVs = slices.Clone(m.Body), slices.Clone(m.TLVs)
	return &c
}

func testRoundTrip(t *testing.T, s store.Store) {
	full := fullMessage("rt-full")
	done := fullMessage("rt-done")
	done.State, done.DoneAt = store.Undeliverable, t0.Add(3*time.Second)
	// The zero message but for its id: every field at its zero value.
	zero := &store.Message{ID: "rt-zero"}
	empty := &store.Message{ID: "rt-empty", Body: []byte{}, TLVs: []byte{}}
	// Odd text: NUL, non-UTF-8 and non-ASCII must survive in strings too.
	odd := fullMessage("rt-odd")
	odd.Account, odd.BackendID, odd.Source.Addr = "a\x00b", "\xff\xfe", "Ünïcødé ☃"
	odd.SubmittedAt = time.Date(1999, 12, 31, 23, 59, 59, 1000000, time.UTC)
	want := []*store.Message{full, done, zero, empty, odd}
	var in []*store.Message
	for _, m := range want {
		in = append(in, cloneMessage(m))
	}
	dFull := fullDelivery(1<<63 + 5) // above int64: a store must keep all 64 bits
	dFull.CreatedAt = t0.Add(time.Hour)
	dZero := &store.Delivery{ID: 0}
	dMO := fullDelivery(9)
	dMO.Kind, dMO.MessageID, dMO.State, dMO.NextAttempt = store.MO, "", 0, time.Time{}
	mustApply(t, s, &store.Batch{Messages: in, Deliveries: []*store.Delivery{dFull, dZero, dMO}})
	for _, m := range want {
		checkMessage(t, s, m)
	}
	// Oldest first: dZero (zero CreatedAt), then by CreatedAt.
	checkDeliveries(t, s, []*store.Delivery{dZero, dMO, dFull})
}

func testNoAliasing(t *testing.T, s store.Store) {
	m := fullMessage("alias")
	want := cloneMessage(m)
	d := fullDelivery(3)
	wantD := *d
	wantD.Body = slices.Clone(d.Body)
	mustApply(t, s, &store.Batch{Messages: []*store.Message{m}, Deliveries: []*store.Delivery{d}})
	// Changing what was applied changes nothing stored.
	m.Body[0], m.TLVs[0], m.Account = 'X', 'X', "changed"
	d.Body[0], d.Account = 'X', "changed"
	checkMessage(t, s, want)
	checkDeliveries(t, s, []*store.Delivery{&wantD})
	// Nor does changing what a read returned.
	got, err := s.Message(context.Background(), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.Body[0], got.TLVs[0], got.State = 'Y', 'Y', store.Rejected
	checkMessage(t, s, want)
	found, err := s.Find(context.Background(), store.Filter{})
	if err != nil || len(found) != 1 {
		t.Fatalf("Find = %v, %v", found, err)
	}
	found[0].Body[1] = 'Z'
	checkMessage(t, s, want)
	for _, d := range allDeliveries(t, s) {
		d.Body[0] = 'Y'
	}
	checkDeliveries(t, s, []*store.Delivery{&wantD})
}

func testUpdates(t *testing.T, s store.Store) {
	a, b, c := fullMessage("up-a"), fullMessage("up-b"), fullMessage("up-c")
	mustApply(t, s, &store.Batch{Messages: []*store.Message{cloneMessage(a), cloneMessage(b), cloneMessage(c)}})

	at := t0.Add(time.Minute)
	ua := store.Update{ID: a.ID, State: store.Enroute, ErrorCode: 0, BackendID: "", Attempts: 2, At: at}
	ub := store.Update{ID: b.ID, State: store.Delivered, ErrorCode: 0x0b, BackendID: "carrier-7", Attempts: 0, At: at.Add(time.Millisecond)}
	mustApply(t, s, &store.Batch{Updates: []store.Update{ua, ub}})
	updateModel(a, ua)
	updateModel(b, ub)
	if a.BackendID != "be-up-a" || !a.DoneAt.IsZero() || b.BackendID != "carrier-7" || !b.DoneAt.Equal(ub.At) {
		t.Fatal("updateModel is wrong") // the suite checks itself
	}
	checkMessage(t, s, a)
	checkMessage(t, s, b)
	checkMessage(t, s, c)

	// A second final state keeps the first DoneAt.
	ub2 := store.Update{ID: b.ID, State: store.Expired, ErrorCode: 1, At: at.Add(time.Hour)}
	mustApply(t, s, &store.Batch{Updates: []store.Update{ub2}})
	updateModel(b, ub2)
	if !b.DoneAt.Equal(ub.At) {
		t.Fatal("updateModel is wrong")
	}
	checkMessage(t, s, b)
}

func testUpdateOrder(t *testing.T, s store.Store) {
	// One batch inserts a message and moves it on twice: the last update
	// wins, and the final one sets DoneAt.
	m := fullMessage("order")
	want := cloneMessage(m)
	u1 := store.Update{ID: m.ID, State: store.Enroute, BackendID: "b1", Attempts: 1, At: t0.Add(time.Second)}
	u2 := store.Update{ID: m.ID, State: store.Delivered, Attempts: 1, At: t0.Add(2 * time.Second)}
	u3 := store.Update{ID: m.ID, State: store.Delivered, ErrorCode: 5, Attempts: 3, At: t0.Add(3 * time.Second)}
	mustApply(t, s, &store.Batch{Messages: []*store.Message{m}, Updates: []store.Update{u1, u2, u3}})
	for _, u := range []store.Update{u1, u2, u3} {
		updateModel(want, u)
	}
	checkMessage(t, s, want)
	if !want.DoneAt.Equal(u2.At) || want.BackendID != "b1" {
		t.Fatal("updateModel is wrong")
	}
}

func testReplaces(t *testing.T, s store.Store) {
	a, b := fullMessage("rp-a"), fullMessage("rp-b")
	mustApply(t, s, &store.Batch{Messages: []*store.Message{cloneMessage(a), cloneMessage(b)}})

	// The replacement's content fields land; everything else (account,
	// route, state, times of record, backend id, attempts) stays.
	r := fullMessage("other")
	r.ID = a.ID
	r.Account, r.Route, r.State, r.BackendID, r.Attempts = "x", "y", store.Delivered, "z", 9
	r.SubmittedAt, r.DoneAt, r.UpdatedAt = t0.Add(time.Hour), t0.Add(time.Hour), t0.Add(time.Hour)
	r.Body, r.TLVs, r.ScheduleAt, r.ExpireAt = []byte("new text"), nil, time.Time{}, t0.Add(48*time.Hour)
	r.RegisteredDelivery, r.Priority, r.Parts, r.Group = 1, 0, 0, ""
	// A replace, then an update of the same message, in one batch with an
	// insert: they apply in order (Messages, Replaces, Updates).
	c := fullMessage("rp-c")
	rc := cloneMessage(c)
	rc.Body = []byte("c again")
	u := store.Update{ID: a.ID, State: store.Scheduled, Attempts: 1, At: t0.Add(time.Minute)}
	mustApply(t, s, &store.Batch{Messages: []*store.Message{cloneMessage(c)}, Replaces: []*store.Message{cloneMessage(r), rc, fullMessage("rp-unknown")},
		Updates: []store.Update{u}})
	store.Replace(a, r)
	updateModel(a, u)
	store.Replace(c, rc)
	checkMessage(t, s, a)
	checkMessage(t, s, b)
	checkMessage(t, s, c)
	checkAbsent(t, s, "rp-unknown")
	if got, _ := s.Message(context.Background(), a.ID); got == nil || string(got.Body) != "new text" || got.Account != "acct-rp-a" {
		t.Fatalf("replaced message: %+v", got)
	}
}

func testDeliveries(t *testing.T, s store.Store) {
	d1, d2, d3, d4 := fullDelivery(10), fullDelivery(11), fullDelivery(12), fullDelivery(13)
	// d2 is the oldest; d3 and d4 share a CreatedAt and go by id.
	d2.CreatedAt = t0.Add(-time.Hour)
	d4.CreatedAt = d3.CreatedAt
	mustApply(t, s, &store.Batch{Deliveries: []*store.Delivery{d4, d3, d1, d2}})
	checkDeliveries(t, s, []*store.Delivery{d2, d1, d3, d4})

	r := store.DeliveryRetry{ID: 11, Attempts: 8, NextAttempt: t0.Add(time.Hour)}
	mustApply(t, s, &store.Batch{Retries: []store.DeliveryRetry{r}, Done: []uint64{12}})
	d2.Attempts, d2.NextAttempt = r.Attempts, r.NextAttempt
	checkDeliveries(t, s, []*store.Delivery{d2, d1, d4})

	// In one batch: insert, retry and finish a delivery; retry another.
	d5 := fullDelivery(14)
	r4 := store.DeliveryRetry{ID: 13, Attempts: 1, NextAttempt: time.Time{}}
	mustApply(t, s, &store.Batch{
		Deliveries: []*store.Delivery{d5},
		Retries:    []store.DeliveryRetry{{ID: 14, Attempts: 1}, r4},
		Done:       []uint64{14, 10},
	})
	d4.Attempts, d4.NextAttempt = r4.Attempts, r4.NextAttempt
	checkDeliveries(t, s, []*store.Delivery{d2, d4})

	// A done delivery's id is free again.
	mustApply(t, s, &store.Batch{Deliveries: []*store.Delivery{d1}})
	checkDeliveries(t, s, []*store.Delivery{d2, d1, d4})
}

func testUnknownIDs(t *testing.T, s store.Store) {
	m := fullMessage("known")
	d := fullDelivery(1)
	mustApply(t, s, &store.Batch{Messages: []*store.Message{cloneMessage(m)}, Deliveries: []*store.Delivery{d}})
	mustApply(t, s, &store.Batch{
		Updates: []store.Update{{ID: "unknown", State: store.Delivered, At: t0}},
		Retries: []store.DeliveryRetry{{ID: 2, Attempts: 3}},
		Done:    []uint64{3, 4},
	})
	checkMessage(t, s, m)
	checkAbsent(t, s, "unknown")
	checkDeliveries(t, s, []*store.Delivery{d})
}

// checkUnchanged checks the batch that failed left the store as before:
// m stored as it was, d the only delivery, nothing of the batch present.
func checkUnchanged(t *testing.T, s store.Store, m *store.Message, d *store.Delivery, absent ...string) {
	t.Helper()
	checkMessage(t, s, m)
	checkDeliveries(t, s, []*store.Delivery{d})
	for _, id := range absent {
		checkAbsent(t, s, id)
	}
	checkUnfinished(t, s, []*store.Message{m})
	found, err := s.Find(context.Background(), store.Filter{})
	if err != nil || len(found) != 1 {
		t.Errorf("Find after a failed batch = %q, %v; want only %s", messageIDs(found), err, m.ID)
	}
}

// failingBatch returns a batch that does a little of everything to m and
// d, plus new messages and a delivery, and that must fail as a whole.
func failingBatch(m *store.Message, d *store.Delivery) *store.Batch {
	return &store.Batch{
		Messages:   []*store.Message{fullMessage("new-1"), fullMessage("new-2")},
		Updates:    []store.Update{{ID: m.ID, State: store.Delivered, At: t0}},
		Deliveries: []*store.Delivery{fullDelivery(500)},
		Retries:    []store.DeliveryRetry{{ID: d.ID, Attempts: 99}},
		Done:       []uint64{d.ID},
	}
}

func testDuplicateMessage(t *testing.T, s store.Store) {
	m := fullMessage("dup")
	d := fullDelivery(1)
	mustApply(t, s, &store.Batch{Messages: []*store.Message{cloneMessage(m)}, Deliveries: []*store.Delivery{d}})

	// Repeated within the batch.
	b := failingBatch(m, d)
	b.Messages = append(b.Messages, fullMessage("new-1"))
	if err := s.Apply(context.Background(), b); err == nil {
		t.Fatal("Apply with a message id twice in the batch succeeded")
	}
	checkUnchanged(t, s, m, d, "new-1", "new-2")

	// Already stored (placed last, after many that would succeed, so that
	// a store writing in chunks has written some before it fails).
	b = failingBatch(m, d)
	absent := []string{"new-1", "new-2"}
	for i := range 150 {
		id := fmt.Sprintf("new-more-%d", i)
		b.Messages = append(b.Messages, fullMessage(id))
		absent = append(absent, id)
	}
	other := fullMessage(m.ID)
	other.Account = "someone else"
	b.Messages = append(b.Messages, other)
	if err := s.Apply(context.Background(), b); err == nil {
		t.Fatal("Apply with a message id already stored succeeded")
	}
	checkUnchanged(t, s, m, d, absent...)

	// The store still works after failed batches.
	mustApply(t, s, &store.Batch{Messages: []*store.Message{fullMessage("new-1")}})
	checkMessage(t, s, fullMessage("new-1"))
}

func testDuplicateDelivery(t *testing.T, s store.Store) {
	m := fullMessage("dupd")
	d := fullDelivery(1)
	mustApply(t, s, &store.Batch{Messages: []*store.Message{cloneMessage(m)}, Deliveries: []*store.Delivery{d}})

	b := failingBatch(m, d)
	b.Deliveries = append(b.Deliveries, fullDelivery(500))
	if err := s.Apply(context.Background(), b); err == nil {
		t.Fatal("Apply with a delivery id twice in the batch succeeded")
	}
	checkUnchanged(t, s, m, d, "new-1", "new-2")

	b = failingBatch(m, d)
	b.Done = nil // else the stored delivery would be gone by the time it is repeated
	b.Deliveries = append(b.Deliveries, fullDelivery(d.ID))
	if err := s.Apply(context.Background(), b); err == nil {
		t.Fatal("Apply with a delivery id already stored succeeded")
	}
	checkUnchanged(t, s, m, d, "new-1", "new-2")
}

func testEmptyBatch(t *testing.T, s store.Store) {
	mustApply(t, s, &store.Batch{})
	found, err := s.Find(context.Background(), store.Filter{})
	if err != nil || len(found) != 0 {
		t.Fatalf("Find on an empty store = %v, %v", found, err)
	}
	checkUnfinished(t, s, nil)
	checkDeliveries(t, s, nil)
}

func testCancelled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Apply(ctx, &store.Batch{Messages: []*store.Message{fullMessage("cancelled")}, Deliveries: []*store.Delivery{fullDelivery(1)}})
	if err == nil {
		t.Fatal("Apply with a cancelled context succeeded")
	}
	checkAbsent(t, s, "cancelled")
	checkDeliveries(t, s, nil)
}

func testNotFound(t *testing.T, s store.Store) {
	checkAbsent(t, s, "nothing")
	checkAbsent(t, s, "")
	mustApply(t, s, &store.Batch{Messages: []*store.Message{fullMessage("something")}})
	checkAbsent(t, s, "nothing")
	checkAbsent(t, s, "somethin")
	checkAbsent(t, s, "something ")
}

// findSet stores a varied set of messages for the Find tests and returns
// them. Several share a SubmittedAt, so the id decides their order.
func findSet(t *testing.T, s store.Store) []*store.Message {
	accounts := []string{"alice", "bob", "carol"}
	sources := []string{"INFO", "447700900001", "BANK"}
	dests := []string{"447700900123", "447700900456", "33612345678", "4915112345678"}
	services := []string{"", "CMT", "WAP"}
	states := []store.State{store.Accepted, store.Enroute, store.Delivered, store.Undeliverable, store.Scheduled, store.Unknown, store.Rejected}
	var all []*store.Message
	for i := range 60 {
		m := &store.Message{
			ID:          fmt.Sprintf("f%03d", (i*37)%60), // ids not in submission order
			Account:     accounts[i%len(accounts)],
			Source:      store.Address{TON: 5, Addr: sources[i%len(sources)]},
			Dest:        store.Address{TON: 1, NPI: 1, Addr: dests[i%len(dests)]},
			ServiceType: services[i%len(services)],
			State:       states[i%len(states)],
			Body:        []byte{byte(i)},
			// Groups of three share a time.
			SubmittedAt: t0.Add(time.Duration(i/3) * time.Second),
		}
		all = append(all, m)
	}
	// Apply in a few batches of mixed order.
	for i := 0; i < len(all); i += 25 {
		part := slices.Clone(all[i:min(i+25, len(all))])
		slices.Reverse(part)
		var b store.Batch
		for _, m := range part {
			b.Messages = append(b.Messages, cloneMessage(m))
		}
		mustApply(t, s, &b)
	}
	return all
}

// model returns the ids Find(f) must return from all (Before aside).
func model(all []*store.Message, f store.Filter) []string {
	var out []*store.Message
	for _, m := range all {
		switch {
		case f.Account != "" && m.Account != f.Account,
			f.Source != "" && m.Source.Addr != f.Source,
			f.Dest != "" && m.Dest.Addr != f.Dest,
			f.ServiceType != "" && m.ServiceType != f.ServiceType,
			len(f.States) > 0 && !slices.Contains(f.States, m.State),
			!f.Since.IsZero() && m.SubmittedAt.Before(f.Since),
			!f.Until.IsZero() && !m.SubmittedAt.Before(f.Until):
			continue
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *store.Message) int {
		if c := b.SubmittedAt.Compare(a.SubmittedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return messageIDs(out)
}

func testFind(t *testing.T, s store.Store) {
	all := findSet(t, s)
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	filters := []store.Filter{
		{},
		{Account: "alice"},
		{Account: "nobody"},
		{Source: "BANK"},
		{Source: "bank"},
		{Dest: "33612345678"},
		{ServiceType: "CMT"},
		{ServiceType: "WAP", Account: "carol"},
		{States: []store.State{store.Delivered}},
		{States: []store.State{store.Accepted, store.Enroute, store.Unknown}},
		{States: []store.State{store.Expired}},
		{Since: sec(5)},
		{Until: sec(5)},
		{Since: sec(3), Until: sec(9)},
		{Since: sec(3).Add(time.Millisecond), Until: sec(3).Add(2 * time.Millisecond)},
		{Account: "bob", Source: "447700900001", Dest: "447700900456", States: []store.State{store.Enroute, store.Scheduled}, Since: sec(1), Until: sec(18)},
		{Account: "alice", Limit: 4},
		{Limit: 1},
		{Limit: -1},
		{States: []store.State{store.Rejected, store.Undeliverable}, Limit: 3},
	}
	for _, f := range filters {
		got, err := s.Find(context.Background(), f)
		if err != nil {
			t.Fatalf("Find(%+v): %v", f, err)
		}
		want := model(all, f)
		if g := messageIDs(got); !slices.Equal(g, want) {
			t.Errorf("Find(%+v) = %q\nwant %q", f, g, want)
		}
	}
	// What Find returns is the whole message.
	got, err := s.Find(context.Background(), store.Filter{Limit: 1})
	if err != nil || len(got) != 1 {
		t.Fatalf("Find: %v, %v", got, err)
	}
	newest := all[slices.IndexFunc(all, func(m *store.Message) bool { return m.ID == model(all, store.Filter{})[0] })]
	if d := messageDiff(got[0], newest); d != "" {
		t.Errorf("Find gave %s", d)
	}
}

func testFindLimit(t *testing.T, s store.Store) {
	var b store.Batch
	for i := range 130 {
		b.Messages = append(b.Messages, &store.Message{ID: fmt.Sprintf("l%03d", i), Account: "a", SubmittedAt: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	mustApply(t, s, &b)
	for _, c := range []struct{ limit, want int }{{0, 100}, {-5, 100}, {100, 100}, {101, 101}, {500, 130}, {3, 3}} {
		got, err := s.Find(context.Background(), store.Filter{Account: "a", Limit: c.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != c.want {
			t.Errorf("Find(Limit %d) gave %d, want %d", c.limit, len(got), c.want)
		}
		if len(got) > 0 && got[0].ID != "l129" {
			t.Errorf("Find(Limit %d) starts with %s, want the newest l129", c.limit, got[0].ID)
		}
	}
}

func testFindPaging(t *testing.T, s store.Store) {
	all := findSet(t, s)
	for _, f := range []store.Filter{{Limit: 7}, {Account: "bob", Limit: 2}, {States: []store.State{store.Delivered, store.Accepted}, Limit: 4}, {Limit: 3, Since: t0.Add(4 * time.Second)}} {
		want := model(all, store.Filter{Account: f.Account, States: f.States, Since: f.Since, Limit: 1000})
		var got []string
		for page := 0; ; page++ {
			if page > len(all) {
				t.Fatalf("paging %+v does not end", f)
			}
			ms, err := s.Find(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) > f.Limit {
				t.Fatalf("page of %d, Limit %d", len(ms), f.Limit)
			}
			if len(ms) == 0 {
				break
			}
			got = append(got, messageIDs(ms)...)
			f.Before = ms[len(ms)-1].ID
		}
		if !slices.Equal(got, want) {
			t.Errorf("paging %+v gave %q\nwant %q", f, got, want)
		}
	}
	// Before an unknown message: nothing.
	if got, err := s.Find(context.Background(), store.Filter{Before: "no such"}); err != nil || len(got) != 0 {
		t.Errorf("Find(Before unknown) = %q, %v; want nothing", messageIDs(got), err)
	}
	// Before the oldest: nothing.
	oldest := model(all, store.Filter{Limit: 1000})
	if got, err := s.Find(context.Background(), store.Filter{Before: oldest[len(oldest)-1]}); err != nil || len(got) != 0 {
		t.Errorf("Find(Before oldest) = %q, %v; want nothing", messageIDs(got), err)
	}
}

func testUnfinished(t *testing.T, s store.Store) {
	var b store.Batch
	var want []*store.Message
	// Every state, and two no state name has; the same time for several.
	for i, st := range []store.State{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 200} {
		m := fullMessage(fmt.Sprintf("u%02d", 20-i))
		m.State = st
		m.SubmittedAt = t0.Add(time.Duration(i/2) * time.Second)
		b.Messages = append(b.Messages, m)
		if !st.Final() {
			want = append(want, cloneMessage(m))
		}
	}
	mustApply(t, s, &b)
	slices.SortFunc(want, func(a, b *store.Message) int {
		if c := a.SubmittedAt.Compare(b.SubmittedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	checkUnfinished(t, s, want)

	// Finishing one takes it out; one that goes back to Enroute stays.
	u1 := store.Update{ID: want[0].ID, State: store.Delivered, At: t0}
	u2 := store.Update{ID: want[1].ID, State: store.Enroute, Attempts: 4, At: t0}
	mustApply(t, s, &store.Batch{Updates: []store.Update{u1, u2}})
	updateModel(want[1], u2)
	checkUnfinished(t, s, want[1:])

	// fn may use the store while Unfinished runs.
	var n int
	err := s.Unfinished(context.Background(), func(m *store.Message) error {
		n++
		if _, err := s.Message(context.Background(), m.ID); err != nil {
			return err
		}
		return s.Apply(context.Background(), &store.Batch{Updates: []store.Update{{ID: m.ID, State: store.Expired, At: t0}}})
	})
	if err != nil {
		t.Fatalf("Unfinished with fn calling Apply: %v", err)
	}
	if n != len(want)-1 {
		t.Errorf("Unfinished called fn %d times, want %d", n, len(want)-1)
	}
	checkUnfinished(t, s, nil)
}

func testCallbackError(t *testing.T, s store.Store) {
	var b store.Batch
	for i := range 5 {
		b.Messages = append(b.Messages, fullMessage(fmt.Sprint("cb", i)))
		b.Deliveries = append(b.Deliveries, fullDelivery(uint64(i)))
	}
	mustApply(t, s, &b)
	stop := errors.New("stop")
	n := 0
	if err := s.Unfinished(context.Background(), func(*store.Message) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("Unfinished with failing fn = %v after %d calls; want stop after 1", err, n)
	}
	n = 0
	if err := s.Deliveries(context.Background(), func(*store.Delivery) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("Deliveries with failing fn = %v after %d calls; want stop after 1", err, n)
	}
}

func testNextEpoch(t *testing.T, s store.Store) {
	var last uint32
	for range 5 {
		e := mustEpoch(t, s)
		if e <= last {
			t.Fatalf("NextEpoch = %d after %d", e, last)
		}
		last = e
	}
}

func testPingClose(t *testing.T, s store.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping after Close succeeded")
	}
	if err := s.Apply(context.Background(), &store.Batch{Messages: []*store.Message{fullMessage("late")}}); err == nil {
		t.Error("Apply after Close succeeded")
	}
	s.Close() // must not panic
}

// testConcurrent applies from many goroutines while others read: every
// message must end in its final state, and readers never see half a batch
// (each batch inserts a message and its delivery together).
func testConcurrent(t *testing.T, s store.Store) {
	const writers, batches, per = 6, 15, 8
	ctx := context.Background()
	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, writers+4)
	for w := range writers {
		wg.Go(func() {
			for i := range batches {
				var b store.Batch
				for j := range per {
					id := fmt.Sprintf("c%d-%d-%d", w, i, j)
					m := &store.Message{ID: id, Account: fmt.Sprint("acct", w%2), State: store.Accepted, SubmittedAt: t0.Add(time.Duration(i*per+j) * time.Millisecond)}
					b.Messages = append(b.Messages, m)
					b.Deliveries = append(b.Deliveries, &store.Delivery{ID: uint64(w<<16 | i<<8 | j), MessageID: id, CreatedAt: m.SubmittedAt})
				}
				if i > 0 {
					for j := range per {
						b.Updates = append(b.Updates, store.Update{ID: fmt.Sprintf("c%d-%d-%d", w, i-1, j), State: store.Delivered, At: t0})
						b.Done = append(b.Done, uint64(w<<16|(i-1)<<8|j))
					}
				}
				if err := s.Apply(ctx, &b); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var readers sync.WaitGroup
	for r := range 3 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				var err error
				switch r {
				case 0:
					_, err = s.Find(ctx, store.Filter{Account: "acct1", Limit: 20})
				case 1:
					// Deliveries and messages: every delivery's message is there.
					err = s.Deliveries(ctx, func(d *store.Delivery) error {
						_, err := s.Message(ctx, d.MessageID)
						return err
					})
				case 2:
					err = s.Unfinished(ctx, func(m *store.Message) error {
						if m.State.Final() {
							return fmt.Errorf("Unfinished gave %s in state %v", m.ID, m.State)
						}
						return nil
					})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var want []*store.Message
	for w := range writers {
		for j := range per {
			want = append(want, &store.Message{ID: fmt.Sprintf("c%d-%d-%d", w, batches-1, j)})
		}
	}
	var got []string
	if err := s.Unfinished(ctx, func(m *store.Message) error { got = append(got, m.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("%d unfinished after the run, want %d", len(got), len(want))
	}
	if n := len(allDeliveries(t, s)); n != writers*per {
		t.Errorf("%d deliveries after the run, want %d", n, writers*per)
	}
	all, err := s.Find(ctx, store.Filter{Limit: writers * batches * per * 2})
	if err != nil || len(all) != writers*batches*per {
		t.Errorf("Find gave %d, %v; want %d", len(all), err, writers*batches*per)
	}
}

// testBigBatch applies one batch of thousands of changes, as group commit
// does, then finishes them all in another.
func testBigBatch(t *testing.T, s store.Store) {
	const n = 2000
	var b store.Batch
	for i := range n {
		m := fullMessage(fmt.Sprintf("big%05d", i))
		m.State = store.Accepted
		b.Messages = append(b.Messages, m)
		b.Deliveries = append(b.Deliveries, fullDelivery(uint64(i)))
	}
	mustApply(t, s, &b)
	b.Reset()
	for i := range n {
		b.Updates = append(b.Updates, store.Update{ID: fmt.Sprintf("big%05d", i), State: store.Delivered, At: t0})
		if i%2 == 0 {
			b.Done = append(b.Done, uint64(i))
		}
	}
	mustApply(t, s, &b)
	checkUnfinished(t, s, nil)
	if got := len(allDeliveries(t, s)); got != n/2 {
		t.Errorf("%d deliveries, want %d", got, n/2)
	}
	m := fullMessage("big01234")
	m.State = store.Accepted
	updateModel(m, store.Update{State: store.Delivered, At: t0})
	checkMessage(t, s, m)
}

// testHistory checks store.Historian, for stores that implement it: the
// state a message was stored in, then one event per update, in order;
// updates of unknown ids and failed batches leave none.
func testHistory(t *testing.T, s store.Store) {
	h, ok := s.(store.Historian)
	if !ok {
		t.Skip("the store keeps no history")
	}
	ctx := context.Background()
	m := fullMessage("hist")
	m.State, m.ErrorCode = store.Accepted, 0
	other := fullMessage("hist-other")
	mustApply(t, s, &store.Batch{Messages: []*store.Message{cloneMessage(m), other}})
	mustApply(t, s, &store.Batch{Updates: []store.Update{
		{ID: m.ID, State: store.Enroute, At: t0.Add(time.Second)},
		{ID: "hist-nobody", State: store.Delivered, At: t0},
		{ID: other.ID, State: store.Delivered, At: t0.Add(3 * time.Second)},
		{ID: m.ID, State: store.Undeliverable, ErrorCode: 0x0bad, At: t0.Add(2 * time.Second)},
	}})
	// A failed batch adds nothing.
	bad := &store.Batch{Messages: []*store.Message{fullMessage(other.ID)}, Updates: []store.Update{{ID: m.ID, State: store.Delivered, At: t0}}}
	if err := s.Apply(ctx, bad); err == nil {
		t.Fatal("Apply of a stored id succeeded")
	}
	got, err := h.History(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Event{
		{State: store.Accepted, At: m.SubmittedAt},
		{State: store.Enroute, At: t0.Add(time.Second)},
		{State: store.Undeliverable, ErrorCode: 0x0bad, At: t0.Add(2 * time.Second)},
	}
	if len(got) != len(want) {
		t.Fatalf("history %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].State != want[i].State || got[i].ErrorCode != want[i].ErrorCode || !sameTime(got[i].At, want[i].At) {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if got, err := h.History(ctx, other.ID); err != nil || len(got) != 2 || got[1].State != store.Delivered {
		t.Errorf("other's history = %+v, %v; want its stored state and DELIVERED", got, err)
	}
	if _, err := h.History(ctx, "hist-nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("History of an unknown id: %v, want store.ErrNotFound", err)
	}
}

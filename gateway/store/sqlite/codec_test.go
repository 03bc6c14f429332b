package sqlite

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/store"
)

// A zone of its own, so that a test sees times come back in UTC.
var testZone = time.FixedZone("X", 5*3600+30*60)

// testTime returns a time with nanoseconds, in testZone, distinct per n.
func testTime(n int) time.Time {
	return time.Date(2026, 3, 4, 5, 6, 7, 123456789, testZone).Add(time.Duration(n) * time.Minute)
}

// fullMessage returns a message with every field set (none zero).
func fullMessage(id string) *store.Message {
	return &store.Message{
		ID: id, Account: "acme", Route: "carrier-1",
		Source:      store.Address{TON: 5, NPI: 0, Addr: "ACME"},
		Dest:        store.Address{TON: 1, NPI: 1, Addr: "447700900123"},
		ServiceType: "CMT", ESMClass: 0x40, ProtocolID: 3, Priority: 2,
		RegisteredDelivery: 1, DataCoding: 8,
		Body:  []byte{0x05, 0x00, 0x03, 0x2a, 0x02, 0x01, 'h', 'i'},
		TLVs:  []byte{0x04, 0x24, 0x00, 0x01, 0xff},
		Group: "g-42", Part: 1, Parts: 2,
		SubmittedAt: testTime(0), ScheduleAt: testTime(1), ExpireAt: testTime(2),
		State: store.Enroute, ErrorCode: 0xfffe, DoneAt: testTime(3),
		BackendID: "backend-77", Attempts: -3, UpdatedAt: testTime(4),
	}
}

// fullDelivery returns a delivery with every field set.
func fullDelivery(id uint64) *store.Delivery {
	return &store.Delivery{
		ID: id, Account: "acme", Kind: store.Receipt,
		Source:   store.Address{TON: 1, NPI: 1, Addr: "447700900123"},
		Dest:     store.Address{TON: 5, NPI: 0, Addr: "ACME"},
		ESMClass: 0x04, DataCoding: 3,
		Body:      []byte("id:1 sub:001 dlvrd:001 stat:DELIVRD err:000"),
		TLVs:      []byte{0x00, 0x1e, 0x00, 0x02, '1', 0},
		MessageID: "1a2b", State: store.Delivered, ErrorCode: 65535,
		CreatedAt: testTime(5), Attempts: 7, NextAttempt: testTime(6),
	}
}

// fullBatch returns a batch with every part holding items with every field
// set, extremes included.
func fullBatch() *store.Batch {
	rep := fullMessage("m1")
	rep.Body, rep.TLVs, rep.Route = []byte("replaced"), nil, ""
	return &store.Batch{
		Messages: []*store.Message{fullMessage("m1"), fullMessage(strings.Repeat("x", 300))},
		Replaces: []*store.Message{rep},
		Updates: []store.Update{
			{ID: "m1", State: store.Delivered, ErrorCode: 0xffff, BackendID: "b", Attempts: math.MaxInt, At: testTime(7)},
			{ID: "other", State: store.Unknown, Attempts: math.MinInt, At: time.Unix(0, math.MinInt64+1)},
		},
		Deliveries: []*store.Delivery{fullDelivery(1), fullDelivery(math.MaxUint64)},
		Retries:    []store.DeliveryRetry{{ID: 1, Attempts: 8, NextAttempt: time.Unix(0, math.MaxInt64)}, {ID: 1 << 63, Attempts: -1}},
		Done:       []uint64{0, 1, math.MaxUint64},
	}
}

// utc returns a copy of b with its times in UTC, the way the store gives
// them back.
func utc(b *store.Batch) *store.Batch {
	c := *b
	msg := func(m *store.Message) *store.Message {
		if m == nil {
			return nil
		}
		x := *m
		x.SubmittedAt, x.ScheduleAt, x.ExpireAt = utcTime(x.SubmittedAt), utcTime(x.ScheduleAt), utcTime(x.ExpireAt)
		x.DoneAt, x.UpdatedAt = utcTime(x.DoneAt), utcTime(x.UpdatedAt)
		if len(x.Body) == 0 {
			x.Body = nil
		}
		if len(x.TLVs) == 0 {
			x.TLVs = nil
		}
		return &x
	}
	c.Messages = mapSlice(b.Messages, msg)
	c.Replaces = mapSlice(b.Replaces, msg)
	c.Updates = mapSlice(b.Updates, func(u store.Update) store.Update { u.At = utcTime(u.At); return u })
	c.Deliveries = mapSlice(b.Deliveries, func(d *store.Delivery) *store.Delivery {
		x := *d
		x.CreatedAt, x.NextAttempt = utcTime(x.CreatedAt), utcTime(x.NextAttempt)
		if len(x.Body) == 0 {
			x.Body = nil
		}
		if len(x.TLVs) == 0 {
			x.TLVs = nil
		}
		return &x
	})
	c.Retries = mapSlice(b.Retries, func(r store.DeliveryRetry) store.DeliveryRetry { r.NextAttempt = utcTime(r.NextAttempt); return r })
	c.Done = mapSlice(b.Done, func(id uint64) uint64 { return id })
	return &c
}

func mapSlice[T any](xs []T, f func(T) T) []T {
	if len(xs) == 0 {
		return nil
	}
	out := make([]T, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func utcTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

func TestBatchRoundTrip(t *testing.T) {
	for name, b := range map[string]*store.Batch{
		"full":  fullBatch(),
		"empty": {},
		"zero items": {
			Messages:   []*store.Message{{ID: "z"}},
			Replaces:   []*store.Message{{ID: "z"}},
			Updates:    []store.Update{{}},
			Deliveries: []*store.Delivery{{}},
			Retries:    []store.DeliveryRetry{{}},
			Done:       []uint64{0},
		},
	} {
		t.Run(name, func(t *testing.T) {
			prefix := []byte("prefix")
			p, err := appendBatch(append([]byte(nil), prefix...), b)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(p, prefix) {
				t.Fatal("appendBatch did not append")
			}
			got, err := decodeBatch(p[len(prefix):])
			if err != nil {
				t.Fatal(err)
			}
			if want := utc(b); !reflect.DeepEqual(got, want) {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestBatchFullSetsEveryField(t *testing.T) {
	// The round trip above proves every field only if every field is set.
	b := fullBatch()
	check := func(what string, v any) {
		rv := reflect.ValueOf(v).Elem()
		for i := range rv.NumField() {
			if rv.Field(i).IsZero() {
				t.Errorf("%s.%s is not set", what, rv.Type().Field(i).Name)
			}
		}
	}
	check("Message", b.Messages[0])
	check("Delivery", b.Deliveries[0])
	check("Update", &b.Updates[0])
	check("DeliveryRetry", &b.Retries[0])
}

func TestMessageRoundTrip(t *testing.T) {
	for _, m := range []*store.Message{fullMessage("abc"), {ID: "only-id"}} {
		p, err := appendMessage([]byte{0xee}, m)
		if err != nil {
			t.Fatal(err)
		}
		if p[0] != 0xee {
			t.Fatal("appendMessage did not append")
		}
		got, err := decodeBatchMessage(p[1:])
		if err != nil {
			t.Fatal(err)
		}
		if want := utc(&store.Batch{Messages: []*store.Message{m}}).Messages[0]; !reflect.DeepEqual(got, want) {
			t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
		}
		if _, err := decodeBatchMessage(append(p[1:], 0)); err == nil {
			t.Error("a message with a trailing byte decoded")
		}
		for n := range len(p) - 1 {
			if _, err := decodeBatchMessage(p[1 : 1+n]); err == nil {
				t.Errorf("a message cut to %d of %d bytes decoded", n, len(p)-1)
			}
		}
	}
}

func TestEventsRoundTrip(t *testing.T) {
	evs := []store.Event{
		{State: store.Accepted, At: testTime(0)},
		{State: store.Enroute, ErrorCode: 1, At: testTime(1)},
		{State: store.Undeliverable, ErrorCode: 0xffff, At: time.Unix(0, math.MaxInt64)},
		{State: store.Unknown}, // zero time
	}
	p := appendEvents(nil, evs)
	got, err := decodeEvents(p)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]store.Event, len(evs))
	for i, e := range evs {
		e.At = utcTime(e.At)
		want[i] = e
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %+v, want %+v", got, want)
	}
	if got, err := decodeEvents(nil); err != nil || got != nil {
		t.Errorf("no events decoded as %v, %v", got, err)
	}
	if _, err := decodeEvents(p[:len(p)-1]); err == nil {
		t.Error("cut events decoded")
	}
}

func TestAppendBatchRefuses(t *testing.T) {
	early := time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)
	late := time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, b := range map[string]*store.Batch{
		"nil message":       {Messages: []*store.Message{nil}},
		"empty message id":  {Messages: []*store.Message{{Account: "a"}}},
		"nil replace":       {Replaces: []*store.Message{nil}},
		"nil delivery":      {Deliveries: []*store.Delivery{nil}},
		"submitted early":   {Messages: []*store.Message{{ID: "a", SubmittedAt: early}}},
		"schedule late":     {Messages: []*store.Message{{ID: "a", ScheduleAt: late}}},
		"expire late":       {Messages: []*store.Message{{ID: "a", ExpireAt: late}}},
		"done early":        {Messages: []*store.Message{{ID: "a", DoneAt: early}}},
		"updated late":      {Messages: []*store.Message{{ID: "a", UpdatedAt: late}}},
		"replace late":      {Replaces: []*store.Message{{ID: "a", ExpireAt: late}}},
		"update early":      {Updates: []store.Update{{ID: "a", At: early}}},
		"delivery created":  {Deliveries: []*store.Delivery{{CreatedAt: late}}},
		"delivery next":     {Deliveries: []*store.Delivery{{NextAttempt: early}}},
		"retry late":        {Retries: []store.DeliveryRetry{{NextAttempt: late}}},
		"just past maxTime": {Messages: []*store.Message{{ID: "a", SubmittedAt: time.Unix(0, math.MaxInt64).Add(1)}}},
		"minInt64 instant":  {Messages: []*store.Message{{ID: "a", SubmittedAt: time.Unix(0, math.MinInt64)}}},
	} {
		if _, err := appendBatch(nil, b); err == nil {
			t.Errorf("%s: appendBatch took it", name)
		}
	}
	if _, err := appendMessage(nil, nil); err == nil {
		t.Error("appendMessage took a nil message")
	}
	if _, err := appendDelivery(nil, nil); err == nil {
		t.Error("appendDelivery took a nil delivery")
	}
}

func TestDecodeBatchRefuses(t *testing.T) {
	good, err := appendBatch(nil, fullBatch())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeBatch(append(append([]byte(nil), good...), 0)); err == nil {
		t.Error("trailing byte decoded")
	}
	bad := append([]byte(nil), good...)
	bad[0] = batchVersion + 1
	if _, err := decodeBatch(bad); err == nil {
		t.Error("another version decoded")
	}
	for n := range len(good) {
		if _, err := decodeBatch(good[:n]); err == nil {
			t.Errorf("a batch cut to %d of %d bytes decoded", n, len(good))
		}
	}
	// A count far larger than the record must fail before allocating.
	huge := []byte{batchVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}
	if _, err := decodeBatch(huge); err == nil {
		t.Error("a huge count decoded")
	}
	// A message with an empty id.
	p, _ := appendBatch(nil, &store.Batch{Messages: []*store.Message{{ID: "x"}}})
	if p[2] != 1 || p[3] != 'x' {
		t.Fatalf("unexpected encoding % x", p)
	}
	p = append(p[:2:2], append([]byte{0}, p[4:]...)...) // the id "" instead
	if b, err := decodeBatch(p); err == nil {
		t.Errorf("a message with no id decoded: %+v", b.Messages[0])
	}
}

// FuzzDecodeBatch feeds decodeBatch garbage: it must not panic, and what
// it accepts must encode again to a batch that decodes the same.
func FuzzDecodeBatch(f *testing.F) {
	for _, b := range []*store.Batch{
		fullBatch(),
		{},
		{Messages: []*store.Message{{ID: "1"}}},
		{Updates: []store.Update{{ID: "1", State: store.Delivered, At: testTime(1)}}, Done: []uint64{3}},
		{Deliveries: []*store.Delivery{fullDelivery(9)}, Retries: []store.DeliveryRetry{{ID: 9, Attempts: 1}}},
	} {
		p, err := appendBatch(nil, b)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := decodeBatch(p)
		if err != nil {
			return
		}
		q, err := appendBatch(nil, b)
		if err != nil {
			t.Fatalf("a decoded batch does not encode: %v\n%+v", err, b)
		}
		c, err := decodeBatch(q)
		if err != nil {
			t.Fatalf("a re-encoded batch does not decode: %v", err)
		}
		if !reflect.DeepEqual(b, c) {
			t.Fatalf("decoded\n%+v\nre-encoded and decoded\n%+v", b, c)
		}
		r, err := appendBatch(nil, c)
		if err != nil || !bytes.Equal(q, r) {
			t.Fatalf("encoding is not stable: %v", err)
		}
	})
}

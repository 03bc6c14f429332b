package sqlite

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/store"
)

func freshMsgID(epoch uint32, n uint32) string {
	return strconv.FormatUint(uint64(epoch)<<32|uint64(n), 16)
}

func freshDelID(epoch uint32, n uint32) uint64 { return uint64(epoch)<<32 | uint64(n) }

func isFresh(s *Store, epoch uint32) bool {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	return s.freshMsgs.fresh(uint64(epoch)<<32) && s.freshDels.fresh(uint64(epoch)<<32)
}

func mustApply(t *testing.T, s *Store, b *store.Batch) {
	t.Helper()
	if err := s.Apply(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func mustRefuse(t *testing.T, s *Store, what string, b *store.Batch) {
	t.Helper()
	if err := s.Apply(context.Background(), b); err == nil {
		t.Errorf("%s: Apply took a duplicate", what)
	}
}

// catchUp makes the tables catch up with the log, as every read does.
func catchUp(t *testing.T, s *Store) {
	t.Helper()
	if err := s.caughtUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if s.applied != s.logged || len(s.pend) != 0 {
		t.Fatalf("tables at %d, log at %d, %d pending", s.applied, s.logged, len(s.pend))
	}
}

func TestFreshMessageIDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e, err := s.NextEpoch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !isFresh(s, e) {
		t.Fatalf("epoch %d of an empty store is not fresh", e)
	}
	id := freshMsgID(e, 1)
	mustApply(t, s, msgBatch(id))
	mustRefuse(t, s, "logged", msgBatch(id))
	mustRefuse(t, s, "twice in one batch", msgBatch(freshMsgID(e, 2), freshMsgID(e, 2)))
	mustRefuse(t, s, "with a new one", msgBatch(freshMsgID(e, 3), id))
	mustApply(t, s, msgBatch(freshMsgID(e, 3))) // the refused batch left no trace
	catchUp(t, s)
	mustRefuse(t, s, "in the tables", msgBatch(id))
	// Other spellings of the same number are other ids: not duplicates,
	// and their own duplicates are caught by the query.
	hexID := freshMsgID(e, 0xabc)
	mustApply(t, s, msgBatch(hexID))
	for _, other := range []string{"0" + hexID, "00" + hexID, strings.ToUpper(hexID)} {
		mustApply(t, s, msgBatch(other))
		mustRefuse(t, s, other+" logged", msgBatch(other))
		catchUp(t, s)
		mustRefuse(t, s, other+" in the tables", msgBatch(other))
	}
	mustRefuse(t, s, hexID, msgBatch(hexID))
	// Far into the epoch.
	far := freshMsgID(e, 1<<20)
	mustApply(t, s, msgBatch(far))
	mustRefuse(t, s, "far", msgBatch(far))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if isFresh(s, e) {
		t.Fatal("an epoch of the last process is fresh after reopening")
	}
	for _, id := range []string{id, freshMsgID(e, 3), far} {
		mustRefuse(t, s, id+" after reopening", msgBatch(id))
	}
	// A new epoch after reopening is fresh again, and its ids work.
	e2, err := s.NextEpoch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e2 <= e || !isFresh(s, e2) {
		t.Fatalf("epoch %d after %d: fresh %v", e2, e, isFresh(s, e2))
	}
	mustApply(t, s, msgBatch(freshMsgID(e2, 1)))
	mustRefuse(t, s, "new epoch", msgBatch(freshMsgID(e2, 1)))
	if _, err := s.Message(ctx, freshMsgID(e2, 1)); err != nil {
		t.Error(err)
	}
}

func TestFreshDeliveryIDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e, err := s.NextEpoch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := func(n uint32, body string) *store.Batch {
		return &store.Batch{Deliveries: []*store.Delivery{{ID: freshDelID(e, n), Account: "acme", CreatedAt: testTime(int(n)), Body: []byte(body)}}}
	}
	done := func(n uint32) *store.Batch { return &store.Batch{Done: []uint64{freshDelID(e, n)}} }

	mustApply(t, s, d(1, "first"))
	mustRefuse(t, s, "logged", d(1, "again"))
	catchUp(t, s)
	mustRefuse(t, s, "in the tables", d(1, "again"))
	mustApply(t, s, done(1))
	mustApply(t, s, d(1, "second")) // done, so the id is free again
	mustRefuse(t, s, "inserted again", d(1, "third"))
	// Parts apply in order: an insert of a stored id fails even when the
	// same batch marks it done afterwards.
	b := d(1, "third")
	b.Done = []uint64{freshDelID(e, 1)}
	mustRefuse(t, s, "insert before done", b)
	// Insert and done in one batch: nothing stays, the id is free.
	b = d(2, "x")
	b.Done = []uint64{freshDelID(e, 2)}
	mustApply(t, s, b)
	mustApply(t, s, d(2, "y"))
	mustRefuse(t, s, "two", &store.Batch{Deliveries: []*store.Delivery{{ID: freshDelID(e, 3)}, {ID: freshDelID(e, 3)}}})

	bodies := func() map[uint64]string {
		out := map[uint64]string{}
		if err := s.Deliveries(ctx, func(d *store.Delivery) error { out[d.ID] = string(d.Body); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := bodies(); len(got) != 2 || got[freshDelID(e, 1)] != "second" || got[freshDelID(e, 2)] != "y" {
		t.Errorf("deliveries %v", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustRefuse(t, s, "after reopening", d(1, "fourth"))
	mustApply(t, s, done(1))
	mustApply(t, s, d(1, "fifth"))
	if got := bodies(); len(got) != 2 || got[freshDelID(e, 1)] != "fifth" {
		t.Errorf("deliveries after reopening %v", got)
	}
}

// An epoch whose range holds ids already, someone else's that look like
// ours, is not made fresh, so that those ids are still looked up.
func TestEpochWithStoredIDsNotFresh(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		catchUp bool // whether the tables have the id before NextEpoch
		batch   func(e uint32) *store.Batch
		again   func(e uint32) *store.Batch
	}{
		{"message in the tables", true,
			func(e uint32) *store.Batch { return msgBatch(freshMsgID(e, 5)) },
			func(e uint32) *store.Batch { return msgBatch(freshMsgID(e, 5)) }},
		{"message only logged", false,
			func(e uint32) *store.Batch { return msgBatch(freshMsgID(e, 5)) },
			func(e uint32) *store.Batch { return msgBatch(freshMsgID(e, 5)) }},
		{"delivery in the tables", true,
			func(e uint32) *store.Batch {
				return &store.Batch{Deliveries: []*store.Delivery{{ID: freshDelID(e, 5)}}}
			},
			func(e uint32) *store.Batch {
				return &store.Batch{Deliveries: []*store.Delivery{{ID: freshDelID(e, 5)}}}
			}},
		{"delivery only logged", false,
			func(e uint32) *store.Batch {
				return &store.Batch{Deliveries: []*store.Delivery{{ID: freshDelID(e, 5)}}}
			},
			func(e uint32) *store.Batch {
				return &store.Batch{Deliveries: []*store.Delivery{{ID: freshDelID(e, 5)}}}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(filepath.Join(t.TempDir(), "f.db"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			cur, err := s.NextEpoch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			mustApply(t, s, tc.batch(cur+1))
			if tc.catchUp {
				catchUp(t, s)
			}
			e, err := s.NextEpoch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if e != cur+1 {
				t.Fatalf("epoch %d after %d", e, cur)
			}
			if isFresh(s, e) {
				t.Error("an epoch holding a stored id was made fresh")
			}
			mustRefuse(t, s, "stored id of the epoch", tc.again(e))
			// Other ids of the epoch still work, looked up.
			mustApply(t, s, msgBatch(freshMsgID(e, 6)))
			mustRefuse(t, s, "new id of the epoch", msgBatch(freshMsgID(e, 6)))
		})
	}
}

// Once the tables have a fresh id's batch, the id need not be tracked in
// memory any more: the bits are dropped (they would pile up for as long as
// the process runs), and a repeat of the id is still refused, now by a
// lookup in the tables.
func TestFreshIDsTrimmed(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "t.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	e, err := s.NextEpoch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	b := &store.Batch{}
	for n := uint64(1); n <= 1000; n++ {
		id := strconv.FormatUint(uint64(e)<<32|n, 16)
		ids = append(ids, id)
		b.Messages = append(b.Messages, &store.Message{ID: id, Account: "a", State: store.Accepted, SubmittedAt: time.Now()})
	}
	b.Deliveries = []*store.Delivery{{ID: uint64(e)<<32 | 7, Account: "a", Kind: store.Receipt, CreatedAt: time.Now()}}
	if err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Message(ctx, ids[0]); err != nil { // the tables catch up, and the bits go
		t.Fatal(err)
	}
	s.pmu.Lock()
	bits := len(s.freshMsgs.epochs[e].bits) + len(s.freshDels.epochs[e].bits)
	s.pmu.Unlock()
	if bits > 2 { // the word with the floor in it may stay, in each
		t.Errorf("%d words of bits kept for ids the tables have", bits)
	}
	again := &store.Batch{Messages: []*store.Message{{ID: ids[500], Account: "a", State: store.Accepted, SubmittedAt: time.Now()}}}
	if err := s.Apply(ctx, again); err == nil {
		t.Error("a message id the tables have was stored again after its bit went")
	}
	dup := &store.Batch{Deliveries: []*store.Delivery{{ID: uint64(e)<<32 | 7, Account: "a", Kind: store.Receipt, CreatedAt: time.Now()}}}
	if err := s.Apply(ctx, dup); err == nil {
		t.Error("a delivery id the tables have was stored again after its bit went")
	}
	// A new id of the epoch is still fresh.
	next := strconv.FormatUint(uint64(e)<<32|2000, 16)
	if err := s.Apply(ctx, &store.Batch{Messages: []*store.Message{{ID: next, Account: "a", State: store.Accepted, SubmittedAt: time.Now()}}}); err != nil {
		t.Fatal(err)
	}
	s.pmu.Lock()
	_, fresh := s.freshMsgs.freshMessage(next)
	s.pmu.Unlock()
	if !fresh {
		t.Error("a new id of the epoch is not fresh")
	}
}

package sqlite

import (
	"context"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/store"
)

// msgBatch returns a batch inserting messages with ids.
func msgBatch(ids ...string) *store.Batch {
	b := &store.Batch{}
	for i, id := range ids {
		b.Messages = append(b.Messages, &store.Message{ID: id, Account: "acme", State: store.Accepted, SubmittedAt: testTime(i), Body: []byte(id)})
	}
	return b
}

// record returns a log record as batchLog.append writes it.
func record(t testing.TB, seq uint64, b *store.Batch) []byte {
	t.Helper()
	rec, err := appendBatch(make([]byte, recordHeader), b)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint32(rec, uint32(len(rec)-recordHeader))
	binary.LittleEndian.PutUint64(rec[8:], seq)
	binary.LittleEndian.PutUint32(rec[4:], crc32.Checksum(rec[8:], crc32.MakeTable(crc32.Castagnoli)))
	return rec
}

func segName(dir string, first uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%016x.log", first))
}

// writeSegment writes a segment of records first, first+1, ..., one batch
// each inserting the message "r<seq>", and returns the records.
func writeSegment(t testing.TB, dir string, first uint64, n int) [][]byte {
	t.Helper()
	var recs [][]byte
	var all []byte
	for i := range n {
		seq := first + uint64(i)
		r := record(t, seq, msgBatch(recID(seq)))
		recs = append(recs, r)
		all = append(all, r...)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(segName(dir, first), all, 0o640); err != nil {
		t.Fatal(err)
	}
	return recs
}

func recID(seq uint64) string { return fmt.Sprintf("r%d", seq) }

// seedStore creates the store at path with n batches applied and closed,
// and returns the sequence number of the last record the tables have.
func seedStore(t *testing.T, path string, n int) uint64 {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := s.Apply(context.Background(), msgBatch(fmt.Sprintf("seed%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if logFiles(t, path+"-log") != nil {
		t.Fatalf("segments left after Close: %v", logFiles(t, path+"-log"))
	}
	return s.applied
}

func logFiles(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".log") {
			out = append(out, e.Name())
		}
	}
	return out
}

// wantMessages fails unless every id is stored and, with present false,
// none is.
func wantMessages(t *testing.T, s *Store, present bool, ids ...string) {
	t.Helper()
	for _, id := range ids {
		m, err := s.Message(context.Background(), id)
		switch {
		case present && err != nil:
			t.Errorf("message %s: %v", id, err)
		case present && string(m.Body) != id:
			t.Errorf("message %s has body %q", id, m.Body)
		case !present && !errors.Is(err, store.ErrNotFound):
			t.Errorf("message %s: got %v, want not found", id, err)
		}
	}
}

func TestLogTornTail(t *testing.T) {
	for name, tear := range map[string]func(path string, last []byte) error{
		"cut in the payload": func(path string, last []byte) error {
			return truncateBy(path, int64(len(last)/2))
		},
		"cut in the header": func(path string, last []byte) error {
			return truncateBy(path, int64(len(last)-recordHeader/2))
		},
		"garbage appended": func(path string, _ []byte) error {
			return appendFile(path, []byte("\x10\x00\x00\x00garbage, not a record"))
		},
		"zeros appended": func(path string, _ []byte) error {
			return appendFile(path, make([]byte, 100))
		},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.db")
			applied := seedStore(t, path, 2)
			dir := path + "-log"
			// Two segments the tables do not have: one whole, then the
			// newest, whose last record is torn.
			writeSegment(t, dir, applied+1, 2)
			recs := writeSegment(t, dir, applied+3, 3)
			if err := tear(segName(dir, applied+3), recs[len(recs)-1]); err != nil {
				t.Fatal(err)
			}
			acked := []string{"seed0", "seed1", recID(applied + 1), recID(applied + 2), recID(applied + 3), recID(applied + 4)}
			torn := recID(applied + 5)
			if name != "cut in the payload" && name != "cut in the header" {
				acked, torn = append(acked, torn), ""
			}

			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			wantMessages(t, s, true, acked...)
			if torn != "" {
				wantMessages(t, s, false, torn)
			}
			// The replayed segments went once the tables had them.
			for _, f := range logFiles(t, dir) {
				t.Errorf("segment %s left after recovery", f)
			}
			if err := s.Apply(context.Background(), msgBatch("after1", "after2")); err != nil {
				t.Fatal(err)
			}
			if torn != "" {
				// The torn record's id was never acknowledged: it is free.
				if err := s.Apply(context.Background(), msgBatch(torn)); err != nil {
					t.Fatal(err)
				}
				acked = append(acked, torn)
			}
			acked = append(acked, "after1", "after2")
			wantMessages(t, s, true, acked...)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			s, err = Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			wantMessages(t, s, true, acked...)
			if err := s.Apply(context.Background(), msgBatch("after3")); err != nil {
				t.Fatal(err)
			}
			wantMessages(t, s, true, "after3")
		})
	}
}

// TestLogTornTailReplayOrder replays batches whose effect depends on
// their order, from a segment with a torn tail.
func TestLogTornTailReplayOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	applied := seedStore(t, path, 1)
	dir := path + "-log"
	// Batches that depend on their order: insert, update, replace, update.
	b1 := msgBatch("m")
	b2 := &store.Batch{Updates: []store.Update{{ID: "m", State: store.Enroute, BackendID: "x", At: testTime(10)}}}
	b3 := &store.Batch{Replaces: []*store.Message{{ID: "m", Body: []byte("new")}}, Deliveries: []*store.Delivery{{ID: 7, CreatedAt: testTime(1)}}}
	b4 := &store.Batch{Updates: []store.Update{{ID: "m", State: store.Delivered, At: testTime(11)}}, Done: []uint64{7}}
	var all []byte
	for i, b := range []*store.Batch{b1, b2, b3, b4} {
		all = append(all, record(t, applied+1+uint64(i), b)...)
	}
	all = append(all, record(t, applied+5, msgBatch("torn"))[:20]...)
	if err := os.WriteFile(segName(dir, applied+1), all, 0o640); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	m, err := s.Message(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	if m.State != store.Delivered || m.BackendID != "x" || string(m.Body) != "new" || !m.DoneAt.Equal(testTime(11)) {
		t.Errorf("replayed message %+v", m)
	}
	h, err := s.History(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	if states := eventStates(h); !slices.Equal(states, []store.State{store.Accepted, store.Enroute, store.Delivered}) {
		t.Errorf("history %v", states)
	}
	n := 0
	if err := s.Deliveries(ctx, func(*store.Delivery) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d deliveries, want the one inserted and done none", n)
	}
	wantMessages(t, s, false, "torn")
}

func eventStates(evs []store.Event) []store.State {
	var out []store.State
	for _, e := range evs {
		out = append(out, e.State)
	}
	return out
}

func TestLogDamagedOlderSegment(t *testing.T) {
	for name, damage := range map[string]func(path string, recs [][]byte) error{
		"payload bit flipped": func(path string, recs [][]byte) error {
			return flipByte(path, int64(len(recs[0])+recordHeader+3))
		},
		"sequence number changed": func(path string, recs [][]byte) error {
			return flipByte(path, int64(len(recs[0])+9))
		},
		"length too long": func(path string, recs [][]byte) error {
			return flipByte(path, int64(len(recs[0])+3)) // the length's top byte
		},
		"cut short": func(path string, recs [][]byte) error {
			return truncateBy(path, 5)
		},
		"garbage appended": func(path string, recs [][]byte) error {
			return appendFile(path, []byte("garbage after the last record"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.db")
			applied := seedStore(t, path, 1)
			dir := path + "-log"
			older := segName(dir, applied+1)
			recs := writeSegment(t, dir, applied+1, 2)
			writeSegment(t, dir, applied+3, 2)
			if err := damage(older, recs); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path, Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open took a log with a damaged older segment")
			}
			if !strings.Contains(err.Error(), older) {
				t.Errorf("the error %q does not name %s", err, older)
			}
			// Nothing was cut off or removed: the log is as it was, for
			// someone to look at.
			if got := logFiles(t, dir); len(got) != 2 {
				t.Errorf("segments after the failed Open: %v", got)
			}
		})
	}
}

func TestLogMissingRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	applied := seedStore(t, path, 1)
	dir := path + "-log"
	writeSegment(t, dir, applied+1, 2)
	writeSegment(t, dir, applied+4, 2) // applied+3 is missing
	s, err := Open(path, Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open took a log with a record missing")
	}
	if !strings.Contains(err.Error(), "missing") {
		t.Errorf("error %q", err)
	}
	// Neither may the tables have received what came after the gap.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wantMessages(t, s, false, recID(applied+4), recID(applied+5))
}

func TestLogSegmentsRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(path, Options{Durability: store.PowerLoss})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 5 {
		if err := s.Apply(ctx, msgBatch(fmt.Sprint("a", i))); err != nil {
			t.Fatal(err)
		}
	}
	if got := logFiles(t, path+"-log"); len(got) != 1 {
		t.Errorf("segments while open: %v, want the one appended to", got)
	}
	wantMessages(t, s, true, "a0", "a4") // the tables catch up
	s.log.mu.Lock()
	segs := len(s.log.segs)
	s.log.mu.Unlock()
	if segs != 1 {
		t.Errorf("%d segments known, want 1", segs)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := logFiles(t, path+"-log"); got != nil {
		t.Errorf("segments after Close: %v", got)
	}
	// Applied segments left by a process that stopped before removing
	// them go at the next Open, and their records are not applied twice.
	applied := s.applied
	writeSegment(t, path+"-log", applied-1, 2) // records the tables have
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := logFiles(t, path+"-log"); got != nil {
		t.Errorf("applied segments after Open: %v", got)
	}
	wantMessages(t, s, false, recID(applied-1), recID(applied))
	if err := s.Apply(ctx, msgBatch("b")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.applied != applied+1 {
		t.Errorf("after one more Apply the log is at %d, want %d", s.applied, applied+1)
	}
}

func truncateBy(path string, n int64) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.Truncate(path, st.Size()-n)
}

func appendFile(path string, p []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(p); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func flipByte(path string, off int64) error {
	p, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	p[off] ^= 0x80
	return os.WriteFile(path, p, 0o640)
}

// TestIndexerFailure holds the database's write lock, so that the indexer
// cannot write: Apply still takes batches (they are in the log), reads and
// Ping report the tables behind, and once the lock goes the indexer's
// retry brings everything in; a Close while it fails leaves the batches
// to the next Open.
func TestIndexerFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(path, Options{BusyTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mustApply(t, s, msgBatch("before"))
	catchUp(t, s)

	lock := func() driver.Conn {
		c, err := openConn(path, "PRAGMA busy_timeout = 0")
		if err != nil {
			t.Fatal(err)
		}
		if err := execConn(c, "BEGIN IMMEDIATE"); err != nil {
			t.Fatal(err)
		}
		return c
	}
	unlock := func(c driver.Conn) {
		if err := execConn(c, "ROLLBACK"); err != nil {
			t.Error(err)
		}
		c.Close()
	}
	c := lock()
	mustApply(t, s, msgBatch("during1"))
	if _, err := s.Message(ctx, "during1"); err == nil || !strings.Contains(err.Error(), "behind") {
		t.Errorf("a read while the indexer fails: %v", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping while the indexer fails said nothing")
	}
	mustApply(t, s, msgBatch("during2"))
	mustRefuse(t, s, "logged while failing", msgBatch("during1"))
	unlock(c)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.await(wctx, func() bool { return s.ierr == nil && s.applied == s.logged }); err != nil {
		t.Fatalf("the indexer did not recover: %v", err)
	}
	wantMessages(t, s, true, "before", "during1", "during2")
	if err := s.Ping(ctx); err != nil {
		t.Error(err)
	}

	// Fail again, and close while failing.
	c = lock()
	mustApply(t, s, msgBatch("unapplied1"))
	mustApply(t, s, &store.Batch{Updates: []store.Update{{ID: "during1", State: store.Delivered, At: testTime(9)}}})
	if err := s.caughtUp(ctx); err == nil {
		t.Fatal("caught up while the indexer fails")
	}
	closed := s.Close()
	unlock(c)
	t.Logf("Close while the indexer fails: %v", closed)
	if s.applied == s.logged {
		t.Fatal("the tables caught up after all: the test shows nothing")
	}
	if logFiles(t, path+"-log") == nil {
		t.Fatal("Close removed the log of batches the tables do not have")
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wantMessages(t, s, true, "before", "during1", "during2", "unapplied1")
	if m, err := s.Message(ctx, "during1"); err != nil || m.State != store.Delivered {
		t.Errorf("the update logged while failing: %+v, %v", m, err)
	}
}

// TestCloseRacingApply closes the store while goroutines apply batches
// and read: every batch whose Apply returned nil is there after reopening,
// and every other Apply failed with the store closed.
func TestCloseRacingApply(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const workers = 4
	acked := make([][]string, workers)
	errs := make(chan error, workers)
	started := make(chan struct{}, workers)
	for w := range workers {
		go func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("w%d-%d", w, i)
				b := msgBatch(id)
				b.Deliveries = []*store.Delivery{{ID: uint64(w)<<40 | uint64(i), MessageID: id}}
				if i > 0 {
					b.Updates = []store.Update{{ID: fmt.Sprintf("w%d-%d", w, i-1), State: store.Delivered, At: testTime(i)}}
					b.Done = []uint64{uint64(w)<<40 | uint64(i-1)}
				}
				err := s.Apply(ctx, b)
				if err != nil {
					if !errors.Is(err, errClosed) {
						errs <- fmt.Errorf("apply %s: %w", id, err)
						return
					}
					errs <- nil
					return
				}
				acked[w] = append(acked[w], id)
				if i == 20 {
					started <- struct{}{}
				}
				if i%7 == 0 {
					if _, err := s.Message(ctx, id); err != nil && !errors.Is(err, errClosed) {
						errs <- fmt.Errorf("read %s: %w", id, err)
						return
					}
				}
			}
		}()
	}
	for range workers {
		<-started
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if logFiles(t, path+"-log") != nil {
		t.Errorf("segments left after Close: %v", logFiles(t, path+"-log"))
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	open := map[uint64]bool{}
	if err := s.Deliveries(ctx, func(d *store.Delivery) error { open[d.ID] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	for w, ids := range acked {
		wantMessages(t, s, true, ids...)
		last := len(ids) - 1
		for i, id := range ids {
			m, err := s.Message(ctx, id)
			if err != nil {
				continue
			}
			if final := i < last; final != (m.State == store.Delivered) {
				t.Errorf("%s (%d of %d) is %v", id, i, last, m.State)
			}
		}
		if len(open) != workers || !open[uint64(w)<<40|uint64(last)] {
			t.Errorf("open deliveries %v", open)
		}
	}
}

package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/smppkit/smpp/gateway/store"
)

// How the tables follow the log. Apply only appends a record; the indexer
// goroutine applies records to the tables in the background, many at a
// time, in one transaction (coalesce folds what cancels out). A record
// waits settle before it is applied, so that the later steps of a
// message's life (its final state, its receipt acknowledged) arrive in
// time to be folded into one row instead of an insert and updates; and
// the indexer waits until the oldest record is gather older than that, so
// that a transaction spans enough of the log for few messages to straddle
// its end (those are written twice: inserted, then updated).
const (
	settle = 100 * time.Millisecond
	gather = 250 * time.Millisecond
	// maxChunk bounds the changes of one transaction, so that NextEpoch
	// does not wait long for the writer.
	maxChunk = 1 << 16
	// Past highWater changes waiting, the indexer stops waiting for
	// records to settle, and Apply paces itself to the rate the indexer
	// drains them at, less and less of it as the backlog grows (see
	// pace); at maxBacklog, Apply waits for the indexer, so that the
	// backlog (its memory, and what a read may have to wait for) stays
	// bounded.
	highWater  = 1 << 18
	maxBacklog = 1 << 19
)

// pendingBatch is a logged batch the tables do not have yet.
type pendingBatch struct {
	seq     uint64
	at      time.Time
	payload []byte // its encoding; decoded when it is applied
	changes int
	msgIDs  []string // ids of its new messages, but fresh ones
	fresh   []uint64 // the fresh ones, as numbers
	// The lowest fresh message id and delivery id in it (inserted, or
	// done), 0 if none: the fresh-id floors stay at or below them.
	minFreshMsg, minFreshDel uint64
	delIDs                   []uint64 // ids of its new and its done deliveries, but fresh ones
}

// pendingDel is the latest logged change of a delivery id: inserted, or
// done (removed), by the batch with seq.
type pendingDel struct {
	seq     uint64
	present bool
}

func (s *Store) apply(ctx context.Context, b *store.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.Len() == 0 {
		if s.closed.Load() {
			return errClosed
		}
		return nil
	}
	s.amu.Lock()
	defer s.amu.Unlock()
	if s.closed.Load() {
		return errClosed
	}
	if err := s.pace(ctx, b.Len()); err != nil {
		return err
	}
	var ierr error
	if err := s.await(ctx, func() bool { ierr = s.ierr; return s.backlog < maxBacklog || ierr != nil }); err != nil {
		return err
	}
	if ierr != nil && s.full() {
		// The backlog is full and the tables cannot take it: say why.
		return fmt.Errorf("sqlite: the backlog is full and the tables are behind the log: %w", ierr)
	}
	defer func() {
		s.pmu.Lock()
		s.inflightMsg, s.inflightDel = 0, 0 // (set by check)
		s.pmu.Unlock()
	}()
	p, err := s.check(ctx, b)
	if err != nil {
		return err
	}
	s.rec, err = appendBatch(append(s.rec[:0], make([]byte, recordHeader)...), b)
	if err != nil {
		return err
	}
	rec := make([]byte, len(s.rec))
	copy(rec, s.rec)
	if cap(s.rec) > 4<<20 {
		s.rec = nil // one huge batch should not pin its buffer
	}
	seq, err := s.log.append(rec)
	if err != nil {
		return err
	}
	p.seq, p.at, p.payload, p.changes = seq, time.Now(), rec[recordHeader:], b.Len()
	s.pmu.Lock()
	for _, id := range p.msgIDs {
		s.pmsgs[id] = seq
	}
	for _, n := range p.fresh {
		s.freshMsgs.set(n, true)
	}
	for _, d := range b.Deliveries {
		if s.freshDels.fresh(d.ID) {
			s.freshDels.set(d.ID, true)
		} else {
			s.pdels[d.ID] = pendingDel{seq: seq, present: true}
		}
	}
	for _, id := range b.Done {
		if s.freshDels.fresh(id) {
			s.freshDels.set(id, false)
		} else {
			s.pdels[id] = pendingDel{seq: seq}
		}
	}
	s.pend = append(s.pend, p)
	s.backlog += p.changes
	s.logged = seq
	s.pmu.Unlock()
	s.poke()
	return nil
}

// pace delays an Apply of n changes while the backlog is past highWater,
// so that batches come in at the rate the indexer drains them, scaled
// down from all of it at highWater to a twentieth near maxBacklog. The
// delay is spread evenly over the batches, each waiting a little, rather
// than all of them waiting for a transaction to end at maxBacklog. Called
// under amu.
func (s *Store) pace(ctx context.Context, n int) error {
	s.pmu.Lock()
	backlog, drain := s.backlog, s.drain
	s.pmu.Unlock()
	now := time.Now()
	if backlog < highWater || drain <= 0 {
		s.paceAt = time.Time{}
		return nil
	}
	rate := drain * max(1-float64(backlog-highWater)/float64(maxBacklog-highWater), 0.05)
	// The schedule never runs more than maxPace ahead: one slow
	// transaction halves the drain estimate, and a stale estimate must
	// not stall Apply.
	start := s.paceAt
	if start.Before(now) {
		start = now
	} else if limit := now.Add(maxPace); start.After(limit) {
		start = limit
	}
	s.paceAt = start.Add(time.Duration(float64(n) / rate * float64(time.Second)))
	if wait := start.Sub(now); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.stop:
			return errClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// maxPace bounds one Apply's pacing delay.
const maxPace = 100 * time.Millisecond

// full reports whether the backlog is at maxBacklog.
func (s *Store) full() bool {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	return s.backlog >= maxBacklog
}

// check refuses a batch with a message or delivery id repeated in it or
// already stored (in the tables, or logged for them), and returns its
// pendingBatch with the ids filled in.
func (s *Store) check(ctx context.Context, b *store.Batch) (*pendingBatch, error) {
	p := &pendingBatch{msgIDs: make([]string, 0, len(b.Messages)), delIDs: make([]uint64, 0, len(b.Deliveries)+len(b.Done))}
	var askMsgs []string
	var askDels []int64
	seenMsg := make(map[string]struct{}, len(b.Messages))
	seenDel := make(map[uint64]struct{}, len(b.Deliveries))
	s.pmu.Lock()
	for _, m := range b.Messages {
		if m == nil || m.ID == "" {
			s.pmu.Unlock()
			return nil, errors.New("sqlite: message with no id")
		}
		if _, dup := seenMsg[m.ID]; dup {
			s.pmu.Unlock()
			return nil, fmt.Errorf("sqlite: message %s twice in a batch", m.ID)
		}
		seenMsg[m.ID] = struct{}{}
		if n, ok := s.freshMsgs.freshMessage(m.ID); ok {
			if s.freshMsgs.has(n) {
				s.pmu.Unlock()
				return nil, fmt.Errorf("sqlite: message %s already stored", m.ID)
			}
			p.fresh = append(p.fresh, n)
			p.minFreshMsg = minNonZero(p.minFreshMsg, n)
			continue
		}
		if _, dup := s.pmsgs[m.ID]; dup {
			s.pmu.Unlock()
			return nil, fmt.Errorf("sqlite: message %s already stored", m.ID)
		}
		p.msgIDs = append(p.msgIDs, m.ID)
		askMsgs = append(askMsgs, m.ID)
	}
	for _, d := range b.Deliveries {
		if d == nil {
			s.pmu.Unlock()
			return nil, errors.New("sqlite: nil delivery")
		}
		if _, dup := seenDel[d.ID]; dup {
			s.pmu.Unlock()
			return nil, fmt.Errorf("sqlite: delivery %d twice in a batch", d.ID)
		}
		seenDel[d.ID] = struct{}{}
		if s.freshDels.fresh(d.ID) {
			if s.freshDels.has(d.ID) {
				s.pmu.Unlock()
				return nil, fmt.Errorf("sqlite: delivery %d already stored", d.ID)
			}
			p.minFreshDel = minNonZero(p.minFreshDel, d.ID)
			continue
		}
		p.delIDs = append(p.delIDs, d.ID)
		pd, ok := s.pdels[d.ID]
		switch {
		case ok && pd.present:
			s.pmu.Unlock()
			return nil, fmt.Errorf("sqlite: delivery %d already stored", d.ID)
		case !ok:
			askDels = append(askDels, int64(d.ID))
		}
	}
	for _, id := range b.Done {
		if s.freshDels.fresh(id) {
			p.minFreshDel = minNonZero(p.minFreshDel, id)
		} else {
			p.delIDs = append(p.delIDs, id)
		}
	}
	// Until the batch is pending (or refused), its fresh ids keep the
	// floors down: else trim could pass them before their bits are set.
	s.inflightMsg, s.inflightDel = p.minFreshMsg, p.minFreshDel
	s.pmu.Unlock()
	// Ids not logged may be in the tables. The indexer removes an id from
	// pmsgs and pdels only after its commit, so what was not there a
	// moment ago is in the tables if it is stored at all. (The gateway's
	// own ids are fresh and never get here: this is for others.)
	if len(askMsgs) == 0 && len(askDels) == 0 {
		return p, nil
	}
	r, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer s.release(r)
	for _, id := range askMsgs {
		if found, err := r.exists(qMessageExists, id); err != nil {
			return nil, err
		} else if found {
			return nil, fmt.Errorf("sqlite: message %q already stored", id)
		}
	}
	for _, id := range askDels {
		if found, err := r.exists(qDeliveryExists, id); err != nil {
			return nil, err
		} else if found {
			return nil, fmt.Errorf("sqlite: delivery %d already stored", uint64(id))
		}
	}
	return p, nil
}

const (
	qMessageExists  = "SELECT 1 FROM messages WHERE id = ?"
	qDeliveryExists = "SELECT 1 FROM deliveries WHERE id = ?"
)

// exists reports whether q, given key, finds a row.
func (r *reader) exists(q string, key driver.Value) (bool, error) {
	rows, err := r.query(q, args(key))
	if err != nil {
		return false, fmt.Errorf("sqlite: %w", err)
	}
	defer rows.Close()
	switch err := r.row(rows); err {
	case nil:
		return true, nil
	case io.EOF:
		return false, nil
	default:
		return false, fmt.Errorf("sqlite: %w", err)
	}
}

// poke wakes the indexer.
func (s *Store) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// await waits until ok (called under pmu) holds, for the store to close,
// or for ctx.
func (s *Store) await(ctx context.Context, ok func() bool) error {
	for {
		s.pmu.Lock()
		done, ch := ok(), s.progress
		s.pmu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-s.stop:
			return errClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// caughtUp waits until the tables have every batch logged when it was
// called, asking the indexer not to wait for them to settle. Every read
// starts with it, so a read sees every Apply that returned before it.
func (s *Store) caughtUp(ctx context.Context) error {
	s.pmu.Lock()
	target := s.logged
	if s.applied >= target {
		s.pmu.Unlock()
		return nil
	}
	s.flushTo = max(s.flushTo, target)
	s.pmu.Unlock()
	s.poke()
	var ierr error
	err := s.await(ctx, func() bool {
		ierr = s.ierr
		return s.applied >= target || ierr != nil
	})
	if err != nil {
		return err
	}
	if ierr != nil {
		return fmt.Errorf("sqlite: the tables are behind the log: %w", ierr)
	}
	return nil
}

// index applies logged batches to the tables until the store closes, then
// applies what is left and stops. A failed transaction is tried again
// (after a pause that doubles up to 5 s): its batches are in the log, so
// nothing acknowledged is lost while it fails, and Apply stops taking
// more once the backlog is full.
func (s *Store) index() {
	defer close(s.indexed)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	pause := 10 * time.Millisecond
	for {
		take, wait, closing := s.ready()
		if len(take) == 0 {
			if closing {
				return
			}
			var tick <-chan time.Time
			if wait > 0 {
				timer.Reset(wait)
				tick = timer.C
			}
			select {
			case <-s.wake:
			case <-tick:
			}
			continue
		}
		t0 := time.Now()
		err := s.applyPending(take)
		took := time.Since(t0)
		applied := take[len(take)-1].seq
		s.pmu.Lock()
		if err != nil {
			s.ierr = err
		} else {
			s.ierr = nil
			changes := s.backlog
			s.taken(take)
			if changes -= s.backlog; took > 0 {
				if r := float64(changes) / took.Seconds(); s.drain == 0 {
					s.drain = r
				} else {
					s.drain = (s.drain + r) / 2
				}
			}
		}
		close(s.progress)
		s.progress = make(chan struct{})
		closing = s.closing
		s.pmu.Unlock()
		if err == nil {
			pause = 10 * time.Millisecond
			s.releaseLog(applied)
			continue
		}
		if closing {
			return // the log keeps them for the next Open
		}
		timer.Reset(pause)
		select {
		case <-timer.C:
		case <-s.stop:
			return
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// releaseLog removes the log's segments the tables have every record of
// (a file left behind goes next time). With store.Crash a commit is not
// synced to the disk (synchronous=NORMAL), so a power loss could take the
// tables back past records whose segment is gone, and Open would then find
// records missing: first a checkpoint syncs the WAL, and with it every
// commit so far.
func (s *Store) releaseLog(applied uint64) {
	if !s.log.releasable(applied) {
		return
	}
	if !s.log.sync {
		s.wmu.Lock()
		var err error
		if s.w != nil {
			err = execConn(s.w.c, "PRAGMA wal_checkpoint(PASSIVE)")
		}
		s.wmu.Unlock()
		if err != nil {
			return // keep the segments; the next transaction tries again
		}
	}
	s.log.release(applied)
}

// ready returns the batches to apply now, or how long until the oldest
// settles (0: nothing waits).
func (s *Store) ready() (take []*pendingBatch, wait time.Duration, closing bool) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if len(s.pend) == 0 {
		return nil, 0, s.closing
	}
	urgent := s.closing || s.flushTo > s.applied || s.backlog >= highWater
	now := time.Now()
	if age := now.Sub(s.pend[0].at); !urgent && age < settle+gather {
		return nil, settle + gather - age, false
	}
	changes := 0
	n := 0
	for _, p := range s.pend {
		if !urgent && now.Sub(p.at) < settle {
			break
		}
		n++
		changes += p.changes
		if changes >= maxChunk {
			break
		}
	}
	return s.pend[:n:n], 0, s.closing
}

// applyPending writes batches to the tables in one transaction.
func (s *Store) applyPending(take []*pendingBatch) error {
	batches := make([]*store.Batch, len(take))
	for i, p := range take {
		b, err := decodeBatch(p.payload)
		if err != nil {
			return fmt.Errorf("sqlite: log record %d: %w", p.seq, err)
		}
		batches[i] = b
	}
	c := coalesce(batches)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.w == nil {
		return errClosed
	}
	return s.w.apply(c, take[len(take)-1].seq)
}

// taken drops applied batches from the pending state (under pmu).
func (s *Store) taken(take []*pendingBatch) {
	for _, p := range take {
		for _, id := range p.msgIDs {
			if s.pmsgs[id] == p.seq {
				delete(s.pmsgs, id)
			}
		}
		for _, id := range p.delIDs {
			if s.pdels[id].seq == p.seq {
				delete(s.pdels, id)
			}
		}
		s.backlog -= p.changes
	}
	s.applied = take[len(take)-1].seq
	clear(s.pend[:len(take)]) // take shares this array: its last use
	s.pend = s.pend[len(take):]
	msgFloor, delFloor := s.inflightMsg, s.inflightDel
	for _, p := range s.pend {
		msgFloor = minNonZero(msgFloor, p.minFreshMsg)
		delFloor = minNonZero(delFloor, p.minFreshDel)
	}
	s.freshMsgs.trim(msgFloor)
	s.freshDels.trim(delFloor)
}

// minNonZero is the smaller of a and b, where 0 stands for none.
func minNonZero(a, b uint64) uint64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

// Backlog reports how far the tables are behind the log: the changes
// logged and not yet applied, and how long ago the oldest of them was
// logged (0 when there are none). A backlog that keeps growing means the
// database cannot keep up; Apply slows down to its pace past 2¹⁸ changes.
func (s *Store) Backlog() (changes int, age time.Duration) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if len(s.pend) > 0 {
		age = time.Since(s.pend[0].at)
	}
	return s.backlog, age
}

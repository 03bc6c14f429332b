// Package sqlite is the gateway's embedded store: a store.Store in one
// SQLite database file, in pure Go (modernc.org/sqlite, no cgo), with a
// write-ahead log of batches beside it (the directory "<file>-log").
//
// Apply appends the batch to the log as one record and returns once the
// write has returned: with store.Crash the operating system has the
// record, which survives the process being killed; with store.PowerLoss
// the record is also synced to the disk first. The database's tables
// follow behind: a goroutine applies settled records in large
// transactions, each recording how far into the log it reached, and folds
// away what cancels out on the way (a message submitted and delivered
// within the run is written once, in its final state; a receipt
// acknowledged within it is never written). Open applies the records the
// tables do not have yet, so a batch that Apply acknowledged is never lost,
// and a batch is applied whole or not at all.
//
// Every read waits for the tables to have what was logged when it began
// (asking the indexer not to wait for records to settle), so a read sees
// every Apply that returned before it, and never part of a batch. Under
// load that wait is a transaction or two; should the tables fall far
// behind, Apply waits for them, so the backlog stays bounded.
//
// One connection writes (the indexer's, and NextEpoch's); readers use a
// pool of their own connections and, in WAL mode, neither wait for the
// writer nor hold it up. Unfinished and Deliveries read in pages, so fn
// may call the store, and a long walk does not hold a read transaction
// open (which would keep the WAL from being checkpointed); they do not see
// a single snapshot of the store.
//
// What comes back is what went in, except: times come back in UTC, exact to
// the nanosecond, and must lie between the years 1678 and 2261 (Unix
// nanoseconds in an int64) or be zero; an empty Body or TLVs comes back nil.
// A Delivery id of 2⁶³ or more is kept exactly but orders as negative among
// deliveries with the same CreatedAt.
//
// The database's schema is versioned (PRAGMA user_version) and migrated
// forward by Open. A database and its log are meant for one process (one
// smppd), and belong together: a backup copies both, with smppd stopped.
// Reads honour their context while they wait for the tables or for a
// connection and between pages, not within one SQLite statement.
package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppkit/smpp/gateway/store"
	sqlite "modernc.org/sqlite"
)

// Options configure a Store.
type Options struct {
	// Durability is what a committed batch survives (store.Crash, the
	// zero value, or store.PowerLoss).
	Durability store.Durability
	// Readers is the number of connections that read (0: 4).
	Readers int
	// BusyTimeout bounds how long a statement waits for a lock another
	// connection holds (0: 5s).
	BusyTimeout time.Duration
}

var errClosed = errors.New("sqlite: store closed")

// Store is a store.Store in an SQLite database. Its methods may be called
// from many goroutines.
type Store struct {
	wmu sync.Mutex // serialises the writer
	w   *writer    // nil once closed

	log *batchLog
	amu sync.Mutex // serialises Apply: its checks, then its log record
	rec []byte     // Apply's encoding buffer, under amu
	// paceAt is when the next paced Apply may go (pace), under amu.
	paceAt time.Time

	// Under pmu: what is logged but not yet in the tables (see index.go).
	pmu   sync.Mutex
	pend  []*pendingBatch
	pmsgs map[string]uint64 // new message ids → seq of their batch
	// Ids of fresh epochs, stored or logged (fresh.go); not in pmsgs
	// and pdels.
	freshMsgs, freshDels freshIDs
	// The lowest fresh ids of the batch Apply is checking (index.go).
	inflightMsg, inflightDel uint64
	pdels                    map[uint64]pendingDel // delivery ids inserted or done
	backlog                  int                   // changes in pend
	drain                    float64               // changes/s the indexer applies (a moving mean)
	logged                   uint64                // seq of the last record logged
	applied                  uint64                // seq of the last record in the tables
	flushTo                  uint64                // a read waits for the tables to reach this
	closing                  bool
	ierr                     error         // the last failure to apply, nil once one succeeds
	progress                 chan struct{} // closed and replaced whenever applied moves
	wake                     chan struct{} // tells the indexer to look again
	stop                     chan struct{} // closed by Close: waits end
	indexed                  chan struct{} // closed when the indexer has stopped

	readers chan *reader
	nreader int
	closed  atomic.Bool
	done    chan struct{} // closed by Close
	once    sync.Once
	cerr    error
}

var _ store.Store = (*Store)(nil)

// Open opens the store in the database file at path, creating the file,
// its directory and the schema if missing, and migrating an older schema.
func Open(path string, opts Options) (*Store, error) {
	if opts.Durability != store.Crash && opts.Durability != store.PowerLoss {
		return nil, fmt.Errorf("sqlite: unknown durability %d", opts.Durability)
	}
	if opts.Readers <= 0 {
		opts.Readers = 4
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	// The log's lock first: a second Store must not migrate the schema
	// or touch the log under a first one.
	logDir := path + "-log"
	if err := os.MkdirAll(logDir, 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: log: %w", err)
	}
	lock, err := lockDir(logDir)
	if err != nil {
		return nil, err
	}
	opened := false
	defer func() {
		if !opened {
			lock.Close()
		}
	}()
	sync := "NORMAL"
	if opts.Durability == store.PowerLoss {
		sync = "FULL"
	}
	busy := fmt.Sprintf("PRAGMA busy_timeout = %d", opts.BusyTimeout.Milliseconds())

	wc, err := openConn(path,
		busy,
		"PRAGMA journal_mode = WAL",
		"PRAGMA synchronous = "+sync,
		// Checkpoint every 32 MiB of WAL rather than 4: a page written by
		// several commits in between is copied once (8% faster Apply of
		// 1000 lifecycles). The WAL is cut back to 64 MiB after a
		// checkpoint.
		"PRAGMA wal_autocheckpoint = 8192",
		"PRAGMA journal_size_limit = 67108864",
		// A bigger page cache (64 MiB) keeps the indexes' pages in memory.
		"PRAGMA cache_size = -65536",
		"PRAGMA temp_store = MEMORY",
	)
	if err != nil {
		return nil, err
	}
	if err := checkWAL(wc); err != nil {
		wc.Close()
		return nil, err
	}
	if err := migrate(wc); err != nil {
		wc.Close()
		return nil, err
	}
	applied, err := queryInt(wc, "SELECT applied FROM log")
	if err != nil {
		wc.Close()
		return nil, fmt.Errorf("sqlite: log position: %w", err)
	}
	s := &Store{
		w:        newWriter(wc),
		readers:  make(chan *reader, opts.Readers),
		nreader:  opts.Readers,
		done:     make(chan struct{}),
		pmsgs:    make(map[string]uint64),
		pdels:    make(map[uint64]pendingDel),
		applied:  uint64(applied),
		logged:   uint64(applied),
		progress: make(chan struct{}),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		indexed:  make(chan struct{}),
	}
	for range opts.Readers {
		rc, err := openConn(path, busy, "PRAGMA query_only = 1", "PRAGMA cache_size = -16384")
		if err != nil {
			s.w.close()
			s.closeReaders(len(s.readers))
			return nil, err
		}
		s.readers <- &reader{c: rc, stmts: make(map[string]driver.Stmt)}
	}
	if err := s.recover(logDir, opts.Durability == store.PowerLoss, lock); err != nil {
		s.w.close()
		s.closeReaders(opts.Readers)
		return nil, err
	}
	go s.index()
	opened = true
	return s, nil
}

// recover opens the log and applies what the tables do not have yet: the
// batches of a process that stopped before its indexer caught up.
func (s *Store) recover(dir string, sync bool, lock *os.File) error {
	l, recs, err := openLog(dir, sync, s.applied, lock)
	if err != nil {
		return err
	}
	s.log = l
	for len(recs) > 0 {
		var batches []*store.Batch
		n := 0
		for changes := 0; n < len(recs) && changes < maxChunk; n++ {
			b, err := decodeBatch(recs[n].payload)
			if err != nil {
				return fmt.Errorf("sqlite: log record %d: %w", recs[n].seq, err)
			}
			batches = append(batches, b)
			changes += b.Len()
		}
		seq := recs[n-1].seq
		if err := s.w.apply(coalesce(batches), seq); err != nil {
			return fmt.Errorf("sqlite: applying the log: %w", err)
		}
		s.applied, s.logged = seq, seq
		recs = recs[n:]
	}
	if !sync && l.releasable(s.applied) {
		// As in releaseLog: the tables' commits synced before their
		// records go.
		if err := execConn(s.w.c, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
			return nil // the segments stay until a later release
		}
	}
	return l.release(s.applied)
}

func openConn(path string, pragmas ...string) (driver.Conn, error) {
	c, err := (&sqlite.Driver{}).Open(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	for _, p := range pragmas {
		if err := execConn(c, p); err != nil {
			c.Close()
			return nil, fmt.Errorf("sqlite: %s: %w", p, err)
		}
	}
	return c, nil
}

func execConn(c driver.Conn, query string, args ...driver.NamedValue) error {
	_, err := c.(driver.ExecerContext).ExecContext(context.Background(), query, args)
	return err
}

// queryInt returns the first column of the first row of query.
func queryInt(c driver.Conn, query string) (int64, error) {
	rows, err := c.(driver.QueryerContext).QueryContext(context.Background(), query, nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	v := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(v); err != nil {
		return 0, err
	}
	n, ok := v[0].(int64)
	if !ok {
		return 0, fmt.Errorf("%s gave %T", query, v[0])
	}
	return n, nil
}

func checkWAL(c driver.Conn) error {
	rows, err := c.(driver.QueryerContext).QueryContext(context.Background(), "PRAGMA journal_mode", nil)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return fmt.Errorf("sqlite: journal_mode: %w", err)
	}
	if mode, _ := v[0].(string); !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite: journal_mode is %v, not wal", v[0])
	}
	return nil
}

// migrate brings the schema to the newest version, in one transaction.
func migrate(c driver.Conn) error {
	if err := execConn(c, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	err := func() error {
		v, err := queryInt(c, "PRAGMA user_version")
		if err != nil {
			return err
		}
		if v > int64(len(migrations)) {
			return fmt.Errorf("schema version %d is newer than this program's %d", v, len(migrations))
		}
		for ; v < int64(len(migrations)); v++ {
			m := migrations[v]
			err := execConn(c, m.sql)
			if err == nil && m.then != nil {
				err = m.then(c)
			}
			if err == nil && m.after != "" {
				err = execConn(c, m.after)
			}
			if err != nil {
				return fmt.Errorf("to version %d: %w", v+1, err)
			}
		}
		return execConn(c, fmt.Sprintf("PRAGMA user_version = %d", len(migrations)))
	}()
	if err != nil {
		execConn(c, "ROLLBACK")
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if err := execConn(c, "COMMIT"); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// Apply logs b and returns once the record is durable; the tables take
// it up soon after, and every read waits for them to have what was
// applied before it began. It checks ctx before it starts and while it
// waits for the tables to catch up with a long backlog; once it writes its
// record, it runs to its end.
func (s *Store) Apply(ctx context.Context, b *store.Batch) error {
	return s.apply(ctx, b)
}

// NextEpoch increments and returns the stored epoch, committed before it
// returns.
func (s *Store) NextEpoch(ctx context.Context) (uint32, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.wmu.Lock()
	if s.w == nil {
		s.wmu.Unlock()
		return 0, errClosed
	}
	n, err := queryInt(s.w.c, "UPDATE epoch SET n = n + 1 WHERE n < 4294967295 RETURNING n")
	s.wmu.Unlock()
	if errors.Is(err, io.EOF) {
		return 0, errors.New("sqlite: epochs exhausted")
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: epoch: %w", err)
	}
	s.freshen(ctx, uint32(n))
	return uint32(n), nil
}

// freshen makes epoch's ids fresh (see freshIDs) unless some are stored
// already: someone else's ids that happen to look like ours.
func (s *Store) freshen(ctx context.Context, epoch uint32) {
	s.amu.Lock() // no Apply between the look and the mark
	defer s.amu.Unlock()
	if s.caughtUp(ctx) != nil {
		return
	}
	lo := uint64(epoch) << 32
	hi := lo | 0xffffffff
	r, err := s.acquire(ctx)
	if err != nil {
		return
	}
	defer s.release(r)
	for _, q := range []struct {
		sql    string
		lo, hi driver.Value
	}{
		{"SELECT count(*) FROM (SELECT 1 FROM messages WHERE id BETWEEN ? AND ? LIMIT 1)", strconv.FormatUint(lo, 16), strconv.FormatUint(hi, 16)},
		{"SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE id BETWEEN ? AND ? LIMIT 1)", int64(lo), int64(hi)},
	} {
		rows, err := r.query(q.sql, args(q.lo, q.hi))
		if err != nil {
			return
		}
		err = r.row(rows)
		rows.Close()
		if n, _ := r.vals[0].(int64); err != nil || n != 0 {
			return
		}
	}
	s.pmu.Lock()
	s.freshMsgs.add(epoch)
	s.freshDels.add(epoch)
	s.pmu.Unlock()
}

// Ping checks the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	r, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer s.release(r)
	if _, err := queryInt(r.c, "SELECT 1"); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.log.err(); err != nil {
		return err
	}
	s.pmu.Lock()
	ierr := s.ierr
	s.pmu.Unlock()
	if ierr != nil {
		return fmt.Errorf("sqlite: the tables are behind the log: %w", ierr)
	}
	return nil
}

// Close stops taking batches, waits for the tables to have every logged
// one and for reads in progress, then closes the database. Later calls
// fail; closing twice is harmless.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.stop)
		s.amu.Lock() // no Apply in progress, none to come
		s.amu.Unlock()
		s.pmu.Lock()
		s.closing = true
		s.pmu.Unlock()
		s.poke()
		<-s.indexed
		close(s.done)
		var errs []error
		if len(s.pend) > 0 {
			// Safe in the log, applied by the next Open; but say so.
			errs = append(errs, fmt.Errorf("sqlite: %d batches left in the log for the next open: %w", len(s.pend), s.ierr))
		}
		errs = append(errs, s.log.close(s.applied))
		errs = append(errs, s.closeReaders(s.nreader))
		s.wmu.Lock()
		if s.w != nil {
			errs = append(errs, s.w.close())
			s.w = nil
		}
		s.wmu.Unlock()
		s.cerr = errors.Join(errs...)
	})
	return s.cerr
}

func (s *Store) closeReaders(n int) error {
	var errs []error
	for range n {
		r := <-s.readers
		errs = append(errs, r.close())
	}
	return errors.Join(errs...)
}

// acquire takes a reader from the pool.
func (s *Store) acquire(ctx context.Context) (*reader, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	select {
	case r := <-s.readers:
		if s.closed.Load() {
			s.readers <- r // Close is collecting them
			return nil, errClosed
		}
		return r, nil
	case <-s.done:
		return nil, errClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Store) release(r *reader) { s.readers <- r }

// The zero time.Time is stored as zeroTime; other times as Unix
// nanoseconds, within [minTime, maxTime].
const zeroTime = math.MinInt64

var (
	minTime = time.Unix(0, math.MinInt64+1)
	maxTime = time.Unix(0, math.MaxInt64)
)

func encTime(t time.Time) (int64, error) {
	if t.IsZero() {
		return zeroTime, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return 0, fmt.Errorf("sqlite: time %v out of range", t)
	}
	return t.UnixNano(), nil
}

// clampTime encodes a filter's bound, which may lie out of range.
func clampTime(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64 + 1
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func decTime(n int64) time.Time {
	if n == zeroTime {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func blob(b []byte) driver.Value {
	if len(b) == 0 {
		return nil
	}
	return b
}

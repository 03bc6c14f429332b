// Package sqlite is the gateway's embedded store: a store.Store in one
// SQLite database file, in pure Go (modernc.org/sqlite, no cgo).
//
// Guarantees: each Apply is one SQLite transaction, so a batch is applied
// whole or not at all, and once Apply returns nil the batch survives what
// Options.Durability says: with store.Crash (WAL, synchronous=NORMAL) the
// process being killed, with store.PowerLoss (WAL, synchronous=FULL, the WAL
// synced on every commit) a power loss too. Reads see only committed
// batches, never part of one.
//
// One connection writes (SQLite serialises writers anyway), so concurrent
// Apply calls queue; the gateway's group commit makes each of them big.
// Readers use a pool of their own connections and, in WAL mode, neither wait
// for the writer nor hold it up. Unfinished and Deliveries read in pages, so
// fn may call the store, and a long walk does not hold a read transaction
// open (which would keep the WAL from being checkpointed); they do not see a
// single snapshot of the store.
//
// What comes back is what went in, except: times come back in UTC, exact to
// the nanosecond, and must lie between the years 1678 and 2261 (Unix
// nanoseconds in an int64) or be zero; an empty Body or TLVs comes back nil.
// A Delivery id of 2⁶³ or more is kept exactly but orders as negative among
// deliveries with the same CreatedAt.
//
// The database's schema is versioned (PRAGMA user_version) and migrated
// forward by Open. A database is meant for one process (one smppd); a
// second one would queue for the write lock (Options.BusyTimeout). Reads
// honour their context while they wait for a connection and between pages,
// not within one SQLite statement.
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
	s := &Store{
		w:       newWriter(wc),
		readers: make(chan *reader, opts.Readers),
		nreader: opts.Readers,
		done:    make(chan struct{}),
	}
	for range opts.Readers {
		rc, err := openConn(path, busy, "PRAGMA query_only = 1", "PRAGMA cache_size = -16384")
		if err != nil {
			s.Close()
			return nil, err
		}
		s.readers <- &reader{c: rc, stmts: make(map[string]driver.Stmt)}
	}
	return s, nil
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
			if err := execConn(c, migrations[v]); err != nil {
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

// Apply commits b in one transaction. It checks ctx before it starts; once
// the transaction has begun it runs to its end, since a half-done Apply
// would only be rolled back.
func (s *Store) Apply(ctx context.Context, b *store.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.w == nil {
		return errClosed
	}
	if b.Len() == 0 {
		return nil
	}
	return s.w.apply(b)
}

// NextEpoch increments and returns the stored epoch, committed before it
// returns.
func (s *Store) NextEpoch(ctx context.Context) (uint32, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.w == nil {
		return 0, errClosed
	}
	n, err := queryInt(s.w.c, "UPDATE epoch SET n = n + 1 WHERE n < 4294967295 RETURNING n")
	if errors.Is(err, io.EOF) {
		return 0, errors.New("sqlite: epochs exhausted")
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: epoch: %w", err)
	}
	return uint32(n), nil
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
	return nil
}

// Close waits for reads in progress, then closes the database. Later calls
// fail; closing twice is harmless.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.done)
		var errs []error
		for range s.nreader {
			r := <-s.readers
			errs = append(errs, r.close())
		}
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

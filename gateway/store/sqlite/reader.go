package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/smppkit/smpp/gateway/store"
)

// reader is a read-only connection from the pool, with its prepared
// statements by query text.
type reader struct {
	c     driver.Conn
	stmts map[string]driver.Stmt
	vals  []driver.Value // one row
}

// maxStmts bounds a reader's statement cache (Find builds its query from
// the filter's fields, so there are a few hundred shapes at most).
const maxStmts = 64

func (r *reader) close() error {
	var errs []error
	for _, st := range r.stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(append(errs, r.c.Close())...)
}

// query runs a SELECT; the caller closes the rows. The context given to
// the driver has no Done channel (it would start a goroutine per query);
// callers check theirs between rows.
func (r *reader) query(q string, args []driver.NamedValue) (driver.Rows, error) {
	st := r.stmts[q]
	if st == nil {
		var err error
		if st, err = r.c.(driver.ConnPrepareContext).PrepareContext(context.Background(), q); err != nil {
			return nil, err
		}
		if len(r.stmts) >= maxStmts {
			for k, old := range r.stmts {
				old.Close()
				delete(r.stmts, k)
			}
		}
		r.stmts[q] = st
	}
	return st.(driver.StmtQueryContext).QueryContext(context.Background(), args)
}

// row reads the next row into r.vals.
func (r *reader) row(rows driver.Rows) error {
	n := len(rows.Columns())
	if cap(r.vals) < n {
		r.vals = make([]driver.Value, n)
	}
	r.vals = r.vals[:n]
	return rows.Next(r.vals)
}

func args(vs ...driver.Value) []driver.NamedValue {
	a := make([]driver.NamedValue, len(vs))
	for i, v := range vs {
		a[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return a
}

var (
	qMessage = "SELECT content FROM messages WHERE id = ?"
	// Unfinished and Deliveries read in pages, ordered by key.
	qUnfinishedFirst = "SELECT content FROM messages WHERE " + notFinal +
		" ORDER BY submitted_at, id LIMIT ?"
	qUnfinishedNext = "SELECT content FROM messages WHERE " + notFinal +
		" AND (submitted_at, id) > (?, ?) ORDER BY submitted_at, id LIMIT ?"
	qDeliveriesFirst = "SELECT " + deliveryCols + " FROM deliveries ORDER BY created_at, id LIMIT ?"
	qDeliveriesNext  = "SELECT " + deliveryCols + " FROM deliveries WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?"
)

// pageSize is how many rows Unfinished and Deliveries read at a time.
const pageSize = 256

// Message returns a stored message, or store.ErrNotFound.
func (s *Store) Message(ctx context.Context, id string) (*store.Message, error) {
	if err := s.caughtUp(ctx); err != nil {
		return nil, err
	}
	r, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer s.release(r)
	ms, err := r.messages(qMessage, args(id), 1)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, store.ErrNotFound
	}
	return ms[0], nil
}

var (
	_ store.Historian  = (*Store)(nil)
	_ store.Backlogger = (*Store)(nil)
)

const (
	qEvents  = "SELECT events FROM messages WHERE id = ?"
	qHistory = "SELECT state, error_code, at FROM history WHERE message_id = ? ORDER BY rowid"
)

// History returns a message's history (store.Historian).
func (s *Store) History(ctx context.Context, id string) ([]store.Event, error) {
	if err := s.caughtUp(ctx); err != nil {
		return nil, err
	}
	r, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer s.release(r)
	// The events the row was written with, then those of later updates.
	rows, err := r.query(qEvents, args(id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	err = r.row(rows)
	rows.Close()
	if err == io.EOF {
		return nil, store.ErrNotFound
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	d := decoder{v: r.vals}
	out, err := decodeEvents(d.bytes())
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []store.Event{}
	}
	rows, err = r.query(qHistory, args(id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer rows.Close()
	for {
		if err := r.row(rows); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		d := decoder{v: r.vals}
		out = append(out, store.Event{State: store.State(d.int()), ErrorCode: uint16(d.int()), At: decTime(d.int())})
		if d.err != nil {
			return nil, d.err
		}
	}
	return out, nil
}

// messages runs q and decodes up to limit messages from it.
func (r *reader) messages(q string, a []driver.NamedValue, limit int) ([]*store.Message, error) {
	rows, err := r.query(q, a)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer rows.Close()
	var out []*store.Message
	for len(out) < limit {
		if err := r.row(rows); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		m, err := decodeMessage(r.vals)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Find returns the messages that match f, newest first. A Before naming a
// message the store does not have matches nothing. The source, destination
// and service type are in the row's content, not in columns: with one of
// them in f, Find reads pages of the other conditions' matches and keeps
// those that match it.
func (s *Store) Find(ctx context.Context, f store.Filter) ([]*store.Message, error) {
	if err := s.caughtUp(ctx); err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	byContent := f.Source != "" || f.Dest != "" || f.ServiceType != ""
	if !byContent {
		q, a := findQuery(f, nil, limit)
		r, err := s.acquire(ctx)
		if err != nil {
			return nil, err
		}
		defer s.release(r)
		return r.messages(q, args(a...), limit)
	}
	var out []*store.Message
	var last *store.Message
	for len(out) < limit {
		q, a := findQuery(f, last, pageSize)
		r, err := s.acquire(ctx)
		if err != nil {
			return nil, err
		}
		page, err := r.messages(q, args(a...), pageSize)
		s.release(r)
		if err != nil {
			return nil, err
		}
		for _, m := range page {
			if (f.Source == "" || m.Source.Addr == f.Source) && (f.Dest == "" || m.Dest.Addr == f.Dest) &&
				(f.ServiceType == "" || m.ServiceType == f.ServiceType) && len(out) < limit {
				out = append(out, m)
			}
		}
		if len(page) < pageSize {
			break
		}
		last = page[len(page)-1]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// findQuery returns a query for the messages that match f's conditions on
// columns, older than after if it is not nil, and its arguments.
func findQuery(f store.Filter, after *store.Message, limit int) (string, []driver.Value) {
	var q strings.Builder
	var a []driver.Value
	q.WriteString("SELECT content FROM messages")
	if f.Account == "" {
		// Without an index of its own to narrow by, walk messages newest
		// first and stop at the limit, rather than sort them all (which
		// the planner, without statistics, would do for a state list).
		q.WriteString(" INDEXED BY messages_submitted")
	}
	q.WriteString(" WHERE 1")
	cond := func(sql string, v ...driver.Value) {
		q.WriteString(" AND " + sql)
		a = append(a, v...)
	}
	if f.Account != "" {
		cond("account = ?", f.Account)
	}
	if len(f.States) > 0 {
		q.WriteString(" AND state IN (" + placeholders(1, len(f.States)) + ")")
		for _, st := range f.States {
			a = append(a, int64(st))
		}
	}
	if !f.Since.IsZero() {
		cond("submitted_at >= ?", clampTime(f.Since))
	}
	if !f.Until.IsZero() {
		cond("submitted_at < ?", clampTime(f.Until))
	}
	if f.Before != "" {
		cond("(submitted_at, id) < (SELECT submitted_at, id FROM messages WHERE id = ?)", f.Before)
	}
	if after != nil {
		at, _ := encTime(after.SubmittedAt) // it came from the store
		cond("(submitted_at, id) < (?, ?)", at, after.ID)
	}
	q.WriteString(" ORDER BY submitted_at DESC, id DESC LIMIT ?")
	a = append(a, int64(limit))
	return q.String(), a
}

// Unfinished calls fn for every message not in a final state, oldest
// first, reading a page at a time and calling fn between reads.
func (s *Store) Unfinished(ctx context.Context, fn func(*store.Message) error) error {
	return walk(ctx, s, func(r *reader, after *store.Message) ([]*store.Message, error) {
		if after == nil {
			return r.messages(qUnfinishedFirst, args(int64(pageSize)), pageSize)
		}
		at, _ := encTime(after.SubmittedAt) // it came from the store
		return r.messages(qUnfinishedNext, args(at, after.ID, int64(pageSize)), pageSize)
	}, func(m *store.Message) store.Message { return store.Message{ID: m.ID, SubmittedAt: m.SubmittedAt} }, fn)
}

// Deliveries calls fn for every delivery not yet done, oldest first
// (CreatedAt, then id), reading a page at a time.
func (s *Store) Deliveries(ctx context.Context, fn func(*store.Delivery) error) error {
	return walk(ctx, s, func(r *reader, after *store.Delivery) ([]*store.Delivery, error) {
		if after == nil {
			return r.deliveries(qDeliveriesFirst, args(int64(pageSize)))
		}
		at, _ := encTime(after.CreatedAt)
		return r.deliveries(qDeliveriesNext, args(at, int64(after.ID), int64(pageSize)))
	}, func(d *store.Delivery) store.Delivery { return store.Delivery{ID: d.ID, CreatedAt: d.CreatedAt} }, fn)
}

// walk calls fn for every item that page reads, a page of up to pageSize
// at a time after the key of the last item (nil: the first page). Each
// page holds a reader only while it is read, so fn may call the store;
// key copies what continues the walk, since fn may change the item.
func walk[T, K any](ctx context.Context, s *Store, page func(r *reader, after *K) ([]T, error), key func(T) K, fn func(T) error) error {
	if err := s.caughtUp(ctx); err != nil {
		return err
	}
	var last *K
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := s.acquire(ctx)
		if err != nil {
			return err
		}
		items, err := page(r, last)
		s.release(r)
		if err != nil {
			return err
		}
		for _, it := range items {
			k := key(it)
			if err := fn(it); err != nil {
				return err
			}
			last = &k
		}
		if len(items) < pageSize {
			return nil
		}
	}
}

func (r *reader) deliveries(q string, a []driver.NamedValue) ([]*store.Delivery, error) {
	rows, err := r.query(q, a)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer rows.Close()
	var out []*store.Delivery
	for {
		if err := r.row(rows); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		d, err := decodeDelivery(r.vals)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
}

// decoder reads a row's columns in order, remembering the first error.
type decoder struct {
	v   []driver.Value
	i   int
	err error
}

func (d *decoder) next() driver.Value {
	if d.i >= len(d.v) {
		d.fail("too few columns")
		return nil
	}
	v := d.v[d.i]
	d.i++
	return v
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = fmt.Errorf("sqlite: column %d: %s", d.i, msg)
	}
}

func (d *decoder) int() int64 {
	n, ok := d.next().(int64)
	if !ok {
		d.fail("not an integer")
	}
	return n
}

func (d *decoder) str() string {
	switch v := d.next().(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	d.fail("not text")
	return ""
}

func (d *decoder) bytes() []byte {
	switch v := d.next().(type) {
	case nil:
		return nil
	case []byte:
		if len(v) == 0 {
			return nil
		}
		return v // the driver copied it out of SQLite's memory
	}
	d.fail("not a blob")
	return nil
}

func decodeMessage(v []driver.Value) (*store.Message, error) {
	d := decoder{v: v}
	content := d.bytes()
	if d.err != nil {
		return nil, d.err
	}
	return decodeBatchMessage(content)
}

// decodeMessageV3 reads a row of schema 3's messages (messageColsV3).
func decodeMessageV3(v []driver.Value) (*store.Message, error) {
	d := decoder{v: v}
	m := &store.Message{
		ID:                 d.str(),
		Account:            d.str(),
		Route:              d.str(),
		Source:             store.Address{TON: uint8(d.int()), NPI: uint8(d.int()), Addr: d.str()},
		Dest:               store.Address{TON: uint8(d.int()), NPI: uint8(d.int()), Addr: d.str()},
		ServiceType:        d.str(),
		ESMClass:           uint8(d.int()),
		ProtocolID:         uint8(d.int()),
		Priority:           uint8(d.int()),
		RegisteredDelivery: uint8(d.int()),
		DataCoding:         uint8(d.int()),
		Body:               d.bytes(),
		TLVs:               d.bytes(),
		Group:              d.str(),
		Part:               uint8(d.int()),
		Parts:              uint8(d.int()),
		SubmittedAt:        decTime(d.int()),
		ScheduleAt:         decTime(d.int()),
		ExpireAt:           decTime(d.int()),
		State:              store.State(d.int()),
		ErrorCode:          uint16(d.int()),
		DoneAt:             decTime(d.int()),
		BackendID:          d.str(),
		Attempts:           int(d.int()),
		UpdatedAt:          decTime(d.int()),
	}
	return m, d.err
}

func decodeDelivery(v []driver.Value) (*store.Delivery, error) {
	d := decoder{v: v}
	return &store.Delivery{
		ID:          uint64(d.int()),
		Account:     d.str(),
		Kind:        store.DeliveryKind(d.int()),
		Source:      store.Address{TON: uint8(d.int()), NPI: uint8(d.int()), Addr: d.str()},
		Dest:        store.Address{TON: uint8(d.int()), NPI: uint8(d.int()), Addr: d.str()},
		ESMClass:    uint8(d.int()),
		DataCoding:  uint8(d.int()),
		Body:        d.bytes(),
		TLVs:        d.bytes(),
		MessageID:   d.str(),
		State:       store.State(d.int()),
		ErrorCode:   uint16(d.int()),
		CreatedAt:   decTime(d.int()),
		Attempts:    int(d.int()),
		NextAttempt: decTime(d.int()),
	}, d.err
}

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

// Rows per multi-row INSERT or DELETE statement. One statement for many
// rows saves a parse, a bind call and a VM run per row; 64 deliveries are
// 1216 parameters, well under SQLite's limit of 32766.
const (
	insertRows = 64
	deleteRows = 128
	histRows   = 128
)

// writer is the one connection that writes, with its statements prepared
// once and kept for the life of the store. Only Store.Apply and NextEpoch
// use it, under Store.wmu.
type writer struct {
	c driver.Conn

	begin, commit, rollback driver.Stmt
	retry                   driver.Stmt
	content, change         driver.Stmt
	applied                 driver.Stmt
	insertMsg               [insertRows + 1]driver.Stmt // by number of rows
	insertDel               [insertRows + 1]driver.Stmt
	deleteDel               [deleteRows + 1]driver.Stmt
	histInsert              [histRows + 1]driver.Stmt

	args []driver.NamedValue // reused for every statement
	buf  []byte              // for the encoded parts of rows
}

func newWriter(c driver.Conn) *writer {
	w := &writer{c: c}
	n := max(insertRows*nMessageCols, insertRows*nDeliveryCols, histRows*historyCols, deleteRows)
	w.args = make([]driver.NamedValue, n)
	for i := range w.args {
		w.args[i].Ordinal = i + 1
	}
	return w
}

func (w *writer) close() error {
	var errs []error
	for _, st := range w.stmts() {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, w.c.Close())
	return errors.Join(errs...)
}

func (w *writer) stmts() []driver.Stmt {
	all := []driver.Stmt{w.begin, w.commit, w.rollback, w.retry, w.content, w.change, w.applied}
	all = append(all, w.insertMsg[:]...)
	all = append(all, w.insertDel[:]...)
	all = append(all, w.histInsert[:]...)
	return append(all, w.deleteDel[:]...)
}

// prepare returns *st, preparing it from query() the first time.
func (w *writer) prepare(st *driver.Stmt, query func() string) (driver.Stmt, error) {
	if *st == nil {
		p, err := w.c.(driver.ConnPrepareContext).PrepareContext(context.Background(), query())
		if err != nil {
			return nil, err
		}
		*st = p
	}
	return *st, nil
}

// exec runs st with the first n of w.args. The context has no Done
// channel, so the driver does not start a watcher per statement.
func (w *writer) exec(st driver.Stmt, n int) error {
	_, err := st.(driver.StmtExecContext).ExecContext(context.Background(), w.args[:n])
	for i := range w.args[:n] {
		w.args[i].Value = nil // drop references to the batch's data
	}
	return err
}

func (w *writer) run(st *driver.Stmt, query string) error {
	p, err := w.prepare(st, func() string { return query })
	if err != nil {
		return err
	}
	return w.exec(p, 0)
}

// apply writes c, the net effect of the logged batches up to seq, in one
// transaction that also records seq as applied.
func (w *writer) apply(c *coalesced, seq uint64) error {
	if err := w.run(&w.begin, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	if err := w.applyTx(c, seq); err != nil {
		if rerr := w.run(&w.rollback, "ROLLBACK"); rerr != nil {
			// A failed rollback leaves the connection unusable; the
			// caller learns both.
			return errors.Join(err, fmt.Errorf("sqlite: rollback: %w", rerr))
		}
		return err
	}
	if err := w.run(&w.commit, "COMMIT"); err != nil {
		w.run(&w.rollback, "ROLLBACK")
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// applyTx writes c. Stored deliveries are removed before new ones are
// inserted, since an acknowledged delivery's id may come again.
func (w *writer) applyTx(c *coalesced, seq uint64) error {
	for i := 0; i < len(c.msgs); i += insertRows {
		j := min(i+insertRows, len(c.msgs))
		if err := w.insertMessages(c.msgs[i:j], c.events[i:j]); err != nil {
			return err
		}
	}
	if err := w.changeMessages(c.replaces, c.updates); err != nil {
		return err
	}
	if len(c.retries) > 0 {
		st, err := w.prepare(&w.retry, func() string {
			return `UPDATE deliveries SET attempts = ?, next_attempt = ? WHERE id = ?`
		})
		if err != nil {
			return fmt.Errorf("sqlite: prepare retry: %w", err)
		}
		for _, r := range c.retries {
			next, err := encTime(r.NextAttempt)
			if err != nil {
				return err
			}
			w.args[0].Value = int64(r.Attempts)
			w.args[1].Value = next
			w.args[2].Value = int64(r.ID)
			if err := w.exec(st, 3); err != nil {
				return fmt.Errorf("sqlite: retry %d: %w", r.ID, err)
			}
		}
	}
	for i := 0; i < len(c.done); i += deleteRows {
		ids := c.done[i:min(i+deleteRows, len(c.done))]
		st, err := w.prepare(&w.deleteDel[len(ids)], func() string {
			return "DELETE FROM deliveries WHERE id IN (" + placeholders(1, len(ids)) + ")"
		})
		if err != nil {
			return fmt.Errorf("sqlite: prepare delete: %w", err)
		}
		for j, id := range ids {
			w.args[j].Value = int64(id)
		}
		if err := w.exec(st, len(ids)); err != nil {
			return fmt.Errorf("sqlite: done: %w", err)
		}
	}
	for i := 0; i < len(c.dels); i += insertRows {
		if err := w.insertDeliveries(c.dels[i:min(i+insertRows, len(c.dels))]); err != nil {
			return err
		}
	}
	st, err := w.prepare(&w.applied, func() string { return "UPDATE log SET applied = ?" })
	if err != nil {
		return fmt.Errorf("sqlite: prepare: %w", err)
	}
	w.args[0].Value = int64(seq)
	if err := w.exec(st, 1); err != nil {
		return fmt.Errorf("sqlite: log position: %w", err)
	}
	return nil
}

func (w *writer) insertMessages(ms []*store.Message, evs [][]store.Event) error {
	st, err := w.prepare(&w.insertMsg[len(ms)], func() string {
		// OR FAIL: a failure rolls the whole transaction back anyway,
		// so SQLite need not keep a statement journal to undo this
		// statement's rows alone.
		return "INSERT OR FAIL INTO messages (" + messageCols + ") VALUES " + placeholders(nMessageCols, len(ms))
	})
	if err != nil {
		return fmt.Errorf("sqlite: prepare insert: %w", err)
	}
	a := w.args
	buf := w.buf[:0]
	for i, m := range ms {
		sub, err := encTime(m.SubmittedAt)
		if err != nil {
			return fmt.Errorf("sqlite: message %s: %w", m.ID, err)
		}
		// The content and events of all rows share one buffer; the
		// driver copies what it binds.
		start := len(buf)
		if buf, err = appendMessage(buf, m); err != nil {
			return err
		}
		mid := len(buf)
		buf = appendEvents(buf, evs[i])
		a[0].Value = m.ID
		a[1].Value = m.Account
		a[2].Value = sub
		a[3].Value = int64(m.State)
		a[4].Value = buf[start:mid:mid]
		a[5].Value = blob(buf[mid:len(buf):len(buf)])
		a = a[nMessageCols:]
	}
	w.buf = buf
	if err := w.exec(st, len(ms)*nMessageCols); err != nil {
		return fmt.Errorf("sqlite: insert messages: %w", err)
	}
	return nil
}

// changeMessages applies replaces and updates to stored messages (those of
// messages not stored are ignored). A replace changes what the submitter
// chose and an update the state, so the two commute: each message's row is
// read once, takes its replaces and then its updates in order, and is
// written back once; each update adds a history row.
func (w *writer) changeMessages(replaces []*store.Message, updates []store.Update) error {
	if len(replaces) == 0 && len(updates) == 0 {
		return nil
	}
	get, err := w.prepare(&w.content, func() string { return "SELECT content FROM messages WHERE id = ?" })
	if err != nil {
		return fmt.Errorf("sqlite: prepare: %w", err)
	}
	put, err := w.prepare(&w.change, func() string { return "UPDATE messages SET state = ?, content = ? WHERE id = ?" })
	if err != nil {
		return fmt.Errorf("sqlite: prepare: %w", err)
	}
	type change struct {
		reps []*store.Message
		ups  []store.Update
	}
	byID := make(map[string]*change)
	var order []string
	at := func(id string) *change {
		c := byID[id]
		if c == nil {
			c = &change{}
			byID[id] = c
			order = append(order, id)
		}
		return c
	}
	for _, r := range replaces {
		if r == nil {
			return errors.New("sqlite: nil replace")
		}
		c := at(r.ID)
		c.reps = append(c.reps, r)
	}
	for _, u := range updates {
		c := at(u.ID)
		c.ups = append(c.ups, u)
	}
	var hist []histRow
	for _, id := range order {
		c := byID[id]
		old, err := w.queryBlob(get, id)
		if errors.Is(err, io.EOF) {
			continue // not stored: ignored
		}
		if err != nil {
			return fmt.Errorf("sqlite: message %s: %w", id, err)
		}
		b, err := decodeBatchMessage(old)
		if err != nil {
			return fmt.Errorf("sqlite: message %s: %w", id, err)
		}
		for _, r := range c.reps {
			store.Replace(b, r)
		}
		for _, u := range c.ups {
			applyUpdate(b, u)
			hist = append(hist, histRow{id, store.Event{State: u.State, ErrorCode: u.ErrorCode, At: u.At}})
		}
		content, err := appendMessage(nil, b)
		if err != nil {
			return err
		}
		w.args[0].Value, w.args[1].Value, w.args[2].Value = int64(b.State), content, id
		if err := w.exec(put, 3); err != nil {
			return fmt.Errorf("sqlite: message %s: %w", id, err)
		}
	}
	for i := 0; i < len(hist); i += histRows {
		if err := w.insertHistory(hist[i:min(i+histRows, len(hist))]); err != nil {
			return err
		}
	}
	return nil
}

// histRow is a history row: a message's event.
type histRow struct {
	id string
	store.Event
}

// historyCols are the parameters of one history row: message_id, state,
// error_code, at.
const historyCols = 4

func (w *writer) insertHistory(rows []histRow) error {
	st, err := w.prepare(&w.histInsert[len(rows)], func() string {
		return "INSERT INTO history (message_id, state, error_code, at) VALUES " + placeholders(historyCols, len(rows))
	})
	if err != nil {
		return fmt.Errorf("sqlite: prepare history: %w", err)
	}
	a := w.args
	for _, h := range rows {
		at, err := encTime(h.At)
		if err != nil {
			return err
		}
		a[0].Value, a[1].Value, a[2].Value, a[3].Value = h.id, int64(h.State), int64(h.ErrorCode), at
		a = a[historyCols:]
	}
	if err := w.exec(st, len(rows)*historyCols); err != nil {
		return fmt.Errorf("sqlite: insert history: %w", err)
	}
	return nil
}

// queryBlob runs st, a query of one blob, with id; io.EOF if no row.
func (w *writer) queryBlob(st driver.Stmt, id string) ([]byte, error) {
	rows, err := st.(driver.StmtQueryContext).QueryContext(context.Background(), []driver.NamedValue{{Ordinal: 1, Value: id}})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return nil, err
	}
	b, _ := v[0].([]byte)
	return b, nil
}

func (w *writer) insertDeliveries(ds []*store.Delivery) error {
	st, err := w.prepare(&w.insertDel[len(ds)], func() string {
		return "INSERT OR FAIL INTO deliveries (" + deliveryCols + ") VALUES " + placeholders(nDeliveryCols, len(ds))
	})
	if err != nil {
		return fmt.Errorf("sqlite: prepare insert: %w", err)
	}
	a := w.args
	for _, d := range ds {
		if d == nil {
			return errors.New("sqlite: nil delivery")
		}
		created, err := encTime(d.CreatedAt)
		if err != nil {
			return fmt.Errorf("sqlite: delivery %d: %w", d.ID, err)
		}
		next, err := encTime(d.NextAttempt)
		if err != nil {
			return fmt.Errorf("sqlite: delivery %d: %w", d.ID, err)
		}
		a[0].Value = int64(d.ID)
		a[1].Value = d.Account
		a[2].Value = int64(d.Kind)
		a[3].Value = int64(d.Source.TON)
		a[4].Value = int64(d.Source.NPI)
		a[5].Value = d.Source.Addr
		a[6].Value = int64(d.Dest.TON)
		a[7].Value = int64(d.Dest.NPI)
		a[8].Value = d.Dest.Addr
		a[9].Value = int64(d.ESMClass)
		a[10].Value = int64(d.DataCoding)
		a[11].Value = blob(d.Body)
		a[12].Value = blob(d.TLVs)
		a[13].Value = d.MessageID
		a[14].Value = int64(d.State)
		a[15].Value = int64(d.ErrorCode)
		a[16].Value = created
		a[17].Value = int64(d.Attempts)
		a[18].Value = next
		a = a[nDeliveryCols:]
	}
	if err := w.exec(st, len(ds)*nDeliveryCols); err != nil {
		return fmt.Errorf("sqlite: insert deliveries: %w", err)
	}
	return nil
}

// placeholders returns rows groups of cols question marks: "(?,?),(?,?)",
// or for cols 1 the bare list "?,?,?".
func placeholders(cols, rows int) string {
	group := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	if cols == 1 {
		group = "?"
	}
	return strings.TrimSuffix(strings.Repeat(group+",", rows), ",")
}

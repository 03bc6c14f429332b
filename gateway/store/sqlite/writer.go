package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smppkit/smpp/gateway/store"
)

// Rows per multi-row INSERT or DELETE statement. One statement for many
// rows saves a parse, a bind call and a VM run per row; 32 messages are 928
// parameters, well under SQLite's limit of 32766.
const (
	insertRows = 32
	deleteRows = 128
	updateRows = 64
)

// writer is the one connection that writes, with its statements prepared
// once and kept for the life of the store. Only Store.Apply and NextEpoch
// use it, under Store.wmu.
type writer struct {
	c driver.Conn

	begin, commit, rollback driver.Stmt
	retry                   driver.Stmt
	replace                 driver.Stmt
	update                  [updateRows + 1]driver.Stmt
	insertMsg               [insertRows + 1]driver.Stmt // by number of rows
	insertDel               [insertRows + 1]driver.Stmt
	deleteDel               [deleteRows + 1]driver.Stmt
	// The history rows of inserts and of updates, by number of rows.
	histInsert [insertRows + 1]driver.Stmt
	histUpdate [updateRows + 1]driver.Stmt

	args []driver.NamedValue // reused for every statement
}

func newWriter(c driver.Conn) *writer {
	w := &writer{c: c}
	n := max(insertRows*nMessageCols, insertRows*nDeliveryCols, updateRows*updateCols+1, deleteRows)
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
	all := []driver.Stmt{w.begin, w.commit, w.rollback, w.retry, w.replace}
	all = append(all, w.update[:]...)
	all = append(all, w.insertMsg[:]...)
	all = append(all, w.insertDel[:]...)
	all = append(all, w.histInsert[:]...)
	all = append(all, w.histUpdate[:]...)
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

func (w *writer) apply(b *store.Batch) error {
	if err := w.run(&w.begin, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	if err := w.applyTx(b); err != nil {
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

func (w *writer) applyTx(b *store.Batch) error {
	for i := 0; i < len(b.Messages); i += insertRows {
		if err := w.insertMessages(b.Messages[i:min(i+insertRows, len(b.Messages))]); err != nil {
			return err
		}
	}
	if err := w.replaceMessages(b.Replaces); err != nil {
		return err
	}
	if err := w.updateMessages(b.Updates); err != nil {
		return err
	}
	for i := 0; i < len(b.Deliveries); i += insertRows {
		if err := w.insertDeliveries(b.Deliveries[i:min(i+insertRows, len(b.Deliveries))]); err != nil {
			return err
		}
	}
	if len(b.Retries) > 0 {
		st, err := w.prepare(&w.retry, func() string {
			return `UPDATE deliveries SET attempts = ?, next_attempt = ? WHERE id = ?`
		})
		if err != nil {
			return fmt.Errorf("sqlite: prepare retry: %w", err)
		}
		for _, r := range b.Retries {
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
	for i := 0; i < len(b.Done); i += deleteRows {
		ids := b.Done[i:min(i+deleteRows, len(b.Done))]
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
	return nil
}

func (w *writer) insertMessages(ms []*store.Message) error {
	st, err := w.prepare(&w.insertMsg[len(ms)], func() string {
		return "INSERT INTO messages (" + messageCols + ") VALUES " + placeholders(nMessageCols, len(ms))
	})
	if err != nil {
		return fmt.Errorf("sqlite: prepare insert: %w", err)
	}
	a := w.args
	for _, m := range ms {
		if m == nil || m.ID == "" {
			return errors.New("sqlite: message with no id")
		}
		var t [5]int64
		for i, tm := range [...]time.Time{m.SubmittedAt, m.ScheduleAt, m.ExpireAt, m.DoneAt, m.UpdatedAt} {
			if t[i], err = encTime(tm); err != nil {
				return fmt.Errorf("sqlite: message %s: %w", m.ID, err)
			}
		}
		a[0].Value = m.ID
		a[1].Value = m.Account
		a[2].Value = m.Route
		a[3].Value = int64(m.Source.TON)
		a[4].Value = int64(m.Source.NPI)
		a[5].Value = m.Source.Addr
		a[6].Value = int64(m.Dest.TON)
		a[7].Value = int64(m.Dest.NPI)
		a[8].Value = m.Dest.Addr
		a[9].Value = m.ServiceType
		a[10].Value = int64(m.ESMClass)
		a[11].Value = int64(m.ProtocolID)
		a[12].Value = int64(m.Priority)
		a[13].Value = int64(m.RegisteredDelivery)
		a[14].Value = int64(m.DataCoding)
		a[15].Value = blob(m.Body)
		a[16].Value = blob(m.TLVs)
		a[17].Value = m.Group
		a[18].Value = int64(m.Part)
		a[19].Value = int64(m.Parts)
		a[20].Value = t[0]
		a[21].Value = t[1]
		a[22].Value = t[2]
		a[23].Value = int64(m.State)
		a[24].Value = int64(m.ErrorCode)
		a[25].Value = t[3]
		a[26].Value = m.BackendID
		a[27].Value = int64(m.Attempts)
		a[28].Value = t[4]
		a = a[nMessageCols:]
	}
	if err := w.exec(st, len(ms)*nMessageCols); err != nil {
		return fmt.Errorf("sqlite: insert messages: %w", err)
	}
	st, err = w.prepare(&w.histInsert[len(ms)], func() string {
		return "INSERT INTO history (message_id, state, error_code, at) VALUES " + placeholders(historyCols, len(ms))
	})
	if err != nil {
		return fmt.Errorf("sqlite: prepare history: %w", err)
	}
	a = w.args
	for _, m := range ms {
		at, _ := encTime(m.SubmittedAt) // (checked above)
		a[0].Value, a[1].Value, a[2].Value, a[3].Value = m.ID, int64(m.State), int64(m.ErrorCode), at
		a = a[historyCols:]
	}
	if err := w.exec(st, len(ms)*historyCols); err != nil {
		return fmt.Errorf("sqlite: insert history: %w", err)
	}
	return nil
}

// historyCols are the parameters of one history row: message_id, state,
// error_code, at.
const historyCols = 4

// updateHistory appends a run's updates to the history of the messages
// that exist (updates of unknown ids are ignored, like the updates).
func (w *writer) updateHistory(us []store.Update) error {
	st, err := w.prepare(&w.histUpdate[len(us)], func() string {
		return "INSERT INTO history (message_id, state, error_code, at) SELECT column1, column2, column3, column4 FROM (VALUES " +
			placeholders(historyCols, len(us)) + ") WHERE column1 IN (SELECT id FROM messages)"
	})
	if err != nil {
		return fmt.Errorf("sqlite: prepare history: %w", err)
	}
	a := w.args
	for _, u := range us {
		at, err := encTime(u.At)
		if err != nil {
			return err
		}
		a[0].Value, a[1].Value, a[2].Value, a[3].Value = u.ID, int64(u.State), int64(u.ErrorCode), at
		a = a[historyCols:]
	}
	if err := w.exec(st, len(us)*historyCols); err != nil {
		return fmt.Errorf("sqlite: update history: %w", err)
	}
	return nil
}

// replaceQuery sets the columns store.Replace changes; its arguments
// follow the column order, then the id.
const replaceQuery = `UPDATE messages SET src_ton = ?, src_npi = ?, src_addr = ?, dst_ton = ?, dst_npi = ?, dst_addr = ?,
	service_type = ?, esm_class = ?, protocol_id = ?, priority = ?, registered_delivery = ?, data_coding = ?,
	body = ?, tlvs = ?, grp = ?, part = ?, parts = ?, schedule_at = ?, expire_at = ?
WHERE id = ?`

// replaceMessages applies a batch's Replaces, one statement each (replaces
// are rare: replace_sm and replace_if_present_flag).
func (w *writer) replaceMessages(ms []*store.Message) error {
	if len(ms) == 0 {
		return nil
	}
	st, err := w.prepare(&w.replace, func() string { return replaceQuery })
	if err != nil {
		return fmt.Errorf("sqlite: prepare replace: %w", err)
	}
	for _, m := range ms {
		if m == nil {
			return errors.New("sqlite: nil replace")
		}
		sched, err := encTime(m.ScheduleAt)
		if err != nil {
			return fmt.Errorf("sqlite: replace %s: %w", m.ID, err)
		}
		exp, err := encTime(m.ExpireAt)
		if err != nil {
			return fmt.Errorf("sqlite: replace %s: %w", m.ID, err)
		}
		a := w.args
		a[0].Value = int64(m.Source.TON)
		a[1].Value = int64(m.Source.NPI)
		a[2].Value = m.Source.Addr
		a[3].Value = int64(m.Dest.TON)
		a[4].Value = int64(m.Dest.NPI)
		a[5].Value = m.Dest.Addr
		a[6].Value = m.ServiceType
		a[7].Value = int64(m.ESMClass)
		a[8].Value = int64(m.ProtocolID)
		a[9].Value = int64(m.Priority)
		a[10].Value = int64(m.RegisteredDelivery)
		a[11].Value = int64(m.DataCoding)
		a[12].Value = blob(m.Body)
		a[13].Value = blob(m.TLVs)
		a[14].Value = m.Group
		a[15].Value = int64(m.Part)
		a[16].Value = int64(m.Parts)
		a[17].Value = sched
		a[18].Value = exp
		a[19].Value = m.ID
		if err := w.exec(st, 20); err != nil {
			return fmt.Errorf("sqlite: replace %s: %w", m.ID, err)
		}
	}
	return nil
}

func (w *writer) insertDeliveries(ds []*store.Delivery) error {
	st, err := w.prepare(&w.insertDel[len(ds)], func() string {
		return "INSERT INTO deliveries (" + deliveryCols + ") VALUES " + placeholders(nDeliveryCols, len(ds))
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

// updateMessages applies us in order. Updates of different messages
// commute, so a run of updates with no id twice goes into one statement
// that joins the messages with a list of VALUES; a repeated id starts a
// new run, so that the later update wins.
func (w *writer) updateMessages(us []store.Update) error {
	seen := make(map[string]struct{}, min(len(us), updateRows))
	for len(us) > 0 {
		n := 0
		clear(seen)
		for n < len(us) && n < updateRows {
			if _, dup := seen[us[n].ID]; dup {
				break
			}
			seen[us[n].ID] = struct{}{}
			n++
		}
		if err := w.updateRun(us[:n]); err != nil {
			return err
		}
		if err := w.updateHistory(us[:n]); err != nil {
			return err
		}
		us = us[n:]
	}
	return nil
}

const updateCols = 6

func (w *writer) updateRun(us []store.Update) error {
	st, err := w.prepare(&w.update[len(us)], func() string { return updateQuery(len(us)) })
	if err != nil {
		return fmt.Errorf("sqlite: prepare update: %w", err)
	}
	a := w.args
	for _, u := range us {
		at, err := encTime(u.At)
		if err != nil {
			return err
		}
		a[0].Value = u.ID
		a[1].Value = int64(u.State)
		a[2].Value = int64(u.ErrorCode)
		a[3].Value = u.BackendID
		a[4].Value = int64(u.Attempts)
		a[5].Value = at
		a = a[updateCols:]
	}
	a[0].Value = int64(zeroTime)
	if err := w.exec(st, len(us)*updateCols+1); err != nil {
		return fmt.Errorf("sqlite: update: %w", err)
	}
	return nil
}

// updateQuery is the statement for n updates: its arguments are n groups of
// (id, state, error_code, backend_id, attempts, at), then zeroTime.
func updateQuery(n int) string {
	return `WITH u (id, state, error_code, backend_id, attempts, at) AS (VALUES ` + placeholders(updateCols, n) + `)
UPDATE messages SET state = u.state, error_code = u.error_code,
	backend_id = CASE WHEN u.backend_id = '' THEN messages.backend_id ELSE u.backend_id END,
	attempts = u.attempts, updated_at = u.at,
	done_at = CASE WHEN u.state IN ` + finalStates + ` AND messages.done_at = ? THEN u.at ELSE messages.done_at END
FROM u WHERE messages.id = u.id`
}

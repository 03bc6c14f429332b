package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"

	"github.com/smppkit/smpp/gateway/store"
)

// The schema, as migrations: migrations[i] takes a database from
// user_version i to i+1. A new version appends a migration; a shipped one
// never changes.
//
// Times are INTEGER Unix nanoseconds, with the zero time.Time as
// math.MinInt64 (zeroTime) so that it sorts first, as it does in Go, and
// 1970-01-01 stays a time of its own. The tables are STRICT so a wrong type
// fails instead of being stored.
var migrations = []migration{
	// 0 → 1
	{sql: `
CREATE TABLE messages (
	id                  TEXT    NOT NULL,
	account             TEXT    NOT NULL,
	route               TEXT    NOT NULL,
	src_ton             INTEGER NOT NULL,
	src_npi             INTEGER NOT NULL,
	src_addr            TEXT    NOT NULL,
	dst_ton             INTEGER NOT NULL,
	dst_npi             INTEGER NOT NULL,
	dst_addr            TEXT    NOT NULL,
	service_type        TEXT    NOT NULL,
	esm_class           INTEGER NOT NULL,
	protocol_id         INTEGER NOT NULL,
	priority            INTEGER NOT NULL,
	registered_delivery INTEGER NOT NULL,
	data_coding         INTEGER NOT NULL,
	body                BLOB,
	tlvs                BLOB,
	grp                 TEXT    NOT NULL,
	part                INTEGER NOT NULL,
	parts               INTEGER NOT NULL,
	submitted_at        INTEGER NOT NULL,
	schedule_at         INTEGER NOT NULL,
	expire_at           INTEGER NOT NULL,
	state               INTEGER NOT NULL,
	error_code          INTEGER NOT NULL,
	done_at             INTEGER NOT NULL,
	backend_id          TEXT    NOT NULL,
	attempts            INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL
) STRICT;

-- A rowid table, with the message id in a unique index: query_sm (by
-- id) is two lookups. (A WITHOUT ROWID table keyed by id made Apply 25%
-- slower: every UPDATE rewrote the wide row in the key's b-tree.) Each
-- index ends with id, which gives Find its (submitted_at, id) order.
CREATE UNIQUE INDEX messages_id ON messages (id);
CREATE INDEX messages_submitted ON messages (submitted_at, id);
CREATE INDEX messages_account   ON messages (account, submitted_at, id);
CREATE INDEX messages_dest      ON messages (dst_addr, submitted_at, id);
-- No index on the source address or the state: each index costs every
-- insert (and a state index every update) about 8% of a commit, and those
-- searches are rare (Find walks the submitted index for them).
-- Unfinished: only messages not in a final state (store.State.Final), so
-- it stays small however many messages are kept.
CREATE INDEX messages_unfinished ON messages (submitted_at, id) WHERE state NOT IN (2, 3, 4, 5, 8, 9);

CREATE TABLE deliveries (
	id           INTEGER NOT NULL PRIMARY KEY, -- the uint64 id's bits as int64
	account      TEXT    NOT NULL,
	kind         INTEGER NOT NULL,
	src_ton      INTEGER NOT NULL,
	src_npi      INTEGER NOT NULL,
	src_addr     TEXT    NOT NULL,
	dst_ton      INTEGER NOT NULL,
	dst_npi      INTEGER NOT NULL,
	dst_addr     TEXT    NOT NULL,
	esm_class    INTEGER NOT NULL,
	data_coding  INTEGER NOT NULL,
	body         BLOB,
	tlvs         BLOB,
	message_id   TEXT    NOT NULL,
	state        INTEGER NOT NULL,
	error_code   INTEGER NOT NULL,
	created_at   INTEGER NOT NULL,
	attempts     INTEGER NOT NULL,
	next_attempt INTEGER NOT NULL
) STRICT;

CREATE INDEX deliveries_created ON deliveries (created_at);

-- One row: the last epoch NextEpoch returned.
CREATE TABLE epoch (n INTEGER NOT NULL) STRICT;
INSERT INTO epoch (n) VALUES (0);
`},
	// 1 → 2: every message's history (store.Historian): the state it was
	// stored in, then each update, in rowid order. Messages stored before
	// have none.
	{sql: `
CREATE TABLE history (
	message_id TEXT    NOT NULL,
	state      INTEGER NOT NULL,
	error_code INTEGER NOT NULL,
	at         INTEGER NOT NULL
) STRICT;

-- (message_id, rowid): a message's events in the order written.
CREATE INDEX history_message ON history (message_id);
`},
	// 2 → 3: the write-ahead log of batches (batchlog.go): the sequence
	// number of the last record the tables have.
	{sql: `
CREATE TABLE log (applied INTEGER NOT NULL) STRICT;
INSERT INTO log (applied) VALUES (0);
`},
	// 3 → 4: a narrow message row, written once by the indexer in the
	// state its logged changes left it in: the message encoded whole in
	// one blob (codec.go), with copies of the fields an index or a query
	// needs in columns, and in events its history up to when it was
	// written. Each column bound costs an insert about 0.4 µs in this
	// driver, which made the 29-column row cost 14 µs against 5 µs now.
	// The destination index went too: Find walks the submitted index for a
	// destination, as it does for a source and a service type.
	{sql: `
ALTER TABLE messages RENAME TO messages_v3;
DROP INDEX messages_id;
DROP INDEX messages_submitted;
DROP INDEX messages_account;
DROP INDEX messages_dest;
DROP INDEX messages_unfinished;
CREATE TABLE messages (
	id           TEXT    NOT NULL,
	account      TEXT    NOT NULL,
	submitted_at INTEGER NOT NULL,
	state        INTEGER NOT NULL,
	content      BLOB    NOT NULL, -- the whole message (codec.go)
	events       BLOB              -- its history up to when it was written
) STRICT;
`, then: copyMessagesV3, after: `
DROP TABLE messages_v3;
CREATE UNIQUE INDEX messages_id ON messages (id);
CREATE INDEX messages_submitted ON messages (submitted_at, id);
CREATE INDEX messages_account   ON messages (account, submitted_at, id);
CREATE INDEX messages_unfinished ON messages (submitted_at, id) WHERE state NOT IN (2, 3, 4, 5, 8, 9);
`},
}

// migration is one step of the schema: SQL, then (if set) a function
// that moves data, then more SQL.
type migration struct {
	sql   string
	then  func(c driver.Conn) error
	after string
}

// messageCols are the columns a message row is written with; it is read
// from content alone.
const messageCols = `id, account, submitted_at, state, content, events`

const nMessageCols = 6

// messageColsV3 are the columns of schema 3's messages, which
// copyMessagesV3 reads.
const messageColsV3 = `id, account, route, src_ton, src_npi, src_addr, dst_ton, dst_npi, dst_addr, service_type,
	esm_class, protocol_id, priority, registered_delivery, data_coding, body, tlvs, grp, part, parts,
	submitted_at, schedule_at, expire_at, state, error_code, done_at, backend_id, attempts, updated_at`

const deliveryCols = `id, account, kind, src_ton, src_npi, src_addr, dst_ton, dst_npi, dst_addr,
	esm_class, data_coding, body, tlvs, message_id, state, error_code, created_at, attempts, next_attempt`

const nDeliveryCols = 19

// finalStates are the states store.State.Final reports final, as SQL.
const finalStates = `(2, 3, 4, 5, 8, 9)`

// notFinal is the condition of the messages_unfinished index, written the
// same way so that the planner can use it.
const notFinal = `state NOT IN ` + finalStates

// copyMessagesV3 moves schema 3's message rows into schema 4's table.
// Their history stays in the history table.
func copyMessagesV3(c driver.Conn) error {
	rows, err := c.(driver.QueryerContext).QueryContext(context.Background(), "SELECT "+messageColsV3+" FROM messages_v3 ORDER BY rowid", nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	w := newWriter(c)
	defer func() {
		for _, st := range w.stmts() {
			if st != nil {
				st.Close()
			}
		}
	}()
	v := make([]driver.Value, len(rows.Columns()))
	var ms []*store.Message
	flush := func() error {
		if len(ms) == 0 {
			return nil
		}
		err := w.insertMessages(ms, make([][]store.Event, len(ms)))
		ms = ms[:0]
		return err
	}
	for {
		if err := rows.Next(v); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		m, err := decodeMessageV3(v)
		if err != nil {
			return err
		}
		ms = append(ms, m)
		if len(ms) == insertRows {
			if err := flush(); err != nil {
				return fmt.Errorf("copying messages: %w", err)
			}
		}
	}
	return flush()
}

package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/store"
)

// writeV3 creates a database of schema 3, with the messages (every column
// set) and history rows given, as the previous version of this package
// left it.
func writeV3(t *testing.T, path string, msgs []*store.Message, hist []histRow) {
	t.Helper()
	c, err := openConn(path, "PRAGMA journal_mode = WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range migrations[:3] {
		if m.then != nil || m.after != "" {
			t.Fatal("schema 3's migrations are plain SQL")
		}
		if err := execConn(c, m.sql); err != nil {
			t.Fatal(err)
		}
	}
	tm := func(x time.Time) driver.Value {
		n, err := encTime(x)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, m := range msgs {
		vals := []driver.Value{m.ID, m.Account, m.Route,
			int64(m.Source.TON), int64(m.Source.NPI), m.Source.Addr,
			int64(m.Dest.TON), int64(m.Dest.NPI), m.Dest.Addr, m.ServiceType,
			int64(m.ESMClass), int64(m.ProtocolID), int64(m.Priority), int64(m.RegisteredDelivery), int64(m.DataCoding),
			blob(m.Body), blob(m.TLVs), m.Group, int64(m.Part), int64(m.Parts),
			tm(m.SubmittedAt), tm(m.ScheduleAt), tm(m.ExpireAt),
			int64(m.State), int64(m.ErrorCode), tm(m.DoneAt), m.BackendID, int64(m.Attempts), tm(m.UpdatedAt),
		}
		if n := len(strings.Split(messageColsV3, ",")); n != len(vals) {
			t.Fatalf("schema 3 has %d message columns, %d values", n, len(vals))
		}
		q := "INSERT INTO messages (" + messageColsV3 + ") VALUES " + placeholders(len(vals), 1)
		if err := execConn(c, q, args(vals...)...); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range hist {
		if err := execConn(c, "INSERT INTO history (message_id, state, error_code, at) VALUES (?, ?, ?, ?)",
			args(h.id, int64(h.State), int64(h.ErrorCode), tm(h.At))...); err != nil {
			t.Fatal(err)
		}
	}
	if err := execConn(c, "UPDATE log SET applied = 17"); err != nil {
		t.Fatal(err)
	}
	if err := execConn(c, "PRAGMA user_version = 3"); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateV3(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v3.db")
	open := fullMessage("m-open") // Enroute: unfinished
	final := fullMessage("m-final")
	final.State, final.Dest.Addr, final.SubmittedAt = store.Delivered, "33600000000", testTime(-10)
	bare := &store.Message{ID: "m-bare", Account: "other", State: store.Accepted, SubmittedAt: testTime(-5)} // empty body, zero times
	hist := []histRow{
		{"m-open", store.Event{State: store.Accepted, At: testTime(0)}},
		{"m-final", store.Event{State: store.Accepted, At: testTime(-10)}},
		{"m-open", store.Event{State: store.Enroute, ErrorCode: 3, At: testTime(1)}},
		{"m-final", store.Event{State: store.Delivered, At: testTime(-9)}},
	}
	writeV3(t, path, []*store.Message{open, final, bare}, hist)

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	check := func(when string) {
		t.Helper()
		for _, m := range []*store.Message{open, final, bare} {
			want := utc(&store.Batch{Messages: []*store.Message{m}}).Messages[0]
			got, err := s.Message(ctx, m.ID)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: Message(%s) =\n%+v\nwant\n%+v", when, m.ID, got, want)
			}
		}
		ms, err := s.Find(ctx, store.Filter{Account: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 2 || ms[0].ID != "m-open" || ms[1].ID != "m-final" {
			t.Errorf("%s: Find by account gave %d messages", when, len(ms))
		} else if want := utc(&store.Batch{Messages: []*store.Message{open}}).Messages[0]; !reflect.DeepEqual(ms[0], want) {
			t.Errorf("%s: Find gave\n%+v\nwant\n%+v", when, ms[0], want)
		}
		ms, err = s.Find(ctx, store.Filter{Dest: "33600000000", States: []store.State{store.Delivered}})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 1 || ms[0].ID != "m-final" {
			t.Errorf("%s: Find by destination and state gave %v", when, ms)
		}
		var unfinished []string
		err = s.Unfinished(ctx, func(m *store.Message) error {
			unfinished = append(unfinished, m.ID)
			if m.ID == "m-open" {
				if want := utc(&store.Batch{Messages: []*store.Message{open}}).Messages[0]; !reflect.DeepEqual(m, want) {
					t.Errorf("%s: Unfinished gave\n%+v\nwant\n%+v", when, m, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(unfinished, []string{"m-bare", "m-open"}) {
			t.Errorf("%s: unfinished %v", when, unfinished)
		}
		for id, want := range map[string][]store.Event{
			"m-open":  {{State: store.Accepted, At: testTime(0).UTC()}, {State: store.Enroute, ErrorCode: 3, At: testTime(1).UTC()}},
			"m-final": {{State: store.Accepted, At: testTime(-10).UTC()}, {State: store.Delivered, At: testTime(-9).UTC()}},
			"m-bare":  {},
		} {
			h, err := s.History(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(h, want) {
				t.Errorf("%s: History(%s) = %+v, want %+v", when, id, h, want)
			}
		}
	}
	check("migrated")
	if s.applied != 17 {
		t.Errorf("log position %d after migrating, want 17 kept", s.applied)
	}
	mustRefuse(t, s, "a migrated id", msgBatch("m-open"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check("reopened")
	// A migrated message takes updates; its old history comes first.
	mustApply(t, s, &store.Batch{Updates: []store.Update{{ID: "m-open", State: store.Delivered, At: testTime(20)}}})
	m, err := s.Message(ctx, "m-open")
	if err != nil {
		t.Fatal(err)
	}
	if m.State != store.Delivered || !m.UpdatedAt.Equal(testTime(20)) || !m.DoneAt.Equal(open.DoneAt) || string(m.Body) != string(open.Body) {
		t.Errorf("updated migrated message %+v", m)
	}
	h, err := s.History(ctx, "m-open")
	if err != nil {
		t.Fatal(err)
	}
	if got := eventStates(h); !reflect.DeepEqual(got, []store.State{store.Accepted, store.Enroute, store.Delivered}) {
		t.Errorf("history after an update %v", got)
	}
	if _, err := s.Message(ctx, "m-nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a message never stored: %v", err)
	}
}

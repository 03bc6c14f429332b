package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/store"
)

func explain(t *testing.T, s *Store, q string, nargs int) string {
	r, err := s.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.release(r)
	a := make([]driver.Value, nargs)
	for i := range a {
		a[i] = int64(1)
	}
	rows, err := r.c.(driver.QueryerContext).QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args(a...))
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var plan []string
	v := make([]driver.Value, len(rows.Columns()))
	for rows.Next(v) != io.EOF {
		plan = append(plan, fmt.Sprint(v[len(v)-1]))
	}
	return strings.Join(plan, "; ")
}

func TestPlans(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "p.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Each query and the index its plan must use, with no sort of its own.
	for _, c := range []struct{ q, index string }{
		{qMessage, "USING INDEX messages_id (id=?)"},
		{qUnfinishedFirst, "USING INDEX messages_unfinished"},
		{qUnfinishedNext, "USING INDEX messages_unfinished ((submitted_at,id)>(?,?))"},
		{qDeliveriesFirst, "USING INDEX deliveries_created"},
		{qDeliveriesNext, "USING INDEX deliveries_created (created_at>?)"},
		{findSQL(store.Filter{}), "USING INDEX messages_submitted"},
		{findSQL(store.Filter{Since: time.Now(), Until: time.Now()}), "USING INDEX messages_submitted (submitted_at>? AND submitted_at<?)"},
		{findSQL(store.Filter{Account: "a", Since: time.Now()}), "USING INDEX messages_account (account=? AND submitted_at>?)"},
		{findSQL(store.Filter{Source: "a"}), "USING INDEX messages_submitted"},
		{findSQL(store.Filter{Dest: "a", Until: time.Now()}), "USING INDEX messages_submitted (submitted_at<?)"},
		{findSQL(store.Filter{Account: "a", Dest: "b"}), "USING INDEX messages_account (account=?)"},
		{findSQL(store.Filter{States: []store.State{store.Delivered}}), "USING INDEX messages_submitted"},
		{findSQL(store.Filter{ServiceType: "x", Before: "x"}), "USING INDEX messages_submitted (submitted_at<?)"},
		{findSQL(store.Filter{Account: "a", Before: "x"}), "USING INDEX messages_account (account=? AND submitted_at<?)"},
		{findSQL(store.Filter{Dest: "a"}) + "", "USING INDEX messages_submitted"},
		{func() string { q, _ := findQuery(store.Filter{Dest: "a"}, &store.Message{ID: "x"}, 100); return q }(), "USING INDEX messages_submitted ((submitted_at,id)<(?,?))"},
		{"UPDATE messages SET state = ?, content = ? WHERE id = ?", "USING INDEX messages_id (id=?)"},
		{"UPDATE deliveries SET attempts = ? WHERE id = ?", "USING INTEGER PRIMARY KEY (rowid=?)"},
		{"DELETE FROM deliveries WHERE id IN (?,?)", "USING INTEGER PRIMARY KEY (rowid=?)"},
	} {
		plan := explain(t, s, c.q, strings.Count(c.q, "?"))
		if !strings.Contains(plan, c.index) || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s\nplan: %s\nwant %s and no temporary b-tree", c.q, plan, c.index)
		}
	}
}

func findSQL(f store.Filter) string {
	q, _ := findQuery(f, nil, 100)
	return q
}

func TestFinalStates(t *testing.T) {
	for st := range 256 {
		final := strings.Contains(finalStates, fmt.Sprint(st)) && st < 10
		if final != store.State(st).Final() {
			t.Errorf("finalStates says %d is final: %v; State.Final: %v", st, final, !final)
		}
	}
}

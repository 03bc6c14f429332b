package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/store"
)

func TestBacklog(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "b.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, age := s.Backlog(); n != 0 || age != 0 {
		t.Fatalf("empty store: Backlog = %d, %v", n, age)
	}
	ctx := context.Background()
	start := time.Now()
	b := &store.Batch{Messages: []*store.Message{{ID: "m1", Account: "a", State: store.Accepted, SubmittedAt: start}}, Done: []uint64{7}}
	if err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	n, age := s.Backlog()
	// The indexer waits for a batch to settle unless asked: it cannot
	// have applied this one yet if less time has passed.
	if time.Since(start) < settle && (n != 2 || age <= 0) {
		t.Errorf("just after Apply: Backlog = %d, %v; want 2 changes of some age", n, age)
	}
	if _, err := s.Message(ctx, "m1"); err != nil { // a read waits for the tables
		t.Fatal(err)
	}
	if n, age := s.Backlog(); n != 0 || age != 0 {
		t.Errorf("after a read: Backlog = %d, %v; want 0, 0", n, age)
	}
}

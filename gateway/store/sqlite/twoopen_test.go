package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// A second Open of a database that a Store has open fails (the log's
// lock): it would apply the first one's logged batches and remove its
// segments, leaving the first one's indexer failing on the unique index
// and its later batches in an unlinked file.
func TestSecondOpenOfOneDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	a, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	mustApply(t, a, msgBatch("m1")) // logged; the tables have it 350 ms later
	b, err := Open(path, Options{})
	if err != nil {
		return // refused: fine
	}
	b.Close()
	ctx := context.Background()
	if _, err := a.Message(ctx, "m1"); err != nil {
		t.Errorf("the first store after a second Open: %v", err)
	}
	mustApply(t, a, msgBatch("m2"))
	if logFiles(t, path+"-log") == nil {
		t.Error("the first store's log segment was removed under it")
	}
}

package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// Bug: nothing stops a second Open of the same database while a Store has
// it open (the package doc says a second process "would queue for the
// write lock", as it did before the log). The second Open replays the
// first one's logged batches into the tables and removes its segment; the
// first one's indexer then fails on the unique index for ever (its reads
// fail), and what it logs from then on goes to an unlinked file: lost if
// it stops before its indexer applies it. A second Open must fail (a lock
// on the log directory), or leave the first Store working.
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

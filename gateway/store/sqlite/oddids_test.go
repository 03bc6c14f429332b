package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// A duplicate of a stored id that is not valid UTF-8 is refused. (Apply
// once looked ids up through a JSON array, which turned invalid UTF-8 into
// U+FFFD: the duplicate was acknowledged, and the indexer's INSERT then
// failed on the unique index for ever, reads and every later Open with it.
// The store contract puts no limit on an id's bytes.)
func TestDuplicateInvalidUTF8ID(t *testing.T) {
	for name, id := range map[string]string{"invalid UTF-8": "id-\xff", "NUL": "id-\x00-x"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.db")
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			mustApply(t, s, msgBatch(id))
			catchUp(t, s) // the id is in the tables, no longer pending
			err = s.Apply(context.Background(), msgBatch(id))
			if err == nil {
				t.Error("Apply took a duplicate of a stored id")
			}
			if _, err := s.Message(context.Background(), id); err != nil {
				t.Errorf("read after the duplicate: %v", err)
			}
			s.Close()
			s, err = Open(path, Options{})
			if err != nil {
				t.Fatalf("reopening: %v", err)
			}
			s.Close()
		})
	}
}

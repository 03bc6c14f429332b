package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// Bug: Apply looks up stored message ids with json_each over a JSON array
// the ids are marshalled into, and encoding/json replaces invalid UTF-8
// with U+FFFD. An id that is not valid UTF-8 is therefore never found in
// the tables: the duplicate is logged and acknowledged, the indexer's
// INSERT then fails on the unique index for ever (every read fails with
// "the tables are behind the log"), and every later Open fails replaying
// the log. The store contract puts no limit on an id's bytes.
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

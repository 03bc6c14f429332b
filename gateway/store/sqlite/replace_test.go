package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/smppkit/smpp/gateway/store"
)

// A Replace with an empty id is of no message, so it is ignored (as
// store.Batch says and store/memory does) rather than failing its batch.
func TestReplaceOfNoID(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := msgBatch("m")
	b.Replaces = []*store.Message{{ID: "", Body: []byte("x")}}
	if err := s.Apply(context.Background(), b); err != nil {
		t.Fatalf("a batch with a replace of no message: %v", err)
	}
	wantMessages(t, s, true, "m")
}

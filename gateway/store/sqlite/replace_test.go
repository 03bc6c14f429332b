package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/smppkit/smpp/gateway/store"
)

// Bug (a regression from the previous writer, and unlike store/memory): a
// Replace is encoded whole into the log record, so a batch holding a
// Replace with an empty id, an id no message can have and so one "the
// store does not have" (ignored, says store.Batch), now fails whole with
// "message with no id"; the batch's other changes are lost with it.
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

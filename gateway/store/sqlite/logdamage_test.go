package sqlite

import (
	"path/filepath"
	"testing"
)

// Bug: a damaged record in the middle of the newest segment is taken for a
// torn tail, and it and every good record after it are cut off: Open
// succeeds and acknowledged batches are silently lost. Only a record that
// runs to the end of the file (or a tail of zeros) can be a write the
// process died in; damage followed by good data must stop Open, as it does
// in an older segment.
func TestLogDamageInNewestSegment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	applied := seedStore(t, path, 1)
	dir := path + "-log"
	newest := segName(dir, applied+1)
	recs := writeSegment(t, dir, applied+1, 3)
	if err := flipByte(newest, int64(len(recs[0])+recordHeader+3)); err != nil { // the second record's payload
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		return // refused: the damage is reported, nothing is lost
	}
	defer s.Close()
	// Taking the log is acceptable only if the good record after the
	// damage was kept.
	wantMessages(t, s, true, recID(applied+3))
}

package sqlite

import (
	"path/filepath"
	"testing"
)

// A damaged record in the middle of the newest segment stops Open. Only a
// record no good one follows can be a write the process died in; cutting
// off damage would lose the acknowledged batches after it.
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

// The same far into the log: the good records after a damaged first
// record of a segment are recognised by their sequence numbers, counted
// from the segment's first (its name), not from zero.
func TestLogDamageInFirstRecordFarIntoTheLog(t *testing.T) {
	dir := t.TempDir()
	const first = 5 << 20
	writeSegment(t, dir, first, 3)
	if err := flipByte(segName(dir, first), recordHeader+3); err != nil { // the first record's payload
		t.Fatal(err)
	}
	if _, _, err := readLog(dir, false, first-1); err == nil {
		t.Fatal("the log opened with its first record damaged and two good ones after it")
	}
}

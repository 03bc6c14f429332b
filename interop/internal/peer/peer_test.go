package peer

import (
	"strings"
	"testing"
)

func TestMissingSkipsAndNotes(t *testing.T) {
	t.Setenv(EnvRequire, "") // CI sets it; here the skip path is under test
	if n := Notes("pkg"); n != nil {
		t.Fatalf("Notes before any skip = %q", n)
	}
	var sub *testing.T
	t.Run("needs-a-peer", func(t *testing.T) {
		sub = t
		Require(t, "smppkit-no-such-program", "it does not exist")
		t.Error("Require returned for a missing program")
	})
	if !sub.Skipped() {
		t.Fatal("the subtest was not skipped")
	}
	notes := Notes("interop/x")
	if len(notes) != 1 || !strings.HasPrefix(notes[0], "SKIP interop/x: 1 smppkit-no-such-program interop test(s) skipped") ||
		!strings.Contains(notes[0], "it does not exist") {
		t.Errorf("Notes = %q", notes)
	}
}

func TestRequireFindsAProgram(t *testing.T) {
	if p := Require(t, "sh", "it is everywhere"); !strings.HasSuffix(p, "/sh") {
		t.Errorf("Require(sh) = %q", p)
	}
}

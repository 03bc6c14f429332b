// Package peer is what the interop suites under interop/ share: finding the
// third-party program a suite runs against (Require, RequireNode), skipping
// the suite when it is missing — or failing it, in CI — and telling the
// person running `go test ./...` which suites were skipped (Main).
//
// Why Main writes where it does: for a package that passes, `go test` with
// package arguments (./..., as CI and most people run it) prints only its
// "ok  <package>  <time>" line and throws away everything the test binary
// printed, stdout and stderr alike; the output is shown only with -v, for a
// failing package, or in local directory mode (plain `go test` inside the
// package's directory). A skip is a pass, so without help a missing peer
// would go unnoticed. Main therefore prints its note on the test binary's
// stdout (seen with -v and in local directory mode) and, when that output is
// being captured by the go command, also straight to the go command's own
// stdout (its stderr if stdout is a file), where it appears among the
// "ok" lines. That needs /proc (Linux); elsewhere the note is seen with -v
// only. A cached result
// ("ok … (cached)") replays nothing: after installing a peer, run with
// -count=1 (CI does), since the go command does not know the tests looked
// for a program outside the module.
package peer

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// EnvRequire is the environment variable that turns a missing peer from a
// skip into a test failure (CI sets it to 1).
const EnvRequire = "SMPPKIT_INTEROP"

// Require returns the path of the program name, looked up in PATH and then
// in the sbin directories Debian installs daemons to (not on every user's
// PATH), or ends the test through Missing; install says how to get it
// ("apt-get install tshark").
func Require(t testing.TB, name, install string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	Missing(t, name, fmt.Sprintf("%s is not installed (%s)", name, install))
	return ""
}

// Missing ends a test whose peer is missing: with t.Skip, recording the
// skip for Main, or with t.Fatal when SMPPKIT_INTEROP=1 says the peer must be
// there. suite names the peer ("tshark", "node-smpp"); why says what is
// missing and how to install it.
func Missing(t testing.TB, suite, why string) {
	t.Helper()
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s interop: %s; %s=1 requires it", suite, why, EnvRequire)
	}
	skips.add(suite, why, t.Name())
	t.Skipf("%s interop: %s; skipping (%s=1 makes this a failure)", suite, why, EnvRequire)
}

// skipRecord gathers the skips of one test binary.
type skipRecord struct {
	mu    sync.Mutex
	why   map[string]string   // suite → what was missing
	tests map[string][]string // suite → tests skipped
}

var skips skipRecord

func (r *skipRecord) add(suite, why, test string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.why == nil {
		r.why, r.tests = map[string]string{}, map[string][]string{}
	}
	r.why[suite] = why
	r.tests[suite] = append(r.tests[suite], test)
}

// Notes returns one line per suite that had tests skipped, naming the
// package pkg ("interop/tshark"), the suite, how many tests were skipped
// and why; nil when nothing was skipped.
func Notes(pkg string) []string {
	skips.mu.Lock()
	defer skips.mu.Unlock()
	var out []string
	for suite, why := range skips.why {
		n := len(skips.tests[suite])
		out = append(out, fmt.Sprintf("SKIP %s: %d %s interop test(s) skipped: %s (%s=1 makes this a failure)",
			pkg, n, suite, why, EnvRequire))
	}
	slices.Sort(out)
	return out
}

// Main runs the tests of an interop package (call it from TestMain) and then,
// if any were skipped for a missing peer, says so where `go test ./...` shows
// it (see the package documentation). pkg names the package in the note.
func Main(m *testing.M, pkg string) {
	code := m.Run()
	if notes := Notes(pkg); len(notes) > 0 {
		msg := strings.Join(notes, "\n") + "\n"
		fmt.Print(msg)
		if !testing.Verbose() {
			if w := goCommandStdout(); w != nil {
				w.WriteString(msg)
				w.Close()
			}
		}
	}
	os.Exit(code)
}

// goCommandStdout opens the go command's stdout (or, failing that, its
// stderr) when this test binary's stdout is not that one (the go command is
// capturing it), or returns nil. Only pipes and terminals are written to: a
// regular file opened through /proc gets a file offset of its own, and the
// go command's next write would overwrite the note.
func goCommandStdout() *os.File {
	own, err := os.Readlink("/proc/self/fd/1")
	if err != nil {
		return nil // not Linux
	}
	for _, fd := range []int{1, 2} {
		path := fmt.Sprintf("/proc/%d/fd/%d", os.Getppid(), fd)
		theirs, err := os.Readlink(path)
		if err != nil || theirs == own {
			return nil // our output goes where theirs does: it is seen
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode()&(os.ModeNamedPipe|os.ModeCharDevice) == 0 {
			continue
		}
		if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			return f
		}
	}
	return nil
}

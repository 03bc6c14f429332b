package peer

// The node-smpp programs of interop/node (server.js, client.js) as
// subprocesses: Start runs one, reads the JSON lines it prints on stdout in
// a goroutine (always draining the pipe, so node never blocks on a full
// pipe), lets a test wait for an event with a timeout, and kills the
// process when the test ends.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RequireNode returns the path of the node binary, or ends the test (see
// Missing) when node or dir/node_modules (npm ci) is missing.
func RequireNode(t testing.TB, dir string) string {
	t.Helper()
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs // for the messages
	}
	node, err := exec.LookPath("node")
	if err != nil {
		Missing(t, "node-smpp", fmt.Sprintf("node is not on PATH (install Node.js 20, then `cd %s && npm ci`)", dir))
		return ""
	}
	mod := filepath.Join(dir, "node_modules", "smpp", "package.json")
	if _, err := os.Stat(mod); err != nil {
		Missing(t, "node-smpp", fmt.Sprintf("%s is missing (run `cd %s && npm ci`)", mod, dir))
		return ""
	}
	return node
}

// Event is one JSON line printed by a node program.
type Event struct {
	Line string         // the line as printed
	M    map[string]any // the decoded object (numbers as json.Number)
}

// Name returns the "event" key: "pdu", "resp", "done", ...
func (e Event) Name() string { return e.Str("event") }

// Command returns the "command" key of a pdu/resp event.
func (e Event) Command() string { return e.Str("command") }

// Seq returns the sequence_number of a pdu/resp event.
func (e Event) Seq() int64 { return e.Int("sequence_number") }

// Status returns the command_status of a pdu/resp event.
func (e Event) Status() int64 { return e.Int("command_status") }

// Str returns a string-valued key ("" if absent or not a string).
func (e Event) Str(key string) string { return asString(e.M[key]) }

// Int returns a number-valued key (-1 if absent or not a number).
func (e Event) Int(key string) int64 { return asInt(e.M[key]) }

// Bool returns a boolean key.
func (e Event) Bool(key string) bool { b, _ := e.M[key].(bool); return b }

// Fields returns the "fields" object of a pdu/resp event.
func (e Event) Fields() map[string]any {
	f, _ := e.M["fields"].(map[string]any)
	return f
}

// Field returns one entry of "fields".
func (e Event) Field(name string) any { return e.Fields()[name] }

// FieldStr returns a string entry of "fields" (C-strings, and octet strings
// as lowercase hex).
func (e Event) FieldStr(name string) string { return asString(e.Field(name)) }

// FieldInt returns a numeric entry of "fields" (-1 if absent).
func (e Event) FieldInt(name string) int64 { return asInt(e.Field(name)) }

// Strings returns a key holding an array of strings (the "errors" of done).
func (e Event) Strings(key string) []string {
	a, _ := e.M[key].([]any)
	out := make([]string, 0, len(a))
	for _, v := range a {
		out = append(out, asString(v))
	}
	return out
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

func asInt(v any) int64 {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i
		}
	}
	return -1
}

// Peer is a running node program.
type Peer struct {
	name string
	cmd  *exec.Cmd
	t    testing.TB

	mu      sync.Mutex
	events  []Event
	changed chan struct{} // closed (and replaced) whenever events grows or the process ends
	done    chan struct{} // stdout is at EOF and the process has been waited for
	exitErr error
	stderr  tailBuffer
	stdin   io.WriteCloser // StartInteractive only
	inMu    sync.Mutex
}

// Start runs `node script args...` in dir and returns at once; the test's
// cleanup kills the process (SIGTERM, then SIGKILL) and waits for it.
func Start(t testing.TB, node, dir, script string, args ...string) *Peer {
	t.Helper()
	return start(t, false, node, dir, script, args...)
}

// StartInteractive is Start with a pipe to the program's stdin, which Send
// writes commands to (interop/node/esme.js reads them).
func StartInteractive(t testing.TB, node, dir, script string, args ...string) *Peer {
	t.Helper()
	return start(t, true, node, dir, script, args...)
}

// Send writes v to the program's stdin as one JSON line (StartInteractive).
func (p *Peer) Send(v any) error {
	if p.stdin == nil {
		return errors.New("peer: not started with StartInteractive")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	p.inMu.Lock()
	defer p.inMu.Unlock()
	_, err = p.stdin.Write(append(b, '\n'))
	return err
}

func start(t testing.TB, interactive bool, node, dir, script string, args ...string) *Peer {
	t.Helper()
	cmd := exec.Command(node, append([]string{script}, args...)...)
	cmd.Dir = dir
	p := &Peer{name: script, cmd: cmd, t: t, changed: make(chan struct{}), done: make(chan struct{})}
	p.stderr.max = 64 << 10
	cmd.Stderr = &p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	if interactive {
		if p.stdin, err = cmd.StdinPipe(); err != nil {
			t.Fatalf("%s: %v", script, err)
		}
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node %s: %v", script, err)
	}
	go p.read(out)
	t.Cleanup(p.stop)
	return p
}

// read drains stdout until EOF, then reaps the process.
func (p *Peer) read(out io.Reader) {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		d := json.NewDecoder(strings.NewReader(line))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			m = map[string]any{"event": "unparsed", "error": err.Error()}
		}
		p.mu.Lock()
		p.events = append(p.events, Event{Line: line, M: m})
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	}
	if err := sc.Err(); err != nil {
		// A line too long to scan: keep draining so node never blocks
		// on a full pipe.
		p.mu.Lock()
		p.events = append(p.events, Event{Line: "", M: map[string]any{"event": "unparsed", "error": err.Error()}})
		p.mu.Unlock()
		_, _ = io.Copy(io.Discard, out)
	}
	err := p.cmd.Wait()
	p.mu.Lock()
	p.exitErr = err
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
	close(p.done)
}

// stop ends the process if it is still running, then logs what it printed
// when the test failed.
func (p *Peer) stop() {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				p.t.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, p.cmd.Process.Pid)
			}
		}
	}
	if p.t.Failed() {
		p.t.Logf("%s: %s", p.name, p.Report())
	}
}

// Report describes the process: its exit state, its last stdout lines and
// the end of its stderr.
func (p *Peer) Report() string {
	p.mu.Lock()
	evs := p.events
	exit := p.exitErr
	p.mu.Unlock()
	var b strings.Builder
	select {
	case <-p.done:
		fmt.Fprintf(&b, "exited (%v)", exit)
	default:
		b.WriteString("running")
	}
	const last = 30
	from := max(0, len(evs)-last)
	fmt.Fprintf(&b, "; stdout (%d lines, last %d):", len(evs), len(evs)-from)
	for _, e := range evs[from:] {
		l := e.Line
		if len(l) > 400 {
			l = l[:400] + "…"
		}
		b.WriteString("\n  " + l)
	}
	if s := p.stderr.String(); s != "" {
		b.WriteString("\nstderr:\n" + s)
	}
	return b.String()
}

// Events returns the events printed so far.
func (p *Peer) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...)
}

// Done is closed once the process has exited and its output is read.
func (p *Peer) Done() <-chan struct{} { return p.done }

// ExitCode returns the exit status once Done is closed (-1 if killed by a
// signal or still running).
func (p *Peer) ExitCode() int {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	default:
		return -1
	}
}

// ErrExited is returned by Wait when the process ended without printing a
// matching event.
var ErrExited = errors.New("node process exited")

// Wait returns the first event, at index from or later, that match accepts,
// with its index; it waits up to timeout for one to be printed.
func (p *Peer) Wait(from int, timeout time.Duration, match func(Event) bool) (Event, int, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		evs, changed := p.events, p.changed
		p.mu.Unlock()
		for i := from; i < len(evs); i++ {
			if match(evs[i]) {
				return evs[i], i, nil
			}
		}
		from = max(from, len(evs))
		select {
		case <-p.done:
			// Everything printed is in events now; look once more.
			p.mu.Lock()
			evs = p.events
			p.mu.Unlock()
			for i := from; i < len(evs); i++ {
				if match(evs[i]) {
					return evs[i], i, nil
				}
			}
			return Event{}, -1, ErrExited
		default:
		}
		select {
		case <-changed:
		case <-deadline.C:
			return Event{}, -1, fmt.Errorf("no matching event within %v", timeout)
		}
	}
}

// MustWait is Wait that fails the test (with what the process printed) when
// no event matches. Call it from the test's goroutine.
func (p *Peer) MustWait(t testing.TB, timeout time.Duration, what string, match func(Event) bool) Event {
	t.Helper()
	e, _, err := p.Wait(0, timeout, match)
	if err != nil {
		t.Fatalf("%s: waiting for %s: %v\n%s", p.name, what, err, p.Report())
	}
	return e
}

// MustExit waits for the process to end by itself and fails the test if it
// does not within timeout.
func (p *Peer) MustExit(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %v\n%s", p.name, timeout, p.Report())
		return -1
	}
}

// Matchers for Wait.

// IsEvent matches events by name ("listening", "done", "bound", ...).
func IsEvent(name string) func(Event) bool {
	return func(e Event) bool { return e.Name() == name }
}

// IsPDU matches "pdu" events (requests, and on the server responses too)
// of a command, and of a session when session > 0.
func IsPDU(command string, session int64) func(Event) bool {
	return func(e Event) bool {
		return e.Name() == "pdu" && e.Command() == command && (session <= 0 || e.Int("session") == session)
	}
}

// IsResp matches the client's "resp" events with a sequence number.
func IsResp(seq int64) func(Event) bool {
	return func(e Event) bool { return e.Name() == "resp" && e.Seq() == seq }
}

// tailBuffer keeps the last max bytes written to it; safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

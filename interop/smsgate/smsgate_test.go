package smsgate_test

// End-to-end tests of smppd as a drop-in replacement for android-sms-gateway's
// smpp-server: the smppd binary, configured with smpp-server's environment
// variables alone, in front of the fake SMSGate (smsgatefake), with node-smpp
// (interop/node/esme.js) as the SMPP client. They skip when node or
// interop/node/node_modules is missing (cd interop/node && npm ci), unless
// SMPPKIT_INTEROP=1.

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/smppkit/smpp/gateway/backend/smsgate/smsgatefake"
	"github.com/smppkit/smpp/interop/internal/peer"
)

const nodeDir = "../node"

// Bounds for a busy machine.
const (
	wait      = 60 * time.Second
	startWait = 30 * time.Second
)

// The SMPP account: an SMSGate user of the fake, whose credentials are the
// bind's (pass-through, as with smpp-server). SMPP passwords have at most 8
// characters.
const (
	user = "esme1"
	pass = "secret12"
)

var smppdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "smppd-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	smppdBin = filepath.Join(dir, "smppd")
	build := exec.Command("go", "build", "-o", smppdBin, "github.com/smppkit/smpp/cmd/smppd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building smppd:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	peer.Main(m, "interop/smsgate")
}

// freePort returns a loopback address that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// daemon is an smppd process.
type daemon struct {
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	log  strings.Builder
}

// env is smpp-server's configuration: its environment variables alone.
func env(smppAddr, httpAddr, apiURL string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"SMPP__BIND_ADDRESS=" + smppAddr,
		"HTTP__ADDRESS=" + httpAddr,
		"GATEWAY__API_BASE_URL=" + apiURL,
		"GATEWAY__WEBHOOK_BASE_URL=http://" + httpAddr,
		"GATEWAY__TIMEOUT=10s",
	}
}

// startDaemon runs smppd in dir (its store goes to dir/smppd-data) and
// returns once it says it has started.
func startDaemon(t *testing.T, dir string, environ []string) *daemon {
	t.Helper()
	d := &daemon{cmd: exec.Command(smppdBin), done: make(chan struct{})}
	d.cmd.Dir, d.cmd.Env = dir, environ
	errPipe, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	go func() {
		defer close(d.done)
		sc := bufio.NewScanner(errPipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			d.mu.Lock()
			d.log.WriteString(sc.Text() + "\n")
			d.mu.Unlock()
			if strings.Contains(sc.Text(), "smppd started") {
				once.Do(func() { close(started) })
			}
		}
		io.Copy(io.Discard, errPipe)
		d.cmd.Wait()
	}()
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("smppd log:\n%s", d.logText())
		}
	})
	select {
	case <-started:
	case <-d.done:
		t.Fatalf("smppd exited at start:\n%s", d.logText())
	case <-time.After(startWait):
		t.Fatalf("smppd did not start within %v:\n%s", startWait, d.logText())
	}
	return d
}

func (d *daemon) logText() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

// stop ends smppd with SIGTERM (a clean shutdown).
func (d *daemon) stop() {
	select {
	case <-d.done:
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
}

// kill ends smppd with SIGKILL: no shutdown at all.
func (d *daemon) kill() {
	d.cmd.Process.Kill()
	<-d.done
}

// esme is node-smpp's esme.js.
type esme struct {
	t    *testing.T
	p    *peer.Peer
	tags int
	from int // events before this index are consumed by waits for deliveries
}

func startESME(t *testing.T) *esme {
	node := peer.RequireNode(t, nodeDir)
	return &esme{t: t, p: peer.StartInteractive(t, node, nodeDir, "esme.js", "--timeout", "600")}
}

func (e *esme) tag() string { e.tags++; return fmt.Sprintf("t%d", e.tags) }

func (e *esme) send(cmd map[string]any) {
	e.t.Helper()
	if err := e.p.Send(cmd); err != nil {
		e.t.Fatalf("esme.js: %v\n%s", err, e.p.Report())
	}
}

func tagged(tag string, names ...string) func(peer.Event) bool {
	return func(ev peer.Event) bool {
		if ev.Str("tag") != tag {
			return false
		}
		for _, n := range names {
			if ev.Name() == n {
				return true
			}
		}
		return false
	}
}

// bind connects and binds as a transceiver; it returns the command_status.
func (e *esme) bind(addr, systemID, password string) int64 {
	e.t.Helper()
	tag := e.tag()
	e.send(map[string]any{"op": "connect", "tag": tag, "bind": "bind_transceiver",
		"url": fmt.Sprintf("smpp://%s:%s@%s", systemID, password, addr)})
	ev := e.p.MustWait(e.t, wait, "bind "+tag, tagged(tag, "bind", "connect_error"))
	if ev.Name() != "bind" {
		e.t.Fatalf("connect: %s", ev.Line)
	}
	return ev.Status()
}

// call sends a request and returns its response.
func (e *esme) call(command string, fields map[string]any) peer.Event {
	e.t.Helper()
	return e.await(e.start(command, fields))
}

// start sends a request and returns its tag, for await.
func (e *esme) start(command string, fields map[string]any) string {
	e.t.Helper()
	tag := e.tag()
	e.send(map[string]any{"op": "send", "tag": tag, "command": command, "fields": fields})
	return tag
}

func (e *esme) await(tag string) peer.Event {
	e.t.Helper()
	ev := e.p.MustWait(e.t, wait, "response "+tag, tagged(tag, "resp", "send_error"))
	if ev.Name() != "resp" {
		e.t.Fatalf("request %s: %s", tag, ev.Line)
	}
	return ev
}

// submit sends a submit_sm and returns its message_id, failing the test on
// an error status.
func (e *esme) submit(fields map[string]any) string {
	e.t.Helper()
	ev := e.call("submit_sm", fields)
	if ev.Status() != 0 || ev.FieldStr("message_id") == "" {
		e.t.Fatalf("submit_sm: %s", ev.Line)
	}
	return ev.FieldStr("message_id")
}

// receipt is what a receipt deliver_sm says.
type receipt struct {
	id, stat string
	state    int64
}

var statRE = regexp.MustCompile(`stat:([A-Z]+)`)

func asReceipt(ev peer.Event) (receipt, bool) {
	if ev.Name() != "pdu" || ev.Command() != "deliver_sm" || ev.FieldInt("esm_class")&0x04 == 0 {
		return receipt{}, false
	}
	text, _ := hex.DecodeString(ev.FieldStr("short_message"))
	r := receipt{id: ev.FieldStr("receipted_message_id"), state: ev.FieldInt("message_state")}
	if m := statRE.FindSubmatch(text); m != nil {
		r.stat = string(m[1])
	}
	return r, true
}

// receipts waits for a receipt for each of ids and returns them by id.
func (e *esme) receipts(ids ...string) map[string]receipt {
	e.t.Helper()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	got := map[string]receipt{}
	from := 0
	for len(got) < len(want) {
		ev, i, err := e.p.Wait(from, wait, func(ev peer.Event) bool {
			r, ok := asReceipt(ev)
			return ok && want[r.id] && got[r.id].id == ""
		})
		if err != nil {
			e.t.Fatalf("waiting for receipts (%d of %d): %v\n%s", len(got), len(want), err, e.p.Report())
		}
		r, _ := asReceipt(ev)
		got[r.id] = r
		from = i + 1
	}
	return got
}

func submitFields(dest string, dc int, esm int, hexBody string) map[string]any {
	return map[string]any{"source_addr_ton": 1, "source_addr_npi": 1, "source_addr": "4915100000000",
		"dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": dest, "registered_delivery": 1,
		"esm_class": esm, "data_coding": dc, "short_message_hex": hexBody}
}

// ucs2 is s in UTF-16BE (UCS-2 as SMPP clients send it), hex-encoded.
func ucs2(s string) string {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return hex.EncodeToString(b)
}

// fakeMessages returns the fake's messages to phone.
func fakeMessages(f *smsgatefake.Server, phone string) []smsgatefake.Message {
	var out []smsgatefake.Message
	for _, m := range f.Messages() {
		if len(m.Request.PhoneNumbers) == 1 && m.Request.PhoneNumbers[0] == phone {
			out = append(out, m)
		}
	}
	return out
}

func text(m smsgatefake.Message) string {
	if m.Request.TextMessage == nil {
		return ""
	}
	return m.Request.TextMessage.Text
}

// waitUntil polls cond (the fake has no signal for "a message came").
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newFake(t *testing.T) *smsgatefake.Server {
	f := smsgatefake.New()
	f.AddUser(user, pass, "")
	t.Cleanup(f.Close)
	return f
}

// TestDropIn: a node-smpp client against smppd configured as smpp-server
// is: binds with its SMSGate credentials, sends plain, UCS-2 and long
// messages, gets receipts, queries, cancels, and receives an MO message.
func TestDropIn(t *testing.T) {
	node := peer.RequireNode(t, nodeDir)
	_ = node
	fake := newFake(t)
	fake.SetOutcome(smsgatefake.FailPrefix("+4915199", "RESULT_ERROR_NO_SERVICE"))
	smppAddr, httpAddr := freePort(t), freePort(t)
	startDaemon(t, t.TempDir(), env(smppAddr, httpAddr, fake.URL))
	c := startESME(t)

	// Credentials are SMSGate's: a wrong password is refused as such.
	if st := c.bind(smppAddr, user, "wrong"); st != 0x0E {
		t.Fatalf("bind with a wrong password: status %#x, want ESME_RINVPASWD", st)
	}
	if st := c.bind(smppAddr, user, pass); st != 0 {
		t.Fatalf("bind: status %#x", st)
	}
	// Its webhooks were registered at the bind.
	if n := len(fake.Webhooks(user)); n == 0 {
		t.Fatal("no webhooks registered for the account")
	}

	t.Run("texts", func(t *testing.T) {
		plain := "Hello from node-smpp via smppd: 100% (GSM 7-bit)"
		unicode := "Привет, мир! 你好，世界 😀"
		long := strings.Repeat("This long text from node-smpp reaches SMSGate as one message. ", 7)[:400]
		idPlain := c.submit(submitFields("4915100000001", 0, 0, hex.EncodeToString([]byte(plain))))
		idUCS2 := c.submit(submitFields("4915100000002", 8, 0, ucs2(unicode)))
		var idLong []string
		for part := range 3 {
			body := long[part*153 : min(len(long), part*153+153)]
			udh := []byte{0x05, 0x00, 0x03, 0x42, 3, byte(part + 1)}
			idLong = append(idLong, c.submit(submitFields("4915100000003", 0, 0x40, hex.EncodeToString(append(udh, body...)))))
		}
		for _, tc := range []struct{ phone, text string }{
			{"+4915100000001", plain}, {"+4915100000002", unicode}, {"+4915100000003", long},
		} {
			waitUntil(t, "the message to "+tc.phone, func() bool { return len(fakeMessages(fake, tc.phone)) > 0 })
			ms := fakeMessages(fake, tc.phone)
			if len(ms) != 1 || text(ms[0]) != tc.text {
				t.Errorf("to %s: %d messages, text %q; want one with %q", tc.phone, len(ms), text(ms[0]), tc.text)
			}
		}
		all := append([]string{idPlain, idUCS2}, idLong...)
		for id, r := range c.receipts(all...) {
			if r.stat != "DELIVRD" || r.state != 2 {
				t.Errorf("receipt for %s: stat %s state %d, want DELIVRD 2", id, r.stat, r.state)
			}
		}
		// query_sm tells the final state.
		q := c.call("query_sm", map[string]any{"message_id": idPlain, "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": "4915100000000"})
		if q.Status() != 0 || q.FieldInt("message_state") != 2 {
			t.Errorf("query_sm: %s", q.Line)
		}
	})

	t.Run("undeliverable", func(t *testing.T) {
		id := c.submit(submitFields("4915199000001", 0, 0, hex.EncodeToString([]byte("to no service"))))
		r := c.receipts(id)[id]
		if r.stat != "UNDELIV" || r.state != 5 {
			t.Errorf("receipt: stat %s state %d, want UNDELIV 5", r.stat, r.state)
		}
	})

	t.Run("query and cancel", func(t *testing.T) {
		fake.SetHold(true)
		defer fake.SetHold(false)
		id := c.submit(submitFields("4915100000009", 0, 0, hex.EncodeToString([]byte("cancel me"))))
		query := func() peer.Event {
			return c.call("query_sm", map[string]any{"message_id": id, "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": "4915100000000"})
		}
		// ENROUTE once SMSGate holds it.
		waitUntil(t, "the message ENROUTE", func() bool { return query().FieldInt("message_state") == 1 })
		if n := len(fakeMessages(fake, "+4915100000009")); n != 1 {
			t.Fatalf("%d messages at the fake, want 1", n)
		}
		cr := c.call("cancel_sm", map[string]any{"service_type": "", "message_id": id, "source_addr_ton": 1, "source_addr_npi": 1,
			"source_addr": "4915100000000", "dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": "4915100000009"})
		if cr.Status() != 0 {
			t.Fatalf("cancel_sm: %s", cr.Line)
		}
		if q := query(); q.Status() != 0 || q.FieldInt("message_state") != 4 {
			t.Errorf("query_sm after cancel_sm: %s", q.Line)
		}
		if st := fakeMessages(fake, "+4915100000009")[0].State.State; st != "Cancelled" {
			t.Errorf("the fake's message is %s, want Cancelled", st)
		}
	})

	t.Run("MO", func(t *testing.T) {
		if err := fake.InjectMO(user, "+491701234567", "Hi from a phone ✓"); err != nil {
			t.Fatal(err)
		}

		ev := c.p.MustWait(t, wait, "MO deliver_sm", func(ev peer.Event) bool {
			return ev.Name() == "pdu" && ev.Command() == "deliver_sm" && ev.FieldInt("esm_class")&0x04 == 0
		})
		body, _ := hex.DecodeString(ev.FieldStr("short_message"))
		want := ucs2("Hi from a phone ✓")
		if ev.FieldInt("data_coding") != 8 || hex.EncodeToString(body) != want || ev.FieldStr("source_addr") != "491701234567" {
			t.Errorf("MO: %s", ev.Line)
		}
	})

	t.Run("SMSGate down", func(t *testing.T) {
		fake.SetDown(-1)
		var ids []string
		for i := range 5 {
			ids = append(ids, c.submit(submitFields(fmt.Sprintf("49151000001%02d", i), 0, 0, hex.EncodeToString([]byte(fmt.Sprintf("while down %d", i))))))
		}
		// Submits were tried and failed.
		waitUntil(t, "failed attempts", func() bool { return fake.Hits(http.MethodPost, "/messages") >= 5 })
		// A bind whose credentials cannot be checked now is refused as a
		// bind failure, not as a wrong password.
		fake.AddUser("esme2", "secret34", "")
		if st := startESME(t).bind(smppAddr, "esme2", "secret34"); st != 0x0D {
			t.Errorf("bind while SMSGate is down: status %#x, want ESME_RBINDFAIL", st)
		}
		fake.SetDown(0)
		for id, r := range c.receipts(ids...) {
			if r.stat != "DELIVRD" {
				t.Errorf("receipt for %s: %s", id, r.stat)
			}
		}
		for i := range 5 {
			phone := fmt.Sprintf("+49151000001%02d", i)
			if ms := fakeMessages(fake, phone); len(ms) != 1 || text(ms[0]) != fmt.Sprintf("while down %d", i) {
				t.Errorf("to %s: %d messages", phone, len(ms))
			}
		}
	})
}

// TestKill9 kills smppd (SIGKILL, its SQLite store in a temporary
// directory) while SMSGate is slow and messages are being handed to it:
// after the restart every accepted message reaches SMSGate exactly once
// and its receipt comes back.
func TestKill9(t *testing.T) {
	peer.RequireNode(t, nodeDir)
	fake := newFake(t)
	fake.SetHold(true)                   // no outcome before the crash: every receipt comes after it
	fake.SetDelay(50 * time.Millisecond) // many submits in flight when the kill comes
	smppAddr, httpAddr := freePort(t), freePort(t)
	dir := t.TempDir()
	environ := env(smppAddr, httpAddr, fake.URL)
	d := startDaemon(t, dir, environ)
	c := startESME(t)
	if st := c.bind(smppAddr, user, pass); st != 0 {
		t.Fatalf("bind: status %#x", st)
	}

	const n = 60
	var tags []string
	for i := range n {
		tags = append(tags, c.start("submit_sm", submitFields(fmt.Sprintf("49152%08d", i), 0, 0,
			hex.EncodeToString([]byte(fmt.Sprintf("crash test %d", i))))))
	}
	var ids []string
	for _, tag := range tags {
		ev := c.await(tag)
		if ev.Status() != 0 {
			t.Fatalf("submit_sm: %s", ev.Line)
		}
		ids = append(ids, ev.FieldStr("message_id"))
	}
	// Kill in the middle: some messages at SMSGate, others on their way.
	waitUntil(t, "some messages at SMSGate", func() bool { return len(fake.Messages()) >= n/4 })
	d.kill()
	got := len(fake.Messages())
	t.Logf("%d of %d messages had reached SMSGate at the kill", got, n)

	fake.SetDelay(0)
	startDaemon(t, dir, environ)
	// The client sees the connection drop and binds again (which also
	// gives smppd the account's SMSGate credentials back).
	c.p.MustWait(t, wait, "connection closed", peer.IsEvent("closed"))
	if st := c.bind(smppAddr, user, pass); st != 0 {
		t.Fatalf("bind after the restart: status %#x", st)
	}
	waitUntil(t, "every message at SMSGate", func() bool { return len(fake.Messages()) >= n })
	texts := map[string]int{}
	for _, m := range fake.Messages() {
		texts[text(m)]++
	}
	for i := range n {
		if k := texts[fmt.Sprintf("crash test %d", i)]; k != 1 {
			t.Errorf("message %d reached SMSGate %d times", i, k)
		}
	}
	if len(fake.Messages()) != n {
		t.Errorf("%d messages at SMSGate, want %d", len(fake.Messages()), n)
	}

	fake.SetHold(false)
	for _, m := range fake.Messages() {
		fake.Release(m.State.ID)
	}
	for id, r := range c.receipts(ids...) {
		if r.stat != "DELIVRD" {
			t.Errorf("receipt for %s: %s", id, r.stat)
		}
	}
}

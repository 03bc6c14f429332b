package smppd_test

// End-to-end tests of the smppd daemon (cmd/smppd, run as a process by
// interop/internal/smppd) with node-smpp (npm "smpp") as the ESME:
// ../node/smppd_esme.js binds, submits, answers deliver_sm and prints one
// JSON line per event, which the tests read (no sleeps: every wait is for a
// line, with a bound).

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/smppkit/smpp/dlr"
	"github.com/smppkit/smpp/interop/internal/peer"
	"github.com/smppkit/smpp/interop/internal/smppd"
	"github.com/smppkit/smpp/pdu"
)

func TestMain(m *testing.M) { peer.Main(m, "interop/smppd") }

// nodeDir holds smppd_esme.js and node_modules (npm ci there).
const nodeDir = "../node"

// Bounds: node takes a moment to start on a busy machine; smppd's
// simulator delivers at once, so a receipt follows its submit quickly.
const (
	eventWait = 20 * time.Second // for one line of the script
	esmeLimit = "20"             // the script's own hard timeout, seconds
)

const ourAddr = "4915100000000" // the script's source address

// message is one entry of smppd_esme.js's --messages.
type message struct {
	To     string `json:"to"`
	Text   string `json:"text"`
	Coding string `json:"coding,omitempty"` // gsm (default) or ucs2
	Parts  int    `json:"parts,omitempty"`
	RD     *int   `json:"rd,omitempty"` // registered_delivery (default 1)
	From   string `json:"from,omitempty"`
}

func messagesArg(t *testing.T, ms []message) string {
	t.Helper()
	b, err := json.Marshal(ms)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// startESME runs smppd_esme.js against the daemon with bind type bind
// (trx, tx, rx) as systemID:password.
func startESME(t *testing.T, node string, d *smppd.Daemon, systemID, password, bind string, args ...string) *peer.Peer {
	t.Helper()
	url := fmt.Sprintf("smpp://%s:%s@%s", systemID, password, d.SMPPAddr)
	return peer.Start(t, node, nodeDir, "smppd_esme.js",
		append([]string{"--url", url, "--bind", bind, "--timeout", esmeLimit}, args...)...)
}

// waitBound waits for the script's bind and fails the test unless it
// succeeded.
func waitBound(t *testing.T, p *peer.Peer) {
	t.Helper()
	b := p.MustWait(t, eventWait, "bound", peer.IsEvent("bound"))
	if b.Int("command_status") != 0 || b.Str("system_id") != "smppd" {
		t.Fatalf("bind: %s", b.Line)
	}
}

// finish waits for the script's done line and exit, and checks it went
// well.
func finish(t *testing.T, p *peer.Peer) peer.Event {
	t.Helper()
	done := p.MustWait(t, eventWait, "done", peer.IsEvent("done"))
	if code := p.MustExit(t, eventWait); code != 0 {
		t.Errorf("smppd_esme.js exited with %d", code)
	}
	if !done.Bool("ok") {
		t.Errorf("smppd_esme.js: %q\n%s", done.Strings("errors"), p.Report())
	}
	for _, e := range p.Events() {
		if e.Field("decode_error") != nil {
			t.Errorf("node-smpp could not decode what smppd sent: %s", e.Line)
		}
	}
	return done
}

// submitted is one submit_sm_resp the script got.
type submitted struct {
	index, part int
	id          string
}

func submits(t *testing.T, p *peer.Peer) []submitted {
	t.Helper()
	var out []submitted
	for _, e := range p.Events() {
		if e.Name() != "submitted" {
			continue
		}
		if e.Int("command_status") != 0 || e.Str("message_id") == "" {
			t.Errorf("submit_sm answered %s", e.Line)
			continue
		}
		out = append(out, submitted{int(e.Int("index")), int(e.Int("part")), e.Str("message_id")})
	}
	return out
}

func deliverSMs(p *peer.Peer) []peer.Event {
	var out []peer.Event
	for _, e := range p.Events() {
		if e.Name() == "pdu" && e.Command() == "deliver_sm" {
			out = append(out, e)
		}
	}
	return out
}

// receipt is a deliver_sm receipt as node-smpp decoded it.
type receipt struct {
	ev    peer.Event
	text  string
	rc    dlr.Receipt
	state int64
	tlvID string
}

// receiptsByID checks every deliver_sm of p is a receipt (esm_class 0x04)
// whose text parses, and returns them by receipted_message_id; a second
// receipt for one id is an error.
func receiptsByID(t *testing.T, p *peer.Peer) map[string]receipt {
	t.Helper()
	out := map[string]receipt{}
	for _, e := range deliverSMs(p) {
		if e.FieldInt("esm_class") != 0x04 {
			t.Errorf("deliver_sm with esm_class %#x, want a receipt (0x04): %s", e.FieldInt("esm_class"), e.Line)
			continue
		}
		sm, err := hex.DecodeString(e.FieldStr("short_message"))
		if err != nil {
			t.Errorf("short_message %q: %v", e.FieldStr("short_message"), err)
		}
		rc, err := dlr.Parse(sm, nil)
		if err != nil {
			t.Errorf("receipt text %q: %v", sm, err)
		}
		r := receipt{ev: e, text: string(sm), rc: rc, state: e.FieldInt("message_state"), tlvID: e.FieldStr("receipted_message_id")}
		if _, dup := out[r.tlvID]; dup {
			t.Errorf("a second receipt for %s: %s", r.tlvID, e.Line)
		}
		out[r.tlvID] = r
	}
	return out
}

// checkReceipt checks the receipt for message id sent to dest: the id in
// the text is the receipted_message_id TLV is the submit_sm_resp's id, the
// stat word, message_state and err match, and the addresses are swapped.
func checkReceipt(t *testing.T, rs map[string]receipt, id, dest, stat string, state pdu.MessageState, errCode string) {
	t.Helper()
	r, ok := rs[id]
	if !ok {
		t.Errorf("no receipt for %s (to %s)", id, dest)
		return
	}
	if r.rc.TextID != id || r.tlvID != id {
		t.Errorf("receipt for %s: id %q in the text, receipted_message_id %q", id, r.rc.TextID, r.tlvID)
	}
	if r.rc.Stat != stat || r.state != int64(state) || r.rc.Err != errCode {
		t.Errorf("receipt for %s: stat %q err %q message_state %d, want %s err %s state %d (%q)",
			id, r.rc.Stat, r.rc.Err, r.state, stat, errCode, state, r.text)
	}
	if f := r.ev.Fields(); f["source_addr"] != dest || f["destination_addr"] != ourAddr || r.ev.FieldInt("data_coding") != 0 {
		t.Errorf("receipt for %s: from %v to %v data_coding %v, want %s to %s in data_coding 0", id, f["source_addr"],
			f["destination_addr"], f["data_coding"], dest, ourAddr)
	}
	if r.rc.SubmitDate.IsZero() || r.rc.DoneDate.Before(r.rc.SubmitDate) {
		t.Errorf("receipt for %s: submit date %v done date %v", id, r.rc.SubmitDate, r.rc.DoneDate)
	}
}

// Texts of the messages sent.
var (
	plainText = "Hello smppd from node-smpp"
	ucs2Text  = "Grüße Привет 👋"
	// 400 characters that are the same octets in GSM 03.38 and ASCII: 3
	// parts of at most 134 octets after the 6-octet UDH.
	longText = strings.Repeat("node-smpp sends smppd a long message in three parts. ", 8)[:400]
)

// nodeDaemon starts smppd; when the test ends, anything it logged at
// level ERROR fails the test.
func nodeDaemon(t *testing.T, yaml string) *smppd.Daemon {
	t.Helper()
	d := smppd.Start(t, smppd.Config{ConfigYAML: yaml})
	t.Cleanup(func() { checkLog(t, d) })
	return d
}

// checkLog fails the test for each ERROR line smppd logged and shows its
// WARN lines but the expected ones.
func checkLog(t *testing.T, d *smppd.Daemon) {
	t.Helper()
	for _, l := range d.Lines("level=ERROR") {
		t.Errorf("smppd: %s", l)
	}
	for _, l := range d.Lines("level=WARN") {
		if !strings.Contains(l, "no accounts configured") &&
			!strings.Contains(l, "in plain text") {
			t.Logf("smppd: %s", l)
		}
	}
}

// undelivPrefix is what the simulator rule fails, as UNDELIV err 001.
const undelivPrefix = "4915550"

const ruleYAML = `
simulator:
  rules:
    - prefix: "` + undelivPrefix + `"
      outcome: undeliverable
      error_code: 1
`

// TestNodeTransceiver: one transceiver bind submits a plain GSM, a UCS-2,
// a 3-part concatenated and an undeliverable message, each with
// registered_delivery 1, gets a receipt for every submit_sm on the same
// session and queries each message.
func TestNodeTransceiver(t *testing.T) {
	node := peer.RequireNode(t, nodeDir)
	d := nodeDaemon(t, ruleYAML)
	ms := []message{
		{To: "4917600000001", Text: plainText},
		{To: "4917600000002", Text: ucs2Text, Coding: "ucs2"},
		{To: "4917600000003", Text: longText, Parts: 3},
		{To: undelivPrefix + "00001", Text: "This one fails"},
	}
	p := startESME(t, node, d, "nodetrx", "pw", "trx", "--messages", messagesArg(t, ms), "--receipts", "6", "--query", "1")
	waitBound(t, p)
	finish(t, p)

	subs := submits(t, p)
	if len(subs) != 6 {
		t.Fatalf("%d submit_sm answered, want 6", len(subs))
	}
	rs := receiptsByID(t, p)
	if len(rs) != 6 {
		t.Errorf("%d receipts, want 6", len(rs))
	}
	ids := map[string]bool{}
	for _, s := range subs {
		if ids[s.id] {
			t.Errorf("message id %s given twice", s.id)
		}
		ids[s.id] = true
		m := ms[s.index]
		if strings.HasPrefix(m.To, undelivPrefix) {
			checkReceipt(t, rs, s.id, m.To, "UNDELIV", pdu.StateUndeliverable, "001")
			if ne := rs[s.id].ev.FieldStr("network_error_code"); ne != "030001" {
				t.Errorf("UNDELIV receipt: network_error_code %q, want 030001 (GSM, 1)", ne)
			}
		} else {
			checkReceipt(t, rs, s.id, m.To, "DELIVRD", pdu.StateDelivered, "000")
		}
	}
	checkRespBeforeReceipt(t, p)
	// The receipt's text: field is the start of the message as GSM/ASCII,
	// other characters as '?'.
	for _, s := range subs {
		r := rs[s.id]
		switch {
		case s.index == 0 && r.rc.Text != plainText[:20]:
			t.Errorf("plain receipt text: %q", r.rc.Text)
		case s.index == 1 && r.rc.Text != "Gr??e ?????? ?":
			t.Errorf("UCS-2 receipt text: %q, want %q", r.rc.Text, "Gr??e ?????? ?")
		}
	}

	// query_sm from the store: every id, final state and date.
	qs := map[string]peer.Event{}
	for _, e := range p.Events() {
		if e.Name() == "resp" && e.Command() == "query_sm_resp" {
			qs[e.FieldStr("message_id")] = e
		}
	}
	for _, s := range subs {
		q, ok := qs[s.id]
		want := int64(pdu.StateDelivered)
		if strings.HasPrefix(ms[s.index].To, undelivPrefix) {
			want = int64(pdu.StateUndeliverable)
		}
		if !ok || q.Status() != 0 || q.FieldInt("message_state") != want || len(q.FieldStr("final_date")) != 16 {
			t.Errorf("query_sm %s: %s; want message_state %d and a final_date", s.id, q.Line, want)
		}
	}
	t.Logf("6 submits, 6 receipts, 6 queries; first receipt %q", rs[subs[0].id].text)
}

// TestNodeTransmitterReceiver: the ESME submits over a transmitter bind;
// the receipts come to a separate receiver bind of the same system_id.
func TestNodeTransmitterReceiver(t *testing.T) {
	node := peer.RequireNode(t, nodeDir)
	d := nodeDaemon(t, "")
	rx := startESME(t, node, d, "nodesplit", "pw", "rx", "--receipts", "2", "--wait", "15")
	waitBound(t, rx)
	ms := []message{{To: "4917600000011", Text: plainText}, {To: "4917600000012", Text: ucs2Text, Coding: "ucs2"}}
	tx := startESME(t, node, d, "nodesplit", "pw", "tx", "--messages", messagesArg(t, ms))
	waitBound(t, tx)
	finish(t, tx)
	finish(t, rx)

	if n := len(deliverSMs(tx)); n != 0 {
		t.Errorf("the transmitter got %d deliver_sm", n)
	}
	subs := submits(t, tx)
	if len(subs) != 2 {
		t.Fatalf("%d submit_sm answered, want 2", len(subs))
	}
	rs := receiptsByID(t, rx)
	for _, s := range subs {
		checkReceipt(t, rs, s.id, ms[s.index].To, "DELIVRD", pdu.StateDelivered, "000")
	}
	if len(rs) != 2 {
		t.Errorf("the receiver got %d receipts, want 2", len(rs))
	}
}

// TestNodeReceiptAfterLateBind: the message is submitted over a
// transmitter bind and delivered (query_sm says so) while no receiver is
// bound; a receiver binding afterwards gets the receipt kept in the store.
func TestNodeReceiptAfterLateBind(t *testing.T) {
	node := peer.RequireNode(t, nodeDir)
	d := nodeDaemon(t, "")
	ms := []message{{To: "4917600000021", Text: "Receipt for later"}}
	tx := startESME(t, node, d, "nodelate", "pw", "tx", "--messages", messagesArg(t, ms), "--query-final", "1")
	finish(t, tx)
	subs := submits(t, tx)
	if len(subs) != 1 {
		t.Fatalf("%d submit_sm answered, want 1", len(subs))
	}
	if n := len(deliverSMs(tx)); n != 0 {
		t.Errorf("the transmitter got %d deliver_sm", n)
	}
	var q peer.Event // the last query_sm_resp: the script queries until the state is final
	for _, e := range tx.Events() {
		if e.Name() == "resp" && e.Command() == "query_sm_resp" {
			q = e
		}
	}
	if q.Status() != 0 || q.FieldInt("message_state") != int64(pdu.StateDelivered) {
		t.Fatalf("query_sm before the receiver bound: %s, want DELIVERED", q.Line)
	}

	rx := startESME(t, node, d, "nodelate", "pw", "rx", "--receipts", "1")
	waitBound(t, rx)
	finish(t, rx)
	rs := receiptsByID(t, rx)
	checkReceipt(t, rs, subs[0].id, ms[0].To, "DELIVRD", pdu.StateDelivered, "000")
	if len(rs) != 1 {
		t.Errorf("the late receiver got %d receipts, want 1", len(rs))
	}
}

const moYAML = `
accounts:
  - system_id: nodesender
    password: senderpw
    addresses: ["` + ourAddr + `"]
  - system_id: nodeowner
    password: ownerpw
    bind_types: [receiver]
    addresses: ["4917099*"]
simulator:
  loopback: true
`

// TestNodeLoopbackMO: with accounts, a message to an address another
// account owns reaches that account's receiver as an MO deliver_sm
// (esm_class 0, the text as sent), and the sender still gets its receipt.
func TestNodeLoopbackMO(t *testing.T) {
	node := peer.RequireNode(t, nodeDir)
	d := nodeDaemon(t, moYAML)
	owner := startESME(t, node, d, "nodeowner", "ownerpw", "rx", "--mo", "2", "--wait", "15")
	waitBound(t, owner)
	const dest1, dest2 = "4917099000001", "4917099000002"
	ms := []message{{To: dest1, Text: "MO through the loopback"}, {To: dest2, Text: ucs2Text, Coding: "ucs2"}}
	sender := startESME(t, node, d, "nodesender", "senderpw", "trx", "--messages", messagesArg(t, ms), "--receipts", "2")
	waitBound(t, sender)
	finish(t, sender)
	finish(t, owner)

	subs := submits(t, sender)
	rs := receiptsByID(t, sender)
	for _, s := range subs {
		checkReceipt(t, rs, s.id, ms[s.index].To, "DELIVRD", pdu.StateDelivered, "000")
	}
	mos := deliverSMs(owner)
	if len(mos) != 2 {
		t.Fatalf("the owner got %d deliver_sm, want 2 MO messages", len(mos))
	}
	got := map[string]peer.Event{}
	for _, e := range mos {
		got[e.FieldStr("destination_addr")] = e
	}
	for i, m := range ms {
		e, ok := got[m.To]
		if !ok {
			t.Errorf("no MO to %s", m.To)
			continue
		}
		wantDC, wantSM := int64(0), hex.EncodeToString([]byte(m.Text))
		if m.Coding == "ucs2" {
			wantDC, wantSM = 8, ucs2Hex(m.Text)
		}
		if e.FieldInt("esm_class") != 0 || e.FieldStr("source_addr") != ourAddr || e.FieldInt("data_coding") != wantDC ||
			e.FieldStr("short_message") != wantSM || e.FieldStr("receipted_message_id") != "" {
			t.Errorf("MO %d: %v; want esm_class 0 from %s, data_coding %d, %q", i, e.Fields(), ourAddr, wantDC, m.Text)
		}
	}
	checkRespBeforeReceipt(t, sender)
	if slices.ContainsFunc(deliverSMs(sender), func(e peer.Event) bool { return e.FieldInt("esm_class") == 0 }) {
		t.Errorf("the sender got an MO message")
	}
}

func ucs2Hex(s string) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = append(b, byte(c>>8), byte(c))
	}
	return hex.EncodeToString(b)
}

// checkRespBeforeReceipt checks that on p's session every receipt came
// after the submit_sm_resp that gave its message id: an ESME that matches
// receipts to its submits (Kannel does) cannot place one that arrives
// first.
func checkRespBeforeReceipt(t *testing.T, p *peer.Peer) {
	t.Helper()
	resp := map[string]bool{}
	for _, e := range p.Events() {
		switch {
		case e.Name() == "resp" && e.Command() == "submit_sm_resp":
			resp[e.FieldStr("message_id")] = true
		case e.Name() == "pdu" && e.Command() == "deliver_sm" && e.FieldInt("esm_class") == 0x04:
			if id := e.FieldStr("receipted_message_id"); !resp[id] {
				t.Errorf("the receipt for %s came before its submit_sm_resp on the same session: %s", id, e.Line)
			}
		}
	}
}

// TestNodeEnrouteThenFinal: with simulator.enroute and registered_delivery
// 0x11 (final receipt and intermediate notifications, as Kannel asks), each
// message gets its ENROUTE notification (esm_class 0x20) before its
// DELIVRD receipt, and the store ends DELIVERED.
//
// It guards a bug this test found: the simulator's reports and the
// dispatcher's own ENROUTE (from Submit's result) raced, and the ENROUTE
// could be committed and sent after the final state. Gateway.transition
// now commits and queues under the message's lock.
func TestNodeEnrouteThenFinal(t *testing.T) {
	node := peer.RequireNode(t, nodeDir)
	d := nodeDaemon(t, "simulator:\n  enroute: true\n")
	const n = 30
	rd := 0x11
	var ms []message
	for i := range n {
		ms = append(ms, message{To: fmt.Sprintf("49176000001%02d", i), Text: fmt.Sprintf("enroute %d", i), RD: &rd})
	}
	p := startESME(t, node, d, "nodeenroute", "pw", "trx", "--messages", messagesArg(t, ms), "--receipts", fmt.Sprint(n),
		"--notifications", fmt.Sprint(n), "--query", "1")
	waitBound(t, p)
	finish(t, p)
	final := map[string]bool{}
	for _, e := range deliverSMs(p) {
		id := e.FieldStr("receipted_message_id")
		switch e.FieldInt("esm_class") {
		case 0x04:
			final[id] = true
		case 0x20:
			if final[id] {
				t.Errorf("ENROUTE notification for %s after its final receipt: %s", id, e.Line)
			}
		}
	}
	for _, e := range p.Events() {
		if e.Name() == "resp" && e.Command() == "query_sm_resp" && e.FieldInt("message_state") != int64(pdu.StateDelivered) {
			t.Errorf("query_sm %s after its DELIVRD receipt: message_state %d, final_date %q", e.FieldStr("message_id"),
				e.FieldInt("message_state"), e.FieldStr("final_date"))
		}
	}
}

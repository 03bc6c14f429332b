//go:build linux

package kannel_test

// Kannel (bearerbox + smsbox, Debian package kannel) as a third-party ESME
// against smppkit's smpp.Server.
//
// The test fills in kannel.conf.tmpl (free ports, a
// temporary directory), starts our server, bearerbox and smsbox, and then:
//
//   - waits for Kannel's bind_transceiver and checks its fields;
//   - sends an SMS through Kannel's sendsms HTTP interface with a dlr-mask
//     and a dlr-url pointing at an HTTP server in the test, and checks the
//     submit_sm our server gets (addresses, TON/NPI, text, registered
//     delivery), which it answers with a message id;
//   - checks Kannel reports the SMSC acknowledgement (DLR type 8) with that
//     id, sends back a delivery receipt (deliver_sm, esm_class 4, the
//     receipt text and the receipted_message_id and message_state TLVs),
//     checks Kannel answers it with status 0 and reports the final DLR
//     (type 1) for the same id;
//   - sends an MO deliver_sm, checks Kannel answers status 0 and hands the
//     message to its sms-service (the test's HTTP server);
//   - sends two long messages (UCS-2 and GSM 7-bit with the extension
//     table) that Kannel splits with a UDH, and joins them with package text;
//   - waits for Kannel's enquire_link, stops Kannel and checks it unbinds;
//   - checks that every PDU Kannel sent decoded strictly and nothing was
//     answered with an error.
//
// It skips when bearerbox or smsbox is not installed, unless SMPPKIT_INTEROP=1,
// in which case that is a failure. Debian: apt-get install kannel.
// See README.md (in this directory).

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/dlr"
	"github.com/smppkit/smpp/interop/internal/kannel"
	"github.com/smppkit/smpp/interop/internal/peer"
	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/smpptest"
	"github.com/smppkit/smpp/text"
)

func TestMain(m *testing.M) { peer.Main(m, "interop/kannel") }

// kannelLog is what the test saw happen, in order, for waiting on.
type kannelLog struct {
	kannel.Waiter
	binds  []smpp.BindRequest
	bound  []*smpp.Session
	submit []*pdu.SubmitSM
	pdus   []kannelPDU // every PDU our server received
	hits   []*http.Request
}

type kannelPDU struct {
	d smpp.Direction
	p pdu.PDU
}

func TestKannel(t *testing.T) {
	bearerbox := kannel.Tool(t, "bearerbox")
	smsbox := kannel.Tool(t, "smsbox")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	const (
		systemID   = "kannel1"
		password   = "kpw123"
		systemType = "KANNEL"
		from       = "12345"
		to         = "4917612345678"
		msgText    = "Hello from Kannel to smppkit"
		moFrom     = "4917600000042"
		moText     = "MO via smppkit to Kannel"
	)
	log := &kannelLog{}

	// The test's HTTP server: Kannel's sms-service (MO) and dlr-url.
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.Add(func() { log.hits = append(log.hits, r) })
		w.WriteHeader(http.StatusOK) // empty body: no reply SMS
	}))
	t.Cleanup(hs.Close)

	// Our SMSC.
	const msgID = "5e1f00a7" // hexadecimal-looking, as many SMSCs give
	ts := smpptest.NewUnstartedServer(t, nil)
	srv := ts.Server
	*srv = smpp.Server{
		SystemID: "smppkit",
		Auth: func(_ context.Context, b *smpp.BindRequest) pdu.Status {
			log.Add(func() { log.binds = append(log.binds, *b) })
			if b.SystemID != systemID || b.Password != password {
				return pdu.ESME_RINVPASWD
			}
			return pdu.ESME_ROK
		},
		Handler: smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
			switch p := r.PDU.(type) {
			case *pdu.SubmitSM:
				var n int
				log.Add(func() { log.submit = append(log.submit, p); n = len(log.submit) })
				id := msgID // the first message's, then others
				if n > 1 {
					id = fmt.Sprintf("%08x", 0x5e1f00a7+n-1)
				}
				w.Respond(&pdu.SubmitSMResp{MessageID: id})
			default:
				w.RespondStatus(pdu.ESME_ROK)
			}
		}),
		Trace: func(_ *smpp.Session, d smpp.Direction, p pdu.PDU) {
			log.Add(func() { log.pdus = append(log.pdus, kannelPDU{d, p}) })
		},
		ConnState: func(s *smpp.Session, st smpp.State) {
			if st.Bound() {
				log.Add(func() { log.bound = append(log.bound, s) })
			}
		},
	}
	// Shut down when the test ends, after Kannel is stopped (cleanups run
	// last-in first-out).
	ts.Start()
	_, smppPort, err := net.SplitHostPort(ts.Addr)
	if err != nil {
		t.Fatal(err)
	}

	// The configuration.
	tmpl, err := os.ReadFile("kannel.conf.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	adminPort, smsboxPort, sendsmsPort := kannel.FreePort(t), kannel.FreePort(t), kannel.FreePort(t)
	vars := map[string]string{
		"ADMIN_PORT": fmt.Sprint(adminPort), "ADMIN_PASSWORD": "adminpw", "SMSBOX_PORT": fmt.Sprint(smsboxPort),
		"SENDSMS_PORT": fmt.Sprint(sendsmsPort), "SMPP_PORT": smppPort,
		"SYSTEM_ID": systemID, "PASSWORD": password, "SYSTEM_TYPE": systemType,
		"SENDSMS_USER": "tester", "SENDSMS_PASSWORD": "sendpw", "MO_URL": hs.URL + "/mo", "DIR": dir,
	}
	conf := os.Expand(string(tmpl), func(k string) string {
		v, ok := vars[k]
		if !ok {
			t.Fatalf("kannel.conf.tmpl: unknown placeholder ${%s}", k)
		}
		return v
	})
	confFile := filepath.Join(dir, "kannel.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}

	exited := make(chan string, 2)
	start := func(name, bin string) *kannel.Proc {
		return kannel.Start(t, dir, name, bin, confFile, exited, 15*time.Second)
	}
	// On failure, show the end of Kannel's logs.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, name := range []string{"bearerbox.out", "bearerbox.log", "smsbox.out", "smsbox.log"} {
			b, _ := os.ReadFile(filepath.Join(dir, name))
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			t.Logf("---- %s (last %d lines)\n%s", name, min(len(lines), 40), strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
	})
	fail := func(err error) {
		t.Helper()
		t.Fatal(err)
	}

	t0 := time.Now()
	bb := start("bearerbox", bearerbox)

	// 1. Kannel binds as a transceiver.
	var sess *smpp.Session
	if err := log.Wait(ctx, "Kannel's bind", exited, func() bool {
		if len(log.bound) > 0 {
			sess = log.bound[0]
			return true
		}
		return false
	}); err != nil {
		fail(err)
	}
	tBind := time.Since(t0)
	log.Mu.Lock()
	b := log.binds[len(log.binds)-1]
	log.Mu.Unlock()
	if b.Command != pdu.BindTransceiverID || b.SystemID != systemID || b.Password != password || b.SystemType != systemType || b.InterfaceVersion != 0x34 {
		t.Errorf("bind: %v system_id %q password %q system_type %q version %#x; want bind_transceiver %s/%s/%s 0x34",
			b.Command, b.SystemID, b.Password, b.SystemType, b.InterfaceVersion, systemID, password, systemType)
	}
	if sess.State() != smpp.StateBoundTRX || sess.SystemID() != systemID {
		t.Errorf("session state %v system_id %q", sess.State(), sess.SystemID())
	}

	// 2. smsbox connects to bearerbox; its HTTP interface comes up.
	sb := start("smsbox", smsbox)
	if err := kannel.Poll(ctx, exited, "smsbox connected to bearerbox", func() (bool, error) {
		body, _, err := kannel.Get(ctx, fmt.Sprintf("http://127.0.0.1:%d/status.txt?password=adminpw", adminPort))
		if err != nil {
			return false, nil // not up yet
		}
		return strings.Contains(body, "smsbox:") && strings.Contains(body, "smppkit") && strings.Contains(body, "online"), nil
	}); err != nil {
		fail(err)
	}
	dlrURL := hs.URL + "/dlr?type=%d&fid=%F&answer=%A&from=%p&to=%P&smsc=%i"
	q := url.Values{"username": {"tester"}, "password": {"sendpw"}, "from": {from}, "to": {to}, "text": {msgText},
		"dlr-mask": {"31"}, "dlr-url": {dlrURL}}
	sendURL := fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms?%s", sendsmsPort, q.Encode())
	var sendBody string
	var sendStatus int
	if err := kannel.Poll(ctx, exited, "smsbox's sendsms interface", func() (bool, error) {
		body, status, err := kannel.Get(ctx, sendURL)
		if err != nil {
			return false, nil
		}
		sendBody, sendStatus = body, status
		return true, nil
	}); err != nil {
		fail(err)
	}
	tSend := time.Since(t0)
	if sendStatus != http.StatusAccepted || !strings.HasPrefix(sendBody, "0:") {
		t.Fatalf("sendsms answered %d %q, want 202 \"0: Accepted for delivery\"", sendStatus, sendBody)
	}

	// 3. Our server gets a well-formed submit_sm and answers it.
	var sub *pdu.SubmitSM
	if err := log.Wait(ctx, "Kannel's submit_sm", exited, func() bool {
		if len(log.submit) > 0 {
			sub = log.submit[0]
			return true
		}
		return false
	}); err != nil {
		fail(err)
	}
	if sub.SourceAddr != from || sub.SourceAddrTON != 1 || sub.SourceAddrNPI != 1 ||
		sub.DestinationAddr != to || sub.DestAddrTON != 1 || sub.DestAddrNPI != 1 {
		t.Errorf("submit_sm addresses %d/%d %q → %d/%d %q, want 1/1 %q → 1/1 %q", sub.SourceAddrTON, sub.SourceAddrNPI, sub.SourceAddr,
			sub.DestAddrTON, sub.DestAddrNPI, sub.DestinationAddr, from, to)
	}
	if string(sub.ShortMessage) != msgText || sub.DataCoding != 0 || sub.ESMClass&0x40 != 0 {
		t.Errorf("submit_sm text %q data_coding %d esm_class %#x, want %q in data_coding 0 without UDH", sub.ShortMessage, sub.DataCoding, sub.ESMClass, msgText)
	}
	if sub.ESMClass&0x3c != 0 {
		t.Errorf("submit_sm esm_class %#x: message type bits set", sub.ESMClass)
	}
	if sub.RegisteredDelivery&0x03 != 1 {
		t.Errorf("submit_sm registered_delivery %#x, want a receipt requested (dlr-mask 31)", sub.RegisteredDelivery)
	}

	// 4. Kannel reports the SMSC's acknowledgement (DLR type 8) with our id.
	dlrHit := func(typ string) (*http.Request, error) {
		var hit *http.Request
		err := log.Wait(ctx, "DLR type "+typ, exited, func() bool {
			for _, r := range log.hits {
				if r.URL.Path == "/dlr" && r.URL.Query().Get("type") == typ {
					hit = r
					return true
				}
			}
			return false
		})
		return hit, err
	}
	ack, err := dlrHit("8")
	if err != nil {
		fail(err)
	}
	if got := ack.URL.Query().Get("fid"); got != msgID {
		t.Errorf("DLR 8: foreign message id %q, want %q", got, msgID)
	}
	if got := ack.URL.Query().Get("smsc"); got != "smppkit" {
		t.Errorf("DLR 8: smsc-id %q, want smppkit", got)
	}

	// 5. The delivery receipt.
	submitted := time.Now().UTC().Truncate(time.Minute)
	rc := dlr.New(msgID, submitted, submitted, pdu.StateDelivered, msgText)
	receipt := &pdu.DeliverSM{SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: to, DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: from,
		ESMClass: 0x04, ShortMessage: []byte(rc.Format()), TLVs: rc.TLVs()}
	if v, _ := receipt.TLVs.String(pdu.TagReceiptedMessageID); v != msgID {
		t.Fatalf("dlr.Receipt.TLVs: receipted_message_id %q", v)
	}
	if v, _ := receipt.TLVs.Uint8(pdu.TagMessageState); pdu.MessageState(v) != pdu.StateDelivered {
		t.Fatalf("dlr.Receipt.TLVs: message_state %d", v)
	}
	if resp, err := srv.Deliver(ctx, systemID, receipt); err != nil {
		t.Fatalf("receipt deliver_sm: %v (%v)", err, resp)
	} else if resp.CommandID() != pdu.DeliverSMRespID || resp.Head().CommandStatus != pdu.ESME_ROK {
		t.Errorf("receipt answered with %v status %v", resp.CommandID(), resp.Head().CommandStatus)
	}
	final, err := dlrHit("1")
	if err != nil {
		fail(err)
	}
	fq := final.URL.Query()
	if fq.Get("fid") != msgID || !strings.Contains(fq.Get("answer"), "id:"+msgID) || !strings.Contains(fq.Get("answer"), "stat:DELIVRD") {
		t.Errorf("DLR 1: fid %q answer %q; want id %s, the receipt text", fq.Get("fid"), fq.Get("answer"), msgID)
	}
	// Kannel reports a DLR as a message from the handset (%p, the
	// receipt's source_addr) to the original sender (%P).
	if fq.Get("from") != to || fq.Get("to") != from {
		t.Errorf("DLR 1: from %q to %q; want %q → %q", fq.Get("from"), fq.Get("to"), to, from)
	}
	tDLR := time.Since(t0)

	// 6. An MO message.
	mo := &pdu.DeliverSM{SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: moFrom, DestAddrTON: 0, DestAddrNPI: 1, DestinationAddr: from,
		ShortMessage: []byte(moText)}
	if resp, err := srv.Deliver(ctx, systemID, mo); err != nil {
		t.Fatalf("MO deliver_sm: %v (%v)", err, resp)
	} else if resp.CommandID() != pdu.DeliverSMRespID || resp.Head().CommandStatus != pdu.ESME_ROK {
		t.Errorf("MO answered with %v status %v", resp.CommandID(), resp.Head().CommandStatus)
	}
	var moHit *http.Request
	if err := log.Wait(ctx, "the MO at Kannel's sms-service", exited, func() bool {
		for _, r := range log.hits {
			if r.URL.Path == "/mo" {
				moHit = r
				return true
			}
		}
		return false
	}); err != nil {
		fail(err)
	}
	mq := moHit.URL.Query()
	// Kannel writes an international (TON 1) number with a '+'.
	if mq.Get("from") != "+"+moFrom || mq.Get("to") != from || mq.Get("text") != moText || mq.Get("smsc") != "smppkit" {
		t.Errorf("MO at sms-service: from %q to %q text %q smsc %q; want %q → %q %q via smppkit", mq.Get("from"), mq.Get("to"),
			mq.Get("text"), mq.Get("smsc"), "+"+moFrom, from, moText)
	}
	tMO := time.Since(t0)

	// 7. Long messages: Kannel splits them with a concatenation UDH; our
	// text package must join them back into the text sent.
	for _, tc := range []struct {
		name, text, coding string
		dc                 byte
	}{
		{"UCS-2", strings.Repeat("Привет от Kannel, Grüße ☺ — ", 5), "2", 8},
		{"GSM 7-bit", "GSM: @£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà ^{}\\[~]|€ " + strings.Repeat("0123456789", 12), "0", 0},
	} {
		log.Mu.Lock()
		base := len(log.submit)
		log.Mu.Unlock()
		q := url.Values{"username": {"tester"}, "password": {"sendpw"}, "from": {from}, "to": {to}, "text": {tc.text},
			"charset": {"UTF-8"}, "coding": {tc.coding}}
		body, status, err := kannel.Get(ctx, fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms?%s", sendsmsPort, q.Encode()))
		if err != nil || status != http.StatusAccepted {
			t.Fatalf("%s: sendsms: %v %d %q", tc.name, err, status, body)
		}
		ra := &text.Reassembler{}
		var whole text.Reassembled
		var parts []*pdu.SubmitSM
		if err := log.Wait(ctx, "the "+tc.name+" message's parts", exited, func() bool {
			for ; base < len(log.submit); base++ {
				p := log.submit[base]
				parts = append(parts, p)
				r, ok, err := ra.Add(text.Part{Source: p.SourceAddr, Dest: p.DestinationAddr, DataCoding: p.DataCoding,
					UDHI: p.ESMClass&0x40 != 0, Data: p.ShortMessage})
				if err != nil {
					t.Errorf("%s: part %d: %v", tc.name, len(parts), err)
				}
				if ok {
					whole = r
					return true
				}
			}
			return false
		}); err != nil {
			fail(err)
		}
		if whole.Text != tc.text || whole.Total < 2 || whole.Total != len(parts) || whole.DataCoding != tc.dc {
			t.Errorf("%s: joined %d of %d parts in data_coding %d as %q; want %q in data_coding %d, split", tc.name, len(parts),
				whole.Total, whole.DataCoding, whole.Text, tc.text, tc.dc)
		}
		for i, p := range parts {
			if p.ESMClass&0x40 == 0 || p.DataCoding != tc.dc || p.SourceAddr != from || p.DestinationAddr != to {
				t.Errorf("%s: part %d: esm_class %#x data_coding %d %q → %q", tc.name, i+1, p.ESMClass, p.DataCoding, p.SourceAddr, p.DestinationAddr)
			}
		}
		t.Logf("%s: %d characters in %d parts, joined", tc.name, len([]rune(tc.text)), len(parts))
	}
	tLong := time.Since(t0)

	// 8. Kannel keeps the link alive with enquire_link (every 1 s here).
	if err := log.Wait(ctx, "Kannel's enquire_link", exited, func() bool {
		return kannelCount(log.pdus, smpp.Received, pdu.EnquireLinkID) > 0 && kannelCount(log.pdus, smpp.Sent, pdu.EnquireLinkRespID) > 0
	}); err != nil {
		fail(err)
	}
	tEnquire := time.Since(t0)

	// 9. Kannel shuts down: smsbox, then bearerbox, which unbinds. (smsbox
	// plays no part in SMPP; it sometimes hangs on SIGTERM, so it gets
	// killed after a while without failing the test.)
	sb.Stop(t, 5*time.Second, false)
	bb.Stop(t, 15*time.Second, true)
	select {
	case <-sess.Done():
	case <-ctx.Done():
		t.Fatal("our session did not close after bearerbox stopped")
	}
	tStop := time.Since(t0)

	// 10. Everything Kannel sent decoded strictly and was answered with
	// status 0; one unbind.
	log.Mu.Lock()
	nSubmit, nUnbind := len(log.submit), kannelCount(log.pdus, smpp.Received, pdu.UnbindID)
	nUnbindResp := kannelCount(log.pdus, smpp.Sent, pdu.UnbindRespID)
	var received []string
	for _, p := range log.pdus {
		if p.d == smpp.Received {
			received = append(received, p.p.CommandID().String())
		}
	}
	log.Mu.Unlock()
	if nSubmit < 5 {
		t.Errorf("Kannel sent %d submit_sm, want 1 + the parts of two long messages", nSubmit)
	}
	if nUnbind != 1 || nUnbindResp != 1 {
		t.Errorf("Kannel sent %d unbind on shutdown and we answered %d, want 1 and 1", nUnbind, nUnbindResp)
	}
	if st := sess.Stats(); st.DecodeErrors != 0 || len(st.SentErrors) != 0 || len(st.ReceivedErrors) != 0 {
		t.Errorf("session stats: %d decode errors, error responses sent %v, received %v", st.DecodeErrors, st.SentErrors, st.ReceivedErrors)
	}
	sj, _ := pdu.MarshalJSON(sub)
	t.Logf("Kannel's submit_sm: %s", sj)
	t.Logf("Kannel sent: %s", strings.Join(received, ", "))
	t.Logf("timings after start: bound %v, sendsms accepted %v, final DLR %v, MO %v, long messages %v, enquire_link %v, stopped %v",
		tBind.Round(time.Millisecond), tSend.Round(time.Millisecond), tDLR.Round(time.Millisecond), tMO.Round(time.Millisecond),
		tLong.Round(time.Millisecond), tEnquire.Round(time.Millisecond), tStop.Round(time.Millisecond))
}

// kannelCount counts the PDUs with a command id going one way.
func kannelCount(pdus []kannelPDU, d smpp.Direction, id pdu.CommandID) int {
	n := 0
	for _, p := range pdus {
		if p.d == d && p.p.CommandID() == id {
			n++
		}
	}
	return n
}

// kannelHTTP talks to Kannel without keeping connections open, which
// could hold up smsbox's shutdown.

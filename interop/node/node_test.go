package node_test

// Interop tests against node-smpp (npm "smpp" 0.5.1), both ways: our Client
// against server.js (in this directory), and client.js against our Server.
// They skip when node or node_modules is missing (run npm ci here), unless
// SMPPKIT_INTEROP=1 (CI), which makes that a failure. See README.md for what
// the node programs do and print.

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/smppkit/smpp"
	"github.com/smppkit/smpp/dlr"
	"github.com/smppkit/smpp/interop/internal/peer"
	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/smpptest"
	"github.com/smppkit/smpp/text"
)

// nodeDir holds server.js and client.js: the test runs in this directory.
func TestMain(m *testing.M) { peer.Main(m, "interop/node") }

const nodeDir = "."

// Generous bounds: the machine running the tests may be busy, and node
// takes a while to start.
const (
	nodeWait     = 60 * time.Second // for one event from a node program
	nodeRunLimit = 3 * time.Minute  // for a whole node client run
)

var nodeMsgID = regexp.MustCompile(`^msg[0-9a-f]{5}$`)

const (
	ourAddr = "4915100000000" // our source address in the client tests
)

func hexOf(s string) string { return hex.EncodeToString([]byte(s)) }

func ucs2Hex(s string) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.BigEndian.PutUint16(b[2*i:], c)
	}
	return hex.EncodeToString(b)
}

// startNodeServer runs server.js on a free port and returns it with its
// address.
func startNodeServer(t *testing.T, node string, args ...string) (*peer.Peer, string) {
	t.Helper()
	p := peer.Start(t, node, nodeDir, "server.js", append([]string{"--port", "0", "--timeout", "300"}, args...)...)
	ev := p.MustWait(t, nodeWait, "listening", peer.IsEvent("listening"))
	port := ev.Int("port")
	if port <= 0 {
		t.Fatalf("server.js: bad listening line %s", ev.Line)
	}
	return p, fmt.Sprintf("127.0.0.1:%d", port)
}

// waitN waits until n events match and returns them in printing order.
func waitN(t *testing.T, p *peer.Peer, n int, what string, match func(peer.Event) bool) []peer.Event {
	t.Helper()
	var out []peer.Event
	from := 0
	for len(out) < n {
		e, i, err := p.Wait(from, nodeWait, match)
		if err != nil {
			t.Fatalf("waiting for %s (%d of %d seen): %v\n%s", what, len(out), n, err, p.Report())
		}
		out = append(out, e)
		from = i + 1
	}
	return out
}

// submitTo matches server.js's submit_sm events for one destination.
func submitTo(dest string) func(peer.Event) bool {
	return func(e peer.Event) bool {
		return e.Name() == "pdu" && e.Command() == "submit_sm" && e.FieldStr("destination_addr") == dest
	}
}

// TestNodeInteropClient runs our Client against node-smpp's SMSC.
func TestNodeInteropClient(t *testing.T) {
	node := peer.RequireNode(t, nodeDir)
	srv, addr := startNodeServer(t, node, "--password", "secret", "--enquire", "1")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	receipts := make(chan *smpp.Receipt, 64)
	messages := make(chan *smpp.InboundMessage, 64)
	var dropped atomic.Int32
	in := &smpp.Inbound{
		OnReceipt: func(_ context.Context, r *smpp.Receipt) pdu.Status {
			select {
			case receipts <- r:
			default:
				dropped.Add(1)
			}
			return pdu.ESME_ROK
		},
		OnMessage: func(_ context.Context, m *smpp.InboundMessage) pdu.Status {
			select {
			case messages <- m:
			default:
				dropped.Add(1)
			}
			return pdu.ESME_ROK
		},
	}
	const throttleMin = 200 * time.Millisecond
	cfg := &smpp.ClientConfig{
		Bind:             smpp.BindTransceiver,
		InterfaceVersion: 0x50, // broadcast_sm & co. are v5.0
		Inbound:          in,
		ResponseTimeout:  nodeWait,
		DialTimeout:      nodeWait,
		NoReconnect:      true,
		ThrottleMin:      throttleMin,
		ThrottleMax:      2 * time.Second,
	}
	c, err := smpp.Dial(ctx, "smpp://esme:secret@"+addr, cfg)
	if err != nil {
		t.Fatalf("Dial: %v\n%s", err, srv.Report())
	}
	t.Cleanup(func() { c.Close() })
	const session = 1 // server.js numbers sessions in accept order

	t.Run("bind", func(t *testing.T) {
		if got := c.SMSCSystemID(); got != "nodesmsc" {
			t.Errorf("SMSCSystemID = %q, want nodesmsc", got)
		}
		b := srv.MustWait(t, nodeWait, "bind_transceiver", peer.IsPDU("bind_transceiver", session))
		if b.FieldStr("system_id") != "esme" || b.FieldStr("password") != "secret" || b.FieldInt("interface_version") != 0x50 {
			t.Errorf("node decoded our bind as %v", b.Fields())
		}
		ev := srv.MustWait(t, nodeWait, "bound", peer.IsEvent("bound"))
		if ev.Int("session") != session || ev.Str("command") != "bind_transceiver" || ev.Str("system_id") != "esme" {
			t.Errorf("bound event %s", ev.Line)
		}
	})

	t.Run("Send with receipt", func(t *testing.T) {
		const dest, msg = "4915100000001", "Hello from smppkit"
		ids, err := c.Send(ctx, smpp.Message{From: ourAddr, To: dest, Text: msg, Receipt: true})
		if err != nil || len(ids) != 1 || !nodeMsgID.MatchString(ids[0]) {
			t.Fatalf("Send = %q, %v", ids, err)
		}
		e := srv.MustWait(t, nodeWait, "submit_sm to "+dest, submitTo(dest))
		f := e.Fields()
		// Digits without '+' or 00 go out as TON unknown, NPI ISDN (smpp.GuessTON).
		if f["source_addr"] != ourAddr || e.FieldInt("source_addr_ton") != 0 || e.FieldInt("source_addr_npi") != 1 ||
			e.FieldInt("dest_addr_ton") != 0 || e.FieldInt("dest_addr_npi") != 1 ||
			e.FieldInt("registered_delivery") != 1 || e.FieldInt("data_coding") != 0 || e.FieldInt("esm_class") != 0 ||
			e.FieldStr("short_message") != hexOf(msg) {
			t.Errorf("node decoded our submit_sm as %v", f)
		}
		select {
		case r := <-receipts:
			if r.ParseErr != nil {
				t.Errorf("receipt parse error: %v (%q)", r.ParseErr, r.Raw)
			}
			if r.ID != ids[0] || r.TextID != ids[0] || r.State != pdu.StateDelivered || r.Stat != "DELIVRD" ||
				r.Sub != 1 || r.Dlvrd != 1 || r.Err != "000" || r.Text != msg || r.Intermediate {
				t.Errorf("receipt = %+v", r.Receipt)
			}
			if r.From != dest || r.To != ourAddr {
				t.Errorf("receipt addresses from %q to %q, want %q to %q", r.From, r.To, dest, ourAddr)
			}
			want := time.Date(2026, 11, 22, 12, 1, 0, 0, time.UTC)
			if !r.DoneDate.Equal(want) || !r.SubmitDate.Equal(want.Add(-time.Minute)) {
				t.Errorf("receipt dates submit %v done %v", r.SubmitDate, r.DoneDate)
			}
			if r.Sent == nil {
				t.Errorf("receipt for %s not matched to the message Send sent (Receipt.Sent == nil); see TestSendReceiptForEarlyPart", r.ID)
			} else if !slices.Equal(r.Sent.IDs, ids) || r.Sent.To != dest || r.Sent.Text != msg {
				t.Errorf("Receipt.Sent = %+v", r.Sent)
			}
		case <-time.After(nodeWait):
			t.Fatalf("no receipt within %v\n%s", nodeWait, srv.Report())
		}
		// node logs our deliver_sm_resp.
		dr := srv.MustWait(t, nodeWait, "deliver_sm_resp", peer.IsPDU("deliver_sm_resp", session))
		if dr.Status() != 0 {
			t.Errorf("deliver_sm_resp status %d", dr.Status())
		}
	})

	var submitID string
	t.Run("Submit", func(t *testing.T) {
		const dest = "4915100000002"
		resp, err := c.Submit(ctx, &pdu.SubmitSM{ServiceType: "CMT", SourceAddrTON: 5, SourceAddr: "smppkit",
			DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: dest, ProtocolID: 0, PriorityFlag: 1,
			ValidityPeriod: "000001000000000R", DataCoding: 0, ShortMessage: []byte("plain submit_sm")})
		if err != nil || !nodeMsgID.MatchString(resp.MessageID) {
			t.Fatalf("Submit = %+v, %v", resp, err)
		}
		submitID = resp.MessageID
		e := srv.MustWait(t, nodeWait, "submit_sm to "+dest, submitTo(dest))
		if e.FieldStr("service_type") != "CMT" || e.FieldStr("source_addr") != "smppkit" || e.FieldInt("source_addr_ton") != 5 ||
			e.FieldInt("priority_flag") != 1 || e.FieldStr("validity_period") != "000001000000000R" ||
			e.FieldInt("registered_delivery") != 0 || e.FieldStr("short_message") != hexOf("plain submit_sm") {
			t.Errorf("node decoded our submit_sm as %v", e.Fields())
		}
	})

	// A 400-character GSM text: letters, spaces and full stops, which are the
	// same octets in GSM 03.38 (unpacked) and ASCII.
	long := strings.Repeat("smppkit sends a long message. ", 14)[:400]

	t.Run("long message UDH", func(t *testing.T) {
		const dest = "4915100000003"
		ids, err := c.Send(ctx, smpp.Message{From: ourAddr, To: dest, Text: long})
		if err != nil || len(ids) != 3 {
			t.Fatalf("Send = %q, %v", ids, err)
		}
		for _, id := range ids {
			if !nodeMsgID.MatchString(id) {
				t.Errorf("message id %q", id)
			}
		}
		evs := waitN(t, srv, 3, "3 parts to "+dest, submitTo(dest))
		parts := make([]string, 3)
		var ref string
		for _, e := range evs {
			sm := e.FieldStr("short_message")
			if e.FieldInt("esm_class") != 0x40 || e.FieldInt("data_coding") != 0 || len(sm) < 12 ||
				sm[:6] != "050003" || sm[8:10] != "03" {
				t.Fatalf("part %v", e.Fields())
			}
			if ref == "" {
				ref = sm[6:8]
			} else if sm[6:8] != ref {
				t.Errorf("parts carry different references %s and %s", ref, sm[6:8])
			}
			n := int(sm[10]-'0')*10 + int(sm[11]-'0')
			if n < 1 || n > 3 || parts[n-1] != "" {
				t.Fatalf("part number %d in %s", n, sm[:12])
			}
			b, _ := hex.DecodeString(sm[12:])
			parts[n-1] = string(b)
		}
		if got := strings.Join(parts, ""); got != long {
			t.Errorf("parts join to %q, want %q", got, long)
		}
		if len(parts[0]) != 153 || len(parts[1]) != 153 || len(parts[2]) != 94 {
			t.Errorf("part lengths %d %d %d, want 153 153 94", len(parts[0]), len(parts[1]), len(parts[2]))
		}
	})

	t.Run("long message SAR", func(t *testing.T) {
		const dest = "4915100000004"
		ids, err := c.Send(ctx, smpp.Message{From: ourAddr, To: dest, Text: long, Split: text.SplitSAR})
		if err != nil || len(ids) != 3 {
			t.Fatalf("Send = %q, %v", ids, err)
		}
		evs := waitN(t, srv, 3, "3 SAR parts to "+dest, submitTo(dest))
		parts := make([]string, 3)
		ref := int64(-1)
		for _, e := range evs {
			if e.FieldInt("esm_class") != 0 || e.FieldInt("sar_total_segments") != 3 {
				t.Fatalf("part %v", e.Fields())
			}
			if ref == -1 {
				ref = e.FieldInt("sar_msg_ref_num")
			} else if e.FieldInt("sar_msg_ref_num") != ref {
				t.Errorf("SAR references %d and %d", ref, e.FieldInt("sar_msg_ref_num"))
			}
			n := e.FieldInt("sar_segment_seqnum")
			if n < 1 || n > 3 || parts[n-1] != "" {
				t.Fatalf("sar_segment_seqnum %d", n)
			}
			b, _ := hex.DecodeString(e.FieldStr("short_message"))
			parts[n-1] = string(b)
		}
		if got := strings.Join(parts, ""); got != long {
			t.Errorf("SAR parts join to %q, want %q", got, long)
		}
	})

	t.Run("UCS-2", func(t *testing.T) {
		const dest, msg = "4915100000005", "Привет, мир! Γειά σου κόσμε! 你好，世界"
		ids, err := c.Send(ctx, smpp.Message{From: ourAddr, To: dest, Text: msg})
		if err != nil || len(ids) != 1 {
			t.Fatalf("Send = %q, %v", ids, err)
		}
		e := srv.MustWait(t, nodeWait, "submit_sm to "+dest, submitTo(dest))
		if e.FieldInt("data_coding") != 8 || e.FieldStr("short_message") != ucs2Hex(msg) || e.FieldInt("esm_class") != 0 {
			t.Errorf("node decoded our UCS-2 submit_sm as %v", e.Fields())
		}
	})

	t.Run("submit_multi", func(t *testing.T) {
		resp, err := c.SubmitMulti(ctx, &pdu.SubmitMulti{SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: ourAddr,
			DestAddresses: []pdu.DestAddress{
				{Flag: pdu.DestFlagSME, TON: 1, NPI: 1, Addr: "4915100000006"},
				{Flag: pdu.DestFlagSME, TON: 1, NPI: 1, Addr: "000"},
				{Flag: pdu.DestFlagDistribution, DLName: "smppkitlist"},
			},
			ShortMessage: []byte("Hello to many from smppkit")})
		if err != nil || !nodeMsgID.MatchString(resp.MessageID) {
			t.Fatalf("SubmitMulti = %+v, %v", resp, err)
		}
		want := []pdu.UnsuccessSME{{DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: "000", ErrorStatusCode: pdu.ESME_RINVDSTADR}}
		if !slices.Equal(resp.Unsuccess, want) {
			t.Errorf("unsuccess_sme = %+v, want %+v", resp.Unsuccess, want)
		}
		e := srv.MustWait(t, nodeWait, "submit_multi", peer.IsPDU("submit_multi", session))
		da, _ := e.Field("dest_address").([]any)
		got := fmt.Sprint(da)
		if len(da) != 3 || !strings.Contains(got, "destination_addr:4915100000006") ||
			!strings.Contains(got, "destination_addr:000") || !strings.Contains(got, "dl_name:smppkitlist") ||
			e.FieldStr("short_message") != hexOf("Hello to many from smppkit") {
			t.Errorf("node decoded our submit_multi as %v", e.Fields())
		}
	})

	t.Run("data_sm", func(t *testing.T) {
		const payload = "Payload from smppkit via data_sm"
		p := &pdu.DataSM{SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: ourAddr, DestAddrTON: 1, DestAddrNPI: 1,
			DestinationAddr: "4915100000007"}
		p.TLVs.Set(pdu.TagMessagePayload, []byte(payload))
		resp, err := c.DataSM(ctx, p)
		if err != nil || !nodeMsgID.MatchString(resp.MessageID) {
			t.Fatalf("DataSM = %+v, %v", resp, err)
		}
		e := srv.MustWait(t, nodeWait, "data_sm", peer.IsPDU("data_sm", session))
		if e.FieldStr("message_payload") != hexOf(payload) || e.FieldStr("destination_addr") != "4915100000007" {
			t.Errorf("node decoded our data_sm as %v", e.Fields())
		}
	})

	t.Run("query replace cancel", func(t *testing.T) {
		if submitID == "" {
			t.Skip("no message id from Submit")
		}
		q, err := c.Query(ctx, &pdu.QuerySM{MessageID: submitID, SourceAddrTON: 5, SourceAddr: "smppkit"})
		if err != nil || q.MessageID != submitID || q.MessageState != pdu.StateDelivered || q.FinalDate != "" || q.ErrorCode != 0 {
			t.Errorf("Query = %+v, %v", q, err)
		}
		e := srv.MustWait(t, nodeWait, "query_sm", peer.IsPDU("query_sm", session))
		if e.FieldStr("message_id") != submitID || e.FieldStr("source_addr") != "smppkit" {
			t.Errorf("node decoded our query_sm as %v", e.Fields())
		}
		if _, err := c.Replace(ctx, &pdu.ReplaceSM{MessageID: submitID, SourceAddrTON: 5, SourceAddr: "smppkit",
			ShortMessage: []byte("Replaced by smppkit")}); err != nil {
			t.Errorf("Replace: %v", err)
		}
		e = srv.MustWait(t, nodeWait, "replace_sm", peer.IsPDU("replace_sm", session))
		if e.FieldStr("message_id") != submitID || e.FieldStr("short_message") != hexOf("Replaced by smppkit") {
			t.Errorf("node decoded our replace_sm as %v", e.Fields())
		}
		if _, err := c.Cancel(ctx, &pdu.CancelSM{MessageID: submitID, SourceAddrTON: 5, SourceAddr: "smppkit",
			DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: "4915100000002"}); err != nil {
			t.Errorf("Cancel: %v", err)
		}
		e = srv.MustWait(t, nodeWait, "cancel_sm", peer.IsPDU("cancel_sm", session))
		if e.FieldStr("message_id") != submitID || e.FieldStr("destination_addr") != "4915100000002" {
			t.Errorf("node decoded our cancel_sm as %v", e.Fields())
		}
	})

	t.Run("broadcast", func(t *testing.T) {
		b := &pdu.BroadcastSM{SourceAddrTON: 5, SourceAddr: "smppkit", ValidityPeriod: "000001000000000R"}
		b.TLVs.Add(pdu.TagBroadcastAreaIdentifier, append([]byte{0x00}, "smppkitarea"...))
		b.TLVs.Set(pdu.TagBroadcastContentType, []byte{0x01, 0x00, 0x33})
		b.TLVs.SetUint16(pdu.TagBroadcastRepNum, 1)
		b.TLVs.Set(pdu.TagBroadcastFrequencyInterval, []byte{0x09, 0x00, 0x05})
		b.TLVs.Set(pdu.TagMessagePayload, []byte("Broadcast from smppkit"))
		resp, err := c.Broadcast(ctx, b)
		if err != nil || !nodeMsgID.MatchString(resp.MessageID) {
			t.Fatalf("Broadcast = %+v, %v", resp, err)
		}
		bid := resp.MessageID
		e := srv.MustWait(t, nodeWait, "broadcast_sm", peer.IsPDU("broadcast_sm", session))
		if fmt.Sprint(e.Field("broadcast_area_identifier")) != "["+"00"+hexOf("smppkitarea")+"]" ||
			e.FieldStr("broadcast_content_type") != "010033" || e.FieldInt("broadcast_rep_num") != 1 ||
			e.FieldStr("broadcast_frequency_interval") != "090005" ||
			e.FieldStr("message_payload") != hexOf("Broadcast from smppkit") || e.FieldStr("source_addr") != "smppkit" {
			t.Errorf("node decoded our broadcast_sm as %v", e.Fields())
		}

		qb, err := c.QueryBroadcast(ctx, &pdu.QueryBroadcastSM{MessageID: bid, SourceAddrTON: 5, SourceAddr: "smppkit"})
		if err != nil || qb.MessageID != bid {
			t.Fatalf("QueryBroadcast = %+v, %v", qb, err)
		}
		if st, ok := qb.TLVs.Uint8(pdu.TagMessageState); !ok || pdu.MessageState(st) != pdu.StateDelivered {
			t.Errorf("query_broadcast_sm_resp message_state = %d, %v", st, ok)
		}
		if area, ok := qb.TLVs.Get(pdu.TagBroadcastAreaIdentifier); !ok || string(area) != "\x00nodearea" {
			t.Errorf("query_broadcast_sm_resp broadcast_area_identifier = %q, %v", area, ok)
		}
		if pct, ok := qb.TLVs.Uint8(pdu.TagBroadcastAreaSuccess); !ok || pct != 100 {
			t.Errorf("query_broadcast_sm_resp broadcast_area_success = %d, %v", pct, ok)
		}
		if _, err := c.CancelBroadcast(ctx, &pdu.CancelBroadcastSM{MessageID: bid, SourceAddrTON: 5, SourceAddr: "smppkit"}); err != nil {
			t.Errorf("CancelBroadcast: %v", err)
		}
		srv.MustWait(t, nodeWait, "query_broadcast_sm", peer.IsPDU("query_broadcast_sm", session))
		e = srv.MustWait(t, nodeWait, "cancel_broadcast_sm", peer.IsPDU("cancel_broadcast_sm", session))
		if e.FieldStr("message_id") != bid {
			t.Errorf("node decoded our cancel_broadcast_sm as %v", e.Fields())
		}
	})

	t.Run("enquire_link", func(t *testing.T) {
		if err := c.EnquireLink(ctx); err != nil {
			t.Fatalf("EnquireLink: %v", err)
		}
		srv.MustWait(t, nodeWait, "enquire_link", peer.IsPDU("enquire_link", session))
	})

	t.Run("MO", func(t *testing.T) {
		const dest = "4915100000008"
		if _, err := c.Send(ctx, smpp.Message{From: ourAddr, To: dest, Text: "MO please"}); err != nil {
			t.Fatalf("Send: %v", err)
		}
		select {
		case m := <-messages:
			if m.Text != "Hello from node" || m.From != dest || m.To != ourAddr || m.FromTON != 0 || m.FromNPI != 1 ||
				m.ToTON != 0 || m.ToNPI != 1 || m.Parts != 1 || m.DataCoding != 0 || m.Incomplete {
				t.Errorf("MO = %+v", m)
			}
		case <-time.After(nodeWait):
			t.Fatalf("no MO within %v\n%s", nodeWait, srv.Report())
		}
	})

	t.Run("throttled", func(t *testing.T) {
		start := time.Now()
		resp, err := c.Submit(ctx, &pdu.SubmitSM{SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: ourAddr,
			DestinationAddr: "throttle", ShortMessage: []byte("slow down")})
		took := time.Since(start)
		if err != nil || !nodeMsgID.MatchString(resp.MessageID) {
			t.Fatalf("Submit to throttle = %+v, %v", resp, err)
		}
		// Two ESME_RTHROTTLED: a pause of ThrottleMin, then of twice that.
		if took < throttleMin {
			t.Errorf("throttled submit took %v, want at least ThrottleMin %v", took, throttleMin)
		}
		t.Logf("throttled submit took %v (ThrottleMin %v; back-off %v + %v expected)", took, throttleMin, throttleMin, 2*throttleMin)
		waitN(t, srv, 3, "3 submit_sm to throttle", submitTo("throttle"))
		if n := len(filter(srv.Events(), submitTo("throttle"))); n != 3 {
			t.Errorf("node saw %d submit_sm to throttle, want 3", n)
		}
	})

	t.Run("rejected", func(t *testing.T) {
		_, err := c.Submit(ctx, &pdu.SubmitSM{SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: ourAddr,
			DestinationAddr: "reject", ShortMessage: []byte("nope")})
		if !errors.Is(err, pdu.ESME_RINVDSTADR) {
			t.Errorf("Submit to reject: %v, want ESME_RINVDSTADR", err)
		}
		_, err = c.Send(ctx, smpp.Message{From: ourAddr, To: "reject", Text: "nope"})
		if !errors.Is(err, pdu.ESME_RINVDSTADR) {
			t.Errorf("Send to reject: %v, want ESME_RINVDSTADR", err)
		}
		if err := c.EnquireLink(ctx); err != nil {
			t.Errorf("link unusable after a rejected submit: %v", err)
		}
	})

	t.Run("server enquire_link", func(t *testing.T) {
		// --enquire 1: node sends enquire_link every second and logs our answers.
		e := srv.MustWait(t, nodeWait, "enquire_link_resp from us", peer.IsPDU("enquire_link_resp", session))
		if e.Status() != 0 {
			t.Errorf("enquire_link_resp status %d", e.Status())
		}
	})

	t.Run("pipelined with ReusePDUs", func(t *testing.T) {
		// A second bind whose session lends each submit_sm_resp to its
		// callback and reuses the struct: every answer is still seen once,
		// with its own message id.
		rc, err := smpp.Dial(ctx, "smpp://esme2:secret@"+addr, &smpp.ClientConfig{ReusePDUs: true, OutboundWindow: 50,
			ResponseTimeout: nodeWait, DialTimeout: nodeWait, NoReconnect: true})
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		const n = 2000
		var mu sync.Mutex
		ids := map[string]bool{}
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			err := rc.CallAsync(ctx, &pdu.SubmitSM{SourceAddr: "Reuse", DestinationAddr: fmt.Sprint(491700000000 + i), ShortMessage: []byte("hi")},
				func(resp pdu.PDU, err error) {
					defer wg.Done()
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					ids[resp.(*pdu.SubmitSMResp).MessageID] = true
					mu.Unlock()
				})
			if err != nil {
				wg.Done()
				t.Fatal(err)
			}
		}
		wg.Wait()
		if len(ids) != n {
			t.Fatalf("%d distinct message ids for %d submits", len(ids), n)
		}
		if err := rc.Unbind(ctx); err != nil {
			t.Error(err)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		c2, err := smpp.Dial(ctx, "smpp://esme:wrong@"+addr, &smpp.ClientConfig{NoReconnect: true, DialTimeout: nodeWait,
			ResponseTimeout: nodeWait})
		if err == nil {
			c2.Close()
			t.Fatal("bind with a wrong password succeeded")
		}
		if !errors.Is(err, pdu.ESME_RBINDFAIL) {
			t.Errorf("bind error %v, want one wrapping ESME_RBINDFAIL", err)
		}
		srv.MustWait(t, nodeWait, "bind_rejected", peer.IsEvent("bind_rejected"))
	})

	t.Run("unbind", func(t *testing.T) {
		if err := c.Unbind(ctx); err != nil {
			t.Errorf("Unbind: %v", err)
		}
		srv.MustWait(t, nodeWait, "unbind", peer.IsPDU("unbind", session))
		srv.MustWait(t, nodeWait, "session closed", func(e peer.Event) bool {
			return e.Name() == "closed" && e.Int("session") == session
		})
		// Every deliver_sm (the receipt and the MO) was acknowledged with 0.
		drs := filter(srv.Events(), peer.IsPDU("deliver_sm_resp", session))
		if len(drs) < 2 {
			t.Errorf("%d deliver_sm_resp, want 2", len(drs))
		}
		for _, e := range drs {
			if e.Status() != 0 {
				t.Errorf("deliver_sm_resp %s", e.Line)
			}
		}
		for _, e := range srv.Events() {
			if n := e.Name(); n == "error" || n == "unparsed" {
				t.Errorf("server.js: %s", e.Line)
			}
		}
	})
	if n := dropped.Load(); n > 0 {
		t.Errorf("%d unexpected extra receipts/MOs", n)
	}
}

func filter(evs []peer.Event, match func(peer.Event) bool) []peer.Event {
	var out []peer.Event
	for _, e := range evs {
		if match(e) {
			out = append(out, e)
		}
	}
	return out
}

// interopServer is our Server with a Handler that answers every request
// node's client sends, records the requests, and sends a receipt for each
// submit_sm that asks for one.
type interopServer struct {
	srv  *smpp.Server
	addr string

	mu       sync.Mutex
	reqs     []pdu.PDU
	receipts []receiptResult
	ids      atomic.Uint64
}

type receiptResult struct {
	id  string
	err error
}

func newInteropServer(t *testing.T) *interopServer {
	t.Helper()
	is := &interopServer{}
	ts := smpptest.NewUnstartedServer(t, smpp.HandlerFunc(is.serve))
	is.srv = ts.Server
	is.srv.SystemID = "smppkit"
	is.srv.Auth = func(_ context.Context, b *smpp.BindRequest) pdu.Status {
		if b.Password != "secret" {
			return pdu.ESME_RBINDFAIL
		}
		return pdu.ESME_ROK
	}
	is.srv.ResponseTimeout = nodeWait
	is.srv.BindTimeout = nodeWait
	ts.Start()
	is.addr = ts.Addr
	return is
}

func (is *interopServer) nextID() string { return fmt.Sprintf("go%06d", is.ids.Add(1)) }

func (is *interopServer) serve(w smpp.ResponseWriter, r *smpp.Request) {
	is.mu.Lock()
	is.reqs = append(is.reqs, r.PDU)
	is.mu.Unlock()
	switch p := r.PDU.(type) {
	case *pdu.SubmitSM:
		id := is.nextID()
		if err := w.Respond(&pdu.SubmitSMResp{MessageID: id}); err != nil {
			return
		}
		if p.RegisteredDelivery&1 != 0 {
			go is.receipt(r, p, id)
		}
	case *pdu.SubmitMulti:
		w.Respond(&pdu.SubmitMultiResp{MessageID: is.nextID()})
	case *pdu.DataSM:
		w.Respond(&pdu.DataSMResp{MessageID: is.nextID()})
	case *pdu.QuerySM:
		w.Respond(&pdu.QuerySMResp{MessageID: p.MessageID, MessageState: pdu.StateDelivered})
	case *pdu.CancelSM, *pdu.ReplaceSM, *pdu.CancelBroadcastSM:
		w.RespondStatus(pdu.ESME_ROK)
	case *pdu.BroadcastSM:
		w.Respond(&pdu.BroadcastSMResp{MessageID: is.nextID()})
	case *pdu.QueryBroadcastSM:
		resp := &pdu.QueryBroadcastSMResp{MessageID: p.MessageID}
		resp.TLVs.SetUint8(pdu.TagMessageState, uint8(pdu.StateDelivered))
		resp.TLVs.Add(pdu.TagBroadcastAreaIdentifier, append([]byte{0}, "goarea"...))
		resp.TLVs.SetUint8(pdu.TagBroadcastAreaSuccess, 100)
		w.Respond(resp)
	default:
		w.RespondStatus(pdu.ESME_RINVCMDID)
	}
}

// receipt delivers a receipt for message id to the ESME that submitted p.
func (is *interopServer) receipt(r *smpp.Request, p *pdu.SubmitSM, id string) {
	ctx, cancel := context.WithTimeout(r.Context(), nodeWait)
	defer cancel()
	now := time.Now().UTC()
	rc := dlr.New(id, now, now, pdu.StateDelivered, string(p.ShortMessage))
	d := &pdu.DeliverSM{
		SourceAddrTON: p.DestAddrTON, SourceAddrNPI: p.DestAddrNPI, SourceAddr: p.DestinationAddr,
		DestAddrTON: p.SourceAddrTON, DestAddrNPI: p.SourceAddrNPI, DestinationAddr: p.SourceAddr,
		ESMClass: 0x04, ShortMessage: []byte(rc.String()), TLVs: rc.TLVs(),
	}
	_, err := is.srv.Deliver(ctx, r.Session.SystemID(), d)
	is.mu.Lock()
	is.receipts = append(is.receipts, receiptResult{id, err})
	is.mu.Unlock()
}

func (is *interopServer) requests() []pdu.PDU {
	is.mu.Lock()
	defer is.mu.Unlock()
	return slices.Clone(is.reqs)
}

func (is *interopServer) receiptResults() []receiptResult {
	is.mu.Lock()
	defer is.mu.Unlock()
	return slices.Clone(is.receipts)
}

// runNodeClient runs client.js against addr and returns it once it printed
// its done line and exited.
func runNodeClient(t *testing.T, node, url string, args ...string) (*peer.Peer, peer.Event) {
	t.Helper()
	p := peer.Start(t, node, nodeDir, "client.js",
		append([]string{"--url", url, "--timeout", "150", "--resp-timeout", "60"}, args...)...)
	done := p.MustWait(t, nodeRunLimit, "done", peer.IsEvent("done"))
	if code := p.MustExit(t, nodeWait); code != 0 {
		t.Errorf("client.js exited with %d", code)
	}
	return p, done
}

func checkDone(t *testing.T, p *peer.Peer, done peer.Event) {
	t.Helper()
	if !done.Bool("ok") {
		t.Errorf("client.js not ok: %q\n%s", done.Strings("errors"), p.Report())
	}
}

// TestNodeInteropServer runs node-smpp's ESME against our Server.
func TestNodeInteropServer(t *testing.T) {
	node := peer.RequireNode(t, nodeDir)
	is := newInteropServer(t)

	t.Run("all", func(t *testing.T) {
		start := time.Now()
		p, done := runNodeClient(t, node, "smpp://node-all:secret@"+is.addr, "--mode", "all")
		t.Logf("client.js --mode all: %v", time.Since(start))
		checkDone(t, p, done)
		want := map[int64]string{
			1: "bind_transceiver_resp", 2: "enquire_link_resp", 3: "submit_sm_resp", 4: "submit_sm_resp",
			5: "submit_sm_resp", 6: "submit_sm_resp", 7: "submit_sm_resp", 8: "submit_multi_resp",
			9: "data_sm_resp", 10: "query_sm_resp", 11: "replace_sm_resp", 12: "cancel_sm_resp",
			13: "broadcast_sm_resp", 14: "unbind_resp",
		}
		resps := map[int64]peer.Event{}
		for _, e := range filter(p.Events(), peer.IsEvent("resp")) {
			if _, dup := resps[e.Seq()]; dup {
				t.Errorf("second response for seq %d: %s", e.Seq(), e.Line)
			}
			resps[e.Seq()] = e
		}
		for seq, cmd := range want {
			e, ok := resps[seq]
			if !ok {
				t.Errorf("seq %d: no %s", seq, cmd)
				continue
			}
			if e.Command() != cmd || e.Status() != 0 {
				t.Errorf("seq %d: got %s status %d, want %s status 0", seq, e.Command(), e.Status(), cmd)
			}
		}
		if len(resps) != len(want) {
			t.Errorf("%d responses, want %d", len(resps), len(want))
		}
		bind := resps[1]
		if bind.FieldStr("system_id") != "smppkit" || bind.FieldInt("sc_interface_version") != 0x50 {
			t.Errorf("bind_transceiver_resp fields %v", bind.Fields())
		}
		firstID := resps[3].FieldStr("message_id")
		if firstID == "" {
			t.Fatalf("no message_id for seq 3")
		}
		if q := resps[10]; q.FieldStr("message_id") != firstID || q.FieldInt("message_state") != 2 || q.FieldStr("final_date") != "" {
			t.Errorf("query_sm_resp fields %v", q.Fields())
		}
		for _, seq := range []int64{3, 4, 5, 6, 7, 8, 9, 13} {
			if resps[seq].FieldStr("message_id") == "" {
				t.Errorf("seq %d: no message_id in %s", seq, resps[seq].Line)
			}
		}

		// The node client got our receipt for seq 3.
		rcpt := filter(p.Events(), func(e peer.Event) bool {
			return e.Name() == "pdu" && e.Command() == "deliver_sm" && e.FieldInt("esm_class")&4 != 0
		})
		if len(rcpt) != 1 {
			t.Fatalf("client.js got %d receipts, want 1", len(rcpt))
		}
		r := rcpt[0]
		sm, _ := hex.DecodeString(r.FieldStr("short_message"))
		if r.FieldStr("receipted_message_id") != firstID || r.FieldInt("message_state") != 2 ||
			r.FieldStr("source_addr") != "4915100000001" || r.FieldStr("destination_addr") != ourAddr ||
			!strings.HasPrefix(string(sm), "id:"+firstID+" sub:001 dlvrd:001 ") ||
			!strings.Contains(string(sm), " stat:DELIVRD err:000 text:Hello from node-smpp") {
			t.Errorf("receipt as node decoded it: %v (text %q)", r.Fields(), sm)
		}
		if rc, err := dlr.Parse(sm, nil); err != nil || rc.ID != firstID || rc.State != pdu.StateDelivered {
			t.Errorf("receipt text reparsed: %+v, %v", rc, err)
		}
		if res := is.receiptResults(); len(res) != 1 || res[0].id != firstID || res[0].err != nil {
			t.Errorf("Deliver results %+v, want one nil for %s", res, firstID)
		}

		// And we decoded what node sent.
		checkNodeRequests(t, is.requests(), firstID)
	})

	t.Run("bind-fail", func(t *testing.T) {
		p, done := runNodeClient(t, node, "smpp://node-bad:wrong@"+is.addr, "--mode", "bind-fail")
		checkDone(t, p, done)
		b := p.MustWait(t, nodeWait, "bind", peer.IsEvent("bind"))
		if b.Int("command_status") != int64(pdu.ESME_RBINDFAIL) {
			t.Errorf("bind status %s, want 13 (ESME_RBINDFAIL)", b.Line)
		}
	})

	t.Run("garbage", func(t *testing.T) {
		before := len(is.requests())
		p, done := runNodeClient(t, node, "smpp://node-garbage:secret@"+is.addr, "--mode", "garbage")
		checkDone(t, p, done)
		checkGarbage(t, p)
		for _, r := range is.requests()[before:] {
			t.Errorf("the handler got %s from the garbage run", r.CommandID())
		}
		// Our server still serves: a new client binds and submits.
		ctx, cancel := context.WithTimeout(context.Background(), nodeWait)
		defer cancel()
		c, err := smpp.Dial(ctx, "smpp://after:secret@"+is.addr, &smpp.ClientConfig{NoReconnect: true, DialTimeout: nodeWait})
		if err != nil {
			t.Fatalf("bind after garbage: %v", err)
		}
		defer c.Close()
		if _, err := c.Submit(ctx, &pdu.SubmitSM{SourceAddr: "a", DestinationAddr: "b", ShortMessage: []byte("still there")}); err != nil {
			t.Errorf("submit after garbage: %v", err)
		}
		if err := c.Unbind(ctx); err != nil {
			t.Errorf("Unbind: %v", err)
		}
	})

	t.Run("load", func(t *testing.T) {
		const n = 5000
		start := time.Now()
		p, done := runNodeClient(t, node, "smpp://node-load:secret@"+is.addr, "--mode", "load", "--count", fmt.Sprint(n))
		checkDone(t, p, done)
		if done.Int("sent") != n || done.Int("ok_count") != n {
			t.Errorf("load: %s", done.Line)
		}
		t.Logf("client.js --mode load --count %d: %d ms from first submit to last response (%.0f msg/s); process %v",
			n, done.Int("ms"), float64(n)/(float64(max(done.Int("ms"), 1))/1000), time.Since(start))
	})

	// The same load against a server that recycles requests and responses
	// (ReusePDUs): every submit is answered, each with an id of its own.
	t.Run("load with ReusePDUs", func(t *testing.T) {
		var ids atomic.Uint64
		srv := smpptest.NewUnstartedServer(t, smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
			if _, ok := r.PDU.(*pdu.SubmitSM); !ok {
				w.RespondStatus(pdu.ESME_ROK)
				return
			}
			resp := r.Response().(*pdu.SubmitSMResp)
			resp.MessageID = fmt.Sprintf("r%d", ids.Add(1))
			w.Respond(resp)
		}))
		srv.Server.ReusePDUs = true
		srv.Start()
		const n = 5000
		p, done := runNodeClient(t, node, srv.URL("node-load", "secret"), "--mode", "load", "--count", fmt.Sprint(n))
		checkDone(t, p, done)
		if done.Int("sent") != n || done.Int("ok_count") != n || ids.Load() != n {
			t.Errorf("load: %s; %d ids handed out", done.Line, ids.Load())
		}
	})
}

// checkGarbage checks client.js --mode garbage's responses.
func checkGarbage(t *testing.T, p *peer.Peer) {
	t.Helper()
	r100 := p.MustWait(t, nodeWait, "seq 100", peer.IsResp(100))
	if r100.Command() != "generic_nack" || r100.Status() != int64(pdu.ESME_RINVCMDID) {
		t.Errorf("seq 100: %s, want generic_nack ESME_RINVCMDID", r100.Line)
	}
	r101 := p.MustWait(t, nodeWait, "seq 101", peer.IsResp(101))
	if r101.Command() != "submit_sm_resp" || r101.Status() == 0 {
		t.Errorf("seq 101: %s, want submit_sm_resp with an error status", r101.Line)
	} else {
		t.Logf("seq 101 (sm_length past the end): submit_sm_resp %s", pdu.Status(r101.Status()))
	}
	r102 := p.MustWait(t, nodeWait, "seq 102", peer.IsResp(102))
	if r102.Command() != "enquire_link_resp" || r102.Status() != 0 {
		t.Errorf("seq 102: %s, want enquire_link_resp", r102.Line)
	}
}

// checkNodeRequests checks how we decoded client.js --mode all's requests.
func checkNodeRequests(t *testing.T, reqs []pdu.PDU, firstID string) {
	t.Helper()
	var submits []*pdu.SubmitSM
	seen := map[pdu.CommandID]int{}
	re := &text.Reassembler{}
	var long *text.Reassembled
	for _, r := range reqs {
		seen[r.CommandID()]++
		switch p := r.(type) {
		case *pdu.SubmitSM:
			submits = append(submits, p)
			if p.DestinationAddr == "4915100000003" {
				m, done, err := re.Add(text.Part{Source: p.SourceAddr, Dest: p.DestinationAddr, DataCoding: p.DataCoding,
					UDHI: p.ESMClass&0x40 != 0, Data: p.ShortMessage})
				if err != nil {
					t.Errorf("reassembling node's long message: %v", err)
				}
				if done {
					long = &m
				}
			}
		case *pdu.SubmitMulti:
			want := []pdu.DestAddress{
				{Flag: pdu.DestFlagSME, TON: 1, NPI: 1, Addr: "4915100000004"},
				{Flag: pdu.DestFlagSME, TON: 1, NPI: 1, Addr: "4915100000005"},
				{Flag: pdu.DestFlagDistribution, DLName: "nodelist"},
			}
			if !slices.Equal(p.DestAddresses, want) || string(p.ShortMessage) != "Hello to many from node-smpp" {
				t.Errorf("submit_multi decoded as %+v", p)
			}
		case *pdu.DataSM:
			if pl, _ := p.TLVs.Get(pdu.TagMessagePayload); string(pl) != "Payload from node-smpp via data_sm" ||
				p.DestinationAddr != "4915100000006" {
				t.Errorf("data_sm decoded as %+v", p)
			}
		case *pdu.QuerySM:
			if p.MessageID != firstID || p.SourceAddr != ourAddr {
				t.Errorf("query_sm decoded as %+v", p)
			}
		case *pdu.ReplaceSM:
			if p.MessageID != firstID || string(p.ShortMessage) != "Replaced by node-smpp" {
				t.Errorf("replace_sm decoded as %+v", p)
			}
		case *pdu.CancelSM:
			if p.MessageID != firstID || p.DestinationAddr != "4915100000001" {
				t.Errorf("cancel_sm decoded as %+v", p)
			}
		case *pdu.BroadcastSM:
			area, _ := p.TLVs.Get(pdu.TagBroadcastAreaIdentifier)
			ct, _ := p.TLVs.Get(pdu.TagBroadcastContentType)
			rep, _ := p.TLVs.Uint16(pdu.TagBroadcastRepNum)
			fi, _ := p.TLVs.Get(pdu.TagBroadcastFrequencyInterval)
			pl, _ := p.TLVs.Get(pdu.TagMessagePayload)
			if string(area) != "\x00nodearea" || string(ct) != "\x01\x00\x33" || rep != 1 || string(fi) != "\x09\x00\x05" ||
				string(pl) != "Broadcast from node-smpp" || p.MessageID != "" {
				t.Errorf("broadcast_sm decoded as %+v", p)
			}
		}
	}
	wantSeen := map[pdu.CommandID]int{pdu.SubmitSMID: 5, pdu.SubmitMultiID: 1, pdu.DataSMID: 1, pdu.QuerySMID: 1,
		pdu.ReplaceSMID: 1, pdu.CancelSMID: 1, pdu.BroadcastSMID: 1}
	for id, n := range wantSeen {
		if seen[id] != n {
			t.Errorf("handler got %d %s, want %d", seen[id], id, n)
		}
	}
	if len(submits) != 5 {
		return
	}
	sort.SliceStable(submits, func(i, j int) bool { return submits[i].SequenceNumber < submits[j].SequenceNumber })
	first := submits[0]
	if first.DestinationAddr != "4915100000001" || first.RegisteredDelivery != 1 || first.DataCoding != 1 ||
		string(first.ShortMessage) != "Hello from node-smpp" || first.SourceAddr != ourAddr || first.SourceAddrTON != 1 {
		t.Errorf("first submit_sm decoded as %+v", first)
	}
	ucs := submits[1]
	if ucs.DataCoding != 8 || text.DecodeUCS2(ucs.ShortMessage) != "Привет, мир! Γειά σου κόσμε! 你好，世界" {
		t.Errorf("UCS-2 submit_sm decoded as %+v (%q)", ucs, text.DecodeUCS2(ucs.ShortMessage))
	}
	wantLong := strings.Repeat("This long text from node-smpp is sent as a concatenated message in three parts. ", 5)[:400]
	if long == nil || long.Text != wantLong || long.Total != 3 || long.Ref != 0x42 {
		t.Errorf("node's 3-part message reassembled as %+v, want %q", long, wantLong)
	}
}

// TestNodeInteropServerIsolation checks that garbage on some sessions costs
// the others nothing: while node's client sends garbage, raw connections send
// unframeable PDUs and node's client runs a load, a Go client keeps submitting
// on the same session without a single failure.
func TestNodeInteropServerIsolation(t *testing.T) {
	node := peer.RequireNode(t, nodeDir)
	is := newInteropServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	c, err := smpp.Dial(ctx, "smpp://steady:secret@"+is.addr, &smpp.ClientConfig{NoReconnect: true,
		DialTimeout: nodeWait, ResponseTimeout: nodeWait})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s0, err := c.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}

	const loadN = 2000
	load := peer.Start(t, node, nodeDir, "client.js", "--url", "smpp://iso-load:secret@"+is.addr,
		"--mode", "load", "--count", fmt.Sprint(loadN), "--timeout", "150", "--resp-timeout", "60")
	garbage := peer.Start(t, node, nodeDir, "client.js", "--url", "smpp://iso-garbage:secret@"+is.addr,
		"--mode", "garbage", "--timeout", "150", "--resp-timeout", "60")

	// Raw connections with PDUs that cannot be framed: each gets a
	// generic_nack ESME_RINVCMDLEN and is closed.
	raw := make(chan error, 2)
	for _, length := range []uint32{8, 1 << 24} {
		p := smpptest.DialRaw(t, is.addr)
		p.Timeout = nodeWait
		go func() { raw <- rawUnframeable(p, length) }()
	}

	var sent int
	rawLeft := 2
	for loadDone, garbageDone := load.Done(), garbage.Done(); loadDone != nil || garbageDone != nil || rawLeft > 0; {
		if ctx.Err() != nil {
			t.Fatalf("the others did not finish in time (load running: %v, garbage running: %v, raw left: %d)",
				loadDone != nil, garbageDone != nil, rawLeft)
		}
		if _, err := c.Submit(ctx, &pdu.SubmitSM{SourceAddr: "steady", DestinationAddr: "491700000000",
			ShortMessage: []byte(fmt.Sprintf("steady %d", sent))}); err != nil {
			t.Fatalf("steady client failed after %d submits: %v", sent, err)
		}
		sent++
		select {
		case <-loadDone:
			loadDone = nil
		case <-garbageDone:
			garbageDone = nil
		case err := <-raw:
			rawLeft--
			if err != nil {
				t.Error(err)
			}
		default:
		}
	}
	t.Logf("steady client: %d submits while the others ran", sent)
	if s, err := c.Session(ctx); err != nil || s != s0 || s0.Err() != nil {
		t.Errorf("steady client's session changed or closed: %v, %v", err, s0.Err())
	}
	ld := load.MustWait(t, nodeWait, "done", peer.IsEvent("done"))
	checkDone(t, load, ld)
	if ld.Int("ok_count") != loadN {
		t.Errorf("load: %s", ld.Line)
	}
	gd := garbage.MustWait(t, nodeWait, "done", peer.IsEvent("done"))
	checkDone(t, garbage, gd)
	checkGarbage(t, garbage)
	if err := c.Unbind(ctx); err != nil {
		t.Errorf("Unbind: %v", err)
	}
}

// rawUnframeable sends a header with an impossible command_length on p and
// expects generic_nack ESME_RINVCMDLEN, then the close. It runs on a
// goroutine of its own, so it returns an error rather than failing the test.
func rawUnframeable(p *smpptest.RawPeer, length uint32) error {
	h := make([]byte, 16)
	binary.BigEndian.PutUint32(h[0:], length)
	binary.BigEndian.PutUint32(h[4:], uint32(pdu.SubmitSMID))
	binary.BigEndian.PutUint32(h[12:], 7)
	if err := p.Write(h); err != nil {
		return err
	}
	r, err := p.ReadPDU()
	if err != nil {
		return fmt.Errorf("command_length %d: no answer: %v", length, err)
	}
	if r.CommandID() != pdu.GenericNackID || r.Head().CommandStatus != pdu.ESME_RINVCMDLEN {
		return fmt.Errorf("command_length %d: answered %s %s, want generic_nack ESME_RINVCMDLEN",
			length, r.CommandID(), r.Head().CommandStatus)
	}
	switch r, err := p.ReadPDU(); {
	case err == nil:
		return fmt.Errorf("command_length %d: connection still open, got %s", length, r.CommandID())
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("command_length %d: connection still open after %v", length, nodeWait)
	}
	return nil
}

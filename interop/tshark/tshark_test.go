package tshark_test

// Wireshark's SMPP dissector as a third-party reader of smppkit's bytes.
//
// TestTsharkPDUs encodes a filled-in PDU of every command (TLVs included),
// wraps each in a synthetic TCP/IPv4 frame on port 2775, writes a pcap file
// and has tshark dissect it. TestTsharkExchange runs a real client/server
// exchange (smpp.Dial against smpp.Server) and dissects what went over the
// wire: captured live on the loopback interface with dumpcap when this
// machine allows it, and always also rebuilt into a pcap from the bytes the
// server's connection read and wrote.
//
// Both assert that tshark reports no malformed packet and no expert warning
// or error, and that every PDU is recognised with our command id, sequence
// number, length, status and fields (mandatory fields and each TLV).
//
// The tests skip when tshark is not installed, unless SMPPKIT_INTEROP=1, in
// which case a missing tshark is a failure. Debian: apt-get install tshark.
// See README.md (in this directory).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/dlr"
	"github.com/smppkit/smpp/interop/internal/peer"
	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/smpptest"
	"github.com/smppkit/smpp/text"
)

func TestMain(m *testing.M) { peer.Main(m, "interop/tshark") }

// tsharkTool returns the path of tshark, or skips (fails with
// SMPPKIT_INTEROP=1) when it is not installed.
func tsharkTool(t *testing.T) string {
	t.Helper()
	return peer.Require(t, "tshark", "Debian: apt-get install tshark")
}

// ---------------------------------------------------------------------------
// The PDU list

// tsharkTLVs builds a TLV list.
func tsharkTLVs(add ...func(*pdu.TLVs)) pdu.TLVs {
	var ts pdu.TLVs
	for _, f := range add {
		f(&ts)
	}
	return ts
}

func tU8(tag pdu.Tag, v uint8) func(*pdu.TLVs)   { return func(ts *pdu.TLVs) { ts.SetUint8(tag, v) } }
func tU16(tag pdu.Tag, v uint16) func(*pdu.TLVs) { return func(ts *pdu.TLVs) { ts.SetUint16(tag, v) } }
func tU32(tag pdu.Tag, v uint32) func(*pdu.TLVs) { return func(ts *pdu.TLVs) { ts.SetUint32(tag, v) } }
func tStr(tag pdu.Tag, s string) func(*pdu.TLVs) { return func(ts *pdu.TLVs) { ts.SetString(tag, s) } }
func tRaw(tag pdu.Tag, b ...byte) func(*pdu.TLVs) {
	return func(ts *pdu.TLVs) { ts.Add(tag, b) }
}

// withHead sets a PDU's sequence number and status.
func withHead[P pdu.PDU](p P, seq uint32, status pdu.Status) P {
	h := p.Head()
	h.SequenceNumber, h.CommandStatus = seq, status
	return p
}

// tsharkPDUList returns a filled-in PDU of every SMPP v3.4 and v5.0 command,
// with the TLVs each may carry, and a few error responses.
func tsharkPDUList() []pdu.PDU {
	bind := pdu.BindTransmitter{SystemID: "esme-tx", Password: "secret1", SystemType: "VMA",
		InterfaceVersion: 0x34, AddrTON: 1, AddrNPI: 1, AddressRange: "^4917"}
	bindRx := bind
	bindRx.SystemID = "esme-rx"
	bindTrx := bind
	bindTrx.SystemID, bindTrx.InterfaceVersion = "esme-trx", 0x50
	scVersion := func(v uint8) pdu.TLVs { return tsharkTLVs(tU8(pdu.TagScInterfaceVersion, v)) }

	submit := &pdu.SubmitSM{ServiceType: "CMT", SourceAddrTON: 5, SourceAddrNPI: 0, SourceAddr: "smppkit",
		DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: "4917612345678", ESMClass: 0x43, ProtocolID: 0x7f,
		PriorityFlag: 2, ScheduleDeliveryTime: "240102030405104-", ValidityPeriod: "000002031545000R",
		RegisteredDelivery: 0x11, ReplaceIfPresentFlag: 1, DataCoding: 0xf1, SMDefaultMsgID: 3,
		ShortMessage: append([]byte{0x05, 0x00, 0x03, 0x2a, 0x02, 0x01}, "Hello from smppkit, part one"...),
		TLVs: tsharkTLVs(
			tU16(pdu.TagUserMessageReference, 0xbeef), tU16(pdu.TagSourcePort, 2948), tU8(pdu.TagSourceAddrSubunit, 1),
			tU16(pdu.TagDestPort, 9200), tU8(pdu.TagDestAddrSubunit, 2), tU16(pdu.TagSarMsgRefNum, 0x1234),
			tU8(pdu.TagSarTotalSegments, 3), tU8(pdu.TagSarSegmentSeqnum, 2), tU8(pdu.TagMoreMessagesToSend, 1),
			tU8(pdu.TagPayloadType, 0), tU8(pdu.TagPrivacyIndicator, 2), tRaw(pdu.TagCallbackNum, 1, 1, 1, '4', '9', '1', '7', '0'),
			tU8(pdu.TagCallbackNumPresInd, 0x05), tRaw(pdu.TagCallbackNumAtag, 0, 'H', 'e', 'l', 'p'),
			tRaw(pdu.TagSourceSubaddress, 0xa0, 0x12, 0x34), tRaw(pdu.TagDestSubaddress, 0x80, 0x56),
			tU8(pdu.TagUserResponseCode, 7), tU8(pdu.TagDisplayTime, 1), tU16(pdu.TagSmsSignal, 0x0102),
			tU8(pdu.TagMsValidity, 3), tU8(pdu.TagMsMsgWaitFacilities, 0x81), tU8(pdu.TagNumberOfMessages, 9),
			tRaw(pdu.TagAlertOnMessageDelivery), tU8(pdu.TagLanguageIndicator, 1), tU8(pdu.TagItsReplyType, 4),
			tRaw(pdu.TagItsSessionInfo, 0x11, 0x05), tU8(pdu.TagUssdServiceOp, 2), tU8(pdu.TagSetDpf, 1),
			tRaw(pdu.TagBillingIdentification, 0x01, 'b', 'i', 'l', 'l'), tU8(pdu.TagDestAddrNpResolution, 2),
			tRaw(pdu.TagDestAddrNpInformation, '1', '2', '3', '4', '5', '6', '7', '8', '9', '0'),
			tRaw(pdu.TagDestAddrNpCountry, 0x34, 0x39), tU8(pdu.TagDestBearerType, 1), tU8(pdu.TagDestNetworkType, 1),
			tU16(pdu.TagDestTelematicsID, 0x0100), tU32(pdu.TagQosTimeToLive, 3600),
			// An unknown vendor TLV must be shown as such, not break the dissection.
			tRaw(0x1400, 0xca, 0xfe),
		)}
	receipt := dlr.New("5e1f00a7", time.Date(2024, 1, 2, 3, 4, 0, 0, time.UTC),
		time.Date(2024, 1, 2, 3, 5, 0, 0, time.UTC), pdu.StateDelivered, "Hello from smppkit")
	receiptTLVs := receipt.TLVs()
	receiptTLVs.Set(pdu.TagNetworkErrorCode, []byte{3, 0x00, 0x0b})
	deliverReceipt := &pdu.DeliverSM{ServiceType: "", SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: "4917612345678",
		DestAddrTON: 5, DestAddrNPI: 0, DestinationAddr: "smppkit", ESMClass: 0x04, DataCoding: 0,
		ShortMessage: []byte(receipt.Format()), TLVs: receiptTLVs}
	deliverMO := &pdu.DeliverSM{ServiceType: "WAP", SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: "4917612345678",
		DestAddrTON: 0, DestAddrNPI: 1, DestinationAddr: "12345", ProtocolID: 0, DataCoding: 8,
		ShortMessage: []byte{0x00, 0x48, 0x00, 0xe9, 0x04, 0x3f, 0x20, 0xac}, // "Hé" + Cyrillic + euro, UCS-2
		TLVs: tsharkTLVs(tU8(pdu.TagSourceNetworkType, 1), tU8(pdu.TagSourceBearerType, 1),
			tU8(pdu.TagSourceTelematicsID, 0), tU16(pdu.TagUserMessageReference, 42),
			tStr(pdu.TagSourceNetworkID, "net-a"), tRaw(pdu.TagSourceNodeID, '0', '0', '0', '0', '0', '0', '1', '2', '3', '4', '5', '6'))}
	dataSM := &pdu.DataSM{ServiceType: "USSD", SourceAddrTON: 0, SourceAddrNPI: 1, SourceAddr: "1234",
		DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: "4917612345678", ESMClass: 0, RegisteredDelivery: 1, DataCoding: 0,
		TLVs: tsharkTLVs(tRaw(pdu.TagMessagePayload, []byte("a data_sm payload carried in message_payload")...),
			tU16(pdu.TagSourcePort, 80), tU16(pdu.TagDestPort, 8080), tU32(pdu.TagQosTimeToLive, 60),
			tU8(pdu.TagSetDpf, 1), tStr(pdu.TagDestNetworkID, "net-b"), tRaw(pdu.TagDestNodeID, '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '9'))}
	multi := &pdu.SubmitMulti{ServiceType: "CMT", SourceAddrTON: 0, SourceAddrNPI: 1, SourceAddr: "12345",
		DestAddresses: []pdu.DestAddress{
			{Flag: pdu.DestFlagSME, TON: 1, NPI: 1, Addr: "4917600000001"},
			{Flag: pdu.DestFlagDistribution, DLName: "friends"},
			{Flag: pdu.DestFlagSME, TON: 0, NPI: 1, Addr: "0170000002"},
		},
		ESMClass: 0, ProtocolID: 0, PriorityFlag: 1, ValidityPeriod: "000000010000000R", RegisteredDelivery: 1,
		DataCoding: 0, ShortMessage: []byte("to many"), TLVs: tsharkTLVs(tU16(pdu.TagUserMessageReference, 7))}
	broadcastTLVs := tsharkTLVs(tRaw(pdu.TagBroadcastAreaIdentifier, 0x00, 'c', 'e', 'l', 'l', '1'),
		// broadcast_rep_num (0x0604, Int 2) is mandatory here, but left out:
		// Wireshark (4.0 and earlier) reads it as one octet and loses track
		// of the TLVs after it. See interop/tshark/README.md.
		tRaw(pdu.TagBroadcastContentType, 0x01, 0x00, 0x10),
		tRaw(pdu.TagBroadcastFrequencyInterval, 0x09, 0x00, 0x1e), tU8(pdu.TagBroadcastChannelIndicator, 1),
		tRaw(pdu.TagBroadcastContentTypeInfo, 0xab, 0xcd), tU8(pdu.TagBroadcastMessageClass, 2),
		tRaw(pdu.TagBroadcastServiceGroup, 0x01, 0x02), tRaw(pdu.TagMessagePayload, []byte("cell broadcast text")...))

	return []pdu.PDU{
		withHead(&pdu.BindTransmitter{SystemID: bind.SystemID, Password: bind.Password, SystemType: bind.SystemType,
			InterfaceVersion: bind.InterfaceVersion, AddrTON: bind.AddrTON, AddrNPI: bind.AddrNPI, AddressRange: bind.AddressRange}, 1, 0),
		withHead(&pdu.BindTransmitterResp{SystemID: "smsc-1", TLVs: scVersion(0x34)}, 1, 0),
		withHead((*pdu.BindReceiver)(&bindRx), 2, 0),
		withHead(&pdu.BindReceiverResp{SystemID: "smsc-1", TLVs: scVersion(0x34)}, 2, 0),
		withHead((*pdu.BindTransceiver)(&bindTrx), 3, 0),
		withHead(&pdu.BindTransceiverResp{SystemID: "smsc-1", TLVs: scVersion(0x50)}, 3, 0),
		withHead(&pdu.BindTransceiverResp{}, 4, pdu.ESME_RBINDFAIL), // error response: header only
		withHead(&pdu.Outbind{SystemID: "esme-trx", Password: "outpw"}, 5, 0),
		withHead(submit, 6, 0),
		withHead(&pdu.SubmitSMResp{MessageID: "5e1f00a7"}, 6, 0),
		withHead(&pdu.SubmitSMResp{}, 7, pdu.ESME_RTHROTTLED),
		withHead(deliverReceipt, 8, 0),
		withHead(&pdu.DeliverSMResp{}, 8, 0),
		withHead(deliverMO, 9, 0),
		withHead(&pdu.DeliverSMResp{}, 9, pdu.ESME_RX_T_APPN),
		withHead(dataSM, 10, 0),
		withHead(&pdu.DataSMResp{MessageID: "d-77", TLVs: tsharkTLVs(tU8(pdu.TagDeliveryFailureReason, 1),
			tRaw(pdu.TagNetworkErrorCode, 3, 0, 27), tStr(pdu.TagAdditionalStatusInfoText, "absent subscriber"),
			tU8(pdu.TagDpfResult, 1))}, 10, 0),
		withHead(&pdu.QuerySM{MessageID: "5e1f00a7", SourceAddrTON: 5, SourceAddrNPI: 0, SourceAddr: "smppkit"}, 11, 0),
		withHead(&pdu.QuerySMResp{MessageID: "5e1f00a7", FinalDate: "240102030500000+", MessageState: pdu.StateDelivered, ErrorCode: 0}, 11, 0),
		withHead(&pdu.ReplaceSM{MessageID: "5e1f00a7", SourceAddrTON: 5, SourceAddrNPI: 0, SourceAddr: "smppkit",
			ScheduleDeliveryTime: "", ValidityPeriod: "000001000000000R", RegisteredDelivery: 1, SMDefaultMsgID: 0,
			ShortMessage: []byte("replacement text")}, 12, 0),
		withHead(&pdu.ReplaceSMResp{}, 12, 0),
		withHead(&pdu.CancelSM{ServiceType: "CMT", MessageID: "5e1f00a7", SourceAddrTON: 5, SourceAddrNPI: 0,
			SourceAddr: "smppkit", DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: "4917612345678"}, 13, 0),
		withHead(&pdu.CancelSMResp{}, 13, 0),
		withHead(multi, 14, 0),
		withHead(&pdu.SubmitMultiResp{MessageID: "m-1", Unsuccess: []pdu.UnsuccessSME{
			{DestAddrTON: 0, DestAddrNPI: 1, DestinationAddr: "0170000002", ErrorStatusCode: pdu.ESME_RINVDSTADR},
		}}, 14, 0),
		withHead(&pdu.AlertNotification{SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: "4917612345678",
			ESMEAddrTON: 0, ESMEAddrNPI: 1, ESMEAddr: "12345", TLVs: tsharkTLVs(tU8(pdu.TagMsAvailabilityStatus, 0))}, 15, 0),
		withHead(&pdu.EnquireLink{}, 16, 0),
		withHead(&pdu.EnquireLinkResp{}, 16, 0),
		withHead(&pdu.EnquireLinkResp{TLVs: tsharkTLVs(tU8(pdu.TagCongestionState, 40))}, 17, 0),
		withHead(&pdu.BroadcastSM{ServiceType: "CBS", SourceAddrTON: 0, SourceAddrNPI: 1, SourceAddr: "1234",
			MessageID: "", PriorityFlag: 1, ScheduleDeliveryTime: "", ValidityPeriod: "000000020000000R",
			ReplaceIfPresentFlag: 0, DataCoding: 0, SMDefaultMsgID: 0, TLVs: broadcastTLVs}, 18, 0),
		withHead(&pdu.BroadcastSMResp{MessageID: "b-1"}, 18, 0),
		withHead(&pdu.BroadcastSMResp{MessageID: "", TLVs: tsharkTLVs(tRaw(pdu.TagBroadcastAreaIdentifier, 0x00, 'c', 'e', 'l', 'l', '9'),
			tU32(pdu.TagBroadcastErrorStatus, uint32(pdu.ESME_RINVBCASTAREAFMT)))}, 19, pdu.ESME_RBCASTFAIL),
		withHead(&pdu.QueryBroadcastSM{MessageID: "b-1", SourceAddrTON: 0, SourceAddrNPI: 1, SourceAddr: "1234",
			TLVs: tsharkTLVs(tU16(pdu.TagUserMessageReference, 3))}, 20, 0),
		withHead(&pdu.QueryBroadcastSMResp{MessageID: "b-1", TLVs: tsharkTLVs(tU8(pdu.TagMessageState, uint8(pdu.StateEnroute)),
			tRaw(pdu.TagBroadcastAreaIdentifier, 0x00, 'c', 'e', 'l', 'l', '1'), tU8(pdu.TagBroadcastAreaSuccess, 80),
			tStr(pdu.TagBroadcastEndTime, "240102030500000+"), tU16(pdu.TagUserMessageReference, 3))}, 20, 0),
		withHead(&pdu.CancelBroadcastSM{ServiceType: "CBS", MessageID: "b-1", SourceAddrTON: 0, SourceAddrNPI: 1,
			SourceAddr: "1234", TLVs: tsharkTLVs(tU16(pdu.TagUserMessageReference, 3))}, 21, 0),
		withHead(&pdu.CancelBroadcastSMResp{}, 21, 0),
		withHead(&pdu.Unbind{}, 22, 0),
		withHead(&pdu.UnbindResp{}, 22, 0),
		withHead(pdu.NewGenericNack(23, pdu.ESME_RINVCMDID), 23, pdu.ESME_RINVCMDID),
	}
}

func TestTsharkPDUs(t *testing.T) {
	tshark := tsharkTool(t)
	list := tsharkPDUList()

	// Every command id and every standard TLV must be in the list.
	seen := map[pdu.CommandID]bool{}
	seenTag := map[pdu.Tag]bool{pdu.TagBroadcastRepNum: true} // left out, see above
	for _, p := range list {
		seen[p.CommandID()] = true
		for _, tv := range reflect.ValueOf(p).Elem().FieldByName("TLVs").Interface().(pdu.TLVs) {
			seenTag[tv.Tag] = true
		}
	}
	for tag := pdu.Tag(1); tag < 0x1400; tag++ {
		if _, ok := pdu.LookupTLV(tag); ok && !seenTag[tag] {
			t.Errorf("the PDU list has no %v TLV", tag)
		}
	}
	for id := pdu.CommandID(0); id <= 0x200; id++ {
		for _, cid := range []pdu.CommandID{id, id | 0x80000000} {
			if pdu.New(cid) != nil && !seen[cid] {
				t.Errorf("the PDU list has no %v", cid)
			}
		}
	}

	const port = 2775
	pc := newTsharkPcap(port)
	wires := make([][]byte, len(list))
	for i, p := range list {
		b, err := pdu.Marshal(p)
		if err != nil {
			t.Fatalf("marshal %v: %v", p.CommandID(), err)
		}
		wires[i] = b
		// Requests go from the ESME (client) side, responses back, except
		// for the commands the MC sends.
		fromMC := p.CommandID().IsResponse()
		switch p.CommandID() {
		case pdu.DeliverSMID, pdu.AlertNotificationID, pdu.OutbindID:
			fromMC = true
		case pdu.DeliverSMRespID:
			fromMC = false
		}
		pc.segment(fromMC, b)
	}
	// Two PDUs in one segment and one PDU split over two segments: the
	// dissector must frame them as our length fields say.
	el := withHead(&pdu.EnquireLink{}, 100, 0)
	sm := withHead(&pdu.SubmitSM{SourceAddr: "1", DestinationAddr: "2", ShortMessage: []byte("split across two TCP segments")}, 101, 0)
	a, _ := pdu.Marshal(el)
	b, _ := pdu.Marshal(sm)
	pc.segment(false, append(append([]byte{}, a...), b[:20]...))
	pc.segment(false, b[20:])
	list, wires = append(list, el, sm), append(wires, a, b)
	pc.finish()

	file := filepath.Join(t.TempDir(), "pdus.pcap")
	if err := os.WriteFile(file, pc.bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// The dissector rejects a PDU whose command_id it does not know, so
	// the count also says every PDU was recognised.
	got := tsharkDissect(t, tshark, file, port)
	if len(got) != len(list) {
		t.Fatalf("tshark found %d SMPP PDUs, we wrote %d", len(got), len(list))
	}
	for i, p := range list {
		tsharkCompare(t, fmt.Sprintf("PDU %d (%v seq %d)", i, p.CommandID(), p.Head().SequenceNumber), p, wires[i], got[i])
	}
	if t.Failed() {
		t.Logf("pcap kept for inspection: %s", tsharkKeep(t, file))
	}
}

// ---------------------------------------------------------------------------
// The exchange

func TestTsharkExchange(t *testing.T) {
	tshark := tsharkTool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The server listens from here on; it serves from ts.Start below, through
	// a listener that records what its connections read and write.
	ts := smpptest.NewUnstartedServer(t, nil)
	port := ts.Listener.Addr().(*net.TCPAddr).Port
	live := startTsharkLive(t, port) // nil when capturing is impossible here

	rec := &tsharkRecorder{connClosed: make(chan struct{})}
	var ids atomic.Uint64
	closed := make(chan struct{}, 1)
	srv := ts.Server
	*srv = smpp.Server{
		SystemID: "tsharksmsc",
		Handler: smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
			next := func() string { return fmt.Sprintf("%08x", 0x5e1f0000+ids.Add(1)) }
			switch p := r.PDU.(type) {
			case *pdu.SubmitSM:
				if p.SourceAddr == "throttle" {
					w.RespondStatus(pdu.ESME_RTHROTTLED)
					return
				}
				w.Respond(&pdu.SubmitSMResp{MessageID: next()})
			case *pdu.DataSM:
				w.Respond(&pdu.DataSMResp{MessageID: next(), TLVs: tsharkTLVs(tStr(pdu.TagAdditionalStatusInfoText, "queued"))})
			case *pdu.SubmitMulti:
				w.Respond(&pdu.SubmitMultiResp{MessageID: next(), Unsuccess: []pdu.UnsuccessSME{
					{DestAddrTON: 0, DestAddrNPI: 1, DestinationAddr: "0170000002", ErrorStatusCode: pdu.ESME_RINVDSTADR}}})
			case *pdu.QuerySM:
				w.Respond(&pdu.QuerySMResp{MessageID: p.MessageID, FinalDate: "240102030500000+", MessageState: pdu.StateDelivered})
			default:
				w.RespondStatus(pdu.ESME_ROK)
			}
		}),
		ConnState: func(s *smpp.Session, st smpp.State) {
			if st == smpp.StateClosed {
				select {
				case closed <- struct{}{}:
				default:
				}
			}
		},
	}
	ts.Listener = &tsharkRecListener{Listener: ts.Listener, rec: rec}
	ts.Start()

	receipts := make(chan *smpp.Receipt, 4)
	mos := make(chan *smpp.InboundMessage, 4)
	c, err := smpp.Dial(ctx, fmt.Sprintf("smpp://esme1:pw1@127.0.0.1:%d?system_type=WS&range=^49", port), &smpp.ClientConfig{
		EnquireLinkInterval: -1,
		NoReconnect:         true,
		NoThrottleRetry:     true,
		Inbound: &smpp.Inbound{
			OnReceipt: func(_ context.Context, r *smpp.Receipt) pdu.Status { receipts <- r; return pdu.ESME_ROK },
			OnMessage: func(_ context.Context, m *smpp.InboundMessage) pdu.Status { mos <- m; return pdu.ESME_ROK },
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// submit_sm with TLVs
	sub := &pdu.SubmitSM{SourceAddrTON: 5, SourceAddr: "smppkit", DestAddrTON: 1, DestAddrNPI: 1,
		DestinationAddr: "4917612345678", RegisteredDelivery: 1, ShortMessage: []byte("Hello through the wire"),
		TLVs: tsharkTLVs(tU16(pdu.TagUserMessageReference, 0x0102), tU16(pdu.TagSourcePort, 1000), tU16(pdu.TagDestPort, 2000))}
	subResp, err := c.Submit(ctx, sub)
	if err != nil {
		t.Fatal("submit:", err)
	}
	// A long message split with SAR TLVs.
	sarIDs, err := c.Send(ctx, smpp.Message{From: "smppkit", To: "4917612345678", Split: text.SplitSAR, Receipt: true,
		Text: strings.Repeat("This long message is split into parts that carry SAR TLVs. ", 5)})
	if err != nil || len(sarIDs) < 2 {
		t.Fatalf("send SAR: %v %v", sarIDs, err)
	}
	// A long UCS-2 message split with a UDH.
	if _, err := c.Send(ctx, smpp.Message{From: "+4917600000009", To: "4917612345678",
		Text: strings.Repeat("Grüße, Привет, €! ", 6)}); err != nil {
		t.Fatal("send UDH:", err)
	}
	// An error response (header only).
	if _, err := c.Submit(ctx, &pdu.SubmitSM{SourceAddr: "throttle", DestinationAddr: "1", ShortMessage: []byte("x")}); !errors.Is(err, pdu.ESME_RTHROTTLED) {
		t.Fatalf("throttled submit: %v", err)
	}
	if _, err := c.DataSM(ctx, &pdu.DataSM{SourceAddr: "smppkit", SourceAddrTON: 5, DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: "4917612345678",
		TLVs: tsharkTLVs(tRaw(pdu.TagMessagePayload, []byte("data_sm payload")...), tU32(pdu.TagQosTimeToLive, 60))}); err != nil {
		t.Fatal("data_sm:", err)
	}
	if r, err := c.Query(ctx, &pdu.QuerySM{MessageID: subResp.MessageID, SourceAddrTON: 5, SourceAddr: "smppkit"}); err != nil || r.MessageState != pdu.StateDelivered {
		t.Fatal("query_sm:", r, err)
	}
	if _, err := c.Replace(ctx, &pdu.ReplaceSM{MessageID: subResp.MessageID, SourceAddrTON: 5, SourceAddr: "smppkit",
		ValidityPeriod: "000001000000000R", ShortMessage: []byte("replaced")}); err != nil {
		t.Fatal("replace_sm:", err)
	}
	if _, err := c.Cancel(ctx, &pdu.CancelSM{MessageID: subResp.MessageID, SourceAddrTON: 5, SourceAddr: "smppkit",
		DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: "4917612345678"}); err != nil {
		t.Fatal("cancel_sm:", err)
	}
	if _, err := c.SubmitMulti(ctx, &pdu.SubmitMulti{SourceAddr: "12345", DestAddresses: []pdu.DestAddress{
		{Flag: pdu.DestFlagSME, TON: 1, NPI: 1, Addr: "4917600000001"}, {Flag: pdu.DestFlagDistribution, DLName: "friends"},
		{Flag: pdu.DestFlagSME, TON: 0, NPI: 1, Addr: "0170000002"}}, ShortMessage: []byte("to many")}); err != nil {
		t.Fatal("submit_multi:", err)
	}
	if err := c.EnquireLink(ctx); err != nil {
		t.Fatal("enquire_link:", err)
	}

	// The MC side: a delivery receipt for the first message, then an MO.
	rcpt := dlr.New(subResp.MessageID, time.Date(2024, 1, 2, 3, 4, 0, 0, time.UTC), time.Date(2024, 1, 2, 3, 5, 0, 0, time.UTC),
		pdu.StateDelivered, "Hello through the wire")
	if resp, err := srv.Deliver(ctx, "esme1", &pdu.DeliverSM{SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: "4917612345678",
		DestAddrTON: 5, DestinationAddr: "smppkit", ESMClass: 0x04, ShortMessage: []byte(rcpt.Format()), TLVs: rcpt.TLVs()}); err != nil {
		t.Fatal("deliver receipt:", resp, err)
	}
	select {
	case r := <-receipts:
		if r.ID != subResp.MessageID || r.State != pdu.StateDelivered {
			t.Errorf("client read the receipt as id %q state %v", r.ID, r.State)
		}
	case <-ctx.Done():
		t.Fatal("no receipt")
	}
	if resp, err := srv.Deliver(ctx, "esme1", &pdu.DeliverSM{SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: "4917612345678",
		DestinationAddr: "12345", ShortMessage: []byte("an MO message"),
		TLVs: tsharkTLVs(tU16(pdu.TagUserMessageReference, 9))}); err != nil {
		t.Fatal("deliver MO:", resp, err)
	}
	select {
	case m := <-mos:
		if m.Text != "an MO message" {
			t.Errorf("client read the MO as %q", m.Text)
		}
	case <-ctx.Done():
		t.Fatal("no MO")
	}
	if err := c.Unbind(ctx); err != nil {
		t.Fatal("unbind:", err)
	}
	select {
	case <-closed:
	case <-ctx.Done():
		t.Fatal("the server session did not close")
	}
	select {
	case <-rec.connClosed:
	case <-ctx.Done():
		t.Fatal("the server connection was not closed")
	}
	rec.mu.Lock()
	segs := append([]tsharkSeg(nil), rec.segs...)
	rec.mu.Unlock()

	// What our code wrote, as PDUs, per direction.
	var streams [2][]byte
	for _, s := range segs {
		streams[tsharkDir(s.fromMC)] = append(streams[tsharkDir(s.fromMC)], s.data...)
	}
	var want [2][]pdu.PDU
	var wantWire [2][][]byte
	for dir := range streams {
		r := pdu.NewReader(bytes.NewReader(streams[dir]), 0)
		for {
			b, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("our own stream does not frame: %v", err)
			}
			p, err := pdu.Decode(b)
			if err != nil {
				t.Fatalf("our own PDU does not decode: %v", err)
			}
			want[dir] = append(want[dir], p)
			wantWire[dir] = append(wantWire[dir], append([]byte(nil), b...))
		}
	}

	check := func(name, file string) {
		t.Run(name, func(t *testing.T) {
			got := tsharkDissectDirs(t, tshark, file, port)
			for dir, label := range []string{"ESME→MC", "MC→ESME"} {
				if len(got[dir]) != len(want[dir]) {
					t.Errorf("%s: tshark found %d SMPP PDUs, our code sent %d", label, len(got[dir]), len(want[dir]))
					continue
				}
				for i, p := range want[dir] {
					tsharkCompare(t, fmt.Sprintf("%s PDU %d (%v seq %d)", label, i, p.CommandID(), p.Head().SequenceNumber), p, wantWire[dir][i], got[dir][i])
				}
			}
			tsharkExchangeFacts(t, got, subResp.MessageID, len(sarIDs))
			if t.Failed() {
				t.Logf("pcap kept for inspection: %s", tsharkKeep(t, file))
			}
		})
	}

	// The bytes the server's connection read and wrote, one TCP segment per
	// read or write.
	pc := newTsharkPcap(port)
	for _, s := range segs {
		pc.segment(s.fromMC, s.data)
	}
	pc.finish()
	synth := filepath.Join(t.TempDir(), "exchange-synthetic.pcap")
	if err := os.WriteFile(synth, pc.bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	check("recorded", synth)

	if live != nil {
		file, captured, err := live.finish(ctx, t.TempDir(), len(streams[0]), len(streams[1]))
		if err != nil {
			t.Fatalf("live capture: %v", err)
		}
		for dir := range streams {
			if !bytes.Equal(captured[dir], streams[dir]) {
				t.Errorf("captured TCP stream %d differs from the bytes our connection carried (%d vs %d octets)", dir, len(captured[dir]), len(streams[dir]))
			}
		}
		check("live", file)
	}
}

// tsharkExchangeFacts checks the exchange's key facts on tshark's view alone,
// not through our decoder: the bind, the SAR parts, the receipt.
func tsharkExchangeFacts(t *testing.T, got [2][]tsharkPDU, msgID string, sarParts int) {
	t.Helper()
	find := func(dir int, id pdu.CommandID, ok func(p tsharkPDU) bool) []tsharkPDU {
		var out []tsharkPDU
		for _, p := range got[dir] {
			if p.num("smpp.command_id") == uint64(id) && (ok == nil || ok(p)) {
				out = append(out, p)
			}
		}
		return out
	}
	if b := find(0, pdu.BindTransceiverID, func(p tsharkPDU) bool {
		return p.str("smpp.system_id") == "esme1" && p.str("smpp.password") == "pw1" && p.str("smpp.system_type") == "WS" &&
			p.str("smpp.address_range") == "^49" && p.num("smpp.interface_version") == 0x34
	}); len(b) != 1 {
		t.Errorf("no bind_transceiver esme1/pw1/WS/^49 v3.4 in tshark's view")
	}
	if b := find(1, pdu.BindTransceiverRespID, func(p tsharkPDU) bool {
		return p.str("smpp.system_id") == "tsharksmsc" && p.num("smpp.command_status") == 0 &&
			len(p.tlvs) == 1 && p.tlvs[0].num("smpp.SC_interface_version") == 0x34
	}); len(b) != 1 {
		t.Errorf("no bind_transceiver_resp tsharksmsc with sc_interface_version 0x34 in tshark's view")
	}
	if s := find(1, pdu.SubmitSMRespID, func(p tsharkPDU) bool { return p.str("smpp.message_id") == msgID }); len(s) != 1 {
		t.Errorf("no submit_sm_resp with message_id %s", msgID)
	}
	if s := find(1, pdu.SubmitSMRespID, func(p tsharkPDU) bool {
		return p.num("smpp.command_status") == uint64(pdu.ESME_RTHROTTLED) && p.num("smpp.command_length") == 16
	}); len(s) != 1 {
		t.Errorf("no header-only submit_sm_resp ESME_RTHROTTLED")
	}
	// The SAR parts: same reference, total = number of parts, each of 1…n
	// once (in any order: Send submits the parts concurrently).
	parts := find(0, pdu.SubmitSMID, func(p tsharkPDU) bool { return p.tlv("smpp.sar_msg_ref_num") != "" })
	if len(parts) != sarParts {
		t.Errorf("tshark sees %d submit_sm with sar_msg_ref_num, we sent %d parts", len(parts), sarParts)
	}
	seqs := map[string]bool{}
	for _, p := range parts {
		seqs[p.tlv("smpp.sar_segment_seqnum")] = true
		if p.tlv("smpp.sar_msg_ref_num") != parts[0].tlv("smpp.sar_msg_ref_num") || p.tlv("smpp.sar_total_segments") != strconv.Itoa(sarParts) {
			t.Errorf("SAR part: ref %s total %s seq %s", p.tlv("smpp.sar_msg_ref_num"), p.tlv("smpp.sar_total_segments"), p.tlv("smpp.sar_segment_seqnum"))
		}
		if p.str("smpp.destination_addr") != "4917612345678" || p.str("smpp.source_addr") != "smppkit" || p.num("smpp.source_addr_ton") != 5 ||
			p.num("smpp.regdel.receipt") != 1 {
			t.Errorf("SAR part: %q (ton %d) → %q, receipt %s", p.str("smpp.source_addr"), p.num("smpp.source_addr_ton"),
				p.str("smpp.destination_addr"), p.str("smpp.regdel.receipt"))
		}
	}
	for i := 1; i <= sarParts; i++ {
		if !seqs[strconv.Itoa(i)] {
			t.Errorf("no SAR part with sar_segment_seqnum %d", i)
		}
	}
	// The UDH parts are marked as such.
	if u := find(0, pdu.SubmitSMID, func(p tsharkPDU) bool {
		return p.num("smpp.esm.submit.features") == 1 && p.num("smpp.data_coding") == 8
	}); len(u) < 2 {
		t.Errorf("tshark sees %d UCS-2 submit_sm with UDHI, want at least 2", len(u))
	}
	// The receipt.
	r := find(1, pdu.DeliverSMID, func(p tsharkPDU) bool { return p.num("smpp.esm.submit.msg_type") == 1 })
	if len(r) != 1 {
		t.Fatalf("tshark sees %d deliver_sm receipts, want 1", len(r))
	}
	if got := r[0].tlv("smpp.receipted_message_id"); got != msgID {
		t.Errorf("receipt receipted_message_id %q, want %q", got, msgID)
	}
	if got := r[0].tlv("smpp.message_state"); got != "2" {
		t.Errorf("receipt message_state %q, want 2 (DELIVERED)", got)
	}
	txt, _ := hex.DecodeString(strings.ReplaceAll(r[0].str("smpp.message"), ":", ""))
	if !strings.HasPrefix(string(txt), "id:"+msgID+" ") || !strings.Contains(string(txt), " stat:DELIVRD ") {
		t.Errorf("receipt text %q", txt)
	}
	if r[0].str("smpp.source_addr") != "4917612345678" || r[0].str("smpp.destination_addr") != "smppkit" {
		t.Errorf("receipt addresses %q → %q", r[0].str("smpp.source_addr"), r[0].str("smpp.destination_addr"))
	}
	// Every request got its response, status 0 for the deliveries.
	if d := find(0, pdu.DeliverSMRespID, func(p tsharkPDU) bool { return p.num("smpp.command_status") == 0 }); len(d) != 2 {
		t.Errorf("tshark sees %d deliver_sm_resp with status 0, want 2", len(d))
	}
	if u := find(1, pdu.UnbindRespID, nil); len(u) != 1 {
		t.Errorf("no unbind_resp")
	}
}

// tsharkDir is a direction as an index: 0 ESME→MC, 1 MC→ESME.
func tsharkDir(fromMC bool) int {
	if fromMC {
		return 1
	}
	return 0
}

// ---------------------------------------------------------------------------
// Recording the server's connections

type tsharkSeg struct {
	fromMC bool
	data   []byte
}

type tsharkRecorder struct {
	mu   sync.Mutex
	segs []tsharkSeg
	// connClosed is closed when the connection is: the session writes
	// its last octets (the unbind_resp) before, which may be after it
	// reports the session closed.
	connClosed chan struct{}
	closeOnce  sync.Once
}

func (r *tsharkRecorder) add(fromMC bool, b []byte) {
	if len(b) == 0 {
		return
	}
	r.mu.Lock()
	r.segs = append(r.segs, tsharkSeg{fromMC, append([]byte(nil), b...)})
	r.mu.Unlock()
}

type tsharkRecListener struct {
	net.Listener
	rec *tsharkRecorder
}

func (l *tsharkRecListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &tsharkRecConn{Conn: c, rec: l.rec}, nil
}

type tsharkRecConn struct {
	net.Conn
	rec *tsharkRecorder
}

func (c *tsharkRecConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.rec.add(false, b[:n])
	return n, err
}

func (c *tsharkRecConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.rec.add(true, b[:n])
	return n, err
}

func (c *tsharkRecConn) Close() error {
	err := c.Conn.Close()
	c.rec.closeOnce.Do(func() { close(c.rec.connClosed) })
	return err
}

// ---------------------------------------------------------------------------
// A pcap writer: synthetic Ethernet/IPv4/TCP frames between 127.0.0.1:40000
// (the ESME) and 127.0.0.1:port (the MC), with a handshake and a close.

type tsharkPcap struct {
	buf  bytes.Buffer
	port uint16
	seq  [2]uint32 // next sequence number: [0] ESME, [1] MC
	t    time.Time
}

func newTsharkPcap(port int) *tsharkPcap {
	w := &tsharkPcap{port: uint16(port), seq: [2]uint32{1000, 900000}, t: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 262144)
	binary.LittleEndian.PutUint32(h[20:], 1) // LINKTYPE_ETHERNET
	w.buf.Write(h[:])
	w.frame(false, 0x02, nil) // SYN
	w.frame(true, 0x12, nil)  // SYN ACK
	w.frame(false, 0x10, nil) // ACK
	return w
}

// segment adds payload in one or more TCP segments.
func (w *tsharkPcap) segment(fromMC bool, payload []byte) {
	for len(payload) > 0 {
		n := min(len(payload), 32000)
		w.frame(fromMC, 0x18, payload[:n])
		payload = payload[n:]
	}
}

// finish closes the connection.
func (w *tsharkPcap) finish() {
	w.frame(false, 0x11, nil) // FIN ACK
	w.frame(true, 0x11, nil)
	w.frame(false, 0x10, nil)
}

func (w *tsharkPcap) bytes() []byte { return w.buf.Bytes() }

func tsharkChecksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

func (w *tsharkPcap) frame(fromMC bool, flags byte, payload []byte) {
	dir := tsharkDir(fromMC)
	ports := [2]uint16{40000, w.port}
	tcp := make([]byte, 20)
	binary.BigEndian.PutUint16(tcp[0:], ports[dir])
	binary.BigEndian.PutUint16(tcp[2:], ports[1-dir])
	binary.BigEndian.PutUint32(tcp[4:], w.seq[dir])
	if flags&0x10 != 0 {
		binary.BigEndian.PutUint32(tcp[8:], w.seq[1-dir])
	}
	tcp[12] = 5 << 4
	tcp[13] = flags
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	ip := make([]byte, 20)
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(40+len(payload)))
	ip[6] = 0x40 // DF
	ip[8] = 64
	ip[9] = 6
	copy(ip[12:], []byte{127, 0, 0, 1})
	copy(ip[16:], []byte{127, 0, 0, 1})
	binary.BigEndian.PutUint16(ip[10:], tsharkChecksum(ip))
	pseudo := append([]byte{127, 0, 0, 1, 127, 0, 0, 1, 0, 6, byte((20 + len(payload)) >> 8), byte(20 + len(payload))}, tcp...)
	binary.BigEndian.PutUint16(tcp[16:], tsharkChecksum(append(pseudo, payload...)))
	eth := []byte{0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00}
	if fromMC {
		eth = []byte{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x08, 0x00}
	}
	n := len(eth) + len(ip) + len(tcp) + len(payload)
	var rh [16]byte
	w.t = w.t.Add(time.Millisecond)
	binary.LittleEndian.PutUint32(rh[0:], uint32(w.t.Unix()))
	binary.LittleEndian.PutUint32(rh[4:], uint32(w.t.Nanosecond()/1000))
	binary.LittleEndian.PutUint32(rh[8:], uint32(n))
	binary.LittleEndian.PutUint32(rh[12:], uint32(n))
	w.buf.Write(rh[:])
	w.buf.Write(eth)
	w.buf.Write(ip)
	w.buf.Write(tcp)
	w.buf.Write(payload)
	w.seq[dir] += uint32(len(payload))
	if flags&0x03 != 0 { // SYN and FIN take a sequence number
		w.seq[dir]++
	}
}

// ---------------------------------------------------------------------------
// Live capture with dumpcap

type tsharkLive struct {
	cmd    *exec.Cmd
	port   int
	probe  *net.UDPConn // the UDP socket probes go to
	stderr tsharkBuf

	mu      sync.Mutex
	notify  chan struct{}
	done    chan struct{} // closed when the pcap stream ends
	header  []byte
	records []byte
	probed  bool
	isn     [2]uint32
	synSeen [2]bool
	stream  [2][]byte // reassembled TCP payload: [0] ESME→MC, [1] MC→ESME
	readErr error
	stopFn  func()
}

// startTsharkLive starts dumpcap on the loopback interface and waits until
// it demonstrably captures (a UDP probe comes back through it). It returns
// nil, after logging why, when capturing is impossible here (not root and
// dumpcap without capabilities, a container without CAP_NET_RAW), unless
// SMPPKIT_TSHARK_LIVE=1 asks for a live capture: then that fails the test.
func startTsharkLive(t *testing.T, port int) *tsharkLive {
	t.Helper()
	noLive := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf("live capture impossible here ("+format+")", args...)
		if os.Getenv("SMPPKIT_TSHARK_LIVE") == "1" {
			t.Fatal(msg + "; SMPPKIT_TSHARK_LIVE=1 asks for one (run as root, or: setcap cap_net_raw,cap_net_admin=eip /usr/bin/dumpcap)")
		}
		t.Log(msg + ": checking the recorded bytes only")
	}
	dumpcap, err := exec.LookPath("dumpcap")
	if err != nil {
		noLive("dumpcap not found: %v", err)
		return nil
	}
	probe, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { probe.Close() })
	lc := &tsharkLive{port: port, probe: probe, notify: make(chan struct{}, 1), done: make(chan struct{})}
	filter := fmt.Sprintf("tcp port %d or udp port %d", port, probe.LocalAddr().(*net.UDPAddr).Port)
	lc.cmd = exec.Command(dumpcap, "-q", "-i", "lo", "-f", filter, "-P", "-s", "262144", "-w", "-")
	lc.cmd.Stderr = &lc.stderr
	out, err := lc.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := lc.cmd.Start(); err != nil {
		noLive("dumpcap does not start: %v", err)
		return nil
	}
	var stopOnce sync.Once
	stop := func() {
		stopOnce.Do(func() {
			lc.cmd.Process.Signal(os.Interrupt)
			select {
			case <-lc.done:
			case <-time.After(5 * time.Second):
				lc.cmd.Process.Kill()
			}
			lc.cmd.Wait()
		})
	}
	lc.stopFn = stop
	t.Cleanup(stop)
	go lc.read(out)

	sender, err := net.DialUDP("udp4", nil, probe.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	deadline := time.After(15 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		sender.Write([]byte("smppkit capture probe"))
		select {
		case <-lc.notify:
			lc.mu.Lock()
			ok, rerr := lc.probed, lc.readErr
			lc.mu.Unlock()
			if ok {
				return lc
			}
			if rerr != nil {
				stop()
				noLive("%v; dumpcap: %s", rerr, tsharkFirstLines(lc.stderr.String()))
				return nil
			}
		case <-lc.done:
			stop()
			noLive("dumpcap exited: %s", tsharkFirstLines(lc.stderr.String()))
			return nil
		case <-deadline:
			stop()
			noLive("no probe captured in 15s; dumpcap: %s", tsharkFirstLines(lc.stderr.String()))
			return nil
		case <-tick.C:
		}
	}
}

// tsharkFirstLines shortens dumpcap's error output to its first lines.
func tsharkFirstLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[:min(len(lines), 3)], " / ")
}

// tsharkBuf is a bytes.Buffer safe to read while a process writes to it.
type tsharkBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *tsharkBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *tsharkBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (lc *tsharkLive) signal() {
	select {
	case lc.notify <- struct{}{}:
	default:
	}
}

// read parses the pcap stream dumpcap writes, keeping every record.
func (lc *tsharkLive) read(r io.Reader) {
	defer close(lc.done)
	defer lc.signal()
	br := bufio.NewReader(r)
	fail := func(err error) {
		lc.mu.Lock()
		if lc.readErr == nil {
			lc.readErr = err
		}
		lc.mu.Unlock()
	}
	hdr := make([]byte, 24)
	if _, err := io.ReadFull(br, hdr); err != nil {
		fail(fmt.Errorf("pcap header: %w", err))
		return
	}
	var order binary.ByteOrder = binary.LittleEndian
	switch binary.LittleEndian.Uint32(hdr) {
	case 0xa1b2c3d4, 0xa1b23c4d:
	case 0xd4c3b2a1, 0x4d3cb2a1:
		order = binary.BigEndian
	default:
		fail(fmt.Errorf("not a pcap stream (magic %x)", hdr[:4]))
		return
	}
	linktype := order.Uint32(hdr[20:]) & 0x0fffffff
	lc.mu.Lock()
	lc.header = hdr
	lc.mu.Unlock()
	for {
		rh := make([]byte, 16)
		if _, err := io.ReadFull(br, rh); err != nil {
			if err != io.EOF {
				fail(fmt.Errorf("pcap record: %w", err))
			}
			return
		}
		n := order.Uint32(rh[8:])
		if n > 1<<20 {
			fail(fmt.Errorf("pcap record of %d octets", n))
			return
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(br, data); err != nil {
			fail(fmt.Errorf("pcap record: %w", err))
			return
		}
		lc.mu.Lock()
		lc.records = append(append(lc.records, rh...), data...)
		lc.packet(linktype, data)
		lc.mu.Unlock()
		lc.signal()
	}
}

// packet follows one captured frame; lc.mu is held.
func (lc *tsharkLive) packet(linktype uint32, b []byte) {
	switch linktype {
	case 1: // Ethernet
		if len(b) < 14 || binary.BigEndian.Uint16(b[12:]) != 0x0800 {
			return
		}
		b = b[14:]
	case 113: // Linux cooked
		if len(b) < 16 || binary.BigEndian.Uint16(b[14:]) != 0x0800 {
			return
		}
		b = b[16:]
	case 0: // BSD loopback
		if len(b) < 4 {
			return
		}
		b = b[4:]
	default:
		return
	}
	if len(b) < 20 || b[0]>>4 != 4 {
		return
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	if total > len(b) || ihl > total {
		return
	}
	proto := b[9]
	b = b[ihl:total]
	switch proto {
	case 17:
		lc.probed = true
	case 6:
		if len(b) < 20 {
			return
		}
		src, dst := int(binary.BigEndian.Uint16(b[0:])), int(binary.BigEndian.Uint16(b[2:]))
		var dir int
		switch {
		case dst == lc.port:
			dir = 0
		case src == lc.port:
			dir = 1
		default:
			return
		}
		seq := binary.BigEndian.Uint32(b[4:])
		flags := b[13]
		payload := b[int(b[12]>>4)*4:]
		if flags&0x02 != 0 { // SYN
			lc.isn[dir], lc.synSeen[dir] = seq+1, true
			return
		}
		if !lc.synSeen[dir] || len(payload) == 0 {
			return
		}
		off := int64(int32(seq - lc.isn[dir]))
		have := int64(len(lc.stream[dir]))
		if off > have {
			lc.readErr = fmt.Errorf("capture lost %d octets of stream %d", off-have, dir)
			return
		}
		if end := off + int64(len(payload)); end > have {
			lc.stream[dir] = append(lc.stream[dir], payload[have-off:]...)
		}
	}
}

// finish waits until the capture holds n0 and n1 octets of the two TCP
// streams, stops dumpcap and writes the capture to a file.
func (lc *tsharkLive) finish(ctx context.Context, dir string, n0, n1 int) (string, [2][]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		lc.mu.Lock()
		ok := len(lc.stream[0]) >= n0 && len(lc.stream[1]) >= n1
		rerr := lc.readErr
		have0, have1 := len(lc.stream[0]), len(lc.stream[1])
		lc.mu.Unlock()
		if rerr != nil {
			return "", [2][]byte{}, rerr
		}
		if ok {
			break
		}
		select {
		case <-lc.notify:
		case <-lc.done:
			return "", [2][]byte{}, fmt.Errorf("dumpcap stopped after %d+%d of %d+%d octets: %s", have0, have1, n0, n1, lc.stderr.String())
		case <-ctx.Done():
			return "", [2][]byte{}, fmt.Errorf("captured %d+%d of %d+%d octets in time", have0, have1, n0, n1)
		}
	}
	lc.stopFn()
	lc.mu.Lock()
	defer lc.mu.Unlock()
	file := filepath.Join(dir, "exchange-live.pcap")
	err := os.WriteFile(file, append(append([]byte(nil), lc.header...), lc.records...), 0o644)
	return file, lc.stream, err
}

// ---------------------------------------------------------------------------
// Running tshark and reading its JSON

// tsharkPDU is tshark's view of one SMPP PDU.
type tsharkPDU struct {
	dir    int                 // 0 ESME→MC (to the SMPP port), 1 MC→ESME
	fields map[string][]string // the PDU's own fields, TLVs and lists aside
	tlvs   []tsharkPDU         // each optional parameter, in wire order
	dlist  []tsharkPDU         // submit_multi(_resp)'s list: one tree, fields in entry order
}

func (p tsharkPDU) str(name string) string {
	if v := p.fields[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// num reads a numeric field (decimal or 0x hex); ^0 if absent or not a number.
func (p tsharkPDU) num(name string) uint64 {
	n, err := strconv.ParseUint(p.str(name), 0, 64)
	if err != nil {
		return ^uint64(0)
	}
	return n
}

// tlv returns a field of the first optional parameter that has it.
func (p tsharkPDU) tlv(name string) string {
	for _, t := range p.tlvs {
		if v := t.str(name); v != "" {
			return v
		}
	}
	return ""
}

// tsharkDissect runs tshark on a pcap file, checks that it reports nothing
// malformed and no expert warning or error, and returns the SMPP PDUs found,
// in order.
func tsharkDissect(t *testing.T, tshark, file string, port int) []tsharkPDU {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	home := t.TempDir() // no personal Wireshark preferences
	cmd := exec.CommandContext(ctx, tshark, "-n", "-r", file,
		"-d", fmt.Sprintf("tcp.port==%d,smpp", port),
		"-o", "tcp.desegment_tcp_streams:TRUE", "-o", "smpp.reassemble_smpp_over_tcp:TRUE",
		"-T", "json", "--no-duplicate-keys")
	cmd.Env = append(os.Environ(), "TZ=UTC", "HOME="+home, "XDG_CONFIG_HOME="+home, "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	var frames []struct {
		Source struct {
			Layers map[string]any `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(out, &frames); err != nil {
		t.Fatalf("tshark JSON: %v", err)
	}
	var pdus []tsharkPDU
	for _, f := range frames {
		layers := f.Source.Layers
		frameNo := "?"
		if fr, ok := layers["frame"].(map[string]any); ok {
			frameNo, _ = fr["frame.number"].(string)
		}
		for name, layer := range layers {
			for _, e := range tsharkExperts(layer) {
				// Any warning or error, except TCP's own warnings (a live
				// capture's window notes and the like) which are logged.
				if strings.HasPrefix(e, "error") || name != "tcp" {
					t.Errorf("frame %s: tshark %s: %s", frameNo, name, e)
				} else {
					t.Logf("frame %s: tshark %s: %s", frameNo, name, e)
				}
			}
			if name == "_ws.malformed" {
				t.Errorf("frame %s: tshark reports a malformed packet: %v", frameNo, layer)
			}
		}
		dir := 0
		if tcp, ok := layers["tcp"].(map[string]any); ok {
			if sp, _ := tcp["tcp.srcport"].(string); sp == strconv.Itoa(port) {
				dir = 1
			}
		}
		var objs []any
		switch v := layers["smpp"].(type) {
		case map[string]any:
			objs = []any{v}
		case []any:
			objs = v
		}
		for _, o := range objs {
			m, ok := o.(map[string]any)
			if !ok {
				t.Errorf("frame %s: unexpected smpp layer %T", frameNo, o)
				continue
			}
			p := tsharkPDU{dir: dir, fields: map[string][]string{}}
			tsharkFlatten(&p, m)
			pdus = append(pdus, p)
		}
	}
	return pdus
}

// tsharkDissectDirs is tsharkDissect split by direction.
func tsharkDissectDirs(t *testing.T, tshark, file string, port int) [2][]tsharkPDU {
	var out [2][]tsharkPDU
	for _, p := range tsharkDissect(t, tshark, file, port) {
		out[p.dir] = append(out[p.dir], p)
	}
	return out
}

// tsharkExperts finds expert infos of severity warning or error (and
// malformed markers) anywhere in a layer.
func tsharkExperts(v any) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if sev, ok := v["_ws.expert.severity"].(string); ok {
				n, _ := strconv.ParseUint(sev, 0, 32)
				msg, _ := v["_ws.expert.message"].(string)
				switch {
				case n >= 0x00800000:
					out = append(out, "error: "+msg)
				case n >= 0x00600000:
					out = append(out, "warning: "+msg)
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(v)
	return out
}

// tsharkFlatten collects the fields of an smpp tree.
func tsharkFlatten(p *tsharkPDU, m map[string]any) {
	for k, v := range m {
		switch k {
		case "smpp.opt_params":
			om, _ := v.(map[string]any)
			for _, param := range tsharkList(om["smpp.opt_param"]) {
				tp := tsharkPDU{fields: map[string][]string{}}
				tsharkFlatten(&tp, param)
				p.tlvs = append(p.tlvs, tp)
			}
			continue
		case "smpp.dlist", "smpp.dlist_resp":
			// One subtree holding every entry's fields in a row; with
			// --no-duplicate-keys each field is an array in entry order.
			tp := tsharkPDU{fields: map[string][]string{}}
			for _, e := range tsharkList(v) {
				tsharkFlatten(&tp, e)
			}
			p.dlist = append(p.dlist, tp)
			continue
		}
		switch v := v.(type) {
		case string:
			p.fields[k] = append(p.fields[k], v)
		case []any:
			for _, e := range v {
				switch e := e.(type) {
				case string:
					p.fields[k] = append(p.fields[k], e)
				case map[string]any:
					tsharkFlatten(p, e)
				}
			}
		case map[string]any:
			tsharkFlatten(p, v)
		}
	}
}

// tsharkList reads a JSON value that is an object or an array of objects.
func tsharkList(v any) []map[string]any {
	switch v := v.(type) {
	case map[string]any:
		return []map[string]any{v}
	case []any:
		var out []map[string]any
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// tsharkKeep copies a pcap file out of the test's temporary directory.
func tsharkKeep(t *testing.T, file string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return err.Error()
	}
	f, err := os.CreateTemp("", "smppkit-"+t.Name()[strings.LastIndex(t.Name(), "/")+1:]+"-*.pcap")
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	f.Write(b)
	return f.Name()
}

// ---------------------------------------------------------------------------
// Comparing tshark's view with a PDU

// tsharkHex is how tshark shows octets: lower-case hex separated by colons.
func tsharkHex(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}

// tsharkWantTime says how tshark shows an SMPP time field: the name of the
// field it uses (absolute or relative) and the value.
func tsharkWantTime(name, s string) (field, value string, err error) {
	tm, err := pdu.ParseTime(s)
	switch {
	case err != nil:
		return "", "", err
	case tm.IsZero():
		return "", "", nil
	case tm.Relative != nil:
		return name + "_r", fmt.Sprintf("%d.000000000", int64(tm.Relative.Duration()/time.Second)), nil
	}
	return name, tm.Absolute.UTC().Format("Jan _2, 2006 15:04:05.000000000 UTC"), nil
}

// tsharkCompare checks tshark's view of one PDU against the PDU and its
// encoding.
func tsharkCompare(t *testing.T, where string, p pdu.PDU, wire []byte, got tsharkPDU) {
	t.Helper()
	errorf := func(format string, args ...any) { t.Errorf(where+": "+format, args...) }
	num := func(field string, want uint64) {
		if g := got.num(field); g != want {
			errorf("%s = %q, want %d (0x%x)", field, got.str(field), want, want)
		}
	}
	str := func(field, want string) {
		if g := got.fields[field]; want == "" && len(g) == 0 {
			return
		}
		if g := got.str(field); g != want {
			errorf("%s = %q, want %q", field, g, want)
		}
	}
	num("smpp.command_length", uint64(len(wire)))
	num("smpp.command_id", uint64(p.CommandID()))
	num("smpp.sequence_number", uint64(p.Head().SequenceNumber))
	if p.CommandID().IsResponse() {
		num("smpp.command_status", uint64(p.Head().CommandStatus))
	}
	if len(wire) == pdu.HeaderSize {
		return // header only: nothing more to see
	}
	// Wireshark does not look at the body of an error response (v5.0 lets
	// broadcast_sm_resp carry TLVs then) nor at TLVs of the header-only
	// commands (v5.0 allows congestion_state on any response).
	switch id := p.CommandID(); {
	case id.IsResponse() && p.Head().CommandStatus != pdu.ESME_ROK,
		id == pdu.GenericNackID, id == pdu.EnquireLinkID, id == pdu.EnquireLinkRespID, id == pdu.UnbindID, id == pdu.UnbindRespID,
		id == pdu.CancelSMRespID, id == pdu.ReplaceSMRespID, id == pdu.CancelBroadcastSMRespID:
		for f := range got.fields {
			switch f {
			case "smpp.command_length", "smpp.command_id", "smpp.command_status", "smpp.sequence_number":
			default:
				errorf("tshark now dissects this body (%s): extend the test", f)
			}
		}
		if len(got.tlvs) > 0 {
			errorf("tshark now dissects this body's TLVs: extend the test")
		}
		return
	}

	v := reflect.ValueOf(p).Elem()
	typ := v.Type()
	for i := 0; i < typ.NumField(); i++ {
		name, fv := typ.Field(i).Name, v.Field(i)
		switch name {
		case "Header", "TLVs":
		case "SystemID", "Password", "SystemType", "AddressRange", "SourceAddr", "DestinationAddr", "MessageID", "ESMEAddr":
			field := map[string]string{"SystemID": "smpp.system_id", "Password": "smpp.password", "SystemType": "smpp.system_type",
				"AddressRange": "smpp.address_range", "SourceAddr": "smpp.source_addr", "DestinationAddr": "smpp.destination_addr",
				"MessageID": "smpp.message_id", "ESMEAddr": "smpp.esme_addr"}[name]
			str(field, fv.String())
		case "ServiceType":
			want := fv.String()
			if want == "" {
				want = "(Default)"
			}
			str("smpp.service_type", want)
		case "InterfaceVersion", "AddrTON", "AddrNPI", "SourceAddrTON", "SourceAddrNPI", "DestAddrTON", "DestAddrNPI",
			"ProtocolID", "PriorityFlag", "ReplaceIfPresentFlag", "DataCoding", "SMDefaultMsgID", "MessageState", "ErrorCode",
			"ESMEAddrTON", "ESMEAddrNPI":
			field := "smpp." + map[string]string{"InterfaceVersion": "interface_version", "AddrTON": "addr_ton", "AddrNPI": "addr_npi",
				"SourceAddrTON": "source_addr_ton", "SourceAddrNPI": "source_addr_npi", "DestAddrTON": "dest_addr_ton",
				"DestAddrNPI": "dest_addr_npi", "ProtocolID": "protocol_id", "PriorityFlag": "priority_flag",
				"ReplaceIfPresentFlag": "replace_if_present_flag", "DataCoding": "data_coding", "SMDefaultMsgID": "sm_default_msg_id",
				"MessageState": "message_state", "ErrorCode": "error_code", "ESMEAddrTON": "esme_addr_ton", "ESMEAddrNPI": "esme_addr_npi"}[name]
			num(field, fv.Uint())
		case "ESMClass":
			g := got.num("smpp.esm.submit.msg_mode") | got.num("smpp.esm.submit.msg_type")<<2 | got.num("smpp.esm.submit.features")<<6
			if g != fv.Uint() {
				errorf("esm_class: tshark mode %s type %s features %s, want 0x%02x", got.str("smpp.esm.submit.msg_mode"),
					got.str("smpp.esm.submit.msg_type"), got.str("smpp.esm.submit.features"), fv.Uint())
			}
		case "RegisteredDelivery":
			g := got.num("smpp.regdel.receipt") | got.num("smpp.regdel.acks")<<2 | got.num("smpp.regdel.notif")<<4
			if g != fv.Uint() {
				errorf("registered_delivery: tshark receipt %s acks %s notif %s, want 0x%02x", got.str("smpp.regdel.receipt"),
					got.str("smpp.regdel.acks"), got.str("smpp.regdel.notif"), fv.Uint())
			}
		case "ShortMessage":
			sm := fv.Bytes()
			num("smpp.sm_length", uint64(len(sm)))
			str("smpp.message", tsharkHex(sm))
		case "ScheduleDeliveryTime", "ValidityPeriod", "FinalDate":
			base := map[string]string{"ScheduleDeliveryTime": "smpp.schedule_delivery_time", "ValidityPeriod": "smpp.validity_period",
				"FinalDate": "smpp.final_date"}[name]
			field, want, err := tsharkWantTime(base, fv.String())
			if err != nil {
				errorf("%s %q: %v", name, fv.String(), err)
				continue
			}
			if field == "" { // NULL: no time at all, or a zero relative one
				for _, f := range []string{base, base + "_r"} {
					if g := got.str(f); g != "" && g != "0.000000000" {
						errorf("%s = %q, want NULL", f, g)
					}
				}
				continue
			}
			str(field, want)
		case "DestAddresses":
			// tshark lists the SME entries' fields and the distribution
			// list names each in their own order.
			var tons, npis, addrs, dls []string
			for _, d := range fv.Interface().([]pdu.DestAddress) {
				if d.Flag == pdu.DestFlagDistribution {
					dls = append(dls, d.DLName)
					continue
				}
				tons, npis, addrs = append(tons, strconv.Itoa(int(d.TON))), append(npis, strconv.Itoa(int(d.NPI))), append(addrs, d.Addr)
			}
			tsharkList1(errorf, "dest_address", got.dlist, map[string][]string{"smpp.dest_addr_ton": tons, "smpp.dest_addr_npi": npis,
				"smpp.destination_addr": addrs, "smpp.dl_name": dls})
		case "Unsuccess":
			var tons, npis, addrs, codes []string
			for _, u := range fv.Interface().([]pdu.UnsuccessSME) {
				tons, npis = append(tons, strconv.Itoa(int(u.DestAddrTON))), append(npis, strconv.Itoa(int(u.DestAddrNPI)))
				addrs, codes = append(addrs, u.DestinationAddr), append(codes, strconv.Itoa(int(u.ErrorStatusCode)))
			}
			tsharkList1(errorf, "unsuccess_sme", got.dlist, map[string][]string{"smpp.dest_addr_ton": tons, "smpp.dest_addr_npi": npis,
				"smpp.destination_addr": addrs, "smpp.error_status_code": codes})
		default:
			errorf("the test does not know how to check field %s", name)
		}
	}

	// TLVs: tag, length and, where the dissector decodes it, value.
	tlvs := v.FieldByName("TLVs").Interface().(pdu.TLVs)
	if len(got.tlvs) != len(tlvs) {
		errorf("tshark shows %d TLVs, want %d", len(got.tlvs), len(tlvs))
		return
	}
	for j, tv := range tlvs {
		g := got.tlvs[j]
		if g.num("smpp.opt_param_tag") != uint64(tv.Tag) || g.num("smpp.opt_param_len") != uint64(len(tv.Value)) {
			errorf("TLV %d: tshark tag %s length %s, want %v (0x%04x) length %d", j, g.str("smpp.opt_param_tag"),
				g.str("smpp.opt_param_len"), tv.Tag, uint16(tv.Tag), len(tv.Value))
			continue
		}
		for _, w := range tsharkTLVWant(tv) {
			gv, ok := g.str(w[0]), false
			if n, isNum := strings.CutPrefix(w[1], "#"); isNum {
				want, _ := strconv.ParseUint(n, 10, 64)
				ok = g.num(w[0]) == want
			} else {
				ok = gv == w[1] && len(g.fields[w[0]]) > 0
			}
			if !ok {
				errorf("TLV %v: %s = %q, want %q", tv.Tag, w[0], gv, strings.TrimPrefix(w[1], "#"))
			}
		}
	}
}

// tsharkList1 compares the entries of a submit_multi(_resp) list.
func tsharkList1(errorf func(string, ...any), what string, got []tsharkPDU, want map[string][]string) {
	if len(got) != 1 {
		errorf("tshark shows %d %s lists, want 1", len(got), what)
		return
	}
	for field, w := range want {
		g := got[0].fields[field]
		if len(g) == 0 && len(w) == 0 {
			continue
		}
		if len(g) != len(w) {
			errorf("%s: tshark shows %d %s, want %d (%q vs %q)", what, len(g), field, len(w), g, w)
			continue
		}
		for i := range w {
			gn, err1 := strconv.ParseUint(g[i], 0, 64)
			wn, err2 := strconv.ParseUint(w[i], 10, 64)
			isNum := err1 == nil && err2 == nil && field != "smpp.destination_addr" && field != "smpp.dl_name"
			if (isNum && gn != wn) || (!isNum && g[i] != w[i]) {
				errorf("%s %d: %s = %q, want %q", what, i, field, g[i], w[i])
			}
		}
	}
}

// tsharkTLVWant returns the fields (name, value as tshark prints it) the
// dissector shows for a TLV. A value "#n" is a number, to be compared by
// value (tshark prints some in hex, some in decimal).
func tsharkTLVWant(tv pdu.TLV) [][2]string {
	b := tv.Value
	u := func(b []byte) string {
		var n uint64
		for _, c := range b {
			n = n<<8 | uint64(c)
		}
		return "#" + strconv.FormatUint(n, 10) // a number: compared by value
	}
	hx := func(n uint64) string { return "#" + strconv.FormatUint(n, 10) }
	cstr := func(b []byte) string { return strings.TrimSuffix(string(b), "\x00") }
	one := func(field, value string) [][2]string { return [][2]string{{"smpp." + field, value}} }
	switch tv.Tag {
	case pdu.TagDestAddrSubunit:
		return one("dest_addr_subunit", u(b))
	case pdu.TagSourceAddrSubunit:
		return one("source_addr_subunit", u(b))
	case pdu.TagDestNetworkType:
		return one("dest_network_type", u(b))
	case pdu.TagSourceNetworkType:
		return one("source_network_type", u(b))
	case pdu.TagDestBearerType:
		return one("dest_bearer_type", u(b))
	case pdu.TagSourceBearerType:
		return one("source_bearer_type", u(b))
	case pdu.TagDestTelematicsID:
		return one("dest_telematics_id", u(b))
	case pdu.TagSourceTelematicsID:
		return one("source_telematics_id", u(b))
	case pdu.TagQosTimeToLive:
		return one("qos_time_to_live", u(b))
	case pdu.TagPayloadType:
		return one("payload_type", u(b))
	case pdu.TagAdditionalStatusInfoText:
		return one("additional_status_info_text", cstr(b))
	case pdu.TagReceiptedMessageID:
		return one("receipted_message_id", cstr(b))
	case pdu.TagPrivacyIndicator:
		return one("privacy_indicator", u(b))
	case pdu.TagSourceSubaddress:
		return one("source_subaddress", tsharkHex(b))
	case pdu.TagDestSubaddress:
		return one("dest_subaddress", tsharkHex(b))
	case pdu.TagUserMessageReference:
		return one("user_message_reference", u(b))
	case pdu.TagUserResponseCode:
		return one("user_response_code", u(b))
	case pdu.TagSourcePort:
		return one("source_port", u(b))
	case pdu.TagDestPort:
		return one("destination_port", u(b))
	case pdu.TagSarMsgRefNum:
		return one("sar_msg_ref_num", u(b))
	case pdu.TagLanguageIndicator:
		return one("language_indicator", u(b))
	case pdu.TagSarTotalSegments:
		return one("sar_total_segments", u(b))
	case pdu.TagSarSegmentSeqnum:
		return one("sar_segment_seqnum", u(b))
	case pdu.TagScInterfaceVersion:
		return one("SC_interface_version", u(b))
	case pdu.TagNumberOfMessages:
		return one("number_of_messages", u(b))
	case pdu.TagDpfResult:
		return one("dpf_result", u(b))
	case pdu.TagSetDpf:
		return one("set_dpf", u(b))
	case pdu.TagMsAvailabilityStatus:
		return one("ms_availability_status", u(b))
	case pdu.TagNetworkErrorCode:
		return [][2]string{{"smpp.network_error.type", u(b[:1])}, {"smpp.network_error.code", hx(uint64(b[1])<<8 | uint64(b[2]))}}
	case pdu.TagMessagePayload:
		return one("message_payload", tsharkHex(b))
	case pdu.TagDeliveryFailureReason:
		return one("delivery_failure_reason", u(b))
	case pdu.TagMoreMessagesToSend:
		return one("more_messages_to_send", u(b))
	case pdu.TagMessageState:
		return one("message_state", u(b))
	case pdu.TagCongestionState:
		return one("congestion_state", u(b))
	case pdu.TagUssdServiceOp:
		return one("ussd_service_op", u(b))
	case pdu.TagDisplayTime:
		return one("display_time", u(b))
	case pdu.TagSmsSignal:
		return one("sms_signal", u(b))
	case pdu.TagMsValidity:
		return one("ms_validity", u(b))
	case pdu.TagItsReplyType:
		return one("its_reply_type", u(b))
	case pdu.TagItsSessionInfo:
		return [][2]string{{"smpp.its_session.number", u(b[:1])}, {"smpp.its_session.sequence", u([]byte{b[1] >> 1})}, {"smpp.its_session.ind", u([]byte{b[1] & 1})}}
	case pdu.TagMsMsgWaitFacilities:
		return [][2]string{{"smpp.msg_wait.ind", u([]byte{b[0] >> 7})}, {"smpp.msg_wait.type", u([]byte{b[0] & 3})}}
	case pdu.TagCallbackNumPresInd:
		return [][2]string{{"smpp.callback_num.pres", u([]byte{b[0] >> 2 & 3})}, {"smpp.callback_num.scrn", u([]byte{b[0] & 3})}}
	case pdu.TagBroadcastChannelIndicator:
		return one("broadcast_channel_indicator", u(b))
	case pdu.TagBroadcastContentType:
		return [][2]string{{"smpp.broadcast_content_type.nw", u(b[:1])}, {"smpp.broadcast_content_type.type", u(b[1:])}}
	case pdu.TagBroadcastContentTypeInfo:
		return one("broadcast_content_type.info", tsharkHex(b))
	case pdu.TagBroadcastMessageClass:
		return one("broadcast_message_class", u(b))
	case pdu.TagBroadcastRepNum:
		return one("broadcast_rep_num", u(b))
	case pdu.TagBroadcastFrequencyInterval:
		return [][2]string{{"smpp.broadcast_frequency_interval.unit", u(b[:1])}, {"smpp.broadcast_frequency_interval.value", u(b[1:])}}
	case pdu.TagBroadcastAreaIdentifier:
		return [][2]string{{"smpp.broadcast_area_identifier.format", u(b[:1])}, {"smpp.broadcast_area_identifier", tsharkHex(b)}}
	case pdu.TagBroadcastErrorStatus:
		return one("broadcast_error_status", hx(uint64(binary.BigEndian.Uint32(b))))
	case pdu.TagBroadcastAreaSuccess:
		return one("broadcast_area_success", u(b))
	case pdu.TagBroadcastEndTime:
		f, v, err := tsharkWantTime("smpp.broadcast_end_time", cstr(b))
		if err != nil || f == "" {
			return nil
		}
		return [][2]string{{f, v}}
	case pdu.TagBroadcastServiceGroup:
		return one("broadcast_service_group", tsharkHex(b))
	case pdu.TagBillingIdentification:
		return one("billing_id", tsharkHex(b))
	case pdu.TagSourceNetworkID:
		return one("source_network_id", cstr(b))
	case pdu.TagDestNetworkID:
		return one("dest_network_id", cstr(b))
	case pdu.TagSourceNodeID:
		return one("source_node_id", tsharkHex(b))
	case pdu.TagDestNodeID:
		return one("dest_node_id", tsharkHex(b))
	case pdu.TagDestAddrNpResolution:
		return one("dest_addr_np_resolution", u(b))
	case pdu.TagDestAddrNpInformation:
		return one("dest_addr_np_info", tsharkHex(b))
	case pdu.TagDestAddrNpCountry:
		return one("dest_addr_np_country", tsharkHex(b))
	case pdu.TagAlertOnMessageDelivery:
		if len(b) == 0 {
			return one("alert_on_message_delivery_null", "")
		}
		return one("alert_on_message_delivery_type", u(b))
	}
	if tv.Tag >= 0x1400 && tv.Tag <= 0x3fff {
		return one("vendor_op", tsharkHex(b))
	}
	return nil // callback_num, callback_num_atag: shown as a tree without a value
}

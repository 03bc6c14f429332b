package pdu

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.NewReplacer(" ", "", "\n", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// typicalSubmit is the submit_sm of the benchmarks and of perf-tools' smppload.
func typicalSubmit() *SubmitSM {
	return &SubmitSM{
		Header:             Header{SequenceNumber: 2},
		SourceAddrTON:      5,
		SourceAddr:         "Sender",
		DestAddrTON:        1,
		DestAddrNPI:        1,
		DestinationAddr:    "491761234567",
		RegisteredDelivery: 1,
		ShortMessage:       []byte("Hello world"),
	}
}

const typicalSubmitHex = `0000003e 00000004 00000000 00000002 00 05 00 53656e64657200 01 01 34393137363132333435363700
00 00 00 00 00 01 00 00 00 0b 48656c6c6f20776f726c64`

func typicalReceipt() *DeliverSM {
	p := &DeliverSM{
		Header:          Header{SequenceNumber: 7},
		SourceAddrTON:   1,
		SourceAddrNPI:   1,
		SourceAddr:      "491761234567",
		DestAddrTON:     5,
		DestinationAddr: "Sender",
		ESMClass:        0x04,
		ShortMessage:    []byte("id:0a1b2c3d sub:001 dlvrd:001 submit date:2611221430 done date:2611221431 stat:DELIVRD err:000 text:Hello world"),
	}
	p.TLVs.SetString(TagReceiptedMessageID, "0a1b2c3d")
	p.TLVs.SetUint8(TagMessageState, uint8(StateDelivered))
	p.TLVs.Set(TagNetworkErrorCode, []byte{3, 0, 0})
	return p
}

func TestSpecVectors(t *testing.T) {
	cases := []struct {
		name string
		p    PDU
		hex  string
	}{
		{"enquire_link", &EnquireLink{Header: Header{SequenceNumber: 7}}, "00000010 00000015 00000000 00000007"},
		{"enquire_link_resp", &EnquireLinkResp{Header: Header{SequenceNumber: 7}}, "00000010 80000015 00000000 00000007"},
		{"bind_transceiver", &BindTransceiver{Header: Header{SequenceNumber: 1}, SystemID: "esme1", Password: "pw", InterfaceVersion: 0x34},
			"0000001E 00000009 00000000 00000001 65736D653100 707700 00 34 00 00 00"},
		{"submit_sm", typicalSubmit(), typicalSubmitHex},
		{"tlv sar_msg_ref_num", func() PDU {
			p := &SubmitSM{Header: Header{SequenceNumber: 1}}
			p.TLVs.SetUint16(TagSarMsgRefNum, 0x1234)
			return p
		}(), "00000027 00000004 00000000 00000001 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 020C00021234"},
		{"alert_on_message_delivery flag", func() PDU {
			p := &SubmitSM{Header: Header{SequenceNumber: 1}}
			p.TLVs.Set(TagAlertOnMessageDelivery, nil)
			return p
		}(), "00000025 00000004 00000000 00000001 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 130C0000"},
		{"error response has no body", &SubmitSMResp{Header: Header{CommandStatus: ESME_RTHROTTLED, SequenceNumber: 9}},
			"00000010 80000004 00000058 00000009"},
		{"schedule_delivery_time", &ReplaceSM{Header: Header{SequenceNumber: 3}, MessageID: "1", ScheduleDeliveryTime: "240315143045622+"},
			"0000002A 00000007 00000000 00000003 3100 00 00 00 3234303331353134333034353632322B00 00 00 00 00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := unhex(t, c.hex)
			got, err := Marshal(c.p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("encode:\n got %x\nwant %x", got, want)
			}
			back, err := Decode(want)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Marshal(back)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, want) {
				t.Fatalf("re-encode:\n got %x\nwant %x", again, want)
			}
		})
	}
}

func TestDecodeFields(t *testing.T) {
	p, err := Decode(unhex(t, typicalSubmitHex))
	if err != nil {
		t.Fatal(err)
	}
	s := p.(*SubmitSM)
	if s.SourceAddr != "Sender" || s.DestinationAddr != "491761234567" || string(s.ShortMessage) != "Hello world" ||
		s.RegisteredDelivery != 1 || s.SourceAddrTON != 5 || s.SequenceNumber != 2 {
		t.Fatalf("decoded %+v", s)
	}
	// Appending to a decoded octet field must not corrupt the strings that
	// share its memory.
	s.ShortMessage = append(s.ShortMessage, '!')
	if s.DestinationAddr != "491761234567" {
		t.Fatal("append to ShortMessage changed DestinationAddr")
	}
}

func TestUnknownAndVendorTLVsKeptInOrder(t *testing.T) {
	p := typicalReceipt()
	p.TLVs = append(TLVs{{Tag: 0x1401, Value: []byte{0xde, 0xad}}}, p.TLVs...)
	p.TLVs.Add(0x3fff, nil)
	p.TLVs.Add(0x1401, []byte{1})
	b, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	got := q.(*DeliverSM).TLVs
	if len(got) != 6 || got[0].Tag != 0x1401 || got[4].Tag != 0x3fff || got[5].Tag != 0x1401 || got[5].Value[0] != 1 {
		t.Fatalf("TLVs %v", got)
	}
	if id, _ := got.String(TagReceiptedMessageID); id != "0a1b2c3d" {
		t.Fatalf("receipted_message_id %q", id)
	}
	b2, _ := Marshal(q)
	if !bytes.Equal(b, b2) {
		t.Fatal("re-encoding changed the bytes")
	}
}

func TestDecodeErrors(t *testing.T) {
	good := unhex(t, typicalSubmitHex)
	patch := func(f func(b []byte) []byte) []byte {
		b := append([]byte(nil), good...)
		b = f(b)
		b[0], b[1], b[2], b[3] = byte(len(b)>>24), byte(len(b)>>16), byte(len(b)>>8), byte(len(b))
		return b
	}
	cases := []struct {
		name   string
		in     []byte
		status Status
		field  string
		fatal  bool
	}{
		{"short header", good[:10], ESME_RINVCMDLEN, "", true},
		{"length mismatch", append(append([]byte(nil), good...), 0), ESME_RINVCMDLEN, "", true},
		{"unknown command", patch(func(b []byte) []byte { b[7] = 0x99; return b }), ESME_RINVCMDID, "", false},
		{"sm_length past body", patch(func(b []byte) []byte { b[len(b)-12] = 200; return b }), ESME_RINVMSGLEN, "sm_length", false},
		{"string without NUL", patch(func(b []byte) []byte { return b[:22] }), ESME_RINVCMDLEN, "source_addr", false},
		{"source_addr too long", patch(func(b []byte) []byte {
			return append(append(b[:19:19], []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZ")...), b[25:]...)
		}), ESME_RINVSRCADR, "source_addr", false},
		{"stray octets", patch(func(b []byte) []byte { return append(b, 1, 2) }), ESME_RINVTLVSTREAM, "tlvs", false},
		{"TLV past end", patch(func(b []byte) []byte { return append(b, 0x04, 0x24, 0x00, 0x10, 1) }), ESME_RINVTLVSTREAM, "message_payload", false},
		{"TLV bad length", patch(func(b []byte) []byte { return append(b, 0x04, 0x27, 0x00, 0x02, 1, 2) }), ESME_RINVTLVLEN, "message_state", false},
		{"body too short", patch(func(b []byte) []byte { return b[:45] }), ESME_RINVCMDLEN, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.in)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Status != c.status || (c.field != "" && e.Field != c.field) || e.Fatal != c.fatal {
				t.Fatalf("got %v (field %q fatal %v), want %v field %q", e, e.Field, e.Fatal, c.status, c.field)
			}
			if !errors.Is(err, c.status) {
				t.Fatal("errors.Is does not match the status")
			}
			if c.status != ESME_RINVCMDLEN || !c.fatal {
				if e.Header.SequenceNumber != 2 {
					t.Fatalf("header not kept: %+v", e.Header)
				}
			}
		})
	}
}

func TestLenient(t *testing.T) {
	// source_addr of 25 characters: rejected strictly, accepted leniently.
	long := &SubmitSM{SourceAddr: strings.Repeat("A", 20)}
	b, _ := Marshal(long)
	b = append(b[:19:19], append([]byte("BCDEF"), b[19:]...)...)
	b[3] = byte(len(b))
	if _, err := Decode(b); err == nil {
		t.Fatal("strict decode accepted a 25-octet source_addr")
	}
	p, err := DecodeOptions{Lenient: true}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.(*SubmitSM).SourceAddr; got != "BCDEF"+strings.Repeat("A", 20) {
		t.Fatalf("source_addr %q", got)
	}
	// Issue 1.1 bind_transceiver cut short after system_type.
	cut := unhex(t, "0000001A 00000009 00000000 00000001 65736D653100 707700 00")
	if _, err := Decode(cut); err == nil {
		t.Fatal("strict decode accepted a truncated bind")
	}
	if _, err := (DecodeOptions{Lenient: true}).Decode(cut); err != nil {
		t.Fatal(err)
	}
}

func TestResponsesWithoutBody(t *testing.T) {
	// deliver_sm_resp without its NULL message_id (a common habit).
	p, err := Decode(unhex(t, "00000010 80000005 00000000 00000003"))
	if err != nil || p.(*DeliverSMResp).SequenceNumber != 3 {
		t.Fatal(p, err)
	}
	// An error response whose body is garbage: the body is ignored.
	p, err = Decode(unhex(t, "00000013 80000004 00000045 00000004 414243"))
	if err != nil || p.Head().CommandStatus != ESME_RSUBMITFAIL {
		t.Fatal(p, err)
	}
}

func TestEncodeErrors(t *testing.T) {
	cases := []struct {
		p      PDU
		status Status
	}{
		{&SubmitSM{DestinationAddr: strings.Repeat("1", 21)}, ESME_RINVDSTADR},
		{&SubmitSM{SourceAddr: "a\x00b"}, ESME_RINVSRCADR},
		{&SubmitSM{ShortMessage: make([]byte, 256)}, ESME_RINVMSGLEN},
		{&SubmitSM{ValidityPeriod: "1d"}, ESME_RINVEXPIRY},
		{&BindTransmitter{Password: "123456789"}, ESME_RINVPASWD},
		{&SubmitMulti{DestAddresses: []DestAddress{{Flag: 3}}}, ESME_RINVDESTFLAG},
	}
	for _, c := range cases {
		buf := []byte("prefix")
		out, err := Append(buf, c.p)
		if !errors.Is(err, c.status) {
			t.Errorf("%T: err %v, want %v", c.p, err, c.status)
		}
		if string(out) != "prefix" {
			t.Errorf("%T: a failed Append left %q", c.p, out)
		}
	}
}

package pdu_test

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/smppkit/smpp/pdu"
)

func ExampleAppend() {
	p := &pdu.SubmitSM{
		SourceAddrTON:      5,
		SourceAddr:         "Sender",
		DestAddrTON:        1,
		DestAddrNPI:        1,
		DestinationAddr:    "491761234567",
		RegisteredDelivery: 1,
		ShortMessage:       []byte("Hello world"),
	}
	p.SequenceNumber = 2
	buf := make([]byte, 0, 256) // reuse it: Append allocates nothing when it has room
	buf, err := pdu.Append(buf[:0], p)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d octets: %x…\n", len(buf), buf[:16])
	// Output: 62 octets: 0000003e000000040000000000000002…
}

func ExampleDecode() {
	b := []byte{0, 0, 0, 0x10, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 7}
	p, err := pdu.Decode(b)
	if err != nil {
		panic(err)
	}
	switch p := p.(type) {
	case *pdu.EnquireLink:
		resp := pdu.NewResponse(p, pdu.ESME_ROK)
		fmt.Println(p.CommandID(), p.SequenceNumber, "→", resp.CommandID(), resp.Head().SequenceNumber)
	}
	// Output: enquire_link 7 → enquire_link_resp 7
}

func ExampleError() {
	// A submit_sm whose sm_length claims more octets than the body has.
	b := []byte{0, 0, 0, 0x21, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 9,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xC8}
	_, err := pdu.Decode(b)
	var e *pdu.Error
	if errors.As(err, &e) {
		fmt.Println(err)
		reply := pdu.Reply(e)
		fmt.Println("answer:", reply.CommandID(), reply.Head().CommandStatus.String(), "seq", reply.Head().SequenceNumber)
	}
	// Output:
	// submit_sm: sm_length at offset 32: sm_length 200 runs past the end of the body (0 octets left) (ESME_RINVMSGLEN)
	// answer: submit_sm_resp ESME_RINVMSGLEN seq 9
}

func ExampleTLVs() {
	var d pdu.DeliverSM
	d.ESMClass = 0x04 // a delivery receipt
	d.TLVs.SetString(pdu.TagReceiptedMessageID, "0a1b2c3d")
	d.TLVs.SetUint8(pdu.TagMessageState, uint8(pdu.StateDelivered))
	d.TLVs.Add(0x1401, []byte{0xCA, 0xFE}) // a vendor TLV: kept as it is

	id, _ := d.TLVs.String(pdu.TagReceiptedMessageID)
	st, _ := d.TLVs.Uint8(pdu.TagMessageState)
	fmt.Println(id, pdu.MessageState(st), len(d.TLVs))
	// Output: 0a1b2c3d DELIVERED 3
}

func ExampleReader() {
	var stream bytes.Buffer
	for seq := uint32(1); seq <= 3; seq++ {
		b, _ := pdu.Marshal(&pdu.EnquireLink{Header: pdu.Header{SequenceNumber: seq}})
		stream.Write(b)
	}
	r := pdu.NewReader(&stream, pdu.DefaultMaxLength)
	for {
		p, err := r.Read()
		if err != nil {
			break // io.EOF at the end
		}
		fmt.Println(p.CommandID(), p.Head().SequenceNumber)
	}
	// Output:
	// enquire_link 1
	// enquire_link 2
	// enquire_link 3
}

func ExampleParseTime() {
	t, _ := pdu.ParseTime("240315143045622+")
	fmt.Println(t.Absolute.UTC().Format(time.RFC3339Nano))
	r, _ := pdu.ParseTime("000001120000000R")
	fmt.Printf("%+v\n", *r.Relative)
	fmt.Println(pdu.FormatRelative(36 * time.Hour))
	// Output:
	// 2024-03-15T09:00:45.6Z
	// {Years:0 Months:0 Days:1 Hours:12 Minutes:0 Seconds:0}
	// 000001120000000R
}

// A vendor command with a body of its own: declare the fields once.
type vendorPing struct {
	pdu.Header
	Note string
	TLVs pdu.TLVs
}

func (*vendorPing) CommandID() pdu.CommandID { return 0x00010200 }

func (p *vendorPing) Fields(f *pdu.Fields) {
	f.CString("note", &p.Note, 32)
	f.TLVs(&p.TLVs)
}

func ExampleRegisterCommand() {
	if err := pdu.RegisterCommand(0x00010200, "vendor_ping", func() pdu.PDU { return new(vendorPing) }); err != nil {
		panic(err)
	}
	b, _ := pdu.Marshal(&vendorPing{Header: pdu.Header{SequenceNumber: 1}, Note: "hi"})
	p, _ := pdu.Decode(b)
	js, _ := pdu.MarshalJSON(p)
	fmt.Println(string(js))
	// Output: {"command":"vendor_ping","command_id":"0x00010200","command_status":0,"command_status_name":"ESME_ROK","sequence_number":1,"note":"hi","tlvs":[]}
}

// A reader that decodes PDU after PDU into the same struct once it is done
// with the previous one: no allocation per PDU. The values kept from an
// earlier PDU (here its source_addr) are not overwritten.
func ExampleDecoder_DecodeInto() {
	var dec pdu.Decoder
	var p pdu.PDU // the struct to reuse, once its owner is done with it
	var kept []string
	for i, from := range []string{"Alice", "Bob"} {
		b, _ := pdu.Marshal(&pdu.SubmitSM{Header: pdu.Header{SequenceNumber: uint32(i + 1)}, SourceAddr: from, DestinationAddr: "1"})
		q, err := dec.DecodeInto(b, p)
		if err != nil {
			panic(err)
		}
		fmt.Println(q.Head().SequenceNumber, q.(*pdu.SubmitSM).SourceAddr, "reused:", q == p)
		kept = append(kept, q.(*pdu.SubmitSM).SourceAddr)
		p = q
	}
	fmt.Println(kept)
	// Output:
	// 1 Alice reused: false
	// 2 Bob reused: true
	// [Alice Bob]
}

// Reset clears a PDU for filling in again.
func ExampleReset() {
	resp := &pdu.SubmitSMResp{MessageID: "abc"}
	resp.SequenceNumber = 9
	fmt.Println(pdu.Reset(resp), resp.MessageID == "", resp.SequenceNumber)
	// Output: true true 0
}

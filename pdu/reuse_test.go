package pdu

import (
	"reflect"
	"testing"
)

func TestDecodeIntoReusesTheStruct(t *testing.T) {
	var d Decoder
	first := typicalReceipt() // a deliver_sm with TLVs
	b1, err := Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := d.Decode(b1)
	if err != nil {
		t.Fatal(err)
	}
	old := *p1.(*DeliverSM) // what an owner kept: strings, slices, TLVs
	oldText, oldTLVs := string(old.ShortMessage), len(old.TLVs)

	second := &DeliverSM{Header: Header{SequenceNumber: 9}, SourceAddr: "123", ShortMessage: []byte("other")}
	b2, _ := Marshal(second)
	p2, err := d.DecodeInto(b2, p1)
	if err != nil {
		t.Fatal(err)
	}
	if p2 != p1 {
		t.Fatal("DecodeInto did not reuse a PDU of the same command")
	}
	if !reflect.DeepEqual(normal(p2), normal(second)) {
		t.Fatalf("decoded into a used PDU:\n%#v\nwant\n%#v (nothing of the first may remain)", p2, second)
	}
	if string(old.ShortMessage) != oldText || len(old.TLVs) != oldTLVs || old.TLVs[0].Value == nil {
		t.Fatal("reusing the struct changed the values an owner kept from it")
	}

	// Another command: a new PDU, and the offered one is left alone.
	b3, _ := Marshal(typicalSubmit())
	p3, err := d.DecodeInto(b3, p2)
	if err != nil || p3 == p2 || p2.(*DeliverSM).SequenceNumber != 9 {
		t.Fatalf("DecodeInto with another command: %v, %T", err, p3)
	}
}

func TestDecodeIntoLenientTruncationClearsFields(t *testing.T) {
	d := Decoder{Options: DecodeOptions{Lenient: true}}
	full, _ := Marshal(&BindTransceiver{SystemID: "esme1", Password: "pw", SystemType: "x", InterfaceVersion: 0x34, AddressRange: "12"})
	p, err := d.Decode(full)
	if err != nil {
		t.Fatal(err)
	}
	// Issue 1.1 bind_transceiver cut short after system_type: the missing
	// fields must read as NULL, not as the previous PDU's values.
	cut := unhex(t, "0000001A 00000009 00000000 00000001 65736D653100 707700 00")
	q, err := d.DecodeInto(cut, p)
	if err != nil {
		t.Fatal(err)
	}
	if b := q.(*BindTransceiver); b.InterfaceVersion != 0 || b.AddressRange != "" || b.SystemType != "" {
		t.Fatalf("stale fields after a truncated body: %+v", b)
	}
}

func TestDecodeIntoAllocatesNothing(t *testing.T) {
	in := unhex(t, typicalSubmitHex)
	var d Decoder
	p, _ := d.Decode(in)
	allocs := testing.AllocsPerRun(1000, func() {
		var err error
		if p, err = d.DecodeInto(in, p); err != nil {
			t.Fatal(err)
		}
	})
	// One 16 KiB block per few hundred PDUs rounds down to zero.
	if allocs != 0 {
		t.Fatalf("%v allocations per reused decode", allocs)
	}
}

func BenchmarkDecoderSubmitSMReuse(b *testing.B) {
	in := unhex(b, typicalSubmitHex)
	var d Decoder
	p, _ := d.Decode(in)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if p, err = d.DecodeInto(in, p); err != nil {
			b.Fatal(err)
		}
	}
}

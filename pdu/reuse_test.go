package pdu

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"strings"
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

// marshalWalker encodes p with the walker alone, the plans' reference.
func marshalWalker(p PDU) ([]byte, error) {
	var f Fields
	return appendWith(&f, nil, p, false)
}

// checkPlanAgrees decodes b with the plans and with the walker alone, and
// re-encodes both ways: results, errors and octets must be the same.
func checkPlanAgrees(t *testing.T, b []byte) {
	t.Helper()
	p, err := Decode(b)
	var f Fields
	q, werr := DecodeOptions{}.decodeWith(&f, b, true, nil, false)
	if !reflect.DeepEqual(err, werr) {
		t.Fatalf("plan and walker fail differently on %x:\n%v\n%v", b, err, werr)
	}
	if err != nil {
		return
	}
	if !reflect.DeepEqual(normal(p), normal(q)) {
		t.Fatalf("plan and walker decode %x differently:\n%#v\n%#v", b, p, q)
	}
	e1, err1 := Marshal(p)
	e2, err2 := marshalWalker(p)
	if !bytes.Equal(e1, e2) || !reflect.DeepEqual(err1, err2) {
		t.Fatalf("plan and walker encode differently: %v %v\n%x\n%x", err1, err2, e1, e2)
	}
}

func TestPlansAgreeWithTheWalker(t *testing.T) {
	for _, p := range samples() {
		b, err := Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		w, err := marshalWalker(p)
		if err != nil || !bytes.Equal(b, w) {
			t.Fatalf("%s: plan and walker encode differently: %v\n%x\n%x", p.CommandID(), err, b, w)
		}
		checkPlanAgrees(t, b)
		// Every truncation and a flipped octet at each position: the
		// plan must give up exactly where the walker fails.
		for i := HeaderSize; i < len(b); i++ {
			cut := append([]byte(nil), b[:i]...)
			binary.BigEndian.PutUint32(cut, uint32(i))
			checkPlanAgrees(t, cut)
			for _, v := range []byte{0, 0xFF, 0x10} {
				bad := append([]byte(nil), b...)
				bad[i] = v
				checkPlanAgrees(t, bad)
			}
		}
	}
	// Values the encoder must refuse, for every field kind.
	for _, p := range []PDU{
		&SubmitSM{SourceAddr: strings.Repeat("1", 21)},
		&SubmitSM{DestinationAddr: "a\x00b"},
		&SubmitSM{ValidityPeriod: "123"},
		&SubmitSM{ShortMessage: make([]byte, 256)},
		&SubmitSM{TLVs: TLVs{{Tag: TagMessagePayload, Value: make([]byte, 0x10000)}}},
		&SubmitSMResp{Header: Header{CommandStatus: ESME_RSYSERR}},
	} {
		e1, err1 := Marshal(p)
		e2, err2 := marshalWalker(p)
		if !bytes.Equal(e1, e2) || !reflect.DeepEqual(err1, err2) {
			t.Fatalf("%#v: plan and walker differ: %v / %v\n%x\n%x", p, err1, err2, e1, e2)
		}
	}
}

// Every step of every plan points at a struct field of the kind it codes.
func TestPlanOffsetsMatchTheStructs(t *testing.T) {
	want := map[stepKind]reflect.Type{
		stepUint8: reflect.TypeFor[uint8](), stepUint32: reflect.TypeFor[uint32](),
		stepCString: reflect.TypeFor[string](), stepTime: reflect.TypeFor[string](), stepTime12: reflect.TypeFor[string](),
		stepOctets: reflect.TypeFor[[]byte](), stepTLVs: reflect.TypeFor[TLVs](),
	}
	for _, c := range standard {
		if c.plan == nil {
			continue
		}
		fields := map[uintptr][]reflect.Type{} // every field, nested ones too, by offset
		var walk func(t reflect.Type, base uintptr)
		walk = func(t reflect.Type, base uintptr) {
			for i := range t.NumField() {
				sf := t.Field(i)
				fields[base+sf.Offset] = append(fields[base+sf.Offset], sf.Type)
				if sf.Type.Kind() == reflect.Struct {
					walk(sf.Type, base+sf.Offset)
				}
			}
		}
		walk(c.typ.Elem(), 0)
		for i, st := range c.plan.steps {
			ok := false
			for _, ft := range fields[st.off] {
				ok = ok || ft.Kind() == want[st.kind].Kind() && ft.Size() == want[st.kind].Size() &&
					(ft.Kind() != reflect.Slice || ft.Elem() == want[st.kind].Elem())
			}
			if !ok {
				t.Errorf("%s: step %d (kind %d) at offset %d matches no field of that kind (%v)", c.name, i, st.kind, st.off, fields[st.off])
			}
		}
	}
}

// A type of its own that reports a standard command id is never encoded by
// that command's plan (whose offsets are another struct's).
type wrappedSubmit struct {
	Note string
	SubmitSM
}

func TestPlanNotUsedForOtherTypes(t *testing.T) {
	w := &wrappedSubmit{Note: "x", SubmitSM: SubmitSM{SourceAddr: "abc", DestinationAddr: "1"}}
	b1, err := Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := Marshal(&w.SubmitSM)
	if !bytes.Equal(b1, b2) {
		t.Fatalf("wrapped type encoded as\n%x\nwant\n%x", b1, b2)
	}
}

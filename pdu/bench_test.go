package pdu

import "testing"

func BenchmarkDecodeSubmitSM(b *testing.B) {
	in := unhex(b, typicalSubmitHex)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Decode(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeSubmitSM(b *testing.B) {
	p := typicalSubmit()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = Append(buf[:0], p); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeDeliverSMReceipt(b *testing.B) {
	in, err := Marshal(typicalReceipt())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Decode(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeDeliverSMReceipt(b *testing.B) {
	p := typicalReceipt()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = Append(buf[:0], p); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecoderSubmitSM(b *testing.B) {
	in := unhex(b, typicalSubmitHex)
	var d Decoder
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncoderSubmitSM(b *testing.B) {
	p := typicalSubmit()
	buf := make([]byte, 0, 512)
	var e Encoder
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = e.Append(buf[:0], p); err != nil {
			b.Fatal(err)
		}
	}
}

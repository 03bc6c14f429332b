package pdu

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func seedCorpus(f *testing.F) {
	for _, p := range samples() {
		b, err := Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecode: no panic; whatever decodes re-encodes, and the re-encoding
// decodes to the same octets again (decoded → encoded → decoded is stable).
func FuzzDecode(f *testing.F) {
	seedCorpus(f)
	var d Decoder
	// used holds a PDU of each command full of other values, for
	// DecodeInto to reuse: nothing of them may show in the result.
	used := map[CommandID]PDU{}
	for _, p := range samples() {
		used[p.CommandID()] = p
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkPlanAgrees(t, b)
		for _, o := range []DecodeOptions{{}, {Lenient: true}} {
			p, err := o.Decode(b)
			d.Options = o
			p2, err2 := d.Decode(b)
			if (err == nil) != (err2 == nil) {
				t.Fatalf("Decode and Decoder disagree: %v / %v", err, err2)
			}
			var reuse PDU
			if len(b) >= 8 {
				reuse = used[CommandID(uint32(b[4])<<24|uint32(b[5])<<16|uint32(b[6])<<8|uint32(b[7]))]
			}
			p3, err3 := d.DecodeInto(b, reuse)
			if (err == nil) != (err3 == nil) {
				t.Fatalf("Decode and DecodeInto disagree: %v / %v", err, err3)
			}
			if err == nil {
				e1, _ := Marshal(p)
				e2, _ := Marshal(p2)
				e3, _ := Marshal(p3)
				if !bytes.Equal(e1, e2) || !bytes.Equal(e1, e3) {
					t.Fatalf("Decode, Decoder and DecodeInto decode differently")
				}
				used[p3.CommandID()] = p3
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Status == ESME_ROK {
					t.Fatalf("error %v is not an *Error with a status", err)
				}
				continue
			}
			enc, err := Marshal(p)
			if err != nil {
				// Lenient decoding accepts what strict encoding refuses
				// (over-long strings); strict decoding must not.
				if !o.Lenient {
					t.Fatalf("strictly decoded PDU does not encode: %v", err)
				}
				continue
			}
			q, err := o.Decode(enc)
			if err != nil {
				t.Fatalf("re-encoded PDU does not decode: %v\n%x", err, enc)
			}
			enc2, err := Marshal(q)
			if err != nil || !bytes.Equal(enc, enc2) {
				t.Fatalf("not stable: %v\n%x\n%x", err, enc, enc2)
			}
			if js, err := MarshalJSON(q); err == nil {
				if r, err := UnmarshalJSON(js); err == nil {
					if enc3, err := Marshal(r); err == nil && !bytes.Equal(enc, enc3) && bytesValidUTF8(q) {
						t.Fatalf("JSON round trip differs\n%s\n%x\n%x", js, enc, enc3)
					}
				}
			}
		}
	})
}

// bytesValidUTF8 reports whether the JSON form can carry q exactly (its
// C-octet strings are valid UTF-8; JSON strings cannot hold other bytes).
func bytesValidUTF8(q PDU) bool {
	js, _ := MarshalJSON(q)
	return !bytes.Contains(js, []byte(`\ufffd`))
}

// FuzzReader: framing a stream never panics, never returns a PDU whose
// length disagrees with its header, and stops with an error at the end.
func FuzzReader(f *testing.F) {
	var all []byte
	for _, p := range samples() {
		b, _ := Marshal(p)
		all = append(all, b...)
		f.Add(b)
	}
	f.Add(all)
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b), 512)
		for i := 0; ; i++ {
			pdu, err := r.Next()
			if err != nil {
				var e *Error
				if err != io.EOF && err != io.ErrUnexpectedEOF && !(errors.As(err, &e) && e.Fatal) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(pdu) < HeaderSize || len(pdu) > 512 || int(uint32(pdu[0])<<24|uint32(pdu[1])<<16|uint32(pdu[2])<<8|uint32(pdu[3])) != len(pdu) {
				t.Fatalf("PDU %d of %d octets", i, len(pdu))
			}
		}
	})
}

// FuzzParseTime: no panic, and what parses as absolute formats back to a
// time that parses to the same instant.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"240315143045622+", "231231235959012-", "000001120000000R", "991231235959", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseTime(s)
		if err != nil || tm.Relative != nil || tm.IsZero() {
			return
		}
		back, err := ParseTime(FormatAbsolute(tm.Absolute))
		if err != nil || !back.Absolute.Equal(tm.Absolute) {
			t.Fatalf("%q → %v → %q → %v (%v)", s, tm.Absolute, FormatAbsolute(tm.Absolute), back.Absolute, err)
		}
	})
}

// FuzzUnmarshalJSON: hostile JSON never panics, and what it builds encodes
// and decodes. Decoding is lenient here: the encoder passes TLVs through
// whatever their length (a relay must re-send what it received), while
// strict decoding polices known TLVs' lengths.
func FuzzUnmarshalJSON(f *testing.F) {
	for _, p := range samples() {
		js, _ := MarshalJSON(p)
		f.Add(js)
	}
	f.Fuzz(func(t *testing.T, js []byte) {
		p, err := UnmarshalJSON(js)
		if err != nil {
			return
		}
		b, err := Marshal(p)
		if err != nil {
			return
		}
		if _, err := (DecodeOptions{Lenient: true}).Decode(b); err != nil {
			t.Fatalf("encoded JSON PDU does not decode: %v\n%s", err, js)
		}
	})
}

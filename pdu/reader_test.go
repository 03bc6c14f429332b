package pdu

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestReaderFramesStream(t *testing.T) {
	var stream []byte
	var want [][]byte
	for i := 0; i < 50; i++ {
		p := typicalSubmit()
		p.SequenceNumber = uint32(i + 1)
		p.ShortMessage = bytes.Repeat([]byte{'x'}, i*5)
		b, _ := Marshal(p)
		want = append(want, b)
		stream = append(stream, b...)
	}
	// Payloads larger than the initial buffer make it grow.
	big := &DataSM{Header: Header{SequenceNumber: 99}}
	big.TLVs.Set(TagMessagePayload, bytes.Repeat([]byte{'y'}, 20000))
	bb, _ := Marshal(big)
	want = append(want, bb)
	stream = append(stream, bb...)

	for _, name := range []string{"whole", "one byte at a time"} {
		var src io.Reader = bytes.NewReader(stream)
		if name != "whole" {
			src = iotest.OneByteReader(src)
		}
		r := NewReader(src, 0)
		for i, w := range want {
			got, err := r.Next()
			if err != nil {
				t.Fatalf("%s: PDU %d: %v", name, i, err)
			}
			if !bytes.Equal(got, w) {
				t.Fatalf("%s: PDU %d differs", name, i)
			}
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("%s: at end: %v, want io.EOF", name, err)
		}
	}
}

func TestReaderRejectsHostileLength(t *testing.T) {
	// command_length 2 GiB: refused from the header alone, nothing reserved.
	hdr := unhex(t, "7FFFFFFF 00000004 00000000 0000002A")
	r := NewReader(bytes.NewReader(hdr), 1024)
	_, err := r.Next()
	var e *Error
	if !errors.As(err, &e) || e.Status != ESME_RINVCMDLEN || !e.Fatal || e.Header.SequenceNumber != 42 {
		t.Fatalf("err = %v", err)
	}
	// Even with a huge maximum, a PDU that announces 1 GiB and then stops
	// must not make the reader reserve the announced size.
	r = NewReader(bytes.NewReader(unhex(t, "3FFFFFFF 00000004 00000000 0000002A 0000")), 1<<30)
	if _, err := r.Next(); err != io.ErrUnexpectedEOF {
		t.Fatalf("err = %v", err)
	}
	if len(r.buf) > 8192 {
		t.Fatalf("the buffer grew to %d octets for a PDU that never came", len(r.buf))
	}
	for _, h := range []string{"0000000F 00000015 00000000 00000001", "00000401 00000004 00000000 00000001"} {
		_, err := NewReader(bytes.NewReader(unhex(t, h)), 1024).Next()
		if !errors.As(err, &e) || e.Status != ESME_RINVCMDLEN {
			t.Fatalf("%s: err = %v", h, err)
		}
	}
}

func TestReaderTruncatedStream(t *testing.T) {
	b := unhex(t, typicalSubmitHex)
	_, err := NewReader(bytes.NewReader(b[:30]), 0).Next()
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("err = %v", err)
	}
}

func TestReaderKeepsGoingAfterBadBody(t *testing.T) {
	good := unhex(t, typicalSubmitHex)
	bad := append([]byte(nil), good...)
	bad[len(bad)-12] = 200 // sm_length past the body
	r := NewReader(bytes.NewReader(append(append(bad, good...), good...)), 0)
	if _, err := r.Read(); !errors.Is(err, ESME_RINVMSGLEN) {
		t.Fatalf("first: %v", err)
	}
	for i := 0; i < 2; i++ {
		if p, err := r.Read(); err != nil || p.(*SubmitSM).SourceAddr != "Sender" {
			t.Fatalf("after the bad PDU: %v %v", p, err)
		}
	}
}

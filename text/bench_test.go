package text

import (
	"strings"
	"testing"
)

var (
	gsm300  = strings.Repeat("The quick brown fox jumps over the lazy dog {€} ", 7)[:300]
	ucs2150 string // 150 Cyrillic characters, set in init
)

func init() {
	r := []rune(strings.Repeat("Съешь же ещё этих мягких французских булок, да выпей чаю. ", 3))
	ucs2150 = string(r[:150])
}

func BenchmarkSplitGSM300(b *testing.B) {
	c := &Codec{}
	b.ReportAllocs()
	for b.Loop() {
		m, err := c.Split(gsm300, Auto, SplitUDH8)
		if err != nil || len(m.Segments) != 2 {
			b.Fatal(err, len(m.Segments))
		}
	}
}

func BenchmarkSplitGSM300Packed(b *testing.B) {
	c := &Codec{Packed: true}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Split(gsm300, Auto, SplitUDH8); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplitUCS2150(b *testing.B) {
	c := &Codec{}
	b.ReportAllocs()
	for b.Loop() {
		m, err := c.Split(ucs2150, Auto, SplitUDH8)
		if err != nil || len(m.Segments) != 3 {
			b.Fatal(err, len(m.Segments))
		}
	}
}

func BenchmarkCountGSM300(b *testing.B) {
	c := &Codec{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Count(gsm300, Auto, SplitUDH8); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReassembleGSM300(b *testing.B) {
	c := &Codec{}
	m, _ := c.Split(gsm300, Auto, SplitUDH8)
	r := &Reassembler{}
	b.ReportAllocs()
	for b.Loop() {
		var ok bool
		for _, s := range m.Segments {
			_, ok, _ = r.Add(Part{Source: "a", Dest: "b", UDHI: true, Data: s.Data})
		}
		if !ok {
			b.Fatal("not complete")
		}
		r.done = nil // forget the completed message, else its parts count as late duplicates
	}
}

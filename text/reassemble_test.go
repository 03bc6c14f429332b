package text

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

var pools = [][]rune{
	[]rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,!?"),
	[]rune("€{}[]~^\\|\f"),
	[]rune("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n"),
	[]rune("şğıİŞĞçÇãõâêÁáíóú"),
	[]rune("ПриветмирЖжЩщ"),
	[]rune("שלוםעולם"),
	[]rune("中文漢字日本語"),
	[]rune("😀🎉👍🏽🇩🇪💩"),
}

// randomText mixes a random subset of the pools.
func randomText(rng *rand.Rand, n int, cr bool) string {
	var use [][]rune
	for _, p := range pools {
		if rng.IntN(3) == 0 {
			use = append(use, p)
		}
	}
	if len(use) == 0 {
		use = pools[:2]
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		p := use[rng.IntN(len(use))]
		b.WriteRune(p[rng.IntN(len(p))])
		if cr && rng.IntN(50) == 0 {
			b.WriteByte('\r')
		}
	}
	return b.String()
}

func feed(t testing.TB, r *Reassembler, m Message, src, dst string, rng *rand.Rand) (Reassembled, bool) {
	t.Helper()
	order := rng.Perm(len(m.Segments))
	// duplicate some parts
	for i := 0; i < len(m.Segments)/2; i++ {
		order = append(order, rng.IntN(len(m.Segments)))
	}
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	var got Reassembled
	done := false
	for _, i := range order {
		s := m.Segments[i]
		msg, ok, err := r.Add(Part{Source: src, Dest: dst, DataCoding: m.DataCoding, UDHI: s.UDHI, Data: s.Data, SAR: s.SAR})
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			if done {
				t.Fatalf("message completed twice")
			}
			got, done = msg, true
		}
	}
	return got, done
}

// Property: split, then reassemble (out of order, with duplicates) gives the
// input back, for every method, packed and unpacked, with and without
// national tables, Latin-1 allowed or not.
func TestSplitReassembleProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	iters := 3000
	if testing.Short() {
		iters = 300
	}
	for it := 0; it < iters; it++ {
		c := &Codec{Packed: rng.IntN(2) == 0, Latin1: rng.IntN(3) == 0}
		if rng.IntN(2) == 0 {
			c.Languages = []Language{LangTurkish, LangSpanish, LangPortuguese}[:1+rng.IntN(3)]
		}
		m := Method(rng.IntN(4))
		text := randomText(rng, rng.IntN(700), !c.Packed)
		msg, err := c.Split(text, Auto, m)
		if err != nil {
			t.Fatalf("split %q: %v", text, err)
		}
		for _, s := range msg.Segments {
			if !msg.Payload && len(s.Data) > 140 && !(msg.Coding == GSM7 && !c.Packed) {
				t.Fatalf("segment of %d octets", len(s.Data))
			}
			if !msg.Payload && msg.Coding == GSM7 && !c.Packed {
				h := 0
				if s.UDHI {
					h = int(s.Data[0]) + 1
				}
				if PackedLen(len(s.Data)-h, FillBits(h))+h > 140 {
					t.Fatalf("GSM segment does not fit 140 octets packed")
				}
			}
		}
		r := &Reassembler{Codec: c}
		got, ok := feed(t, r, msg, "src", "dst", rng)
		if !ok {
			t.Fatalf("iteration %d: not complete (%d segments)", it, len(msg.Segments))
		}
		if got.Text != text || got.Err != nil || got.Incomplete {
			t.Fatalf("iteration %d (%v %v packed=%v langs=%v): got %q (%v), want %q",
				it, msg.Coding, m, c.Packed, c.Languages, got.Text, got.Err, text)
		}
		if r.Pending() != 0 {
			t.Fatal("pending left over")
		}
	}
}

func TestReassemblerSendersDoNotMix(t *testing.T) {
	ref := func() uint16 { return 42 }
	c := &Codec{Ref: ref}
	a, _ := c.Split(strings.Repeat("A", 300), Auto, SplitUDH8)
	b, _ := c.Split(strings.Repeat("B", 300), Auto, SplitUDH8)
	r := &Reassembler{}
	add := func(src string, s Segment) (Reassembled, bool) {
		m, ok, err := r.Add(Part{Source: src, Dest: "1000", UDHI: s.UDHI, Data: s.Data})
		if err != nil {
			t.Fatal(err)
		}
		return m, ok
	}
	add("111", a.Segments[0])
	add("222", b.Segments[1])
	m1, ok1 := add("222", b.Segments[0])
	m2, ok2 := add("111", a.Segments[1])
	if !ok1 || !ok2 || m1.Text != strings.Repeat("B", 300) || m2.Text != strings.Repeat("A", 300) ||
		m1.Source != "222" || m2.Source != "111" {
		t.Fatalf("mixed: %q %q", m1.Text, m2.Text)
	}
}

func TestReassemblerTimeout(t *testing.T) {
	now := time.Date(2024, 3, 15, 14, 30, 0, 0, time.UTC)
	r := &Reassembler{Timeout: time.Minute, Now: func() time.Time { return now }}
	c := &Codec{}
	m, _ := c.Split(strings.Repeat("x", 150)+strings.Repeat("y", 150)+"z", Auto, SplitUDH16)
	if len(m.Segments) != 2 {
		t.Fatal(len(m.Segments))
	}
	if _, ok, _ := r.Add(Part{Source: "1", Dest: "2", UDHI: true, Data: m.Segments[1].Data}); ok {
		t.Fatal("complete too early")
	}
	if got := r.Expire(now.Add(59 * time.Second)); len(got) != 0 {
		t.Fatalf("expired early: %v", got)
	}
	got := r.Expire(now.Add(time.Minute))
	if len(got) != 1 || !got[0].Incomplete || got[0].Total != 2 || len(got[0].Missing) != 1 || got[0].Missing[0] != 1 {
		t.Fatalf("expired: %+v", got)
	}
	if got[0].Text != strings.Repeat("y", 148)+"z" {
		t.Fatalf("text %q", got[0].Text)
	}
	if r.Pending() != 0 {
		t.Fatal("still pending")
	}
}

func TestReassemblerEviction(t *testing.T) {
	r := &Reassembler{MaxPending: 3}
	c := &Codec{}
	for i := 0; i < 5; i++ {
		m, _ := c.Split(strings.Repeat(fmt.Sprint(i), 200), Auto, SplitUDH8)
		if _, ok, _ := r.Add(Part{Source: "s", Dest: "d", UDHI: true, Data: m.Segments[0].Data}); ok {
			t.Fatal("complete")
		}
	}
	if r.Pending() != 3 {
		t.Fatalf("pending %d", r.Pending())
	}
	ev := r.Expire(time.Time{})
	if len(ev) != 2 || ev[0].Text[0] != '0' || ev[1].Text[0] != '1' || !ev[0].Incomplete {
		t.Fatalf("evicted %+v", ev)
	}
	rb := &Reassembler{MaxBytes: 300}
	for i := 0; i < 3; i++ {
		m, _ := c.Split(strings.Repeat("q", 200), Auto, SplitUDH8)
		rb.Add(Part{Source: "s", Dest: "d", UDHI: true, Data: m.Segments[0].Data})
	}
	if rb.Pending() != 1 {
		t.Fatalf("byte bound: pending %d", rb.Pending())
	}
}

func TestReassemblerConcurrent(t *testing.T) {
	r := &Reassembler{}
	c := &Codec{}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for i := 0; i < 50; i++ {
				text := randomText(rng, 100+rng.IntN(400), true)
				m, err := c.Split(text, Auto, SplitUDH16)
				if err != nil {
					t.Error(err)
					return
				}
				got, ok := feed(t, r, m, fmt.Sprint(g), "d", rng)
				if !ok || got.Text != text {
					t.Errorf("goroutine %d: got %q want %q", g, got.Text, text)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	r.Expire(time.Now())
}

func TestReassemblerSingle(t *testing.T) {
	r := &Reassembler{Codec: &Codec{Packed: true}}
	m, ok, err := r.Add(Part{Data: unhex(t, "C8329BFD06")})
	if err != nil || !ok || m.Text != "Hello" || m.Total != 1 {
		t.Fatalf("%+v %v %v", m, ok, err)
	}
	if _, _, err := r.Add(Part{UDHI: true, Data: []byte{9, 0}}); err == nil {
		t.Fatal("bad UDH accepted")
	}
}

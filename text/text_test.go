package text

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPackVectors(t *testing.T) {
	tests := []struct {
		name, text, udh, want string
	}{
		{"Hello", "Hello", "", "C8329BFD06"},
		{"hellohello", "hellohello", "", "E8329BFD4697D9EC37"},
		{"7 spare bits get CR", "1234567", "", "31D98C56B3DD1A"},
		{"udh8 1 fill bit", "Hello", "050003CC0201", "906536FB0D"},
		{"udh16 no fill", "Hello", "0608041F400303", "C8329BFD06"},
		{"udh12 with ports", "Hello world", "0B05040B8423F000032A0201", "20CB6CF61B747FCBD964"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := (&Codec{}).Encode(tt.text, GSM7, SplitUDH8)
			if err != nil {
				t.Fatal(err)
			}
			udh := unhex(t, tt.udh)
			got := Pack(append([]byte(nil), udh...), e.Units, FillBits(len(udh)))
			want := unhex(t, tt.udh+tt.want)
			if !bytes.Equal(got, want) {
				t.Fatalf("Pack = %X, want %X", got, want)
			}
			back := Unpack(nil, got[len(udh):], FillBits(len(udh)), -1)
			if !bytes.Equal(back, e.Units) {
				t.Fatalf("Unpack = %X, want %X", back, e.Units)
			}
			if n := PackedLen(len(e.Units), FillBits(len(udh))); n != len(got)-len(udh) {
				t.Fatalf("PackedLen = %d, want %d", n, len(got)-len(udh))
			}
		})
	}
}

func TestFillBits(t *testing.T) {
	for udh, want := range map[int]int{0: 0, 6: 1, 7: 0, 4: 3, 12: 2, 10: 4} {
		if got := FillBits(udh); got != want {
			t.Errorf("FillBits(%d) = %d, want %d", udh, got, want)
		}
	}
}

func TestPackRoundTripAllLengths(t *testing.T) {
	for fill := 0; fill < 7; fill++ {
		for n := 1; n < 40; n++ {
			s := make([]byte, n)
			for i := range s {
				s[i] = byte(i*37+fill) & 0x7F
			}
			if s[n-1] == 0x0D {
				s[n-1] = 0x0C
			}
			p := Pack(nil, s, fill)
			if got := Unpack(nil, p, fill, -1); !bytes.Equal(got, s) {
				t.Fatalf("fill %d n %d: got %X want %X", fill, n, got, s)
			}
			if got := Unpack(nil, p, fill, n); !bytes.Equal(got, s) {
				t.Fatalf("explicit count fill %d n %d: got %X want %X", fill, n, got, s)
			}
		}
	}
}

// Every character of every table (main and extension, default and national)
// round-trips through the encoder and decoder of that table pair.
func TestAllTablesRoundTrip(t *testing.T) {
	for l := Language(0); l <= maxLang; l++ {
		for sh := Language(0); sh <= maxLang; sh++ {
			c := &Codec{}
			var rs []rune
			for i, r := range locking(l) {
				if i != esc {
					rs = append(rs, r)
				}
			}
			for _, r := range single(sh) {
				if r != 0 {
					rs = append(rs, r)
				}
			}
			for _, r := range rs {
				e := Encoded{Coding: GSM7, Locking: l, Single: sh}
				units, _, bad := c.appendEncoded(nil, string(r), &e)
				if len(bad) > 0 {
					t.Fatalf("lock %v single %v: %q not encodable", l, sh, r)
				}
				if got := DecodeGSM7(units, l, sh); got != string(r) {
					t.Fatalf("lock %v single %v: %q -> %X -> %q", l, sh, r, units, got)
				}
			}
		}
	}
	if n := len(rs0()); n != 127+10 {
		t.Fatalf("default alphabet + extension has %d characters, want 137", n)
	}
}

func rs0() map[rune]bool {
	m := map[rune]bool{}
	for i, r := range defaultAlphabet {
		if i != esc {
			m[r] = true
		}
	}
	for _, r := range singleTables[0] {
		if r != 0 {
			m[r] = true
		}
	}
	return m
}

func TestNationalTableSpotChecks(t *testing.T) {
	tests := []struct {
		lock, single Language
		text         string
		units        string
	}{
		{LangTurkish, 0, "ğışĞİŞç€", "0C071D0B401C6004"},
		{0, LangTurkish, "ğış", "1B671B691B73"},
		{0, LangSpanish, "áíóúÁç", "1B611B691B6F1B751B411B09"},
		{LangPortuguese, 0, "ãõçêÂ^\\|€", "7B7C0904" + "1C16171A" + "18"},
		{0, LangPortuguese, "ãõâÊ", "1B7B1B7C1B7F1B1F"},
	}
	for _, tt := range tests {
		e := Encoded{Coding: GSM7, Locking: tt.lock, Single: tt.single}
		units, _, bad := (&Codec{}).appendEncoded(nil, tt.text, &e)
		if len(bad) > 0 {
			t.Fatalf("%q: unencodable %v", tt.text, bad)
		}
		if got := strings.ToUpper(hex.EncodeToString(units)); got != tt.units {
			t.Errorf("%v/%v %q = %s, want %s", tt.lock, tt.single, tt.text, got, tt.units)
		}
	}
}

func TestChooseCoding(t *testing.T) {
	tests := []struct {
		name  string
		codec Codec
		text  string
		m     Method
		want  Coding
		dc    byte
		lock  Language
		sing  Language
		udh   string // of the single segment
	}{
		{"ascii", Codec{}, "Hello", SplitUDH8, GSM7, 0, 0, 0, ""},
		{"escapes", Codec{}, "€{}[]~^\\|", SplitUDH8, GSM7, 0, 0, 0, ""},
		{"cyrillic", Codec{}, "Привет", SplitUDH8, UCS2, 8, 0, 0, ""},
		{"emoji", Codec{}, "hi 😀", SplitUDH8, UCS2, 8, 0, 0, ""},
		{"turkish without tables", Codec{}, "şğ", SplitUDH8, UCS2, 8, 0, 0, ""},
		{"turkish single shift", Codec{Languages: []Language{LangTurkish}}, "aşğ", SplitUDH8, GSM7, 0, 0, LangTurkish, "03240101"},
		{"turkish locking", Codec{Languages: []Language{LangTurkish}}, "ŞşŞşĞğĞğıIİiŞşŞşĞğĞğıIİiŞşŞşĞğĞğıIİiŞşŞşĞğĞğıIİiŞşŞşĞğĞğıIİiŞşŞşĞğĞğıIİiŞşŞşĞğĞğıIİiŞşŞşĞğĞğıIİiŞşŞşĞğĞğıIİiŞşŞşĞğĞğıIİiŞşŞşĞğĞğıIİi", SplitUDH8, GSM7, 0, LangTurkish, 0, ""},
		{"spanish", Codec{Languages: []Language{LangSpanish}}, "canción", SplitUDH8, GSM7, 0, 0, LangSpanish, "03240102"},
		{"portuguese", Codec{Languages: []Language{LangPortuguese}}, "informação", SplitUDH8, GSM7, 0, 0, LangPortuguese, "03240103"},
		{"national not with SAR", Codec{Languages: []Language{LangTurkish}}, "aşğ", SplitSAR, UCS2, 8, 0, 0, ""},
		{"latin1 allowed", Codec{Latin1: true}, "ça ô", SplitUDH8, Latin1, 3, 0, 0, ""},
		{"latin1 not allowed", Codec{}, "ça ô", SplitUDH8, UCS2, 8, 0, 0, ""},
		{"latin1 link default", Codec{Default: Latin1}, "ça ô", SplitUDH8, Latin1, 0, 0, 0, ""},
		{"latin1 link, gsm text", Codec{Default: Latin1}, "Hello", SplitUDH8, Latin1, 0, 0, 0, ""},
		{"ascii link", Codec{Default: ASCII}, "Hello", SplitUDH8, ASCII, 0, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.codec.Split(tt.text, Auto, tt.m)
			if err != nil {
				t.Fatal(err)
			}
			if m.Coding != tt.want || m.DataCoding != tt.dc || m.Locking != tt.lock || m.Single != tt.sing {
				t.Fatalf("got %v dc %d lock %v single %v, want %v dc %d lock %v single %v",
					m.Coding, m.DataCoding, m.Locking, m.Single, tt.want, tt.dc, tt.lock, tt.sing)
			}
			if tt.udh != "" {
				if len(m.Segments) != 1 || !m.Segments[0].UDHI || !bytes.HasPrefix(m.Segments[0].Data, unhex(t, tt.udh)) {
					t.Fatalf("segments %+v, want one with UDH %s", m.Segments, tt.udh)
				}
			}
			d, err := tt.codec.Decode(m.Segments[0].Data, m.DataCoding, m.Segments[0].UDHI)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Segments) == 1 && d.Text != tt.text {
				t.Fatalf("decoded %q, want %q", d.Text, tt.text)
			}
		})
	}
}

func TestUnencodable(t *testing.T) {
	c := &Codec{}
	_, err := c.Encode("a😀b€ш", GSM7, SplitUDH8)
	var ee *EncodeError
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v, want *EncodeError", err)
	}
	want := []BadChar{{Index: 1, Offset: 1, Rune: '😀'}, {Index: 4, Offset: 9, Rune: 'ш'}}
	if len(ee.Chars) != len(want) || ee.Chars[0] != want[0] || ee.Chars[1] != want[1] {
		t.Fatalf("bad chars %+v, want %+v", ee.Chars, want)
	}
	if !strings.Contains(err.Error(), "'😀' at 1") {
		t.Errorf("message %q", err)
	}
	for _, cod := range []Coding{ASCII, Latin1, Cyrillic, Hebrew} {
		if _, err := c.Encode("😀", cod, SplitUDH8); !errors.As(err, &ee) {
			t.Errorf("%v: err = %v", cod, err)
		}
	}
	r := &Codec{Replacement: '?'}
	e, err := r.Encode("a😀b", GSM7, SplitUDH8)
	if err != nil || string(e.Units) != "a?b" {
		t.Fatalf("replacement: %q %v", e.Units, err)
	}
	// GSM7 on a link where 0 means Latin-1 has no data_coding.
	if _, err := (&Codec{Default: Latin1}).Encode("a", GSM7, SplitUDH8); !errors.Is(err, ErrNoDataCoding) {
		t.Fatalf("err = %v", err)
	}
}

func TestCapacities(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	u := func(n int) string { return strings.Repeat("ж", n) }
	tests := []struct {
		name     string
		text     string
		m        Method
		segs     int
		lens     []int // user data octets per segment excluding UDH (unpacked)
		left     int
		perSeg   int
		coding   Coding
		payload  bool
		udhBytes int
	}{
		{"160 gsm", a(160), SplitUDH8, 1, []int{160}, 0, 160, GSM7, false, 0},
		{"161 gsm", a(161), SplitUDH8, 2, []int{153, 8}, 145, 153, GSM7, false, 6},
		{"306 gsm", a(306), SplitUDH8, 2, []int{153, 153}, 0, 153, GSM7, false, 6},
		{"307 gsm", a(307), SplitUDH8, 3, []int{153, 153, 1}, 152, 153, GSM7, false, 6},
		{"161 gsm udh16", a(161), SplitUDH16, 2, []int{152, 9}, 143, 152, GSM7, false, 7},
		{"161 gsm sar", a(161), SplitSAR, 2, []int{153, 8}, 145, 153, GSM7, false, 0},
		{"escape counts 2", a(158) + "€", SplitUDH8, 1, []int{160}, 0, 160, GSM7, false, 0},
		{"escape overflows", a(159) + "€", SplitUDH8, 2, []int{153, 8}, 145, 153, GSM7, false, 6},
		{"escape not split", a(152) + "€" + a(10), SplitUDH8, 2, []int{152, 12}, 141, 153, GSM7, false, 6},
		{"70 ucs2", u(70), SplitUDH8, 1, []int{140}, 0, 70, UCS2, false, 0},
		{"71 ucs2", u(71), SplitUDH8, 2, []int{134, 8}, 63, 67, UCS2, false, 6},
		{"71 ucs2 udh16", u(71), SplitUDH16, 2, []int{132, 10}, 61, 66, UCS2, false, 7},
		{"surrogate not split", u(66) + "😀" + u(3), SplitUDH8, 2, []int{132, 10}, 62, 67, UCS2, false, 6},
		{"payload", a(500), SplitPayload, 1, []int{500}, 0, 0, GSM7, true, 0},
		{"payload fits short", a(100), SplitPayload, 1, []int{100}, 60, 160, GSM7, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Codec{Ref: func() uint16 { return 0x1F40 }}
			m, err := c.Split(tt.text, Auto, tt.m)
			if err != nil {
				t.Fatal(err)
			}
			if m.Coding != tt.coding || m.Payload != tt.payload || len(m.Segments) != tt.segs {
				t.Fatalf("coding %v payload %v segments %d", m.Coding, m.Payload, len(m.Segments))
			}
			for i, s := range m.Segments {
				h := 0
				if s.UDHI {
					h = int(s.Data[0]) + 1
				}
				if h != tt.udhBytes || len(s.Data)-h != tt.lens[i] {
					t.Fatalf("segment %d: udh %d data %d, want %d %d", i, h, len(s.Data)-h, tt.udhBytes, tt.lens[i])
				}
				if (tt.m == SplitSAR && tt.segs > 1) != (s.SAR != nil) {
					t.Fatalf("segment %d SAR %v", i, s.SAR)
				}
				if s.SAR != nil && (s.SAR.Ref != 0x1F40 || int(s.SAR.Total) != tt.segs || int(s.SAR.Seq) != i+1) {
					t.Fatalf("segment %d SAR %+v", i, *s.SAR)
				}
			}
			cnt, err := c.Count(tt.text, Auto, tt.m)
			if err != nil {
				t.Fatal(err)
			}
			if cnt.Segments != tt.segs || cnt.Left != tt.left || cnt.PerSegment != tt.perSeg || cnt.Payload != tt.payload {
				t.Fatalf("count %+v, want segments %d left %d per %d", cnt, tt.segs, tt.left, tt.perSeg)
			}
		})
	}
}

func TestUDHLayout(t *testing.T) {
	c := &Codec{Ref: func() uint16 { return 0x1F40 }}
	text := strings.Repeat("x", 400)
	m, _ := c.Split(text, GSM7, SplitUDH16)
	if got := hex.EncodeToString(m.Segments[2].Data[:7]); got != "0608041f400303" {
		t.Fatalf("udh16 part 3 = %s", got)
	}
	m, _ = c.Split(text, GSM7, SplitUDH8)
	if got := hex.EncodeToString(m.Segments[0].Data[:6]); got != "050003400301" {
		t.Fatalf("udh8 part 1 = %s", got)
	}
	// National tables add their IEs to every part and shrink capacity.
	tc := &Codec{Languages: []Language{LangTurkish}, Ref: func() uint16 { return 7 }}
	m, err := tc.Split(strings.Repeat("ş", 200), Auto, SplitUDH8)
	if err != nil {
		t.Fatal(err)
	}
	s0 := m.Segments[0].Data
	if got := hex.EncodeToString(s0[:9]); got != "080003070201250101" {
		t.Fatalf("udh = %s (lock %v single %v)", got, m.Locking, m.Single)
	}
	if n := len(s0) - 9; n != 160-11 {
		t.Fatalf("capacity with locking shift: %d septets", n)
	}
}

func TestRefsDiffer(t *testing.T) {
	c := &Codec{}
	text := strings.Repeat("x", 200)
	seen := map[uint16]bool{}
	for i := 0; i < 200; i++ {
		m, _ := c.Split(text, Auto, SplitUDH8)
		if seen[m.Ref] {
			t.Fatalf("reference %d reused after %d messages", m.Ref, i)
		}
		seen[m.Ref] = true
		if m.Segments[0].Data[3] != byte(m.Ref) || m.Segments[1].Data[3] != byte(m.Ref) {
			t.Fatal("parts carry different references")
		}
	}
}

func TestCodingOf(t *testing.T) {
	tests := map[byte]Coding{
		0: GSM7, 1: ASCII, 2: Binary, 3: Latin1, 4: Binary, 5: Unsupported, 6: Cyrillic, 7: Hebrew, 8: UCS2,
		9: Unsupported, 0x0E: Unsupported, 0x11: GSM7, 0x15: Binary, 0x18: UCS2, 0x38: Unsupported,
		0x80: Unsupported, 0xC0: GSM7, 0xD3: GSM7, 0xE8: UCS2, 0xF0: GSM7, 0xF1: GSM7, 0xF4: Binary, 0xF6: Binary,
	}
	for dc, want := range tests {
		if got := CodingOf(dc, Auto); got != want {
			t.Errorf("CodingOf(%#x) = %v, want %v", dc, got, want)
		}
	}
	if CodingOf(0, Latin1) != Latin1 || CodingOf(0, ASCII) != ASCII {
		t.Error("data_coding 0 not per link")
	}
}

func TestSingleOctetCharsets(t *testing.T) {
	c := &Codec{}
	for _, cod := range []Coding{ASCII, Latin1, Cyrillic, Hebrew} {
		dc, _ := DataCoding(cod, GSM7)
		for b := 0; b < 256; b++ {
			r, ok := runeFor(cod, byte(b))
			if !ok {
				continue
			}
			e, err := c.Encode(string(r), cod, SplitUDH8)
			if err != nil || len(e.Units) != 1 || e.Units[0] != byte(b) {
				t.Fatalf("%v %#x: %q -> %X %v", cod, b, r, e.Units, err)
			}
			d, err := c.Decode(e.Units, dc, false)
			if err != nil || d.Text != string(r) {
				t.Fatalf("%v %#x: decoded %q %v", cod, b, d.Text, err)
			}
		}
	}
	d, _ := c.Decode([]byte{0xB0, 0xF0, 0xFD}, 6, false)
	if d.Text != "А№§" {
		t.Errorf("ISO-8859-5: %q", d.Text)
	}
	d, _ = c.Decode([]byte{0xE0, 0xFA, 0xAA}, 7, false)
	if d.Text != "את×" {
		t.Errorf("ISO-8859-8: %q", d.Text)
	}
}

func TestDecodeUCS2(t *testing.T) {
	tests := map[string]string{
		"00480069":         "Hi",
		"D83DDE00":         "😀",
		"D83D0041":         "\uFFFDA",
		"DE00":             "\uFFFD",
		"0041D83D":         "A\uFFFD",
		"004100":           "A\uFFFD",
		"041F04400438":     "При",
		"D83CDDE9D83CDDEA": "🇩🇪",
	}
	for in, want := range tests {
		if got := DecodeUCS2(unhex(t, in)); got != want {
			t.Errorf("DecodeUCS2(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodeGSMOddities(t *testing.T) {
	// ESC + undefined position shows the main table character, lone ESC a space.
	if got := DecodeGSM7([]byte{0x1B, 0x41, 0x41, 0x1B}, 0, 0); got != "AA " {
		t.Errorf("got %q", got)
	}
	if got := DecodeGSM7([]byte{0x1B, 0x1B, 0x41}, 0, 0); got != " A" {
		t.Errorf("got %q", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	c := &Codec{}
	if _, err := c.Decode([]byte{0x05, 0x00, 0x03}, 0, true); !errors.Is(err, ErrBadUDH) {
		t.Errorf("short UDH: %v", err)
	}
	if _, err := c.Decode([]byte{0x03, 0x00, 0x05, 0x01}, 0, true); !errors.Is(err, ErrBadUDH) {
		t.Errorf("IE overruns UDH: %v", err)
	}
	if d, err := c.Decode([]byte{1, 2, 3}, 4, false); !errors.Is(err, ErrBinary) || len(d.Units) != 3 {
		t.Errorf("binary: %v", err)
	}
	if _, err := c.Decode([]byte{1, 2, 3}, 5, false); !errors.Is(err, ErrUnsupported) {
		t.Errorf("JIS: %v", err)
	}
	// Invalid concatenation IEs are ignored (TS 23.040).
	for _, h := range []string{"050003010000", "050003010300", "050003010203"} {
		u, err := ParseUDH(unhex(t, h))
		if err != nil || u.Concat.Total != 0 {
			t.Errorf("%s: %+v %v", h, u.Concat, err)
		}
	}
}

func TestCountInvalidUTF8(t *testing.T) {
	cnt, err := (&Codec{}).Count("a\xffb", Auto, SplitUDH8)
	if err != nil || cnt.Coding != UCS2 || cnt.Chars != 3 {
		t.Fatalf("%+v %v", cnt, err)
	}
	_ = utf8.RuneError
}

func TestBinary(t *testing.T) {
	data := string(bytes.Repeat([]byte{0x00, 0xFF, 0x80}, 50))
	c := &Codec{}
	m, err := c.Split(data, Binary, SplitUDH8)
	if err != nil || m.DataCoding != 4 || len(m.Segments) != 2 || len(m.Segments[0].Data) != 140 {
		t.Fatalf("%+v %v", m, err)
	}
	r := &Reassembler{}
	var got Reassembled
	for _, s := range m.Segments {
		got, _, _ = r.Add(Part{DataCoding: m.DataCoding, UDHI: s.UDHI, Data: s.Data})
	}
	if string(got.Units) != data || !errors.Is(got.Err, ErrBinary) {
		t.Fatalf("binary reassembly: %d octets, %v", len(got.Units), got.Err)
	}
}

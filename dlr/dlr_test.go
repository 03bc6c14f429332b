package dlr

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/smppkit/smpp/pdu"
)

func readTSV(t *testing.T, name string) [][]string {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.NewReplacer(`\r`, "\r", `\n`, "\n").Replace(line)
		rows = append(rows, strings.Split(line, "\t"))
	}
	return rows
}

func TestParseFixtures(t *testing.T) {
	rows := readTSV(t, "receipts.tsv")
	if len(rows) < 20 {
		t.Fatalf("only %d fixtures", len(rows))
	}
	for _, row := range rows {
		for len(row) < 8 {
			row = append(row, "")
		}
		name, raw, id, state, sub, done, errf, text := row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7]
		t.Run(name, func(t *testing.T) {
			r, err := Parse([]byte(raw), nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.ID != id || r.TextID != id || r.State.String() != state || r.Err != errf || r.Text != text || r.Raw != raw {
				t.Fatalf("got id %q state %v err %q text %q", r.ID, r.State, r.Err, r.Text)
			}
			checkDate(t, "submit", r.SubmitDate, sub)
			checkDate(t, "done", r.DoneDate, done)
		})
	}
}

func checkDate(t *testing.T, what string, got time.Time, want string) {
	t.Helper()
	if want == "-" {
		if !got.IsZero() {
			t.Fatalf("%s date %v, want none", what, got)
		}
		return
	}
	w, err := time.Parse(time.RFC3339, want)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(w) {
		t.Fatalf("%s date %v, want %v", what, got, w)
	}
}

func TestParseUnparsable(t *testing.T) {
	for _, row := range readTSV(t, "unparsable.tsv") {
		raw := ""
		if len(row) > 1 {
			raw = row[1]
		}
		_, err := Parse([]byte(raw), nil)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Raw != raw {
			t.Errorf("%s: err = %v", row[0], err)
		}
	}
}

func TestTLVPrecedence(t *testing.T) {
	var ts pdu.TLVs
	ts.SetString(pdu.TagReceiptedMessageID, "4D2")
	ts.SetUint8(pdu.TagMessageState, uint8(pdu.StateUndeliverable))
	ts.Set(pdu.TagNetworkErrorCode, []byte{3, 0x00, 0x22})
	r, err := Parse([]byte("id:1234 sub:001 dlvrd:001 submit date:2403151430 done date:2403151431 stat:DELIVRD err:000 text:x"), ts)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "4D2" || r.TextID != "1234" || r.State != pdu.StateUndeliverable || r.Stat != "DELIVRD" {
		t.Fatalf("%+v", r)
	}
	if r.NetworkError == nil || *r.NetworkError != (NetworkError{Type: 3, Code: 0x22}) {
		t.Fatalf("network error %+v", r.NetworkError)
	}
	// TLVs alone make a receipt even when the text is useless.
	r, err = Parse([]byte("delivered"), ts)
	if err != nil || r.ID != "4D2" || r.State != pdu.StateUndeliverable {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestBuildRoundTrip(t *testing.T) {
	sub := time.Date(2024, 3, 15, 14, 30, 0, 0, time.UTC)
	done := sub.Add(90 * time.Second)
	for st := pdu.StateScheduled; st <= pdu.StateSkipped; st++ {
		r := New("0A1B2C3D", sub, done, st, "Hello from the test, longer than twenty")
		r.NetworkError = &NetworkError{Type: 3, Code: 0x22}
		txt := r.Format()
		if st == pdu.StateDelivered {
			want := "id:0A1B2C3D sub:001 dlvrd:001 submit date:2403151430 done date:2403151431 stat:DELIVRD err:000 text:Hello from the test,"
			if txt != want {
				t.Fatalf("Format =\n%s\nwant\n%s", txt, want)
			}
		}
		tlvs := r.TLVs()
		if v, _ := tlvs.Get(pdu.TagReceiptedMessageID); string(v) != "0A1B2C3D\x00" {
			t.Fatalf("receipted_message_id %q", v)
		}
		if v, _ := tlvs.Get(pdu.TagNetworkErrorCode); string(v) != "\x03\x00\x22" {
			t.Fatalf("network_error_code % X", v)
		}
		// Text alone and text+TLVs agree.
		for _, ts := range []pdu.TLVs{nil, tlvs} {
			p, err := Parse([]byte(txt), ts)
			if err != nil {
				t.Fatal(err)
			}
			if p.ID != r.ID || p.State != st || !p.SubmitDate.Equal(sub) || !p.DoneDate.Equal(sub.Add(time.Minute)) ||
				p.Text != "Hello from the test," || p.Sub != 1 || p.Dlvrd != r.Dlvrd {
				t.Fatalf("state %v: parsed %+v", st, p)
			}
		}
	}
}

func TestStatMapping(t *testing.T) {
	std := map[string]pdu.MessageState{
		"DELIVRD": pdu.StateDelivered, "EXPIRED": pdu.StateExpired, "DELETED": pdu.StateDeleted,
		"UNDELIV": pdu.StateUndeliverable, "ACCEPTD": pdu.StateAccepted, "UNKNOWN": pdu.StateUnknown,
		"REJECTD": pdu.StateRejected, "ENROUTE": pdu.StateEnroute,
	}
	for w, st := range std {
		if got, ok := ParseStat(w); !ok || got != st {
			t.Errorf("ParseStat(%s) = %v %v", w, got, ok)
		}
		if StatWord(st) != w {
			t.Errorf("StatWord(%v) = %s, want %s", st, StatWord(st), w)
		}
	}
	nonStd := map[string]pdu.MessageState{
		"delivered": pdu.StateDelivered, "Undeliverable": pdu.StateUndeliverable, "FAILED": pdu.StateUndeliverable,
		"SCHEDULED": pdu.StateScheduled, "SKIPPED": pdu.StateSkipped, "REJECTED": pdu.StateRejected,
		"ACCEPTED": pdu.StateAccepted, "5": pdu.StateUndeliverable,
	}
	for w, st := range nonStd {
		if got, ok := ParseStat(w); !ok || got != st {
			t.Errorf("ParseStat(%s) = %v %v", w, got, ok)
		}
	}
	if st, ok := ParseStat("NOPE"); ok || st != pdu.StateUnknown {
		t.Error("unknown word accepted")
	}
	if st, ok := ParseStat(strings.Repeat("X", 40)); ok || st != pdu.StateUnknown {
		t.Error("long word accepted")
	}
	// Every state has a word that maps back.
	for st := pdu.StateScheduled; st <= pdu.StateSkipped; st++ {
		if got, ok := ParseStat(StatWord(st)); !ok || got != st {
			t.Errorf("%v -> %s -> %v", st, StatWord(st), got)
		}
	}
}

func TestParserLocation(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	p := Parser{Location: loc}
	r, err := p.Parse([]byte("id:1 submit date:2403151430 stat:DELIVRD"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 3, 15, 12, 30, 0, 0, time.UTC); !r.SubmitDate.Equal(want) {
		t.Fatalf("%v", r.SubmitDate)
	}
}

// FuzzParse parses arbitrary texts with arbitrary receipt TLVs (each of
// receipted_message_id, message_state and network_error_code present or not,
// with any value, well-formed or not) and checks what Parse promises: a
// failure is a *ParseError carrying the text; the TLVs take precedence over
// the text when they are well-formed and are ignored when not; and a parsed
// receipt survives a rebuild (Format and TLVs, parsed again) field by field,
// as far as the text form can carry it (dates to the minute, within
// 1970–2069; text to 20 characters).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"id:0000012345 sub:001 dlvrd:001 submit date:2403151430 done date:2403151431 stat:DELIVRD err:000 Text:Hello",
		"ID:1 STAT:5", "stat:EXPIRED id:777 err:027 done date:2403160000 submit date:20240315000000", "", "id:", "text:",
	} {
		f.Add([]byte(s), uint8(0), []byte(nil), []byte(nil), []byte(nil))
	}
	f.Add([]byte("id:12345 stat:DELIVRD err:000"), uint8(7), []byte{2}, []byte("3039\x00"), []byte{3, 0, 1})
	f.Add([]byte("stat:UNDELIV"), uint8(2), []byte{}, []byte("abc\x00"), []byte{3, 0})
	f.Add([]byte("id:9 sub:1000 dlvrd:000 submit date:21500101000000 stat:x"), uint8(5), []byte{1, 2}, []byte{0}, []byte{8, 1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte, have uint8, state, rid, nec []byte) {
		var ts pdu.TLVs
		if have&1 != 0 {
			ts.Add(pdu.TagMessageState, state)
		}
		if have&2 != 0 {
			ts.Add(pdu.TagReceiptedMessageID, rid)
		}
		if have&4 != 0 {
			ts.Add(pdu.TagNetworkErrorCode, nec)
		}
		r, err := Parse(data, ts)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Raw != string(data) {
				t.Fatalf("error %v", err)
			}
		}
		// The TLVs, when well-formed, win over the text, even in a partial
		// receipt returned with an error.
		wantID := r.TextID
		if have&2 != 0 {
			if id := strings.TrimSuffix(string(rid), "\x00"); id != "" {
				wantID = id
			}
		}
		if r.ID != wantID {
			t.Fatalf("ID = %q, want %q (text id %q, TLV %q)", r.ID, wantID, r.TextID, rid)
		}
		if have&1 != 0 && len(state) == 1 && r.State != pdu.MessageState(state[0]) {
			t.Fatalf("State = %v, message_state TLV says %d", r.State, state[0])
		}
		if have&4 != 0 && len(nec) == 3 {
			if ne := r.NetworkError; ne == nil || ne.Type != nec[0] || ne.Code != uint16(nec[1])<<8|uint16(nec[2]) {
				t.Fatalf("NetworkError = %+v, TLV % x", ne, nec)
			}
		} else if r.NetworkError != nil {
			t.Fatalf("NetworkError = %+v without a well-formed TLV (% x)", r.NetworkError, nec)
		}
		if err != nil {
			return
		}
		if r.ID == "" {
			t.Fatal("receipt without id")
		}
		// What we parsed must survive a rebuild when its values have no
		// separators (the text form cannot carry those).
		for _, v := range []string{r.ID, r.Stat, r.Err} {
			if strings.ContainsAny(v, " \t\r\n;,") {
				return
			}
		}
		text := r.Format()
		r2, err := Parse([]byte(text), r.TLVs())
		if err != nil {
			t.Fatalf("rebuilt %q: %v", text, err)
		}
		wantStat, wantErr := r.Stat, r.Err
		if wantStat == "" {
			wantStat = StatWord(r.State)
		}
		if wantErr == "" {
			wantErr = "000"
		}
		if r2.ID != r.ID || r2.TextID != r.ID || r2.State != r.State || r2.Sub != r.Sub || r2.Dlvrd != r.Dlvrd ||
			r2.Stat != wantStat || r2.Err != wantErr || r2.Text != first20(r.Text) {
			// plain drops Receipt's String method, to print the fields.
			type plain Receipt
			t.Fatalf("rebuilt %q:\n got %+v\nfrom %+v", text, plain(r2), plain(r))
		}
		if (r2.NetworkError == nil) != (r.NetworkError == nil) || r.NetworkError != nil && *r2.NetworkError != *r.NetworkError {
			t.Fatalf("rebuilt %q: NetworkError %+v, want %+v", text, r2.NetworkError, r.NetworkError)
		}
		for _, d := range [][2]time.Time{{r.SubmitDate, r2.SubmitDate}, {r.DoneDate, r2.DoneDate}} {
			if want := d[0].Truncate(time.Minute); d[0].IsZero() || want.Year() >= 1970 && want.Year() < 2070 {
				if !d[1].Equal(want) {
					t.Fatalf("rebuilt %q: date %v, want %v", text, d[1], want)
				}
			}
		}
	})
}

// first20 is what Format keeps of a receipt's text: its first 20 runes (an
// invalid byte counting as one).
func first20(s string) string {
	n := 0
	for i := range s {
		if n == 20 {
			return s[:i]
		}
		n++
	}
	return s
}

var benchReceipt = []byte("id:1A2B3C4D5E6F sub:001 dlvrd:001 submit date:2403151430 done date:2403151431 stat:DELIVRD err:000 text:Hello from the test")

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		r, err := Parse(benchReceipt, nil)
		if err != nil || r.State != pdu.StateDelivered {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormat(b *testing.B) {
	r := New("1A2B3C4D5E6F", time.Now(), time.Now(), pdu.StateDelivered, "Hello from the test")
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = r.AppendText(buf[:0])
	}
}

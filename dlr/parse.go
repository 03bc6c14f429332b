package dlr

import (
	"time"

	"github.com/smppkit/smpp/pdu"
)

// Parser parses receipts. The zero value reads dates as UTC.
type Parser struct {
	// Location is the time zone of the text's dates (MC local time);
	// nil means UTC.
	Location *time.Location
}

// Parse parses a receipt with the zero Parser: text is the short_message (or
// message_payload) of a deliver_sm/data_sm whose esm_class says receipt, and
// tlvs its TLVs (may be nil).
func Parse(text []byte, tlvs pdu.TLVs) (Receipt, error) {
	var p Parser
	return p.Parse(text, tlvs)
}

// Parse parses a receipt leniently: fields in any order, keys in any case
// ("Text:", "submit_date:"), dates of 10 (YYMMDDhhmm), 12 (…ss) or 14
// (YYYYMMDDhhmmss) digits, ids of any form, missing fields, unknown stat
// words (State UNKNOWN, Stat kept). The TLVs receipted_message_id,
// message_state and network_error_code take precedence over the text. A
// receipt that yields no message id or no state is a *ParseError; the
// partial Receipt is returned with it.
func (p *Parser) Parse(text []byte, tlvs pdu.TLVs) (Receipt, error) {
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	r := Receipt{Raw: string(text), State: pdu.StateUnknown}
	s := r.Raw
	for i := 0; i < len(s); {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == ',' {
			i++
			continue
		}
		f, vstart := matchKey(s, i)
		if f == FieldText {
			r.Text = s[vstart:]
			r.Fields |= FieldText
			break
		}
		end := vstart
		for end < len(s) && s[end] != ' ' && s[end] != '\t' && s[end] != '\r' && s[end] != '\n' {
			end++
		}
		v := s[vstart:end]
		i = end
		switch f {
		case FieldID:
			r.TextID = v
		case FieldSub:
			r.Sub = atoi(v)
		case FieldDlvrd:
			r.Dlvrd = atoi(v)
		case FieldSubmitDate:
			if r.SubmitDate = parseDate(v, loc); r.SubmitDate.IsZero() {
				f = 0
			}
		case FieldDoneDate:
			if r.DoneDate = parseDate(v, loc); r.DoneDate.IsZero() {
				f = 0
			}
		case FieldStat:
			r.Stat = v
			r.State, _ = ParseStat(v)
		case FieldErr:
			r.Err = v
		}
		r.Fields |= f
	}
	r.ID = r.TextID
	if id, ok := tlvs.String(pdu.TagReceiptedMessageID); ok && id != "" {
		r.ID = id
	}
	stateTLV := false
	if st, ok := tlvs.Uint8(pdu.TagMessageState); ok {
		r.State, stateTLV = pdu.MessageState(st), true
	}
	if v, ok := tlvs.Get(pdu.TagNetworkErrorCode); ok && len(v) == 3 {
		r.NetworkError = &NetworkError{Type: v[0], Code: uint16(v[1])<<8 | uint16(v[2])}
	}
	switch {
	case r.ID == "":
		return r, &ParseError{Raw: r.Raw, Reason: "no message id"}
	case r.Fields&FieldStat == 0 && !stateTLV:
		return r, &ParseError{Raw: r.Raw, Reason: "no stat"}
	}
	return r, nil
}

// matchKey matches a receipt key (case-insensitive) followed by ':' at s[i:].
// It returns the field (0 for an unknown token) and where the value starts.
// For an unknown token the value is the token itself.
func matchKey(s string, i int) (Field, int) {
	rest := s[i:]
	try := func(key string, f Field) (Field, int, bool) {
		if len(rest) > len(key) && rest[len(key)] == ':' && equalFold(rest[:len(key)], key) {
			return f, i + len(key) + 1, true
		}
		return 0, 0, false
	}
	var keys []struct {
		k string
		f Field
	}
	switch rest[0] | 0x20 {
	case 'i':
		keys = keysI
	case 's':
		keys = keysS
	case 'd':
		keys = keysD
	case 'e':
		keys = keysE
	case 't':
		keys = keysT
	}
	for _, k := range keys {
		if f, v, ok := try(k.k, k.f); ok {
			return f, v
		}
	}
	return 0, i
}

type keyDef = struct {
	k string
	f Field
}

var (
	keysI = []keyDef{{"id", FieldID}}
	keysS = []keyDef{{"sub", FieldSub}, {"submit date", FieldSubmitDate}, {"submit_date", FieldSubmitDate},
		{"submitdate", FieldSubmitDate}, {"stat", FieldStat}, {"status", FieldStat}}
	keysD = []keyDef{{"dlvrd", FieldDlvrd}, {"done date", FieldDoneDate}, {"done_date", FieldDoneDate},
		{"donedate", FieldDoneDate}, {"dlvd", FieldDlvrd}}
	keysE = []keyDef{{"err", FieldErr}, {"error", FieldErr}}
	keysT = []keyDef{{"text", FieldText}, {"txt", FieldText}}
)

// equalFold compares ASCII case-insensitively; b is lower case.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != b[i] {
			return false
		}
	}
	return true
}

func atoi(v string) int {
	n := 0
	for i := 0; i < len(v) && i < 9; i++ {
		c := v[i]
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// parseDate reads YYMMDDhhmm, YYMMDDhhmmss or YYYYMMDDhhmmss. Two-digit
// years 00–69 are 2000–2069, 70–99 are 1970–1999.
func parseDate(v string, loc *time.Location) time.Time {
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return time.Time{}
		}
	}
	d := func(i int) int { return int(v[i]-'0')*10 + int(v[i+1]-'0') }
	var y, o int
	switch len(v) {
	case 10, 12:
		y = d(0)
		if y < 70 {
			y += 2000
		} else {
			y += 1900
		}
	case 14:
		y, o = d(0)*100+d(2), 2
	default:
		return time.Time{}
	}
	mo, dd, hh, mm, ss := d(o+2), d(o+4), d(o+6), d(o+8), 0
	if len(v) > 10+o {
		ss = d(o + 10)
	}
	if mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mm > 59 || ss > 59 {
		return time.Time{}
	}
	return time.Date(y, time.Month(mo), dd, hh, mm, ss, 0, loc)
}

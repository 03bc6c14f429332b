package text

import (
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Coding is the alphabet a message is encoded in. It is what a data_coding
// value means, independent of the value itself (see CodingOf).
type Coding uint8

// Codings.
const (
	Auto        Coding = iota // choose the cheapest coding (Encode, Split, Count)
	GSM7                      // GSM 03.38 7-bit default alphabet, or a national table
	ASCII                     // IA5 / ASCII, data_coding 1
	Latin1                    // ISO-8859-1, data_coding 3
	UCS2                      // UCS-2 read as UTF-16BE, data_coding 8
	Binary                    // 8-bit data, data_coding 2 or 4
	Cyrillic                  // ISO-8859-5, data_coding 6
	Hebrew                    // ISO-8859-8, data_coding 7
	Unsupported               // a data_coding this package does not decode (JIS, KS C 5601, reserved…)
)

var codingNames = [...]string{"auto", "gsm7", "ascii", "latin1", "ucs2", "binary", "cyrillic", "hebrew", "unsupported"}

// String returns the coding's lower-case name, as ParseCoding accepts it.
func (c Coding) String() string {
	if int(c) < len(codingNames) {
		return codingNames[c]
	}
	return "coding(" + itoa(int(c)) + ")"
}

// ParseCoding returns the Coding named s (case-insensitive; "gsm", "gsm7",
// "ia5", "utf16" and "latin-1" are accepted too).
func ParseCoding(s string) (Coding, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return Auto, nil
	case "gsm", "gsm7", "gsm0338", "default":
		return GSM7, nil
	case "ascii", "ia5":
		return ASCII, nil
	case "latin1", "latin-1", "iso-8859-1", "iso88591":
		return Latin1, nil
	case "ucs2", "ucs-2", "utf16", "utf-16":
		return UCS2, nil
	case "binary", "8bit", "octet":
		return Binary, nil
	case "cyrillic", "iso-8859-5":
		return Cyrillic, nil
	case "hebrew", "iso-8859-8":
		return Hebrew, nil
	}
	return Auto, errors.New("text: unknown coding " + s)
}

// CodingOf returns the alphabet data_coding dc selects. dc0 is what the link
// means by data_coding 0 (Auto is taken as GSM7). Besides the SMPP values
// 0–14 it decodes the GSM data coding scheme groups of TS 23.038 §4:
// general data coding 0x10–0x7F (uncompressed only), MWI groups 0xC0–0xDF
// (GSM 7-bit) and 0xE0–0xEF (UCS-2), and message class 0xF0–0xFF (GSM 7-bit
// or 8-bit data by bit 2).
func CodingOf(dc byte, dc0 Coding) Coding {
	switch {
	case dc == 0:
		if dc0 == Auto {
			return GSM7
		}
		return dc0
	case dc == 1:
		return ASCII
	case dc == 2, dc == 4:
		return Binary
	case dc == 3:
		return Latin1
	case dc == 6:
		return Cyrillic
	case dc == 7:
		return Hebrew
	case dc == 8:
		return UCS2
	case dc < 0x10:
		return Unsupported
	case dc < 0x80: // general data coding groups 00xx / 01xx
		if dc&0x20 != 0 { // compressed
			return Unsupported
		}
		return alphabetBits(dc >> 2)
	case dc < 0xC0:
		return Unsupported
	case dc < 0xE0:
		return GSM7
	case dc < 0xF0:
		return UCS2
	default:
		if dc&0x04 != 0 {
			return Binary
		}
		return GSM7
	}
}

func alphabetBits(b byte) Coding {
	switch b & 3 {
	case 0:
		return GSM7
	case 1:
		return Binary
	case 2:
		return UCS2
	}
	return Unsupported
}

// ErrNoDataCoding is returned when a coding cannot be signalled on a link:
// GSM 7-bit needs data_coding 0 to mean GSM 7-bit.
var ErrNoDataCoding = errors.New("text: the link has no data_coding for this coding")

// DataCoding returns the data_coding value that selects coding c on a link
// where data_coding 0 means dc0 (Auto is taken as GSM7). The link default
// is always sent as 0; Binary is sent as 4 (the GSM 8-bit value).
func DataCoding(c, dc0 Coding) (byte, error) {
	if dc0 == Auto {
		dc0 = GSM7
	}
	if c == dc0 {
		return 0, nil
	}
	switch c {
	case ASCII:
		return 1, nil
	case Latin1:
		return 3, nil
	case UCS2:
		return 8, nil
	case Binary:
		return 4, nil
	case Cyrillic:
		return 6, nil
	case Hebrew:
		return 7, nil
	}
	return 0, ErrNoDataCoding
}

// BadChar is a character a coding cannot carry.
type BadChar struct {
	Index  int  // position in characters (runes) from the start of the text
	Offset int  // position in bytes of the UTF-8 text
	Rune   rune // the character
}

// EncodeError reports the characters a coding cannot carry.
type EncodeError struct {
	Coding Coding
	Chars  []BadChar
}

// Error lists the first few characters and their positions.
func (e *EncodeError) Error() string {
	var b strings.Builder
	b.WriteString("text: ")
	b.WriteString(e.Coding.String())
	b.WriteString(" cannot carry ")
	for i, c := range e.Chars {
		if i == 5 {
			b.WriteString(", …")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconvQuoteRune(c.Rune))
		b.WriteString(" at ")
		b.WriteString(itoa(c.Index))
	}
	return b.String()
}

func strconvQuoteRune(r rune) string {
	var b []byte
	b = append(b, '\'')
	if r >= 0x20 && r != 0x7F && utf8.ValidRune(r) {
		b = utf8.AppendRune(b, r)
	} else {
		const hex = "0123456789ABCDEF"
		b = append(b, 'U', '+')
		for s := 12; s >= 0; s -= 4 {
			b = append(b, hex[(r>>uint(s))&0xF])
		}
	}
	return string(append(b, '\''))
}

// Codec holds what a link (an SMPP connection to one SMSC) agrees about
// message text. The zero value is the common setting: data_coding 0 is the
// GSM 7-bit default alphabet, one septet per octet, no national tables,
// Latin-1 never chosen automatically, no replacement.
type Codec struct {
	// Default is what data_coding 0 means on this link: GSM7 (also for
	// Auto, the zero value), Latin1 or ASCII. SMSCs disagree.
	Default Coding
	// Packed puts GSM 7-bit text into short_message packed (8 septets in 7
	// octets, with UDH fill bits) instead of one septet per octet.
	Packed bool
	// Latin1 lets automatic choice use Latin-1 (data_coding 3) when the
	// GSM alphabet cannot carry the text.
	Latin1 bool
	// Languages lists the national language tables automatic choice (and
	// explicit GSM7) may use, signalled by the shift IEs 0x24/0x25 in a UDH.
	Languages []Language
	// Replacement, if not 0, replaces characters the chosen coding cannot
	// carry instead of failing. It must itself be encodable ('?' is).
	Replacement rune
	// Ref returns a fresh concatenation reference for each long message.
	// Nil uses NextRef.
	Ref func() uint16
}

func (c *Codec) dc0() Coding {
	if c == nil || c.Default == Auto {
		return GSM7
	}
	return c.Default
}

// Encoded is text encoded in one coding, before splitting.
type Encoded struct {
	Coding     Coding
	DataCoding byte
	// Locking and Single are the national tables used (GSM7 only).
	Locking, Single Language
	// Units is the encoded text: one septet per octet for GSM7 (an
	// extension character is ESC plus its septet), UTF-16BE for UCS2, one
	// octet per character otherwise.
	Units []byte
	// Chars is the number of characters (runes) in the text.
	Chars int
}

// UnitCount is the message length in the units capacities are given in:
// septets for GSM7, UTF-16 code units for UCS2, octets otherwise.
func (e *Encoded) UnitCount() int {
	if e.Coding == UCS2 {
		return len(e.Units) / 2
	}
	return len(e.Units)
}

// gsmLen returns the septet count of s with enc, or ok false.
func gsmLen(s string, enc *gsmEncoder) (n int, ok bool) {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < utf8.RuneSelf {
			v := enc.direct[b]
			if v == 0 {
				return 0, false
			}
			n += 1 + int(v>>9&1)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size - 1
		v := enc.lookup(r)
		if v == 0 {
			return 0, false
		}
		n += 1 + int(v>>9&1)
	}
	return n, true
}

// Encode encodes s in coding (Auto chooses the cheapest, see Split), for the
// split method m (which matters to automatic choice: national tables need a
// UDH, so SAR excludes them). Characters the coding cannot carry make an
// *EncodeError unless c.Replacement is set. Invalid UTF-8 counts as U+FFFD.
// Binary takes the octets of s as they are (Chars is then len(s)).
func (c *Codec) Encode(s string, coding Coding, m Method) (Encoded, error) {
	return c.encode(nil, s, coding, m)
}

func (c *Codec) encode(dst []byte, s string, coding Coding, m Method) (Encoded, error) {
	var zero Codec
	if c == nil {
		c = &zero
	}
	dc0 := c.dc0()
	e := Encoded{Coding: coding}
	if coding == Auto && dc0 == GSM7 {
		// Fast path: most text fits the default alphabet.
		units, chars, ok := appendGSM(dst, s, encoderFor(0, 0))
		if ok {
			e.Coding, e.Units, e.Chars = GSM7, units, chars
			return e, nil
		}
		dst = units[:len(dst)] // reuse the buffer

	}
	if coding == Auto {
		e.Coding, e.Locking, e.Single = c.choose(s, m)
	} else if coding == GSM7 {
		if _, ok := gsmLen(s, encoderFor(0, 0)); !ok {
			if cod, l, sh := c.chooseNational(s, m); cod == GSM7 {
				e.Locking, e.Single = l, sh
			}
		}
	}
	dc, err := DataCoding(e.Coding, dc0)
	if err != nil {
		return e, err
	}
	e.DataCoding = dc
	var bad []BadChar
	e.Units, e.Chars, bad = c.appendEncoded(dst, s, &e)
	if len(bad) > 0 {
		return e, &EncodeError{Coding: e.Coding, Chars: bad}
	}
	return e, nil
}

// appendGSM encodes s with enc, stopping at the first character enc
// cannot carry (ok false).
func appendGSM(dst []byte, s string, enc *gsmEncoder) (out []byte, chars int, ok bool) {
	if cap(dst)-len(dst) < len(s)+8 {
		nd := make([]byte, len(dst), len(dst)+2*len(s)+8) // room for UCS-2 if GSM fails
		copy(nd, dst)
		dst = nd
	}
	for i := 0; i < len(s); {
		var v uint16
		if b := s[i]; b < utf8.RuneSelf {
			v = enc.direct[b]
			i++
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			v = enc.lookup(r)
			i += size
		}
		switch {
		case v == 0:
			return dst, chars, false
		case v&encEscape != 0:
			dst = append(dst, esc, byte(v&0x7F))
		default:
			dst = append(dst, byte(v&0x7F))
		}
		chars++
	}
	return dst, chars, true
}

// appendEncoded encodes s per e's coding and tables.
func (c *Codec) appendEncoded(dst []byte, s string, e *Encoded) ([]byte, int, []BadChar) {
	var bad []BadChar
	chars := 0
	repl := c.Replacement
	if cap(dst)-len(dst) < len(s)*2 {
		n := len(s) + 8
		if e.Coding == UCS2 {
			n = 2*len(s) + 8
		}
		nd := make([]byte, len(dst), len(dst)+n)
		copy(nd, dst)
		dst = nd
	}
	if e.Coding == Binary {
		return append(dst, s...), len(s), nil
	}
	if e.Coding == UCS2 {
		for _, r := range s {
			dst = appendUCS2(dst, r)
			chars++
		}
		return dst, chars, nil
	}
	var enc *gsmEncoder
	if e.Coding == GSM7 {
		enc = encoderFor(e.Locking, e.Single)
	}
	for i := 0; i < len(s); {
		r := rune(s[i])
		size := 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		ok := true
		switch e.Coding {
		case GSM7:
			v := enc.lookup(r)
			if v == 0 && repl != 0 {
				v = enc.lookup(repl)
			}
			if v == 0 {
				ok = false
			} else if v&encEscape != 0 {
				dst = append(dst, esc, byte(v&0x7F))
			} else {
				dst = append(dst, byte(v&0x7F))
			}
		case UCS2:
			dst = appendUCS2(dst, r)
		default:
			b, good := octetFor(e.Coding, r)
			if !good && repl != 0 {
				b, good = octetFor(e.Coding, repl)
			}
			if good {
				dst = append(dst, b)
			} else {
				ok = false
			}
		}
		if !ok {
			bad = append(bad, BadChar{Index: chars, Offset: i, Rune: r})
		}
		chars++
		i += size
	}
	return dst, chars, bad
}

// choose picks the cheapest coding that carries s.
func (c *Codec) choose(s string, m Method) (Coding, Language, Language) {
	switch c.dc0() {
	case GSM7:
		if _, ok := gsmLen(s, encoderFor(0, 0)); ok {
			return GSM7, 0, 0
		}
		if cod, l, sh := c.chooseNational(s, m); cod == GSM7 {
			return cod, l, sh
		}
	case Latin1:
		if fits(s, Latin1) {
			return Latin1, 0, 0
		}
	case ASCII:
		if fits(s, ASCII) {
			return ASCII, 0, 0
		}
	}
	if c.Latin1 && fits(s, Latin1) {
		return Latin1, 0, 0
	}
	return UCS2, 0, 0
}

// chooseNational returns the national table pair that carries s in the
// fewest segments, then with the fewest shift IEs, then without a locking
// shift, then in the fewest septets; or Auto if none does.
func (c *Codec) chooseNational(s string, m Method) (Coding, Language, Language) {
	if len(c.Languages) == 0 || m == SplitSAR {
		return Auto, 0, 0
	}
	best, bl, bs, bestSegs, bestIEs, bestN := Auto, Language(0), Language(0), 0, 0, 0
	try := func(l, sh Language) {
		if l == 0 && sh == 0 {
			return
		}
		n, ok := gsmLen(s, encoderFor(l, sh))
		if !ok {
			return
		}
		ies := 0
		if l != 0 {
			ies++
		}
		if sh != 0 {
			ies++
		}
		segs := segmentsApprox(n, ies, m)
		// Prefer a single shift to a locking shift at equal cost: a phone
		// without the table garbles only the escaped characters.
		better := best == Auto || segs < bestSegs ||
			segs == bestSegs && (ies < bestIEs ||
				ies == bestIEs && (l == 0 && bl != 0 || (l == 0) == (bl == 0) && n < bestN))
		if better {
			best, bl, bs, bestSegs, bestIEs, bestN = GSM7, l, sh, segs, ies, n
		}
	}
	langs := append([]Language{0}, c.Languages...)
	for _, l := range langs {
		if l > maxLang || (l != 0 && !HasLockingShift(l)) {
			continue
		}
		for _, sh := range langs {
			if sh <= maxLang {
				try(l, sh)
			}
		}
	}
	return best, bl, bs
}

// segmentsApprox counts segments for n septets ignoring escape boundaries
// (good enough to rank table choices).
func segmentsApprox(n, ies int, m Method) int {
	single, multi := capacity(GSM7, 3*ies, m)
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}

func fits(s string, c Coding) bool {
	for _, r := range s {
		if _, ok := octetFor(c, r); !ok {
			return false
		}
	}
	return true
}

// DecodeGSM7 decodes unpacked septets (one per octet) with the given
// national tables (LangDefault for the default alphabet). An escape
// followed by a position the extension table leaves undefined shows the
// main table's character there, as TS 23.038 §6.2.1.1 asks; a lone
// trailing escape or ESC ESC shows as a space.
func DecodeGSM7(septets []byte, lock, shift Language) string {
	buf := make([]byte, 0, len(septets)+len(septets)/2)
	return string(appendGSM7(buf, septets, lock, shift))
}

func appendGSM7(dst, septets []byte, lock, shift Language) []byte {
	base, ext := locking(lock), single(shift)
	for i := 0; i < len(septets); i++ {
		s := septets[i] & 0x7F
		var r rune
		if s == esc {
			if i+1 >= len(septets) || septets[i+1]&0x7F == esc {
				r = ' '
				i++
			} else {
				i++
				s = septets[i] & 0x7F
				if r = ext[s]; r == 0 {
					r = base[s]
				}
			}
		} else {
			r = base[s]
		}
		if r < utf8.RuneSelf {
			dst = append(dst, byte(r))
		} else {
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}

// DecodeUCS2 decodes UTF-16BE (surrogate pairs allowed). Unpaired
// surrogates and a trailing odd octet become U+FFFD.
func DecodeUCS2(b []byte) string {
	buf := make([]byte, 0, len(b)+len(b)/2)
	return string(appendUCS2Decoded(buf, b))
}

func appendUCS2Decoded(dst, b []byte) []byte {
	for i := 0; i+1 < len(b); i += 2 {
		u := rune(b[i])<<8 | rune(b[i+1])
		if utf16.IsSurrogate(u) {
			if u < 0xDC00 && i+3 < len(b) {
				u2 := rune(b[i+2])<<8 | rune(b[i+3])
				if r := utf16.DecodeRune(u, u2); r != utf8.RuneError {
					dst = utf8.AppendRune(dst, r)
					i += 2
					continue
				}
			}
			u = utf8.RuneError
		}
		dst = utf8.AppendRune(dst, u)
	}
	if len(b)%2 == 1 {
		dst = utf8.AppendRune(dst, utf8.RuneError)
	}
	return dst
}

// decodeUnits decodes units of a coding (GSM7 unpacked septets).
func appendDecoded(dst []byte, units []byte, c Coding, lock, shift Language) ([]byte, error) {
	switch c {
	case GSM7:
		return appendGSM7(dst, units, lock, shift), nil
	case UCS2:
		return appendUCS2Decoded(dst, units), nil
	case ASCII, Latin1, Cyrillic, Hebrew:
		for _, b := range units {
			r, ok := runeFor(c, b)
			if !ok {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		}
		return dst, nil
	case Binary:
		return dst, ErrBinary
	}
	return dst, ErrUnsupported
}

// Errors from decoding.
var (
	ErrBinary      = errors.New("text: data_coding is 8-bit data, not text")
	ErrUnsupported = errors.New("text: unsupported data_coding")
	ErrBadUDH      = errors.New("text: malformed user data header")
)

// Decoded is incoming user data, decoded.
type Decoded struct {
	Text   string
	Coding Coding
	// UDH is the user data header (zero value when there is none).
	UDH UDH
	// Units is the user data after the UDH: unpacked septets for GSM7,
	// octets otherwise.
	Units []byte
}

// Decode decodes user data from short_message or message_payload with the
// given data_coding; udhi is esm_class bit 6 (0x40). GSM 7-bit text is read
// packed or unpacked as c.Packed says. For Binary and unsupported codings
// the returned error is ErrBinary / ErrUnsupported and Units holds the data.
func (c *Codec) Decode(data []byte, dc byte, udhi bool) (Decoded, error) {
	var zero Codec
	if c == nil {
		c = &zero
	}
	d := Decoded{Coding: CodingOf(dc, c.dc0())}
	body := data
	if udhi {
		u, err := ParseUDH(data)
		if err != nil {
			return d, err
		}
		d.UDH = u
		body = data[u.Len:]
	}
	if d.Coding == GSM7 && c.Packed {
		d.Units = Unpack(make([]byte, 0, len(data)*8/7+1), data[d.UDH.Len:], FillBits(d.UDH.Len), -1)
	} else {
		d.Units = body
	}
	buf, err := appendDecoded(make([]byte, 0, len(d.Units)+len(d.Units)/2), d.Units, d.Coding, d.UDH.Locking, d.UDH.Single)
	d.Text = string(buf)
	return d, err
}

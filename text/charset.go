package text

import "unicode/utf16"

// Single-octet character sets for data_coding 1 (IA5/ASCII), 3 (Latin-1),
// 6 (ISO-8859-5) and 7 (ISO-8859-8). Positions 0x00–0x9F are identical to
// Latin-1 in all of them.

// iso88595High maps 0xA0–0xFF of ISO-8859-5 (Latin/Cyrillic).
var iso88595High = func() (t [96]rune) {
	t[0] = 0xA0
	for i := 0xA1; i <= 0xAC; i++ {
		t[i-0xA0] = rune(0x0401 + i - 0xA1)
	}
	t[0xAD-0xA0] = 0xAD
	t[0xAE-0xA0], t[0xAF-0xA0] = 0x040E, 0x040F
	for i := 0xB0; i <= 0xEF; i++ {
		t[i-0xA0] = rune(0x0410 + i - 0xB0)
	}
	t[0xF0-0xA0] = 0x2116
	for i := 0xF1; i <= 0xFC; i++ {
		t[i-0xA0] = rune(0x0451 + i - 0xF1)
	}
	t[0xFD-0xA0] = 0xA7
	t[0xFE-0xA0], t[0xFF-0xA0] = 0x045E, 0x045F
	return t
}()

// iso88598High maps 0xA0–0xFF of ISO-8859-8 (Latin/Hebrew); 0 = undefined.
var iso88598High = func() (t [96]rune) {
	t[0] = 0xA0
	for i := 0xA2; i <= 0xBE; i++ {
		t[i-0xA0] = rune(i)
	}
	t[0xAA-0xA0], t[0xBA-0xA0] = 0xD7, 0xF7
	t[0xDF-0xA0] = 0x2017
	for i := 0xE0; i <= 0xFA; i++ {
		t[i-0xA0] = rune(0x05D0 + i - 0xE0)
	}
	t[0xFD-0xA0], t[0xFE-0xA0] = 0x200E, 0x200F
	return t
}()

func reverse(t *[96]rune) map[rune]byte {
	m := make(map[rune]byte, 96)
	for i, r := range t {
		if r != 0 {
			m[r] = byte(0xA0 + i)
		}
	}
	return m
}

var (
	iso88595Rev = reverse(&iso88595High)
	iso88598Rev = reverse(&iso88598High)
)

// octetFor returns the octet for r in a single-octet coding.
func octetFor(c Coding, r rune) (byte, bool) {
	switch c {
	case ASCII:
		return byte(r), r >= 0 && r < 0x80
	case Latin1:
		return byte(r), r >= 0 && r <= 0xFF
	case Cyrillic, Hebrew:
		if r >= 0 && r < 0xA0 {
			return byte(r), true
		}
		m := iso88595Rev
		if c == Hebrew {
			m = iso88598Rev
		}
		b, ok := m[r]
		return b, ok
	}
	return 0, false
}

// runeFor returns the character for octet b in a single-octet coding;
// ok is false for a position the coding leaves undefined.
func runeFor(c Coding, b byte) (rune, bool) {
	switch c {
	case ASCII:
		if b >= 0x80 {
			return 0, false
		}
		return rune(b), true
	case Cyrillic:
		if b < 0xA0 {
			return rune(b), true
		}
		return iso88595High[b-0xA0], true
	case Hebrew:
		if b < 0xA0 {
			return rune(b), true
		}
		r := iso88598High[b-0xA0]
		return r, r != 0
	}
	return rune(b), true // Latin-1
}

// appendUCS2 appends r as UTF-16BE (a surrogate pair outside the BMP).
func appendUCS2(dst []byte, r rune) []byte {
	if r >= 0x10000 {
		r1, r2 := utf16.EncodeRune(r)
		return append(dst, byte(r1>>8), byte(r1), byte(r2>>8), byte(r2))
	}
	return append(dst, byte(r>>8), byte(r))
}

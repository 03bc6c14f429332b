package main

import (
	"unicode/utf16"
	"unicode/utf8"
)

// messageText renders message octets as text for decode's output when the
// data_coding says how. It skips a user data header when esm_class has UDHI.
//
// TODO(text): use the text package's decoders once it lands, for GSM 7-bit
// with shift tables and the other ISO 8859 parts.
func messageText(dataCoding, esmClass uint8, b []byte) (string, bool) {
	if esmClass&0x40 != 0 {
		if len(b) == 0 || int(b[0])+1 > len(b) {
			return "", false
		}
		b = b[int(b[0])+1:]
	}
	switch dataCoding {
	case 0, 1:
		for _, c := range b {
			if c >= 0x80 || (c < 0x20 && c != '\n' && c != '\r') {
				return "", false
			}
		}
		return string(b), true
	case 3:
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r), true
	case 8:
		if len(b)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		}
		s := string(utf16.Decode(u))
		return s, utf8.ValidString(s)
	}
	return "", false
}

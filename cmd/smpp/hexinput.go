package main

import (
	"fmt"
	"strconv"
	"strings"
)

// parseHexInput reads the octets from what people paste: plain hex (white
// space, colons, commas, dashes and 0x prefixes allowed), a hex dump with
// offsets and an ASCII column (Wireshark's "Copy as Hex Dump", tshark -x,
// xxd, hexdump -C), or C arrays ("Copy as C Arrays": { 0x00, 0x2f, ... }).
// Errors say where: line and column, counted from 1.
func parseHexInput(src string) ([]byte, error) {
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	switch {
	case strings.Contains(src, "{"):
		return parseCArrays(lines)
	case isDump(lines):
		return parseDump(lines)
	}
	return parsePlainHex(lines)
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if _, ok := hexVal(s[i]); !ok {
			return false
		}
	}
	return s != ""
}

func where(line, col int) string { return fmt.Sprintf("line %d, column %d", line+1, col+1) }

func parsePlainHex(lines []string) ([]byte, error) {
	var out []byte
	var hi byte
	half := false
	for ln, l := range lines {
		for i := 0; i < len(l); i++ {
			c := l[i]
			switch c {
			case ' ', '\t', ':', ',', '-', ';':
				continue
			case '0':
				// A 0x prefix: only where a new group starts.
				if i+1 < len(l) && (l[i+1] == 'x' || l[i+1] == 'X') && !half && (i == 0 || !isHex(l[i-1:i])) {
					i++
					continue
				}
			}
			v, ok := hexVal(c)
			if !ok {
				return nil, fmt.Errorf("input is not hex: %s: %q is not a hex digit", where(ln, i), rune(c))
			}
			if half {
				out = append(out, hi<<4|v)
			} else {
				hi = v
			}
			half = !half
		}
	}
	if half {
		return nil, fmt.Errorf("odd number of hex digits (the last octet lacks a digit)")
	}
	return out, nil
}

// dumpOffset reads a hex dump's offset token ("0000", "00000010:").
func dumpOffset(tok string) (int, bool) {
	tok = strings.TrimSuffix(tok, ":")
	if len(tok) < 4 || len(tok) > 8 || !isHex(tok) {
		return 0, false
	}
	n, err := strconv.ParseUint(tok, 16, 32)
	return int(n), err == nil
}

// isDump says whether the first line with content is a hex dump line: an
// offset of 0 followed by octets (two hex digits, or four after "offset:"
// as xxd writes them).
func isDump(lines []string) bool {
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		off, ok := dumpOffset(f[0])
		if !ok || off != 0 || len(f) < 2 || !isHex(f[1]) {
			return false
		}
		return len(f[1]) == 2 || (strings.HasSuffix(f[0], ":") && len(f[1]) == 4)
	}
	return false
}

func parseDump(lines []string) ([]byte, error) {
	var out []byte
	start := 0 // where the current packet's offsets count from
	for ln, l := range lines {
		i := 0
		for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
			i++
		}
		if i == len(l) {
			continue
		}
		j := i
		for j < len(l) && l[j] != ' ' && l[j] != '\t' {
			j++
		}
		off, ok := dumpOffset(l[i:j])
		if !ok {
			if strings.HasSuffix(strings.TrimSpace(l), "):") { // tshark's "Reassembled TCP (47 bytes):"
				continue
			}
			return nil, fmt.Errorf("%s: %q is not a hex dump offset", where(ln, i), l[i:j])
		}
		switch {
		case off == len(out)-start:
		case off == 0: // the next packet
			start = len(out)
		default:
			return nil, fmt.Errorf("%s: offset 0x%x, but 0x%x octets before it (a line missing or cut?)", where(ln, i), off, len(out)-start)
		}
		// The octets: hex groups up to the ASCII column, which is set
		// apart by a wider gap (or is not hex at all).
		n := 0
		for k := j; k < len(l); {
			gap := k
			for k < len(l) && (l[k] == ' ' || l[k] == '\t') {
				k++
			}
			gap = k - gap
			if k == len(l) || (n > 0 && (gap >= 3 || gap == 2 && n%16 == 0)) {
				break
			}
			e := k
			for e < len(l) && l[e] != ' ' && l[e] != '\t' {
				e++
			}
			tok := l[k:e]
			if len(tok)%2 != 0 || len(tok) > 8 || !isHex(tok) {
				if n == 0 {
					return nil, fmt.Errorf("%s: %q is not a hex octet", where(ln, k), tok)
				}
				break // the ASCII column
			}
			for p := 0; p < len(tok); p += 2 {
				a, _ := hexVal(tok[p])
				b, _ := hexVal(tok[p+1])
				out = append(out, a<<4|b)
				n++
			}
			k = e
		}
	}
	return out, nil
}

// parseCArrays reads the octets between braces, 0x-prefixed (or decimal),
// skipping C comments, declarations and the semicolons between arrays.
func parseCArrays(lines []string) ([]byte, error) {
	var out []byte
	inBraces, inComment := false, false
	for ln, l := range lines {
		for i := 0; i < len(l); {
			switch {
			case inComment:
				if strings.HasPrefix(l[i:], "*/") {
					inComment = false
					i += 2
				} else {
					i++
				}
				continue
			case strings.HasPrefix(l[i:], "/*"):
				inComment = true
				i += 2
				continue
			case strings.HasPrefix(l[i:], "//"):
				i = len(l)
				continue
			}
			c := l[i]
			if !inBraces {
				if c == '{' {
					inBraces = true
				}
				i++
				continue
			}
			switch c {
			case '}':
				inBraces = false
				i++
				continue
			case ' ', '\t', ',':
				i++
				continue
			}
			e := i
			for e < len(l) && !strings.ContainsRune(" \t,}/", rune(l[e])) {
				e++
			}
			tok := l[i:e]
			v, err := strconv.ParseUint(tok, 0, 8)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not an octet (0x00 to 0xff)", where(ln, i), tok)
			}
			out = append(out, byte(v))
			i = e
		}
	}
	if inBraces {
		return nil, fmt.Errorf("line %d: the array has no closing '}'", len(lines))
	}
	return out, nil
}

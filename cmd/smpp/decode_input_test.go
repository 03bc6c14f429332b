package main

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// wiresharkDump formats b as Wireshark's "Copy as Hex Dump" and tshark -x
// do: a 4-digit offset, 16 octets, the ASCII column.
func wiresharkDump(b []byte, sep string) string {
	var sb strings.Builder
	for off := 0; off < len(b); off += 16 {
		line := b[off:min(off+16, len(b))]
		fmt.Fprintf(&sb, "%04x%s", off, sep)
		for i := 0; i < 16; i++ {
			if i < len(line) {
				fmt.Fprintf(&sb, "%02x ", line[i])
			} else {
				sb.WriteString("   ")
			}
		}
		sb.WriteString("  ")
		for _, c := range line {
			if c < 0x20 || c >= 0x7f {
				c = '.'
			}
			sb.WriteByte(c)
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// Fault 10: decode takes what people paste from Wireshark: a hex dump with
// offsets and an ASCII column, and a C array.
func TestDecodePastedFormats(t *testing.T) {
	b := gsmSubmit(t, "Hello 0123456789abcdef")
	b = append(b, 0, 0, 0, 0x10, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 7) // and an enquire_link
	want, errs, code := runCLI(t, "", "decode", "--json", hex.EncodeToString(b))
	if code != 0 {
		t.Fatal(errs)
	}
	var carr strings.Builder
	carr.WriteString("char peer0_0[] = { /* Packet 4 */\n")
	for i, c := range b {
		fmt.Fprintf(&carr, "0x%02x", c)
		if i < len(b)-1 {
			carr.WriteString(", ")
		}
		if i%8 == 7 {
			carr.WriteString("\n")
		}
	}
	carr.WriteString(" };\n")
	for name, in := range map[string]string{
		"wireshark": wiresharkDump(b, "   "),
		"tshark":    wiresharkDump(b, "  "),
		"c array":   carr.String(),
		"xxd":       xxdDump(b),
	} {
		out, errs, code := runCLI(t, in, "decode", "--json")
		if code != 0 || out != want {
			t.Errorf("%s: exit %d: %s\n%s\ninput:\n%s", name, code, errs, out, in)
		}
	}
}

func xxdDump(b []byte) string {
	var sb strings.Builder
	for off := 0; off < len(b); off += 16 {
		line := b[off:min(off+16, len(b))]
		fmt.Fprintf(&sb, "%08x: ", off)
		for i := 0; i < 16; i += 2 {
			switch {
			case i+1 < len(line):
				fmt.Fprintf(&sb, "%02x%02x ", line[i], line[i+1])
			case i < len(line):
				fmt.Fprintf(&sb, "%02x   ", line[i])
			default:
				sb.WriteString("     ")
			}
		}
		sb.WriteString(" ")
		for _, c := range line {
			if c < 0x20 || c >= 0x7f {
				c = '.'
			}
			sb.WriteByte(c)
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// Fault 10: an input problem is reported with its line and column.
func TestDecodeInputErrorsSayWhere(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"00000010 00000015\n00000000 0000zz07\n", "line 2, column 14"},
		{"0000   00 00 00 10 00 00 00 15 00 00 00 00 00 00 00 07   ................\n0020   00 00 00 10\n", "line 2, column 1"},
		{"char x[] = { 0x00, 0x00, 0x00, 0x10,\n 0x00, 0xq0 };", "line 2, column 8"},
		{"00000010 0000001", "odd number of hex digits"},
	} {
		_, errs, code := runCLI(t, c.in, "decode")
		if code != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d: %s (want %q)", c.in, code, errs, c.want)
		}
	}
}

// A PDU that does not decode is located in the input by its octets.
func TestDecodePDUErrorSaysWhere(t *testing.T) {
	_, errs, code := runCLI(t, "", "decode", "00000010 00000015 00000000 00000001", "00000011 00000015 00000000 00000002 ff")
	if code != 1 || !strings.Contains(errs, "(input octets 16-32)") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/text"
)

func init() {
	register(command{name: "decode", summary: "decode PDUs from hex (or raw octets) into readable text or JSON", run: runDecode})
	register(command{name: "encode", summary: "encode PDUs from JSON lines (as 'decode --json' prints) into hex", run: runEncode})
}

func runDecode(e env) int {
	fs := newFlags(e, "decode", `usage: smpp decode [flags] [HEX ...]

Decodes one PDU or a stream of PDUs and prints each readably (or as JSON).
The input, from the arguments or stdin, may be plain hex (spaces, colons,
commas, dashes and 0x prefixes allowed), a hex dump with offsets and an
ASCII column as Wireshark, tshark -x, xxd or hexdump -C print it, or a C
array ({ 0x00, 0x00, ... }) as Wireshark's "Copy as C Arrays" gives.
With --raw, stdin holds the octets themselves.`)
	asJSON := fs.Bool("json", false, "print one JSON object per PDU")
	raw := fs.Bool("raw", false, "read raw octets from stdin instead of hex")
	lenient := fs.Bool("lenient", false, "accept what sloppy peers send (over-long fields, odd times, ...)")
	dc0 := fs.String("dc0", "gsm7", "what data_coding 0 means for the text shown: gsm7, latin1 or ascii")
	packed := fs.Bool("packed", false, "GSM 7-bit text is packed (8 septets in 7 octets)")
	posArgs, code, ok := parseFlags(fs, e)
	if !ok {
		return code
	}
	codec := &text.Codec{Packed: *packed}
	var err error
	if codec.Default, err = text.ParseCoding(*dc0); err != nil {
		return usageError(e.stderr, "decode", "--dc0: %v", err)
	}
	var data []byte
	switch {
	case *raw:
		b, err := io.ReadAll(e.stdin)
		if err != nil {
			fmt.Fprintln(e.stderr, "smpp decode:", err)
			return 1
		}
		data = b
	default:
		src := strings.Join(posArgs, "\n")
		if len(posArgs) == 0 {
			b, err := io.ReadAll(e.stdin)
			if err != nil {
				fmt.Fprintln(e.stderr, "smpp decode:", err)
				return 1
			}
			src = string(b)
		}
		b, err := parseHexInput(src)
		if err != nil {
			fmt.Fprintln(e.stderr, "smpp decode:", err)
			return 1
		}
		data = b
	}
	if len(data) == 0 {
		fmt.Fprintln(e.stderr, "smpp decode: no input")
		return 1
	}
	opts := pdu.DecodeOptions{Lenient: *lenient}
	jsonOpts := pdu.JSONOptions{Text: textDecoder(codec)}
	out := bufio.NewWriter(e.stdout)
	defer out.Flush()
	r := pdu.NewReader(bytes.NewReader(data), 1<<24)
	at := 0 // where the PDU starts in the input octets
	for n := 1; ; n++ {
		b, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "smpp decode: PDU %d: %v (at input octet %d); cannot find the next PDU, stopping\n", n, err, at)
			return 1
		}
		start := at
		at += len(b)
		p, err := opts.Decode(b)
		if err != nil {
			out.Flush()
			fmt.Fprintf(e.stderr, "smpp decode: PDU %d: %v (input octets %d-%d)\n", n, err, start, at-1)
			code = 1
			continue
		}
		js, err := jsonOpts.Marshal(p)
		if err != nil {
			fmt.Fprintf(e.stderr, "smpp decode: PDU %d: %v\n", n, err)
			code = 1
			continue
		}
		if *asJSON {
			out.Write(js)
			out.WriteByte('\n')
		} else {
			writeReadable(out, js, len(b))
		}
	}
	return code
}

// writeReadable prints the JSON form for a person: the header on one line,
// then one field per line, in wire order.
func writeReadable(w io.Writer, js []byte, length int) {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var kv []struct {
		k string
		v any
	}
	dec.Token() // {
	for dec.More() {
		k, _ := dec.Token()
		var v any
		dec.Decode(&v)
		kv = append(kv, struct {
			k string
			v any
		}{k.(string), v})
	}
	get := func(k string) any {
		for _, e := range kv {
			if e.k == k {
				return e.v
			}
		}
		return nil
	}
	fmt.Fprintf(w, "%v (%v) seq=%v status=%v (%v) length=%d\n", get("command"), get("command_id"),
		get("sequence_number"), get("command_status_name"), get("command_status"), length)
	for _, e := range kv[5:] {
		writeField(w, "  ", e.k, e.v)
	}
	fmt.Fprintln(w)
}

func writeField(w io.Writer, indent, k string, v any) {
	switch v := v.(type) {
	case []any:
		if len(v) == 0 {
			return
		}
		fmt.Fprintf(w, "%s%s:\n", indent, k)
		for i, it := range v {
			m, _ := it.(map[string]any)
			if k == "tlvs" {
				name, _ := m["name"].(string)
				if name == "" {
					name = "(unknown)"
				}
				val := m["value"]
				if val == nil {
					val = "hex " + fmt.Sprint(m["hex"])
				} else if s, ok := val.(string); ok {
					val = fmt.Sprintf("%q", s)
				}
				fmt.Fprintf(w, "%s  %-28s %v", indent, fmt.Sprintf("%s %s", m["tag"], name), val)
				if t, ok := m["text"]; ok {
					fmt.Fprintf(w, "  %q", t)
				}
				fmt.Fprintln(w)
				continue
			}
			fmt.Fprintf(w, "%s  [%d]\n", indent, i)
			for _, kk := range sortedKeys(m) {
				writeField(w, indent+"    ", kk, m[kk])
			}
		}
	case string:
		fmt.Fprintf(w, "%s%-28s %q\n", indent, k, v)
	case json.Number:
		if n, err := strconv.ParseUint(v.String(), 10, 64); err == nil {
			if m := meaning(k, n); m != "" {
				fmt.Fprintf(w, "%s%-28s %v (%s)\n", indent, k, v, m)
				return
			}
		}
		fmt.Fprintf(w, "%s%-28s %v\n", indent, k, v)
	default:
		fmt.Fprintf(w, "%s%-28s %v\n", indent, k, v)
	}
}

func sortedKeys(m map[string]any) []string {
	// Entries of lists keep the spec's order for the few keys they have.
	order := []string{"dest_flag", "dest_addr_ton", "dest_addr_npi", "destination_addr", "dl_name", "error_status_code"}
	var out []string
	for _, k := range order {
		if _, ok := m[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

func runEncode(e env) int {
	fs := newFlags(e, "encode", `usage: smpp encode [JSON ...]

Reads PDUs as JSON objects (as 'smpp decode --json' prints them) from the
arguments or stdin and prints each as hex. A key the PDU does not have is an
error; "short_message_text" is encoded by the PDU's data_coding when
"short_message" is absent.`)
	posArgs, code, ok := parseFlags(fs, e)
	if !ok {
		return code
	}
	var in io.Reader = e.stdin
	if len(posArgs) > 0 {
		in = strings.NewReader(strings.Join(posArgs, "\n"))
	}
	jsonIn := pdu.JSONOptions{EncodeText: encodeText}
	dec := json.NewDecoder(in)
	out := bufio.NewWriter(e.stdout)
	defer out.Flush()
	for n := 1; ; n++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "smpp encode: object %d: %v\n", n, err)
			return 1
		}
		p, err := jsonIn.Unmarshal(raw)
		if err == nil {
			var b []byte
			if b, err = pdu.Marshal(p); err == nil {
				fmt.Fprintf(out, "%x\n", b)
				continue
			}
		}
		out.Flush()
		fmt.Fprintf(e.stderr, "smpp encode: object %d: %v\n", n, err)
		code = 1
	}
	return code
}

// encodeText encodes "short_message_text" by its data_coding (0 as GSM 7-bit,
// one septet per octet), for encode.
func encodeText(dc uint8, s string) ([]byte, error) {
	c := text.CodingOf(dc, text.GSM7)
	if c == text.Unsupported {
		return nil, fmt.Errorf("no text encoding for this data_coding; give short_message as hex")
	}
	enc, err := (*text.Codec)(nil).Encode(s, c, text.SplitUDH8)
	if err != nil {
		return nil, err
	}
	return enc.Units, nil
}

package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/smppkit/smpp/text"
)

func init() {
	register(command{name: "text", summary: "count, encode and split message text (SMS length calculator)", run: runText})
}

type textBadChar struct {
	Index  int    `json:"index"`
	Offset int    `json:"offset"`
	Char   string `json:"char"`
	Code   string `json:"code"`
}

type textReport struct {
	Coding      string        `json:"coding"`
	DataCoding  int           `json:"data_coding"`
	Locking     string        `json:"locking_shift,omitempty"`
	Single      string        `json:"single_shift,omitempty"`
	Split       string        `json:"split"`
	Payload     bool          `json:"message_payload,omitempty"`
	Chars       int           `json:"characters"`
	Units       int           `json:"units"`
	Unit        string        `json:"unit"`
	Segments    int           `json:"segments"`
	PerSegment  int           `json:"per_segment,omitempty"`
	Used        int           `json:"last_used"`
	Left        int           `json:"last_left"`
	Unencodable []textBadChar `json:"unencodable,omitempty"`
	Hex         []string      `json:"hex,omitempty"`
	Ref         *uint16       `json:"ref,omitempty"`
}

func runText(e env) int {
	fs := newFlags(e, "text", `usage: smpp text [flags] [TEXT ...]

Counts the segments TEXT (or standard input) takes as SMS, in the cheapest
coding or the one given. Exits 1 when the coding cannot carry the text.`)
	asJSON := fs.Bool("json", false, "print JSON")
	codingName := fs.String("coding", "auto", "coding: auto, gsm7, ucs2, latin1, ascii, cyrillic, hebrew")
	splitName := fs.String("split", "udh8", "long messages: udh8, udh16, sar or payload")
	showHex := fs.Bool("hex", false, "print each segment's octets, UDH included")
	packed := fs.Bool("packed", false, "pack GSM 7-bit septets (8 in 7 octets) for --hex")
	langs := fs.String("lang", "", "national language tables automatic choice may use: turkish,spanish,portuguese")
	latin1 := fs.Bool("latin1", false, "let automatic choice use Latin-1 (data_coding 3)")
	dc0 := fs.String("dc0", "gsm7", "what data_coding 0 means on the link: gsm7, latin1 or ascii")
	posArgs, code, ok := parseFlags(fs, e)
	if !ok {
		return code
	}
	coding, err := text.ParseCoding(*codingName)
	if err != nil {
		fmt.Fprintln(e.stderr, "smpp text:", err)
		return 2
	}
	method, err := text.ParseMethod(*splitName)
	if err != nil {
		fmt.Fprintln(e.stderr, "smpp text:", err)
		return 2
	}
	c := &text.Codec{Packed: *packed, Latin1: *latin1}
	if c.Default, err = text.ParseCoding(*dc0); err != nil {
		fmt.Fprintln(e.stderr, "smpp text:", err)
		return 2
	}
	if *langs != "" {
		for _, l := range strings.Split(*langs, ",") {
			switch strings.ToLower(strings.TrimSpace(l)) {
			case "turkish", "tr":
				c.Languages = append(c.Languages, text.LangTurkish)
			case "spanish", "es":
				c.Languages = append(c.Languages, text.LangSpanish)
			case "portuguese", "pt":
				c.Languages = append(c.Languages, text.LangPortuguese)
			default:
				fmt.Fprintf(e.stderr, "smpp text: unknown language %q\n", l)
				return 2
			}
		}
	}
	var msg string
	if len(posArgs) > 0 {
		msg = strings.Join(posArgs, " ")
	} else {
		b, err := io.ReadAll(e.stdin)
		if err != nil {
			fmt.Fprintln(e.stderr, "smpp text:", err)
			return 1
		}
		msg = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	}

	cnt, err := c.Count(msg, coding, method)
	var encErr *text.EncodeError
	if err != nil && !errors.As(err, &encErr) {
		fmt.Fprintln(e.stderr, "smpp text:", err)
		return 1
	}
	rep := textReport{Coding: cnt.Coding.String(), DataCoding: int(cnt.DataCoding), Split: method.String(),
		Payload: cnt.Payload, Chars: cnt.Chars, Units: cnt.Units, Segments: cnt.Segments, PerSegment: cnt.PerSegment,
		Left: cnt.Left, Used: cnt.PerSegment - cnt.Left}
	switch cnt.Coding {
	case text.GSM7:
		rep.Unit = "septets"
	case text.UCS2:
		rep.Unit = "UCS-2 units"
	default:
		rep.Unit = "octets"
	}
	if cnt.Payload {
		rep.Used, rep.Left = cnt.Units, 0
	}
	if cnt.Locking != 0 {
		rep.Locking = cnt.Locking.String()
	}
	if cnt.Single != 0 {
		rep.Single = cnt.Single.String()
	}
	for _, b := range cnt.Unencodable {
		rep.Unencodable = append(rep.Unencodable, textBadChar{Index: b.Index, Offset: b.Offset, Char: string(b.Rune), Code: fmt.Sprintf("U+%04X", b.Rune)})
	}
	if *showHex && encErr == nil {
		m, err := c.Split(msg, coding, method)
		if err != nil {
			fmt.Fprintln(e.stderr, "smpp text:", err)
			return 1
		}
		for _, s := range m.Segments {
			rep.Hex = append(rep.Hex, strings.ToUpper(hex.EncodeToString(s.Data)))
		}
		if len(m.Segments) > 1 {
			ref := m.Ref
			rep.Ref = &ref
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		printTextReport(e.stdout, &rep)
	}
	if encErr != nil {
		if !*asJSON {
			fmt.Fprintln(e.stderr, "smpp text:", encErr)
		}
		return 1
	}
	return 0
}

func printTextReport(w io.Writer, r *textReport) {
	fmt.Fprintf(w, "coding:       %s (data_coding %d, 0x%02X)\n", r.Coding, r.DataCoding, r.DataCoding)
	if r.Locking != "" || r.Single != "" {
		fmt.Fprintf(w, "national:     locking shift %s, single shift %s\n", orDash(r.Locking), orDash(r.Single))
	}
	fmt.Fprintf(w, "characters:   %d (%d %s)\n", r.Chars, r.Units, r.Unit)
	switch {
	case r.Payload:
		fmt.Fprintf(w, "segments:     1 (message_payload)\n")
	case r.Segments == 1:
		fmt.Fprintf(w, "segments:     1 (up to %d %s)\n", r.PerSegment, r.Unit)
	default:
		fmt.Fprintf(w, "segments:     %d (%s, %d %s each)\n", r.Segments, r.Split, r.PerSegment, r.Unit)
	}
	if !r.Payload {
		fmt.Fprintf(w, "last segment: %d used, %d left\n", r.Used, r.Left)
	}
	for _, b := range r.Unencodable {
		fmt.Fprintf(w, "cannot carry: %q (%s) at character %d\n", b.Char, b.Code, b.Index)
	}
	if r.Ref != nil {
		fmt.Fprintf(w, "reference:    %d\n", *r.Ref)
	}
	for i, h := range r.Hex {
		fmt.Fprintf(w, "segment %d:    %s\n", i+1, h)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

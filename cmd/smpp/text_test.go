package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func runTextCmd(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(env{args: append([]string{"text"}, args...), stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb})
	return out.String(), errb.String(), code
}

func TestTextCommand(t *testing.T) {
	out, _, code := runTextCmd(t, "", "--hex", "--packed", "Hello")
	if code != 0 || !strings.Contains(out, "gsm7 (data_coding 0") || !strings.Contains(out, "segment 1:    C8329BFD06") ||
		!strings.Contains(out, "155 left") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	out, _, code = runTextCmd(t, strings.Repeat("é", 161)+"\n", "--json", "--split", "udh16", "--hex")
	if code != 0 {
		t.Fatal(code)
	}
	var rep textReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err, out)
	}
	if rep.Coding != "gsm7" || rep.Segments != 2 || rep.PerSegment != 152 || rep.Left != 143 || len(rep.Hex) != 2 ||
		!strings.HasPrefix(rep.Hex[1], "060804") {
		t.Fatalf("%+v", rep)
	}
	out, _, code = runTextCmd(t, "", "Привет 😀")
	if code != 0 || !strings.Contains(out, "ucs2 (data_coding 8") || !strings.Contains(out, "9 UCS-2 units") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestTextCommandUnencodable(t *testing.T) {
	out, errOut, code := runTextCmd(t, "", "--coding", "gsm7", "a😀b")
	if code != 1 || !strings.Contains(out, `cannot carry: "😀" (U+1F600) at character 1`) || errOut == "" {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errOut)
	}
	out, _, code = runTextCmd(t, "", "--json", "--coding", "latin1", "ш")
	if code != 1 || !strings.Contains(out, `"code": "U+0448"`) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if _, _, code := runTextCmd(t, "", "--coding", "klingon", "x"); code != 2 {
		t.Fatalf("bad flag exit %d", code)
	}
}

func TestTextCommandNational(t *testing.T) {
	out, _, code := runTextCmd(t, "", "--lang", "turkish", "--hex", "Günaydın şeker")
	if code != 0 || !strings.Contains(out, "single shift Turkish") || !strings.Contains(out, "segment 1:    03240101") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

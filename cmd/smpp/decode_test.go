package main

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"
)

func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(env{args: args, stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb})
	return out.String(), errb.String(), code
}

// nodeVectors returns the hex of every PDU node-smpp produced for the codec tests.
func nodeVectors(t *testing.T) []string {
	f, err := os.Open("../../pdu/testdata/nodesmpp/vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var hexes []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		hexes = append(hexes, strings.Fields(line)[1])
	}
	return hexes
}

func TestDecodeEncodeReproducesInput(t *testing.T) {
	hexes := nodeVectors(t)
	stream := strings.Join(hexes, "\n")
	js, errs, code := runCLI(t, stream, "decode", "--json")
	if code != 0 {
		t.Fatalf("decode exit %d: %s", code, errs)
	}
	if n := strings.Count(js, "\n"); n != len(hexes) {
		t.Fatalf("%d JSON lines for %d PDUs", n, len(hexes))
	}
	out, errs, code := runCLI(t, js, "encode")
	if code != 0 {
		t.Fatalf("encode exit %d: %s", code, errs)
	}
	got := strings.Fields(out)
	for i := range hexes {
		if got[i] != hexes[i] {
			t.Fatalf("PDU %d:\n got %s\nwant %s", i, got[i], hexes[i])
		}
	}
}

func TestDecodeReadableAndFormats(t *testing.T) {
	// Colons, spaces and a 0x prefix are all fine; two PDUs in one argument.
	out, errs, code := runCLI(t, "", "decode", "0x00:00:00:10 00000015 00000000 00000007", "00000010800000150000000000000007")
	if code != 0 {
		t.Fatal(errs)
	}
	if !strings.Contains(out, "enquire_link (0x00000015) seq=7 status=ESME_ROK") || !strings.Contains(out, "enquire_link_resp") {
		t.Fatalf("output:\n%s", out)
	}
	// Raw octets on stdin.
	raw := string([]byte{0, 0, 0, 0x10, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 3})
	out, _, code = runCLI(t, raw, "decode", "--raw", "--json")
	if code != 0 || !strings.Contains(out, `"command":"unbind"`) {
		t.Fatalf("raw: %d %s", code, out)
	}
}

func TestDecodeBadPDUThenGoodOne(t *testing.T) {
	bad := "00000011 00000015 00000000 00000001 ff"  // enquire_link with a stray octet
	unknown := "00000010 00000099 00000000 00000002" // unknown command id
	good := "00000010 00000015 00000000 00000003"
	out, errs, code := runCLI(t, "", "decode", "--json", bad, unknown, good)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(errs, "PDU 1:") || !strings.Contains(errs, "ESME_RINVTLVSTREAM") ||
		!strings.Contains(errs, "PDU 2:") || !strings.Contains(errs, "ESME_RINVCMDID") {
		t.Fatalf("stderr: %s", errs)
	}
	if !strings.Contains(out, `"sequence_number":3`) {
		t.Fatalf("the good PDU after the bad ones was not decoded: %s", out)
	}
	// Not hex at all.
	if _, errs, code := runCLI(t, "", "decode", "zz"); code != 1 || !strings.Contains(errs, "not hex") {
		t.Fatalf("%d %s", code, errs)
	}
	// A length that cannot be framed stops the stream with a message.
	if _, errs, code := runCLI(t, "", "decode", "00000005 00000015 00000000 00000001"); code != 1 || !strings.Contains(errs, "command_length") {
		t.Fatalf("%d %s", code, errs)
	}
}

func TestEncodeErrors(t *testing.T) {
	in := `{"command":"submit_sm","sequence_number":1,"source_addr":"this source address is far too long"}
{"command":"no_such_thing"}
{"command":"enquire_link","sequence_number":4}`
	out, errs, code := runCLI(t, in, "encode")
	if code != 1 || !strings.Contains(errs, "ESME_RINVSRCADR") || !strings.Contains(errs, "unknown command") {
		t.Fatalf("%d %s", code, errs)
	}
	if strings.TrimSpace(out) != "00000010000000150000000000000004" {
		t.Fatalf("out %q", out)
	}
}

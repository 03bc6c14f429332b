package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// Fault 7: flags after the text are flags, not text; "--" makes the rest
// text.
func TestSendFlagsAfterText(t *testing.T) {
	m := (&testSMSC{}).start(t)
	_, errs, code := runCLI(t, "", "send", "--url", m.url("u"), "hello", "world", "--to", "+491761234567", "--from", "Shop")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	_, errs, code = runCLI(t, "", "send", "--url", m.url("u"), "--to", "1", "--", "--not a flag")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	got := m.submits()
	if len(got) != 2 || string(got[0].ShortMessage) != "hello world" || got[0].DestinationAddr != "491761234567" ||
		got[0].SourceAddr != "Shop" || string(got[1].ShortMessage) != "--not a flag" {
		t.Fatalf("sent %+v", got)
	}
}

// Fault 7: TON/NPI are guessed conservatively ('+' or 00 is international,
// other digits unknown, an empty source left to the SMSC) and can be set.
func TestSendTONNPI(t *testing.T) {
	m := (&testSMSC{}).start(t)
	type ton struct {
		src, dst                       string
		srcTON, srcNPI, dstTON, dstNPI uint8
	}
	cases := []struct {
		args []string
		want ton
	}{
		{[]string{"--to", "01761234567"}, ton{"", "01761234567", 0, 0, 0, 1}},
		{[]string{"--to", "00491761234567", "--from", "Shop"}, ton{"Shop", "491761234567", 5, 0, 1, 1}},
		{[]string{"--to", "+491761234567", "--from", "12345"}, ton{"12345", "491761234567", 0, 1, 1, 1}},
		{[]string{"--to", "01761234567", "--to-ton", "national", "--to-npi", "isdn", "--from", "4711", "--from-ton", "3", "--from-npi", "0"},
			ton{"4711", "01761234567", 3, 0, 2, 1}},
		{[]string{"--to", "+491761234567", "--to-ton", "unknown"}, ton{"", "+491761234567", 0, 0, 0, 1}},
	}
	for i, c := range cases {
		args := append([]string{"send", "--url", m.url("u")}, c.args...)
		if _, errs, code := runCLI(t, "", append(args, "hi")...); code != 0 {
			t.Fatalf("case %d: exit %d: %s", i, code, errs)
		}
		got := m.submits()
		if len(got) != i+1 {
			t.Fatalf("case %d: %d submits", i, len(got))
		}
		p := got[i]
		have := ton{p.SourceAddr, p.DestinationAddr, p.SourceAddrTON, p.SourceAddrNPI, p.DestAddrTON, p.DestAddrNPI}
		if have != c.want {
			t.Errorf("case %d %v:\n got %+v\nwant %+v", i, c.args, have, c.want)
		}
	}
	if _, _, code := runCLI(t, "", "send", "--url", m.url("u"), "--to", "1", "--to-ton", "sideways", "hi"); code != 2 {
		t.Fatalf("bad --to-ton: exit %d", code)
	}
}

func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var vs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		vs = append(vs, v)
	}
	return vs
}

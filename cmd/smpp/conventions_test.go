package main

import (
	"strings"
	"testing"
)

// Every command answers --help (and -h) on stdout with exit 0, and lists each
// of its flags with a line of explanation.
func TestHelpExitsZeroAndListsFlags(t *testing.T) {
	for name := range commands {
		for _, h := range []string{"--help", "-h"} {
			out, errs, code := runCLI(t, "", name, h)
			if code != 0 {
				t.Errorf("smpp %s %s: exit %d: %s", name, h, code, errs)
			}
			if !strings.HasPrefix(out, "usage: smpp "+name) {
				t.Errorf("smpp %s %s: help does not start with its usage line:\n%s", name, h, out)
			}
		}
	}
	out, _, _ := runCLI(t, "", "send", "--help")
	for _, f := range []string{"-url", "-from", "-to", "-dlr", "-wait", "-trace", "-from-ton", "-to-npi"} {
		if !strings.Contains(out, "  "+f+" ") && !strings.Contains(out, "  "+f+"\n") {
			t.Errorf("send --help does not list %s:\n%s", f, out)
		}
	}
	if _, _, code := runCLI(t, "", "--help"); code != 0 {
		t.Errorf("smpp --help: exit %d", code)
	}
}

// Usage errors (unknown flags, missing required ones, bad values) exit 2.
func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nosuchcommand"},
		{"decode", "--nosuchflag"},
		{"encode", "--nosuchflag"},
		{"send", "hi"}, // no --url, --to
		{"send", "--url", "smpp://a:b@x:1", "hi"}, // no --to
		{"listen"}, // no --url
		{"bench"},  // no --url
		{"bench", "--url", "smpp://a:b@x:1", "--conns", "0"},
		{"text", "--coding", "klingon", "x"},
	} {
		if _, _, code := runCLI(t, "", args...); code != 2 {
			t.Errorf("smpp %s: exit %d, want 2", strings.Join(args, " "), code)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, a := range []string{"--version", "version"} {
		out, errs, code := runCLI(t, "", a)
		if code != 0 || !strings.HasPrefix(out, "smpp ") {
			t.Fatalf("smpp %s: exit %d: %q %q", a, code, out, errs)
		}
	}
}

// --trace shows bind PDUs with the password masked.
func TestTraceMasksPassword(t *testing.T) {
	m := (&testSMSC{}).start(t)
	_, errs, code := runCLI(t, "", "send", "--url", m.url("u"), "--to", "1", "--trace", "hi")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if strings.Contains(errs, "secret") || !strings.Contains(errs, `"password":"***"`) {
		t.Fatalf("trace shows the password (or no bind):\n%s", errs)
	}
	if !strings.Contains(errs, `-> {"command":"bind_transceiver"`) {
		t.Fatalf("no bind in the trace:\n%s", errs)
	}
}

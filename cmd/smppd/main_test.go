package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runSmppd(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, env, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestHelpListsFlags(t *testing.T) {
	code, _, errs := runSmppd(t, nil, "--help")
	if code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, f := range []string{"-smpp-addr", "-smpps-addr", "-http-addr", "-data-dir", "-config"} {
		if !strings.Contains(errs, f) {
			t.Errorf("--help does not list %s:\n%s", f, errs)
		}
	}
	if code, _, _ := runSmppd(t, nil, "--no-such-flag"); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
}

func TestBadConfigStopsTheStart(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("smpp:\n  bind_adress: 127.0.0.1:2775\nstore:\n  durability: sometimes\n"), 0o600)
	for name, tc := range map[string]struct {
		env  []string
		args []string
		want []string
	}{
		"unknown key and bad value": {nil, []string{"--config", bad}, []string{`"smpp.bind_adress"`, "store.durability", "sometimes"}},
		"missing file":              {nil, []string{"--config", filepath.Join(dir, "none.yaml")}, []string{"none.yaml"}},
		"bad env":                   {[]string{"SMPP__BIND_ADDRESS=localhost"}, nil, []string{"SMPP__BIND_ADDRESS", "localhost"}},
		"open without accounts": {nil, []string{"--smpp-addr", "0.0.0.0:2775", "--data-dir", dir},
			[]string{"0.0.0.0:2775", "accounts"}},
	} {
		code, _, errs := runSmppd(t, tc.env, tc.args...)
		if code != 1 {
			t.Errorf("%s: exit %d, want 1\n%s", name, code, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%s: message does not name %q:\n%s", name, w, errs)
			}
		}
	}
}

func TestHashPassword(t *testing.T) {
	r, w, _ := os.Pipe()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old }()
	w.WriteString("s3cret\n")
	w.Close()
	code, out, errs := runSmppd(t, nil, "hash-password")
	if code != 0 || !strings.HasPrefix(out, "$2") {
		t.Fatalf("exit %d, out %q, err %q", code, out, errs)
	}
}

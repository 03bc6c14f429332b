package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway/config"
)

func writeConfig(t *testing.T, path string, accounts ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("store:\n  driver: memory\nhttp:\n  api_keys: [k1]\naccounts:\n")
	for _, a := range accounts {
		fmt.Fprintf(&b, "  - system_id: %s\n    password: pw-%s\n", a, a)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The daemon's reload (SIGHUP, POST /v1/reload) re-reads the file: an
// account added can bind, one removed loses its session.
func TestDaemonReloadsAccounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "smppd.yaml")
	writeConfig(t, path, "alice", "bob")
	addr := freePort(t)
	o := config.Overrides{Config: path, SMPPAddr: addr, HTTPAddr: "127.0.0.1:0"}
	load := func() (*config.Config, error) { return config.Load("", nil, o) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	d, err := start(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.shutdown(context.Background()) })
	d.setLoader(load)
	dial := func(id string) (*smpp.Client, error) {
		return smpp.Dial(context.Background(), fmt.Sprintf("smpp://%s:pw-%s@%s?bind=trx", id, id, addr), &smpp.ClientConfig{NoReconnect: true})
	}
	bob, err := dial("bob")
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	if c, err := dial("carol"); err == nil {
		c.Close()
		t.Fatal("carol bound before she was configured")
	}

	writeConfig(t, path, "alice", "carol")
	if n, err := d.reload(context.Background()); err != nil || n != 2 {
		t.Fatalf("reload = %d, %v", n, err)
	}
	carol, err := dial("carol")
	if err != nil {
		t.Fatalf("carol cannot bind after the reload: %v", err)
	}
	carol.Close()
	deadline := time.Now().Add(5 * time.Second)
	for len(d.gw.Sessions("bob")) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if len(d.gw.Sessions("bob")) != 0 {
		t.Fatal("bob, removed, is still bound")
	}

	// A broken file changes nothing.
	os.WriteFile(path, []byte("accounts: [{system_id: }]\n"), 0o600)
	if _, err := d.reload(context.Background()); err == nil {
		t.Fatal("an invalid configuration was applied")
	}
	if c, err := dial("carol"); err != nil {
		t.Fatalf("carol lost her account to an invalid reload: %v", err)
	} else {
		c.Close()
	}
}

// freePort returns a loopback address whose port was free a moment ago.
func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

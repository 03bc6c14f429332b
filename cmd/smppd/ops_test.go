package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writePair writes a self-signed certificate for cn and its key, with the
// files' modification time set to mod.
func writePair(t *testing.T, certFile, keyFile, cn string, mod time.Time) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		DNSNames: []string{cn}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{certFile, keyFile} {
		if err := os.Chtimes(f, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
}

// handshakeCN connects a TLS client to a server using tc and returns the
// common name of the certificate the server presented.
func handshakeCN(t *testing.T, tc *tls.Config) string {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	srv := tls.Server(a, tc)
	go srv.Handshake()
	cl := tls.Client(b, &tls.Config{InsecureSkipVerify: true})
	if err := cl.Handshake(); err != nil {
		t.Fatal(err)
	}
	return cl.ConnectionState().PeerCertificates[0].Subject.CommonName
}

func TestCertificateReloadedWhenFilesChange(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	writePair(t, certFile, keyFile, "first.example", t0)

	r, err := newCertReloader(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	r.now = func() time.Time { return clock }
	tc := &tls.Config{GetCertificate: r.GetCertificate}
	if cn := handshakeCN(t, tc); cn != "first.example" {
		t.Fatalf("served %q, want first.example", cn)
	}

	// Renewed: served from the next handshake after the check interval.
	writePair(t, certFile, keyFile, "second.example", t0.Add(time.Minute))
	clock = clock.Add(2 * time.Second)
	if cn := handshakeCN(t, tc); cn != "second.example" {
		t.Fatalf("after renewal served %q, want second.example", cn)
	}

	// A broken key (half-written renewal): the last good pair is served.
	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(keyFile, t0.Add(2*time.Minute), t0.Add(2*time.Minute))
	clock = clock.Add(2 * time.Second)
	if cn := handshakeCN(t, tc); cn != "second.example" {
		t.Fatalf("with a broken key served %q, want the previous second.example", cn)
	}

	// Unchanged files are not read again (the mtime decides).
	writePair(t, certFile, keyFile, "third.example", t0.Add(time.Minute))
	os.Chtimes(certFile, r.certMod, r.certMod)
	os.Chtimes(keyFile, r.keyMod, r.keyMod)
	clock = clock.Add(2 * time.Second)
	if cn := handshakeCN(t, tc); cn != "second.example" {
		t.Fatalf("files with the old mtimes were reloaded (%q)", cn)
	}
}

func TestCertificateMissingFailsStart(t *testing.T) {
	if _, err := newCertReloader("/nonexistent/cert.pem", "/nonexistent/key.pem", nil); err == nil {
		t.Fatal("missing files accepted")
	}
}

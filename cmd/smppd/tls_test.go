package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway/config"
	"github.com/smppkit/smpp/pdu"
)

// testCA issues certificates for the TLS test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T) *testCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testCA{cert: c, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate for cn signed by ca (self-signed if ca is nil).
func issue(t *testing.T, ca *testCA, cn string, server bool) tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	if server {
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	parent, signer := tmpl, any(key)
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func writeCert(t *testing.T, dir, name string, c tls.Certificate) (certFile, keyFile string) {
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	kder, _ := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return
}

// SMPP over TLS: a client that trusts the server's CA binds; one that does
// not refuses the server; with mutual TLS per account, a client certificate
// from the configured CA with the account's name binds, a self-signed one
// fails the handshake, and none at all is refused for that account while an
// account without the requirement binds.
func TestTLSAndMutualTLSPerAccount(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t)
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, ca.pem, 0o600)
	certFile, keyFile := writeCert(t, dir, "server", issue(t, ca, "127.0.0.1", true))
	tlsAddr := freeAddr(t)
	yaml := fmt.Sprintf(`smpp:
  bind_address: ""
  tls_address: %s
  tls_cert: %s
  tls_key: %s
  tls_client_ca: %s
http:
  address: ""
store:
  driver: memory
accounts:
  - system_id: shop
    password: pw
    tls_client_cn: shop
  - system_id: open
    password: pw
`, tlsAddr, certFile, keyFile, caFile)
	cfgFile := filepath.Join(dir, "smppd.yaml")
	os.WriteFile(cfgFile, []byte(yaml), 0o600)
	cfg, err := config.Load(cfgFile, nil, config.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := start(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer d.shutdown(context.Background())

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	dial := func(user string, tc *tls.Config) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := smpp.Dial(ctx, "ssmpp://"+user+":pw@"+tlsAddr, &smpp.ClientConfig{TLSConfig: tc, NoReconnect: true})
		if err == nil {
			c.Close()
		}
		return err
	}
	good := issue(t, ca, "shop", false)
	if err := dial("shop", &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{good}}); err != nil {
		t.Errorf("trusted client with its certificate: %v", err)
	}
	if err := dial("open", &tls.Config{RootCAs: roots}); err != nil {
		t.Errorf("trusted client, account without mTLS: %v", err)
	}
	// The client does not trust the server's certificate.
	var uerr x509.UnknownAuthorityError
	if err := dial("open", &tls.Config{}); !errors.As(err, &uerr) {
		t.Errorf("client without the CA: %v, want an unknown-authority error", err)
	}
	// A self-signed client certificate: the server refuses the handshake.
	self := issue(t, nil, "shop", false)
	if err := dial("shop", &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{self}}); err == nil {
		t.Error("a self-signed client certificate was accepted")
	}
	// No client certificate, for an account that requires one.
	if err := dial("shop", &tls.Config{RootCAs: roots}); !errors.Is(err, pdu.ESME_RBINDFAIL) {
		t.Errorf("no client certificate: %v, want ESME_RBINDFAIL", err)
	}
	// A certificate from the CA with another name.
	other := issue(t, ca, "someone-else", false)
	if err := dial("shop", &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{other}}); !errors.Is(err, pdu.ESME_RBINDFAIL) {
		t.Errorf("a certificate of another name: %v, want ESME_RBINDFAIL", err)
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

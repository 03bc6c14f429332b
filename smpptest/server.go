// Package smpptest is a test kit for code built on package smpp, in the
// manner of net/http/httptest:
//
//   - Server runs an smpp.Server for a Handler on a loopback port (plain or
//     TLS, with a certificate made for it) and closes it when the test ends;
//     its Dial binds a client to it.
//   - NewRequest and NewRequestContext make a Request that came on no
//     connection, and ResponseRecorder is a ResponseWriter that records the
//     answer, so a Handler can be called directly, as a function.
//   - RawPeer is a bare TCP peer that writes any bytes or PDUs and reads
//     what comes back, with deadlines, for malformed and out-of-order input.
//
// Everything here ends the test (t.Fatal) on a setup failure and registers
// its own clean-up with t.Cleanup, so tests need no defer.
package smpptest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/smppkit/smpp"
)

// The credentials Server.Dial binds with. A Server without Auth accepts any.
const (
	SystemID = "smpptest"
	Password = "secret"
)

// Timeouts of the kit: generous, since test machines may be busy. Nothing
// waits for them unless something is wrong.
const (
	// DialTimeout bounds Server.Dial's connect and bind.
	DialTimeout = 10 * time.Second
	// ShutdownTimeout bounds the graceful Shutdown at the end of a test,
	// after which the server is closed.
	ShutdownTimeout = 5 * time.Second
)

// Server is an smpp.Server listening on a loopback port for a test.
type Server struct {
	// Addr is the address the server listens on, host:port (known from
	// NewUnstartedServer on, so that a test can pass it on before Start).
	Addr string
	// Listener is what the server serves: a TCP listener on Addr. A test
	// may wrap it before Start (to record or delay the connections' bytes,
	// say); Start serves whatever it is then.
	Listener net.Listener
	// Server is the server itself. Between NewUnstartedServer and Start
	// (or StartTLS), set its fields (Auth, ReusePDUs, TLSConfig, timeouts…);
	// after that, leave them alone, as smpp.Server asks.
	Server *smpp.Server
	// Certificate is the certificate StartTLS made, nil for plain TCP or
	// when Server.TLSConfig came with certificates of its own.
	Certificate *x509.Certificate

	t       testing.TB
	tls     bool
	roots   *x509.CertPool
	started bool
	closed  bool
	served  chan error
	once    sync.Once
}

// NewServer starts a server for h on 127.0.0.1 and shuts it down when the
// test ends.
func NewServer(t testing.TB, h smpp.Handler) *Server {
	t.Helper()
	s := NewUnstartedServer(t, h)
	s.Start()
	return s
}

// NewUnstartedServer returns a server for h that listens on 127.0.0.1 (a
// free port) but does not serve yet, so that its Server's fields (and its
// Listener) can be set first; call Start or StartTLS. If neither is called,
// the listener is closed when the test ends.
func NewUnstartedServer(t testing.TB, h smpp.Handler) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smpptest: listen: %v", err)
	}
	s := &Server{Addr: l.Addr().String(), Listener: l, Server: &smpp.Server{Handler: h}, t: t}
	t.Cleanup(s.Close)
	return s
}

// Start serves plain TCP on Listener (127.0.0.1, a free port). The server
// is shut down when the test ends (Shutdown, bounded by
// ShutdownTimeout, then Close); Serve returning an error other than
// smpp.ErrServerClosed fails the test.
func (s *Server) Start() {
	s.t.Helper()
	s.start(nil)
}

// StartTLS is Start over TLS. Unless Server.TLSConfig has a certificate,
// it makes a self-signed one for 127.0.0.1, ::1 and localhost, which
// ClientTLSConfig trusts.
func (s *Server) StartTLS() {
	s.t.Helper()
	cfg := &tls.Config{}
	if s.Server.TLSConfig != nil {
		cfg = s.Server.TLSConfig.Clone()
	}
	if len(cfg.Certificates) == 0 && cfg.GetCertificate == nil {
		cert, leaf, err := selfSigned()
		if err != nil {
			s.t.Fatalf("smpptest: certificate: %v", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
		s.Certificate = leaf
		s.roots = x509.NewCertPool()
		s.roots.AddCert(leaf)
	}
	s.Server.TLSConfig = cfg
	s.tls = true
	s.start(cfg)
}

func (s *Server) start(cfg *tls.Config) {
	s.t.Helper()
	if s.started || s.closed {
		s.t.Fatal("smpptest: server already started or closed")
	}
	s.started = true
	s.served = make(chan error, 1)
	l := s.Listener
	go func() {
		if cfg != nil {
			s.served <- s.Server.ServeTLS(l, "", "")
		} else {
			s.served <- s.Server.Serve(l)
		}
	}()
}

// Close shuts the server down gracefully (bounded by ShutdownTimeout), then
// closes what is left, and waits for Serve to return. It runs by itself
// when the test ends; calling it earlier, or again, is fine.
func (s *Server) Close() {
	s.once.Do(func() {
		s.closed = true
		if !s.started {
			s.Listener.Close()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		s.Server.Shutdown(ctx) // a timeout is not the test's failure: Close follows
		s.Server.Close()
		if err := <-s.served; !errors.Is(err, smpp.ErrServerClosed) {
			s.t.Errorf("smpptest: Serve: %v", err)
		}
	})
}

// ClientTLSConfig returns a client configuration that trusts the
// certificate StartTLS made (nil before StartTLS, or when the server
// brought its own certificate).
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.roots == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.roots, MinVersion: tls.VersionTLS12}
}

// CertPool returns a pool holding the certificate StartTLS made (nil
// without one).
func (s *Server) CertPool() *x509.CertPool { return s.roots }

// URL returns the URL that binds to the server with these credentials:
// smpp://systemID:password@Addr, or ssmpp://… after StartTLS.
func (s *Server) URL(systemID, password string) string {
	u := url.URL{Scheme: "smpp", User: url.UserPassword(systemID, password), Host: s.Addr}
	if s.tls {
		u.Scheme = "ssmpp"
	}
	return u.String()
}

// Dial binds a client to the server as SystemID/Password and closes it when
// the test ends (before the server shuts down). cfg is used as given (nil is
// smpp's defaults, which reconnect), except that a nil TLSConfig becomes
// ClientTLSConfig after StartTLS. A failure to bind ends the test.
func (s *Server) Dial(t testing.TB, cfg *smpp.ClientConfig) *smpp.Client {
	t.Helper()
	return s.DialAs(t, SystemID, Password, cfg)
}

// DialAs is Dial with other credentials.
func (s *Server) DialAs(t testing.TB, systemID, password string, cfg *smpp.ClientConfig) *smpp.Client {
	t.Helper()
	var c smpp.ClientConfig
	if cfg != nil {
		c = *cfg
	}
	if s.tls && c.TLSConfig == nil {
		c.TLSConfig = s.ClientTLSConfig()
	}
	ctx, cancel := context.WithTimeout(context.Background(), DialTimeout)
	defer cancel()
	cl, err := smpp.Dial(ctx, s.URL(systemID, password), &c)
	if err != nil {
		t.Fatalf("smpptest: Dial %s as %s: %v", s.Addr, systemID, err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// selfSigned makes a certificate for the loopback addresses, valid for a
// day around now.
func selfSigned() (tls.Certificate, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"smpptest"}, CommonName: "127.0.0.1"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf, nil
}

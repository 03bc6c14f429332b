package smpp

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppkit/smpp/pdu"
)

// BindRequest is what the authentication hook sees of a bind.
type BindRequest struct {
	Command          pdu.CommandID // bind_transmitter, bind_receiver or bind_transceiver
	SystemID         string
	Password         string
	SystemType       string
	InterfaceVersion uint8
	AddrTON, AddrNPI uint8
	AddressRange     string
	RemoteAddr       net.Addr
	// TLS is the connection's TLS state, nil for plain TCP.
	TLS *tls.ConnectionState
}

// Server is the SMSC end of SMPP: it accepts connections, binds them through
// Auth and hands their requests to Handler, in the manner of net/http.
// Set its fields before calling Serve; do not change them afterwards.
type Server struct {
	// Addr is the address to listen on, ":2775" if empty.
	Addr string
	// Handler answers requests (submit_sm, data_sm, query_sm, …).
	Handler Handler
	// Auth decides a bind: ESME_ROK accepts it, any other status refuses it
	// with that status. Nil accepts every bind.
	Auth func(ctx context.Context, b *BindRequest) pdu.Status
	// SystemID is sent in bind responses; "smppkit" if empty.
	SystemID string
	// TLSConfig is used by ListenAndServeTLS and ServeTLS.
	TLSConfig *tls.Config

	// Window is how many requests of one session may be handled at once;
	// more get WindowFull. Default 100.
	Window int
	// WindowFull is the status for requests beyond Window: ESME_RMSGQFUL
	// (default) or ESME_RTHROTTLED.
	WindowFull pdu.Status
	// OutboundWindow bounds deliver_sm and other requests sent to one
	// session and not yet answered. Default 10.
	OutboundWindow int
	// ResponseTimeout bounds the wait for a client's response. Default 30s.
	ResponseTimeout time.Duration
	// EnquireLinkInterval: after this long without traffic the server sends
	// enquire_link, and closes the session if it is not answered. 0 = off.
	EnquireLinkInterval time.Duration
	// InactivityTimeout unbinds a session without traffic (enquire_link
	// aside) for this long. 0 = off.
	InactivityTimeout time.Duration
	// BindTimeout closes connections that do not bind in time. Default 30s.
	BindTimeout time.Duration
	// MaxPDULength bounds command_length. Default pdu.DefaultMaxLength.
	MaxPDULength int
	// Lenient decodes with pdu.DecodeOptions{Lenient: true}.
	Lenient bool
	// ReusePDUs lets sessions recycle each Request and its PDU struct once
	// the handler has returned and the response is out, instead of
	// allocating new ones per request (like encoding/csv's ReuseRecord).
	// It makes a busy server much cheaper (less garbage to collect), for
	// handlers that do not keep a Request or PDU struct after that; the
	// strings and slices in a PDU stay valid either way. See Request.
	ReusePDUs bool
	// TrustedProxies lists the addresses allowed to send a PROXY protocol
	// (v1 or v2) header; connections from them have it parsed and take the
	// client address it carries. Others never have a header parsed.
	TrustedProxies []netip.Prefix
	// Logger gets the server's logs; none if nil.
	Logger *slog.Logger
	// Trace, if set, sees every PDU sent and received.
	Trace func(s *Session, d Direction, p pdu.PDU)
	// ConnState, if set, is told about each session's state changes.
	ConnState func(s *Session, st State)

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*Session]struct{}
	inShut    atomic.Bool
	wg        sync.WaitGroup
	deliverRR atomic.Uint64 // spreads Deliver over an ESME's sessions
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("smpp: server closed")

func (srv *Server) logger() *slog.Logger {
	if srv.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return srv.Logger
}

// ListenAndServe listens on Addr over TCP and serves.
func (srv *Server) ListenAndServe() error {
	l, err := net.Listen("tcp", srv.addr())
	if err != nil {
		return err
	}
	return srv.Serve(l)
}

// ListenAndServeTLS listens on Addr over TLS with the given certificate (or
// TLSConfig's certificates when the file names are empty) and serves.
func (srv *Server) ListenAndServeTLS(certFile, keyFile string) error {
	l, err := net.Listen("tcp", srv.addr())
	if err != nil {
		return err
	}
	return srv.ServeTLS(l, certFile, keyFile)
}

// ServeTLS serves TLS connections accepted on l.
func (srv *Server) ServeTLS(l net.Listener, certFile, keyFile string) error {
	cfg := &tls.Config{}
	if srv.TLSConfig != nil {
		cfg = srv.TLSConfig.Clone()
	}
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			l.Close()
			return err
		}
		cfg.Certificates = append(cfg.Certificates, cert)
	}
	return srv.serve(l, cfg)
}

func (srv *Server) addr() string {
	if srv.Addr == "" {
		return ":2775"
	}
	return srv.Addr
}

// Serve accepts connections on l and serves each in its own goroutines. It
// returns ErrServerClosed after Shutdown or Close.
func (srv *Server) Serve(l net.Listener) error { return srv.serve(l, nil) }

func (srv *Server) serve(l net.Listener, tlsConfig *tls.Config) error {
	srv.mu.Lock()
	if srv.inShut.Load() {
		srv.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	if srv.listeners == nil {
		srv.listeners = map[net.Listener]struct{}{}
	}
	srv.listeners[l] = struct{}{}
	srv.mu.Unlock()
	defer func() {
		srv.mu.Lock()
		delete(srv.listeners, l)
		srv.mu.Unlock()
	}()
	log := srv.logger()
	log.Info("listening", "addr", l.Addr().String(), "tls", tlsConfig != nil)
	var delay time.Duration
	for {
		conn, err := l.Accept()
		if err != nil {
			if srv.inShut.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// A temporary failure: back off a little and go on.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				log.Warn("accept", "err", err, "retry_in", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		if isTrusted(conn.RemoteAddr(), srv.TrustedProxies) {
			// Read the PROXY header on the connection's own goroutine,
			// so that a slow proxy holds up nobody else's Accept.
			go func() {
				pc, err := readProxyHeader(conn, proxyHeaderTimeout)
				if err != nil {
					log.Warn("PROXY header", "remote", conn.RemoteAddr().String(), "err", err)
					conn.Close()
					return
				}
				srv.startSession(srv.secure(pc, tlsConfig), StateOpen)
			}()
			continue
		}
		srv.startSession(srv.secure(conn, tlsConfig), StateOpen)
	}
}

// secure wraps conn in TLS when the listener serves TLS; the handshake
// happens on the session's first read.
func (srv *Server) secure(conn net.Conn, tlsConfig *tls.Config) net.Conn {
	if tlsConfig == nil {
		return conn
	}
	return tls.Server(conn, tlsConfig)
}

func (srv *Server) settings() settings {
	window := srv.Window
	if window <= 0 {
		window = 100
	}
	bindTimeout := srv.BindTimeout
	if bindTimeout == 0 {
		bindTimeout = 30 * time.Second
	}
	return settings{
		window:          srv.OutboundWindow,
		inboundWindow:   window,
		windowFull:      srv.WindowFull,
		responseTimeout: srv.ResponseTimeout,
		enquireInterval: srv.EnquireLinkInterval,
		inactivity:      srv.InactivityTimeout,
		bindTimeout:     bindTimeout,
		maxLength:       srv.MaxPDULength,
		decode:          pdu.DecodeOptions{Lenient: srv.Lenient},
		logger:          srv.logger(),
		trace:           srv.Trace,
		reuse:           srv.ReusePDUs,
		handler:         srv.Handler,
		bind:            srv.bind,
		onState:         srv.track,
	}
}

// startSession starts serving conn; it returns nil (and closes conn) once the
// server is shutting down.
func (srv *Server) startSession(conn net.Conn, st State) *Session {
	s := newSession(conn, SMSC, srv.settings())
	s.state.Store(int32(st))
	srv.mu.Lock()
	if srv.inShut.Load() { // (a proxied connection late from its header)
		srv.mu.Unlock()
		conn.Close()
		return nil
	}
	if srv.sessions == nil {
		srv.sessions = map[*Session]struct{}{}
	}
	srv.sessions[s] = struct{}{}
	srv.wg.Add(1)
	srv.mu.Unlock()
	s.log.Debug("connection accepted")
	s.start()
	return s
}

// track keeps the session table and tells ConnState.
func (srv *Server) track(s *Session, st State) {
	if st == StateClosed {
		srv.mu.Lock()
		if _, ok := srv.sessions[s]; ok {
			delete(srv.sessions, s)
			srv.wg.Done()
		}
		srv.mu.Unlock()
	}
	if srv.ConnState != nil {
		srv.ConnState(s, st)
	}
}

// bind answers a bind request on session s.
func (srv *Server) bind(s *Session, p pdu.PDU) pdu.PDU {
	var b *pdu.BindTransmitter
	var next State
	switch p := p.(type) {
	case *pdu.BindTransmitter:
		b, next = p, StateBoundTX
	case *pdu.BindReceiver:
		b, next = (*pdu.BindTransmitter)(p), StateBoundRX
	case *pdu.BindTransceiver:
		b, next = (*pdu.BindTransmitter)(p), StateBoundTRX
	}
	br := &BindRequest{Command: p.CommandID(), SystemID: b.SystemID, Password: b.Password, SystemType: b.SystemType,
		InterfaceVersion: b.InterfaceVersion, AddrTON: b.AddrTON, AddrNPI: b.AddrNPI, AddressRange: b.AddressRange,
		RemoteAddr: s.RemoteAddr()}
	if tc, ok := s.conn.(*tls.Conn); ok {
		cs := tc.ConnectionState()
		br.TLS = &cs
	}
	status := pdu.ESME_ROK
	if srv.inShut.Load() {
		status = pdu.ESME_RSYSERR
	} else if srv.Auth != nil {
		ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
		status = srv.Auth(ctx, br)
		cancel()
	}
	resp := pdu.NewResponse(p, status)
	if status != pdu.ESME_ROK {
		s.log.Warn("bind refused", "system_id", b.SystemID, "command", p.CommandID(), "status", status.String())
		return resp
	}
	// The bind response carries our system_id and, to v3.4+ peers, the
	// version we speak (no TLVs to v3.3 peers, v3.4 §3.4).
	var tlvs *pdu.TLVs
	switch r := resp.(type) {
	case *pdu.BindTransmitterResp:
		r.SystemID, tlvs = srv.systemID(), &r.TLVs
	case *pdu.BindReceiverResp:
		r.SystemID, tlvs = srv.systemID(), &r.TLVs
	case *pdu.BindTransceiverResp:
		r.SystemID, tlvs = srv.systemID(), &r.TLVs
	}
	if b.InterfaceVersion >= 0x34 {
		tlvs.SetUint8(pdu.TagScInterfaceVersion, min(b.InterfaceVersion, 0x50))
	}
	id := b.SystemID
	s.systemID.Store(&id)
	s.peerVer.Store(uint32(b.InterfaceVersion))
	// The state changes before the response goes out, so requests the
	// client pipelines right behind it are accepted.
	s.setState(next)
	s.log.Info("bound", "system_id", id, "command", p.CommandID())
	return resp
}

func (srv *Server) systemID() string {
	if srv.SystemID == "" {
		return "smppkit"
	}
	return srv.SystemID
}

// Sessions returns the bound sessions of an ESME by system_id, or of every
// ESME when systemID is "".
func (srv *Server) Sessions(systemID string) []*Session {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	var out []*Session
	for s := range srv.sessions {
		if s.State().Bound() && (systemID == "" || s.SystemID() == systemID) {
			out = append(out, s)
		}
	}
	return out
}

// Deliver sends a deliver_sm (or data_sm, alert_notification) to a bound
// receiver or transceiver session of systemID, spreading over the sessions
// it has, and waits for the response. It returns ErrNotBound when the ESME
// has no such session.
func (srv *Server) Deliver(ctx context.Context, systemID string, p pdu.PDU) (pdu.PDU, error) {
	var rx []*Session
	for _, s := range srv.Sessions(systemID) {
		if s.State().canDeliver() && !s.unbinding.Load() {
			rx = append(rx, s)
		}
	}
	if len(rx) == 0 {
		return nil, ErrNotBound
	}
	s := rx[srv.deliverRR.Add(1)%uint64(len(rx))]
	if !p.CommandID().HasResponse() {
		return nil, s.Send(p)
	}
	return s.Call(ctx, p)
}

// Outbind connects to an ESME at addr and sends outbind; the ESME is expected
// to bind on the same connection, which then runs like any accepted one.
func (srv *Server) Outbind(ctx context.Context, addr, systemID, password string) (*Session, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	// OUTBOUND from the start: the ESME's bind may come back before this
	// goroutine would get to change the state after sending.
	s := srv.startSession(conn, StateOutbound)
	if s == nil {
		return nil, ErrServerClosed
	}
	ob := &pdu.Outbind{SystemID: systemID, Password: password}
	ob.SequenceNumber = s.nextSeq()
	if err := s.write(ob); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Shutdown stops accepting connections, unbinds every session (each first
// finishes the requests it is handling and waits for its outstanding
// deliveries) and waits for them to close, or for ctx. Sessions still open
// when ctx ends are closed.
func (srv *Server) Shutdown(ctx context.Context) error {
	for _, s := range srv.stop() {
		go s.Unbind(ctx)
	}
	done := make(chan struct{})
	go func() { srv.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		srv.Close()
		return ctx.Err()
	}
}

// Close closes listeners and every session at once.
func (srv *Server) Close() error {
	for _, s := range srv.stop() {
		s.Close()
	}
	return nil
}

// stop marks the server as shutting down, closes its listeners and returns
// the sessions it has.
func (srv *Server) stop() []*Session {
	srv.inShut.Store(true)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for l := range srv.listeners {
		l.Close()
	}
	var all []*Session
	for s := range srv.sessions {
		all = append(all, s)
	}
	return all
}

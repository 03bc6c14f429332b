package smpp

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"slices"
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
	// Value is for Auth to set when it accepts the bind (a gateway puts its
	// account there); the session keeps it: Session.Value.
	Value any
}

// Server is the SMSC end of SMPP: it accepts connections, binds them through
// Auth and hands their requests to Handler, in the manner of net/http.
// Set its fields before calling Serve; do not change them afterwards.
type Server struct {
	// Addr is the address to listen on, ":2775" if empty.
	Addr string
	// Handler answers requests (submit_sm, data_sm, query_sm, …).
	Handler Handler
	// HandlerMode says where Handler runs: HandleAuto (default),
	// HandleInline or HandleConcurrent; see Handler.
	HandlerMode HandlerMode
	// Auth decides a bind: ESME_ROK accepts it, any other status refuses it
	// with that status. It may set b.Value for the session to keep. Nil
	// accepts every bind. It runs on a goroutine of its own, with a context
	// that ends after AuthTimeout or when the connection closes.
	Auth func(ctx context.Context, b *BindRequest) pdu.Status
	// AuthTimeout bounds each Auth call's context. Default 30s.
	AuthTimeout time.Duration
	// BaseContext, if set, gives the context the sessions of a listener
	// derive theirs from (Session.Context, Request.Context), like
	// net/http's: it is called once per Serve, with its listener, and with
	// nil for the sessions Outbind starts. It must not return nil. A
	// cancelled base context cancels the session contexts but does not
	// close the sessions (Shutdown and Close do that).
	BaseContext func(net.Listener) context.Context
	// SystemID is sent in bind responses; "smppkit" if empty.
	SystemID string
	// TLSConfig is used by ListenAndServeTLS and ServeTLS.
	TLSConfig *tls.Config

	// InboundWindow is how many requests of one session (submit_sm…) may
	// be handled at once; more get WindowFull. Default 100.
	InboundWindow int
	// WindowFull is the status for requests beyond InboundWindow:
	// ESME_RMSGQFUL (default) or ESME_RTHROTTLED.
	WindowFull pdu.Status
	// OutboundWindow bounds deliver_sm and other requests sent to one
	// session and not yet answered; callers beyond it wait. Default 10.
	OutboundWindow int
	// ResponseTimeout bounds the wait for a client's response. Default 30s.
	ResponseTimeout time.Duration
	// EnquireLinkInterval: after this long without traffic the server sends
	// enquire_link, and closes the session if it is not answered.
	// 0 = default 30s; negative = off.
	EnquireLinkInterval time.Duration
	// InactivityTimeout unbinds a session without traffic (enquire_link
	// aside) for this long. 0 = off.
	InactivityTimeout time.Duration
	// BindTimeout closes connections that do not bind in time.
	// 0 = default 30s; negative = off.
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
	// ConnState, if set, is told about each session's state changes. A
	// bound state is told once the session's bind_resp is queued and the
	// session is found by Sessions and Deliver, so a ConnState that starts
	// deliveries to it finds it.
	ConnState func(s *Session, st State)

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*Session]struct{}
	inShut    atomic.Bool
	wg        sync.WaitGroup

	// bound indexes the bound sessions by system_id (string → *boundSet),
	// for Deliver and Sessions: lookups take no lock, binds and closes
	// change it under idxMu.
	bound sync.Map
	idxMu sync.Mutex
}

// boundSet is one system_id's bound sessions.
type boundSet struct {
	list atomic.Pointer[[]*Session] // copied on change
	rr   atomic.Uint32              // spreads ties over the sessions
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
	base := srv.baseContext(l)
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
				srv.startSessionIn(base, srv.secure(pc, tlsConfig), StateOpen)
			}()
			continue
		}
		srv.startSessionIn(base, srv.secure(conn, tlsConfig), StateOpen)
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

// baseContext is BaseContext's for l, or context.Background().
func (srv *Server) baseContext(l net.Listener) context.Context {
	if srv.BaseContext == nil {
		return context.Background()
	}
	ctx := srv.BaseContext(l)
	if ctx == nil {
		panic("smpp: Server.BaseContext returned a nil context")
	}
	return ctx
}

func (srv *Server) settings() settings {
	bindTimeout := srv.BindTimeout
	if bindTimeout == 0 {
		bindTimeout = defaultBindTimeout
	}
	return settings{
		outboundWindow:  srv.OutboundWindow,
		inboundWindow:   srv.InboundWindow,
		windowFull:      srv.WindowFull,
		responseTimeout: srv.ResponseTimeout,
		enquireInterval: enquireInterval(srv.EnquireLinkInterval),
		inactivity:      srv.InactivityTimeout,
		bindTimeout:     bindTimeout,
		maxLength:       srv.MaxPDULength,
		decode:          pdu.DecodeOptions{Lenient: srv.Lenient},
		logger:          srv.logger(),
		trace:           srv.Trace,
		reuse:           srv.ReusePDUs,
		handler:         srv.Handler,
		handlerMode:     srv.HandlerMode,
		bind:            srv.bind,
		onState:         srv.track,
		onBound:         srv.index,
	}
}

// startSession starts serving conn, a connection from no listener; it
// returns nil (and closes conn) once the server is shutting down.
func (srv *Server) startSession(conn net.Conn, st State) *Session {
	return srv.startSessionIn(srv.baseContext(nil), conn, st)
}

// startSessionIn is startSession with the base context for the session's.
func (srv *Server) startSessionIn(base context.Context, conn net.Conn, st State) *Session {
	cfg := srv.settings()
	cfg.base = base
	s := newSession(conn, SMSC, cfg)
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
		srv.unindex(s)
		srv.mu.Lock()
		if _, ok := srv.sessions[s]; ok {
			delete(srv.sessions, s)
			srv.wg.Done()
		}
		srv.mu.Unlock()
	}
	// A bound state is told by index, once the session can be found
	// (Sessions, Deliver) and its bind_resp is queued.
	if srv.ConnState != nil && !st.Bound() {
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
		timeout := srv.AuthTimeout
		if timeout <= 0 {
			timeout = defaultAuthTimeout
		}
		ctx, cancel := context.WithTimeout(s.ctx, timeout)
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
	if br.Value != nil {
		v := br.Value
		s.value.Store(&v)
	}
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

// index adds a session that has just bound (its bind response queued) to
// the index; a session closed meanwhile stays out.
func (srv *Server) index(s *Session) {
	if !srv.addToIndex(s) {
		return
	}
	if srv.ConnState != nil {
		if st := s.State(); st.Bound() {
			srv.ConnState(s, st)
		}
	}
}

func (srv *Server) addToIndex(s *Session) bool {
	id := s.SystemID()
	srv.idxMu.Lock()
	defer srv.idxMu.Unlock()
	// (track, which unindexes, runs after the CLOSED state is stored.)
	if s.State() == StateClosed {
		return false
	}
	v, _ := srv.bound.LoadOrStore(id, &boundSet{})
	set := v.(*boundSet)
	var list []*Session
	if p := set.list.Load(); p != nil {
		list = append(list, *p...)
	}
	list = append(list, s)
	set.list.Store(&list)
	return true
}

// unindex removes a closing session from the index.
func (srv *Server) unindex(s *Session) {
	id := s.SystemID()
	srv.idxMu.Lock()
	defer srv.idxMu.Unlock()
	v, ok := srv.bound.Load(id)
	if !ok {
		return
	}
	set := v.(*boundSet)
	p := set.list.Load()
	if p == nil {
		return
	}
	var list []*Session
	for _, x := range *p {
		if x != s {
			list = append(list, x)
		}
	}
	if len(list) == len(*p) {
		return
	}
	if len(list) == 0 {
		srv.bound.Delete(id)
		set.list.Store(nil)
		return
	}
	set.list.Store(&list)
}

// boundTo returns the indexed sessions of systemID, and their set.
func (srv *Server) boundTo(systemID string) ([]*Session, *boundSet) {
	v, ok := srv.bound.Load(systemID)
	if !ok {
		return nil, nil
	}
	set := v.(*boundSet)
	if p := set.list.Load(); p != nil {
		return *p, set
	}
	return nil, set
}

// Sessions returns the bound sessions of an ESME by system_id (from an
// index: the cost does not grow with the sessions of other ESMEs), or of
// every ESME when systemID is "".
func (srv *Server) Sessions(systemID string) []*Session {
	var out []*Session
	if systemID == "" {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		for s := range srv.sessions {
			if s.State().Bound() {
				out = append(out, s)
			}
		}
		return out
	}
	list, _ := srv.boundTo(systemID)
	for _, s := range list {
		if s.State().Bound() {
			out = append(out, s)
		}
	}
	return out
}

// pickReceiver returns the bound receiver or transceiver session of
// systemID with the fewest deliveries in flight, starting the search at a
// rotating index so that ties spread evenly, skipping those in tried; nil
// when there is none.
func (srv *Server) pickReceiver(systemID string, tried []*Session) *Session {
	list, set := srv.boundTo(systemID)
	if len(list) == 0 {
		return nil
	}
	start := int(set.rr.Add(1) % uint32(len(list)))
	var best *Session
	bestLoad := int(^uint(0) >> 1)
	for i := range list {
		s := list[(start+i)%len(list)]
		if !s.State().canDeliver() || s.unbinding.Load() || slices.Contains(tried, s) {
			continue
		}
		if load := s.window.inFlight(); load < bestLoad {
			best, bestLoad = s, load
			if load == 0 {
				break
			}
		}
	}
	return best
}

// unsent reports whether err says a PDU was not sent because its session
// is going away (closed, unbinding, no longer bound): another session of
// the ESME may take it.
func unsent(err error) bool {
	var se *StateError
	return errors.Is(err, ErrClosed) || errors.Is(err, ErrUnbinding) || errors.As(err, &se)
}

// Deliver sends a deliver_sm (or data_sm, alert_notification) to a bound
// receiver or transceiver session of systemID, the one with the fewest
// deliveries in flight, and waits for the response (alert_notification,
// which has none: until it is queued). A session found going away before
// the PDU was sent is passed over for the next. It returns ErrNotBound when
// the ESME has no such session.
func (srv *Server) Deliver(ctx context.Context, systemID string, p pdu.PDU) (pdu.PDU, error) {
	var tried []*Session
	for {
		s := srv.pickReceiver(systemID, tried)
		if s == nil {
			return nil, ErrNotBound
		}
		if !p.CommandID().HasResponse() {
			err := s.WritePDU(p)
			if unsent(err) {
				tried = append(tried, s)
				continue
			}
			return nil, err
		}
		c, err := s.startCall(ctx, p, nil, true, 0)
		if unsent(err) {
			tried = append(tried, s)
			continue
		}
		if err != nil {
			return nil, err
		}
		return s.await(ctx, c)
	}
}

// DeliverAsync is Deliver that does not wait for the response: it picks a
// session as Deliver does and sends p with CallAsync (waiting, within ctx,
// only for room in that session's window). It returns ErrNotBound at once
// when the ESME has no receiver or transceiver session. When it returns
// nil, done is called exactly once, with the response or error, as
// CallAsync calls it (from the session's reader or timer: it must not
// block; the response is lent to it with ReusePDUs); when it returns an
// error, done is never called. For alert_notification, which gets no
// response, done(nil, nil) is called before DeliverAsync returns.
func (srv *Server) DeliverAsync(ctx context.Context, systemID string, p pdu.PDU, done func(resp pdu.PDU, err error)) error {
	var tried []*Session
	for {
		s := srv.pickReceiver(systemID, tried)
		if s == nil {
			return ErrNotBound
		}
		var err error
		if p.CommandID().HasResponse() {
			err = s.CallAsync(ctx, p, done)
		} else if err = s.WritePDU(p); err == nil {
			done(nil, nil)
		}
		if unsent(err) {
			tried = append(tried, s)
			continue
		}
		return err
	}
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
	if err := s.put(ob, true); err != nil {
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

package smpp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppkit/smpp/pdu"
)

// BindType is how a client binds.
type BindType uint8

// Bind types.
const (
	BindTransceiver BindType = iota // one connection both ways (the default)
	BindTransmitter                 // submit only
	BindReceiver                    // receive only
)

func (b BindType) String() string {
	return [...]string{"transceiver", "transmitter", "receiver"}[b]
}

// ParseBindType reads "trx"/"transceiver", "tx"/"transmitter",
// "rx"/"receiver".
func ParseBindType(s string) (BindType, error) {
	switch strings.ToLower(s) {
	case "", "trx", "transceiver":
		return BindTransceiver, nil
	case "tx", "transmitter":
		return BindTransmitter, nil
	case "rx", "receiver":
		return BindReceiver, nil
	}
	return 0, fmt.Errorf("smpp: unknown bind type %q (want tx, rx or trx)", s)
}

// ClientConfig tunes a client. The zero value (or nil) is a transceiver bind
// with an outbound window of 10, an inbound window of 100, 30 s response
// timeout, enquire_link after 30 s idle, automatic reconnect and throttling
// back-off. The settings a Server has too have the same names, zero values
// and defaults there (see the package documentation's table).
type ClientConfig struct {
	// Bind is the bind type; the URL's ?bind=tx|rx|trx sets it too.
	Bind BindType
	// SystemType, InterfaceVersion (default 0x34) and the address range
	// go into the bind; the URL's ?system_type=, ?version=, ?range= too.
	SystemType       string
	InterfaceVersion uint8
	AddrTON, AddrNPI uint8
	AddressRange     string

	// OutboundWindow bounds the requests sent (submit_sm…) and not yet
	// answered; callers beyond it wait. Default 10.
	OutboundWindow int
	// InboundWindow bounds the requests from the SMSC (deliver_sm…) being
	// handled at once; more are refused with ESME_RX_T_APPN. Default 100.
	InboundWindow int
	// ResponseTimeout bounds the wait for each response. Default 30s.
	ResponseTimeout time.Duration
	// EnquireLinkInterval: idle time before an enquire_link probe; an
	// unanswered probe closes the link. 0 = default 30s; negative = off.
	EnquireLinkInterval time.Duration
	// InactivityTimeout unbinds after this long without traffic
	// (enquire_link aside). 0 = off.
	InactivityTimeout time.Duration

	// TLSConfig for ssmpp:// URLs. Certificates are verified by default;
	// nil uses the system roots and the URL's host name.
	TLSConfig *tls.Config
	// DialTimeout bounds connecting and binding. Default 10s.
	DialTimeout time.Duration

	// NoReconnect turns automatic reconnection off: when the link drops the
	// client stays closed.
	NoReconnect bool
	// ReconnectMin and ReconnectMax bound the back-off between attempts
	// (with ±20% jitter). Defaults 500ms and 30s.
	ReconnectMin, ReconnectMax time.Duration
	// FailFast makes calls made while the link is down fail at once with
	// ErrNotBound instead of waiting (within their context) for the rebind.
	FailFast bool
	// NoThrottleRetry returns ESME_RTHROTTLED to the caller instead of
	// slowing down and sending the request again.
	NoThrottleRetry bool
	// ThrottleMin and ThrottleMax bound the pause after ESME_RTHROTTLED,
	// doubling while throttling goes on. Defaults 100ms and 10s.
	ThrottleMin, ThrottleMax time.Duration

	// Handler answers deliver_sm, data_sm and alert_notification. When
	// nil, Inbound is used if set; with neither, deliveries get
	// ESME_RX_T_APPN so the SMSC keeps them.
	Handler Handler
	// HandlerMode says where the handler runs: HandleAuto (default),
	// HandleInline or HandleConcurrent; see Handler.
	HandlerMode HandlerMode
	// Inbound, if set, handles deliveries at a higher level: it reassembles
	// long messages and tells receipts from mobile-originated messages.
	Inbound *Inbound

	// OutbindAuth checks the system_id and password of an SMSC's outbind
	// (AcceptOutbind); nil accepts any.
	OutbindAuth func(systemID, password string) bool

	// Lenient decodes what sloppy SMSCs send (see pdu.DecodeOptions).
	Lenient bool
	// ReusePDUs lets the session decode later responses into the struct
	// it lent to a CallAsync callback once that has returned, and recycle
	// the Requests (and PDUs) its Inbound handler has answered, instead of
	// allocating new ones (like encoding/csv's ReuseRecord). For callbacks
	// and handlers that do not keep those structs; strings and slices in
	// them stay valid either way. Call's responses are never reused.
	ReusePDUs bool
	// MaxPDULength bounds command_length. Default pdu.DefaultMaxLength.
	MaxPDULength int
	// Logger gets the client's logs; none if nil.
	Logger *slog.Logger
	// Trace, if set, sees every PDU sent and received.
	Trace func(s *Session, d Direction, p pdu.PDU)
}

// Client is the ESME end of an SMPP link: it dials, binds, keeps the link
// alive and reconnects. Its methods are safe for concurrent use.
type Client struct {
	cfg      ClientConfig
	addr     string
	tls      *tls.Config
	systemID string
	password string
	log      *slog.Logger

	cur    atomic.Pointer[Session]
	mu     sync.Mutex
	ready  chan struct{} // closed while cur is a bound session
	closed chan struct{}
	once   sync.Once

	pauseUntil atomic.Int64 // unix nanos; no new requests before
	throttle   atomic.Int64 // current pause length, nanos

	// PeerSystemID is the SMSC's system_id from the last bind response.
	peerID atomic.Pointer[string]
}

// Dial connects to an SMSC and binds. The URL is
// smpp://system_id:password@host:port (port 2775 by default) or ssmpp://…
// for TLS, with optional query parameters bind=tx|rx|trx, system_type=,
// version= (0x34 or 0x50) and range=. A failure to connect or to bind is
// returned; after the first bind, dropped links are rebound in the
// background.
func Dial(ctx context.Context, rawURL string, cfg *ClientConfig) (*Client, error) {
	c := &Client{closed: make(chan struct{}), ready: make(chan struct{})}
	if cfg != nil {
		c.cfg = *cfg
	}
	if err := c.parseURL(rawURL); err != nil {
		return nil, err
	}
	c.defaults()
	s, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	c.setSession(s)
	go c.run(s)
	return c, nil
}

func (c *Client) parseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("smpp: URL: %w", err)
	}
	switch u.Scheme {
	case "smpp":
	case "ssmpp", "smpps":
		c.tls = &tls.Config{}
		if c.cfg.TLSConfig != nil {
			c.tls = c.cfg.TLSConfig.Clone()
		}
		if c.tls.ServerName == "" {
			c.tls.ServerName = u.Hostname()
		}
	default:
		return fmt.Errorf("smpp: URL scheme %q: want smpp:// or ssmpp://", u.Scheme)
	}
	c.addr = u.Host
	if u.Port() == "" {
		c.addr = net.JoinHostPort(u.Hostname(), "2775")
	}
	if u.User != nil {
		c.systemID = u.User.Username()
		c.password, _ = u.User.Password()
	}
	q := u.Query()
	if v := q.Get("bind"); v != "" {
		if c.cfg.Bind, err = ParseBindType(v); err != nil {
			return err
		}
	}
	if v := q.Get("system_type"); v != "" {
		c.cfg.SystemType = v
	}
	if v := q.Get("version"); v != "" {
		n, err := strconv.ParseUint(v, 0, 8)
		if err != nil {
			return fmt.Errorf("smpp: URL version %q: %w", v, err)
		}
		c.cfg.InterfaceVersion = uint8(n)
	}
	if v := q.Get("range"); v != "" {
		c.cfg.AddressRange = v
	}
	return nil
}

func (c *Client) defaults() {
	d := &c.cfg
	if d.InterfaceVersion == 0 {
		d.InterfaceVersion = 0x34
	}
	if d.OutboundWindow <= 0 {
		d.OutboundWindow = defaultOutboundWindow
	}
	if d.InboundWindow <= 0 {
		d.InboundWindow = defaultInboundWindow
	}
	if d.DialTimeout <= 0 {
		d.DialTimeout = 10 * time.Second
	}
	if d.ReconnectMin <= 0 {
		d.ReconnectMin = 500 * time.Millisecond
	}
	if d.ReconnectMax <= 0 {
		d.ReconnectMax = 30 * time.Second
	}
	if d.ThrottleMin <= 0 {
		d.ThrottleMin = 100 * time.Millisecond
	}
	if d.ThrottleMax <= 0 {
		d.ThrottleMax = 10 * time.Second
	}
	c.log = d.Logger
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("smsc", c.addr, "system_id", c.systemID)
}

func (c *Client) settings() settings {
	h := c.cfg.Handler
	if h == nil && c.cfg.Inbound != nil {
		h = c.cfg.Inbound
	}
	return settings{
		outboundWindow:  c.cfg.OutboundWindow,
		inboundWindow:   c.cfg.InboundWindow,
		windowFull:      pdu.ESME_RX_T_APPN,
		responseTimeout: c.cfg.ResponseTimeout,
		enquireInterval: enquireInterval(c.cfg.EnquireLinkInterval),
		inactivity:      c.cfg.InactivityTimeout,
		maxLength:       c.cfg.MaxPDULength,
		decode:          pdu.DecodeOptions{Lenient: c.cfg.Lenient},
		logger:          c.log,
		trace:           c.cfg.Trace,
		reuse:           c.cfg.ReusePDUs,
		handler:         h,
		handlerMode:     c.cfg.HandlerMode,
	}
}

// connect dials and binds one session.
func (c *Client) connect(ctx context.Context) (*Session, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	if c.tls != nil {
		tc := tls.Client(conn, c.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("smpp: TLS: %w", err)
		}
		conn = tc
	}
	return c.bindOn(ctx, conn)
}

// bindOn starts a session on conn and binds it.
func (c *Client) bindOn(ctx context.Context, conn net.Conn) (*Session, error) {
	s := newSession(conn, ESME, c.settings())
	s.start()
	body := pdu.BindTransmitter{SystemID: c.systemID, Password: c.password, SystemType: c.cfg.SystemType,
		InterfaceVersion: c.cfg.InterfaceVersion, AddrTON: c.cfg.AddrTON, AddrNPI: c.cfg.AddrNPI, AddressRange: c.cfg.AddressRange}
	var req pdu.PDU
	var next State
	switch c.cfg.Bind {
	case BindTransmitter:
		req, next = &body, StateBoundTX
	case BindReceiver:
		req, next = (*pdu.BindReceiver)(&body), StateBoundRX
	default:
		req, next = (*pdu.BindTransceiver)(&body), StateBoundTRX
	}
	sid := c.systemID
	s.systemID.Store(&sid)
	resp, err := s.call(ctx, req, next)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("smpp: bind %s as %q: %w", c.cfg.Bind, c.systemID, err)
	}
	var id string
	var tlvs pdu.TLVs
	switch r := resp.(type) {
	case *pdu.BindTransmitterResp:
		id, tlvs = r.SystemID, r.TLVs
	case *pdu.BindReceiverResp:
		id, tlvs = r.SystemID, r.TLVs
	case *pdu.BindTransceiverResp:
		id, tlvs = r.SystemID, r.TLVs
	}
	if v, ok := tlvs.Uint8(pdu.TagScInterfaceVersion); ok {
		s.peerVer.Store(uint32(v))
	}
	c.peerID.Store(&id)
	c.log.Info("bound", "bind", c.cfg.Bind, "smsc_system_id", id)
	return s, nil
}

// setSession makes s the current session (nil: none while reconnecting). It
// refuses a session once the client is closed, reporting false; the caller
// then closes s.
func (c *Client) setSession(s *Session) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s != nil {
		select {
		case <-c.closed:
			return false
		default:
		}
	}
	c.cur.Store(s)
	if s != nil {
		close(c.ready)
	} else {
		c.ready = make(chan struct{})
	}
	return true
}

// shut marks the client closed and returns its current session, if any. Done
// under c.mu, so that a rebind finishing at the same time either is seen
// here or sees the client closed (setSession).
func (c *Client) shut() *Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.once.Do(func() { close(c.closed) })
	return c.cur.Load()
}

// run watches the session and rebinds when it drops.
func (c *Client) run(s *Session) {
	for {
		select {
		case <-s.Done():
		case <-c.closed:
			return
		}
		c.setSession(nil)
		c.log.Warn("link lost", "reason", s.Err())
		if c.cfg.NoReconnect {
			c.Close()
			return
		}
		delay := c.cfg.ReconnectMin
		for {
			jitter := 0.8 + 0.4*rand.Float64()
			select {
			case <-time.After(time.Duration(float64(delay) * jitter)):
			case <-c.closed:
				return
			}
			ctx, cancel := context.WithCancel(context.Background())
			stop := c.onClose(cancel)
			ns, err := c.connect(ctx)
			stop()
			cancel()
			if err == nil {
				if !c.setSession(ns) { // closed while rebinding
					ns.Close()
					return
				}
				s = ns
				break
			}
			c.log.Warn("reconnect failed", "err", err, "next_in", delay)
			delay = min(2*delay, c.cfg.ReconnectMax)
		}
	}
}

// onClose calls f if the client is closed before the returned stop is called.
func (c *Client) onClose(f func()) (stop func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-c.closed:
			f()
		case <-done:
		}
	}()
	return func() { close(done) }
}

// Session returns the current bound session, waiting for a rebind within
// ctx (or failing fast with ErrNotBound when so configured).
func (c *Client) Session(ctx context.Context) (*Session, error) {
	for {
		if s := c.cur.Load(); s != nil && s.Err() == nil {
			return s, nil
		}
		select {
		case <-c.closed:
			return nil, ErrClosed
		default:
		}
		if c.cfg.FailFast {
			return nil, ErrNotBound
		}
		c.mu.Lock()
		ready := c.ready
		c.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.closed:
			return nil, ErrClosed
		}
	}
}

// SMSCSystemID returns the system_id the SMSC gave in its last bind response.
func (c *Client) SMSCSystemID() string {
	if p := c.peerID.Load(); p != nil {
		return *p
	}
	return ""
}

// Call sends any request (custom commands included) on the current session
// and waits for its response. A response with a non-zero status is returned
// with the status as error. ESME_RTHROTTLED makes the client pause and send
// the request again (unless NoThrottleRetry), slowing every caller down.
func (c *Client) Call(ctx context.Context, req pdu.PDU) (pdu.PDU, error) {
	for {
		s, err := c.Session(ctx)
		if err != nil {
			return nil, err
		}
		if err := c.waitThrottle(ctx); err != nil {
			return nil, err
		}
		resp, err := s.Call(ctx, req)
		if errors.Is(err, pdu.ESME_RTHROTTLED) && !c.cfg.NoThrottleRetry {
			c.throttled()
			continue
		}
		if err == nil {
			c.throttle.Store(0)
		}
		return resp, err
	}
}

// CallAsync sends a request and calls done with its response from the
// session's reader goroutine (done must not block). It waits only for room
// in the window. Throttled responses are passed to done as they are.
func (c *Client) CallAsync(ctx context.Context, req pdu.PDU, done func(pdu.PDU, error)) error {
	s, err := c.Session(ctx)
	if err != nil {
		return err
	}
	if err := c.waitThrottle(ctx); err != nil {
		return err
	}
	return s.CallAsync(ctx, req, done)
}

// TryCallAsync sends a request on the current session if its window has
// room, without waiting (see Session.TryCallAsync); it fails with
// ErrNotBound while the link is down and ErrWindowFull when there is no room.
func (c *Client) TryCallAsync(req pdu.PDU, done func(pdu.PDU, error)) error {
	s := c.cur.Load()
	if s == nil || s.Err() != nil {
		return ErrNotBound
	}
	return s.TryCallAsync(req, done)
}

func (c *Client) throttled() {
	d := time.Duration(c.throttle.Load())
	d = min(max(2*d, c.cfg.ThrottleMin), c.cfg.ThrottleMax)
	c.throttle.Store(int64(d))
	until := time.Now().Add(d).UnixNano()
	if until > c.pauseUntil.Load() {
		c.pauseUntil.Store(until)
	}
	c.log.Warn("throttled by the SMSC; slowing down", "pause", d)
}

func (c *Client) waitThrottle(ctx context.Context) error {
	until := c.pauseUntil.Load()
	if until == 0 {
		return nil
	}
	d := time.Until(time.Unix(0, until))
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.closed:
		return ErrClosed
	}
}

// call is Call with the response's type checked.
func typedCall[R pdu.PDU](c *Client, ctx context.Context, req pdu.PDU) (R, error) {
	var zero R
	resp, err := c.Call(ctx, req)
	if resp == nil {
		return zero, err
	}
	r, ok := resp.(R)
	if !ok {
		if err == nil {
			err = fmt.Errorf("smpp: %s answered with %s", req.CommandID(), resp.CommandID())
		}
		return zero, err
	}
	return r, err
}

// Submit sends a submit_sm and returns its response.
func (c *Client) Submit(ctx context.Context, p *pdu.SubmitSM) (*pdu.SubmitSMResp, error) {
	return typedCall[*pdu.SubmitSMResp](c, ctx, p)
}

// SubmitMulti sends a submit_multi.
func (c *Client) SubmitMulti(ctx context.Context, p *pdu.SubmitMulti) (*pdu.SubmitMultiResp, error) {
	return typedCall[*pdu.SubmitMultiResp](c, ctx, p)
}

// DataSM sends a data_sm.
func (c *Client) DataSM(ctx context.Context, p *pdu.DataSM) (*pdu.DataSMResp, error) {
	return typedCall[*pdu.DataSMResp](c, ctx, p)
}

// Query sends a query_sm.
func (c *Client) Query(ctx context.Context, p *pdu.QuerySM) (*pdu.QuerySMResp, error) {
	return typedCall[*pdu.QuerySMResp](c, ctx, p)
}

// Cancel sends a cancel_sm.
func (c *Client) Cancel(ctx context.Context, p *pdu.CancelSM) (*pdu.CancelSMResp, error) {
	return typedCall[*pdu.CancelSMResp](c, ctx, p)
}

// Replace sends a replace_sm.
func (c *Client) Replace(ctx context.Context, p *pdu.ReplaceSM) (*pdu.ReplaceSMResp, error) {
	return typedCall[*pdu.ReplaceSMResp](c, ctx, p)
}

// Broadcast sends a broadcast_sm (v5.0).
func (c *Client) Broadcast(ctx context.Context, p *pdu.BroadcastSM) (*pdu.BroadcastSMResp, error) {
	return typedCall[*pdu.BroadcastSMResp](c, ctx, p)
}

// QueryBroadcast sends a query_broadcast_sm (v5.0).
func (c *Client) QueryBroadcast(ctx context.Context, p *pdu.QueryBroadcastSM) (*pdu.QueryBroadcastSMResp, error) {
	return typedCall[*pdu.QueryBroadcastSMResp](c, ctx, p)
}

// CancelBroadcast sends a cancel_broadcast_sm (v5.0).
func (c *Client) CancelBroadcast(ctx context.Context, p *pdu.CancelBroadcastSM) (*pdu.CancelBroadcastSMResp, error) {
	return typedCall[*pdu.CancelBroadcastSMResp](c, ctx, p)
}

// EnquireLink sends an enquire_link and waits for the answer.
func (c *Client) EnquireLink(ctx context.Context) error {
	_, err := c.Call(ctx, &pdu.EnquireLink{})
	return err
}

// Unbind unbinds gracefully (waiting, within ctx, for outstanding requests)
// and stops reconnecting.
func (c *Client) Unbind(ctx context.Context) error {
	if s := c.shut(); s != nil {
		return s.Unbind(ctx)
	}
	return nil
}

// Close closes the link at once and stops reconnecting; pending calls fail.
func (c *Client) Close() error {
	if s := c.shut(); s != nil {
		s.Close()
	}
	return nil
}

package smpp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppkit/smpp/pdu"
)

// Role says which end of an SMPP link a session is.
type Role uint8

const (
	// ESME is the application end: it binds, submits, receives deliveries.
	ESME Role = iota
	// SMSC is the message-centre end (v5.0: MC): it accepts binds.
	SMSC
)

func (r Role) String() string {
	if r == SMSC {
		return "SMSC"
	}
	return "ESME"
}

// Errors a session call can return besides a peer's pdu.Status.
var (
	// ErrClosed: the session is closed (or closed while the call waited).
	ErrClosed = errors.New("smpp: session closed")
	// ErrTimeout: no response came within the response timeout.
	ErrTimeout = errors.New("smpp: response timeout")
	// ErrUnbinding: the session is unbinding and takes no new requests.
	ErrUnbinding = errors.New("smpp: session is unbinding")
	// ErrPeerDead: the peer stopped answering enquire_link.
	ErrPeerDead = errors.New("smpp: peer stopped answering enquire_link")
	// ErrNotBound: no bound session is available (a client that is
	// reconnecting, configured to fail fast).
	ErrNotBound = errors.New("smpp: not bound")
)

// StateError is returned for a request the session state does not allow,
// before anything is sent.
type StateError struct {
	Command pdu.CommandID
	State   State
	Role    Role
}

func (e *StateError) Error() string {
	return fmt.Sprintf("smpp: %s may not send %s in state %s", e.Role, e.Command, e.State)
}

// Unwrap makes errors.Is(err, pdu.ESME_RINVBNDSTS) true.
func (e *StateError) Unwrap() error { return pdu.ESME_RINVBNDSTS }

// Direction tells a trace hook whether a PDU was sent or received.
type Direction uint8

const (
	Received Direction = iota
	Sent
)

func (d Direction) String() string {
	if d == Sent {
		return "sent"
	}
	return "received"
}

// settings are the knobs a Session runs with; Client options and Server
// fields fill them in.
type settings struct {
	window          int
	inboundWindow   int
	windowFull      pdu.Status
	responseTimeout time.Duration
	enquireInterval time.Duration
	inactivity      time.Duration
	bindTimeout     time.Duration
	writeTimeout    time.Duration
	maxLength       int
	decode          pdu.DecodeOptions
	logger          *slog.Logger
	trace           func(s *Session, d Direction, p pdu.PDU)
	handler         Handler
	reuse           bool // ReusePDUs
	// bind decides an inbound bind (server side); nil refuses binds.
	bind func(s *Session, p pdu.PDU) pdu.PDU
	// onState is told about state changes (server bookkeeping).
	onState func(s *Session, st State)
}

func (c *settings) defaults() {
	if c.window <= 0 {
		c.window = 10
	}
	if c.inboundWindow <= 0 {
		c.inboundWindow = c.window
	}
	if c.windowFull == 0 {
		c.windowFull = pdu.ESME_RMSGQFUL
	}
	if c.responseTimeout <= 0 {
		c.responseTimeout = 30 * time.Second
	}
	if c.writeTimeout <= 0 {
		c.writeTimeout = 30 * time.Second
	}
	if c.maxLength <= 0 {
		c.maxLength = pdu.DefaultMaxLength
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
}

// Session is one SMPP connection, either end. It runs one reader and one
// writer goroutine; the writer sends whatever has been queued since its last
// write in one system call. Requests to the peer go through a window of at
// most Window outstanding; requests from the peer are handled concurrently,
// up to the inbound window, by the Handler.
type Session struct {
	id   uint64
	conn net.Conn
	role Role
	cfg  settings
	log  *slog.Logger
	// reuse: Requests and decoded PDUs are recycled once their users are
	// done (ReusePDUs); never with a trace hook, which might keep them.
	reuse bool

	state     atomic.Int32
	unbinding atomic.Bool
	binding   atomic.Bool            // a bind is being decided (server side)
	systemID  atomic.Pointer[string] // the ESME's system_id once bound
	peerVer   atomic.Uint32          // the peer's interface version, if known

	// writing
	wmu   sync.Mutex // guards wbuf, enc and werr
	wbuf  []byte
	enc   pdu.Encoder
	wio   sync.Mutex // serialises writes to conn; guards spare
	spare []byte
	werr  error
	wkick chan struct{}
	// holdKick is set while the reader has more PDUs buffered: what is
	// written meanwhile waits for the end of the batch, so a batch of
	// requests gets its responses in as few writes as possible.
	holdKick atomic.Bool

	// outbound requests
	seq     atomic.Uint32
	window  *window
	pmu     sync.Mutex
	pending *pendingCalls

	// Requests for the handler run on the reader goroutine until one is
	// slow; then (concurrent) on workers. See monitor.go.
	reader     *pdu.Reader
	reading    atomic.Pointer[readerState] // the current reader's
	concurrent atomic.Bool

	// inbound requests being handled, and the workers handling them
	inflight atomic.Int32
	jobs     chan job
	workers  atomic.Int32
	idle     atomic.Int32

	// The hot path takes no clock readings: the reader raises these flags
	// and the timer goroutine turns them into times once per tick.
	recvSeen atomic.Bool  // a PDU arrived since the last tick
	dataSeen atomic.Bool  // … other than enquire_link(_resp)
	clock    atomic.Int64 // unix nanos, refreshed every tick
	writing  atomic.Int64 // unix nanos when the current write began, 0 if none
	tick     time.Duration

	closeOnce sync.Once
	closed    chan struct{}
	closeErr  error
	flushed   chan struct{} // the writer has exited
	stats     counters

	// Context is cancelled when the session closes; handlers can use it.
	ctx    context.Context
	cancel context.CancelFunc
}

func newSession(conn net.Conn, role Role, cfg settings) *Session {
	cfg.defaults()
	s := &Session{
		id:      sessionIDs.Add(1),
		conn:    conn,
		role:    role,
		cfg:     cfg,
		wbuf:    make([]byte, 0, 16<<10),
		spare:   make([]byte, 0, 16<<10),
		wkick:   make(chan struct{}, 1),
		window:  newWindow(cfg.window),
		pending: newPendingCalls(cfg.window),
		closed:  make(chan struct{}),
		flushed: make(chan struct{}),
		jobs:    make(chan job, cfg.inboundWindow),
		reuse:   cfg.reuse && cfg.trace == nil,
	}
	s.log = cfg.logger.With("remote", conn.RemoteAddr().String(), "role", role.String())
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.clock.Store(time.Now().UnixNano())
	s.tick = cfg.timerTick()
	return s
}

func (s *Session) start() {
	s.reader = pdu.NewReaderSize(s.conn, s.cfg.maxLength, 64<<10)
	if s.cfg.handler != nil {
		watch(s)
	}
	go s.readLoop()
	go s.writeLoop()
	go s.timerLoop()
}

var sessionIDs atomic.Uint64

// ID returns a number that tells the session apart from every other one in
// this process, for logs and for keeping per-session state.
func (s *Session) ID() uint64 { return s.id }

// State returns the session state.
func (s *Session) State() State { return State(s.state.Load()) }

// setState moves the session to st, unless it has closed meanwhile (CLOSED
// is final); it reports whether the state changed.
func (s *Session) setState(st State) bool {
	for {
		cur := s.state.Load()
		if State(cur) == StateClosed {
			return false
		}
		if s.state.CompareAndSwap(cur, int32(st)) {
			break
		}
	}
	if s.cfg.onState != nil {
		s.cfg.onState(s, st)
	}
	return true
}

// Role returns which end of the link this session is.
func (s *Session) Role() Role { return s.role }

// SystemID returns the ESME's system_id once the session is bound ("" before).
func (s *Session) SystemID() string {
	if p := s.systemID.Load(); p != nil {
		return *p
	}
	return ""
}

// RemoteAddr returns the peer's address (after PROXY protocol, if any).
func (s *Session) RemoteAddr() net.Addr { return s.conn.RemoteAddr() }

// LocalAddr returns the local address of the connection.
func (s *Session) LocalAddr() net.Addr { return s.conn.LocalAddr() }

// Conn returns the underlying connection (a *tls.Conn for TLS sessions).
func (s *Session) Conn() net.Conn { return s.conn }

// Context returns a context that is cancelled when the session closes.
func (s *Session) Context() context.Context { return s.ctx }

// Done is closed when the session has closed.
func (s *Session) Done() <-chan struct{} { return s.closed }

// Err returns why the session closed (nil while it is open).
func (s *Session) Err() error {
	select {
	case <-s.closed:
		return s.closeErr
	default:
		return nil
	}
}

// Window returns the session's window: how many requests may be in flight.
func (s *Session) Window() int { return int(s.window.max) }

// InFlight returns the number of requests sent and not yet answered.
func (s *Session) InFlight() int { return s.window.inFlight() }

// call is one outstanding request.
type call struct {
	seq      uint32
	deadline int64
	ch       chan result          // synchronous callers wait here
	cb       func(pdu.PDU, error) // asynchronous callers get this called
	id       pdu.CommandID
	// bound is the state a successful bind response puts the session in;
	// the reader sets it before reading on, so a deliver_sm right behind
	// the bind_resp finds the session bound.
	bound State
}

type result struct {
	resp pdu.PDU
	err  error
}

var callPool = sync.Pool{New: func() any { return &call{ch: make(chan result, 1)} }}

func (s *Session) nextSeq() uint32 {
	for {
		n := s.seq.Add(1)
		if n <= 0x7FFFFFFF {
			return n
		}
		// Wrap back to 1 (v5.0 §4.7.24); the CAS keeps concurrent callers
		// from resetting twice.
		if s.seq.CompareAndSwap(n, 0) {
			continue
		}
	}
}

// Call sends a request and waits for its response, within ctx and the
// response timeout. The sequence number is assigned here. When the window is
// full Call waits for room (within ctx); it never drops the request. A
// response with a non-zero command_status is returned together with that
// status as the error (a pdu.Status), so callers can test
// errors.Is(err, pdu.ESME_RTHROTTLED) and still read the response.
func (s *Session) Call(ctx context.Context, req pdu.PDU) (pdu.PDU, error) {
	return s.call(ctx, req, 0)
}

// call is Call; a bind passes the state its success leads to.
func (s *Session) call(ctx context.Context, req pdu.PDU, bound State) (pdu.PDU, error) {
	c, err := s.sendMode(ctx, req, nil, true, bound)
	if err != nil {
		return nil, err
	}
	select {
	case r := <-c.ch:
		callPool.Put(c)
		return r.resp, r.err
	case <-ctx.Done():
		if s.forget(c.seq) {
			callPool.Put(c)
		} // else a result is on its way; drop c rather than reuse it
		return nil, ctx.Err()
	}
}

// CallAsync sends a request and returns once it is queued; done is called
// with the response (or error) later, from the session's reader goroutine or
// timer, so it must not block. Waiting for window room respects ctx.
//
// With ReusePDUs the response is lent to done: the session decodes a later
// response into the same struct once done returns. Its values (strings,
// slices) stay valid; copy the struct (q := *resp.(*pdu.SubmitSMResp)) to
// keep it.
func (s *Session) CallAsync(ctx context.Context, req pdu.PDU, done func(resp pdu.PDU, err error)) error {
	_, err := s.send(ctx, req, done)
	return err
}

// ErrWindowFull is returned by TryCallAsync when the window has no room.
var ErrWindowFull = errors.New("smpp: window full")

// TryCallAsync is CallAsync that never waits: with the window full it
// returns ErrWindowFull at once. It is safe to call from a done callback,
// which runs on the session's reader, so a pipeline can issue each next
// request from the completion of the one before (the slot that completion
// freed is already back in the window): a closed loop with no goroutine
// switch per request.
func (s *Session) TryCallAsync(req pdu.PDU, done func(resp pdu.PDU, err error)) error {
	_, err := s.sendNoWait(req, done)
	return err
}

func (s *Session) send(ctx context.Context, req pdu.PDU, cb func(pdu.PDU, error)) (*call, error) {
	return s.sendMode(ctx, req, cb, true, 0)
}

func (s *Session) sendNoWait(req pdu.PDU, cb func(pdu.PDU, error)) (*call, error) {
	return s.sendMode(context.Background(), req, cb, false, 0)
}

// sendMode queues a request. For a synchronous call (cb nil) it returns the
// call to wait on; an asynchronous call's done is called exactly once when
// sendMode returns nil, and never when it returns an error.
func (s *Session) sendMode(ctx context.Context, req pdu.PDU, cb func(pdu.PDU, error), wait bool, bound State) (*call, error) {
	id := req.CommandID()
	if !id.HasResponse() {
		return nil, fmt.Errorf("smpp: %s has no response; use Send", id)
	}
	if err := s.checkSend(id); err != nil {
		return nil, err
	}
	// Window: try without blocking first, to count waits.
	if !s.window.tryAcquire() {
		if !wait {
			return nil, ErrWindowFull
		}
		s.stats.windowWaits.Add(1)
		if err := s.window.acquire(ctx, s.closed); err != nil {
			if errors.Is(err, ErrClosed) {
				err = s.closedErr()
			}
			return nil, err
		}
	}
	// Unbind waits for the window to empty after raising the flag, so a
	// caller that took its slot before seeing the flag is waited for, and
	// one that sees it backs out: nothing goes out behind the unbind.
	if s.unbinding.Load() && id != pdu.UnbindID {
		s.window.release()
		return nil, ErrUnbinding
	}
	c := callPool.Get().(*call)
	c.cb = cb
	c.id = id
	c.bound = bound
	seq := s.nextSeq()
	c.seq = seq
	// The coarse clock lags by up to a tick: add one, so a timeout never
	// fires early (and at most a quarter of itself late).
	c.deadline = s.clock.Load() + int64(s.cfg.responseTimeout) + int64(s.tick)
	req.Head().SequenceNumber = seq
	req.Head().CommandStatus = 0
	s.pmu.Lock()
	if s.pending.closed { // closed meanwhile
		s.pmu.Unlock()
		s.window.release()
		callPool.Put(c)
		return nil, s.closedErr()
	}
	s.pending.put(c)
	s.pmu.Unlock()
	// A caller that has just filled the window writes the queue out
	// itself (it is about to wait anyway): a window-bound producer then
	// costs no writer wake-ups at all.
	full := s.window.full()
	if err := s.writeKick(req, !full); err != nil {
		if s.forget(seq) {
			c.cb = nil
			callPool.Put(c)
			return nil, err
		}
		// The session closed meanwhile and has completed the call with
		// its error already (or is about to): that is the one report.
		// An asynchronous c may be back in the pool: do not touch it.
		if cb != nil {
			return nil, nil
		}
		return c, nil
	}
	if full && !s.holdKick.Load() {
		// (While the reader holds writes, it flushes at the end of its batch.)
		s.flushNow()
	}
	return c, nil
}

// forget removes a pending call and frees its window slot; it reports
// whether the call was still pending (nobody else will complete it).
func (s *Session) forget(seq uint32) bool {
	s.pmu.Lock()
	c := s.pending.take(seq)
	ok := c != nil
	s.pmu.Unlock()
	if ok {
		s.window.release()
	}
	return ok
}

// complete reports the call's outcome to its caller. It reports whether
// resp is free again: an asynchronous caller's done has returned (resp is
// only lent to it), while a synchronous caller keeps resp.
func (c *call) complete(resp pdu.PDU, err error) (free bool) {
	if c.cb != nil {
		cb := c.cb
		c.cb = nil
		callPool.Put(c)
		cb(resp, err)
		return true
	}
	c.ch <- result{resp, err}
	return false
}

// Send sends a PDU that gets no response (alert_notification, outbind,
// generic_nack) or a response the caller built itself.
func (s *Session) Send(p pdu.PDU) error {
	id := p.CommandID()
	if !id.IsResponse() {
		if err := s.checkSend(id); err != nil {
			return err
		}
		// A request without a response (alert_notification, outbind)
		// still takes a sequence number from 1 up; generic_nack keeps
		// the one of the PDU it answers.
		if id != pdu.GenericNackID && p.Head().SequenceNumber == 0 {
			p.Head().SequenceNumber = s.nextSeq()
		}
	}
	return s.write(p)
}

func (s *Session) checkSend(id pdu.CommandID) error {
	select {
	case <-s.closed:
		return s.closedErr()
	default:
	}
	if s.unbinding.Load() && id != pdu.UnbindID {
		return ErrUnbinding
	}
	if st := s.State(); !allowed(s.role, st, id) {
		return &StateError{Command: id, State: st, Role: s.role}
	}
	return nil
}

func (s *Session) closedErr() error {
	if s.closeErr != nil && !errors.Is(s.closeErr, ErrClosed) {
		return fmt.Errorf("%w: %w", ErrClosed, s.closeErr)
	}
	return ErrClosed
}

// write queues p for the writer goroutine.
func (s *Session) write(p pdu.PDU) error { return s.writeKick(p, true) }

// writeKick queues p and, if kick, wakes the writer (unless the reader is
// holding writes until the end of its batch).
func (s *Session) writeKick(p pdu.PDU, kick bool) error {
	if s.cfg.trace != nil {
		s.cfg.trace(s, Sent, p)
	}
	s.wmu.Lock()
	if s.werr != nil {
		err := s.werr
		s.wmu.Unlock()
		return err
	}
	buf, err := s.enc.Append(s.wbuf, p)
	s.wbuf = buf
	if err == nil {
		s.stats.sent(p.CommandID(), p.Head().CommandStatus)
	}
	s.wmu.Unlock()
	if err != nil {
		return err
	}
	if kick && !s.holdKick.Load() {
		s.kick()
	}
	return nil
}

func (s *Session) kick() {
	select {
	case s.wkick <- struct{}{}:
	default:
	}
}

func (s *Session) queued() int {
	s.wmu.Lock()
	n := len(s.wbuf)
	s.wmu.Unlock()
	return n
}

func (s *Session) writeLoop() {
	defer close(s.flushed)
	for {
		var closing bool
		select {
		case <-s.wkick:
			// Give the goroutines that woke us a moment to queue more:
			// one system call for many PDUs is what makes throughput.
			// Keep yielding while more keeps arriving, up to 32 KiB.
			for n, i := s.queued(), 0; i < 64 && n < 32<<10; i++ {
				runtime.Gosched()
				m := s.queued()
				if m == n {
					break
				}
				n = m
			}
		case <-s.closed:
			closing = true
		}
		s.wio.Lock()
		err := s.flushLocked()
		s.wio.Unlock()
		if err != nil || closing {
			s.conn.Close()
			return
		}
	}
}

// flushNow writes what is queued from the calling goroutine, unless a write
// is already under way (then the writer goroutine is asked to follow up).
// The reader calls it at the end of a batch: one goroutine switch fewer per
// batch than waking the writer.
func (s *Session) flushNow() {
	if !s.wio.TryLock() {
		s.kick()
		return
	}
	s.flushLocked()
	s.wio.Unlock()
}

// readerFlush is flushNow for the reader; it reports whether the monitor
// handed reading to a new goroutine while this one was blocked writing.
func (s *Session) readerFlush(rs *readerState) (takenOver bool) {
	if !s.wio.TryLock() {
		s.kick()
		return false
	}
	rs.busy(readerWriting)
	s.flushLocked()
	s.wio.Unlock()
	return !rs.idle(readerWriting)
}

// flushLocked writes the queued octets in one system call; s.wio is held.
func (s *Session) flushLocked() error {
	s.wmu.Lock()
	buf := s.wbuf
	s.wbuf = s.spare[:0]
	s.wmu.Unlock()
	if len(buf) == 0 {
		s.spare = buf
		return nil
	}
	s.writing.Store(s.clock.Load())
	_, err := s.conn.Write(buf)
	s.writing.Store(0)
	s.stats.writes.Add(1)
	s.stats.bytesWritten.Add(uint64(len(buf)))
	s.spare = buf
	if err != nil {
		s.wmu.Lock()
		s.werr = fmt.Errorf("%w: write: %w", ErrClosed, err)
		s.wmu.Unlock()
		s.shutdown(err)
	}
	return err
}

// readLoop reads, decodes and dispatches PDUs. A new readLoop takes over
// when the running one is stuck in a slow handler (monitor.go); the old one
// then returns as soon as its handler does.
func (s *Session) readLoop() {
	takenOver := false
	rs := &readerState{}
	defer func() {
		s.stats.flushReceived(rs)
		if !takenOver {
			close(s.jobs) // the last reader is the only sender; workers then exit
		}
	}()
	r := s.reader
	s.reading.Store(rs)
	dec := pdu.Decoder{Options: s.cfg.decode}
	// Decoded PDUs are recycled when reuse is on: responses once an
	// asynchronous caller's done has returned, requests once their handler
	// has returned and the response is out (see Request).
	var spareResp pdu.PDU
	var req *Request // the next request's, taken from the pool
	for {
		// Writes wait while the reader works through what it has read
		// (responses, and requests callbacks issue, pile up), and go out
		// in one system call before the reader blocks for more.
		if !r.HasNext() {
			s.stats.flushReceived(rs)
			if s.holdKick.Load() {
				s.holdKick.Store(false)
			}
			if s.readerFlush(rs) {
				takenOver = true
				return
			}
		}
		b, err := r.Next()
		if err == nil && !s.holdKick.Load() {
			s.holdKick.Store(true)
		}
		if err != nil {
			var pe *pdu.Error
			if errors.As(err, &pe) {
				// A command_length we cannot frame: answer, then close,
				// since the stream cannot be resynchronised.
				s.stats.decodeErrors.Add(1)
				s.log.Warn("unframeable PDU; closing", "err", err)
				s.Send(pdu.Reply(pe))
				s.shutdown(err)
				return
			}
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				err = io.EOF
			}
			s.shutdown(err)
			return
		}
		if !s.recvSeen.Load() {
			s.recvSeen.Store(true)
		}
		if s.dispatch(b, rs) {
			continue
		}
		var p pdu.PDU
		switch id := pdu.CommandID(binary.BigEndian.Uint32(b[4:])); {
		case !s.reuse:
			p, err = dec.Decode(b)
		case id.IsResponse():
			p, err = dec.DecodeInto(b, spareResp)
		case s.forHandler(id):
			if req == nil {
				req = s.newRequest()
			}
			p, err = dec.DecodeInto(b, req.spare)
		default:
			p, err = dec.Decode(b)
		}
		if err != nil {
			s.badPDU(err)
			continue
		}
		id := p.CommandID()
		if id != pdu.EnquireLinkID && id != pdu.EnquireLinkRespID && !s.dataSeen.Load() {
			s.dataSeen.Store(true)
		}
		if s.cfg.trace != nil {
			s.cfg.trace(s, Received, p)
		}
		s.stats.received(rs, id, p.Head().CommandStatus)
		if id.IsResponse() {
			if s.response(p) {
				spareResp = p
			} else if p == spareResp {
				spareResp = nil
			}
			continue
		}
		var stop bool
		if req, stop = s.request(p, rs, req); stop {
			takenOver = true
			return
		}
	}
}

// forHandler reports whether requests with id go to the Handler, unless the
// state or the inbound window refuses them; binds, unbind, enquire_link and
// outbind are the session's own.
func (s *Session) forHandler(id pdu.CommandID) bool {
	switch id {
	case pdu.EnquireLinkID, pdu.UnbindID, pdu.BindTransmitterID, pdu.BindReceiverID, pdu.BindTransceiverID, pdu.OutbindID:
		return false
	}
	return s.cfg.handler != nil && !id.IsResponse() // (generic_nack is a response)
}

// badPDU answers a PDU that was framed but did not decode, as the spec asks,
// and keeps the session going.
func (s *Session) badPDU(err error) {
	s.stats.decodeErrors.Add(1)
	var pe *pdu.Error
	if !errors.As(err, &pe) {
		s.log.Warn("undecodable PDU", "err", err)
		return
	}
	s.log.Warn("bad PDU", "err", err, "seq", pe.Header.SequenceNumber)
	if pe.CommandID.IsResponse() {
		// A response we cannot read still answers its request.
		s.pmu.Lock()
		c := s.pending.take(pe.Header.SequenceNumber)
		ok := c != nil
		s.pmu.Unlock()
		if ok {
			s.window.release()
			c.complete(nil, err)
		}
		return
	}
	if reply := pdu.Reply(pe); reply != nil {
		s.Send(reply)
	}
}

// response hands a response to its caller; it reports whether p is free
// for reuse afterwards.
func (s *Session) response(p pdu.PDU) (free bool) {
	seq := p.Head().SequenceNumber
	s.pmu.Lock()
	c := s.pending.take(seq)
	ok := c != nil
	s.pmu.Unlock()
	if !ok {
		s.stats.unmatched.Add(1)
		s.log.Warn("response matches no pending request (late or unknown)", "command", p.CommandID(), "seq", seq)
		return true
	}
	s.window.release()
	id := p.CommandID()
	st := p.Head().CommandStatus
	if id != c.id.Response() && (id != pdu.GenericNackID || st == pdu.ESME_ROK) {
		// (A generic_nack that says OK answers nothing.)
		return c.complete(p, fmt.Errorf("smpp: %s answered with %s", c.id, id))
	}
	var err error
	if st != pdu.ESME_ROK {
		err = st
	} else if c.bound != 0 && !s.setState(c.bound) {
		err = s.closedErr()
	}
	return c.complete(p, err)
}

// request handles a request from the peer. req, if not nil, is the Request
// p was decoded for; next is the one for the reader's next request (req
// again unless the handler has it), takenOver whether another reader took
// over while the handler ran inline.
func (s *Session) request(p pdu.PDU, rs *readerState, req *Request) (next *Request, takenOver bool) {
	next = req
	id := p.CommandID()
	st := s.State()
	switch id {
	case pdu.EnquireLinkID:
		s.Send(pdu.NewResponse(p, pdu.ESME_ROK))
		return
	case pdu.UnbindID:
		if !st.Bound() {
			s.Send(pdu.NewResponse(p, pdu.ESME_RINVBNDSTS))
			return
		}
		s.setState(StateUnbound)
		s.Send(pdu.NewResponse(p, pdu.ESME_ROK))
		s.log.Info("peer unbound")
		s.shutdown(errPeerUnbound)
		return
	case pdu.BindTransmitterID, pdu.BindReceiverID, pdu.BindTransceiverID:
		if s.role != SMSC {
			break // the state check below answers ESME_RINVBNDSTS
		}
		if st.Bound() {
			s.Send(pdu.NewResponse(p, pdu.ESME_RALYBND))
			return
		}
		if st != StateOpen && st != StateOutbound {
			s.Send(pdu.NewResponse(p, pdu.ESME_RINVBNDSTS))
			return
		}
		if s.cfg.bind == nil {
			s.Send(pdu.NewResponse(p, pdu.ESME_RINVCMDID))
			return
		}
		// One bind at a time: a second one pipelined behind the first
		// must not be decided while the first still is.
		if !s.binding.CompareAndSwap(false, true) {
			s.Send(pdu.NewResponse(p, pdu.ESME_RALYBND))
			return
		}
		// Binding (authentication) may block: do it off the reader.
		go func() {
			resp := s.cfg.bind(s, p)
			if resp != nil {
				s.Send(resp)
			}
			if resp == nil || resp.Head().CommandStatus != pdu.ESME_ROK {
				s.binding.Store(false) // refused: the ESME may try again
			}
		}()
		return
	}
	if !allowed(peerRole(s.role), st, id) {
		if id.HasResponse() {
			s.Send(pdu.NewResponse(p, pdu.ESME_RINVBNDSTS))
		}
		return
	}
	if s.unbinding.Load() {
		if id.HasResponse() {
			// Going away: the MC is unavailable, the ESME asks for a retry.
			st := pdu.ESME_RSYSERR
			if s.role == ESME {
				st = pdu.ESME_RX_T_APPN
			}
			s.Send(pdu.NewResponse(p, st))
		}
		return
	}
	if s.cfg.handler == nil {
		if id.HasResponse() {
			// Nobody takes these here: a temporary error keeps a
			// delivery at the SMSC instead of acknowledging it away.
			st := pdu.ESME_RINVCMDID
			if id == pdu.DeliverSMID || id == pdu.DataSMID {
				st = pdu.ESME_RX_T_APPN
			}
			s.Send(pdu.NewResponse(p, st))
		}
		return
	}
	if id.HasResponse() && int(s.inflight.Load()) >= s.cfg.inboundWindow {
		s.stats.windowRejects.Add(1)
		s.Send(pdu.NewResponse(p, s.cfg.windowFull))
		return
	}
	s.inflight.Add(1)
	if req == nil {
		req = s.newRequest()
	}
	req.PDU = p
	if !s.concurrent.Load() {
		rs.busy(readerInHandler)
		s.serve(req)
		if !req.recyclable() {
			next = nil
		} else {
			req.recycle() // (no pool: the reader goes on with it)
		}
		return next, !rs.idle(readerInHandler)
	}
	s.enqueue(job{req: req})
	return nil, false
}

// job is a request for a worker: raw octets to decode, or a decoded request.
type job struct {
	raw []byte
	req *Request
}

// dispatch hands a request for the Handler to a worker without decoding it:
// the reader only frames and checks the header, and the workers decode in
// parallel. It reports false for what the reader must decode itself:
// responses, session management (binds, unbind, enquire_link), unknown
// commands, and requests the state or the window refuse (answered from the
// header).
func (s *Session) dispatch(b []byte, rs *readerState) bool {
	id := pdu.CommandID(binary.BigEndian.Uint32(b[4:]))
	if !s.forHandler(id) || !s.concurrent.Load() || s.unbinding.Load() {
		return false
	}
	if !id.HasResponse() || !allowed(peerRole(s.role), s.State(), id) || int(s.inflight.Load()) >= s.cfg.inboundWindow {
		return false
	}
	if !pdu.Known(id) {
		return false
	}
	if id != pdu.EnquireLinkID && !s.dataSeen.Load() {
		s.dataSeen.Store(true)
	}
	s.stats.received(rs, id, pdu.Status(binary.BigEndian.Uint32(b[8:])))
	s.inflight.Add(1)
	s.enqueue(job{raw: append([]byte(nil), b...)})
	return true
}

// enqueue queues a raw request for the workers; it never blocks, since
// inflight ≤ the channel's capacity.
func (s *Session) enqueue(j job) {
	s.jobs <- j
	// Workers are started as the load needs them, up to the inbound
	// window, and then stay: handing a request to a parked worker is much
	// cheaper than starting a goroutine per request.
	if s.idle.Load() == 0 && int(s.workers.Load()) < s.cfg.inboundWindow {
		s.workers.Add(1)
		go s.work()
	}
}

// work decodes and handles requests until the session's reader stops.
func (s *Session) work() {
	for {
		s.idle.Add(1)
		j, ok := <-s.jobs
		s.idle.Add(-1)
		if !ok {
			return
		}
		req := j.req
		if req == nil {
			p, err := s.cfg.decode.DecodeOwned(j.raw)
			if err != nil {
				s.inflight.Add(-1)
				s.badPDU(err)
				continue
			}
			if s.cfg.trace != nil {
				s.cfg.trace(s, Received, p)
			}
			req = s.newRequest()
			req.PDU = p
		}
		s.serve(req)
		if req.recyclable() {
			req.pool()
		}
	}
}

var errPeerUnbound = errors.New("smpp: peer unbound")

func (s *Session) serve(req *Request) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("handler panicked", "command", req.PDU.CommandID(), "panic", v)
			if !req.responded.Load() && req.PDU.CommandID().HasResponse() {
				req.RespondStatus(pdu.ESME_RSYSERR)
			}
		}
		if !req.PDU.CommandID().HasResponse() {
			// Nothing to answer (alert_notification): its inbound slot
			// is free once the handler returns, detached or not.
			if req.responded.CompareAndSwap(false, true) {
				s.inflight.Add(-1)
			}
		} else if !req.responded.Load() && !req.detached.Load() {
			s.log.Error("handler returned without responding; answering ESME_RSYSERR", "command", req.PDU.CommandID())
			req.RespondStatus(pdu.ESME_RSYSERR)
		}
	}()
	s.cfg.handler.ServeSMPP(req, req)
}

// shutdown closes the session once, failing every pending call.
func (s *Session) shutdown(err error) {
	s.closeOnce.Do(func() {
		if err == nil {
			err = ErrClosed
		}
		s.closeErr = err
		s.state.Store(int32(StateClosed))
		// What was queued before the close still goes out; nothing
		// after it does, and its writer learns so.
		s.wmu.Lock()
		if s.werr == nil {
			s.werr = s.closedErr()
		}
		s.wmu.Unlock()
		unwatch(s)
		close(s.closed)
		s.cancel()
		s.pmu.Lock()
		var pend []*call
		s.pending.each(func(c *call) { pend = append(pend, s.pending.take(c.seq)) })
		s.pending.closed = true
		s.pmu.Unlock()
		cerr := s.closedErr()
		for _, c := range pend {
			c.complete(nil, cerr)
		}
		if s.cfg.onState != nil {
			s.cfg.onState(s, StateClosed)
		}
		if err == io.EOF || errors.Is(err, errPeerUnbound) || errors.Is(err, ErrClosed) {
			s.log.Info("session closed", "reason", err)
		} else {
			s.log.Warn("session closed", "reason", err)
		}
		// The writer flushes what is queued (an unbind_resp, a
		// generic_nack) and closes the connection; make sure it does not
		// hang on a peer that stopped reading.
		go func() {
			select {
			case <-s.flushed:
			case <-time.After(2 * time.Second):
				s.conn.Close()
			}
		}()
	})
}

// Close closes the session at once: pending calls fail with ErrClosed.
// Use Unbind for a graceful end.
func (s *Session) Close() error {
	s.shutdown(ErrClosed)
	<-s.flushed
	return nil
}

// Unbind ends the session gracefully: it stops taking new requests, waits
// (within ctx) for outstanding ones to finish, sends unbind, waits for
// unbind_resp and closes the connection. Callers waiting for window room
// when it begins get ErrUnbinding. A handler that wants to end its session
// should respond first (or call Unbind from another goroutine): Unbind waits
// for the requests being handled, the caller's own included.
func (s *Session) Unbind(ctx context.Context) error {
	if !s.State().Bound() {
		return s.Close()
	}
	s.unbinding.Store(true)
	for s.window.inFlight() > 0 || s.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			s.Close()
			return ctx.Err()
		case <-s.closed:
			return nil
		case <-time.After(5 * time.Millisecond):
		}
	}
	_, err := s.Call(ctx, &pdu.Unbind{})
	s.setState(StateUnbound)
	s.Close()
	if err != nil && !errors.Is(err, ErrClosed) {
		return err
	}
	return nil
}

// timerTick is how often the timer goroutine looks: a quarter of the
// shortest timer, within 5 ms..1 s.
func (c *settings) timerTick() time.Duration {
	tick := c.responseTimeout / 4
	for _, d := range []time.Duration{c.enquireInterval / 4, c.inactivity / 4, c.bindTimeout / 4} {
		if d > 0 && d < tick {
			tick = d
		}
	}
	return min(max(tick, 5*time.Millisecond), time.Second)
}

func (s *Session) timerLoop() {
	t := time.NewTicker(s.tick)
	defer t.Stop()
	start := time.Now()
	lastRecv, lastData := start, start
	var probing atomic.Bool
	inactive := false        // the inactivity unbind has begun
	var writeRS *readerState // the reader and write seen at the last tick
	var writeEpoch uint32
	for {
		select {
		case <-s.closed:
			return
		case now := <-t.C:
			s.clock.Store(now.UnixNano())
			if s.recvSeen.Swap(false) {
				lastRecv = now
			}
			if s.dataSeen.Swap(false) {
				lastData = now
			}
			if w := s.writing.Load(); w != 0 && now.UnixNano()-w > int64(s.cfg.writeTimeout) {
				s.log.Warn("peer does not read; closing", "write_timeout", s.cfg.writeTimeout)
				s.shutdown(fmt.Errorf("smpp: write blocked for over %v", s.cfg.writeTimeout))
				s.conn.Close()
				return
			}
			s.expire(now)
			// A reader blocked in the same write since the last tick: see
			// monitor.go (which acts sooner for sessions with handlers).
			if rs := s.reading.Load(); rs != nil {
				if e := rs.epoch.Load(); rs == writeRS && e == writeEpoch && rs.state.Load() == readerWriting {
					s.takeOverWriter(rs)
				} else {
					writeRS, writeEpoch = rs, e
				}
			}
			st := s.State()
			if s.cfg.bindTimeout > 0 && (st == StateOpen || st == StateOutbound) && now.Sub(start) > s.cfg.bindTimeout {
				s.log.Warn("not bound in time; closing", "bind_timeout", s.cfg.bindTimeout)
				s.shutdown(fmt.Errorf("smpp: not bound within %v", s.cfg.bindTimeout))
				return
			}
			if s.cfg.inactivity > 0 && st.Bound() && now.Sub(lastData) > s.cfg.inactivity && !inactive {
				inactive = true
				s.log.Info("inactive; unbinding", "inactivity", s.cfg.inactivity)
				// The timer keeps running meanwhile: the unbind itself
				// may need its response timeout.
				go func() {
					ctx, cancel := context.WithTimeout(s.ctx, s.cfg.responseTimeout+s.tick)
					defer cancel()
					s.Unbind(ctx)
				}()
			}
			if s.cfg.enquireInterval > 0 && now.Sub(lastRecv) > s.cfg.enquireInterval && probing.CompareAndSwap(false, true) {
				// Never wait for window room here: this goroutine is
				// what times calls out. A full window is probe enough,
				// since each of its calls times out if the peer is gone.
				_, err := s.sendNoWait(&pdu.EnquireLink{}, func(_ pdu.PDU, err error) {
					probing.Store(false)
					if errors.Is(err, ErrTimeout) {
						s.log.Warn("peer does not answer enquire_link; closing")
						s.shutdown(ErrPeerDead)
					}
				})
				if err != nil {
					probing.Store(false)
				}
			}
		}
	}
}

// expire fails the calls whose response timeout has passed.
func (s *Session) expire(now time.Time) {
	n := now.UnixNano()
	var late []*call
	s.pmu.Lock()
	s.pending.each(func(c *call) {
		if c.deadline < n {
			late = append(late, s.pending.take(c.seq))
		}
	})
	s.pmu.Unlock()
	for _, c := range late {
		s.window.release()
		s.stats.timeouts.Add(1)
		s.log.Warn("response timeout", "command", c.id, "seq", c.seq)
		c.complete(nil, ErrTimeout)
	}
}

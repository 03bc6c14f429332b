package smpp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppkit/smpp/pdu"
)

// Session is one SMPP connection, either end. It runs one reader and one
// writer goroutine; the writer sends whatever has been queued since its last
// write in one system call. Requests to the peer go through a window of at
// most the outbound window outstanding; requests from the peer go to the
// Handler, at most the inbound window of them at once, as its HandlerMode
// says.
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
	value     atomic.Pointer[any]    // what Auth put in BindRequest.Value
	peerVer   atomic.Uint32          // the peer's interface version, if known

	wr writer // the outbound half (writer.go)

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
	watched    atomic.Bool // on the monitor's list (monitor.go)

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

// newSession makes a session on conn.
func newSession(conn net.Conn, role Role, cfg settings) *Session {
	cfg.defaults()
	s := &Session{
		id:      sessionIDs.Add(1),
		conn:    conn,
		role:    role,
		cfg:     cfg,
		window:  newWindow(cfg.outboundWindow),
		pending: newPendingCalls(cfg.outboundWindow),
		closed:  make(chan struct{}),
		flushed: make(chan struct{}),
		jobs:    make(chan job, cfg.inboundWindow),
		reuse:   cfg.reuse && cfg.trace == nil,
	}
	s.wr = newWriter(conn, &s.stats)
	if cfg.handlerMode == HandleConcurrent {
		s.concurrent.Store(true)
	}
	s.log = cfg.logger.With("remote", conn.RemoteAddr().String(), "role", role.String())
	s.ctx, s.cancel = context.WithCancel(cfg.base)
	s.clock.Store(time.Now().UnixNano())
	s.tick = cfg.timerTick()
	return s
}

func (s *Session) start() {
	s.reader = pdu.NewReaderSize(s.conn, s.cfg.maxLength, 64<<10)
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

// Value returns what the server's Auth put in BindRequest.Value for this
// session's bind (a gateway's account, say), nil before the bind or when it
// put nothing. It is set before the session is bound, so a handler always
// sees it.
func (s *Session) Value() any {
	if p := s.value.Load(); p != nil {
		return *p
	}
	return nil
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

// OutboundWindow returns how many requests to the peer may be in flight.
func (s *Session) OutboundWindow() int { return int(s.window.max) }

// InboundWindow returns how many requests from the peer may be handled at
// once.
func (s *Session) InboundWindow() int { return s.cfg.inboundWindow }

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
	c, err := s.startCall(ctx, req, nil, true, bound)
	if err != nil {
		return nil, err
	}
	return s.await(ctx, c)
}

// await waits for a synchronous call's outcome, within ctx.
func (s *Session) await(ctx context.Context, c *call) (pdu.PDU, error) {
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
	_, err := s.startCall(ctx, req, done, true, 0)
	return err
}

// TryCallAsync is CallAsync that never waits: with the window full it
// returns ErrWindowFull at once. It is safe to call from a done callback,
// which runs on the session's reader, so a pipeline can issue each next
// request from the completion of the one before (the slot that completion
// freed is already back in the window): a closed loop with no goroutine
// switch per request.
func (s *Session) TryCallAsync(req pdu.PDU, done func(resp pdu.PDU, err error)) error {
	_, err := s.startCall(context.Background(), req, done, false, 0)
	return err
}

// startCall queues a request whose response is awaited: Call, CallAsync
// and TryCallAsync (wait false: never wait for window room) all start here.
// For a synchronous call (cb nil) it returns the call to wait on; an
// asynchronous call's cb is called exactly once when startCall returns nil,
// and never when it returns an error.
func (s *Session) startCall(ctx context.Context, req pdu.PDU, cb func(pdu.PDU, error), wait bool, bound State) (*call, error) {
	id := req.CommandID()
	if !id.HasResponse() {
		return nil, fmt.Errorf("smpp: %s has no response; use WritePDU", id)
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
	if err := s.put(req, !full); err != nil {
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
	if full && !s.wr.hold.Load() {
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

// WritePDU queues a PDU for the wire and returns: no response is awaited or
// matched (Call and CallAsync are for requests that get one). It is for
// PDUs that get no response (alert_notification, outbind, generic_nack) and
// for responses the caller built itself. A request is checked against the
// session state and given a sequence number unless it has one; a response
// goes out as it is.
func (s *Session) WritePDU(p pdu.PDU) error {
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
	return s.put(p, true)
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

// put queues p for the wire and, if kick, wakes the writer (unless the
// reader is holding writes until the end of its batch). Every PDU the
// session sends goes through here, and is traced and counted here.
func (s *Session) put(p pdu.PDU, kick bool) error { return s.putThen(p, kick, nil, nil) }

// putReleasing is put that decrements release as the writer's put does.
func (s *Session) putReleasing(p pdu.PDU, kick bool, release *atomic.Int32) error {
	return s.putThen(p, kick, release, nil)
}

// putThen is put with the writer's putThen.
func (s *Session) putThen(p pdu.PDU, kick bool, release *atomic.Int32, then func()) error {
	if s.cfg.trace != nil {
		s.cfg.trace(s, Sent, p)
	}
	if err := s.wr.putThen(p, release, then); err != nil {
		return err
	}
	if kick && !s.wr.hold.Load() {
		s.wr.kick()
	}
	return nil
}

// respond queues a response the session itself gives.
func (s *Session) respond(req pdu.PDU, st pdu.Status) { s.put(pdu.NewResponse(req, st), true) }

func (s *Session) writeLoop() {
	defer close(s.flushed)
	for {
		var closing bool
		select {
		case <-s.wr.kickCh:
			s.wr.gather()
		case <-s.closed:
			closing = true
		}
		s.wr.io.Lock()
		err := s.flushLocked()
		s.wr.io.Unlock()
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
	if !s.wr.io.TryLock() {
		s.wr.kick()
		return
	}
	s.flushLocked()
	s.wr.io.Unlock()
}

// readerFlush is flushNow for the reader; it reports whether the monitor
// handed reading to a new goroutine while this one was blocked writing.
func (s *Session) readerFlush(rs *readerState) (takenOver bool) {
	if !s.wr.io.TryLock() {
		s.wr.kick()
		return false
	}
	rs.busy(readerWriting)
	s.flushLocked()
	s.wr.io.Unlock()
	return !rs.idle(readerWriting)
}

// flushLocked writes what is queued; s.wr.io is held. A failed write closes
// the session.
func (s *Session) flushLocked() error {
	err := s.wr.flushLocked(s.clock.Load())
	if err != nil {
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
			if s.wr.hold.Load() {
				s.wr.hold.Store(false)
			}
			if s.readerFlush(rs) {
				takenOver = true
				return
			}
		}
		b, err := r.Next()
		if err == nil && !s.wr.hold.Load() {
			s.wr.hold.Store(true)
		}
		// Whether requests wait behind this one: what tells a handler
		// that holds its session up (monitor.go) from a slow one alone.
		rs.queued = r.HasNext()
		if err != nil {
			var pe *pdu.Error
			if errors.As(err, &pe) {
				// A command_length we cannot frame: answer, then close,
				// since the stream cannot be resynchronised.
				s.stats.decodeErrors.Add(1)
				s.log.Warn("unframeable PDU; closing", "err", err)
				s.put(pdu.Reply(pe), true)
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
		s.put(reply, true)
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
		s.respond(p, pdu.ESME_ROK)
		return
	case pdu.UnbindID:
		if !st.Bound() {
			s.respond(p, pdu.ESME_RINVBNDSTS)
			return
		}
		s.setState(StateUnbound)
		s.respond(p, pdu.ESME_ROK)
		s.log.Info("peer unbound")
		s.shutdown(errPeerUnbound)
		return
	case pdu.BindTransmitterID, pdu.BindReceiverID, pdu.BindTransceiverID:
		if s.role != SMSC {
			break // the state check below answers ESME_RINVBNDSTS
		}
		if st.Bound() {
			s.respond(p, pdu.ESME_RALYBND)
			return
		}
		if st != StateOpen && st != StateOutbound {
			s.respond(p, pdu.ESME_RINVBNDSTS)
			return
		}
		if s.cfg.bind == nil {
			s.respond(p, pdu.ESME_RINVCMDID)
			return
		}
		// One bind at a time: a second one pipelined behind the first
		// must not be decided while the first still is.
		if !s.binding.CompareAndSwap(false, true) {
			s.respond(p, pdu.ESME_RALYBND)
			return
		}
		// Binding (authentication) may block: do it off the reader.
		go func() {
			resp := s.cfg.bind(s, p)
			ok := resp != nil && resp.Head().CommandStatus == pdu.ESME_ROK
			var then func()
			if ok && s.cfg.onBound != nil {
				// Told as the response is queued: nothing sent to the
				// session can go out before its bind_resp, and the
				// ESME cannot see itself bound before the server does.
				then = func() { s.cfg.onBound(s) }
			}
			if resp != nil {
				s.putThen(resp, true, nil, then)
			}
			if !ok {
				s.binding.Store(false) // refused: the ESME may try again
			}
		}()
		return
	}
	if a := s.admit(id, st); a != admitted {
		if id.HasResponse() {
			if a == refusedWindow {
				s.stats.windowRejects.Add(1)
			}
			s.respond(p, s.refusal(a, id))
		}
		return
	}
	s.inflight.Add(1)
	if req == nil {
		req = s.newRequest()
	}
	req.PDU = p
	if !s.concurrent.Load() {
		state := readerInHandler
		if rs.queued {
			state = readerInHandlerQueued
		}
		rs.busy(state)
		if s.cfg.handlerMode == HandleAuto && !s.watched.Load() {
			watch(s) // (the monitor lets go of it once it is idle)
		}
		s.serve(req)
		if !req.recyclable() {
			next = nil
		} else {
			req.recycle() // (no pool: the reader goes on with it)
		}
		return next, !rs.idle(state)
	}
	s.enqueue(job{req: req})
	return nil, false
}

// admission is what the session says to a request from the peer for the
// Handler.
type admission uint8

const (
	admitted         admission = iota
	refusedState               // the session state does not allow it
	refusedUnbinding           // the session is going away
	refusedNoHandler           // nobody takes requests here
	refusedWindow              // the inbound window is full
)

// admit is the one check of a request for the Handler (dispatch asks it
// before handing raw octets to a worker, request before handling a decoded
// PDU): the session state, unbinding, a handler, room in the inbound
// window. Requests without a response are never refused for the window.
func (s *Session) admit(id pdu.CommandID, st State) admission {
	switch {
	case !allowed(peerRole(s.role), st, id):
		return refusedState
	case s.unbinding.Load():
		return refusedUnbinding
	case s.cfg.handler == nil:
		return refusedNoHandler
	case id.HasResponse() && int(s.inflight.Load()) >= s.cfg.inboundWindow:
		return refusedWindow
	}
	return admitted
}

// refusal is the status that answers a request admit refused.
func (s *Session) refusal(a admission, id pdu.CommandID) pdu.Status {
	switch a {
	case refusedState:
		return pdu.ESME_RINVBNDSTS
	case refusedUnbinding:
		// Going away: the MC is unavailable, the ESME asks for a retry.
		if s.role == ESME {
			return pdu.ESME_RX_T_APPN
		}
		return pdu.ESME_RSYSERR
	case refusedNoHandler:
		// A temporary error keeps a delivery at the SMSC instead of
		// acknowledging it away.
		if id == pdu.DeliverSMID || id == pdu.DataSMID {
			return pdu.ESME_RX_T_APPN
		}
		return pdu.ESME_RINVCMDID
	case refusedWindow:
		return s.cfg.windowFull
	}
	return pdu.ESME_ROK
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
// commands, requests without a response, and requests admit refuses
// (request answers them).
func (s *Session) dispatch(b []byte, rs *readerState) bool {
	id := pdu.CommandID(binary.BigEndian.Uint32(b[4:]))
	if !s.concurrent.Load() || !id.HasResponse() || !s.forHandler(id) || !pdu.Known(id) {
		return false
	}
	if s.admit(id, s.State()) != admitted {
		return false
	}
	if !s.dataSeen.Load() {
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
		s.wr.fail(s.closedErr())
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
			if w := s.wr.started.Load(); w != 0 && now.UnixNano()-w > int64(s.cfg.writeTimeout) {
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
				_, err := s.startCall(context.Background(), &pdu.EnquireLink{}, func(_ pdu.PDU, err error) {
					probing.Store(false)
					if errors.Is(err, ErrTimeout) {
						s.log.Warn("peer does not answer enquire_link; closing")
						s.shutdown(ErrPeerDead)
					}
				}, false, 0)
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

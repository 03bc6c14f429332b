package smpp

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppkit/smpp/pdu"
)

// These tests pin down races and corner cases found in review: each failed
// before its fix.

// silentPeer reads and never answers: alive at the TCP level, dead above it.
func silentPeer(p *rawPeer) {
	for {
		if _, err := p.r.Next(); err != nil {
			return
		}
	}
}

// With the window full, the keep-alive probe must not park the timer
// goroutine: that goroutine is also what times calls out.
func TestTimeoutsFireWithFullWindowAndKeepalive(t *testing.T) {
	addr := fakeSMSC(t, silentPeer)
	ctx := context.Background()
	c, err := Dial(ctx, "smpp://u:p@"+addr, &ClientConfig{NoReconnect: true, OutboundWindow: 2,
		EnquireLinkInterval: 50 * time.Millisecond, ResponseTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, _ := c.Session(ctx)
	done := make(chan error, 2)
	for i := 0; i < 2; i++ {
		if err := s.CallAsync(ctx, &pdu.SubmitSM{DestinationAddr: "1"}, func(_ pdu.PDU, err error) { done <- err }); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2; i++ {
		select {
		case err := <-done:
			if !errors.Is(err, ErrTimeout) {
				t.Fatalf("call %d: %v, want ErrTimeout", i, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no response timeout after 5s (timeout 300ms); in flight %d", s.InFlight())
		}
	}
}

// The inactivity unbind must itself time out against a silent peer and close
// the session, not hang.
func TestInactivityUnbindClosesWithSilentPeer(t *testing.T) {
	addr := fakeSMSC(t, silentPeer)
	ctx := context.Background()
	c, err := Dial(ctx, "smpp://u:p@"+addr, &ClientConfig{NoReconnect: true, EnquireLinkInterval: -1,
		InactivityTimeout: 50 * time.Millisecond, ResponseTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, _ := c.Session(ctx)
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("session still %v 5s after inactivity began its unbind", s.State())
	}
}

// An SMSC may send a deliver_sm in the same segment as the bind_resp: the
// client must already count as bound when it reads it.
func TestDeliverRightBehindBindResp(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan pdu.PDU, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := pdu.NewReader(conn, 0)
		bind, err := r.Read()
		if err != nil {
			return
		}
		b, _ := pdu.Marshal(pdu.NewResponse(bind, 0))
		d, _ := pdu.Marshal(&pdu.DeliverSM{Header: hdr(1), SourceAddr: "1", DestinationAddr: "2", ShortMessage: []byte("hi")})
		conn.Write(append(b, d...))
		for {
			x, err := r.Read()
			if err != nil {
				return
			}
			if x.CommandID() == pdu.DeliverSMRespID {
				got <- x
				return
			}
		}
	}()
	h := HandlerFunc(func(w ResponseWriter, r *Request) { w.RespondStatus(pdu.ESME_ROK) })
	c, err := Dial(context.Background(), "smpp://u:p@"+l.Addr().String(), &ClientConfig{NoReconnect: true, Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case x := <-got:
		if st := x.Head().CommandStatus; st != pdu.ESME_ROK {
			t.Fatalf("deliver_sm right behind bind_resp answered %v", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no deliver_sm_resp")
	}
}

// waitParked returns once w has a parked waiter.
func waitParked(w *window) {
	for w.waiters.Load() == 0 {
		runtime.Gosched()
	}
}

// A failed tryAcquire holds the count above max for a moment; a release in
// that moment sees no room, so the rollback must wake the waiter instead.
func TestWindowFailedTryWakesWaiter(t *testing.T) {
	w := newWindow(1)
	if !w.tryAcquire() {
		t.Fatal("empty window refused a slot")
	}
	got := make(chan error, 1)
	go func() { got <- w.acquire(context.Background(), nil) }()
	waitParked(w)
	w.n.Add(1)  // a tryAcquire takes the count to 2 > max …
	w.release() // … the slot holder's response arrives …
	w.release() // … and the failed try rolls back.
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("waiter still parked with the window empty (n=%d)", w.n.Load())
	}
}

// One free slot is enough to wake a waiter: it may have a deadline, and the
// rest of the window may never be answered.
func TestWindowWakesForOneFreeSlot(t *testing.T) {
	w := newWindow(8)
	for i := 0; i < 8; i++ {
		w.tryAcquire()
	}
	got := make(chan error, 1)
	go func() { got <- w.acquire(context.Background(), nil) }()
	waitParked(w)
	w.release()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiter still parked with a slot free")
	}
}

// The same through the API: Call on a window of 1 while others hammer
// TryCallAsync must never park for long.
func TestCallWaitsAmongTryCallers(t *testing.T) {
	addr := testServer(t, &Server{Handler: echoHandler()})
	ctx := context.Background()
	c, err := Dial(ctx, "smpp://u:p@"+addr, &ClientConfig{NoReconnect: true, OutboundWindow: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, _ := c.Session(ctx)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if s.TryCallAsync(&pdu.SubmitSM{DestinationAddr: "1"}, func(pdu.PDU, error) {}) != nil {
					runtime.Gosched()
				}
			}
		}()
	}
	defer wg.Wait()
	defer stop.Store(true)
	for n := 0; n < 100; n++ {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := s.Call(cctx, &pdu.SubmitSM{DestinationAddr: "1"})
		cancel()
		if err != nil {
			t.Fatalf("Call %d: %v", n, err)
		}
	}
}

// Closing the client while it rebinds must not leave the new bind alive.
func TestCloseWhileRebinding(t *testing.T) {
	var binds atomic.Int32
	inAuth, release := make(chan struct{}), make(chan struct{})
	closed := make(chan *Session, 4)
	srv := &Server{Handler: echoHandler(),
		Auth: func(ctx context.Context, b *BindRequest) pdu.Status {
			if binds.Add(1) == 2 {
				close(inAuth)
				<-release
			}
			return pdu.ESME_ROK
		},
		ConnState: func(s *Session, st State) {
			if st == StateClosed {
				closed <- s
			}
		}}
	addr := testServer(t, srv)
	c, err := Dial(context.Background(), "smpp://u:p@"+addr, &ClientConfig{ReconnectMin: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	first := srv.Sessions("u")
	if len(first) != 1 {
		t.Fatalf("%d sessions", len(first))
	}
	first[0].Close()
	<-closed
	<-inAuth
	c.Close() // while the rebind waits in Auth
	close(release)
	select {
	case <-closed: // the rebound session, closed by the client
	case <-time.After(5 * time.Second):
		t.Fatalf("%d bound session(s) alive 5s after Client.Close", len(srv.Sessions("u")))
	}
	if _, err := c.Session(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Session after Close: %v", err)
	}
}

// A second bind pipelined behind one still being decided gets ESME_RALYBND.
func TestPipelinedSecondBindRefused(t *testing.T) {
	release := make(chan struct{})
	srv := &Server{Handler: echoHandler(), Auth: func(ctx context.Context, b *BindRequest) pdu.Status {
		<-release
		return pdu.ESME_ROK
	}}
	addr := testServer(t, srv)
	p := dialRaw(t, addr)
	b1, _ := pdu.Marshal(&pdu.BindTransmitter{Header: hdr(1), SystemID: "alice", Password: "x", InterfaceVersion: 0x34})
	b2, _ := pdu.Marshal(&pdu.BindReceiver{Header: hdr(2), SystemID: "mallory", Password: "y", InterfaceVersion: 0x34})
	p.sendRaw(append(b1, b2...))
	p.expect(pdu.BindReceiverRespID, pdu.ESME_RALYBND, 2)
	close(release)
	p.expect(pdu.BindTransmitterRespID, pdu.ESME_ROK, 1)
	if n := len(srv.Sessions("mallory")); n != 0 {
		t.Fatalf("mallory has %d sessions", n)
	}
}

// A refused bind leaves the connection open for another try.
func TestBindAgainAfterRefusal(t *testing.T) {
	srv := &Server{Handler: echoHandler(), Auth: func(ctx context.Context, b *BindRequest) pdu.Status {
		if b.Password != "right" {
			return pdu.ESME_RINVPASWD
		}
		return pdu.ESME_ROK
	}}
	addr := testServer(t, srv)
	p := dialRaw(t, addr)
	p.send(&pdu.BindTransmitter{Header: hdr(1), SystemID: "a", Password: "wrong", InterfaceVersion: 0x34})
	p.expect(pdu.BindTransmitterRespID, pdu.ESME_RINVPASWD, 1)
	p.send(&pdu.BindTransmitter{Header: hdr(2), SystemID: "a", Password: "right", InterfaceVersion: 0x34})
	p.expect(pdu.BindTransmitterRespID, pdu.ESME_ROK, 2)
}

// failingConn fails every write once the first n octets are through.
type failingConn struct {
	net.Conn
	left atomic.Int64
}

func (c *failingConn) Write(b []byte) (int, error) {
	if c.left.Add(-int64(len(b))) < 0 {
		return 0, errors.New("write failed")
	}
	return c.Conn.Write(b)
}

// CallAsync reports each call once: either it returns an error, or done is
// called, never both, even when the connection fails under it.
func TestCallAsyncReportsOnce(t *testing.T) {
	for iter := 0; iter < 100; iter++ {
		a, b := net.Pipe()
		go func() {
			buf := make([]byte, 1<<16)
			for {
				if _, err := b.Read(buf); err != nil {
					return
				}
			}
		}()
		fc := &failingConn{Conn: a}
		fc.left.Store(100)
		s := newSession(fc, ESME, settings{})
		s.start()
		s.state.Store(int32(StateBoundTRX))
		var twice, lost atomic.Int32
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					var calls atomic.Int32
					done := make(chan struct{})
					err := s.CallAsync(context.Background(), &pdu.EnquireLink{}, func(pdu.PDU, error) {
						if calls.Add(1) == 1 {
							close(done)
						}
					})
					if err != nil {
						// done must never come; the session is closing, so
						// anything pending completes at once.
						select {
						case <-done:
							twice.Add(1)
						case <-s.Done():
						}
						return
					}
					select {
					case <-done:
					case <-time.After(5 * time.Second):
						lost.Add(1)
						return
					}
				}
			}()
		}
		wg.Wait()
		s.Close()
		b.Close()
		if twice.Load() > 0 || lost.Load() > 0 {
			t.Fatalf("iteration %d: %d calls reported twice, %d never", iter, twice.Load(), lost.Load())
		}
	}
}

// A detached response sent after the session closed is an error, not a
// silent loss.
func TestRespondAfterCloseFails(t *testing.T) {
	reqs := make(chan *Request, 1)
	srv := &Server{Handler: HandlerFunc(func(w ResponseWriter, r *Request) { w.Detach(); reqs <- r })}
	addr := testServer(t, srv)
	p := dialRaw(t, addr)
	p.send(&pdu.BindTransmitter{Header: hdr(1), SystemID: "a", InterfaceVersion: 0x34})
	p.expect(pdu.BindTransmitterRespID, pdu.ESME_ROK, 1)
	p.send(&pdu.SubmitSM{Header: hdr(2), DestinationAddr: "1"})
	r := <-reqs
	r.Session.Close()
	if err := r.RespondStatus(pdu.ESME_ROK); !errors.Is(err, ErrClosed) {
		t.Fatalf("Respond on a closed session: %v, want ErrClosed", err)
	}
}

// A peer that sends and does not read fills our send buffer; our reader,
// which writes the responses at the end of each batch, must go on reading
// (or two such peers would wait on each other for ever). Sessions with a
// handler are rescued by the monitor, others by their timer.
func TestReaderGoesOnWhenPeerDoesNotRead(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  settings
	}{
		{"timer", settings{responseTimeout: 400 * time.Millisecond}},
		{"monitor", settings{handler: echoHandler()}},
	} {
		t.Run(tc.name, func(t *testing.T) { readerGoesOn(t, tc.cfg) })
	}
}

func readerGoesOn(t *testing.T, cfg settings) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	peer, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	peer.(*net.TCPConn).SetReadBuffer(4 << 10)
	conn := <-accepted
	conn.(*net.TCPConn).SetWriteBuffer(4 << 10)
	s := newSession(conn, SMSC, cfg)
	s.start()
	defer s.Close()
	// 8 MiB of enquire_link: 8 MiB of responses, far beyond both buffers.
	one, _ := pdu.Marshal(&pdu.EnquireLink{Header: hdr(1)})
	batch := make([]byte, 0, 64<<10)
	for len(batch)+len(one) <= cap(batch) {
		batch = append(batch, one...)
	}
	peer.SetWriteDeadline(time.Now().Add(20 * time.Second))
	for sent := 0; sent < 8<<20; sent += len(batch) {
		if _, err := peer.Write(batch); err != nil {
			t.Fatalf("after %d KiB the session stopped reading: %v", sent>>10, err)
		}
	}
}

// Unbind lets calls in flight finish; a caller parked for window room when
// the unbind begins gets ErrUnbinding and sends nothing after the unbind.
func TestUnbindTurnsAwayParkedCallers(t *testing.T) {
	release := make(chan struct{})
	var submits atomic.Int32
	srv := &Server{Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		submits.Add(1)
		<-release
		w.Respond(&pdu.SubmitSMResp{MessageID: "1"})
	})}
	addr := testServer(t, srv)
	ctx := context.Background()
	c, err := Dial(ctx, "smpp://u:p@"+addr, &ClientConfig{NoReconnect: true, OutboundWindow: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, _ := c.Session(ctx)
	first := make(chan error, 1)
	go func() { _, err := s.Call(ctx, &pdu.SubmitSM{DestinationAddr: "1"}); first <- err }()
	for s.InFlight() == 0 {
		runtime.Gosched()
	}
	second := make(chan error, 1)
	go func() { _, err := s.Call(ctx, &pdu.SubmitSM{DestinationAddr: "2"}); second <- err }()
	waitParked(s.window)
	unbound := make(chan error, 1)
	go func() { unbound <- s.Unbind(ctx) }()
	for !s.unbinding.Load() {
		runtime.Gosched()
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("call in flight: %v", err)
	}
	if err := <-second; !errors.Is(err, ErrUnbinding) {
		t.Fatalf("parked call: %v, want ErrUnbinding", err)
	}
	if err := <-unbound; err != nil {
		t.Fatalf("Unbind: %v", err)
	}
	if n := submits.Load(); n != 1 {
		t.Fatalf("server saw %d submits, want 1", n)
	}
}

// alert_notification has no response: a handler that detaches on it must not
// hold an inbound slot for ever.
func TestDetachedAlertFreesItsSlot(t *testing.T) {
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		if r.PDU.CommandID() == pdu.AlertNotificationID {
			w.Detach()
			return
		}
		w.RespondStatus(pdu.ESME_ROK)
	})
	answer := make(chan pdu.Status, 1)
	addr := fakeSMSC(t, func(p *rawPeer) {
		for i, x := range []pdu.PDU{
			&pdu.AlertNotification{SourceAddr: "1", ESMEAddr: "2"},
			&pdu.AlertNotification{SourceAddr: "1", ESMEAddr: "2"},
			&pdu.DeliverSM{SourceAddr: "1", DestinationAddr: "2", ShortMessage: []byte("x")},
		} {
			x.Head().SequenceNumber = uint32(i + 1)
			b, _ := pdu.Marshal(x)
			p.conn.Write(b)
		}
		x, err := p.r.Read()
		if err != nil {
			return
		}
		answer <- x.Head().CommandStatus
	})
	c, err := Dial(context.Background(), "smpp://u:p@"+addr, &ClientConfig{NoReconnect: true, Handler: h, InboundWindow: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case st := <-answer:
		if st != pdu.ESME_ROK {
			t.Fatalf("deliver_sm after two detached alerts answered %v", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no deliver_sm_resp")
	}
}

// A generic_nack with status 0 answers nothing: a bind answered so fails.
func TestGenericNackOKIsNoBind(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := pdu.NewReader(conn, 0)
		bind, err := r.Read()
		if err != nil {
			return
		}
		b, _ := pdu.Marshal(&pdu.GenericNack{Header: hdr(bind.Head().SequenceNumber)})
		conn.Write(b)
		r.Read() // until the client hangs up
	}()
	_, err = Dial(context.Background(), "smpp://u:p@"+l.Addr().String(), &ClientConfig{NoReconnect: true})
	if err == nil {
		t.Fatal("bind answered by generic_nack(ESME_ROK) succeeded")
	}
}

// A trusted proxy that is slow to send its header holds up nobody else.
func TestSlowProxyHeaderDoesNotBlockAccept(t *testing.T) {
	srv := &Server{Handler: echoHandler(), TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	addr := testServer(t, srv)
	dialRaw(t, addr) // sends nothing: its header read waits 10 s
	p := dialRaw(t, addr)
	p.sendRaw([]byte("PROXY TCP4 192.0.2.7 127.0.0.1 4000 2775\r\n"))
	p.send(&pdu.BindTransmitter{Header: hdr(1), SystemID: "a", InterfaceVersion: 0x34})
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	x, err := p.r.Read()
	if err != nil {
		t.Fatalf("bind behind a slow proxied connection: %v", err)
	}
	if x.CommandID() != pdu.BindTransmitterRespID || x.Head().CommandStatus != pdu.ESME_ROK {
		t.Fatalf("got %s %v", x.CommandID(), x.Head().CommandStatus)
	}
	ss := srv.Sessions("a")
	if len(ss) != 1 || ss[0].RemoteAddr().String() != "192.0.2.7:4000" {
		t.Fatalf("sessions %v", ss)
	}
}

// A peer that reads in fits and starts makes our reader block in its writes
// again and again, and be replaced each time: throughout, exactly one reader
// reads (the race detector watches), and every request gets exactly one
// response.
func TestReaderTakeoversKeepOneReader(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	peer, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	// Buffers well above the loopback MSS: smaller ones stall TCP itself
	// (zero-window probes back off for seconds).
	peer.(*net.TCPConn).SetReadBuffer(128 << 10)
	conn := <-accepted
	conn.(*net.TCPConn).SetWriteBuffer(128 << 10)
	s := newSession(conn, SMSC, settings{handler: echoHandler(), inboundWindow: 1 << 20})
	s.state.Store(int32(StateBoundTX))
	s.start()
	defer s.Close()

	const n = 200000
	go func() {
		w := make([]byte, 0, 64<<10)
		for i := 1; i <= n; i++ {
			w, _ = pdu.Append(w, &pdu.SubmitSM{Header: hdr(uint32(i)), DestinationAddr: "1"})
			if len(w) > 60<<10 || i == n {
				if _, err := peer.Write(w); err != nil {
					return
				}
				w = w[:0]
			}
		}
	}()
	seen := make([]bool, n+1)
	r := pdu.NewReader(peer, 0)
	peer.SetReadDeadline(time.Now().Add(60 * time.Second))
	for got := 0; got < n; got++ {
		if got == n/4 || got == n/2 {
			// Stop reading until both buffers have filled and the reader,
			// blocked in its write, has been replaced (by the monitor, or
			// a tick of the session's timer later).
			before := s.Stats().Takeovers
			for deadline := time.Now().Add(10 * time.Second); s.Stats().Takeovers == before && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
		}
		x, err := r.Read()
		if err != nil {
			t.Fatalf("after %d responses: %v", got, err)
		}
		seq := x.Head().SequenceNumber
		if x.CommandID() != pdu.SubmitSMRespID || seq == 0 || seq > n || seen[seq] {
			t.Fatalf("response %d: %s seq %d (answered before: %v)", got, x.CommandID(), seq, seq <= n && seen[seq])
		}
		seen[seq] = true
	}
	st := s.Stats()
	if st.DecodeErrors != 0 {
		t.Fatalf("%d decode errors", st.DecodeErrors)
	}
	if st.Takeovers == 0 {
		t.Fatal("no reader was ever replaced: the test did not test")
	}
	t.Logf("%d takeovers", st.Takeovers)
}

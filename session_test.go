package smpp

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppkit/smpp/dlr"
	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/text"
)

// rawPeer is a hand-driven SMPP peer over a plain connection, for tests that
// need to send what our own client never would.
type rawPeer struct {
	t    testing.TB
	conn net.Conn
	r    *pdu.Reader
}

func dialRaw(t testing.TB, addr string) *rawPeer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawPeer{t: t, conn: c, r: pdu.NewReader(c, 0)}
}

func (p *rawPeer) send(x pdu.PDU) {
	p.t.Helper()
	b, err := pdu.Marshal(x)
	if err != nil {
		p.t.Fatal(err)
	}
	p.sendRaw(b)
}

func (p *rawPeer) sendRaw(b []byte) {
	p.t.Helper()
	if _, err := p.conn.Write(b); err != nil {
		p.t.Fatal(err)
	}
}

func (p *rawPeer) read() pdu.PDU {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	x, err := p.r.Read()
	if err != nil {
		p.t.Fatalf("read: %v", err)
	}
	return x
}

// expect reads one PDU and checks its command, status and sequence number.
func (p *rawPeer) expect(id pdu.CommandID, st pdu.Status, seq uint32) pdu.PDU {
	p.t.Helper()
	x := p.read()
	if x.CommandID() != id || x.Head().CommandStatus != st || x.Head().SequenceNumber != seq {
		p.t.Fatalf("got %s %s seq %d, want %s %s seq %d", x.CommandID(), x.Head().CommandStatus.String(),
			x.Head().SequenceNumber, id, st.String(), seq)
	}
	return x
}

func hdr(seq uint32) pdu.Header { return pdu.Header{SequenceNumber: seq} }

func TestServerStateMachineAndBadInput(t *testing.T) {
	srv := &Server{Handler: echoHandler()}
	addr := testServer(t, srv)
	p := dialRaw(t, addr)
	// Before bind: a submit gets its own response with ESME_RINVBNDSTS.
	p.send(&pdu.SubmitSM{Header: hdr(1), SourceAddr: "a", DestinationAddr: "b"})
	p.expect(pdu.SubmitSMRespID, pdu.ESME_RINVBNDSTS, 1)
	// enquire_link works in any state.
	p.send(&pdu.EnquireLink{Header: hdr(2)})
	p.expect(pdu.EnquireLinkRespID, 0, 2)
	// Bind as receiver; then submit_sm is not allowed.
	p.send(&pdu.BindReceiver{Header: hdr(3), SystemID: "rx", Password: "pw", InterfaceVersion: 0x34})
	resp := p.expect(pdu.BindReceiverRespID, 0, 3).(*pdu.BindReceiverResp)
	if v, _ := resp.TLVs.Uint8(pdu.TagScInterfaceVersion); v != 0x34 || resp.SystemID != "smppkit" {
		t.Fatalf("bind resp %+v", resp)
	}
	p.send(&pdu.SubmitSM{Header: hdr(4), DestinationAddr: "b"})
	p.expect(pdu.SubmitSMRespID, pdu.ESME_RINVBNDSTS, 4)
	// A second bind: ESME_RALYBND.
	p.send(&pdu.BindTransmitter{Header: hdr(5), SystemID: "rx"})
	p.expect(pdu.BindTransmitterRespID, pdu.ESME_RALYBND, 5)
	// deliver_sm from the ESME side is not allowed.
	p.send(&pdu.DeliverSM{Header: hdr(6)})
	p.expect(pdu.DeliverSMRespID, pdu.ESME_RINVBNDSTS, 6)
	// Unknown command id: generic_nack ESME_RINVCMDID, same sequence.
	p.sendRaw([]byte{0, 0, 0, 16, 0, 0, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 7})
	p.expect(pdu.GenericNackID, pdu.ESME_RINVCMDID, 7)
	// A body that does not decode: the request's response, the codec's status.
	p.sendRaw([]byte{0, 0, 0, 0x12, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 8, 0xAB, 0xCD})
	p.expect(pdu.EnquireLinkRespID, pdu.ESME_RINVTLVSTREAM, 8)

	// Meanwhile a transmitter on another connection submits fine, and keeps
	// doing so after the first connection sends a length it cannot frame.
	q := dialRaw(t, addr)
	q.send(&pdu.BindTransmitter{Header: hdr(1), SystemID: "tx", InterfaceVersion: 0x34})
	q.expect(pdu.BindTransmitterRespID, 0, 1)
	p.sendRaw([]byte{0, 0, 0, 8, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 9})
	p.expect(pdu.GenericNackID, pdu.ESME_RINVCMDLEN, 9)
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := p.r.Next(); err == nil {
		t.Fatal("connection still open after an unframeable length")
	}
	q.send(&pdu.SubmitSM{Header: hdr(2), SourceAddr: "a", DestinationAddr: "b"})
	q.expect(pdu.SubmitSMRespID, 0, 2)
	// A transmitter may not receive deliveries: Deliver finds no session.
	if _, err := srv.Deliver(context.Background(), "tx", &pdu.DeliverSM{}); !errors.Is(err, ErrNotBound) {
		t.Fatal(err)
	}
}

func TestBindRefusedAndAuthSeesRequest(t *testing.T) {
	var seen atomic.Pointer[BindRequest]
	addr := testServer(t, &Server{Handler: echoHandler(), Auth: func(_ context.Context, b *BindRequest) pdu.Status {
		seen.Store(b)
		if b.Password != "right" {
			return pdu.ESME_RINVPASWD
		}
		return pdu.ESME_ROK
	}})
	ctx := context.Background()
	_, err := Dial(ctx, "smpp://alice:wrong@"+addr+"?bind=tx&system_type=VMA", &ClientConfig{NoReconnect: true})
	if !errors.Is(err, pdu.ESME_RINVPASWD) {
		t.Fatalf("err = %v", err)
	}
	b := seen.Load()
	if b.SystemID != "alice" || b.SystemType != "VMA" || b.Command != pdu.BindTransmitterID || b.RemoteAddr == nil {
		t.Fatalf("auth saw %+v", b)
	}
	c, err := Dial(ctx, "smpp://alice:right@"+addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// blockingServer's handler holds each submit until release is closed and
// records the most requests it held at once.
type blockingServer struct {
	release chan struct{}
	cur     atomic.Int32
	peak    atomic.Int32
	seen    atomic.Int32
}

func (b *blockingServer) ServeSMPP(w ResponseWriter, r *Request) {
	n := b.cur.Add(1)
	b.seen.Add(1)
	for {
		p := b.peak.Load()
		if n <= p || b.peak.CompareAndSwap(p, n) {
			break
		}
	}
	<-b.release
	b.cur.Add(-1)
	w.Respond(&pdu.SubmitSMResp{MessageID: "x"})
}

func TestWindowMakesCallersWait(t *testing.T) {
	bs := &blockingServer{release: make(chan struct{})}
	addr := testServer(t, &Server{Handler: bs})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, "smpp://u:p@"+addr, &ClientConfig{OutboundWindow: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Submit(ctx, &pdu.SubmitSM{DestinationAddr: "1"})
			errs <- err
		}()
	}
	// Wait until two are held by the server and the rest wait in the window.
	s, _ := c.Session(ctx)
	for s.Stats().WindowWaits < 4 || bs.cur.Load() < 2 {
		select {
		case <-ctx.Done():
			t.Fatal("callers did not queue up")
		case <-time.After(time.Millisecond):
		}
	}
	// A caller whose context ends while it waits gets ctx's error, and its
	// request is never sent.
	short, cancelShort := context.WithTimeout(ctx, 20*time.Millisecond)
	_, err = c.Submit(short, &pdu.SubmitSM{DestinationAddr: "1"})
	cancelShort()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	close(bs.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if p := bs.peak.Load(); p != 2 {
		t.Fatalf("server saw %d requests at once with a window of 2", p)
	}
	if n := bs.seen.Load(); n != 6 {
		t.Fatalf("server saw %d submits, want 6 (the cancelled one must not be sent)", n)
	}
}

func TestInboundWindowRefusesBeyondIt(t *testing.T) {
	bs := &blockingServer{release: make(chan struct{})}
	addr := testServer(t, &Server{Handler: bs, InboundWindow: 2, WindowFull: pdu.ESME_RTHROTTLED})
	p := dialRaw(t, addr)
	p.send(&pdu.BindTransmitter{Header: hdr(1), SystemID: "tx"})
	p.expect(pdu.BindTransmitterRespID, 0, 1)
	for seq := uint32(2); seq <= 4; seq++ {
		p.send(&pdu.SubmitSM{Header: hdr(seq), DestinationAddr: "1"})
	}
	p.expect(pdu.SubmitSMRespID, pdu.ESME_RTHROTTLED, 4)
	close(bs.release)
	got := map[uint32]bool{}
	for i := 0; i < 2; i++ {
		x := p.read()
		if x.CommandID() != pdu.SubmitSMRespID || x.Head().CommandStatus != 0 {
			t.Fatalf("got %s %s", x.CommandID(), x.Head().CommandStatus.String())
		}
		got[x.Head().SequenceNumber] = true
	}
	if !got[2] || !got[3] {
		t.Fatalf("answered %v, want 2 and 3", got)
	}
}

func TestResponseTimeoutAndLateResponse(t *testing.T) {
	bs := &blockingServer{release: make(chan struct{})}
	addr := testServer(t, &Server{Handler: bs})
	ctx := context.Background()
	c, err := Dial(ctx, "smpp://u:p@"+addr, &ClientConfig{ResponseTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, err = c.Submit(ctx, &pdu.SubmitSM{DestinationAddr: "1"})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Fatalf("timed out after %v", d)
	}
	// The late response is counted, not delivered to anyone.
	close(bs.release)
	s, _ := c.Session(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Unmatched != 1 {
		if time.Now().After(deadline) {
			t.Fatal("late response not counted")
		}
		time.Sleep(time.Millisecond)
	}
	// The session is still good.
	if _, err := c.Submit(ctx, &pdu.SubmitSM{DestinationAddr: "1"}); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Timeouts != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// fakeSMSC accepts connections, answers binds, and then does what script says.
func fakeSMSC(t *testing.T, script func(p *rawPeer)) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				p := &rawPeer{t: t, conn: c, r: pdu.NewReader(c, 0)}
				x, err := p.r.Read()
				if err != nil {
					return
				}
				b, _ := pdu.Marshal(pdu.NewResponse(x, 0))
				c.Write(b)
				script(p)
			}()
		}
	}()
	return l.Addr().String()
}

func TestPeerVanishesMidWindow(t *testing.T) {
	got := make(chan int, 1)
	addr := fakeSMSC(t, func(p *rawPeer) {
		// Read five submits, answer none, hang up.
		for i := 0; i < 5; i++ {
			if _, err := p.r.Next(); err != nil {
				return
			}
		}
		got <- 5
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, "smpp://u:p@"+addr, &ClientConfig{NoReconnect: true, OutboundWindow: 10})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 5)
	for i := 0; i < 5; i++ {
		go func() {
			_, err := c.Submit(ctx, &pdu.SubmitSM{DestinationAddr: "1"})
			errs <- err
		}()
	}
	<-got
	start := time.Now()
	for i := 0; i < 5; i++ {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Fatalf("err = %v, want ErrClosed", err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("pending calls took %v to fail", d)
	}
}

func TestDeadPeerDetectedByEnquireLink(t *testing.T) {
	addr := fakeSMSC(t, func(p *rawPeer) {
		// Read and ignore everything.
		for {
			if _, err := p.r.Next(); err != nil {
				return
			}
		}
	})
	ctx := context.Background()
	c, err := Dial(ctx, "smpp://u:p@"+addr, &ClientConfig{NoReconnect: true,
		EnquireLinkInterval: 30 * time.Millisecond, ResponseTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := c.Session(ctx)
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("dead peer not detected")
	}
	if !errors.Is(s.Err(), ErrPeerDead) {
		t.Fatalf("closed with %v", s.Err())
	}
}

func TestReconnectAndFailFast(t *testing.T) {
	srv := &Server{Handler: echoHandler()}
	addr := testServer(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, "smpp://u:p@"+addr, &ClientConfig{ReconnectMin: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	first, _ := c.Session(ctx)
	for _, s := range srv.Sessions("u") {
		s.Close()
	}
	<-first.Done()
	// A call made while the link is down waits for the rebind.
	if _, err := c.Submit(ctx, &pdu.SubmitSM{DestinationAddr: "1"}); err != nil {
		t.Fatal(err)
	}
	second, _ := c.Session(ctx)
	if second == first {
		t.Fatal("no new session")
	}

	ff, err := Dial(ctx, "smpp://u:p@"+addr, &ClientConfig{FailFast: true, ReconnectMin: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer ff.Close()
	s, _ := ff.Session(ctx)
	for _, x := range srv.Sessions("u") {
		if x.RemoteAddr().String() == s.LocalAddr().String() {
			x.Close()
		}
	}
	<-s.Done()
	if _, err := ff.Submit(ctx, &pdu.SubmitSM{DestinationAddr: "1"}); !errors.Is(err, ErrNotBound) {
		t.Fatalf("err = %v, want ErrNotBound", err)
	}
}

func TestThrottledSenderSlowsDown(t *testing.T) {
	var n atomic.Int32
	addr := testServer(t, &Server{Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		if n.Add(1) <= 3 {
			w.RespondStatus(pdu.ESME_RTHROTTLED)
			return
		}
		w.Respond(&pdu.SubmitSMResp{MessageID: "ok"})
	})})
	ctx := context.Background()
	c, err := Dial(ctx, "smpp://u:p@"+addr, &ClientConfig{ThrottleMin: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	resp, err := c.Submit(ctx, &pdu.SubmitSM{DestinationAddr: "1"})
	if err != nil || resp.MessageID != "ok" {
		t.Fatal(resp, err)
	}
	// Pauses of 20, 40 and 80 ms.
	if d := time.Since(start); d < 140*time.Millisecond {
		t.Fatalf("retried after only %v", d)
	}
	c2, err := Dial(ctx, "smpp://u:p@"+addr, &ClientConfig{NoThrottleRetry: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	n.Store(0)
	if _, err := c2.Submit(ctx, &pdu.SubmitSM{DestinationAddr: "1"}); !errors.Is(err, pdu.ESME_RTHROTTLED) {
		t.Fatalf("err = %v", err)
	}
}

func TestShutdownFinishesInFlightWork(t *testing.T) {
	bs := &blockingServer{release: make(chan struct{})}
	srv := &Server{Handler: bs}
	addr := testServer(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, "smpp://u:p@"+addr, &ClientConfig{NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 3)
	for i := 0; i < 3; i++ {
		go func() {
			_, err := c.Submit(ctx, &pdu.SubmitSM{DestinationAddr: "1"})
			res <- err
		}()
	}
	for bs.cur.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	// Shutdown waits for the held requests.
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned early: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(bs.release)
	for i := 0; i < 3; i++ {
		if err := <-res; err != nil {
			t.Fatalf("in-flight request failed: %v", err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s, _ := c.Session(ctx)
	if s != nil {
		<-s.Done()
	}
	// New connections are refused once shut down.
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("still accepting after Shutdown")
	}
}

func TestDeliveryReceiptsAndLongMO(t *testing.T) {
	srv := &Server{}
	var ids atomic.Int32
	srv.Handler = HandlerFunc(func(w ResponseWriter, r *Request) {
		sub := r.PDU.(*pdu.SubmitSM)
		id := "m" + string(rune('0'+ids.Add(1)))
		w.Respond(&pdu.SubmitSMResp{MessageID: id})
		if sub.RegisteredDelivery&1 == 1 {
			go func() {
				rc := dlr.New(id, time.Now(), time.Now(), pdu.StateDelivered, "")
				d := &pdu.DeliverSM{ESMClass: 0x04, SourceAddr: sub.DestinationAddr, DestinationAddr: sub.SourceAddr,
					ShortMessage: []byte(rc.String()), TLVs: rc.TLVs()}
				r.Session.Call(context.Background(), d)
			}()
		}
	})
	addr := testServer(t, srv)
	receipts := make(chan *Receipt, 4)
	mos := make(chan *InboundMessage, 1)
	in := &Inbound{
		OnReceipt: func(_ context.Context, r *Receipt) pdu.Status { receipts <- r; return 0 },
		OnMessage: func(_ context.Context, m *InboundMessage) pdu.Status { mos <- m; return 0 },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, "smpp://esme:pw@"+addr, &ClientConfig{Inbound: in})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sent, err := c.Send(ctx, Message{From: "Sender", To: "+491761234567", Text: "hello", Receipt: true})
	if err != nil || len(sent) != 1 {
		t.Fatal(sent, err)
	}
	select {
	case r := <-receipts:
		if r.ID != sent[0] || r.State != pdu.StateDelivered || r.Sent == nil || r.Sent.IDs[0] != sent[0] || r.From != "491761234567" {
			t.Fatalf("receipt %+v", r)
		}
	case <-ctx.Done():
		t.Fatal("no receipt")
	}
	// A three-part MO, parts out of order, through the server's Deliver.
	long := strings.Repeat("0123456789", 40)
	var codec *text.Codec
	split, err := codec.Split(long, text.Auto, text.SplitUDH8)
	if err != nil || len(split.Segments) != 3 {
		t.Fatal(err)
	}
	for _, i := range []int{2, 0, 1} {
		seg := split.Segments[i]
		d := &pdu.DeliverSM{SourceAddr: "491761234567", DestinationAddr: "12345", ESMClass: 0x40, ShortMessage: seg.Data}
		if _, err := srv.Deliver(ctx, "esme", d); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case m := <-mos:
		if m.Text != long || m.Parts != 3 || m.From != "491761234567" {
			t.Fatalf("MO %q parts %d", m.Text, m.Parts)
		}
	case <-ctx.Done():
		t.Fatal("no MO")
	}
}

func TestOutbind(t *testing.T) {
	srv := &Server{Handler: echoHandler()}
	testServer(t, srv)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan *Client, 1)
	go func() {
		c, err := AcceptOutbind(ctx, l, "smpp://esme:pw@ignored", &ClientConfig{
			OutbindAuth: func(id, pw string) bool { return id == "smsc" && pw == "ob" }})
		if err != nil {
			t.Error(err)
		}
		got <- c
	}()
	if _, err := srv.Outbind(ctx, l.Addr().String(), "smsc", "ob"); err != nil {
		t.Fatal(err)
	}
	c := <-got
	if c == nil {
		t.FailNow()
	}
	defer c.Close()
	s, _ := c.Session(ctx)
	if s.State() != StateBoundTRX {
		t.Fatalf("state %v", s.State())
	}
	for len(srv.Sessions("esme")) == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, err := srv.Deliver(ctx, "esme", &pdu.DeliverSM{SourceAddr: "1", DestinationAddr: "2", ShortMessage: []byte("x")}); err == nil {
		// No handler on the client: deliveries get ESME_RX_T_APPN so the
		// SMSC keeps them.
		t.Fatal("delivery to a client without a handler was accepted")
	} else if !errors.Is(err, pdu.ESME_RX_T_APPN) {
		t.Fatal(err)
	}
}

func TestSequenceNumbersWrap(t *testing.T) {
	s := &Session{}
	s.seq.Store(0x7FFFFFFE)
	if a, b := s.nextSeq(), s.nextSeq(); a != 0x7FFFFFFF || b != 1 {
		t.Fatalf("got %#x then %#x", a, b)
	}
}

func TestStateMatrix(t *testing.T) {
	cases := []struct {
		r    Role
		st   State
		id   pdu.CommandID
		want bool
	}{
		{ESME, StateOpen, pdu.BindTransceiverID, true},
		{ESME, StateBoundTX, pdu.BindTransceiverID, false},
		{ESME, StateBoundTX, pdu.SubmitSMID, true},
		{ESME, StateBoundRX, pdu.SubmitSMID, false},
		{ESME, StateOpen, pdu.SubmitSMID, false},
		{SMSC, StateBoundTX, pdu.DeliverSMID, false},
		{SMSC, StateBoundRX, pdu.DeliverSMID, true},
		{SMSC, StateBoundTRX, pdu.AlertNotificationID, true},
		{ESME, StateBoundRX, pdu.DataSMID, true}, // v3.4 tolerance
		{SMSC, StateOpen, pdu.OutbindID, true},
		{ESME, StateUnbound, pdu.EnquireLinkID, true},
		{ESME, StateClosed, pdu.EnquireLinkID, false},
		{ESME, StateOpen, pdu.UnbindID, false},
	}
	for _, c := range cases {
		if got := allowed(c.r, c.st, c.id); got != c.want {
			t.Errorf("%v in %v sending %v: %v", c.r, c.st, c.id, got)
		}
	}
}

func TestPoolSpreadsOverBinds(t *testing.T) {
	bs := &blockingServer{release: make(chan struct{})}
	srv := &Server{Handler: bs}
	addr := testServer(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := DialPool(ctx, "smpp://pool:pw@"+addr, 3, &ClientConfig{OutboundWindow: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if n := len(srv.Sessions("pool")); n != 3 {
		t.Fatalf("%d binds", n)
	}
	errs := make(chan error, 6)
	for i := 0; i < 6; i++ {
		go func() {
			_, err := p.Submit(ctx, &pdu.SubmitSM{DestinationAddr: "1"})
			errs <- err
		}()
	}
	// Six requests, three binds with a window of two: all six are held by
	// the server at once only if they were spread over every bind.
	for bs.cur.Load() < 6 {
		if ctx.Err() != nil {
			t.Fatalf("only %d requests reached the server at once", bs.cur.Load())
		}
		time.Sleep(time.Millisecond)
	}
	close(bs.release)
	for i := 0; i < 6; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestSlowHandlerDoesNotHoldUpTheSession(t *testing.T) {
	release := make(chan struct{})
	addr := testServer(t, &Server{Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		if r.PDU.(*pdu.SubmitSM).DestinationAddr == "slow" {
			<-release
		}
		w.Respond(&pdu.SubmitSMResp{MessageID: "id"})
	})})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, "smpp://u:p@"+addr, &ClientConfig{OutboundWindow: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	slow := make(chan error, 1)
	go func() {
		_, err := c.Submit(ctx, &pdu.SubmitSM{DestinationAddr: "slow"})
		slow <- err
	}()
	// Fast requests behind the slow one are answered while it is held.
	start := time.Now()
	for i := 0; i < 20; i++ {
		if _, err := c.Submit(ctx, &pdu.SubmitSM{DestinationAddr: "fast"}); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("fast requests took %v behind a slow one", d)
	}
	select {
	case err := <-slow:
		t.Fatalf("the slow request finished early: %v", err)
	default:
	}
	close(release)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
}

// A handler may call back into the peer on its own session (a server that
// sends a deliver_sm from its submit_sm handler and waits for the answer):
// the session keeps reading, so the answer arrives.
func TestHandlerWaitingForThePeer(t *testing.T) {
	addr := testServer(t, &Server{Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		_, err := r.Session.Call(ctx, &pdu.DeliverSM{SourceAddr: "1", DestinationAddr: "2", ShortMessage: []byte("mo")})
		if err != nil {
			w.RespondStatus(pdu.ESME_RSYSERR)
			return
		}
		w.Respond(&pdu.SubmitSMResp{MessageID: "after-mo"})
	})})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, "smpp://u:p@"+addr, &ClientConfig{Inbound: &Inbound{}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := c.Submit(ctx, &pdu.SubmitSM{DestinationAddr: "1"})
	if err != nil || resp.MessageID != "after-mo" {
		t.Fatal(resp, err)
	}
}

func TestBindTimeoutAndInactivity(t *testing.T) {
	srv := &Server{Handler: echoHandler(), BindTimeout: 50 * time.Millisecond, InactivityTimeout: 100 * time.Millisecond}
	addr := testServer(t, srv)
	// A connection that never binds is closed.
	p := dialRaw(t, addr)
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := p.r.Next(); err == nil {
		t.Fatal("unbound connection got a PDU instead of being closed")
	}
	// A bound session with no traffic is unbound by the server.
	q := dialRaw(t, addr)
	q.send(&pdu.BindTransmitter{Header: hdr(1), SystemID: "idle"})
	q.expect(pdu.BindTransmitterRespID, 0, 1)
	x := q.read()
	if x.CommandID() != pdu.UnbindID {
		t.Fatalf("got %v, want unbind", x.CommandID())
	}
	q.send(pdu.NewResponse(x, 0))
}

// vendorEcho is a custom command with a body of its own.
type vendorEcho struct {
	pdu.Header
	Text string
	TLVs pdu.TLVs
}

func (*vendorEcho) CommandID() pdu.CommandID { return 0x00010201 }
func (p *vendorEcho) Fields(f *pdu.Fields) {
	f.CString("text", &p.Text, 64)
	f.TLVs(&p.TLVs)
}

type vendorEchoResp vendorEcho

func (*vendorEchoResp) CommandID() pdu.CommandID { return 0x80010201 }
func (p *vendorEchoResp) Fields(f *pdu.Fields)   { (*vendorEcho)(p).Fields(f) }

var registerVendorEcho = sync.OnceValue(func() error {
	return errors.Join(
		pdu.RegisterCommand(0x00010201, "vendor_echo", func() pdu.PDU { return new(vendorEcho) }),
		pdu.RegisterCommand(0x80010201, "vendor_echo_resp", func() pdu.PDU { return new(vendorEchoResp) }))
})

func TestCustomCommandAndAlert(t *testing.T) {
	if err := registerVendorEcho(); err != nil {
		t.Fatal(err)
	}
	srv := &Server{Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		if e, ok := r.PDU.(*vendorEcho); ok {
			w.Respond(&vendorEchoResp{Text: strings.ToUpper(e.Text)})
			return
		}
		w.RespondStatus(pdu.ESME_RINVCMDID)
	})}
	addr := testServer(t, srv)
	alerts := make(chan string, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, "smpp://v:p@"+addr, &ClientConfig{Inbound: &Inbound{OnAlert: func(a *pdu.AlertNotification) { alerts <- a.SourceAddr }}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := c.Call(ctx, &vendorEcho{Text: "hello"})
	if err != nil || resp.(*vendorEchoResp).Text != "HELLO" {
		t.Fatal(resp, err)
	}
	if _, err := srv.Deliver(ctx, "v", &pdu.AlertNotification{SourceAddr: "491761234567", ESMEAddr: "Sender"}); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-alerts:
		if a != "491761234567" {
			t.Fatal(a)
		}
	case <-ctx.Done():
		t.Fatal("no alert")
	}
}

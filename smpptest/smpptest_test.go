package smpptest_test

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppkit/smpp"
	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/smpptest"
)

// submitter answers submit_sm with message id "m1", "m2", … and anything
// else with ESME_ROK.
func submitter() smpp.Handler {
	var n atomic.Int64
	return smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
		if _, ok := r.PDU.(*pdu.SubmitSM); ok {
			w.Respond(&pdu.SubmitSMResp{MessageID: "m" + string(rune('0'+n.Add(1)))})
			return
		}
		w.RespondStatus(pdu.ESME_ROK)
	})
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestServerRoundTripAndCleanup(t *testing.T) {
	var srv *smpptest.Server
	var client *smpp.Client
	t.Run("use", func(t *testing.T) {
		srv = smpptest.NewServer(t, submitter())
		if !strings.HasPrefix(srv.Addr, "127.0.0.1:") {
			t.Fatalf("Addr = %q", srv.Addr)
		}
		client = srv.Dial(t, &smpp.ClientConfig{NoReconnect: true})
		resp, err := client.Submit(testCtx(t), &pdu.SubmitSM{DestinationAddr: "1"})
		if err != nil || resp.MessageID != "m1" {
			t.Fatalf("Submit = %+v, %v", resp, err)
		}
		if got := srv.Server.Sessions(smpptest.SystemID); len(got) != 1 {
			t.Fatalf("Sessions(%q) = %d sessions, want 1", smpptest.SystemID, len(got))
		}
	})
	// The subtest's cleanups closed the client and then the server.
	if _, err := client.Submit(testCtx(t), &pdu.SubmitSM{DestinationAddr: "1"}); err == nil {
		t.Error("client still works after its test ended")
	}
	if c, err := net.DialTimeout("tcp", srv.Addr, time.Second); err == nil {
		c.Close()
		t.Error("server still listening after its test ended")
	}
	srv.Close() // again: no effect, no panic
}

func TestUnstartedServerFields(t *testing.T) {
	srv := smpptest.NewUnstartedServer(t, submitter())
	srv.Server.SystemID = "mysmsc"
	srv.Server.Auth = func(_ context.Context, b *smpp.BindRequest) pdu.Status {
		if b.Password != "right" {
			return pdu.ESME_RINVPASWD
		}
		return pdu.ESME_ROK
	}
	srv.Start()
	if got := srv.URL("a b", "p@ss"); got != "smpp://a%20b:p%40ss@"+srv.Addr {
		t.Errorf("URL = %q", got)
	}
	c := srv.DialAs(t, "alice", "right", &smpp.ClientConfig{NoReconnect: true})
	if c.SMSCSystemID() != "mysmsc" {
		t.Errorf("SMSCSystemID = %q", c.SMSCSystemID())
	}
	_, err := smpp.Dial(testCtx(t), srv.URL("alice", "wrong"), &smpp.ClientConfig{NoReconnect: true})
	if !errors.Is(err, pdu.ESME_RINVPASWD) {
		t.Errorf("bind with a wrong password: %v, want ESME_RINVPASWD", err)
	}
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	n atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func TestUnstartedServerListener(t *testing.T) {
	var addr string
	t.Run("never started", func(t *testing.T) {
		srv := smpptest.NewUnstartedServer(t, submitter())
		addr = srv.Addr
		if addr == "" || srv.Listener == nil {
			t.Fatalf("Addr %q, Listener %v before Start", addr, srv.Listener)
		}
	})
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("the listener of a server never started is still open after its test")
	}

	srv := smpptest.NewUnstartedServer(t, submitter())
	cl := &countingListener{Listener: srv.Listener}
	srv.Listener = cl
	srv.Start()
	srv.Dial(t, &smpp.ClientConfig{NoReconnect: true})
	smpptest.DialRaw(t, srv.Addr).Bind(smpp.BindTransmitter, "x", "y")
	if n := cl.n.Load(); n != 2 {
		t.Errorf("the wrapped listener accepted %d connections, want 2", n)
	}
}

func TestStartTLS(t *testing.T) {
	srv := smpptest.NewUnstartedServer(t, submitter())
	sawTLS := make(chan bool, 1)
	srv.Server.Auth = func(_ context.Context, b *smpp.BindRequest) pdu.Status {
		sawTLS <- b.TLS != nil && b.TLS.HandshakeComplete
		return pdu.ESME_ROK
	}
	if srv.ClientTLSConfig() != nil {
		t.Error("ClientTLSConfig before StartTLS")
	}
	srv.StartTLS()
	if u := srv.URL("u", "p"); !strings.HasPrefix(u, "ssmpp://") {
		t.Errorf("URL = %q, want ssmpp://", u)
	}
	if srv.Certificate == nil || srv.CertPool() == nil {
		t.Fatal("no certificate after StartTLS")
	}
	// Without the pool the certificate is refused: it really is verified.
	_, err := smpp.Dial(testCtx(t), srv.URL("u", "p"), &smpp.ClientConfig{NoReconnect: true,
		TLSConfig: &tls.Config{}})
	if err == nil {
		t.Fatal("Dial without trusting the certificate succeeded")
	}
	c := srv.Dial(t, &smpp.ClientConfig{NoReconnect: true})
	if !<-sawTLS {
		t.Error("the bind did not come over TLS")
	}
	if _, err := c.Submit(testCtx(t), &pdu.SubmitSM{DestinationAddr: "1"}); err != nil {
		t.Fatal(err)
	}
}

func TestNewRequest(t *testing.T) {
	r := smpptest.NewRequest(&pdu.SubmitSM{})
	if r.Context() != context.Background() {
		t.Error("Context is not context.Background()")
	}
	if err := r.Respond(&pdu.SubmitSMResp{}); !errors.Is(err, smpp.ErrNoSession) {
		t.Errorf("Respond on a request without a session: %v, want ErrNoSession", err)
	}
	if err := r.RespondStatus(pdu.ESME_ROK); !errors.Is(err, smpp.ErrNoSession) {
		t.Errorf("RespondStatus on a request without a session: %v, want ErrNoSession", err)
	}
	if resp, ok := r.Response().(*pdu.SubmitSMResp); !ok || resp == nil {
		t.Errorf("Response() = %T", r.Response())
	}
	r.Detach() // no session to tell: no panic

	ctx, cancel := context.WithCancel(context.Background())
	r = smpptest.NewRequestContext(ctx, &pdu.QuerySM{})
	if r.Context().Err() != nil {
		t.Fatal("context done before cancel")
	}
	cancel()
	select {
	case <-r.Context().Done():
	default:
		t.Error("cancelling the context given to NewRequestContext did not reach Request.Context")
	}
}

func TestRecorder(t *testing.T) {
	req := &pdu.SubmitSM{Header: pdu.Header{SequenceNumber: 42}, DestinationAddr: "1"}
	r := smpptest.NewRequest(req)
	w := smpptest.NewRecorder(r)
	if w.Result() != nil || w.Status() != pdu.ESME_RSYSERR {
		t.Errorf("before a response: Result %v, Status %v", w.Result(), w.Status())
	}
	if err := w.Respond(&pdu.QuerySMResp{}); err == nil {
		t.Error("query_sm_resp accepted as the answer to submit_sm")
	}
	resp := &pdu.SubmitSMResp{MessageID: "abc"}
	if err := w.Respond(resp); err != nil {
		t.Fatal(err)
	}
	resp.MessageID = "changed after Respond" // allowed: the session does not keep it
	got, ok := w.Result().(*pdu.SubmitSMResp)
	if !ok || got.MessageID != "abc" || got.SequenceNumber != 42 || w.Status() != pdu.ESME_ROK {
		t.Errorf("Result = %+v", w.Result())
	}
	if err := w.RespondStatus(pdu.ESME_RSYSERR); !errors.Is(err, smpp.ErrResponded) {
		t.Errorf("second response: %v, want ErrResponded", err)
	}
	if rs := w.Responses(); len(rs) != 2 || rs[1].Head().CommandStatus != pdu.ESME_RSYSERR {
		t.Errorf("Responses = %v", rs)
	}
	if w.Status() != pdu.ESME_ROK {
		t.Errorf("Status after the refused second response = %v", w.Status())
	}
	select {
	case <-w.Done():
	default:
		t.Error("Done not closed after a response")
	}
}

func TestRecorderChecksLikeASession(t *testing.T) {
	// A request without a response.
	w := smpptest.NewRecorder(smpptest.NewRequest(&pdu.AlertNotification{}))
	if err := w.RespondStatus(pdu.ESME_ROK); err == nil {
		t.Error("a response to alert_notification was accepted")
	}
	// A response that does not encode (message_id is at most 64 octets).
	w = smpptest.NewRecorder(smpptest.NewRequest(&pdu.SubmitSM{}))
	if err := w.Respond(&pdu.SubmitSMResp{MessageID: strings.Repeat("x", 300)}); err == nil {
		t.Error("a response with a 300-octet message_id was accepted")
	}
	if w.Result() != nil {
		t.Error("a refused response became the Result")
	}
	// generic_nack answers anything.
	if err := w.Respond(&pdu.GenericNack{Header: pdu.Header{CommandStatus: pdu.ESME_RINVCMDID}}); err != nil {
		t.Fatal(err)
	}
	if w.Status() != pdu.ESME_RINVCMDID {
		t.Errorf("Status = %v", w.Status())
	}
}

func TestRecorderDetached(t *testing.T) {
	h := smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
		w.Detach()
		go w.Respond(&pdu.SubmitSMResp{MessageID: "later"})
	})
	r := smpptest.NewRequest(&pdu.SubmitSM{})
	w := smpptest.NewRecorder(r)
	h.ServeSMPP(w, r)
	if !w.Detached() {
		t.Error("Detached = false")
	}
	resp, err := w.Wait(testCtx(t))
	if err != nil || resp.(*pdu.SubmitSMResp).MessageID != "later" {
		t.Fatalf("Wait = %v, %v", resp, err)
	}

	// Nobody answers: Wait ends with the context.
	w = smpptest.NewRecorder(r)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := w.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait with no answer: %v", err)
	}
}

func TestRawPeer(t *testing.T) {
	srv := smpptest.NewUnstartedServer(t, submitter())
	srv.Server.Auth = func(_ context.Context, b *smpp.BindRequest) pdu.Status {
		if b.Password != "pw" {
			return pdu.ESME_RINVPASWD
		}
		return pdu.ESME_ROK
	}
	srv.Start()

	t.Run("bind and submit", func(t *testing.T) {
		p := smpptest.DialRaw(t, srv.Addr)
		// Before the bind, submit_sm is out of place.
		if err := p.WritePDU(&pdu.SubmitSM{DestinationAddr: "1"}); err != nil {
			t.Fatal(err)
		}
		if r := p.Expect(t, pdu.SubmitSMRespID); r.Head().CommandStatus != pdu.ESME_RINVBNDSTS || r.Head().SequenceNumber != 1 {
			t.Errorf("submit_sm before bind: %v seq %d", r.Head().CommandStatus, r.Head().SequenceNumber)
		}
		if st, err := p.Bind(smpp.BindTransmitter, "esme", "pw"); err != nil || st != pdu.ESME_ROK {
			t.Fatalf("Bind = %v, %v", st, err)
		}
		if err := p.WritePDU(&pdu.SubmitSM{DestinationAddr: "1"}); err != nil {
			t.Fatal(err)
		}
		if r := p.Expect(t, pdu.SubmitSMRespID).(*pdu.SubmitSMResp); r.MessageID != "m1" || r.SequenceNumber != 3 {
			t.Errorf("submit_sm_resp %+v", r)
		}
		if p.Closed() {
			t.Error("Closed on an open session")
		}
	})
	t.Run("bind refused", func(t *testing.T) {
		p := smpptest.DialRaw(t, srv.Addr)
		if st, err := p.Bind(smpp.BindReceiver, "esme", "nope"); err != nil || st != pdu.ESME_RINVPASWD {
			t.Fatalf("Bind = %v, %v; want ESME_RINVPASWD", st, err)
		}
	})
	t.Run("unframeable", func(t *testing.T) {
		p := smpptest.DialRaw(t, srv.Addr)
		h := make([]byte, 16)
		binary.BigEndian.PutUint32(h, 8) // command_length below the header's 16
		binary.BigEndian.PutUint32(h[4:], uint32(pdu.SubmitSMID))
		binary.BigEndian.PutUint32(h[12:], 7)
		if err := p.Write(h); err != nil {
			t.Fatal(err)
		}
		n := p.Expect(t, pdu.GenericNackID)
		if n.Head().CommandStatus != pdu.ESME_RINVCMDLEN {
			t.Errorf("generic_nack %v, want ESME_RINVCMDLEN", n.Head().CommandStatus)
		}
		if !p.WaitClosed(10 * time.Second) {
			t.Error("connection still open after an unframeable PDU")
		}
		if !p.Closed() {
			t.Error("Closed = false after WaitClosed")
		}
	})
	t.Run("read timeout", func(t *testing.T) {
		p := smpptest.DialRaw(t, srv.Addr)
		p.Timeout = 20 * time.Millisecond
		if _, err := p.ReadPDU(); err == nil {
			t.Fatal("ReadPDU of a silent server returned a PDU")
		}
		// The timeout did not end the stream: the peer goes on.
		p.Timeout = smpptest.RawTimeout
		if st, err := p.Bind(smpp.BindTransceiver, "esme", "pw"); err != nil || st != pdu.ESME_ROK {
			t.Fatalf("Bind after a read timeout = %v, %v", st, err)
		}
	})
}

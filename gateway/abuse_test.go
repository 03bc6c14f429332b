package gateway_test

import (
	"context"
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway"
	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/smpptest"
)

// Bad input from the network gets the answer the specification asks for,
// and the sessions beside it are not held up.
func TestBadInputIsAnsweredAndHurtsNobody(t *testing.T) {
	h := start(t, newMemStore(), newFakeBackend(), func(o *gateway.Options) {
		o.AcceptAny = false
		o.BindTimeout = 300 * time.Millisecond
		o.Accounts = []gateway.Account{{SystemID: "good", CheckPassword: func(pw string) bool { return pw == "pw" }}}
	})
	good := h.dial("good", "trx", nil)

	// A steady client submits while the rest of this test misbehaves; its
	// every submit must be answered, and quickly.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var slowest time.Duration
	var failures int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			t0 := time.Now()
			_, err := good.Submit(context.Background(), &pdu.SubmitSM{SourceAddr: "a", DestinationAddr: "4917", ShortMessage: []byte("x")})
			if err != nil {
				failures++
			}
			slowest = max(slowest, time.Since(t0))
		}
	}()

	// 1. Wrong password, unknown system_id: bind refused with the status.
	p := smpptest.DialRaw(t, h.addr)
	if st, _ := p.Bind(smpp.BindTransceiver, "good", "bad"); st != pdu.ESME_RINVPASWD {
		t.Errorf("wrong password: %v", st)
	}
	if st, _ := p.Bind(smpp.BindTransceiver, "nobody", "pw"); st != pdu.ESME_RINVSYSID {
		t.Errorf("unknown system_id: %v", st)
	}
	// 2. Wrong bind state: a submit before binding.
	p.WritePDU(&pdu.SubmitSM{SourceAddr: "a", DestinationAddr: "b"})
	if r := p.Expect(t, pdu.SubmitSMRespID); r.Head().CommandStatus != pdu.ESME_RINVBNDSTS {
		t.Errorf("submit before bind: %v", r.Head().CommandStatus)
	}
	// 3. A receiver may not submit; a client may not send deliver_sm.
	rx := smpptest.DialRaw(t, h.addr)
	if st, _ := rx.Bind(smpp.BindReceiver, "good", "pw"); st != pdu.ESME_ROK {
		t.Fatalf("receiver bind: %v", st)
	}
	rx.WritePDU(&pdu.SubmitSM{SourceAddr: "a", DestinationAddr: "b"})
	if r := rx.Expect(t, pdu.SubmitSMRespID); r.Head().CommandStatus != pdu.ESME_RINVBNDSTS {
		t.Errorf("submit on a receiver bind: %v", r.Head().CommandStatus)
	}
	rx.WritePDU(&pdu.DeliverSM{SourceAddr: "a", DestinationAddr: "b"})
	if r := rx.Expect(t, pdu.DeliverSMRespID); r.Head().CommandStatus != pdu.ESME_RINVBNDSTS {
		t.Errorf("deliver_sm from a client: %v", r.Head().CommandStatus)
	}
	// 4. Malformed PDUs on a bound session: an unknown command gets
	// generic_nack ESME_RINVCMDID, a truncated body its status, and the
	// session goes on.
	bad := smpptest.DialRaw(t, h.addr)
	if st, _ := bad.Bind(smpp.BindTransceiver, "good", "pw"); st != pdu.ESME_ROK {
		t.Fatalf("bind: %v", st)
	}
	bad.Write(rawPDU(0x000000AB, 7, nil))
	if r := bad.Expect(t, pdu.GenericNackID); r.Head().CommandStatus != pdu.ESME_RINVCMDID || r.Head().SequenceNumber != 7 {
		t.Errorf("unknown command: %v seq %d", r.Head().CommandStatus, r.Head().SequenceNumber)
	}
	bad.Write(rawPDU(uint32(pdu.SubmitSMID), 8, []byte("\x00\x01\x01abc"))) // stops inside source_addr
	if r := bad.Expect(t, pdu.SubmitSMRespID); r.Head().CommandStatus == pdu.ESME_ROK {
		t.Errorf("truncated submit_sm accepted")
	}
	bad.WritePDU(&pdu.EnquireLink{})
	bad.Expect(t, pdu.EnquireLinkRespID)
	// 5. An oversize command_length: generic_nack ESME_RINVCMDLEN, then the
	// connection closes (the stream cannot be resynchronised).
	huge := smpptest.DialRaw(t, h.addr)
	hdr := make([]byte, 16)
	binary.BigEndian.PutUint32(hdr, 1<<30)
	binary.BigEndian.PutUint32(hdr[4:], uint32(pdu.SubmitSMID))
	binary.BigEndian.PutUint32(hdr[12:], 9)
	huge.Write(hdr)
	if r := huge.Expect(t, pdu.GenericNackID); r.Head().CommandStatus != pdu.ESME_RINVCMDLEN {
		t.Errorf("oversize length: %v", r.Head().CommandStatus)
	}
	if !huge.WaitClosed(2 * time.Second) {
		t.Error("connection with an unframeable length left open")
	}
	// 6. A flood of connections that never bind: each is closed after the
	// bind timeout.
	var flood []net.Conn
	for range 300 {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		flood = append(flood, c)
	}
	for _, c := range flood {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("a connection that never bound was sent something")
		}
		c.Close()
	}
	close(stop)
	wg.Wait()
	if failures > 0 {
		t.Errorf("%d submits of the well-behaved client failed meanwhile", failures)
	}
	// Generous: a slow CI machine under -race; a stuck session would take
	// the response timeout (30 s).
	if slowest > 2*time.Second {
		t.Errorf("a submit of the well-behaved client took %v meanwhile", slowest)
	}
	t.Logf("slowest submit of the well-behaved client meanwhile: %v", slowest)
}

func rawPDU(id, seq uint32, body []byte) []byte {
	b := make([]byte, 16, 16+len(body))
	binary.BigEndian.PutUint32(b, uint32(16+len(body)))
	binary.BigEndian.PutUint32(b[4:], id)
	binary.BigEndian.PutUint32(b[12:], seq)
	return append(b, body...)
}

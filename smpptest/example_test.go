package smpptest_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/smppkit/smpp"
	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/smpptest"
)

// refuseLong is the handler under test in the examples: it refuses
// messages over 160 octets.
var refuseLong = smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
	sm, ok := r.PDU.(*pdu.SubmitSM)
	switch {
	case !ok:
		w.RespondStatus(pdu.ESME_RINVCMDID)
	case len(sm.ShortMessage) > 160:
		w.RespondStatus(pdu.ESME_RINVMSGLEN)
	default:
		w.Respond(&pdu.SubmitSMResp{MessageID: "1"})
	}
})

// A handler called directly, as a function: no connection, no goroutine.
func ExampleNewRecorder() {
	r := smpptest.NewRequest(&pdu.SubmitSM{Header: pdu.Header{SequenceNumber: 7}, ShortMessage: make([]byte, 200)})
	w := smpptest.NewRecorder(r)
	refuseLong.ServeSMPP(w, r)
	fmt.Println(w.Status().String(), w.Result().Head().SequenceNumber)
	// Output: ESME_RINVMSGLEN 7
}

// A handler that answers later, from another goroutine, as one that waits
// for a store or a backend does.
func ExampleResponseRecorder_Wait() {
	detaching := smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
		w.Detach()
		go func() {
			w.Respond(&pdu.SubmitSMResp{MessageID: "stored-1"})
		}()
	})
	r := smpptest.NewRequest(&pdu.SubmitSM{})
	w := smpptest.NewRecorder(r)
	detaching.ServeSMPP(w, r)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := w.Wait(ctx)
	fmt.Println(w.Detached(), resp.(*pdu.SubmitSMResp).MessageID, err)
	// Output: true stored-1 <nil>
}

// A handler that gives up when its session closes, tested by cancelling
// the request's context.
func ExampleNewRequestContext() {
	waiting := smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
		<-r.Context().Done() // a backend that never answers
		w.RespondStatus(pdu.ESME_RSYSERR)
	})
	ctx, cancel := context.WithCancel(context.Background())
	r := smpptest.NewRequestContext(ctx, &pdu.DataSM{})
	w := smpptest.NewRecorder(r)
	cancel()
	waiting.ServeSMPP(w, r)
	fmt.Println(w.Result().CommandID(), w.Status().String())
	// Output: data_sm_resp ESME_RSYSERR
}

// In a test function: a server for the handler under test and a client
// bound to it, both closed when the test ends.
func ExampleNewServer() {
	_ = func(t *testing.T) {
		srv := smpptest.NewServer(t, refuseLong)
		c := srv.Dial(t, &smpp.ClientConfig{NoReconnect: true})
		_, err := c.Submit(t.Context(), &pdu.SubmitSM{ShortMessage: make([]byte, 200)})
		if err != pdu.ESME_RINVMSGLEN {
			t.Errorf("Submit of 200 octets: %v, want ESME_RINVMSGLEN", err)
		}
	}
}

// In a test function: set the server's fields before it starts, and serve
// TLS with a certificate made for the test, which Dial trusts.
func ExampleServer_StartTLS() {
	_ = func(t *testing.T) {
		srv := smpptest.NewUnstartedServer(t, refuseLong)
		srv.Server.ReusePDUs = true
		srv.Server.Auth = func(_ context.Context, b *smpp.BindRequest) pdu.Status {
			if b.TLS == nil {
				return pdu.ESME_RBINDFAIL
			}
			return pdu.ESME_ROK
		}
		srv.StartTLS()
		c := srv.Dial(t, nil) // ssmpp://, trusting srv.Certificate
		if _, err := c.Submit(t.Context(), &pdu.SubmitSM{}); err != nil {
			t.Fatal(err)
		}
		// Another client library would use srv.URL and srv.ClientTLSConfig().
		t.Log(srv.URL("alice", "secret"), srv.ClientTLSConfig().RootCAs != nil)
	}
}

// In a test function: what no Client sends. A command_length below the
// 16-octet header must get generic_nack ESME_RINVCMDLEN and the close.
func ExampleDialRaw() {
	_ = func(t *testing.T) {
		srv := smpptest.NewServer(t, refuseLong)
		p := smpptest.DialRaw(t, srv.Addr)
		if st, err := p.Bind(smpp.BindTransceiver, "esme", "pw"); err != nil || st != pdu.ESME_ROK {
			t.Fatalf("bind: %v %v", st, err)
		}
		h := make([]byte, 16)
		binary.BigEndian.PutUint32(h, 8)
		p.Write(h)
		nack := p.Expect(t, pdu.GenericNackID)
		if nack.Head().CommandStatus != pdu.ESME_RINVCMDLEN {
			t.Errorf("generic_nack %v", nack.Head().CommandStatus)
		}
		if !p.WaitClosed(5 * time.Second) {
			t.Error("still open")
		}
	}
}

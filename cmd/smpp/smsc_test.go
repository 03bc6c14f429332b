package main

import (
	"context"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/dlr"
	"github.com/smppkit/smpp/pdu"
)

// testSMSC is an in-process SMSC for the CLI tests: it accepts every bind,
// answers submit_sm with ids from id (hex counters by default), keeps what
// it received, and sends a DELIVRD receipt for each submit_sm that asks for
// one, its text id written by receiptID (the same id by default) and with
// the receipted_message_id TLV unless noTLV.
type testSMSC struct {
	id        func(n uint64) string
	receiptID func(id string) string
	noTLV     bool

	srv  *smpp.Server
	addr string
	n    atomic.Uint64
	mu   sync.Mutex
	got  []*pdu.SubmitSM
	bind []smpp.BindRequest
}

func (m *testSMSC) start(t *testing.T) *testSMSC {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.addr = l.Addr().String()
	m.srv = &smpp.Server{
		Auth: func(_ context.Context, b *smpp.BindRequest) pdu.Status {
			m.mu.Lock()
			m.bind = append(m.bind, *b)
			m.mu.Unlock()
			return pdu.ESME_ROK
		},
		Handler: smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
			p, ok := r.PDU.(*pdu.SubmitSM)
			if !ok {
				w.RespondStatus(pdu.ESME_ROK)
				return
			}
			n := m.n.Add(1)
			id := strconv.FormatUint(n, 16)
			if m.id != nil {
				id = m.id(n)
			}
			m.mu.Lock()
			m.got = append(m.got, p)
			m.mu.Unlock()
			w.Respond(&pdu.SubmitSMResp{MessageID: id})
			if p.RegisteredDelivery&3 != 0 {
				go m.receipt(r.Session, p, id)
			}
		}),
	}
	go m.srv.Serve(l)
	t.Cleanup(func() { m.srv.Close() })
	return m
}

func (m *testSMSC) receipt(s *smpp.Session, p *pdu.SubmitSM, id string) {
	now := time.Now()
	textID := id
	if m.receiptID != nil {
		textID = m.receiptID(id)
	}
	rc := dlr.New(textID, now, now, pdu.StateDelivered, "")
	d := &pdu.DeliverSM{ESMClass: 0x04, SourceAddr: p.DestinationAddr, DestinationAddr: p.SourceAddr,
		ShortMessage: []byte(rc.String())}
	if !m.noTLV {
		d.TLVs.SetString(pdu.TagReceiptedMessageID, id)
		d.TLVs.SetUint8(pdu.TagMessageState, uint8(pdu.StateDelivered))
	}
	ctx, cancel := context.WithTimeout(s.Context(), 10*time.Second)
	defer cancel()
	s.Call(ctx, d)
}

func (m *testSMSC) url(user string) string { return "smpp://" + user + ":secret@" + m.addr }

func (m *testSMSC) submits() []*pdu.SubmitSM {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*pdu.SubmitSM(nil), m.got...)
}

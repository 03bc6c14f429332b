package smpp

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/smppkit/smpp/pdu"
)

// A client that unbinds while its handler is answering a delivery must put
// the deliver_sm_resp on the wire before the unbind. The client's trace
// hook, which runs as each PDU is queued, opens the race wide: when the
// deliver_sm_resp is about to be queued it starts Unbind and gives it a
// while to queue its unbind first. That is only possible while the
// request's inbound slot is released before its response is queued.
func TestUnbindAfterPendingResponse(t *testing.T) {
	var mu sync.Mutex
	var got []pdu.CommandID
	srv := &Server{Trace: func(_ *Session, d Direction, p pdu.PDU) {
		if d == Received {
			mu.Lock()
			got = append(got, p.CommandID())
			mu.Unlock()
		}
	}}
	addr := testServer(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var c *Client
	var once sync.Once
	unbindQueued := make(chan struct{})
	unbound := make(chan error, 1)
	cfg := &ClientConfig{NoReconnect: true, Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		w.RespondStatus(pdu.ESME_ROK)
	}), Trace: func(_ *Session, d Direction, p pdu.PDU) {
		switch {
		case d == Sent && p.CommandID() == pdu.DeliverSMRespID:
			once.Do(func() {
				go func() { unbound <- c.Unbind(ctx) }()
				// Unbind must wait for this response: give it time
				// to get it wrong.
				select {
				case <-unbindQueued:
				case <-time.After(200 * time.Millisecond):
				}
			})
		case d == Sent && p.CommandID() == pdu.UnbindID:
			close(unbindQueued)
		}
	}}
	var err error
	c, err = Dial(ctx, "smpp://u:p@"+addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := srv.Deliver(ctx, "u", &pdu.DeliverSM{SourceAddr: "1", DestinationAddr: "2"}); err != nil {
		// (With no deliver_sm_resp sent, Unbind was never started.)
		t.Fatalf("Deliver: %v", err)
	}
	if err := <-unbound; err != nil {
		t.Errorf("Unbind: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	resp, unbind := -1, -1
	for i, id := range got {
		switch id {
		case pdu.DeliverSMRespID:
			resp = i
		case pdu.UnbindID:
			unbind = i
		}
	}
	if resp < 0 || unbind < 0 || resp > unbind {
		t.Fatalf("server received %v: want deliver_sm_resp before unbind", got)
	}
}

package node_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/interop/internal/peer"
	"github.com/smppkit/smpp/pdu"
)

// Two faults a new user found, against node-smpp's SMSC.
//
// A receipt whose id is written in decimal while the submit_sm_resp gave it
// in hexadecimal (1a2b01 → id:1714945, no receipted_message_id) is matched
// with the message Send sent; and Unbind, called while the client is still
// answering that receipt, puts its deliver_sm_resp on the wire before the
// unbind.
func TestNodeDecimalReceiptAndUnbindOrder(t *testing.T) {
	node := peer.RequireNode(t, nodeDir)
	srv, addr := startNodeServer(t, node)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	receipts := make(chan *smpp.Receipt, 1)
	answering := make(chan struct{})
	release := make(chan struct{})
	in := &smpp.Inbound{OnReceipt: func(_ context.Context, r *smpp.Receipt) pdu.Status {
		receipts <- r
		close(answering)
		<-release // still answering when Unbind is called
		return pdu.ESME_ROK
	}}
	c, err := smpp.Dial(ctx, "smpp://esme:secret@"+addr, &smpp.ClientConfig{Inbound: in, NoReconnect: true})
	if err != nil {
		t.Fatalf("Dial: %v\n%s", err, srv.Report())
	}
	ids, err := c.Send(ctx, smpp.Message{From: "4915100000000", To: "4915100000001", Text: "decimal receipt please", Receipt: true})
	if err != nil || len(ids) != 1 {
		t.Fatalf("Send = %v, %v", ids, err)
	}
	hex, _ := strconv.ParseUint(ids[0], 16, 64)
	var r *smpp.Receipt
	select {
	case r = <-receipts:
	case <-ctx.Done():
		t.Fatalf("no receipt\n%s", srv.Report())
	}
	if r.TextID != strconv.FormatUint(hex, 10) || r.ID != ids[0] || r.Sent == nil || r.Sent.IDs[0] != ids[0] {
		t.Errorf("receipt id %q (text %q), sent %+v; want it matched with %s", r.ID, r.TextID, r.Sent, ids[0])
	}
	<-answering
	unbound := make(chan error, 1)
	go func() { unbound <- c.Unbind(ctx) }()
	// Give Unbind a moment to start waiting (nothing to await: without the
	// moment the test only gets weaker), then finish the answer.
	time.Sleep(20 * time.Millisecond)
	close(release)
	if err := <-unbound; err != nil {
		t.Fatalf("Unbind: %v", err)
	}
	srv.MustWait(t, nodeWait, "unbind", peer.IsPDU("unbind", 1))
	order := []string{}
	for _, e := range srv.Events() {
		if n := e.Command(); e.Name() == "pdu" && (n == "deliver_sm_resp" || n == "unbind") {
			order = append(order, n)
		}
	}
	if len(order) < 2 || order[0] != "deliver_sm_resp" || order[1] != "unbind" {
		t.Errorf("the server saw %v, want deliver_sm_resp before unbind", order)
	}
}

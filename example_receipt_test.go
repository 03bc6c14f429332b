package smpp_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/dlr"
	"github.com/smppkit/smpp/pdu"
)

// An SMSC that answers submit_sm with the id "1a2b01" (hexadecimal) and
// writes it in decimal in the receipt text, without receipted_message_id:
// Inbound's default policy, IDAuto, still matches the receipt with the
// message Send sent.
func ExampleInbound_receiptIDs() {
	srv := &smpp.Server{Handler: smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
		p, ok := r.PDU.(*pdu.SubmitSM)
		if !ok {
			w.RespondStatus(pdu.ESME_ROK)
			return
		}
		w.Respond(&pdu.SubmitSMResp{MessageID: "1a2b01"})
		go func() {
			rc := dlr.New("1714945", time.Now(), time.Now(), pdu.StateDelivered, "")
			r.Session.Call(context.Background(), &pdu.DeliverSM{ESMClass: 0x04, SourceAddr: p.DestinationAddr,
				DestinationAddr: p.SourceAddr, ShortMessage: []byte(rc.String())})
		}()
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	receipts := make(chan *smpp.Receipt, 1)
	in := &smpp.Inbound{
		// ReceiptIDs: smpp.IDHexInDecimal would fix the rule; IDExact
		// would leave this receipt unmatched (Sent nil).
		OnReceipt: func(_ context.Context, r *smpp.Receipt) pdu.Status {
			receipts <- r
			return pdu.ESME_ROK
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := smpp.Dial(ctx, "smpp://alice:secret@"+l.Addr().String(), &smpp.ClientConfig{Inbound: in})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ids, err := c.Send(ctx, smpp.Message{From: "Shop", To: "+491761234567", Text: "Hello", Receipt: true})
	if err != nil {
		log.Fatal(err)
	}
	r := <-receipts
	fmt.Println("sent", ids, "receipt", r.TextID, "matched", r.Sent != nil, "as", r.ID, r.State)
	// Output: sent [1a2b01] receipt 1714945 matched true as 1a2b01 DELIVERED
}

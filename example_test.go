package smpp_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/pdu"
)

// A server that accepts every bind and every message, and a client that
// sends one: the whole round trip on loopback.
func Example() {
	var ids atomic.Uint64
	srv := &smpp.Server{
		Handler: smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
			if _, ok := r.PDU.(*pdu.SubmitSM); ok {
				w.Respond(&pdu.SubmitSMResp{MessageID: strconv.FormatUint(ids.Add(1), 16)})
				return
			}
			w.RespondStatus(pdu.ESME_ROK)
		}),
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := smpp.Dial(ctx, "smpp://alice:secret@"+l.Addr().String(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Unbind(ctx)
	ids2, err := c.Send(ctx, smpp.Message{From: "Sender", To: "+491761234567", Text: "Hello world"})
	fmt.Println(ids2, err)
	// Output: [1] <nil>
}

func ExampleDial() {
	ctx := context.Background()
	c, err := smpp.Dial(ctx, "ssmpp://user:password@smsc.example.com:3550?bind=trx", &smpp.ClientConfig{
		Window: 50,
		Inbound: &smpp.Inbound{
			OnReceipt: func(_ context.Context, r *smpp.Receipt) pdu.Status {
				fmt.Println("receipt", r.ID, r.State)
				return pdu.ESME_ROK
			},
			OnMessage: func(_ context.Context, m *smpp.InboundMessage) pdu.Status {
				fmt.Println("MO from", m.From, ":", m.Text)
				return pdu.ESME_ROK
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Unbind(ctx)
	ids, err := c.Send(ctx, smpp.Message{From: "Shop", To: "+491761234567", Text: "Your order has shipped", Receipt: true})
	fmt.Println(ids, err)
}

func ExampleServer() {
	srv := &smpp.Server{
		Addr: ":2775",
		Auth: func(_ context.Context, b *smpp.BindRequest) pdu.Status {
			if b.SystemID == "alice" && b.Password == "secret" {
				return pdu.ESME_ROK
			}
			return pdu.ESME_RBINDFAIL
		},
		Handler: smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
			switch p := r.PDU.(type) {
			case *pdu.SubmitSM:
				log.Printf("%s → %s: %q", p.SourceAddr, p.DestinationAddr, p.ShortMessage)
				w.Respond(&pdu.SubmitSMResp{MessageID: "0a1b2c3d"})
			default:
				w.RespondStatus(pdu.ESME_RINVCMDID)
			}
		}),
	}
	log.Fatal(srv.ListenAndServe())
}

// A handler that answers after a slow backend without holding a worker:
// Detach, then respond from another goroutine.
func ExampleResponseWriter_detach() {
	handler := smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
		w.Detach()
		go func() {
			time.Sleep(10 * time.Millisecond) // the backend
			w.Respond(&pdu.SubmitSMResp{MessageID: "later"})
		}()
	})
	_ = &smpp.Server{Handler: handler}
}

// A server that costs no allocation per request: with ReusePDUs the session
// recycles each Request and its PDU once the handler has returned, and
// Response gives a response struct recycled with it. The handler keeps
// values (strings, slices) freely, but not the structs.
func ExampleRequest_Response() {
	var ids atomic.Uint64
	srv := &smpp.Server{
		ReusePDUs: true,
		Handler: smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
			if _, ok := r.PDU.(*pdu.SubmitSM); !ok {
				w.RespondStatus(pdu.ESME_ROK)
				return
			}
			resp := r.Response().(*pdu.SubmitSMResp)
			resp.MessageID = strconv.FormatUint(ids.Add(1), 16)
			w.Respond(resp) // encoded before it returns
		}),
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := smpp.Dial(ctx, "smpp://alice:secret@"+l.Addr().String(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Unbind(ctx)
	for range 3 {
		resp, err := c.Submit(ctx, &pdu.SubmitSM{SourceAddr: "Sender", DestinationAddr: "491761234567", ShortMessage: []byte("Hi")})
		fmt.Println(resp.MessageID, err)
	}
	// Output:
	// 1 <nil>
	// 2 <nil>
	// 3 <nil>
}

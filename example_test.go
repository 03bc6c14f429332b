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
	"github.com/smppkit/smpp/dlr"
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
		OutboundWindow: 50,
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

// Shutdown lets every session finish the requests it is handling: the
// submit_sm in the handler when Shutdown begins is still answered, then the
// session is unbound and Serve returns ErrServerClosed.
func ExampleServer_Shutdown() {
	inHandler, release := make(chan struct{}), make(chan struct{})
	srv := &smpp.Server{Handler: smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
		close(inHandler)
		<-release // a slow backend
		w.Respond(&pdu.SubmitSMResp{MessageID: "done-before-shutdown"})
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := smpp.Dial(ctx, "smpp://alice:secret@"+l.Addr().String(), &smpp.ClientConfig{NoReconnect: true})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	submitted := make(chan string, 1)
	go func() {
		resp, err := c.Submit(ctx, &pdu.SubmitSM{DestinationAddr: "491761234567", ShortMessage: []byte("Hi")})
		if err != nil {
			submitted <- err.Error()
			return
		}
		submitted <- resp.MessageID
	}()
	<-inHandler

	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown(ctx) }()
	close(release)
	fmt.Println("submit:", <-submitted)
	fmt.Println("Shutdown:", <-shutdown)
	fmt.Println("Serve:", <-served)
	// Output:
	// submit: done-before-shutdown
	// Shutdown: <nil>
	// Serve: smpp: server closed
}

// Deliver sends a mobile-originated message (or a receipt) to a bound ESME
// by its system_id and returns its answer.
func ExampleServer_Deliver() {
	srv := &smpp.Server{Handler: smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
		w.RespondStatus(pdu.ESME_ROK)
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	mo := make(chan string, 1)
	c, err := smpp.Dial(ctx, "smpp://alice:secret@"+l.Addr().String(), &smpp.ClientConfig{
		NoReconnect: true,
		Inbound: &smpp.Inbound{OnMessage: func(_ context.Context, m *smpp.InboundMessage) pdu.Status {
			mo <- m.From + ": " + m.Text
			return pdu.ESME_ROK
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	resp, err := srv.Deliver(ctx, "alice", &pdu.DeliverSM{
		SourceAddr: "491761234567", DestinationAddr: "Shop", ShortMessage: []byte("STOP"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-mo)
	fmt.Println(resp.CommandID(), resp.Head().CommandStatus.String())
	_, err = srv.Deliver(ctx, "bob", &pdu.DeliverSM{DestinationAddr: "Bob"})
	fmt.Println("to bob:", err)
	// Output:
	// 491761234567: STOP
	// deliver_sm_resp ESME_ROK
	// to bob: smpp: not bound
}

// A pool of three binds to one SMSC: requests go to the least busy one.
func ExampleDialPool() {
	var ids atomic.Uint64
	srv := &smpp.Server{Handler: smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
		w.Respond(&pdu.SubmitSMResp{MessageID: strconv.FormatUint(ids.Add(1), 10)})
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pool, err := smpp.DialPool(ctx, "smpp://alice:secret@"+l.Addr().String(), 3, &smpp.ClientConfig{NoReconnect: true})
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Unbind(ctx)
	fmt.Println(len(pool.Clients()), "clients,", len(srv.Sessions("alice")), "binds at the server")
	for range 3 {
		ids, err := pool.Send(ctx, smpp.Message{From: "Shop", To: "+491761234567", Text: "Hello"})
		fmt.Println(ids, err)
	}
	// Output:
	// 3 clients, 3 binds at the server
	// [1] <nil>
	// [2] <nil>
	// [3] <nil>
}

// Inbound matches delivery receipts with the messages Send sent: here the
// SMSC delivers a receipt right after accepting the message.
func ExampleInbound() {
	srv := &smpp.Server{}
	srv.Handler = smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
		sm, ok := r.PDU.(*pdu.SubmitSM)
		if !ok {
			w.RespondStatus(pdu.ESME_RINVCMDID)
			return
		}
		const id = "5e1f00a7"
		w.Respond(&pdu.SubmitSMResp{MessageID: id})
		go func() { // the SMSC's receipt, a moment later
			now := time.Now().UTC()
			rc := dlr.New(id, now, now, pdu.StateDelivered, string(sm.ShortMessage))
			srv.Deliver(r.Context(), r.Session.SystemID(), &pdu.DeliverSM{
				SourceAddr: sm.DestinationAddr, DestinationAddr: sm.SourceAddr,
				ESMClass: 0x04, ShortMessage: []byte(rc.String()), TLVs: rc.TLVs(),
			})
		}()
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	receipts := make(chan *smpp.Receipt, 1)
	c, err := smpp.Dial(ctx, "smpp://alice:secret@"+l.Addr().String(), &smpp.ClientConfig{
		NoReconnect: true,
		Inbound: &smpp.Inbound{
			OnReceipt: func(_ context.Context, r *smpp.Receipt) pdu.Status {
				receipts <- r
				return pdu.ESME_ROK
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ids, err := c.Send(ctx, smpp.Message{From: "Shop", To: "+491761234567", Text: "Your order has shipped", Receipt: true})
	fmt.Println("sent", ids, err)
	r := <-receipts
	fmt.Println("receipt", r.ID, r.State, "for the message to", r.Sent.To)
	// Output:
	// sent [5e1f00a7] <nil>
	// receipt 5e1f00a7 DELIVERED for the message to +491761234567
}

package smpp

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppkit/smpp/pdu"
)

// testServer starts a Server on a loopback port; cleanup shuts it down.
func testServer(t testing.TB, srv *Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// echoHandler accepts every submit with an id counting up.
func echoHandler() Handler {
	var n atomic.Uint64
	return HandlerFunc(func(w ResponseWriter, r *Request) {
		switch r.PDU.(type) {
		case *pdu.SubmitSM:
			w.Respond(&pdu.SubmitSMResp{MessageID: fmt.Sprintf("%x", n.Add(1))})
		default:
			w.RespondStatus(pdu.ESME_ROK)
		}
	})
}

func TestSmoke(t *testing.T) {
	addr := testServer(t, &Server{Handler: echoHandler()})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, "smpp://user:pw@"+addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := c.Submit(ctx, &pdu.SubmitSM{SourceAddr: "a", DestinationAddr: "b", ShortMessage: []byte("hi")})
	if err != nil || resp.MessageID != "1" {
		t.Fatal(resp, err)
	}
	ids, err := c.Send(ctx, Message{From: "Sender", To: "491761234567", Text: strings.Repeat("a", 300)})
	if err != nil || len(ids) != 2 {
		t.Fatal(ids, err)
	}
	if err := c.Unbind(ctx); err != nil {
		t.Fatal(err)
	}
}

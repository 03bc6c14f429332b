package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/smppkit/smpp/pdu"
)

// Fault 5: listen reports the bind type the URL asked for, binds that way,
// and refuses a transmitter bind (which would receive nothing).
func TestListenBindType(t *testing.T) {
	m := (&testSMSC{}).start(t)
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(env{args: []string{"listen", "--url", m.url("rx") + "?bind=rx", "--count", "1"},
			stdin: strings.NewReader(""), stdout: &out, stderr: &errb})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(m.srv.Sessions("rx")) == 0 || !strings.Contains(errb.String(), "bound") {
		if ctx.Err() != nil {
			t.Fatal("listen did not bind: ", errb.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := m.srv.Deliver(ctx, "rx", &pdu.DeliverSM{SourceAddr: "1", DestinationAddr: "2", ShortMessage: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	<-done
	if s := errb.String(); !strings.Contains(s, "as receiver") {
		t.Errorf("stderr: %s", s)
	}
	m.mu.Lock()
	cmd := m.bind[0].Command
	m.mu.Unlock()
	if cmd != pdu.BindReceiverID {
		t.Errorf("bound with %v", cmd)
	}
	// (In a goroutine: a listen that binds as a transmitter waits for ever.)
	type result struct {
		errs string
		code int
	}
	res := make(chan result, 1)
	go func() {
		var errb syncBuffer
		code := run(env{args: []string{"listen", "--url", m.url("tx") + "?bind=tx"}, stdin: strings.NewReader(""),
			stdout: &syncBuffer{}, stderr: &errb})
		res <- result{errb.String(), code}
	}()
	select {
	case r := <-res:
		if r.code != 2 || !strings.Contains(r.errs, "transmitter") {
			t.Fatalf("bind=tx: exit %d: %s", r.code, r.errs)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("bind=tx: listen did not refuse the transmitter bind")
	}
	if len(m.srv.Sessions("tx")) != 0 {
		t.Fatal("bound as transmitter anyway")
	}
}

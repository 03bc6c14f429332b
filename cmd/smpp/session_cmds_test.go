package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/pdu"
)

// startServe runs 'smpp serve' in-process on a free port and returns its URL
// host:port; the command stops when the test ends.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	go run(env{args: append([]string{"serve", "-addr", addr}, args...), stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &syncBuffer{}})
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatal("smpp serve did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSendWithReceipts(t *testing.T) {
	addr := startServe(t)
	long := strings.Repeat("long message ", 20)
	out, errs, code := runCLI(t, "", "send", "--url", "smpp://u:p@"+addr, "--from", "Sender", "--to", "+491761234567",
		"--dlr", "--wait", "10s", "--json", long)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var submitted, delivered int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatal(line)
		}
		switch {
		case v["event"] == "submitted":
			submitted++
		case v["event"] == "receipt" && v["state"] == "DELIVERED":
			delivered++
		}
	}
	if submitted != 2 || delivered != 2 {
		t.Fatalf("%d parts submitted, %d delivered:\n%s", submitted, delivered, out)
	}
}

func TestSendFailsOnBadBind(t *testing.T) {
	addr := startServe(t, "-password", "right")
	_, errs, code := runCLI(t, "", "send", "--url", "smpp://u:wrong@"+addr, "--to", "1", "hi")
	if code != 1 || !strings.Contains(errs, "ESME_RINVPASWD") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

func TestListenPrintsMOAndReceipts(t *testing.T) {
	srv := &smpp.Server{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(env{args: []string{"listen", "--url", "smpp://lis:pw@" + l.Addr().String() + "?bind=rx", "--json", "--count", "2"},
			stdin: strings.NewReader(""), stdout: &out, stderr: &errb})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(srv.Sessions("lis")) == 0 {
		if ctx.Err() != nil {
			t.Fatal("listen did not bind: ", errb.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := srv.Deliver(ctx, "lis", &pdu.DeliverSM{SourceAddr: "491761234567", DestinationAddr: "12345", ShortMessage: []byte("hello MO")}); err != nil {
		t.Fatal(err)
	}
	rc := &pdu.DeliverSM{ESMClass: 4, SourceAddr: "491761234567", DestinationAddr: "Sender",
		ShortMessage: []byte("id:abc sub:001 dlvrd:001 submit date:2611221200 done date:2611221201 stat:UNDELIV err:001 text:x")}
	if _, err := srv.Deliver(ctx, "lis", rc); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	case <-ctx.Done():
		t.Fatal("listen did not finish")
	}
	s := out.String()
	if !strings.Contains(s, `"text":"hello MO"`) || !strings.Contains(s, `"state":"UNDELIVERABLE"`) || !strings.Contains(s, `"message_id":"abc"`) {
		t.Fatalf("output:\n%s", s)
	}
}

func TestBenchSummary(t *testing.T) {
	addr := startServe(t)
	out, errs, code := runCLI(t, "", "bench", "--url", "smpp://b:p@"+addr, "--conns", "2", "--window", "20", "--count", "2000", "-q")
	if code != 0 || !strings.Contains(out, "ok=2000 err=0") || !strings.Contains(out, "p99=") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	// A rate limit is respected: 200 messages at 1000/s take about 0.2 s.
	start := time.Now()
	_, _, code = runCLI(t, "", "bench", "--url", "smpp://b:p@"+addr, "--count", "200", "--rate", "1000", "-q")
	if d := time.Since(start); code != 0 || d < 150*time.Millisecond {
		t.Fatalf("exit %d after %v", code, d)
	}
}

func TestTraceShowsBothDirections(t *testing.T) {
	addr := startServe(t)
	_, errs, code := runCLI(t, "", "send", "--url", "smpp://u:p@"+addr, "--to", "1", "--trace", "hi")
	if code != 0 || !strings.Contains(errs, `-> {"command":"submit_sm"`) || !strings.Contains(errs, `<- {"command":"submit_sm_resp"`) {
		t.Fatalf("exit %d:\n%s", code, errs)
	}
}

func TestQueryAndCancelAgainstServe(t *testing.T) {
	addr := startServe(t)
	url := "smpp://u:p@" + addr
	out, errs, code := runCLI(t, "", "send", "--url", url, "--from", "Shop", "--to", "+491761234567", "--dlr", "--wait", "10s", "--json", "hi")
	if code != 0 {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errs)
	}
	var id string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var v map[string]any
		json.Unmarshal([]byte(line), &v)
		if v["event"] == "submitted" {
			id, _ = v["message_id"].(string)
		}
	}
	if id == "" {
		t.Fatalf("no message id in\n%s", out)
	}
	out, errs, code = runCLI(t, "", "query", "--url", url, "--from", "Shop", id, "ffffffff")
	if code != 1 || !strings.Contains(out, id+": DELIVERED at ") || !strings.Contains(out, "ffffffff: ESME_RQUERYFAIL") {
		t.Fatalf("query: exit %d\n%s\n%s", code, out, errs)
	}
	// Delivered already: nothing to cancel.
	out, errs, code = runCLI(t, "", "cancel", "--url", url, "--from", "Shop", id)
	if code != 1 || !strings.Contains(out, "ESME_RCANCELFAIL") {
		t.Fatalf("cancel: exit %d\n%s\n%s", code, out, errs)
	}
	if _, errs, code := runCLI(t, "", "cancel", "--url", url); code != 2 {
		t.Fatalf("cancel without ids or --to: exit %d\n%s", code, errs)
	}
}

package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Fault 6: when the SMSC dies, a timed run still ends at its duration, says
// the link was lost, and exits 1; errors are grouped by kind (no raw error
// text with port numbers).
func TestBenchStopsWhenLinkLost(t *testing.T) {
	m := (&testSMSC{}).start(t)
	type result struct {
		out, errs string
		code      int
	}
	done := make(chan result, 1)
	var out, errb syncBuffer
	start := time.Now()
	go func() {
		code := run(env{args: []string{"bench", "--url", m.url("b"), "--rate", "200", "--duration", "1500ms", "-q"},
			stdin: strings.NewReader(""), stdout: &out, stderr: &errb})
		done <- result{out.String(), errb.String(), code}
	}()
	for m.n.Load() < 20 {
		if time.Since(start) > 5*time.Second {
			t.Fatal("bench sent nothing")
		}
		time.Sleep(5 * time.Millisecond)
	}
	m.srv.Close()
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("bench did not stop after its duration once the SMSC died")
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("bench took %v for a 1.5 s run", d)
	}
	if r.code != 1 || !strings.Contains(r.errs+r.out, "link lost") {
		t.Errorf("exit %d\n%s\n%s", r.code, r.out, r.errs)
	}
	if strings.Contains(r.out, "127.0.0.1") {
		t.Errorf("errors are not grouped by kind:\n%s", r.out)
	}
}

// Fault 6: --dlr waits for the receipts and counts them, with latency;
// --json prints the summary as JSON.
func TestBenchDLRAndJSON(t *testing.T) {
	m := (&testSMSC{}).start(t)
	out, errs, code := runCLI(t, "", "bench", "--url", m.url("b"), "--count", "50", "--dlr", "--json", "-q")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var sum benchSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if sum.OK != 50 || sum.Receipts == nil || sum.Receipts.Received != 50 || sum.Receipts.States["DELIVERED"] != 50 ||
		sum.Receipts.Latency.P50 <= 0 {
		t.Fatalf("summary %s", out)
	}
	// Readable form.
	out, _, code = runCLI(t, "", "bench", "--url", m.url("b"), "--count", "20", "--dlr", "-q")
	if code != 0 || !strings.Contains(out, "receipts=20/20") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// Fault 6: the progress line has no terminal escape codes when stderr is not
// a terminal.
func TestBenchProgressPlainWhenNotTerminal(t *testing.T) {
	m := (&testSMSC{}).start(t)
	_, errs, code := runCLI(t, "", "bench", "--url", m.url("b"), "--rate", "100", "--duration", "1200ms")
	if code != 0 || strings.Contains(errs, "\033") || strings.Contains(errs, "\r") || !strings.Contains(errs, "msg/s") {
		t.Fatalf("exit %d: %q", code, errs)
	}
}

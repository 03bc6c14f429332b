package smsgate_test

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/smppkit/smpp/gateway/backend/smsgate/smsgatefake"
)

// TestThroughput measures smppd in front of SMSGate with the SMPP window
// kept full: smppload (the perf tools' load generator, at $SMPPLOAD) binds
// as a transceiver to smppd configured as smpp-server is, and the fake
// SMSGate answers at once and sends its webhooks (sms:sent, sms:delivered)
// at once. It runs only when SMPPLOAD is set (scripts/smsgate-throughput.sh
// sets it); SMPPLOAD_ARGS replaces the load's shape (default: -conns 4
// -window 100 -duration 5s). It fails when a receipt is missing or SMSGate
// got a message other than once.
func TestThroughput(t *testing.T) {
	load := os.Getenv("SMPPLOAD")
	if load == "" {
		t.Skip("set SMPPLOAD to the smppload binary (scripts/smsgate-throughput.sh does)")
	}
	shape := strings.Fields(os.Getenv("SMPPLOAD_ARGS"))
	if len(shape) == 0 {
		shape = []string{"-conns", "4", "-window", "100", "-duration", "5s"}
	}
	fake := smsgatefake.New()
	t.Cleanup(fake.Close)
	fake.AddUser("load", "secret", "")
	smppAddr, httpAddr := freePort(t), freePort(t)
	environ := env(smppAddr, httpAddr, fake.URL)
	if p := os.Getenv("SMPPD_CPUPROFILE"); p != "" {
		environ = append(environ, "SMPPD_CPUPROFILE="+p) // written when smppd stops
	}
	d := startDaemon(t, t.TempDir(), environ)

	args := append([]string{"-addr", smppAddr, "-bind", "trx", "-system-id", "load", "-password", "secret",
		"-wait-dlr", "-timeout", "180s", "-pid", strconv.Itoa(d.cmd.Process.Pid)}, shape...)
	out, err := exec.Command(load, args...).CombinedOutput()
	t.Logf("smppload %s\n%s", strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("smppload: %v", err)
	}
	summary := regexp.MustCompile(`rate=\d+ msg/s ok=(\d+) .* dlr=(\d+)`).FindSubmatch(out)
	if summary == nil {
		t.Fatal("no summary line from smppload")
	}
	if string(summary[1]) != string(summary[2]) {
		t.Errorf("%s submits accepted but %s receipts came back", summary[1], summary[2])
	}
	fake.Flush()
	ms := fake.Messages()
	seen := map[string]int{}
	for _, m := range ms {
		seen[m.Request.ID]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %s reached SMSGate %d times", id, n)
		}
	}
	t.Logf("SMSGate got %d messages and sent %d webhooks to smppd", len(ms), len(fake.Deliveries()))
}

package gateway_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

func TestNetSMPPTemp(t *testing.T) {
	for _, mode := range []string{"trx", "split"} {
		h := start(t, newMemStore(), newFakeBackend(), nil)
		host, port, _ := strings.Cut(h.addr, ":")
		cmd := exec.Command("perl", "../interop/perl/esme.pl", "--host", host, "--port", port, "--mode", mode, "--timeout", "20")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		t.Logf("%s\n%s\n%s", mode, out, stderr.String())
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			var m map[string]any
			json.Unmarshal(sc.Bytes(), &m)
		}
	}
}

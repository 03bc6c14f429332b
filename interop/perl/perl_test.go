// Package perl runs Net::SMPP (Debian libnet-smpp-perl), a third-party
// ESME, against the smppd daemon: esme.pl submits GSM, UCS-2 and a
// three-part long message with receipts asked for, on one transceiver bind
// or on a transmitter bind with a separate receiver bind.
package perl_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/smppkit/smpp/interop/internal/peer"
	"github.com/smppkit/smpp/interop/internal/smppd"
)

func TestMain(m *testing.M) { peer.Main(m, "interop/perl") }

type event map[string]any

func (e event) str(k string) string { s, _ := e[k].(string); return s }
func (e event) num(k string) int    { n, _ := e[k].(float64); return int(n) }

func requireNetSMPP(t *testing.T) string {
	perl := peer.Require(t, "perl", "apt-get install perl")
	if err := exec.Command(perl, "-MNet::SMPP", "-e", "1").Run(); err != nil {
		peer.Missing(t, "Net::SMPP", "the Perl module Net::SMPP is not installed (apt-get install libnet-smpp-perl)")
	}
	return perl
}

func TestNetSMPPAgainstSmppd(t *testing.T) {
	perl := requireNetSMPP(t)
	d := smppd.Start(t, smppd.Config{})
	host, port, _ := strings.Cut(d.SMPPAddr, ":")
	for _, mode := range []string{"trx", "split"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, perl, "esme.pl", "--host", host, "--port", port, "--system-id", "perl"+mode,
				"--password", "secret", "--mode", mode, "--timeout", "30")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("esme.pl: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
			}
			var events []event
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				var e event
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
					t.Fatalf("esme.pl wrote %q: %v", sc.Text(), err)
				}
				events = append(events, e)
			}
			ids := map[string]string{} // message id → which message
			receipts := map[string]event{}
			var query, done event
			for _, e := range events {
				switch e.str("event") {
				case "submit_resp":
					if e.num("status") != 0 || e.str("message_id") == "" {
						t.Errorf("submit refused: %v", e)
					}
					ids[e.str("message_id")] = e.str("name")
				case "receipt":
					receipts[e.str("id")] = e
				case "query_resp":
					query = e
				case "done":
					done = e
				}
			}
			if done == nil || done.num("submitted") != 5 || done.num("receipts") != 5 {
				t.Fatalf("run incomplete: %v\n%s", done, out)
			}
			for id, name := range ids {
				r := receipts[id]
				switch {
				case r == nil:
					t.Errorf("%s (%s): no receipt", name, id)
				case r.str("stat") != "DELIVRD" || r.num("message_state") != 2 || r.str("receipted_message_id") != id || r.num("esm_class") != 4:
					t.Errorf("%s (%s): receipt %v", name, id, r)
				}
			}
			// The receipt's text: field is the start of the decoded text,
			// never raw UCS-2 octets.
			for id, name := range ids {
				if r := receipts[id]; r != nil && name == "ucs2" && r.str("text") != "Gr??e ??????" {
					t.Errorf("UCS-2 receipt text %q", r.str("text"))
				}
				if r := receipts[id]; r != nil && name == "gsm" && r.str("text") != "Hello from Net::SMPP" {
					t.Errorf("GSM receipt text %q", r.str("text"))
				}
			}
			if query == nil || query.num("status") != 0 || query.num("message_state") != 2 {
				t.Errorf("query_sm: %v", query)
			}
		})
	}
}

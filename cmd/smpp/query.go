package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/pdu"
)

func init() {
	register(command{name: "query", summary: "ask the SMSC for the state of messages (query_sm)", run: runQuery})
	register(command{name: "cancel", summary: "cancel messages not yet delivered (cancel_sm)", run: runCancel})
}

// addrFlags are the source address query_sm and cancel_sm name.
type addrFlags struct {
	from     string
	ton, npi string
}

func (a *addrFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.from, "from", "", "the source address the message was submitted with (some SMSCs require it)")
	fs.StringVar(&a.ton, "from-ton", "", "its TON (a number or a name; default: guessed as send does)")
	fs.StringVar(&a.npi, "from-npi", "", "its NPI (a number or a name; default: guessed as send does)")
}

func (a *addrFlags) address() (ton, npi uint8, addr string, err error) {
	addr, ton, npi = smpp.GuessTON(a.from)
	if a.ton != "" {
		if ton, err = parseTONNPI(a.ton, tonFlagNames); err != nil {
			return 0, 0, "", fmt.Errorf("--from-ton: %w", err)
		}
		addr = a.from // an explicit TON: the address as written
	}
	if a.npi != "" {
		if npi, err = parseTONNPI(a.npi, npiFlagNames); err != nil {
			return 0, 0, "", fmt.Errorf("--from-npi: %w", err)
		}
	}
	return
}

func runQuery(e env) int {
	fs := newFlags(e, "query", `usage: smpp query --url URL [--from ADDR] [--json] MESSAGE_ID...

Sends query_sm for each message id and prints its state, final date and
error code. Exits 1 if any query failed.`)
	var lf linkFlags
	lf.register(fs, 10)
	var af addrFlags
	af.register(fs)
	asJSON := fs.Bool("json", false, "print JSON lines")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	args, code, ok := parseFlags(fs, e)
	if !ok {
		return code
	}
	if lf.url == "" || len(args) == 0 {
		return usageError(e.stderr, "query", "--url and at least one message id are required")
	}
	ton, npi, from, err := af.address()
	if err != nil {
		return usageError(e.stderr, "query", "%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	cfg := lf.config(e.stderr)
	cfg.NoReconnect = true
	c, err := smpp.Dial(ctx, lf.url, cfg)
	if err != nil {
		fmt.Fprintln(e.stderr, "smpp query:", err)
		return 1
	}
	defer c.Unbind(context.Background())
	failed := false
	for _, id := range args {
		r, err := c.Query(ctx, &pdu.QuerySM{MessageID: id, SourceAddrTON: ton, SourceAddrNPI: npi, SourceAddr: from})
		if err != nil {
			failed = true
			if *asJSON {
				js, _ := json.Marshal(map[string]any{"message_id": id, "error": err.Error()})
				fmt.Fprintln(e.stdout, string(js))
			} else {
				fmt.Fprintf(e.stdout, "%s: %v\n", id, err)
			}
			continue
		}
		final := r.FinalDate
		if t, err := pdu.ParseTime(final); err == nil && !t.Absolute.IsZero() {
			final = t.Absolute.UTC().Format(time.RFC3339)
		}
		if *asJSON {
			js, _ := json.Marshal(map[string]any{"message_id": id, "state": r.MessageState.String(), "final_date": final, "error_code": r.ErrorCode})
			fmt.Fprintln(e.stdout, string(js))
			continue
		}
		line := fmt.Sprintf("%s: %s", id, r.MessageState)
		if final != "" {
			line += " at " + final
		}
		if r.ErrorCode != 0 {
			line += fmt.Sprintf(" (error %d)", r.ErrorCode)
		}
		fmt.Fprintln(e.stdout, line)
	}
	if failed {
		return 1
	}
	return 0
}

func runCancel(e env) int {
	fs := newFlags(e, "cancel", `usage: smpp cancel --url URL [--from ADDR] MESSAGE_ID...
       smpp cancel --url URL --from ADDR --to ADDR [--service-type T]

Sends cancel_sm: for each message id, or for every message not yet
delivered from --from to --to (with --service-type). Exits 1 if any
cancel was refused.`)
	var lf linkFlags
	lf.register(fs, 10)
	var af addrFlags
	af.register(fs)
	to := fs.String("to", "", "cancel by addresses: the destination (with --from, no message ids)")
	serviceType := fs.String("service-type", "", "cancel by addresses: the service_type")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	args, code, ok := parseFlags(fs, e)
	if !ok {
		return code
	}
	if lf.url == "" || (len(args) == 0) == (*to == "") {
		return usageError(e.stderr, "cancel", "--url and either message ids or --to (with --from) are required")
	}
	ton, npi, from, err := af.address()
	if err != nil {
		return usageError(e.stderr, "cancel", "%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	cfg := lf.config(e.stderr)
	cfg.NoReconnect = true
	c, err := smpp.Dial(ctx, lf.url, cfg)
	if err != nil {
		fmt.Fprintln(e.stderr, "smpp cancel:", err)
		return 1
	}
	defer c.Unbind(context.Background())
	reqs := []*pdu.CancelSM{}
	if *to != "" {
		dest, dton, dnpi := smpp.GuessTON(*to)
		reqs = append(reqs, &pdu.CancelSM{ServiceType: *serviceType, SourceAddrTON: ton, SourceAddrNPI: npi, SourceAddr: from,
			DestAddrTON: dton, DestAddrNPI: dnpi, DestinationAddr: dest})
	}
	for _, id := range args {
		reqs = append(reqs, &pdu.CancelSM{MessageID: id, SourceAddrTON: ton, SourceAddrNPI: npi, SourceAddr: from})
	}
	failed := false
	for _, r := range reqs {
		what := r.MessageID
		if what == "" {
			what = from + " → " + r.DestinationAddr
		}
		if _, err := c.Cancel(ctx, r); err != nil {
			failed = true
			fmt.Fprintf(e.stdout, "%s: %v\n", what, err)
			continue
		}
		fmt.Fprintf(e.stdout, "%s: cancelled\n", what)
	}
	if failed {
		return 1
	}
	return 0
}

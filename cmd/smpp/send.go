package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/text"
)

func init() {
	register(command{name: "send", summary: "send a message (split as needed) and optionally wait for its delivery receipts", run: runSend})
}

func runSend(e env) int {
	fs := newFlags(e, "send", `usage: smpp send --url URL --to ADDR [--from ADDR] [flags] TEXT ...
       smpp send --url URL --to ADDR [flags] < text

Sends a message (split as needed) and prints the message id of each part;
with --dlr it waits for the delivery receipts. Exits 0 only if every part
was accepted (and, with --dlr, delivered). Flags may follow the text; after
"--" everything is text.`)
	var lf linkFlags
	lf.register(fs, 10)
	from := fs.String("from", "", "source address: alphanumeric, short code or number; '+' or 00 for international (empty: the SMSC's default)")
	to := fs.String("to", "", "destination address: '+' or 00 for international; other digits go out as TON unknown")
	fromTON := fs.String("from-ton", "", "source TON: a number or unknown, international, national, network, subscriber, alphanumeric, abbreviated (default: guessed from --from)")
	fromNPI := fs.String("from-npi", "", "source NPI: a number or unknown, isdn, data, telex, land, national, private, ermes, internet, wap (default: guessed)")
	toTON := fs.String("to-ton", "", "destination TON, as --from-ton (default: guessed from --to)")
	toNPI := fs.String("to-npi", "", "destination NPI, as --from-npi (default: guessed)")
	dlrFlag := fs.Bool("dlr", false, "ask for delivery receipts and wait for them")
	wait := fs.Duration("wait", 30*time.Second, "with --dlr: how long to wait for the receipts")
	receiptIDs := fs.String("receipt-ids", "auto", "with --dlr: how receipt ids match submit_sm_resp ids: auto (also hex for decimal and back, when unambiguous), exact, hex-in-decimal, decimal-in-hex")
	coding := fs.String("coding", "auto", "text coding: auto, gsm7, ucs2, latin1, ascii")
	split := fs.String("split", "udh8", "long messages: udh8, udh16, sar or payload")
	asJSON := fs.Bool("json", false, "print results as JSON lines")
	posArgs, code, ok := parseFlags(fs, e)
	if !ok {
		return code
	}
	if lf.url == "" || *to == "" {
		return usageError(e.stderr, "send", "--url and --to are required")
	}
	msg := strings.Join(posArgs, " ")
	if len(posArgs) == 0 {
		b, err := io.ReadAll(e.stdin)
		if err != nil {
			fmt.Fprintln(e.stderr, "smpp send:", err)
			return 1
		}
		msg = strings.TrimRight(string(b), "\n")
	}
	msgAddr := smpp.Message{ExplicitTON: true}
	msgAddr.From, msgAddr.FromTON, msgAddr.FromNPI = smpp.GuessTON(*from)
	msgAddr.To, msgAddr.ToTON, msgAddr.ToNPI = smpp.GuessTON(*to)
	// An explicit TON sends the address as written.
	for _, f := range []struct {
		name, val string
		names     map[string]uint8
		dst       *uint8
		addr      *string
		written   string
	}{
		{"--from-ton", *fromTON, tonFlagNames, &msgAddr.FromTON, &msgAddr.From, *from},
		{"--from-npi", *fromNPI, npiFlagNames, &msgAddr.FromNPI, nil, ""},
		{"--to-ton", *toTON, tonFlagNames, &msgAddr.ToTON, &msgAddr.To, *to},
		{"--to-npi", *toNPI, npiFlagNames, &msgAddr.ToNPI, nil, ""},
	} {
		if f.val == "" {
			continue
		}
		v, err := parseTONNPI(f.val, f.names)
		if err != nil {
			return usageError(e.stderr, "send", "%s: %v", f.name, err)
		}
		*f.dst = v
		if f.addr != nil {
			*f.addr = f.written
		}
	}
	idPolicy, err := smpp.ParseReceiptIDs(*receiptIDs)
	if err != nil {
		return usageError(e.stderr, "send", "--receipt-ids: %v", err)
	}
	c, err := text.ParseCoding(*coding)
	if err != nil {
		fmt.Fprintln(e.stderr, "smpp send:", err)
		return 2
	}
	m, err := text.ParseMethod(*split)
	if err != nil {
		fmt.Fprintln(e.stderr, "smpp send:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// Receipts can arrive before Send returns: collect them from the start.
	var mu sync.Mutex
	receipts := map[string]*smpp.Receipt{} // by the id Send returned
	var unmatched []*smpp.Receipt          // receipts that match no id sent
	got := make(chan struct{}, 1)
	cfg := lf.config(e.stderr)
	cfg.Inbound = &smpp.Inbound{ReceiptIDs: idPolicy, OnReceipt: func(_ context.Context, r *smpp.Receipt) pdu.Status {
		mu.Lock()
		if r.Sent != nil {
			receipts[r.ID] = r
		} else {
			unmatched = append(unmatched, r)
		}
		mu.Unlock()
		select {
		case got <- struct{}{}:
		default:
		}
		return pdu.ESME_ROK
	}}
	client, err := smpp.Dial(ctx, lf.url, cfg)
	if err != nil {
		fmt.Fprintln(e.stderr, "smpp send:", err)
		return 1
	}
	defer client.Close()
	ids, err := client.Send(ctx, smpp.Message{ExplicitTON: true, From: msgAddr.From, To: msgAddr.To,
		FromTON: msgAddr.FromTON, FromNPI: msgAddr.FromNPI, ToTON: msgAddr.ToTON, ToNPI: msgAddr.ToNPI, Text: msg, Coding: c, Split: m, Receipt: *dlrFlag})
	for i, id := range ids {
		if *asJSON {
			js, _ := json.Marshal(map[string]any{"event": "submitted", "part": i + 1, "message_id": id})
			fmt.Fprintln(e.stdout, string(js))
		} else {
			fmt.Fprintf(e.stdout, "part %d: message_id %s\n", i+1, id)
		}
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "smpp send:", err)
		return 1
	}
	if *dlrFlag {
		deadline := time.After(*wait)
		pending := func() int {
			mu.Lock()
			defer mu.Unlock()
			n := 0
			for _, id := range ids {
				if r := receipts[id]; r == nil || !r.State.Final() {
					n++
				}
			}
			return n
		}
	waiting:
		for pending() > 0 {
			select {
			case <-got:
			case <-deadline:
				break waiting
			case <-ctx.Done():
				break waiting
			}
		}
		mu.Lock()
		for i, id := range ids {
			r := receipts[id]
			state, rid := "no receipt", ""
			if r != nil {
				state, rid = r.State.String(), r.TextID
				if rid == "" {
					rid = r.ID
				}
			}
			if r == nil || r.State != pdu.StateDelivered {
				code = 1
			}
			if *asJSON {
				v := map[string]any{"event": "receipt", "part": i + 1, "message_id": id, "state": state}
				if rid != "" {
					v["receipt_id"] = rid
				}
				js, _ := json.Marshal(v)
				fmt.Fprintln(e.stdout, string(js))
			} else if rid != "" && rid != id {
				fmt.Fprintf(e.stdout, "part %d: %s %s (receipt id %s)\n", i+1, id, state, rid)
			} else {
				fmt.Fprintf(e.stdout, "part %d: %s %s\n", i+1, id, state)
			}
		}
		// A receipt that arrived but matched no id is reported as such:
		// it tells the SMSC's id format apart from a receipt never sent.
		for _, r := range unmatched {
			rid := r.ID
			if r.TextID != "" && r.TextID != r.ID {
				rid += " (text id " + r.TextID + ")"
			}
			if *asJSON {
				js, _ := json.Marshal(map[string]any{"event": "unmatched_receipt", "receipt_id": r.ID, "text_id": r.TextID,
					"state": r.State.String(), "raw": r.Raw})
				fmt.Fprintln(e.stdout, string(js))
			} else {
				fmt.Fprintf(e.stdout, "unmatched receipt: id %s %s matches none of the ids sent (see --receipt-ids)\n", rid, r.State)
			}
		}
		if len(unmatched) > 0 {
			code = 1
		}
		mu.Unlock()
	}
	uctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	client.Unbind(uctx)
	return code
}

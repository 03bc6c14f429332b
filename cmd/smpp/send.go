package main

import (
	"context"
	"encoding/json"
	"flag"
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
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var lf linkFlags
	lf.register(fs, 10)
	from := fs.String("from", "", "source address (alphanumeric, short code or number; '+' for international)")
	to := fs.String("to", "", "destination address")
	dlrFlag := fs.Bool("dlr", false, "ask for delivery receipts and wait for them")
	wait := fs.Duration("wait", 30*time.Second, "with --dlr: how long to wait for the receipts")
	coding := fs.String("coding", "auto", "text coding: auto, gsm7, ucs2, latin1, ascii")
	split := fs.String("split", "udh8", "long messages: udh8, udh16, sar or payload")
	asJSON := fs.Bool("json", false, "print results as JSON lines")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: smpp send --url URL --from X --to Y [--dlr] [--wait 30s] TEXT (or TEXT on stdin)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(e.args); err != nil {
		return 2
	}
	if lf.url == "" || *to == "" {
		fmt.Fprintln(e.stderr, "smpp send: --url and --to are required")
		return 2
	}
	msg := strings.Join(fs.Args(), " ")
	if fs.NArg() == 0 {
		b, err := io.ReadAll(e.stdin)
		if err != nil {
			fmt.Fprintln(e.stderr, "smpp send:", err)
			return 1
		}
		msg = strings.TrimRight(string(b), "\n")
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
	receipts := map[string]*smpp.Receipt{}
	got := make(chan struct{}, 1)
	cfg := lf.config(e.stderr)
	cfg.Inbound = &smpp.Inbound{OnReceipt: func(_ context.Context, r *smpp.Receipt) pdu.Status {
		mu.Lock()
		receipts[r.ID] = r
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
	ids, err := client.Send(ctx, smpp.Message{From: *from, To: *to, Text: msg, Coding: c, Split: m, Receipt: *dlrFlag})
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
	code := 0
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
			state := "no receipt"
			if r != nil {
				state = r.State.String()
			}
			if r == nil || r.State != pdu.StateDelivered {
				code = 1
			}
			if *asJSON {
				js, _ := json.Marshal(map[string]any{"event": "receipt", "part": i + 1, "message_id": id, "state": state})
				fmt.Fprintln(e.stdout, string(js))
			} else {
				fmt.Fprintf(e.stdout, "part %d: %s %s\n", i+1, id, state)
			}
		}
		mu.Unlock()
	}
	uctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	client.Unbind(uctx)
	return code
}

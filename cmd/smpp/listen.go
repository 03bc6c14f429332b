package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os/signal"
	"sync"
	"syscall"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/pdu"
)

func init() {
	register(command{name: "listen", summary: "bind as receiver or transceiver and print every MO message and receipt", run: runListen})
}

func runListen(e env) int {
	fs := newFlags(e, "listen", `usage: smpp listen --url URL[?bind=rx|trx] [--json] [--count N]

Binds as a receiver (bind=rx) or transceiver (bind=trx, the default) and
prints every MO message, delivery receipt and alert_notification, readably
or as JSON lines, until interrupted or --count of them arrived.`)
	var lf linkFlags
	lf.register(fs, 10)
	asJSON := fs.Bool("json", false, "print JSON lines")
	count := fs.Int("count", 0, "exit after this many messages and receipts (0 = run until interrupted)")
	if _, code, ok := parseFlags(fs, e); !ok {
		return code
	}
	if lf.url == "" {
		return usageError(e.stderr, "listen", "--url is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var mu sync.Mutex
	n := 0
	done := make(chan struct{})
	emit := func(v map[string]any, line string) {
		mu.Lock()
		defer mu.Unlock()
		if *asJSON {
			js, _ := json.Marshal(v)
			fmt.Fprintln(e.stdout, string(js))
		} else {
			fmt.Fprintln(e.stdout, line)
		}
		n++
		if *count > 0 && n == *count {
			close(done)
		}
	}
	cfg := lf.config(e.stderr)
	// The bind type is in the URL (Dial reads it again); listen needs it
	// first, to refuse a transmitter bind and to say how it bound.
	u, err := url.Parse(lf.url)
	if err != nil {
		return usageError(e.stderr, "listen", "--url: %v", err)
	}
	if b := u.Query().Get("bind"); b != "" {
		if cfg.Bind, err = smpp.ParseBindType(b); err != nil {
			return usageError(e.stderr, "listen", "--url: %v", err)
		}
	}
	if cfg.Bind == smpp.BindTransmitter {
		return usageError(e.stderr, "listen", "a transmitter bind receives nothing; use ?bind=rx or ?bind=trx")
	}
	cfg.Inbound = &smpp.Inbound{
		OnMessage: func(_ context.Context, m *smpp.InboundMessage) pdu.Status {
			emit(map[string]any{"event": "message", "from": m.From, "to": m.To, "text": m.Text, "coding": m.Coding.String(),
				"data_coding": m.DataCoding, "parts": m.Parts, "incomplete": m.Incomplete, "data_hex": fmt.Sprintf("%x", m.Data),
				"time": time.Now().UTC().Format(time.RFC3339Nano)},
				fmt.Sprintf("MO from %s to %s (%d part(s), %s): %s", m.From, m.To, m.Parts, m.Coding, m.Text))
			return pdu.ESME_ROK
		},
		OnReceipt: func(_ context.Context, r *smpp.Receipt) pdu.Status {
			v := map[string]any{"event": "receipt", "message_id": r.ID, "state": r.State.String(), "stat": r.Stat, "err": r.Err,
				"from": r.From, "to": r.To, "intermediate": r.Intermediate, "raw": r.Raw,
				"time": time.Now().UTC().Format(time.RFC3339Nano)}
			if r.ParseErr != nil {
				v["parse_error"] = r.ParseErr.Error()
			}
			emit(v, fmt.Sprintf("receipt for %s: %s (stat %s err %s) from %s", r.ID, r.State, r.Stat, r.Err, r.From))
			return pdu.ESME_ROK
		},
		OnAlert: func(a *pdu.AlertNotification) {
			emit(map[string]any{"event": "alert", "source_addr": a.SourceAddr, "esme_addr": a.ESMEAddr},
				fmt.Sprintf("alert_notification: %s is reachable", a.SourceAddr))
		},
	}
	c, err := smpp.Dial(ctx, lf.url, cfg)
	if err != nil {
		fmt.Fprintln(e.stderr, "smpp listen:", err)
		return 1
	}
	fmt.Fprintf(e.stderr, "smpp listen: bound to %s as %s; waiting (Ctrl-C to stop)\n", c.SMSCSystemID(), cfg.Bind)
	select {
	case <-ctx.Done():
	case <-done:
	}
	uctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c.Unbind(uctx)
	return 0
}

package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/dlr"
	"github.com/smppkit/smpp/pdu"
)

func init() {
	register(command{name: "serve", summary: "run a minimal SMSC that accepts every bind and answers every request at once", run: runServe})
}

// sendReceipt sends a DELIVRD receipt for a submit_sm on the same session.
func sendReceipt(s *smpp.Session, p *pdu.SubmitSM, id string) {
	now := time.Now()
	rc := dlr.New(id, now, now, pdu.StateDelivered, string(p.ShortMessage))
	d := &pdu.DeliverSM{ESMClass: 0x04, SourceAddrTON: p.DestAddrTON, SourceAddrNPI: p.DestAddrNPI, SourceAddr: p.DestinationAddr,
		DestAddrTON: p.SourceAddrTON, DestAddrNPI: p.SourceAddrNPI, DestinationAddr: p.SourceAddr,
		ShortMessage: []byte(rc.String()), TLVs: rc.TLVs()}
	ctx, cancel := context.WithTimeout(s.Context(), 30*time.Second)
	defer cancel()
	s.Call(ctx, d)
}

// messageIDs hands out unique message ids, hex, from counters kept apart per
// session: one shared counter would bounce between cores on every message.
type messageIDs [64]struct {
	n atomic.Uint64
	_ [56]byte
}

func (m *messageIDs) next(s *smpp.Session) string {
	shard := s.ID() % uint64(len(m))
	return strconv.FormatUint(shard<<40|m[shard].n.Add(1), 16)
}

func runServe(e env) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	addr := fs.String("addr", "127.0.0.1:2775", "listen address")
	password := fs.String("password", "", "if set, binds with another password get ESME_RBINDFAIL")
	window := fs.Int("window", 100, "requests handled at once per session")
	trace := fs.Bool("trace", false, "print every PDU sent and received (to stderr)")
	dlrFlag := fs.Bool("dlr", false, "send a DELIVRD receipt for each submit_sm that asks for one (to receiver/transceiver binds)")
	verbose := fs.Bool("v", false, "log session events to stderr")
	if err := fs.Parse(e.args); err != nil {
		return 2
	}
	var ids messageIDs
	srv := &smpp.Server{
		Addr:          *addr,
		InboundWindow: *window,
		ReusePDUs:     true, // the handler keeps nothing past its return but a copy
		Handler: smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
			switch p := r.PDU.(type) {
			case *pdu.SubmitSM:
				// (Response is recycled with the request: no allocation.)
				resp := r.Response().(*pdu.SubmitSMResp)
				id := ids.next(r.Session)
				resp.MessageID = id
				w.Respond(resp)
				if *dlrFlag && p.RegisteredDelivery&3 != 0 && r.Session.State() == smpp.StateBoundTRX {
					q := *p // (the session reuses p once this returns)
					go sendReceipt(r.Session, &q, id)
				}
			case *pdu.DataSM:
				w.Respond(&pdu.DataSMResp{MessageID: ids.next(r.Session)})
			case *pdu.SubmitMulti:
				w.Respond(&pdu.SubmitMultiResp{MessageID: ids.next(r.Session)})
			default:
				w.RespondStatus(pdu.ESME_ROK)
			}
		}),
	}
	if *password != "" {
		srv.Auth = func(_ context.Context, b *smpp.BindRequest) pdu.Status {
			if b.Password != *password {
				return pdu.ESME_RBINDFAIL
			}
			return pdu.ESME_ROK
		}
	}
	if *verbose {
		srv.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if *trace {
		srv.Trace = tracer(e.stderr)
	}
	if *verbose {
		srv.ConnState = func(s *smpp.Session, st smpp.State) {
			if st == smpp.StateClosed {
				stats := s.Stats()
				fmt.Fprintf(e.stderr, "session %s closed: received %v, writes %d (%d octets)\n",
					s.RemoteAddr(), stats.Received, stats.Writes, stats.BytesWritten)
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Fprintf(e.stderr, "smpp serve: listening on %s\n", *addr)
	select {
	case err := <-errc:
		fmt.Fprintln(e.stderr, "smpp serve:", err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return 0
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway"
	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/backend/sim"
	"github.com/smppkit/smpp/gateway/store/memory"
	"github.com/smppkit/smpp/pdu"
)

func init() {
	register(command{name: "serve", summary: "run an SMSC simulator in memory (smppd's engine), or a bare load target (--echo)", run: runServe})
}

// messageIDs hands out unique message ids for --echo, hex, from counters
// kept apart per session: one shared counter would bounce between cores on
// every message.
type messageIDs [64]struct {
	n atomic.Uint64
	_ [56]byte
}

func (m *messageIDs) next(s *smpp.Session) string {
	shard := s.ID() % uint64(len(m))
	return strconv.FormatUint(shard<<40|m[shard].n.Add(1), 16)
}

func runServe(e env) int {
	fs := newFlags(e, "serve", `usage: smpp serve [-addr HOST:PORT] [flags]

Runs smppd's engine with an in-memory store and the simulator backend: every
bind is accepted, every message delivered at once, and receipts sent to the
account's receiver or transceiver binds when asked for. Nothing survives a
restart; for a durable simulator run smppd. With --echo it is instead a bare
load target that answers each request at once and sends no receipts, for
measuring the library's server.`)
	addr := fs.String("addr", "127.0.0.1:2775", "listen address")
	password := fs.String("password", "", "if set, binds with another password get ESME_RINVPASWD")
	window := fs.Int("window", 100, "requests handled at once per session")
	trace := fs.Bool("trace", false, "print every PDU sent and received (to stderr)")
	echo := fs.Bool("echo", false, "answer every request at once, store nothing, send no receipts (a load target)")
	verbose := fs.Bool("v", false, "log session events to stderr")
	if _, code, ok := parseFlags(fs, e); !ok {
		return code
	}
	log := slog.New(slog.DiscardHandler)
	if *verbose {
		log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	// Listen first: "listening" is said only once it is true.
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(e.stderr, "smpp serve:", err)
		return 1
	}
	var srv interface {
		Serve(net.Listener) error
		Shutdown(context.Context) error
	}
	if *echo {
		srv = echoServer(*window, *password, log, *trace, e)
	} else {
		setGCDefault(os.Getenv, serveGCPercent)
		g, err := simulator(*window, *password, log)
		if err != nil {
			l.Close()
			fmt.Fprintln(e.stderr, "smpp serve:", err)
			return 1
		}
		if *trace {
			g.Server().Trace = tracer(e.stderr)
		}
		srv = g
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	fmt.Fprintf(e.stderr, "smpp serve: listening on %s\n", l.Addr())
	select {
	case err := <-errc:
		if !errors.Is(err, smpp.ErrServerClosed) {
			fmt.Fprintln(e.stderr, "smpp serve:", err)
			return 1
		}
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return 0
}

// simulator is smppd's engine on an in-memory store with the simulator.
func simulator(window int, password string, log *slog.Logger) (*gateway.Gateway, error) {
	o := gateway.Options{
		Store:         memory.New(),
		Backends:      map[string]backend.Backend{"simulator": sim.New(sim.Options{})},
		InboundWindow: window,
		// As smppd's defaults: receipts flow 100 at a time per session
		// (the library's default of 10 made them lag behind the
		// submits), and two workers take the simulator's instant
		// deliveries (more only contend).
		OutboundWindow: 100,
		Workers:        map[string]int{"simulator": 2},
		AcceptAny:      password == "",
		Logger:         log,
	}
	if password != "" {
		o.PassThrough = func(_ context.Context, _, pw string) error {
			if pw != password {
				return pdu.ESME_RINVPASWD
			}
			return nil
		}
	}
	return gateway.New(context.Background(), o)
}

// echoServer answers every request at once, allocating nothing per PDU.
func echoServer(window int, password string, log *slog.Logger, trace bool, e env) *smpp.Server {
	var ids messageIDs
	srv := &smpp.Server{
		InboundWindow: window,
		ReusePDUs:     true, // the handler keeps nothing past its return
		Logger:        log,
		Handler: smpp.HandlerFunc(func(w smpp.ResponseWriter, r *smpp.Request) {
			switch r.PDU.(type) {
			case *pdu.SubmitSM:
				// (Response is recycled with the request: no allocation.)
				resp := r.Response().(*pdu.SubmitSMResp)
				resp.MessageID = ids.next(r.Session)
				w.Respond(resp)
			case *pdu.DataSM:
				w.Respond(&pdu.DataSMResp{MessageID: ids.next(r.Session)})
			case *pdu.SubmitMulti:
				w.Respond(&pdu.SubmitMultiResp{MessageID: ids.next(r.Session)})
			default:
				w.RespondStatus(pdu.ESME_ROK)
			}
		}),
	}
	if password != "" {
		srv.Auth = func(_ context.Context, b *smpp.BindRequest) pdu.Status {
			if b.Password != password {
				return pdu.ESME_RINVPASWD
			}
			return pdu.ESME_ROK
		}
	}
	if trace {
		srv.Trace = tracer(e.stderr)
	}
	return srv
}

package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/pdu"
)

// linkFlags are the flags every command that connects shares.
type linkFlags struct {
	url     string
	trace   bool
	verbose bool
	lenient bool
	window  int
}

func (l *linkFlags) register(fs *flag.FlagSet, window int) {
	fs.StringVar(&l.url, "url", os.Getenv("SMPP_URL"), "SMSC URL: smpp://system_id:password@host:port[?bind=tx|rx|trx] (or ssmpp:// for TLS); default $SMPP_URL")
	fs.BoolVar(&l.trace, "trace", false, "print every PDU sent and received (to stderr)")
	fs.BoolVar(&l.verbose, "v", false, "log session events to stderr")
	fs.BoolVar(&l.lenient, "lenient", false, "accept what sloppy SMSCs send")
	fs.IntVar(&l.window, "window", window, "requests in flight per connection")
}

// config turns the flags into a client configuration.
func (l *linkFlags) config(stderr io.Writer) *smpp.ClientConfig {
	cfg := &smpp.ClientConfig{OutboundWindow: l.window, Lenient: l.lenient}
	if l.verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if l.trace {
		cfg.Trace = tracer(stderr)
	}
	return cfg
}

// tracer prints each PDU as a JSON line, prefixed with its direction.
func tracer(w io.Writer) func(*smpp.Session, smpp.Direction, pdu.PDU) {
	var mu sync.Mutex
	return func(s *smpp.Session, d smpp.Direction, p pdu.PDU) {
		p = maskPassword(p)
		js, err := pdu.JSONOptions{Text: messageText}.Marshal(p)
		if err != nil {
			js = []byte(err.Error())
		}
		arrow := "<-"
		if d == smpp.Sent {
			arrow = "->"
		}
		mu.Lock()
		fmt.Fprintf(w, "%s %s\n", arrow, js)
		mu.Unlock()
	}
}

// maskPassword returns a bind or outbind PDU with its password replaced by
// "***" (a copy: the session's own is left alone), other PDUs as they are:
// traces end up in tickets and chat.
func maskPassword(p pdu.PDU) pdu.PDU {
	const mask = "***"
	if b, ok := p.(*pdu.BindTransmitter); ok && b.Password == "" {
		return p
	}
	switch b := p.(type) {
	case *pdu.BindTransmitter:
		q := *b
		q.Password = mask
		return &q
	case *pdu.BindReceiver:
		q := *b
		q.Password = mask
		return &q
	case *pdu.BindTransceiver:
		q := *b
		q.Password = mask
		return &q
	case *pdu.Outbind:
		q := *b
		q.Password = mask
		return &q
	}
	return p
}

package smpp

import (
	"context"
	"log/slog"
	"time"

	"github.com/smppkit/smpp/pdu"
)

// settings are the knobs a Session runs with; Client options and Server
// fields fill them in (see doc.go for the defaults each side gives them).
type settings struct {
	base            context.Context // the session's context derives from it
	outboundWindow  int
	inboundWindow   int
	windowFull      pdu.Status
	responseTimeout time.Duration
	enquireInterval time.Duration // 0: off
	inactivity      time.Duration
	bindTimeout     time.Duration
	writeTimeout    time.Duration
	maxLength       int
	decode          pdu.DecodeOptions
	logger          *slog.Logger
	trace           func(s *Session, d Direction, p pdu.PDU)
	handler         Handler
	handlerMode     HandlerMode
	reuse           bool // ReusePDUs
	// bind decides an inbound bind (server side); nil refuses binds.
	bind func(s *Session, p pdu.PDU) pdu.PDU
	// onState is told about state changes (server bookkeeping).
	onState func(s *Session, st State)
	// onBound is told when a bind has been accepted, as its response is
	// queued, under the writer's lock (server bookkeeping: it must not
	// send on the session).
	onBound func(s *Session)
}

func (c *settings) defaults() {
	if c.base == nil {
		c.base = context.Background()
	}
	if c.outboundWindow <= 0 {
		c.outboundWindow = defaultOutboundWindow
	}
	if c.inboundWindow <= 0 {
		c.inboundWindow = defaultInboundWindow
	}
	if c.windowFull == 0 {
		c.windowFull = pdu.ESME_RMSGQFUL
	}
	if c.responseTimeout <= 0 {
		c.responseTimeout = defaultResponseTimeout
	}
	if c.writeTimeout <= 0 {
		c.writeTimeout = 30 * time.Second
	}
	if c.maxLength <= 0 {
		c.maxLength = pdu.DefaultMaxLength
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
}

// Defaults shared by Server and ClientConfig (the table in doc.go).
const (
	defaultInboundWindow       = 100
	defaultOutboundWindow      = 10
	defaultResponseTimeout     = 30 * time.Second
	defaultEnquireLinkInterval = 30 * time.Second
	defaultBindTimeout         = 30 * time.Second
	defaultAuthTimeout         = 30 * time.Second
)

// enquireInterval turns an EnquireLinkInterval setting into the session's:
// 0 is the default, negative is off (0 inside the session).
func enquireInterval(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return defaultEnquireLinkInterval
	case d < 0:
		return 0
	}
	return d
}

// timerTick is how often the timer goroutine looks: a quarter of the
// shortest timer, within 5 ms..1 s.
func (c *settings) timerTick() time.Duration {
	tick := c.responseTimeout / 4
	for _, d := range []time.Duration{c.enquireInterval / 4, c.inactivity / 4, c.bindTimeout / 4} {
		if d > 0 && d < tick {
			tick = d
		}
	}
	return min(max(tick, 5*time.Millisecond), time.Second)
}

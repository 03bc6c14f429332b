package smpp

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/smppkit/smpp/pdu"
)

// AcceptOutbind waits on l for an SMSC to connect and send outbind, checks
// it with cfg.OutbindAuth, and binds back on the same connection with the
// URL's credentials (host and port in the URL are not used). The returned
// client does not reconnect: a new outbind is the SMSC's to send. Connections
// that send anything else, or fail the check, are closed and the wait goes
// on, within ctx.
func AcceptOutbind(ctx context.Context, l net.Listener, rawURL string, cfg *ClientConfig) (*Client, error) {
	c := &Client{closed: make(chan struct{}), ready: make(chan struct{})}
	if cfg != nil {
		c.cfg = *cfg
	}
	if err := c.parseURL(rawURL); err != nil {
		return nil, err
	}
	c.cfg.NoReconnect = true
	if c.cfg.Bind == BindTransmitter {
		c.cfg.Bind = BindReceiver // outbind exists to deliver: bind as receiver at least
	}
	c.defaults()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		s, err := c.acceptOutbind(ctx, conn)
		if err != nil {
			c.log.Warn("outbind refused", "remote", conn.RemoteAddr().String(), "err", err)
			conn.Close()
			continue
		}
		c.setSession(s)
		go c.run(s)
		return c, nil
	}
}

func (c *Client) acceptOutbind(ctx context.Context, conn net.Conn) (*Session, error) {
	conn.SetReadDeadline(time.Now().Add(c.cfg.DialTimeout))
	// One PDU only: the reader must not read past the outbind, since the
	// session takes over the connection after it.
	var hdr [pdu.HeaderSize]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return nil, err
	}
	n := int(uint32(hdr[0])<<24 | uint32(hdr[1])<<16 | uint32(hdr[2])<<8 | uint32(hdr[3]))
	if n < pdu.HeaderSize || n > 256 {
		return nil, fmt.Errorf("smpp: outbind expected, got a PDU of %d octets", n)
	}
	b := make([]byte, n)
	copy(b, hdr[:])
	if _, err := io.ReadFull(conn, b[pdu.HeaderSize:]); err != nil {
		return nil, err
	}
	conn.SetReadDeadline(time.Time{})
	p, err := pdu.Decode(b)
	if err != nil {
		return nil, err
	}
	ob, ok := p.(*pdu.Outbind)
	if !ok {
		return nil, fmt.Errorf("smpp: outbind expected, got %s", p.CommandID())
	}
	if c.cfg.OutbindAuth != nil && !c.cfg.OutbindAuth(ob.SystemID, ob.Password) {
		return nil, fmt.Errorf("smpp: outbind from %q refused", ob.SystemID)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()
	return c.bindOn(ctx, conn)
}

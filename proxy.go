package smpp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// PROXY protocol headers (v1 text, v2 binary) are parsed on connections from
// trusted addresses only. An SMPP stream can never be mistaken for one: a PDU
// starts with its length, whose first octet is 0x00 for any PDU under 16 MiB,
// while the headers start with "PROXY " or "\r\n\r\n".

var errProxyHeader = errors.New("smpp: bad PROXY protocol header")

// proxyHeaderTimeout bounds the wait for a trusted peer's PROXY header.
const proxyHeaderTimeout = 10 * time.Second

// isTrusted reports whether a is in one of the trusted prefixes.
func isTrusted(a net.Addr, trusted []netip.Prefix) bool {
	if len(trusted) == 0 {
		return false
	}
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return false
	}
	ip = ip.Unmap()
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// proxyConn is a connection whose first octets were read to find the header.
type proxyConn struct {
	net.Conn
	r      *bufio.Reader
	remote net.Addr
}

func (c *proxyConn) Read(b []byte) (int, error) { return c.r.Read(b) }
func (c *proxyConn) RemoteAddr() net.Addr       { return c.remote }

var proxyV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

func readProxyHeader(c net.Conn, timeout time.Duration) (net.Conn, error) {
	c.SetReadDeadline(time.Now().Add(timeout))
	defer c.SetReadDeadline(time.Time{})
	r := bufio.NewReaderSize(c, 512)
	pc := &proxyConn{Conn: c, r: r, remote: c.RemoteAddr()}
	first, err := r.Peek(1)
	if err != nil {
		return nil, err
	}
	switch first[0] {
	case 'P':
		line, err := r.ReadSlice('\n')
		if err != nil || len(line) > 107 {
			return nil, fmt.Errorf("%w: v1 line", errProxyHeader)
		}
		addr, err := parseProxyV1(string(line))
		if err != nil {
			return nil, err
		}
		if addr != nil {
			pc.remote = addr
		}
	case '\r':
		hdr, err := r.Peek(16)
		if err != nil || !bytes.Equal(hdr[:12], proxyV2Sig) || hdr[12]>>4 != 2 {
			return nil, fmt.Errorf("%w: v2 signature", errProxyHeader)
		}
		n := int(binary.BigEndian.Uint16(hdr[14:]))
		if _, err := r.Discard(16); err != nil {
			return nil, err
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, err
		}
		if hdr[12]&0x0F == 1 { // PROXY (not LOCAL): take the source address
			switch hdr[13] >> 4 {
			case 1: // IPv4
				if n >= 12 {
					pc.remote = &net.TCPAddr{IP: net.IP(body[0:4]), Port: int(binary.BigEndian.Uint16(body[8:]))}
				}
			case 2: // IPv6
				if n >= 36 {
					pc.remote = &net.TCPAddr{IP: net.IP(body[0:16]), Port: int(binary.BigEndian.Uint16(body[32:]))}
				}
			}
		}
	}
	return pc, nil
}

// parseProxyV1 parses "PROXY TCP4 src dst sport dport\r\n"; "PROXY UNKNOWN"
// keeps the connection's own address (nil).
func parseProxyV1(line string) (net.Addr, error) {
	line = strings.TrimRight(line, "\r\n")
	f := strings.Split(line, " ")
	if len(f) < 2 || f[0] != "PROXY" {
		return nil, fmt.Errorf("%w: %q", errProxyHeader, line)
	}
	if f[1] == "UNKNOWN" {
		return nil, nil
	}
	if len(f) != 6 || (f[1] != "TCP4" && f[1] != "TCP6") {
		return nil, fmt.Errorf("%w: %q", errProxyHeader, line)
	}
	ip, err := netip.ParseAddr(f[2])
	port, err2 := strconv.ParseUint(f[4], 10, 16)
	if err != nil || err2 != nil {
		return nil, fmt.Errorf("%w: %q", errProxyHeader, line)
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))), nil
}

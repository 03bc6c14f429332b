package smpp

import (
	"context"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/smppkit/smpp/pdu"
)

func TestProxyProtocol(t *testing.T) {
	seen := make(chan string, 4)
	srv := &Server{Handler: echoHandler(), TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Auth: func(_ context.Context, b *BindRequest) pdu.Status {
			seen <- b.RemoteAddr.String()
			return 0
		}}
	addr := testServer(t, srv)

	v2 := append([]byte("\r\n\r\n\x00\r\nQUIT\n"), 0x21, 0x11, 0, 12)
	v2 = append(v2, 198, 51, 100, 9, 127, 0, 0, 1)
	v2 = binary.BigEndian.AppendUint16(v2, 40000)
	v2 = binary.BigEndian.AppendUint16(v2, 2775)
	for _, c := range []struct {
		header []byte
		want   string
	}{
		{[]byte("PROXY TCP4 203.0.113.7 127.0.0.1 51234 2775\r\n"), "203.0.113.7:51234"},
		{[]byte("PROXY TCP6 2001:db8::1 ::1 51234 2775\r\n"), "[2001:db8::1]:51234"},
		{v2, "198.51.100.9:40000"},
		{nil, "127.0.0.1:"}, // no header from a trusted proxy is fine too
	} {
		p := dialRaw(t, addr)
		if c.header != nil {
			p.sendRaw(c.header)
		}
		p.send(&pdu.BindTransmitter{Header: hdr(1), SystemID: "x"})
		p.expect(pdu.BindTransmitterRespID, 0, 1)
		if got := <-seen; len(got) < len(c.want) || got[:len(c.want)] != c.want {
			t.Errorf("remote %s, want %s", got, c.want)
		}
	}

	// From an address that is not trusted, a PROXY header is not parsed:
	// it is read as an (absurd) SMPP length and the connection is dropped.
	strict := &Server{Handler: echoHandler(), TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	p := dialRaw(t, testServer(t, strict))
	p.sendRaw([]byte("PROXY TCP4 203.0.113.7 127.0.0.1 51234 2775\r\n"))
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	x, err := p.r.Read()
	if err != nil || x.CommandID() != pdu.GenericNackID || x.Head().CommandStatus != pdu.ESME_RINVCMDLEN {
		t.Fatalf("got %v %v", x, err)
	}
	if _, err := p.r.Next(); err == nil {
		t.Fatal("connection still open")
	}
}

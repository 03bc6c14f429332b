package smpptest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/smppkit/smpp"
	"github.com/smppkit/smpp/pdu"
)

// RawTimeout is a RawPeer's default Timeout.
const RawTimeout = 10 * time.Second

// RawPeer is a bare TCP connection to an SMPP server, for what a Client
// never sends: malformed bytes, PDUs out of place for the session state,
// requests with chosen sequence numbers. Every read and write has a
// deadline, so a server that stays silent fails the test rather than
// hanging it. A RawPeer is for one goroutine.
type RawPeer struct {
	// Conn is the connection, closed when the test ends.
	Conn net.Conn
	// Timeout bounds each read and write (RawTimeout by default).
	Timeout time.Duration

	t      testing.TB
	r      *pdu.Reader
	seq    uint32
	closed bool // the stream has ended
	once   sync.Once
}

// DialRaw connects to addr over TCP; the connection is closed when the test
// ends. A failure to connect ends the test.
func DialRaw(t testing.TB, addr string) *RawPeer {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, RawTimeout)
	if err != nil {
		t.Fatalf("smpptest: DialRaw %s: %v", addr, err)
	}
	p := &RawPeer{Conn: c, Timeout: RawTimeout, t: t, r: pdu.NewReader(c, pdu.DefaultMaxLength)}
	t.Cleanup(func() { p.Close() })
	return p
}

// Close closes the connection.
func (p *RawPeer) Close() error {
	var err error
	p.once.Do(func() { err = p.Conn.Close() })
	return err
}

func (p *RawPeer) timeout() time.Duration {
	if p.Timeout <= 0 {
		return RawTimeout
	}
	return p.Timeout
}

// Write writes b as it is.
func (p *RawPeer) Write(b []byte) error {
	p.Conn.SetWriteDeadline(time.Now().Add(p.timeout()))
	_, err := p.Conn.Write(b)
	return err
}

// WritePDU encodes x and writes it. A sequence number of 0 is replaced by
// the peer's next one (1, 2, …); write the bytes with Write to send 0.
func (p *RawPeer) WritePDU(x pdu.PDU) error {
	if x.Head().SequenceNumber == 0 {
		p.seq++
		x.Head().SequenceNumber = p.seq
	}
	b, err := pdu.Marshal(x)
	if err != nil {
		return err
	}
	return p.Write(b)
}

// ReadPDU reads the next PDU, waiting up to Timeout. A PDU that is framed
// but does not decode gives a *pdu.Error, after which reading goes on; the
// end of the stream gives io.EOF (or io.ErrUnexpectedEOF inside a PDU).
func (p *RawPeer) ReadPDU() (pdu.PDU, error) {
	return p.readPDU(p.timeout())
}

func (p *RawPeer) readPDU(d time.Duration) (pdu.PDU, error) {
	p.Conn.SetReadDeadline(time.Now().Add(d))
	x, err := p.r.Read()
	if err != nil && streamEnded(err) {
		p.closed = true
	}
	return x, err
}

// streamEnded tells the errors after which nothing more can be read from
// the errors of one PDU (a timeout, a PDU that did not decode).
func streamEnded(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	var pe *pdu.Error
	if errors.As(err, &pe) {
		return pe.Fatal
	}
	return true
}

// Bind sends a bind of the given kind (interface version 3.4) and reads its
// answer. It returns the bind response's status; an error when no bind
// response of the right command came (a generic_nack's status is returned
// with an error).
func (p *RawPeer) Bind(kind smpp.BindType, systemID, password string) (pdu.Status, error) {
	body := pdu.BindTransmitter{SystemID: systemID, Password: password, InterfaceVersion: 0x34}
	var req pdu.PDU
	switch kind {
	case smpp.BindTransmitter:
		req = &body
	case smpp.BindReceiver:
		b := pdu.BindReceiver(body)
		req = &b
	case smpp.BindTransceiver:
		b := pdu.BindTransceiver(body)
		req = &b
	default:
		return 0, fmt.Errorf("smpptest: bind type %v", kind)
	}
	if err := p.WritePDU(req); err != nil {
		return 0, err
	}
	resp, err := p.ReadPDU()
	if err != nil {
		return 0, fmt.Errorf("smpptest: no answer to %s: %w", req.CommandID(), err)
	}
	st := resp.Head().CommandStatus
	switch {
	case resp.CommandID() == pdu.GenericNackID:
		return st, fmt.Errorf("smpptest: %s answered with generic_nack %v", req.CommandID(), st)
	case resp.CommandID() != req.CommandID().Response():
		return st, fmt.Errorf("smpptest: %s answered with %s", req.CommandID(), resp.CommandID())
	case resp.Head().SequenceNumber != req.Head().SequenceNumber:
		return st, fmt.Errorf("smpptest: %s (sequence %d) answered with sequence %d",
			req.CommandID(), req.Head().SequenceNumber, resp.Head().SequenceNumber)
	}
	return st, nil
}

// Expect reads the next PDU and ends the test unless it came, within
// Timeout, and is an id. It takes the test to fail because a RawPeer may
// outlive the subtest that uses it.
func (p *RawPeer) Expect(t testing.TB, id pdu.CommandID) pdu.PDU {
	t.Helper()
	x, err := p.ReadPDU()
	if err != nil {
		t.Fatalf("smpptest: expecting %s: %v", id, err)
	}
	if x.CommandID() != id {
		t.Fatalf("smpptest: expecting %s, got %s (status %v, sequence %d)",
			id, x.CommandID(), x.Head().CommandStatus, x.Head().SequenceNumber)
	}
	return x
}

// WaitClosed waits up to timeout for the server to close the connection
// and reports whether it did. PDUs that arrive meanwhile are discarded (and
// logged): read them first with Expect to check them.
func (p *RawPeer) WaitClosed(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for !p.closed {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		x, err := p.readPDU(left)
		switch {
		case err == nil:
			p.t.Logf("smpptest: waiting for the close, discarded %s (status %v)", x.CommandID(), x.Head().CommandStatus)
		case errors.Is(err, os.ErrDeadlineExceeded):
			return false
		case !p.closed:
			p.t.Logf("smpptest: waiting for the close, discarded a PDU: %v", err)
		}
	}
	return true
}

// Closed reports whether the server has closed the connection, looking for
// at most 20 ms (and discarding what arrives, as WaitClosed does).
func (p *RawPeer) Closed() bool { return p.WaitClosed(20 * time.Millisecond) }

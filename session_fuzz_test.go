package smpp

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/smppkit/smpp/pdu"
)

// FuzzServerSession sends a server session PDUs with arbitrary command ids,
// statuses, sequence numbers and bodies (framed with a correct length, so
// the stream stays in step), then an enquire_link. Whatever came before, the
// session must not panic and must still answer, unless the input unbound it.
//
// The input is a list of chunks: two octets of length, then that many
// octets, of which the first four are the command id, the next four the
// status, and the rest the body.
func FuzzServerSession(f *testing.F) {
	chunk := func(id pdu.CommandID, st pdu.Status, body []byte) []byte {
		b := binary.BigEndian.AppendUint16(nil, uint16(8+len(body)))
		b = binary.BigEndian.AppendUint32(b, uint32(id))
		b = binary.BigEndian.AppendUint32(b, uint32(st))
		return append(b, body...)
	}
	body := func(p pdu.PDU) []byte {
		b, _ := pdu.Marshal(p)
		return b[pdu.HeaderSize:]
	}
	bind := chunk(pdu.BindTransceiverID, 0, body(&pdu.BindTransceiver{SystemID: "a", InterfaceVersion: 0x34}))
	submit := chunk(pdu.SubmitSMID, 0, body(&pdu.SubmitSM{SourceAddr: "1", DestinationAddr: "2", ShortMessage: []byte("hi")}))
	f.Add(bind)
	f.Add(append(append([]byte{}, bind...), submit...))
	f.Add(submit)
	f.Add(append(append([]byte{}, bind...), chunk(pdu.SubmitSMID, 0, []byte{1, 2, 3})...))
	f.Add(append(append([]byte{}, bind...), chunk(0x00010203, 0, nil)...))
	f.Add(append(append([]byte{}, bind...), chunk(pdu.SubmitSMRespID, 0, []byte("x\x00"))...))
	f.Add(append(append([]byte{}, bind...), bind...))
	f.Add(append(append([]byte{}, bind...), chunk(pdu.DeliverSMID, 0, body(&pdu.DeliverSM{}))...))

	f.Fuzz(func(t *testing.T, in []byte) {
		var stream []byte
		unbinds := false
		seq := uint32(1)
		for len(in) >= 2 {
			n := int(binary.BigEndian.Uint16(in))
			in = in[2:]
			if n < 8 || n > len(in) {
				break
			}
			c := in[:n]
			in = in[n:]
			id := pdu.CommandID(binary.BigEndian.Uint32(c))
			unbinds = unbinds || id == pdu.UnbindID
			stream = binary.BigEndian.AppendUint32(stream, uint32(pdu.HeaderSize+n-8))
			stream = append(stream, c[:8]...)
			stream = binary.BigEndian.AppendUint32(stream, seq)
			stream = append(stream, c[8:]...)
			seq++
		}
		const probe = 0x7FFFFFF0
		stream, _ = pdu.Append(stream, &pdu.EnquireLink{Header: hdr(probe)})

		ours, theirs := net.Pipe()
		// Half the inputs run with recycled requests and PDUs.
		srv := &Server{Handler: echoHandler(), ResponseTimeout: time.Second, ReusePDUs: len(stream)%2 == 0}
		s := newSession(ours, SMSC, srv.settings())
		s.start()
		defer s.Close()
		go theirs.Write(stream)

		theirs.SetReadDeadline(time.Now().Add(10 * time.Second))
		r := pdu.NewReader(theirs, 0)
		for {
			b, err := r.Next()
			if err != nil {
				if (errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe)) && unbinds {
					return // unbound: closing is right
				}
				t.Fatalf("no enquire_link_resp: %v (state %v, session error %v)", err, s.State(), s.Err())
			}
			if pdu.CommandID(binary.BigEndian.Uint32(b[4:])) == pdu.EnquireLinkRespID &&
				binary.BigEndian.Uint32(b[12:]) == probe {
				return
			}
		}
	})
}

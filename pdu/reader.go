package pdu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxLength is the command_length a Reader accepts by default: room
// for a 64 KiB message_payload plus every other field.
const DefaultMaxLength = 70000

// Reader frames PDUs from a byte stream. It reads in large chunks to save
// system calls and checks each command_length against its bounds before it
// reserves any memory for the PDU, so a hostile length costs nothing.
type Reader struct {
	r    io.Reader
	max  int
	buf  []byte
	head int // start of unread data in buf
	tail int // end of unread data in buf
	opts DecodeOptions
}

// NewReader returns a Reader that accepts PDUs of at most maxLength octets
// (DefaultMaxLength if maxLength <= 0).
func NewReader(r io.Reader, maxLength int) *Reader { return NewReaderSize(r, maxLength, 4096) }

// NewReaderSize is NewReader with the size of the read buffer: a larger one
// takes more PDUs per system call under load.
func NewReaderSize(r io.Reader, maxLength, size int) *Reader {
	if maxLength <= 0 {
		maxLength = DefaultMaxLength
	}
	if maxLength < HeaderSize {
		maxLength = HeaderSize
	}
	return &Reader{r: r, max: maxLength, buf: make([]byte, max(size, HeaderSize))}
}

// SetDecodeOptions sets the options Read decodes with.
func (r *Reader) SetDecodeOptions(o DecodeOptions) { r.opts = o }

// Buffered reports how many octets have been read from the stream but not
// yet returned as PDUs.
func (r *Reader) Buffered() int { return r.tail - r.head }

// HasNext reports whether a whole PDU is buffered, so that Next will return
// without reading from the stream.
func (r *Reader) HasNext() bool {
	n := r.tail - r.head
	return n >= HeaderSize && int(binary.BigEndian.Uint32(r.buf[r.head:])) <= n
}

// Next returns the octets of the next whole PDU, header included. The slice
// is valid only until the next call. At a clean end of stream it returns
// io.EOF; a stream that ends inside a PDU gives io.ErrUnexpectedEOF. A
// command_length below 16 or above the maximum gives a fatal *Error
// (ESME_RINVCMDLEN) carrying the header, so the peer can be answered with a
// generic_nack before the connection is closed.
func (r *Reader) Next() ([]byte, error) {
	if err := r.fill(HeaderSize); err != nil {
		return nil, err
	}
	b := r.buf[r.head:r.tail]
	n := binary.BigEndian.Uint32(b)
	if n < HeaderSize || n > uint32(r.max) {
		e := &Error{
			Status:    ESME_RINVCMDLEN,
			CommandID: CommandID(binary.BigEndian.Uint32(b[4:])),
			Header:    Header{CommandStatus: Status(binary.BigEndian.Uint32(b[8:])), SequenceNumber: binary.BigEndian.Uint32(b[12:])},
			Offset:    0,
			Msg:       fmt.Sprintf("command_length %d outside %d..%d", n, HeaderSize, r.max),
			Fatal:     true,
		}
		return nil, e
	}
	if err := r.fill(int(n)); err != nil {
		return nil, err
	}
	p := r.buf[r.head : r.head+int(n)]
	r.head += int(n)
	return p, nil
}

// Read returns the next PDU, decoded. A PDU that is framed correctly but does
// not decode gives a non-fatal *Error: the stream stays usable.
func (r *Reader) Read() (PDU, error) {
	b, err := r.Next()
	if err != nil {
		return nil, err
	}
	return r.opts.Decode(b)
}

// fill makes sure at least n unread octets are buffered. The buffer grows by
// doubling as octets actually arrive, never straight to n: a peer that
// announces a large (but allowed) command_length and then sends nothing
// costs no memory.
func (r *Reader) fill(n int) error {
	if r.tail-r.head >= n {
		return nil
	}
	if r.head > 0 && n > len(r.buf)-r.head {
		r.tail = copy(r.buf, r.buf[r.head:r.tail])
		r.head = 0
	}
	for r.tail-r.head < n {
		if r.tail == len(r.buf) {
			nb := make([]byte, min(2*len(r.buf), r.head+n))
			copy(nb, r.buf[r.head:r.tail])
			r.tail -= r.head
			r.head = 0
			r.buf = nb
		}
		m, err := r.r.Read(r.buf[r.tail:])
		r.tail += m
		if err != nil {
			if r.tail-r.head >= n {
				return nil
			}
			if errors.Is(err, io.EOF) {
				if r.tail == r.head {
					return io.EOF
				}
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

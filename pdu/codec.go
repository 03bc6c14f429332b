package pdu

import (
	"encoding/binary"
	"reflect"
	"sync"
)

// DecodeOptions tune how strictly Decode reads a PDU.
type DecodeOptions struct {
	// Lenient accepts what well-known peers get wrong and a receiver can
	// still understand: C-octet strings longer than their field's maximum
	// (the NUL must still be inside the body), time fields that are neither
	// empty nor 16 characters, known TLVs with a length the spec does not
	// allow, and a request body that stops at a field boundary before its
	// last fields (the missing fields are taken as NULL).
	Lenient bool
}

var walkers = sync.Pool{New: func() any { return new(Fields) }}

// Decode decodes one whole PDU (header included) with the default, strict
// options. See DecodeOptions.Decode.
func Decode(b []byte) (PDU, error) { return DecodeOptions{}.Decode(b) }

// Decode decodes one whole PDU, header included. The PDU does not keep b:
// the body is copied once, and every string and octet field of the result
// shares that copy.
//
// On failure the error is an *Error naming the field, the offset and the
// command_status to answer with; its header fields are filled in as far as
// they could be read, so a session can answer with the right sequence number.
func (o DecodeOptions) Decode(b []byte) (PDU, error) { return o.decode(b, true) }

// DecodeOwned is Decode without the copy: the PDU's string and octet fields
// share b, which the caller hands over and must not change afterwards. It
// saves an allocation where the caller has its own copy already.
func (o DecodeOptions) DecodeOwned(b []byte) (PDU, error) { return o.decode(b, false) }

// Decoder decodes PDU after PDU for one goroutine (a session's reader),
// cheaper than Decode: it reuses its working state, and it copies small
// bodies into a shared 16 KiB block instead of allocating each, so a
// decoded PDU costs one allocation (its struct). A PDU keeps its block
// alive as long as the PDU lives. It is not safe for concurrent use.
type Decoder struct {
	Options DecodeOptions
	f       Fields
	block   []byte
}

const (
	decoderBlock   = 16 << 10
	decoderMaxCopy = 512 // larger bodies get an allocation of their own
)

// Decode is DecodeOptions.Decode with the decoder's options.
func (d *Decoder) Decode(b []byte) (PDU, error) { return d.DecodeInto(b, nil) }

// DecodeInto is Decode that reuses reuse, a PDU an earlier decode returned
// and its owner is done with, when b is of the same standard command: reuse
// is cleared and b decoded into it, which saves the PDU's allocation. Only
// the struct is reused: the strings and octet slices it held before are
// never overwritten, so whoever kept those (not the struct) keeps valid
// values. Otherwise (nil, another command, a custom command) the result is
// a new PDU, as from Decode.
func (d *Decoder) DecodeInto(b []byte, reuse PDU) (PDU, error) {
	if len(b) <= HeaderSize || len(b)-HeaderSize > decoderMaxCopy {
		return d.Options.decodeWith(&d.f, b, true, reuse, true)
	}
	n := len(b) - HeaderSize
	if len(d.block) < n {
		d.block = make([]byte, decoderBlock)
	}
	body := d.block[:n:n]
	d.block = d.block[n:]
	copy(body, b[HeaderSize:])
	// The header is read from b; only the body needs the copy.
	return d.Options.decodeParts(&d.f, b[:HeaderSize], body, len(b), reuse, true)
}

func (o DecodeOptions) decode(b []byte, copyBody bool) (PDU, error) {
	f := walkers.Get().(*Fields)
	p, err := o.decodeWith(f, b, copyBody, nil, true)
	walkers.Put(f)
	return p, err
}

func (o DecodeOptions) decodeWith(f *Fields, b []byte, copyBody bool, reuse PDU, usePlan bool) (PDU, error) {
	if len(b) < HeaderSize {
		return nil, &Error{Status: ESME_RINVCMDLEN, Offset: 0, Msg: "shorter than the 16-octet header", Fatal: true}
	}
	body := b[HeaderSize:len(b):len(b)]
	if copyBody && len(body) > 0 {
		body = make([]byte, len(body))
		copy(body, b[HeaderSize:])
	}
	return o.decodeParts(f, b[:HeaderSize], body, len(b), reuse, usePlan)
}

// decodeParts decodes a PDU from its header and its body, which the PDU may
// keep; size is the whole PDU's length. reuse, if of the right type, is
// decoded into instead of a new PDU. usePlan lets the command's plan do it
// (tests turn it off to compare with the walker alone).
func (o DecodeOptions) decodeParts(f *Fields, head, body []byte, size int, reuse PDU, usePlan bool) (PDU, error) {
	length := binary.BigEndian.Uint32(head)
	id := CommandID(binary.BigEndian.Uint32(head[4:]))
	h := Header{CommandStatus: Status(binary.BigEndian.Uint32(head[8:])), SequenceNumber: binary.BigEndian.Uint32(head[12:])}
	if int64(length) != int64(size) {
		return nil, &Error{Status: ESME_RINVCMDLEN, CommandID: id, Header: h, Offset: 0, Msg: "command_length does not match the PDU's size", Fatal: true}
	}
	c := lookup(id)
	if c == nil {
		return nil, &Error{Status: ESME_RINVCMDID, CommandID: id, Header: h, Offset: 4, Msg: "unknown command_id"}
	}
	var p PDU
	if reuse != nil && c.reset != nil && c.reset(reuse) {
		p = reuse
	} else {
		p = c.make()
	}
	*p.Head() = h
	if len(body) == 0 && id.IsResponse() {
		// A response without a body: the rule for errors, and a common
		// habit for deliver_sm_resp and friends on success.
		return p, nil
	}
	if usePlan && c.plan != nil && !o.Lenient && c.plan.decode(pduBase(p), body, bytesString(body)) {
		return p, nil
	}
	// (Where the plan gave up, the walker writes every field again, or
	// fails and p is dropped.)
	f.startDecode(id, body, o.Lenient)
	p.Fields(f)
	err := f.err
	if err == nil && f.off != len(f.in) && !f.lenient {
		// A Fields method that stops before the end (custom commands
		// without TLVs) leaves octets over.
		f.Fail("", ESME_RINVCMDLEN, "%d octets after the last field", len(f.in)-f.off)
		err = f.err
	}
	f.done()
	if err != nil {
		if id.IsResponse() && h.CommandStatus != ESME_ROK {
			// v5.0 §3.2.1.3: the body of an error response is to be
			// ignored, so one that does not decode is no error.
			p = c.make()
			*p.Head() = h
			return p, nil
		}
		err.Header = h
		return nil, err
	}
	return p, nil
}

// Append encodes p, header included, to the end of dst and returns the
// extended slice. It allocates nothing when dst has room. command_length is
// computed; command_id comes from p's type. An error response whose body
// would be empty is sent header-only, as the spec asks.
func Append(dst []byte, p PDU) ([]byte, error) {
	f := walkers.Get().(*Fields)
	dst, err := appendWith(f, dst, p, true)
	walkers.Put(f)
	return dst, err
}

// Encoder is Append for one goroutine (or one lock holder) that encodes many
// PDUs: it reuses its working state instead of taking it from a pool. It is
// not safe for concurrent use.
type Encoder struct{ f Fields }

// Append is the package's Append.
func (e *Encoder) Append(dst []byte, p PDU) ([]byte, error) { return appendWith(&e.f, dst, p, true) }

// appendWith encodes p with f, by its plan where it has one and usePlan
// (tests turn it off to compare with the walker alone).
func appendWith(f *Fields, dst []byte, p PDU, usePlan bool) ([]byte, error) {
	start := len(dst)
	id := p.CommandID()
	h := p.Head()
	dst = binary.BigEndian.AppendUint32(dst, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(id))
	dst = binary.BigEndian.AppendUint32(dst, uint32(h.CommandStatus))
	dst = binary.BigEndian.AppendUint32(dst, h.SequenceNumber)
	if c := lookup(id); usePlan && c != nil && c.plan != nil && reflect.TypeOf(p) == c.typ {
		out, ok := c.plan.encode(dst, pduBase(p))
		if ok {
			return finish(out, start, id, h), nil
		}
		dst = out[:start+HeaderSize] // the walker does it again, errors and all
	}
	f.startEncode(id, dst)
	p.Fields(f)
	dst, err := f.out, f.err
	f.done()
	if err != nil {
		err.Header = *h
		return dst[:start], err
	}
	return finish(dst, start, id, h), nil
}

// finish completes an encoded PDU: an error response with an empty body goes
// header-only, and command_length is filled in.
func finish(dst []byte, start int, id CommandID, h *Header) []byte {
	if id.IsResponse() && h.CommandStatus != ESME_ROK && emptyBody(dst[start+HeaderSize:]) {
		dst = dst[:start+HeaderSize]
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst
}

// emptyBody reports whether an encoded body holds only NULL fields (zero
// octets: every C-string empty, every integer zero) and no TLVs.
func emptyBody(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Marshal encodes p into a new slice.
func Marshal(p PDU) ([]byte, error) { return Append(make([]byte, 0, 64), p) }

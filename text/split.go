package text

import (
	"errors"
	"math/rand/v2"
	"sync/atomic"
)

// Method is how a long message is carried.
type Method uint8

// Split methods.
const (
	SplitUDH8    Method = iota // concatenation UDH, 8-bit reference (IEI 0x00)
	SplitUDH16                 // concatenation UDH, 16-bit reference (IEI 0x08)
	SplitSAR                   // sar_msg_ref_num / sar_total_segments / sar_segment_seqnum TLVs, no UDH
	SplitPayload               // the whole message in one message_payload TLV
)

var methodNames = [...]string{"udh8", "udh16", "sar", "payload"}

// String returns the method's name as ParseMethod accepts it.
func (m Method) String() string {
	if int(m) < len(methodNames) {
		return methodNames[m]
	}
	return "method(" + itoa(int(m)) + ")"
}

// ParseMethod returns the Method named s.
func ParseMethod(s string) (Method, error) {
	for i, n := range methodNames {
		if n == s {
			return Method(i), nil
		}
	}
	return 0, errors.New("text: unknown split method " + s)
}

// SAR holds the values of the three SAR TLVs for one segment.
type SAR struct {
	Ref   uint16 // sar_msg_ref_num
	Total uint8  // sar_total_segments
	Seq   uint8  // sar_segment_seqnum, from 1
}

// Segment is one short message of a (possibly long) message, independent of
// the PDU codec: the session layer puts Data into short_message (or into
// message_payload when Message.Payload), sets esm_class UDHI (0x40) when
// UDHI, and adds the SAR TLVs when SAR is not nil.
type Segment struct {
	Data []byte // short_message octets, including the UDH if any
	UDHI bool
	SAR  *SAR
}

// Message is a text split into segments.
type Message struct {
	Coding     Coding
	DataCoding byte // the data_coding of every segment
	// Locking and Single are the national language tables in use (GSM7).
	Locking, Single Language
	// Payload says the single segment's Data goes into message_payload
	// (short_message empty): only with Method Payload and only when the
	// text does not fit into one short_message.
	Payload  bool
	Segments []Segment
	// Ref is the concatenation reference (0 when not split).
	Ref uint16
}

// ErrTooLong is returned when a message needs more than 255 segments, or
// more than 65535 octets of message_payload.
var ErrTooLong = errors.New("text: message too long")

// ErrShiftNeedsUDH is returned when national language tables are asked for
// with SAR segmentation: the shift IEs can only travel in a UDH.
var ErrShiftNeedsUDH = errors.New("text: national language tables need a UDH; SAR cannot carry them")

var refCounter atomic.Uint32

func init() { refCounter.Store(rand.Uint32()) }

// NextRef returns a concatenation reference from a process-wide counter
// seeded randomly at start: consecutive messages get different references
// (also in the low 8 bits used by SplitUDH8).
func NextRef() uint16 { return uint16(refCounter.Add(1)) }

// capacity returns the units (septets, octets; UCS2: octets, even) one
// segment carries: single is for an unsplit message, multi per part of a
// split one. shiftOctets is the size of the shift IEs in the UDH. SAR
// segments leave room for the 8-bit concatenation UDH the MC adds on the
// air interface.
func capacity(c Coding, shiftOctets int, m Method) (single, multi int) {
	hdr := func(concat int) int {
		if n := shiftOctets + concat; n > 0 {
			return n + 1
		}
		return 0
	}
	cm := 5
	if m == SplitUDH16 {
		cm = 6
	}
	switch c {
	case GSM7:
		return 160 - (hdr(0)*8+6)/7, 160 - (hdr(cm)*8+6)/7
	case UCS2:
		return (140 - hdr(0)) &^ 1, (140 - hdr(cm)) &^ 1
	}
	return 140 - hdr(0), 140 - hdr(cm)
}

// cut returns how many units of u go into a segment of capacity max without
// ending inside an escape sequence (GSM7) or a surrogate pair (UCS2).
func cut(u []byte, c Coding, max int) int {
	if len(u) <= max {
		return len(u)
	}
	switch c {
	case GSM7:
		i := 0
		for i < len(u) {
			w := 1
			if u[i] == esc && i+1 < len(u) {
				w = 2
			}
			if i+w > max {
				break
			}
			i += w
		}
		return i
	case UCS2:
		n := max &^ 1
		if n >= 2 && u[n-2]&0xFC == 0xD8 { // high surrogate last: keep the pair together
			n -= 2
		}
		return n
	}
	return max
}

// Split encodes s in coding (Auto: the cheapest — GSM 7-bit default
// alphabet, then the national tables in c.Languages, then Latin-1 if the
// link default or c.Latin1 allows it, then UCS-2) and splits it by method m.
// A message that fits into one short_message is one segment without UDH
// (except for the shift IEs national tables need).
func (c *Codec) Split(s string, coding Coding, m Method) (Message, error) {
	var zero Codec
	if c == nil {
		c = &zero
	}
	e, err := c.encode(nil, s, coding, m)
	if err != nil {
		return Message{Coding: e.Coding, DataCoding: e.DataCoding}, err
	}
	return c.SplitEncoded(&e, m)
}

// SplitEncoded splits already encoded text by method m.
func (c *Codec) SplitEncoded(e *Encoded, m Method) (Message, error) {
	var zero Codec
	if c == nil {
		c = &zero
	}
	msg := Message{Coding: e.Coding, DataCoding: e.DataCoding, Locking: e.Locking, Single: e.Single}
	ies := 0
	if e.Locking != 0 {
		ies++
	}
	if e.Single != 0 {
		ies++
	}
	if ies > 0 && m == SplitSAR {
		return msg, ErrShiftNeedsUDH
	}
	packed := e.Coding == GSM7 && c.Packed
	single, multi := capacity(e.Coding, 3*ies, m)
	u := e.Units
	if len(u) <= single {
		msg.Segments = []Segment{c.segment(nil, u, m, false, 0, 1, 1, e, packed)}
		return msg, nil
	}
	if m == SplitPayload {
		h := udhLen(m, false, ies)
		n := len(u)
		if packed {
			n = PackedLen(n, FillBits(h))
		}
		if h+n > 65535 {
			return msg, ErrTooLong
		}
		msg.Payload = true
		msg.Segments = []Segment{c.segment(nil, u, m, false, 0, 1, 1, e, packed)}
		return msg, nil
	}
	// Boundaries first, so one buffer holds every segment.
	var cutsArr [16]int
	cuts := cutsArr[:0]
	for rest := u; len(rest) > 0; {
		n := cut(rest, e.Coding, multi)
		if n == 0 {
			return msg, ErrTooLong
		}
		cuts = append(cuts, n)
		rest = rest[n:]
	}
	if len(cuts) > 255 {
		return msg, ErrTooLong
	}
	ref := c.nextRef()
	msg.Ref = ref
	if m == SplitUDH8 {
		msg.Ref &= 0xFF
	}
	h := udhLen(m, true, ies)
	size := 0
	for _, n := range cuts {
		if packed {
			n = PackedLen(n, FillBits(h))
		}
		size += h + n
	}
	buf := make([]byte, 0, size)
	msg.Segments = make([]Segment, len(cuts))
	var sars []SAR
	if m == SplitSAR {
		sars = make([]SAR, len(cuts))
	}
	for i, n := range cuts {
		start := len(buf)
		seg := c.segment(buf, u[:n], m, true, ref, len(cuts), i+1, e, packed)
		buf = seg.Data
		seg.Data = buf[start:len(buf):len(buf)]
		if m == SplitSAR {
			sars[i] = SAR{Ref: ref, Total: uint8(len(cuts)), Seq: uint8(i + 1)}
			seg.SAR = &sars[i]
		}
		msg.Segments[i] = seg
		u = u[n:]
	}
	return msg, nil
}

// segment appends one segment's data to buf and returns it in Segment.Data
// (the whole of buf).
func (c *Codec) segment(buf, u []byte, m Method, concat bool, ref uint16, total, seq int, e *Encoded, packed bool) Segment {
	if m == SplitSAR {
		concat = false
	}
	start := len(buf)
	buf = appendUDH(buf, m, concat, ref, total, seq, e.Locking, e.Single)
	h := len(buf) - start
	if packed {
		buf = Pack(buf, u, FillBits(h))
	} else {
		buf = append(buf, u...)
	}
	return Segment{Data: buf, UDHI: h > 0}
}

func (c *Codec) nextRef() uint16 {
	if c.Ref != nil {
		return c.Ref()
	}
	return NextRef()
}

// Count is the length of a message: how many segments it takes and how much
// room is left in the last one.
type Count struct {
	Coding          Coding
	DataCoding      byte
	Locking, Single Language
	Method          Method
	Chars           int // characters (runes) in the text
	// Units is the encoded length: septets for GSM7 (an extension
	// character counts two), UTF-16 code units for UCS2, octets otherwise.
	Units    int
	Segments int
	// PerSegment is the capacity of each segment in Units (of the only one
	// when Segments is 1); 0 for a message_payload message.
	PerSegment int
	// Left is the room left in the last segment, in Units.
	Left int
	// Payload says the text goes into message_payload.
	Payload bool
	// Unencodable lists characters the coding cannot carry (then the
	// counts assume they were dropped).
	Unencodable []BadChar
}

// Count counts the segments s needs in coding with method m, without
// building them. When the coding cannot carry some characters, the count is
// still returned together with an *EncodeError.
func (c *Codec) Count(s string, coding Coding, m Method) (Count, error) {
	var zero Codec
	if c == nil {
		c = &zero
	}
	e, err := c.encode(nil, s, coding, m)
	cnt := Count{Coding: e.Coding, DataCoding: e.DataCoding, Locking: e.Locking, Single: e.Single,
		Method: m, Chars: e.Chars, Units: e.UnitCount()}
	if ee, ok := err.(*EncodeError); ok {
		cnt.Unencodable = ee.Chars
	} else if err != nil {
		return cnt, err
	}
	ies := 0
	if e.Locking != 0 {
		ies++
	}
	if e.Single != 0 {
		ies++
	}
	div := 1
	if e.Coding == UCS2 {
		div = 2
	}
	single, multi := capacity(e.Coding, 3*ies, m)
	u := e.Units
	switch {
	case len(u) <= single:
		cnt.Segments, cnt.PerSegment, cnt.Left = 1, single/div, (single-len(u))/div
	case m == SplitPayload:
		cnt.Segments, cnt.Payload = 1, true
	default:
		for len(u) > 0 {
			n := cut(u, e.Coding, multi)
			if n == 0 {
				break
			}
			cnt.Segments++
			cnt.Left = (multi - n) / div
			u = u[n:]
		}
		cnt.PerSegment = multi / div
	}
	return cnt, err
}

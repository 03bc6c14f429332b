package pdu

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unsafe"
)

type mode uint8

const (
	modeEncode mode = iota
	modeDecode
	modeJSONOut
	modeJSONIn
	modePlan // recording a plan (plan.go)
)

// Fields walks a PDU's body declaration. A PDU's Fields method calls these
// methods once per field in wire order; depending on what the codec is
// doing, each call encodes the field, decodes it, or converts it to or from
// JSON. Custom commands declare their bodies with the same calls.
//
// The name given with each field is its spec name: it appears in errors and
// in the JSON form.
type Fields struct {
	mode mode
	id   CommandID
	err  *Error

	// encoding: the output, PDU header included.
	out []byte

	// decoding: the body and a string view of the same memory, and the
	// offset of the next field within the body.
	in      []byte
	str     string
	off     int
	lenient bool

	// JSON
	js *jsonState

	// recording a plan
	plan *plan
}

// startDecode and startEncode set a walker up field by field, and done
// clears what it points to. (Assigning a whole Fields value would copy it
// with a bulk write barrier while the GC runs, a cost on every PDU.)
func (f *Fields) startDecode(id CommandID, body []byte, lenient bool) {
	f.mode, f.id, f.err = modeDecode, id, nil
	f.in, f.str, f.off, f.lenient = body, bytesString(body), 0, lenient
}

func (f *Fields) startEncode(id CommandID, dst []byte) {
	f.mode, f.id, f.err = modeEncode, id, nil
	f.out = dst
}

func (f *Fields) done() {
	f.err, f.in, f.str, f.out = nil, nil, "", nil
}

// Encoding reports whether the walk is encoding (or converting to JSON):
// the PDU's fields are being read, not written.
func (f *Fields) Encoding() bool {
	if f.mode == modePlan {
		f.plan.bad = true // a declaration that depends on the direction
	}
	return f.mode == modeEncode || f.mode == modeJSONOut
}

// Err returns the first error met so far.
func (f *Fields) Err() error {
	if f.err == nil {
		return nil
	}
	return f.err
}

// Fail records an error found by a custom declaration (a value out of range):
// the walk stops and the peer is answered with status.
func (f *Fields) Fail(field string, status Status, format string, args ...any) {
	if f.mode == modePlan {
		f.plan.bad = true
		return
	}
	if f.err == nil {
		f.err = &Error{Status: status, CommandID: f.id, Field: field, Offset: HeaderSize + f.off, Msg: fmt.Sprintf(format, args...)}
		if f.mode != modeDecode {
			f.err.Offset = -1
		}
	}
}

// CString declares a C-octet string field of at most max octets, NUL included.
func (f *Fields) CString(name string, p *string, max int) {
	if f.err != nil {
		return
	}
	switch f.mode {
	case modeEncode:
		s := *p
		if len(s) >= max {
			f.Fail(name, fieldStatus(name), "%d octets do not fit in %d (NUL included)", len(s), max)
			return
		}
		if i := indexNUL(s); i >= 0 {
			f.Fail(name, fieldStatus(name), "NUL octet inside the string at %d", i)
			return
		}
		f.out = append(f.out, s...)
		f.out = append(f.out, 0)
	case modeDecode:
		*p = f.cstring(name, max)
	case modePlan:
		f.plan.add(stepCString, unsafe.Pointer(p), max)
	case modeJSONOut:
		f.js.str(name, *p)
	case modeJSONIn:
		f.js.getStr(f, name, p)
	}
}

// cstring decodes one C-octet string of at most max octets.
func (f *Fields) cstring(name string, max int) string {
	rest := f.in[f.off:]
	if len(rest) == 0 {
		f.truncated(name)
		return ""
	}
	limit := len(rest)
	if !f.lenient && max < limit {
		limit = max
	}
	n := bytes.IndexByte(rest[:limit], 0)
	if n < 0 {
		if limit < len(rest) {
			f.Fail(name, fieldStatus(name), "C-octet string longer than %d octets", max)
		} else {
			f.Fail(name, ESME_RINVCMDLEN, "C-octet string without its NUL at the end of the body")
		}
		return ""
	}
	s := f.str[f.off : f.off+n]
	f.off += n + 1
	return s
}

// Time declares an SMPP time field (schedule_delivery_time, validity_period,
// final_date): a C-octet string that is either empty or a valid 16-character
// time (see checkTime). final_date may also have the 12-character
// "YYMMDDhhmmss" form some v3.4 MCs report. Encoding and strict decoding
// refuse anything else; Lenient decoding accepts any string up to the NUL.
func (f *Fields) Time(name string, p *string) {
	if f.err != nil {
		return
	}
	short := name == "final_date"
	switch f.mode {
	case modeEncode:
		if msg := checkTime(*p, short); msg != "" {
			f.Fail(name, fieldStatus(name), "%s: %q", msg, *p)
			return
		}
		f.CString(name, p, 17)
	case modeDecode:
		s := f.cstring(name, 17)
		if f.err == nil && !f.lenient {
			if msg := checkTime(s, short); msg != "" {
				f.off -= len(s) + 1
				f.Fail(name, fieldStatus(name), "%s: %q", msg, s)
			}
		}
		*p = s
	case modePlan:
		kind := stepTime
		if short {
			kind = stepTime12
		}
		f.plan.add(kind, unsafe.Pointer(p), 17)
	default:
		f.CString(name, p, 17)
	}
}

// checkTime returns what is wrong with an SMPP time field's content, or ""
// when it is empty or valid: 16 characters "YYMMDDhhmmsstnnp", all digits
// but p, which is 'R' (relative) or '+'/'-' (absolute, nn quarter hours from
// UTC, at most 48); an absolute time must be a real moment (month 1-12, a
// day the month has, hh 00-23, mm and ss 00-59). With short, the
// 12-character "YYMMDDhhmmss" absolute form is valid too. It allocates
// nothing: it runs on every decoded time.
func checkTime(s string, short bool) string {
	switch {
	case len(s) == 0:
		return ""
	case len(s) == 12 && short:
	case len(s) != 16:
		if short {
			return "SMPP time must be empty, 16 or 12 characters"
		}
		return "SMPP time must be empty or 16 characters"
	}
	digits := min(len(s), 15)
	for i := 0; i < digits; i++ {
		if s[i] < '0' || s[i] > '9' {
			return "SMPP time has a non-digit where a digit belongs"
		}
	}
	two := func(i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }
	if len(s) == 16 {
		switch s[15] {
		case 'R':
			return ""
		case '+', '-':
			if two(13) > 48 {
				return "SMPP time is more than 48 quarter hours from UTC"
			}
		default:
			return "SMPP time must end in 'R', '+' or '-'"
		}
	}
	yy, mm, dd := two(0), two(2), two(4)
	if mm < 1 || mm > 12 || dd < 1 || dd > daysIn(mm, yy) || two(6) > 23 || two(8) > 59 || two(10) > 59 {
		return "SMPP time is not a valid date and time"
	}
	return ""
}

// daysIn returns the length of month mm of two-digit year yy (v3.4's rule:
// 38-99 are 1938-1999, so 00 is 2000, a leap year).
func daysIn(mm, yy int) int {
	switch mm {
	case 2:
		y := 2000 + yy
		if yy >= 38 {
			y = 1900 + yy
		}
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// Uint8 declares a 1-octet integer field.
func (f *Fields) Uint8(name string, p *uint8) {
	if f.err != nil {
		return
	}
	switch f.mode {
	case modeEncode:
		f.out = append(f.out, *p)
	case modeDecode:
		if f.off >= len(f.in) {
			f.truncated(name)
			return
		}
		*p = f.in[f.off]
		f.off++
	case modePlan:
		f.plan.add(stepUint8, unsafe.Pointer(p), 0)
	case modeJSONOut:
		f.js.num(name, uint64(*p))
	case modeJSONIn:
		var v uint64
		if f.js.getNum(f, name, &v, 0xFF) {
			*p = uint8(v)
		}
	}
}

// Uint32 declares a 4-octet integer field.
func (f *Fields) Uint32(name string, p *uint32) {
	if f.err != nil {
		return
	}
	switch f.mode {
	case modeEncode:
		f.out = binary.BigEndian.AppendUint32(f.out, *p)
	case modeDecode:
		if f.off+4 > len(f.in) {
			f.truncated(name)
			return
		}
		*p = binary.BigEndian.Uint32(f.in[f.off:])
		f.off += 4
	case modePlan:
		f.plan.add(stepUint32, unsafe.Pointer(p), 0)
	case modeJSONOut:
		f.js.num(name, uint64(*p))
	case modeJSONIn:
		var v uint64
		if f.js.getNum(f, name, &v, 0xFFFFFFFF) {
			*p = uint32(v)
		}
	}
}

// ShortMessage declares sm_length followed by short_message: octets with a
// 1-octet length in front.
func (f *Fields) ShortMessage(p *[]byte) {
	f.OctetString("sm_length", "short_message", p)
}

// OctetString declares an octet string preceded by its 1-octet length field.
func (f *Fields) OctetString(lenName, name string, p *[]byte) {
	if f.err != nil {
		return
	}
	switch f.mode {
	case modeEncode:
		if len(*p) > 255 {
			f.Fail(name, ESME_RINVMSGLEN, "%d octets do not fit a 1-octet length; use message_payload", len(*p))
			return
		}
		f.out = append(f.out, byte(len(*p)))
		f.out = append(f.out, *p...)
	case modeDecode:
		if f.off >= len(f.in) {
			f.truncated(lenName)
			return
		}
		n := int(f.in[f.off])
		if f.off+1+n > len(f.in) {
			f.Fail(lenName, ESME_RINVMSGLEN, "%s %d runs past the end of the body (%d octets left)", lenName, n, len(f.in)-f.off-1)
			return
		}
		f.off++
		if n == 0 {
			*p = nil
		} else {
			// Three-index slice: appending to the field cannot overwrite
			// the neighbouring bytes that decoded strings share.
			*p = f.in[f.off : f.off+n : f.off+n]
		}
		f.off += n
	case modePlan:
		f.plan.add(stepOctets, unsafe.Pointer(p), 0)
	case modeJSONOut:
		f.js.num(lenName, uint64(len(*p)))
		f.js.hex(name, *p)
	case modeJSONIn:
		f.js.getOctets(f, lenName, name, p)
	}
}

// List declares a 1-octet count followed by that many entries (submit_multi's
// dest_address, submit_multi_resp's unsuccess_sme). n is the current number
// of entries; grow(k) must make room for k entries (when decoding), and
// entry(i) declares the fields of entry i.
func (f *Fields) List(countName, name string, n int, grow func(k int), entry func(i int)) {
	if f.err != nil {
		return
	}
	switch f.mode {
	case modeEncode:
		if n > 255 {
			f.Fail(countName, fieldStatus(countName), "%d entries do not fit a 1-octet count", n)
			return
		}
		f.out = append(f.out, byte(n))
		for i := 0; i < n && f.err == nil; i++ {
			entry(i)
		}
	case modeDecode:
		var k uint8
		f.Uint8(countName, &k)
		if f.err != nil {
			return
		}
		grow(int(k))
		for i := 0; i < int(k) && f.err == nil; i++ {
			entry(i)
		}
	case modePlan:
		f.plan.bad = true // (the entries depend on the count)
	case modeJSONOut:
		f.js.num(countName, uint64(n))
		f.js.list(name, n, entry)
	case modeJSONIn:
		f.js.getList(f, countName, name, grow, entry)
	}
}

// TLVs declares the TLVs that follow the mandatory fields; it must be the
// last call of a body declaration.
func (f *Fields) TLVs(p *TLVs) {
	if f.err != nil {
		return
	}
	switch f.mode {
	case modeEncode:
		for _, t := range *p {
			if len(t.Value) > 0xFFFF {
				f.Fail(t.Tag.String(), ESME_RINVTLVLEN, "TLV value of %d octets does not fit", len(t.Value))
				return
			}
			f.out = binary.BigEndian.AppendUint16(f.out, uint16(t.Tag))
			f.out = binary.BigEndian.AppendUint16(f.out, uint16(len(t.Value)))
			f.out = append(f.out, t.Value...)
		}
	case modeDecode:
		f.decodeTLVs(p)
	case modePlan:
		f.plan.add(stepTLVs, unsafe.Pointer(p), 0)
	case modeJSONOut:
		f.js.tlvs(*p)
	case modeJSONIn:
		f.js.getTLVs(f, p)
	}
}

func (f *Fields) decodeTLVs(p *TLVs) {
	// First pass: validate and count, so the slice is allocated once.
	n := 0
	for off := f.off; off < len(f.in); n++ {
		if len(f.in)-off < 4 {
			f.off = off
			f.Fail("tlvs", ESME_RINVTLVSTREAM, "%d stray octets after the last field", len(f.in)-off)
			return
		}
		tag := Tag(binary.BigEndian.Uint16(f.in[off:]))
		l := int(binary.BigEndian.Uint16(f.in[off+2:]))
		if off+4+l > len(f.in) {
			f.off = off
			f.Fail(tag.String(), ESME_RINVTLVSTREAM, "TLV length %d runs past the end of the body (%d octets left)", l, len(f.in)-off-4)
			return
		}
		if !f.lenient {
			if d, ok := lookupTLV(tag); ok && (l < d.MinLen || (d.MaxLen > 0 && l > d.MaxLen)) {
				f.off = off
				f.Fail(d.Name, ESME_RINVTLVLEN, "TLV length %d outside %d..%d", l, d.MinLen, d.MaxLen)
				return
			}
		}
		off += 4 + l
	}
	if n == 0 {
		*p = nil
		return
	}
	ts := make(TLVs, n)
	for i := range ts {
		l := int(binary.BigEndian.Uint16(f.in[f.off+2:]))
		ts[i].Tag = Tag(binary.BigEndian.Uint16(f.in[f.off:]))
		f.off += 4
		ts[i].Value = f.in[f.off : f.off+l : f.off+l]
		f.off += l
	}
	*p = ts
}

// truncated handles a body that ends before field name. Lenient decoding of a
// body that ends exactly at a field boundary treats the remaining fields as
// NULL (peers that omit trailing empty fields, such as Issue 1.1
// bind_transceiver); otherwise it is an invalid command length.
func (f *Fields) truncated(name string) {
	if f.lenient && f.off == len(f.in) {
		return
	}
	f.Fail(name, ESME_RINVCMDLEN, "body ends before %s", name)
}

func indexNUL(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return i
		}
	}
	return -1
}

// bytesString returns a string sharing b's memory. Used once per decoded PDU
// so that every C-octet string field is a substring of one allocation; the
// bytes are a private copy the decoder never changes afterwards, and the octet
// string fields that share the copy are disjoint from the string fields.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// fieldStatus is the command_status for a bad value of a named field.
func fieldStatus(name string) Status {
	switch name {
	case "system_id":
		return ESME_RINVSYSID
	case "password":
		return ESME_RINVPASWD
	case "system_type":
		return ESME_RINVSYSTYP
	case "service_type":
		return ESME_RINVSERTYP
	case "source_addr":
		return ESME_RINVSRCADR
	case "destination_addr", "esme_addr":
		return ESME_RINVDSTADR
	case "message_id":
		return ESME_RINVMSGID
	case "schedule_delivery_time":
		return ESME_RINVSCHED
	case "validity_period":
		return ESME_RINVEXPIRY
	case "dl_name":
		return ESME_RINVDLNAME
	case "number_of_dests":
		return ESME_RINVNUMDESTS
	case "dest_flag":
		return ESME_RINVDESTFLAG
	case "short_message", "sm_length":
		return ESME_RINVMSGLEN
	}
	return ESME_RINVCMDLEN
}

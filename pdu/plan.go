package pdu

import (
	"encoding/binary"
	"reflect"
	"unsafe"
)

// A plan is a standard command's body declaration recorded once, at start-up,
// by running its Fields method in a recording mode: the kind of each field
// and where it sits in the struct. Encoding and decoding the common case
// (strict, no error) then runs down the plan in one loop instead of calling
// the walker's methods field by field, which is several times cheaper for
// submit_sm and friends. The plan covers only the happy path: at the first
// thing it does not expect (a field too long, a body too short, a TLV of an
// odd length), it gives up and the walker does the whole PDU again, so every
// error is the walker's, word for word. Declarations whose fields depend on
// values (lists) or on the direction get no plan. The field list still lives
// in one place, the Fields method; the plan is derived from it.
type plan struct {
	steps []step
	bad   bool // not plannable

	// while recording
	base unsafe.Pointer
	size uintptr
}

type stepKind uint8

const (
	stepUint8 stepKind = iota
	stepUint32
	stepCString
	stepTime   // an SMPP time field (checkTime)
	stepTime12 // final_date: the 12-character form too
	stepOctets // 1-octet length, then the octets
	stepTLVs
)

type step struct {
	kind stepKind
	max  int     // C-octet strings: the maximum size, NUL included
	off  uintptr // the field's offset in the PDU struct
}

// add records a field at p, which must lie inside the struct.
func (pl *plan) add(kind stepKind, p unsafe.Pointer, max int) {
	off := uintptr(p) - uintptr(pl.base)
	if uintptr(p) < uintptr(pl.base) || off >= pl.size {
		pl.bad = true
		return
	}
	if n := len(pl.steps); n > 0 && pl.steps[n-1].kind == stepTLVs {
		pl.bad = true // TLVs come last
		return
	}
	pl.steps = append(pl.steps, step{kind: kind, max: max, off: off})
}

// makePlan records the plan of c's PDU type, or returns nil.
func makePlan(c *command) *plan {
	p := c.make()
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	pl := &plan{base: v.UnsafePointer(), size: v.Elem().Type().Size()}
	f := &Fields{mode: modePlan, id: c.id, plan: pl}
	p.Fields(f)
	if pl.bad {
		return nil
	}
	pl.base = nil
	return pl
}

// pduBase returns the address of the struct p points to.
func pduBase(p PDU) unsafe.Pointer { return reflect.ValueOf(p).UnsafePointer() }

// decode decodes body (and its string view str) into the PDU at base, which
// is zeroed; it reports false where the walker must do it instead.
func (pl *plan) decode(base unsafe.Pointer, body []byte, str string) bool {
	off := 0
	for _, st := range pl.steps {
		p := unsafe.Add(base, st.off)
		switch st.kind {
		case stepUint8:
			if off >= len(body) {
				return false
			}
			*(*uint8)(p) = body[off]
			off++
		case stepUint32:
			if off+4 > len(body) {
				return false
			}
			*(*uint32)(p) = binary.BigEndian.Uint32(body[off:])
			off += 4
		case stepCString, stepTime, stepTime12:
			n := -1
			for i := off; i < len(body) && i-off < st.max; i++ {
				if body[i] == 0 {
					n = i - off
					break
				}
			}
			if n < 0 || (st.kind != stepCString && n != 0 && checkTime(str[off:off+n], st.kind == stepTime12) != "") {
				return false
			}
			if n > 0 {
				*(*string)(p) = str[off : off+n]
			}
			off += n + 1
		case stepOctets:
			if off >= len(body) {
				return false
			}
			n := int(body[off])
			if off+1+n > len(body) {
				return false
			}
			off++
			if n > 0 {
				*(*[]byte)(p) = body[off : off+n : off+n]
			}
			off += n
		case stepTLVs:
			if off == len(body) {
				return true
			}
			var f Fields
			f.startDecode(0, body, false)
			f.off = off
			f.decodeTLVs((*TLVs)(p))
			ok := f.err == nil
			f.done()
			return ok
		}
	}
	return off == len(body)
}

// encode appends the body of the PDU at base to dst; it reports false
// (dst then holds an unknown part of the body) where the walker must do it.
func (pl *plan) encode(dst []byte, base unsafe.Pointer) ([]byte, bool) {
	for _, st := range pl.steps {
		p := unsafe.Add(base, st.off)
		switch st.kind {
		case stepUint8:
			dst = append(dst, *(*uint8)(p))
		case stepUint32:
			dst = binary.BigEndian.AppendUint32(dst, *(*uint32)(p))
		case stepCString, stepTime, stepTime12:
			s := *(*string)(p)
			if len(s) >= st.max || (st.kind != stepCString && checkTime(s, st.kind == stepTime12) != "") || indexNUL(s) >= 0 {
				return dst, false
			}
			dst = append(dst, s...)
			dst = append(dst, 0)
		case stepOctets:
			b := *(*[]byte)(p)
			if len(b) > 255 {
				return dst, false
			}
			dst = append(dst, byte(len(b)))
			dst = append(dst, b...)
		case stepTLVs:
			for _, t := range *(*TLVs)(p) {
				if len(t.Value) > 0xFFFF {
					return dst, false
				}
				dst = binary.BigEndian.AppendUint16(dst, uint16(t.Tag))
				dst = binary.BigEndian.AppendUint16(dst, uint16(len(t.Value)))
				dst = append(dst, t.Value...)
			}
		}
	}
	return dst, true
}

package text

// Information element identifiers of TS 23.040 §9.2.3.24 used here.
const (
	IEConcat8      = 0x00 // concatenated short message, 8-bit reference
	IEPort8        = 0x04 // application port addressing, 8-bit
	IEPort16       = 0x05 // application port addressing, 16-bit
	IEConcat16     = 0x08 // concatenated short message, 16-bit reference
	IESingleShift  = 0x24 // national language single shift
	IELockingShift = 0x25 // national language locking shift
)

// IE is one information element of a user data header.
type IE struct {
	ID   byte
	Data []byte
}

// Concat is a concatenation information element. Total 0 means none.
type Concat struct {
	Ref   uint16
	Total uint8
	Seq   uint8
	Wide  bool // 16-bit reference (IEI 0x08)
}

// UDH is a parsed TS 23.040 user data header.
type UDH struct {
	// Len is the header's size in octets including the UDHL octet; 0 when
	// there is no header.
	Len int
	// Concat is the concatenation IE, if any (Total 0 when absent or when
	// it is invalid: total 0, part 0 or part > total are ignored, as TS
	// 23.040 asks).
	Concat Concat
	// Locking and Single are the national language shift tables named by
	// IEs 0x25 and 0x24 (LangDefault when absent).
	Locking, Single Language
	// IEs are all elements in order, their data aliasing the input.
	IEs []IE
}

// ParseUDH parses the user data header at the start of b.
func ParseUDH(b []byte) (UDH, error) {
	var u UDH
	if len(b) == 0 || int(b[0])+1 > len(b) {
		return u, ErrBadUDH
	}
	u.Len = int(b[0]) + 1
	h := b[1:u.Len]
	for len(h) > 0 {
		if len(h) < 2 || int(h[1])+2 > len(h) {
			return u, ErrBadUDH
		}
		ie := IE{ID: h[0], Data: h[2 : 2+int(h[1]) : 2+int(h[1])]}
		h = h[2+int(h[1]):]
		u.IEs = append(u.IEs, ie)
		d := ie.Data
		switch {
		case ie.ID == IEConcat8 && len(d) == 3:
			u.Concat = Concat{Ref: uint16(d[0]), Total: d[1], Seq: d[2]}
		case ie.ID == IEConcat16 && len(d) == 4:
			u.Concat = Concat{Ref: uint16(d[0])<<8 | uint16(d[1]), Total: d[2], Seq: d[3], Wide: true}
		case ie.ID == IESingleShift && len(d) == 1:
			u.Single = Language(d[0])
		case ie.ID == IELockingShift && len(d) == 1:
			u.Locking = Language(d[0])
		}
	}
	if c := u.Concat; c.Total == 0 || c.Seq == 0 || c.Seq > c.Total {
		u.Concat = Concat{}
	}
	return u, nil
}

// udhLen returns the UDH length (incl. UDHL) for a concatenation IE of
// kind m plus shiftIEs shift IEs, or 0 when nothing goes into a header.
func udhLen(m Method, concat bool, shiftIEs int) int {
	n := 3 * shiftIEs
	if concat {
		switch m {
		case SplitUDH8:
			n += 5
		case SplitUDH16:
			n += 6
		}
	}
	if n == 0 {
		return 0
	}
	return n + 1
}

// appendUDH appends a UDH with an optional concatenation IE and the shift
// IEs for lock/shift.
func appendUDH(dst []byte, m Method, concat bool, ref uint16, total, seq int, lock, shift Language) []byte {
	ies := 0
	if lock != 0 {
		ies++
	}
	if shift != 0 {
		ies++
	}
	n := udhLen(m, concat, ies)
	if n == 0 {
		return dst
	}
	dst = append(dst, byte(n-1))
	if concat {
		switch m {
		case SplitUDH8:
			dst = append(dst, IEConcat8, 3, byte(ref), byte(total), byte(seq))
		case SplitUDH16:
			dst = append(dst, IEConcat16, 4, byte(ref>>8), byte(ref), byte(total), byte(seq))
		}
	}
	if lock != 0 {
		dst = append(dst, IELockingShift, 1, byte(lock))
	}
	if shift != 0 {
		dst = append(dst, IESingleShift, 1, byte(shift))
	}
	return dst
}

package text

// FillBits returns the number of fill bits TS 23.040 §9.2.3.24 requires
// between a UDH of udhLen octets (including the UDHL octet) and 7-bit text,
// so that the first character starts on a septet boundary.
func FillBits(udhLen int) int {
	if udhLen <= 0 {
		return 0
	}
	return (7 - (udhLen*8)%7) % 7
}

// Pack packs septets (one per octet, high bit ignored) into octets, starting
// after fill zero bits, and returns the octets appended to dst. When the
// packed data leaves 7 spare bits in the last octet, a CR is put there as TS
// 23.038 §6.1.2.3.1 asks, so a receiver does not read a stray '@'.
func Pack(dst, septets []byte, fill int) []byte {
	var acc uint32
	n := fill
	for _, s := range septets {
		acc |= uint32(s&0x7F) << n
		n += 7
		if n >= 8 {
			dst = append(dst, byte(acc))
			acc >>= 8
			n -= 8
		}
	}
	if n > 0 {
		if n == 1 && len(septets) > 0 {
			acc |= 0x0D << 1 // CR padding in the 7 spare bits
		}
		dst = append(dst, byte(acc))
	}
	return dst
}

// PackedLen returns the number of octets Pack produces for n septets after
// fill bits.
func PackedLen(n, fill int) int { return (n*7 + fill + 7) / 8 }

// Unpack unpacks n septets from packed data that starts with fill bits and
// appends them to dst, one per octet. With n < 0 the count is inferred from
// len(packed): every whole septet is taken, and a trailing CR that only
// occupies the 7 spare bits of the last octet is dropped as padding (a CR the
// sender meant is indistinguishable there and is dropped too).
func Unpack(dst, packed []byte, fill, n int) []byte {
	if fill >= 8 {
		if fill/8 >= len(packed) {
			return dst
		}
		packed, fill = packed[fill/8:], fill%8
	}
	bits := len(packed)*8 - fill
	if bits < 0 {
		return dst
	}
	infer := n < 0
	if infer || n*7 > bits {
		n = bits / 7
	}
	var acc uint32
	have := 0
	i := 0
	// skip fill bits
	if fill > 0 && len(packed) > 0 {
		acc = uint32(packed[0]) >> fill
		have = 8 - fill
		i = 1
	}
	for k := 0; k < n; k++ {
		if have < 7 {
			acc |= uint32(packed[i]) << have
			i++
			have += 8
		}
		dst = append(dst, byte(acc&0x7F))
		acc >>= 7
		have -= 7
	}
	if infer && n > 0 && dst[len(dst)-1] == 0x0D && PackedLen(n-1, fill) == len(packed) {
		dst = dst[:len(dst)-1]
	}
	return dst
}

package smpp

import "math/bits"

// pendingCalls maps sequence numbers to outstanding calls. Sequence numbers
// are handed out one after the other and at most a window's worth are
// outstanding, so a ring indexed by the low bits of the number almost
// always has the slot free; a call whose slot is still held by a much older
// one (a slow response) goes to an overflow map. The caller holds the
// session's pmu.
type pendingCalls struct {
	ring     []*call
	mask     uint32
	overflow map[uint32]*call
	n        int
	closed   bool
}

func newPendingCalls(window int) *pendingCalls {
	size := uint32(1) << bits.Len32(uint32(max(window, 1))*4-1)
	return &pendingCalls{ring: make([]*call, size), mask: size - 1}
}

func (p *pendingCalls) put(c *call) {
	i := c.seq & p.mask
	if p.ring[i] == nil {
		p.ring[i] = c
	} else {
		if p.overflow == nil {
			p.overflow = map[uint32]*call{}
		}
		p.overflow[c.seq] = c
	}
	p.n++
}

// take removes and returns the call with seq, if pending.
func (p *pendingCalls) take(seq uint32) *call {
	i := seq & p.mask
	if c := p.ring[i]; c != nil && c.seq == seq {
		p.ring[i] = nil
		p.n--
		return c
	}
	if c, ok := p.overflow[seq]; ok {
		delete(p.overflow, seq)
		p.n--
		return c
	}
	return nil
}

// each calls f for every pending call; f may take the call it is given.
func (p *pendingCalls) each(f func(c *call)) {
	for _, c := range p.ring {
		if c != nil {
			f(c)
		}
	}
	for _, c := range p.overflow {
		f(c)
	}
}

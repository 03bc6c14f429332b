package text

import (
	"sync"
	"time"
)

// Part is one incoming short message (deliver_sm or data_sm) as the
// session layer sees it.
type Part struct {
	Source, Dest string // source_addr and destination_addr
	DataCoding   byte
	UDHI         bool   // esm_class 0x40
	Data         []byte // short_message, or message_payload when present
	SAR          *SAR   // from the three SAR TLVs, when all are present
}

// Reassembled is a whole message, or what arrived of it.
type Reassembled struct {
	Source, Dest string
	Text         string
	Coding       Coding
	DataCoding   byte
	// Units is the user data of all parts in order, without UDHs:
	// unpacked septets for GSM7, octets otherwise (the data itself for
	// Binary).
	Units []byte
	// Ref and Total come from the concatenation IE or the SAR TLVs; Total
	// is 1 for a message that was not split.
	Ref   uint16
	Total int
	// Missing lists the part numbers that never arrived (Incomplete only).
	Missing []int
	// Incomplete is set when the message timed out or was evicted before
	// every part arrived; Text then holds the parts that did.
	Incomplete bool
	// Err is a decoding error (ErrBinary for 8-bit data, ErrUnsupported).
	Err error
}

// Defaults for Reassembler limits.
const (
	DefaultReassemblyTimeout = 5 * time.Minute
	DefaultMaxPending        = 4096
	DefaultMaxPendingBytes   = 8 << 20
)

type reKey struct {
	src, dst string
	ref      uint16
	total    uint8
	kind     uint8 // 0 UDH 8-bit, 1 UDH 16-bit, 2 SAR
}

type pending struct {
	key             reKey
	dc              byte
	coding          Coding
	locking, single Language
	parts           [][]byte
	got             int
	bytes           int
	first           time.Time
	seq             uint64
}

// Reassembler joins the segments of long incoming messages. Parts are keyed
// by source and destination address, reference, part count and kind (UDH
// 8-bit, UDH 16-bit, SAR), so two senders' messages never mix. Parts may
// come in any order; duplicates are ignored, also when they arrive up to
// Timeout after their message completed (an SMSC resending a deliver_sm). Incomplete messages are
// returned by Expire once Timeout has passed since their first part, and the
// oldest are evicted when MaxPending messages or MaxBytes octets are pending.
// A Reassembler is safe for concurrent use; configure it before first use.
type Reassembler struct {
	// Codec says how to read data_coding 0 and GSM 7-bit packing.
	Codec *Codec
	// Timeout, MaxPending and MaxBytes default to the Default… constants.
	Timeout    time.Duration
	MaxPending int
	MaxBytes   int
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu      sync.Mutex
	m       map[reKey]*pending
	bytes   int
	seq     uint64
	evicted []Reassembled
	done    map[reKey]time.Time // recently completed, to drop late duplicates
}

func (r *Reassembler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Add takes one part. When it completes a message (or is a message on its
// own) it returns the message and true. The error is for a malformed UDH.
func (r *Reassembler) Add(p Part) (Reassembled, bool, error) {
	c := r.Codec
	if c == nil {
		c = &Codec{}
	}
	coding := CodingOf(p.DataCoding, c.dc0())
	var udh UDH
	if p.UDHI {
		var err error
		if udh, err = ParseUDH(p.Data); err != nil {
			return Reassembled{}, false, err
		}
	}
	units := p.Data[udh.Len:]
	if coding == GSM7 && c.Packed {
		units = Unpack(make([]byte, 0, len(units)*8/7+1), units, FillBits(udh.Len), -1)
	}
	var k reKey
	var seq int
	switch {
	case udh.Concat.Total > 0:
		k = reKey{src: p.Source, dst: p.Dest, ref: udh.Concat.Ref, total: udh.Concat.Total}
		if udh.Concat.Wide {
			k.kind = 1
		}
		seq = int(udh.Concat.Seq)
	case p.SAR != nil && p.SAR.Total > 0 && p.SAR.Seq > 0 && p.SAR.Seq <= p.SAR.Total:
		k = reKey{src: p.Source, dst: p.Dest, ref: p.SAR.Ref, total: p.SAR.Total, kind: 2}
		seq = int(p.SAR.Seq)
	}
	if seq == 0 || k.total == 1 {
		msg := Reassembled{Source: p.Source, Dest: p.Dest, Coding: coding, DataCoding: p.DataCoding,
			Units: append([]byte(nil), units...), Ref: k.ref, Total: 1}
		msg.Text, msg.Err = decodeText(msg.Units, coding, udh.Locking, udh.Single)
		return msg, true, nil
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[reKey]*pending)
	}
	now := r.now()
	if t, ok := r.done[k]; ok {
		if now.Sub(t) < r.timeout() {
			return Reassembled{}, false, nil // late duplicate of a completed message
		}
		delete(r.done, k)
	}
	pm := r.m[k]
	if pm == nil {
		pm = &pending{key: k, dc: p.DataCoding, coding: coding, parts: make([][]byte, k.total), first: now, seq: r.seq}
		r.seq++
		r.m[k] = pm
	}
	if udh.Locking != 0 {
		pm.locking = udh.Locking
	}
	if udh.Single != 0 {
		pm.single = udh.Single
	}
	if pm.parts[seq-1] != nil {
		return Reassembled{}, false, nil // duplicate
	}
	cp := make([]byte, len(units))
	copy(cp, units)
	pm.parts[seq-1] = cp
	pm.got++
	pm.bytes += len(units)
	r.bytes += len(units)
	if pm.got == len(pm.parts) {
		r.remove(pm)
		if r.done == nil || len(r.done) >= r.maxPending() {
			r.done = make(map[reKey]time.Time)
		}
		r.done[k] = now
		return pm.result(false), true, nil
	}
	r.evict()
	return Reassembled{}, false, nil
}

func (r *Reassembler) remove(pm *pending) {
	delete(r.m, pm.key)
	r.bytes -= pm.bytes
}

// evict drops the oldest pending messages while over a limit.
func (r *Reassembler) evict() {
	maxN, maxB := r.maxPending(), r.MaxBytes
	if maxB <= 0 {
		maxB = DefaultMaxPendingBytes
	}
	for len(r.m) > maxN || r.bytes > maxB {
		var oldest *pending
		for _, pm := range r.m {
			if oldest == nil || pm.seq < oldest.seq {
				oldest = pm
			}
		}
		r.remove(oldest)
		r.evicted = append(r.evicted, oldest.result(true))
	}
}

func (r *Reassembler) maxPending() int {
	if r.MaxPending <= 0 {
		return DefaultMaxPending
	}
	return r.MaxPending
}

func (r *Reassembler) timeout() time.Duration {
	if r.Timeout <= 0 {
		return DefaultReassemblyTimeout
	}
	return r.Timeout
}

// Expire returns the messages whose first part arrived Timeout or longer
// before now, and those evicted for memory since the last call, with what
// arrived of them (Incomplete set), and forgets them. Call it periodically.
func (r *Reassembler) Expire(now time.Time) []Reassembled {
	timeout := r.timeout()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.evicted
	r.evicted = nil
	for _, pm := range r.m {
		if now.Sub(pm.first) >= timeout {
			r.remove(pm)
			out = append(out, pm.result(true))
		}
	}
	for k, t := range r.done {
		if now.Sub(t) >= timeout {
			delete(r.done, k)
		}
	}
	return out
}

// Pending returns the number of incomplete messages held.
func (r *Reassembler) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m)
}

func (pm *pending) result(incomplete bool) Reassembled {
	msg := Reassembled{Source: pm.key.src, Dest: pm.key.dst, Coding: pm.coding, DataCoding: pm.dc,
		Ref: pm.key.ref, Total: len(pm.parts), Incomplete: incomplete}
	units := make([]byte, 0, pm.bytes)
	for i, p := range pm.parts {
		if p == nil {
			msg.Missing = append(msg.Missing, i+1)
			continue
		}
		units = append(units, p...)
	}
	msg.Units = units
	msg.Text, msg.Err = decodeText(units, pm.coding, pm.locking, pm.single)
	return msg
}

func decodeText(units []byte, c Coding, lock, shift Language) (string, error) {
	buf, err := appendDecoded(make([]byte, 0, len(units)+len(units)/2), units, c, lock, shift)
	return string(buf), err
}

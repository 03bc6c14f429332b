package sqlite

import "strconv"

// freshIDs answers Apply's "is this id already stored?" without a query
// for the ids a gateway makes: a number whose high 32 bits are an epoch
// this Store's NextEpoch returned in this process (the gateway's message
// ids are that number in hex, its delivery ids the number itself). No such
// id can be in the tables from before, since the epoch is new, so a bit per
// id taken since is the whole answer. Other ids are looked up.
//
// So that the bits do not pile up for as long as the process runs, ids
// below a floor are no longer tracked here (see trim): they count as not
// fresh, and are looked up like any other id. The floor never passes an id
// of a batch the tables do not have yet, so a lookup finds what it must.
type freshIDs struct {
	epochs map[uint32]*freshBits
	floor  uint64 // ids below are not tracked
	top    uint64 // the highest id set
}

// freshBits are an epoch's bits: bits[i] holds the ids (base+i)*64 … +63.
type freshBits struct {
	base uint32
	bits []uint64
}

// fresh reports whether id is tracked here.
func (f *freshIDs) fresh(id uint64) bool {
	_, ok := f.epochs[uint32(id>>32)]
	return ok && id >= f.floor
}

// freshMessage parses a message id made by formatting a fresh id in hex.
func (f *freshIDs) freshMessage(id string) (uint64, bool) {
	if len(id) == 0 || len(id) > 16 || id[0] == '0' {
		return 0, false
	}
	n, err := strconv.ParseUint(id, 16, 64)
	if err != nil || !f.fresh(n) {
		return 0, false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c >= 'A' && c <= 'F' {
			return 0, false // not as strconv.FormatUint writes it
		}
	}
	return n, true
}

func (f *freshIDs) has(id uint64) bool {
	b := f.epochs[uint32(id>>32)]
	w := uint32(id) / 64
	if b == nil || w < b.base || int(w-b.base) >= len(b.bits) {
		return false
	}
	return b.bits[w-b.base]&(1<<(id%64)) != 0
}

func (f *freshIDs) set(id uint64, on bool) {
	b := f.epochs[uint32(id>>32)]
	if b == nil {
		return
	}
	w := uint32(id) / 64
	if w < b.base {
		return // below the floor (fresh said no)
	}
	i := int(w - b.base)
	if i >= len(b.bits) {
		if !on {
			return
		}
		b.bits = append(b.bits, make([]uint64, i+1-len(b.bits))...)
	}
	if on {
		b.bits[i] |= 1 << (id % 64)
		f.top = max(f.top, id)
	} else {
		b.bits[i] &^= 1 << (id % 64)
	}
}

func (f *freshIDs) add(epoch uint32) {
	if f.epochs == nil {
		f.epochs = make(map[uint32]*freshBits)
	}
	if _, ok := f.epochs[epoch]; !ok {
		f.epochs[epoch] = &freshBits{}
	}
}

// trim stops tracking the ids below floor, which must not be above any id
// in a batch the tables do not have yet; 0 means none is pending, and
// then every id set so far goes.
func (f *freshIDs) trim(floor uint64) {
	if floor == 0 {
		floor = f.top + 1
	}
	if floor <= f.floor {
		return
	}
	f.floor = floor
	fe, fw := uint32(floor>>32), uint32(floor)/64
	for e, b := range f.epochs {
		switch {
		case e < fe:
			b.base, b.bits = 0, nil
		case e == fe && fw > b.base:
			drop := min(int(fw-b.base), len(b.bits))
			b.bits = b.bits[drop:]
			b.base = fw
			if len(b.bits) == 0 {
				b.bits = nil // let the old array go
			}
		}
	}
}

package sqlite

import "strconv"

// freshIDs answers Apply's "is this id already stored?" without a query
// for the ids a gateway makes: a number whose high 32 bits are an epoch
// this Store's NextEpoch returned in this process (the gateway's message
// ids are that number in hex, its delivery ids the number itself). No such
// id can be in the tables from before, since the epoch is new, so a bit per
// id taken since is the whole answer. Other ids are looked up.
type freshIDs struct {
	epochs map[uint32][]uint64 // epoch → bit n set: id epoch<<32|n is stored
}

// fresh reports whether id belongs to a fresh epoch.
func (f *freshIDs) fresh(id uint64) bool {
	_, ok := f.epochs[uint32(id>>32)]
	return ok
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
	bits := f.epochs[uint32(id>>32)]
	n := uint32(id)
	return int(n/64) < len(bits) && bits[n/64]&(1<<(n%64)) != 0
}

func (f *freshIDs) set(id uint64, on bool) {
	e, n := uint32(id>>32), uint32(id)
	bits := f.epochs[e]
	if int(n/64) >= len(bits) {
		if !on {
			return
		}
		bits = append(bits, make([]uint64, int(n/64)+1-len(bits)+len(bits)/4)...)
		f.epochs[e] = bits
	}
	if on {
		bits[n/64] |= 1 << (n % 64)
	} else {
		bits[n/64] &^= 1 << (n % 64)
	}
}

func (f *freshIDs) add(epoch uint32) {
	if f.epochs == nil {
		f.epochs = make(map[uint32][]uint64)
	}
	if _, ok := f.epochs[epoch]; !ok {
		f.epochs[epoch] = nil
	}
}

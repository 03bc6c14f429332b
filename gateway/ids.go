package gateway

import (
	"strconv"
	"sync"
	"sync/atomic"
)

// ids hands out message and delivery ids unique across restarts: the
// store's epoch (a number it never returns twice) in the high 32 bits, a
// counter in the low ones. Message ids are written in hexadecimal, which
// keeps them short (9 characters for the first epochs).
type ids struct {
	mu    sync.Mutex
	next  func() (uint32, error)
	msg   atomic.Uint64
	dlv   atomic.Uint64
	limit atomic.Uint64 // first value of the next epoch
}

func newIDs(epoch uint32, next func() (uint32, error)) *ids {
	i := &ids{next: next}
	i.start(epoch)
	return i
}

func (i *ids) start(epoch uint32) {
	base := uint64(epoch) << 32
	i.msg.Store(base)
	i.dlv.Store(base)
	i.limit.Store(base + 1<<32)
}

func (i *ids) take(c *atomic.Uint64) uint64 {
	for {
		n := c.Add(1)
		if n < i.limit.Load() {
			return n
		}
		// 4 billion ids in one run: move to a fresh epoch.
		i.mu.Lock()
		if c.Load() >= i.limit.Load() {
			if e, err := i.next(); err == nil {
				i.start(e)
			}
		}
		i.mu.Unlock()
	}
}

func (i *ids) message() string  { return strconv.FormatUint(i.take(&i.msg), 16) }
func (i *ids) delivery() uint64 { return i.take(&i.dlv) }

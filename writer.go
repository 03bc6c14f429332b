package smpp

import (
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/smppkit/smpp/pdu"
)

// writer is a session's outbound half. Whoever sends a PDU encodes it onto
// one queue (put); whichever goroutine flushes then writes everything queued
// in one system call: the writer goroutine when kicked, a caller that has
// just filled the window, or the reader at the end of a batch. One system
// call for many PDUs is what makes throughput.
type writer struct {
	conn  net.Conn
	stats *counters

	mu  sync.Mutex // guards buf, enc, err and stats.sentN
	buf []byte
	enc pdu.Encoder
	err error // once set, put refuses everything

	io    sync.Mutex // serialises writes to conn; guards spare
	spare []byte

	kickCh chan struct{}
	// hold is set while the reader has more PDUs buffered: what is queued
	// meanwhile waits for the end of the batch, so a batch of requests
	// gets its responses in as few writes as possible.
	hold atomic.Bool
	// started is the session's clock (unix nanos) when the current write
	// began, 0 when none is under way: the timer closes a session whose
	// peer stopped reading.
	started atomic.Int64
}

func newWriter(conn net.Conn, stats *counters) writer {
	return writer{
		conn:  conn,
		stats: stats,
		// No buffers yet: an idle session (most of a gateway's) never
		// needs 32 KiB for them; a busy one grows them once and keeps them.
		kickCh: make(chan struct{}, 1),
	}
}

// put encodes p onto the queue and counts it as sent. If release is not
// nil it is decremented (whatever the outcome) before the queue can be
// written out: a response releases its request's inbound slot only once it
// is queued, so that nothing queued after the slot is free (an unbind) goes
// out before it, and no later than that, so that a peer which sends its
// next request on seeing the response never finds the slot still taken.
func (w *writer) put(p pdu.PDU, release *atomic.Int32) error {
	return w.putThen(p, release, nil)
}

// putThen is put that also calls then, if not nil, under the queue's lock
// once p is queued: whatever then does is done before the peer can have p,
// and before anything queued after p.
func (w *writer) putThen(p pdu.PDU, release *atomic.Int32, then func()) error {
	w.mu.Lock()
	err := w.err
	if err == nil {
		var buf []byte
		buf, err = w.enc.Append(w.buf, p)
		w.buf = buf
		if err == nil {
			w.stats.sent(p.CommandID(), p.Head().CommandStatus)
		}
	}
	if release != nil {
		release.Add(-1)
	}
	if then != nil && err == nil {
		then()
	}
	w.mu.Unlock()
	return err
}

// fail makes every later put return err (the first reason given stays);
// what is queued already still goes out.
func (w *writer) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

// kick wakes the writer goroutine.
func (w *writer) kick() {
	select {
	case w.kickCh <- struct{}{}:
	default:
	}
}

// queued returns the octets waiting to be written.
func (w *writer) queued() int {
	w.mu.Lock()
	n := len(w.buf)
	w.mu.Unlock()
	return n
}

// gather gives the goroutines that woke the writer a moment to queue more,
// yielding while more keeps arriving, up to 32 KiB.
func (w *writer) gather() {
	for n, i := w.queued(), 0; i < 64 && n < 32<<10; i++ {
		runtime.Gosched()
		m := w.queued()
		if m == n {
			break
		}
		n = m
	}
}

// sentCounts returns a copy of the PDUs-sent counters (guarded by mu).
func (w *writer) sentCounts() [64]uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats.sentN
}

// flushLocked writes the queued octets in one system call; w.io is held.
// now is the session's clock. A failed write fails the writer; the caller
// closes the session.
func (w *writer) flushLocked(now int64) error {
	w.mu.Lock()
	buf := w.buf
	w.buf = w.spare[:0]
	w.mu.Unlock()
	if len(buf) == 0 {
		w.spare = buf
		return nil
	}
	w.started.Store(now)
	_, err := w.conn.Write(buf)
	w.started.Store(0)
	w.stats.writes.Add(1)
	w.stats.bytesWritten.Add(uint64(len(buf)))
	w.spare = buf
	if err != nil {
		w.fail(fmt.Errorf("%w: write: %w", ErrClosed, err))
	}
	return err
}

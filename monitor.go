package smpp

import (
	"sync"
	"sync/atomic"
	"time"
)

// Handlers run on the session's reader goroutine while they are quick: that
// saves a goroutine hand-off per request, which is most of the cost of a
// request when the handler answers from memory. To keep a slow handler (a
// backend call, a store write, a handler that waits for the peer) from
// holding up its session, one process-wide monitor looks every two
// milliseconds at the sessions whose reader is inside a handler; a reader
// found in the same handler call for slowAfter has a slow handler (a reader
// merely descheduled on a busy machine is seldom away that long: the Go
// scheduler's time slice is 10 ms). The monitor then starts a new reader for
// that session and switches it to worker goroutines for good; the stuck
// reader exits when its handler returns.
//
// The reader also writes, at the end of each batch it has read (one
// goroutine switch fewer than waking the writer). A write blocks when the
// peer does not read; if that peer is blocked writing to us in the same way,
// neither would ever read again. So the monitor treats a reader stuck in a
// write like one stuck in a handler: a new reader takes over and reading
// goes on, while the old one finishes its write and exits. (Sessions without
// a handler are not watched; their timer does the same, a tick later.)

// reader states
const (
	readerReading int32 = iota
	readerInHandler
	readerWriting
	readerTakenOver
)

const (
	monitorTick = 2 * time.Millisecond
	slowAfter   = 10 * time.Millisecond
)

// readerState is one reader goroutine's state, for the monitor. Each reader
// has its own, so a reader that has been replaced can never take its
// successor's state (in a handler, writing) for its own.
type readerState struct {
	state atomic.Int32
	epoch atomic.Uint32 // counts the reader's handler calls and writes
	// the reader's own (see counters.received)
	recvIdx int
	recvRun uint64
}

// busy marks the start of a handler call or a write.
func (rs *readerState) busy(state int32) {
	rs.epoch.Add(1)
	rs.state.Store(state)
}

// idle marks its end; false means another reader took over meanwhile.
func (rs *readerState) idle(state int32) bool {
	return rs.state.CompareAndSwap(state, readerReading)
}

// seen is what the monitor last saw of a session: its reader, the handler
// call or write (epoch) it was in, and for how many ticks.
type seen struct {
	rs    *readerState
	epoch uint32
	ticks int
}

var monitor struct {
	mu       sync.Mutex
	sessions map[*Session]seen
	running  bool
}

// watch adds a session to the monitor, starting the monitor if needed.
func watch(s *Session) {
	monitor.mu.Lock()
	defer monitor.mu.Unlock()
	if monitor.sessions == nil {
		monitor.sessions = map[*Session]seen{}
	}
	monitor.sessions[s] = seen{}
	if !monitor.running {
		monitor.running = true
		go monitorLoop()
	}
}

func unwatch(s *Session) {
	monitor.mu.Lock()
	delete(monitor.sessions, s)
	monitor.mu.Unlock()
}

func monitorLoop() {
	t := time.NewTicker(monitorTick)
	defer t.Stop()
	for range t.C {
		monitor.mu.Lock()
		if len(monitor.sessions) == 0 {
			monitor.running = false
			monitor.mu.Unlock()
			return
		}
		for s, last := range monitor.sessions {
			rs := s.reading.Load()
			if rs == nil {
				continue
			}
			if st := rs.state.Load(); st != readerInHandler && st != readerWriting {
				if last.ticks != 0 {
					monitor.sessions[s] = seen{}
				}
				continue
			}
			epoch := rs.epoch.Load()
			if rs != last.rs || epoch != last.epoch {
				monitor.sessions[s] = seen{rs: rs, epoch: epoch, ticks: 1}
				continue
			}
			if time.Duration(last.ticks)*monitorTick < slowAfter {
				monitor.sessions[s] = seen{rs: rs, epoch: epoch, ticks: last.ticks + 1}
				continue
			}
			monitor.sessions[s] = seen{}
			s.takeOver(rs)
		}
		monitor.mu.Unlock()
	}
}

// takeOver starts a new reader for a session whose reader is stuck in a
// handler, and moves the session's handling to workers; or, for a reader
// stuck in a write, just starts a new reader.
func (s *Session) takeOver(rs *readerState) {
	if s.takeOverWriter(rs) {
		return
	}
	if s.concurrent.Load() {
		return // (handlers already run on workers)
	}
	s.concurrent.Store(true)
	if rs.state.CompareAndSwap(readerInHandler, readerTakenOver) {
		s.log.Info("a handler is slow; this session's requests go to worker goroutines from now on", "after", slowAfter)
		s.stats.takeovers.Add(1)
		go s.readLoop()
	}
}

// takeOverWriter starts a new reader if the current one is blocked in a
// write, and reports whether it did. Sessions without a handler are not
// watched by the monitor (its ticks cost a busy client a few per cent); their
// timer goroutine calls this once the reader has been writing for a tick.
func (s *Session) takeOverWriter(rs *readerState) bool {
	if !rs.state.CompareAndSwap(readerWriting, readerTakenOver) {
		return false
	}
	s.log.Debug("the peer is slow to read; a new reader goes on reading")
	s.stats.takeovers.Add(1)
	go s.readLoop()
	return true
}

package smpp

import (
	"sync"
	"sync/atomic"
	"time"
)

// In HandleAuto, handlers run on the session's reader goroutine while they
// are quick: that saves a goroutine hand-off per request, which is most of
// the cost of a request when the handler answers from memory. To keep a
// slow handler (a backend call, a store write, a handler that waits for the
// peer) from holding up its session, one process-wide monitor looks every
// two milliseconds at the sessions whose reader has lately been inside a
// handler, and moves a session to worker goroutines for good, starting a
// new reader for it (the stuck one exits when its handler returns), when
//
//   - its reader has been in the same handler call for slowAfter (a reader
//     merely descheduled on a busy machine is seldom away that long: the Go
//     scheduler's time slice is 10 ms); or
//   - for slowRun (and as many ticks as slowRun has, at least), at every
//     tick, its reader was in a handler with requests waiting behind it,
//     and the handler calls it made meanwhile took slowCall or more each
//     on average: a handler that is slow again
//     and again but each time below slowAfter (1 ms, 3 ms) would otherwise
//     cap its session at a few hundred requests a second. The reader's
//     count of handler calls (its epoch) gives the average without a clock
//     reading on the hot path: a handler answering from memory makes
//     thousands of calls per slowRun.
//
// A session is on the monitor's list only while it is active: the reader
// puts it there when it enters a handler and finds it absent (one atomic
// load per request), and the monitor drops it once its reader has been
// outside any handler for leaveAfter. Idle sessions cost the monitor
// nothing, and with no session on the list the monitor goroutine exits.
//
// The reader also writes, at the end of each batch it has read (one
// goroutine switch fewer than waking the writer). A write blocks when the
// peer does not read; if that peer is blocked writing to us in the same way,
// neither would ever read again. So the monitor treats a reader stuck in a
// write like one stuck in a handler: a new reader takes over and reading
// goes on, while the old one finishes its write and exits. (For sessions not
// on the list, the session's timer does the same, a tick later.)

// reader states
const (
	readerReading int32 = iota
	readerInHandler
	readerInHandlerQueued // in a handler, with requests buffered behind it
	readerWriting
	readerTakenOver
)

const (
	monitorTick = 2 * time.Millisecond
	slowAfter   = 10 * time.Millisecond
	slowRun     = 10 * time.Millisecond
	slowCall    = 500 * time.Microsecond
	leaveAfter  = 100 * time.Millisecond
)

// readerState is one reader goroutine's state, for the monitor. Each reader
// has its own, so a reader that has been replaced can never take its
// successor's state (in a handler, writing) for its own.
type readerState struct {
	state atomic.Int32
	epoch atomic.Uint32 // counts the reader's handler calls and writes
	// the reader's own:
	queued  bool // a whole PDU is buffered behind the one being handled
	recvIdx int  // (see counters.received)
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

func inHandler(state int32) bool { return state == readerInHandler || state == readerInHandlerQueued }

// seen is what the monitor has seen of a session.
type seen struct {
	rs    *readerState
	epoch uint32 // at the last tick
	stuck int    // ticks in the same handler call or write
	// the current run of ticks in a handler with requests queued
	runTicks int
	runEpoch uint32
	runStart time.Time
	idleFrom time.Time // when the reader was first seen outside a handler; zero while in one
}

var monitor struct {
	mu       sync.Mutex
	sessions map[*Session]*seen
	running  bool
}

// watch puts a session on the monitor's list, starting the monitor if
// needed.
func watch(s *Session) {
	monitor.mu.Lock()
	defer monitor.mu.Unlock()
	if monitor.sessions == nil {
		monitor.sessions = map[*Session]*seen{}
	}
	if _, ok := monitor.sessions[s]; !ok {
		monitor.sessions[s] = &seen{}
	}
	s.watched.Store(true)
	if !monitor.running {
		monitor.running = true
		go monitorLoop()
	}
}

func unwatch(s *Session) {
	if !s.watched.Load() {
		return
	}
	monitor.mu.Lock()
	delete(monitor.sessions, s)
	s.watched.Store(false)
	monitor.mu.Unlock()
}

// watching returns the number of sessions on the monitor's list.
func watching() int {
	monitor.mu.Lock()
	defer monitor.mu.Unlock()
	return len(monitor.sessions)
}

func monitorLoop() {
	t := time.NewTicker(monitorTick)
	defer t.Stop()
	for now := range t.C {
		monitor.mu.Lock()
		if len(monitor.sessions) == 0 {
			monitor.running = false
			monitor.mu.Unlock()
			return
		}
		for s, last := range monitor.sessions {
			if look(s, last, now) {
				delete(monitor.sessions, s)
			}
		}
		monitor.mu.Unlock()
	}
}

// look is one tick's look at a session; it reports whether the session
// leaves the list. monitor.mu is held.
func look(s *Session, last *seen, now time.Time) (leave bool) {
	rs := s.reading.Load()
	if rs == nil {
		return false
	}
	if rs != last.rs {
		*last = seen{rs: rs}
	}
	st := rs.state.Load()
	if !inHandler(st) && st != readerWriting {
		last.stuck, last.runTicks = 0, 0
		if last.idleFrom.IsZero() {
			last.idleFrom = now
		}
		if now.Sub(last.idleFrom) < leaveAfter && s.Err() == nil {
			return false
		}
		// Leave, unless the reader has just entered a handler: it
		// stores its state before it loads watched, this stores watched
		// before it loads the state, so one of the two sees the other.
		s.watched.Store(false)
		if inHandler(rs.state.Load()) && s.Err() == nil {
			s.watched.Store(true)
			last.idleFrom = time.Time{}
			return false
		}
		return true
	}
	last.idleFrom = time.Time{}
	epoch := rs.epoch.Load()
	if epoch == last.epoch && last.stuck > 0 {
		last.stuck++
	} else {
		last.stuck = 1
	}
	last.epoch = epoch
	if time.Duration(last.stuck-1)*monitorTick >= slowAfter {
		*last = seen{}
		s.takeOver(rs, st, "a handler call took over "+slowAfter.String())
		return false
	}
	if st != readerInHandlerQueued {
		last.runTicks = 0
		return false
	}
	if last.runTicks == 0 {
		last.runTicks, last.runEpoch, last.runStart = 1, epoch, now
		return false
	}
	last.runTicks++
	// Enough ticks, not just enough time: one long stall of the whole
	// process (a GC pause, the machine busy elsewhere) must not pass for
	// slow handler calls; the calls that follow it dilute it.
	if d := now.Sub(last.runStart); d >= slowRun && last.runTicks > int(slowRun/monitorTick) {
		if calls := epoch - last.runEpoch; calls == 0 || d/time.Duration(calls) >= slowCall {
			*last = seen{}
			s.takeOver(rs, st, "handler calls took "+slowCall.String()+" or more each with requests waiting")
			return false
		}
		last.runTicks, last.runEpoch, last.runStart = 1, epoch, now
	}
	return false
}

// takeOver starts a new reader for a session whose reader is stuck in a
// handler (in state st), and moves the session's handling to workers; or,
// for a reader stuck in a write, just starts a new reader.
func (s *Session) takeOver(rs *readerState, st int32, why string) {
	if s.takeOverWriter(rs) {
		return
	}
	if s.concurrent.Load() {
		return // (handlers already run on workers)
	}
	s.concurrent.Store(true)
	s.log.Info("this session's requests go to worker goroutines from now on", "why", why)
	if rs.state.CompareAndSwap(st, readerTakenOver) {
		s.stats.takeovers.Add(1)
		go s.readLoop()
	}
}

// takeOverWriter starts a new reader if the current one is blocked in a
// write, and reports whether it did. Sessions not on the monitor's list
// have their timer goroutine call this once the reader has been writing
// for a tick.
func (s *Session) takeOverWriter(rs *readerState) bool {
	if !rs.state.CompareAndSwap(readerWriting, readerTakenOver) {
		return false
	}
	s.log.Debug("the peer is slow to read; a new reader goes on reading")
	s.stats.takeovers.Add(1)
	go s.readLoop()
	return true
}

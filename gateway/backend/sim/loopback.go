package sim

import (
	"bytes"
	"context"
	"time"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
)

const (
	// moAttempts bounds the calls to Events.Received for one MO (about
	// 1.3 s of back-off in all) before it is given up and counted lost.
	moAttempts = 8
	// esmGSMFeatures are esm_class's GSM network feature bits (UDHI 0x40,
	// reply path 0x80): the only ones an MO keeps from the submit, whose
	// messaging mode and message type bits mean nothing in a deliver_sm.
	esmGSMFeatures = 0xC0
)

// queueMO queues a delivered part for the loopback goroutine. It waits
// for room (so a slow gateway slows the simulator down rather than piling
// MOs up), unless ctx is done or the simulator stops.
func (s *Sim) queueMO(ctx context.Context, p *store.Message, at time.Time) {
	mo := &backend.MO{
		Source:     p.Source,
		Dest:       p.Dest,
		DataCoding: p.DataCoding,
		ESMClass:   p.ESMClass & esmGSMFeatures,
		Body:       bytes.Clone(p.Body),
		TLVs:       bytes.Clone(p.TLVs),
		At:         at,
	}
	select {
	case s.mo <- mo:
	case <-ctx.Done():
		s.lostMO.Add(1)
	case <-s.quit:
		s.lostMO.Add(1)
	}
}

// loop hands queued MOs to the gateway one at a time, in order, until
// Stop; then it hands over what is still queued and ends.
func (s *Sim) loop() {
	defer close(s.loopDone)
	for {
		select {
		case mo := <-s.mo:
			s.deliverMO(mo)
		case <-s.quit:
			for {
				select {
				case mo := <-s.mo:
					s.deliverMO(mo)
				default:
					return
				}
			}
		}
	}
}

// deliverMO calls Events.Received until it succeeds, with back-off, at
// most moAttempts times.
func (s *Sim) deliverMO(mo *backend.MO) {
	backoff := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		if s.ev.Received(s.ctx, mo) == nil {
			return
		}
		if attempt == moAttempts || s.ctx.Err() != nil {
			s.lostMO.Add(1)
			return
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			s.lostMO.Add(1)
			return
		}
		backoff *= 2
	}
}

// LostMO counts the loopback MO messages given up: the gateway refused
// them moAttempts times, or the simulator stopped before they were handed
// over.
func (s *Sim) LostMO() uint64 { return s.lostMO.Load() }

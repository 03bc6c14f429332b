package gateway

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/pdu"
)

// deliverer sends stored deliveries (receipts, MO messages) to their
// accounts as deliver_sm, over the account's bound receiver and
// transceiver sessions, keeping many in flight, and removes each from the
// store once the client has acknowledged it. One that fails (no bind, an
// error status, no answer) is tried again with back-off, across restarts,
// until it is acknowledged or older than the maximum age, when it is
// given up: logged and counted, never silently dropped.
type deliverer struct {
	g   *Gateway
	log *slog.Logger

	mu        sync.Mutex
	accounts  map[string]*outbox
	ready     []*outbox // outboxes that have deliveries and may send, from readyHead on
	readyHead int
	kick      chan struct{}
	stopped   chan struct{}
	done      chan struct{}

	waiting atomic.Int64 // deliveries not yet acknowledged
	givenUp atomic.Uint64

	batch []*store.Delivery // send's, reused

	// afterReceivers, if set (by tests), runs in send between looking up
	// the account's sessions and taking d.mu: where a bind can slip in.
	afterReceivers func()
}

// outbox holds one account's deliveries waiting to go out.
type outbox struct {
	account string
	items   []*store.Delivery
	head    int
	// queued: on the ready list; parked: nothing can take its deliveries
	// now (no receiver bound, every window full) until a bind or an
	// answer comes.
	queued, parked bool
	// gen counts answers and binds, so that send never parks an outbox
	// whose windows have had room made since it looked.
	gen  uint64
	next int // round robin over the sessions
}

func newDeliverer(g *Gateway) *deliverer {
	return &deliverer{g: g, log: g.log, accounts: map[string]*outbox{}, kick: make(chan struct{}, 1),
		stopped: make(chan struct{}), done: make(chan struct{})}
}

// enqueue takes a durably stored delivery.
func (d *deliverer) enqueue(dl *store.Delivery) {
	d.waiting.Add(1)
	d.add(dl)
}

func (d *deliverer) add(dl *store.Delivery) {
	d.mu.Lock()
	ob := d.accounts[dl.Account]
	if ob == nil {
		ob = &outbox{account: dl.Account}
		d.accounts[dl.Account] = ob
	}
	ob.items = append(ob.items, dl)
	wake := d.ready1(ob)
	d.mu.Unlock()
	if wake {
		d.wake()
	}
}

// ready1 puts ob on the ready list unless it is there or parked; d.mu is held.
func (d *deliverer) ready1(ob *outbox) bool {
	if ob.queued || ob.parked {
		return false
	}
	ob.queued = true
	d.ready = append(d.ready, ob)
	return true
}

func (d *deliverer) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// unpark makes an account's deliveries flow again: it has bound a
// receiver, or one of its deliveries was answered.
func (d *deliverer) unpark(account string) {
	d.mu.Lock()
	ob := d.accounts[account]
	wake := false
	if ob != nil {
		ob.gen++
	}
	if ob != nil && ob.parked {
		ob.parked = false
		wake = ob.head < len(ob.items) && d.ready1(ob)
	}
	d.mu.Unlock()
	if wake {
		d.wake()
	}
}

func (d *deliverer) run() {
	defer close(d.done)
	for {
		select {
		case <-d.kick:
		case <-d.stopped:
			return
		}
		for {
			d.mu.Lock()
			if d.readyHead == len(d.ready) {
				d.ready, d.readyHead = d.ready[:0], 0 // (reused, not reallocated)
				d.mu.Unlock()
				break
			}
			ob := d.ready[d.readyHead]
			d.ready[d.readyHead] = nil
			d.readyHead++
			ob.queued = false
			d.mu.Unlock()
			d.send(ob)
		}
	}
}

// send sends what it can of ob's deliveries. It holds d.mu only to take
// deliveries from the outbox and to put back those no window had room for:
// answers (which unpark the outbox) come on other goroutines meanwhile.
func (d *deliverer) send(ob *outbox) {
	// gen is read before the sessions are looked up: a bind told after
	// it (its unpark moves gen) may be missing from sessions, so it must
	// keep the outbox from parking.
	d.mu.Lock()
	gen := ob.gen
	d.mu.Unlock()
	sessions := d.receivers(ob.account)
	if d.afterReceivers != nil {
		d.afterReceivers()
	}
	d.mu.Lock()
	if len(sessions) == 0 {
		if ob.gen == gen {
			ob.parked = true
		} else if d.ready1(ob) {
			d.mu.Unlock()
			d.wake()
			return
		}
		d.mu.Unlock()
		return
	}
	// Take no more than the windows have room for (at least one, to
	// find out when none has): what cannot go out now goes back, and
	// taking a thousand to send one made every answer cost a thousand.
	room := 0
	for _, s := range sessions {
		room += max(s.OutboundWindow()-s.InFlight(), 0)
	}
	n := min(len(ob.items)-ob.head, max(room, 1), 1024)
	// (d.batch is only used here, on run's goroutine.)
	batch := append(d.batch[:0], ob.items[ob.head:ob.head+n]...)
	clear(ob.items[ob.head : ob.head+n])
	ob.head += n
	d.mu.Unlock()

	sent, full := 0, 0
	// The deliver_sm for batch[sent] and its callback, made once however
	// many sessions are tried with it.
	var p *pdu.DeliverSM
	var answered func(pdu.PDU, error)
	for sent < len(batch) && full < len(sessions) {
		dl := batch[sent]
		s := sessions[ob.next%len(sessions)]
		ob.next++
		if s.InFlight() >= s.OutboundWindow() {
			full++ // (as TryCallAsync would say, without making the PDU)
			continue
		}
		if p == nil {
			p = deliverSM(dl)
			answered = func(_ pdu.PDU, err error) { d.answered(dl, err) }
		}
		err := s.TryCallAsync(p, answered)
		if err != nil && !sessionUnusable(err) {
			// The deliver_sm cannot be encoded (an address too long for
			// SMPP, say): no session will ever take it. Give it up
			// rather than hold up the account's other deliveries.
			d.giveUp(dl, "it cannot be encoded", err)
			p = nil
			sent++
			continue
		}
		if err != nil {
			if !errors.Is(err, smpp.ErrWindowFull) {
				d.log.Debug("deliver_sm not sent", "system_id", ob.account, "err", err)
			}
			full++
			continue
		}
		p = nil
		full = 0
		sent++
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if rest := batch[sent:]; len(rest) > 0 {
		// Back where they were taken from: the outbox's slots before
		// head are only ever cleared, never moved, while send runs.
		ob.head -= len(rest)
		copy(ob.items[ob.head:], rest)
	}
	clear(batch)
	d.batch = batch[:0]
	if ob.head == len(ob.items) {
		ob.items, ob.head = ob.items[:0], 0
	} else if ob.head > 1024 && ob.head*2 > len(ob.items) {
		// Reuse the front rather than grow behind it forever.
		k := copy(ob.items, ob.items[ob.head:])
		clear(ob.items[k:])
		ob.items, ob.head = ob.items[:k], 0
	}
	if ob.head == len(ob.items) {
		return
	}
	if full >= len(sessions) && ob.gen == gen {
		// Every window is full and nothing was answered since we
		// looked: the next answer (or bind) unparks the outbox.
		ob.parked = true
		return
	}
	if d.ready1(ob) {
		d.wake()
	}
}

// sessionUnusable reports whether a send failed for its session (full
// window, closing, unbinding, the wrong state), not for the PDU.
func sessionUnusable(err error) bool {
	if errors.Is(err, smpp.ErrWindowFull) || errors.Is(err, smpp.ErrClosed) || errors.Is(err, smpp.ErrUnbinding) ||
		errors.Is(err, smpp.ErrNotBound) {
		return true // (first: the As below costs an allocation)
	}
	var se *smpp.StateError
	return errors.As(err, &se)
}

// receivers returns the sessions of account that take deliver_sm.
func (d *deliverer) receivers(account string) []*smpp.Session {
	var out []*smpp.Session
	for _, s := range d.g.server.Sessions(account) {
		if st := s.State(); st == smpp.StateBoundRX || st == smpp.StateBoundTRX {
			out = append(out, s)
		}
	}
	return out
}

// answered handles the client's answer to a deliver_sm (on its session's
// reader goroutine).
func (d *deliverer) answered(dl *store.Delivery, err error) {
	if err == nil {
		d.waiting.Add(-1)
		d.g.metrics.delivered(dl)
		d.g.commit.ack(dl.ID)
		d.unpark(dl.Account)
		return
	}
	d.unpark(dl.Account)
	// A copy: the store may still be reading the delivery it was given.
	cp := *dl
	dl = &cp
	dl.Attempts++
	now := d.g.now()
	if max := d.g.opts.ReceiptMaxAge; max > 0 && now.Sub(dl.CreatedAt) > max {
		d.giveUp(dl, "older than receipts.max_age", err)
		return
	}
	wait := backoff(d.g.opts.ReceiptRetryMin, d.g.opts.ReceiptRetryMax, dl.Attempts)
	dl.NextAttempt = now.Add(wait)
	d.log.Info("delivery failed; will retry", "system_id", dl.Account, "kind", dl.Kind.String(), "message_id", dl.MessageID,
		"attempt", dl.Attempts, "retry_in", wait, "err", err)
	d.g.dispatch.timers.at(dl.NextAttempt, func() { d.add(dl) })
}

func (d *deliverer) giveUp(dl *store.Delivery, reason string, err error) {
	d.waiting.Add(-1)
	d.givenUp.Add(1)
	d.g.metrics.expired(dl)
	d.log.Warn("delivery given up: "+reason, "system_id", dl.Account, "kind", dl.Kind.String(),
		"message_id", dl.MessageID, "created", dl.CreatedAt, "attempts", dl.Attempts, "last_err", err)
	d.g.commit.ack(dl.ID)
}

// expireParked gives up deliveries that waited for a bind past the
// maximum age (those being retried are checked when they fail).
func (d *deliverer) expireParked(now time.Time) {
	max := d.g.opts.ReceiptMaxAge
	if max <= 0 {
		return
	}
	var old []*store.Delivery
	d.mu.Lock()
	for _, ob := range d.accounts {
		keep := ob.items[:ob.head]
		for _, dl := range ob.items[ob.head:] {
			if now.Sub(dl.CreatedAt) > max {
				old = append(old, dl)
			} else {
				keep = append(keep, dl)
			}
		}
		clear(ob.items[len(keep):])
		ob.items = keep
	}
	d.mu.Unlock()
	for _, dl := range old {
		d.giveUp(dl, "older than receipts.max_age", errors.New("no receiver bound"))
	}
}

func (d *deliverer) stop() {
	close(d.stopped)
	<-d.done
}

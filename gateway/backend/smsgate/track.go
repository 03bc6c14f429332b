package smsgate

import (
	"strings"
	"sync"
	"time"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
)

// tracker maps SMSGate ids to the gateway ids of their parts and keeps the
// last state reported for each, so that duplicate and out-of-order
// webhooks end in one Update per part and state: a state is reported only
// when it advances (Accepted < Enroute < final), and a final state is
// never replaced. Events about ids it does not know are held for holdFor,
// for the POST that creates the id to return; what is still held then is
// reported by BackendID alone (the gateway finds the parts), which also
// covers messages sent before a restart. Both maps are bounded.
type tracker struct {
	mu  sync.Mutex
	now func() time.Time

	byID  map[string]*entry
	order queue
	max   int
	ttl   time.Duration
	seq   uint64

	held     map[string]*heldEvent
	heldQ    queue
	maxHeld  int
	holdFor  time.Duration
	heldSeqs uint64
}

type entry struct {
	parts   []string
	state   store.State
	code    uint16
	seq     uint64
	created time.Time
}

type heldEvent struct {
	state store.State
	code  uint16
	at    time.Time
	seq   uint64
	since time.Time
}

// queue is a FIFO of ids with the sequence number they were added under
// (an id forgotten and added again has a new one, so its old place in the
// queue does not evict it).
type queue struct {
	items []qItem
	head  int
}

type qItem struct {
	id  string
	seq uint64
	at  time.Time
}

func (q *queue) push(it qItem) { q.items = append(q.items, it) }
func (q *queue) len() int      { return len(q.items) - q.head }
func (q *queue) front() qItem  { return q.items[q.head] }
func (q *queue) pop() {
	q.items[q.head] = qItem{}
	q.head++
	if q.head > 1024 && q.head*2 > len(q.items) {
		q.items = append(q.items[:0], q.items[q.head:]...)
		q.head = 0
	}
}

func newTracker(max int, ttl time.Duration, maxHeld int, holdFor time.Duration, now func() time.Time) *tracker {
	return &tracker{now: now, byID: make(map[string]*entry), max: max, ttl: ttl,
		held: make(map[string]*heldEvent), maxHeld: maxHeld, holdFor: holdFor}
}

// rank orders states: an event is applied only if it ranks higher.
func rank(s store.State) int {
	switch {
	case s.Final():
		return 3
	case s == store.Enroute:
		return 2
	case s == store.Accepted:
		return 1
	}
	return 0
}

func advances(old, new store.State) bool { return rank(new) > rank(old) }

// register records the parts of SMSGate message id (again, on a retried
// Submit: its state is kept) and applies what was held for it.
func (t *tracker) register(id string, parts []string, emit func(backend.Update)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if e, ok := t.byID[id]; ok {
		e.parts = parts
	} else {
		t.seq++
		t.byID[id] = &entry{parts: parts, state: store.Accepted, seq: t.seq, created: now}
		t.order.push(qItem{id, t.seq, now})
		t.trim(now)
	}
	if h, ok := t.held[id]; ok {
		delete(t.held, id)
		t.applyLocked(id, h.state, h.code, h.at, false, emit)
	}
}

// trim forgets the oldest entries beyond max or older than ttl.
func (t *tracker) trim(now time.Time) {
	for t.order.len() > 0 {
		it := t.order.front()
		e, ok := t.byID[it.id]
		if ok && e.seq != it.seq {
			t.order.pop()
			continue
		}
		if ok && len(t.byID) <= t.max && now.Sub(it.at) < t.ttl {
			return
		}
		t.order.pop()
		if ok {
			delete(t.byID, it.id)
		}
	}
}

func (t *tracker) forget(id string) {
	t.mu.Lock()
	delete(t.byID, id)
	t.mu.Unlock()
}

func (t *tracker) state(id string) (store.State, uint16) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.byID[id]; ok {
		return e.state, e.code
	}
	return store.Unknown, 0
}

// known reports whether id is tracked.
func (t *tracker) known(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.byID[id]
	return ok
}

// apply reports state for SMSGate message id, once per part, if it
// advances the message; with hold, an unknown id's event is held.
// Updates are emitted under the lock so that two webhooks about one
// message cannot reach the gateway in the other order.
func (t *tracker) apply(id string, state store.State, code uint16, at time.Time, hold bool, emit func(backend.Update)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.applyLocked(id, state, code, at, hold, emit)
}

func (t *tracker) applyLocked(id string, state store.State, code uint16, at time.Time, hold bool, emit func(backend.Update)) {
	e, ok := t.byID[id]
	if !ok {
		if hold {
			t.holdLocked(id, state, code, at, emit)
		}
		return
	}
	if !advances(e.state, state) {
		return
	}
	e.state, e.code = state, code
	for _, p := range e.parts {
		emit(backend.Update{ID: p, BackendID: id, State: state, ErrorCode: code, At: at})
	}
}

func (t *tracker) holdLocked(id string, state store.State, code uint16, at time.Time, emit func(backend.Update)) {
	if h, ok := t.held[id]; ok {
		if advances(h.state, state) {
			h.state, h.code, h.at = state, code, at
		}
		return
	}
	for len(t.held) >= t.maxHeld && t.heldQ.len() > 0 {
		t.releaseOldest(emit)
	}
	t.heldSeqs++
	now := t.now()
	t.held[id] = &heldEvent{state: state, code: code, at: at, seq: t.heldSeqs, since: now}
	t.heldQ.push(qItem{id, t.heldSeqs, now})
}

// releaseOldest reports the oldest held event by BackendID and drops it.
func (t *tracker) releaseOldest(emit func(backend.Update)) {
	it := t.heldQ.front()
	t.heldQ.pop()
	h, ok := t.held[it.id]
	if !ok || h.seq != it.seq {
		return
	}
	delete(t.held, it.id)
	emit(backend.Update{BackendID: it.id, State: h.state, ErrorCode: h.code, At: h.at})
}

// expire reports what was held longer than holdFor, and trims entries.
func (t *tracker) expire(emit func(backend.Update)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for t.heldQ.len() > 0 && now.Sub(t.heldQ.front().at) >= t.holdFor {
		t.releaseOldest(emit)
	}
	t.trim(now)
}

// heldCount is the number of ids with held events (for tests).
func (t *tracker) heldCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.held)
}

// stateOf maps an SMSGate message state to the gateway's.
func stateOf(st *messageState) (store.State, uint16) {
	switch st.State {
	case "Pending":
		return store.Accepted, 0
	case "Processed", "Sent", "Cancelling":
		return store.Enroute, 0
	case "Delivered":
		return store.Delivered, 0
	case "Cancelled":
		return store.Deleted, 0
	case "Failed":
		reason := ""
		for _, r := range st.Recipients {
			if r.Error != "" {
				reason = r.Error
				break
			}
		}
		return failure(reason)
	}
	return store.Unknown, 0
}

// stateTime is when st reached its current state (now if not told).
func stateTime(st *messageState, now time.Time) time.Time {
	if s, ok := st.States[st.State]; ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t
		}
	}
	return now
}

// Failure reasons and the error codes they become (the receipt's err:).
// Android reports a failed send with an SmsManager result code, which the
// phone passes on as the reason's text; the codes are those numbers. A
// failed delivery report and anything unrecognised become 1, the generic
// failure. A reason telling of expiry makes the state Expired.
var failureCodes = []struct {
	word string
	code uint16
}{
	{"GENERIC_FAILURE", 1},
	{"RADIO_OFF", 2},
	{"NULL_PDU", 3},
	{"NO_SERVICE", 4},
	{"LIMIT_EXCEEDED", 5},
	{"FDN_CHECK_FAILURE", 6},
	{"SHORT_CODE_NOT_ALLOWED", 7},
	{"SHORT_CODE_NEVER_ALLOWED", 8},
	{"RADIO_NOT_AVAILABLE", 9},
	{"NETWORK_REJECT", 10},
	{"INVALID_ARGUMENTS", 11},
	{"INVALID_STATE", 12},
	{"NO_MEMORY", 13},
	{"INVALID_SMS_FORMAT", 14},
	{"SYSTEM_ERROR", 15},
	{"MODEM_ERROR", 16},
	{"NETWORK_ERROR", 17},
	{"ENCODING_ERROR", 18},
	{"INVALID_SMSC_ADDRESS", 19},
	{"OPERATION_NOT_ALLOWED", 20},
	{"INTERNAL_ERROR", 21},
	{"NO_RESOURCES", 22},
	{"CANCELLED", 23},
	{"REQUEST_NOT_SUPPORTED", 24},
}

// failure maps a failure reason to a state and error code.
func failure(reason string) (store.State, uint16) {
	up := strings.ToUpper(reason)
	if strings.Contains(up, "EXPIRED") || strings.Contains(up, "TTL") {
		return store.Expired, 0
	}
	for _, f := range failureCodes {
		if strings.Contains(up, f.word) {
			return store.Undeliverable, f.code
		}
	}
	return store.Undeliverable, 1
}

package gateway

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sync/atomic"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/pdu"
)

// Metrics counts what the gateway does, for logs, the HTTP API and
// Prometheus. Its methods are safe for concurrent use.
type Metrics struct {
	mu       sync.Mutex
	accept   map[string]uint64 // by account
	reject   map[rejectKey]uint64
	states   map[stateKey]uint64
	binds    map[bindKey]int64
	commits  atomic.Uint64
	changes  atomic.Uint64
	commitNs atomic.Uint64

	receiptsDelivered, moDelivered atomic.Uint64
	receiptsExpired, moExpired     atomic.Uint64
	moUnrouted                     atomic.Uint64

	// Histograms (prom.go): Observe is a few atomic adds, no lock.
	submitLatency, commitLatency, commitBatch prometheus.Histogram
	// open are the sessions that have bound and not closed yet; closed
	// sums the PDU counters of those that have closed.
	closedMu sync.Mutex
	open     map[*smpp.Session]struct{}
	closed   pduCounts
}

type rejectKey struct {
	account string
	status  pdu.Status
}

type stateKey struct {
	route string
	state store.State
}

type bindKey struct {
	account string
	state   smpp.State
}

func newMetrics() *Metrics {
	m := &Metrics{accept: map[string]uint64{}, reject: map[rejectKey]uint64{}, states: map[stateKey]uint64{}, binds: map[bindKey]int64{}}
	m.initHistograms()
	return m
}

func (m *Metrics) accepted(account string) {
	m.mu.Lock()
	m.accept[account]++
	m.mu.Unlock()
}

func (m *Metrics) rejected(account string, st pdu.Status) {
	m.mu.Lock()
	m.reject[rejectKey{account, st}]++
	m.mu.Unlock()
}

func (m *Metrics) state(route string, st store.State) {
	m.mu.Lock()
	m.states[stateKey{route, st}]++
	m.mu.Unlock()
}

func (m *Metrics) bind(account string, st smpp.State, delta int64) {
	m.mu.Lock()
	m.binds[bindKey{account, st}] += delta
	m.mu.Unlock()
}

func (m *Metrics) committed(n int, took time.Duration) {
	m.commits.Add(1)
	m.changes.Add(uint64(n))
	m.commitNs.Add(uint64(took))
	m.commitLatency.Observe(took.Seconds())
	m.commitBatch.Observe(float64(n))
}

// submitted records the time from a submit's receipt to its durable
// answer.
func (m *Metrics) submitted(took time.Duration) { m.submitLatency.Observe(took.Seconds()) }

func (m *Metrics) delivered(d *store.Delivery) {
	if d.Kind == store.MO {
		m.moDelivered.Add(1)
	} else {
		m.receiptsDelivered.Add(1)
	}
}

func (m *Metrics) expired(d *store.Delivery) {
	if d.Kind == store.MO {
		m.moExpired.Add(1)
	} else {
		m.receiptsExpired.Add(1)
	}
}

// Snapshot is a copy of the counters.
type Snapshot struct {
	Accepted map[string]uint64
	// Rejected by "account status".
	Rejected map[string]uint64
	// States counts state changes by "route STATE".
	States                             map[string]uint64
	Commits, Changes                   uint64
	CommitTime                         time.Duration
	ReceiptsDelivered, ReceiptsExpired uint64
	MODelivered, MOExpired, MOUnrouted uint64
}

// Snapshot returns the counters now.
func (m *Metrics) Snapshot() Snapshot {
	s := Snapshot{Accepted: map[string]uint64{}, Rejected: map[string]uint64{}, States: map[string]uint64{},
		Commits: m.commits.Load(), Changes: m.changes.Load(), CommitTime: time.Duration(m.commitNs.Load()),
		ReceiptsDelivered: m.receiptsDelivered.Load(), ReceiptsExpired: m.receiptsExpired.Load(),
		MODelivered: m.moDelivered.Load(), MOExpired: m.moExpired.Load(), MOUnrouted: m.moUnrouted.Load()}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.accept {
		s.Accepted[k] = v
	}
	for k, v := range m.reject {
		s.Rejected[k.account+" "+k.status.String()] = v
	}
	for k, v := range m.states {
		s.States[k.route+" "+k.state.String()] = v
	}
	return s
}

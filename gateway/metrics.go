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
	mu     sync.Mutex // guards reject, binds, and the writers of accept and states
	reject map[rejectKey]uint64
	binds  map[bindKey]int64
	// accept (by account) and states (by route) are on every message's
	// path: maps replaced whole when a key is added (seldom: a new
	// account or route), read without a lock, of atomic counters.
	accept   atomic.Pointer[map[string]*atomic.Uint64]
	states   atomic.Pointer[map[string]*stateCounts]
	odd      map[stateKey]uint64 // states beyond stateCounts (none today); under mu
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

// stateCounts counts state changes by store.State.
type stateCounts [16]atomic.Uint64

func newMetrics() *Metrics {
	m := &Metrics{reject: map[rejectKey]uint64{}, odd: map[stateKey]uint64{}, binds: map[bindKey]int64{}}
	m.accept.Store(&map[string]*atomic.Uint64{})
	m.states.Store(&map[string]*stateCounts{})
	m.initHistograms()
	return m
}

// counterOf returns the value of k in the map p holds, adding it (a new map
// with it) under m.mu if need be.
func counterOf[V any](m *Metrics, p *atomic.Pointer[map[string]*V], k string) *V {
	if v := (*p.Load())[k]; v != nil {
		return v
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *p.Load()
	if v := old[k]; v != nil {
		return v
	}
	next := make(map[string]*V, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	v := new(V)
	next[k] = v
	p.Store(&next)
	return v
}

func (m *Metrics) accepted(account string) { counterOf(m, &m.accept, account).Add(1) }

func (m *Metrics) rejected(account string, st pdu.Status) {
	m.mu.Lock()
	m.reject[rejectKey{account, st}]++
	m.mu.Unlock()
}

func (m *Metrics) state(route string, st store.State) {
	if int(st) >= len(stateCounts{}) {
		m.mu.Lock()
		m.odd[stateKey{route, st}]++
		m.mu.Unlock()
		return
	}
	counterOf(m, &m.states, route)[st].Add(1)
}

// eachAccepted calls fn with each account's count of accepted messages.
func (m *Metrics) eachAccepted(fn func(account string, n uint64)) {
	for acc, c := range *m.accept.Load() {
		if n := c.Load(); n > 0 {
			fn(acc, n)
		}
	}
}

// eachState calls fn with each route's count of changes to each state.
// m.mu is held.
func (m *Metrics) eachState(fn func(route string, st store.State, n uint64)) {
	for route, cs := range *m.states.Load() {
		for st := range cs {
			if n := cs[st].Load(); n > 0 {
				fn(route, store.State(st), n)
			}
		}
	}
	for k, n := range m.odd {
		fn(k.route, k.state, n)
	}
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
	m.eachAccepted(func(acc string, n uint64) { s.Accepted[acc] = n })
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.reject {
		s.Rejected[k.account+" "+k.status.String()] = v
	}
	m.eachState(func(route string, st store.State, n uint64) { s.States[route+" "+st.String()] = n })
	return s
}

package gateway

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway/store"
)

// The gateway's Prometheus series. Counters the hot path already keeps
// (Metrics, the sessions' own Stats) are read at scrape time; only the
// latency and batch-size histograms are observed as things happen.

func (m *Metrics) initHistograms() {
	m.submitLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "smppd_submit_duration_seconds",
		Help:    "Time from a submit's receipt to its answer, once the message is durably stored.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 14), // 100µs … ~15s
	})
	m.commitLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "smppd_store_commit_duration_seconds",
		Help:    "Time one group commit of the store takes.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 14),
	})
	m.commitBatch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "smppd_store_commit_batch_size",
		Help:    "Changes (messages, state changes, deliveries) per group commit.",
		Buckets: prometheus.ExponentialBuckets(1, 4, 8), // 1 … 16384
	})
}

// pduCounts sums sessions' PDU counters.
type pduCounts struct {
	pdus   map[[2]string]uint64 // direction, command
	errors map[[3]string]uint64 // direction, command, status
}

func (c *pduCounts) add(st smpp.Stats) {
	if c.pdus == nil {
		c.pdus, c.errors = map[[2]string]uint64{}, map[[3]string]uint64{}
	}
	for cmd, n := range st.Sent {
		c.pdus[[2]string{"sent", cmd}] += n
	}
	for cmd, n := range st.Received {
		c.pdus[[2]string{"received", cmd}] += n
	}
	for k, n := range st.SentErrors {
		cmd, status, _ := strings.Cut(k, " ")
		c.errors[[3]string{"sent", cmd, status}] += n
	}
	for k, n := range st.ReceivedErrors {
		cmd, status, _ := strings.Cut(k, " ")
		c.errors[[3]string{"received", cmd, status}] += n
	}
}

// sessionBound counts a session's PDUs from its bind until it closes.
func (m *Metrics) sessionBound(s *smpp.Session) {
	m.closedMu.Lock()
	if m.open == nil {
		m.open = map[*smpp.Session]struct{}{}
	}
	m.open[s] = struct{}{}
	m.closedMu.Unlock()
}

// sessionClosed moves a closing session's counters to the closed totals.
// A session is in exactly one of open and closed, under closedMu, so the
// PDU totals never drop (a drop would read as a counter reset), also
// while a session is unbinding.
func (m *Metrics) sessionClosed(s *smpp.Session) {
	st := s.Stats()
	m.closedMu.Lock()
	delete(m.open, s)
	m.closed.add(st)
	m.closedMu.Unlock()
}

var (
	descSessions = prometheus.NewDesc("smppd_sessions_bound", "Bound SMPP sessions.", []string{"account", "bind_type"}, nil)
	descPDUs     = prometheus.NewDesc("smppd_pdus_total", "SMPP PDUs sent and received, by command.", []string{"direction", "command"}, nil)
	descPDUErrs  = prometheus.NewDesc("smppd_pdu_errors_total", "SMPP responses with a non-zero command_status, by command and status.", []string{"direction", "command", "status"}, nil)
	descAccepted = prometheus.NewDesc("smppd_messages_accepted_total", "Messages accepted and durably stored.", []string{"account"}, nil)
	descRejected = prometheus.NewDesc("smppd_messages_rejected_total", "Submits refused, by SMPP status.", []string{"account", "status"}, nil)
	descOutcomes = prometheus.NewDesc("smppd_backend_outcomes_total", "Message state changes, by backend and new state.", []string{"backend", "state"}, nil)
	descByState  = prometheus.NewDesc("smppd_messages", "Unfinished messages, by state.", []string{"state"}, nil)
	descPending  = prometheus.NewDesc("smppd_messages_pending", "Messages not yet in a final state.", nil, nil)
	descWaiting  = prometheus.NewDesc("smppd_deliveries_pending", "Receipts and MO messages waiting to be acknowledged by their account.", nil, nil)
	descDeliv    = prometheus.NewDesc("smppd_deliveries_delivered_total", "Receipts and MO messages acknowledged by their account.", []string{"kind"}, nil)
	descExpired  = prometheus.NewDesc("smppd_deliveries_expired_total", "Receipts and MO messages given up after the maximum age.", []string{"kind"}, nil)
	descUnrouted = prometheus.NewDesc("smppd_mo_unrouted_total", "MO messages for an address no account owns (dropped).", nil, nil)
	descBacklog  = prometheus.NewDesc("smppd_store_backlog_changes", "Changes durable in the store's log and not yet in its tables.", nil, nil)
	descBackAge  = prometheus.NewDesc("smppd_store_backlog_age_seconds", "How long the oldest change in the store's backlog has waited.", nil, nil)
)

// collector exposes a Gateway to Prometheus.
type collector struct{ g *Gateway }

// Collector returns the gateway's Prometheus collector: the series listed
// in docs/http-api.md (smppd_*). Register it once.
func (g *Gateway) Collector() prometheus.Collector { return collector{g} }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSessions, descPDUs, descPDUErrs, descAccepted, descRejected, descOutcomes,
		descByState, descPending, descWaiting, descDeliv, descExpired, descUnrouted} {
		ch <- d
	}
	if _, ok := c.g.opts.Store.(store.Backlogger); ok {
		ch <- descBacklog
		ch <- descBackAge
	}
	m := c.g.metrics
	m.submitLatency.Describe(ch)
	m.commitLatency.Describe(ch)
	m.commitBatch.Describe(ch)
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	g, m := c.g, c.g.metrics
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}

	// Sessions: the bound ones now; PDUs of the open ones and the closed
	// ones' totals.
	binds := map[[2]string]int{}
	for _, s := range g.server.Sessions("") {
		binds[[2]string{s.SystemID(), bindType(s.State())}]++
	}
	var pc pduCounts
	pc.add(smpp.Stats{})
	m.closedMu.Lock()
	for s := range m.open {
		pc.add(s.Stats())
	}
	for k, n := range m.closed.pdus {
		pc.pdus[k] += n
	}
	for k, n := range m.closed.errors {
		pc.errors[k] += n
	}
	m.closedMu.Unlock()
	for k, n := range binds {
		gauge(descSessions, float64(n), k[0], k[1])
	}
	for k, n := range pc.pdus {
		counter(descPDUs, n, k[0], k[1])
	}
	for k, n := range pc.errors {
		counter(descPDUErrs, n, k[0], k[1], k[2])
	}

	m.eachAccepted(func(acc string, n uint64) { counter(descAccepted, n, acc) })
	m.mu.Lock()
	for k, n := range m.reject {
		counter(descRejected, n, k.account, k.status.String())
	}
	m.eachState(func(route string, st store.State, n uint64) { counter(descOutcomes, n, route, st.String()) })
	m.mu.Unlock()

	// Unfinished messages by state, from the live set (every state is
	// reported, 0 included, so that a panel's series do not come and go).
	var byState [10]int
	g.dispatch.live.each(func(st store.State) {
		if int(st) < len(byState) {
			byState[st]++
		}
	})
	for _, st := range []store.State{store.Scheduled, store.Accepted, store.Enroute} {
		gauge(descByState, float64(byState[st]), st.String())
	}
	gauge(descPending, float64(g.pending.Load()))
	gauge(descWaiting, float64(g.deliver.waiting.Load()))
	counter(descDeliv, m.receiptsDelivered.Load(), "receipt")
	counter(descDeliv, m.moDelivered.Load(), "mo")
	counter(descExpired, m.receiptsExpired.Load(), "receipt")
	counter(descExpired, m.moExpired.Load(), "mo")
	counter(descUnrouted, m.moUnrouted.Load())
	if b, ok := g.opts.Store.(store.Backlogger); ok {
		n, age := b.Backlog()
		gauge(descBacklog, float64(n))
		gauge(descBackAge, age.Seconds())
	}
	ch <- m.submitLatency
	ch <- m.commitLatency
	ch <- m.commitBatch
}

// each calls fn with the state of every live message, one shard locked at
// a time.
func (l *liveSet) each(fn func(store.State)) {
	for i := range l.shards {
		s := &l.shards[i]
		s.Lock()
		for _, m := range s.m {
			fn(m.State)
		}
		s.Unlock()
	}
}

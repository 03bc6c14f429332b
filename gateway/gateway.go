// Package gateway is the engine smppd runs: accounts and authentication,
// throttling, the SMPP handler that stores every accepted message before
// answering, the dispatcher that takes messages to their backends and
// records what becomes of them, and the deliverer that sends receipts and
// MO messages to the accounts' sessions until they are acknowledged.
//
// The engine works on the contracts in gateway/store and gateway/backend
// and never imports an implementation of them; cmd/smppd picks those. Only
// its edge (the SMPP handler and the deliverer) sees PDUs.
package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/pdu"
)

// Options configure a Gateway. Store and at least one backend are required.
type Options struct {
	Store store.Store
	// Backends by name; DefaultRoute names the one for accounts without
	// a route of their own.
	Backends     map[string]backend.Backend
	DefaultRoute string
	// Workers is how many submits to each backend may run at once
	// (default 4).
	Workers map[string]int

	// Accounts may bind. With none, AcceptAny accepts every bind (the
	// caller allows that on loopback listeners only), and PassThrough, if
	// set, checks unknown system_ids and passwords elsewhere (a backend's
	// own credentials, as android-sms-gateway's smpp-server does).
	Accounts    []Account
	AcceptAny   bool
	PassThrough func(ctx context.Context, systemID, password string) error

	// Server settings (see smpp.Server): system_id in bind responses,
	// windows, timers (zero: the library's default; negative: off),
	// limits.
	SystemID            string
	InboundWindow       int
	OutboundWindow      int
	EnquireLinkInterval time.Duration
	InactivityTimeout   time.Duration
	BindTimeout         time.Duration
	ResponseTimeout     time.Duration
	MaxPDULength        int
	Lenient             bool
	// TLSConfig serves the TLS listeners.
	TLSConfig *tls.Config

	// MaxPending bounds the unfinished messages: beyond it new submits get
	// ESME_RTHROTTLED (0: no bound).
	MaxPending int
	// CommitMaxBatch bounds the changes one commit holds (default 4096).
	CommitMaxBatch int
	// RetryMin and RetryMax bound the back-off between submits to a
	// failing backend; MaxAttempts, if > 0, makes a message undeliverable
	// after that many failures.
	RetryMin, RetryMax time.Duration
	MaxAttempts        int
	// DefaultValidity is how long a message without validity_period may
	// wait to be delivered; MaxValidity caps a requested one (0: none).
	DefaultValidity, MaxValidity time.Duration
	// ReceiptMaxAge is how long a receipt or MO message is kept for an
	// account that does not take it; ReceiptRetryMin/Max bound the
	// back-off between attempts.
	ReceiptMaxAge                    time.Duration
	ReceiptRetryMin, ReceiptRetryMax time.Duration

	Logger *slog.Logger
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Gateway is the running engine. Create it with New, serve listeners with
// Serve or ServeTLS, and stop it with Shutdown.
type Gateway struct {
	opts     Options
	log      *slog.Logger
	backends map[string]backend.Backend
	accounts atomic.Pointer[accounts]
	dynMu    sync.Mutex
	dynamic  map[string]*account

	server   *smpp.Server
	commit   *committer
	dispatch *dispatcher
	deliver  *deliverer
	ids      *ids
	metrics  *Metrics

	pending  atomic.Int64 // unfinished messages
	bound    sync.Map     // *smpp.Session → *account, while bound
	stopTick chan struct{}
	tickDone chan struct{}
	shutOnce sync.Once
}

// New opens the engine on its store: it resumes the unfinished messages
// and undelivered receipts the store holds and starts its backends. It
// does not listen yet (Serve).
func New(ctx context.Context, o Options) (*Gateway, error) {
	if o.Store == nil {
		return nil, errors.New("gateway: no store")
	}
	if len(o.Backends) == 0 {
		return nil, errors.New("gateway: no backend")
	}
	if o.DefaultRoute == "" && len(o.Backends) == 1 {
		for name := range o.Backends {
			o.DefaultRoute = name
		}
	}
	if _, ok := o.Backends[o.DefaultRoute]; !ok {
		return nil, fmt.Errorf("gateway: default route %q is not a backend", o.DefaultRoute)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ReceiptRetryMin <= 0 {
		o.ReceiptRetryMin = time.Second
	}
	if o.ReceiptRetryMax <= 0 {
		o.ReceiptRetryMax = 5 * time.Minute
	}
	g := &Gateway{opts: o, log: o.Logger, backends: o.Backends, dynamic: map[string]*account{},
		metrics: newMetrics(), stopTick: make(chan struct{}), tickDone: make(chan struct{})}
	for _, a := range o.Accounts {
		if a.Route != "" {
			if _, ok := o.Backends[a.Route]; !ok {
				return nil, fmt.Errorf("gateway: account %q routes to %q, which is not a backend", a.SystemID, a.Route)
			}
		}
	}
	g.accounts.Store(newAccounts(o.Accounts, o.AcceptAny))
	epoch, err := o.Store.NextEpoch(ctx)
	if err != nil {
		return nil, fmt.Errorf("gateway: store: %w", err)
	}
	g.ids = newIDs(epoch, func() (uint32, error) { return o.Store.NextEpoch(context.Background()) })
	g.commit = newCommitter(o.Store, g.log, o.CommitMaxBatch)
	g.commit.onCommit = g.metrics.committed
	g.commit.onStored = g.stored
	g.commit.onSaved = g.saved
	go g.commit.run()
	g.dispatch = newDispatcher(g)
	g.deliver = newDeliverer(g)
	go g.deliver.run() // (stopAll waits for it)
	g.server = g.newServer()

	// What the store holds is taken up before the backends start: a
	// backend may report on a resumed message from Start on.
	resumed, err := g.resume(ctx)
	if err != nil {
		g.stopAll(context.Background())
		return nil, err
	}
	for name, b := range o.Backends {
		if err := b.Start(ctx, events{g, name}); err != nil {
			g.stopAll(context.Background())
			return nil, fmt.Errorf("gateway: backend %s: %w", name, err)
		}
	}
	g.dispatch.start()
	for _, m := range resumed {
		g.dispatch.route(m)
	}
	go g.tick()
	return g, nil
}

// resume takes up what the store holds from an earlier run: it returns
// the unfinished messages, to be routed once the workers run, and queues
// the deliveries.
func (g *Gateway) resume(ctx context.Context) ([]*store.Message, error) {
	var msgs []*store.Message
	dls := 0
	err := g.opts.Store.Unfinished(ctx, func(m *store.Message) error {
		msgs = append(msgs, m)
		g.pending.Add(1)
		g.dispatch.live.put(m)
		g.dispatch.byBackend.add(m.Route, m.BackendID, m.ID)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: resuming messages: %w", err)
	}
	err = g.opts.Store.Deliveries(ctx, func(d *store.Delivery) error {
		dls++
		g.deliver.enqueue(d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: resuming deliveries: %w", err)
	}
	if len(msgs) > 0 || dls > 0 {
		g.log.Info("resumed from the store", "messages", len(msgs), "deliveries", dls)
	}
	return msgs, nil
}

// newServer builds the SMPP server whose handler is the gateway.
func (g *Gateway) newServer() *smpp.Server {
	o := &g.opts
	return &smpp.Server{
		Handler:             g,
		Auth:                g.auth,
		SystemID:            o.SystemID,
		InboundWindow:       o.InboundWindow,
		OutboundWindow:      o.OutboundWindow,
		EnquireLinkInterval: o.EnquireLinkInterval,
		InactivityTimeout:   o.InactivityTimeout,
		BindTimeout:         o.BindTimeout,
		ResponseTimeout:     o.ResponseTimeout,
		MaxPDULength:        o.MaxPDULength,
		Lenient:             o.Lenient,
		TLSConfig:           o.TLSConfig,
		ReusePDUs:           true, // the handler keeps values, never a PDU struct
		Logger:              g.log,
		ConnState:           g.connState,
	}
}

// Server returns the SMPP server (for its sessions).
func (g *Gateway) Server() *smpp.Server { return g.server }

// Serve serves SMPP on l until Shutdown.
func (g *Gateway) Serve(l net.Listener) error { return g.server.Serve(l) }

// ServeTLS serves SMPP over TLS on l (Options.TLSConfig) until Shutdown.
func (g *Gateway) ServeTLS(l net.Listener) error { return g.server.ServeTLS(l, "", "") }

// connState keeps the bound-session table and the bind counts, and lets
// waiting deliveries flow the moment a receiver binds.
func (g *Gateway) connState(s *smpp.Session, st smpp.State) {
	switch {
	case st.Bound():
		a := g.accountOf(s)
		if a == nil {
			return
		}
		if _, loaded := g.bound.LoadOrStore(s, a); !loaded {
			g.metrics.sessionBound(s)
			a.binds.Add(1)
			g.metrics.bind(a.SystemID, st, 1)
		}
		if st == smpp.StateBoundRX || st == smpp.StateBoundTRX {
			g.deliver.unpark(a.SystemID)
		}
	case st == smpp.StateClosed || st == smpp.StateUnbound:
		if st == smpp.StateClosed {
			g.metrics.sessionClosed(s)
		}
		if v, ok := g.bound.LoadAndDelete(s); ok {
			a := v.(*account)
			a.binds.Add(-1)
			g.metrics.bind(a.SystemID, st, -1)
		}
	}
}

// transition moves m to st and records it, with the receipt st calls for,
// in one commit; the receipt goes out once that is durable. It reports
// false when m was final already (a late or duplicate report).
func (g *Gateway) transition(m *store.Message, st store.State, code uint16, backendID string) bool {
	now := g.now()
	// Everything happens under the message's shard lock, the commit and the
	// receipt's queueing included: two reports racing (a backend's final
	// state and the dispatcher's ENROUTE) must reach the store and the
	// client in the order their changes were made, or a stale ENROUTE could
	// overwrite DELIVERED. (addUpdate never blocks, so the lock is held
	// briefly.)
	sh := g.dispatch.live.lockLive(m)
	if sh == nil {
		return false
	}
	if m.State == st && (backendID == "" || backendID == m.BackendID) {
		sh.Unlock()
		return true // nothing new (ENROUTE again)
	}
	m.State, m.ErrorCode, m.UpdatedAt = st, code, now
	if backendID != "" && backendID != m.BackendID {
		g.dispatch.byBackend.remove(m.Route, m.BackendID, m.ID)
		m.BackendID = backendID
		if !st.Final() {
			g.dispatch.byBackend.add(m.Route, backendID, m.ID)
		}
	}
	if st.Final() {
		m.DoneAt = now
		g.dispatch.byBackend.remove(m.Route, m.BackendID, m.ID)
	}
	u := store.Update{ID: m.ID, State: st, ErrorCode: code, BackendID: backendID, Attempts: m.Attempts, At: now}
	// The receipt goes out at once, not after the commit: when the client
	// acknowledges it before the commit, it is never written (see
	// committer.ack).
	var rc *store.Delivery
	if wantsReceipt(m.RegisteredDelivery, st) {
		rc = g.newReceipt(m, st, code, now)
	}
	sh.unsaved[u.ID] = u
	if !g.commit.addUpdate(u, rc) {
		delete(sh.unsaved, u.ID)
		g.log.Error("state change not stored", "message_id", u.ID, "state", st.String(), "err", errStopped)
	}
	if rc != nil {
		g.deliver.enqueue(rc)
	}
	g.dispatch.live.unlockLive(sh, m)
	if st.Final() {
		g.pending.Add(-1)
	}
	g.metrics.state(m.Route, st)
	return true
}

// saved forgets a state change once it is committed (the committer's
// onSaved), unless a later one has taken its place.
func (g *Gateway) saved(u store.Update, err error) {
	sh := g.dispatch.live.shardOf(u.ID)
	sh.Lock()
	if v, ok := sh.unsaved[u.ID]; ok && v == u {
		delete(sh.unsaved, u.ID)
	}
	sh.Unlock()
	if err != nil {
		g.log.Error("state change not stored", "message_id", u.ID, "state", u.State.String(), "err", err)
	}
}

// message returns a stored message with the state changes made since the
// last commit applied.
func (g *Gateway) message(ctx context.Context, id string) (*store.Message, error) {
	m, err := g.opts.Store.Message(ctx, id)
	if err != nil {
		return nil, err
	}
	sh := g.dispatch.live.shardOf(id)
	sh.Lock()
	u, ok := sh.unsaved[id]
	sh.Unlock()
	if ok {
		m.State, m.ErrorCode, m.UpdatedAt = u.State, u.ErrorCode, u.At
		if u.State.Final() && m.DoneAt.IsZero() {
			m.DoneAt = u.At
		}
	}
	return m, nil
}

// events is what a backend reports to; it knows the backend's name, so
// that an update by the backend's own id finds its message.
type events struct {
	g     *Gateway
	route string
}

func (e events) Update(u backend.Update) { e.g.dispatch.update(e.route, u) }

func (e events) Received(ctx context.Context, mo *backend.MO) error { return e.g.receive(ctx, mo) }

// receive stores an MO message for the account that owns its destination
// and returns once it is durable.
func (g *Gateway) receive(ctx context.Context, mo *backend.MO) error {
	a := g.accounts.Load().owner(mo.Dest.Addr)
	if a == nil && mo.Account != "" {
		// The backend knows whose it is (it came with that account's
		// own credentials). A pass-through account may not have bound
		// since a restart: its MO waits for it.
		if a = g.lookupAccount(mo.Account); a == nil && g.opts.PassThrough != nil {
			a = g.dynamicAccount(mo.Account)
		}
	}
	if a == nil {
		g.metrics.moUnrouted.Add(1)
		g.log.Warn("MO message for an address no account owns; dropped", "source", mo.Source.Addr, "dest", mo.Dest.Addr)
		return fmt.Errorf("gateway: no account owns %q", mo.Dest.Addr)
	}
	at := mo.At
	if at.IsZero() {
		at = g.now()
	}
	d := &store.Delivery{ID: g.ids.delivery(), Account: a.SystemID, Kind: store.MO, Source: mo.Source, Dest: mo.Dest,
		ESMClass: mo.ESMClass, DataCoding: mo.DataCoding, Body: mo.Body, TLVs: mo.TLVs, CreatedAt: at}
	// Queued by the commit's callback, not after the wait: a caller that
	// stops waiting (its context done) while the commit is under way must
	// not leave a stored MO undelivered until the next restart.
	ch := make(chan error, 1)
	g.commit.add(func(b *store.Batch) { b.Deliveries = append(b.Deliveries, d) }, func(err error) {
		if err == nil {
			g.deliver.enqueue(d)
		}
		ch <- err
	})
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Owns reports whether some account owns addr (for the simulator's
// loopback).
func (g *Gateway) Owns(addr string) bool { return g.accounts.Load().owner(addr) != nil }

// tick does the periodic chores: receipts that waited past their age.
func (g *Gateway) tick() {
	defer close(g.tickDone)
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-g.stopTick:
			return
		case now := <-t.C:
			g.deliver.expireParked(now)
		}
	}
}

func (g *Gateway) now() time.Time { return g.opts.Now() }

// errStopped is what changes get after Shutdown.
var errStopped = errors.New("gateway: stopped")

// Shutdown stops accepting binds, unbinds every session (each first
// finishing the requests it is handling), lets the submits under way to
// backends finish, stops the backends and commits what is left. It does
// not close the store.
func (g *Gateway) Shutdown(ctx context.Context) error {
	var err error
	g.shutOnce.Do(func() {
		err = g.server.Shutdown(ctx)
		g.stopAll(ctx)
	})
	return err
}

func (g *Gateway) stopAll(ctx context.Context) {
	if g.dispatch != nil {
		g.dispatch.stop(ctx)
	}
	for name, b := range g.backends {
		if err := b.Stop(ctx); err != nil {
			g.log.Warn("backend stop", "backend", name, "err", err)
		}
	}
	select {
	case <-g.stopTick:
	default:
		close(g.stopTick)
	}
	if g.deliver != nil {
		select {
		case <-g.deliver.stopped:
		default:
			g.deliver.stop()
		}
	}
	g.commit.stop()
}

// Pending returns the number of unfinished messages.
func (g *Gateway) Pending() int64 { return g.pending.Load() }

// WaitingDeliveries returns the receipts and MO messages not yet acknowledged.
func (g *Gateway) WaitingDeliveries() int64 { return g.deliver.waiting.Load() }

// Metrics returns the gateway's counters.
func (g *Gateway) Metrics() *Metrics { return g.metrics }

// Ready reports whether the store answers.
func (g *Gateway) Ready(ctx context.Context) error { return g.opts.Store.Ping(ctx) }

// statusOf returns the SMPP status an error carries, or def.
func statusOf(err error, def pdu.Status) pdu.Status {
	var st pdu.Status
	if errors.As(err, &st) {
		return st
	}
	return def
}

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway"
	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/backend/sim"
	"github.com/smppkit/smpp/gateway/config"
	"github.com/smppkit/smpp/gateway/httpapi"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/gateway/store/memory"
	"github.com/smppkit/smpp/gateway/store/sqlite"
)

// daemon is a running smppd: the engine, its store and its listeners.
type daemon struct {
	log       *slog.Logger
	gw        *gateway.Gateway
	store     store.Store
	http      *http.Server
	failed    chan error
	listening atomic.Bool
	// loader re-reads the configuration, apiKeys are the API keys now
	// (reload, ops.go).
	loader   atomic.Pointer[func() (*config.Config, error)]
	apiKeys  atomic.Pointer[[]string]
	reloadMu sync.Mutex
}

// start opens the store, builds the backends and the engine, and listens.
// This is the one place where implementations are chosen.
func start(ctx context.Context, cfg *config.Config, log *slog.Logger) (*daemon, error) {
	d := &daemon{log: log, failed: make(chan error, 4)}
	st, err := openStore(cfg.Store, log)
	if err != nil {
		return nil, err
	}
	d.store = st

	var gw *gateway.Gateway
	backends := map[string]backend.Backend{}
	simOpts := simulatorOptions(cfg.Simulator, func(addr string) bool { return gw != nil && gw.Owns(addr) })
	if err := simOpts.Validate(); err != nil {
		st.Close()
		return nil, err
	}
	backends["simulator"] = sim.New(simOpts)
	mounts := map[string]http.Handler{}
	var sg *smsgateWiring
	if usesSMSGate(cfg) {
		if sg, err = newSMSGate(cfg, log); err != nil {
			st.Close()
			return nil, err
		}
		backends["smsgate"] = sg.b
		mounts[sg.path] = sg.b.WebhookHandler()
	}

	o := gateway.Options{
		Store:               st,
		Backends:            backends,
		DefaultRoute:        cfg.Routes.Default,
		Workers:             map[string]int{"simulator": 2},
		AcceptAny:           len(cfg.Accounts) == 0 && !cfg.PassThrough(),
		SystemID:            cfg.SMPP.SystemID,
		InboundWindow:       cfg.SMPP.InboundWindow,
		OutboundWindow:      cfg.SMPP.OutboundWindow,
		EnquireLinkInterval: orOff(cfg.SMPP.EnquireLinkInterval),
		InactivityTimeout:   cfg.SMPP.InactivityTimeout,
		BindTimeout:         cfg.SMPP.BindTimeout,
		ResponseTimeout:     cfg.SMPP.ResponseTimeout,
		MaxPDULength:        cfg.SMPP.MaxPDULength,
		Lenient:             cfg.SMPP.Lenient,
		MaxPending:          cfg.Store.MaxPending,
		CommitMaxBatch:      cfg.Store.CommitMaxBatch,
		RetryMin:            cfg.Dispatch.RetryMin,
		RetryMax:            cfg.Dispatch.RetryMax,
		MaxAttempts:         cfg.Dispatch.MaxAttempts,
		DefaultValidity:     cfg.Dispatch.DefaultValidity,
		MaxValidity:         cfg.Dispatch.MaxValidity,
		ReceiptMaxAge:       cfg.Receipts.MaxAge,
		ReceiptRetryMin:     cfg.Receipts.RetryMin,
		ReceiptRetryMax:     cfg.Receipts.RetryMax,
		Logger:              log,
	}
	for i := range cfg.Accounts {
		o.Accounts = append(o.Accounts, account(cfg, &cfg.Accounts[i]))
	}
	if sg != nil {
		// Many submits in flight, so that the SMPP window is not reduced
		// to one HTTP request at a time.
		o.Workers["smsgate"] = sg.workers
		if cfg.PassThrough() {
			o.PassThrough = sg.passThrough
		}
	}
	plain, secure := cfg.SMPP.Listeners()
	if secure != "" {
		if o.TLSConfig, err = tlsConfig(cfg.SMPP, log); err != nil {
			st.Close()
			return nil, err
		}
	}
	gw, err = gateway.New(ctx, o)
	if err != nil {
		st.Close()
		return nil, err
	}
	d.gw = gw

	// Listen before saying so, and fail the start if a port is taken.
	var ls []net.Listener
	closeAll := func() {
		for _, l := range ls {
			l.Close()
		}
	}
	for _, a := range []struct {
		addr string
		tls  bool
	}{{plain, false}, {secure, true}} {
		if a.addr == "" {
			continue
		}
		l, err := net.Listen("tcp", a.addr)
		if err != nil {
			closeAll()
			d.shutdown(context.Background())
			return nil, fmt.Errorf("SMPP listener: %w", err)
		}
		ls = append(ls, l)
		serve := gw.Serve
		if a.tls {
			serve = gw.ServeTLS
		}
		log.Info("SMPP listening", "addr", l.Addr().String(), "tls", a.tls)
		go func() { d.served(serve(l)) }()
	}
	if cfg.HTTP.Address != "" {
		l, err := net.Listen("tcp", cfg.HTTP.Address)
		if err != nil {
			closeAll()
			d.shutdown(context.Background())
			return nil, fmt.Errorf("HTTP listener: %w", err)
		}
		keys := append([]string(nil), cfg.HTTP.APIKeys...)
		d.apiKeys.Store(&keys)
		d.http = &http.Server{Handler: httpapi.New(httpapi.Options{Gateway: gw, Listening: d.listening.Load, Mounts: mounts,
			Metrics: metricsHandler(gw), API: gw, APIKeys: d.keys, Reload: d.reload}),
			ReadHeaderTimeout: 10 * time.Second}
		log.Info("HTTP listening", "addr", l.Addr().String())
		go func() {
			if err := d.http.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				d.failed <- err
			}
		}()
	}
	d.listening.Store(true)
	log.Info("smppd started", "store", cfg.Store.Driver, "path", cfg.Store.Path, "durability", cfg.Store.Durability,
		"default_route", cfg.Routes.Default, "accounts", len(cfg.Accounts), "pending_messages", gw.Pending())
	return d, nil
}

// served reports a listener that stopped other than by Shutdown.
func (d *daemon) served(err error) {
	if err != nil && !errors.Is(err, smpp.ErrServerClosed) && d.listening.Load() {
		d.failed <- err
	}
}

// shutdown unbinds the sessions, lets the work in flight finish, commits
// what is left and closes the store.
func (d *daemon) shutdown(ctx context.Context) error {
	d.listening.Store(false)
	var errs []error
	if d.gw != nil {
		errs = append(errs, d.gw.Shutdown(ctx))
	}
	if d.http != nil {
		errs = append(errs, d.http.Shutdown(ctx))
	}
	errs = append(errs, d.store.Close())
	return errors.Join(errs...)
}

func openStore(c config.Store, log *slog.Logger) (store.Store, error) {
	switch c.Driver {
	case "memory":
		log.Warn("store: memory — nothing survives a restart")
		return memory.New(), nil
	default:
		if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		st, err := sqlite.Open(c.Path, sqlite.Options{Durability: c.DurabilityLevel()})
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", c.Path, err)
		}
		return st, nil
	}
}

func simulatorOptions(c config.Simulator, owns func(string) bool) sim.Options {
	o := sim.Options{Delay: c.Delay, Enroute: c.Enroute, Outcomes: c.OutcomeWeights(), ErrorCode: c.ErrorCode,
		Seed: c.Seed, Loopback: c.Loopback, Owns: owns}
	for i := range c.Rules {
		r := &c.Rules[i]
		st, _ := r.State()
		o.Rules = append(o.Rules, sim.Rule{Prefix: r.Prefix, Outcome: st, ErrorCode: r.ErrorCode, Delay: r.Delay,
			SubmitStatus: uint32(r.SubmitStatus), SubmitDelay: r.SubmitDelay, NoAnswer: r.NoAnswer})
	}
	return o
}

// account turns a configured account into the engine's.
func account(cfg *config.Config, a *config.Account) gateway.Account {
	ga := gateway.Account{
		SystemID:         a.SystemID,
		CheckPassword:    a.CheckPassword,
		AllowTransmitter: a.Allows(config.Transmitter),
		AllowReceiver:    a.Allows(config.Receiver),
		AllowTransceiver: a.Allows(config.Transceiver),
		MaxBinds:         a.MaxBinds,
		Throughput:       a.Throughput,
		Burst:            a.Burst,
		MaxInFlight:      a.MaxInFlight,
		Addresses:        a.Addresses,
		SourceAddresses:  a.SourceAddresses,
		Route:            cfg.Route(a),
		Disabled:         a.Disabled,
		TLSClientCN:      a.TLSClientCN,
	}
	for _, c := range a.AllowCIDRs {
		if p, err := netip.ParsePrefix(c); err == nil {
			ga.AllowNets = append(ga.AllowNets, p)
		} else if ip, err := netip.ParseAddr(c); err == nil {
			ga.AllowNets = append(ga.AllowNets, netip.PrefixFrom(ip, ip.BitLen()))
		}
	}
	return ga
}

func tlsConfig(c config.SMPP, log *slog.Logger) (*tls.Config, error) {
	certs, err := newCertReloader(c.TLSCert, c.TLSKey, log)
	if err != nil {
		return nil, fmt.Errorf("smpp.tls_cert/tls_key: %w", err)
	}
	tc := &tls.Config{GetCertificate: certs.GetCertificate, MinVersion: tls.VersionTLS12}
	if c.TLSClientCA != "" {
		pem, err := os.ReadFile(c.TLSClientCA)
		if err != nil {
			return nil, fmt.Errorf("smpp.tls_client_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("smpp.tls_client_ca: %s holds no PEM certificate", c.TLSClientCA)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return tc, nil
}

// orOff maps the configuration's "0: never" to the library's negative
// (where 0 means its default).
func orOff(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

package main

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/smppkit/smpp/gateway"
	"github.com/smppkit/smpp/gateway/config"
)

// This file holds what operators do to a running smppd: reload its
// accounts (SIGHUP, POST /v1/reload), scrape it, renew its certificate.

// metricsHandler serves the gateway's series with the Go runtime's and
// the process's.
func metricsHandler(gw *gateway.Gateway) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(gw.Collector(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: nil})
}

// setLoader gives the daemon the way to re-read its configuration (the
// same file, environment and flags it started with).
func (d *daemon) setLoader(load func() (*config.Config, error)) { d.loader.Store(&load) }

// reload re-reads the configuration and applies the accounts and the API
// keys in it; other settings need a restart.
func (d *daemon) reload(ctx context.Context) (int, error) {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	lp := d.loader.Load()
	if lp == nil {
		return 0, errors.New("no configuration to reload")
	}
	cfg, err := (*lp)()
	if err != nil {
		d.log.Error("reload: configuration not valid; nothing changed", "err", err)
		return 0, err
	}
	var accs []gateway.Account
	for i := range cfg.Accounts {
		accs = append(accs, account(cfg, &cfg.Accounts[i]))
	}
	if err := d.gw.Reload(accs); err != nil {
		return 0, err
	}
	keys := append([]string(nil), cfg.HTTP.APIKeys...)
	d.apiKeys.Store(&keys)
	return len(accs), nil
}

func (d *daemon) keys() []string {
	if p := d.apiKeys.Load(); p != nil {
		return *p
	}
	return nil
}

// certReloader serves a certificate and key read from files, read again
// when either file's modification time changes: a renewed certificate
// (certbot, cert-manager) is served from the next handshake on, without a
// restart. The files are looked at no more than once a second.
type certReloader struct {
	certFile, keyFile string
	now               func() time.Time
	log               *slog.Logger

	mu              sync.Mutex
	cert            *tls.Certificate
	certMod, keyMod time.Time
	checked         time.Time
	lastErr         error
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, now: time.Now, log: log}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *certReloader) load() error {
	cs, err := os.Stat(r.certFile)
	if err != nil {
		return err
	}
	ks, err := os.Stat(r.keyFile)
	if err != nil {
		return err
	}
	if r.cert != nil && cs.ModTime().Equal(r.certMod) && ks.ModTime().Equal(r.keyMod) {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return err
	}
	r.cert, r.certMod, r.keyMod = &cert, cs.ModTime(), ks.ModTime()
	return nil
}

// GetCertificate is tls.Config.GetCertificate. While the new files do
// not load (a certificate written before its key), the last good pair is
// served.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := r.now(); now.Sub(r.checked) >= time.Second {
		r.checked = now
		err := r.load()
		if err != nil && (r.lastErr == nil || r.lastErr.Error() != err.Error()) && r.log != nil {
			r.log.Warn("TLS certificate not reloaded; serving the previous one", "err", err)
		}
		r.lastErr = err
	}
	return r.cert, nil
}

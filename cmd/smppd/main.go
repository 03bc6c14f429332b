// Command smppd is an SMPP gateway: SMPP clients bind to it and submit
// messages, it stores every accepted message durably, hands it to a backend
// (the built-in simulator, SMSGate), and sends the delivery receipts back.
// With no configuration it is a local SMSC simulator on an embedded store:
//
//	go run ./cmd/smppd
//
// This file reads flags and signals; wire.go picks the implementations.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/smppkit/smpp/gateway/config"
)

func main() {
	setGCDefault(os.Getenv)
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

func run(args, env []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "hash-password" {
		return hashPassword(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("smppd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o config.Overrides
	fs.StringVar(&o.SMPPAddr, "smpp-addr", "", "SMPP listen address (default 127.0.0.1:2775; env SMPP__BIND_ADDRESS)")
	fs.StringVar(&o.SMPPSAddr, "smpps-addr", "", "SMPP over TLS listen address, e.g. 127.0.0.1:2776 (env SMPP__TLS_ADDRESS; needs smpp.tls_cert and tls_key)")
	fs.StringVar(&o.HTTPAddr, "http-addr", "", "HTTP listen address for health, metrics and the API (default 127.0.0.1:3000; env HTTP__ADDRESS)")
	fs.StringVar(&o.DataDir, "data-dir", "", "directory for the embedded store (default ./smppd-data; env STORE__DATA_DIR)")
	fs.StringVar(&o.Config, "config", "", "YAML configuration file (env CONFIG_PATH); see examples/smppd.yaml")
	version := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: smppd [flags]\n       smppd hash-password   (reads a password on stdin, prints its bcrypt hash)\n\n"+
			"With no flags and no configuration, smppd is a local SMSC simulator: SMPP on 127.0.0.1:2775,\n"+
			"HTTP on 127.0.0.1:3000, an embedded SQLite store in ./smppd-data, any system_id/password accepted.\n"+
			"Configuration: YAML (--config), environment (SECTION__KEY), then these flags.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "smppd: unexpected argument %q (see smppd --help)\n", fs.Arg(0))
		return 2
	}
	if *version {
		fmt.Fprintln(stdout, "smppd", buildVersion())
		return 0
	}
	cfg, err := config.Load("", env, o)
	if err != nil {
		fmt.Fprintln(stderr, err)
		fmt.Fprintln(stderr, "smppd: not started: fix the configuration above")
		return 1
	}
	log := newLogger(cfg.Log, stderr)
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	defer startProfile()()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	d, err := start(ctx, cfg, log)
	if err != nil {
		log.Error("not started", "err", err)
		return 1
	}
	d.setLoader(func() (*config.Config, error) { return config.Load("", env, o) })
	// SIGHUP reloads the accounts and API keys (as POST /v1/reload does).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
wait:
	for {
		select {
		case <-hup:
			if n, err := d.reload(ctx); err == nil {
				log.Info("SIGHUP: configuration reloaded", "accounts", n)
			}
		case <-ctx.Done():
			log.Info("stopping: unbinding sessions, finishing work in flight")
			break wait
		case err := <-d.failed:
			log.Error("a listener failed; stopping", "err", err)
			break wait
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := d.shutdown(sctx); err != nil {
		log.Warn("stopped with errors", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.Level)) // (validated by config)
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func hashPassword(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: smppd hash-password < password.txt")
		return 2
	}
	b, err := io.ReadAll(io.LimitReader(os.Stdin, 1024))
	if err != nil {
		fmt.Fprintln(stderr, "smppd:", err)
		return 1
	}
	pw := string(b)
	for len(pw) > 0 && (pw[len(pw)-1] == '\n' || pw[len(pw)-1] == '\r') {
		pw = pw[:len(pw)-1]
	}
	h, err := config.HashPassword(pw)
	if err != nil {
		fmt.Fprintln(stderr, "smppd:", err)
		return 1
	}
	fmt.Fprintln(stdout, h)
	return 0
}

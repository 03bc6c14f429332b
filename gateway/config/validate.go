package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// checker collects the faults of one Config.
type checker struct {
	where    func(key string) string
	errs     []error
	warnings []string
}

func (c *checker) fail(key, format string, args ...any) {
	c.errs = append(c.errs, &Error{Source: c.where(key), Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) warn(format string, args ...any) {
	c.warnings = append(c.warnings, fmt.Sprintf(format, args...))
}

func (c *checker) atLeast(key string, v, min int) {
	if v < min {
		c.fail(key, "%d is too small (at least %d)", v, min)
	}
}

func (c *checker) between(key string, v, min, max int) {
	if v < min || v > max {
		c.fail(key, "%d is out of range (%d to %d)", v, min, max)
	}
}

func (c *checker) oneOf(key, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		c.fail(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}

// hostPort checks an optional listener address.
func (c *checker) hostPort(key, v string) bool {
	if v == "" {
		return true
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		c.fail(key, "%q is not host:port", v)
		return false
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n > 65535 {
		c.fail(key, "%q is not host:port (the port must be a number from 0 to 65535)", v)
		return false
	}
	return true
}

func (c *checker) readable(key, path string) bool {
	if path == "" {
		return false
	}
	if _, err := os.Stat(path); err != nil {
		c.fail(key, "%q cannot be read: %v", path, unwrapPath(err))
		return false
	}
	return true
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func (c *checker) url(key, v string, required bool) {
	if v == "" {
		if required {
			c.fail(key, "is required (an http or https URL)")
		}
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.fail(key, "%q is not an http or https URL", v)
	}
}

// validate checks every rule the schema's types cannot express.
func (cfg *Config) validate(where func(string) string) ([]error, []string) {
	c := &checker{where: where}
	c.negativeDurations(reflect.ValueOf(cfg).Elem(), "")

	s := &cfg.SMPP
	okBind := c.hostPort("smpp.bind_address", s.BindAddress)
	okTLS := c.hostPort("smpp.tls_address", s.TLSAddress)
	switch {
	case s.TLSCert != "" && s.TLSKey == "":
		c.fail("smpp.tls_key", "is required with smpp.tls_cert")
	case s.TLSCert == "" && s.TLSKey != "":
		c.fail("smpp.tls_cert", "is required with smpp.tls_key")
	case s.TLSAddress != "" && s.TLSCert == "":
		c.fail("smpp.tls_address", "%q needs smpp.tls_cert and smpp.tls_key", s.TLSAddress)
	}
	if c.readable("smpp.tls_cert", s.TLSCert) && c.readable("smpp.tls_key", s.TLSKey) {
		if _, err := tls.LoadX509KeyPair(s.TLSCert, s.TLSKey); err != nil {
			c.fail("smpp.tls_cert", "%q with smpp.tls_key %q is not a usable certificate and key: %v", s.TLSCert, s.TLSKey, err)
		}
	}
	if s.TLSClientCA != "" {
		if s.TLSCert == "" || s.TLSKey == "" {
			c.fail("smpp.tls_client_ca", "needs TLS (smpp.tls_cert and smpp.tls_key)")
		}
		if c.readable("smpp.tls_client_ca", s.TLSClientCA) {
			pem, err := os.ReadFile(s.TLSClientCA)
			if err == nil && !x509.NewCertPool().AppendCertsFromPEM(pem) {
				c.fail("smpp.tls_client_ca", "%q has no PEM certificate", s.TLSClientCA)
			}
		}
	}
	plain, secure := s.Listeners()
	okHTTP := c.hostPort("http.address", cfg.HTTP.Address)
	if okBind && okTLS && clash(plain, secure) {
		c.fail("smpp.tls_address", "%q clashes with smpp.bind_address %q (the same port)", secure, plain)
	}
	if plain == "" && secure == "" {
		c.warn("smpp.bind_address and smpp.tls_address are both empty: no SMPP listener")
	}
	if okHTTP && okBind && clash(cfg.HTTP.Address, s.BindAddress) {
		c.fail("http.address", "%q clashes with smpp.bind_address %q (the same port)", cfg.HTTP.Address, s.BindAddress)
	}
	if okHTTP && okTLS && clash(cfg.HTTP.Address, s.TLSAddress) {
		c.fail("http.address", "%q clashes with smpp.tls_address %q (the same port)", cfg.HTTP.Address, s.TLSAddress)
	}
	if s.SystemID == "" || utf8.RuneCountInString(s.SystemID) > 15 {
		c.fail("smpp.system_id", "%q must have 1 to 15 characters", s.SystemID)
	}
	c.atLeast("smpp.inbound_window", s.InboundWindow, 1)
	c.atLeast("smpp.outbound_window", s.OutboundWindow, 1)
	c.atLeast("smpp.max_pdu_length", s.MaxPDULength, 512)
	c.atLeast("smpp.max_sessions", s.MaxSessions, 0)

	for i, k := range cfg.HTTP.APIKeys {
		if strings.TrimSpace(k) == "" {
			c.fail(fmt.Sprintf("http.api_keys[%d]", i), "is empty")
		}
	}

	st := &cfg.Store
	c.oneOf("store.driver", st.Driver, "sqlite", "memory")
	if st.Driver == "sqlite" && st.DataDir == "" && st.Path == "" {
		c.fail("store.data_dir", "is required with the sqlite driver (or set store.path)")
	}
	c.oneOf("store.durability", st.Durability, "crash", "power-loss")
	c.atLeast("store.max_pending", st.MaxPending, 0)
	c.atLeast("store.commit_max_batch", st.CommitMaxBatch, 1)

	c.oneOf("log.level", cfg.Log.Level, "debug", "info", "warn", "error")
	c.oneOf("log.format", cfg.Log.Format, "text", "json")

	c.retry("receipts", cfg.Receipts.RetryMin, cfg.Receipts.RetryMax)
	d := &cfg.Dispatch
	c.retry("dispatch", d.RetryMin, d.RetryMax)
	c.atLeast("dispatch.max_attempts", d.MaxAttempts, 0)
	if d.MaxValidity > 0 && d.DefaultValidity > d.MaxValidity {
		c.fail("dispatch.default_validity", "%s is more than dispatch.max_validity %s", fmtDuration(d.DefaultValidity), fmtDuration(d.MaxValidity))
	}

	c.oneOf("routes.default", cfg.Routes.Default, Backends...)

	sim := &cfg.Simulator
	total := 0
	for _, name := range sortedKeys(sim.Outcomes) {
		w := sim.Outcomes[name]
		key := "simulator.outcomes." + name
		if _, ok := ParseOutcome(name); !ok {
			c.fail(key, "%q is not an outcome (%s)", name, strings.Join(outcomeNames, ", "))
		}
		if w < 0 {
			c.fail(key, "%d is negative", w)
		} else {
			total += w
		}
	}
	if total == 0 {
		c.fail("simulator.outcomes", "needs at least one weight above 0 (like delivered: 100)")
	}
	for i, r := range sim.Rules {
		key := fmt.Sprintf("simulator.rules[%d]", i)
		if r.Prefix == "" {
			c.fail(key+".prefix", "is required (the destination digits the rule applies to)")
		} else if !isDigits(strings.TrimPrefix(r.Prefix, "+")) {
			c.fail(key+".prefix", "%q is not a digits prefix", r.Prefix)
		}
		if r.Outcome != "" {
			if _, ok := ParseOutcome(r.Outcome); !ok {
				c.fail(key+".outcome", "%q is not an outcome (%s)", r.Outcome, strings.Join(outcomeNames, ", "))
			}
		}
		if r.NoAnswer && r.SubmitStatus != 0 {
			c.fail(key, "has both no_answer and submit_status; give one")
		}
	}

	g := &cfg.Gateway
	c.url("gateway.api_base_url", g.APIBaseURL, true)
	c.url("gateway.webhook_base_url", g.WebhookBaseURL, false)
	c.between("gateway.sim_number", g.SIMNumber, 0, 3)
	c.between("gateway.priority", g.Priority, -128, 127)
	c.atLeast("gateway.max_in_flight", g.MaxInFlight, 1)

	c.accounts(cfg)

	if len(cfg.Accounts) == 0 && !cfg.passThrough {
		open := ""
		for _, l := range []struct {
			key, addr string
			ok        bool
		}{
			{"smpp.bind_address", s.BindAddress, okBind}, {"smpp.tls_address", s.TLSAddress, okTLS}, {"http.address", cfg.HTTP.Address, okHTTP},
		} {
			if l.ok && l.addr != "" && !loopback(l.addr) && open == "" {
				open = l.key
				c.fail(l.key, "%q is not a loopback address, and with no accounts configured any system_id and password would be accepted: add accounts, or listen on 127.0.0.1 only, or set gateway.api_base_url to check binds against SMSGate", l.addr)
			}
		}
		if open == "" {
			c.warn("no accounts configured: any system_id and password is accepted (allowed because every listener is on a loopback address)")
		}
	}
	return c.errs, c.warnings
}

func (c *checker) retry(section string, min, max time.Duration) {
	if min <= 0 {
		c.fail(section+".retry_min", "must be more than 0")
	}
	if max < min {
		c.fail(section+".retry_max", "%s is less than %s.retry_min %s", fmtDuration(max), section, fmtDuration(min))
	}
}

func (c *checker) accounts(cfg *Config) {
	seen := map[string]int{}
	usesSMSGate := cfg.Routes.Default == "smsgate"
	for i := range cfg.Accounts {
		a := &cfg.Accounts[i]
		key := fmt.Sprintf("accounts[%d]", i)
		switch {
		case a.SystemID == "":
			c.fail(key+".system_id", "is required")
		case utf8.RuneCountInString(a.SystemID) > 15:
			c.fail(key+".system_id", "%q is longer than 15 characters", a.SystemID)
		default:
			if j, dup := seen[a.SystemID]; dup {
				c.fail(key+".system_id", "%q is also accounts[%d]'s", a.SystemID, j)
			}
			seen[a.SystemID] = i
		}
		switch {
		case a.Password != "" && a.PasswordHash != "":
			c.fail(key, "has both password and password_hash; give one")
		case a.Password == "" && a.PasswordHash == "":
			c.fail(key, "needs a password or a password_hash")
		case a.PasswordHash != "":
			if _, err := bcrypt.Cost([]byte(a.PasswordHash)); err != nil {
				c.fail(key+".password_hash", "is not a bcrypt hash (like $2a$10$…; config.HashPassword makes one)")
			}
		default:
			c.warn("account %q: its password is in plain text in the configuration; prefer password_hash (a bcrypt hash)", a.SystemID)
			if len(a.Password) > 8 {
				c.warn("account %q: its password is longer than 8 characters, which SMPP v3.4 clients cannot send", a.SystemID)
			}
		}
		if len(a.BindTypes) == 0 {
			c.fail(key+".bind_types", "is empty: the account could never bind (transmitter, receiver, transceiver)")
		}
		for _, t := range a.BindTypes {
			if t != Transmitter && t != Receiver && t != Transceiver {
				c.fail(key+".bind_types", "%q is not a bind type (transmitter, receiver, transceiver, or tx, rx, trx)", t)
			}
		}
		for _, p := range a.AllowCIDRs {
			if _, err := parsePrefix(p); err != nil {
				c.fail(key+".allow_cidrs", "%q is not a CIDR (like 10.0.0.0/8) or an IP address", p)
			}
		}
		c.atLeast(key+".max_binds", a.MaxBinds, 0)
		if a.Throughput < 0 || math.IsNaN(a.Throughput) || math.IsInf(a.Throughput, 0) {
			c.fail(key+".throughput", "%v is not allowed (messages per second, 0 or more)", a.Throughput)
		}
		c.atLeast(key+".burst", a.Burst, 0)
		c.atLeast(key+".max_in_flight", a.MaxInFlight, 0)
		for _, p := range a.Addresses {
			if !validPattern(p) {
				c.fail(key+".addresses", "%q is not an address (digits, or a digits prefix ending in *)", p)
			}
		}
		for _, p := range a.SourceAddresses {
			if !validPattern(p) && !validAlphanumeric(p) {
				c.fail(key+".source_addresses", "%q is not an address (digits, a digits prefix ending in *, or an alphanumeric sender of at most 11 characters)", p)
			}
		}
		if a.Route != "" {
			c.oneOf(key+".route", a.Route, Backends...)
		}
		if cfg.Route(a) == "smsgate" {
			usesSMSGate = true
			if !cfg.passThrough && a.SMSGateUsername == "" && cfg.Gateway.Username == "" {
				c.fail(key+".smsgate_username", "is required: account %q routes to smsgate and gateway.username is empty", a.SystemID)
			}
		}
		if (a.SMSGateUsername == "") != (a.SMSGatePassword == "") {
			c.fail(key, "needs both smsgate_username and smsgate_password, or neither")
		}
		if a.TLSClientCN != "" && cfg.SMPP.TLSClientCA == "" {
			c.fail(key+".tls_client_cn", "needs smpp.tls_client_ca (client certificates are not asked for without it)")
		}
	}
	if len(cfg.Accounts) == 0 && cfg.Routes.Default == "smsgate" && !cfg.passThrough && cfg.Gateway.Username == "" {
		c.fail("routes.default", "smsgate needs gateway.username and gateway.password, or gateway.api_base_url set explicitly (pass-through: binds use their SMSGate credentials)")
	}
	if (cfg.Gateway.Username == "") != (cfg.Gateway.Password == "") {
		c.fail("gateway.password", "gateway.username and gateway.password go together: give both or neither")
	}
	if usesSMSGate && cfg.Gateway.WebhookBaseURL == "" {
		c.warn("gateway.webhook_base_url is empty: SMSGate cannot report outcomes or MO messages, so no receipts or MO messages come from it")
	}
}

// negativeDurations reports durations below 0 anywhere in v (Load's
// parsing refuses them already; a Config built in code may have them).
func (c *checker) negativeDurations(v reflect.Value, key string) {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if name := yamlName(t.Field(i)); name != "" {
				c.negativeDurations(v.Field(i), joinKey(key, name))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			c.negativeDurations(v.Index(i), fmt.Sprintf("%s[%d]", key, i))
		}
	case reflect.Int64:
		if v.Type() == durationType && v.Int() < 0 {
			c.fail(key, "%s is negative", fmtDuration(time.Duration(v.Int())))
		}
	}
}

// clash reports whether two listener addresses would take the same port.
func clash(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	ha, pa, err1 := net.SplitHostPort(a)
	hb, pb, err2 := net.SplitHostPort(b)
	if err1 != nil || err2 != nil || pa != pb || pa == "0" {
		return false
	}
	any := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return ha == hb || any(ha) || any(hb)
}

// loopback reports whether a listener address accepts only local
// connections.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// validPattern reports whether p is an address pattern: digits, or a
// digits prefix ending in * ("*" alone matches every address).
func validPattern(p string) bool {
	p = strings.TrimPrefix(p, "+")
	if pre, ok := strings.CutSuffix(p, "*"); ok {
		return pre == "" || isDigits(pre) && len(pre) <= 20
	}
	return isDigits(p) && len(p) <= 20
}

// validAlphanumeric reports whether p can be an alphanumeric sender (GSM
// allows 11 characters).
func validAlphanumeric(p string) bool {
	if p == "" || len(p) > 11 {
		return false
	}
	for _, r := range p {
		if r < ' ' || r > '~' || r == '*' {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// fmtDuration writes a duration as the configuration would: 72h, 5m, 30s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/pdu"
	"go.yaml.in/yaml/v3"
)

// load writes doc to smppd.yaml in a fresh working directory (no file if
// doc is empty) and loads it.
func load(t *testing.T, doc string, env []string, flags Overrides) (*Config, error) {
	t.Helper()
	t.Chdir(t.TempDir())
	path := ""
	if doc != "" {
		if err := os.WriteFile("smppd.yaml", []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		path = "smppd.yaml"
	}
	return Load(path, env, flags)
}

// lines splits a joined error into its messages.
func lines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

// writeCert writes a self-signed certificate and its key as cert.pem and
// key.pem in the working directory.
func writeCert(t *testing.T) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smppd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile("cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	must(t, os.WriteFile("key.pem", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	must(t, os.WriteFile("notpem.txt", []byte("not a certificate\n"), 0o644))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

const bcryptOfSecret = "$2a$10$JY8jO3nRaCGXiXCx/hRF9eVCG/bxOxA8ocS1axMaVYiF7puwizbVG" // "change-me"

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		env   []string
		flags Overrides
		tls   bool // write cert.pem, key.pem, notpem.txt first
		want  []string
	}{
		{name: "unknown key", doc: "smpp:\n  bind_adress: 127.0.0.1:2775\n", want: []string{
			`config: smppd.yaml line 2: unknown key "smpp.bind_adress" (known keys in smpp: bind_address, tls_address, tls_cert, tls_key, tls_client_ca, system_id, inbound_window, outbound_window, enquire_link_interval, inactivity_timeout, bind_timeout, response_timeout, max_pdu_length, max_sessions, lenient)`,
		}},
		{name: "unknown section", doc: "log:\n  level: info\nsmtp:\n  x: 1\n", want: []string{
			`config: smppd.yaml line 3: unknown key "smtp" (known sections: smpp, http, store, log, receipts, dispatch, routes, simulator, gateway, accounts)`,
		}},
		{name: "unknown account key", doc: "accounts:\n  - system_id: a\n    password_hash: " + bcryptOfSecret + "\n    pasword: x\n", want: []string{
			`config: smppd.yaml line 4: unknown key "accounts[0].pasword" (known keys in accounts[0]: system_id, password, password_hash, bind_types, allow_cidrs, max_binds, throughput, burst, max_in_flight, addresses, source_addresses, route, smsgate_username, smsgate_password, disabled, tls_client_cn)`,
		}},
		{name: "key set twice", doc: "log:\n  level: info\n  format: text\n  level: debug\n", want: []string{
			`config: smppd.yaml line 4: log.level: set twice (first on line 2)`,
		}},
		{name: "bad scalars", doc: `smpp:
  inbound_window: many
  lenient: yes
  enquire_link_interval: 30
  bind_timeout: -5s
simulator:
  error_code: 70000
accounts:
  - system_id: a
    password_hash: ` + bcryptOfSecret + `
    throughput: fast
`, want: []string{
			`config: smppd.yaml line 2: smpp.inbound_window: "many" is not an integer`,
			`config: smppd.yaml line 3: smpp.lenient: "yes" is not true or false`,
			`config: smppd.yaml line 4: smpp.enquire_link_interval: "30" is not a duration (like 500ms, 30s, 5m, 72h)`,
			`config: smppd.yaml line 5: smpp.bind_timeout: "-5s" is negative`,
			`config: smppd.yaml line 7: simulator.error_code: "70000" is not a whole number from 0 to 65535`,
			`config: smppd.yaml line 11: accounts[0].throughput: "fast" is not a number`,
		}},
		{name: "wrong shapes", doc: "smpp: 5\nhttp:\n  api_keys: k1\n  address: [a]\nsimulator:\n  outcomes: [delivered]\n  seed:\n", want: []string{
			`config: smppd.yaml line 1: smpp: must be a mapping of keys, not a single value`,
			`config: smppd.yaml line 3: http.api_keys: must be a list (- item lines, or [a, b]), not a single value`,
			`config: smppd.yaml line 4: http.address: must be a single value (a string), not a list`,
			`config: smppd.yaml line 6: simulator.outcomes: must be a mapping (name: weight), not a list`,
			`config: smppd.yaml line 7: simulator.seed: no value (an integer)`,
		}},
		{name: "yaml syntax", doc: "smpp:\n  bind_address: 127.0.0.1:2775\n   system_id: x\n", want: []string{
			`config: smppd.yaml line 3: mapping values are not allowed in this context`,
		}},
		{name: "missing file", flags: Overrides{Config: "nowhere.yaml"}, want: []string{
			`config: cannot read the config file: open nowhere.yaml: no such file or directory`,
		}},
		{name: "addresses", doc: "smpp:\n  bind_address: localhost\n  tls_address: 127.0.0.1:tls\nhttp:\n  address: 127.0.0.1:70000\n", want: []string{
			`config: smppd.yaml line 2: smpp.bind_address: "localhost" is not host:port`,
			`config: smppd.yaml line 3: smpp.tls_address: "127.0.0.1:tls" is not host:port (the port must be a number from 0 to 65535)`,
			`config: smppd.yaml line 3: smpp.tls_address: "127.0.0.1:tls" needs smpp.tls_cert and smpp.tls_key`,
			`config: smppd.yaml line 5: http.address: "127.0.0.1:70000" is not host:port (the port must be a number from 0 to 65535)`,
		}},
		{name: "tls address without cert", doc: "smpp:\n  tls_address: 127.0.0.1:2776\n", want: []string{
			`config: smppd.yaml line 2: smpp.tls_address: "127.0.0.1:2776" needs smpp.tls_cert and smpp.tls_key`,
		}},
		{name: "tls cert without key", doc: "smpp:\n  tls_cert: cert.pem\n", tls: true, want: []string{
			`config: smpp.tls_key: is required with smpp.tls_cert`,
		}},
		{name: "tls key without cert", env: []string{"SMPP__TLS_KEY=key.pem"}, tls: true, want: []string{
			`config: smpp.tls_cert: is required with smpp.tls_key`,
		}},
		{name: "tls files missing", doc: "smpp:\n  tls_cert: nocert.pem\n  tls_key: nokey.pem\n", want: []string{
			`config: smppd.yaml line 2: smpp.tls_cert: "nocert.pem" cannot be read: no such file or directory`,
		}},
		{name: "tls files not a pair", doc: "smpp:\n  tls_cert: notpem.txt\n  tls_key: key.pem\n", tls: true, want: []string{
			`config: smppd.yaml line 2: smpp.tls_cert: "notpem.txt" with smpp.tls_key "key.pem" is not a usable certificate and key: tls: failed to find any PEM data in certificate input`,
		}},
		{name: "client ca", doc: "smpp:\n  tls_client_ca: notpem.txt\naccounts:\n  - system_id: a\n    password_hash: " + bcryptOfSecret + "\n    tls_client_cn: a.example\n", tls: true, want: []string{
			`config: smppd.yaml line 2: smpp.tls_client_ca: needs TLS (smpp.tls_cert and smpp.tls_key)`,
			`config: smppd.yaml line 2: smpp.tls_client_ca: "notpem.txt" has no PEM certificate`,
		}},
		{name: "tls_client_cn without ca", doc: "accounts:\n  - system_id: a\n    password_hash: " + bcryptOfSecret + "\n    tls_client_cn: a.example\n", want: []string{
			`config: smppd.yaml line 4: accounts[0].tls_client_cn: needs smpp.tls_client_ca (client certificates are not asked for without it)`,
		}},
		{name: "listener clash", doc: "smpp:\n  bind_address: 0.0.0.0:2775\n  tls_address: 127.0.0.1:2775\n  tls_cert: cert.pem\n  tls_key: key.pem\nhttp:\n  address: :2775\naccounts:\n  - system_id: a\n    password_hash: " + bcryptOfSecret + "\n", tls: true, want: []string{
			`config: smppd.yaml line 3: smpp.tls_address: "127.0.0.1:2775" clashes with smpp.bind_address "0.0.0.0:2775" (the same port)`,
			`config: smppd.yaml line 7: http.address: ":2775" clashes with smpp.bind_address "0.0.0.0:2775" (the same port)`,
			`config: smppd.yaml line 7: http.address: ":2775" clashes with smpp.tls_address "127.0.0.1:2775" (the same port)`,
		}},
		{name: "bounds", doc: `smpp:
  system_id: a-very-long-system-id
  inbound_window: 0
  outbound_window: -1
  max_pdu_length: 100
  max_sessions: -1
store:
  max_pending: -1
  commit_max_batch: 0
dispatch:
  max_attempts: -2
gateway:
  sim_number: 4
  priority: 200
  max_in_flight: 0
`, want: []string{
			`config: smppd.yaml line 2: smpp.system_id: "a-very-long-system-id" must have 1 to 15 characters`,
			`config: smppd.yaml line 3: smpp.inbound_window: 0 is too small (at least 1)`,
			`config: smppd.yaml line 4: smpp.outbound_window: -1 is too small (at least 1)`,
			`config: smppd.yaml line 5: smpp.max_pdu_length: 100 is too small (at least 512)`,
			`config: smppd.yaml line 6: smpp.max_sessions: -1 is too small (at least 0)`,
			`config: smppd.yaml line 8: store.max_pending: -1 is too small (at least 0)`,
			`config: smppd.yaml line 9: store.commit_max_batch: 0 is too small (at least 1)`,
			`config: smppd.yaml line 11: dispatch.max_attempts: -2 is too small (at least 0)`,
			`config: smppd.yaml line 13: gateway.sim_number: 4 is out of range (0 to 3)`,
			`config: smppd.yaml line 14: gateway.priority: 200 is out of range (-128 to 127)`,
			`config: smppd.yaml line 15: gateway.max_in_flight: 0 is too small (at least 1)`,
		}},
		{name: "enums", doc: "store:\n  driver: mysql\n  durability: always\nlog:\n  level: loud\n  format: xml\nroutes:\n  default: kannel\n", want: []string{
			`config: smppd.yaml line 2: store.driver: "mysql" is not one of sqlite, memory`,
			`config: smppd.yaml line 3: store.durability: "always" is not one of crash, power-loss`,
			`config: smppd.yaml line 5: log.level: "loud" is not one of debug, info, warn, error`,
			`config: smppd.yaml line 6: log.format: "xml" is not one of text, json`,
			`config: smppd.yaml line 8: routes.default: "kannel" is not one of simulator, smsgate`,
		}},
		{name: "sqlite needs a place", doc: "store:\n  data_dir: \"\"\n", want: []string{
			`config: smppd.yaml line 2: store.data_dir: is required with the sqlite driver (or set store.path)`,
		}},
		{name: "retries and validity", doc: "receipts:\n  retry_min: 0s\ndispatch:\n  retry_min: 10m\n  default_validity: 48h\n  max_validity: 24h\n", want: []string{
			`config: smppd.yaml line 2: receipts.retry_min: must be more than 0`,
			`config: dispatch.retry_max: 5m is less than dispatch.retry_min 10m`,
			`config: smppd.yaml line 5: dispatch.default_validity: 48h is more than dispatch.max_validity 24h`,
		}},
		{name: "outcomes", doc: "simulator:\n  outcomes:\n    delivered: 0\n    lost: 1\n    rejected: -1\n", want: []string{
			`config: smppd.yaml line 4: simulator.outcomes.lost: "lost" is not an outcome (delivered, undeliverable, expired, rejected, deleted, skipped)`,
			`config: smppd.yaml line 5: simulator.outcomes.rejected: -1 is negative`,
		}},
		{name: "outcomes all zero", doc: "simulator:\n  outcomes: {delivered: 0, undeliverable: 0}\n", want: []string{
			`config: smppd.yaml line 2: simulator.outcomes: needs at least one weight above 0 (like delivered: 100)`,
		}},
		{name: "rules", doc: `simulator:
  rules:
    - outcome: delivered
    - prefix: 49x
      outcome: ENROUTE
    - prefix: "+49"
      submit_status: ESME_RWHATEVER
    - prefix: "49"
      submit_status: ESME_RTHROTTLED
      no_answer: true
`, want: []string{
			`config: smppd.yaml line 7: simulator.rules[2].submit_status: "ESME_RWHATEVER" is not an SMPP status name (like ESME_RTHROTTLED) or number`,
			`config: smppd.yaml line 3: simulator.rules[0].prefix: is required (the destination digits the rule applies to)`,
			`config: smppd.yaml line 4: simulator.rules[1].prefix: "49x" is not a digits prefix`,
			`config: smppd.yaml line 5: simulator.rules[1].outcome: "ENROUTE" is not an outcome (delivered, undeliverable, expired, rejected, deleted, skipped)`,
			`config: smppd.yaml line 8: simulator.rules[3]: has both no_answer and submit_status; give one`,
		}},
		{name: "gateway urls", doc: "gateway:\n  api_base_url: api.sms-gate.app\n  webhook_base_url: ftp://x/y\n  username: u\n", want: []string{
			`config: smppd.yaml line 2: gateway.api_base_url: "api.sms-gate.app" is not an http or https URL`,
			`config: smppd.yaml line 3: gateway.webhook_base_url: "ftp://x/y" is not an http or https URL`,
			`config: gateway.password: gateway.username and gateway.password go together: give both or neither`,
		}},
		{name: "accounts", doc: `accounts:
  - password: p
  - system_id: sixteen-chars-id
    password: p
  - system_id: bob
    password: p
    password_hash: ` + bcryptOfSecret + `
  - system_id: bob
  - system_id: carol
    password_hash: notahash
    bind_types: [tx, tranceiver]
    allow_cidrs: [10.0.0.0/8, 10.0.0.0/33, "::1", eth0]
    max_binds: -1
    throughput: -1
    burst: -1
    max_in_flight: -1
    addresses: ["+4915*", "49 15", "*", "49*1"]
    source_addresses: [ACME, "+4915*", TooLongSenderName]
    route: kannel
    smsgate_username: u
  - system_id: dave
    password_hash: ` + bcryptOfSecret + `
    bind_types: []
`, want: []string{
			`config: smppd.yaml line 2: accounts[0].system_id: is required`,
			`config: smppd.yaml line 3: accounts[1].system_id: "sixteen-chars-id" is longer than 15 characters`,
			`config: smppd.yaml line 5: accounts[2]: has both password and password_hash; give one`,
			`config: smppd.yaml line 8: accounts[3].system_id: "bob" is also accounts[2]'s`,
			`config: smppd.yaml line 8: accounts[3]: needs a password or a password_hash`,
			`config: smppd.yaml line 10: accounts[4].password_hash: is not a bcrypt hash (like $2a$10$…; config.HashPassword makes one)`,
			`config: smppd.yaml line 11: accounts[4].bind_types: "tranceiver" is not a bind type (transmitter, receiver, transceiver, or tx, rx, trx)`,
			`config: smppd.yaml line 12: accounts[4].allow_cidrs: "10.0.0.0/33" is not a CIDR (like 10.0.0.0/8) or an IP address`,
			`config: smppd.yaml line 12: accounts[4].allow_cidrs: "eth0" is not a CIDR (like 10.0.0.0/8) or an IP address`,
			`config: smppd.yaml line 13: accounts[4].max_binds: -1 is too small (at least 0)`,
			`config: smppd.yaml line 14: accounts[4].throughput: -1 is not allowed (messages per second, 0 or more)`,
			`config: smppd.yaml line 15: accounts[4].burst: -1 is too small (at least 0)`,
			`config: smppd.yaml line 16: accounts[4].max_in_flight: -1 is too small (at least 0)`,
			`config: smppd.yaml line 17: accounts[4].addresses: "49 15" is not an address (digits, or a digits prefix ending in *)`,
			`config: smppd.yaml line 17: accounts[4].addresses: "49*1" is not an address (digits, or a digits prefix ending in *)`,
			`config: smppd.yaml line 18: accounts[4].source_addresses: "TooLongSenderName" is not an address (digits, a digits prefix ending in *, or an alphanumeric sender of at most 11 characters)`,
			`config: smppd.yaml line 19: accounts[4].route: "kannel" is not one of simulator, smsgate`,
			`config: smppd.yaml line 9: accounts[4]: needs both smsgate_username and smsgate_password, or neither`,
			`config: smppd.yaml line 23: accounts[5].bind_types: is empty: the account could never bind (transmitter, receiver, transceiver)`,
		}},
		{name: "smsgate route without accounts needs credentials", doc: "routes:\n  default: smsgate\n", want: []string{
			`config: smppd.yaml line 2: routes.default: smsgate needs gateway.username and gateway.password, or gateway.api_base_url set explicitly (pass-through: binds use their SMSGate credentials)`,
		}},
		{name: "smsgate route needs credentials", doc: "routes:\n  default: smsgate\naccounts:\n  - system_id: a\n    password_hash: " + bcryptOfSecret + "\n", want: []string{
			`config: smppd.yaml line 4: accounts[0].smsgate_username: is required: account "a" routes to smsgate and gateway.username is empty`,
		}},
		{name: "no accounts on a public address", doc: "smpp:\n  bind_address: 0.0.0.0:2775\n", want: []string{
			`config: smppd.yaml line 2: smpp.bind_address: "0.0.0.0:2775" is not a loopback address, and with no accounts configured any system_id and password would be accepted: add accounts, or listen on 127.0.0.1 only, or set gateway.api_base_url to check binds against SMSGate`,
		}},
		{name: "no accounts, http on all interfaces by flag", flags: Overrides{HTTPAddr: ":3000"}, want: []string{
			`config: flag --http-addr: http.address: ":3000" is not a loopback address, and with no accounts configured any system_id and password would be accepted: add accounts, or listen on 127.0.0.1 only, or set gateway.api_base_url to check binds against SMSGate`,
		}},
		{name: "env errors", env: []string{
			"PATH=/usr/bin", "HTTP_PROXY=http://proxy", "FOO__BAR=1", "CONFIG_PATH=",
			"SMPP__BIND_ADRESS=x", "LOG__LEVEL=loud", "ACCOUNTS__0__SYSTEM_ID=a", "SIMULATOR__RULES=x",
			"SMPP__INBOUND_WINDOW=ten", "SIMULATOR__OUTCOMES=delivered", "SIMULATOR__OUTCOMES__LOST=x", "STORE__DRIVER__X=1", "SMPP__=1",
		}, want: []string{
			`config: env ACCOUNTS__0__SYSTEM_ID: accounts: can be set only in the config file`,
			`config: env SIMULATOR__OUTCOMES: simulator.outcomes: "delivered" is not a list of name:weight pairs (like delivered:90,undeliverable:10)`,
			`config: env SIMULATOR__OUTCOMES__LOST: simulator.outcomes.lost: "x" is not an integer`,
			`config: env SIMULATOR__RULES: simulator.rules: can be set only in the config file`,
			`config: env SMPP__: unknown key "smpp." (known keys in smpp: bind_address, tls_address, tls_cert, tls_key, tls_client_ca, system_id, inbound_window, outbound_window, enquire_link_interval, inactivity_timeout, bind_timeout, response_timeout, max_pdu_length, max_sessions, lenient)`,
			`config: env SMPP__BIND_ADRESS: unknown key "smpp.bind_adress" (known keys in smpp: bind_address, tls_address, tls_cert, tls_key, tls_client_ca, system_id, inbound_window, outbound_window, enquire_link_interval, inactivity_timeout, bind_timeout, response_timeout, max_pdu_length, max_sessions, lenient)`,
			`config: env SMPP__INBOUND_WINDOW: smpp.inbound_window: "ten" is not an integer`,
			`config: env STORE__DRIVER__X: unknown key "store.driver.x" (store.driver has no keys below it)`,
			`config: env LOG__LEVEL: log.level: "loud" is not one of debug, info, warn, error`,
		}},
		{name: "flag errors", flags: Overrides{SMPPAddr: "nowhere", DataDir: "d"}, want: []string{
			`config: flag --smpp-addr: smpp.bind_address: "nowhere" is not host:port`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			if tt.tls {
				writeCert(t)
			}
			path := ""
			if tt.doc != "" {
				must(t, os.WriteFile("smppd.yaml", []byte(tt.doc), 0o644))
				path = "smppd.yaml"
			}
			cfg, err := Load(path, tt.env, tt.flags)
			if err == nil {
				t.Fatalf("Load succeeded (%+v), want errors", cfg)
			}
			if got := lines(err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("%T is not a *config.Error", err)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := load(t, "", nil, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	want.Store.Path = "smppd-data/smppd.db"
	want.Warnings = []string{"no accounts configured: any system_id and password is accepted (allowed because every listener is on a loopback address)"}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load with nothing set:\n%+v\nwant\n%+v", cfg, want)
	}
	if cfg.PassThrough() {
		t.Error("pass-through is on by default")
	}
	if err := Defaults().Validate(); err != nil {
		t.Errorf("Defaults().Validate(): %v", err)
	}
	if cfg.SMPP.MaxPDULength != pdu.DefaultMaxLength {
		t.Errorf("max_pdu_length %d, want pdu.DefaultMaxLength", cfg.SMPP.MaxPDULength)
	}
	// An empty file, a file of only comments and sections with no keys
	// (or lists with no items) are the defaults too.
	for _, doc := range []string{"\n", "# nothing\n", "~\n", "smpp:\n  # bind_address: x\nsimulator:\n  outcomes:\n  rules:\nhttp:\n  api_keys:\n"} {
		got, err := load(t, doc, nil, Overrides{})
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("file %q: %v, %+v", doc, err, got)
		}
	}
}

func TestValidateInCode(t *testing.T) {
	c := Defaults()
	c.SMPP.InboundWindow = 0
	c.Receipts.MaxAge = -time.Second
	c.Accounts = []Account{{SystemID: "a", Password: "p", BindTypes: []string{"trx"}}}
	got := lines(c.Validate())
	want := []string{
		`config: receipts.max_age: -1s is negative`,
		`config: smpp.inbound_window: 0 is too small (at least 1)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Validate:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if c.Accounts[0].BindTypes[0] != Transceiver {
		t.Errorf("bind type trx became %q, want transceiver", c.Accounts[0].BindTypes[0])
	}
}

func TestPrecedence(t *testing.T) {
	doc := `smpp:
  bind_address: 127.0.0.1:1001
  bind_timeout: 5s
  system_id: fromfile
http:
  address: 127.0.0.1:1003
log:
  level: warn
store:
  data_dir: filedir
simulator:
  outcomes:
    delivered: 1
accounts:
  - system_id: a
    password_hash: ` + bcryptOfSecret + `
`
	env := []string{
		"SMPP__BIND_ADDRESS=127.0.0.1:2001", "SMPP__SYSTEM_ID=fromenv", "HTTP__ADDRESS=127.0.0.1:2003",
		"STORE__DATA_DIR=envdir", "HTTP__API_KEYS=k1, k2,,", "SIMULATOR__OUTCOMES__UNDELIVERABLE=3",
		"SMPP__ENQUIRE_LINK_INTERVAL=1m", "SMPP__LENIENT=true", "STORE__DURABILITY=power-loss",
		"smpp__max_sessions=7", // variables are read whatever their case
	}
	flags := Overrides{SMPPAddr: "127.0.0.1:3001", HTTPAddr: "127.0.0.1:3003", DataDir: "flagdir"}
	cfg, err := load(t, doc, env, flags)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.SMPP
	checks := []struct {
		key       string
		got, want any
	}{
		{"smpp.bind_address (flag over env over file)", s.BindAddress, "127.0.0.1:3001"},
		{"smpp.bind_timeout (file)", s.BindTimeout, 5 * time.Second},
		{"smpp.system_id (env over file)", s.SystemID, "fromenv"},
		{"http.address (flag)", cfg.HTTP.Address, "127.0.0.1:3003"},
		{"http.api_keys (env list)", cfg.HTTP.APIKeys, []string{"k1", "k2"}},
		{"log.level (file)", cfg.Log.Level, "warn"},
		{"store.data_dir (flag)", cfg.Store.DataDir, "flagdir"},
		{"store.path (follows data_dir)", cfg.Store.Path, "flagdir/smppd.db"},
		{"store.durability", cfg.Store.DurabilityLevel(), store.PowerLoss},
		{"simulator.outcomes (env weight on file's)", cfg.Simulator.Outcomes, map[string]int{"delivered": 1, "undeliverable": 3}},
		{"smpp.enquire_link_interval", s.EnquireLinkInterval, time.Minute},
		{"smpp.lenient", s.Lenient, true},
		{"smpp.max_sessions (lower-case env)", s.MaxSessions, 7},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.key, c.got, c.want)
		}
	}

	// A whole map from the environment replaces the file's.
	cfg, err = load(t, doc, []string{"SIMULATOR__OUTCOMES=undeliverable:1, expired=2"}, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"undeliverable": 1, "expired": 2}; !reflect.DeepEqual(cfg.Simulator.Outcomes, want) {
		t.Errorf("outcomes %v, want %v", cfg.Simulator.Outcomes, want)
	}
	if w := cfg.Simulator.OutcomeWeights(); w[store.Undeliverable] != 1 || w[store.Expired] != 2 || len(w) != 2 {
		t.Errorf("OutcomeWeights %v", w)
	}
	// An empty variable sets the empty value: the listener is off.
	cfg, err = load(t, doc, []string{"HTTP__ADDRESS="}, Overrides{})
	if err != nil || cfg.HTTP.Address != "" {
		t.Errorf("HTTP__ADDRESS= gave %q, %v", cfg.HTTP.Address, err)
	}
	// An explicit store.path is kept.
	cfg, err = load(t, "store:\n  path: /tmp/x.db\n", nil, Overrides{DataDir: "d"})
	if err != nil || cfg.Store.Path != "/tmp/x.db" {
		t.Errorf("store.path %q, %v", cfg.Store.Path, err)
	}
}

func TestConfigFileChoice(t *testing.T) {
	t.Chdir(t.TempDir())
	must(t, os.WriteFile("a.yaml", []byte("smpp:\n  system_id: a\n"), 0o644))
	must(t, os.WriteFile("b.yaml", []byte("smpp:\n  system_id: b\n"), 0o644))
	must(t, os.WriteFile("c.yaml", []byte("smpp:\n  system_id: c\n"), 0o644))
	env := []string{"CONFIG_PATH=c.yaml"}
	for _, tt := range []struct {
		path  string
		flags Overrides
		env   []string
		want  string
	}{
		{"a.yaml", Overrides{Config: "b.yaml"}, env, "a"},
		{"", Overrides{Config: "b.yaml"}, env, "b"},
		{"", Overrides{}, env, "c"},
		{"", Overrides{}, nil, "smppd"},
	} {
		cfg, err := Load(tt.path, tt.env, tt.flags)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.SMPP.SystemID != tt.want {
			t.Errorf("Load(%q, %v, %+v) read system_id %q, want %q", tt.path, tt.env, tt.flags, cfg.SMPP.SystemID, tt.want)
		}
	}
}

func TestTLS(t *testing.T) {
	t.Chdir(t.TempDir())
	writeCert(t)
	// smpp-server's way: cert and key, no tls_address: bind_address is TLS.
	cfg, err := Load("", []string{"SMPP__TLS_CERT=cert.pem", "SMPP__TLS_KEY=key.pem"}, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if plain, tls := cfg.SMPP.Listeners(); plain != "" || tls != "127.0.0.1:2775" {
		t.Errorf("Listeners() = %q, %q; want none and TLS on 127.0.0.1:2775", plain, tls)
	}
	cfg, err = Load("", []string{"SMPP__TLS_CERT=cert.pem", "SMPP__TLS_KEY=key.pem", "SMPP__TLS_CLIENT_CA=cert.pem"},
		Overrides{SMPPSAddr: "127.0.0.1:2776"})
	if err != nil {
		t.Fatal(err)
	}
	if plain, tls := cfg.SMPP.Listeners(); plain != "127.0.0.1:2775" || tls != "127.0.0.1:2776" {
		t.Errorf("Listeners() = %q, %q; want both", plain, tls)
	}
}

func TestNoAccounts(t *testing.T) {
	cfg, err := load(t, "", []string{"SMPP__BIND_ADDRESS=[::1]:2775", "HTTP__ADDRESS=localhost:3000"}, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "any system_id and password is accepted") {
		t.Errorf("warnings %q", cfg.Warnings)
	}
	// With accounts, any address.
	cfg, err = load(t, "accounts:\n  - system_id: a\n    password: pw\n", nil, Overrides{SMPPAddr: "0.0.0.0:2775"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`account "a": its password is in plain text in the configuration; prefer password_hash (a bcrypt hash)`}
	if !reflect.DeepEqual(cfg.Warnings, want) {
		t.Errorf("warnings %q, want %q", cfg.Warnings, want)
	}
}

func TestPassThrough(t *testing.T) {
	const publicBind = "SMPP__BIND_ADDRESS=0.0.0.0:2775"
	tests := []struct {
		name        string
		doc         string
		env         []string
		passThrough bool
		route       string
		err         bool
	}{
		{name: "smpp-server's variables alone", env: []string{"GATEWAY__API_BASE_URL=https://sms.example/3rdparty/v1", publicBind, "HTTP__ADDRESS=0.0.0.0:3000", "PATH=/bin"}, passThrough: true, route: "smsgate"},
		{name: "smpp-server's variables without the URL", env: []string{"GATEWAY__WEBHOOK_BASE_URL=https://me.example", "GATEWAY__TIMEOUT=10s", publicBind}, passThrough: true, route: "smsgate"},
		{name: "smpp-server's variables and one of smppd's", env: []string{"GATEWAY__WEBHOOK_BASE_URL=https://me.example", "LOG__LEVEL=debug", publicBind}, err: true},
		{name: "smpp-server's listener variables only", env: []string{publicBind}, err: true},
		{name: "explicit URL in a file, no accounts", doc: "gateway:\n  api_base_url: https://sms.example\n", env: []string{publicBind}, passThrough: true, route: "smsgate"},
		{name: "explicit URL, no accounts, route kept", doc: "gateway:\n  api_base_url: https://sms.example\nroutes:\n  default: simulator\n", env: []string{publicBind}, passThrough: true, route: "simulator"},
		{name: "explicit URL, accounts, simulator", doc: "gateway:\n  api_base_url: https://sms.example\naccounts:\n  - system_id: a\n    password_hash: " + bcryptOfSecret + "\n", passThrough: false, route: "simulator"},
		{name: "explicit URL, accounts, smsgate", doc: "gateway:\n  api_base_url: https://sms.example\nroutes:\n  default: smsgate\naccounts:\n  - system_id: a\n    password_hash: " + bcryptOfSecret + "\n", passThrough: true, route: "smsgate"},
		{name: "default URL, smsgate route, no accounts", doc: "routes:\n  default: smsgate\n", env: []string{publicBind}, err: true},
		{name: "smpp-server's variables with a config file", doc: "log:\n  level: info\n", env: []string{"GATEWAY__TIMEOUT=10s", publicBind}, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := load(t, tt.doc, tt.env, Overrides{})
			if tt.err {
				if err == nil || !strings.Contains(err.Error(), "is not a loopback address") {
					t.Fatalf("err = %v, want the no-accounts refusal", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.PassThrough() != tt.passThrough || cfg.Routes.Default != tt.route {
				t.Errorf("PassThrough() = %v, routes.default %q; want %v, %q", cfg.PassThrough(), cfg.Routes.Default, tt.passThrough, tt.route)
			}
		})
	}
}

func TestAccountHelpers(t *testing.T) {
	h, err := HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	hashed := Account{PasswordHash: h}
	plain := Account{Password: "s3cret"}
	for _, a := range []Account{hashed, plain} {
		if !a.CheckPassword("s3cret") || a.CheckPassword("s3cre") || a.CheckPassword("") || a.CheckPassword("s3cret ") {
			t.Errorf("CheckPassword wrong for %+v", a)
		}
	}
	if (&Account{}).CheckPassword("") {
		t.Error("an account without a password accepted the empty one")
	}
	if !(&Account{PasswordHash: bcryptOfSecret}).CheckPassword("change-me") {
		t.Error("the example's hash does not check")
	}

	a := Account{
		BindTypes:       []string{Transmitter},
		AllowCIDRs:      []string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32"},
		Addresses:       []string{"+4915550000", "4916*"},
		SourceAddresses: []string{"ACME", "49*"},
	}
	if !a.Allows(Transmitter) || a.Allows(Receiver) {
		t.Error("Allows")
	}
	for addr, want := range map[string]bool{
		"10.1.2.3": true, "192.0.2.7": true, "192.0.2.8": false, "::ffff:10.9.9.9": true,
		"2001:db8::1": true, "2001:db9::1": false, "127.0.0.1": false,
	} {
		if got := a.AllowedFrom(netip.MustParseAddr(addr)); got != want {
			t.Errorf("AllowedFrom(%s) = %v", addr, got)
		}
	}
	if (&Account{}).AllowedFrom(netip.MustParseAddr("203.0.113.1")) != true {
		t.Error("an empty allow_cidrs refused an address")
	}
	for addr, want := range map[string]bool{"4915550000": true, "+4915550000": true, "49155500001": false, "4916": true, "+491612": true, "4917": false} {
		if a.Owns(addr) != want {
			t.Errorf("Owns(%s) = %v", addr, !want)
		}
	}
	for src, want := range map[string]bool{"ACME": true, "acme": false, "4930": true, "+4930": true, "3930": false} {
		if a.MaySendFrom(src) != want {
			t.Errorf("MaySendFrom(%s) = %v", src, !want)
		}
	}
	if !(&Account{}).MaySendFrom("anything") {
		t.Error("empty source_addresses refused a sender")
	}
	if !MatchAddress("*", "123") {
		t.Error(`"*" does not match everything`)
	}
}

func TestCommandStatus(t *testing.T) {
	for in, want := range map[string]pdu.Status{
		"ESME_RTHROTTLED": pdu.ESME_RTHROTTLED, "esme_rsyserr": pdu.ESME_RSYSERR, "88": pdu.ESME_RTHROTTLED,
		"0x58": pdu.ESME_RTHROTTLED, "0": pdu.ESME_ROK, "0x400": 0x400,
	} {
		var s CommandStatus
		if err := s.UnmarshalText([]byte(in)); err != nil || s.Status() != want {
			t.Errorf("%q: %v, %v", in, s.Status(), err)
		}
	}
	for in, want := range map[CommandStatus]string{0: "0", CommandStatus(pdu.ESME_RTHROTTLED): "ESME_RTHROTTLED", 0x400: "0x00000400"} {
		if b, _ := in.MarshalText(); string(b) != want {
			t.Errorf("MarshalText(%d) = %s, want %s", in, b, want)
		}
	}
	sim := Simulator{Rules: []Rule{{Prefix: "+4915"}, {Prefix: "49"}, {Prefix: "4915550"}}}
	for dest, want := range map[string]int{"491555012": 0, "+4930": 1, "4815": -1} {
		got := sim.Rule(dest)
		if (want < 0 && got != nil) || (want >= 0 && got != &sim.Rules[want]) {
			t.Errorf("Rule(%s) = %+v, want rule %d", dest, got, want)
		}
	}
	r := Rule{Outcome: "undeliverable"}
	if st, ok := r.State(); !ok || st != store.Undeliverable {
		t.Errorf("Rule.State() = %v, %v", st, ok)
	}
	if _, ok := (&Rule{}).State(); ok {
		t.Error("a rule without outcome has a state")
	}
}

// TestExample loads examples/smppd.yaml: it must be valid, name every key
// of the schema with a comment, and hold the defaults apart from its
// example accounts and simulator rules.
func TestExample(t *testing.T) {
	const path = "../../examples/smppd.yaml"
	got, err := Load(path, nil, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := Load("", nil, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	want.Accounts, want.Simulator.Rules, want.Warnings = got.Accounts, got.Simulator.Rules, got.Warnings
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the example is not the defaults:\n%+v\nwant\n%+v", got, want)
	}
	wantRules := []Rule{
		{Prefix: "4915550", Outcome: "undeliverable", ErrorCode: 1, Delay: 2 * time.Second},
		{Prefix: "4915551", SubmitStatus: CommandStatus(pdu.ESME_RTHROTTLED)},
	}
	if !reflect.DeepEqual(got.Simulator.Rules, wantRules) {
		t.Errorf("rules %+v, want %+v", got.Simulator.Rules, wantRules)
	}
	alice := defaultAccount()
	alice.SystemID, alice.PasswordHash, alice.Addresses = "alice", bcryptOfSecret, []string{"4915550000", "4915559*"}
	bob := defaultAccount()
	bob.SystemID, bob.Password, bob.BindTypes = "bob", "bobpw", []string{Transceiver}
	if !reflect.DeepEqual(got.Accounts, []Account{alice, bob}) {
		t.Errorf("accounts %+v", got.Accounts)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	yamlKeys(&doc, "", keys)
	for _, k := range schemaKeys() {
		commented, ok := keys[k]
		switch {
		case !ok:
			t.Errorf("the example lacks %s", k)
		case !commented:
			t.Errorf("the example's %s has no comment", k)
		}
	}
}

func TestWarnings(t *testing.T) {
	doc := `smpp:
  bind_address: ""
routes:
  default: smsgate
gateway:
  username: u
  password: p
accounts:
  - system_id: a
    password: longer-than-8
`
	cfg, err := load(t, doc, nil, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"smpp.bind_address and smpp.tls_address are both empty: no SMPP listener",
		`account "a": its password is in plain text in the configuration; prefer password_hash (a bcrypt hash)`,
		`account "a": its password is longer than 8 characters, which SMPP v3.4 clients cannot send`,
		"gateway.webhook_base_url is empty: SMSGate cannot report outcomes or MO messages, so no receipts or MO messages come from it",
	}
	if !reflect.DeepEqual(cfg.Warnings, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(cfg.Warnings, "\n"), strings.Join(want, "\n"))
	}
}

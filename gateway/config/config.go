// Package config is smppd's configuration: one schema, read from defaults,
// a YAML file, environment variables and flags (in that order, each
// overriding the one before), and validated as a whole before the daemon
// starts.
//
// The schema is the Config struct below. Its yaml tags are the file's keys;
// an environment variable is the dotted key in upper case with "__" for the
// dot (smpp.bind_address is SMPP__BIND_ADDRESS), as in
// android-sms-gateway's smpp-server, whose configuration keeps working with
// the same meaning. The doc comment of each field is its documentation:
// docs/configuration.md is generated from it.
package config

import (
	"time"

	"github.com/smppkit/smpp/pdu"
)

// Backends are the backend names a route may name.
var Backends = []string{"simulator", "smsgate"}

// Bind types an account may be allowed (Account.BindTypes).
const (
	Transmitter = "transmitter"
	Receiver    = "receiver"
	Transceiver = "transceiver"
)

// Config is smppd's whole configuration.
type Config struct {
	// SMPP is the SMPP server: listeners, sessions, windows and timers.
	SMPP SMPP `yaml:"smpp"`
	// HTTP is the HTTP server: health, metrics, webhooks, the REST API.
	HTTP HTTP `yaml:"http"`
	// Store is where messages and receipts are kept.
	Store Store `yaml:"store"`
	// Log is the daemon's logging.
	Log Log `yaml:"log"`
	// Receipts is how receipts and MO messages are delivered to accounts.
	Receipts Receipts `yaml:"receipts"`
	// Dispatch is how messages are handed to backends.
	Dispatch Dispatch `yaml:"dispatch"`
	// Routes picks the backend for a message.
	Routes Routes `yaml:"routes"`
	// Simulator is the built-in SMSC simulator backend.
	Simulator Simulator `yaml:"simulator"`
	// Gateway is the SMSGate backend (android-sms-gateway's HTTP API).
	Gateway Gateway `yaml:"gateway"`
	// Accounts are the ESMEs that may bind.
	Accounts []Account `yaml:"accounts"`

	// Warnings are things Load accepted but the operator should hear
	// about (plain-text passwords, an open server without accounts): the
	// daemon logs them at start.
	Warnings []string `yaml:"-"`

	passThrough bool
}

// SMPP configures the SMPP server.
type SMPP struct {
	// BindAddress is the host:port of the plain SMPP listener (empty: none).
	// When tls_cert and tls_key are set and tls_address is empty, this
	// listener speaks TLS instead, as smpp-server's does.
	BindAddress string `yaml:"bind_address"`
	// TLSAddress is the host:port of a listener for SMPP over TLS (2776 by
	// convention; empty: none). It needs tls_cert and tls_key.
	TLSAddress string `yaml:"tls_address"`
	// TLSCert is the PEM certificate (chain) file for TLS.
	TLSCert string `yaml:"tls_cert"`
	// TLSKey is the PEM private key file for TLS.
	TLSKey string `yaml:"tls_key"`
	// TLSClientCA is a PEM file of CAs for client certificates (mTLS): a
	// client that presents one must be signed by them (empty: client
	// certificates are not asked for).
	TLSClientCA string `yaml:"tls_client_ca"`
	// SystemID is the system_id the server gives in its bind responses.
	SystemID string `yaml:"system_id"`
	// InboundWindow is how many requests of one session are handled at once.
	InboundWindow int `yaml:"inbound_window"`
	// OutboundWindow is how many deliver_sm of one session may await their
	// response.
	OutboundWindow int `yaml:"outbound_window"`
	// EnquireLinkInterval is how often an idle session is probed with
	// enquire_link (0: never).
	EnquireLinkInterval time.Duration `yaml:"enquire_link_interval"`
	// InactivityTimeout closes a session that sent nothing for this long
	// (0: never).
	InactivityTimeout time.Duration `yaml:"inactivity_timeout"`
	// BindTimeout closes a connection that has not bound within this time.
	BindTimeout time.Duration `yaml:"bind_timeout"`
	// ResponseTimeout is how long a request the server sent waits for its
	// response before it is given up.
	ResponseTimeout time.Duration `yaml:"response_timeout"`
	// MaxPDULength is the largest command_length accepted (at least 512).
	MaxPDULength int `yaml:"max_pdu_length"`
	// MaxSessions bounds the sessions open at once (0: no bound).
	MaxSessions int `yaml:"max_sessions"`
	// Lenient accepts PDUs with small protocol faults that strict decoding
	// refuses (for clients that cannot be fixed).
	Lenient bool `yaml:"lenient"`
}

// HTTP configures the HTTP server.
type HTTP struct {
	// Address is the host:port of the HTTP listener (empty: none).
	Address string `yaml:"address"`
	// APIKeys are the operators' keys for the REST API (Bearer or
	// X-API-Key). Accounts may also use their SMPP credentials; with
	// neither keys nor accounts the API is open to loopback clients only.
	APIKeys []string `yaml:"api_keys"`
}

// Store configures the message store.
type Store struct {
	// Driver is the store implementation: sqlite or memory (nothing
	// survives a restart; for tests).
	Driver string `yaml:"driver"`
	// DataDir is the directory for the daemon's data (flag --data-dir).
	DataDir string `yaml:"data_dir"`
	// Path is the SQLite database file (empty: smppd.db in data_dir).
	Path string `yaml:"path"`
	// Durability is what a committed change survives: crash (the process
	// being killed) or power-loss (each commit synced to disk; slower).
	Durability string `yaml:"durability"`
	// MaxPending bounds the messages not yet final; beyond it new submits
	// are refused with ESME_RTHROTTLED (0: no bound).
	MaxPending int `yaml:"max_pending"`
	// CommitMaxBatch is the most changes committed in one batch.
	CommitMaxBatch int `yaml:"commit_max_batch"`
	// CommitMaxDelay is the longest a change waits for others to join its
	// batch (0: commit as soon as the previous commit is done).
	CommitMaxDelay time.Duration `yaml:"commit_max_delay"`
}

// Log configures logging.
type Log struct {
	// Level is the least severe level logged: debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text or json.
	Format string `yaml:"format"`
}

// Receipts configures the delivery of receipts and MO messages.
type Receipts struct {
	// MaxAge is how long an undelivered receipt or MO message is kept
	// trying; then it is given up, counted and logged (0: never).
	MaxAge time.Duration `yaml:"max_age"`
	// RetryMin is the wait before the first retry; each retry doubles it.
	RetryMin time.Duration `yaml:"retry_min"`
	// RetryMax is the longest wait between retries.
	RetryMax time.Duration `yaml:"retry_max"`
}

// Dispatch configures the hand-over of messages to backends.
type Dispatch struct {
	// RetryMin is the wait before the first retry of a failed hand-over;
	// each retry doubles it.
	RetryMin time.Duration `yaml:"retry_min"`
	// RetryMax is the longest wait between retries.
	RetryMax time.Duration `yaml:"retry_max"`
	// MaxAttempts is how many hand-overs are tried before the message
	// fails (0: until it expires).
	MaxAttempts int `yaml:"max_attempts"`
	// DefaultValidity is when a message submitted without validity_period
	// expires (0: never).
	DefaultValidity time.Duration `yaml:"default_validity"`
	// MaxValidity caps the validity_period a submit may ask for (0: no cap).
	MaxValidity time.Duration `yaml:"max_validity"`
}

// Routes configures routing.
type Routes struct {
	// Default is the backend for accounts without a route of their own:
	// simulator or smsgate.
	Default string `yaml:"default"`
}

// Simulator configures the built-in SMSC simulator backend.
type Simulator struct {
	// Delay is the time from a submit to its final outcome.
	Delay time.Duration `yaml:"delay"`
	// Enroute reports ENROUTE before the final outcome.
	Enroute bool `yaml:"enroute"`
	// Outcomes are the weights of the final outcomes, keyed by state name in
	// lower case (delivered, undeliverable, expired, rejected, deleted,
	// skipped): integers ≥ 0, at least one above 0. In the environment:
	// delivered:90,undeliverable:10, or SIMULATOR__OUTCOMES__DELIVERED=90.
	Outcomes map[string]int `yaml:"outcomes"`
	// ErrorCode is the network error code of failed outcomes.
	ErrorCode uint16 `yaml:"error_code"`
	// Seed seeds the outcome choice, for repeatable runs (0: random).
	Seed int64 `yaml:"seed"`
	// Loopback delivers a message to an address an account owns to that
	// account as an MO message too.
	Loopback bool `yaml:"loopback"`
	// Rules override the above for some destinations; the first rule whose
	// prefix matches wins.
	Rules []Rule `yaml:"rules"`
}

// Rule is a simulator rule for destinations that start with Prefix.
type Rule struct {
	// Prefix is the destination digits prefix the rule applies to
	// (required; a leading + is ignored).
	Prefix string `yaml:"prefix"`
	// Outcome is the final state of matching messages (lower-case state
	// name; empty: drawn from simulator.outcomes).
	Outcome string `yaml:"outcome"`
	// ErrorCode is the network error code of a failed outcome (0:
	// simulator.error_code).
	ErrorCode uint16 `yaml:"error_code"`
	// Delay is the time from submit to outcome (0: simulator.delay).
	Delay time.Duration `yaml:"delay"`
	// SubmitStatus refuses the submit with this SMPP command_status: a
	// name like ESME_RTHROTTLED or a number (0: accepted).
	SubmitStatus CommandStatus `yaml:"submit_status"`
	// SubmitDelay holds the submit_sm_resp back this long.
	SubmitDelay time.Duration `yaml:"submit_delay"`
	// NoAnswer sends no submit_sm_resp at all.
	NoAnswer bool `yaml:"no_answer"`
}

// Gateway configures the SMSGate backend. The section's name and first keys
// are smpp-server's.
type Gateway struct {
	// APIBaseURL is the SMSGate API's base URL. Setting it (file or
	// environment) turns on pass-through when routes.default is smsgate or
	// there are no accounts: bind credentials are then SMSGate's.
	APIBaseURL string `yaml:"api_base_url"`
	// WebhookBaseURL is the public base URL SMSGate can reach this daemon's
	// webhooks at (empty: no webhooks, so no receipts or MO messages).
	WebhookBaseURL string `yaml:"webhook_base_url"`
	// Timeout bounds one HTTP request to SMSGate (0: no bound).
	Timeout time.Duration `yaml:"timeout"`
	// Username is the SMSGate username for accounts without their own.
	Username string `yaml:"username"`
	// Password is the SMSGate password for accounts without their own.
	Password string `yaml:"password"`
	// SigningKey is the HMAC key that signs SMSGate's webhooks (empty:
	// signatures are not checked).
	SigningKey string `yaml:"signing_key"`
	// SIMNumber is the phone's SIM to send with, 1 to 3 (0: the phone's
	// choice).
	SIMNumber int `yaml:"sim_number"`
	// Priority is the messages' priority, -128 to 127 (100 and above
	// bypass the phone's rate limits).
	Priority int `yaml:"priority"`
	// DeviceID sends with this device (empty: SMSGate's choice).
	DeviceID string `yaml:"device_id"`
	// MaxInFlight bounds the HTTP requests to SMSGate at once.
	MaxInFlight int `yaml:"max_in_flight"`
}

// Account is an ESME that may bind. File only.
type Account struct {
	// SystemID is the system_id it binds with (required, at most 15
	// characters, unique).
	SystemID string `yaml:"system_id"`
	// Password is its password in plain text (accepted with a warning;
	// prefer password_hash). Exactly one of password and password_hash.
	Password string `yaml:"password"`
	// PasswordHash is the bcrypt hash of its password.
	PasswordHash string `yaml:"password_hash"`
	// BindTypes are the binds it may make: transmitter, receiver,
	// transceiver (or tx, rx, trx).
	BindTypes []string `yaml:"bind_types"`
	// AllowCIDRs are the networks it may bind from, as CIDRs or single
	// addresses (empty: any).
	AllowCIDRs []string `yaml:"allow_cidrs"`
	// MaxBinds bounds its sessions open at once (0: no bound).
	MaxBinds int `yaml:"max_binds"`
	// Throughput is its submit rate in messages per second, a token bucket
	// (0: no bound).
	Throughput float64 `yaml:"throughput"`
	// Burst is the token bucket's size (0: throughput, at least 1).
	Burst int `yaml:"burst"`
	// MaxInFlight bounds its submits awaiting their response; beyond it
	// submits get ESME_RMSGQFUL (0: smpp.inbound_window).
	MaxInFlight int `yaml:"max_in_flight"`
	// Addresses are the addresses it owns, for MO routing: exact digits,
	// or a prefix ending in * (a leading + is ignored).
	Addresses []string `yaml:"addresses"`
	// SourceAddresses are the source addresses it may submit with, as
	// addresses, or alphanumeric senders as exact strings (empty: any).
	SourceAddresses []string `yaml:"source_addresses"`
	// Route is the backend for its messages (empty: routes.default).
	Route string `yaml:"route"`
	// SMSGateUsername is its own SMSGate username (empty:
	// gateway.username).
	SMSGateUsername string `yaml:"smsgate_username"`
	// SMSGatePassword is its own SMSGate password.
	SMSGatePassword string `yaml:"smsgate_password"`
	// Disabled refuses its binds, keeping its messages.
	Disabled bool `yaml:"disabled"`
	// TLSClientCN requires a client certificate with this common name
	// (mTLS; empty: none required).
	TLSClientCN string `yaml:"tls_client_cn"`
}

// Defaults returns the configuration used where nothing is set.
func Defaults() *Config {
	return &Config{
		SMPP: SMPP{
			BindAddress:         "127.0.0.1:2775",
			SystemID:            "smppd",
			InboundWindow:       100,
			OutboundWindow:      100,
			EnquireLinkInterval: 30 * time.Second,
			BindTimeout:         30 * time.Second,
			ResponseTimeout:     30 * time.Second,
			MaxPDULength:        pdu.DefaultMaxLength,
			MaxSessions:         10000,
		},
		HTTP: HTTP{Address: "127.0.0.1:3000", APIKeys: []string{}},
		Store: Store{
			Driver:         "sqlite",
			DataDir:        "./smppd-data",
			Durability:     "crash",
			MaxPending:     1000000,
			CommitMaxBatch: 4096,
		},
		Log:      Log{Level: "info", Format: "text"},
		Receipts: Receipts{MaxAge: 72 * time.Hour, RetryMin: time.Second, RetryMax: 5 * time.Minute},
		Dispatch: Dispatch{RetryMin: time.Second, RetryMax: 5 * time.Minute, DefaultValidity: 48 * time.Hour},
		Routes:   Routes{Default: "simulator"},
		Simulator: Simulator{
			Outcomes: map[string]int{"delivered": 100},
			Loopback: true,
			Rules:    []Rule{},
		},
		Gateway: Gateway{
			APIBaseURL:  "https://api.sms-gate.app/3rdparty/v1",
			Timeout:     60 * time.Second,
			MaxInFlight: 32,
		},
		Accounts: []Account{},
	}
}

// defaultAccount is what an account entry starts from before its keys are
// read.
func defaultAccount() Account {
	return Account{
		BindTypes:       []string{Transmitter, Receiver, Transceiver},
		AllowCIDRs:      []string{},
		Addresses:       []string{},
		SourceAddresses: []string{},
	}
}

// PassThrough reports whether binds are checked against SMSGate (the
// system_id and password are SMSGate credentials, as in smpp-server) rather
// than against Accounts. It is on when gateway.api_base_url was set
// explicitly and routes.default is smsgate or there are no accounts, and
// when only smpp-server's environment variables configure the daemon.
func (c *Config) PassThrough() bool { return c.passThrough }

// Listeners returns the SMPP listeners' addresses: plain and TLS (empty:
// none). With tls_cert and tls_key but no tls_address, bind_address speaks
// TLS.
func (s *SMPP) Listeners() (plain, tls string) {
	if s.TLSAddress == "" && s.TLSCert != "" && s.TLSKey != "" {
		return "", s.BindAddress
	}
	return s.BindAddress, s.TLSAddress
}

// Route returns the backend name for the account's messages.
func (c *Config) Route(a *Account) string {
	if a.Route != "" {
		return a.Route
	}
	return c.Routes.Default
}

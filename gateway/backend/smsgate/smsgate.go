package smsgate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
)

// Options configure a Backend. Only BaseURL and credentials are required.
type Options struct {
	// Name is the backend's name in routes and logs ("smsgate" if empty).
	Name string
	// BaseURL is the API root: https://api.sms-gate.app/3rdparty/v1 (the
	// default when empty), a private server's …/3rdparty/v1, or a phone's
	// http://PHONE:8080 in local mode.
	BaseURL string
	// Username and Password are the default SMSGate credentials, used for
	// messages of accounts Credentials does not know.
	Username, Password string
	// Credentials, if set, gives an account (store.Message.Account) its own
	// SMSGate credentials.
	Credentials func(account string) (user, pass string, ok bool)
	// Accounts lists the accounts with their own credentials whose
	// webhooks Start registers (each is looked up with Credentials);
	// AddAccount registers more later.
	Accounts []string
	// WaitForCredentials makes a message whose account has no credentials
	// yet fail temporarily (the gateway tries again later) rather than be
	// rejected: in pass-through mode an account's credentials are known
	// only once it has bound, which after a restart may be after its
	// unfinished messages are resumed.
	WaitForCredentials bool
	// Timeout bounds each HTTP request (default 30 s).
	Timeout time.Duration

	// WebhookBaseURL is the public URL of smppd's HTTP server as SMSGate
	// reaches it. Empty: no webhooks are registered (no receipts, no MO).
	WebhookBaseURL string
	// WebhookPath is where WebhookHandler is mounted under it (default
	// DefaultWebhookPath).
	WebhookPath string
	// SigningKey, if set, is the key SMSGate signs webhooks with; unsigned
	// or badly signed webhooks are then refused.
	SigningKey string

	// SimNumber (1..3), Priority (-128..127; ≥ 100 bypasses the phone's
	// limits) and DeviceID (a device of the account) go into every
	// message; zero values leave SMSGate's defaults.
	SimNumber int
	Priority  int
	DeviceID  string
	// Destinations gives MO messages their destination address: looked up
	// by the device id of the webhook, then by the account name, then by
	// "" (see docs/smsgate.md). Without an entry the device id is used if
	// it fits an SMPP address (20 characters), else the address is empty.
	Destinations map[string]store.Address

	// MaxInFlight bounds the HTTP requests at once (default 64).
	MaxInFlight int
	// BreakerThreshold consecutive failures (transport errors, 5xx) open
	// the circuit breaker for BreakerCooldown (defaults 5 and 10 s); a
	// negative threshold disables it.
	BreakerThreshold int
	BreakerCooldown  time.Duration
	// HoldFor is how long webhooks about unknown SMSGate ids are held for
	// the POST that creates them to return (default 30 s); after that they
	// are reported by BackendID. MaxHeld bounds them (default 4096).
	HoldFor time.Duration
	MaxHeld int
	// MaxTracked bounds the SMSGate ids remembered for webhooks (default
	// 65536), TrackFor their age (default 72 h: SMSGate retries a webhook
	// for about two days).
	MaxTracked int
	TrackFor   time.Duration
	// CredentialsTTL and BadCredentialsTTL are how long CheckCredentials
	// remembers a success and a refusal (defaults 5 min and 30 s);
	// MaxCachedCredentials bounds the cache (default 1024).
	CredentialsTTL, BadCredentialsTTL time.Duration
	MaxCachedCredentials              int

	// HTTPClient makes the requests (default: one with Timeout and a
	// connection pool sized to MaxInFlight).
	HTTPClient *http.Client
	// Logger logs (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultBaseURL is the SMSGate cloud API.
const DefaultBaseURL = "https://api.sms-gate.app/3rdparty/v1"

// DefaultWebhookPath is where smppd mounts WebhookHandler.
const DefaultWebhookPath = "/webhooks/smsgate"

// Backend is an SMSGate backend. It implements backend.Backend,
// backend.Querier and backend.Canceller; WebhookHandler receives the
// webhooks that report outcomes and MO messages.
type Backend struct {
	o       Options
	name    string
	base    string
	client  *http.Client
	log     *slog.Logger
	now     func() time.Time
	sem     chan struct{}
	breaker breaker
	track   *tracker
	creds   *credCache

	mu      sync.Mutex
	ev      backend.Events
	stop    chan struct{}
	done    chan struct{}
	hooks   map[creds][]string // registered webhook ids per credentials
	moSeen  map[string]time.Time
	moBusy  map[string]bool
	moOrder []string
}

var (
	_ backend.Backend   = (*Backend)(nil)
	_ backend.Querier   = (*Backend)(nil)
	_ backend.Canceller = (*Backend)(nil)
)

// New returns a Backend; it does no I/O until Start or Submit.
func New(o Options) (*Backend, error) {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("smsgate: bad BaseURL %q", o.BaseURL)
	}
	if o.WebhookBaseURL != "" {
		if w, err := url.Parse(o.WebhookBaseURL); err != nil || w.Host == "" {
			return nil, fmt.Errorf("smsgate: bad WebhookBaseURL %q", o.WebhookBaseURL)
		}
	}
	if o.Username == "" && o.Credentials == nil {
		return nil, errors.New("smsgate: no credentials (Username or Credentials)")
	}
	if o.SimNumber < 0 || o.SimNumber > 3 {
		return nil, fmt.Errorf("smsgate: SimNumber %d out of 1..3", o.SimNumber)
	}
	if o.Priority < -128 || o.Priority > 127 {
		return nil, fmt.Errorf("smsgate: Priority %d out of -128..127", o.Priority)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(d *int, v int) {
		if *d == 0 {
			*d = v
		}
	}
	if o.Name == "" {
		o.Name = "smsgate"
	}
	if o.WebhookPath == "" {
		o.WebhookPath = DefaultWebhookPath
	}
	def(&o.Timeout, 30*time.Second)
	def(&o.BreakerCooldown, 10*time.Second)
	def(&o.HoldFor, 30*time.Second)
	def(&o.TrackFor, 72*time.Hour)
	def(&o.CredentialsTTL, 5*time.Minute)
	def(&o.BadCredentialsTTL, 30*time.Second)
	defInt(&o.MaxInFlight, 64)
	defInt(&o.BreakerThreshold, 5)
	defInt(&o.MaxHeld, 4096)
	defInt(&o.MaxTracked, 65536)
	defInt(&o.MaxCachedCredentials, 1024)
	if o.MaxInFlight < 0 {
		return nil, errors.New("smsgate: MaxInFlight < 0")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	client := o.HTTPClient
	if client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = o.MaxInFlight
		t.MaxIdleConns = o.MaxInFlight
		client = &http.Client{Timeout: o.Timeout, Transport: t}
	}
	b := &Backend{
		o:      o,
		name:   o.Name,
		base:   strings.TrimRight(o.BaseURL, "/"),
		client: client,
		log:    o.Logger.With("backend", o.Name),
		now:    o.Now,
		sem:    make(chan struct{}, o.MaxInFlight),
		hooks:  make(map[creds][]string),
		moSeen: make(map[string]time.Time),
		moBusy: make(map[string]bool),
	}
	b.breaker = breaker{threshold: o.BreakerThreshold, cooldown: o.BreakerCooldown, now: o.Now}
	b.track = newTracker(o.MaxTracked, o.TrackFor, o.MaxHeld, o.HoldFor, o.Now)
	b.creds = newCredCache(o.MaxCachedCredentials, o.CredentialsTTL, o.BadCredentialsTTL, o.Now)
	return b, nil
}

// Name returns Options.Name.
func (b *Backend) Name() string { return b.name }

// credsFor returns the SMSGate credentials for an account.
func (b *Backend) credsFor(account string) (creds, bool) {
	if b.o.Credentials != nil && account != "" {
		if u, p, ok := b.o.Credentials(account); ok {
			return creds{u, p}, true
		}
	}
	if b.o.Username == "" {
		return creds{}, false
	}
	return creds{b.o.Username, b.o.Password}, true
}

// Submit sends the parts of one message as one SMSGate message (see the
// package documentation). It makes one attempt: a *backend.PermanentError
// for what SMSGate refuses (4xx) or this package cannot send, and a plain
// error — temporary — for transport errors, timeouts, 5xx, 429, or
// backend.ErrUnavailable while the circuit breaker is open.
func (b *Backend) Submit(ctx context.Context, parts []*store.Message) ([]backend.Result, error) {
	if len(parts) == 0 {
		return nil, errors.New("smsgate: no parts")
	}
	parts = sortedParts(parts)
	first := parts[0]
	c, ok := b.credsFor(first.Account)
	if !ok && b.o.WaitForCredentials {
		return nil, fmt.Errorf("smsgate: no credentials for account %q yet (waiting for it to bind): %w", first.Account, backend.ErrUnavailable)
	}
	if !ok {
		return nil, &backend.PermanentError{State: store.Rejected, ErrorCode: CodeNoCredentials,
			Err: fmt.Errorf("smsgate: no credentials for account %q", first.Account)}
	}
	req, skip, err := b.request(first, parts)
	if err != nil {
		return nil, err
	}
	path := "/messages"
	if skip {
		path += "?skipPhoneValidation=true"
	}
	ids := make([]string, len(parts))
	for i, p := range parts {
		ids[i] = p.ID
	}
	// Known before the POST goes out, so a webhook that overtakes the
	// answer finds its parts.
	b.track.register(req.ID, ids, b.emit)

	var st messageState
	err = b.do(ctx, c, http.MethodPost, path, req, &st)
	if isStatus(err, http.StatusConflict) {
		// Our id is taken: an earlier attempt got through (its answer was
		// lost). Learn its state instead of sending it again.
		st = messageState{}
		err = b.do(ctx, c, http.MethodGet, "/messages/"+url.PathEscape(req.ID), nil, &st)
	}
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && !ae.Temporary() {
			b.track.forget(req.ID)
			state := store.Rejected
			if ae.Status == http.StatusNotFound || ae.Status == http.StatusGone {
				state = store.Undeliverable
			}
			return nil, &backend.PermanentError{State: state, ErrorCode: uint16(ae.Status), Err: err}
		}
		return nil, err
	}
	if st.ID == "" {
		st.ID = req.ID
	}
	state, code := stateOf(&st)
	if st.ID != req.ID {
		b.track.register(st.ID, ids, b.emit)
	}
	// What the answer says is applied like a webhook (a Failed answer is
	// final), then the Result reports what is known now, which is final
	// already when a webhook overtook the answer.
	b.track.apply(st.ID, state, code, b.now(), false, b.emit)
	state, code = b.track.state(st.ID)
	if !state.Final() {
		state, code = store.Enroute, 0
	}
	res := make([]backend.Result, len(parts))
	for i := range res {
		res[i] = backend.Result{BackendID: st.ID, State: state, ErrorCode: code}
	}
	return res, nil
}

// request builds the POST body for a message.
func (b *Backend) request(first *store.Message, parts []*store.Message) (*messageRequest, bool, error) {
	cont, err := buildContent(parts)
	if err != nil {
		code := uint16(CodeBadContent)
		if errors.Is(err, errNoPort) {
			code = CodeNoPort
		}
		return nil, false, &backend.PermanentError{State: store.Rejected, ErrorCode: code, Err: fmt.Errorf("smsgate: %w", err)}
	}
	number, skip, err := phoneNumber(first.Dest)
	if err != nil {
		return nil, false, &backend.PermanentError{State: store.Rejected, ErrorCode: CodeBadDestination, Err: fmt.Errorf("smsgate: %w", err)}
	}
	req := &messageRequest{
		ID:                 ClientID(first.ID),
		DeviceID:           b.o.DeviceID,
		TextMessage:        cont.text,
		DataMessage:        cont.data,
		PhoneNumbers:       []string{number},
		SimNumber:          b.o.SimNumber,
		WithDeliveryReport: first.RegisteredDelivery&3 != 0,
		Priority:           b.o.Priority,
	}
	now := b.now()
	if !first.ExpireAt.IsZero() {
		if !first.ExpireAt.After(now) {
			return nil, false, &backend.PermanentError{State: store.Expired, Err: errors.New("smsgate: expired before it was sent")}
		}
		// Absolute, so a retry later does not extend the validity.
		req.ValidUntil = first.ExpireAt.UTC().Format(time.RFC3339)
	}
	if first.ScheduleAt.After(now) {
		req.ScheduleAt = first.ScheduleAt.UTC().Format(time.RFC3339)
	}
	return req, skip, nil
}

// Query asks SMSGate for the state of m (GET /messages/{id}).
func (b *Backend) Query(ctx context.Context, m *store.Message) (backend.Update, error) {
	c, ok := b.credsFor(m.Account)
	if !ok {
		return backend.Update{}, fmt.Errorf("smsgate: no credentials for account %q", m.Account)
	}
	id := b.backendID(m)
	var st messageState
	if err := b.do(ctx, c, http.MethodGet, "/messages/"+url.PathEscape(id), nil, &st); err != nil {
		if isStatus(err, http.StatusNotFound) {
			return backend.Update{}, fmt.Errorf("smsgate: message %s: %w", id, store.ErrNotFound)
		}
		return backend.Update{}, err
	}
	state, code := stateOf(&st)
	return backend.Update{ID: m.ID, BackendID: id, State: state, ErrorCode: code, At: stateTime(&st, b.now())}, nil
}

// Cancel asks SMSGate to cancel m (DELETE /messages/{id}); SMSGate refuses
// once the phone has sent it. The outcome (Deleted) arrives as an Update
// when SMSGate reports sms:cancelled.
func (b *Backend) Cancel(ctx context.Context, m *store.Message) error {
	c, ok := b.credsFor(m.Account)
	if !ok {
		return fmt.Errorf("smsgate: no credentials for account %q", m.Account)
	}
	id := b.backendID(m)
	err := b.do(ctx, c, http.MethodDelete, "/messages/"+url.PathEscape(id), nil, nil)
	if isStatus(err, http.StatusNotFound) {
		return fmt.Errorf("smsgate: message %s: %w", id, store.ErrNotFound)
	}
	return err
}

// backendID is the SMSGate id of m: the one stored, else the one Submit
// derived (for a message of one part, whose own id it was derived from).
func (b *Backend) backendID(m *store.Message) string {
	if m.BackendID != "" {
		return m.BackendID
	}
	return ClientID(m.ID)
}

// emit hands one Update to the gateway (nil Events before Start: dropped,
// as nothing can be reported yet).
func (b *Backend) emit(u backend.Update) {
	b.mu.Lock()
	ev := b.ev
	b.mu.Unlock()
	if ev != nil {
		ev.Update(u)
	}
}

// events is the webhook events this backend registers.
var events = []string{"sms:sent", "sms:delivered", "sms:failed", "sms:cancelled", "sms:received", "sms:data-received"}

// WebhookID is the id this package registers a webhook with: "smppd-" and
// 24 hex digits of the SHA-256 of url and event. Being stable, it lets
// Start recognise registrations a crashed smppd left behind.
func WebhookID(url, event string) string {
	sum := sha256.Sum256([]byte(url + "\x00" + event))
	return "smppd-" + hex.EncodeToString(sum[:12])
}

// webhookURL is the URL the webhooks of an account's credentials go to
// ("" for the default credentials).
func (b *Backend) webhookURL(account string) string {
	u := strings.TrimRight(b.o.WebhookBaseURL, "/") + "/" + strings.TrimLeft(b.o.WebhookPath, "/")
	if account != "" {
		u += "?account=" + url.QueryEscape(account)
	}
	return u
}

// Start registers the webhooks (for the default credentials and for each
// of Options.Accounts), tidying registrations of ours that are stale or
// duplicated, and starts reporting to ev. A failure to register is
// returned: without webhooks no outcome would ever be reported.
func (b *Backend) Start(ctx context.Context, ev backend.Events) error {
	b.mu.Lock()
	if b.stop != nil {
		b.mu.Unlock()
		return errors.New("smsgate: started twice")
	}
	b.ev = ev
	b.stop = make(chan struct{})
	b.done = make(chan struct{})
	b.mu.Unlock()
	go b.janitor()

	if b.o.WebhookBaseURL == "" {
		b.log.Warn("smsgate: no WebhookBaseURL: no receipts or MO messages will be reported")
		return nil
	}
	type set struct {
		account string
		c       creds
	}
	var sets []set
	if b.o.Username != "" {
		sets = append(sets, set{"", creds{b.o.Username, b.o.Password}})
	}
	seen := map[creds]bool{}
	for _, s := range sets {
		seen[s.c] = true
	}
	for _, a := range b.o.Accounts {
		if b.o.Credentials == nil {
			break
		}
		u, p, ok := b.o.Credentials(a)
		if !ok || seen[creds{u, p}] {
			continue
		}
		seen[creds{u, p}] = true
		sets = append(sets, set{a, creds{u, p}})
	}
	for _, s := range sets {
		ids, err := b.register(ctx, s.c, b.webhookURL(s.account))
		if err != nil {
			return fmt.Errorf("smsgate: registering webhooks (account %q): %w", s.account, err)
		}
		b.mu.Lock()
		b.hooks[s.c] = ids
		b.mu.Unlock()
	}
	return nil
}

// AddAccount registers the webhooks for account's own credentials
// (Options.Credentials) after Start, as Start does for Options.Accounts:
// for an account that became known later, e.g. a pass-through account at
// its first bind. Credentials registered already (by Start or an earlier
// call) are not registered again. Without WebhookBaseURL it does nothing.
func (b *Backend) AddAccount(ctx context.Context, account string) error {
	if b.o.WebhookBaseURL == "" {
		return nil
	}
	if b.o.Credentials == nil {
		return errors.New("smsgate: AddAccount without Options.Credentials")
	}
	u, p, ok := b.o.Credentials(account)
	if !ok {
		return fmt.Errorf("smsgate: no credentials for account %q", account)
	}
	c := creds{u, p}
	b.mu.Lock()
	started := b.stop != nil
	_, done := b.hooks[c]
	b.mu.Unlock()
	if !started {
		return errors.New("smsgate: AddAccount before Start")
	}
	if done {
		return nil
	}
	ids, err := b.register(ctx, c, b.webhookURL(account))
	if err != nil {
		return fmt.Errorf("smsgate: registering webhooks (account %q): %w", account, err)
	}
	b.mu.Lock()
	if b.stop != nil {
		b.hooks[c] = ids
	}
	b.mu.Unlock()
	return nil
}

// register makes sure the webhooks for url are registered once each under
// our ids, deleting duplicates (the same url and event under another id)
// and stale registrations of ours (our id prefix, our url, an id we would
// not give it).
func (b *Backend) register(ctx context.Context, c creds, hookURL string) ([]string, error) {
	var have []webhookReg
	if err := b.do(ctx, c, http.MethodGet, "/webhooks", nil, &have); err != nil {
		return nil, err
	}
	want := map[string]string{} // id → event
	for _, e := range events {
		want[WebhookID(hookURL, e)] = e
	}
	present := map[string]bool{}
	for _, h := range have {
		_, ours := want[h.ID]
		switch {
		case ours && h.URL == hookURL && want[h.ID] == h.Event && !present[h.ID]:
			present[h.ID] = true
		case h.URL == hookURL:
			// A duplicate, or one of ours for an event we no longer use.
			b.log.Info("smsgate: deleting a stale webhook", "id", h.ID, "event", h.Event)
			if err := b.do(ctx, c, http.MethodDelete, "/webhooks/"+url.PathEscape(h.ID), nil, nil); err != nil && !isStatus(err, http.StatusNotFound) {
				return nil, err
			}
		}
	}
	ids := make([]string, 0, len(events))
	for _, e := range events {
		id := WebhookID(hookURL, e)
		ids = append(ids, id)
		if present[id] {
			continue
		}
		var got webhookReg
		err := b.do(ctx, c, http.MethodPost, "/webhooks", &webhookReg{ID: id, URL: hookURL, Event: e}, &got)
		if err != nil && !isStatus(err, http.StatusConflict) {
			return nil, err
		}
	}
	return ids, nil
}

// Stop deletes the webhooks Start registered and ends the background work.
func (b *Backend) Stop(ctx context.Context) error {
	b.mu.Lock()
	stop, done := b.stop, b.done
	hooks := b.hooks
	b.hooks = make(map[creds][]string)
	b.stop = nil
	b.mu.Unlock()
	if stop == nil {
		return nil
	}
	close(stop)
	var errs []error
	for c, ids := range hooks {
		for _, id := range ids {
			err := b.do(ctx, c, http.MethodDelete, "/webhooks/"+url.PathEscape(id), nil, nil)
			if err != nil && !isStatus(err, http.StatusNotFound) {
				errs = append(errs, err)
			}
		}
	}
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	b.mu.Lock()
	b.ev = nil
	b.mu.Unlock()
	return errors.Join(errs...)
}

// janitor reports held webhooks whose POST never returned, and forgets
// old state.
func (b *Backend) janitor() {
	b.mu.Lock()
	stop, done := b.stop, b.done
	b.mu.Unlock()
	defer close(done)
	t := time.NewTicker(max(b.o.HoldFor/4, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			b.track.expire(b.emit)
		}
	}
}

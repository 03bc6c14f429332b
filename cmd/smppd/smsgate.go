package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/smppkit/smpp/gateway/backend/smsgate"
	"github.com/smppkit/smpp/gateway/config"
	"github.com/smppkit/smpp/pdu"
)

// smsgateWiring is the SMSGate backend with what smppd keeps for it: the
// SMSGate credentials of pass-through accounts, learnt from their binds.
type smsgateWiring struct {
	b       *smsgate.Backend
	log     *slog.Logger
	path    string
	workers int

	static map[string][2]string // configured accounts' own credentials

	mu   sync.Mutex
	pass map[string]string // pass-through system_id → its SMSGate password (the bind's)
	regd map[string]string // pass-through system_id → the password its webhooks were registered with
}

// usesSMSGate reports whether some account's messages go to SMSGate.
func usesSMSGate(cfg *config.Config) bool {
	if cfg.Routes.Default == "smsgate" || cfg.PassThrough() {
		return true
	}
	for i := range cfg.Accounts {
		if cfg.Route(&cfg.Accounts[i]) == "smsgate" {
			return true
		}
	}
	return false
}

func newSMSGate(cfg *config.Config, log *slog.Logger) (*smsgateWiring, error) {
	g := cfg.Gateway
	w := &smsgateWiring{log: log, path: smsgate.DefaultWebhookPath, static: map[string][2]string{},
		pass: map[string]string{}, regd: map[string]string{}}
	o := smsgate.Options{
		BaseURL:            g.APIBaseURL,
		Username:           g.Username,
		Password:           g.Password,
		Credentials:        w.credentials,
		Timeout:            g.Timeout,
		WebhookBaseURL:     g.WebhookBaseURL,
		WebhookPath:        w.path,
		SigningKey:         g.SigningKey,
		SimNumber:          g.SIMNumber,
		Priority:           g.Priority,
		DeviceID:           g.DeviceID,
		MaxInFlight:        g.MaxInFlight,
		WaitForCredentials: cfg.PassThrough(),
		Logger:             log,
	}
	for i := range cfg.Accounts {
		a := &cfg.Accounts[i]
		if a.SMSGateUsername != "" {
			w.static[a.SystemID] = [2]string{a.SMSGateUsername, a.SMSGatePassword}
			o.Accounts = append(o.Accounts, a.SystemID)
		}
	}
	w.workers = o.MaxInFlight
	if w.workers <= 0 {
		w.workers = 64 // the backend's own default bound
	}
	b, err := smsgate.New(o)
	if err != nil {
		return nil, fmt.Errorf("gateway (SMSGate): %w", err)
	}
	w.b = b
	return w, nil
}

// credentials gives an account its SMSGate credentials: its own from the
// configuration, or, in pass-through mode, its bind's system_id and
// password.
func (w *smsgateWiring) credentials(account string) (user, pass string, ok bool) {
	if c, ok := w.static[account]; ok {
		return c[0], c[1], true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	p, ok := w.pass[account]
	return account, p, ok
}

// passThrough checks a bind against SMSGate (gateway.Options.PassThrough):
// the system_id and password are SMSGate credentials, as with
// smpp-server. Refused credentials answer ESME_RINVPASWD, a check that
// could not be made ESME_RBINDFAIL. A good bind's credentials become its
// account's, and the account's webhooks are registered at its first bind
// (or when its password changed), so that its receipts and MO messages
// come back; a bind whose webhooks cannot be registered is refused.
func (w *smsgateWiring) passThrough(ctx context.Context, systemID, password string) error {
	if err := w.b.CheckCredentials(ctx, systemID, password); err != nil {
		if errors.Is(err, smsgate.ErrBadCredentials) {
			return fmt.Errorf("%w: %w", pdu.ESME_RINVPASWD, err)
		}
		return fmt.Errorf("%w: %w", pdu.ESME_RBINDFAIL, err)
	}
	w.mu.Lock()
	w.pass[systemID] = password
	done := w.regd[systemID] == password
	w.mu.Unlock()
	if done {
		return nil
	}
	if err := w.b.AddAccount(ctx, systemID); err != nil {
		return fmt.Errorf("%w: %w", pdu.ESME_RBINDFAIL, err)
	}
	w.mu.Lock()
	w.regd[systemID] = password
	w.mu.Unlock()
	return nil
}

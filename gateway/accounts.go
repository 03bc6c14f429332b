package gateway

import (
	"context"
	"crypto/sha256"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/pdu"
)

// Account is an ESME allowed to bind: its credentials and limits.
type Account struct {
	SystemID string
	// CheckPassword reports whether a bind's password is right.
	CheckPassword func(password string) bool
	// Bind types allowed (all when none is set).
	AllowTransmitter, AllowReceiver, AllowTransceiver bool
	// AllowNets restricts the addresses it may bind from (any when empty).
	AllowNets []netip.Prefix
	// MaxBinds bounds its simultaneous binds (0: unlimited).
	MaxBinds int
	// Throughput is its rate limit in messages per second (0: none), with
	// Burst messages allowed at once (0: one second's worth).
	Throughput float64
	Burst      int
	// MaxInFlight bounds its submits awaiting their response (0: none
	// beyond the session's inbound window).
	MaxInFlight int
	// Addresses are the addresses it owns, for routing MO messages to it;
	// SourceAddresses those it may send from (any when empty). Patterns
	// are exact, or a prefix ending in '*'; a leading '+' is ignored.
	Addresses, SourceAddresses []string
	// Route names the backend its messages go to ("" for the default).
	Route string
	// Disabled accounts cannot bind.
	Disabled bool
	// TLSClientCN, if set, requires a TLS client certificate with this
	// common name.
	TLSClientCN string
}

// account is an Account at run time: its limiter and counters.
type account struct {
	Account
	binds    atomic.Int32
	inFlight atomic.Int32

	mu     sync.Mutex
	tokens float64
	last   time.Time
	// okPassword caches the hash of the last password that checked out,
	// so a bind storm does not rerun a slow password hash each time.
	okPassword atomic.Pointer[[32]byte]
}

// allow takes a token from the account's bucket.
func (a *account) allow(now time.Time) bool {
	if a.Throughput <= 0 {
		return true
	}
	burst := float64(a.Burst)
	if burst <= 0 {
		burst = max(a.Throughput, 1)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.last.IsZero() {
		a.tokens = burst
	} else {
		a.tokens = min(burst, a.tokens+now.Sub(a.last).Seconds()*a.Throughput)
	}
	a.last = now
	if a.tokens < 1 {
		return false
	}
	a.tokens--
	return true
}

// release frees a slot of MaxInFlight.
func (a *account) release() {
	if a.MaxInFlight > 0 {
		a.inFlight.Add(-1)
	}
}

func (a *account) passwordOK(pw string) bool {
	sum := sha256.Sum256([]byte(a.SystemID + "\x00" + pw))
	if p := a.okPassword.Load(); p != nil && *p == sum {
		return true
	}
	if a.CheckPassword == nil || !a.CheckPassword(pw) {
		return false
	}
	a.okPassword.Store(&sum)
	return true
}

func (a *account) bindAllowed(cmd pdu.CommandID) bool {
	if !a.AllowTransmitter && !a.AllowReceiver && !a.AllowTransceiver {
		return true
	}
	switch cmd {
	case pdu.BindTransmitterID:
		return a.AllowTransmitter
	case pdu.BindReceiverID:
		return a.AllowReceiver
	case pdu.BindTransceiverID:
		return a.AllowTransceiver
	}
	return false
}

func (a *account) netAllowed(addr net.Addr) bool {
	if len(a.AllowNets) == 0 {
		return true
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, n := range a.AllowNets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

func (a *account) mayUseSource(addr string) bool {
	return len(a.SourceAddresses) == 0 || matchAny(a.SourceAddresses, addr)
}

// matchAny reports whether addr matches one of the patterns: exact, or a
// prefix ending in '*'; leading '+' signs are ignored on both sides.
func matchAny(patterns []string, addr string) bool {
	addr = strings.TrimPrefix(addr, "+")
	for _, p := range patterns {
		p = strings.TrimPrefix(p, "+")
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(addr, prefix) {
				return true
			}
		} else if p == addr {
			return true
		}
	}
	return false
}

// accounts holds the accounts by system_id; it is replaced whole on reload.
type accounts struct {
	byID      map[string]*account
	acceptAny bool // no accounts configured: any bind is accepted
}

func newAccounts(list []Account, acceptAny bool) *accounts {
	as := &accounts{byID: map[string]*account{}, acceptAny: acceptAny}
	for _, a := range list {
		as.byID[a.SystemID] = &account{Account: a}
	}
	return as
}

// owner returns the account that owns addr (for MO routing): the one with
// the longest matching pattern.
func (as *accounts) owner(addr string) *account {
	var best *account
	bestLen := -1
	bare := strings.TrimPrefix(addr, "+")
	for _, a := range as.byID {
		for _, p := range a.Addresses {
			p = strings.TrimPrefix(p, "+")
			n := len(p)
			prefix, wild := strings.CutSuffix(p, "*")
			if wild {
				n = len(prefix)
			}
			if (wild && strings.HasPrefix(bare, prefix) || !wild && p == bare) && n > bestLen {
				best, bestLen = a, n
			}
		}
	}
	return best
}

// auth decides a bind (smpp.Server.Auth).
func (g *Gateway) auth(ctx context.Context, b *smpp.BindRequest) pdu.Status {
	as := g.accounts.Load()
	a := as.byID[b.SystemID]
	if a == nil {
		switch {
		case g.opts.PassThrough != nil:
			if err := g.opts.PassThrough(ctx, b.SystemID, b.Password); err != nil {
				g.log.Warn("bind refused", "system_id", b.SystemID, "remote", b.RemoteAddr.String(), "reason", err.Error())
				return statusOf(err, pdu.ESME_RINVPASWD)
			}
			a = g.dynamicAccount(b.SystemID)
		case as.acceptAny:
			a = g.dynamicAccount(b.SystemID)
		default:
			g.log.Warn("bind refused", "system_id", b.SystemID, "remote", b.RemoteAddr.String(), "reason", "unknown system_id")
			return pdu.ESME_RINVSYSID
		}
	} else {
		reason, st := "", pdu.ESME_ROK
		switch {
		case a.Disabled:
			reason, st = "account disabled", pdu.ESME_RBINDFAIL
		case !a.passwordOK(b.Password):
			reason, st = "wrong password", pdu.ESME_RINVPASWD
		case !a.bindAllowed(b.Command):
			reason, st = "bind type not allowed", pdu.ESME_RBINDFAIL
		case !a.netAllowed(b.RemoteAddr):
			reason, st = "address not allowed", pdu.ESME_RBINDFAIL
		case a.TLSClientCN != "" && !clientCN(b, a.TLSClientCN):
			reason, st = "client certificate required", pdu.ESME_RBINDFAIL
		case a.MaxBinds > 0 && int(a.binds.Load()) >= a.MaxBinds:
			reason, st = "too many binds", pdu.ESME_RBINDFAIL
		}
		if st != pdu.ESME_ROK {
			g.log.Warn("bind refused", "system_id", b.SystemID, "remote", b.RemoteAddr.String(), "command", b.Command.String(), "reason", reason)
			return st
		}
	}
	b.Value = a // the session keeps it: no lookup per PDU
	return pdu.ESME_ROK
}

func clientCN(b *smpp.BindRequest, cn string) bool {
	if b.TLS == nil || len(b.TLS.PeerCertificates) == 0 {
		return false
	}
	return b.TLS.PeerCertificates[0].Subject.CommonName == cn
}

// dynamicAccount is the account of an ESME that no configuration names (any
// bind accepted on loopback, or checked by a pass-through backend): one per
// system_id, without limits, kept for the process's life.
func (g *Gateway) dynamicAccount(systemID string) *account {
	g.dynMu.Lock()
	defer g.dynMu.Unlock()
	if a := g.dynamic[systemID]; a != nil {
		return a
	}
	a := &account{Account: Account{SystemID: systemID}}
	g.dynamic[systemID] = a
	return a
}

// accountOf returns the account a session bound as: once it is bound, as
// the bound-session table has it (Reload moves sessions to their account's
// new settings there); before, as its bind left it.
func (g *Gateway) accountOf(s *smpp.Session) *account {
	if v, ok := g.bound.Load(s); ok {
		return v.(*account)
	}
	a, _ := s.Value().(*account)
	return a
}

// lookupAccount finds an account by system_id, configured or dynamic.
func (g *Gateway) lookupAccount(systemID string) *account {
	if a := g.accounts.Load().byID[systemID]; a != nil {
		return a
	}
	g.dynMu.Lock()
	defer g.dynMu.Unlock()
	return g.dynamic[systemID]
}

package gateway

import (
	"context"
	"fmt"
	"time"

	smpp "github.com/smppkit/smpp"
)

// Reload replaces the accounts table (credentials, limits, addresses,
// routes) without dropping bound sessions: a session of an account that
// stays keeps its bind and moves to the new settings at once (its bind
// count and rate-limit bucket carry over). The sessions of an account that
// is removed or disabled are unbound. A route naming no backend fails the
// reload, changing nothing.
func (g *Gateway) Reload(list []Account) error {
	for _, a := range list {
		if a.Route != "" {
			if _, ok := g.backends[a.Route]; !ok {
				return fmt.Errorf("gateway: account %q routes to %q, which is not a backend", a.SystemID, a.Route)
			}
		}
	}
	old := g.accounts.Load()
	next := newAccounts(list, g.opts.AcceptAny && len(list) == 0)
	for id, na := range next.byID {
		if oa := old.byID[id]; oa != nil {
			oa.mu.Lock()
			na.tokens, na.last = oa.tokens, oa.last
			oa.mu.Unlock()
		}
	}
	g.accounts.Store(next)

	// Move the bound sessions to their new account. CompareAndSwap keeps
	// the bind counts right against a session closing meanwhile: either
	// it is deleted first (no swap) or it is deleted after and decrements
	// the new account.
	var gone []*smpp.Session
	g.bound.Range(func(k, v any) bool {
		s, oa := k.(*smpp.Session), v.(*account)
		na := next.byID[oa.SystemID]
		switch {
		case na == nil && old.byID[oa.SystemID] == nil:
			// a dynamic account (accept-any, pass-through): unchanged
		case na == nil || na.Disabled:
			gone = append(gone, s)
		default:
			if g.bound.CompareAndSwap(s, oa, na) {
				na.binds.Add(1)
				oa.binds.Add(-1)
			}
		}
		return true
	})
	for _, s := range gone {
		g.log.Info("account removed or disabled; unbinding its session", "system_id", s.SystemID(), "remote", s.RemoteAddr().String())
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s.Unbind(ctx)
		}()
	}
	g.log.Info("accounts reloaded", "accounts", len(list), "unbound_sessions", len(gone))
	return nil
}

package smsgate

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// CheckCredentials checks SMSGate credentials with GET /devices, for a
// gateway that lets SMPP clients bind with them (pass-through, as
// smpp-server does). It returns nil, ErrBadCredentials (SMSGate answered
// 4xx) or an error wrapping ErrCheckFailed (5xx, network, circuit open).
// Answers are cached — successes for CredentialsTTL, refusals for
// BadCredentialsTTL, failures to check not at all — and concurrent checks
// of the same credentials share one request, so a storm of binds is not a
// storm of requests.
func (b *Backend) CheckCredentials(ctx context.Context, user, pass string) error {
	return b.creds.check(ctx, user, pass, func(ctx context.Context) error {
		err := b.do(ctx, creds{user, pass}, http.MethodGet, "/devices", nil, nil)
		var ae *APIError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && !ae.Temporary():
			return ErrBadCredentials
		}
		return fmt.Errorf("%w: %w", ErrCheckFailed, err)
	})
}

// credCache caches credential checks by a hash of user and password (the
// password is not kept).
type credCache struct {
	mu          sync.Mutex
	now         func() time.Time
	max         int
	ttl, ttlBad time.Duration
	entries     map[[32]byte]credEntry
	inflight    map[[32]byte]*credCall
}

type credEntry struct {
	err     error
	expires time.Time
}

type credCall struct {
	done chan struct{}
	err  error
}

func newCredCache(max int, ttl, ttlBad time.Duration, now func() time.Time) *credCache {
	return &credCache{now: now, max: max, ttl: ttl, ttlBad: ttlBad,
		entries: make(map[[32]byte]credEntry), inflight: make(map[[32]byte]*credCall)}
}

func (c *credCache) check(ctx context.Context, user, pass string, fetch func(context.Context) error) error {
	h := sha256.New()
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(pass))
	var key [32]byte
	h.Sum(key[:0])

	c.mu.Lock()
	now := c.now()
	if e, ok := c.entries[key]; ok {
		if now.Before(e.expires) {
			c.mu.Unlock()
			return e.err
		}
		delete(c.entries, key)
	}
	if call, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		select {
		case <-call.done:
			return call.err
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrCheckFailed, ctx.Err())
		}
	}
	call := &credCall{done: make(chan struct{})}
	c.inflight[key] = call
	c.mu.Unlock()

	// The request is not bound to the first caller's context alone: the
	// others wait for it too. It has the HTTP client's timeout.
	call.err = fetch(context.WithoutCancel(ctx))

	c.mu.Lock()
	delete(c.inflight, key)
	ttl := time.Duration(0)
	switch {
	case call.err == nil:
		ttl = c.ttl
	case errors.Is(call.err, ErrBadCredentials):
		ttl = c.ttlBad
	}
	if ttl > 0 {
		if len(c.entries) >= c.max {
			c.evict(now)
		}
		c.entries[key] = credEntry{err: call.err, expires: c.now().Add(ttl)}
	}
	c.mu.Unlock()
	close(call.done)
	return call.err
}

// evict drops expired entries, or if none, an arbitrary tenth.
func (c *credCache) evict(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	n := max(c.max/10, 1)
	for k := range c.entries {
		if len(c.entries) < c.max || n <= 0 {
			break
		}
		delete(c.entries, k)
		n--
	}
}

package smsgate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/smppkit/smpp/gateway/backend"
)

// The JSON shapes of the SMSGate API this package uses (see
// docs/smsgate.md). Fields it never reads are left out.

type textMessage struct {
	Text string `json:"text"`
}

type dataMessage struct {
	Data string `json:"data"`
	Port int    `json:"port"`
}

type messageRequest struct {
	ID                 string       `json:"id,omitempty"`
	DeviceID           string       `json:"deviceId,omitempty"`
	TextMessage        *textMessage `json:"textMessage,omitempty"`
	DataMessage        *dataMessage `json:"dataMessage,omitempty"`
	PhoneNumbers       []string     `json:"phoneNumbers"`
	SimNumber          int          `json:"simNumber,omitempty"`
	WithDeliveryReport bool         `json:"withDeliveryReport"` // the API defaults to true: always sent
	Priority           int          `json:"priority,omitempty"`
	ValidUntil         string       `json:"validUntil,omitempty"`
	ScheduleAt         string       `json:"scheduleAt,omitempty"`
}

type recipientState struct {
	PhoneNumber string `json:"phoneNumber"`
	State       string `json:"state"`
	Error       string `json:"error,omitempty"`
}

type messageState struct {
	ID         string            `json:"id"`
	DeviceID   string            `json:"deviceId"`
	State      string            `json:"state"`
	Recipients []recipientState  `json:"recipients"`
	States     map[string]string `json:"states"`
}

type webhookReg struct {
	ID    string `json:"id,omitempty"`
	URL   string `json:"url"`
	Event string `json:"event"`
}

// APIError is an answer of the SMSGate API that is not a success: its
// HTTP status and the message of its JSON body.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("smsgate: HTTP %d", e.Status)
	}
	return fmt.Sprintf("smsgate: HTTP %d: %s", e.Status, e.Message)
}

// Temporary reports whether trying again later may succeed: the service's
// faults (5xx), throttling (429) and request timeouts (408).
func (e *APIError) Temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout
}

// creds are one set of SMSGate credentials.
type creds struct{ user, pass string }

// maxBody bounds what is read of an API answer or a webhook request.
const maxBody = 1 << 20

// do makes one API request through the circuit breaker and the in-flight
// limit. body, if not nil, is sent as JSON; a 2xx answer is decoded into
// out (if not nil). Errors: ErrUnavailable (circuit open), a transport
// error, or an *APIError.
func (b *Backend) do(ctx context.Context, c creds, method, path string, body, out any) error {
	probe, ok := b.breaker.allow()
	if !ok {
		return backend.ErrUnavailable
	}
	failed, err := b.roundTrip(ctx, c, method, path, body, out)
	if ctx.Err() != nil && err != nil {
		// The caller gave up: that says nothing about the service.
		b.breaker.neutral(probe)
	} else {
		b.breaker.done(probe, failed)
	}
	return err
}

func (b *Backend) roundTrip(ctx context.Context, c creds, method, path string, body, out any) (failed bool, err error) {
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-b.sem }()

	var rd io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return false, err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, rd)
	if err != nil {
		return false, err
	}
	req.SetBasicAuth(c.user, c.pass)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if m, ok := body.(*messageRequest); ok && m.ID != "" {
		// Marks the POST idempotent (our id makes it so): net/http then
		// resends it by itself when a kept-alive connection turns out to
		// be dead before any answer arrived.
		req.Header.Set("Idempotency-Key", m.ID)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return true, fmt.Errorf("smsgate: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return true, fmt.Errorf("smsgate: %s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &APIError{Status: resp.StatusCode, Message: errorMessage(data)}
		return resp.StatusCode >= 500, e
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return true, fmt.Errorf("smsgate: %s %s: bad answer: %w", method, path, err)
		}
	}
	return false, nil
}

// errorMessage takes the message out of an error body ({"message": …} or
// {"error": …}), or the body itself, shortened.
func errorMessage(data []byte) string {
	var e struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil {
		if e.Message != "" {
			return e.Message
		}
		if e.Error != "" {
			return e.Error
		}
	}
	s := strings.TrimSpace(string(data))
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// isStatus reports whether err is an *APIError with the given status.
func isStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}

// breaker is a circuit breaker over the service: after threshold
// consecutive failures (transport errors, 5xx) it opens for cooldown, when
// every request fails at once with ErrUnavailable; then one probe request
// goes through, closing it on success and opening it again on failure.
type breaker struct {
	mu        sync.Mutex
	threshold int // 0: never opens
	cooldown  time.Duration
	now       func() time.Time

	fails     int
	openUntil time.Time
	open      bool
	probing   bool
}

func (br *breaker) allow() (probe, ok bool) {
	if br.threshold <= 0 {
		return false, true
	}
	br.mu.Lock()
	defer br.mu.Unlock()
	if !br.open {
		return false, true
	}
	if br.probing || br.now().Before(br.openUntil) {
		return false, false
	}
	br.probing = true
	return true, true
}

func (br *breaker) done(probe, failed bool) {
	if br.threshold <= 0 {
		return
	}
	br.mu.Lock()
	defer br.mu.Unlock()
	if probe {
		br.probing = false
	}
	if !failed {
		br.fails = 0
		br.open = false
		return
	}
	br.fails++
	if probe || br.fails >= br.threshold {
		br.open = true
		br.openUntil = br.now().Add(br.cooldown)
	}
}

func (br *breaker) neutral(probe bool) {
	if probe {
		br.mu.Lock()
		br.probing = false
		br.mu.Unlock()
	}
}

// Open reports whether the circuit breaker is open (requests fail fast).
func (b *Backend) Open() bool {
	b.breaker.mu.Lock()
	defer b.breaker.mu.Unlock()
	return b.breaker.open
}

package smsgate

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
)

// MaxSkew is how far a webhook's X-Timestamp may be from now.
const MaxSkew = 5 * time.Minute

// envelope is a webhook delivery.
type envelope struct {
	DeviceID  string          `json:"deviceId"`
	Event     string          `json:"event"`
	ID        string          `json:"id"`
	WebhookID string          `json:"webhookId"`
	Payload   json.RawMessage `json:"payload"`
}

type payload struct {
	MessageID   string `json:"messageId"`
	PhoneNumber string `json:"phoneNumber"`
	SimNumber   *int   `json:"simNumber"`
	Message     string `json:"message"`
	Data        string `json:"data"`
	Reason      string `json:"reason"`
	ReceivedAt  string `json:"receivedAt"`
	SentAt      string `json:"sentAt"`
	DeliveredAt string `json:"deliveredAt"`
	FailedAt    string `json:"failedAt"`
	CancelledAt string `json:"cancelledAt"`
}

// maxMOSeen bounds the webhook ids of MO messages remembered, so that
// SMSGate resending one whose answer it missed does not deliver it twice.
const maxMOSeen = 8192

// WebhookHandler returns the handler that receives SMSGate's webhooks;
// smppd mounts it at Options.WebhookPath. It checks the signature (when
// Options.SigningKey is set), reports status events as Updates at once and
// answers 204; MO messages are answered only once Events.Received has
// stored them (503 if it fails, so SMSGate tries again). Bad input gets
// 400 or 401 with a JSON error, never a 500.
func (b *Backend) WebhookHandler() http.Handler {
	return http.HandlerFunc(b.serveWebhook)
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (b *Backend) serveWebhook(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		jsonError(w, http.StatusMethodNotAllowed, "POST only")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		jsonError(w, http.StatusBadRequest, "reading the body failed")
		return
	}
	if len(body) > maxBody {
		jsonError(w, http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	if b.o.SigningKey != "" {
		if msg := b.checkSignature(r.Header.Get("X-Signature"), r.Header.Get("X-Timestamp"), body); msg != "" {
			b.log.Warn("smsgate: webhook refused", "reason", msg, "remote", r.RemoteAddr)
			jsonError(w, http.StatusUnauthorized, msg)
			return
		}
	}
	var env envelope
	var p payload
	if err := json.Unmarshal(body, &env); err != nil || env.Event == "" {
		jsonError(w, http.StatusBadRequest, "not a webhook envelope")
		return
	}
	if len(env.Payload) > 0 {
		if err := json.Unmarshal(env.Payload, &p); err != nil {
			jsonError(w, http.StatusBadRequest, "bad payload")
			return
		}
	}
	b.mu.Lock()
	ev := b.ev
	b.mu.Unlock()
	if ev == nil {
		jsonError(w, http.StatusServiceUnavailable, "not started")
		return
	}
	switch env.Event {
	case "sms:sent", "sms:delivered", "sms:failed", "sms:cancelled":
		if p.MessageID == "" {
			jsonError(w, http.StatusBadRequest, "no messageId")
			return
		}
		state, code, at := b.eventState(env.Event, &p)
		b.track.apply(p.MessageID, state, code, at, true, b.emit)
	case "sms:received", "sms:data-received":
		if status, msg := b.receive(r.Context(), ev, &env, &p, r.URL.Query().Get("account")); status != 0 {
			jsonError(w, status, msg)
			return
		}
	default:
		// system:ping and events we did not ask for: acknowledged.
	}
	w.WriteHeader(http.StatusNoContent)
}

// checkSignature returns why a signature is refused, or "".
func (b *Backend) checkSignature(sig, ts string, body []byte) string {
	if sig == "" || ts == "" {
		return "missing X-Signature or X-Timestamp"
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "bad X-Timestamp"
	}
	if d := b.now().Sub(time.Unix(sec, 0)); d > MaxSkew || d < -MaxSkew {
		return "X-Timestamp too far from now"
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return "bad X-Signature"
	}
	if !hmac.Equal(got, Sign(b.o.SigningKey, body, ts)) {
		return "wrong signature"
	}
	return ""
}

// Sign returns the signature SMSGate sends in X-Signature (hex-encoded):
// HMAC-SHA256 with key over the body followed by the timestamp.
func Sign(key string, body []byte, timestamp string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	m.Write([]byte(timestamp))
	return m.Sum(nil)
}

// eventState maps a status webhook to a state, error code and time.
func (b *Backend) eventState(event string, p *payload) (store.State, uint16, time.Time) {
	var state store.State
	var code uint16
	var at string
	switch event {
	case "sms:sent":
		state, at = store.Enroute, p.SentAt
	case "sms:delivered":
		state, at = store.Delivered, p.DeliveredAt
	case "sms:failed":
		state, code = failure(p.Reason)
		at = p.FailedAt
	case "sms:cancelled":
		state, at = store.Deleted, p.CancelledAt
	}
	return state, code, b.parseTime(at)
}

func (b *Backend) parseTime(s string) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t
	}
	return b.now()
}

// receive hands an MO message to the gateway; it returns a status and
// message for a failure, or 0.
func (b *Backend) receive(ctx context.Context, ev backend.Events, env *envelope, p *payload, account string) (int, string) {
	if p.PhoneNumber == "" {
		return http.StatusBadRequest, "no phoneNumber"
	}
	if env.ID != "" {
		switch b.moBegin(env.ID) {
		case moStored:
			return 0, "" // a resend of one already stored
		case moBusy:
			// The same webhook is being stored right now (SMSGate resent
			// it early): let SMSGate ask again, by when it is stored.
			return http.StatusServiceUnavailable, "being stored, try again"
		}
	}
	mo := &backend.MO{Source: sourceAddress(p.PhoneNumber), Dest: b.moDest(env.DeviceID, account), Account: account,
		At: b.parseTime(p.ReceivedAt)}
	if env.Event == "sms:data-received" {
		data, err := base64.StdEncoding.DecodeString(p.Data)
		if err != nil {
			return http.StatusBadRequest, "data is not base64"
		}
		mo.DataCoding, mo.Body = 0x04, data
	} else {
		mo.DataCoding, mo.Body = moBody(p.Message)
	}
	ctx, cancel := context.WithTimeout(ctx, 25*time.Second) // SMSGate waits 30 s
	defer cancel()
	err := ev.Received(ctx, mo)
	if env.ID != "" {
		b.moEnd(env.ID, err == nil)
	}
	if err != nil {
		b.log.Warn("smsgate: MO not stored, SMSGate will resend it", "err", err)
		return http.StatusServiceUnavailable, "not stored, try again"
	}
	return 0, ""
}

const (
	moNew = iota
	moBusy
	moStored
)

// moBegin tells whether the MO webhook id was stored already, is being
// stored, or is new (then marks it as being stored).
func (b *Backend) moBegin(id string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.moSeen[id]; ok {
		return moStored
	}
	if b.moBusy[id] {
		return moBusy
	}
	b.moBusy[id] = true
	return moNew
}

// moEnd records the outcome of storing an MO webhook: stored ones are
// remembered (bounded, oldest forgotten first).
func (b *Backend) moEnd(id string, stored bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.moBusy, id)
	if !stored {
		return
	}
	b.moSeen[id] = b.now()
	b.moOrder = append(b.moOrder, id)
	if len(b.moOrder) > maxMOSeen {
		delete(b.moSeen, b.moOrder[0])
		b.moOrder = b.moOrder[1:]
	}
}

// sourceAddress turns an MO sender into an SMPP address: "+digits" is
// international (TON 1, NPI 1, digits without the plus), other digits
// unknown TON with ISDN numbering, anything else alphanumeric (TON 5).
func sourceAddress(s string) store.Address {
	if d, ok := strings.CutPrefix(s, "+"); ok && d != "" && allDigits(d) {
		return store.Address{TON: 1, NPI: 1, Addr: d}
	}
	if s != "" && allDigits(s) {
		return store.Address{TON: 0, NPI: 1, Addr: s}
	}
	return store.Address{TON: 5, NPI: 0, Addr: s}
}

// moDest is the destination of an MO message: Options.Destinations by
// device id, then by account, then "", else the device id itself if it
// fits an SMPP address (20 characters), else empty.
func (b *Backend) moDest(device, account string) store.Address {
	if a, ok := b.o.Destinations[device]; ok && device != "" {
		return a
	}
	if a, ok := b.o.Destinations[account]; ok && account != "" {
		return a
	}
	if a, ok := b.o.Destinations[""]; ok {
		return a
	}
	if len(device) > maxAddrLen {
		// SMSGate's device ids (32 characters) do not fit an SMPP
		// destination_addr: a deliver_sm with one could not be sent.
		return store.Address{}
	}
	return store.Address{Addr: device}
}

// maxAddrLen is the longest SMPP address (source_addr, destination_addr of
// deliver_sm: 21 octets with the terminating NUL).
const maxAddrLen = 20

// ErrBadCredentials is CheckCredentials' answer for credentials SMSGate
// refuses (4xx): the gateway answers the bind with ESME_RINVPASWD.
var ErrBadCredentials = errors.New("smsgate: credentials refused")

// ErrCheckFailed is CheckCredentials' answer when SMSGate could not tell
// (5xx, network, circuit open): the gateway answers ESME_RBINDFAIL.
var ErrCheckFailed = errors.New("smsgate: credentials could not be checked")

// Package smsgatefake is a fake SMSGate (SMS Gateway for Android) API
// server for tests, written from the service's documentation: Basic
// authentication, messages (POST, GET, DELETE, list), the state
// progression Pending → Processed → Sent → Delivered or Failed, webhook
// registrations and signed deliveries, devices and health. Knobs make it
// slow, down, duplicate or reorder webhooks, send them before the POST that
// created the message has returned, and inject MO messages. It records
// every message it accepted.
//
// Documented behaviour the fake chose where the documentation is silent:
// DELETE of a message past Pending answers 409; POST /webhooks with an id
// that exists replaces that registration; a message without a delivery
// report stays Sent; a failure happens instead of Sent (sms:failed
// without sms:sent).
package smsgatefake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Default credentials of the user New creates, and its device.
const (
	DefaultUser     = "fakeuser"
	DefaultPassword = "fake-password-0123"
	DefaultDevice   = "ffffffffceb0b1db0000018e937c815b"
)

// Prefix is the path the API is served under (Server.URL includes it).
const Prefix = "/3rdparty/v1"

// TextMessage, DataMessage and MessageRequest are the body of POST
// /messages. Pointers tell absent fields from zero ones.
type TextMessage struct {
	Text string `json:"text"`
}

type DataMessage struct {
	Data string `json:"data"`
	Port *int   `json:"port"`
}

type MessageRequest struct {
	ID                 string       `json:"id,omitempty"`
	DeviceID           string       `json:"deviceId,omitempty"`
	TextMessage        *TextMessage `json:"textMessage,omitempty"`
	DataMessage        *DataMessage `json:"dataMessage,omitempty"`
	Message            *string      `json:"message,omitempty"`
	PhoneNumbers       []string     `json:"phoneNumbers"`
	SimNumber          *int         `json:"simNumber,omitempty"`
	WithDeliveryReport *bool        `json:"withDeliveryReport,omitempty"`
	Priority           *int         `json:"priority,omitempty"`
	TTL                *int64       `json:"ttl,omitempty"`
	ValidUntil         *string      `json:"validUntil,omitempty"`
	ScheduleAt         *string      `json:"scheduleAt,omitempty"`
}

// Recipient and State are a message's state as GET /messages/{id} shows it.
type Recipient struct {
	PhoneNumber string `json:"phoneNumber"`
	State       string `json:"state"`
	Error       string `json:"error,omitempty"`
}

type State struct {
	ID          string            `json:"id"`
	DeviceID    string            `json:"deviceId"`
	State       string            `json:"state"`
	IsHashed    bool              `json:"isHashed"`
	IsEncrypted bool              `json:"isEncrypted"`
	Recipients  []Recipient       `json:"recipients"`
	States      map[string]string `json:"states"`
}

// Message is a message the fake accepted, as recorded.
type Message struct {
	User                string
	Request             MessageRequest
	SkipPhoneValidation bool
	Raw                 []byte
	State               State
}

// Webhook is a registration.
type Webhook struct {
	ID    string `json:"id"`
	URL   string `json:"url"`
	Event string `json:"event"`
}

// Delivery is one webhook delivery attempt and its answer (0: transport
// error).
type Delivery struct {
	Event, URL string
	Body       []byte
	Status     int
}

// Outcome decides what becomes of a message to a phone number: Fail makes
// it fail with Reason.
type Outcome struct {
	Fail   bool
	Reason string
}

type user struct {
	pass     string
	device   string
	messages map[string]*msg
	order    []string
	hooks    []Webhook
}

type msg struct {
	user  string
	req   MessageRequest
	state State
	held  bool // waiting for Release
	skip  bool
	raw   []byte
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is the API's base URL (…/3rdparty/v1), as Options.BaseURL.
	URL string

	ts     *httptest.Server
	client *http.Client
	zone   *time.Location

	mu         sync.Mutex
	users      map[string]*user
	records    []Message
	deliveries []Delivery
	hits       map[string]int
	key        string
	delay      time.Duration
	down       int // requests left to fail; <0: until SetDown(0)
	dups       int
	reorder    bool
	early      bool
	hold       bool
	outcome    func(phone string) Outcome
	now        func() time.Time
	bg         sync.WaitGroup
	closed     chan struct{}
}

// New starts a fake with the DefaultUser. Close it when done.
func New() *Server {
	s := &Server{
		users:  make(map[string]*user),
		hits:   make(map[string]int),
		zone:   time.FixedZone("+07", 7*3600),
		now:    time.Now,
		closed: make(chan struct{}),
		client: &http.Client{Timeout: 5 * time.Second},
	}
	s.AddUser(DefaultUser, DefaultPassword, DefaultDevice)
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.ts.URL + Prefix
	return s
}

// Close stops the server after background work (progressions, webhook
// deliveries) has ended.
func (s *Server) Close() {
	close(s.closed)
	s.bg.Wait()
	s.ts.Close()
}

// Flush waits until no progression or webhook delivery is under way
// (held messages do not count).
func (s *Server) Flush() { s.bg.Wait() }

// AddUser adds credentials with one device (a random id if device is "").
func (s *Server) AddUser(name, pass, device string) {
	if device == "" {
		device = randomID(32)
	}
	s.mu.Lock()
	s.users[name] = &user{pass: pass, device: device, messages: make(map[string]*msg)}
	s.mu.Unlock()
}

// SetSigningKey makes webhooks signed with key ("" unsigned).
func (s *Server) SetSigningKey(key string) { s.mu.Lock(); s.key = key; s.mu.Unlock() }

// SetNow sets the clock of X-Timestamp and state times.
func (s *Server) SetNow(now func() time.Time) { s.mu.Lock(); s.now = now; s.mu.Unlock() }

// SetDelay makes every API answer wait d.
func (s *Server) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// SetDown makes the next n API requests fail with 503 (n < 0: all of them
// until SetDown(0)).
func (s *Server) SetDown(n int) { s.mu.Lock(); s.down = n; s.mu.Unlock() }

// SetDuplicates sends every webhook n more times.
func (s *Server) SetDuplicates(n int) { s.mu.Lock(); s.dups = n; s.mu.Unlock() }

// SetReorder sends a message's webhooks last first (sms:delivered before
// sms:sent).
func (s *Server) SetReorder(on bool) { s.mu.Lock(); s.reorder = on; s.mu.Unlock() }

// SetEarly runs the progression of a new message and sends its webhooks
// before the POST that created it is answered.
func (s *Server) SetEarly(on bool) { s.mu.Lock(); s.early = on; s.mu.Unlock() }

// SetHold keeps new messages Pending until Release.
func (s *Server) SetHold(on bool) { s.mu.Lock(); s.hold = on; s.mu.Unlock() }

// SetOutcome decides the fate of messages by phone number (nil: all are
// delivered).
func (s *Server) SetOutcome(f func(phone string) Outcome) { s.mu.Lock(); s.outcome = f; s.mu.Unlock() }

// FailPrefix is an outcome rule: numbers starting with prefix fail with
// reason.
func FailPrefix(prefix, reason string) func(string) Outcome {
	return func(phone string) Outcome {
		return Outcome{Fail: strings.HasPrefix(phone, prefix), Reason: reason}
	}
}

// Release lets a held message progress.
func (s *Server) Release(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if m, ok := u.messages[id]; ok && m.held {
			m.held = false
			s.bg.Add(1)
			go func() {
				defer s.bg.Done()
				s.progress(m)
			}()
			return true
		}
	}
	return false
}

// Messages returns the messages accepted so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.records)
	for i := range out {
		if u := s.users[out[i].User]; u != nil {
			if m := u.messages[out[i].State.ID]; m != nil {
				out[i].State = m.state
			}
		}
	}
	return out
}

// Deliveries returns the webhook delivery attempts so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

// Webhooks returns a user's registrations.
func (s *Server) Webhooks(name string) []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[name]; u != nil {
		return slices.Clone(u.hooks)
	}
	return nil
}

// AddWebhook registers a webhook directly (a leftover, say).
func (s *Server) AddWebhook(name string, w Webhook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[name]; u != nil {
		u.hooks = append(u.hooks, w)
	}
}

// Hits returns how many requests came for method and path (after the
// prefix, without the query: "GET /devices").
func (s *Server) Hits(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[method+" "+path]
}

// InjectMO sends sms:received to the user's webhooks as a phone would on
// receiving text from phone. It returns an error unless every delivery was
// answered 2xx.
func (s *Server) InjectMO(name, phone, text string) error {
	return s.inject(name, "sms:received", map[string]any{
		"messageId": randomID(21), "phoneNumber": phone, "simNumber": 1,
		"message": text, "receivedAt": s.stamp(),
	})
}

// InjectDataMO sends sms:data-received with data.
func (s *Server) InjectDataMO(name, phone string, data []byte) error {
	return s.inject(name, "sms:data-received", map[string]any{
		"messageId": randomID(21), "phoneNumber": phone, "simNumber": 1,
		"data": base64.StdEncoding.EncodeToString(data), "receivedAt": s.stamp(),
	})
}

func (s *Server) inject(name, event string, payload map[string]any) error {
	s.mu.Lock()
	u := s.users[name]
	s.mu.Unlock()
	if u == nil {
		return fmt.Errorf("smsgatefake: no user %q", name)
	}
	n, err := s.deliver(name, event, payload)
	if err == nil && n == 0 {
		err = fmt.Errorf("smsgatefake: no webhook for %s", event)
	}
	return err
}

func (s *Server) stamp() string {
	s.mu.Lock()
	now := s.now
	s.mu.Unlock()
	return now().In(s.zone).Format("2006-01-02T15:04:05.000-07:00")
}

func randomID(n int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	if n == 32 { // device ids are hex
		return hex.EncodeToString(b[:16])
	}
	return string(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"code": status, "message": msg})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		fail(w, http.StatusNotFound, "not found")
		return
	}
	s.mu.Lock()
	key := r.Method + " " + path
	if strings.HasPrefix(path, "/messages/") || strings.HasPrefix(path, "/webhooks/") {
		key = r.Method + " " + path[:strings.LastIndexByte(path, '/')+1] + "{id}"
	}
	s.hits[key]++
	if exact := r.Method + " " + path; exact != key {
		s.hits[exact]++
	}
	delay, down := s.delay, s.down
	if s.down > 0 {
		s.down--
	}
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if down != 0 {
		fail(w, http.StatusServiceUnavailable, "service unavailable")
		return
	}
	if path == "/health" {
		writeJSON(w, http.StatusOK, map[string]any{"status": "pass", "version": "fake"})
		return
	}
	name, pass, ok := r.BasicAuth()
	s.mu.Lock()
	u := s.users[name]
	s.mu.Unlock()
	if !ok || u == nil || !hmac.Equal([]byte(pass), []byte(u.pass)) {
		fail(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	switch {
	case path == "/messages" && r.Method == http.MethodPost:
		s.postMessage(w, r, name, u)
	case path == "/messages" && r.Method == http.MethodGet:
		s.listMessages(w, r, u)
	case strings.HasPrefix(path, "/messages/") && r.Method == http.MethodGet:
		s.getMessage(w, u, strings.TrimPrefix(path, "/messages/"))
	case strings.HasPrefix(path, "/messages/") && r.Method == http.MethodDelete:
		s.deleteMessage(w, name, u, strings.TrimPrefix(path, "/messages/"))
	case path == "/devices" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, []map[string]any{{"id": u.device, "name": "Fake phone", "createdAt": s.stamp(), "lastSeen": s.stamp()}})
	case path == "/webhooks" && r.Method == http.MethodGet:
		s.mu.Lock()
		hooks := slices.Clone(u.hooks)
		s.mu.Unlock()
		if hooks == nil {
			hooks = []Webhook{}
		}
		writeJSON(w, http.StatusOK, hooks)
	case path == "/webhooks" && r.Method == http.MethodPost:
		s.postWebhook(w, r, u)
	case strings.HasPrefix(path, "/webhooks/") && r.Method == http.MethodDelete:
		id := strings.TrimPrefix(path, "/webhooks/")
		s.mu.Lock()
		i := slices.IndexFunc(u.hooks, func(h Webhook) bool { return h.ID == id })
		if i >= 0 {
			u.hooks = slices.Delete(u.hooks, i, i+1)
		}
		s.mu.Unlock()
		if i < 0 {
			fail(w, http.StatusNotFound, "webhook not found")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		fail(w, http.StatusNotFound, "not found")
	}
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// validate applies the documented rules to a POST /messages body.
func validate(m *MessageRequest, skip bool) string {
	n := 0
	if m.TextMessage != nil {
		n++
	}
	if m.DataMessage != nil {
		n++
	}
	if m.Message != nil {
		n++
	}
	if n != 1 {
		return "exactly one of textMessage, dataMessage or message is required"
	}
	if m.TextMessage != nil && (m.TextMessage.Text == "" || len([]rune(m.TextMessage.Text)) > 65535) {
		return "textMessage.text must have 1..65535 characters"
	}
	if d := m.DataMessage; d != nil {
		if _, err := base64.StdEncoding.DecodeString(d.Data); err != nil || d.Data == "" {
			return "dataMessage.data must be base64"
		}
		if d.Port == nil || *d.Port < 0 || *d.Port > 65535 {
			return "dataMessage.port must be 0..65535"
		}
	}
	if len(m.PhoneNumbers) < 1 || len(m.PhoneNumbers) > 100 {
		return "phoneNumbers must have 1..100 entries"
	}
	for _, p := range m.PhoneNumbers {
		if p == "" || (!skip && !e164.MatchString(p)) {
			return fmt.Sprintf("phone number %q is not E.164", p)
		}
	}
	if m.TTL != nil && m.ValidUntil != nil {
		return "ttl and validUntil are mutually exclusive"
	}
	if m.TTL != nil && *m.TTL <= 0 {
		return "ttl must be positive"
	}
	if m.ValidUntil != nil {
		if _, err := time.Parse(time.RFC3339, *m.ValidUntil); err != nil {
			return "validUntil must be RFC 3339"
		}
	}
	if m.ScheduleAt != nil {
		if _, err := time.Parse(time.RFC3339, *m.ScheduleAt); err != nil {
			return "scheduleAt must be RFC 3339"
		}
	}
	if m.SimNumber != nil && (*m.SimNumber < 1 || *m.SimNumber > 3) {
		return "simNumber must be 1..3"
	}
	if m.Priority != nil && (*m.Priority < -128 || *m.Priority > 127) {
		return "priority must be -128..127"
	}
	if len(m.ID) > 36 {
		return "id must have at most 36 characters"
	}
	return ""
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request, name string, u *user) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		fail(w, http.StatusBadRequest, "reading the body failed")
		return
	}
	var req MessageRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		fail(w, http.StatusBadRequest, "bad JSON: "+err.Error())
		return
	}
	skip := r.URL.Query().Get("skipPhoneValidation") == "true"
	if msg := validate(&req, skip); msg != "" {
		fail(w, http.StatusBadRequest, msg)
		return
	}
	if req.DeviceID != "" && req.DeviceID != u.device {
		fail(w, http.StatusBadRequest, "unknown device")
		return
	}
	s.mu.Lock()
	id := req.ID
	if id == "" {
		id = randomID(21)
	}
	if _, ok := u.messages[id]; ok {
		s.mu.Unlock()
		fail(w, http.StatusConflict, "message with id "+id+" already exists")
		return
	}
	m := &msg{user: name, req: req, skip: skip, raw: raw, state: State{ID: id, DeviceID: u.device, State: "Pending", States: map[string]string{}}}
	for _, p := range req.PhoneNumbers {
		m.state.Recipients = append(m.state.Recipients, Recipient{PhoneNumber: p, State: "Pending"})
	}
	m.state.States["Pending"] = s.now().In(s.zone).Format(time.RFC3339Nano)
	hold, early := s.hold, s.early
	m.held = hold
	u.messages[id] = m
	u.order = append(u.order, id)
	s.records = append(s.records, Message{User: name, Request: req, SkipPhoneValidation: skip, Raw: raw, State: cloneState(m.state)})
	answer := cloneState(m.state)
	if !hold && !early {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			s.progress(m)
		}()
	}
	s.mu.Unlock()

	if early && !hold {
		s.progress(m)
	}
	writeJSON(w, http.StatusAccepted, answer)
}

func cloneState(st State) State {
	st.Recipients = slices.Clone(st.Recipients)
	st.States = make(map[string]string, len(st.States))
	for k, v := range st.States {
		st.States[k] = v
	}
	return st
}

// setState moves m to state (under s.mu).
func (s *Server) setState(m *msg, state, reason string) {
	m.state.State = state
	m.state.States[state] = s.now().In(s.zone).Format(time.RFC3339Nano)
	for i := range m.state.Recipients {
		m.state.Recipients[i].State = state
		m.state.Recipients[i].Error = reason
	}
}

// progress takes a message through its states and sends its webhooks.
func (s *Server) progress(m *msg) {
	s.mu.Lock()
	if m.state.State != "Pending" { // cancelled meanwhile
		s.mu.Unlock()
		return
	}
	phone := m.req.PhoneNumbers[0]
	out := Outcome{}
	if s.outcome != nil {
		out = s.outcome(phone)
	}
	reorder := s.reorder
	base := map[string]any{"messageId": m.state.ID, "phoneNumber": phone, "simNumber": simNumber(m.req.SimNumber)}
	with := func(k, v string) map[string]any {
		p := map[string]any{k: v}
		for a, b := range base {
			p[a] = b
		}
		return p
	}
	type event struct {
		name    string
		payload map[string]any
	}
	var evs []event
	s.setState(m, "Processed", "")
	if out.Fail {
		s.setState(m, "Failed", out.Reason)
		p := with("failedAt", m.state.States["Failed"])
		p["reason"] = out.Reason
		evs = append(evs, event{"sms:failed", p})
	} else {
		s.setState(m, "Sent", "")
		evs = append(evs, event{"sms:sent", with("sentAt", m.state.States["Sent"])})
		if m.req.WithDeliveryReport == nil || *m.req.WithDeliveryReport {
			s.setState(m, "Delivered", "")
			evs = append(evs, event{"sms:delivered", with("deliveredAt", m.state.States["Delivered"])})
		}
	}
	s.mu.Unlock()
	if reorder {
		slices.Reverse(evs)
	}
	for _, e := range evs {
		s.deliver(m.user, e.name, e.payload)
	}
}

func simNumber(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// deliver sends an event to the user's webhooks for it (with duplicates
// if asked), trying each up to three times; it returns how many
// registrations there were and the last failure.
func (s *Server) deliver(name, event string, payload map[string]any) (int, error) {
	s.mu.Lock()
	u := s.users[name]
	var hooks []Webhook
	for _, h := range u.hooks {
		if h.Event == event {
			hooks = append(hooks, h)
		}
	}
	key, dups, device, now := s.key, s.dups, u.device, s.now
	s.mu.Unlock()
	var last error
	for _, h := range hooks {
		body, _ := json.Marshal(map[string]any{"deviceId": device, "event": event, "id": randomID(21), "webhookId": h.ID, "payload": payload})
		for range 1 + dups {
			if err := s.post(h, event, body, key, now); err != nil {
				last = err
			}
		}
	}
	return len(hooks), last
}

func (s *Server) post(h Webhook, event string, body []byte, key string, now func() time.Time) error {
	var err error
	for try := range 3 {
		if try > 0 {
			select {
			case <-time.After(time.Duration(10<<try) * time.Millisecond):
			case <-s.closed:
				return err
			}
		}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, h.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			ts := strconv.FormatInt(now().Unix(), 10)
			m := hmac.New(sha256.New, []byte(key))
			m.Write(body)
			m.Write([]byte(ts))
			req.Header.Set("X-Timestamp", ts)
			req.Header.Set("X-Signature", hex.EncodeToString(m.Sum(nil)))
		}
		status := 0
		resp, e := s.client.Do(req)
		if e == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			status = resp.StatusCode
		}
		s.mu.Lock()
		s.deliveries = append(s.deliveries, Delivery{Event: event, URL: h.URL, Body: body, Status: status})
		s.mu.Unlock()
		if e == nil && status/100 == 2 {
			return nil
		}
		err = e
		if err == nil {
			err = fmt.Errorf("smsgatefake: webhook %s answered %d", h.URL, status)
		}
	}
	return err
}

func (s *Server) getMessage(w http.ResponseWriter, u *user, id string) {
	s.mu.Lock()
	m, ok := u.messages[id]
	var st State
	if ok {
		st = cloneState(m.state)
	}
	s.mu.Unlock()
	if !ok {
		fail(w, http.StatusNotFound, "message not found")
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, u *user) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	if limit <= 0 {
		limit = 50
	}
	s.mu.Lock()
	var all []State
	for i := len(u.order) - 1; i >= 0; i-- {
		m := u.messages[u.order[i]]
		if st := q.Get("state"); st != "" && m.state.State != st {
			continue
		}
		all = append(all, cloneState(m.state))
	}
	s.mu.Unlock()
	w.Header().Set("X-Total-Count", strconv.Itoa(len(all)))
	page := []State{}
	if offset < len(all) {
		page = all[offset:min(len(all), offset+limit)]
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) deleteMessage(w http.ResponseWriter, name string, u *user, id string) {
	s.mu.Lock()
	m, ok := u.messages[id]
	if !ok {
		s.mu.Unlock()
		fail(w, http.StatusNotFound, "message not found")
		return
	}
	if m.state.State != "Pending" {
		s.mu.Unlock()
		fail(w, http.StatusConflict, "message is already "+m.state.State)
		return
	}
	s.setState(m, "Cancelling", "")
	s.setState(m, "Cancelled", "")
	m.held = false
	payload := map[string]any{"messageId": id, "phoneNumber": m.req.PhoneNumbers[0], "simNumber": simNumber(m.req.SimNumber), "cancelledAt": m.state.States["Cancelled"]}
	s.bg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.bg.Done()
		s.deliver(name, "sms:cancelled", payload)
	}()
	w.WriteHeader(http.StatusNoContent)
}

var events = []string{"sms:received", "sms:data-received", "sms:sent", "sms:delivered", "sms:failed", "sms:cancelled", "system:ping", "mms:received"}

func (s *Server) postWebhook(w http.ResponseWriter, r *http.Request, u *user) {
	var h Webhook
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&h); err != nil {
		fail(w, http.StatusBadRequest, "bad JSON")
		return
	}
	if !slices.Contains(events, h.Event) {
		fail(w, http.StatusBadRequest, "unknown event "+h.Event)
		return
	}
	pu, err := url.Parse(h.URL)
	if err != nil || pu.Host == "" || !(pu.Scheme == "https" || pu.Scheme == "http" && isLocal(pu.Hostname())) {
		fail(w, http.StatusBadRequest, "url must be https (http only for localhost)")
		return
	}
	if len(h.ID) > 36 {
		fail(w, http.StatusBadRequest, "id must have at most 36 characters")
		return
	}
	s.mu.Lock()
	if h.ID == "" {
		h.ID = randomID(21)
	}
	if i := slices.IndexFunc(u.hooks, func(x Webhook) bool { return x.ID == h.ID }); i >= 0 {
		u.hooks[i] = h
	} else {
		u.hooks = append(u.hooks, h)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, h)
}

func isLocal(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway"
	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/text"
)

type api struct{ o Options }

// caller is who a request is from: an operator (API key, or the open
// loopback API) sees everything; an account only its own.
type caller struct {
	admin   bool
	account string
}

type ctxKey struct{}

func callerOf(r *http.Request) caller { c, _ := r.Context().Value(ctxKey{}).(caller); return c }

// auth admits a request by API key (Bearer or X-API-Key), by an account's
// SMPP credentials (Basic), or, when neither keys nor accounts are
// configured, from loopback.
func (a *api) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var keys []string
		if a.o.APIKeys != nil {
			keys = a.o.APIKeys()
		}
		key := r.Header.Get("X-API-Key")
		if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			key = strings.TrimSpace(v)
		}
		var c caller
		switch user, pw, basic := r.BasicAuth(); {
		case key != "":
			if !keyOK(keys, key) {
				writeError(w, http.StatusUnauthorized, "unknown API key", "")
				return
			}
			c.admin = true
		case basic:
			if !a.o.API.Authenticate(user, pw) {
				w.Header().Set("WWW-Authenticate", `Basic realm="smppd"`)
				writeError(w, http.StatusUnauthorized, "wrong system_id or password", "")
				return
			}
			c.account = user
		case len(keys) == 0 && !a.o.API.HasAccounts():
			if !loopback(r.RemoteAddr) {
				writeError(w, http.StatusForbidden, "no API keys or accounts are configured: the API is open to loopback clients only", "")
				return
			}
			c.admin = true
		default:
			w.Header().Set("WWW-Authenticate", `Basic realm="smppd"`)
			writeError(w, http.StatusUnauthorized, "authentication required: Authorization: Bearer KEY, X-API-Key: KEY, or an account's system_id and password as HTTP Basic", "")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, c)))
	}
}

func keyOK(keys []string, key string) bool {
	ok := 0
	for _, k := range keys {
		ok |= subtle.ConstantTimeCompare([]byte(k), []byte(key))
	}
	return ok == 1
}

func loopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// admin restricts a route to operators.
func (a *api) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !callerOf(r).admin {
			writeError(w, http.StatusForbidden, "this route needs an API key", "")
			return
		}
		h(w, r)
	}
}

// decode reads a JSON body strictly: unknown fields and wrong types are
// the client's error, named.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err == nil {
		return true
	}
	var te *json.UnmarshalTypeError
	field := ""
	msg := "invalid JSON body: " + err.Error()
	switch {
	case errors.As(err, &te):
		field, msg = te.Field, fmt.Sprintf("must be of type %s", te.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field, msg = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "unknown field"
	case errors.Is(err, io.EOF):
		msg = "empty body: a JSON object is expected"
	}
	writeError(w, http.StatusBadRequest, msg, field)
	return false
}

// sendBody is POST /v1/messages.
type sendBody struct {
	Account            string  `json:"account"`
	From               string  `json:"from"`
	To                 string  `json:"to"`
	Text               *string `json:"text"`
	Data               *string `json:"data"`
	DataCoding         *int    `json:"data_coding"`
	RegisteredDelivery *int    `json:"registered_delivery"`
	Receipt            bool    `json:"receipt"`
	Validity           string  `json:"validity"`
	Schedule           string  `json:"schedule"`
}

// defaultAccount is whom an operator's message is sent as when it names no
// account and none is configured (smppd accepting any bind).
const defaultAccount = "api"

func (a *api) send(w http.ResponseWriter, r *http.Request) {
	var b sendBody
	if !decode(w, r, &b) {
		return
	}
	c := callerOf(r)
	req := gateway.SendRequest{Account: b.Account, From: b.From, To: b.To}
	switch {
	case !c.admin && b.Account != "" && b.Account != c.account:
		writeError(w, http.StatusForbidden, "an account may send only as itself", "account")
		return
	case !c.admin:
		req.Account = c.account
	case b.Account == "" && a.o.API.HasAccounts():
		writeError(w, http.StatusBadRequest, "required: the account to send as", "account")
		return
	case b.Account == "":
		req.Account = defaultAccount
	}
	if b.To == "" {
		writeError(w, http.StatusBadRequest, "required", "to")
		return
	}
	switch {
	case b.Text != nil && b.Data != nil:
		writeError(w, http.StatusBadRequest, "give text or data, not both", "data")
		return
	case b.Text != nil:
		if b.DataCoding != nil {
			writeError(w, http.StatusBadRequest, "data_coding goes with data; text picks its own coding", "data_coding")
			return
		}
		req.Text = *b.Text
	case b.Data != nil:
		d, err := base64.StdEncoding.DecodeString(*b.Data)
		if err != nil {
			writeError(w, http.StatusBadRequest, "not valid base64", "data")
			return
		}
		req.Data = d
		if b.DataCoding != nil {
			if *b.DataCoding < 0 || *b.DataCoding > 255 {
				writeError(w, http.StatusBadRequest, "must be 0-255", "data_coding")
				return
			}
			req.DataCoding = uint8(*b.DataCoding)
		}
	default:
		writeError(w, http.StatusBadRequest, "required: text, or data (base64) with data_coding", "text")
		return
	}
	if b.RegisteredDelivery != nil {
		if *b.RegisteredDelivery < 0 || *b.RegisteredDelivery > 255 {
			writeError(w, http.StatusBadRequest, "must be 0-255", "registered_delivery")
			return
		}
		req.RegisteredDelivery = uint8(*b.RegisteredDelivery)
	} else if b.Receipt {
		req.RegisteredDelivery = 1
	}
	if b.Validity != "" {
		d, err := time.ParseDuration(b.Validity)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, "a positive duration such as 30m or 24h", "validity")
			return
		}
		req.Validity = d
	}
	if b.Schedule != "" {
		t, err := time.Parse(time.RFC3339, b.Schedule)
		if err != nil {
			writeError(w, http.StatusBadRequest, "an RFC 3339 time such as 2026-12-03T10:00:00Z", "schedule")
			return
		}
		req.Schedule = t
	}
	ids, err := a.o.API.Send(r.Context(), req)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"ids": ids})
}

// writeEngineError answers an engine refusal with its HTTP equivalent.
func writeEngineError(w http.ResponseWriter, err error) {
	var ae *gateway.APIError
	switch {
	case errors.As(err, &ae):
		status := http.StatusBadRequest
		switch ae.Status {
		case pdu.ESME_RTHROTTLED, pdu.ESME_RMSGQFUL:
			status = http.StatusTooManyRequests
		case pdu.ESME_RCANCELFAIL:
			status = http.StatusConflict
		case pdu.ESME_RBINDFAIL:
			status = http.StatusForbidden
		case pdu.ESME_RSYSERR:
			status = http.StatusInternalServerError
		}
		writeError(w, status, ae.Msg, ae.Field)
	case errors.Is(err, gateway.ErrNoAccount):
		writeError(w, http.StatusBadRequest, "no such account", "account")
	case errors.Is(err, gateway.ErrNotFound):
		writeError(w, http.StatusNotFound, "no such message", "id")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, "request ended before the gateway answered", "")
	default:
		writeError(w, http.StatusInternalServerError, err.Error(), "")
	}
}

// messageView is a message as the API shows it.
type messageView struct {
	ID                 string     `json:"id"`
	Account            string     `json:"account"`
	Route              string     `json:"route"`
	From               string     `json:"from"`
	To                 string     `json:"to"`
	State              string     `json:"state"`
	ErrorCode          int        `json:"error_code"`
	RegisteredDelivery int        `json:"registered_delivery"`
	DataCoding         int        `json:"data_coding"`
	Text               *string    `json:"text,omitempty"`
	Data               string     `json:"data"`
	Part               int        `json:"part,omitempty"`
	Parts              int        `json:"parts,omitempty"`
	BackendID          string     `json:"backend_id,omitempty"`
	Attempts           int        `json:"attempts"`
	SubmittedAt        time.Time  `json:"submitted_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
	DoneAt             *time.Time `json:"done_at,omitempty"`
	ScheduleAt         *time.Time `json:"schedule_at,omitempty"`
	ExpireAt           *time.Time `json:"expire_at,omitempty"`
	// History is set by GET /v1/messages/{id} when the store keeps one.
	History []eventView `json:"history,omitempty"`
}

type eventView struct {
	State     string    `json:"state"`
	ErrorCode int       `json:"error_code"`
	At        time.Time `json:"at"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func viewOf(m *store.Message) messageView {
	v := messageView{ID: m.ID, Account: m.Account, Route: m.Route, From: m.Source.Addr, To: m.Dest.Addr,
		State: m.State.String(), ErrorCode: int(m.ErrorCode), RegisteredDelivery: int(m.RegisteredDelivery),
		DataCoding: int(m.DataCoding), Data: base64.StdEncoding.EncodeToString(m.Body), Part: int(m.Part), Parts: int(m.Parts),
		BackendID: m.BackendID, Attempts: m.Attempts, SubmittedAt: m.SubmittedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC(),
		DoneAt: timePtr(m.DoneAt), ScheduleAt: timePtr(m.ScheduleAt), ExpireAt: timePtr(m.ExpireAt)}
	if d, err := (&text.Codec{}).Decode(m.Body, m.DataCoding, m.ESMClass&0x40 != 0); err == nil {
		v.Text = &d.Text
	}
	return v
}

func (a *api) get(w http.ResponseWriter, r *http.Request) {
	m, err := a.o.API.Message(r.Context(), callerOf(r).account, r.PathValue("id"))
	if err != nil {
		writeEngineError(w, err)
		return
	}
	v := viewOf(m)
	events, ok, err := a.o.API.History(r.Context(), callerOf(r).account, m.ID)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	if ok {
		v.History = make([]eventView, 0, len(events))
		for _, e := range events {
			v.History = append(v.History, eventView{State: e.State.String(), ErrorCode: int(e.ErrorCode), At: e.At.UTC()})
		}
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *api) cancel(w http.ResponseWriter, r *http.Request) {
	if err := a.o.API.Cancel(r.Context(), callerOf(r).account, r.PathValue("id")); err != nil {
		writeEngineError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c := callerOf(r)
	f := store.Filter{Account: q.Get("account"), Source: q.Get("source"), Dest: q.Get("dest"), Before: q.Get("before")}
	if !c.admin {
		if f.Account != "" && f.Account != c.account {
			writeError(w, http.StatusForbidden, "an account sees only its own messages", "account")
			return
		}
		f.Account = c.account
	}
	if s := q.Get("state"); s != "" {
		for name := range strings.SplitSeq(s, ",") {
			st, ok := store.ParseState(strings.ToUpper(strings.TrimSpace(name)))
			if !ok {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown state %q (ACCEPTED, SCHEDULED, ENROUTE, DELIVERED, EXPIRED, DELETED, UNDELIVERABLE, UNKNOWN, REJECTED, SKIPPED)", name), "state")
				return
			}
			f.States = append(f.States, st)
		}
	}
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if s := q.Get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				writeError(w, http.StatusBadRequest, "an RFC 3339 time such as 2026-12-03T10:00:00Z", p.name)
				return
			}
			*p.t = t
		}
	}
	f.Limit = 100
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "a number from 1 to 1000", "limit")
			return
		}
		f.Limit = n
	}
	ms, err := a.o.API.Find(r.Context(), f)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	out := struct {
		Messages []messageView `json:"messages"`
		Next     string        `json:"next,omitempty"`
	}{Messages: make([]messageView, 0, len(ms))}
	for _, m := range ms {
		out.Messages = append(out.Messages, viewOf(m))
	}
	if len(ms) == f.Limit {
		out.Next = ms[len(ms)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

type sessionView struct {
	Account        string            `json:"account"`
	BindType       string            `json:"bind_type"`
	RemoteAddr     string            `json:"remote_addr"`
	Sent           map[string]uint64 `json:"sent"`
	Received       map[string]uint64 `json:"received"`
	SentErrors     map[string]uint64 `json:"sent_errors"`
	ReceivedErrors map[string]uint64 `json:"received_errors"`
	Timeouts       uint64            `json:"timeouts"`
	WindowWaits    uint64            `json:"window_waits"`
	WindowRejects  uint64            `json:"window_rejects"`
	Unmatched      uint64            `json:"unmatched"`
	DecodeErrors   uint64            `json:"decode_errors"`
}

func (a *api) sessions(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	account := r.URL.Query().Get("account")
	if !c.admin {
		account = c.account
	}
	out := struct {
		Sessions []sessionView `json:"sessions"`
	}{Sessions: []sessionView{}}
	for _, s := range a.o.API.Sessions(account) {
		st := s.Stats
		out.Sessions = append(out.Sessions, sessionView{Account: s.SystemID, BindType: s.BindType, RemoteAddr: s.RemoteAddr,
			Sent: st.Sent, Received: st.Received, SentErrors: st.SentErrors, ReceivedErrors: st.ReceivedErrors,
			Timeouts: st.Timeouts, WindowWaits: st.WindowWaits, WindowRejects: st.WindowRejects, Unmatched: st.Unmatched, DecodeErrors: st.DecodeErrors})
	}
	writeJSON(w, http.StatusOK, out)
}

type moBody struct {
	From       string  `json:"from"`
	To         string  `json:"to"`
	Text       *string `json:"text"`
	Data       *string `json:"data"`
	DataCoding *int    `json:"data_coding"`
}

func (a *api) mo(w http.ResponseWriter, r *http.Request) {
	var b moBody
	if !decode(w, r, &b) {
		return
	}
	switch {
	case b.From == "":
		writeError(w, http.StatusBadRequest, "required: the mobile's address", "from")
		return
	case b.To == "":
		writeError(w, http.StatusBadRequest, "required: the address an account owns", "to")
		return
	}
	from, fton, fnpi := smpp.GuessTON(b.From)
	to, tton, tnpi := smpp.GuessTON(b.To)
	mo := &backend.MO{Source: store.Address{TON: fton, NPI: fnpi, Addr: from}, Dest: store.Address{TON: tton, NPI: tnpi, Addr: to}}
	switch {
	case b.Text != nil && b.Data != nil:
		writeError(w, http.StatusBadRequest, "give text or data, not both", "data")
		return
	case b.Text != nil:
		msg, err := (&text.Codec{}).Split(*b.Text, text.Auto, text.SplitPayload)
		if err != nil || len(msg.Segments) != 1 {
			writeError(w, http.StatusBadRequest, "text cannot be encoded", "text")
			return
		}
		mo.Body, mo.DataCoding = msg.Segments[0].Data, msg.DataCoding
	case b.Data != nil:
		d, err := base64.StdEncoding.DecodeString(*b.Data)
		if err != nil {
			writeError(w, http.StatusBadRequest, "not valid base64", "data")
			return
		}
		mo.Body = d
		if b.DataCoding != nil {
			if *b.DataCoding < 0 || *b.DataCoding > 255 {
				writeError(w, http.StatusBadRequest, "must be 0-255", "data_coding")
				return
			}
			mo.DataCoding = uint8(*b.DataCoding)
		}
	default:
		writeError(w, http.StatusBadRequest, "required: text, or data (base64) with data_coding", "text")
		return
	}
	account, err := a.o.API.InjectMO(r.Context(), mo)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"account": account})
}

func (a *api) reload(w http.ResponseWriter, r *http.Request) {
	if a.o.Reload == nil {
		writeError(w, http.StatusConflict, "this server has no configuration to reload", "")
		return
	}
	n, err := a.o.Reload(r.Context())
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "configuration not reloaded: "+err.Error(), "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": n})
}

package gateway

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/text"
)

// This file is the engine's surface for operators and the REST API: the
// same paths SMPP takes (store, route, receipts), entered without a PDU.

// SendRequest is a message submitted other than over SMPP (the REST API).
type SendRequest struct {
	// Account is the system_id the message is sent as.
	Account string
	// From and To are the addresses; their TON/NPI are guessed from their
	// form as the smpp CLI does (international with '+', alphanumeric…).
	From, To string
	// Text is split into parts like a long SMPP message (concatenation
	// UDH, 8-bit reference), coded in the cheapest coding that carries it.
	// Data, if not nil instead, is sent as one part with DataCoding.
	Text       string
	Data       []byte
	DataCoding uint8
	// RegisteredDelivery is the registered_delivery of every part.
	RegisteredDelivery uint8
	// Validity (relative) and Schedule (absolute) as in submit_sm; zero
	// for none.
	Validity time.Duration
	Schedule time.Time
}

// APIError is why the engine refused a request: the SMPP status it
// corresponds to, the request field at fault (if one is) and a message for
// people.
type APIError struct {
	Status pdu.Status
	Field  string
	Msg    string
}

func (e *APIError) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Msg
	}
	return e.Msg
}

// Errors the API methods return besides *APIError.
var (
	// ErrNoAccount: the account named is not configured (nor bound).
	ErrNoAccount = errors.New("gateway: no such account")
	// ErrNotFound: no message with that id for that account.
	ErrNotFound = errors.New("gateway: no such message")
)

func apiErr(st pdu.Status, field, msg string) *APIError {
	return &APIError{Status: st, Field: field, Msg: msg}
}

// statusErr names the field and cause of a status check returns.
func statusErr(st pdu.Status) *APIError {
	switch st {
	case pdu.ESME_RINVDSTADR:
		return apiErr(st, "to", "destination address missing or invalid")
	case pdu.ESME_RINVSRCADR:
		return apiErr(st, "from", "the account may not send from this address")
	case pdu.ESME_RINVREGDLVFLG:
		return apiErr(st, "registered_delivery", "invalid registered_delivery")
	case pdu.ESME_RINVEXPIRY:
		return apiErr(st, "validity", "validity has passed or is invalid")
	case pdu.ESME_RINVSCHED:
		return apiErr(st, "schedule", "schedule is invalid or not before the validity ends")
	case pdu.ESME_RTHROTTLED:
		return apiErr(st, "", "throttled: try again later")
	case pdu.ESME_RMSGQFUL:
		return apiErr(st, "", "too many messages in flight for the account")
	}
	return apiErr(st, "", "refused: "+st.String())
}

// Send stores a message (split into parts when its text is long) and
// routes it, like submit_sm: it returns the parts' ids once every part is
// durable. A refusal is an *APIError.
func (g *Gateway) Send(ctx context.Context, r SendRequest) ([]string, error) {
	a := g.lookupAccount(r.Account)
	if a == nil {
		as := g.accounts.Load()
		if !as.acceptAny && g.opts.PassThrough == nil {
			return nil, ErrNoAccount
		}
		a = g.dynamicAccount(r.Account)
	}
	if a.Disabled {
		return nil, apiErr(pdu.ESME_RBINDFAIL, "account", "account disabled")
	}
	if r.To == "" {
		return nil, apiErr(pdu.ESME_RINVDSTADR, "to", "destination address missing")
	}
	from, fton, fnpi := smpp.GuessTON(r.From)
	to, tton, tnpi := smpp.GuessTON(r.To)
	type part struct {
		body []byte
		udhi bool
	}
	var parts []part
	dc := r.DataCoding
	if r.Data != nil {
		if len(r.Data) > 65535 {
			return nil, apiErr(pdu.ESME_RINVMSGLEN, "data", "more than 65535 octets")
		}
		parts = []part{{body: r.Data}}
	} else {
		var codec text.Codec
		msg, err := codec.Split(r.Text, text.Auto, text.SplitUDH8)
		if err != nil {
			return nil, apiErr(pdu.ESME_RINVMSGLEN, "text", err.Error())
		}
		dc = msg.DataCoding
		for _, s := range msg.Segments {
			parts = append(parts, part{body: s.Data, udhi: s.UDHI})
		}
	}
	now := g.now()
	msgs := make([]*store.Message, len(parts))
	for i, p := range parts {
		m := &store.Message{
			Source:             store.Address{TON: fton, NPI: fnpi, Addr: from},
			Dest:               store.Address{TON: tton, NPI: tnpi, Addr: to},
			RegisteredDelivery: r.RegisteredDelivery,
			DataCoding:         dc,
			Body:               p.body,
		}
		if p.udhi {
			m.ESMClass = 0x40
		}
		if !r.Schedule.IsZero() && r.Schedule.After(now) {
			m.ScheduleAt = r.Schedule
		}
		if r.Validity < 0 {
			return nil, apiErr(pdu.ESME_RINVEXPIRY, "validity", "must not be negative")
		}
		if r.Validity > 0 {
			m.ExpireAt = now.Add(r.Validity)
		}
		if st := g.check(a, m, nil); st != pdu.ESME_ROK {
			return nil, statusErr(st)
		}
		msgs[i] = m
	}
	for range msgs { // a token per part, as over SMPP
		if !a.allow(now) {
			g.metrics.rejected(a.SystemID, pdu.ESME_RTHROTTLED)
			return nil, statusErr(pdu.ESME_RTHROTTLED)
		}
	}
	if g.opts.MaxPending > 0 && g.pending.Load()+int64(len(msgs)) > int64(g.opts.MaxPending) {
		g.metrics.rejected(a.SystemID, pdu.ESME_RTHROTTLED)
		return nil, statusErr(pdu.ESME_RTHROTTLED)
	}
	start := time.Now()
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		m.ID = g.ids.message()
		ids[i] = m.ID
	}
	g.pending.Add(int64(len(msgs)))
	// The commit's outcome is handled whether or not the caller still
	// waits: stored messages are always dispatched.
	done := make(chan error, 1)
	g.commit.add(func(b *store.Batch) { b.Messages = append(b.Messages, msgs...) }, func(err error) {
		if err != nil {
			g.pending.Add(-int64(len(msgs)))
			g.log.Error("message not stored; REST send refused", "system_id", a.SystemID, "err", err)
			done <- err
			return
		}
		took := time.Since(start)
		for _, m := range msgs {
			g.metrics.accepted(a.SystemID)
			g.metrics.submitted(took)
			g.dispatch.enqueue(m)
		}
		done <- nil
	})
	select {
	case err := <-done:
		if err != nil {
			return nil, fmt.Errorf("gateway: message not stored: %w", err)
		}
	case <-ctx.Done():
		// (the messages may yet be stored, and are then sent)
		return nil, ctx.Err()
	}
	return ids, nil
}

// Message returns a stored message; with account not empty, only one of
// that account's (ErrNotFound otherwise).
func (g *Gateway) Message(ctx context.Context, account, id string) (*store.Message, error) {
	m, err := g.message(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && account != "" && m.Account != account {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if c, ok := g.dispatch.live.snapshot(id); ok {
		m = c // the live copy may be ahead of the store by one commit
	}
	return m, nil
}

// History returns a message's history, oldest first, when the store keeps
// one (store.Historian; ok false otherwise); with account not empty, only
// of that account's messages (ErrNotFound otherwise).
func (g *Gateway) History(ctx context.Context, account, id string) (events []store.Event, ok bool, err error) {
	h, ok := g.opts.Store.(store.Historian)
	if !ok {
		return nil, false, nil
	}
	if account != "" {
		if _, err := g.Message(ctx, account, id); err != nil {
			return nil, true, err
		}
	}
	events, err = h.History(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		err = ErrNotFound
	}
	return events, true, err
}

// Find lists stored messages (store.Filter).
func (g *Gateway) Find(ctx context.Context, f store.Filter) ([]*store.Message, error) {
	return g.opts.Store.Find(ctx, f)
}

// Cancel deletes a message that is not final yet, as cancel_sm does; with
// account not empty, only one of that account's. It returns ErrNotFound,
// or an *APIError saying why the message cannot be cancelled.
func (g *Gateway) Cancel(ctx context.Context, account, id string) error {
	m, err := g.Message(ctx, account, id)
	if err != nil {
		return err
	}
	if err := g.dispatch.cancel(ctx, m); err != nil {
		return apiErr(pdu.ESME_RCANCELFAIL, "", "cannot cancel: "+err.Error())
	}
	return nil
}

// InjectMO takes a mobile-originated message as if a backend had received
// it: it is stored for the account that owns its destination and
// delivered to that account's receivers. It returns the account, or an
// error when no account owns the destination.
func (g *Gateway) InjectMO(ctx context.Context, mo *backend.MO) (string, error) {
	a := g.accounts.Load().owner(mo.Dest.Addr)
	if a == nil {
		g.metrics.moUnrouted.Add(1)
		return "", apiErr(pdu.ESME_RINVDSTADR, "to", "no account owns this address")
	}
	// Without the caller's cancellation: once committed, the message must
	// also be queued for delivery.
	if err := g.receive(context.WithoutCancel(ctx), mo); err != nil {
		return "", err
	}
	return a.SystemID, nil
}

// SessionInfo describes a bound SMPP session.
type SessionInfo struct {
	SystemID   string
	BindType   string // "transmitter", "receiver", "transceiver"
	RemoteAddr string
	Stats      smpp.Stats
}

// Sessions returns the bound SMPP sessions, of one account or (account
// "") of all, ordered by account and address.
func (g *Gateway) Sessions(account string) []SessionInfo {
	ss := g.server.Sessions(account)
	out := make([]SessionInfo, 0, len(ss))
	for _, s := range ss {
		out = append(out, SessionInfo{SystemID: s.SystemID(), BindType: bindType(s.State()), RemoteAddr: s.RemoteAddr().String(), Stats: s.Stats()})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].SystemID != out[j].SystemID {
			return out[i].SystemID < out[j].SystemID
		}
		return out[i].RemoteAddr < out[j].RemoteAddr
	})
	return out
}

func bindType(st smpp.State) string {
	switch st {
	case smpp.StateBoundTX:
		return "transmitter"
	case smpp.StateBoundRX:
		return "receiver"
	case smpp.StateBoundTRX:
		return "transceiver"
	}
	return "none"
}

// Authenticate checks an account's SMPP credentials (for the REST API's
// HTTP Basic authentication): a configured, enabled account only.
func (g *Gateway) Authenticate(systemID, password string) bool {
	a := g.accounts.Load().byID[systemID]
	return a != nil && !a.Disabled && a.passwordOK(password)
}

// HasAccounts reports whether accounts are configured.
func (g *Gateway) HasAccounts() bool { return len(g.accounts.Load().byID) > 0 }

// Accounts returns the system_ids of the configured accounts, sorted.
func (g *Gateway) Accounts() []string {
	as := g.accounts.Load()
	out := make([]string, 0, len(as.byID))
	for id := range as.byID {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

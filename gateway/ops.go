package gateway

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/pdu"
)

// The SMPP operations beyond submit_sm, data_sm and query_sm: submit_multi,
// cancel_sm, replace_sm and replace_if_present_flag. docs/operations.md
// says what each means in smppd.

// A submit_multi is stored as one message per destination. The first
// accepted destination gets a fresh id X, the following ones X.1, X.2, …
// (ids are hexadecimal otherwise, so the suffix cannot collide). The
// response carries X; every destination's receipt carries X too (receiptID)
// and tells the destinations apart by its source address, as an ESME
// expects of the one message_id submit_multi returns. cancel_sm and
// replace_sm by X act on every destination (family).

// multiID names the i-th accepted destination of the submit_multi whose
// first one has id base.
func multiID(base string, i int) string {
	if i == 0 {
		return base
	}
	return base + "." + strconv.Itoa(i)
}

// receiptID is the message_id a message's receipts carry: the id its
// submit's response carried.
func receiptID(id string) string {
	if i := strings.IndexByte(id, '.'); i >= 0 {
		return id[:i]
	}
	return id
}

// maxDests bounds number_of_dests (v5.0: 255).
const maxDests = 255

// submitMulti answers submit_multi: each destination is checked as a
// submit_sm of its own; the refused ones go into unsuccess_sme, the others
// are stored in one commit and answered once durable.
func (g *Gateway) submitMulti(w smpp.ResponseWriter, r *smpp.Request, a *account, p *pdu.SubmitMulti) {
	switch {
	case len(p.DestAddresses) == 0 || len(p.DestAddresses) > maxDests:
		g.reject(w, r, a, pdu.ESME_RINVNUMDESTS, "number_of_dests")
		return
	case p.ReplaceIfPresentFlag != 0:
		// v3.4: must be 0; v5.0 lets the MC refuse it with this status.
		g.reject(w, r, a, pdu.ESME_RINVSUBREP, "replace_if_present_flag in submit_multi")
		return
	}
	var (
		msgs      []*store.Message
		unsuccess []pdu.UnsuccessSME
	)
	for _, d := range p.DestAddresses {
		if d.Flag == pdu.DestFlagDistribution {
			// No distribution lists are configured.
			unsuccess = append(unsuccess, pdu.UnsuccessSME{DestinationAddr: d.DLName, ErrorStatusCode: pdu.ESME_RINVDLNAME})
			continue
		}
		one := pdu.SubmitSM{ServiceType: p.ServiceType, SourceAddrTON: p.SourceAddrTON, SourceAddrNPI: p.SourceAddrNPI,
			SourceAddr: p.SourceAddr, DestAddrTON: d.TON, DestAddrNPI: d.NPI, DestinationAddr: d.Addr,
			ESMClass: p.ESMClass, ProtocolID: p.ProtocolID, PriorityFlag: p.PriorityFlag,
			ScheduleDeliveryTime: p.ScheduleDeliveryTime, ValidityPeriod: p.ValidityPeriod,
			RegisteredDelivery: p.RegisteredDelivery, DataCoding: p.DataCoding, ShortMessage: p.ShortMessage, TLVs: p.TLVs}
		m, st := g.fromSubmit(a, &one)
		if st != pdu.ESME_ROK {
			unsuccess = append(unsuccess, pdu.UnsuccessSME{DestAddrTON: d.TON, DestAddrNPI: d.NPI, DestinationAddr: d.Addr, ErrorStatusCode: st})
			continue
		}
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		// Nothing to give an id to: the first destination's reason
		// (the body, and so the list, is omitted on error).
		g.reject(w, r, a, unsuccess[0].ErrorStatusCode, "no destination accepted")
		return
	}
	if !g.admit(w, r, a) {
		return
	}
	w.Detach()
	base := g.ids.message()
	for i, m := range msgs {
		m.ID = multiID(base, i)
	}
	g.pending.Add(int64(len(msgs)))
	g.commit.add(func(b *store.Batch) { b.Messages = append(b.Messages, msgs...) }, func(err error) {
		a.release()
		if err != nil {
			g.pending.Add(-int64(len(msgs)))
			g.log.Error("submit_multi not stored; refused", "system_id", a.SystemID, "err", err)
			w.RespondStatus(pdu.ESME_RSYSERR)
			return
		}
		for range msgs {
			g.metrics.accepted(a.SystemID)
		}
		for _, m := range msgs {
			g.dispatch.live.put(m) // (as in Gateway.store)
		}
		w.Respond(&pdu.SubmitMultiResp{MessageID: base, Unsuccess: unsuccess})
		for _, m := range msgs {
			g.dispatch.route(m)
		}
	})
}

// family returns the stored messages an id the account was given stands
// for: the message, and for a submit_multi's id the other destinations.
// Another account's message is not found.
func (g *Gateway) family(ctx context.Context, a *account, id string) ([]*store.Message, error) {
	m, err := g.message(ctx, id)
	if err != nil {
		return nil, err
	}
	if m.Account != a.SystemID {
		return nil, store.ErrNotFound
	}
	out := []*store.Message{m}
	if strings.IndexByte(id, '.') >= 0 {
		return out, nil // one destination asked for by its own id
	}
	for i := 1; i < maxDests; i++ {
		o, err := g.message(ctx, multiID(id, i))
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// nonFinal are the states cancel_sm and replace_if_present look for.
var nonFinal = []store.State{store.Scheduled, store.Enroute, store.Accepted, store.Unknown}

// cancel answers cancel_sm. By message_id it cancels that message (every
// destination of a submit_multi), checking source_addr and, when given,
// destination_addr against it; without one, every unfinished message of
// the account with exactly that source_addr and destination_addr (and
// service_type, when given). It succeeds when at least one message is
// cancelled; a message that is final, or that its backend holds and
// cannot cancel, is not.
func (g *Gateway) cancel(w smpp.ResponseWriter, r *smpp.Request, a *account, p *pdu.CancelSM) {
	ctx := r.Context()
	var cands []*store.Message
	if p.MessageID != "" {
		ms, err := g.family(ctx, a, p.MessageID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			g.log.Error("cancel_sm: store", "err", err)
		}
		for _, m := range ms {
			if p.SourceAddr != "" && !strings.EqualFold(p.SourceAddr, m.Source.Addr) {
				continue
			}
			if p.DestinationAddr != "" && p.DestinationAddr != m.Dest.Addr {
				continue
			}
			cands = append(cands, m)
		}
	} else {
		if p.DestinationAddr == "" {
			// Not every message of a source: cancel_sm names both.
			w.RespondStatus(pdu.ESME_RCANCELFAIL)
			return
		}
		var err error
		cands, err = g.findWaiting(ctx, a, p.SourceAddr, p.DestinationAddr, p.ServiceType, p.ServiceType != "")
		if err != nil {
			g.log.Error("cancel_sm: store", "err", err)
			w.RespondStatus(pdu.ESME_RSYSERR)
			return
		}
	}
	n := 0
	for _, m := range cands {
		if err := g.dispatch.cancel(ctx, m); err != nil {
			g.log.Info("cancel_sm: message not cancelled", "system_id", a.SystemID, "message_id", m.ID, "reason", err.Error())
			continue
		}
		n++
	}
	if n == 0 {
		w.RespondStatus(pdu.ESME_RCANCELFAIL)
		return
	}
	w.RespondStatus(pdu.ESME_ROK)
}

// findWaiting returns the account's unfinished messages from source to
// dest, newest first; with byService only those of serviceType.
func (g *Gateway) findWaiting(ctx context.Context, a *account, source, dest, serviceType string, byService bool) ([]*store.Message, error) {
	f := store.Filter{Account: a.SystemID, Source: source, Dest: dest, ServiceType: serviceType, States: nonFinal, Limit: 500}
	var out []*store.Message
	for {
		ms, err := g.opts.Store.Find(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			// (an empty Filter field matches everything; these match
			// exactly, the empty address too)
			if m.Source.Addr == source && m.Dest.Addr == dest && (!byService || m.ServiceType == serviceType) {
				out = append(out, m)
			}
		}
		if len(ms) < f.Limit {
			return out, nil
		}
		f.Before = ms[len(ms)-1].ID
	}
}

// replace answers replace_sm: the message (every destination of a
// submit_multi) takes the new text, registered_delivery, and the schedule
// and validity when given (NULL keeps them), provided it is still waiting
// (liveSet.swap): ACCEPTED or SCHEDULED and not being handed to its
// backend; else ESME_RREPLACEFAIL. A bad new field gets its own status.
func (g *Gateway) replace(w smpp.ResponseWriter, r *smpp.Request, a *account, p *pdu.ReplaceSM) {
	ctx := r.Context()
	body := p.ShortMessage
	if payload, ok := p.TLVs.Get(pdu.TagMessagePayload); ok {
		if len(body) > 0 {
			w.RespondStatus(pdu.ESME_RINVPARLEN)
			return
		}
		body = payload
	}
	if p.RegisteredDelivery&0xE0 != 0 {
		w.RespondStatus(pdu.ESME_RINVREGDLVFLG)
		return
	}
	now := g.now()
	var sched, expire pdu.Time
	var err error
	if p.ScheduleDeliveryTime != "" {
		if sched, err = pdu.ParseTime(p.ScheduleDeliveryTime); err != nil {
			w.RespondStatus(pdu.ESME_RINVSCHED)
			return
		}
	}
	if p.ValidityPeriod != "" {
		if expire, err = pdu.ParseTime(p.ValidityPeriod); err != nil {
			w.RespondStatus(pdu.ESME_RINVEXPIRY)
			return
		}
	}
	ms, err := g.family(ctx, a, p.MessageID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		g.log.Error("replace_sm: store", "err", err)
	}
	change := func(m *store.Message) error {
		m.Body = body
		m.RegisteredDelivery = p.RegisteredDelivery
		if p.ScheduleDeliveryTime != "" {
			m.ScheduleAt = sched.At(now)
			if !m.ScheduleAt.After(now) {
				m.ScheduleAt = time.Time{} // at once
			}
		}
		if p.ValidityPeriod != "" {
			m.ExpireAt = expire.At(now)
			if g.opts.MaxValidity > 0 && m.ExpireAt.Sub(now) > g.opts.MaxValidity {
				m.ExpireAt = now.Add(g.opts.MaxValidity)
			}
		}
		if !m.ExpireAt.IsZero() && !m.ExpireAt.After(now) {
			return pdu.ESME_RINVEXPIRY
		}
		if !m.ScheduleAt.IsZero() && !m.ExpireAt.IsZero() && !m.ScheduleAt.Before(m.ExpireAt) {
			return pdu.ESME_RINVSCHED
		}
		return nil
	}
	var changed []swapped
	status := pdu.ESME_RREPLACEFAIL
	for _, m := range ms {
		if p.SourceAddr != "" && !strings.EqualFold(p.SourceAddr, m.Source.Addr) {
			continue
		}
		s, err := g.swap(m.ID, change)
		if err != nil {
			if st := statusOf(err, pdu.ESME_RREPLACEFAIL); st != pdu.ESME_RREPLACEFAIL {
				status = st
			}
			continue
		}
		changed = append(changed, s)
	}
	if len(changed) == 0 {
		if status == pdu.ESME_RREPLACEFAIL {
			g.log.Info("replace_sm refused", "system_id", a.SystemID, "message_id", p.MessageID)
		}
		w.RespondStatus(status)
		return
	}
	w.Detach()
	g.commitReplaces(changed, func(err error) {
		if err != nil {
			w.RespondStatus(pdu.ESME_RSYSERR)
			return
		}
		w.RespondStatus(pdu.ESME_ROK)
	})
}

// swapped is a live message replaced by a new version: m is the new live
// object (only the dispatcher reads it now), snap a copy of it as it was
// made, for the store and the answer, and oldState the state it replaced.
type swapped struct {
	m, snap  *store.Message
	oldState store.State
}

// swap replaces the waiting message id with what change makes of it, and
// sets its state for its (new) schedule.
func (g *Gateway) swap(id string, change func(m *store.Message) error) (swapped, error) {
	now := g.now()
	oldState := store.Accepted
	m, snap, err := g.dispatch.live.swap(id, func(m *store.Message) error {
		oldState = m.State
		if err := change(m); err != nil {
			return err
		}
		m.State = store.Accepted
		if !m.ScheduleAt.IsZero() && m.ScheduleAt.After(now) {
			m.State = store.Scheduled
		}
		m.UpdatedAt = now
		return nil
	})
	if err != nil {
		return swapped{}, err
	}
	return swapped{m, snap, oldState}, nil
}

// commitReplaces records replaced messages (with the state change a new
// schedule makes) and routes the new versions; done is called once that is
// durable. The old versions are dropped wherever they wait (liveSet).
func (g *Gateway) commitReplaces(ss []swapped, done func(error)) {
	g.commit.add(func(b *store.Batch) {
		for _, s := range ss {
			m := s.snap
			b.Replaces = append(b.Replaces, m)
			if m.State != s.oldState {
				b.Updates = append(b.Updates, store.Update{ID: m.ID, State: m.State, ErrorCode: m.ErrorCode, Attempts: m.Attempts, At: m.UpdatedAt})
			}
		}
	}, func(err error) {
		if err != nil {
			g.log.Error("replacement not stored", "message_id", ss[0].snap.ID, "err", err)
		}
		done(err)
	})
	for _, s := range ss {
		g.dispatch.route(s.m)
	}
}

// replacePresent is submit_sm's replace_if_present_flag: m replaces the
// account's newest waiting message with the same source, destination and
// service_type (the answer carries that message's id). It reports false,
// having done nothing, when there is none (m is then stored as new) or m is
// a part of a long message (parts are never replaced).
func (g *Gateway) replacePresent(w smpp.ResponseWriter, ctx context.Context, a *account, m *store.Message) bool {
	if m.Parts > 1 {
		return false
	}
	cands, err := g.findWaiting(ctx, a, m.Source.Addr, m.Dest.Addr, m.ServiceType, true)
	if err != nil {
		g.log.Error("replace_if_present: store", "err", err)
		return false
	}
	for _, c := range cands {
		s, err := g.swap(c.ID, func(x *store.Message) error {
			store.Replace(x, m)
			return nil
		})
		if err != nil {
			continue
		}
		g.commitReplaces([]swapped{s}, func(err error) {
			a.release()
			if err != nil {
				w.RespondStatus(pdu.ESME_RSYSERR)
				return
			}
			w.Respond(&pdu.SubmitSMResp{MessageID: s.snap.ID})
		})
		return true
	}
	return false
}

package gateway

import (
	"errors"
	"strconv"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/text"
)

// ServeSMPP is the gateway's SMPP handler: the edge where PDUs become the
// gateway's messages. A submit is answered only once its message is durably
// stored: the handler detaches, the committer answers after the commit, so
// the session's reader goes on reading meanwhile and one commit answers
// many submits.
func (g *Gateway) ServeSMPP(w smpp.ResponseWriter, r *smpp.Request) {
	a := g.accountOf(r.Session)
	if a == nil { // (bound sessions always have one)
		w.RespondStatus(pdu.ESME_RSYSERR)
		return
	}
	switch p := r.PDU.(type) {
	case *pdu.SubmitSM:
		m, st := g.fromSubmit(a, p)
		if st == pdu.ESME_ROK && p.ReplaceIfPresentFlag > 1 {
			st = pdu.ESME_RINVSUBREP // 2–255 are reserved
		}
		g.accept(w, r, a, m, st, p.ReplaceIfPresentFlag == 1)
	case *pdu.DataSM:
		if r.Session.State() == smpp.StateBoundRX {
			// The library lets data_sm through in every bound state (v3.4
			// lists it so); a receiver submits nothing (v5.0 matrix).
			w.RespondStatus(pdu.ESME_RINVBNDSTS)
			return
		}
		m, st := g.fromDataSM(a, p)
		g.accept(w, r, a, m, st, false)
	case *pdu.SubmitMulti:
		g.submitMulti(w, r, a, p)
	case *pdu.QuerySM:
		g.query(w, r, a, p)
	case *pdu.CancelSM:
		g.cancel(w, r, a, p)
	case *pdu.ReplaceSM:
		g.replace(w, r, a, p)
	case *pdu.BroadcastSM, *pdu.QueryBroadcastSM, *pdu.CancelBroadcastSM:
		// Cell broadcast is not offered: no backend broadcasts. The
		// answer is the one for any operation smppd does not offer
		// (docs/operations.md).
		w.RespondStatus(pdu.ESME_RINVCMDID)
	default:
		w.RespondStatus(pdu.ESME_RINVCMDID)
	}
}

// fromSubmit makes a message of a submit_sm, or says why it cannot.
func (g *Gateway) fromSubmit(a *account, p *pdu.SubmitSM) (*store.Message, pdu.Status) {
	if p.PriorityFlag >= priorityLevels {
		return nil, pdu.ESME_RINVPRTFLG // 4 is for cell broadcast (v5.0), the rest reserved
	}
	body := p.ShortMessage
	if payload, ok := p.TLVs.Get(pdu.TagMessagePayload); ok {
		if len(body) > 0 {
			return nil, pdu.ESME_RINVPARLEN // never both (v5.0 §4.2.4.1)
		}
		body = payload
	}
	m := &store.Message{
		Source:             store.Address{TON: p.SourceAddrTON, NPI: p.SourceAddrNPI, Addr: p.SourceAddr},
		Dest:               store.Address{TON: p.DestAddrTON, NPI: p.DestAddrNPI, Addr: p.DestinationAddr},
		ServiceType:        p.ServiceType,
		ESMClass:           p.ESMClass,
		ProtocolID:         p.ProtocolID,
		Priority:           p.PriorityFlag,
		RegisteredDelivery: p.RegisteredDelivery,
		DataCoding:         p.DataCoding,
		Body:               body,
	}
	now := g.now()
	if p.ScheduleDeliveryTime != "" {
		t, err := pdu.ParseTime(p.ScheduleDeliveryTime)
		if err != nil {
			return nil, pdu.ESME_RINVSCHED
		}
		if at := t.At(now); at.After(now) {
			m.ScheduleAt = at
		}
	}
	if p.ValidityPeriod != "" {
		t, err := pdu.ParseTime(p.ValidityPeriod)
		if err != nil {
			return nil, pdu.ESME_RINVEXPIRY
		}
		m.ExpireAt = t.At(now)
	}
	return m, g.checkAt(a, m, p.TLVs, now)
}

func (g *Gateway) fromDataSM(a *account, p *pdu.DataSM) (*store.Message, pdu.Status) {
	body, _ := p.TLVs.Get(pdu.TagMessagePayload)
	m := &store.Message{
		Source:             store.Address{TON: p.SourceAddrTON, NPI: p.SourceAddrNPI, Addr: p.SourceAddr},
		Dest:               store.Address{TON: p.DestAddrTON, NPI: p.DestAddrNPI, Addr: p.DestinationAddr},
		ServiceType:        p.ServiceType,
		ESMClass:           p.ESMClass,
		RegisteredDelivery: p.RegisteredDelivery,
		DataCoding:         p.DataCoding,
		Body:               body,
	}
	if v, ok := p.TLVs.Uint32(pdu.TagQosTimeToLive); ok && v > 0 {
		m.ExpireAt = g.now().Add(time.Duration(v) * time.Second)
	}
	return m, g.check(a, m, p.TLVs)
}

// check validates what every submitted message needs and fills in the
// gateway's part: route, validity, the long-message group.
func (g *Gateway) check(a *account, m *store.Message, tlvs pdu.TLVs) pdu.Status {
	return g.checkAt(a, m, tlvs, g.now())
}

// checkAt is check with the time now (one clock reading per submit).
func (g *Gateway) checkAt(a *account, m *store.Message, tlvs pdu.TLVs, now time.Time) pdu.Status {
	if m.Dest.Addr == "" {
		return pdu.ESME_RINVDSTADR
	}
	if !a.mayUseSource(m.Source.Addr) {
		return pdu.ESME_RINVSRCADR
	}
	if m.RegisteredDelivery&0xE0 != 0 {
		return pdu.ESME_RINVREGDLVFLG
	}
	if m.ExpireAt.IsZero() && g.opts.DefaultValidity > 0 {
		m.ExpireAt = now.Add(g.opts.DefaultValidity)
	}
	if !m.ExpireAt.IsZero() {
		if !m.ExpireAt.After(now) {
			return pdu.ESME_RINVEXPIRY
		}
		if g.opts.MaxValidity > 0 && m.ExpireAt.Sub(now) > g.opts.MaxValidity {
			m.ExpireAt = now.Add(g.opts.MaxValidity)
		}
		if !m.ScheduleAt.IsZero() && !m.ScheduleAt.Before(m.ExpireAt) {
			return pdu.ESME_RINVSCHED
		}
	}
	m.Account = a.SystemID
	m.Route = a.Route
	if m.Route == "" {
		m.Route = g.opts.DefaultRoute
	}
	if _, ok := g.backends[m.Route]; !ok {
		g.log.Error("account routed to an unknown backend", "system_id", a.SystemID, "route", m.Route)
		return pdu.ESME_RSYSERR
	}
	if ref, total, seq, ok := concatOf(m, tlvs); ok {
		m.Group = groupKey(a.SystemID, m, ref, total)
		m.Part, m.Parts = seq, total
	}
	m.SubmittedAt = now
	m.UpdatedAt = now
	m.State = store.Accepted
	if !m.ScheduleAt.IsZero() {
		m.State = store.Scheduled
	}
	return pdu.ESME_ROK
}

// concatOf finds a long message's reference and part numbers: in the UDH,
// or in the SAR TLVs.
func concatOf(m *store.Message, tlvs pdu.TLVs) (ref uint16, total, seq uint8, ok bool) {
	if m.ESMClass&0x40 != 0 {
		if u, err := text.ParseUDH(m.Body); err == nil && u.Concat.Total > 1 {
			return u.Concat.Ref, u.Concat.Total, u.Concat.Seq, true
		}
		return 0, 0, 0, false
	}
	r, ok1 := tlvs.Uint16(pdu.TagSarMsgRefNum)
	t, ok2 := tlvs.Uint8(pdu.TagSarTotalSegments)
	s, ok3 := tlvs.Uint8(pdu.TagSarSegmentSeqnum)
	if ok1 && ok2 && ok3 && t > 1 && s >= 1 && s <= t {
		return r, t, s, true
	}
	return 0, 0, 0, false
}

// groupKey names a long message: its parts share account, addresses,
// reference and part count. A reference is reused after 256 (or 65,536)
// messages, so the dispatcher also bounds how long it waits for parts.
func groupKey(account string, m *store.Message, ref uint16, total uint8) string {
	return account + "/" + m.Source.Addr + "/" + m.Dest.Addr + "/" + strconv.Itoa(int(ref)) + "/" + strconv.Itoa(int(total))
}

// accept stores a message and answers its submit once it is durable. With
// replace (replace_if_present_flag), m replaces the account's waiting
// message with the same addresses and service_type if there is one.
func (g *Gateway) accept(w smpp.ResponseWriter, r *smpp.Request, a *account, m *store.Message, st pdu.Status, replace bool) {
	if st != pdu.ESME_ROK {
		g.reject(w, r, a, st, "invalid message")
		return
	}
	if !g.admit(w, r, a) {
		return
	}
	id := r.PDU.CommandID()
	w.Detach()
	if replace && g.replacePresent(w, r.Context(), a, m) {
		return
	}
	if ad, ok := g.backends[m.Route].(backend.Admitter); ok {
		if d := ad.Admit(r.Context(), m); d.Drop || d.Delay > 0 || d.Status != 0 {
			g.fault(w, id, a, m, d)
			return
		}
	}
	g.store(w, id, a, m)
}

// admit applies the account's and the gateway's limits to one submit
// (whatever number of messages it makes): it answers and reports false
// when the submit must wait; when it reports true, the caller owes
// a.release() once the submit is answered.
func (g *Gateway) admit(w smpp.ResponseWriter, r *smpp.Request, a *account) bool {
	if a.Throughput > 0 && !a.allow(g.now()) { // (allow says yes without a limit)
		g.reject(w, r, a, pdu.ESME_RTHROTTLED, "throughput limit")
		return false
	}
	if g.opts.MaxPending > 0 && g.pending.Load() >= int64(g.opts.MaxPending) {
		g.reject(w, r, a, pdu.ESME_RTHROTTLED, "the store holds max_pending unfinished messages")
		return false
	}
	if a.MaxInFlight > 0 && int(a.inFlight.Add(1)) > a.MaxInFlight {
		a.inFlight.Add(-1)
		g.reject(w, r, a, pdu.ESME_RMSGQFUL, "max_in_flight reached")
		return false
	}
	return true
}

// fault answers a submit the way a backend's Admitter decided (the
// simulator's fault injection: no answer, a late one, an error status).
func (g *Gateway) fault(w smpp.ResponseWriter, id pdu.CommandID, a *account, m *store.Message, d backend.Admission) {
	if d.Drop {
		a.release()
		g.log.Info("submit left unanswered (simulated fault)", "system_id", a.SystemID)
		return
	}
	answer := func() {
		if d.Status != 0 {
			a.release()
			g.log.Info("submit refused (simulated fault)", "system_id", a.SystemID, "status", pdu.Status(d.Status).String())
			w.RespondStatus(pdu.Status(d.Status))
			return
		}
		g.store(w, id, a, m)
	}
	if d.Delay <= 0 {
		answer()
		return
	}
	time.AfterFunc(d.Delay, answer)
}

// store stores m and answers its submit (detached) once m is durable
// (stored).
func (g *Gateway) store(w smpp.ResponseWriter, id pdu.CommandID, a *account, m *store.Message) {
	start := time.Now()
	m.ID = g.ids.message()
	g.pending.Add(1)
	g.commit.addMessage(stored{w: w, id: id, a: a, m: m, start: start})
}

// stored is a submit waiting for its message's commit.
type stored struct {
	w     smpp.ResponseWriter
	id    pdu.CommandID
	a     *account
	m     *store.Message
	start time.Time
}

// stored answers a submit once its message's commit is over (the
// committer's onStored).
func (g *Gateway) stored(s *stored, err error) {
	a, m, w := s.a, s.m, s.w
	a.release()
	if err != nil {
		g.pending.Add(-1)
		g.log.Error("message not stored; submit refused", "system_id", a.SystemID, "err", err)
		w.RespondStatus(pdu.ESME_RSYSERR)
		return
	}
	g.metrics.accepted(a.SystemID)
	g.metrics.submitted(time.Since(s.start))
	// Live before the answer, so that a cancel_sm or replace_sm
	// right after it finds the message; routed after it, so that
	// no receipt overtakes the answer.
	g.dispatch.live.put(m)
	if s.id == pdu.DataSMID {
		w.Respond(&pdu.DataSMResp{MessageID: m.ID})
	} else {
		w.Respond(&pdu.SubmitSMResp{MessageID: m.ID})
	}
	g.dispatch.route(m)
}

func (g *Gateway) reject(w smpp.ResponseWriter, r *smpp.Request, a *account, st pdu.Status, reason string) {
	g.metrics.rejected(a.SystemID, st)
	if st != pdu.ESME_RTHROTTLED || g.log.Enabled(r.Context(), -4) {
		g.log.Info("message refused", "system_id", a.SystemID, "command", r.PDU.CommandID().String(), "status", st.String(), "reason", reason)
	}
	w.RespondStatus(st)
}

// query answers query_sm from the store.
func (g *Gateway) query(w smpp.ResponseWriter, r *smpp.Request, a *account, p *pdu.QuerySM) {
	m, err := g.message(r.Context(), p.MessageID)
	if err != nil || m.Account != a.SystemID {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			g.log.Error("query_sm: store", "err", err)
		}
		w.RespondStatus(pdu.ESME_RQUERYFAIL)
		return
	}
	resp := &pdu.QuerySMResp{MessageID: m.ID, MessageState: pdu.MessageState(m.State), ErrorCode: uint8(min(m.ErrorCode, 255))}
	if m.State.Final() && !m.DoneAt.IsZero() {
		resp.FinalDate = pdu.FormatAbsolute(m.DoneAt.UTC())
	}
	w.Respond(resp)
}

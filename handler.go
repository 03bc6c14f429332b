package smpp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/smppkit/smpp/pdu"
)

// A Handler answers requests from the peer, like net/http's: the server
// gives it submit_sm, data_sm, query_sm and friends; a client gives it
// deliver_sm, data_sm and alert_notification.
//
// Where ServeSMPP runs is the session's HandlerMode (a Server and a
// ClientConfig field):
//
//   - HandleAuto (the default): a quick handler runs on the session's
//     reader goroutine, which is the fastest way (no goroutine hand-off per
//     request). The session moves to handling its requests concurrently on
//     worker goroutines, for good, once one handler call takes 10 ms, or
//     once handler calls take 500 µs or more each on average for 10 ms while
//     requests wait behind them (a handler that blocks 1 ms each time
//     would otherwise cap the session at under 1,000 requests a second).
//     Handlers that answer from memory stay on the reader.
//   - HandleInline: always on the reader, one request at a time, in the
//     order they came; a slow handler holds its session up (and only that
//     session). For handlers that are quick by construction, or that need
//     the order.
//   - HandleConcurrent: always on worker goroutines, up to the inbound
//     window at once (the workers are started as the load needs them and
//     then stay). For handlers that block (a store, a backend call).
//
// Concurrently handled requests may be answered in any order, as SMPP
// allows.
//
// ServeSMPP must answer each request that has a response exactly once,
// through w: before it returns, or later from another goroutine after calling
// w.Detach. A handler that returns without answering (and without Detach)
// gets ESME_RSYSERR sent for it; one that panics, too. Binds,
// unbind and enquire_link are handled by the session and never reach it.
type Handler interface {
	ServeSMPP(w ResponseWriter, r *Request)
}

// HandlerMode says where a session runs its Handler; see Handler.
type HandlerMode uint8

// Handler modes.
const (
	HandleAuto       HandlerMode = iota // inline until slow, then concurrent (the default)
	HandleInline                        // always on the reader goroutine
	HandleConcurrent                    // always on workers, up to the inbound window
)

func (m HandlerMode) String() string {
	switch m {
	case HandleInline:
		return "inline"
	case HandleConcurrent:
		return "concurrent"
	}
	return "auto"
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(w ResponseWriter, r *Request)

// ServeSMPP calls f(w, r).
func (f HandlerFunc) ServeSMPP(w ResponseWriter, r *Request) { f(w, r) }

// ResponseWriter sends the response to one request.
type ResponseWriter interface {
	// Respond sends resp (the request's response type, or generic_nack);
	// its sequence number is set from the request. resp is encoded before
	// Respond returns: the session does not keep it.
	Respond(resp pdu.PDU) error
	// RespondStatus sends the request's empty response with a status.
	RespondStatus(status pdu.Status) error
	// Detach says the response will be sent later, from another goroutine
	// (after a store commits, a backend answers…): ServeSMPP may then
	// return without responding. The request keeps its place in the
	// session's inbound window until it is answered.
	Detach()
}

// Request is a request from the peer, with the session it came on.
//
// With ReusePDUs (Server, ClientConfig), a session recycles its Requests and
// their PDU structs, so that a request costs no allocation: a Request and
// its PDU are then the handler's until ServeSMPP has returned and the
// response has been sent, whichever comes later; after that the session
// decodes a later request into them. (Detached requests are never
// recycled.) The values a PDU holds (strings, byte slices such as
// ShortMessage, TLVs) are never overwritten and may be kept for as long as
// needed; to keep the struct itself, copy it (q := *p). Sessions with a
// Trace hook never recycle, since the hook may keep PDUs. Without ReusePDUs
// every request is new and may be kept.
type Request struct {
	PDU     pdu.PDU
	Session *Session

	responded atomic.Bool
	detached  atomic.Bool
	// spare is a PDU struct a later request may be decoded into.
	spare pdu.PDU
	// resp is the struct Response handed out last.
	resp pdu.PDU
	// ctx is the context of a request made by NewRequest (no session).
	ctx context.Context
}

// NewRequest returns a request for p that came on no session, for calling
// a Handler directly: in tests (package smpptest builds on it), or to hand
// a request to another handler. Its Context is ctx (context.Background if
// nil). It has no session to answer on, so its own Respond and
// RespondStatus fail; answer it through the ResponseWriter given with it
// to ServeSMPP, such as a smpptest.ResponseRecorder.
func NewRequest(ctx context.Context, p pdu.PDU) *Request {
	if ctx == nil {
		ctx = context.Background()
	}
	return &Request{PDU: p, ctx: ctx}
}

// ErrNoSession is returned by Respond and RespondStatus on a request made
// by NewRequest, which came on no session.
var ErrNoSession = errors.New("smpp: request has no session to respond on; answer through the ResponseWriter")

// Response returns an empty response to the request (its command's
// response type, ESME_ROK, the request's sequence number) for the handler to
// fill in and pass to Respond, or nil for a request that gets no response.
// With ReusePDUs, for a request that is not detached, it is one struct per
// Request, recycled with it, so answering costs no allocation: call it from
// the handler, once; Respond encodes it before it returns, and it must not
// be used after that. Otherwise each call returns a new struct (goroutines
// racing to answer a detached request each get their own).
func (r *Request) Response() pdu.PDU {
	id := r.PDU.CommandID()
	if !id.HasResponse() {
		return nil
	}
	if r.Session == nil || !r.Session.reuse || r.detached.Load() {
		return pdu.NewResponse(r.PDU, pdu.ESME_ROK)
	}
	if r.resp == nil || r.resp.CommandID() != id.Response() || !pdu.Reset(r.resp) {
		if r.resp = pdu.New(id.Response()); r.resp == nil {
			return nil
		}
	}
	r.resp.Head().SequenceNumber = r.PDU.Head().SequenceNumber
	return r.resp
}

var requestPool = sync.Pool{New: func() any { return new(Request) }}

// newRequest returns a Request for a request from s's peer: a recycled one
// when s reuses them, whose spare, if any, is for the caller to decode into.
func (s *Session) newRequest() *Request {
	if !s.reuse {
		return &Request{Session: s}
	}
	r := requestPool.Get().(*Request)
	r.Session = s
	return r
}

// recyclable reports, once the handler has returned, whether the request
// may be used for a later one. A request that was not detached has been
// answered by then (by the handler, or by the session for it), so nobody
// holds it any more. A detached one never is: goroutines the handler
// started may still hold it (two responders racing, one of them getting
// ErrResponded), and a later request must never be answered through it.
func (r *Request) recyclable() bool {
	return r.Session.reuse && !r.detached.Load()
}

// recycle readies a recyclable request for the next one from the same
// session: its PDU becomes the struct to decode into.
func (r *Request) recycle() {
	r.spare, r.PDU = r.PDU, nil
	r.responded.Store(false)
}

// pool returns a recyclable request to the pool, for any session.
func (r *Request) pool() {
	r.recycle()
	r.Session = nil
	requestPool.Put(r)
}

// Detach implements ResponseWriter.
func (r *Request) Detach() { r.detached.Store(true) }

// Context is cancelled when the session closes. A request made by
// NewRequest has the context given there.
func (r *Request) Context() context.Context {
	if r.Session == nil {
		if r.ctx == nil {
			return context.Background()
		}
		return r.ctx
	}
	return r.Session.ctx
}

// ErrResponded is returned by a second response to one request.
var ErrResponded = errors.New("smpp: request already answered")

// Respond implements ResponseWriter.
func (r *Request) Respond(resp pdu.PDU) error {
	want := r.PDU.CommandID().Response()
	if id := resp.CommandID(); id != want && id != pdu.GenericNackID {
		return fmt.Errorf("smpp: %s cannot answer %s", id, r.PDU.CommandID())
	}
	if !r.PDU.CommandID().HasResponse() {
		return fmt.Errorf("smpp: %s gets no response", r.PDU.CommandID())
	}
	if r.Session == nil {
		return ErrNoSession
	}
	if !r.responded.CompareAndSwap(false, true) {
		return ErrResponded
	}
	resp.Head().SequenceNumber = r.PDU.Head().SequenceNumber
	// The request's inbound slot is released as the response is queued
	// (see writer.put): Unbind waits for the slots, and its unbind must go
	// out behind every response, not between a handler's Respond and the
	// response.
	return r.Session.putReleasing(resp, true, &r.Session.inflight)
}

// RespondStatus implements ResponseWriter.
func (r *Request) RespondStatus(status pdu.Status) error {
	resp := pdu.NewResponse(r.PDU, status)
	if resp == nil {
		return fmt.Errorf("smpp: %s gets no response", r.PDU.CommandID())
	}
	return r.Respond(resp)
}

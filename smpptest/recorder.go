package smpptest

import (
	"context"
	"fmt"
	"sync"

	"github.com/smppkit/smpp"
	"github.com/smppkit/smpp/pdu"
)

// NewRequest returns a request for p that came on no connection, for
// calling a Handler directly; its Context is context.Background(). Give the
// handler a ResponseRecorder to answer on:
//
//	r := smpptest.NewRequest(&pdu.SubmitSM{…})
//	w := smpptest.NewRecorder(r)
//	h.ServeSMPP(w, r)
//
// Its Session is nil, so handlers that need one (for SystemID, say) cannot
// be tested this way; use Server for them.
func NewRequest(p pdu.PDU) *smpp.Request {
	return smpp.NewRequest(context.Background(), p)
}

// NewRequestContext is NewRequest with a context, which the request's
// Context returns: cancel it to test how a handler copes with a session
// that closes under it.
func NewRequestContext(ctx context.Context, p pdu.PDU) *smpp.Request {
	return smpp.NewRequest(ctx, p)
}

// ResponseRecorder is an smpp.ResponseWriter that records what a handler
// answers to one request, as a session would send it: the response is
// encoded and decoded again (so a response the session could not encode
// fails here too, and the handler may reuse its struct after Respond), and
// carries the request's sequence number. It is safe for concurrent use, so
// a detached request may be answered from any goroutine.
type ResponseRecorder struct {
	req pdu.PDU

	mu        sync.Mutex
	responses []pdu.PDU
	detached  bool
	done      chan struct{}
}

// NewRecorder returns a recorder for the responses to r.
func NewRecorder(r *smpp.Request) *ResponseRecorder {
	return &ResponseRecorder{req: r.PDU, done: make(chan struct{})}
}

// Respond implements smpp.ResponseWriter. It checks resp as a session does:
// it must be the request's response type or generic_nack, for a request
// that has a response, and encode. The first response is the Result; a later
// one is recorded too (see Responses) but returns smpp.ErrResponded.
func (w *ResponseRecorder) Respond(resp pdu.PDU) error {
	id := w.req.CommandID()
	if got := resp.CommandID(); got != id.Response() && got != pdu.GenericNackID {
		return fmt.Errorf("smpptest: %s cannot answer %s", got, id)
	}
	if !id.HasResponse() {
		return fmt.Errorf("smpptest: %s gets no response", id)
	}
	resp.Head().SequenceNumber = w.req.Head().SequenceNumber
	b, err := pdu.Marshal(resp)
	if err != nil {
		return err
	}
	sent, err := pdu.Decode(b)
	if err != nil {
		return fmt.Errorf("smpptest: the response does not decode again: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.responses = append(w.responses, sent)
	if len(w.responses) > 1 {
		return smpp.ErrResponded
	}
	close(w.done)
	return nil
}

// RespondStatus implements smpp.ResponseWriter.
func (w *ResponseRecorder) RespondStatus(status pdu.Status) error {
	resp := pdu.NewResponse(w.req, status)
	if resp == nil {
		return fmt.Errorf("smpptest: %s gets no response", w.req.CommandID())
	}
	return w.Respond(resp)
}

// Detach implements smpp.ResponseWriter: it records that the handler will
// answer later.
func (w *ResponseRecorder) Detach() {
	w.mu.Lock()
	w.detached = true
	w.mu.Unlock()
}

// Detached reports whether the handler called Detach.
func (w *ResponseRecorder) Detached() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.detached
}

// Result returns the response, as decoded from the bytes a session would
// have sent, or nil if there is none yet.
func (w *ResponseRecorder) Result() pdu.PDU {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.responses) == 0 {
		return nil
	}
	return w.responses[0]
}

// Status returns the response's command_status. Without a response it
// returns ESME_RSYSERR, which is what a session sends for a handler that
// returns without answering (and without Detach).
func (w *ResponseRecorder) Status() pdu.Status {
	if r := w.Result(); r != nil {
		return r.Head().CommandStatus
	}
	return pdu.ESME_RSYSERR
}

// Responses returns every response the handler gave, in order: the first
// is the Result, any other one a mistake (it got smpp.ErrResponded and a
// session would not have sent it).
func (w *ResponseRecorder) Responses() []pdu.PDU {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]pdu.PDU(nil), w.responses...)
}

// Done is closed when the first response is recorded.
func (w *ResponseRecorder) Done() <-chan struct{} { return w.done }

// Wait waits for the first response, which a detached handler gives from
// another goroutine, and returns it; or ctx's error.
func (w *ResponseRecorder) Wait(ctx context.Context) (pdu.PDU, error) {
	select {
	case <-w.done:
		return w.Result(), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

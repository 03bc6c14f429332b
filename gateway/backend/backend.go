// Package backend is the contract between the gateway and the networks it
// sends messages to: a Backend takes messages and reports what becomes of
// them through Events. Implementations live beside it (backend/sim, the
// simulator; HTTP and upstream SMPP backends follow). It works on the
// gateway's own message type (store.Message), never on SMPP PDUs.
package backend

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/smppkit/smpp/gateway/store"
)

// Backend sends messages on. Its methods are called from many goroutines.
type Backend interface {
	// Name identifies the backend in routes, logs and metrics.
	Name() string
	// Start begins work; outcomes and MO messages are reported to ev from
	// then on, until Stop returns.
	Start(ctx context.Context, ev Events) error
	// Submit hands over one message: its parts, in order (one part for a
	// short message; a backend that sends whole messages joins them). It
	// returns once the backend has taken them, with one Result per part,
	// or fails for all of them. A *TemporaryError (or any error not
	// wrapped in *PermanentError) makes the gateway try again later; a
	// *PermanentError fails the message.
	Submit(ctx context.Context, parts []*store.Message) ([]Result, error)
	// Stop ends work and waits for it.
	Stop(ctx context.Context) error
}

// Result is a backend's answer for one part it took.
type Result struct {
	// BackendID is the backend's own id for the part, if it has one.
	BackendID string
	// State is the part's state now: Enroute (an outcome will be reported
	// later through Events), or already final.
	State     store.State
	ErrorCode uint16
}

// Events is how a backend reports back to the gateway. Its methods may be
// called from any goroutine and return quickly; the gateway stores what it
// is told durably and sends the receipts.
type Events interface {
	// Update reports a new state of a message the backend took.
	Update(u Update)
	// Received hands over a mobile-originated message (Source is the
	// mobile, Dest the address it was sent to); the gateway routes it to
	// the account that owns Dest. It returns once the message is stored,
	// so a backend may then acknowledge it to its network.
	Received(ctx context.Context, mo *MO) error
}

// Update is a state change reported by a backend, for the message with the
// gateway's id ID (or, if ID is empty, the backend's id BackendID).
type Update struct {
	ID        string
	BackendID string
	State     store.State
	ErrorCode uint16
	At        time.Time
}

// MO is a mobile-originated message.
type MO struct {
	Source, Dest store.Address
	// Account, if set, is the gateway account the backend received it
	// for (e.g. with that account's own credentials); the gateway
	// delivers it there when no account owns Dest.
	Account    string
	DataCoding uint8
	ESMClass   uint8
	Body       []byte
	TLVs       []byte
	At         time.Time
}

// Querier is implemented by backends that can tell a message's state
// (query_sm asks them when the gateway's own record is not final).
type Querier interface {
	Query(ctx context.Context, m *store.Message) (Update, error)
}

// Canceller is implemented by backends that can cancel a message they took
// but have not delivered (cancel_sm).
type Canceller interface {
	Cancel(ctx context.Context, m *store.Message) error
}

// Admitter is implemented by backends that decide, before the gateway
// accepts a message, how the submit is answered (the simulator's fault
// injection: a delay, no answer, an error status).
type Admitter interface {
	Admit(ctx context.Context, m *store.Message) Admission
}

// Admission is an Admitter's decision.
type Admission struct {
	// Delay holds the answer back this long.
	Delay time.Duration
	// Drop sends no answer at all.
	Drop bool
	// Status, if not 0, refuses the submit with this SMPP command_status.
	Status uint32
}

// PermanentError is a failure that trying again will not mend: the message
// becomes final with the State and ErrorCode given (Undeliverable or
// Rejected).
type PermanentError struct {
	State     store.State
	ErrorCode uint16
	Err       error
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("permanent failure (%s, error %d): %v", e.State, e.ErrorCode, e.Err)
}

func (e *PermanentError) Unwrap() error { return e.Err }

// ErrUnavailable is a temporary failure: the backend cannot take messages
// now (down, circuit open). The gateway keeps the message and tries later.
var ErrUnavailable = errors.New("backend unavailable")

// Permanent reports whether err is a PermanentError, and returns it.
func Permanent(err error) (*PermanentError, bool) {
	var pe *PermanentError
	ok := errors.As(err, &pe)
	return pe, ok
}

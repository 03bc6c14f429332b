package smpp

import (
	"errors"
	"fmt"

	"github.com/smppkit/smpp/pdu"
)

// Errors a session call can return besides a peer's pdu.Status.
var (
	// ErrClosed: the session is closed (or closed while the call waited).
	ErrClosed = errors.New("smpp: session closed")
	// ErrTimeout: no response came within the response timeout.
	ErrTimeout = errors.New("smpp: response timeout")
	// ErrUnbinding: the session is unbinding and takes no new requests.
	ErrUnbinding = errors.New("smpp: session is unbinding")
	// ErrPeerDead: the peer stopped answering enquire_link.
	ErrPeerDead = errors.New("smpp: peer stopped answering enquire_link")
	// ErrNotBound: no bound session is available (a client that is
	// reconnecting, configured to fail fast; a Server.Deliver to an ESME
	// without a receiver or transceiver bind).
	ErrNotBound = errors.New("smpp: not bound")
	// ErrWindowFull is returned by TryCallAsync when the window has no room.
	ErrWindowFull = errors.New("smpp: window full")
)

// errPeerUnbound is the close reason when the peer sent unbind.
var errPeerUnbound = errors.New("smpp: peer unbound")

// StateError is returned for a request the session state does not allow,
// before anything is sent.
type StateError struct {
	Command pdu.CommandID
	State   State
	Role    Role
}

func (e *StateError) Error() string {
	return fmt.Sprintf("smpp: %s may not send %s in state %s", e.Role, e.Command, e.State)
}

// Unwrap makes errors.Is(err, pdu.ESME_RINVBNDSTS) true.
func (e *StateError) Unwrap() error { return pdu.ESME_RINVBNDSTS }

// Package pdu is the SMPP wire format: the 16-octet header, every SMPP v3.4
// and v5.0 operation as a Go type, TLVs, command_status values, SMPP time,
// encoding and decoding, and framing PDUs from a byte stream.
//
// Each PDU type declares its mandatory fields once, in wire order, in its
// Fields method; encoding, decoding and the JSON form all follow from that
// declaration. The package does no I/O beyond io.Reader and starts no
// goroutines.
//
// Decoding is strict by default where the specification is clear, and
// tolerant where real peers commonly deviate without harm: a response
// without a body, and an error response with or without one, are always
// accepted. DecodeOptions.Lenient accepts more (over-long strings, odd time
// fields, TLVs with unexpected lengths, truncated request bodies).
package pdu

import "fmt"

// PDU is one SMPP protocol data unit. All types in this package implement it;
// a custom command implements it too (embed Header, declare Fields) and is
// made known with RegisterCommand.
type PDU interface {
	// CommandID identifies the operation.
	CommandID() CommandID
	// Head returns the header fields the PDU carries besides its id: status
	// and sequence number. (It is promoted from the embedded Header.)
	Head() *Header
	// Fields declares the body, mandatory fields in wire order and then the
	// TLVs, by calling f's methods with pointers to the PDU's fields.
	Fields(f *Fields)
}

// Header holds command_status and sequence_number. command_length is
// computed when encoding and command_id comes from the PDU's type.
type Header struct {
	CommandStatus  Status
	SequenceNumber uint32
}

// Head returns h; embedding Header gives a PDU type its Head method.
func (h *Header) Head() *Header { return h }

// HeaderSize is the size of the SMPP header.
const HeaderSize = 16

// MessageState is a message_state value (query_sm_resp, the message_state TLV
// of delivery receipts).
type MessageState uint8

// message_state values (v5.0; SCHEDULED and SKIPPED are v5.0 only).
const (
	StateScheduled     MessageState = 0
	StateEnroute       MessageState = 1
	StateDelivered     MessageState = 2
	StateExpired       MessageState = 3
	StateDeleted       MessageState = 4
	StateUndeliverable MessageState = 5
	StateAccepted      MessageState = 6
	StateUnknown       MessageState = 7
	StateRejected      MessageState = 8
	StateSkipped       MessageState = 9
)

var stateNames = [...]string{"SCHEDULED", "ENROUTE", "DELIVERED", "EXPIRED", "DELETED",
	"UNDELIVERABLE", "ACCEPTED", "UNKNOWN", "REJECTED", "SKIPPED"}

// String returns the spec name (DELIVERED).
func (s MessageState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("message_state(%d)", uint8(s))
}

// Final reports whether the state is final (no further change expected).
func (s MessageState) Final() bool {
	switch s {
	case StateDelivered, StateExpired, StateDeleted, StateUndeliverable,
		StateAccepted, StateRejected, StateSkipped:
		return true
	}
	return false
}

// Error describes a PDU that could not be decoded or encoded: what was wrong,
// where, and which command_status the peer should get back.
type Error struct {
	// Status is the command_status to answer with (ESME_RINVCMDLEN, …).
	Status Status
	// Header is the offending PDU's header as far as it could be read;
	// CommandID is 0 when even that was impossible.
	CommandID CommandID
	Header    Header
	// Field is the spec name of the field at fault, if any.
	Field string
	// Offset is the octet offset in the PDU where the problem starts, or -1.
	Offset int
	// Msg says what was wrong.
	Msg string
	// Fatal means the byte stream cannot be resynchronised (a bad
	// command_length): the connection must be closed after answering.
	Fatal bool
}

func (e *Error) Error() string {
	s := "smpp"
	if e.CommandID != 0 {
		s = e.CommandID.String()
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	if e.Offset >= 0 {
		s += fmt.Sprintf(" at offset %d", e.Offset)
	}
	return fmt.Sprintf("%s: %s (%s)", s, e.Msg, e.Status.String())
}

// Unwrap lets errors.Is(err, pdu.ESME_RINVCMDLEN) match.
func (e *Error) Unwrap() error { return e.Status }

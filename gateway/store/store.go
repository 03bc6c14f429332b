// Package store is the contract between the gateway and the places it keeps
// its messages: what a Store does, and the gateway's own Message, Delivery
// and State types. It does no I/O itself; implementations live beside it
// (store/sqlite, store/memory), and store/storetest holds the conformance
// suite every implementation runs.
//
// Every change goes through Apply, one atomic, durable batch at a time. The
// gateway gathers the changes of many sessions into one batch (group
// commit), so a store commits once for many messages and needs no batching
// of its own.
package store

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// State is a message's state. The values are SMPP's message_state values
// (v5.0 §4.7.15), so they travel to query_sm and receipts unchanged.
type State uint8

// Message states.
const (
	Scheduled     State = 0 // waiting for its schedule_delivery_time
	Enroute       State = 1 // handed to a backend, no outcome yet
	Delivered     State = 2
	Expired       State = 3 // validity period passed before delivery
	Deleted       State = 4 // cancelled
	Undeliverable State = 5
	Accepted      State = 6 // stored, not yet handed to a backend
	Unknown       State = 7
	Rejected      State = 8
	Skipped       State = 9
)

var stateNames = [...]string{"SCHEDULED", "ENROUTE", "DELIVERED", "EXPIRED", "DELETED", "UNDELIVERABLE", "ACCEPTED", "UNKNOWN", "REJECTED", "SKIPPED"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "STATE_" + strconv.Itoa(int(s))
}

// ParseState reads a state name as String writes it.
func ParseState(name string) (State, bool) {
	for i, n := range stateNames {
		if n == name {
			return State(i), true
		}
	}
	return 0, false
}

// Final reports whether no further state change can follow.
func (s State) Final() bool {
	switch s {
	case Delivered, Expired, Deleted, Undeliverable, Rejected, Skipped:
		return true
	}
	return false
}

// Address is an SMPP address: type of number, numbering plan, digits.
type Address struct {
	TON, NPI uint8
	Addr     string
}

// Message is a mobile-terminated message the gateway accepted, with its
// current state. The store keeps every field; the gateway fills them in.
type Message struct {
	// ID is the gateway's message id, unique across restarts; the same id
	// goes into submit_sm_resp, the receipt text and receipted_message_id.
	ID string
	// Account is the system_id of the account that submitted it.
	Account string
	// Route names the backend it goes to.
	Route string

	Source, Dest Address
	ServiceType  string
	ESMClass     uint8 // as submitted (UDHI 0x40 tells Body starts with a UDH)
	ProtocolID   uint8
	Priority     uint8
	// RegisteredDelivery is the submit's registered_delivery: which
	// outcomes the account wants a receipt for.
	RegisteredDelivery uint8
	DataCoding         uint8
	// Body is the message's octets as submitted (short_message, or
	// message_payload), UDH included when ESMClass has UDHI.
	Body []byte
	// TLVs are the submit's other optional parameters, encoded as on the
	// wire, for backends that pass them on (an upstream SMPP carrier).
	TLVs []byte
	// Group ties the parts of one long message together ("" for a
	// message of one part): backends that send whole messages join the
	// parts of a group. Part and Parts number them (1-based).
	Group       string
	Part, Parts uint8

	SubmittedAt time.Time
	// ScheduleAt is when to hand it to a backend (zero: at once).
	ScheduleAt time.Time
	// ExpireAt is when it expires undelivered (zero: never).
	ExpireAt time.Time

	State State
	// ErrorCode is the network error code of a failure (the receipt's
	// err: field), 0 if none.
	ErrorCode uint16
	// DoneAt is when it reached a final state.
	DoneAt time.Time
	// BackendID is the backend's own id for it, once it has one.
	BackendID string
	// Attempts counts hand-overs to a backend that failed and are retried.
	Attempts int
	// UpdatedAt is when the state last changed.
	UpdatedAt time.Time
}

// DeliveryKind tells a receipt from a mobile-originated message.
type DeliveryKind uint8

// Delivery kinds.
const (
	Receipt DeliveryKind = iota + 1
	MO
)

func (k DeliveryKind) String() string {
	switch k {
	case Receipt:
		return "receipt"
	case MO:
		return "mo"
	}
	return "delivery"
}

// Delivery is something to deliver to an account as deliver_sm, kept until
// the account acknowledges it: a receipt or an MO message.
type Delivery struct {
	// ID is unique across restarts (the gateway assigns it).
	ID      uint64
	Account string
	Kind    DeliveryKind

	Source, Dest Address
	ESMClass     uint8
	DataCoding   uint8
	// Body is the short_message: the receipt text, or the MO octets.
	Body []byte
	// TLVs are extra optional parameters, encoded as on the wire.
	TLVs []byte

	// For receipts: the message it is about and the state it reports.
	MessageID string
	State     State
	ErrorCode uint16

	CreatedAt time.Time
	// Attempts counts failed attempts to deliver it; NextAttempt is when
	// to try again.
	Attempts    int
	NextAttempt time.Time
}

// Update is a change of a stored message's state. A store sets the
// message's State, ErrorCode and Attempts from it, BackendID when it is not
// empty, UpdatedAt to At, and DoneAt to At when State is final and DoneAt
// was still zero. Several updates of one message in a batch apply in order.
type Update struct {
	ID        string
	State     State
	ErrorCode uint16
	// BackendID, if not empty, replaces the stored one.
	BackendID string
	// Attempts replaces the stored count.
	Attempts int
	At       time.Time
}

// Replace copies onto dst the fields a Batch's Replaces change: those the
// submitter chose (addresses, service_type, esm_class, protocol_id,
// priority, registered_delivery, data_coding, body, TLVs, the long-message
// group, schedule and validity). A store may use it to apply a replace.
func Replace(dst, src *Message) {
	dst.Source, dst.Dest, dst.ServiceType = src.Source, src.Dest, src.ServiceType
	dst.ESMClass, dst.ProtocolID, dst.Priority = src.ESMClass, src.ProtocolID, src.Priority
	dst.RegisteredDelivery, dst.DataCoding = src.RegisteredDelivery, src.DataCoding
	dst.Body, dst.TLVs = src.Body, src.TLVs
	dst.Group, dst.Part, dst.Parts = src.Group, src.Part, src.Parts
	dst.ScheduleAt, dst.ExpireAt = src.ScheduleAt, src.ExpireAt
}

// DeliveryRetry records a failed delivery attempt.
type DeliveryRetry struct {
	ID          uint64
	Attempts    int
	NextAttempt time.Time
}

// Batch is a set of changes applied atomically: all or none. Its parts
// apply in field order (Messages, Replaces, Updates, Deliveries, Retries,
// Done), so a batch may insert a message and update it, or insert a
// delivery and mark it done. A message or delivery id that is already
// stored, or repeated within Messages or Deliveries, fails the whole batch.
type Batch struct {
	Messages []*Message // new messages
	// Replaces change the content of stored messages (replace_sm, and
	// submit_sm with replace_if_present_flag): for each, the stored
	// message with its ID takes its submitter's fields (see Replace);
	// its state, times of record, backend id and attempts stay as they
	// are (state changes are Updates). An id the store does not have is
	// ignored. Several replaces of one message apply in order.
	Replaces   []*Message
	Updates    []Update        // state changes of stored messages
	Deliveries []*Delivery     // new deliveries
	Retries    []DeliveryRetry // failed delivery attempts
	Done       []uint64        // deliveries acknowledged (or given up): removed
}

// Len is the number of changes in the batch.
func (b *Batch) Len() int {
	return len(b.Messages) + len(b.Replaces) + len(b.Updates) + len(b.Deliveries) + len(b.Retries) + len(b.Done)
}

// Reset empties the batch, keeping its capacity.
func (b *Batch) Reset() {
	clear(b.Messages)
	clear(b.Replaces)
	clear(b.Deliveries)
	*b = Batch{Messages: b.Messages[:0], Replaces: b.Replaces[:0], Updates: b.Updates[:0], Deliveries: b.Deliveries[:0], Retries: b.Retries[:0], Done: b.Done[:0]}
}

// Filter selects messages for Find. Zero fields match everything.
type Filter struct {
	Account string
	// Source and Dest match the address digits exactly.
	Source, Dest string
	ServiceType  string
	States       []State
	// Since and Until bound SubmittedAt: Since ≤ t < Until.
	Since, Until time.Time
	// Limit bounds the result (0: 100). Results are newest first.
	Limit int
	// Before continues a listing: only messages submitted before this one
	// (by SubmittedAt, then ID).
	Before string
}

// ErrNotFound is returned for a message the store does not have.
var ErrNotFound = errors.New("store: not found")

// Durability says what a commit survives.
type Durability uint8

const (
	// Crash: a committed batch survives the process being killed (the
	// operating system has it), not a power loss. The default.
	Crash Durability = iota
	// PowerLoss: each commit is synced to the disk before Apply returns.
	PowerLoss
)

// Store keeps the gateway's messages and deliveries.
type Store interface {
	// Apply commits b atomically; once it returns nil the changes are
	// durable (per the store's Durability). Updates, Retries and Done for
	// ids the store does not have are ignored.
	Apply(ctx context.Context, b *Batch) error
	// Message returns a stored message, or ErrNotFound.
	Message(ctx context.Context, id string) (*Message, error)
	// Find returns the messages that match f, newest first.
	Find(ctx context.Context, f Filter) ([]*Message, error)
	// Unfinished calls fn for every message not in a final state, oldest
	// first: what the gateway resumes after a restart.
	Unfinished(ctx context.Context, fn func(*Message) error) error
	// Deliveries calls fn for every delivery not yet done, oldest first.
	Deliveries(ctx context.Context, fn func(*Delivery) error) error
	// NextEpoch returns a number larger than any it returned before, across
	// restarts: the gateway makes its ids unique with it.
	NextEpoch(ctx context.Context) (uint32, error)
	// Ping checks the store is usable (for readiness).
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// Backlogger is implemented by stores that make changes durable in a log
// first and apply them to their tables behind (store/sqlite): Backlog says
// how many changes are waiting, and how long the oldest has waited. A
// backlog that keeps growing means the tables cannot keep up.
type Backlogger interface {
	Backlog() (changes int, age time.Duration)
}

// Event is one step of a message's history: a state it reached and when.
type Event struct {
	State     State
	ErrorCode uint16
	At        time.Time
}

// Historian is implemented by stores that keep every message's history:
// the state it was stored in (at its SubmittedAt), then one Event for
// every Update applied to it, in the order applied, in the same atomic
// commit as the change itself.
type Historian interface {
	// History returns the events of a stored message, oldest first, or
	// ErrNotFound. A message stored before the store kept histories
	// has none (an empty slice).
	History(ctx context.Context, id string) ([]Event, error)
}

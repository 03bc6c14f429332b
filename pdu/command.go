package pdu

import (
	"fmt"
	"reflect"
	"sync"
)

// CommandID is an SMPP command_id. A response's id is its request's id with
// bit 31 set.
type CommandID uint32

// The command ids of SMPP v3.4 and v5.0.
const (
	GenericNackID           CommandID = 0x80000000
	BindReceiverID          CommandID = 0x00000001
	BindReceiverRespID      CommandID = 0x80000001
	BindTransmitterID       CommandID = 0x00000002
	BindTransmitterRespID   CommandID = 0x80000002
	QuerySMID               CommandID = 0x00000003
	QuerySMRespID           CommandID = 0x80000003
	SubmitSMID              CommandID = 0x00000004
	SubmitSMRespID          CommandID = 0x80000004
	DeliverSMID             CommandID = 0x00000005
	DeliverSMRespID         CommandID = 0x80000005
	UnbindID                CommandID = 0x00000006
	UnbindRespID            CommandID = 0x80000006
	ReplaceSMID             CommandID = 0x00000007
	ReplaceSMRespID         CommandID = 0x80000007
	CancelSMID              CommandID = 0x00000008
	CancelSMRespID          CommandID = 0x80000008
	BindTransceiverID       CommandID = 0x00000009
	BindTransceiverRespID   CommandID = 0x80000009
	OutbindID               CommandID = 0x0000000B
	EnquireLinkID           CommandID = 0x00000015
	EnquireLinkRespID       CommandID = 0x80000015
	SubmitMultiID           CommandID = 0x00000021
	SubmitMultiRespID       CommandID = 0x80000021
	AlertNotificationID     CommandID = 0x00000102
	DataSMID                CommandID = 0x00000103
	DataSMRespID            CommandID = 0x80000103
	BroadcastSMID           CommandID = 0x00000111
	BroadcastSMRespID       CommandID = 0x80000111
	QueryBroadcastSMID      CommandID = 0x00000112
	QueryBroadcastSMRespID  CommandID = 0x80000112
	CancelBroadcastSMID     CommandID = 0x00000113
	CancelBroadcastSMRespID CommandID = 0x80000113
)

// IsResponse reports whether bit 31 is set (generic_nack counts as a response).
func (id CommandID) IsResponse() bool { return id&0x80000000 != 0 }

// Response returns the id of this request's response.
func (id CommandID) Response() CommandID { return id | 0x80000000 }

// HasResponse reports whether a request with this id is answered: every
// request is, except alert_notification and outbind.
func (id CommandID) HasResponse() bool {
	return !id.IsResponse() && id != AlertNotificationID && id != OutbindID
}

// String returns the spec name (submit_sm), or hex for an unknown id.
func (id CommandID) String() string {
	if c := lookup(id); c != nil {
		return c.name
	}
	return fmt.Sprintf("0x%08X", uint32(id))
}

// command describes one command for the registry: how to make an empty PDU of it.
type command struct {
	id   CommandID
	name string
	make func() PDU
	// reset clears p for decoding into it again, if p is of this command's
	// type; nil for custom commands, whose PDUs are never reused.
	reset func(p PDU) bool
	// plan is the body's plan (plan.go), for standard commands that have
	// one; typ is the PDU type it was recorded for.
	plan *plan
	typ  reflect.Type
}

// std describes a standard command whose PDU type is T.
func std[T any, P interface {
	*T
	PDU
}](id CommandID, name string) command {
	return command{id: id, name: name,
		make: func() PDU { return P(new(T)) },
		reset: func(p PDU) bool {
			q, ok := p.(P)
			if ok {
				var zero T
				*q = zero
			}
			return ok
		}}
}

// standard is the table of every SMPP v3.4/v5.0 operation.
var standard = []command{
	std[GenericNack](GenericNackID, "generic_nack"),
	std[BindReceiver](BindReceiverID, "bind_receiver"),
	std[BindReceiverResp](BindReceiverRespID, "bind_receiver_resp"),
	std[BindTransmitter](BindTransmitterID, "bind_transmitter"),
	std[BindTransmitterResp](BindTransmitterRespID, "bind_transmitter_resp"),
	std[QuerySM](QuerySMID, "query_sm"),
	std[QuerySMResp](QuerySMRespID, "query_sm_resp"),
	std[SubmitSM](SubmitSMID, "submit_sm"),
	std[SubmitSMResp](SubmitSMRespID, "submit_sm_resp"),
	std[DeliverSM](DeliverSMID, "deliver_sm"),
	std[DeliverSMResp](DeliverSMRespID, "deliver_sm_resp"),
	std[Unbind](UnbindID, "unbind"),
	std[UnbindResp](UnbindRespID, "unbind_resp"),
	std[ReplaceSM](ReplaceSMID, "replace_sm"),
	std[ReplaceSMResp](ReplaceSMRespID, "replace_sm_resp"),
	std[CancelSM](CancelSMID, "cancel_sm"),
	std[CancelSMResp](CancelSMRespID, "cancel_sm_resp"),
	std[BindTransceiver](BindTransceiverID, "bind_transceiver"),
	std[BindTransceiverResp](BindTransceiverRespID, "bind_transceiver_resp"),
	std[Outbind](OutbindID, "outbind"),
	std[EnquireLink](EnquireLinkID, "enquire_link"),
	std[EnquireLinkResp](EnquireLinkRespID, "enquire_link_resp"),
	std[SubmitMulti](SubmitMultiID, "submit_multi"),
	std[SubmitMultiResp](SubmitMultiRespID, "submit_multi_resp"),
	std[AlertNotification](AlertNotificationID, "alert_notification"),
	std[DataSM](DataSMID, "data_sm"),
	std[DataSMResp](DataSMRespID, "data_sm_resp"),
	std[BroadcastSM](BroadcastSMID, "broadcast_sm"),
	std[BroadcastSMResp](BroadcastSMRespID, "broadcast_sm_resp"),
	std[QueryBroadcastSM](QueryBroadcastSMID, "query_broadcast_sm"),
	std[QueryBroadcastSMResp](QueryBroadcastSMRespID, "query_broadcast_sm_resp"),
	std[CancelBroadcastSM](CancelBroadcastSMID, "cancel_broadcast_sm"),
	std[CancelBroadcastSMResp](CancelBroadcastSMRespID, "cancel_broadcast_sm_resp"),
}

// The registry maps ids and names to commands. The standard maps are written
// only in init, so the decoder's hot path reads them without a lock; custom
// commands live in a map behind a RWMutex.
var (
	byID     = map[CommandID]*command{}
	byName   = map[string]*command{}
	customMu sync.RWMutex
	custom   = map[CommandID]*command{}
)

// fast indexes the standard commands by the low bits of their id (all are
// below 0x114), [0] for requests and [1] for responses: the decoder looks a
// command up for every PDU.
var fast [2][0x114]*command

func init() {
	for i := range standard {
		c := &standard[i]
		byID[c.id] = c
		byName[c.name] = c
		fast[c.id>>31][c.id&0x7FFFFFFF] = c
		c.plan = makePlan(c)
		c.typ = reflect.TypeOf(c.make())
	}
}

func lookup(id CommandID) *command {
	if low := id & 0x7FFFFFFF; low < 0x114 {
		if c := fast[id>>31][low]; c != nil {
			return c
		}
	}
	if c, ok := byID[id]; ok {
		return c
	}
	customMu.RLock()
	c := custom[id]
	customMu.RUnlock()
	return c
}

// New returns an empty PDU for a command id (standard or registered), or nil
// if the id is unknown.
func New(id CommandID) PDU {
	c := lookup(id)
	if c == nil {
		return nil
	}
	return c.make()
}

// Reset clears p, a PDU of a standard command, to its zero value, so that
// it can be filled in again instead of allocating another; it reports false
// (and leaves p alone) for custom commands.
func Reset(p PDU) bool {
	c := lookup(p.CommandID())
	return c != nil && c.reset != nil && c.reset(p)
}

// Known reports whether the codec can decode PDUs with this id.
func Known(id CommandID) bool { return lookup(id) != nil }

// CommandByName finds a command id by its spec (or registered) name.
func CommandByName(name string) (CommandID, bool) {
	if c, ok := byName[name]; ok {
		return c.id, true
	}
	customMu.RLock()
	defer customMu.RUnlock()
	for _, c := range custom {
		if c.name == name {
			return c.id, true
		}
	}
	return 0, false
}

// RegisterCommand teaches the codec a custom (vendor) command: make returns an
// empty PDU whose Fields method declares the body. Registering a standard id
// or an id twice is an error. Register during program start-up.
func RegisterCommand(id CommandID, name string, make func() PDU) error {
	if _, ok := byID[id]; ok {
		return fmt.Errorf("pdu: command 0x%08X is a standard command", uint32(id))
	}
	if _, ok := byName[name]; ok {
		return fmt.Errorf("pdu: command name %q is taken by a standard command", name)
	}
	customMu.Lock()
	defer customMu.Unlock()
	if _, ok := custom[id]; ok {
		return fmt.Errorf("pdu: command 0x%08X is already registered", uint32(id))
	}
	custom[id] = &command{id: id, name: name, make: make}
	return nil
}

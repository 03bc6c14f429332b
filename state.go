package smpp

import "github.com/smppkit/smpp/pdu"

// State is an SMPP session state (v5.0 §2.3).
type State int32

// Session states.
const (
	StateOpen State = iota
	StateOutbound
	StateBoundTX
	StateBoundRX
	StateBoundTRX
	StateUnbound
	StateClosed
)

var stateNames = [...]string{"OPEN", "OUTBOUND", "BOUND_TX", "BOUND_RX", "BOUND_TRX", "UNBOUND", "CLOSED"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "?"
}

// Bound reports whether the state is one of the three bound states.
func (s State) Bound() bool { return s == StateBoundTX || s == StateBoundRX || s == StateBoundTRX }

// canSubmit: the ESME may send submit_sm and friends.
func (s State) canSubmit() bool { return s == StateBoundTX || s == StateBoundTRX }

// canDeliver: the SMSC may send deliver_sm and alert_notification.
func (s State) canDeliver() bool { return s == StateBoundRX || s == StateBoundTRX }

func peerRole(r Role) Role {
	if r == ESME {
		return SMSC
	}
	return ESME
}

// allowed reports whether a request with this id may be sent by sender in
// state st: the v5.0 operation matrix (sessions.md §4), tolerating the v3.4
// variant in which data_sm travels both ways in every bound state.
// Responses are not checked: they are matched by sequence number.
func allowed(sender Role, st State, id pdu.CommandID) bool {
	if st == StateClosed {
		return false
	}
	switch id {
	case pdu.EnquireLinkID, pdu.GenericNackID:
		return true
	case pdu.BindTransmitterID, pdu.BindReceiverID, pdu.BindTransceiverID:
		return sender == ESME && (st == StateOpen || st == StateOutbound)
	case pdu.OutbindID:
		return sender == SMSC && st == StateOpen
	case pdu.UnbindID:
		return st.Bound()
	case pdu.SubmitSMID, pdu.SubmitMultiID, pdu.QuerySMID, pdu.CancelSMID, pdu.ReplaceSMID,
		pdu.BroadcastSMID, pdu.QueryBroadcastSMID, pdu.CancelBroadcastSMID:
		return sender == ESME && st.canSubmit()
	case pdu.DeliverSMID, pdu.AlertNotificationID:
		return sender == SMSC && st.canDeliver()
	case pdu.DataSMID:
		return st.Bound()
	}
	// Custom commands: any bound state.
	return st.Bound()
}

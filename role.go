package smpp

// Role says which end of an SMPP link a session is.
type Role uint8

const (
	// ESME is the application end: it binds, submits, receives deliveries.
	ESME Role = iota
	// SMSC is the message-centre end (v5.0: MC): it accepts binds.
	SMSC
)

func (r Role) String() string {
	if r == SMSC {
		return "SMSC"
	}
	return "ESME"
}

// Direction tells a trace hook whether a PDU was sent or received.
type Direction uint8

const (
	Received Direction = iota
	Sent
)

func (d Direction) String() string {
	if d == Sent {
		return "sent"
	}
	return "received"
}

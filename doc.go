// Package smpp runs SMPP sessions: Client (the ESME end: dial, bind, keep
// the link alive, reconnect), Server (the SMSC end: accept, authenticate,
// hand requests to a Handler, deliver), and the Session both are made of.
//
// # Settings and their defaults
//
// The settings Server and ClientConfig share have one name and one meaning
// on both sides. "Inbound" is always what the peer sends us, "outbound"
// what we send it. A zero value means the default; for the durations that
// can be turned off, a negative value turns them off.
//
//	setting              Server                  ClientConfig
//	-------------------  ----------------------  ----------------------
//	InboundWindow        100                     100
//	OutboundWindow       10                      10
//	WindowFull           ESME_RMSGQFUL           (ESME_RX_T_APPN, fixed)
//	HandlerMode          HandleAuto              HandleAuto
//	ResponseTimeout      30s                     30s
//	EnquireLinkInterval  30s (negative: off)     30s (negative: off)
//	InactivityTimeout    off (0)                 off (0)
//	BindTimeout          30s (negative: off)     -
//	AuthTimeout          30s                     -
//	DialTimeout          -                       10s (connect and bind)
//	MaxPDULength         pdu.DefaultMaxLength    pdu.DefaultMaxLength
//	ReusePDUs, Lenient   off                     off
//
// InboundWindow bounds the peer's requests being handled at once (more are
// refused with the WindowFull status); OutboundWindow bounds our requests not yet
// answered (callers beyond it wait). A client further defaults to
// InterfaceVersion 0x34, reconnecting after 500ms..30s and pausing
// 100ms..10s when throttled. A session closes when the peer has not read
// what it was sent for 30s.
//
// # Sending
//
// Session.Call and CallAsync send a request and get its response;
// Session.WritePDU only writes a PDU, awaiting nothing (for PDUs without a
// response, and responses built by hand).
package smpp

// Package smpp is both ends of an SMPP link (v3.4 and v5.0): the client an
// application (ESME) uses to submit messages and receive receipts, and the
// server an SMSC, gateway or simulator is built on, with one session engine
// shared by the two.
//
// # Client
//
// Dial connects to a URL (smpp://system_id:password@host:port, ssmpp:// for
// TLS), binds and returns a Client that keeps the link alive (enquire_link),
// rebinds with back-off when it drops, and slows down when the SMSC answers
// ESME_RTHROTTLED. Requests go through a window of outstanding ones, sized
// in ClientConfig; callers beyond it wait, within their context. Send is
// the high-level call: it picks the cheapest coding for a text, splits it,
// submits every part and returns the message ids; Submit, DataSM, Query and
// the others send one operation; Call and CallAsync send any PDU. DialPool
// keeps several binds to one SMSC and spreads requests over them;
// AcceptOutbind answers an SMSC's outbind.
//
// What the SMSC sends (deliver_sm, data_sm, alert_notification) goes to
// ClientConfig.Handler, or to an Inbound, which does what most applications
// need: it reassembles long mobile-originated messages (OnMessage), parses
// delivery receipts and matches them with the ids Send returned
// (OnReceipt).
//
// # Server
//
// Server accepts connections, checks binds with its Auth hook and hands
// every request to its Handler, in the manner of net/http: a Handler's
// ServeSMPP gets a ResponseWriter and a Request, answers once through the
// writer, and may Detach to answer later from another goroutine (after a
// store commits, say). Binds, unbind and enquire_link never reach the
// handler; a PDU the session state does not allow, an unknown command or an
// unframeable length gets the answer the specification asks for. Deliver
// sends a deliver_sm to a bound receiver of an ESME; Shutdown stops
// gracefully, letting every session finish what it is handling.
//
// # Sessions
//
// A Session is one connection, either end: a reader and a writer goroutine,
// the state machine of the specification (State), the outbound window and
// the inbound one, response timeouts and counters (Stats). Client and
// Server both run their connections as Sessions, so what one end does, the
// other understands; Request.Session, Client.Session and Server.Sessions
// give access to them.
//
// # The other packages
//
// Package pdu is the wire format: each PDU as a Go type, TLVs, command
// status values, encoding, decoding and framing; this package sends and
// receives those types. Package text holds the message codings (GSM 03.38,
// UCS-2, Latin-1…), splitting and reassembly, which Send and Inbound use.
// Package dlr builds and parses delivery receipts, which Inbound uses for
// Receipt. Package smpptest is the test kit for code built on this one, as
// net/http/httptest is for net/http. These packages import nothing but the
// standard library and each other (a test in this package checks it).
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

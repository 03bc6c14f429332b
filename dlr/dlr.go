// Package dlr builds and parses SMPP delivery receipts: the
// "id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…" text
// of SMPP v3.4 Appendix B, the receipt TLVs (receipted_message_id,
// message_state, network_error_code), and the mapping between stat words and
// message_state values.
//
// The text format is vendor-specific, so parsing is lenient: any field order,
// any key case, 10-, 12- or 14-digit dates, long hexadecimal or decimal ids,
// missing fields and non-standard stat words. Where the TLVs are present they
// take precedence over the text.
package dlr

import (
	"strings"
	"time"

	"github.com/smppkit/smpp/pdu"
)

// NetworkError is the value of the network_error_code TLV.
type NetworkError struct {
	// Type is the network type: 1 ANSI-136, 2 IS-95, 3 GSM, 4 ANSI-136
	// cause code, 5 IS-95 cause code, 6 ANSI-41, 7 SMPP, 8 MC-specific.
	Type uint8
	Code uint16
}

// Field is a bit set of the receipt text fields found by Parse.
type Field uint16

// Receipt text fields.
const (
	FieldID Field = 1 << iota
	FieldSub
	FieldDlvrd
	FieldSubmitDate
	FieldDoneDate
	FieldStat
	FieldErr
	FieldText
)

// Receipt is a delivery receipt.
type Receipt struct {
	// ID is the message_id the MC returned in submit_sm_resp: from the
	// receipted_message_id TLV when present, else from the text's id field.
	ID string
	// TextID is the id field of the text as written (some MCs write it in
	// decimal while the TLV and submit_sm_resp carry hexadecimal).
	TextID string
	// Sub and Dlvrd are the submitted and delivered counts.
	Sub, Dlvrd int
	// SubmitDate and DoneDate are the text's dates, in the parser's
	// location (UTC by default); zero when absent or unreadable.
	SubmitDate, DoneDate time.Time
	// State is the message state: from the message_state TLV when present,
	// else mapped from Stat.
	State pdu.MessageState
	// Stat is the text's stat word as written ("DELIVRD"); Build writes
	// StatWord(State) when it is empty.
	Stat string
	// Err is the text's err field as written ("000").
	Err string
	// Text is the start of the original message.
	Text string
	// NetworkError is the network_error_code TLV, when present.
	NetworkError *NetworkError
	// Fields says which text fields Parse found.
	Fields Field
	// Raw is the receipt text as received.
	Raw string
}

// stat words, indexed by message_state.
var statWords = [...]string{"SCHEDULED", "ENROUTE", "DELIVRD", "EXPIRED", "DELETED",
	"UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD", "SKIPPED"}

// StatWord returns the receipt stat word for a message state: the 7-letter
// words of SMPP v3.4 Appendix B (DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD,
// UNKNOWN, REJECTD), ENROUTE, and for the v5.0 states without a word,
// SCHEDULED and SKIPPED.
func StatWord(s pdu.MessageState) string {
	if int(s) < len(statWords) {
		return statWords[s]
	}
	return "UNKNOWN"
}

// ParseStat maps a stat word to a message state, case-insensitively. Besides
// the standard words it knows DELIVERED, UNDELIVERABLE, UNDELIVERED, FAILED,
// ACCEPTED, REJECTED, SCHEDULED, SKIPPED, EXPIRED and the full state names, and
// a single digit is read as a message_state value. ok is false for a word
// it does not know.
func ParseStat(word string) (state pdu.MessageState, ok bool) {
	if len(word) == 1 && word[0] >= '0' && word[0] <= '9' {
		return pdu.MessageState(word[0] - '0'), true
	}
	var buf [16]byte
	if len(word) > len(buf) {
		return pdu.StateUnknown, false
	}
	for i := 0; i < len(word); i++ {
		c := word[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(word)]) {
	case "DELIVRD", "DELIVERED", "DELIVER", "DELIVRED", "DELIVERD", "SUCCESS":
		return pdu.StateDelivered, true
	case "EXPIRED", "EXPIRD":
		return pdu.StateExpired, true
	case "DELETED", "DELETD", "CANCELED", "CANCELLED":
		return pdu.StateDeleted, true
	case "UNDELIV", "UNDELIVERABLE", "UNDELIVERED", "UNDELIVRD", "FAILED", "FAIL", "FAILURE", "ERROR":
		return pdu.StateUndeliverable, true
	case "ACCEPTD", "ACCEPTED":
		return pdu.StateAccepted, true
	case "UNKNOWN":
		return pdu.StateUnknown, true
	case "REJECTD", "REJECTED", "REJECT":
		return pdu.StateRejected, true
	case "ENROUTE", "EN_ROUTE", "ENROUTED", "BUFFRED", "BUFFERED":
		return pdu.StateEnroute, true
	case "SCHEDULED", "SCHEDLD", "SCHEDUL":
		return pdu.StateScheduled, true
	case "SKIPPED", "SKIPPD":
		return pdu.StateSkipped, true
	}
	return pdu.StateUnknown, false
}

// DateLayout is the receipt date layout, YYMMDDhhmm.
const DateLayout = "0601021504"

// New returns a receipt for the message the MC accepted with id: sub and
// dlvrd are 1 and 1 when state is DELIVERED (else 1 and 0), err "000" and
// text the first 20 characters of the original text.
func New(id string, submitted, done time.Time, state pdu.MessageState, text string) Receipt {
	r := Receipt{ID: id, Sub: 1, SubmitDate: submitted, DoneDate: done, State: state, Err: "000", Text: text}
	if state == pdu.StateDelivered {
		r.Dlvrd = 1
	}
	return r
}

// String returns the receipt text (Format).
func (r Receipt) String() string { return string(r.AppendText(nil)) }

// Format returns the receipt text in the common form
//
//	id:ID sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000 text:…
//
// with at most 20 characters of Text and the key "text" in lower case.
func (r Receipt) Format() string { return r.String() }

// AppendText appends the receipt text (see Format) to dst.
func (r Receipt) AppendText(dst []byte) []byte {
	dst = append(dst, "id:"...)
	dst = append(dst, r.ID...)
	dst = append(dst, " sub:"...)
	dst = append3(dst, r.Sub)
	dst = append(dst, " dlvrd:"...)
	dst = append3(dst, r.Dlvrd)
	dst = append(dst, " submit date:"...)
	dst = appendDate(dst, r.SubmitDate)
	dst = append(dst, " done date:"...)
	dst = appendDate(dst, r.DoneDate)
	dst = append(dst, " stat:"...)
	if r.Stat != "" {
		dst = append(dst, r.Stat...)
	} else {
		dst = append(dst, StatWord(r.State)...)
	}
	dst = append(dst, " err:"...)
	if r.Err != "" {
		dst = append(dst, r.Err...)
	} else {
		dst = append(dst, "000"...)
	}
	dst = append(dst, " text:"...)
	n := 0
	for i := range r.Text {
		if n == 20 {
			return append(dst, r.Text[:i]...)
		}
		n++
	}
	return append(dst, r.Text...)
}

func append3(dst []byte, n int) []byte {
	if n < 0 {
		n = 0
	}
	if n > 999 {
		return append(dst, itoa(n)...)
	}
	return append(dst, byte('0'+n/100), byte('0'+n/10%10), byte('0'+n%10))
}

func appendDate(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, "0000000000"...)
	}
	return t.AppendFormat(dst, DateLayout)
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}

// TLVs returns the receipt TLVs: receipted_message_id (the same ID as the
// text), message_state, and network_error_code when NetworkError is set.
func (r Receipt) TLVs() pdu.TLVs {
	ts := make(pdu.TLVs, 0, 3)
	ts.SetString(pdu.TagReceiptedMessageID, r.ID)
	ts.SetUint8(pdu.TagMessageState, uint8(r.State))
	if ne := r.NetworkError; ne != nil {
		ts.Set(pdu.TagNetworkErrorCode, []byte{ne.Type, byte(ne.Code >> 8), byte(ne.Code)})
	}
	return ts
}

// ParseError reports a receipt that could not be parsed.
type ParseError struct {
	Raw    string // the receipt text as received
	Reason string
}

// Error gives the reason and the start of the raw text.
func (e *ParseError) Error() string {
	raw := e.Raw
	if len(raw) > 80 {
		raw = raw[:80] + "…"
	}
	return "dlr: cannot parse receipt (" + e.Reason + "): " + strings.ToValidUTF8(raw, "?")
}

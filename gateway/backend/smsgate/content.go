package smsgate

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/text"
)

// Error codes this package puts into a PermanentError (and so into the
// receipt's err: field) when it refuses a message itself, before SMSGate
// sees it. They sit above the codes of failures (see errorCode) and of HTTP
// statuses so that they cannot be mistaken for them.
const (
	CodeBadContent     = 1001 // the body cannot be decoded (unsupported data_coding, bad UDH)
	CodeNoPort         = 1002 // 8-bit data without an application port: SMSGate sends data only to a port
	CodeBadDestination = 1003 // the destination is not a phone number (alphanumeric, empty)
	CodeNoCredentials  = 1004 // no SMSGate credentials for the message's account
)

var errNoPort = errors.New("8-bit data without an application port (UDH IE 0x04/0x05): SMSGate sends data messages only to a port")

// content is what one SMSGate message carries: text, or data to a port.
type content struct {
	text   *textMessage
	data   *dataMessage
	binary bool
}

// buildContent joins the parts' bodies into one text (or one data
// message). Each part's user data is decoded after its UDH is taken off;
// the units of all parts are joined before decoding, so a character split
// across two segments (a surrogate pair, an escape) survives.
func buildContent(parts []*store.Message) (content, error) {
	var codec text.Codec
	var units []byte
	var coding text.Coding
	var lock, single text.Language
	var texts strings.Builder
	port := -1
	for i, p := range parts {
		udhi := p.ESMClass&0x40 != 0
		d, err := codec.Decode(p.Body, p.DataCoding, udhi)
		if err != nil && !errors.Is(err, text.ErrBinary) {
			return content{}, err
		}
		if i == 0 {
			coding, lock, single = d.Coding, d.UDH.Locking, d.UDH.Single
		} else if d.Coding != coding {
			return content{}, fmt.Errorf("parts of one message in different codings (%s, %s)", coding, d.Coding)
		}
		if port < 0 {
			port = udhPort(d.UDH)
		}
		units = append(units, d.Units...)
		texts.WriteString(d.Text)
	}
	switch coding {
	case text.Binary:
		if port < 0 {
			return content{}, errNoPort
		}
		return content{data: &dataMessage{Data: base64.StdEncoding.EncodeToString(units), Port: port}, binary: true}, nil
	case text.GSM7:
		return content{text: &textMessage{Text: text.DecodeGSM7(units, lock, single)}}, nil
	case text.UCS2:
		return content{text: &textMessage{Text: text.DecodeUCS2(units)}}, nil
	}
	// One octet per character: decoding part by part is the same.
	return content{text: &textMessage{Text: texts.String()}}, nil
}

// udhPort returns the destination port of an application port addressing
// IE (0x04: 8-bit, 0x05: 16-bit), or -1.
func udhPort(u text.UDH) int {
	for _, ie := range u.IEs {
		switch {
		case ie.ID == text.IEPort8 && len(ie.Data) == 2:
			return int(ie.Data[0])
		case ie.ID == text.IEPort16 && len(ie.Data) == 4:
			return int(ie.Data[0])<<8 | int(ie.Data[1])
		}
	}
	return -1
}

// phoneNumber turns an SMPP destination into what SMSGate takes. An
// international number (TON 1) becomes "+digits" and is validated by
// SMSGate as E.164. Anything else numeric (national, subscriber, unknown
// TON) goes as it is with skipPhoneValidation=true, because the phone
// dials it as a local user would — unless it already reads "+digits",
// which is E.164 and validated. Alphanumeric (TON 5) and empty addresses
// cannot be sent to.
func phoneNumber(a store.Address) (number string, skipValidation bool, err error) {
	digits := strings.TrimPrefix(a.Addr, "+")
	if digits == "" || a.TON == 5 || !allDigits(digits) {
		return "", false, fmt.Errorf("destination %q (TON %d) is not a phone number", a.Addr, a.TON)
	}
	if a.TON == 1 || strings.HasPrefix(a.Addr, "+") {
		return "+" + digits, false, nil
	}
	return digits, true, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ClientID is the id this package gives SMSGate for the message whose
// first part has the gateway id id: "smppd-" and the id itself when it is
// short and plain, else "smppd-" and 30 hex digits of its SHA-256. It is
// deterministic, so a retried Submit names the same message and SMSGate
// refuses the second copy (409) instead of sending it twice.
func ClientID(id string) string {
	const prefix = "smppd-"
	if len(prefix)+len(id) <= 36 && plainID(id) {
		return prefix + id
	}
	sum := sha256.Sum256([]byte(id))
	return prefix + hex.EncodeToString(sum[:15])
}

func plainID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}

// sortedParts returns the parts in part order (the gateway hands them in
// order; a copy is sorted anyway so a mistake there cannot garble text).
func sortedParts(parts []*store.Message) []*store.Message {
	if slices.IsSortedFunc(parts, func(a, b *store.Message) int { return int(a.Part) - int(b.Part) }) {
		return parts
	}
	ps := slices.Clone(parts)
	slices.SortStableFunc(ps, func(a, b *store.Message) int { return int(a.Part) - int(b.Part) })
	return ps
}

// moBody encodes an MO text for the gateway in the cheapest coding the
// text package chooses with no national tables and no Latin-1: the GSM
// 7-bit default alphabet (unpacked, data_coding 0) when it carries the
// text, else UCS-2 (8), which carries anything.
func moBody(s string) (dc uint8, body []byte) {
	var codec text.Codec
	e, err := codec.Encode(s, text.Auto, text.SplitPayload)
	if err != nil { // not reached: UCS-2 carries any text
		e, _ = codec.Encode(s, text.UCS2, text.SplitPayload)
	}
	return e.DataCoding, e.Units
}

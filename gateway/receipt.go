package gateway

import (
	"time"

	"github.com/smppkit/smpp/dlr"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/text"
)

// wantsReceipt reports whether registered_delivery asks to hear about a
// message reaching st (v5.0 §4.7.21): a final state per bits 0–1, an
// intermediate one (ENROUTE) per bit 4.
func wantsReceipt(rd uint8, st store.State) bool {
	if !st.Final() {
		return rd&0x10 != 0 && st == store.Enroute
	}
	switch rd & 0x03 {
	case 1:
		return true
	case 2: // failure only (v5.0 counts a cancelled message as one)
		return st != store.Delivered
	case 3: // success only (v5.0)
		return st == store.Delivered
	}
	return false
}

// receiptText is the start (20 characters) of a message's text for the
// receipt's text: field: decoded per its data_coding, without its UDH,
// never raw octets. The receipt goes out as data_coding 0, which ESMEs read
// as GSM 03.38 or as ASCII depending on their settings, so only characters
// that are the same octet in both are kept; others become '?'.
func receiptText(m *store.Message) string {
	return string(appendReceiptText(nil, m))
}

// appendReceiptText appends receiptText(m) to dst. Text that is already
// all characters kept as they are in an alphabet that reads them as
// octets (GSM 03.38 unpacked, ASCII, Latin-1; no UDH) is copied without
// decoding: the common case, and the same result.
func appendReceiptText(dst []byte, m *store.Message) []byte {
	if (m.DataCoding == 0 || m.DataCoding == 1 || m.DataCoding == 3) && m.ESMClass&0x40 == 0 {
		head := m.Body[:min(len(m.Body), 20)]
		plain := true
		for _, b := range head {
			if !plainOctet[b] {
				plain = false
				break
			}
		}
		if plain {
			return append(dst, head...)
		}
	}
	d, err := (*text.Codec)(nil).Decode(m.Body, m.DataCoding, m.ESMClass&0x40 != 0)
	if err != nil {
		return dst // binary or unreadable: no text is better than octets
	}
	n := 0
	for _, r := range d.Text {
		if n == 20 {
			break
		}
		if !sameInGSMAndASCII(r) {
			r = '?'
		}
		dst = append(dst, byte(r))
		n++
	}
	return dst
}

// sameInGSMAndASCII: letters, digits, space and the punctuation GSM 03.38
// keeps at its ASCII position (not $ @ _ [ ] { } \ ^ ~ | or `).
func sameInGSMAndASCII(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return r < 0x80 && gsmASCIIPunct[r]
}

// gsmASCIIPunct marks the punctuation GSM 03.38 keeps at its ASCII position.
var gsmASCIIPunct = func() (t [0x80]bool) {
	for _, r := range " !\"#%&'()*+,-./:;<=>?" {
		t[r] = true
	}
	return t
}()

var receiptCodec = &text.Codec{Replacement: '?'}

// newReceipt builds the receipt (or intermediate notification) for m
// reaching st: stored, then sent as deliver_sm by the deliverer.
func (g *Gateway) newReceipt(m *store.Message, st store.State, code uint16, at time.Time) *store.Delivery {
	id := receiptID(m.ID)
	// The delivery and its text in one allocation; the text: the
	// receipt's fields, its text: last.
	r := &receiptDelivery{}
	buf := appendReceiptFields(r.buf[:0], id, m.SubmittedAt, at, pdu.MessageState(st), code)
	buf = appendReceiptText(buf, m)
	var body []byte
	if plainGSM(buf) {
		body = buf // its GSM 7-bit units are its octets
	} else {
		enc, err := receiptCodec.Encode(string(buf), text.GSM7, text.SplitUDH8)
		if err != nil { // (cannot happen with a replacement character)
			enc.Units = buf
		}
		body = enc.Units
	}
	esm := uint8(0x04) // MC delivery receipt
	if !st.Final() {
		esm = 0x20 // intermediate delivery notification
	}
	r.d = store.Delivery{
		ID: g.ids.delivery(), Account: m.Account, Kind: store.Receipt,
		Source: m.Dest, Dest: m.Source, ESMClass: esm, DataCoding: 0, Body: body,
		MessageID: id, State: st, ErrorCode: code, CreatedAt: at,
	}
	return &r.d
}

// appendReceiptFields appends the receipt text up to its text: (which
// comes last), as dlr.New(id, submitted, done, st, "") with Err set to the
// code (3 digits) formats it, without its layout-driven formatting.
func appendReceiptFields(dst []byte, id string, submitted, done time.Time, st pdu.MessageState, code uint16) []byte {
	dst = append(dst, "id:"...)
	dst = append(dst, id...)
	dst = append(dst, " sub:001 dlvrd:"...)
	if st == pdu.StateDelivered {
		dst = append(dst, "001"...)
	} else {
		dst = append(dst, "000"...)
	}
	dst = append(dst, " submit date:"...)
	dst = appendReceiptDate(dst, submitted)
	dst = append(dst, " done date:"...)
	dst = appendReceiptDate(dst, done)
	dst = append(dst, " stat:"...)
	dst = append(dst, dlr.StatWord(st)...)
	dst = append(dst, " err:"...)
	c := min(code, 999)
	dst = append(dst, byte('0'+c/100), byte('0'+c/10%10), byte('0'+c%10))
	return append(dst, " text:"...)
}

// appendReceiptDate appends t as dlr.DateLayout (YYMMDDhhmm, in t's
// location) formats it, the zero time as ten zeros.
func appendReceiptDate(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, "0000000000"...)
	}
	y, mo, d := t.Date()
	h, mi, _ := t.Clock()
	if y < 0 {
		y = -y
	}
	for _, v := range [5]int{y % 100, int(mo), d, h, mi} {
		dst = append(dst, byte('0'+v/10), byte('0'+v%10))
	}
	return dst
}

// receiptDelivery is a receipt with room for its text (about 130 octets
// with a 9-character message id).
type receiptDelivery struct {
	d   store.Delivery
	buf [160]byte
}

// deliverSM turns a stored delivery into the deliver_sm that carries it.
func deliverSM(d *store.Delivery) *pdu.DeliverSM {
	// A receipt's deliver_sm, its TLVs and their values are one
	// allocation (not eight) when they fit.
	r := &receiptPDU{}
	p := &r.p
	*p = pdu.DeliverSM{
		SourceAddrTON: d.Source.TON, SourceAddrNPI: d.Source.NPI, SourceAddr: d.Source.Addr,
		DestAddrTON: d.Dest.TON, DestAddrNPI: d.Dest.NPI, DestinationAddr: d.Dest.Addr,
		ESMClass: d.ESMClass, DataCoding: d.DataCoding,
	}
	if d.Kind == store.Receipt {
		p.TLVs = r.tlvs[:0]
	}
	if len(d.Body) > 254 {
		p.TLVs = append(p.TLVs, pdu.TLV{Tag: pdu.TagMessagePayload, Value: d.Body})
	} else {
		p.ShortMessage = d.Body
	}
	if d.Kind == store.Receipt {
		vals := r.vals[:0]
		vals = append(append(vals, d.MessageID...), 0)
		p.TLVs = append(p.TLVs, pdu.TLV{Tag: pdu.TagReceiptedMessageID, Value: vals[:len(vals):len(vals)]})
		k := len(vals)
		vals = append(vals, uint8(d.State))
		p.TLVs = append(p.TLVs, pdu.TLV{Tag: pdu.TagMessageState, Value: vals[k:len(vals):len(vals)]})
		if d.ErrorCode != 0 {
			// GSM network type; the code as the backend reported it.
			k = len(vals)
			vals = append(vals, 3, byte(d.ErrorCode>>8), byte(d.ErrorCode))
			p.TLVs = append(p.TLVs, pdu.TLV{Tag: pdu.TagNetworkErrorCode, Value: vals[k:len(vals):len(vals)]})
		}
	}
	p.TLVs = appendParsedTLVs(p.TLVs, d.TLVs)
	return p
}

// receiptPDU is a receipt's deliver_sm with room for its TLVs.
type receiptPDU struct {
	p    pdu.DeliverSM
	tlvs [4]pdu.TLV
	vals [32]byte // receipted_message_id, message_state, network_error_code
}

// plainGSM reports whether b is all characters GSM 03.38 keeps at their
// ASCII position (so its unpacked GSM 7-bit units are b itself).
func plainGSM(b []byte) bool {
	for _, c := range b {
		if !plainOctet[c] {
			return false
		}
	}
	return true
}

// plainOctet is sameInGSMAndASCII by octet.
var plainOctet = func() (t [256]bool) {
	for c := range 0x80 {
		t[c] = sameInGSMAndASCII(rune(c))
	}
	return t
}()

// parseTLVs reads TLVs encoded as on the wire; a truncated tail is dropped.
func parseTLVs(b []byte) pdu.TLVs { return appendParsedTLVs(nil, b) }

// appendParsedTLVs appends the TLVs b holds, encoded as on the wire, to ts.
func appendParsedTLVs(ts pdu.TLVs, b []byte) pdu.TLVs {
	for len(b) >= 4 {
		tag, n := pdu.Tag(uint16(b[0])<<8|uint16(b[1])), int(b[2])<<8|int(b[3])
		if 4+n > len(b) {
			break
		}
		ts = append(ts, pdu.TLV{Tag: tag, Value: b[4 : 4+n]})
		b = b[4+n:]
	}
	return ts
}

// appendTLVs encodes TLVs as on the wire.
func appendTLVs(dst []byte, ts pdu.TLVs) []byte {
	for _, t := range ts {
		dst = append(dst, byte(t.Tag>>8), byte(t.Tag), byte(len(t.Value)>>8), byte(len(t.Value)))
		dst = append(dst, t.Value...)
	}
	return dst
}

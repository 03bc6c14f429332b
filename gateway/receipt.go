package gateway

import (
	"fmt"
	"strings"
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
	d, err := (*text.Codec)(nil).Decode(m.Body, m.DataCoding, m.ESMClass&0x40 != 0)
	if err != nil {
		return "" // binary or unreadable: no text is better than octets
	}
	out := make([]byte, 0, 20)
	for _, r := range d.Text {
		if len(out) == 20 {
			break
		}
		if !sameInGSMAndASCII(r) {
			r = '?'
		}
		out = append(out, byte(r))
	}
	return string(out)
}

// sameInGSMAndASCII: letters, digits, space and the punctuation GSM 03.38
// keeps at its ASCII position (not $ @ _ [ ] { } \ ^ ~ | or `).
func sameInGSMAndASCII(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return r < 0x80 && strings.ContainsRune(" !\"#%&'()*+,-./:;<=>?", r)
}

var receiptCodec = &text.Codec{Replacement: '?'}

// newReceipt builds the receipt (or intermediate notification) for m
// reaching st: stored, then sent as deliver_sm by the deliverer.
func (g *Gateway) newReceipt(m *store.Message, st store.State, code uint16, at time.Time) *store.Delivery {
	rc := dlr.New(receiptID(m.ID), m.SubmittedAt, at, pdu.MessageState(st), receiptText(m))
	rc.Err = fmt.Sprintf("%03d", min(code, 999))
	enc, err := receiptCodec.Encode(rc.String(), text.GSM7, text.SplitUDH8)
	if err != nil { // (cannot happen with a replacement character)
		enc.Units = []byte(rc.String())
	}
	esm := uint8(0x04) // MC delivery receipt
	if !st.Final() {
		esm = 0x20 // intermediate delivery notification
	}
	return &store.Delivery{
		ID: g.ids.delivery(), Account: m.Account, Kind: store.Receipt,
		Source: m.Dest, Dest: m.Source, ESMClass: esm, DataCoding: 0, Body: enc.Units,
		MessageID: receiptID(m.ID), State: st, ErrorCode: code, CreatedAt: at,
	}
}

// deliverSM turns a stored delivery into the deliver_sm that carries it.
func deliverSM(d *store.Delivery) *pdu.DeliverSM {
	p := &pdu.DeliverSM{
		SourceAddrTON: d.Source.TON, SourceAddrNPI: d.Source.NPI, SourceAddr: d.Source.Addr,
		DestAddrTON: d.Dest.TON, DestAddrNPI: d.Dest.NPI, DestinationAddr: d.Dest.Addr,
		ESMClass: d.ESMClass, DataCoding: d.DataCoding,
	}
	if len(d.Body) > 254 {
		p.TLVs.Set(pdu.TagMessagePayload, d.Body)
	} else {
		p.ShortMessage = d.Body
	}
	if d.Kind == store.Receipt {
		p.TLVs.SetString(pdu.TagReceiptedMessageID, d.MessageID)
		p.TLVs.SetUint8(pdu.TagMessageState, uint8(d.State))
		if d.ErrorCode != 0 {
			// GSM network type; the code as the backend reported it.
			p.TLVs.Set(pdu.TagNetworkErrorCode, []byte{3, byte(d.ErrorCode >> 8), byte(d.ErrorCode)})
		}
	}
	p.TLVs = append(p.TLVs, parseTLVs(d.TLVs)...)
	return p
}

// parseTLVs reads TLVs encoded as on the wire; a truncated tail is dropped.
func parseTLVs(b []byte) pdu.TLVs {
	var ts pdu.TLVs
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

package gateway

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/smppkit/smpp/dlr"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/text"
)

// The receipt and deliver_sm builders skip decoding, encoding and
// formatting where they can; these are the straightforward versions they
// must match octet for octet.

func refReceiptText(m *store.Message) string {
	d, err := (*text.Codec)(nil).Decode(m.Body, m.DataCoding, m.ESMClass&0x40 != 0)
	if err != nil {
		return ""
	}
	out := make([]byte, 0, 20)
	for _, r := range d.Text {
		if len(out) == 20 {
			break
		}
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r < 0x80 && strings.ContainsRune(" !\"#%&'()*+,-./:;<=>?", r)) {
			r = '?'
		}
		out = append(out, byte(r))
	}
	return string(out)
}

func refReceiptBody(m *store.Message, st store.State, code uint16, at time.Time) []byte {
	rc := dlr.New(receiptID(m.ID), m.SubmittedAt, at, pdu.MessageState(st), refReceiptText(m))
	rc.Err = fmt.Sprintf("%03d", min(code, 999))
	enc, err := receiptCodec.Encode(rc.String(), text.GSM7, text.SplitUDH8)
	if err != nil {
		enc.Units = []byte(rc.String())
	}
	return enc.Units
}

func refDeliverSM(d *store.Delivery) *pdu.DeliverSM {
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
			p.TLVs.Set(pdu.TagNetworkErrorCode, []byte{3, byte(d.ErrorCode >> 8), byte(d.ErrorCode)})
		}
	}
	p.TLVs = append(p.TLVs, parseTLVs(d.TLVs)...)
	return p
}

func encodePDU(t *testing.T, p pdu.PDU) []byte {
	t.Helper()
	b, err := (&pdu.Encoder{}).Append(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReceiptMatchesReference(t *testing.T) {
	g := &Gateway{ids: newIDs(1, nil)}
	at := time.Date(2026, 12, 3, 10, 4, 5, 0, time.UTC)
	udh := []byte{5, 0, 3, 7, 2, 1}
	bodies := []struct {
		body   []byte
		dc, es uint8
	}{
		{[]byte("hello world"), 0, 0},
		{[]byte("Hello world, this is a long text"), 0, 0},
		{[]byte("exactly twenty chars"), 0, 0},
		{[]byte("price: 5$ @home_[x]"), 0, 0},
		{[]byte{0x1b, 0x65, 'a', 'b', 0x00, 0x7f}, 0, 0},
		{[]byte("ascii $@ text ~ here, longer than twenty"), 1, 0},
		{[]byte("latin1 \xe9t\xe9 \xfc"), 3, 0},
		{[]byte{0, 'h', 0, 'i', 0x20, 0xac}, 8, 0},
		{[]byte{1, 2, 3, 0xff}, 4, 0},
		{append(append([]byte{}, udh...), "part one of a long one"...), 0, 0x40},
		{[]byte{9, 9}, 0, 0x40}, // a bad UDH
		{[]byte{}, 0, 0},
		{[]byte("abc\x80\x81def"), 0, 0},
		{[]byte("x\x80"), 1, 0},
		{bytes.Repeat([]byte("a"), 300), 0, 0},
	}
	ids := []string{"1a2b3c4d5", "1a2b3c4d5.2", "ID$@"}
	for _, b := range bodies {
		for _, id := range ids {
			for _, sc := range []struct {
				st   store.State
				code uint16
			}{{store.Delivered, 0}, {store.Undeliverable, 5}, {store.Expired, 1234}, {store.Enroute, 0}} {
				m := &store.Message{ID: id, Account: "acc", Source: store.Address{TON: 5, Addr: "Shop"},
					Dest: store.Address{TON: 1, NPI: 1, Addr: "491761234567"}, DataCoding: b.dc, ESMClass: b.es,
					Body: b.body, SubmittedAt: at.Add(-time.Minute)}
				if sc.code == 5 {
					m.SubmittedAt = time.Time{} // (as "0000000000")
				}
				name := fmt.Sprintf("%q/dc%d/esm%x/%s/%s/%d", b.body, b.dc, b.es, id, sc.st, sc.code)
				if got, want := receiptText(m), refReceiptText(m); got != want {
					t.Errorf("%s: receiptText %q, want %q", name, got, want)
				}
				rc := g.newReceipt(m, sc.st, sc.code, at)
				if want := refReceiptBody(m, sc.st, sc.code, at); !bytes.Equal(rc.Body, want) {
					t.Errorf("%s: receipt %q, want %q", name, rc.Body, want)
				}
				got, want := deliverSM(rc), refDeliverSM(rc)
				if !bytes.Equal(encodePDU(t, got), encodePDU(t, want)) || !reflect.DeepEqual(got.TLVs, want.TLVs) {
					t.Errorf("%s: deliver_sm %+v, want %+v", name, got, want)
				}
			}
		}
	}
	// Dates in other years and zones.
	m := &store.Message{ID: "ab", Body: []byte("x")}
	for _, sub := range []time.Time{
		time.Date(1999, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2100, 12, 31, 23, 59, 59, 0, time.FixedZone("x", 5*3600+1800)),
		time.Date(2026, 6, 7, 0, 0, 0, 0, time.FixedZone("y", -11*3600)),
		time.Date(9, 10, 11, 12, 13, 0, 0, time.UTC),
	} {
		m.SubmittedAt = sub
		done := sub.Add(25 * time.Hour).In(time.FixedZone("z", 3600))
		if got, want := g.newReceipt(m, store.Delivered, 0, done).Body, refReceiptBody(m, store.Delivered, 0, done); !bytes.Equal(got, want) {
			t.Errorf("%v: receipt %q, want %q", sub, got, want)
		}
	}
	// MO deliveries: no receipt TLVs, their own passed on.
	tlvs := appendTLVs(nil, pdu.TLVs{{Tag: pdu.TagSourcePort, Value: []byte{1, 2}}, {Tag: pdu.TagUserMessageReference, Value: []byte{0, 7}}})
	for _, d := range []*store.Delivery{
		{Kind: store.MO, Body: []byte("hi")},
		{Kind: store.MO, Body: []byte("hi"), TLVs: tlvs},
		{Kind: store.MO, Body: bytes.Repeat([]byte("b"), 255), TLVs: tlvs[:5]},
		{Kind: store.Receipt, Body: []byte("r"), MessageID: "77", State: store.Delivered, TLVs: tlvs},
	} {
		got, want := deliverSM(d), refDeliverSM(d)
		if !bytes.Equal(encodePDU(t, got), encodePDU(t, want)) || !reflect.DeepEqual(got.TLVs, want.TLVs) {
			t.Errorf("%+v: deliver_sm %+v, want %+v", d, got, want)
		}
	}
}

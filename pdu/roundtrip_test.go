package pdu

import (
	"bytes"
	"reflect"
	"testing"
)

func TestEveryCommandRoundTrips(t *testing.T) {
	seen := map[CommandID]bool{}
	for _, p := range samples() {
		id := p.CommandID()
		seen[id] = true
		t.Run(id.String(), func(t *testing.T) {
			b, err := Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			q, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			var d Decoder
			q2, err := d.Decode(b)
			if err != nil || !reflect.DeepEqual(normal(q), normal(q2)) {
				t.Fatalf("Decoder differs from Decode: %v", err)
			}
			if q.CommandID() != id {
				t.Fatalf("decoded as %v", q.CommandID())
			}
			if !reflect.DeepEqual(normal(p), normal(q)) {
				t.Fatalf("decoded\n%#v\nwant\n%#v", q, p)
			}
			b2, err := Marshal(q)
			if err != nil || !bytes.Equal(b, b2) {
				t.Fatalf("re-encode differs: %v\n%x\n%x", err, b, b2)
			}
			// JSON round trip, byte-exact.
			js, err := MarshalJSON(q)
			if err != nil {
				t.Fatal(err)
			}
			r, err := UnmarshalJSON(js)
			if err != nil {
				t.Fatalf("%v\n%s", err, js)
			}
			b3, err := Marshal(r)
			if err != nil || !bytes.Equal(b, b3) {
				t.Fatalf("JSON round trip differs: %v\n%s\n%x\n%x", err, js, b, b3)
			}
		})
	}
	for _, c := range standard {
		if !seen[c.id] {
			t.Errorf("no sample of %s", c.name)
		}
	}
}

// normal makes empty and nil slices compare equal by re-marshalling through
// JSON-independent means: it zeroes nothing, but replaces empty byte slices
// with nil.
func normal(p PDU) PDU {
	v := reflect.ValueOf(p).Elem()
	out := reflect.New(v.Type())
	out.Elem().Set(v)
	for i := 0; i < out.Elem().NumField(); i++ {
		f := out.Elem().Field(i)
		if f.Kind() == reflect.Slice && f.Len() == 0 {
			f.Set(reflect.Zero(f.Type()))
		}
	}
	return out.Interface().(PDU)
}

func TestNewResponseAndReply(t *testing.T) {
	req := typicalSubmit()
	resp := NewResponse(req, ESME_ROK).(*SubmitSMResp)
	if resp.SequenceNumber != 2 || resp.CommandID() != SubmitSMRespID {
		t.Fatalf("%+v", resp)
	}
	if NewResponse(&AlertNotification{}, 0) != nil || NewResponse(resp, 0) != nil || NewResponse(&Outbind{}, 0) != nil {
		t.Fatal("a response to something that has none")
	}
	cases := []struct {
		err  Error
		want CommandID
		st   Status
	}{
		{Error{Status: ESME_RINVCMDID, CommandID: 0x99, Header: Header{SequenceNumber: 5}}, GenericNackID, ESME_RINVCMDID},
		{Error{Status: ESME_RINVCMDLEN, CommandID: SubmitSMID, Fatal: true, Header: Header{SequenceNumber: 5}}, GenericNackID, ESME_RINVCMDLEN},
		{Error{Status: ESME_RINVSRCADR, CommandID: SubmitSMID, Header: Header{SequenceNumber: 5}}, SubmitSMRespID, ESME_RINVSRCADR},
		{Error{Status: ESME_RINVMSGLEN, CommandID: DeliverSMRespID, Header: Header{SequenceNumber: 5}}, 0, 0},
		{Error{Status: ESME_RINVMSGLEN, CommandID: AlertNotificationID, Header: Header{SequenceNumber: 5}}, 0, 0},
	}
	for _, c := range cases {
		r := Reply(&c.err)
		if c.want == 0 {
			if r != nil {
				t.Errorf("%v: replied %v", &c.err, r.CommandID())
			}
			continue
		}
		if r == nil || r.CommandID() != c.want || r.Head().CommandStatus != c.st || r.Head().SequenceNumber != 5 {
			t.Errorf("%v: reply %#v", &c.err, r)
		}
	}
}

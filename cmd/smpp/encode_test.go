package main

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/smppkit/smpp/pdu"
)

// Fault 4: encode names the keys a PDU does not have and fails, instead of
// ignoring them.
func TestEncodeRejectsUnknownFields(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"command":"submit_sm","destination_adr":"491761234567"}`, `"destination_adr"`},
		{`{"command":"submit_multi","dest_address":[{"dest_flag":1,"destination_adr":"1"}]}`, `"destination_adr"`},
		{`{"command":"submit_sm","tlvs":[{"name":"user_message_reference","value":1,"vaule":2}]}`, `"vaule"`},
		{`{"command":"enquire_link","foo":1,"bar":2}`, `"bar", "foo"`},
	} {
		out, errs, code := runCLI(t, c.in, "encode")
		if code != 1 || out != "" || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, out %q: %s (want %s named)", c.in, code, out, errs, c.want)
		}
	}
}

// Fault 4: short_message_text is encoded by the data_coding when
// short_message is absent.
func TestEncodeShortMessageText(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []byte
	}{
		{`{"command":"submit_sm","short_message_text":"Grüße @ {x}"}`, []byte{'G', 'r', 0x7E, 0x1E, 'e', ' ', 0, ' ', 0x1B, 0x28, 'x', 0x1B, 0x29}},
		{`{"command":"submit_sm","data_coding":8,"short_message_text":"Привет"}`, []byte{4, 0x1F, 4, 0x40, 4, 0x38, 4, 0x32, 4, 0x35, 4, 0x42}},
		{`{"command":"submit_sm","data_coding":3,"short_message_text":"café"}`, []byte{'c', 'a', 'f', 0xE9}},
		// The octets win when both are given (decode --json prints both).
		{`{"command":"submit_sm","short_message":"4142","short_message_text":"xyz"}`, []byte("AB")},
	} {
		out, errs, code := runCLI(t, c.in, "encode")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.in, code, errs)
		}
		b, _ := hex.DecodeString(strings.TrimSpace(out))
		p, err := pdu.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.(*pdu.SubmitSM).ShortMessage; string(got) != string(c.want) {
			t.Errorf("%s: short_message %x, want %x", c.in, got, c.want)
		}
	}
	// Text the data_coding cannot carry is an error.
	if _, errs, code := runCLI(t, `{"command":"submit_sm","data_coding":3,"short_message_text":"Привет"}`, "encode"); code != 1 || !strings.Contains(errs, "short_message_text") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

package main

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/text"
)

// gsmSubmit returns a submit_sm whose text is GSM 03.38 in data_coding 0.
func gsmSubmit(t *testing.T, msg string) []byte {
	t.Helper()
	enc, err := (*text.Codec)(nil).Encode(msg, text.GSM7, text.SplitUDH8)
	if err != nil {
		t.Fatal(err)
	}
	p := &pdu.SubmitSM{SourceAddr: "Shop", SourceAddrTON: 5, DestinationAddr: "491761234567", DestAddrTON: 1, DestAddrNPI: 1,
		ESMClass: 3, RegisteredDelivery: 1, ShortMessage: enc.Units}
	p.SequenceNumber = 9
	b, err := pdu.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Fault 3: data_coding 0 is GSM 03.38 in decode (readable and JSON) and in
// --trace, as in listen; '@' (0x00) and escapes do not hide the text.
func TestDecodeGSMText(t *testing.T) {
	const msg = "Grüße @ {x} €"
	b := gsmSubmit(t, msg)
	out, errs, code := runCLI(t, "", "decode", hex.EncodeToString(b))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, fmt.Sprintf("%q", msg)) {
		t.Errorf("readable output lacks the text %q:\n%s", msg, out)
	}
	out, _, _ = runCLI(t, "", "decode", "--json", hex.EncodeToString(b))
	if !strings.Contains(out, `"short_message_text":"`+msg+`"`) {
		t.Errorf("JSON output lacks the text:\n%s", out)
	}
	// --trace uses the same text decoding.
	m := (&testSMSC{}).start(t)
	_, errs, code = runCLI(t, "", "send", "--url", m.url("u"), "--to", "1", "--trace", "--coding", "gsm7", "ü@")
	if code != 0 || !strings.Contains(errs, `"short_message_text":"ü@"`) {
		t.Errorf("trace: exit %d:\n%s", code, errs)
	}
}

// Fault 3: the readable form says what TON/NPI, esm_class, data_coding and
// registered_delivery values mean.
func TestDecodeExplainsValues(t *testing.T) {
	out, _, code := runCLI(t, "", "decode", hex.EncodeToString(gsmSubmit(t, "hi")))
	if code != 0 {
		t.Fatal(code)
	}
	for _, want := range []string{"(alphanumeric)", "(international)", "(ISDN/E.164)", "(store and forward mode)",
		"(MC default alphabet", "(receipt on final outcome)"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

package smpp

import (
	"testing"
	"time"
)

// Fault 2: a receipt whose id is the submit_sm_resp's in the other base is
// matched when that is unambiguous, as the policy allows.
func TestReceiptIDBases(t *testing.T) {
	sentAs := func(in *Inbound, ids ...string) {
		for _, id := range ids {
			in.remember(&SentMessage{IDs: make([]string, 1), At: time.Now()}, 0, id)
		}
	}
	for _, c := range []struct {
		policy  ReceiptIDs
		sent    []string
		receipt string
		want    string // the sent id matched, "" for none
	}{
		{IDAuto, []string{"1a2b01"}, "1a2b01", "1a2b01"},
		{IDAuto, []string{"1a2b01"}, "1714945", "1a2b01"},     // decimal receipt, hex response
		{IDAuto, []string{"1714945"}, "1a2b01", "1714945"},    // hex receipt, decimal response
		{IDAuto, []string{"1A2B01"}, "001a2b01", "1A2B01"},    // case and leading zeros
		{IDAuto, []string{"1a2b01"}, "1714946", ""},           // another message
		{IDAuto, []string{"3039", "74565"}, "12345", ""},      // 0x3039 = 12345 and 74565 = 0x12345: ambiguous
		{IDAuto, []string{"3039"}, "12345", "3039"},           // only one reading fits
		{IDAuto, []string{"12345", "3039"}, "12345", "12345"}, // the id as written wins
		{IDExact, []string{"1a2b01"}, "1714945", ""},
		{IDHexInDecimal, []string{"1a2b01"}, "1714945", "1a2b01"},
		{IDHexInDecimal, []string{"1714945"}, "1a2b01", ""},
		{IDDecimalInHex, []string{"1714945"}, "1a2b01", "1714945"},
		{IDDecimalInHex, []string{"1a2b01"}, "1714945", ""},
	} {
		in := &Inbound{ReceiptIDs: c.policy}
		sentAs(in, c.sent...)
		m, id := in.match(c.receipt)
		if id != c.want || (m == nil) != (c.want == "") {
			t.Errorf("%v: sent %q, receipt %q: matched %q (%v), want %q", c.policy, c.sent, c.receipt, id, m != nil, c.want)
		}
	}
}

// The other-base indexes forget with the main one.
func TestReceiptIDBasesForget(t *testing.T) {
	in := &Inbound{}
	old := &SentMessage{IDs: make([]string, 1), At: time.Now().Add(-sentTTL - time.Minute)}
	in.remember(old, 0, "1a2b01")
	in.remember(&SentMessage{IDs: make([]string, 1), At: time.Now()}, 0, "ff")
	if m, _ := in.match("1714945"); m != nil {
		t.Fatal("an expired id still matches in the other base")
	}
	if len(in.byHex) != 1 || len(in.byDec) != 0 {
		t.Fatalf("indexes hold %d hex, %d decimal ids", len(in.byHex), len(in.byDec))
	}
}

package main

import (
	"strconv"
	"strings"
	"testing"
)

// hexToDecimal writes a hex message id in decimal, as many SMSCs do in the
// receipt text.
func hexToDecimal(id string) string {
	v, err := strconv.ParseUint(id, 16, 64)
	if err != nil {
		panic(err)
	}
	return strconv.FormatUint(v, 10)
}

// Fault 2: a receipt whose text id is the submit_sm_resp id in decimal
// (response 1a2b01, receipt id:1714945, no receipted_message_id) is matched.
func TestSendDLRIdInOtherBase(t *testing.T) {
	m := (&testSMSC{id: func(n uint64) string { return strconv.FormatUint(0x1a2b00+n, 16) },
		receiptID: hexToDecimal, noTLV: true}).start(t)
	out, errs, code := runCLI(t, "", "send", "--url", m.url("u"), "--to", "+491761234567", "--dlr", "--wait", "10s", "--json", "hi")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	vs := jsonLines(t, out)
	if len(vs) != 2 || vs[0]["message_id"] != "1a2b01" || vs[1]["event"] != "receipt" || vs[1]["state"] != "DELIVERED" ||
		vs[1]["receipt_id"] != "1714945" {
		t.Fatalf("output:\n%s", out)
	}
}

// Fault 2: a receipt that matches none of the ids is reported as unmatched,
// not as no receipt at all.
func TestSendDLRUnmatchedReceipt(t *testing.T) {
	m := (&testSMSC{id: func(n uint64) string { return strconv.FormatUint(0x1a2b00+n, 16) },
		receiptID: hexToDecimal, noTLV: true}).start(t)
	out, errs, code := runCLI(t, "", "send", "--url", m.url("u"), "--to", "1", "--dlr", "--wait", "2s",
		"--receipt-ids", "exact", "hi")
	if code != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "unmatched receipt") || !strings.Contains(out, "1714945") || !strings.Contains(out, "DELIVERED") {
		t.Fatalf("output:\n%s", out)
	}
	if _, _, code := runCLI(t, "", "send", "--url", m.url("u"), "--to", "1", "--receipt-ids", "octal", "hi"); code != 2 {
		t.Fatalf("bad --receipt-ids: exit %d", code)
	}
}

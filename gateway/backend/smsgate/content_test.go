package smsgate

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/text"
)

func TestClientID(t *testing.T) {
	for _, id := range []string{"42", "0123456789abcdef0123456789", strings.Repeat("9", 31), "a/b c", "ünïcode"} {
		c := ClientID(id)
		if len(c) > 36 || !strings.HasPrefix(c, "smppd-") || c != ClientID(id) {
			t.Errorf("ClientID(%q) = %q", id, c)
		}
		if len(id) <= 30 && plainID(id) && c != "smppd-"+id {
			t.Errorf("ClientID(%q) = %q, want the id itself", id, c)
		}
	}
	if ClientID(strings.Repeat("9", 31)) == ClientID(strings.Repeat("9", 32)) {
		t.Error("two ids, one ClientID")
	}
}

func TestPhoneNumber(t *testing.T) {
	for _, c := range []struct {
		a    store.Address
		want string
		skip bool
		bad  bool
	}{
		{store.Address{TON: 1, NPI: 1, Addr: "491761234567"}, "+491761234567", false, false},
		{store.Address{TON: 1, NPI: 1, Addr: "+491761234567"}, "+491761234567", false, false},
		{store.Address{TON: 0, NPI: 1, Addr: "+491761234567"}, "+491761234567", false, false},
		{store.Address{TON: 2, NPI: 1, Addr: "01761234567"}, "01761234567", true, false},
		{store.Address{TON: 0, NPI: 0, Addr: "12345"}, "12345", true, false},
		{store.Address{TON: 5, Addr: "Brand"}, "", false, true},
		{store.Address{TON: 1, Addr: "12a"}, "", false, true},
		{store.Address{TON: 1, Addr: ""}, "", false, true},
	} {
		got, skip, err := phoneNumber(c.a)
		if (err != nil) != c.bad || got != c.want || skip != c.skip {
			t.Errorf("%+v: %q skip=%v err=%v", c.a, got, skip, err)
		}
	}
}

// TestPartsOutOfOrder: the text is joined in part order whatever order
// the parts come in.
func TestPartsOutOfOrder(t *testing.T) {
	s := strings.Repeat("0123456789", 40)
	parts := long(t, "491761234567", s, text.SplitUDH16)
	slices.Reverse(parts)
	c, err := buildContent(sortedParts(parts))
	if err != nil || c.text.Text != s {
		t.Fatalf("%v %q", err, c.text)
	}
	if parts[0].Part != 3 {
		t.Error("sortedParts changed its argument")
	}
}

func TestStateOf(t *testing.T) {
	for in, want := range map[string]store.State{
		"Pending": store.Accepted, "Processed": store.Enroute, "Sent": store.Enroute,
		"Delivered": store.Delivered, "Failed": store.Undeliverable, "Cancelled": store.Deleted, "Odd": store.Unknown,
	} {
		st := messageState{State: in, Recipients: []recipientState{{State: in}}}
		if got, _ := stateOf(&st); got != want {
			t.Errorf("%s → %s, want %s", in, got, want)
		}
	}
	st := messageState{State: "Failed", Recipients: []recipientState{{State: "Failed", Error: "RESULT_ERROR_LIMIT_EXCEEDED"}}}
	if s, c := stateOf(&st); s != store.Undeliverable || c != 5 {
		t.Errorf("failed: %s/%d", s, c)
	}
}

// TestName and an error body without JSON.
func TestNameAndErrors(t *testing.T) {
	b, _ := New(Options{Name: "sg1", Username: "u"})
	if b.Name() != "sg1" || b.base != DefaultBaseURL {
		t.Errorf("name %q base %q", b.Name(), b.base)
	}
	if m := errorMessage([]byte("plain failure")); m != "plain failure" {
		t.Errorf("message %q", m)
	}
	if m := errorMessage([]byte(`{"error":"e"}`)); m != "e" {
		t.Errorf("message %q", m)
	}
	for _, o := range []Options{{BaseURL: "ftp://x", Username: "u"}, {}, {Username: "u", SimNumber: 4}, {Username: "u", Priority: 200}, {Username: "u", WebhookBaseURL: "::"}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
	// Unreachable service: a temporary error, not a permanent one.
	b, _ = New(Options{BaseURL: "http://127.0.0.1:1", Username: "u"})
	if _, err := b.Submit(context.Background(), []*store.Message{short("491761234567", 0, gsm("x"))}); err == nil {
		t.Error("no error from an unreachable service")
	} else if _, perm := backend.Permanent(err); perm {
		t.Errorf("permanent: %v", err)
	}
}

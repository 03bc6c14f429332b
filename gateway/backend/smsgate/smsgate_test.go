package smsgate

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/backend/smsgate/smsgatefake"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/text"
)

func latin1(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r))
	}
	return b
}

func ucs2(s string) []byte {
	var c text.Codec
	e, err := c.Encode(s, text.UCS2, text.SplitUDH8)
	if err != nil {
		panic(err)
	}
	return e.Units
}

func gsm(s string) []byte {
	var c text.Codec
	e, err := c.Encode(s, text.GSM7, text.SplitUDH8)
	if err != nil {
		panic(err)
	}
	return e.Units
}

// TestSubmitText sends messages in several codings and lengths; each
// arrives as one SMSGate message with the exact text, and every part gets
// its Enroute and one Delivered Update.
func TestSubmitText(t *testing.T) {
	e := setup(t, nil)
	longGSM := strings.Repeat("The quick brown fox jumps over the lazy dog {€}. ", 8)[:400]
	longUCS := strings.Repeat("Привет, мир 👋🎉 ", 12)
	cases := []struct {
		name  string
		parts []*store.Message
		want  string
	}{
		{"gsm", []*store.Message{short("491761234567", 0, gsm("Hello @ world {€} ~"))}, "Hello @ world {€} ~"},
		{"ucs2-emoji", []*store.Message{short("491761234567", 8, ucs2("Grüße 👋🏽 日本"))}, "Grüße 👋🏽 日本"},
		{"latin1", []*store.Message{short("491761234567", 3, latin1("Grüße àéï ÿ"))}, "Grüße àéï ÿ"},
		{"udh-3-parts", long(t, "491761234567", longGSM, text.SplitUDH8), longGSM},
		{"sar-ucs2", long(t, "491761234567", longUCS, text.SplitSAR), longUCS},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "udh-3-parts" && len(c.parts) != 3 {
				t.Fatalf("%d parts, want 3", len(c.parts))
			}
			if c.name == "sar-ucs2" && (len(c.parts) < 2 || c.parts[0].ESMClass != 0) {
				t.Fatalf("not a SAR message: %d parts", len(c.parts))
			}
			before := len(e.fake.Messages())
			res, err := e.b.Submit(context.Background(), c.parts)
			if err != nil {
				t.Fatal(err)
			}
			msgs := e.fake.Messages()
			if len(msgs) != before+1 {
				t.Fatalf("%d messages sent, want 1", len(msgs)-before)
			}
			m := msgs[len(msgs)-1]
			if m.Request.TextMessage == nil || m.Request.TextMessage.Text != c.want {
				t.Fatalf("text %+v, want %q", m.Request.TextMessage, c.want)
			}
			if got := m.Request.PhoneNumbers; len(got) != 1 || got[0] != "+491761234567" || m.SkipPhoneValidation {
				t.Errorf("phoneNumbers %v (skip %v)", got, m.SkipPhoneValidation)
			}
			wantID := ClientID(c.parts[0].ID)
			if m.Request.ID != wantID {
				t.Errorf("id %q, want %q", m.Request.ID, wantID)
			}
			if len(res) != len(c.parts) {
				t.Fatalf("%d results for %d parts", len(res), len(c.parts))
			}
			for _, r := range res {
				if r.BackendID != wantID || r.State != store.Enroute && r.State != store.Delivered {
					t.Errorf("result %+v", r)
				}
			}
			finals := e.rec.waitFinal(t, c.parts)
			e.fake.Flush()
			e.rec.mu.Lock()
			defer e.rec.mu.Unlock()
			for _, p := range c.parts {
				f := e.rec.final(p.ID)
				if len(f) != 1 || f[0].State != store.Delivered || f[0].BackendID != wantID {
					t.Errorf("part %d: finals %+v", p.Part, f)
				}
				ups := e.rec.updatesFor(p.ID)
				if len(ups) != 2 || ups[0].State != store.Enroute {
					t.Errorf("part %d: updates %+v, want Enroute then Delivered", p.Part, ups)
				}
			}
			if len(finals) != len(c.parts) {
				t.Errorf("%d finals", len(finals))
			}
		})
	}
}

// TestSubmitOptions checks what goes into the request besides the text.
func TestSubmitOptions(t *testing.T) {
	now := time.Now()
	e := setup(t, func(o *Options, _ *smsgatefake.Server) {
		o.SimNumber, o.Priority, o.DeviceID = 2, 100, smsgatefake.DefaultDevice
		o.Now = func() time.Time { return now }
	})
	m := short("01761234567", 0, gsm("hi"))
	m.Dest.TON = 2 // national
	m.RegisteredDelivery = 0
	m.ExpireAt = now.Add(time.Hour).Truncate(time.Second)
	m.ScheduleAt = now.Add(time.Minute).Truncate(time.Second)
	if _, err := e.b.Submit(context.Background(), []*store.Message{m}); err != nil {
		t.Fatal(err)
	}
	r := e.fake.Messages()[0]
	q := r.Request
	if q.PhoneNumbers[0] != "01761234567" || !r.SkipPhoneValidation {
		t.Errorf("national number: %v skip=%v", q.PhoneNumbers, r.SkipPhoneValidation)
	}
	if q.WithDeliveryReport == nil || *q.WithDeliveryReport {
		t.Errorf("withDeliveryReport %v, want false", q.WithDeliveryReport)
	}
	if q.SimNumber == nil || *q.SimNumber != 2 || q.Priority == nil || *q.Priority != 100 || q.DeviceID != smsgatefake.DefaultDevice {
		t.Errorf("sim %v priority %v device %q", q.SimNumber, q.Priority, q.DeviceID)
	}
	if q.TTL != nil || q.ValidUntil == nil || *q.ValidUntil != m.ExpireAt.UTC().Format(time.RFC3339) {
		t.Errorf("ttl %v validUntil %v", q.TTL, q.ValidUntil)
	}
	if q.ScheduleAt == nil || *q.ScheduleAt != m.ScheduleAt.UTC().Format(time.RFC3339) {
		t.Errorf("scheduleAt %v", q.ScheduleAt)
	}

	// Without a delivery report the message ends Sent: one Enroute.
	e.rec.waitFor(t, "enroute", func() bool { return len(e.rec.updatesFor(m.ID)) == 1 })
	e.fake.Flush()

	// Refused before any request.
	past := short("491761234567", 0, gsm("late"))
	past.ExpireAt = now.Add(-time.Second)
	alpha := short("Vodafone", 0, gsm("x"))
	alpha.Dest.TON = 5
	for _, c := range []struct {
		m     *store.Message
		state store.State
		code  uint16
	}{{past, store.Expired, 0}, {alpha, store.Rejected, CodeBadDestination}} {
		_, err := e.b.Submit(context.Background(), []*store.Message{c.m})
		pe, ok := backend.Permanent(err)
		if !ok || pe.State != c.state || pe.ErrorCode != c.code {
			t.Errorf("%s: %v, want permanent %s/%d", c.m.Dest.Addr, err, c.state, c.code)
		}
	}
	if n := len(e.fake.Messages()); n != 1 {
		t.Errorf("%d messages sent, want 1", n)
	}
}

// TestSubmitBinary: 8-bit data with a port is a dataMessage; without one
// it is refused.
func TestSubmitBinary(t *testing.T) {
	e := setup(t, nil)
	data := []byte{0xde, 0xad, 0xbe, 0xef, 0x00}
	udh := []byte{0x06, 0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0} // port 16-bit: dest 2948, src 9200
	m := short("491761234567", 4, append(udh, data...))
	m.ESMClass = 0x40
	if _, err := e.b.Submit(context.Background(), []*store.Message{m}); err != nil {
		t.Fatal(err)
	}
	q := e.fake.Messages()[0].Request
	if q.TextMessage != nil || q.DataMessage == nil || *q.DataMessage.Port != 2948 || q.DataMessage.Data != base64.StdEncoding.EncodeToString(data) {
		t.Fatalf("request %+v %+v", q.TextMessage, q.DataMessage)
	}
	e.rec.waitFinal(t, []*store.Message{m})

	_, err := e.b.Submit(context.Background(), []*store.Message{short("491761234567", 4, data)})
	if pe, ok := backend.Permanent(err); !ok || pe.State != store.Rejected || pe.ErrorCode != CodeNoPort {
		t.Errorf("no port: %v", err)
	}
}

// TestUndeliverable: a failure reaches every part as Undeliverable with
// the reason's error code.
func TestUndeliverable(t *testing.T) {
	e := setup(t, nil)
	e.fake.SetOutcome(smsgatefake.FailPrefix("+4900", "RESULT_ERROR_NO_SERVICE"))
	parts := long(t, "4900123", strings.Repeat("x", 300), text.SplitUDH8)
	if _, err := e.b.Submit(context.Background(), parts); err != nil {
		t.Fatal(err)
	}
	finals := e.rec.waitFinal(t, parts)
	for _, f := range finals {
		if f.State != store.Undeliverable || f.ErrorCode != 4 {
			t.Errorf("final %+v, want UNDELIVERABLE err 4", f)
		}
	}
	e.fake.Flush()
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	if len(e.rec.updates) != len(parts) {
		t.Errorf("%d updates for %d parts: %+v", len(e.rec.updates), len(parts), e.rec.updates)
	}
}

func TestFailureCodes(t *testing.T) {
	for reason, want := range map[string]struct {
		s store.State
		c uint16
	}{
		"RESULT_ERROR_GENERIC_FAILURE":             {store.Undeliverable, 1},
		"RESULT_ERROR_RADIO_OFF":                   {store.Undeliverable, 2},
		"RESULT_ERROR_SHORT_CODE_NEVER_ALLOWED":    {store.Undeliverable, 8},
		"Delivery failed: RESULT_ERROR_NO_SERVICE": {store.Undeliverable, 4},
		"something odd":                            {store.Undeliverable, 1},
		"Message expired":                          {store.Expired, 0},
	} {
		s, c := failure(reason)
		if s != want.s || c != want.c {
			t.Errorf("%q: %s/%d, want %s/%d", reason, s, c, want.s, want.c)
		}
	}
}

// TestQueryCancel: a held message is Accepted; cancelling it reports
// Deleted; cancelling again is refused.
func TestQueryCancel(t *testing.T) {
	e := setup(t, nil)
	e.fake.SetHold(true)
	m := short("491761234567", 0, gsm("cancel me"))
	res, err := e.b.Submit(context.Background(), []*store.Message{m})
	if err != nil {
		t.Fatal(err)
	}
	m.BackendID = res[0].BackendID
	u, err := e.b.Query(context.Background(), m)
	if err != nil || u.State != store.Accepted || u.ID != m.ID || u.BackendID != m.BackendID {
		t.Fatalf("query: %+v %v", u, err)
	}
	if err := e.b.Cancel(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	f := e.rec.waitFinal(t, []*store.Message{m})
	if f[0].State != store.Deleted {
		t.Errorf("final %+v, want DELETED", f[0])
	}
	if u, err := e.b.Query(context.Background(), m); err != nil || u.State != store.Deleted {
		t.Errorf("query after cancel: %+v %v", u, err)
	}
	if err := e.b.Cancel(context.Background(), m); err == nil {
		t.Error("second cancel succeeded")
	}
	unknown := &store.Message{ID: "nope"}
	if _, err := e.b.Query(context.Background(), unknown); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("query unknown: %v", err)
	}
	// A delivered message, queried without a stored BackendID (derived).
	e.fake.SetHold(false)
	d := short("491761234567", 0, gsm("done"))
	if _, err := e.b.Submit(context.Background(), []*store.Message{d}); err != nil {
		t.Fatal(err)
	}
	e.rec.waitFinal(t, []*store.Message{d})
	if u, err := e.b.Query(context.Background(), d); err != nil || u.State != store.Delivered {
		t.Errorf("query delivered: %+v %v", u, err)
	}
}

// TestConflictIsSuccess: a Submit retried after its answer was lost is
// not sent twice; the retry learns the state.
func TestConflictIsSuccess(t *testing.T) {
	e := setup(t, nil)
	m := short("491761234567", 0, gsm("once"))
	r1, err := e.b.Submit(context.Background(), []*store.Message{m})
	if err != nil {
		t.Fatal(err)
	}
	e.rec.waitFinal(t, []*store.Message{m})
	r2, err := e.b.Submit(context.Background(), []*store.Message{m})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.fake.Messages()) != 1 || e.fake.Hits("POST", "/messages") != 2 || e.fake.Hits("GET", "/messages/{id}") != 1 {
		t.Errorf("messages %d, POSTs %d, GETs %d", len(e.fake.Messages()), e.fake.Hits("POST", "/messages"), e.fake.Hits("GET", "/messages/{id}"))
	}
	if r2[0].BackendID != r1[0].BackendID || r2[0].State != store.Delivered {
		t.Errorf("retry result %+v, first %+v", r2[0], r1[0])
	}
	e.fake.Flush()
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	if f := e.rec.final(m.ID); len(f) != 1 {
		t.Errorf("finals %+v", f)
	}
}

// TestBadRequestIsPermanent: what SMSGate refuses (here an empty text)
// fails the message.
func TestBadRequestIsPermanent(t *testing.T) {
	e := setup(t, nil)
	_, err := e.b.Submit(context.Background(), []*store.Message{short("491761234567", 0, nil)})
	pe, ok := backend.Permanent(err)
	if !ok || pe.State != store.Rejected || pe.ErrorCode != 400 {
		t.Fatalf("%v, want permanent Rejected 400", err)
	}
	if e.b.Open() {
		t.Error("a 4xx opened the breaker")
	}
}

// TestPerAccountCredentials: an account with its own credentials sends
// with them and has its own webhooks, under a URL naming it.
func TestPerAccountCredentials(t *testing.T) {
	e := setup(t, func(o *Options, f *smsgatefake.Server) {
		f.AddUser("acme-user", "acme-password-123", "acmephone")
		o.Credentials = func(a string) (string, string, bool) {
			if a == "acme" {
				return "acme-user", "acme-password-123", true
			}
			return "", "", false
		}
		o.Accounts = []string{"acme", "other"}
		o.Destinations = map[string]store.Address{"acme": {TON: 1, NPI: 1, Addr: "4930111"}}
	})
	hooks := e.fake.Webhooks("acme-user")
	if len(hooks) != len(events) {
		t.Fatalf("acme webhooks %+v", hooks)
	}
	for _, h := range hooks {
		if !strings.HasSuffix(h.URL, DefaultWebhookPath+"?account=acme") || h.ID != WebhookID(h.URL, h.Event) {
			t.Errorf("webhook %+v", h)
		}
	}
	m := short("491761234567", 0, gsm("from acme"))
	m.Account = "acme"
	if _, err := e.b.Submit(context.Background(), []*store.Message{m}); err != nil {
		t.Fatal(err)
	}
	if u := e.fake.Messages()[0].User; u != "acme-user" {
		t.Errorf("sent as %q", u)
	}
	e.rec.waitFinal(t, []*store.Message{m})
	// An MO to acme's phone is addressed to acme's number (by account).
	if err := e.fake.InjectMO("acme-user", "+491709999", "hi acme"); err != nil {
		t.Fatal(err)
	}
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	if len(e.rec.mos) != 1 || e.rec.mos[0].Dest.Addr != "4930111" {
		t.Errorf("MOs %+v", e.rec.mos)
	}
}

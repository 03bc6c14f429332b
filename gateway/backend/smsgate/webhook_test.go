package smsgate

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/backend/smsgate/smsgatefake"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/text"
)

// TestMO: text MOs arrive GSM- or UCS-2-encoded as their text needs,
// data MOs as 8-bit data; a webhook is acknowledged only once stored, and
// a resent one is stored once.
func TestMO(t *testing.T) {
	e := setup(t, func(o *Options, _ *smsgatefake.Server) {
		o.Destinations = map[string]store.Address{smsgatefake.DefaultDevice: {TON: 0, NPI: 1, Addr: "5555"}}
	})
	var c text.Codec
	for _, tc := range []struct {
		text string
		dc   uint8
	}{{"Hello {world} €", 0}, {"Привет 👋", 8}} {
		e.rec.mu.Lock()
		n := len(e.rec.mos)
		e.rec.mu.Unlock()
		if err := e.fake.InjectMO(smsgatefake.DefaultUser, "+491761234567", tc.text); err != nil {
			t.Fatal(err)
		}
		e.rec.mu.Lock()
		mo := e.rec.mos[n]
		e.rec.mu.Unlock()
		d, err := c.Decode(mo.Body, mo.DataCoding, false)
		if err != nil || d.Text != tc.text || mo.DataCoding != tc.dc {
			t.Errorf("MO %q: dc %d text %q err %v", tc.text, mo.DataCoding, d.Text, err)
		}
		if mo.Source != (store.Address{TON: 1, NPI: 1, Addr: "491761234567"}) || mo.Dest.Addr != "5555" {
			t.Errorf("MO addresses %+v → %+v", mo.Source, mo.Dest)
		}
		if mo.At.IsZero() || time.Since(mo.At) > time.Minute {
			t.Errorf("MO time %v", mo.At)
		}
	}
	if err := e.fake.InjectDataMO(smsgatefake.DefaultUser, "Info", []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	e.rec.mu.Lock()
	mo := e.rec.mos[len(e.rec.mos)-1]
	e.rec.mu.Unlock()
	if mo.DataCoding != 4 || !bytes.Equal(mo.Body, []byte{1, 2, 3}) || mo.Source != (store.Address{TON: 5, Addr: "Info"}) {
		t.Errorf("data MO %+v", mo)
	}

	// The gateway cannot store it: refused (503), so SMSGate tries again.
	e.rec.mu.Lock()
	e.rec.failMO = errors.New("store down")
	e.rec.mu.Unlock()
	if err := e.fake.InjectMO(smsgatefake.DefaultUser, "+491761234567", "later"); err == nil {
		t.Error("MO acknowledged although not stored")
	}
	for _, d := range e.fake.Deliveries() {
		if d.Event == "sms:received" && d.Status != http.StatusNoContent && d.Status != http.StatusServiceUnavailable {
			t.Errorf("delivery answered %d", d.Status)
		}
	}
	e.rec.mu.Lock()
	e.rec.failMO = nil
	n := len(e.rec.mos)
	e.rec.mu.Unlock()

	// Resent (SMSGate missed our answer): stored once.
	e.fake.SetDuplicates(2)
	if err := e.fake.InjectMO(smsgatefake.DefaultUser, "+491761234567", "once"); err != nil {
		t.Fatal(err)
	}
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	if len(e.rec.mos) != n+1 {
		t.Errorf("%d MOs stored for one sent three times", len(e.rec.mos)-n)
	}
}

// post sends a webhook to the handler directly.
func post(h http.Handler, body []byte, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, DefaultWebhookPath, bytes.NewReader(body))
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func envelopeFor(event, messageID string, extra map[string]any) []byte {
	p := map[string]any{"messageId": messageID, "phoneNumber": "+491761234567", "simNumber": nil}
	for k, v := range extra {
		p[k] = v
	}
	b, _ := json.Marshal(map[string]any{"deviceId": "dev", "event": event, "id": "ev-" + messageID + event, "webhookId": "w", "payload": p})
	return b
}

// TestSignature: good signatures pass; bad, missing and stale ones get
// 401 with a JSON error; bad bodies 400; nothing gets a 500.
func TestSignature(t *testing.T) {
	const key = "s3cret-key"
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	b, err := New(Options{BaseURL: "http://127.0.0.1:1", Username: "u", SigningKey: key, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	b.mu.Lock()
	b.ev = rec // started without webhooks
	b.mu.Unlock()
	h := b.WebhookHandler()
	body := envelopeFor("sms:sent", "abc", map[string]any{"sentAt": "2026-12-02T10:00:03.000+07:00"})
	ts := strconv.FormatInt(clk.Now().Unix(), 10)
	good := hex.EncodeToString(Sign(key, body, ts))
	stale := strconv.FormatInt(clk.Now().Add(-6*time.Minute).Unix(), 10)
	future := strconv.FormatInt(clk.Now().Add(6*time.Minute).Unix(), 10)
	for _, c := range []struct {
		name   string
		body   []byte
		hdr    map[string]string
		status int
	}{
		{"good", body, map[string]string{"X-Signature": good, "X-Timestamp": ts}, 204},
		{"upper-case hex", body, map[string]string{"X-Signature": strings.ToUpper(good), "X-Timestamp": ts}, 204},
		{"wrong", body, map[string]string{"X-Signature": hex.EncodeToString(Sign("other", body, ts)), "X-Timestamp": ts}, 401},
		{"body changed", append([]byte(" "), body...), map[string]string{"X-Signature": good, "X-Timestamp": ts}, 401},
		{"timestamp changed", body, map[string]string{"X-Signature": good, "X-Timestamp": strconv.FormatInt(clk.Now().Unix()+1, 10)}, 401},
		{"stale", body, map[string]string{"X-Signature": hex.EncodeToString(Sign(key, body, stale)), "X-Timestamp": stale}, 401},
		{"future", body, map[string]string{"X-Signature": hex.EncodeToString(Sign(key, body, future)), "X-Timestamp": future}, 401},
		{"missing", body, nil, 401},
		{"not hex", body, map[string]string{"X-Signature": "zz", "X-Timestamp": ts}, 401},
		{"bad timestamp", body, map[string]string{"X-Signature": good, "X-Timestamp": "soon"}, 401},
		{"bad json", []byte("{"), map[string]string{"X-Signature": hex.EncodeToString(Sign(key, []byte("{"), ts)), "X-Timestamp": ts}, 400},
	} {
		w := post(h, c.body, c.hdr)
		if w.Code != c.status {
			t.Errorf("%s: %d, want %d (%s)", c.name, w.Code, c.status, w.Body)
		}
		if w.Code >= 400 {
			var e struct{ Error string }
			if json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error == "" {
				t.Errorf("%s: error body %q", c.name, w.Body)
			}
		}
	}
	// End to end: the fake signs with the same key, or with another.
	e := setup(t, func(o *Options, f *smsgatefake.Server) { o.SigningKey = key; f.SetSigningKey(key) })
	m := short("491761234567", 0, gsm("signed"))
	if _, err := e.b.Submit(context.Background(), []*store.Message{m}); err != nil {
		t.Fatal(err)
	}
	e.rec.waitFinal(t, []*store.Message{m})
	e.fake.SetSigningKey("wrong")
	if err := e.fake.InjectMO(smsgatefake.DefaultUser, "+4917", "forged"); err == nil {
		t.Error("a forged webhook was accepted")
	}
}

// TestBadWebhooks: input that is not a webhook is refused with 4xx.
func TestBadWebhooks(t *testing.T) {
	b, _ := New(Options{BaseURL: "http://127.0.0.1:1", Username: "u"})
	b.ev = newRecorder()
	h := b.WebhookHandler()
	for _, body := range []string{"", "null", "[]", `{"event":"sms:sent","payload":{}}`, `{"event":"sms:sent","payload":"x"}`,
		`{"event":"sms:received","payload":{"message":"x"}}`, `{"event":"sms:data-received","payload":{"phoneNumber":"+1","data":"!!"}}`} {
		if w := post(h, []byte(body), nil); w.Code != 400 {
			t.Errorf("%q: %d", body, w.Code)
		}
	}
	r := httptest.NewRequest(http.MethodGet, DefaultWebhookPath, nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", w.Code)
	}
	if w := post(h, []byte(`{"event":"system:ping","payload":{}}`), nil); w.Code != 204 {
		t.Errorf("ping: %d", w.Code)
	}
}

// checkOneFinal asserts one final update per part, in the wanted state,
// and no update after it.
func checkOneFinal(t *testing.T, rec *recorder, parts []*store.Message, want store.State) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, p := range parts {
		ups := rec.updatesFor(p.ID)
		f := rec.final(p.ID)
		if len(f) != 1 || f[0].State != want || ups[len(ups)-1].State != want {
			t.Errorf("part %s: updates %+v", p.ID, ups)
		}
	}
}

// TestDuplicateAndReorderedWebhooks: delivered before sent, each three
// times: one Delivered per part and no Enroute after it.
func TestDuplicateAndReorderedWebhooks(t *testing.T) {
	e := setup(t, func(_ *Options, f *smsgatefake.Server) { f.SetDuplicates(2); f.SetReorder(true) })
	parts := long(t, "491761234567", strings.Repeat("dup ", 60), text.SplitUDH8)
	if _, err := e.b.Submit(context.Background(), parts); err != nil {
		t.Fatal(err)
	}
	e.rec.waitFinal(t, parts)
	e.fake.Flush()
	checkOneFinal(t, e.rec, parts, store.Delivered)
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	if len(e.rec.updates) != len(parts) {
		t.Errorf("%d updates, want one per part: %+v", len(e.rec.updates), e.rec.updates)
	}
}

// TestEarlyWebhooks: the webhooks arrive before the POST returns; the
// Result is already final and each part has one final Update.
func TestEarlyWebhooks(t *testing.T) {
	e := setup(t, func(_ *Options, f *smsgatefake.Server) { f.SetEarly(true) })
	parts := long(t, "491761234567", strings.Repeat("early ", 50), text.SplitUDH8)
	res, err := e.b.Submit(context.Background(), parts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.State != store.Delivered {
			t.Errorf("result %+v, want DELIVERED", r)
		}
	}
	checkOneFinal(t, e.rec, parts, store.Delivered)
}

// TestHeldWebhooks: an event about an id not known yet is held until the
// Submit that creates it; one nobody claims is reported by BackendID.
func TestHeldWebhooks(t *testing.T) {
	e := setup(t, func(o *Options, f *smsgatefake.Server) { o.HoldFor = 100 * time.Millisecond; f.SetHold(true) })
	h := e.b.WebhookHandler()
	parts := long(t, "491761234567", strings.Repeat("held ", 50), text.SplitUDH8)
	id := ClientID(parts[0].ID)
	for _, ev := range []string{"sms:delivered", "sms:sent", "sms:delivered"} {
		if w := post(h, envelopeFor(ev, id, map[string]any{"deliveredAt": "2026-12-02T10:00:03.000+07:00"}), nil); w.Code != 204 {
			t.Fatalf("%s: %d", ev, w.Code)
		}
	}
	if n := e.b.track.heldCount(); n != 1 {
		t.Fatalf("%d held", n)
	}
	res, err := e.b.Submit(context.Background(), parts)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].State != store.Delivered {
		t.Errorf("result %+v", res[0])
	}
	checkOneFinal(t, e.rec, parts, store.Delivered)
	e.rec.mu.Lock()
	u := e.rec.final(parts[0].ID)[0]
	e.rec.mu.Unlock()
	if want := time.Date(2026, 12, 2, 3, 0, 3, 0, time.UTC); !u.At.Equal(want) {
		t.Errorf("At %v, want %v", u.At, want)
	}

	// Never claimed: reported by BackendID after HoldFor.
	post(h, envelopeFor("sms:failed", "stranger", map[string]any{"reason": "RESULT_ERROR_RADIO_OFF"}), nil)
	e.rec.waitFor(t, "the stranger's update", func() bool {
		for _, u := range e.rec.updates {
			if u.BackendID == "stranger" {
				return u.ID == "" && u.State == store.Undeliverable && u.ErrorCode == 2
			}
		}
		return false
	})
}

func TestTrackerBounds(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	tr := newTracker(3, time.Hour, 2, time.Minute, clk.Now)
	var got []backend.Update
	emit := func(u backend.Update) { got = append(got, u) }
	for _, id := range []string{"a", "b", "c", "d"} {
		tr.register(id, []string{id + "1"}, emit)
	}
	if tr.known("a") || !tr.known("d") || len(tr.byID) != 3 {
		t.Errorf("oldest not evicted: %v", tr.byID)
	}
	clk.Add(2 * time.Hour)
	tr.expire(emit)
	if len(tr.byID) != 0 {
		t.Errorf("old entries kept: %d", len(tr.byID))
	}
	// Held beyond MaxHeld: the oldest is reported at once.
	for _, id := range []string{"x", "y", "z"} {
		tr.apply(id, store.Delivered, 0, clk.Now(), true, emit)
	}
	if len(got) != 1 || got[0].BackendID != "x" || tr.heldCount() != 2 {
		t.Errorf("got %+v, held %d", got, tr.heldCount())
	}
	// Re-registering keeps the state (a retried Submit).
	tr.register("r", []string{"r1"}, emit)
	tr.apply("r", store.Delivered, 0, clk.Now(), false, emit)
	tr.register("r", []string{"r1"}, emit)
	if s, _ := tr.state("r"); s != store.Delivered {
		t.Errorf("state after re-register: %s", s)
	}
}

package smsgate

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/backend/smsgate/smsgatefake"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/text"
)

// recorder is the gateway's side of Events in tests.
type recorder struct {
	mu       sync.Mutex
	updates  []backend.Update
	mos      []*backend.MO
	failMO   error
	signal   chan struct{}
	received int
}

func newRecorder() *recorder { return &recorder{signal: make(chan struct{}, 1)} }

func (r *recorder) kick() {
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

func (r *recorder) Update(u backend.Update) {
	r.mu.Lock()
	r.updates = append(r.updates, u)
	r.mu.Unlock()
	r.kick()
}

func (r *recorder) Received(ctx context.Context, mo *backend.MO) error {
	r.mu.Lock()
	defer r.kick()
	defer r.mu.Unlock()
	r.received++
	if r.failMO != nil {
		return r.failMO
	}
	r.mos = append(r.mos, mo)
	return nil
}

// waitFor waits until cond (called under the recorder's lock) holds.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.signal:
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("timed out waiting for %s; updates: %+v", what, r.updates)
		}
	}
}

// updatesFor returns the updates for gateway id id (under the lock).
func (r *recorder) updatesFor(id string) []backend.Update {
	var out []backend.Update
	for _, u := range r.updates {
		if u.ID == id {
			out = append(out, u)
		}
	}
	return out
}

// final returns the final updates for id (under the lock).
func (r *recorder) final(id string) []backend.Update {
	var out []backend.Update
	for _, u := range r.updatesFor(id) {
		if u.State.Final() {
			out = append(out, u)
		}
	}
	return out
}

// waitFinal waits until every part has a final update and returns them.
func (r *recorder) waitFinal(t *testing.T, parts []*store.Message) []backend.Update {
	t.Helper()
	r.waitFor(t, "final updates", func() bool {
		for _, p := range parts {
			if len(r.final(p.ID)) == 0 {
				return false
			}
		}
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []backend.Update
	for _, p := range parts {
		out = append(out, r.final(p.ID)...)
	}
	return out
}

type env struct {
	fake *smsgatefake.Server
	b    *Backend
	rec  *recorder
	hook *httptest.Server
}

// setup starts a fake, a webhook receiver and a started backend.
func setup(t *testing.T, tweak func(*Options, *smsgatefake.Server)) *env {
	t.Helper()
	fake := smsgatefake.New()
	t.Cleanup(fake.Close)
	var b *Backend
	mux := http.NewServeMux()
	mux.Handle(DefaultWebhookPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { b.WebhookHandler().ServeHTTP(w, r) }))
	hook := httptest.NewServer(mux)
	t.Cleanup(hook.Close)
	o := Options{
		BaseURL:        fake.URL,
		Username:       smsgatefake.DefaultUser,
		Password:       smsgatefake.DefaultPassword,
		WebhookBaseURL: hook.URL,
		Timeout:        5 * time.Second,
	}
	if tweak != nil {
		tweak(&o, fake)
	}
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	if err := b.Start(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		fake.Flush()
		if err := b.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return &env{fake: fake, b: b, rec: rec, hook: hook}
}

var idSeq struct {
	sync.Mutex
	n int
}

func nextID() string {
	idSeq.Lock()
	defer idSeq.Unlock()
	idSeq.n++
	return fmt.Sprintf("m%06d", idSeq.n)
}

// short is a message of one part.
func short(dest string, dc uint8, body []byte) *store.Message {
	return &store.Message{ID: nextID(), Account: "acc", Dest: store.Address{TON: 1, NPI: 1, Addr: dest},
		DataCoding: dc, Body: body, RegisteredDelivery: 1, Part: 1, Parts: 1}
}

// long splits s with method m into parts of one message.
func long(t *testing.T, dest, s string, m text.Method) []*store.Message {
	t.Helper()
	var c text.Codec
	split, err := c.Split(s, text.Auto, m)
	if err != nil {
		t.Fatal(err)
	}
	group := nextID()
	var parts []*store.Message
	for i, seg := range split.Segments {
		p := &store.Message{ID: nextID(), Account: "acc", Dest: store.Address{TON: 1, NPI: 1, Addr: dest},
			DataCoding: split.DataCoding, Body: seg.Data, RegisteredDelivery: 1,
			Group: group, Part: uint8(i + 1), Parts: uint8(len(split.Segments))}
		if seg.UDHI {
			p.ESMClass = 0x40
		}
		parts = append(parts, p)
	}
	return parts
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

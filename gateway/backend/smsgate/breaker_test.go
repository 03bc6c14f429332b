package smsgate

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/backend/smsgate/smsgatefake"
	"github.com/smppkit/smpp/gateway/store"
)

// TestDown: 5xx are temporary errors; after the threshold the breaker
// fails fast without requests; after the cool-down one probe goes; it
// reopens the breaker on failure and closes it on success.
func TestDown(t *testing.T) {
	clk := &clock{t: time.Now()}
	e := setup(t, func(o *Options, _ *smsgatefake.Server) {
		o.Now = clk.Now
		o.BreakerThreshold, o.BreakerCooldown = 3, time.Minute
	})
	e.fake.SetDown(-1)
	submit := func() error {
		_, err := e.b.Submit(context.Background(), []*store.Message{short("491761234567", 0, gsm("down?"))})
		return err
	}
	for i := range 3 {
		err := submit()
		var ae *APIError
		if _, perm := backend.Permanent(err); perm || !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
			t.Fatalf("attempt %d: %v, want a temporary 503", i, err)
		}
	}
	if !e.b.Open() {
		t.Fatal("breaker still closed after 3 failures")
	}
	hits := e.fake.Hits("POST", "/messages")
	if err := submit(); !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("open breaker: %v", err)
	}
	if e.fake.Hits("POST", "/messages") != hits {
		t.Error("a request went out while the breaker was open")
	}
	clk.Add(time.Minute)
	if err := submit(); err == nil || errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("probe: %v, want its 503", err)
	}
	if !e.b.Open() || e.fake.Hits("POST", "/messages") != hits+1 {
		t.Fatal("a failed probe did not reopen the breaker")
	}
	if err := submit(); !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("reopened breaker: %v", err)
	}
	e.fake.SetDown(0)
	clk.Add(time.Minute)
	if err := submit(); err != nil {
		t.Fatalf("probe after recovery: %v", err)
	}
	if e.b.Open() {
		t.Error("breaker open after a good probe")
	}
	if err := submit(); err != nil {
		t.Errorf("after recovery: %v", err)
	}
}

func TestBreakerOneProbe(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	br := breaker{threshold: 1, cooldown: time.Second, now: clk.Now}
	br.done(false, true)
	if _, ok := br.allow(); ok {
		t.Fatal("open breaker allowed a request")
	}
	clk.Add(time.Second)
	probe, ok := br.allow()
	if !probe || !ok {
		t.Fatal("no probe after the cool-down")
	}
	if _, ok := br.allow(); ok {
		t.Fatal("a second request during the probe")
	}
	br.neutral(true) // the probe's caller gave up: another may probe
	if probe, ok := br.allow(); !probe || !ok {
		t.Fatal("no probe after a cancelled one")
	}
}

// TestTimeout: a slow answer is a temporary error.
func TestTimeout(t *testing.T) {
	e := setup(t, func(o *Options, _ *smsgatefake.Server) { o.Timeout = 50 * time.Millisecond })
	e.fake.SetDelay(time.Second)
	_, err := e.b.Submit(context.Background(), []*store.Message{short("491761234567", 0, gsm("slow"))})
	if _, perm := backend.Permanent(err); err == nil || perm {
		t.Fatalf("%v, want a temporary error", err)
	}
	e.fake.SetDelay(0)
}

// TestConcurrentSubmits: many requests are in flight at once, never more
// than MaxInFlight.
func TestConcurrentSubmits(t *testing.T) {
	e := setup(t, func(o *Options, _ *smsgatefake.Server) { o.MaxInFlight = 8 })
	e.fake.SetDelay(50 * time.Millisecond)
	var wg sync.WaitGroup
	start := time.Now()
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			_, err := e.b.Submit(context.Background(), []*store.Message{short("491761234567", 0, gsm("many"))})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// 32 requests of 50 ms, 8 at once: about 200 ms; one at a time 1.6 s.
	if d := time.Since(start); d > 1200*time.Millisecond || d < 200*time.Millisecond {
		t.Errorf("32 submits took %v with 8 in flight", d)
	}
	e.fake.SetDelay(0)
}

// TestCheckCredentials: good and bad credentials, cached; failures to
// check are not cached; a storm of checks makes one request.
func TestCheckCredentials(t *testing.T) {
	clk := &clock{t: time.Now()}
	e := setup(t, func(o *Options, _ *smsgatefake.Server) {
		o.Now = clk.Now
		o.CredentialsTTL, o.BadCredentialsTTL = time.Minute, 10*time.Second
	})
	ctx := context.Background()
	u, p := smsgatefake.DefaultUser, smsgatefake.DefaultPassword
	for range 3 {
		if err := e.b.CheckCredentials(ctx, u, p); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if err := e.b.CheckCredentials(ctx, u, "wrong"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("bad password: %v", err)
		}
	}
	if n := e.fake.Hits("GET", "/devices"); n != 2 {
		t.Errorf("%d requests for 6 checks of 2 credentials", n)
	}
	clk.Add(11 * time.Second) // the refusal expired, the success not
	e.b.CheckCredentials(ctx, u, "wrong")
	e.b.CheckCredentials(ctx, u, p)
	if n := e.fake.Hits("GET", "/devices"); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}

	e.fake.SetDown(2)
	for range 2 {
		if err := e.b.CheckCredentials(ctx, "new", "creds"); !errors.Is(err, ErrCheckFailed) || errors.Is(err, ErrBadCredentials) {
			t.Fatalf("down: %v", err)
		}
	}
	if err := e.b.CheckCredentials(ctx, "new", "creds"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("after down: %v", err)
	}

	// A storm of binds with fresh credentials: one request.
	e.fake.AddUser("storm", "storm-password-1", "")
	e.fake.SetDelay(50 * time.Millisecond)
	before := e.fake.Hits("GET", "/devices")
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if err := e.b.CheckCredentials(ctx, "storm", "storm-password-1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	e.fake.SetDelay(0)
	if n := e.fake.Hits("GET", "/devices") - before; n != 1 {
		t.Errorf("%d requests for 50 concurrent checks", n)
	}
}

func TestCredCacheBound(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	c := newCredCache(10, time.Hour, time.Hour, clk.Now)
	for i := range 100 {
		c.check(context.Background(), strconv.Itoa(i), "p", func(context.Context) error { return nil })
		if len(c.entries) > 10 {
			t.Fatalf("%d entries", len(c.entries))
		}
	}
}

// TestStartTidies: leftovers of a crash (ours under other ids, duplicates
// at our URL) are deleted, others' registrations kept; Stop removes ours.
func TestStartTidies(t *testing.T) {
	fake := smsgatefake.New()
	defer fake.Close()
	const base = "https://smppd.example"
	url := base + DefaultWebhookPath
	fake.AddWebhook(smsgatefake.DefaultUser, smsgatefake.Webhook{ID: WebhookID(url, "sms:sent"), URL: url, Event: "sms:sent"})
	fake.AddWebhook(smsgatefake.DefaultUser, smsgatefake.Webhook{ID: "dup1", URL: url, Event: "sms:sent"})
	fake.AddWebhook(smsgatefake.DefaultUser, smsgatefake.Webhook{ID: "smppd-old", URL: url, Event: "sms:delivered"})
	fake.AddWebhook(smsgatefake.DefaultUser, smsgatefake.Webhook{ID: "theirs", URL: "https://other.example/hook", Event: "sms:sent"})
	b, err := New(Options{BaseURL: fake.URL, Username: smsgatefake.DefaultUser, Password: smsgatefake.DefaultPassword, WebhookBaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background(), newRecorder()); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, h := range fake.Webhooks(smsgatefake.DefaultUser) {
		got[h.ID] = h.Event
	}
	if len(got) != len(events)+1 || got["theirs"] != "sms:sent" {
		t.Errorf("after Start: %v", got)
	}
	for _, ev := range events {
		if got[WebhookID(url, ev)] != ev {
			t.Errorf("%s not registered: %v", ev, got)
		}
	}
	if fake.Hits("POST", "/webhooks") != len(events)-1 {
		t.Errorf("%d registrations made, want %d (one was there)", fake.Hits("POST", "/webhooks"), len(events)-1)
	}
	if err := b.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if hs := fake.Webhooks(smsgatefake.DefaultUser); len(hs) != 1 || hs[0].ID != "theirs" {
		t.Errorf("after Stop: %+v", hs)
	}
}

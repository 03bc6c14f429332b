package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway"
	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/gateway/store/memory"
	"github.com/smppkit/smpp/gateway/store/sqlite"
	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/smpptest"
)

// startOn runs a gateway on st (the real in-memory store, which applies
// every part of a Batch and filters Find as the contract says).
func startOn(t *testing.T, st store.Store, be *fakeBackend, tweak func(o *gateway.Options)) *harness {
	t.Helper()
	o := gateway.Options{
		Store:           st,
		Backends:        map[string]backend.Backend{"fake": be},
		AcceptAny:       true,
		ReceiptRetryMin: 20 * time.Millisecond,
		ReceiptRetryMax: 100 * time.Millisecond,
		RetryMin:        10 * time.Millisecond,
		RetryMax:        50 * time.Millisecond,
	}
	if tweak != nil {
		tweak(&o)
	}
	g, err := gateway.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, g: g, be: be, addr: l.Addr().String(), opts: o, lnErr: make(chan error, 1)}
	go func() { h.lnErr <- g.Serve(l) }()
	t.Cleanup(func() { h.stop() })
	return h
}

func stored(t *testing.T, st store.Store, id string) *store.Message {
	t.Helper()
	m, err := st.Message(context.Background(), id)
	if err != nil {
		t.Fatalf("message %s: %v", id, err)
	}
	return m
}

func waitState(t *testing.T, st store.Store, id string, want store.State) {
	t.Helper()
	waitFor(t, func() bool {
		m, err := st.Message(context.Background(), id)
		return err == nil && m.State == want
	}, fmt.Sprintf("message %s %s", id, want))
}

// inAnHour is an absolute schedule_delivery_time an hour from now.
func inAnHour() string { return pdu.FormatAbsolute(time.Now().Add(time.Hour).UTC()) }

func TestSubmitMulti(t *testing.T) {
	st := memory.New()
	h := startOn(t, st, newFakeBackend(), nil)
	c := h.dial("shop", "trx", nil)
	ctx := context.Background()
	resp, err := c.SubmitMulti(ctx, &pdu.SubmitMulti{SourceAddr: "Shop", RegisteredDelivery: 1, ShortMessage: []byte("to many"),
		DestAddresses: []pdu.DestAddress{
			{Flag: pdu.DestFlagSME, TON: 1, NPI: 1, Addr: "491761000001"},
			{Flag: pdu.DestFlagDistribution, DLName: "friends"},
			{Flag: pdu.DestFlagSME, TON: 1, NPI: 1, Addr: ""},
			{Flag: pdu.DestFlagSME, TON: 1, NPI: 1, Addr: "491761000002"},
			{Flag: pdu.DestFlagSME, TON: 1, NPI: 1, Addr: "491761000003"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	want := []pdu.UnsuccessSME{{DestinationAddr: "friends", ErrorStatusCode: pdu.ESME_RINVDLNAME},
		{DestAddrTON: 1, DestAddrNPI: 1, ErrorStatusCode: pdu.ESME_RINVDSTADR}}
	if !slices.Equal(resp.Unsuccess, want) {
		t.Fatalf("unsuccess_sme %+v, want %+v", resp.Unsuccess, want)
	}
	x := resp.MessageID
	// One stored message per accepted destination, each its own id.
	for i, to := range []string{"491761000001", "491761000002", "491761000003"} {
		id := x
		if i > 0 {
			id = fmt.Sprintf("%s.%d", x, i)
		}
		if m := stored(t, st, id); m.Dest.Addr != to || string(m.Body) != "to many" {
			t.Fatalf("%s: %+v", id, m)
		}
	}
	// Every receipt carries the id the client was given; the source
	// address tells the destinations apart.
	var from []string
	for range 3 {
		r := c.receipt(t)
		if r.ID != x || r.State != pdu.StateDelivered {
			t.Fatalf("receipt %+v, want id %s", r.Receipt, x)
		}
		from = append(from, r.From)
	}
	slices.Sort(from)
	if !slices.Equal(from, []string{"491761000001", "491761000002", "491761000003"}) {
		t.Fatalf("receipts from %v", from)
	}
	if q, err := c.Query(ctx, &pdu.QuerySM{MessageID: x, SourceAddr: "Shop"}); err != nil || q.MessageState != pdu.StateDelivered {
		t.Fatalf("query %s: %+v %v", x, q, err)
	}

	// Only refused destinations: the first one's status, no id.
	_, err = c.SubmitMulti(ctx, &pdu.SubmitMulti{SourceAddr: "Shop", ShortMessage: []byte("x"),
		DestAddresses: []pdu.DestAddress{{Flag: pdu.DestFlagDistribution, DLName: "all"}}})
	if !errors.Is(err, pdu.ESME_RINVDLNAME) {
		t.Fatalf("distribution list only: %v", err)
	}
	_, err = c.SubmitMulti(ctx, &pdu.SubmitMulti{SourceAddr: "Shop", ShortMessage: []byte("x"), ReplaceIfPresentFlag: 1,
		DestAddresses: []pdu.DestAddress{{Flag: pdu.DestFlagSME, Addr: "4917"}}})
	if !errors.Is(err, pdu.ESME_RINVSUBREP) {
		t.Fatalf("replace_if_present in submit_multi: %v", err)
	}
}

func TestCancelByAddressesAndService(t *testing.T) {
	st := memory.New()
	h := startOn(t, st, newFakeBackend(), nil)
	c := h.dial("shop", "trx", nil)
	ctx := context.Background()
	sched := inAnHour()
	submit := func(to, service string) string {
		t.Helper()
		r, err := c.Submit(ctx, &pdu.SubmitSM{ServiceType: service, SourceAddr: "Shop", DestinationAddr: to,
			ScheduleDeliveryTime: sched, RegisteredDelivery: 1, ShortMessage: []byte("later")})
		if err != nil {
			t.Fatal(err)
		}
		return r.MessageID
	}
	s1 := []string{submit("4917001", "S1"), submit("4917001", "S1")}
	s2 := submit("4917001", "S2")
	other := submit("4917002", "S1")
	// Another account's message with the same addresses is not touched.
	oc := h.dial("other", "trx", nil)
	r, err := oc.Submit(ctx, &pdu.SubmitSM{ServiceType: "S1", SourceAddr: "Shop", DestinationAddr: "4917001", ScheduleDeliveryTime: sched, ShortMessage: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	foreign := r.MessageID

	if _, err := c.Cancel(ctx, &pdu.CancelSM{ServiceType: "S1", SourceAddr: "Shop", DestinationAddr: "4917001"}); err != nil {
		t.Fatalf("cancel by service and addresses: %v", err)
	}
	for _, id := range s1 {
		waitState(t, st, id, store.Deleted)
	}
	for range s1 {
		if rc := c.receipt(t); rc.State != pdu.StateDeleted || !slices.Contains(s1, rc.ID) {
			t.Fatalf("receipt %+v", rc.Receipt)
		}
	}
	for _, id := range []string{s2, other, foreign} {
		if m := stored(t, st, id); m.State != store.Scheduled {
			t.Fatalf("%s is %s, want SCHEDULED", id, m.State)
		}
	}
	// Nothing left with S1 to that address.
	if _, err := c.Cancel(ctx, &pdu.CancelSM{ServiceType: "S1", SourceAddr: "Shop", DestinationAddr: "4917001"}); !errors.Is(err, pdu.ESME_RCANCELFAIL) {
		t.Fatalf("second cancel: %v", err)
	}
	// Without service_type: every service.
	if _, err := c.Cancel(ctx, &pdu.CancelSM{SourceAddr: "Shop", DestinationAddr: "4917001"}); err != nil {
		t.Fatalf("cancel by addresses: %v", err)
	}
	waitState(t, st, s2, store.Deleted)
	// Neither id nor destination: refused, not "everything".
	if _, err := c.Cancel(ctx, &pdu.CancelSM{SourceAddr: "Shop"}); !errors.Is(err, pdu.ESME_RCANCELFAIL) {
		t.Fatalf("cancel of a whole source: %v", err)
	}
	// By id: another account's id, a wrong destination, a final message.
	if _, err := c.Cancel(ctx, &pdu.CancelSM{MessageID: foreign, SourceAddr: "Shop"}); !errors.Is(err, pdu.ESME_RCANCELFAIL) {
		t.Fatalf("cancel of another account's message: %v", err)
	}
	if _, err := c.Cancel(ctx, &pdu.CancelSM{MessageID: other, SourceAddr: "Shop", DestinationAddr: "4917999"}); !errors.Is(err, pdu.ESME_RCANCELFAIL) {
		t.Fatalf("cancel with a wrong destination: %v", err)
	}
	if _, err := c.Cancel(ctx, &pdu.CancelSM{MessageID: s1[0], SourceAddr: "Shop"}); !errors.Is(err, pdu.ESME_RCANCELFAIL) {
		t.Fatalf("cancel of a final message: %v", err)
	}
	if _, err := c.Cancel(ctx, &pdu.CancelSM{MessageID: other, SourceAddr: "Shop"}); err != nil {
		t.Fatalf("cancel by id: %v", err)
	}
	waitState(t, st, other, store.Deleted)

	// A submit_multi's id cancels every destination.
	mr, err := c.SubmitMulti(ctx, &pdu.SubmitMulti{SourceAddr: "Shop", ScheduleDeliveryTime: sched, ShortMessage: []byte("m"),
		DestAddresses: []pdu.DestAddress{{Flag: pdu.DestFlagSME, Addr: "4917101"}, {Flag: pdu.DestFlagSME, Addr: "4917102"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Cancel(ctx, &pdu.CancelSM{MessageID: mr.MessageID, SourceAddr: "Shop"}); err != nil {
		t.Fatalf("cancel of a submit_multi: %v", err)
	}
	waitState(t, st, mr.MessageID, store.Deleted)
	waitState(t, st, mr.MessageID+".1", store.Deleted)
}

func TestReplaceSM(t *testing.T) {
	st := memory.New()
	be := newFakeBackend()
	be.hold["4918"] = true
	h := startOn(t, st, be, nil)
	c := h.dial("shop", "trx", nil)
	ctx := context.Background()
	r, err := c.Submit(ctx, &pdu.SubmitSM{SourceAddr: "Shop", DestinationAddr: "4917001", ScheduleDeliveryTime: inAnHour(), ShortMessage: []byte("old text")})
	if err != nil {
		t.Fatal(err)
	}
	id := r.MessageID
	// NULL schedule and validity keep them; text and registered_delivery
	// are new.
	before := stored(t, st, id)
	if _, err := c.Replace(ctx, &pdu.ReplaceSM{MessageID: id, SourceAddr: "Shop", RegisteredDelivery: 1, ShortMessage: []byte("new text")}); err != nil {
		t.Fatalf("replace: %v", err)
	}
	m := stored(t, st, id)
	if string(m.Body) != "new text" || m.RegisteredDelivery != 1 || !m.ScheduleAt.Equal(before.ScheduleAt) || m.State != store.Scheduled {
		t.Fatalf("replaced: %+v", m)
	}
	if be.submitted() != 0 {
		t.Fatal("a scheduled message reached the backend")
	}
	// A schedule in the past: at once. The backend gets the new text, the
	// receipt follows the new registered_delivery.
	if _, err := c.Replace(ctx, &pdu.ReplaceSM{MessageID: id, SourceAddr: "Shop", RegisteredDelivery: 1,
		ScheduleDeliveryTime: pdu.FormatAbsolute(time.Now().Add(-time.Minute).UTC()), ShortMessage: []byte("now text")}); err != nil {
		t.Fatalf("replace with a new schedule: %v", err)
	}
	select {
	case got := <-be.submit:
		if got[0].ID != id || string(got[0].Body) != "now text" {
			t.Fatalf("backend got %s %q", got[0].ID, got[0].Body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("replaced message not sent")
	}
	if rc := c.receipt(t); rc.ID != id || rc.State != pdu.StateDelivered {
		t.Fatalf("receipt %+v", rc.Receipt)
	}
	if be.submitted() != 1 {
		t.Fatalf("backend got %d submits", be.submitted())
	}
	// Final now: no more replacing.
	if _, err := c.Replace(ctx, &pdu.ReplaceSM{MessageID: id, SourceAddr: "Shop", ShortMessage: []byte("late")}); !errors.Is(err, pdu.ESME_RREPLACEFAIL) {
		t.Fatalf("replace of a final message: %v", err)
	}
	// Held by the backend (ENROUTE): not replaceable either.
	held := c.submit(t, "491800", 0, "held")
	waitState(t, st, held, store.Enroute)
	if _, err := c.Replace(ctx, &pdu.ReplaceSM{MessageID: held, SourceAddr: "Shop", ShortMessage: []byte("x")}); !errors.Is(err, pdu.ESME_RREPLACEFAIL) {
		t.Fatalf("replace of a message the backend holds: %v", err)
	}
	// Unknown, another account's, a wrong source; bad new fields.
	r, err = c.Submit(ctx, &pdu.SubmitSM{SourceAddr: "Shop", DestinationAddr: "4917002", ScheduleDeliveryTime: inAnHour(), ShortMessage: []byte("waits")})
	if err != nil {
		t.Fatal(err)
	}
	waiting := r.MessageID
	oc := h.dial("other", "trx", nil)
	for _, tc := range []struct {
		c    *client
		p    *pdu.ReplaceSM
		want pdu.Status
	}{
		{c, &pdu.ReplaceSM{MessageID: "fffff", SourceAddr: "Shop"}, pdu.ESME_RREPLACEFAIL},
		{oc, &pdu.ReplaceSM{MessageID: waiting, SourceAddr: "Shop"}, pdu.ESME_RREPLACEFAIL},
		{c, &pdu.ReplaceSM{MessageID: waiting, SourceAddr: "Other"}, pdu.ESME_RREPLACEFAIL},
		{c, &pdu.ReplaceSM{MessageID: waiting, SourceAddr: "Shop", ScheduleDeliveryTime: "bad"}, pdu.ESME_RINVSCHED},
		{c, &pdu.ReplaceSM{MessageID: waiting, SourceAddr: "Shop", ValidityPeriod: pdu.FormatAbsolute(time.Now().Add(time.Minute).UTC())}, pdu.ESME_RINVSCHED},
		{c, &pdu.ReplaceSM{MessageID: waiting, SourceAddr: "Shop", RegisteredDelivery: 0x80}, pdu.ESME_RINVREGDLVFLG},
	} {
		if _, err := tc.c.Replace(ctx, tc.p); !errors.Is(err, tc.want) {
			t.Errorf("replace %+v: %v, want %s", tc.p, err, tc.want)
		}
	}
	if m := stored(t, st, waiting); string(m.Body) != "waits" {
		t.Fatalf("a refused replace changed the message: %q", m.Body)
	}
}

// TestReplaceRacesDispatcher replaces messages while the workers take them:
// each replace either wins (the backend gets only the new text) or fails
// (it got the old one), and every message reaches the backend once.
func TestReplaceRacesDispatcher(t *testing.T) {
	st := memory.New()
	be := newFakeBackend()
	be.submit = make(chan []*store.Message, 10000)
	h := startOn(t, st, be, func(o *gateway.Options) { o.Workers = map[string]int{"fake": 2} })
	c := h.dial("shop", "trx", nil)
	ctx := context.Background()
	const n = 200
	replaced := make([]atomic.Bool, n)
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		r, err := c.Submit(ctx, &pdu.SubmitSM{SourceAddr: "Shop", DestinationAddr: fmt.Sprint("4917", i), ShortMessage: []byte("old")})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = r.MessageID
		wg.Go(func() {
			_, err := c.Replace(ctx, &pdu.ReplaceSM{MessageID: ids[i], SourceAddr: "Shop", ShortMessage: []byte("new")})
			switch {
			case err == nil:
				replaced[i].Store(true)
			case !errors.Is(err, pdu.ESME_RREPLACEFAIL):
				t.Errorf("replace %s: %v", ids[i], err)
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		waitState(t, st, id, store.Delivered)
	}
	got := map[string][]string{}
	be.mu.Lock()
	for _, ps := range be.got {
		got[ps[0].ID] = append(got[ps[0].ID], string(ps[0].Body))
	}
	be.mu.Unlock()
	wins := 0
	for i, id := range ids {
		want := "old"
		if replaced[i].Load() {
			want = "new"
			wins++
		}
		if !slices.Equal(got[id], []string{want}) {
			t.Fatalf("%s (replaced %v): backend got %q", id, replaced[i].Load(), got[id])
		}
		if m := stored(t, st, id); string(m.Body) != want {
			t.Fatalf("%s stored %q, want %q", id, m.Body, want)
		}
	}
	t.Logf("%d of %d replaces won", wins, n)
}

func TestReplaceIfPresent(t *testing.T) {
	st := memory.New()
	h := startOn(t, st, newFakeBackend(), nil)
	c := h.dial("shop", "trx", nil)
	ctx := context.Background()
	sched := inAnHour()
	submit := func(service, body string, flag uint8) string {
		t.Helper()
		r, err := c.Submit(ctx, &pdu.SubmitSM{ServiceType: service, SourceAddr: "Shop", DestinationAddr: "4917001",
			ScheduleDeliveryTime: sched, ReplaceIfPresentFlag: flag, ShortMessage: []byte(body)})
		if err != nil {
			t.Fatal(err)
		}
		return r.MessageID
	}
	first := submit("WX", "rain", 1) // none present: a new message
	again := submit("WX", "sun", 1)
	if again != first {
		t.Fatalf("replace_if_present gave a new id %s, want %s", again, first)
	}
	if m := stored(t, st, first); string(m.Body) != "sun" || m.State != store.Scheduled {
		t.Fatalf("replaced message %+v", m)
	}
	if other := submit("NEWS", "hello", 1); other == first {
		t.Fatal("another service_type replaced the message")
	}
	if plain := submit("WX", "snow", 0); plain == first {
		t.Fatal("flag 0 replaced the message")
	}
	if _, err := c.Submit(ctx, &pdu.SubmitSM{SourceAddr: "Shop", DestinationAddr: "4917001", ReplaceIfPresentFlag: 2, ShortMessage: []byte("x")}); !errors.Is(err, pdu.ESME_RINVSUBREP) {
		t.Fatalf("replace_if_present_flag 2: %v", err)
	}
	ms, err := st.Find(ctx, store.Filter{Account: "shop"})
	if err != nil || len(ms) != 3 {
		t.Fatalf("stored %d messages, want 3 (%v)", len(ms), err)
	}
}

func TestScheduleWaitsAcrossRestart(t *testing.T) {
	st := memory.New()
	be1 := newFakeBackend()
	h1 := startOn(t, st, be1, nil)
	c := h1.dial("shop", "trx", nil)
	submitted := time.Now()
	r, err := c.Submit(context.Background(), &pdu.SubmitSM{SourceAddr: "Shop", DestinationAddr: "4917001",
		ScheduleDeliveryTime: "000000000002000R", ShortMessage: []byte("in 2s")}) // relative: 2 s
	if err != nil {
		t.Fatal(err)
	}
	m := stored(t, st, r.MessageID)
	if m.State != store.Scheduled || m.ScheduleAt.Sub(submitted) < 1900*time.Millisecond {
		t.Fatalf("stored %s, schedule %v after submit", m.State, m.ScheduleAt.Sub(submitted))
	}
	c.Close()
	h1.stop()

	be2 := newFakeBackend()
	startOn(t, st, be2, nil)
	select {
	case got := <-be2.submit:
		if got[0].ID != r.MessageID {
			t.Fatalf("backend got %s", got[0].ID)
		}
		if time.Now().Before(m.ScheduleAt) {
			t.Fatalf("sent %v before its schedule", m.ScheduleAt.Sub(time.Now()))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("scheduled message not sent after the restart")
	}
	waitState(t, st, r.MessageID, store.Delivered)
	if be1.submitted() != 0 {
		t.Fatal("the first gateway sent it")
	}
}

// clock is a settable Options.Now.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time             { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration)    { c.ns.Add(int64(d)) }
func newClock() *clock                      { c := &clock{}; c.ns.Store(time.Now().UnixNano()); return c }
func (c *clock) abs(d time.Duration) string { return pdu.FormatAbsolute(c.now().Add(d).UTC()) }

func TestValidityExpiresWaitingMessages(t *testing.T) {
	st := memory.New()
	be := newFakeBackend()
	clk := newClock()
	h := startOn(t, st, be, func(o *gateway.Options) { o.Now = clk.now; o.RetryMin, o.RetryMax = time.Hour, time.Hour })
	c := h.dial("shop", "trx", nil)
	ctx := context.Background()
	// Scheduled in an hour, valid for two: expires while scheduled once
	// the clock passes its validity.
	r, err := c.Submit(ctx, &pdu.SubmitSM{SourceAddr: "Shop", DestinationAddr: "4917001", RegisteredDelivery: 1,
		ScheduleDeliveryTime: clk.abs(time.Hour), ValidityPeriod: clk.abs(2 * time.Hour), ShortMessage: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	sched := r.MessageID
	// Waiting between retries (the backend fails, the next try is an
	// hour away), valid for a minute.
	be.setFail(errors.New("down"))
	r, err = c.Submit(ctx, &pdu.SubmitSM{SourceAddr: "Shop", DestinationAddr: "4917002", RegisteredDelivery: 1,
		ValidityPeriod: "000000000100000R", ShortMessage: []byte("y")})
	if err != nil {
		t.Fatal(err)
	}
	retrying := r.MessageID
	waitFor(t, func() bool { return be.submitted() == 1 }, "first attempt")
	clk.advance(3 * time.Hour)
	got := map[string]bool{}
	for range 2 {
		rc := c.receipt(t)
		if rc.State != pdu.StateExpired || rc.Stat != "EXPIRED" {
			t.Fatalf("receipt %+v", rc.Receipt)
		}
		got[rc.ID] = true
	}
	if !got[sched] || !got[retrying] {
		t.Fatalf("receipts for %v, want %s and %s", got, sched, retrying)
	}
	waitState(t, st, sched, store.Expired)
	waitState(t, st, retrying, store.Expired)
	if q, err := c.Query(ctx, &pdu.QuerySM{MessageID: sched, SourceAddr: "Shop"}); err != nil || q.MessageState != pdu.StateExpired {
		t.Fatalf("query: %+v %v", q, err)
	}
	if be.submitted() != 1 {
		t.Fatalf("backend got %d submits, want 1", be.submitted())
	}
}

// TestBindStateRefusals: what a bind's state does not allow is refused by
// the session (ESME_RINVBNDSTS) before the gateway sees it, and data_sm
// from a receiver by the gateway.
func TestBindStateRefusals(t *testing.T) {
	h := startOn(t, memory.New(), newFakeBackend(), nil)
	for _, tc := range []struct {
		bind smpp.BindType
		req  pdu.PDU
	}{
		{smpp.BindTransceiver, &pdu.DeliverSM{SourceAddr: "4917", DestinationAddr: "Shop", ShortMessage: []byte("mo?")}},
		{smpp.BindTransmitter, &pdu.DeliverSM{SourceAddr: "4917", DestinationAddr: "Shop", ShortMessage: []byte("mo?")}},
		{smpp.BindReceiver, &pdu.DataSM{SourceAddr: "Shop", DestinationAddr: "4917"}},
		{smpp.BindReceiver, &pdu.SubmitSM{SourceAddr: "Shop", DestinationAddr: "4917"}},
		{smpp.BindReceiver, &pdu.SubmitMulti{SourceAddr: "Shop", DestAddresses: []pdu.DestAddress{{Flag: 1, Addr: "4917"}}}},
		{smpp.BindReceiver, &pdu.ReplaceSM{MessageID: "1"}},
		{smpp.BindReceiver, &pdu.CancelSM{MessageID: "1"}},
	} {
		p := smpptest.DialRaw(t, h.addr)
		if st, err := p.Bind(tc.bind, "shop", "pw"); err != nil || st != pdu.ESME_ROK {
			t.Fatalf("bind: %v %v", st, err)
		}
		if err := p.WritePDU(tc.req); err != nil {
			t.Fatal(err)
		}
		resp, err := p.ReadPDU()
		if err != nil {
			t.Fatal(err)
		}
		if resp.CommandID() != tc.req.CommandID()|0x80000000 || resp.Head().CommandStatus != pdu.ESME_RINVBNDSTS {
			t.Errorf("%v bound %v: %s %s", tc.req.CommandID(), tc.bind, resp.CommandID(), resp.Head().CommandStatus)
		}
		p.Close()
	}
	if got := h.g.Pending(); got != 0 {
		t.Fatalf("%d messages accepted", got)
	}
}

// TestInterfaceVersions: v3.4 and v5.0 clients bind (the response carries
// sc_interface_version, at most 0x50) and submit alike; a v3.3 bind gets
// no such TLV.
func TestInterfaceVersions(t *testing.T) {
	h := startOn(t, memory.New(), newFakeBackend(), nil)
	for _, v := range []uint8{0x33, 0x34, 0x50} {
		p := smpptest.DialRaw(t, h.addr)
		if err := p.WritePDU(&pdu.BindTransceiver{SystemID: "shop", Password: "pw", InterfaceVersion: v}); err != nil {
			t.Fatal(err)
		}
		resp, err := p.ReadPDU()
		if err != nil {
			t.Fatal(err)
		}
		br, ok := resp.(*pdu.BindTransceiverResp)
		if !ok || br.CommandStatus != pdu.ESME_ROK {
			t.Fatalf("v%x bind: %T %v", v, resp, resp.Head().CommandStatus)
		}
		got, has := br.TLVs.Uint8(pdu.TagScInterfaceVersion)
		if want := v >= 0x34; has != want || (has && got != v) {
			t.Errorf("v%x: sc_interface_version %x (present %v)", v, got, has)
		}
		if err := p.WritePDU(&pdu.SubmitSM{SourceAddr: "Shop", DestinationAddr: "4917", ShortMessage: []byte("hi")}); err != nil {
			t.Fatal(err)
		}
		resp, err = p.ReadPDU()
		if err != nil {
			t.Fatal(err)
		}
		if sr, ok := resp.(*pdu.SubmitSMResp); !ok || sr.CommandStatus != pdu.ESME_ROK || sr.MessageID == "" {
			t.Fatalf("v%x submit: %T %v", v, resp, resp.Head().CommandStatus)
		}
		p.Close()
	}
}

// TestBroadcastNotOffered: the cell-broadcast operations get
// ESME_RINVCMDID, like any operation smppd does not offer.
func TestBroadcastNotOffered(t *testing.T) {
	h := startOn(t, memory.New(), newFakeBackend(), nil)
	c := h.dial("shop", "trx", nil)
	ctx := context.Background()
	if _, err := c.Broadcast(ctx, &pdu.BroadcastSM{SourceAddr: "Shop"}); !errors.Is(err, pdu.ESME_RINVCMDID) {
		t.Errorf("broadcast_sm: %v", err)
	}
	if _, err := c.QueryBroadcast(ctx, &pdu.QueryBroadcastSM{MessageID: "1"}); !errors.Is(err, pdu.ESME_RINVCMDID) {
		t.Errorf("query_broadcast_sm: %v", err)
	}
	if _, err := c.CancelBroadcast(ctx, &pdu.CancelBroadcastSM{MessageID: "1"}); !errors.Is(err, pdu.ESME_RINVCMDID) {
		t.Errorf("cancel_broadcast_sm: %v", err)
	}
}

func TestPriorityFlagRange(t *testing.T) {
	h := startOn(t, memory.New(), newFakeBackend(), nil)
	c := h.dial("shop", "trx", nil)
	for p := uint8(0); p <= 4; p++ {
		_, err := c.Submit(context.Background(), &pdu.SubmitSM{SourceAddr: "Shop", DestinationAddr: "4917", PriorityFlag: p, ShortMessage: []byte("x")})
		if want := p <= 3; (err == nil) != want {
			t.Errorf("priority_flag %d: %v", p, err)
		}
		if p == 4 && !errors.Is(err, pdu.ESME_RINVPRTFLG) {
			t.Errorf("priority_flag 4: %v", err)
		}
	}
}

// TestCancelRacesDispatcher cancels messages while the workers take them:
// a cancel that succeeds means the backend never got the message (DELETED);
// one that fails means it got it once (DELIVERED).
func TestCancelRacesDispatcher(t *testing.T) {
	st := memory.New()
	be := newFakeBackend()
	be.submit = make(chan []*store.Message, 10000)
	h := startOn(t, st, be, func(o *gateway.Options) { o.Workers = map[string]int{"fake": 2} })
	c := h.dial("shop", "trx", nil)
	ctx := context.Background()
	const n = 200
	cancelled := make([]atomic.Bool, n)
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		r, err := c.Submit(ctx, &pdu.SubmitSM{SourceAddr: "Shop", DestinationAddr: fmt.Sprint("4917", i), ShortMessage: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = r.MessageID
		wg.Go(func() {
			_, err := c.Cancel(ctx, &pdu.CancelSM{MessageID: ids[i], SourceAddr: "Shop"})
			switch {
			case err == nil:
				cancelled[i].Store(true)
			case !errors.Is(err, pdu.ESME_RCANCELFAIL):
				t.Errorf("cancel %s: %v", ids[i], err)
			}
		})
	}
	wg.Wait()
	got := map[string]int{}
	for i, id := range ids {
		want := store.Delivered
		if cancelled[i].Load() {
			want = store.Deleted
		}
		waitState(t, st, id, want)
	}
	be.mu.Lock()
	for _, ps := range be.got {
		got[ps[0].ID]++
	}
	be.mu.Unlock()
	wins := 0
	for i, id := range ids {
		want := 1
		if cancelled[i].Load() {
			want = 0
			wins++
		}
		if got[id] != want {
			t.Fatalf("%s (cancelled %v): backend got it %d times", id, cancelled[i].Load(), got[id])
		}
	}
	t.Logf("%d of %d cancels won", wins, n)
}

// TestReplaceAndMultiAcrossRestart: on the SQLite store, a replaced
// scheduled message keeps its new text and schedule over a restart, and a
// submit_multi's destinations resumed by a new gateway report with the id
// the client was given.
func TestReplaceAndMultiAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "smppd.db")
	st, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	be1 := newFakeBackend()
	be1.setFail(errors.New("down")) // the multi's destinations wait between retries
	h1 := startOn(t, st, be1, func(o *gateway.Options) { o.RetryMin, o.RetryMax = time.Hour, time.Hour })
	c := h1.dial("shop", "trx", nil)
	ctx := context.Background()
	r, err := c.Submit(ctx, &pdu.SubmitSM{SourceAddr: "Shop", DestinationAddr: "4917001", ScheduleDeliveryTime: inAnHour(), ShortMessage: []byte("old")})
	if err != nil {
		t.Fatal(err)
	}
	id := r.MessageID
	if _, err := c.Replace(ctx, &pdu.ReplaceSM{MessageID: id, SourceAddr: "Shop", ScheduleDeliveryTime: "000000000002000R", ShortMessage: []byte("new")}); err != nil {
		t.Fatal(err)
	}
	mr, err := c.SubmitMulti(ctx, &pdu.SubmitMulti{SourceAddr: "Shop", RegisteredDelivery: 1, ShortMessage: []byte("many"),
		DestAddresses: []pdu.DestAddress{{Flag: pdu.DestFlagSME, Addr: "4917101"}, {Flag: pdu.DestFlagSME, Addr: "4917102"}}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return be1.submitted() == 2 }, "first attempts")
	c.Close()
	h1.stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st2, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st2.Close() })
	if m := stored(t, st2, id); string(m.Body) != "new" || m.State != store.Scheduled {
		t.Fatalf("after reopening: %s %q", m.State, m.Body)
	}
	be2 := newFakeBackend()
	h2 := startOn(t, st2, be2, nil)
	c2 := h2.dial("shop", "trx", nil)
	for range 2 {
		if rc := c2.receipt(t); rc.ID != mr.MessageID || rc.State != pdu.StateDelivered {
			t.Fatalf("receipt %+v, want id %s", rc.Receipt, mr.MessageID)
		}
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case got := <-be2.submit:
			if got[0].ID != id {
				continue
			}
			if string(got[0].Body) != "new" {
				t.Fatalf("sent %q", got[0].Body)
			}
			waitState(t, st2, id, store.Delivered)
			return
		case <-deadline:
			t.Fatal("replaced message not sent after the restart")
		}
	}
}

// gatedBackend holds its first Submit until gate is closed.
type gatedBackend struct {
	*fakeBackend
	gate    chan struct{}
	started chan struct{}
	first   atomic.Bool
}

func (b *gatedBackend) Submit(ctx context.Context, parts []*store.Message) ([]backend.Result, error) {
	if b.first.CompareAndSwap(false, true) {
		close(b.started)
		<-b.gate
	}
	return b.fakeBackend.Submit(ctx, parts)
}

// TestPriorityOrder: with the one worker busy, waiting messages go to the
// backend highest priority_flag first, in arrival order within a level.
func TestPriorityOrder(t *testing.T) {
	be := &gatedBackend{fakeBackend: newFakeBackend(), gate: make(chan struct{}), started: make(chan struct{})}
	o := gateway.Options{Store: memory.New(), Backends: map[string]backend.Backend{"fake": be}, AcceptAny: true,
		Workers: map[string]int{"fake": 1}}
	g, err := gateway.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(l)
	h := &harness{t: t, g: g, addr: l.Addr().String()}
	t.Cleanup(h.stop)
	c := h.dial("shop", "tx", nil)
	submit := func(to string, prio uint8) {
		t.Helper()
		if _, err := c.Submit(context.Background(), &pdu.SubmitSM{SourceAddr: "Shop", DestinationAddr: to, PriorityFlag: prio, ShortMessage: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	submit("first", 0)
	<-be.started // the worker is busy with it
	for _, s := range []struct {
		to   string
		prio uint8
	}{{"a0", 0}, {"b1", 1}, {"c3", 3}, {"d0", 0}, {"e2", 2}, {"f3", 3}} {
		submit(s.to, s.prio)
	}
	// A message is queued just after its submit is answered; the commit
	// callbacks run in order, so once this last one is answered, the
	// others are queued. (It is last whenever it is queued.)
	submit("z0", 0)
	close(be.gate)
	var order []string
	for range 8 {
		select {
		case ps := <-be.submit:
			order = append(order, ps[0].Dest.Addr)
		case <-time.After(5 * time.Second):
			t.Fatalf("only %v reached the backend", order)
		}
	}
	if want := []string{"first", "c3", "f3", "e2", "b1", "a0", "d0", "z0"}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
}

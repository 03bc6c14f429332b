package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway"
	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/pdu"
)

type harness struct {
	t     *testing.T
	g     *gateway.Gateway
	st    *memStore
	be    *fakeBackend
	addr  string
	opts  gateway.Options
	lnErr chan error
}

// start runs a gateway on a loopback listener with the fake backend.
func start(t *testing.T, st *memStore, be *fakeBackend, tweak func(o *gateway.Options)) *harness {
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
	h := &harness{t: t, g: g, st: st, be: be, addr: l.Addr().String(), opts: o, lnErr: make(chan error, 1)}
	go func() { h.lnErr <- g.Serve(l) }()
	t.Cleanup(func() { h.stop() })
	return h
}

func (h *harness) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.g.Shutdown(ctx)
}

// client binds with Inbound that passes receipts and MO messages on.
type client struct {
	*smpp.Client
	receipts chan *smpp.Receipt
	mo       chan *smpp.InboundMessage
}

func (h *harness) dial(systemID, bind string, status func() pdu.Status) *client {
	h.t.Helper()
	c := &client{receipts: make(chan *smpp.Receipt, 100), mo: make(chan *smpp.InboundMessage, 100)}
	in := &smpp.Inbound{
		OnReceipt: func(_ context.Context, r *smpp.Receipt) pdu.Status {
			if status != nil {
				if st := status(); st != pdu.ESME_ROK {
					return st
				}
			}
			c.receipts <- r
			return pdu.ESME_ROK
		},
		OnMessage: func(_ context.Context, m *smpp.InboundMessage) pdu.Status {
			c.mo <- m
			return pdu.ESME_ROK
		},
	}
	url := fmt.Sprintf("smpp://%s:pw@%s?bind=%s", systemID, h.addr, bind)
	cl, err := smpp.Dial(context.Background(), url, &smpp.ClientConfig{Inbound: in, NoReconnect: true})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { cl.Close() })
	c.Client = cl
	return c
}

func (c *client) submit(t *testing.T, to string, rd uint8, body string) string {
	t.Helper()
	resp, err := c.Submit(context.Background(), &pdu.SubmitSM{SourceAddr: "Shop", DestAddrTON: 1, DestAddrNPI: 1,
		DestinationAddr: to, RegisteredDelivery: rd, ShortMessage: []byte(body)})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return resp.MessageID
}

func (c *client) receipt(t *testing.T) *smpp.Receipt {
	t.Helper()
	select {
	case r := <-c.receipts:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no receipt")
		return nil
	}
}

func (c *client) noReceipt(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case r := <-c.receipts:
		t.Fatalf("unexpected receipt %+v", r.Receipt)
	case <-time.After(within):
	}
}

func TestSubmitGetsReceiptOnSameBind(t *testing.T) {
	h := start(t, newMemStore(), newFakeBackend(), nil)
	c := h.dial("shop", "trx", nil)
	id := c.submit(t, "491761234567", 1, "Hello world, this is a long text")
	r := c.receipt(t)
	if r.ID != id || r.TextID != id || r.State != pdu.StateDelivered || r.Stat != "DELIVRD" {
		t.Fatalf("receipt %+v for id %s", r.Receipt, id)
	}
	if r.Text != "Hello world, this is" {
		t.Errorf("text: %q", r.Text)
	}
	if r.From != "491761234567" || r.To != "Shop" {
		t.Errorf("addresses %s → %s", r.From, r.To)
	}
	// The receipt goes out as its state change is committed: the store
	// may have it a moment later.
	var m *store.Message
	waitFor(t, func() bool {
		var err error
		m, err = h.st.Message(context.Background(), id)
		return err == nil && m.State == store.Delivered
	}, "DELIVERED stored")
	if m.Account != "shop" || m.DoneAt.IsZero() {
		t.Fatalf("stored %+v", m)
	}
	// query_sm answers from the store.
	q, err := c.Query(context.Background(), &pdu.QuerySM{MessageID: id, SourceAddr: "Shop"})
	if err != nil || q.MessageState != pdu.StateDelivered || q.FinalDate == "" {
		t.Fatalf("query: %+v %v", q, err)
	}
	if _, err := c.Query(context.Background(), &pdu.QuerySM{MessageID: "ffff", SourceAddr: "Shop"}); !errors.Is(err, pdu.ESME_RQUERYFAIL) {
		t.Fatalf("query of an unknown id: %v", err)
	}
	waitFor(t, func() bool { return h.st.deliveries() == 0 }, "acknowledged receipt removed from the store")
}

func TestReceiptGoesToSeparateReceiverBind(t *testing.T) {
	h := start(t, newMemStore(), newFakeBackend(), nil)
	tx := h.dial("shop", "tx", nil)
	id := tx.submit(t, "491761234567", 1, "to a receiver")
	// No receiver bound yet: the receipt waits in the store.
	waitFor(t, func() bool { return h.st.deliveries() == 1 }, "receipt stored")
	rx := h.dial("shop", "rx", nil)
	if r := rx.receipt(t); r.ID != id {
		t.Fatalf("receipt for %s, want %s", r.ID, id)
	}
	// Another account's receiver gets nothing.
	other := h.dial("other", "rx", nil)
	other.noReceipt(t, 100*time.Millisecond)
}

func TestRegisteredDelivery(t *testing.T) {
	be := newFakeBackend()
	be.rules["4915"] = store.Undeliverable
	h := start(t, newMemStore(), be, nil)
	c := h.dial("shop", "trx", nil)
	cases := []struct {
		to      string
		rd      uint8
		receipt bool
	}{
		{"491761", 0, false},
		{"491761", 1, true},
		{"491761", 2, false}, // failure only
		{"491501", 2, true},
		{"491501", 3, false}, // success only
		{"491761", 3, true},
	}
	for _, tc := range cases {
		id := c.submit(t, tc.to, tc.rd, "x")
		if !tc.receipt {
			c.noReceipt(t, 50*time.Millisecond)
			continue
		}
		r := c.receipt(t)
		if r.ID != id {
			t.Fatalf("%s rd %d: receipt for %s, want %s", tc.to, tc.rd, r.ID, id)
		}
		want := pdu.StateDelivered
		if strings.HasPrefix(tc.to, "4915") {
			want = pdu.StateUndeliverable
		}
		if r.State != want {
			t.Fatalf("%s rd %d: state %v", tc.to, tc.rd, r.State)
		}
	}
}

func TestReceiptRetriedUntilAcknowledged(t *testing.T) {
	h := start(t, newMemStore(), newFakeBackend(), nil)
	refusals := 2
	c := h.dial("shop", "trx", func() pdu.Status {
		if refusals > 0 {
			refusals--
			return pdu.ESME_RX_T_APPN
		}
		return pdu.ESME_ROK
	})
	id := c.submit(t, "491761", 1, "retry me")
	if r := c.receipt(t); r.ID != id {
		t.Fatalf("receipt %s", r.ID)
	}
	waitFor(t, func() bool { return h.st.deliveries() == 0 }, "receipt acknowledged")
}

func TestRestartResumesMessagesAndReceipts(t *testing.T) {
	st := newMemStore()
	be := newFakeBackend()
	be.setFail(errors.New("down"))
	h := start(t, st, be, nil)
	c := h.dial("shop", "tx", nil)
	id := c.submit(t, "491761", 1, "survive a restart")
	waitFor(t, func() bool { return be.submitted() >= 1 }, "backend tried")
	c.Close()
	h.stop()

	// The backend is back; a new gateway on the same store delivers it.
	be.setFail(nil)
	h2 := start(t, st, be, nil)
	rx := h2.dial("shop", "rx", nil)
	if r := rx.receipt(t); r.ID != id || r.State != pdu.StateDelivered {
		t.Fatalf("receipt %+v", r.Receipt)
	}
}

func TestBindRefusals(t *testing.T) {
	h := start(t, newMemStore(), newFakeBackend(), func(o *gateway.Options) {
		o.AcceptAny = false
		o.Accounts = []gateway.Account{
			{SystemID: "shop", CheckPassword: func(pw string) bool { return pw == "pw" }, AllowTransceiver: true},
			{SystemID: "off", CheckPassword: func(string) bool { return true }, Disabled: true},
		}
	})
	try := func(url string) error {
		c, err := smpp.Dial(context.Background(), url, &smpp.ClientConfig{NoReconnect: true})
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := try("smpp://shop:pw@" + h.addr); err != nil {
		t.Fatalf("good bind: %v", err)
	}
	for url, want := range map[string]pdu.Status{
		"smpp://shop:wrong@" + h.addr:           pdu.ESME_RINVPASWD,
		"smpp://nobody:pw@" + h.addr:            pdu.ESME_RINVSYSID,
		"smpp://shop:pw@" + h.addr + "?bind=tx": pdu.ESME_RBINDFAIL,
		"smpp://off:pw@" + h.addr:               pdu.ESME_RBINDFAIL,
	} {
		if err := try(url); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %s", url, err, want)
		}
	}
}

func TestThrottleAndMaxInFlight(t *testing.T) {
	h := start(t, newMemStore(), newFakeBackend(), func(o *gateway.Options) {
		o.AcceptAny = false
		o.Accounts = []gateway.Account{{SystemID: "slow", CheckPassword: func(string) bool { return true }, Throughput: 1, Burst: 2}}
	})
	c, err := smpp.Dial(context.Background(), "smpp://slow:pw@"+h.addr, &smpp.ClientConfig{NoReconnect: true, NoThrottleRetry: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var throttled int
	for range 4 {
		_, err := c.Submit(context.Background(), &pdu.SubmitSM{SourceAddr: "a", DestinationAddr: "4917"})
		if errors.Is(err, pdu.ESME_RTHROTTLED) {
			throttled++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if throttled != 2 {
		t.Fatalf("%d of 4 throttled, want 2 (burst 2)", throttled)
	}
}

func TestInvalidSubmits(t *testing.T) {
	h := start(t, newMemStore(), newFakeBackend(), nil)
	c := h.dial("shop", "trx", nil)
	for name, tc := range map[string]struct {
		p    *pdu.SubmitSM
		want pdu.Status
	}{
		"no destination": {&pdu.SubmitSM{SourceAddr: "a"}, pdu.ESME_RINVDSTADR},
		"bad schedule":   {&pdu.SubmitSM{SourceAddr: "a", DestinationAddr: "1", ScheduleDeliveryTime: "0000000000000R"}, pdu.ESME_RINVSCHED},
		"expired":        {&pdu.SubmitSM{SourceAddr: "a", DestinationAddr: "1", ValidityPeriod: "000101000000000+"}, pdu.ESME_RINVEXPIRY},
		"both payloads": {&pdu.SubmitSM{SourceAddr: "a", DestinationAddr: "1", ShortMessage: []byte("x"),
			TLVs: pdu.TLVs{{Tag: pdu.TagMessagePayload, Value: []byte("y")}}}, pdu.ESME_RINVPARLEN},
		"reserved rd bits": {&pdu.SubmitSM{SourceAddr: "a", DestinationAddr: "1", RegisteredDelivery: 0x80}, pdu.ESME_RINVREGDLVFLG},
	} {
		if _, err := c.Submit(context.Background(), tc.p); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %s", name, err, tc.want)
		}
	}
}

func TestLongMessagePartsReachBackendTogether(t *testing.T) {
	be := newFakeBackend()
	h := start(t, newMemStore(), be, nil)
	c := h.dial("shop", "trx", nil)
	ids, err := c.Send(context.Background(), smpp.Message{From: "Shop", To: "+491761234567", Text: strings.Repeat("long text ", 40), Receipt: true})
	if err != nil || len(ids) != 3 {
		t.Fatalf("send: %v %v", ids, err)
	}
	select {
	case parts := <-be.submit:
		if len(parts) != 3 || parts[0].Part != 1 || parts[2].Part != 3 || parts[0].Group == "" || parts[0].Group != parts[2].Group {
			t.Fatalf("backend got %d parts: %+v", len(parts), parts[0])
		}
	case <-time.After(5 * time.Second):
		t.Fatal("backend got nothing")
	}
	got := map[string]bool{}
	for range 3 {
		got[c.receipt(t).ID] = true
	}
	for _, id := range ids {
		if !got[id] {
			t.Errorf("no receipt for part %s", id)
		}
	}
}

func TestScheduledMessageWaits(t *testing.T) {
	be := newFakeBackend()
	h := start(t, newMemStore(), be, nil)
	c := h.dial("shop", "trx", nil)
	resp, err := c.Submit(context.Background(), &pdu.SubmitSM{SourceAddr: "a", DestinationAddr: "4917",
		ScheduleDeliveryTime: pdu.FormatRelative(2 * time.Second), RegisteredDelivery: 1})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := h.st.Message(context.Background(), resp.MessageID)
	if m.State != store.Scheduled || m.ScheduleAt.IsZero() {
		t.Fatalf("stored %v at %v", m.State, m.ScheduleAt)
	}
	if n := be.submitted(); n != 0 {
		t.Fatalf("backend got it before its time (%d)", n)
	}
	if r := c.receipt(t); r.ID != resp.MessageID {
		t.Fatalf("receipt %s", r.ID)
	}
}

func TestMOGoesToOwner(t *testing.T) {
	be := newFakeBackend()
	h := start(t, newMemStore(), be, func(o *gateway.Options) {
		o.AcceptAny = false
		o.Accounts = []gateway.Account{
			{SystemID: "a", CheckPassword: func(string) bool { return true }, Addresses: []string{"+4930*"}},
			{SystemID: "b", CheckPassword: func(string) bool { return true }, Addresses: []string{"493012*"}},
		}
	})
	a := h.dial("a", "rx", nil)
	b := h.dial("b", "rx", nil)
	ev := be.events()
	if err := ev.Received(context.Background(), &backend.MO{Source: store.Address{Addr: "491761"}, Dest: store.Address{Addr: "4930999"}, Body: []byte("to a")}); err != nil {
		t.Fatal(err)
	}
	if err := ev.Received(context.Background(), &backend.MO{Source: store.Address{Addr: "491761"}, Dest: store.Address{Addr: "493012345"}, Body: []byte("to b")}); err != nil {
		t.Fatal(err)
	}
	if err := ev.Received(context.Background(), &backend.MO{Dest: store.Address{Addr: "1111"}}); err == nil {
		t.Fatal("an MO nobody owns was accepted")
	}
	for _, tc := range []struct {
		c    *client
		text string
	}{{a, "to a"}, {b, "to b"}} {
		select {
		case m := <-tc.c.mo:
			if m.Text != tc.text {
				t.Errorf("got %q, want %q", m.Text, tc.text)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no MO %q", tc.text)
		}
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// A delivery that can never be encoded (a destination longer than SMPP
// allows) is given up, and the account's later deliveries still flow.
func TestUnencodableDeliveryDoesNotBlockTheOthers(t *testing.T) {
	be := newFakeBackend()
	h := start(t, newMemStore(), be, func(o *gateway.Options) {
		o.AcceptAny = false
		o.Accounts = []gateway.Account{{SystemID: "a", CheckPassword: func(string) bool { return true }, Addresses: []string{"4930*"}}}
	})
	a := h.dial("a", "rx", nil)
	ev := be.events()
	long := "4930" + strings.Repeat("1", 30)
	if err := ev.Received(context.Background(), &backend.MO{Source: store.Address{Addr: "491761"}, Dest: store.Address{Addr: long}, Body: []byte("never")}); err != nil {
		t.Fatal(err)
	}
	if err := ev.Received(context.Background(), &backend.MO{Source: store.Address{Addr: "491761"}, Dest: store.Address{Addr: "4930123"}, Body: []byte("after it")}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-a.mo:
		if m.Text != "after it" {
			t.Fatalf("got %q", m.Text)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the MO after an unencodable one never came")
	}
	waitFor(t, func() bool { return h.st.deliveries() == 0 && h.g.WaitingDeliveries() == 0 }, "both deliveries done")
}

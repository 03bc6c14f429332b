package smsgate_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/backend/smsgate"
	"github.com/smppkit/smpp/gateway/backend/smsgate/smsgatefake"
	"github.com/smppkit/smpp/gateway/store"
)

// events stands for the gateway: it prints the final state of each part.
type events struct{ done chan backend.Update }

func (e events) Update(u backend.Update) {
	if u.State.Final() {
		e.done <- u
	}
}

func (e events) Received(ctx context.Context, mo *backend.MO) error { return nil }

// A backend sending through SMSGate (here the fake), with smppd's HTTP
// server receiving the webhooks.
func Example() {
	api := smsgatefake.New() // stands for https://api.sms-gate.app/3rdparty/v1
	defer api.Close()

	var b *smsgate.Backend
	mux := http.NewServeMux() // smppd's HTTP server
	mux.Handle(smsgate.DefaultWebhookPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.WebhookHandler().ServeHTTP(w, r)
	}))
	web := httptest.NewServer(mux)
	defer web.Close()

	b, err := smsgate.New(smsgate.Options{
		BaseURL:        api.URL,
		Username:       smsgatefake.DefaultUser,
		Password:       smsgatefake.DefaultPassword,
		WebhookBaseURL: web.URL,
	})
	if err != nil {
		panic(err)
	}
	ev := events{done: make(chan backend.Update, 1)}
	if err := b.Start(context.Background(), ev); err != nil {
		panic(err)
	}
	defer b.Stop(context.Background())

	m := &store.Message{
		ID:                 "42",
		Dest:               store.Address{TON: 1, NPI: 1, Addr: "491761234567"},
		DataCoding:         8, // UCS-2
		Body:               []byte{0x00, 'H', 0x00, 'i', 0xd8, 0x3d, 0xdc, 0x4b},
		RegisteredDelivery: 1,
	}
	res, err := b.Submit(context.Background(), []*store.Message{m})
	if err != nil {
		panic(err)
	}
	sent := api.Messages()[0].Request
	fmt.Println(res[0].BackendID, sent.PhoneNumbers, sent.TextMessage.Text)
	u := <-ev.done
	fmt.Println(u.ID, u.State)
	api.Flush()
	// Output:
	// smppd-42 [+491761234567] Hi👋
	// 42 DELIVERED
}

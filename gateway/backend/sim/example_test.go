package sim_test

import (
	"context"
	"fmt"
	"time"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/backend/sim"
	"github.com/smppkit/smpp/gateway/store"
)

// events passes on what the simulator reports; a gateway would store it.
type events struct {
	got chan backend.Update
	mos chan *backend.MO
}

func newEvents() events {
	return events{make(chan backend.Update, 8), make(chan *backend.MO, 8)}
}

func (e events) Update(u backend.Update) { e.got <- u }

func (e events) Received(ctx context.Context, mo *backend.MO) error {
	e.mos <- mo
	return nil
}

// By default every message is delivered at once, the final state in
// Submit's Result; rules decide by destination prefix.
func Example() {
	ctx := context.Background()
	s := sim.New(sim.Options{
		ErrorCode: 1,
		Rules: []sim.Rule{
			{Prefix: "4915", Outcome: store.Undeliverable, ErrorCode: 34},
			{Prefix: "999", SubmitStatus: 0x58}, // ESME_RTHROTTLED
		},
	})
	if err := s.Start(ctx, newEvents()); err != nil {
		panic(err)
	}
	defer s.Stop(ctx)

	for _, dest := range []string{"491701234567", "491551234567"} {
		m := &store.Message{ID: "id-" + dest[:4], Dest: store.Address{Addr: dest}}
		res, err := s.Submit(ctx, []*store.Message{m})
		fmt.Println(dest, res[0].State, res[0].ErrorCode, err)
	}
	// The gateway asks before it accepts a submit.
	a := s.Admit(ctx, &store.Message{Dest: store.Address{Addr: "9990"}})
	fmt.Printf("9990 refused with 0x%02X\n", a.Status)
	// Output:
	// 491701234567 DELIVERED 0 <nil>
	// 491551234567 UNDELIVERABLE 34 <nil>
	// 9990 refused with 0x58
}

// With a delay the outcome follows through Events.Update, after an
// intermediate ENROUTE if asked; loopback hands a message to an address
// the gateway owns back as an MO.
func Example_delay() {
	ctx := context.Background()
	ev := newEvents()
	s := sim.New(sim.Options{
		Delay:    10 * time.Millisecond,
		Enroute:  true,
		Loopback: true,
		Owns:     func(addr string) bool { return addr == "4917" },
	})
	if err := s.Start(ctx, ev); err != nil {
		panic(err)
	}
	m := &store.Message{ID: "m1", Source: store.Address{Addr: "4930"}, Dest: store.Address{Addr: "4917"}, Body: []byte("hi")}
	res, _ := s.Submit(ctx, []*store.Message{m})
	fmt.Println("result:", res[0].State)
	fmt.Println("update:", (<-ev.got).State)
	fmt.Println("update:", (<-ev.got).State)
	mo := <-ev.mos
	fmt.Printf("MO %s -> %s: %q\n", mo.Source.Addr, mo.Dest.Addr, mo.Body)
	s.Stop(ctx)
	// Output:
	// result: ENROUTE
	// update: ENROUTE
	// update: DELIVERED
	// MO 4930 -> 4917: "hi"
}

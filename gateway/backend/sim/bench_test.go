package sim

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
)

// counter is an Events that only counts, as cheap as a gateway can be; it
// closes done when want outcomes have been reported.
type counter struct {
	finals atomic.Int64
	want   int64
	done   chan struct{}
}

func (c *counter) Update(u backend.Update) {
	if u.State.Final() && c.finals.Add(1) == c.want {
		close(c.done)
	}
}
func (c *counter) Received(context.Context, *backend.MO) error { return nil }

func benchSim(b *testing.B, o Options) (*Sim, *counter) {
	s := New(o)
	c := &counter{want: -1, done: make(chan struct{})}
	if err := s.Start(context.Background(), c); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Stop(context.Background()) })
	return s, c
}

func benchMessages(n int) [][]*store.Message {
	ms := make([][]*store.Message, n)
	for i := range ms {
		ms[i] = []*store.Message{msg(strconv.Itoa(i), "491701234567")}
	}
	return ms
}

// BenchmarkSubmit is the default path: delivered at once, in the Result.
func BenchmarkSubmit(b *testing.B) {
	for _, bc := range []struct {
		name string
		o    Options
	}{
		{"default", Options{}},
		{"mix", Options{Outcomes: map[store.State]int{store.Delivered: 90, store.Undeliverable: 10}, Seed: 1}},
		{"rules", Options{Rules: []Rule{{Prefix: "44"}, {Prefix: "33"}, {Prefix: "4915"}, {Prefix: "49170", Outcome: store.Delivered}}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, _ := benchSim(b, bc.o)
			ms := benchMessages(1024)
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := s.Submit(ctx, ms[i&1023]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkSubmitParallel(b *testing.B) {
	s, _ := benchSim(b, Options{Outcomes: map[store.State]int{store.Delivered: 90, store.Undeliverable: 10}, Seed: 1})
	ms := benchMessages(1024)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			s.Submit(ctx, ms[i&1023])
			i++
		}
	})
}

// BenchmarkSubmitDelay measures a delayed outcome end to end: Submit, the
// heap, the scheduler and the Update, per message. Every message has its
// own id, so the record of each is a new map entry.
func BenchmarkSubmitDelay(b *testing.B) {
	for _, enroute := range []bool{false, true} {
		b.Run("enroute="+strconv.FormatBool(enroute), func(b *testing.B) {
			s, c := benchSim(b, Options{Delay: time.Millisecond, Enroute: enroute})
			c.want = int64(b.N) // before the first Submit: the scheduler reads it after
			ms := benchMessages(b.N)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := s.Submit(ctx, ms[i]); err != nil {
					b.Fatal(err)
				}
			}
			<-c.done
		})
	}
}

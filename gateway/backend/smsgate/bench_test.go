package smsgate

import (
	"context"
	"testing"

	"github.com/smppkit/smpp/gateway/backend/smsgate/smsgatefake"
	"github.com/smppkit/smpp/gateway/store"
)

// BenchmarkSubmit measures Submit against the fake answering at once,
// many goroutines submitting (as the gateway's dispatcher does).
func BenchmarkSubmit(b *testing.B) {
	fake := smsgatefake.New()
	defer fake.Close()
	be, err := New(Options{BaseURL: fake.URL, Username: smsgatefake.DefaultUser, Password: smsgatefake.DefaultPassword, MaxInFlight: 16})
	if err != nil {
		b.Fatal(err)
	}
	body := gsm("Benchmark message text, about as long as a typical one.")
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m := &store.Message{ID: nextID(), Dest: store.Address{TON: 1, NPI: 1, Addr: "491761234567"}, Body: body, RegisteredDelivery: 1}
			if _, err := be.Submit(context.Background(), []*store.Message{m}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

package storetest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/store"
)

// Bench runs the store benchmarks on the stores open returns (a fresh one
// per benchmark):
//
//   - Apply/N: batches of N message lifecycles, as the gateway's group
//     commit makes them. In the steady state each batch inserts N new
//     messages, moves the previous batch's N messages to Delivered with a
//     receipt Delivery each, and marks the receipts of the batch before
//     that done: 4N rows. It reports rows/s and lifecycles/s.
//   - Message: Message(id) of one of 100 000 stored messages; and
//     MessageParallel, the same from GOMAXPROCS goroutines.
func Bench(b *testing.B, open func(b *testing.B) store.Store) {
	for _, n := range []int{1, 100, 1000} {
		b.Run("Apply/"+strconv.Itoa(n), func(b *testing.B) {
			s := open(b)
			defer s.Close()
			benchApply(b, s, n)
		})
	}
	b.Run("Message", func(b *testing.B) {
		s := open(b)
		defer s.Close()
		ids := fillForReads(b, s)
		ctx := context.Background()
		i := 0
		for b.Loop() {
			if _, err := s.Message(ctx, ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
			i += 7919 // a prime: jump around the keys
		}
	})
	b.Run("MessageParallel", func(b *testing.B) {
		s := open(b)
		defer s.Close()
		ids := fillForReads(b, s)
		ctx := context.Background()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := s.Message(ctx, ids[i%len(ids)]); err != nil {
					b.Error(err)
					return
				}
				i += 7919
			}
		})
	})
}

// benchMessage is a typical message: a 70-character text to a mobile.
func benchMessage(id string, now time.Time) *store.Message {
	return &store.Message{
		ID:                 id,
		Account:            "acme",
		Route:              "sim",
		Source:             store.Address{TON: 5, Addr: "ACME"},
		Dest:               store.Address{TON: 1, NPI: 1, Addr: "447700900123"},
		RegisteredDelivery: 1,
		Body:               []byte("Your verification code is 123456. It expires in 10 minutes. Do not sh"),
		SubmittedAt:        now,
		State:              store.Accepted,
		UpdatedAt:          now,
	}
}

var receiptBody = []byte("id:0123456789abcdef sub:001 dlvrd:001 submit date:2603141509 done date:2603141509 stat:DELIVRD err:000 text:Your verification")

func benchApply(b *testing.B, s store.Store, n int) {
	ctx := context.Background()
	now := time.Now()
	var seq uint64
	// Ids as the gateway makes them: an epoch from the store, then a
	// counter (a store may know such ids are new without looking).
	epoch, err := s.NextEpoch(ctx)
	if err != nil {
		b.Fatal(err)
	}
	base := uint64(epoch) << 32
	id := func(k uint64) string { return strconv.FormatUint(base|k, 16) }
	var b1, b2 []uint64 // the message numbers of the last two batches
	var batch store.Batch
	rows := 0
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		batch.Reset()
		cur := make([]uint64, n)
		for j := range n {
			seq++
			cur[j] = seq
			batch.Messages = append(batch.Messages, benchMessage(id(seq), now))
		}
		for _, k := range b1 {
			batch.Updates = append(batch.Updates, store.Update{ID: id(k), State: store.Delivered, BackendID: "sim-" + id(k), At: now})
			batch.Deliveries = append(batch.Deliveries, &store.Delivery{
				ID: base | k, Account: "acme", Kind: store.Receipt,
				Source: store.Address{TON: 1, NPI: 1, Addr: "447700900123"}, Dest: store.Address{TON: 5, Addr: "ACME"},
				ESMClass: 0x04, Body: receiptBody, MessageID: id(k), State: store.Delivered, CreatedAt: now,
			})
		}
		for _, k := range b2 {
			batch.Done = append(batch.Done, base|k)
		}
		if err := s.Apply(ctx, &batch); err != nil {
			b.Fatal(err)
		}
		rows += batch.Len()
		b1, b2 = cur, b1
	}
	// A store that applies in the background has not finished until a
	// read sees the last batch.
	if _, err := s.Message(ctx, id(seq)); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	sec := time.Since(start).Seconds()
	b.ReportMetric(float64(rows)/sec, "rows/s")
	b.ReportMetric(float64(rows)/4/sec, "lifecycles/s")
}

// fillForReads stores 100 000 messages and returns their ids.
func fillForReads(b *testing.B, s store.Store) []string {
	const n = 100_000
	now := time.Now()
	ids := make([]string, n)
	var batch store.Batch
	for i := range n {
		ids[i] = strconv.FormatUint(1<<40+uint64(i), 16)
		batch.Messages = append(batch.Messages, benchMessage(ids[i], now.Add(time.Duration(i)*time.Millisecond)))
		if len(batch.Messages) == 5000 || i == n-1 {
			if err := s.Apply(context.Background(), &batch); err != nil {
				b.Fatal(err)
			}
			batch.Reset()
		}
	}
	return ids
}

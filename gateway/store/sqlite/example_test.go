package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/gateway/store/sqlite"
)

func Example() {
	dir, err := os.MkdirTemp("", "smppd")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// The directory "data" is created if missing.
	s, err := sqlite.Open(filepath.Join(dir, "data", "smppd.db"), sqlite.Options{Durability: store.Crash})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	ctx := context.Background()
	now := time.Now()
	// One batch, one transaction: the message and, later in the same
	// batch, its first state change.
	b := &store.Batch{
		Messages: []*store.Message{{
			ID:          "0a1b2c3d",
			Account:     "acme",
			Source:      store.Address{TON: 5, Addr: "ACME"},
			Dest:        store.Address{TON: 1, NPI: 1, Addr: "447700900123"},
			Body:        []byte("Hello"),
			SubmittedAt: now,
			State:       store.Accepted,
		}},
		Updates: []store.Update{{ID: "0a1b2c3d", State: store.Delivered, BackendID: "sim-1", At: now}},
	}
	if err := s.Apply(ctx, b); err != nil {
		log.Fatal(err)
	}

	m, err := s.Message(ctx, "0a1b2c3d")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Dest.Addr, string(m.Body), m.State, m.BackendID, m.DoneAt.Equal(now))
	// Output: 447700900123 Hello DELIVERED sim-1 true
}

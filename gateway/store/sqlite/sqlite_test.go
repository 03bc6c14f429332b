package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/gateway/store/sqlite"
	"github.com/smppkit/smpp/gateway/store/storetest"
)

func TestConformance(t *testing.T) {
	for _, d := range []store.Durability{store.Crash, store.PowerLoss} {
		t.Run(map[store.Durability]string{store.Crash: "Crash", store.PowerLoss: "PowerLoss"}[d], func(t *testing.T) {
			storetest.RunDurable(t, func(t *testing.T, dir string) store.Store {
				s, err := sqlite.Open(filepath.Join(dir, "sub", "smppd.db"), sqlite.Options{Durability: d})
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
		})
	}
}

func BenchmarkStore(b *testing.B) {
	for _, d := range []store.Durability{store.Crash, store.PowerLoss} {
		b.Run(map[store.Durability]string{store.Crash: "Crash", store.PowerLoss: "PowerLoss"}[d], func(b *testing.B) {
			storetest.Bench(b, func(b *testing.B) store.Store {
				s, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{Durability: d})
				if err != nil {
					b.Fatal(err)
				}
				return s
			})
		})
	}
}

package memory_test

import (
	"testing"

	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/gateway/store/memory"
	"github.com/smppkit/smpp/gateway/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memory.New() })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store { return memory.New() })
}

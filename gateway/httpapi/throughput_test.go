package httpapi

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/backend/sim"
	"github.com/smppkit/smpp/pdu"
)

var (
	throughput = flag.Int("throughput", 0, "TestThroughput: messages to send on each path (0 skips it)")
	clients    = flag.Int("clients", 16, "TestThroughput: concurrent senders")
)

// TestThroughput measures the REST send path against the SMPP path in the
// same run, on the in-memory store and the simulator, with the same
// number of concurrent senders: go test ./gateway/httpapi -run
// TestThroughput -throughput 20000 -v
func TestThroughput(t *testing.T) {
	if *throughput == 0 {
		t.Skip("pass -throughput N to measure")
	}
	h := newHarness(t, sim.Options{})
	n, k := *throughput, *clients

	tr := &http.Transport{MaxIdleConnsPerHost: k, MaxConnsPerHost: k}
	hc := &http.Client{Transport: tr}
	body := `{"account":"acme","from":"Shop","to":"+4915550001","text":"hello from the REST API"}`
	rest := run(n, k, func() error {
		req, _ := http.NewRequest("POST", h.srv.URL+"/v1/messages", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 201 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	// The HTTP stack alone, for scale: the same clients on GET /health.
	base := run(n, k, func() error {
		resp, err := hc.Get(h.srv.URL + "/health")
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil
	})
	c := h.dial("acme", "secret")
	sm := run(n, k, func() error {
		_, err := c.Submit(context.Background(), &pdu.SubmitSM{SourceAddr: "Shop", DestAddrTON: 1, DestAddrNPI: 1,
			DestinationAddr: "4915550001", ShortMessage: []byte("hello from the SMPP path")})
		return err
	})
	t.Logf("%d messages, %d concurrent senders", n, k)
	t.Logf("REST POST /v1/messages: %s", rest)
	t.Logf("HTTP GET /health (baseline): %s", base)
	t.Logf("SMPP submit_sm (1 session): %s", sm)
}

type result struct {
	rate     float64
	p50, p99 time.Duration
	errs     int64
	firstErr error
}

func (r result) String() string {
	return fmt.Sprintf("%.0f msg/s, p50 %v, p99 %v, errors %d %v", r.rate, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.errs, r.firstErr)
}

// run calls send n times from k goroutines and measures the rate and the
// latencies.
func run(n, k int, send func() error) result {
	var next, errs atomic.Int64
	var mu sync.Mutex
	var firstErr error
	lat := make([][]time.Duration, k)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				t0 := time.Now()
				if err := send(); err != nil {
					errs.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := result{rate: float64(n) / took.Seconds(), errs: errs.Load(), firstErr: firstErr}
	if len(all) > 0 {
		r.p50, r.p99 = all[len(all)/2], all[len(all)*99/100]
	}
	return r
}

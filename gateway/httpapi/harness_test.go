package httpapi

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/gateway"
	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/backend/sim"
	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/gateway/store/memory"
	"github.com/smppkit/smpp/pdu"
)

// harness is a gateway on the in-memory store and the simulator, with
// SMPP on a loopback port and the HTTP API on an httptest server.
type harness struct {
	t        *testing.T
	gw       *gateway.Gateway
	smppAddr string
	srv      *httptest.Server
	reloads  int
	accounts []gateway.Account
}

const testKey = "test-key-1"

func testAccounts() []gateway.Account {
	return []gateway.Account{
		{SystemID: "acme", CheckPassword: func(pw string) bool { return pw == "secret" }, Addresses: []string{"+4470*"}},
		{SystemID: "other", CheckPassword: func(pw string) bool { return pw == "other-pw" }, Addresses: []string{"+4480*"}},
	}
}

func newHarness(t *testing.T, simOpts sim.Options) *harness {
	t.Helper()
	return newHarnessOn(t, memory.New(), simOpts)
}

// newHarnessOn is newHarness on the store st.
func newHarnessOn(t *testing.T, st store.Store, simOpts sim.Options) *harness {
	t.Helper()
	h := &harness{t: t, accounts: testAccounts()}
	gw, err := gateway.New(context.Background(), gateway.Options{
		Store:    st,
		Backends: map[string]backend.Backend{"sim": sim.New(simOpts)},
		Accounts: h.accounts,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.gw = gw
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.smppAddr = l.Addr().String()
	go gw.Serve(l)
	reg := prometheus.NewRegistry()
	reg.MustRegister(gw.Collector())
	h.srv = httptest.NewServer(New(Options{Gateway: gw, API: gw, Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		APIKeys: func() []string { return []string{testKey} },
		Reload: func(ctx context.Context) (int, error) {
			h.reloads++
			return len(h.accounts), gw.Reload(h.accounts)
		}}))
	t.Cleanup(func() {
		h.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		gw.Shutdown(ctx)
	})
	return h
}

// client is an SMPP transceiver that hands receipts and MO messages to
// channels.
type client struct {
	*smpp.Client
	receipts chan *smpp.Receipt
	mo       chan *smpp.InboundMessage
}

func (h *harness) dial(systemID, password string) *client {
	h.t.Helper()
	c := &client{receipts: make(chan *smpp.Receipt, 1000), mo: make(chan *smpp.InboundMessage, 100)}
	in := &smpp.Inbound{
		OnReceipt: func(_ context.Context, r *smpp.Receipt) pdu.Status { c.receipts <- r; return pdu.ESME_ROK },
		OnMessage: func(_ context.Context, m *smpp.InboundMessage) pdu.Status { c.mo <- m; return pdu.ESME_ROK },
	}
	cl, err := smpp.Dial(context.Background(), fmt.Sprintf("smpp://%s:%s@%s?bind=trx", systemID, password, h.smppAddr),
		&smpp.ClientConfig{Inbound: in, NoReconnect: true})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { cl.Close() })
	c.Client = cl
	return c
}

// do sends an HTTP request with the test API key (auth "" ), none
// (auth "-"), or Basic "user:password".
func (h *harness) do(method, path, body, auth string) (*http.Response, string) {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	setAuth(req, auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func setAuth(req *http.Request, auth string) {
	switch {
	case auth == "":
		req.Header.Set("Authorization", "Bearer "+testKey)
	case auth == "-":
	case strings.HasPrefix(auth, "key:"):
		req.Header.Set("X-API-Key", strings.TrimPrefix(auth, "key:"))
	default:
		u, p, _ := strings.Cut(auth, ":")
		req.SetBasicAuth(u, p)
	}
}

// scrape reads /metrics with the Prometheus text parser.
func (h *harness) scrape() map[string]*dto.MetricFamily {
	h.t.Helper()
	resp, err := http.Get(h.srv.URL + "/metrics")
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		h.t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// value returns the value of the series of family name whose labels
// include want (a counter's, a gauge's, or a histogram's sample count).
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

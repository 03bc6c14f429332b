package httpapi

import (
	"context"
	"encoding/json"
	"github.com/smppkit/smpp/gateway/store/sqlite"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/backend/sim"
	"github.com/smppkit/smpp/pdu"
)

// Messages submitted over SMPP show in the scraped metrics: PDUs by
// command, accepted messages, outcomes, receipts, latencies, binds.
func TestMetricsCountSMPPTraffic(t *testing.T) {
	h := newHarness(t, sim.Options{})
	c := h.dial("acme", "secret")
	const n = 25
	for i := range n {
		_, err := c.Submit(context.Background(), &pdu.SubmitSM{SourceAddr: "Shop", DestAddrTON: 1, DestAddrNPI: 1,
			DestinationAddr: "4915550001", RegisteredDelivery: 1, ShortMessage: []byte("hello " + string(rune('a'+i)))})
		if err != nil {
			t.Fatal(err)
		}
	}
	// A refused submit: no destination.
	if _, err := c.Submit(context.Background(), &pdu.SubmitSM{SourceAddr: "Shop", ShortMessage: []byte("x")}); err == nil {
		t.Fatal("a submit without destination was accepted")
	}
	for range n {
		select {
		case <-c.receipts:
		case <-time.After(5 * time.Second):
			t.Fatal("receipt missing")
		}
	}
	// The receipts' acknowledgements reach the gateway after the client's
	// handler returns: wait for the last one to be counted.
	deadline := time.Now().Add(5 * time.Second)
	for h.gw.WaitingDeliveries() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	fams := h.scrape()
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"smppd_sessions_bound", map[string]string{"account": "acme", "bind_type": "transceiver"}, 1},
		{"smppd_pdus_total", map[string]string{"direction": "received", "command": "submit_sm"}, n + 1},
		{"smppd_pdus_total", map[string]string{"direction": "sent", "command": "submit_sm_resp"}, n + 1},
		{"smppd_pdus_total", map[string]string{"direction": "sent", "command": "deliver_sm"}, n},
		{"smppd_pdu_errors_total", map[string]string{"direction": "sent", "command": "submit_sm_resp", "status": "ESME_RINVDSTADR"}, 1},
		{"smppd_messages_accepted_total", map[string]string{"account": "acme"}, n},
		{"smppd_messages_rejected_total", map[string]string{"account": "acme", "status": "ESME_RINVDSTADR"}, 1},
		{"smppd_backend_outcomes_total", map[string]string{"backend": "sim", "state": "DELIVERED"}, n},
		{"smppd_submit_duration_seconds", nil, n},
		{"smppd_deliveries_delivered_total", map[string]string{"kind": "receipt"}, n},
		{"smppd_deliveries_pending", nil, 0},
		{"smppd_messages_pending", nil, 0},
		{"smppd_messages", map[string]string{"state": "ENROUTE"}, 0},
		{"smppd_mo_unrouted_total", nil, 0},
	}
	for _, c := range checks {
		got, ok := value(fams, c.name, c.labels)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if commits, _ := value(fams, "smppd_store_commit_duration_seconds", nil); commits < 1 {
		t.Errorf("no store commit observed")
	}
	if sum := fams["smppd_store_commit_batch_size"].GetMetric()[0].GetHistogram().GetSampleSum(); sum < 2*n {
		t.Errorf("commit batch sizes sum to %v, want ≥ %d (messages and their state changes)", sum, 2*n)
	}

	// A closed session's PDUs stay counted.
	c.Close()
	deadline = time.Now().Add(5 * time.Second)
	for len(h.gw.Sessions("")) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	fams = h.scrape()
	if got, _ := value(fams, "smppd_pdus_total", map[string]string{"direction": "received", "command": "submit_sm"}); got != n+1 {
		t.Errorf("after close, submit_sm received = %v, want %d", got, n+1)
	}
	if _, ok := value(fams, "smppd_sessions_bound", map[string]string{"account": "acme"}); ok {
		t.Errorf("a closed session is still counted as bound")
	}
}

// Every expression of the Grafana dashboard names series the gateway
// exposes.
// The SQLite store's backlog (changes in its log, not yet in its tables)
// is exposed; a store without one has no such series.
func TestMetricsStoreBacklog(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "m.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := newHarnessOn(t, st, sim.Options{})
	c := h.dial("acme", "secret")
	if _, err := c.Submit(context.Background(), &pdu.SubmitSM{SourceAddr: "Shop", DestAddrTON: 1, DestAddrNPI: 1,
		DestinationAddr: "4915550001", ShortMessage: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	fams := h.scrape()
	for _, name := range []string{"smppd_store_backlog_changes", "smppd_store_backlog_age_seconds"} {
		if v, ok := value(fams, name, nil); !ok || v < 0 {
			t.Errorf("%s = %v (present %v) on the sqlite store", name, v, ok)
		}
	}
	if _, ok := value(newHarness(t, sim.Options{}).scrape(), "smppd_store_backlog_changes", nil); ok {
		t.Error("smppd_store_backlog_changes on the memory store")
	}
}

func TestGrafanaDashboardUsesExposedSeries(t *testing.T) {
	b, err := os.ReadFile("../../docs/grafana/smppd.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, sim.Options{})
	// Traffic of every kind, so that every series has a child: a session,
	// a message delivered with its receipt, a refused one, an MO message
	// nobody owns.
	c := h.dial("acme", "secret")
	if _, err := c.Submit(context.Background(), &pdu.SubmitSM{DestinationAddr: "4915550001", RegisteredDelivery: 1, ShortMessage: []byte("hi")}); err != nil {
		t.Fatal(err)
	}
	c.Submit(context.Background(), &pdu.SubmitSM{ShortMessage: []byte("no destination")})
	select {
	case <-c.receipts:
	case <-time.After(5 * time.Second):
		t.Fatal("no receipt")
	}
	h.do("POST", "/v1/mo", `{"from":"+4915550001","to":"+999","text":"lost"}`, "")
	fams := h.scrape()
	series := regexp.MustCompile(`\bsmppd_[a-z0-9_]+`)
	exprs := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs++
			names := series.FindAllString(tg.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: expression %q names no smppd series", p.Title, tg.Expr)
			}
			for _, name := range names {
				if fams[name] != nil {
					continue
				}
				base := name
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					base = strings.TrimSuffix(base, suf)
				}
				if f := fams[base]; f == nil || base == name || f.GetType().String() != "HISTOGRAM" {
					t.Errorf("panel %q: %s is not a series /metrics exposes", p.Title, name)
				}
			}
		}
	}
	if exprs < 10 {
		t.Errorf("dashboard has %d expressions; expected a full dashboard", exprs)
	}
}

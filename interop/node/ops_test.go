package node_test

import (
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway"
	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/backend/sim"
	"github.com/smppkit/smpp/gateway/store/memory"
	"github.com/smppkit/smpp/interop/internal/peer"
	"github.com/smppkit/smpp/pdu"
)

// startGateway runs smppd's engine on a loopback port: the in-memory store
// and the simulator, which delivers every message at once.
func startGateway(t *testing.T) string {
	t.Helper()
	g, err := gateway.New(context.Background(), gateway.Options{
		Store:     memory.New(),
		Backends:  map[string]backend.Backend{"sim": sim.New(sim.Options{})},
		AcceptAny: true,
		SystemID:  "smppd",
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		g.Shutdown(ctx)
	})
	return l.Addr().String()
}

// TestNodeOpsAgainstGateway runs node-smpp's ESME (client.js --mode ops)
// against the gateway: submit_multi, query_sm, cancel_sm (by id and by
// service_type and addresses), replace_sm, replace_if_present_flag, data_sm
// and broadcast_sm, each answered as docs/operations.md says.
func TestNodeOpsAgainstGateway(t *testing.T) {
	node := peer.RequireNode(t, nodeDir)
	addr := startGateway(t)
	p, done := runNodeClient(t, node, "smpp://node-ops:secret@"+addr, "--mode", "ops")
	checkDone(t, p, done)

	steps := map[string][]peer.Event{}
	for _, e := range filter(p.Events(), peer.IsEvent("step")) {
		steps[e.Str("name")] = append(steps[e.Str("name")], e)
	}
	one := func(name string, status pdu.Status) peer.Event {
		t.Helper()
		es := steps[name]
		if len(es) == 0 {
			t.Fatalf("no step %q\n%s", name, p.Report())
		}
		if got := pdu.Status(es[0].Status()); got != status {
			t.Errorf("%s: %s, want %s (%s)", name, got, status, es[0].Line)
		}
		return es[0]
	}
	id := one("submit", pdu.ESME_ROK).FieldStr("message_id")
	if id == "" {
		t.Fatal("no message_id")
	}
	if q := one("query scheduled", pdu.ESME_ROK); q.FieldStr("message_id") != id || q.FieldInt("message_state") != int64(pdu.StateScheduled) || q.FieldStr("final_date") != "" {
		t.Errorf("query of the scheduled message: %v", q.Fields())
	}
	one("replace", pdu.ESME_ROK)
	one("replace unknown", pdu.ESME_RREPLACEFAIL)
	one("cancel", pdu.ESME_ROK)
	if q := one("query cancelled", pdu.ESME_ROK); q.FieldInt("message_state") != int64(pdu.StateDeleted) || q.FieldStr("final_date") == "" {
		t.Errorf("query of the cancelled message: %v", q.Fields())
	}
	one("cancel again", pdu.ESME_RCANCELFAIL)
	for _, e := range steps["submit service"] {
		if e.Status() != 0 {
			t.Errorf("submit with service_type: %s", e.Line)
		}
	}
	one("cancel by service", pdu.ESME_ROK)
	first := one("replace if present 1", pdu.ESME_ROK).FieldStr("message_id")
	if again := one("replace if present 2", pdu.ESME_ROK).FieldStr("message_id"); again != first || first == "" {
		t.Errorf("replace_if_present_flag: ids %q then %q, want the same", first, again)
	}
	multi := one("submit_multi", pdu.ESME_ROK)
	multiID := multi.FieldStr("message_id")
	us, _ := multi.Field("unsuccess_sme").([]any)
	if multiID == "" || len(us) != 1 {
		t.Errorf("submit_multi_resp: %v", multi.Fields())
	} else if u, _ := us[0].(map[string]any); u == nil || u["destination_addr"] != "nodelist" || asNumber(u["error_status_code"]) != int64(pdu.ESME_RINVDLNAME) {
		t.Errorf("unsuccess_sme %v", us[0])
	}
	if d := one("data_sm", pdu.ESME_ROK); d.FieldStr("message_id") == "" {
		t.Errorf("data_sm_resp: %v", d.Fields())
	}
	one("broadcast_sm", pdu.ESME_RINVCMDID)

	// The receipts node-smpp got: DELETED for the cancelled message,
	// DELIVRD twice with the submit_multi's id (one per destination).
	states := map[string][]int64{}
	for _, e := range filter(p.Events(), func(e peer.Event) bool {
		return e.Name() == "pdu" && e.Command() == "deliver_sm" && e.FieldInt("esm_class")&4 != 0
	}) {
		rid := e.FieldStr("receipted_message_id")
		states[rid] = append(states[rid], e.FieldInt("message_state"))
	}
	if len(states[id]) != 1 || states[id][0] != int64(pdu.StateDeleted) {
		t.Errorf("receipts for %s: %v", id, states[id])
	}
	if ms := states[multiID]; len(ms) != 2 || ms[0] != int64(pdu.StateDelivered) || ms[1] != int64(pdu.StateDelivered) {
		t.Errorf("receipts for the submit_multi %s: %v", multiID, ms)
	}
}

// asNumber reads a number of a nested object (peer decodes with UseNumber).
func asNumber(v any) int64 {
	n, _ := v.(json.Number)
	i, err := n.Int64()
	if err != nil {
		return -1
	}
	return i
}

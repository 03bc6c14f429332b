// Package crash kills smppd with SIGKILL while clients submit under load,
// restarts it on the same store, and checks that nothing acknowledged was
// lost: every message that got a submit_sm_resp is known to query_sm, and
// every receipt asked for is delivered once the client binds again.
package crash_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	smpp "github.com/smppkit/smpp"
	"github.com/smppkit/smpp/interop/internal/smppd"
	"github.com/smppkit/smpp/pdu"
)

func TestKill9LosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the daemon")
	}
	dir := t.TempDir()
	// Outcomes come 300 ms after the submit, so at the kill many messages
	// are unfinished in the store, as well as receipts not yet delivered.
	conf := "simulator:\n  delay: 300ms\n"
	d := smppd.Start(t, smppd.Config{DataDir: dir, ConfigYAML: conf})

	var mu sync.Mutex
	accepted := map[string]string{} // message id → account
	// Receipts that arrive before the kill, on transceiver binds.
	receipted := map[string]bool{}
	inbound := &smpp.Inbound{OnReceipt: func(_ context.Context, r *smpp.Receipt) pdu.Status {
		mu.Lock()
		receipted[r.ID] = true
		mu.Unlock()
		return pdu.ESME_ROK
	}}

	// Four clients submit as fast as their windows allow: two transmitter
	// binds of account "tx" (whose receipts wait in the store, since it has
	// no receiver bound) and two transceivers of account "trx".
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var wg sync.WaitGroup
	for i, bind := range []string{"tx", "tx", "trx", "trx"} {
		c, err := smpp.Dial(context.Background(), fmt.Sprintf("smpp://%s:pw@%s?bind=%s", bind, d.SMPPAddr, bind),
			&smpp.ClientConfig{OutboundWindow: 50, Inbound: inbound, NoReconnect: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for w := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ctx.Err() == nil; n++ {
					resp, err := c.Submit(ctx, &pdu.SubmitSM{SourceAddr: "Crash", DestAddrTON: 1, DestAddrNPI: 1,
						DestinationAddr: fmt.Sprintf("4917%d%02d%05d", i, w, n%100000), RegisteredDelivery: 1,
						ShortMessage: []byte("kill -9 me")})
					if err != nil {
						return // the daemon is gone
					}
					mu.Lock()
					accepted[resp.MessageID] = bind
					mu.Unlock()
				}
			}()
		}
	}
	// Kill it in the middle of the load.
	for {
		mu.Lock()
		n := len(accepted)
		mu.Unlock()
		if n >= 5000 {
			break
		}
		select {
		case <-d.Exited():
			t.Fatalf("smppd exited under load:\n%s", d.Output())
		case <-time.After(5 * time.Millisecond):
		}
	}
	d.Kill()
	stop()
	wg.Wait()
	mu.Lock()
	total := len(accepted)
	mu.Unlock()
	t.Logf("%d messages acknowledged before SIGKILL, %d receipts received before it", total, len(receipted))

	// Restart on the same store; bind as receiver and wait for every receipt.
	d2 := smppd.Start(t, smppd.Config{DataDir: dir, ConfigYAML: conf})
	missing := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for id := range accepted {
			if !receipted[id] {
				n++
			}
		}
		return n
	}
	for _, account := range []string{"tx", "trx"} {
		rx, err := smpp.Dial(context.Background(), "smpp://"+account+":pw@"+d2.SMPPAddr+"?bind=rx", &smpp.ClientConfig{Inbound: inbound, NoReconnect: true})
		if err != nil {
			t.Fatal(err)
		}
		defer rx.Close()
	}
	deadline := time.Now().Add(60 * time.Second)
	for missing() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged messages never got their receipt after the restart", missing(), total)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A receipt sent before the kill may be for a state change the kill
	// kept from the store: that message is resumed and delivered (and its
	// receipt sent) again. Wait for the daemon to have nothing left to do.
	for deadline := time.Now().Add(60 * time.Second); ; {
		if r := ready(t, d2.HTTPAddr); r.Pending == 0 && r.Waiting == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("smppd still busy after the restart: %+v", ready(t, d2.HTTPAddr))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Every acknowledged message is known to query_sm (asked by its own
	// account: another's messages are not its business).
	errs := make(chan error, total)
	var qwg sync.WaitGroup
	for _, account := range []string{"tx", "trx"} {
		q, err := smpp.Dial(context.Background(), "smpp://"+account+":pw@"+d2.SMPPAddr+"?bind=tx", &smpp.ClientConfig{OutboundWindow: 100, NoReconnect: true})
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		ids := make(chan string, total)
		for id, a := range accepted {
			if a == account {
				ids <- id
			}
		}
		close(ids)
		for range 50 {
			qwg.Add(1)
			go func() {
				defer qwg.Done()
				for id := range ids {
					r, err := q.Query(context.Background(), &pdu.QuerySM{MessageID: id, SourceAddr: "Crash"})
					if err != nil {
						errs <- fmt.Errorf("query_sm %s: %v", id, err)
						continue
					}
					if r.MessageState != pdu.StateDelivered {
						errs <- fmt.Errorf("query_sm %s: state %v", id, r.MessageState)
					}
				}
			}()
		}
	}
	qwg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 10 {
			t.Error(err)
		}
	}
	if n > 0 {
		t.Fatalf("%d of %d acknowledged messages wrong after the restart", n, total)
	}
}

type readiness struct {
	Pending int `json:"pending_messages"`
	Waiting int `json:"waiting_deliveries"`
}

func ready(t *testing.T, addr string) readiness {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/ready")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r readiness
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

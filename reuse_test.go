package smpp

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/smppkit/smpp/pdu"
)

// With ReusePDUs a server recycles Requests and their PDUs, but never while
// a handler or a detached response still holds one: every handler sees its
// own request whole until it has both returned and responded, and the
// values it kept (strings, slices) never change.
func TestServerReusesRequestsOnlyWhenDone(t *testing.T) {
	const n = 2000
	var (
		mu       sync.Mutex
		requests = map[*Request]bool{}
		kept     []string // source_addr of every request, kept past its end
		late     sync.WaitGroup
	)
	// Each request carries its sequence number as text and source_addr:
	// a request recycled too early would show another one's.
	check := func(r *Request, p *pdu.SubmitSM) bool {
		want := strconv.Itoa(int(p.SequenceNumber))
		if r.PDU != pdu.PDU(p) || string(p.ShortMessage) != want || p.SourceAddr != want {
			t.Errorf("request changed under its handler: seq %d, text %q, source_addr %q", p.SequenceNumber, p.ShortMessage, p.SourceAddr)
			return false
		}
		return true
	}
	// Inline, so that the handler sees the requests in order (kept).
	addr := testServer(t, &Server{InboundWindow: n, ReusePDUs: true, HandlerMode: HandleInline, Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		p := r.PDU.(*pdu.SubmitSM)
		check(r, p)
		mu.Lock()
		requests[r] = true
		kept = append(kept, p.SourceAddr)
		mu.Unlock()
		if p.SequenceNumber%3 != 0 {
			w.Respond(&pdu.SubmitSMResp{MessageID: p.SourceAddr})
			check(r, p) // responded, not yet returned: still ours
			return
		}
		// Every third one answers after the handler has returned.
		w.Detach()
		late.Add(1)
		go func() {
			defer late.Done()
			check(r, p)
			w.Respond(&pdu.SubmitSMResp{MessageID: p.SourceAddr})
		}()
	})})
	peer := dialRaw(t, addr)
	peer.send(&pdu.BindTransmitter{Header: hdr(1), SystemID: "u", InterfaceVersion: 0x34})
	peer.expect(pdu.BindTransmitterRespID, 0, 1)
	go func() {
		for seq := uint32(2); seq < n+2; seq++ {
			s := strconv.Itoa(int(seq))
			peer.send(&pdu.SubmitSM{Header: hdr(seq), SourceAddr: s, DestinationAddr: "1", ShortMessage: []byte(s)})
		}
	}()
	for range n {
		resp := peer.read().(*pdu.SubmitSMResp)
		if resp.CommandStatus != 0 || resp.MessageID != strconv.Itoa(int(resp.SequenceNumber)) {
			t.Fatalf("response %+v", resp)
		}
	}
	late.Wait()
	mu.Lock()
	defer mu.Unlock()
	for i, s := range kept {
		if s != strconv.Itoa(i+2) {
			t.Fatalf("kept source_addr %d changed to %q", i+2, s)
		}
	}
	// A third are detached, and detached Requests are never recycled.
	if len(requests) >= n*3/4 {
		t.Fatalf("%d Requests for %d requests: they are not being recycled", len(requests), n)
	}
}

// Without ReusePDUs every request is new and may be kept for good.
func TestServerWithoutReuseKeepsRequests(t *testing.T) {
	var mu sync.Mutex
	var kept []*pdu.SubmitSM
	addr := testServer(t, &Server{Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		mu.Lock()
		kept = append(kept, r.PDU.(*pdu.SubmitSM))
		mu.Unlock()
		w.Respond(&pdu.SubmitSMResp{MessageID: "x"})
	})})
	c, err := Dial(context.Background(), "smpp://u:p@"+addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 50 {
		if _, err := c.Submit(context.Background(), &pdu.SubmitSM{DestinationAddr: strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, p := range kept {
		if p.DestinationAddr != strconv.Itoa(i) {
			t.Fatalf("kept request %d changed: %q", i, p.DestinationAddr)
		}
	}
}

// With ReusePDUs a client lends each response to its CallAsync callback
// and reuses the struct afterwards; Call's responses are the caller's.
func TestClientReusesLentResponses(t *testing.T) {
	addr := testServer(t, &Server{Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		w.Respond(&pdu.SubmitSMResp{MessageID: r.PDU.(*pdu.SubmitSM).DestinationAddr})
	})})
	c, err := Dial(context.Background(), "smpp://u:p@"+addr, &ClientConfig{ReusePDUs: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	mine, err := c.Submit(ctx, &pdu.SubmitSM{DestinationAddr: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var mu sync.Mutex
	structs := map[pdu.PDU]bool{}
	ids := map[string]bool{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		err := c.CallAsync(ctx, &pdu.SubmitSM{DestinationAddr: strconv.Itoa(i)}, func(resp pdu.PDU, err error) {
			defer wg.Done()
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			structs[resp] = true
			ids[resp.(*pdu.SubmitSMResp).MessageID] = true
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if len(ids) != n {
		t.Fatalf("%d distinct message ids for %d calls", len(ids), n)
	}
	if len(structs) > n/2 {
		t.Fatalf("%d response structs for %d calls: not reused", len(structs), n)
	}
	if mine.MessageID != "mine" || structs[mine] {
		t.Fatalf("Call's response was reused: %+v", mine)
	}
}

// A handler that detaches, hands the request to a goroutine and then
// panics is answered ESME_RSYSERR; its Request must not be recycled, or the
// goroutine's late Respond would answer whichever request reused it.
func TestReuseDetachedThenPanicked(t *testing.T) {
	release, entered, hold := make(chan struct{}), make(chan struct{}), make(chan struct{})
	lateErr := make(chan error, 1)
	addr := testServer(t, &Server{ReusePDUs: true, Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		switch r.PDU.(*pdu.SubmitSM).SourceAddr {
		case "first":
			w.Detach()
			go func() {
				<-release
				lateErr <- w.Respond(&pdu.SubmitSMResp{MessageID: "late-for-first"})
			}()
			panic("boom")
		case "second":
			w.Detach()
			close(entered)
			go func() {
				<-hold
				w.Respond(&pdu.SubmitSMResp{MessageID: "second"})
			}()
		}
	})})
	peer := dialRaw(t, addr)
	peer.send(&pdu.BindTransmitter{Header: hdr(1), SystemID: "u", InterfaceVersion: 0x34})
	peer.expect(pdu.BindTransmitterRespID, 0, 1)
	peer.send(&pdu.SubmitSM{Header: hdr(2), SourceAddr: "first", DestinationAddr: "1"})
	peer.expect(pdu.SubmitSMRespID, pdu.ESME_RSYSERR, 2)
	peer.send(&pdu.SubmitSM{Header: hdr(3), SourceAddr: "second", DestinationAddr: "1"})
	<-entered
	close(release)
	if err := <-lateErr; !errors.Is(err, ErrResponded) {
		t.Fatalf("late Respond of the panicked request: %v, want ErrResponded", err)
	}
	close(hold)
	if x := peer.read().(*pdu.SubmitSMResp); x.SequenceNumber != 3 || x.MessageID != "second" {
		t.Fatalf("request 3 answered with %+v", x)
	}
}

// Two responders racing for one detached request (a timeout against the
// backend's answer): one wins, the other gets ErrResponded, and no other
// request is ever answered through it.
func TestReuseRacingResponders(t *testing.T) {
	var lost atomic.Int32
	var wg sync.WaitGroup
	addr := testServer(t, &Server{ReusePDUs: true, InboundWindow: 2000, Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		id := r.PDU.(*pdu.SubmitSM).SourceAddr
		w.Detach()
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if errors.Is(w.Respond(&pdu.SubmitSMResp{MessageID: id}), ErrResponded) {
					lost.Add(1)
				}
			}()
		}
	})})
	peer := dialRaw(t, addr)
	peer.send(&pdu.BindTransmitter{Header: hdr(1), SystemID: "u", InterfaceVersion: 0x34})
	peer.expect(pdu.BindTransmitterRespID, 0, 1)
	const n = 2000
	go func() {
		for seq := uint32(2); seq < n+2; seq++ {
			peer.send(&pdu.SubmitSM{Header: hdr(seq), SourceAddr: strconv.Itoa(int(seq)), DestinationAddr: "1"})
		}
	}()
	seen := map[uint32]bool{}
	for range n {
		resp := peer.read().(*pdu.SubmitSMResp)
		if resp.CommandStatus != 0 || resp.MessageID != strconv.Itoa(int(resp.SequenceNumber)) || seen[resp.SequenceNumber] {
			t.Fatalf("misdirected or repeated response %+v", resp)
		}
		seen[resp.SequenceNumber] = true
	}
	wg.Wait()
	if lost.Load() != n {
		t.Fatalf("%d responders got ErrResponded, want %d", lost.Load(), n)
	}
}

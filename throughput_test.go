package smpp

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppkit/smpp/pdu"
)

// answerAtOnce is the benchmarks' handler: it accepts every submit_sm at
// once, with a response it allocates, or (reuse) the Request's recycled one.
func answerAtOnce(reuse bool) Handler {
	return HandlerFunc(func(w ResponseWriter, r *Request) {
		if !reuse {
			w.Respond(&pdu.SubmitSMResp{MessageID: "0a1b2c3d4e"})
			return
		}
		resp := r.Response().(*pdu.SubmitSMResp)
		resp.MessageID = "0a1b2c3d4e"
		w.Respond(resp)
	})
}

// benchmarkThroughput drives conns client connections with window requests
// in flight each, against a Server whose handler answers at once; reuse
// sets ReusePDUs on both ends.
func benchmarkThroughput(b *testing.B, conns, window int, reuse bool) {
	addr := testServer(b, &Server{Handler: answerAtOnce(reuse), InboundWindow: window, ReusePDUs: reuse})
	ctx := context.Background()
	clients := make([]*Client, conns)
	for i := range clients {
		c, err := Dial(ctx, "smpp://bench:pw@"+addr+"?bind=tx", &ClientConfig{OutboundWindow: window, ReusePDUs: reuse})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
	}
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N / conns
	for i, c := range clients {
		n := per
		if i == 0 {
			n += b.N % conns
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var done sync.WaitGroup
			done.Add(n)
			p := &pdu.SubmitSM{SourceAddrTON: 5, SourceAddr: "Sender", DestAddrTON: 1, DestAddrNPI: 1,
				DestinationAddr: "491761234567", RegisteredDelivery: 1, ShortMessage: []byte("Hello world")}
			cb := func(_ pdu.PDU, err error) {
				if err != nil {
					b.Error(err)
				}
				done.Done()
			}
			for j := 0; j < n; j++ {
				if err := c.CallAsync(ctx, p, cb); err != nil {
					b.Error(err)
					done.Done()
				}
			}
			done.Wait()
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
}

func BenchmarkThroughput1x100(b *testing.B)      { benchmarkThroughput(b, 1, 100, false) }
func BenchmarkThroughput4x100(b *testing.B)      { benchmarkThroughput(b, 4, 100, false) }
func BenchmarkThroughput1x100Reuse(b *testing.B) { benchmarkThroughput(b, 1, 100, true) }
func BenchmarkThroughput4x100Reuse(b *testing.B) { benchmarkThroughput(b, 4, 100, true) }

// BenchmarkCallSync is one caller doing synchronous Calls: the round-trip
// cost of the request/response path.
func BenchmarkCallSync(b *testing.B) {
	addr := testServer(b, &Server{Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		w.Respond(&pdu.SubmitSMResp{MessageID: "1"})
	})})
	c, err := Dial(context.Background(), "smpp://bench:pw@"+addr, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	p := &pdu.SubmitSM{SourceAddr: "Sender", DestinationAddr: "491761234567", ShortMessage: []byte("Hello world")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Submit(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
}

func TestWriteCoalescingReport(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	var srvSess atomic.Pointer[Session]
	addr := testServer(t, &Server{Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		srvSess.Store(r.Session)
		w.Respond(&pdu.SubmitSMResp{MessageID: "0a1b2c3d4e"})
	}), InboundWindow: 100})
	c, err := Dial(context.Background(), "smpp://bench:pw@"+addr+"?bind=tx", &ClientConfig{OutboundWindow: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var done sync.WaitGroup
	p := &pdu.SubmitSM{SourceAddr: "Sender", DestinationAddr: "491761234567", ShortMessage: []byte("Hello world")}
	const n = 200000
	done.Add(n)
	for i := 0; i < n; i++ {
		c.CallAsync(context.Background(), p, func(pdu.PDU, error) { done.Done() })
	}
	done.Wait()
	s, _ := c.Session(context.Background())
	cs, ss := s.Stats(), srvSess.Load().Stats()
	t.Logf("client: %d writes, %.1f PDUs/write; server: %d writes, %.1f PDUs/write",
		cs.Writes, float64(n)/float64(cs.Writes), ss.Writes, float64(n)/float64(ss.Writes))
}

// replayConn feeds a session the same chunk of PDUs on every Read, a given
// number of times, and discards what it writes, counting octets: a
// session's per-PDU cost without the network.
type replayConn struct {
	net.Conn // (nil: only the methods below are used)
	chunk    []byte
	rest     []byte       // of the chunk being read
	left     atomic.Int64 // chunks still to read
	wrote    atomic.Int64 // PDUs written
	want     int64        // PDUs to write before done closes
	done     chan struct{}
	closed   chan struct{}
	once     sync.Once
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.rest) == 0 {
		if c.left.Add(-1) < 0 {
			<-c.closed
			return 0, io.EOF
		}
		c.rest = c.chunk
	}
	n := copy(p, c.rest)
	c.rest = c.rest[n:]
	return n, nil
}

func (c *replayConn) Write(p []byte) (int, error) {
	// Count PDUs, not octets: a session that went concurrent may answer
	// beyond its inbound window with a (shorter) ESME_RMSGQFUL.
	n := int64(0)
	for b := p; len(b) >= 4; b = b[binary.BigEndian.Uint32(b):] {
		n++
	}
	if c.wrote.Add(n) >= c.want {
		c.once.Do(func() { close(c.done) })
	}
	return len(p), nil
}

func (c *replayConn) Close() error {
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	return nil
}
func (c *replayConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *replayConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *replayConn) SetDeadline(time.Time) error      { return nil }
func (c *replayConn) SetReadDeadline(time.Time) error  { return nil }
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }

// benchmarkServerSession measures a bound server session's cost per
// submit_sm (read, decode, handler, response, write) in batches of 100,
// without the network.
func benchmarkServerSession(b *testing.B, reuse bool) {
	const batch = 100
	var chunk []byte
	p := &pdu.SubmitSM{SourceAddrTON: 5, SourceAddr: "Sender", DestAddrTON: 1, DestAddrNPI: 1,
		DestinationAddr: "491761234567", RegisteredDelivery: 1, ShortMessage: []byte("Hello world")}
	for i := range batch {
		p.SequenceNumber = uint32(i + 1)
		chunk, _ = pdu.Append(chunk, p)
	}
	chunks := (b.N + batch - 1) / batch
	conn := &replayConn{chunk: chunk, want: int64(chunks * batch), done: make(chan struct{}), closed: make(chan struct{})}
	conn.left.Store(int64(chunks))
	srv := &Server{InboundWindow: 1000, ReusePDUs: reuse, Handler: answerAtOnce(reuse)}
	b.ReportAllocs()
	b.ResetTimer()
	s := srv.startSession(conn, StateBoundTX)
	<-conn.done
	b.StopTimer()
	s.Close()
}

func BenchmarkServerSession(b *testing.B)      { benchmarkServerSession(b, false) }
func BenchmarkServerSessionReuse(b *testing.B) { benchmarkServerSession(b, true) }

// answeringConn plays an SMSC that answers every submit_sm at once: what
// the session writes is scanned for submit_sm headers, and a submit_sm_resp
// for each is queued for the session to read. A client session's per-PDU
// cost without the network.
type answeringConn struct {
	replayConn
	mu      sync.Mutex
	ready   sync.Cond
	pending []byte
	reading []byte
	resp    []byte // a submit_sm_resp to copy, sequence number patched
	partial []byte // the start of a PDU split across writes
}

func newAnsweringConn() *answeringConn {
	c := &answeringConn{}
	c.ready.L = &c.mu
	c.closed = make(chan struct{})
	c.resp, _ = pdu.Marshal(&pdu.SubmitSMResp{MessageID: "0a1b2c3d4e"})
	return c
}

func (c *answeringConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	b := append(c.partial, p...)
	for len(b) >= 16 {
		n := int(binary.BigEndian.Uint32(b))
		if len(b) < n {
			break
		}
		if pdu.CommandID(binary.BigEndian.Uint32(b[4:])) == pdu.SubmitSMID {
			c.pending = append(c.pending, c.resp...)
			copy(c.pending[len(c.pending)-len(c.resp)+12:], b[12:16])
		}
		b = b[n:]
	}
	c.partial = append(c.partial[:0], b...)
	c.ready.Signal()
	c.mu.Unlock()
	return len(p), nil
}

func (c *answeringConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.pending) == 0 {
		select {
		case <-c.closed:
			return 0, io.EOF
		default:
		}
		c.ready.Wait()
	}
	n := copy(p, c.pending)
	c.pending = append(c.pending[:0], c.pending[n:]...)
	return n, nil
}

func (c *answeringConn) Close() error {
	c.replayConn.Close()
	c.mu.Lock()
	c.ready.Broadcast()
	c.mu.Unlock()
	return nil
}

// benchmarkClientSession measures a bound client session's cost per
// submit_sm with 100 in flight, each response issuing the next request
// from its callback (as smpp bench does), without the network.
func benchmarkClientSession(b *testing.B, reuse bool) {
	conn := newAnsweringConn()
	s := newSession(conn, ESME, settings{outboundWindow: 100, reuse: reuse})
	s.state.Store(int32(StateBoundTX))
	s.start()
	defer s.Close()
	p := &pdu.SubmitSM{SourceAddrTON: 5, SourceAddr: "Sender", DestAddrTON: 1, DestAddrNPI: 1,
		DestinationAddr: "491761234567", RegisteredDelivery: 1, ShortMessage: []byte("Hello world")}
	var left atomic.Int64
	left.Store(int64(b.N))
	var done sync.WaitGroup
	done.Add(b.N)
	var next func(pdu.PDU, error)
	next = func(_ pdu.PDU, err error) {
		if err != nil {
			b.Error(err)
		}
		if left.Add(-1) >= 0 {
			if err := s.TryCallAsync(p, next); err != nil {
				b.Error(err)
			}
		}
		done.Done()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range min(100, b.N) {
		if left.Add(-1) >= 0 {
			if err := s.CallAsync(context.Background(), &pdu.SubmitSM{SourceAddrTON: 5, SourceAddr: "Sender", DestAddrTON: 1, DestAddrNPI: 1,
				DestinationAddr: "491761234567", RegisteredDelivery: 1, ShortMessage: []byte("Hello world")}, next); err != nil {
				b.Fatal(err)
			}
		}
	}
	done.Wait()
}

func BenchmarkClientSession(b *testing.B)      { benchmarkClientSession(b, false) }
func BenchmarkClientSessionReuse(b *testing.B) { benchmarkClientSession(b, true) }

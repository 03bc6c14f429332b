package smpp

import (
	"sync"
	"sync/atomic"

	"github.com/smppkit/smpp/pdu"
)

// Stats is a snapshot of a session's counters.
type Stats struct {
	// Sent and Received count PDUs by command name ("submit_sm",
	// "submit_sm_resp", …).
	Sent     map[string]uint64
	Received map[string]uint64
	// SentErrors and ReceivedErrors count responses with a non-zero
	// status, by "command status" ("submit_sm_resp ESME_RTHROTTLED").
	SentErrors     map[string]uint64
	ReceivedErrors map[string]uint64
	// Timeouts counts requests that got no response in time.
	Timeouts uint64
	// WindowWaits counts requests that had to wait for window room.
	WindowWaits uint64
	// WindowRejects counts peer requests refused because the inbound
	// window was full.
	WindowRejects uint64
	// Unmatched counts responses that matched no pending request (late).
	Unmatched uint64
	// DecodeErrors counts PDUs that could not be framed or decoded.
	DecodeErrors uint64
	// Writes and BytesWritten count the writes to the connection: PDUs
	// sent per write says how well the writer coalesces.
	Writes, BytesWritten uint64
	// Takeovers counts readers replaced by a new one because a handler
	// was slow (the session then handles requests on workers) or the peer
	// stopped reading while the reader was writing.
	Takeovers uint64
}

// counters cost the hot path next to nothing: PDUs sent are counted under
// the writer's lock the encoder holds anyway (sentN), PDUs received by the
// reader in runs of one command that it adds at the end of each batch
// (recvN); error statuses go to a small map under a mutex.
type counters struct {
	sentN                                [64]uint64 // guarded by the session's writer.mu
	recvN                                [64]atomic.Uint64
	timeouts, windowWaits, windowRejects atomic.Uint64
	unmatched, decodeErrors              atomic.Uint64
	writes, bytesWritten, takeovers      atomic.Uint64
	mu                                   sync.Mutex
	sentErr, recvErr                     map[statusKey]uint64
}

type statusKey struct {
	id pdu.CommandID
	st pdu.Status
}

// commandIndex maps a command id to a slot; 63 holds every other id.
func commandIndex(id pdu.CommandID) int {
	base := uint32(id) & 0x7FFFFFFF
	var i int
	switch {
	case base <= 0x0B:
		i = int(base)
	case base == 0x15:
		i = 12
	case base == 0x21:
		i = 13
	case base >= 0x102 && base <= 0x103:
		i = 14 + int(base-0x102)
	case base >= 0x111 && base <= 0x113:
		i = 16 + int(base-0x111)
	default:
		return 63
	}
	if id.IsResponse() {
		i += 20
	}
	return i
}

// sent counts a PDU queued for writing; the session's writer.mu is held.
func (c *counters) sent(id pdu.CommandID, st pdu.Status) {
	c.sentN[commandIndex(id)]++
	if st != pdu.ESME_ROK {
		c.mu.Lock()
		if c.sentErr == nil {
			c.sentErr = map[statusKey]uint64{}
		}
		c.sentErr[statusKey{id, st}]++
		c.mu.Unlock()
	}
}

// received counts a PDU the reader rs has read; see flushReceived.
func (c *counters) received(rs *readerState, id pdu.CommandID, st pdu.Status) {
	if i := commandIndex(id); i != rs.recvIdx || rs.recvRun == 0 {
		c.flushReceived(rs)
		rs.recvIdx = i
	}
	rs.recvRun++
	if st != pdu.ESME_ROK {
		c.mu.Lock()
		if c.recvErr == nil {
			c.recvErr = map[statusKey]uint64{}
		}
		c.recvErr[statusKey{id, st}]++
		c.mu.Unlock()
	}
}

// flushReceived adds the reader's current run of one command to recvN.
func (c *counters) flushReceived(rs *readerState) {
	if rs.recvRun > 0 {
		c.recvN[rs.recvIdx].Add(rs.recvRun)
		rs.recvRun = 0
	}
}

// Stats returns a snapshot of the session's counters. PDUs received are
// counted at the end of each batch the reader works through, so a PDU
// being handled right now may not be in Received yet.
func (s *Session) Stats() Stats {
	c := &s.stats
	st := Stats{
		Sent: map[string]uint64{}, Received: map[string]uint64{},
		SentErrors: map[string]uint64{}, ReceivedErrors: map[string]uint64{},
		Timeouts: c.timeouts.Load(), WindowWaits: c.windowWaits.Load(), WindowRejects: c.windowRejects.Load(),
		Unmatched: c.unmatched.Load(), DecodeErrors: c.decodeErrors.Load(),
		Writes: c.writes.Load(), BytesWritten: c.bytesWritten.Load(), Takeovers: c.takeovers.Load(),
	}
	sent := s.wr.sentCounts()
	for _, id := range allCommandIDs {
		if n := sent[commandIndex(id)]; n > 0 {
			st.Sent[id.String()] = n
		}
		if n := c.recvN[commandIndex(id)].Load(); n > 0 {
			st.Received[id.String()] = n
		}
	}
	if n := sent[63]; n > 0 {
		st.Sent["other"] = n
	}
	if n := c.recvN[63].Load(); n > 0 {
		st.Received["other"] = n
	}
	c.mu.Lock()
	for k, n := range c.sentErr {
		st.SentErrors[k.id.String()+" "+k.st.String()] = n
	}
	for k, n := range c.recvErr {
		st.ReceivedErrors[k.id.String()+" "+k.st.String()] = n
	}
	c.mu.Unlock()
	return st
}

var allCommandIDs = []pdu.CommandID{
	pdu.GenericNackID, pdu.BindReceiverID, pdu.BindReceiverRespID, pdu.BindTransmitterID, pdu.BindTransmitterRespID,
	pdu.QuerySMID, pdu.QuerySMRespID, pdu.SubmitSMID, pdu.SubmitSMRespID, pdu.DeliverSMID, pdu.DeliverSMRespID,
	pdu.UnbindID, pdu.UnbindRespID, pdu.ReplaceSMID, pdu.ReplaceSMRespID, pdu.CancelSMID, pdu.CancelSMRespID,
	pdu.BindTransceiverID, pdu.BindTransceiverRespID, pdu.OutbindID, pdu.EnquireLinkID, pdu.EnquireLinkRespID,
	pdu.SubmitMultiID, pdu.SubmitMultiRespID, pdu.AlertNotificationID, pdu.DataSMID, pdu.DataSMRespID,
	pdu.BroadcastSMID, pdu.BroadcastSMRespID, pdu.QueryBroadcastSMID, pdu.QueryBroadcastSMRespID,
	pdu.CancelBroadcastSMID, pdu.CancelBroadcastSMRespID,
}

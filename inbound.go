package smpp

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppkit/smpp/dlr"
	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/text"
)

// InboundMessage is a mobile-originated message, reassembled when it came
// in several parts.
type InboundMessage struct {
	From, To         string
	FromTON, FromNPI uint8
	ToTON, ToNPI     uint8
	// Text is the message decoded per its data_coding (empty for binary
	// data; see Data).
	Text       string
	Coding     text.Coding
	DataCoding uint8
	// Data is the user data of all parts, without UDHs.
	Data []byte
	// Parts is how many parts the message came in.
	Parts int
	// Incomplete is set when some parts never arrived before the
	// reassembly timeout; Text holds what did.
	Incomplete bool
	// PDU is the deliver_sm or data_sm that completed the message (nil for
	// an incomplete message delivered at timeout). With ReusePDUs it is
	// valid only while OnMessage runs (see Request); the other fields are
	// always the application's to keep.
	PDU pdu.PDU
	// Session is the session the last part came on.
	Session *Session
}

// Receipt is a delivery receipt or intermediate notification.
type Receipt struct {
	dlr.Receipt
	// From and To are the receipt's addresses (the original destination
	// and source).
	From, To string
	// Intermediate is set for an intermediate notification (esm_class 0x20).
	Intermediate bool
	// Sent is the message this receipt is about when Send sent it in this
	// process (matched by message id), nil otherwise.
	Sent *SentMessage
	// ParseErr is set when the receipt text could not be read; Raw keeps it.
	ParseErr error
	// PDU is the deliver_sm or data_sm; with ReusePDUs it is valid only
	// while OnReceipt runs (see Request).
	PDU pdu.PDU
}

// SentMessage is what Send remembers of a message for matching receipts.
type SentMessage struct {
	// IDs holds the message id of each part, in part order; a part not
	// (yet) accepted has "".
	IDs  []string
	To   string
	Text string
	At   time.Time
}

// Inbound is a Handler for the ESME side that does what every application
// needs: it answers deliver_sm and data_sm, reassembles concatenated
// messages (UDH or SAR), parses delivery receipts and matches them with the
// ids Send returned, and tells receipts from mobile-originated messages.
type Inbound struct {
	// OnMessage gets each whole MO message. Its status answers the part
	// that completed the message (ESME_ROK accepts; ESME_RX_T_APPN asks
	// the SMSC to retry); earlier parts are accepted as they come. Nil
	// accepts and drops MO messages.
	OnMessage func(ctx context.Context, m *InboundMessage) pdu.Status
	// OnReceipt gets each receipt; its status answers the PDU. Nil accepts.
	OnReceipt func(ctx context.Context, r *Receipt) pdu.Status
	// OnAlert gets alert_notification PDUs (with ReusePDUs, valid only
	// while it runs).
	OnAlert func(a *pdu.AlertNotification)
	// Codec says how the link reads data_coding 0 and GSM packing.
	Codec *text.Codec
	// ReassemblyTimeout bounds the wait for missing parts (default 5 min);
	// then the message is given to OnMessage marked Incomplete.
	ReassemblyTimeout time.Duration
	// Parser reads receipt texts (dates in UTC by default).
	Parser dlr.Parser

	once     sync.Once
	re       *text.Reassembler
	expiring atomic.Bool
	sentMu   sync.Mutex
	sent     map[string]*SentMessage
	sentAt   []sentEntry // FIFO for expiry
}

type sentEntry struct {
	id string
	at time.Time
}

// How long and how many message ids are remembered for receipts.
const (
	sentTTL = 72 * time.Hour
	sentMax = 1 << 20
)

func (in *Inbound) init() {
	in.once.Do(func() {
		in.re = &text.Reassembler{Codec: in.Codec, Timeout: in.ReassemblyTimeout}
		in.sent = map[string]*SentMessage{}
	})
}

// remember records the id of part i of a sent message for receipt matching.
func (in *Inbound) remember(m *SentMessage, i int, id string) {
	in.init()
	in.sentMu.Lock()
	defer in.sentMu.Unlock()
	m.IDs[i] = id
	in.sent[id] = m
	in.sentAt = append(in.sentAt, sentEntry{id, m.At})
	// Forget the oldest beyond the bounds.
	cut := 0
	for cut < len(in.sentAt) && (len(in.sentAt)-cut > sentMax || time.Since(in.sentAt[cut].at) > sentTTL) {
		if old := in.sent[in.sentAt[cut].id]; old != nil && old.At.Equal(in.sentAt[cut].at) {
			delete(in.sent, in.sentAt[cut].id)
		}
		cut++
	}
	if cut > 0 {
		in.sentAt = append(in.sentAt[:0], in.sentAt[cut:]...)
	}
}

// lookup returns a copy of what was sent under id: the original's IDs are
// still being filled in while Send runs.
func (in *Inbound) lookup(id string) *SentMessage {
	in.sentMu.Lock()
	defer in.sentMu.Unlock()
	m := in.sent[id]
	if m == nil {
		return nil
	}
	cp := *m
	cp.IDs = slices.Clone(m.IDs)
	return &cp
}

// ServeSMPP implements Handler.
func (in *Inbound) ServeSMPP(w ResponseWriter, r *Request) {
	in.init()
	var (
		esm, dc        uint8
		src, dst       string
		srcTON, srcNPI uint8
		dstTON, dstNPI uint8
		data           []byte
		tlvs           pdu.TLVs
	)
	switch p := r.PDU.(type) {
	case *pdu.DeliverSM:
		esm, dc, src, dst, data, tlvs = p.ESMClass, p.DataCoding, p.SourceAddr, p.DestinationAddr, p.ShortMessage, p.TLVs
		srcTON, srcNPI, dstTON, dstNPI = p.SourceAddrTON, p.SourceAddrNPI, p.DestAddrTON, p.DestAddrNPI
	case *pdu.DataSM:
		esm, dc, src, dst, tlvs = p.ESMClass, p.DataCoding, p.SourceAddr, p.DestinationAddr, p.TLVs
		srcTON, srcNPI, dstTON, dstNPI = p.SourceAddrTON, p.SourceAddrNPI, p.DestAddrTON, p.DestAddrNPI
	case *pdu.AlertNotification:
		if in.OnAlert != nil {
			in.OnAlert(p)
		}
		return
	default:
		w.RespondStatus(pdu.ESME_RINVCMDID)
		return
	}
	if payload, ok := tlvs.Get(pdu.TagMessagePayload); ok && len(data) == 0 {
		data = payload
	}
	if t := esm & 0x3C; t == 0x04 || t == 0x20 {
		rc, err := in.Parser.Parse(data, tlvs)
		rec := &Receipt{Receipt: rc, From: src, To: dst, Intermediate: t == 0x20, ParseErr: err, PDU: r.PDU}
		if rc.ID != "" {
			rec.Sent = in.lookup(rc.ID)
		}
		st := pdu.ESME_ROK
		if in.OnReceipt != nil {
			st = in.OnReceipt(r.Context(), rec)
		}
		w.RespondStatus(st)
		return
	}
	part := text.Part{Source: src, Dest: dst, DataCoding: dc, UDHI: esm&0x40 != 0, Data: data}
	ref, okRef := tlvs.Uint16(pdu.TagSarMsgRefNum)
	total, okTotal := tlvs.Uint8(pdu.TagSarTotalSegments)
	seq, okSeq := tlvs.Uint8(pdu.TagSarSegmentSeqnum)
	if okRef && okTotal && okSeq {
		part.SAR = &text.SAR{Ref: ref, Total: total, Seq: seq}
	}
	msg, done, err := in.re.Add(part)
	if err != nil {
		// A malformed UDH: the message cannot be read, and retrying
		// will not help.
		w.RespondStatus(pdu.ESME_RX_R_APPN)
		return
	}
	if !done {
		w.RespondStatus(pdu.ESME_ROK)
		in.expireLater(r.Session)
		return
	}
	m := &InboundMessage{From: src, To: dst, FromTON: srcTON, FromNPI: srcNPI, ToTON: dstTON, ToNPI: dstNPI,
		Text: msg.Text, Coding: msg.Coding, DataCoding: msg.DataCoding, Data: msg.Units, Parts: msg.Total,
		PDU: r.PDU, Session: r.Session}
	st := pdu.ESME_ROK
	if in.OnMessage != nil {
		st = in.OnMessage(r.Context(), m)
	}
	w.RespondStatus(st)
}

// expireLater runs one goroutine per Inbound, while parts wait, that hands
// timed-out messages to OnMessage as incomplete.
func (in *Inbound) expireLater(s *Session) {
	if !in.expiring.CompareAndSwap(false, true) {
		return
	}
	timeout := in.ReassemblyTimeout
	if timeout <= 0 {
		timeout = text.DefaultReassemblyTimeout
	}
	go func() {
		defer in.expiring.Store(false)
		t := time.NewTicker(max(timeout/8, 10*time.Millisecond))
		defer t.Stop()
		for range t.C {
			for _, msg := range in.re.Expire(time.Now()) {
				if in.OnMessage != nil {
					in.OnMessage(context.Background(), &InboundMessage{From: msg.Source, To: msg.Dest, Text: msg.Text,
						Coding: msg.Coding, DataCoding: msg.DataCoding, Data: msg.Units, Parts: msg.Total,
						Incomplete: true, Session: s})
				}
			}
			if in.re.Pending() == 0 {
				return
			}
		}
	}()
}

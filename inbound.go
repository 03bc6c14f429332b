package smpp

import (
	"context"
	"fmt"
	"slices"
	"strconv"
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
	// process (matched by message id, see Inbound.ReceiptIDs), nil
	// otherwise: for a message sent another way, in another process, too
	// long ago, or whose id matches none (or, in another base, more than
	// one). When the match was in another base, ID is the id as Send
	// returned it and TextID the receipt's.
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
//
// Receipt matching has limits. Only messages sent by Client.Send with
// Message.Receipt set, on a client whose ClientConfig.Inbound is this
// Inbound, are remembered (not Submit or CallAsync), in memory: a restart
// forgets them. Each id is remembered for 72 hours, and at most 1,048,576
// ids per Inbound; beyond either
// bound the oldest are forgotten first, and their receipts arrive with
// Receipt.Sent nil. An application that must match every receipt whatever
// happens keeps the ids Send returns in its own store.
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
	// ReceiptIDs says how a receipt's message id is matched with the ids
	// submit_sm_resp gave. Many SMSCs write the receipt's id in decimal
	// while submit_sm_resp had it in hexadecimal, or the reverse (Kannel's
	// msg-id-type setting is for this); the default, IDAuto, copes.
	ReceiptIDs ReceiptIDs

	once     sync.Once
	re       *text.Reassembler
	expiring atomic.Bool
	sentMu   sync.Mutex
	sent     map[string]*SentMessage
	sentAt   []sentEntry // FIFO for expiry
	// The numeric value of each remembered id read as hexadecimal and as
	// decimal (where it parses), for matching in the other base.
	byHex, byDec map[uint64]string
}

// ReceiptIDs is a policy for matching a receipt's message id with the ids
// Send returned. The id as written is always tried first.
type ReceiptIDs uint8

const (
	// IDAuto also matches an id written in the other base, hexadecimal for
	// decimal or decimal for hexadecimal (and ignores hex case and leading
	// zeros), when exactly one remembered id fits: receipt "1714945" finds
	// "1a2b01". If two fit, no receipt is better than the wrong one.
	IDAuto ReceiptIDs = iota
	// IDExact matches the id exactly as written.
	IDExact
	// IDHexInDecimal: receipts write in decimal the ids submit_sm_resp
	// gave in hexadecimal ("1714945" for "1a2b01").
	IDHexInDecimal
	// IDDecimalInHex: receipts write in hexadecimal the ids submit_sm_resp
	// gave in decimal ("1a2b01" for "1714945").
	IDDecimalInHex
)

func (p ReceiptIDs) String() string {
	switch p {
	case IDAuto:
		return "auto"
	case IDExact:
		return "exact"
	case IDHexInDecimal:
		return "hex-in-decimal"
	case IDDecimalInHex:
		return "decimal-in-hex"
	}
	return "ReceiptIDs(" + strconv.Itoa(int(p)) + ")"
}

// ParseReceiptIDs reads a policy by its String name.
func ParseReceiptIDs(s string) (ReceiptIDs, error) {
	for p := IDAuto; p <= IDDecimalInHex; p++ {
		if s == p.String() {
			return p, nil
		}
	}
	return 0, fmt.Errorf("smpp: unknown receipt id policy %q (want auto, exact, hex-in-decimal or decimal-in-hex)", s)
}

// idValue returns the value of id read in base 16 or 10, if it is a number
// in that base that fits 64 bits.
func idValue(id string, base int) (uint64, bool) {
	if id == "" || len(id) > 20 {
		return 0, false
	}
	v, err := strconv.ParseUint(id, base, 64)
	return v, err == nil
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
		in.byHex = map[uint64]string{}
		in.byDec = map[uint64]string{}
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
	if in.ReceiptIDs != IDExact {
		if v, ok := idValue(id, 16); ok {
			in.byHex[v] = id
		}
		if v, ok := idValue(id, 10); ok {
			in.byDec[v] = id
		}
	}
	// Forget the oldest beyond the bounds.
	cut := 0
	for cut < len(in.sentAt) && (len(in.sentAt)-cut > sentMax || time.Since(in.sentAt[cut].at) > sentTTL) {
		oldID := in.sentAt[cut].id
		if old := in.sent[oldID]; old != nil && old.At.Equal(in.sentAt[cut].at) {
			delete(in.sent, oldID)
			if v, ok := idValue(oldID, 16); ok && in.byHex[v] == oldID {
				delete(in.byHex, v)
			}
			if v, ok := idValue(oldID, 10); ok && in.byDec[v] == oldID {
				delete(in.byDec, v)
			}
		}
		cut++
	}
	if cut > 0 {
		in.sentAt = append(in.sentAt[:0], in.sentAt[cut:]...)
	}
}

// match finds the message a receipt's id is about, by in.ReceiptIDs, and
// returns a copy of it (the original's IDs are still being filled in while
// Send runs) with the id it was remembered under.
func (in *Inbound) match(id string) (*SentMessage, string) {
	in.init()
	in.sentMu.Lock()
	defer in.sentMu.Unlock()
	m := in.sent[id]
	if m == nil && id != "" && in.ReceiptIDs != IDExact {
		// Every remembered id the receipt's could be, in the bases the
		// policy allows; only a single one is a match.
		var found string
		n := 0
		try := func(idx map[uint64]string, v uint64, ok bool) {
			if c, hit := idx[v]; ok && hit && c != found {
				found = c
				n++
			}
		}
		hexV, isHex := idValue(id, 16)
		decV, isDec := idValue(id, 10)
		switch in.ReceiptIDs {
		case IDAuto:
			try(in.byHex, hexV, isHex) // the same base, other case or zeros
			try(in.byDec, decV, isDec)
			try(in.byHex, decV, isDec) // the other base
			try(in.byDec, hexV, isHex)
		case IDHexInDecimal:
			try(in.byHex, decV, isDec)
		case IDDecimalInHex:
			try(in.byDec, hexV, isHex)
		}
		if n == 1 {
			id, m = found, in.sent[found]
		}
	}
	if m == nil {
		return nil, ""
	}
	cp := *m
	cp.IDs = slices.Clone(m.IDs)
	return &cp, id
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
		// The id (the TLV's, else the text's), then the text's if that
		// differs.
		for _, id := range []string{rc.ID, rc.TextID} {
			if id == "" {
				continue
			}
			if sent, as := in.match(id); sent != nil {
				rec.Sent, rec.ID = sent, as
				break
			}
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

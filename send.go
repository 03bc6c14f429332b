package smpp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smppkit/smpp/pdu"
	"github.com/smppkit/smpp/text"
)

// Message is a text message for Send.
type Message struct {
	// From and To are the source and destination addresses. Their TON and
	// NPI are chosen from their form (see GuessTON) unless ExplicitTON.
	From, To string
	// ExplicitTON uses FromTON/FromNPI/ToTON/ToNPI as given.
	ExplicitTON      bool
	FromTON, FromNPI uint8
	ToTON, ToNPI     uint8

	Text string
	// Coding is the text coding; text.Auto (the zero value) picks the
	// cheapest that carries the text.
	Coding text.Coding
	// Split is how a long text is split (text.SplitUDH8 by default).
	Split text.Method
	// Receipt asks for a delivery receipt (registered_delivery 1).
	Receipt bool
	// Validity and Schedule set validity_period (relative) and
	// schedule_delivery_time (absolute); zero leaves them NULL.
	Validity time.Duration
	Schedule time.Time
	// ServiceType, PriorityFlag and ProtocolID go into every part.
	ServiceType  string
	PriorityFlag uint8
	ProtocolID   uint8
	// TLVs are added to every part.
	TLVs pdu.TLVs
	// Codec is the link's text settings (data_coding 0 meaning, packing,
	// national tables); nil is the common default.
	Codec *text.Codec
}

// GuessTON returns the address to send for a, with the TON and NPI its form
// implies. The guess is conservative, because a wrong "international" sends
// a national number to another country:
//
//   - "" is left to the SMSC: TON 0, NPI 0 (unknown/unknown);
//   - "+" or "00" and digits is international: TON 1, NPI 1 (ISDN/E.164),
//     the prefix dropped ("+491761234567" → "491761234567");
//   - other digits, whatever their length, are unknown: TON 0, NPI 1 (the
//     SMSC reads them as it reads a dialled number: "01761234567" stays
//     national, "12345" a short code);
//   - anything else is alphanumeric: TON 5, NPI 0.
//
// Set Message.ExplicitTON to send other values.
func GuessTON(a string) (addr string, ton, npi uint8) {
	if a == "" {
		return "", 0, 0
	}
	digits := a
	switch {
	case strings.HasPrefix(a, "+"):
		digits = a[1:]
	case strings.HasPrefix(a, "00"):
		digits = a[2:]
	}
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return a, 5, 0
		}
	}
	if digits == "" {
		return a, 5, 0
	}
	if len(digits) != len(a) {
		return digits, 1, 1
	}
	return a, 0, 1
}

// Send encodes m's text (choosing the coding), splits it as needed, submits
// every part through the window and returns the message ids in part order.
// With Receipt set and ClientConfig.Inbound in use, the ids are remembered so
// that receipts are matched back (Receipt.Sent). If a part fails, the ids of
// the parts accepted so far are returned with the error.
func (c *Client) Send(ctx context.Context, m Message) ([]string, error) {
	split, err := m.Codec.Split(m.Text, m.Coding, m.Split)
	if err != nil {
		return nil, err
	}
	tmpl := pdu.SubmitSM{ServiceType: m.ServiceType, ProtocolID: m.ProtocolID, PriorityFlag: m.PriorityFlag, DataCoding: split.DataCoding}
	if m.ExplicitTON {
		tmpl.SourceAddr, tmpl.SourceAddrTON, tmpl.SourceAddrNPI = m.From, m.FromTON, m.FromNPI
		tmpl.DestinationAddr, tmpl.DestAddrTON, tmpl.DestAddrNPI = m.To, m.ToTON, m.ToNPI
	} else {
		tmpl.SourceAddr, tmpl.SourceAddrTON, tmpl.SourceAddrNPI = GuessTON(m.From)
		tmpl.DestinationAddr, tmpl.DestAddrTON, tmpl.DestAddrNPI = GuessTON(m.To)
	}
	if m.Receipt {
		tmpl.RegisteredDelivery = 1
	}
	if m.Validity > 0 {
		tmpl.ValidityPeriod = pdu.FormatRelative(m.Validity)
	}
	if !m.Schedule.IsZero() {
		tmpl.ScheduleDeliveryTime = pdu.FormatAbsolute(m.Schedule)
	}
	parts := make([]*pdu.SubmitSM, len(split.Segments))
	for i, seg := range split.Segments {
		p := tmpl
		p.TLVs = append(pdu.TLVs(nil), m.TLVs...)
		if split.Payload {
			p.TLVs.Set(pdu.TagMessagePayload, seg.Data)
		} else {
			p.ShortMessage = seg.Data
		}
		if seg.UDHI {
			p.ESMClass |= 0x40
		}
		if seg.SAR != nil {
			p.TLVs.SetUint16(pdu.TagSarMsgRefNum, seg.SAR.Ref)
			p.TLVs.SetUint8(pdu.TagSarTotalSegments, seg.SAR.Total)
			p.TLVs.SetUint8(pdu.TagSarSegmentSeqnum, seg.SAR.Seq)
		}
		parts[i] = &p
	}
	ids := make([]string, len(parts))
	errs := make([]error, len(parts))
	// The ids are remembered for receipt matching as each response comes
	// in, on the session's reader, so that a receipt the SMSC sends right
	// behind its submit_sm_resp always finds them.
	var sent *SentMessage
	if c.cfg.Inbound != nil && m.Receipt {
		sent = &SentMessage{IDs: make([]string, len(parts)), To: m.To, Text: m.Text, At: time.Now()}
	}
	// Parts go out in order from this goroutine; CallAsync waits only for
	// window room, so they are still pipelined. Throttled parts are sent
	// again after the pause.
	type partResult struct {
		i   int
		id  string // the message id, from a submit_sm_resp
		got pdu.CommandID
		err error
	}
	results := make(chan partResult, len(parts))
	submit := func(i int) error {
		s, err := c.Session(ctx)
		if err != nil {
			return err
		}
		if err := c.waitThrottle(ctx); err != nil {
			return err
		}
		return s.CallAsync(ctx, parts[i], func(resp pdu.PDU, err error) {
			// resp is only lent to this callback: take what is needed.
			res := partResult{i: i, err: err}
			if resp != nil {
				res.got = resp.CommandID()
			}
			if r, ok := resp.(*pdu.SubmitSMResp); ok {
				res.id = r.MessageID
				if err == nil && sent != nil {
					c.cfg.Inbound.remember(sent, i, r.MessageID)
				}
			}
			results <- res
		})
	}
	waiting := 0
	for i := range parts {
		if err := submit(i); err != nil {
			errs[i] = err
			continue
		}
		waiting++
	}
	for waiting > 0 {
		var r partResult
		select {
		case r = <-results:
		case <-ctx.Done():
			for i := range parts {
				if ids[i] == "" && errs[i] == nil {
					errs[i] = ctx.Err()
				}
			}
			waiting = 0
			continue
		}
		waiting--
		if errors.Is(r.err, pdu.ESME_RTHROTTLED) && !c.cfg.NoThrottleRetry {
			c.throttled()
			if err := submit(r.i); err != nil {
				errs[r.i] = err
			} else {
				waiting++
			}
			continue
		}
		if r.err != nil {
			errs[r.i] = r.err
			continue
		}
		c.throttle.Store(0)
		if r.got == pdu.SubmitSMRespID {
			ids[r.i] = r.id
		} else {
			errs[r.i] = fmt.Errorf("smpp: submit_sm answered with %s", r.got)
		}
	}
	for i, err := range errs {
		if err != nil {
			errs[i] = fmt.Errorf("part %d of %d: %w", i+1, len(parts), err)
		}
	}
	var ok []string
	for _, id := range ids {
		if id != "" {
			ok = append(ok, id)
		}
	}
	return ok, errors.Join(errs...)
}

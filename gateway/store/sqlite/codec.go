package sqlite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/smppkit/smpp/gateway/store"
)

// The log's record payload is a store.Batch in a compact binary form of
// our own: a version byte, then each part as a count and its items, every
// field in the order of the store's types. Integers are unsigned varints
// (signed ones zig-zag), strings and byte slices a varint length and their
// bytes, times the 8 bytes of their encTime value. The encoding is only
// ever read back by this package, so it changes only with batchVersion.
const batchVersion = 1

// appendBatch appends b's encoding to dst. It fails, appending nothing of
// use, on what Apply refuses: a nil message or delivery, a message with no
// id, a time out of range.
func appendBatch(dst []byte, b *store.Batch) ([]byte, error) {
	var err error
	dst = append(dst, batchVersion)
	dst = binary.AppendUvarint(dst, uint64(len(b.Messages)))
	for _, m := range b.Messages {
		if dst, err = appendMessage(dst, m); err != nil {
			return dst, err
		}
	}
	// A replace of the id "" is of no message: a no-op, not logged.
	n := 0
	for _, m := range b.Replaces {
		if m == nil {
			return dst, errors.New("sqlite: nil replace")
		}
		if m.ID != "" {
			n++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	for _, m := range b.Replaces {
		if m.ID == "" {
			continue
		}
		if dst, err = appendMessage(dst, m); err != nil {
			return dst, err
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.Updates)))
	for i := range b.Updates {
		u := &b.Updates[i]
		dst = appendString(dst, u.ID)
		dst = append(dst, byte(u.State))
		dst = binary.AppendUvarint(dst, uint64(u.ErrorCode))
		dst = appendString(dst, u.BackendID)
		dst = binary.AppendVarint(dst, int64(u.Attempts))
		if dst, err = appendTime(dst, u.At); err != nil {
			return dst, fmt.Errorf("sqlite: update %s: %w", u.ID, err)
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.Deliveries)))
	for _, d := range b.Deliveries {
		if dst, err = appendDelivery(dst, d); err != nil {
			return dst, err
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.Retries)))
	for _, r := range b.Retries {
		dst = binary.AppendUvarint(dst, r.ID)
		dst = binary.AppendVarint(dst, int64(r.Attempts))
		if dst, err = appendTime(dst, r.NextAttempt); err != nil {
			return dst, fmt.Errorf("sqlite: retry %d: %w", r.ID, err)
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.Done)))
	for _, id := range b.Done {
		dst = binary.AppendUvarint(dst, id)
	}
	return dst, nil
}

func appendMessage(dst []byte, m *store.Message) ([]byte, error) {
	if m == nil || m.ID == "" {
		return dst, errors.New("sqlite: message with no id")
	}
	dst = appendString(dst, m.ID)
	dst = appendString(dst, m.Account)
	dst = appendString(dst, m.Route)
	dst = appendAddress(dst, m.Source)
	dst = appendAddress(dst, m.Dest)
	dst = appendString(dst, m.ServiceType)
	dst = append(dst, m.ESMClass, m.ProtocolID, m.Priority, m.RegisteredDelivery, m.DataCoding)
	dst = appendBytes(dst, m.Body)
	dst = appendBytes(dst, m.TLVs)
	dst = appendString(dst, m.Group)
	dst = append(dst, m.Part, m.Parts, byte(m.State))
	dst = binary.AppendUvarint(dst, uint64(m.ErrorCode))
	dst = appendString(dst, m.BackendID)
	dst = binary.AppendVarint(dst, int64(m.Attempts))
	var err error
	for _, t := range [...]time.Time{m.SubmittedAt, m.ScheduleAt, m.ExpireAt, m.DoneAt, m.UpdatedAt} {
		if dst, err = appendTime(dst, t); err != nil {
			return dst, fmt.Errorf("sqlite: message %s: %w", m.ID, err)
		}
	}
	return dst, nil
}

func appendDelivery(dst []byte, d *store.Delivery) ([]byte, error) {
	if d == nil {
		return dst, errors.New("sqlite: nil delivery")
	}
	dst = binary.AppendUvarint(dst, d.ID)
	dst = appendString(dst, d.Account)
	dst = append(dst, byte(d.Kind))
	dst = appendAddress(dst, d.Source)
	dst = appendAddress(dst, d.Dest)
	dst = append(dst, d.ESMClass, d.DataCoding)
	dst = appendBytes(dst, d.Body)
	dst = appendBytes(dst, d.TLVs)
	dst = appendString(dst, d.MessageID)
	dst = append(dst, byte(d.State))
	dst = binary.AppendUvarint(dst, uint64(d.ErrorCode))
	dst = binary.AppendVarint(dst, int64(d.Attempts))
	var err error
	for _, t := range [...]time.Time{d.CreatedAt, d.NextAttempt} {
		if dst, err = appendTime(dst, t); err != nil {
			return dst, fmt.Errorf("sqlite: delivery %d: %w", d.ID, err)
		}
	}
	return dst, nil
}

func appendAddress(dst []byte, a store.Address) []byte {
	return appendString(append(dst, a.TON, a.NPI), a.Addr)
}

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

func appendBytes(dst []byte, b []byte) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(b))), b...)
}

func appendTime(dst []byte, t time.Time) ([]byte, error) {
	n, err := encTime(t)
	if err != nil {
		return dst, err
	}
	return binary.LittleEndian.AppendUint64(dst, uint64(n)), nil
}

// decodeBatch reads a batch appendBatch wrote. The batch's strings and
// byte slices share p's memory, so p must not change afterwards. Garbage gives an
// error, never a panic or a huge allocation.
func decodeBatch(p []byte) (*store.Batch, error) {
	d := &byteReader{p: p}
	if v := d.byte(); d.err == nil && v != batchVersion {
		return nil, fmt.Errorf("sqlite: log record version %d, want %d", v, batchVersion)
	}
	b := &store.Batch{}
	b.Messages = d.messages()
	b.Replaces = d.messages()
	if n := d.count(minUpdateSize); n > 0 {
		b.Updates = make([]store.Update, n)
		for i := range b.Updates {
			u := &b.Updates[i]
			u.ID = d.string()
			u.State = store.State(d.byte())
			u.ErrorCode = d.uint16()
			u.BackendID = d.string()
			u.Attempts = d.int()
			u.At = d.time()
		}
	}
	if n := d.count(minDeliverySize); n > 0 { // sharing one allocation too
		b.Deliveries = make([]*store.Delivery, n)
		ds := make([]store.Delivery, n)
		for i := range b.Deliveries {
			d.delivery(&ds[i])
			b.Deliveries[i] = &ds[i]
		}
	}
	if n := d.count(minRetrySize); n > 0 {
		b.Retries = make([]store.DeliveryRetry, n)
		for i := range b.Retries {
			b.Retries[i] = store.DeliveryRetry{ID: d.uvarint(), Attempts: d.int(), NextAttempt: d.time()}
		}
	}
	if n := d.count(1); n > 0 {
		b.Done = make([]uint64, n)
		for i := range b.Done {
			b.Done[i] = d.uvarint()
		}
	}
	if d.err == nil && len(d.p) > 0 {
		d.err = errors.New("trailing bytes")
	}
	if d.err != nil {
		return nil, fmt.Errorf("sqlite: log record: %w", d.err)
	}
	return b, nil
}

// The fewest bytes an item of each kind takes, to bound a count by what
// is left of the record before allocating for it.
const (
	minMessageSize  = 1*3 + 3*2 + 1 + 5 + 2 + 1 + 3 + 1 + 1 + 1 + 5*8
	minUpdateSize   = 1 + 1 + 1 + 1 + 1 + 8
	minDeliverySize = 1 + 1 + 1 + 3*2 + 2 + 2 + 1 + 1 + 1 + 1 + 2*8
	minRetrySize    = 1 + 1 + 8
)

// byteReader reads the encoding, remembering the first error; after one,
// every read returns a zero value.
type byteReader struct {
	p   []byte
	err error
}

func (d *byteReader) fail(msg string) {
	if d.err == nil {
		d.err = errors.New(msg)
	}
	d.p = nil
}

func (d *byteReader) byte() byte {
	if len(d.p) < 1 {
		d.fail("truncated")
		return 0
	}
	c := d.p[0]
	d.p = d.p[1:]
	return c
}

func (d *byteReader) uvarint() uint64 {
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *byteReader) int() int {
	v, n := binary.Varint(d.p)
	if n <= 0 || v < math.MinInt || v > math.MaxInt {
		d.fail("bad varint")
		return 0
	}
	d.p = d.p[n:]
	return int(v)
}

func (d *byteReader) uint16() uint16 {
	v := d.uvarint()
	if v > math.MaxUint16 {
		d.fail("error code out of range")
		return 0
	}
	return uint16(v)
}

// count reads an item count, refusing one that cannot fit in what is left
// at minSize bytes an item.
func (d *byteReader) count(minSize int) int {
	n := d.uvarint()
	if n > uint64(len(d.p)/minSize) {
		d.fail("count larger than the record")
		return 0
	}
	return int(n)
}

func (d *byteReader) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.p)) {
		d.fail("length larger than the record")
		return nil
	}
	if n == 0 {
		return nil
	}
	b := d.p[:n:n]
	d.p = d.p[n:]
	return b
}

// string returns a string that shares the encoding's memory, which
// nothing changes once written (a log record, a row read): decoding a
// batch allocates no strings.
func (d *byteReader) string() string {
	b := d.bytes()
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func (d *byteReader) time() time.Time {
	if len(d.p) < 8 {
		d.fail("truncated")
		return time.Time{}
	}
	n := int64(binary.LittleEndian.Uint64(d.p))
	d.p = d.p[8:]
	return decTime(n)
}

func (d *byteReader) address() store.Address {
	return store.Address{TON: d.byte(), NPI: d.byte(), Addr: d.string()}
}

// messages reads a count and that many messages, which share one
// allocation.
func (d *byteReader) messages() []*store.Message {
	n := d.count(minMessageSize)
	if n == 0 {
		return nil
	}
	out := make([]*store.Message, n)
	ms := make([]store.Message, n)
	for i := range out {
		d.message(&ms[i])
		out[i] = &ms[i]
	}
	return out
}

func (d *byteReader) message(m *store.Message) {
	m.ID, m.Account, m.Route = d.string(), d.string(), d.string()
	m.Source = d.address()
	m.Dest = d.address()
	m.ServiceType = d.string()
	m.ESMClass, m.ProtocolID, m.Priority, m.RegisteredDelivery, m.DataCoding = d.byte(), d.byte(), d.byte(), d.byte(), d.byte()
	m.Body = d.bytes()
	m.TLVs = d.bytes()
	m.Group = d.string()
	m.Part, m.Parts, m.State = d.byte(), d.byte(), store.State(d.byte())
	m.ErrorCode = d.uint16()
	m.BackendID = d.string()
	m.Attempts = d.int()
	m.SubmittedAt, m.ScheduleAt, m.ExpireAt, m.DoneAt, m.UpdatedAt = d.time(), d.time(), d.time(), d.time(), d.time()
	if d.err == nil && m.ID == "" {
		d.fail("message with no id")
	}
}

func (d *byteReader) delivery(x *store.Delivery) {
	x.ID, x.Account, x.Kind = d.uvarint(), d.string(), store.DeliveryKind(d.byte())
	x.Source = d.address()
	x.Dest = d.address()
	x.ESMClass, x.DataCoding = d.byte(), d.byte()
	x.Body = d.bytes()
	x.TLVs = d.bytes()
	x.MessageID = d.string()
	x.State = store.State(d.byte())
	x.ErrorCode = d.uint16()
	x.Attempts = d.int()
	x.CreatedAt, x.NextAttempt = d.time(), d.time()
}

// decodeBatchMessage reads one message as appendMessage wrote it: a
// message row's content. Its byte slices share p's memory.
func decodeBatchMessage(p []byte) (*store.Message, error) {
	d := &byteReader{p: p}
	m := &store.Message{}
	d.message(m)
	if d.err == nil && len(d.p) > 0 {
		d.err = errors.New("trailing bytes")
	}
	if d.err != nil {
		return nil, fmt.Errorf("sqlite: message content: %w", d.err)
	}
	return m, nil
}

// appendEvents encodes the history a message row carries: the events it
// went through before it was written (see coalesce). Times were checked
// when their batch was logged.
func appendEvents(dst []byte, evs []store.Event) []byte {
	for _, e := range evs {
		dst = append(dst, byte(e.State))
		dst = binary.AppendUvarint(dst, uint64(e.ErrorCode))
		n, _ := encTime(e.At)
		dst = binary.LittleEndian.AppendUint64(dst, uint64(n))
	}
	return dst
}

func decodeEvents(p []byte) ([]store.Event, error) {
	d := &byteReader{p: p}
	var out []store.Event
	for len(d.p) > 0 {
		out = append(out, store.Event{State: store.State(d.byte()), ErrorCode: d.uint16(), At: d.time()})
	}
	if d.err != nil {
		return nil, fmt.Errorf("sqlite: history: %w", d.err)
	}
	return out, nil
}

// Package memory is an in-memory store.Store, for tests and for trying the
// gateway without a disk.
//
// It keeps everything in maps behind one lock and survives nothing: a
// process exit loses it all (its Durability is none). Within a process it
// behaves as the durable stores do and passes the same conformance suite
// (store/storetest): Apply is atomic (a batch that fails leaves nothing),
// reads see only committed batches, and data is deep-copied on the way in
// and out, so a caller that changes a Message after Apply, or one returned
// by a read, changes nothing stored.
//
// Like the sqlite store it normalises what it keeps: times lose their
// monotonic clock reading and come back in UTC, and an empty Body or TLVs
// comes back nil.
package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/smppkit/smpp/gateway/store"
)

var errClosed = errors.New("memory: store closed")

// Store is an in-memory store.Store. Its methods may be called from many
// goroutines.
type Store struct {
	mu         sync.RWMutex
	closed     bool
	messages   map[string]*store.Message
	deliveries map[uint64]*store.Delivery
	history    map[string][]store.Event
	epoch      uint32
}

var (
	_ store.Store     = (*Store)(nil)
	_ store.Historian = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{
		messages:   make(map[string]*store.Message),
		deliveries: make(map[uint64]*store.Delivery),
		history:    make(map[string][]store.Event),
	}
}

// Apply commits b atomically: it checks the whole batch first and changes
// nothing if any part fails (a nil or empty-id message, or an id already
// stored or repeated in the batch). The parts apply in the order Messages,
// Replaces, Updates, Deliveries, Retries, Done, each in slice order.
func (s *Store) Apply(ctx context.Context, b *store.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	// Check everything before changing anything: that is the atomicity.
	newIDs := make(map[string]struct{}, len(b.Messages))
	for i, m := range b.Messages {
		if m == nil || m.ID == "" {
			return fmt.Errorf("memory: message %d: no id", i)
		}
		if _, dup := s.messages[m.ID]; dup {
			return fmt.Errorf("memory: message %q already stored", m.ID)
		}
		if _, dup := newIDs[m.ID]; dup {
			return fmt.Errorf("memory: message %q twice in the batch", m.ID)
		}
		newIDs[m.ID] = struct{}{}
	}
	for i, r := range b.Replaces {
		if r == nil {
			return fmt.Errorf("memory: replace %d is nil", i)
		}
	}
	newDeliveries := make(map[uint64]struct{}, len(b.Deliveries))
	for i, d := range b.Deliveries {
		if d == nil {
			return fmt.Errorf("memory: delivery %d is nil", i)
		}
		if _, dup := s.deliveries[d.ID]; dup {
			return fmt.Errorf("memory: delivery %d already stored", d.ID)
		}
		if _, dup := newDeliveries[d.ID]; dup {
			return fmt.Errorf("memory: delivery %d twice in the batch", d.ID)
		}
		newDeliveries[d.ID] = struct{}{}
	}

	for _, m := range b.Messages {
		s.messages[m.ID] = copyMessage(m)
		s.history[m.ID] = []store.Event{{State: m.State, ErrorCode: m.ErrorCode, At: m.SubmittedAt}}
	}
	for _, r := range b.Replaces {
		if m := s.messages[r.ID]; m != nil {
			store.Replace(m, copyMessage(r))
		}
	}
	for _, u := range b.Updates {
		if m := s.messages[u.ID]; m != nil {
			applyUpdate(m, u)
			s.history[u.ID] = append(s.history[u.ID], store.Event{State: u.State, ErrorCode: u.ErrorCode, At: u.At})
		}
	}
	for _, d := range b.Deliveries {
		s.deliveries[d.ID] = copyDelivery(d)
	}
	for _, r := range b.Retries {
		if d := s.deliveries[r.ID]; d != nil {
			d.Attempts = r.Attempts
			d.NextAttempt = normTime(r.NextAttempt)
		}
	}
	for _, id := range b.Done {
		delete(s.deliveries, id)
	}
	return nil
}

// applyUpdate changes m as store.Update says: State, ErrorCode, Attempts
// and UpdatedAt (= u.At) are replaced, BackendID only when u has one, and
// DoneAt is set to u.At when the new state is final and DoneAt was zero.
func applyUpdate(m *store.Message, u store.Update) {
	at := normTime(u.At)
	m.State = u.State
	m.ErrorCode = u.ErrorCode
	if u.BackendID != "" {
		m.BackendID = u.BackendID
	}
	m.Attempts = u.Attempts
	m.UpdatedAt = at
	if u.State.Final() && m.DoneAt.IsZero() {
		m.DoneAt = at
	}
}

// Message returns a copy of a stored message, or store.ErrNotFound.
func (s *Store) Message(ctx context.Context, id string) (*store.Message, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed
	}
	m := s.messages[id]
	if m == nil {
		return nil, store.ErrNotFound
	}
	return copyMessage(m), nil
}

// History returns a message's history (store.Historian).
func (s *Store) History(ctx context.Context, id string) ([]store.Event, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed
	}
	if s.messages[id] == nil {
		return nil, store.ErrNotFound
	}
	return append([]store.Event{}, s.history[id]...), nil
}

// Find returns copies of the messages that match f, newest first (by
// SubmittedAt, then ID). A Before naming a message the store does not
// have matches nothing.
func (s *Store) Find(ctx context.Context, f store.Filter) ([]*store.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed
	}
	var before *store.Message
	if f.Before != "" {
		if before = s.messages[f.Before]; before == nil {
			return nil, nil
		}
	}
	var found []*store.Message
	for _, m := range s.messages {
		if match(m, f) && (before == nil || newer(before, m)) {
			found = append(found, m)
		}
	}
	slices.SortFunc(found, func(a, b *store.Message) int { return compareMessages(b, a) })
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	if len(found) > limit {
		found = found[:limit]
	}
	out := make([]*store.Message, len(found))
	for i, m := range found {
		out[i] = copyMessage(m)
	}
	return out, nil
}

// match reports whether m matches every field of f but Limit and Before.
func match(m *store.Message, f store.Filter) bool {
	switch {
	case f.Account != "" && m.Account != f.Account,
		f.Source != "" && m.Source.Addr != f.Source,
		f.Dest != "" && m.Dest.Addr != f.Dest,
		f.ServiceType != "" && m.ServiceType != f.ServiceType,
		len(f.States) > 0 && !slices.Contains(f.States, m.State),
		!f.Since.IsZero() && m.SubmittedAt.Before(f.Since),
		!f.Until.IsZero() && !m.SubmittedAt.Before(f.Until):
		return false
	}
	return true
}

// compareMessages orders by SubmittedAt, then ID.
func compareMessages(a, b *store.Message) int {
	if c := a.SubmittedAt.Compare(b.SubmittedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

func newer(a, b *store.Message) bool { return compareMessages(a, b) > 0 }

// Unfinished calls fn with a copy of every message not in a final state,
// oldest first. It works on a snapshot taken at the call, so fn may call
// the store (Apply included).
func (s *Store) Unfinished(ctx context.Context, fn func(*store.Message) error) error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return errClosed
	}
	var list []*store.Message
	for _, m := range s.messages {
		if !m.State.Final() {
			list = append(list, copyMessage(m))
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(list, compareMessages)
	for _, m := range list {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

// Deliveries calls fn with a copy of every delivery not yet done, oldest
// first (by CreatedAt, then ID), from a snapshot taken at the call.
func (s *Store) Deliveries(ctx context.Context, fn func(*store.Delivery) error) error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return errClosed
	}
	list := make([]*store.Delivery, 0, len(s.deliveries))
	for _, d := range s.deliveries {
		list = append(list, copyDelivery(d))
	}
	s.mu.RUnlock()
	slices.SortFunc(list, func(a, b *store.Delivery) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	for _, d := range list {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

// NextEpoch returns 1, 2, 3, … (the store starts empty each time).
func (s *Store) NextEpoch(ctx context.Context) (uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errClosed
	}
	if s.epoch == ^uint32(0) {
		return 0, errors.New("memory: epochs exhausted")
	}
	s.epoch++
	return s.epoch, nil
}

// Ping fails once the store is closed.
func (s *Store) Ping(ctx context.Context) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed
	}
	return ctx.Err()
}

// Close drops everything; later calls fail. Closing twice is harmless.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.messages, s.deliveries = nil, nil
	return nil
}

func copyMessage(m *store.Message) *store.Message {
	c := *m
	c.Body = cloneBytes(m.Body)
	c.TLVs = cloneBytes(m.TLVs)
	c.SubmittedAt = normTime(m.SubmittedAt)
	c.ScheduleAt = normTime(m.ScheduleAt)
	c.ExpireAt = normTime(m.ExpireAt)
	c.DoneAt = normTime(m.DoneAt)
	c.UpdatedAt = normTime(m.UpdatedAt)
	return &c
}

func copyDelivery(d *store.Delivery) *store.Delivery {
	c := *d
	c.Body = cloneBytes(d.Body)
	c.TLVs = cloneBytes(d.TLVs)
	c.CreatedAt = normTime(d.CreatedAt)
	c.NextAttempt = normTime(d.NextAttempt)
	return &c
}

// cloneBytes copies b; empty becomes nil, as in the sqlite store.
func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return slices.Clone(b)
}

// normTime drops the monotonic reading and the location, as a store on
// disk does.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Round(0).UTC()
}

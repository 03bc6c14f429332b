package gateway_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/smppkit/smpp/gateway/backend"
	"github.com/smppkit/smpp/gateway/store"
)

// memStore is a minimal store for the engine's tests (the real in-memory
// store, store/memory, runs the conformance suite).
type memStore struct {
	mu     sync.Mutex
	msgs   map[string]*store.Message
	order  []string
	dls    map[uint64]*store.Delivery
	epoch  uint32
	closed bool
}

func newMemStore() *memStore {
	return &memStore{msgs: map[string]*store.Message{}, dls: map[uint64]*store.Delivery{}}
}

func (s *memStore) Apply(_ context.Context, b *store.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range b.Messages {
		cp := *m
		s.msgs[m.ID] = &cp
		s.order = append(s.order, m.ID)
	}
	for _, r := range b.Replaces {
		if m := s.msgs[r.ID]; m != nil {
			store.Replace(m, r)
		}
	}
	for _, u := range b.Updates {
		if m := s.msgs[u.ID]; m != nil {
			m.State, m.ErrorCode, m.Attempts, m.UpdatedAt = u.State, u.ErrorCode, u.Attempts, u.At
			if u.BackendID != "" {
				m.BackendID = u.BackendID
			}
			if u.State.Final() {
				m.DoneAt = u.At
			}
		}
	}
	for _, d := range b.Deliveries {
		cp := *d
		s.dls[d.ID] = &cp
	}
	for _, r := range b.Retries {
		if d := s.dls[r.ID]; d != nil {
			d.Attempts, d.NextAttempt = r.Attempts, r.NextAttempt
		}
	}
	for _, id := range b.Done {
		delete(s.dls, id)
	}
	return nil
}

func (s *memStore) Message(_ context.Context, id string) (*store.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.msgs[id]
	if m == nil {
		return nil, store.ErrNotFound
	}
	cp := *m
	return &cp, nil
}

func (s *memStore) Find(_ context.Context, f store.Filter) ([]*store.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*store.Message
	for i := len(s.order) - 1; i >= 0; i-- {
		m := s.msgs[s.order[i]]
		if f.Account != "" && m.Account != f.Account {
			continue
		}
		cp := *m
		out = append(out, &cp)
	}
	return out, nil
}

func (s *memStore) Unfinished(_ context.Context, fn func(*store.Message) error) error {
	s.mu.Lock()
	var out []*store.Message
	for _, id := range s.order {
		if m := s.msgs[id]; !m.State.Final() {
			cp := *m
			out = append(out, &cp)
		}
	}
	s.mu.Unlock()
	for _, m := range out {
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

func (s *memStore) Deliveries(_ context.Context, fn func(*store.Delivery) error) error {
	s.mu.Lock()
	var out []*store.Delivery
	for _, d := range s.dls {
		cp := *d
		out = append(out, &cp)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b *store.Delivery) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for _, d := range out {
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

func (s *memStore) NextEpoch(context.Context) (uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch++
	return s.epoch, nil
}

func (s *memStore) Ping(context.Context) error { return nil }
func (s *memStore) Close() error               { return nil }

func (s *memStore) deliveries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.dls)
}

// fakeBackend delivers at once, or as its rules say by destination prefix.
type fakeBackend struct {
	mu     sync.Mutex
	ev     backend.Events
	rules  map[string]store.State // prefix → final state
	hold   map[string]bool        // prefix → stays ENROUTE
	fail   error                  // every Submit fails with it while set
	got    [][]*store.Message
	submit chan []*store.Message
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{rules: map[string]store.State{}, hold: map[string]bool{}, submit: make(chan []*store.Message, 1000)}
}

func (b *fakeBackend) Name() string { return "fake" }

func (b *fakeBackend) Start(_ context.Context, ev backend.Events) error {
	b.mu.Lock()
	b.ev = ev
	b.mu.Unlock()
	return nil
}

func (b *fakeBackend) Stop(context.Context) error { return nil }

func (b *fakeBackend) Submit(_ context.Context, parts []*store.Message) ([]backend.Result, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cp := make([]*store.Message, len(parts))
	for i, m := range parts {
		c := *m
		cp[i] = &c
	}
	b.got = append(b.got, cp)
	select {
	case b.submit <- cp:
	default:
	}
	if b.fail != nil {
		return nil, b.fail
	}
	res := make([]backend.Result, len(parts))
	for i, m := range parts {
		res[i] = backend.Result{State: store.Delivered, BackendID: "fake-" + m.ID}
		for p, st := range b.rules {
			if strings.HasPrefix(m.Dest.Addr, p) {
				res[i].State = st
				if st != store.Delivered {
					res[i].ErrorCode = 11
				}
			}
		}
		for p := range b.hold {
			if strings.HasPrefix(m.Dest.Addr, p) {
				res[i].State = store.Enroute
			}
		}
	}
	return res, nil
}

func (b *fakeBackend) events() backend.Events {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ev
}

func (b *fakeBackend) setFail(err error) {
	b.mu.Lock()
	b.fail = err
	b.mu.Unlock()
}

func (b *fakeBackend) submitted() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.got)
}

var _ = time.Second

package sqlite

import "github.com/smppkit/smpp/gateway/store"

// coalesced is the net effect of a run of logged batches on the database,
// with the changes that cancel out folded away: a message inserted in the
// run is written once, in the state its updates in the run left it in; a
// delivery inserted and acknowledged in the run is not written at all.
// That is what makes the database's share of a message's life one row
// (and its history) however many steps the message took while its batches
// waited to be applied.
type coalesced struct {
	msgs   []*store.Message // new, in the state the run left them in
	events [][]store.Event  // msgs[i]'s history, in order
	// Changes of messages and deliveries the database has (those of
	// others are no-ops, as Apply's would have been).
	replaces []*store.Message
	updates  []store.Update
	retries  []store.DeliveryRetry
	done     []uint64
	dels     []*store.Delivery // new, still to be delivered
}

// coalesce folds batches, in log order, into their net effect. Each was
// checked by Apply against what the store had before it, so a message
// inserted here is not in the database, and a change of a message before
// its insert here was a no-op.
func coalesce(batches []*store.Batch) *coalesced {
	c := &coalesced{}
	nm, nd := 0, 0
	for _, b := range batches {
		nm += len(b.Messages)
		nd += len(b.Deliveries)
	}
	c.msgs = make([]*store.Message, 0, nm)
	c.events = make([][]store.Event, 0, nm)
	msgs := make(map[string]int, nm) // index in c.msgs
	// Room for three events a message (stored, handed over, final) in one
	// allocation; a message with more grows its own.
	arena := make([]store.Event, 3*nm)
	dels := make(map[uint64]*store.Delivery, nd)
	for _, b := range batches {
		for _, m := range b.Messages {
			msgs[m.ID] = len(c.msgs)
			c.msgs = append(c.msgs, m)
			ev := arena[:1:3]
			arena = arena[3:]
			ev[0] = store.Event{State: m.State, ErrorCode: m.ErrorCode, At: m.SubmittedAt}
			c.events = append(c.events, ev)
		}
		for _, r := range b.Replaces {
			if i, ok := msgs[r.ID]; ok {
				store.Replace(c.msgs[i], r)
			} else {
				c.replaces = append(c.replaces, r)
			}
		}
		for _, u := range b.Updates {
			if i, ok := msgs[u.ID]; ok {
				applyUpdate(c.msgs[i], u)
				c.events[i] = append(c.events[i], store.Event{State: u.State, ErrorCode: u.ErrorCode, At: u.At})
			} else {
				c.updates = append(c.updates, u)
			}
		}
		for _, d := range b.Deliveries {
			dels[d.ID] = d
		}
		for _, r := range b.Retries {
			if d := dels[r.ID]; d != nil {
				d.Attempts, d.NextAttempt = r.Attempts, r.NextAttempt
			} else {
				c.retries = append(c.retries, r)
			}
		}
		for _, id := range b.Done {
			if dels[id] != nil {
				delete(dels, id)
			} else {
				c.done = append(c.done, id)
			}
		}
	}
	if len(c.replaces) > 0 || len(c.updates) > 0 {
		// A change of a message inserted later in the run came before it
		// existed: drop it.
		c.replaces = dropNew(c.replaces, msgs, func(m *store.Message) string { return m.ID })
		c.updates = dropNew(c.updates, msgs, func(u store.Update) string { return u.ID })
	}
	for _, b := range batches {
		for _, d := range b.Deliveries {
			if dels[d.ID] == d {
				c.dels = append(c.dels, d)
			}
		}
	}
	return c
}

func dropNew[T any](xs []T, msgs map[string]int, id func(T) string) []T {
	out := xs[:0]
	for _, x := range xs {
		if _, ok := msgs[id(x)]; !ok {
			out = append(out, x)
		}
	}
	return out
}

// applyUpdate changes m as store.Update says a store does.
func applyUpdate(m *store.Message, u store.Update) {
	m.State, m.ErrorCode, m.Attempts = u.State, u.ErrorCode, u.Attempts
	if u.BackendID != "" {
		m.BackendID = u.BackendID
	}
	m.UpdatedAt = u.At
	if u.State.Final() && m.DoneAt.IsZero() {
		m.DoneAt = u.At
	}
}

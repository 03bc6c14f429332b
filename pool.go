package smpp

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/smppkit/smpp/pdu"
)

// Pool keeps several binds to one SMSC and spreads requests over them, since
// carriers cap each bind's window and rate. Each bind reconnects on its own;
// a request goes to the bound client with the fewest requests in flight.
// Give the clients one Inbound (in the ClientConfig) and receipts arriving
// on any bind are matched with the ids Send returned on any other.
type Pool struct {
	clients []*Client
	next    atomic.Uint64
}

// DialPool dials n binds with the same URL and configuration. It fails if
// any of them fails, closing the others.
func DialPool(ctx context.Context, rawURL string, n int, cfg *ClientConfig) (*Pool, error) {
	p := &Pool{}
	for i := 0; i < max(n, 1); i++ {
		c, err := Dial(ctx, rawURL, cfg)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.clients = append(p.clients, c)
	}
	return p, nil
}

// Clients returns the pool's clients.
func (p *Pool) Clients() []*Client { return p.clients }

// pick returns the bound client with the fewest requests in flight,
// starting the search at a rotating index so ties spread evenly; when none
// is bound it returns one anyway, whose calls then wait for its rebind.
func (p *Pool) pick() *Client {
	start := int(p.next.Add(1) % uint64(len(p.clients))) // (never negative)
	var best *Client
	bestLoad := int(^uint(0) >> 1)
	for i := range p.clients {
		c := p.clients[(start+i)%len(p.clients)]
		s := c.cur.Load()
		if s == nil || s.Err() != nil {
			continue
		}
		if load := s.InFlight(); load < bestLoad {
			best, bestLoad = c, load
		}
	}
	if best == nil {
		best = p.clients[start%len(p.clients)]
	}
	return best
}

// Call sends a request on the least busy bind.
func (p *Pool) Call(ctx context.Context, req pdu.PDU) (pdu.PDU, error) {
	return p.pick().Call(ctx, req)
}

// CallAsync sends a request on the least busy bind.
func (p *Pool) CallAsync(ctx context.Context, req pdu.PDU, done func(pdu.PDU, error)) error {
	return p.pick().CallAsync(ctx, req, done)
}

// Submit sends a submit_sm on the least busy bind.
func (p *Pool) Submit(ctx context.Context, sm *pdu.SubmitSM) (*pdu.SubmitSMResp, error) {
	return p.pick().Submit(ctx, sm)
}

// Send sends a message (all its parts) on the least busy bind.
func (p *Pool) Send(ctx context.Context, m Message) ([]string, error) { return p.pick().Send(ctx, m) }

// Unbind unbinds every client gracefully.
func (p *Pool) Unbind(ctx context.Context) error {
	var errs []error
	for _, c := range p.clients {
		errs = append(errs, c.Unbind(ctx))
	}
	return errors.Join(errs...)
}

// Close closes every client at once.
func (p *Pool) Close() error {
	for _, c := range p.clients {
		c.Close()
	}
	return nil
}

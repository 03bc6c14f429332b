package sim

import (
	"errors"
	"fmt"
	"maps"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/smppkit/smpp/gateway/store"
)

// Options configure a Sim. The zero value delivers every message at once
// and reports it Delivered. The fields map 1:1 to the `simulator:` section
// of smppd's configuration (delay, enroute, outcomes, error_code, seed,
// loopback, rules); see docs/simulator.md.
type Options struct {
	// Delay is the time from Submit to a message's outcome. 0 reports the
	// outcome at once, in Submit's Result.
	Delay time.Duration
	// Enroute reports an ENROUTE Update (an intermediate notification)
	// before the outcome. The outcome then always follows as an Update,
	// even when Delay is 0.
	Enroute bool
	// Outcomes weighs the outcomes drawn for messages no rule decides:
	// {Delivered: 90, Undeliverable: 10} makes one message in ten
	// undeliverable. Only final states may appear. Empty means
	// {Delivered: 1}.
	Outcomes map[store.State]int
	// ErrorCode is the network error code reported with every outcome
	// other than Delivered (a receipt's err: field).
	ErrorCode uint16
	// Seed makes the sequence of drawn outcomes reproducible: the n-th
	// outcome drawn is the same in every run with the same Seed and
	// Outcomes (a message a Rule gives an Outcome draws none; concurrent
	// submitters share the sequence in the order they reach it). 0 seeds
	// at random.
	Seed int64
	// Loopback also hands a delivered message to an address Owns reports
	// as owned back to the gateway as a mobile-originated message
	// (Events.Received), as if the recipient's phone were an account of
	// the gateway: Source and Dest as submitted, same data_coding, body
	// (UDH and all) and TLVs, esm_class keeping only its GSM feature bits
	// (UDHI, reply path).
	Loopback bool
	// Owns reports whether some account of the gateway owns addr (the
	// destination's digits). The gateway sets it; nil owns nothing, so
	// Loopback does nothing.
	Owns func(addr string) bool
	// Rules decide by destination: the first rule whose Prefix the
	// destination's digits start with applies, the Options for the rest.
	Rules []Rule
}

// Rule overrides the Options for destinations starting with Prefix. Its
// zero fields take the Options' values: a Rule with only Prefix and
// Outcome set changes the outcome and nothing else.
type Rule struct {
	// Prefix is matched against the destination's digits (Address.Addr)
	// as submitted; "" matches every destination.
	Prefix string
	// Outcome, if not 0, is the outcome of every message the rule
	// matches; 0 (store.Scheduled, never an outcome) draws from
	// Options.Outcomes.
	Outcome store.State
	// ErrorCode, if not 0, replaces Options.ErrorCode.
	ErrorCode uint16
	// Delay, if not 0, replaces Options.Delay; a negative Delay reports
	// the outcome at once whatever Options.Delay says.
	Delay time.Duration
	// SubmitStatus, if not 0, refuses the submit with this SMPP
	// command_status (e.g. 0x58 ESME_RTHROTTLED, 0x14 ESME_RMSGQFUL).
	SubmitStatus uint32
	// SubmitDelay holds the submit_sm_resp back this long.
	SubmitDelay time.Duration
	// NoAnswer sends no submit_sm_resp at all.
	NoAnswer bool
}

// Validate reports what is wrong with o, if anything: an outcome that is
// not a final state, a negative weight or delay, weights that sum to 0.
// Options read from a configuration file should be checked with it before
// New, which panics on invalid Options.
func (o *Options) Validate() error {
	var errs []error
	if o.Delay < 0 {
		errs = append(errs, fmt.Errorf("simulator: delay %v is negative", o.Delay))
	}
	total := 0
	for st, w := range o.Outcomes {
		if !st.Final() {
			errs = append(errs, fmt.Errorf("simulator: outcome %v is not a final state", st))
		}
		if w < 0 {
			errs = append(errs, fmt.Errorf("simulator: outcome %v has negative weight %d", st, w))
		}
		total += w
	}
	if len(o.Outcomes) > 0 && total <= 0 {
		errs = append(errs, errors.New("simulator: outcome weights sum to 0"))
	}
	for i, r := range o.Rules {
		if r.Outcome != 0 && !r.Outcome.Final() {
			errs = append(errs, fmt.Errorf("simulator: rule %d (prefix %q): outcome %v is not a final state", i, r.Prefix, r.Outcome))
		}
		if r.SubmitDelay < 0 {
			errs = append(errs, fmt.Errorf("simulator: rule %d (prefix %q): submit delay %v is negative", i, r.Prefix, r.SubmitDelay))
		}
	}
	return errors.Join(errs...)
}

// ParseOutcome reads an outcome by its state name in any case
// ("delivered", "UNDELIVERABLE", …), as the configuration writes it. Only
// final states are outcomes.
func ParseOutcome(name string) (store.State, error) {
	st, ok := store.ParseState(strings.ToUpper(strings.TrimSpace(name)))
	if !ok || !st.Final() {
		return 0, fmt.Errorf("simulator: %q is not an outcome (delivered, undeliverable, expired, rejected, deleted, skipped)", name)
	}
	return st, nil
}

// mix draws outcomes by weight.
type mix struct {
	states []store.State
	cum    []uint64 // cumulative weights: states[i] is drawn for r < cum[i]
	total  uint64
}

func newMix(weights map[store.State]int) mix {
	if len(weights) == 0 {
		weights = map[store.State]int{store.Delivered: 1}
	}
	var m mix
	// Sorted, because map order is random and a seeded run must draw the
	// same states in every run.
	for _, st := range slices.Sorted(maps.Keys(weights)) {
		w := weights[st]
		if w <= 0 {
			continue
		}
		m.total += uint64(w)
		m.states = append(m.states, st)
		m.cum = append(m.cum, m.total)
	}
	return m
}

// fixed reports whether the mix has a single state, so no draw is needed.
func (m *mix) fixed() bool { return len(m.states) == 1 }

// pick maps a uniformly random r to a state.
func (m *mix) pick(r uint64) store.State {
	// r·total/2⁶⁴: uniform in [0, total), without the bias of a modulo.
	x, _ := bits.Mul64(r, m.total)
	for i, c := range m.cum {
		if x < c {
			return m.states[i]
		}
	}
	return m.states[len(m.states)-1]
}

// splitmix64 is the output function of the SplitMix64 generator: draw n of
// a seeded sequence is splitmix64(seed + n·γ), so draws need no lock, only
// a counter.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

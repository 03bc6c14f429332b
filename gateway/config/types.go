package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/pdu"
)

// CommandStatus is an SMPP command_status in the configuration: written as
// its spec name (ESME_RTHROTTLED) or as a number (88, 0x58).
type CommandStatus uint32

// UnmarshalText reads a status name or number.
func (s *CommandStatus) UnmarshalText(b []byte) error {
	t := strings.TrimSpace(string(b))
	if st, ok := pdu.StatusByName(strings.ToUpper(t)); ok {
		*s = CommandStatus(st)
		return nil
	}
	n, err := strconv.ParseUint(t, 0, 32)
	if err != nil {
		return fmt.Errorf("%q is not an SMPP status name (like ESME_RTHROTTLED) or number", t)
	}
	*s = CommandStatus(n)
	return nil
}

// MarshalText writes the status's spec name, or its number in hex when it
// has none.
func (s CommandStatus) MarshalText() ([]byte, error) {
	if s == 0 {
		return []byte("0"), nil
	}
	if _, ok := pdu.StatusByName(pdu.Status(s).String()); ok {
		return []byte(pdu.Status(s).String()), nil
	}
	return []byte(fmt.Sprintf("0x%08X", uint32(s))), nil
}

// Status returns the value as a pdu.Status.
func (s CommandStatus) Status() pdu.Status { return pdu.Status(s) }

// outcomeNames are the states the simulator may end a message in, in the
// lower case the configuration writes them.
var outcomeNames = []string{"delivered", "undeliverable", "expired", "rejected", "deleted", "skipped"}

// ParseOutcome reads a lower-case final state name (delivered,
// undeliverable, expired, rejected, deleted, skipped).
func ParseOutcome(name string) (store.State, bool) {
	st, ok := store.ParseState(strings.ToUpper(name))
	if !ok || !st.Final() {
		return 0, false
	}
	return st, true
}

// OutcomeWeights returns Outcomes keyed by state.
func (s *Simulator) OutcomeWeights() map[store.State]int {
	m := make(map[store.State]int, len(s.Outcomes))
	for k, w := range s.Outcomes {
		if st, ok := ParseOutcome(k); ok {
			m[st] = w
		}
	}
	return m
}

// State returns the rule's outcome as a state, and false when the rule has
// none.
func (r *Rule) State() (store.State, bool) {
	if r.Outcome == "" {
		return 0, false
	}
	return ParseOutcome(r.Outcome)
}

// DurabilityLevel returns Durability as the store's type.
func (s *Store) DurabilityLevel() store.Durability {
	if s.Durability == "power-loss" {
		return store.PowerLoss
	}
	return store.Crash
}

// Rule returns the first rule whose prefix dest starts with (a leading + on
// either is ignored), or nil.
func (s *Simulator) Rule(dest string) *Rule {
	dest = strings.TrimPrefix(dest, "+")
	for i := range s.Rules {
		if strings.HasPrefix(dest, strings.TrimPrefix(s.Rules[i].Prefix, "+")) {
			return &s.Rules[i]
		}
	}
	return nil
}

package plan

import (
	"math"
	"slices"
	"time"

	"github.com/immigrate/immigrate/load"
)

// The plan's time estimate: a lower bound that no run can beat, and a prediction
// of what the engine takes (issue 11). Three things bound a phase:
//
//   - the API's rate: Calls ÷ Rate;
//   - its longest stream: a message phase keeps one call in flight per stream
//     (design §3), so a stream of k calls takes k round trips however many other
//     streams run beside it;
//   - the engine's concurrency: Calls round trips shared by the InFlight calls
//     the engine keeps in flight (load.Config.Workers or Streams).
//
// Phases follow the engine's dependencies (load/phases.go): accounts first, then
// the group chain (groups → members → group messages → unread) alongside the
// one-to-one messages.

// DefaultRTT is the round trip of validate's and run's --rtt when the user gives
// none (a zero ValidateOptions.RTT counts no round trip at all): a
// request to the TIM region of the same continent (spec §1.2 lists one per
// continent) crosses a few hundred to a couple of thousand kilometres, 10-40 ms of
// network round trip, and the import APIs add their own processing, a few tens of
// milliseconds. A source on another continent sees 150-250 ms: pass --rtt.
const DefaultRTT = 50 * time.Millisecond

// What bounds a phase (PhasePlan.Bound, CriticalPath.Bound).
const (
	BoundRate        = "rate"        // the API's rate: Calls ÷ Rate
	BoundStream      = "stream"      // the longest stream's calls, one round trip each
	BoundConcurrency = "concurrency" // Calls round trips over the calls in flight
)

// Stream is one message stream of the plan: a group's messages (GroupID) or a
// conversation's (A and B).
type Stream struct {
	GroupID  string `json:"group_id,omitempty"`
	LegacyID string `json:"legacy_id,omitempty"` // the legacy group's id
	// A and B are the conversation's two target UserIDs, A < B bytewise.
	A string `json:"a,omitempty"`
	B string `json:"b,omitempty"`
	// User is the target UserID whose friend list the stream fills.
	User string `json:"user,omitempty"`
	// Origin is where the stream's first accepted record (a conversation) or the
	// group's record was read.
	Origin  string `json:"origin,omitempty"`
	Calls   int64  `json:"calls"`
	Records int64  `json:"records"`
}

// Name names the stream for people: "group G (legacy L)" or "conversation A ↔ B".
func (s Stream) Name() string {
	if s.User != "" {
		return "friend list of " + s.User
	}
	if s.GroupID == "" {
		return "conversation " + s.A + " ↔ " + s.B
	}
	name := "group " + s.GroupID
	if s.LegacyID != "" && s.LegacyID != s.GroupID {
		name += " (legacy " + s.LegacyID + ")"
	}
	return name
}

// longer reports whether s outlasts t: more calls, then more records; ties go to
// the first in byte order, so that the plan does not depend on reading order.
func (s Stream) longer(t *Stream) bool {
	if t == nil {
		return s.Calls > 0
	}
	switch {
	case s.Calls != t.Calls:
		return s.Calls > t.Calls
	case s.Records != t.Records:
		return s.Records > t.Records
	}
	return s.GroupID+"\x00"+s.A+"\x00"+s.B+"\x00"+s.User < t.GroupID+"\x00"+t.A+"\x00"+t.B+"\x00"+t.User
}

// At returns the plan estimated at round trip rtt: the same calls, rates, streams
// and concurrency, the times computed again. A run uses it for a plan written
// with another round trip.
func (p Plan) At(rtt time.Duration) Plan {
	return estimate(slices.Clone(p.Phases), rtt)
}

// estimate fills in the times of phases at round trip rtt and computes the
// critical path.
func estimate(phases []PhasePlan, rtt time.Duration) Plan {
	r := max(rtt, 0).Seconds()
	for i := range phases {
		phases[i].estimate(r)
	}
	acct, chain, direct := branches(phases)
	friends := rowsOf(phases, planFriends)
	profiles := rowsOf(phases, planProfiles)
	sum := func(ps []PhasePlan, f func(PhasePlan) float64) float64 {
		var s float64
		for _, p := range ps {
			s += f(p)
		}
		return s
	}
	longest := func(ps []PhasePlan, f func(PhasePlan) float64) float64 {
		var s float64
		for _, p := range ps {
			s = math.Max(s, f(p))
		}
		return s
	}
	// The rows of one phase (accounts) run side by side; the phases of a branch one
	// after the other.
	path := func(f func(PhasePlan) float64) (total, chainT, directT float64) {
		for _, name := range groupChain {
			chainT += longest(rowsOf(chain, name), f)
		}
		directT = sum(direct, f)
		// Friends need only the accounts too: a third branch alongside.
		// So do the profiles: a fourth branch.
		return longest(acct, f) + max(chainT, directT, sum(friends, f), sum(profiles, f)), chainT, directT
	}
	seconds := func(p PhasePlan) float64 { return p.Seconds }
	cp := CriticalPath{Branch: "group"}
	cp.Seconds, cp.GroupChainSeconds, cp.DirectSeconds = path(seconds)
	cp.DocumentedSeconds, _, _ = path(func(p PhasePlan) float64 { return p.DocumentedSeconds })
	cp.PredictedSeconds, _, _ = path(func(p PhasePlan) float64 { return p.PredictedSeconds })

	onPath := append(slices.Clone(acct), chain...)
	if cp.DirectSeconds > cp.GroupChainSeconds {
		cp.Branch = "direct"
		onPath = append(slices.Clone(acct), direct...)
	}
	if fs := sum(friends, seconds); fs > max(cp.GroupChainSeconds, cp.DirectSeconds) {
		cp.Branch = "friends"
		onPath = append(slices.Clone(acct), friends...)
	}
	if ps := sum(profiles, seconds); ps > max(cp.GroupChainSeconds, cp.DirectSeconds, sum(friends, seconds)) {
		cp.Branch = "profiles"
		onPath = append(slices.Clone(acct), profiles...)
	}
	var dom *PhasePlan
	for i := range onPath {
		if p := &onPath[i]; dom == nil || p.Seconds > dom.Seconds {
			dom = p
		}
	}
	if dom != nil {
		cp.Dominant, cp.Bound = dom.Phase, dom.Bound
		if dom.Bound == BoundStream {
			cp.Stream = dom.LongestStream
		}
		if cp.Seconds > 0 {
			cp.Share = phaseSeconds(phases, dom.Phase) / cp.Seconds
		}
	}
	return Plan{Phases: phases, RTTSeconds: r, Critical: cp}
}

// groupChain is the group branch, in the engine's order.
var groupChain = []string{planGroups, planTopics, planMembers, planGroupDMs, planGroupMessages, planUnread}

// branches splits the rows into the accounts phase, the group chain and the
// one-to-one messages.
func branches(phases []PhasePlan) (acct, chain, direct []PhasePlan) {
	for _, p := range phases {
		switch {
		case p.Phase == planAccounts:
			acct = append(acct, p)
		case p.Phase == planDirectMessages:
			direct = append(direct, p)
		case slices.Contains(groupChain, p.Phase):
			chain = append(chain, p)
		}
	}
	return acct, chain, direct
}

func rowsOf(phases []PhasePlan, name string) []PhasePlan {
	var out []PhasePlan
	for _, p := range phases {
		if p.Phase == name {
			out = append(out, p)
		}
	}
	return out
}

// estimate computes the row's times at round trip rtt seconds.
//
// The lower bound is the largest of the three bounds. The prediction adds what
// the engine does on top of the bound that binds:
//
//   - at the rate, the pacer (a token bucket of burst 1 that starts full, at the
//     configured rate: load/limiter.go) sends the first call at once and spaces
//     the others 1/Rate apart, with no ramp to wait for; the last answer comes
//     one round trip after the last call leaves: RateSeconds + rtt;
//   - on a stream, its k calls are k round trips from the phase's start (the
//     engine starts the largest streams first), the last answer included:
//     StreamSeconds;
//   - at the concurrency, ⌈Calls ÷ InFlight⌉ rounds of one round trip each.
//
// Retries and rate-limit answers are not predicted: a clean run is.
func (p *PhasePlan) estimate(rtt float64) {
	p.RateSeconds, p.DocumentedSeconds, p.StreamSeconds, p.ConcurrencySeconds = 0, 0, 0, 0
	p.Seconds, p.PredictedSeconds, p.Bound = 0, 0, ""
	if p.Calls <= 0 {
		return
	}
	if p.Rate > 0 {
		p.RateSeconds = float64(p.Calls) / p.Rate
	}
	if p.LongestStream != nil {
		p.StreamSeconds = float64(p.LongestStream.Calls) * rtt
	}
	rounds := 0.0
	if inFlight := p.InFlight; inFlight > 0 {
		// The engine sizes a phase's calls in flight by its rate and round trip,
		// up to InFlight (load.concurrency).
		if p.Rate > 0 {
			inFlight = load.InflightFor(p.Rate, time.Duration(rtt*float64(time.Second)), inFlight)
		}
		p.ConcurrencySeconds = float64(p.Calls) * rtt / float64(inFlight)
		rounds = float64(ceilDiv(p.Calls, int64(inFlight))) * rtt
	}
	p.Seconds, p.Bound = p.RateSeconds, BoundRate
	if p.StreamSeconds > p.Seconds {
		p.Seconds, p.Bound = p.StreamSeconds, BoundStream
	}
	if p.ConcurrencySeconds > p.Seconds {
		p.Seconds, p.Bound = p.ConcurrencySeconds, BoundConcurrency
	}
	p.DocumentedSeconds = max(p.StreamSeconds, p.ConcurrencySeconds)
	if p.DocumentedRate > 0 {
		p.DocumentedSeconds = max(p.DocumentedSeconds, float64(p.Calls)/p.DocumentedRate)
	}
	p.PredictedSeconds = max(p.RateSeconds+rtt, p.StreamSeconds, rounds)
}

package plan

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

// planRows is a plan's rows as the validator builds them, before the estimate:
// one bare-accounts row, the group chain and the C2C messages, each at rate r
// with inFlight calls in flight.
func planRows(r float64, inFlight int, acctCalls, groupCalls, msgCalls, c2cCalls int64, longestGroup, longestConv *Stream) []PhasePlan {
	row := func(name string, cmd tencentim.Command, calls int64, s *Stream) PhasePlan {
		return PhasePlan{Phase: name, Command: cmd.String(), Items: calls, Calls: calls, Rate: r, DocumentedRate: 2 * r, InFlight: inFlight, LongestStream: s}
	}
	return []PhasePlan{
		row(planAccounts, tencentim.CmdMultiAccountImport, acctCalls, nil),
		row(planGroups, tencentim.CmdImportGroup, groupCalls, nil),
		row(planMembers, tencentim.CmdImportGroupMember, groupCalls, nil),
		row(planGroupMessages, tencentim.CmdImportGroupMsg, msgCalls, longestGroup),
		row(planUnread, tencentim.CmdSetUnreadMsgNum, 0, nil),
		row(planDirectMessages, tencentim.CmdImportMsg, c2cCalls, longestConv),
	}
}

// TestEstimateBounds checks the arithmetic of the estimate on hand-built plans:
// each phase's bound is the largest of calls ÷ rate, the longest stream's calls ×
// the round trip and the calls' round trips over the calls in flight; the run's is
// accounts, then the longer branch; the prediction adds the last answer's round
// trip to a rate-bound phase.
func TestEstimateBounds(t *testing.T) {
	conv := func(a, b string, calls int64) *Stream {
		return &Stream{A: a, B: b, Origin: "direct.csv:2", Calls: calls, Records: calls}
	}
	group := func(id string, calls int64) *Stream {
		return &Stream{GroupID: id, LegacyID: "legacy-" + id, Calls: calls, Records: 7 * calls}
	}
	const r = 100.0 // calls/s of every API
	tests := []struct {
		name   string
		rows   []PhasePlan
		rtt    time.Duration
		branch string
		// The dominant phase, what bounds it and, stream-bound, the stream.
		dominant, bound string
		stream          *Stream
		// The phases' lower bounds and predictions, in seconds, by phase.
		seconds, predicted map[string]float64
	}{
		{
			// 10,000 C2C calls are 100 s at the rate; the conversation of 5,000
			// is 5,000 round trips of 50 ms, 250 s.
			name: "one huge conversation",
			rows: planRows(r, 64, 10, 10, 70, 10_000, group("g1", 10), conv("u1", "u2", 5_000)),
			rtt:  50 * time.Millisecond, branch: "direct",
			dominant: planDirectMessages, bound: BoundStream, stream: conv("u1", "u2", 5_000),
			seconds:   map[string]float64{planAccounts: 0.1, planDirectMessages: 250, planGroupMessages: 0.7},
			predicted: map[string]float64{planAccounts: 0.15, planDirectMessages: 250, planGroupMessages: 0.75},
		},
		{
			// The same calls spread over many conversations of 20: the rate.
			name: "many small conversations",
			rows: planRows(r, 64, 10, 10, 70, 10_000, group("g1", 10), conv("u1", "u2", 20)),
			rtt:  50 * time.Millisecond, branch: "direct",
			dominant: planDirectMessages, bound: BoundRate,
			seconds:   map[string]float64{planDirectMessages: 100},
			predicted: map[string]float64{planDirectMessages: 100.05},
		},
		{
			// A group of 4,000 calls at 200 ms: 800 s, longer than the 500 s of C2C
			// at the rate: the group chain is the critical branch.
			name: "one huge group outlasts the C2C messages",
			rows: planRows(r, 64, 10, 10, 6_000, 50_000, group("g7", 4_000), conv("u1", "u2", 100)),
			rtt:  200 * time.Millisecond, branch: "group",
			dominant: planGroupMessages, bound: BoundStream, stream: group("g7", 4_000),
			seconds:   map[string]float64{planGroupMessages: 800, planDirectMessages: 500, planGroups: 0.1},
			predicted: map[string]float64{planGroupMessages: 800, planDirectMessages: 500.2, planGroups: 0.3},
		},
		{
			// 4 calls in flight at 1 s a round trip carry 4 calls/s, below the rate:
			// 1,000 accounts calls take 250 rounds.
			name: "few calls in flight",
			rows: planRows(r, 4, 1_000, 0, 0, 0, nil, nil),
			rtt:  time.Second, branch: "group",
			dominant: planAccounts, bound: BoundConcurrency,
			seconds:   map[string]float64{planAccounts: 250},
			predicted: map[string]float64{planAccounts: 250},
		},
		{
			// No round trip: calls ÷ rate alone, whatever the streams.
			name: "no round trip",
			rows: planRows(r, 64, 10, 10, 70, 10_000, group("g1", 10), conv("u1", "u2", 5_000)),
			rtt:  0, branch: "direct",
			dominant: planDirectMessages, bound: BoundRate,
			seconds:   map[string]float64{planAccounts: 0.1, planGroups: 0.1, planGroupMessages: 0.7, planDirectMessages: 100},
			predicted: map[string]float64{planAccounts: 0.1, planGroups: 0.1, planGroupMessages: 0.7, planDirectMessages: 100},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := estimate(tt.rows, tt.rtt)
			if p.RTTSeconds != tt.rtt.Seconds() {
				t.Errorf("RTTSeconds %v, want %v", p.RTTSeconds, tt.rtt.Seconds())
			}
			byPhase := map[string]PhasePlan{}
			for _, ph := range p.Phases {
				byPhase[ph.Phase] = ph
				if want := float64(ph.Calls) / ph.Rate; !near(ph.RateSeconds, want) {
					t.Errorf("%s: rate seconds %v, want %v", ph.Phase, ph.RateSeconds, want)
				}
				if ph.Seconds < ph.RateSeconds || ph.Seconds < ph.StreamSeconds || ph.Seconds < ph.ConcurrencySeconds || ph.PredictedSeconds < ph.Seconds {
					t.Errorf("%s: bound %v below one of its terms, or predicted %v below it: %+v", ph.Phase, ph.Seconds, ph.PredictedSeconds, ph)
				}
				if ph.DocumentedSeconds > ph.Seconds {
					t.Errorf("%s: %v s at twice the rate, %v s at the rate", ph.Phase, ph.DocumentedSeconds, ph.Seconds)
				}
			}
			for name, want := range tt.seconds {
				if got := byPhase[name].Seconds; !near(got, want) {
					t.Errorf("%s: bound %v s, want %v", name, got, want)
				}
			}
			for name, want := range tt.predicted {
				if got := byPhase[name].PredictedSeconds; !near(got, want) {
					t.Errorf("%s: predicted %v s, want %v", name, got, want)
				}
			}
			chain := 0.0
			for _, name := range groupChain {
				chain += byPhase[name].Seconds
			}
			cp := p.Critical
			acct, dm := byPhase[planAccounts], byPhase[planDirectMessages]
			if !near(cp.GroupChainSeconds, chain) || !near(cp.DirectSeconds, dm.Seconds) || !near(cp.Seconds, acct.Seconds+math.Max(chain, dm.Seconds)) {
				t.Errorf("critical %+v: want accounts %v + max(chain %v, direct %v)", cp, acct.Seconds, chain, dm.Seconds)
			}
			predChain := 0.0
			for _, name := range groupChain {
				predChain += byPhase[name].PredictedSeconds
			}
			if want := acct.PredictedSeconds + math.Max(predChain, dm.PredictedSeconds); !near(cp.PredictedSeconds, want) {
				t.Errorf("predicted %v s, want %v", cp.PredictedSeconds, want)
			}
			if cp.Branch != tt.branch || cp.Dominant != tt.dominant || cp.Bound != tt.bound {
				t.Errorf("branch %s, dominant %s bounded by %q; want %s, %s, %q", cp.Branch, cp.Dominant, cp.Bound, tt.branch, tt.dominant, tt.bound)
			}
			if fmt.Sprint(cp.Stream) != fmt.Sprint(tt.stream) && (cp.Stream == nil || tt.stream == nil || *cp.Stream != *tt.stream) {
				t.Errorf("bounding stream %+v, want %+v", cp.Stream, tt.stream)
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// TestPlanAt: a plan estimated again at another round trip keeps its calls and
// streams and gets the times of a plan estimated at that round trip at once.
func TestPlanAt(t *testing.T) {
	rows := func() []PhasePlan {
		return planRows(100, 64, 10, 10, 70, 10_000, nil, &Stream{A: "u1", B: "u2", Calls: 5_000, Records: 5_000})
	}
	at50 := estimate(rows(), 50*time.Millisecond)
	again := at50.At(0)
	direct := estimate(rows(), 0)
	got, _ := json.Marshal(again)
	want, _ := json.Marshal(direct)
	if string(got) != string(want) {
		t.Errorf("At(0) of a plan at 50 ms:\n%s\nwant\n%s", got, want)
	}
	if at50.Critical.Bound != BoundStream || again.Critical.Bound != BoundRate {
		t.Errorf("bounds %s at 50 ms, %s at 0; want stream, rate", at50.Critical.Bound, again.Critical.Bound)
	}
	if at50.Phases[len(at50.Phases)-1].StreamSeconds != 250 {
		t.Errorf("At changed the plan it was called on: %+v", at50.Phases)
	}
}

// TestValidateLongestStreams: the validate pass names the longest group and
// conversation as the engine sends them: calls and target ids, and where the
// stream was read.
func TestValidateLongestStreams(t *testing.T) {
	r := planDataset([]planGroup{{"public", texts("a", 9, 5, 5)}, {"public", texts("b", 30, 5, 5)}, {"public", texts("c", 12, 5, 5)}}, 0)
	line := 2
	conv := func(a, b string, n int) {
		for k := range n {
			from, to := a, b
			if k%2 == 1 {
				from, to = b, a
			}
			r.dmsgs = append(r.dmsgs, text(fmt.Sprintf("d%d", line), "", from, to, at(k), line))
			line++
		}
	}
	conv("u1", "u2", 3)
	conv("u1", "u3", 8)
	conv("u2", "u3", 5)
	res, err := runValidate(t, r, newTestTransformer(t, nil), ValidateOptions{RTT: time.Second, Streams: 64, Workers: 64})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]PhasePlan{}
	for _, p := range res.Plan.Phases {
		rows[p.Phase] = p
	}
	// g2's 30 messages of 5 bytes are 5 calls of ≤ 7.
	if s := rows[planGroupMessages].LongestStream; s == nil || s.GroupID != "g2" || s.LegacyID != "g2" || s.Calls != 5 || s.Records != 30 || s.Origin != "groups.csv:3" {
		t.Errorf("longest group %+v, want g2: 5 calls, 30 messages, groups.csv:3", s)
	}
	if s := rows[planDirectMessages].LongestStream; s == nil || s.A != "u1" || s.B != "u3" || s.Calls != 8 || s.Records != 8 || s.Origin != "direct.csv:5" {
		t.Errorf("longest conversation %+v, want u1/u3: 8 calls from direct.csv:5", s)
	}
	cp := res.Plan.Critical
	if cp.Bound != BoundStream || cp.Branch != "direct" || cp.Stream == nil || cp.Stream.A != "u1" || cp.Stream.B != "u3" {
		t.Errorf("critical %+v: want bounded by the u1/u3 stream (8 s against g2's 5 s)", cp)
	}
	if got := res.Counts(extract.DirectMessages).Valid; got != 16 {
		t.Errorf("%d direct messages valid, want 16", got)
	}
}

// TestEstimateProfilesBranch: the profiles phase needs only the accounts, so it
// runs alongside the group chain and the one-to-one messages; when it is the
// longest, it is the critical path's branch and the run lasts accounts + profiles.
func TestEstimateProfilesBranch(t *testing.T) {
	for _, tt := range []struct {
		name     string
		calls    int64
		branch   string
		dominant string
	}{
		{"shorter than the messages", 100, "direct", planDirectMessages},
		{"longest", 50_000, "profiles", planProfiles},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rows := planRows(100, 64, 10, 10, 70, 1_000, nil, nil)
			rows = append(rows, PhasePlan{Phase: planProfiles, Command: tencentim.CmdPortraitSet.String(), Items: tt.calls, Calls: tt.calls,
				Rate: 100, DocumentedRate: 200, InFlight: 64})
			p := estimate(rows, 0)
			cp := p.Critical
			if cp.Branch != tt.branch || cp.Dominant != tt.dominant {
				t.Errorf("branch %s, dominant %s; want %s, %s", cp.Branch, cp.Dominant, tt.branch, tt.dominant)
			}
			want := 0.1 + math.Max(10, float64(tt.calls)/100) // accounts, then the longest branch
			if !near(cp.Seconds, want) {
				t.Errorf("critical path %v s, want %v", cp.Seconds, want)
			}
		})
	}
}

package plan

import (
	"fmt"
	"math"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/urlcheck"
)

// ValidateResult is everything the dry run found. Its JSON form is report.json's
// "result": field names are stable, for programs.
type ValidateResult struct {
	// Entities holds the counts of every entity read, in migration order. For each:
	// Read = Valid + Rejected + Skipped, and Repaired ⊆ Valid (design §4 rule 6).
	Entities []EntityCounts `json:"entities"`
	Accounts AccountSummary `json:"accounts"`
	// Issues are grouped by entity and rule, in migration order then rule code.
	Issues []RuleSummary `json:"issues"`
	Plan   Plan          `json:"plan"`
	// TimeRanges spans the accepted records of each entity.
	TimeRanges             []TimeRange        `json:"time_ranges"`
	LargestGroups          []GroupSize        `json:"largest_groups"`            // by messages
	LargestGroupsByMembers []GroupSize        `json:"largest_groups_by_members"` // by members
	LargestConversations   []ConversationSize `json:"largest_conversations"`     // by messages
	Warnings               []string           `json:"warnings"`
	// Rewrites lists every id rewritten under ids.invalid: rewrite (the id map).
	Rewrites []Rewrite `json:"rewrites"`
	// Links is what validate --check-urls found of the media URLs; nil without it.
	Links *urlcheck.Result `json:"links,omitempty"`
	// Split counts the messages policies.oversize: split cut into parts, by
	// entity; the plan's items count the parts.
	Split []SplitCount `json:"split,omitempty"`
	// SelfGroups is what policies.self_messages: to_group made of the
	// self-messages; nil when none.
	SelfGroups *SelfGroupCount `json:"self_groups,omitempty"`
}

// Rejected is the number of records that would be rejected, over every entity.
func (r *ValidateResult) Rejected() int64 {
	var n int64
	for _, c := range r.Entities {
		n += c.Rejected
	}
	return n
}

// Counts returns the counts of entity e (zero counts if it was not read).
func (r *ValidateResult) Counts(e extract.Entity) EntityCounts {
	for _, c := range r.Entities {
		if c.Entity == e {
			return c
		}
	}
	return EntityCounts{Entity: e}
}

// EntityCounts is the accounting of one entity.
type EntityCounts struct {
	Entity   extract.Entity `json:"entity"`
	Read     int64          `json:"read"`
	Valid    int64          `json:"valid"`
	Repaired int64          `json:"repaired"` // valid, with a repair
	Rejected int64          `json:"rejected"`
	Skipped  int64          `json:"skipped"` // skipped by policy (the owner's member row; friends)
}

// AccountSummary counts the accounts phase's work.
type AccountSummary struct {
	Users     int64 `json:"users"`      // valid users
	Implied   int64 `json:"implied"`    // referenced, absent from users, imported bare (unknown_users: import)
	Total     int64 `json:"total"`      // accounts to import
	Limit     int   `json:"limit"`      // the edition's cap, 0 = none
	OverLimit int64 `json:"over_limit"` // users refused by the cap (account.edition_limit)
}

// RuleSummary is one rule's findings on one entity.
type RuleSummary struct {
	Entity   extract.Entity `json:"entity"`
	Rule     string         `json:"rule"`
	Severity string         `json:"severity"`
	Count    int64          `json:"count"`
	Summary  string         `json:"summary"`
	Spec     string         `json:"spec"`
	Examples []Example      `json:"examples"` // the first ones met
}

// Example is one record a rule found.
type Example struct {
	Origin   string `json:"origin"`
	LegacyID string `json:"legacy_id"`
	Message  string `json:"message"`
}

// TimeRange spans the accepted records of one entity.
type TimeRange struct {
	Entity extract.Entity `json:"entity"`
	First  time.Time      `json:"first"`
	Last   time.Time      `json:"last"`
}

// GroupSize is one group's accepted members (owner excluded) and messages.
type GroupSize struct {
	LegacyID string `json:"legacy_id"`
	GroupID  string `json:"group_id"`
	Type     string `json:"type"`
	Members  int    `json:"members"`
	Messages int    `json:"messages"`
}

// ConversationSize is one conversation's accepted messages; A < B bytewise.
type ConversationSize struct {
	A        string `json:"a"`
	B        string `json:"b"`
	Messages int64  `json:"messages"`
}

// Rewrite is one legacy id rewritten to a different target id.
type Rewrite struct {
	Entity extract.Entity `json:"entity"`
	Legacy string         `json:"legacy"`
	Target string         `json:"target"`
}

// Plan is the work of the import: API calls per phase and how long they take at
// the configured rates and at the documented maxima (spec §1.10), at the round
// trip RTTSeconds (see estimate.go). The accounts phase may have two rows, one per
// API, which run side by side.
type Plan struct {
	Phases []PhasePlan `json:"phases"`
	// Critical is the run's duration: accounts, then the longer of the group chain
	// (groups, members, group messages, unread) and the C2C messages, which run
	// alongside the group phases once accounts are done (design §3).
	Critical CriticalPath `json:"critical"`
	// RTTSeconds is the round trip of one call the estimate assumes, in seconds
	// (ValidateOptions.RTT).
	RTTSeconds float64 `json:"rtt_seconds"`
}

// The plan's phase names; they equal the engine's Phase values.
const (
	planAccounts       = "accounts"
	planGroups         = "groups"
	planTopics         = "topics"
	planMembers        = "members"
	planGroupMessages  = "group_messages"
	planUnread         = "unread"
	planDirectMessages = "direct_messages"
	planFriends        = "friends"
	planGroupDMs       = "group_dms"
	planProfiles       = "profiles"
)

// PhasePlan is one phase's API calls and how long they take (see estimate.go).
type PhasePlan struct {
	Phase   string `json:"phase"`
	Command string `json:"command"` // service/command, e.g. "openim/importmsg"
	Items   int64  `json:"items"`   // records carried
	Calls   int64  `json:"calls"`
	// Rate is the configured rate and DocumentedRate the vendor's maximum, in
	// calls/s.
	Rate           float64 `json:"rate"`
	DocumentedRate float64 `json:"documented_rate"`
	// InFlight is the most calls the engine may keep in flight in the phase
	// (load.concurrency): its streams (message phases) or workers (batch
	// phases), which the engine sizes below it by rate × round trip
	// (load.InflightFor); 0 = not bounded.
	InFlight int `json:"in_flight"`
	// LongestStream is the message phase's stream with the most calls; nil for a
	// batch phase or a phase without calls.
	LongestStream *Stream `json:"longest_stream,omitempty"`

	// Seconds is the phase's lower bound at the configured rate: the largest of
	// RateSeconds (Calls ÷ Rate), StreamSeconds (LongestStream's calls × the round
	// trip) and ConcurrencySeconds (Calls × the round trip ÷ InFlight); Bound names
	// which (BoundRate, BoundStream, BoundConcurrency). DocumentedSeconds is the
	// same bound at DocumentedRate.
	Seconds            float64 `json:"seconds"`
	DocumentedSeconds  float64 `json:"documented_seconds"`
	RateSeconds        float64 `json:"rate_seconds"`
	StreamSeconds      float64 `json:"stream_seconds"`
	ConcurrencySeconds float64 `json:"concurrency_seconds"`
	Bound              string  `json:"bound"`
	// PredictedSeconds is what the engine is expected to take: the bound and what
	// the engine adds to it, the last answer's round trip (PhasePlan.estimate).
	PredictedSeconds float64 `json:"predicted_seconds"`
}

// CriticalPath is the plan's duration.
type CriticalPath struct {
	// Seconds is the lower bound of the run at the configured rates, and
	// DocumentedSeconds at the documented maxima: no run takes less.
	Seconds           float64 `json:"seconds"`
	DocumentedSeconds float64 `json:"documented_seconds"`
	// PredictedSeconds is what the run is expected to take without retries: the
	// phases' PredictedSeconds along the same path.
	PredictedSeconds float64 `json:"predicted_seconds"`
	// GroupChainSeconds and DirectSeconds are the lower bounds of the two branches
	// after accounts.
	GroupChainSeconds float64 `json:"group_chain_seconds"`
	DirectSeconds     float64 `json:"direct_seconds"`
	// Dominant is the phase that takes longest on the critical path; Share its
	// fraction of it; Bound what bounds it (PhasePlan.Bound).
	Dominant string  `json:"dominant"`
	Share    float64 `json:"share"`
	Bound    string  `json:"bound"`
	// Stream is the single stream the run waits for when Bound is BoundStream:
	// the dominant phase's longest stream.
	Stream *Stream `json:"stream,omitempty"`
	// Branch says which branch after accounts is longest: "group", "direct",
	// "friends" (a third branch, when friends are imported) or "profiles".
	Branch string `json:"branch"`
}

// Items is the records each phase carries, by phase name (the engine's Phase
// values), for progress totals.
func (p Plan) Items() map[string]int64 {
	items := map[string]int64{}
	for _, pp := range p.Phases {
		if pp.Phase == planGroupDMs && pp.Command != tencentim.CmdImportGroup.String() {
			continue // its members ride on the group DMs' records (groupDMPlan)
		}
		items[pp.Phase] += pp.Items
	}
	return items
}

// Duration is Seconds as a time.Duration.
func (p PhasePlan) Duration() time.Duration { return seconds(p.Seconds) }

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

func ceilDiv(n, d int64) int64 {
	if n <= 0 {
		return 0
	}
	return (n + d - 1) / d
}

func (v *validator) rate(cmd tencentim.Command) float64 {
	if r, ok := v.opt.Rates[cmd]; ok && r > 0 {
		return r
	}
	return DefaultRateShare * tencentim.DocumentedRate[cmd]
}

func (v *validator) plan(accounts int64) Plan {
	phase := func(name string, cmd tencentim.Command, items, calls int64, inFlight int, longest *Stream) PhasePlan {
		return PhasePlan{Phase: name, Command: cmd.String(), Items: items, Calls: calls,
			Rate: v.rate(cmd), DocumentedRate: tencentim.DocumentedRate[cmd], InFlight: inFlight, LongestStream: longest}
	}
	workers, streams := v.opt.Workers, v.opt.Streams
	// Accounts as the engine sends them: with UseAccountImport every account
	// through account_import; otherwise accounts with a Nick or FaceUrl through
	// account_import (multiaccount_import cannot set them, spec §3.5) and the
	// others through multiaccount_import in 100s. The two APIs have their own
	// limiters and run side by side.
	var acct []PhasePlan
	if v.opt.UseAccountImport {
		acct = []PhasePlan{phase(planAccounts, tencentim.CmdAccountImport, accounts, accounts, workers, nil)}
	} else {
		bare := max(accounts-v.profiles, 0)
		acct = []PhasePlan{
			phase(planAccounts, tencentim.CmdAccountImport, v.profiles, v.profiles, workers, nil),
			phase(planAccounts, tencentim.CmdMultiAccountImport, bare, ceilDiv(bare, tencentim.MaxMultiAccountImport), workers, nil),
		}
	}
	var groups, members, memberCalls, msgs, msgCalls, unread int64
	var longestGroup *Stream
	for _, f := range v.finals {
		if !f.OK {
			continue
		}
		groups++
		members += int64(f.Members)
		extra := v.splitGroups[f.Group.GroupID].Extra()
		msgs += int64(f.Messages) + extra
		// Batches never span groups: members in ≤ 300s (spec §8.8); messages as
		// the engine cuts them, by count and request size (planGroupMessage).
		memberCalls += ceilDiv(int64(f.Members), tencentim.MaxGroupMemberBatch)
		calls := v.msgCalls[f.Group.GroupID]
		msgCalls += calls
		unread += v.unread[f.Group.GroupID]
		if s := (Stream{GroupID: f.Group.GroupID, LegacyID: f.LegacyID, Origin: f.Legacy.String(),
			Calls: calls, Records: int64(f.Messages) + extra}); s.longer(longestGroup) {
			longestGroup = &s
		}
	}
	direct := v.counts[extract.DirectMessages].Valid - v.selfMessages
	if s := v.split[extract.DirectMessages]; s != nil {
		direct += s.Extra()
	}
	if g, m, c := v.selfGroupPlan(); g > 0 {
		groups, msgs, msgCalls = groups+g, msgs+m, msgCalls+c
	}
	var longestConv *Stream
	if v.longestConv.Calls > 0 {
		c := v.longestConv
		longestConv = &c
	}
	phases := append(acct, phase(planGroups, tencentim.CmdImportGroup, groups, groups, workers, nil))
	if topics := v.topics; topics > 0 {
		// A row only when there are topics, so that a plan without them reads
		// as before.
		phases = append(phases, phase(planTopics, tencentim.CmdImportTopic, topics, topics, workers, nil))
	}
	dmRows := v.groupDMPlan(func(name string, cmd tencentim.Command, items, calls int64) PhasePlan {
		return phase(name, cmd, items, calls, workers, nil)
	}, &msgs, &msgCalls, &longestGroup)
	phases = append(phases,
		phase(planMembers, tencentim.CmdImportGroupMember, members, memberCalls, workers, nil))
	phases = append(phases, dmRows...)
	phases = append(phases,
		phase(planGroupMessages, tencentim.CmdImportGroupMsg, msgs, msgCalls, streams, longestGroup),
		phase(planUnread, tencentim.CmdSetUnreadMsgNum, unread, unread, workers, nil),
		phase(planDirectMessages, tencentim.CmdImportMsg, direct, direct, streams, longestConv),
	)
	if v.opt.Friends {
		// One stream per user's list, in batches of load.MaxFriendImportBatch.
		phases = append(phases, phase(planFriends, tencentim.CmdFriendImport, v.friendItems, v.friendCalls, streams, v.longestFriends))
	}
	if v.portraits > 0 {
		// One portrait_set per profile (spec §4.1); a row only when there are
		// profiles, so that a plan without them reads as before.
		phases = append(phases, phase(planProfiles, tencentim.CmdPortraitSet, v.portraits, v.portraits, workers, nil))
	}
	return estimate(phases, v.opt.RTT)
}

// phaseSeconds is the duration of a phase: the longest of its rows, which run side
// by side.
func phaseSeconds(phases []PhasePlan, name string) float64 {
	var s float64
	for _, p := range phases {
		if p.Phase == name {
			s = math.Max(s, p.Seconds)
		}
	}
	return s
}

// freeGroupLimit is the developer/free edition's group quota (spec §3.3, 10058);
// the free edition is the one with a 100-account cap.
const (
	freeAccountLimit = 100
	freeGroupLimit   = 100
)

func (v *validator) warnings(res *ValidateResult) []string {
	var w []string
	a := res.Accounts
	if a.OverLimit > 0 {
		w = append(w, fmt.Sprintf("%d users are past the edition's %d-account limit and are rejected (account.edition_limit): "+
			"the target would answer 70398 (spec §3.3). Upgrade the edition or set target.account_limit.", a.OverLimit, a.Limit))
	} else if a.Limit > 0 && a.Total > int64(a.Limit)*9/10 {
		w = append(w, fmt.Sprintf("%d accounts to import, %d%% of the edition's %d-account limit (spec §3.3, 70398).",
			a.Total, a.Total*100/int64(a.Limit), a.Limit))
	}
	if groups := res.Counts(extract.Groups).Valid; a.Limit == freeAccountLimit && groups > freeGroupLimit {
		w = append(w, fmt.Sprintf("%d groups to import; a free/developer app holds at most %d groups (spec §3.3, 10058).", groups, freeGroupLimit))
	}
	if a.Implied > 0 {
		w = append(w, fmt.Sprintf("%d accounts are referenced but absent from users; they are imported bare, without nick or avatar (unknown_users: import).", a.Implied))
	}
	if n := len(res.Rewrites); n > 0 {
		w = append(w, fmt.Sprintf("%d ids are rewritten (ids.invalid: rewrite); the id map is in report.json under rewrites.", n))
	}
	if tr, days := rangeOf(res, extract.DirectMessages), v.opt.RoamingDays; tr != nil && days > 0 && !v.opt.Now.IsZero() && tr.First.Before(v.opt.Now.AddDate(0, 0, -days)) {
		w = append(w, fmt.Sprintf("one-to-one history reaches back to %s; clients and admin_getroammsg read only the last %d days (target.roaming_days; "+
			"spec §11 item 10): extend the app's roaming retention before migrating, or verify cannot read the older messages back.", tr.First.Format(time.DateOnly), days))
	}
	if f := res.Counts(extract.Friends); f.Read > 0 && !v.opt.Friends {
		w = append(w, fmt.Sprintf("%d friendships were read; policies.friends is skip, so they are not imported.", f.Read))
	}
	return w
}

func rangeOf(res *ValidateResult, e extract.Entity) *TimeRange {
	for i := range res.TimeRanges {
		if res.TimeRanges[i].Entity == e {
			return &res.TimeRanges[i]
		}
	}
	return nil
}

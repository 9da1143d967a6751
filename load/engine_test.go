package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

var e2eSpec = dataSpec{
	users:        400,
	nicks:        5,
	groupMsgs:    []int{40, 15, 8, 10, 0, 23},
	bigGroup:     350,
	convs:        60,
	convMsgs:     12,
	unreadPerGrp: 4,
}

// confirmLog records the OnConfirmed hook per (phase, stream), in call order.
type confirmLog struct {
	mu   sync.Mutex
	seen map[string][]string
	n    map[string]int // legacy id → confirmations
}

func (l *confirmLog) hooks() Hooks {
	l.seen, l.n = map[string][]string{}, map[string]int{}
	return Hooks{OnConfirmed: func(ph Phase, stream string, it Item, o Outcome) {
		l.mu.Lock()
		defer l.mu.Unlock()
		k := string(ph) + "|" + stream
		l.seen[k] = append(l.seen[k], it.LegacyID)
		l.n[string(ph)+"|"+it.LegacyID]++
	}}
}

func runEngine(t *testing.T, tg *target, src Source, cfg Config) (*Summary, error) {
	t.Helper()
	e := NewEngine(tg.client, cfg)
	fastRetries(e)
	return e.Run(t.Context(), src)
}

func TestEngineEndToEnd(t *testing.T) {
	tests := []struct {
		name  string
		multi bool
	}{
		{"multiaccount_import", true},
		{"account_import per user", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := buildDataset(t, e2eSpec)
			tg := newTarget(t, nil)
			var log confirmLog
			sink := &memSink{}
			sum, err := runEngine(t, tg, src, Config{
				Rates: highRates(), UseMultiAccount: tt.multi, RecentContactFlag: true,
				Rejects: sink, Hooks: log.hooks(), Streams: 16, Workers: 8,
			})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			checkState(t, tg.srv.State(), src, nil)
			checkAccounting(t, sum, src)
			if len(sink.rejects) != 0 {
				t.Fatalf("rejects: %+v", sink.rejects)
			}
			for ph, n := range src.counts() {
				if p := sum.Phases[ph]; p.Imported != n {
					t.Errorf("%s: imported %d, want %d", ph, p.Imported, n)
				}
			}
			// Calls: batches fill to the API maxima.
			calls := func(c tencentim.Command) int64 {
				if a := sum.APIs[c.String()]; a != nil {
					return a.Calls
				}
				return 0
			}
			wantGroupMsgCalls := int64(0)
			for _, n := range e2eSpec.groupMsgs {
				wantGroupMsgCalls += int64((n + 6) / 7)
			}
			if got := calls(tencentim.CmdImportGroupMsg); got != wantGroupMsgCalls {
				t.Errorf("import_group_msg calls = %d, want %d (full batches of 7)", got, wantGroupMsgCalls)
			}
			if got := calls(tencentim.CmdImportMsg); got != int64(len(src.direct)) {
				t.Errorf("importmsg calls = %d, want %d", got, len(src.direct))
			}
			if tt.multi {
				if got := calls(tencentim.CmdMultiAccountImport); got != 4 { // 395 accounts in 100s
					t.Errorf("multiaccount_import calls = %d, want 4", got)
				}
				if got := calls(tencentim.CmdAccountImport); got != int64(e2eSpec.nicks) {
					t.Errorf("account_import calls = %d, want %d (accounts with a Nick)", got, e2eSpec.nicks)
				}
			} else if got := calls(tencentim.CmdAccountImport); got != int64(e2eSpec.users) {
				t.Errorf("account_import calls = %d, want %d", got, e2eSpec.users)
			}
			if got := calls(tencentim.CmdImportGroupMember); got != 7 { // 5 small groups + 350 members in 2
				t.Errorf("import_group_member calls = %d, want 7", got)
			}
			// Hooks: every record confirmed once; group messages in stream order.
			for k, n := range log.n {
				if n != 1 {
					t.Errorf("%s confirmed %d times", k, n)
				}
			}
			if len(log.n) != int(len(src.accounts)+len(src.groups)+len(src.members)+len(src.groupMsgs)+len(src.direct)+len(src.unread)) {
				t.Errorf("%d confirmations, want one per record", len(log.n))
			}
			byGroup := map[string][]string{}
			for _, m := range src.groupMsgs {
				byGroup[m.GroupID] = append(byGroup[m.GroupID], m.LegacyID)
			}
			for g, want := range byGroup {
				if got := log.seen[string(PhaseGroupMessages)+"|"+g]; fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("group %s confirmed out of order: %v", g, got)
				}
			}
			// Every source method called once.
			for _, m := range []string{"accounts", "groups", "members", "group_messages", "direct_messages", "unread"} {
				if src.called[m] != 1 {
					t.Errorf("source %s called %d times", m, src.called[m])
				}
			}
			if len(sum.Timeline) == 0 || sum.Timeline[0].Calls[tencentim.CmdImportMsg.String()]+sumCalls(sum.Timeline[1:], tencentim.CmdImportMsg.String()) != calls(tencentim.CmdImportMsg) {
				t.Errorf("timeline does not add up to the importmsg calls")
			}
		})
	}
}

func sumCalls(s []Sample, api string) int64 {
	var n int64
	for _, x := range s {
		n += x.Calls[api]
	}
	return n
}

// faults10 injects about 10 % failures of every kind the issue names.
func faults10() []sandbox.Fault {
	return []sandbox.Fault{
		{Probability: 0.02, Kind: sandbox.FaultHTTP502},
		{Probability: 0.02, Kind: sandbox.FaultReset},
		{Probability: 0.015, Kind: sandbox.FaultCode, Code: 60007},
		{Probability: 0.015, Kind: sandbox.FaultCode, Code: 70169},
		{Probability: 0.015, Kind: sandbox.FaultCode, Code: 91000},
		{Probability: 0.015, Kind: sandbox.FaultDropResponse},
	}
}

// TestEngineFaultsReachTheSameState runs the same dataset into a clean sandbox and
// into one failing ~10 % of calls (502, reset, 60007, 70169, 91000, lost answers)
// with latency: the two final states must be identical.
func TestEngineFaultsReachTheSameState(t *testing.T) {
	src := buildDataset(t, e2eSpec)
	clean := newTarget(t, nil)
	if _, err := runEngine(t, clean, src, Config{Rates: highRates(), UseMultiAccount: true, RecentContactFlag: true, Streams: 16, Workers: 8}); err != nil {
		t.Fatalf("clean run: %v", err)
	}
	want := clean.srv.State()
	checkState(t, want, src, nil)

	for _, seed := range []int64{1, 2} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			faulty := newTarget(t, func(c *sandbox.Config) {
				c.Faults = faults10()
				c.Seed = seed
				c.Latency = time.Millisecond
				c.LatencyJitter = 2 * time.Millisecond
			})
			sink := &memSink{}
			sum, err := runEngine(t, faulty, src, Config{Rates: highRates(), UseMultiAccount: true, RecentContactFlag: true, Rejects: sink, Streams: 16, Workers: 8})
			if err != nil {
				t.Fatalf("faulty run: %v", err)
			}
			if len(sink.rejects) != 0 {
				t.Fatalf("faulty run rejected %d records, first %+v", len(sink.rejects), sink.rejects[0])
			}
			checkAccounting(t, sum, src)
			var retries, failed int64
			for _, a := range sum.APIs {
				retries += a.Retries
				failed += a.Failed
			}
			if failed == 0 || retries == 0 {
				t.Fatalf("no faults were injected (failed %d, retries %d)", failed, retries)
			}
			got := faulty.srv.State()
			if !reflect.DeepEqual(got, want) {
				gj, _ := json.MarshalIndent(got, "", " ")
				wj, _ := json.MarshalIndent(want, "", " ")
				t.Fatalf("faulty state differs from the clean one:\n%s", firstDiff(string(gj), string(wj)))
			}
		})
	}
}

// TestEngineCountsThrottledApart: over-rate answers are counted as throttled, not
// as failures, in the API stats and the timeline, and the measured round trip and
// in-flight level reach the summary (issues 11, 12).
func TestEngineCountsThrottledApart(t *testing.T) {
	src := buildDataset(t, e2eSpec)
	tg := newTarget(t, func(c *sandbox.Config) {
		c.Faults = []sandbox.Fault{{Command: tencentim.CmdImportMsg, Probability: 0.2, Kind: sandbox.FaultCode, Code: 60007}}
		c.Seed = 3
		c.Latency = 3 * time.Millisecond
	})
	sum, err := runEngine(t, tg, src, Config{Rates: highRates(), UseMultiAccount: true, RecentContactFlag: true, Streams: 16, Workers: 8})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	a := sum.APIs[tencentim.CmdImportMsg.String()]
	if a == nil || a.RateLimited == 0 || a.Failed != 0 {
		t.Fatalf("importmsg stats %+v: want throttled answers and no failures", a)
	}
	var throttled int64
	for _, s := range sum.Timeline {
		throttled += s.Throttled[tencentim.CmdImportMsg.String()]
		if s.Errors[tencentim.CmdImportMsg.String()] != 0 {
			t.Fatalf("timeline counts a throttled answer as an error: %+v", s)
		}
	}
	if throttled != a.RateLimited {
		t.Fatalf("timeline has %d throttled importmsg attempts, stats %d", throttled, a.RateLimited)
	}
	if a.RTT < 3*time.Millisecond || a.RTT > time.Second {
		t.Fatalf("importmsg round trip %v, want at least the sandbox's 3 ms latency", a.RTT)
	}
	if a.InFlight <= 0 || a.MaxInFlight < 1 || a.MaxInFlight > 16 || float64(a.MaxInFlight) < a.InFlight {
		t.Fatalf("importmsg in flight: mean %.2f, most %d; want 0 < mean <= most <= 16 streams", a.InFlight, a.MaxInFlight)
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			lo := max(0, i-5)
			return fmt.Sprintf("line %d\n got:  %s\n want: %s\ncontext:\n%s", i, g[i], w[i], strings.Join(g[lo:min(len(g), i+3)], "\n"))
		}
	}
	return fmt.Sprintf("lengths %d vs %d", len(g), len(w))
}

// TestGroupBatchResendIsNotDeduplicated checks the sandbox's reading of design §4
// rule 3 and §7 A2/A4 that the engine relies on: a batch resent as is after its
// answer was lost is deduplicated only for the messages in the group's latest
// second; the older ones fail with 10004. So blind resends are not enough, and the
// engine reads the group back before resending (engine_groupmsg.go).
func TestGroupBatchResendIsNotDeduplicated(t *testing.T) {
	tg := newTarget(t, nil)
	ctx := t.Context()
	if _, err := tg.client.MultiAccountImport(ctx, &tencentim.MultiAccountImportRequest{Accounts: []string{"a1"}}); err != nil {
		t.Fatal(err)
	}
	create := time.Now().Add(-time.Hour).Unix()
	if _, err := tg.client.ImportGroup(ctx, &tencentim.ImportGroupRequest{Type: tencentim.GroupPublic, GroupID: "imm_dedup", Name: "d", CreateTime: create}); err != nil {
		t.Fatal(err)
	}
	batch := []tencentim.GroupMsg{
		{FromAccount: "a1", SendTime: create + 10, Random: 11, MsgBody: textBody(t, "one")},
		{FromAccount: "a1", SendTime: create + 20, Random: 22, MsgBody: textBody(t, "two")},
		{FromAccount: "a1", SendTime: create + 20, Random: 33, MsgBody: textBody(t, "three")},
	}
	results := func() []int {
		resp, err := tg.client.ImportGroupMsg(ctx, &tencentim.ImportGroupMsgRequest{GroupID: "imm_dedup", MsgList: batch})
		if err != nil {
			t.Fatal(err)
		}
		var r []int
		for _, x := range resp.ImportMsgResult {
			r = append(r, x.Result)
		}
		return r
	}
	if got := results(); fmt.Sprint(got) != "[0 0 0]" {
		t.Fatalf("first send: %v", got)
	}
	got := results()
	if fmt.Sprint(got) != "[10004 0 0]" {
		t.Fatalf("resend: results %v, want [10004 0 0] (time rule first, then the 300 s Random dedup)", got)
	}
	for _, g := range tg.srv.State().Groups {
		if g.GroupID == "imm_dedup" && len(g.Messages) != 3 {
			t.Fatalf("resend stored %d messages, want 3", len(g.Messages))
		}
	}
}

// TestEngineReconcilesLostGroupAnswers loses every other import_group_msg answer
// after the sandbox applied the batch: the engine must read the group back and
// resend only what is missing, without rejects or duplicates.
func TestEngineReconcilesLostGroupAnswers(t *testing.T) {
	src := buildDataset(t, dataSpec{users: 30, groupMsgs: []int{40, 22, 9}, convs: 2, convMsgs: 3})
	tg := newTarget(t, func(c *sandbox.Config) {
		c.Faults = []sandbox.Fault{{Command: tencentim.CmdImportGroupMsg, Nth: 2, Kind: sandbox.FaultDropResponse}}
	})
	sink := &memSink{}
	sum, err := runEngine(t, tg, src, Config{Rates: highRates(), UseMultiAccount: true, Rejects: sink})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(sink.rejects) != 0 {
		t.Fatalf("rejects: %+v", sink.rejects)
	}
	checkState(t, tg.srv.State(), src, nil)
	checkAccounting(t, sum, src)
	if a := sum.APIs[tencentim.CmdGroupMsgGetSimple.String()]; a == nil || a.Calls == 0 {
		t.Fatal("no read-back happened")
	}
	if p := sum.Phases[PhaseGroupMessages]; p.Imported != int64(len(src.groupMsgs)) {
		t.Fatalf("group messages imported %d, want %d", p.Imported, len(src.groupMsgs))
	}
}

// TestEngineRejects plants records the target refuses, one per kind of per-record
// failure, and checks each reaches the sink with its rule, while everything else
// is imported.
func TestEngineRejects(t *testing.T) {
	src := buildDataset(t, dataSpec{users: 40, nicks: 2, groupMsgs: []int{20, 9}, convs: 5, convMsgs: 4, unreadPerGrp: 2})
	base := src.groups[0].Req.CreateTime
	long := strings.Repeat("x", 12050)

	// A bad UserID inside a multiaccount_import batch → FailAccounts.
	src.accounts = append(src.accounts, Account{Item: Item{Origin: "users.csv:90", LegacyID: "bad-user"}, Req: tencentim.AccountImportRequest{UserID: strings.Repeat("z", 40)}})
	// A Nick over 500 bytes → account_import 40601.
	src.accounts = append(src.accounts, Account{Item: Item{Origin: "users.csv:91", LegacyID: "long-nick"}, Req: tencentim.AccountImportRequest{UserID: "u_longnick", Nick: strings.Repeat("n", 600)}})
	// A group with an invalid custom id → 10004 request-level; its members,
	// messages and unread counts are rejected without calls.
	src.groups = append(src.groups, Group{Item: Item{Origin: "groups.csv:9", LegacyID: "bad-group"}, Req: tencentim.ImportGroupRequest{Type: tencentim.GroupPublic, GroupID: "@TGS#nope", Name: "bad", CreateTime: base}})
	src.members = append(src.members, Member{Item: Item{Origin: "members.csv:90", LegacyID: "bad-group/u001"}, GroupID: "@TGS#nope", M: tencentim.ImportMember{MemberAccount: "u001", JoinTime: base + 1}})
	// A member that is not an account → Result 0.
	src.members = append(src.members, Member{Item: Item{Origin: "members.csv:91", LegacyID: "imm_g0/ghost"}, GroupID: "imm_g0", M: tencentim.ImportMember{MemberAccount: "ghost", JoinTime: base + 50}})
	// Group messages: one too early (10004), one too big (80002, sent alone: it
	// would take any batch over the request limit), one of the bad group.
	var g0 []GroupMessage
	for i, m := range src.groupMsgs {
		if m.GroupID != "imm_g0" {
			continue
		}
		g0 = append(g0, m)
		if i == 5 {
			g0 = append(g0, GroupMessage{Item: Item{Origin: "gm.csv:90", LegacyID: "too-big"}, GroupID: "imm_g0",
				Msg: tencentim.GroupMsg{FromAccount: m.Msg.FromAccount, SendTime: m.Msg.SendTime, Random: 424242, MsgBody: textBody(t, long)}})
		}
		if i == 12 {
			g0 = append(g0, GroupMessage{Item: Item{Origin: "gm.csv:91", LegacyID: "too-early"}, GroupID: "imm_g0",
				Msg: tencentim.GroupMsg{FromAccount: m.Msg.FromAccount, SendTime: base - 100, Random: 434343, MsgBody: textBody(t, "early")}})
		}
	}
	rest := []GroupMessage{}
	for _, m := range src.groupMsgs {
		if m.GroupID != "imm_g0" {
			rest = append(rest, m)
		}
	}
	rest = append(rest, GroupMessage{Item: Item{Origin: "gm.csv:92", LegacyID: "bad-group/m0"}, GroupID: "@TGS#nope",
		Msg: tencentim.GroupMsg{FromAccount: "u001", SendTime: base + 10, Random: 1, MsgBody: textBody(t, "x")}})
	src.groupMsgs = append(g0, rest...)
	src.unread = append(src.unread, Unread{Item: Item{Origin: "members.csv:90", LegacyID: "bad-group/u001#unread"}, Req: tencentim.SetUnreadMsgNumRequest{GroupID: "@TGS#nope", MemberAccount: "u001", UnreadMsgNum: 1}})
	// A one-to-one message to an account that does not exist → 90012.
	src.direct = append(src.direct, DirectMessage{Item: Item{Origin: "dm.csv:90", LegacyID: "to-ghost"}, Req: tencentim.ImportMsgRequest{
		SyncFromOldSystem: 2, FromAccount: "u001", ToAccount: "ghost", MsgSeq: 1, MsgRandom: 2, MsgTimeStamp: base + 5, MsgBody: textBody(t, "hi")}})

	want := map[string]struct{ entity, rule string }{
		"bad-user":              {"users", RuleAccountFailed},
		"long-nick":             {"users", "target.40601"},
		"bad-group":             {"groups", "target.10004"},
		"bad-group/u001":        {"group_members", RuleGroupNotImported},
		"imm_g0/ghost":          {"group_members", RuleMemberFailed},
		"too-big":               {"group_messages", "target.80002"},
		"too-early":             {"group_messages", "target.10004"},
		"bad-group/m0":          {"group_messages", RuleGroupNotImported},
		"bad-group/u001#unread": {"group_members", RuleGroupNotImported},
		"to-ghost":              {"direct_messages", "target.90012"},
	}
	skip := map[string]bool{}
	for id := range want {
		skip[id] = true
	}

	tg := newTarget(t, nil)
	sink := &memSink{}
	sum, err := runEngine(t, tg, src, Config{Rates: highRates(), UseMultiAccount: true, Rejects: sink})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := sink.byID()
	for id, w := range want {
		r, ok := got[id]
		if !ok {
			t.Errorf("%s: not rejected", id)
			continue
		}
		if r.Entity != w.entity || r.Rule != w.rule || r.Origin == "" || r.Message == "" || r.Severity != "reject" {
			t.Errorf("%s: reject %+v, want entity %s rule %s with origin and message", id, r, w.entity, w.rule)
		}
	}
	if len(sink.rejects) != len(want) {
		t.Errorf("%d rejects, want %d: %+v", len(sink.rejects), len(want), sink.rejects)
	}
	checkState(t, tg.srv.State(), src, skip)
	checkAccounting(t, sum, src)
	if a := sum.APIs[tencentim.CmdImportGroupMsg.String()]; a == nil || a.Failed != 0 {
		t.Errorf("import_group_msg %+v: a batch was refused as a whole (10020), want per-message results only", a)
	}
}

// TestEngineFatal: a configuration the target refuses stops the run at once with
// one sentence that says what to fix.
func TestEngineFatal(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		mod     func(*sandbox.Config)
		code    int
		message string
	}{
		{"wrong secret key", "not-the-key", nil, 70009, "the target refused the admin UserSig (70009): check sdkappid and secret_key"},
		{"edition account limit", testKey, func(c *sandbox.Config) { c.AccountLimit = 150 }, 70398,
			"the application's edition reached its account limit (70398): upgrade the edition or import fewer accounts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := buildDataset(t, dataSpec{users: 400, groupMsgs: []int{10}, convs: 50, convMsgs: 5})
			tg := newTarget(t, tt.mod)
			client := newTestClient(t, tg.url, tt.key)
			e := NewEngine(client, Config{Rates: highRates(), UseMultiAccount: true, Workers: 2})
			fastRetries(e)
			sum, err := e.Run(t.Context(), src)
			var fe *FatalError
			if !errors.As(err, &fe) || fe.Code != tt.code {
				t.Fatalf("err = %v, want a FatalError %d", err, tt.code)
			}
			if err.Error() != tt.message {
				t.Fatalf("message %q, want %q", err.Error(), tt.message)
			}
			if strings.Contains(err.Error(), tt.key) || strings.Contains(strings.ToLower(err.Error()), "usersig=") {
				t.Fatal("the error leaks a secret")
			}
			if sum == nil || sum.Phases[PhaseGroups].State != PhasePending || src.called["groups"] != 0 {
				t.Fatalf("the run went on after the fatal error: %+v", sum.Phases[PhaseGroups])
			}
			if n := src.active.Load(); n != 0 {
				t.Fatalf("%d source methods still running after Run returned", n)
			}
		})
	}
}

// TestEngineCancel: cancelling the context stops the run promptly and cleanly.
func TestEngineCancel(t *testing.T) {
	src := buildDataset(t, dataSpec{users: 50, groupMsgs: []int{200, 200}, convs: 400, convMsgs: 40})
	tg := newTarget(t, func(c *sandbox.Config) { c.Latency = 5 * time.Millisecond })
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var once sync.Once
	var confirmed sync.WaitGroup
	confirmed.Add(1)
	e := NewEngine(tg.client, Config{Rates: highRates(), UseMultiAccount: true, Streams: 8, Hooks: Hooks{
		OnConfirmed: func(ph Phase, _ string, _ Item, _ Outcome) {
			if ph == PhaseDirectMessages {
				once.Do(func() { cancel(); confirmed.Done() })
			}
		},
	}})
	type result struct {
		sum *Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := e.Run(ctx, src)
		done <- result{sum, err}
	}()
	select {
	case r := <-done:
		if !errors.Is(r.err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", r.err)
		}
		if n := src.active.Load(); n != 0 {
			t.Fatalf("%d source methods still running after Run returned", n)
		}
		if p := r.sum.Phases[PhaseDirectMessages]; p.State == PhaseFinished || p.Done() >= int64(len(src.direct)) {
			t.Fatalf("direct messages finished despite the cancel: %+v", p)
		}
	case <-time.After(time.Minute): // a hang guard, not a timing assertion
		t.Fatal("Run did not return after cancel")
	}
}

func TestEngineConfig(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		wantErr  bool
		wantRate float64 // importmsg
	}{
		{"defaults", Config{}, false, 190},
		{"explicit", Config{Streams: 10, Workers: 3, Rates: map[tencentim.Command]float64{tencentim.CmdImportMsg: 1000}}, false, 1000},
		{"zero rate is an error", Config{Rates: map[tencentim.Command]float64{tencentim.CmdImportMsg: 0}}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := withDefaults(tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				e := NewEngine(nil, tt.cfg)
				if _, err := e.Run(t.Context(), &memSource{}); err == nil {
					t.Fatal("Run accepted a bad config")
				}
				return
			}
			if cfg.Streams != tt.cfg.Streams || cfg.Workers != tt.cfg.Workers || cfg.Rates[tencentim.CmdImportMsg] != tt.wantRate {
				t.Fatalf("streams %d workers %d rate %v; want %d %d %v", cfg.Streams, cfg.Workers, cfg.Rates[tencentim.CmdImportMsg], tt.cfg.Streams, tt.cfg.Workers, tt.wantRate)
			}
			if cfg.GroupMsgBatch != 7 || cfg.MaxAttempts != 8 || cfg.Rates[tencentim.CmdMultiAccountImport] != 95 || cfg.MaxInFlight != DefaultMaxInFlight {
				t.Fatalf("defaults: %+v", cfg)
			}
		})
	}
}

// TestPhaseInflight: a phase's calls in flight follow Little's law from its rate
// and the round trip measured so far (assumedRTT before any answer), within
// [inflightMin, MaxInFlight]; a fixed Streams or Workers wins.
func TestPhaseInflight(t *testing.T) {
	rates := func(r float64) map[tencentim.Command]float64 {
		return map[tencentim.Command]float64{tencentim.CmdImportMsg: r, tencentim.CmdAccountImport: r, tencentim.CmdMultiAccountImport: r}
	}
	tests := []struct {
		name   string
		cfg    Config
		rtt    time.Duration // measured; 0 = none yet
		ph     Phase
		wantIn int
	}{
		{"190/s before any answer: 200 ms assumed", Config{}, 0, PhaseDirectMessages, 61},              // ceil(190×0.2×1.5)+4
		{"190/s at 20 ms: sized for 200 ms", Config{}, 20 * time.Millisecond, PhaseDirectMessages, 61}, // ceil(57)+4
		{"190/s at 300 ms", Config{}, 300 * time.Millisecond, PhaseDirectMessages, 90},                 // ceil(85.5)+4
		{"2,000/s at 50 ms: sized for 200 ms", Config{Rates: rates(2000)}, 50 * time.Millisecond, PhaseDirectMessages, 604},
		{"2,000/s at 200 ms", Config{Rates: rates(2000)}, 200 * time.Millisecond, PhaseDirectMessages, 604},
		{"capped by MaxInFlight", Config{Rates: rates(2000), MaxInFlight: 100}, 200 * time.Millisecond, PhaseDirectMessages, 100},
		{"a slow API gets the minimum", Config{Rates: rates(1)}, 50 * time.Millisecond, PhaseDirectMessages, inflightMin},
		{"fixed Streams", Config{Streams: 7}, 200 * time.Millisecond, PhaseDirectMessages, 7},
		{"fixed Workers apply to batch phases", Config{Streams: 7, Workers: 3}, 0, PhaseAccounts, 3},
		{"the busier API of a phase", Config{Rates: map[tencentim.Command]float64{tencentim.CmdAccountImport: 10, tencentim.CmdMultiAccountImport: 1000}}, 100 * time.Millisecond, PhaseAccounts, 304},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEngine(nil, tt.cfg)
			if tt.rtt > 0 {
				a := e.apis[tencentim.CmdImportGroup]
				a.answered.Store(4)
				a.rttSum.Store(4 * int64(tt.rtt))
			}
			if got := e.phaseInflight(def(tt.ph)); got != tt.wantIn {
				t.Fatalf("in flight %d, want %d", got, tt.wantIn)
			}
		})
	}
}

func TestTimelineMerges(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	tl := newTimeline(start, 2)
	for s := range timelineMaxBuckets + 10 {
		tl.add(0, attemptOK, start.Add(time.Duration(s)*time.Second))
		outcome := attemptOK
		switch s % 3 {
		case 0:
			outcome = attemptFailed
		case 1:
			outcome = attemptThrottled
		}
		tl.add(1, outcome, start.Add(time.Duration(s)*time.Second))
	}
	samples := tl.samples([]string{"a", "b"})
	if len(samples) > timelineMaxBuckets {
		t.Fatalf("%d samples, want at most %d", len(samples), timelineMaxBuckets)
	}
	var a, b, errs, throttled int64
	for _, s := range samples {
		if s.Width != 2*time.Second {
			t.Fatalf("width %v, want 2s after one merge", s.Width)
		}
		a += s.Calls["a"]
		b += s.Calls["b"]
		errs += s.Errors["b"]
		throttled += s.Throttled["b"]
		if s.Errors["a"] != 0 || s.Throttled["a"] != 0 {
			t.Fatalf("sample %+v: a had only successes", s)
		}
	}
	n := int64(timelineMaxBuckets + 10) // 3,610 seconds: s%3 == 0 for 1,204, == 1 for 1,203
	if a != n || b != n || errs != 1204 || throttled != 1203 {
		t.Fatalf("sums a=%d b=%d errs=%d throttled=%d, want %d %d 1204 1203", a, b, errs, throttled, n, n)
	}
}

func TestProgressSnapshot(t *testing.T) {
	p := NewProgress()
	p.SetTotal(PhaseMembers, 10)
	c := p.counters(PhaseMembers)
	c.read.Add(4)
	c.imported.Add(2)
	c.rejected.Add(1)
	p.start(PhaseMembers, time.Unix(10, 0))
	got := p.Phase(PhaseMembers)
	if got.Total != 10 || got.Read != 4 || got.Done() != 3 || got.State != PhaseRunning || got.Started.Unix() != 10 {
		t.Fatalf("snapshot %+v", got)
	}
	if j, err := json.Marshal(got); err != nil || !strings.Contains(string(j), `"State":"running"`) {
		t.Fatalf("JSON %s (%v) does not name the state", j, err)
	}
	if len(p.Snapshot()) != len(Phases()) || Phases()[0] != PhaseAccounts {
		t.Fatal("snapshot does not list every phase in order")
	}
}

// TestEngineStopsWhenRetriesRunOut: a call that keeps failing with retryable
// errors until its attempts run out (an outage, a wrong endpoint) stops the run
// like a fatal error, with one sentence naming the API and the last failure and
// saying that the same command resumes. No record is rejected for it: the run over
// the same checkpoint, once the target answers again, imports everything.
func TestEngineStopsWhenRetriesRunOut(t *testing.T) {
	tests := []struct {
		name     string
		fault    sandbox.Fault
		wantCode int
		want     []string // in the message
	}{
		{"importmsg keeps answering 70169", sandbox.Fault{Command: tencentim.CmdImportMsg, Probability: 1, Kind: sandbox.FaultCode, Code: 70169},
			70169, []string{"openim/importmsg", "70169"}},
		{"import_group_msg keeps answering HTTP 502", sandbox.Fault{Command: tencentim.CmdImportGroupMsg, Probability: 1, Kind: sandbox.FaultHTTP502},
			0, []string{"group_open_http_svc/import_group_msg", "HTTP status 502"}},
		{"import_group_member connections keep resetting", sandbox.Fault{Command: tencentim.CmdImportGroupMember, Probability: 1, Kind: sandbox.FaultReset},
			0, []string{"group_open_http_svc/import_group_member", "connection"}},
		{"multiaccount_import keeps answering over-rate", sandbox.Fault{Command: tencentim.CmdMultiAccountImport, Probability: 1, Kind: sandbox.FaultCode, Code: 60007},
			60007, []string{"im_open_login_svc/multiaccount_import", "60007"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := buildDataset(t, dataSpec{users: 40, groupMsgs: []int{20, 9}, convs: 10, convMsgs: 4, unreadPerGrp: 2})
			path := filepath.Join(t.TempDir(), "checkpoint.db")
			down := newTarget(t, func(c *sandbox.Config) { c.Faults = []sandbox.Fault{tt.fault} })
			s := openSession(t, path)
			sink := &memSink{}
			cfg := resumeConfig(s, Hooks{}, sink)
			cfg.MaxAttempts = 3
			sum, err := runEngine(t, down, src, cfg)
			s.close(t)

			var fe *FatalError
			if !errors.As(err, &fe) || fe.API != tt.fault.Command || fe.Code != tt.wantCode {
				t.Fatalf("err = %#v, want a FatalError of %s with code %d", err, tt.fault.Command, tt.wantCode)
			}
			var ee *ExhaustedError
			if !errors.As(err, &ee) || ee.Attempts != 3 {
				t.Fatalf("err = %v, want it to wrap the ExhaustedError of 3 attempts", err)
			}
			msg := err.Error()
			for _, w := range append(tt.want, "kept failing", "run the same command again") {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") || strings.Contains(strings.ToLower(msg), "usersig") || strings.Contains(msg, "127.0.0.1") {
				t.Errorf("message %q is not one sentence free of URLs", msg)
			}
			if len(sink.rejects) != 0 {
				t.Fatalf("%d records rejected for an outage, first %+v", len(sink.rejects), sink.rejects[0])
			}
			for ph, p := range sum.Phases {
				if p.Rejected != 0 {
					t.Errorf("%s: %d rejected", ph, p.Rejected)
				}
			}

			// The outage ends: the same run over the checkpoint finishes.
			up := newTarget(t, nil)
			if err := up.srv.Restore(down.srv.State()); err != nil {
				t.Fatal(err)
			}
			s = openSession(t, path)
			sum, err = runEngine(t, up, src, resumeConfig(s, Hooks{}, sink))
			s.close(t)
			if err != nil {
				t.Fatalf("resumed run: %v", err)
			}
			if len(sink.rejects) != 0 {
				t.Fatalf("resumed run rejected %d records, first %+v", len(sink.rejects), sink.rejects[0])
			}
			checkState(t, up.srv.State(), src, nil)
			checkAccounting(t, sum, src)
		})
	}
}

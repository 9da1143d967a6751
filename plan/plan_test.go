package plan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/transform"
)

// planGroup is one group of planDataset: its legacy type and the text length of
// each of its messages.
type planGroup struct {
	typ   string // "public" or "community"
	texts []int
}

// planDataset has users u1..u3, one group per planGroup owned by u1, u2 a member
// of each, and the groups' messages from u2. runs > 0 interleaves the groups'
// messages in the source, runs messages of a group at a time, in turn.
func planDataset(groups []planGroup, runs int) *memReader {
	r := &memReader{bad: map[extract.Entity][]extract.BadRow{}}
	for i := 1; i <= 3; i++ {
		r.users = append(r.users, extract.User{ID: fmt.Sprintf("u%d", i), CreatedAt: at(-1000), Origin: origin("users.csv", i+1)})
	}
	perGroup := make([][]extract.Message, len(groups))
	line := 2
	for g, pg := range groups {
		id := fmt.Sprintf("g%d", g+1)
		r.groups = append(r.groups, extract.Group{ID: id, OwnerID: "u1", Type: pg.typ, Name: "Group " + id, CreatedAt: at(0), Origin: origin("groups.csv", g+2)})
		r.members = append(r.members, extract.Member{GroupID: id, UserID: "u2", Role: "member", JoinedAt: at(1), Origin: origin("members.csv", g+2)})
		for k, n := range pg.texts {
			m := text(fmt.Sprintf("%s-m%d", id, k), id, "u2", "", at(10+k), line)
			m.Text = strings.Repeat(string(rune('a'+k%26)), n)
			perGroup[g] = append(perGroup[g], m)
			line++
		}
	}
	if runs <= 0 {
		for _, ms := range perGroup {
			r.gmsgs = append(r.gmsgs, ms...)
		}
		return r
	}
	for left := true; left; {
		left = false
		for g := range perGroup {
			n := min(runs, len(perGroup[g]))
			r.gmsgs = append(r.gmsgs, perGroup[g][:n]...)
			perGroup[g] = perGroup[g][n:]
			left = left || len(perGroup[g]) > 0
		}
	}
	return r
}

// texts is n text lengths: lo, or spread over [lo, hi) by a hash of seed and the
// message's index when hi > lo.
func texts(seed string, n, lo, hi int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = lo
		if hi > lo {
			out[i] += int(hash32(fmt.Sprintf("%s/%d", seed, i)) % uint32(hi-lo))
		}
	}
	return out
}

// TestPlanCountsGroupMsgCallsLikeTheEngine: validate's plan must count the
// import_group_msg calls the run makes. The engine closes a batch at
// GroupMsgBatch messages or before the message that would take the request over
// groupMsgRequestBytes (spec §8.9, design §7 A5), and starts a new one where the
// source moves to another group; the plan of the same data, validated with the
// run's settings, must count exactly the requests that reach the sandbox.
func TestPlanCountsGroupMsgCallsLikeTheEngine(t *testing.T) {
	tests := []struct {
		name   string
		groups []planGroup
		runs   int // > 0: the groups' messages interleave, runs at a time
		batch  int // GroupMsgBatch; 0 = default
		flag   bool
		// flagMatters: the data sits at the size limit, where the 22 bytes of
		// "RecentContactFlag":1 in the envelope change the cuts, so a plan made
		// with the other flag counts differently.
		flagMatters bool
		wantCalls   int64 // 0: not checked beyond equality with the engine
	}{
		{
			name: "3 KB messages go three to a call",
			groups: []planGroup{
				{"public", texts("a", 20, 3000, 0)}, {"public", texts("b", 9, 3000, 0)}, {"public", texts("c", 4, 3000, 0)},
			},
			flag: true,
			// Four 3 KB messages exceed 12,000 bytes: 7 + 3 + 2 calls, where
			// batches of 7 would make 3 + 2 + 1.
			wantCalls: 12,
		},
		{
			name:      "small messages fill batches of 7",
			groups:    []planGroup{{"public", texts("d", 20, 100, 0)}, {"public", texts("e", 15, 100, 0)}},
			flag:      true,
			wantCalls: 6,
		},
		{
			name:      "small messages, batches of 5",
			groups:    []planGroup{{"public", texts("f", 20, 100, 0)}, {"public", texts("g", 11, 100, 0)}},
			batch:     5,
			wantCalls: 7,
		},
		{
			name: "mixed sizes, a message too large to share a call, a Community group",
			groups: []planGroup{
				{"public", texts("h", 40, 50, 6000)},
				{"community", texts("i", 31, 50, 6000)},
				{"public", append(texts("j", 5, 2500, 0), append([]int{11800}, texts("k", 6, 2500, 0)...)...)},
			},
			flag: true,
		},
		{
			name: "at the size limit, with RecentContactFlag",
			groups: []planGroup{
				{"public", texts("l", 60, 2850, 2876)}, {"public", texts("m", 60, 2850, 2876)},
				{"community", texts("n", 30, 2850, 2876)},
			},
			flag:        true,
			flagMatters: true,
		},
		{
			name: "at the size limit, without RecentContactFlag",
			groups: []planGroup{
				{"public", texts("l", 60, 2850, 2876)}, {"public", texts("m", 60, 2850, 2876)},
			},
			flagMatters: true,
		},
		{
			name:   "interleaved groups: a batch never spans a switch",
			groups: []planGroup{{"public", texts("o", 20, 100, 0)}, {"public", texts("p", 14, 2000, 0)}},
			runs:   3,
			flag:   true,
			// Runs of 3: g1 g2 g1 g2 … g1 g2(2) g1 g1(2). A call per run, but g1's
			// last two runs follow each other in the source and share one: 6 + 5.
			wantCalls: 11,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := replayConfig(func(c *transform.Config) { c.GroupTypes["community"] = tencentim.GroupCommunity })
			data := func() *memReader { return planDataset(tt.groups, tt.runs) }
			plan := func(tr *transform.Transformer, flag bool) int64 {
				t.Helper()
				var rejects rejectList
				res, err := runValidate(t, data(), tr, ValidateOptions{GroupMsgBatch: tt.batch, RecentContactFlag: flag, Rejects: &rejects})
				if err != nil {
					t.Fatalf("validate: %v", err)
				}
				if len(rejects) != 0 {
					t.Fatalf("validate rejected %+v", rejects)
				}
				for _, p := range res.Plan.Phases {
					if p.Command == tencentim.CmdImportGroupMsg.String() {
						return p.Calls
					}
				}
				t.Fatal("no import_group_msg row in the plan")
				return 0
			}
			planned := plan(newReplayTransformer(t, cfg), tt.flag)

			// The run: the plan spooled by Build, sent by the engine.
			dir := t.TempDir() + "/plan"
			if _, err := Build(t.Context(), data(), newReplayTransformer(t, cfg), ValidateOptions{GroupMsgBatch: tt.batch, RecentContactFlag: tt.flag}, dir, Meta{}); err != nil {
				t.Fatalf("Build: %v", err)
			}
			sp, err := OpenSpool(dir)
			if err != nil {
				t.Fatal(err)
			}
			var rec groupMsgRecorder
			sink := &memSink{}
			engine := load.NewEngine(sandboxClient(t, rec.wrap), load.Config{Rates: highRates(), UseMultiAccount: true,
				GroupMsgBatch: tt.batch, RecentContactFlag: tt.flag, Rejects: sink})
			sum, err := engine.Run(t.Context(), sp.Source())
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if rec.err != nil {
				t.Fatalf("unreadable import_group_msg request: %v", rec.err)
			}
			// No request was refused or retried, so every request is a batch as
			// the engine cut it.
			api := sum.APIs[tencentim.CmdImportGroupMsg.String()]
			if api == nil || api.Failed != 0 || api.Calls != int64(len(rec.reqs)) {
				t.Fatalf("import_group_msg: %+v, %d requests seen; want every call answered", api, len(rec.reqs))
			}
			for _, n := range rec.reqs {
				if n > 12000 {
					t.Errorf("an import_group_msg request of %d bytes", n)
				}
			}
			if len(sink.rejects) != 0 {
				t.Errorf("the target refused %+v", sink.rejects)
			}
			if planned != int64(len(rec.reqs)) {
				t.Errorf("plan counts %d import_group_msg calls, the engine made %d", planned, len(rec.reqs))
			}
			if tt.wantCalls != 0 && planned != tt.wantCalls {
				t.Errorf("plan counts %d import_group_msg calls, want %d", planned, tt.wantCalls)
			}
			if tt.flagMatters {
				if other := plan(newReplayTransformer(t, cfg), !tt.flag); other == planned {
					t.Errorf("the plan with RecentContactFlag %v counts %d calls too: the data does not test the envelope", !tt.flag, other)
				}
			}
		})
	}
}

// TestPlanUnreadLeavesOutRejectedGroups: a group that falls at the end of the
// validate pass (group_create_time: reject, found by a message) takes its members
// along, so the run restores none of their unread counts (the spool's Source
// leaves out the records of dropped groups); the plan must not count those calls.
func TestPlanUnreadLeavesOutRejectedGroups(t *testing.T) {
	r := &memReader{bad: map[extract.Entity][]extract.BadRow{}}
	for i := 1; i <= 3; i++ {
		r.users = append(r.users, extract.User{ID: fmt.Sprintf("u%d", i), CreatedAt: at(-1000), Origin: origin("users.csv", i+1)})
	}
	r.groups = []extract.Group{
		{ID: "g1", OwnerID: "u1", Type: "public", Name: "Kept", CreatedAt: at(0), Origin: origin("groups.csv", 2)},
		{ID: "g2", OwnerID: "u1", Type: "public", Name: "Falls", CreatedAt: at(100), Origin: origin("groups.csv", 3)},
	}
	r.members = []extract.Member{
		{GroupID: "g1", UserID: "u2", Role: "member", JoinedAt: at(1), Unread: 2, HasUnread: true, Origin: origin("members.csv", 2)},
		{GroupID: "g2", UserID: "u2", Role: "member", JoinedAt: at(150), Unread: 3, HasUnread: true, Origin: origin("members.csv", 3)},
		{GroupID: "g2", UserID: "u3", Role: "member", JoinedAt: at(150), Unread: 4, HasUnread: true, Origin: origin("members.csv", 4)},
	}
	// Sent before g2's CreateTime: under group_create_time: reject, g2 falls.
	r.gmsgs = []extract.Message{text("m1", "g2", "u2", "", at(50), 2)}
	tr := newTestTransformer(t, func(c *transform.Config) { c.GroupCreateTime = transform.PolicyReject })
	res, err := runValidate(t, r, tr, ValidateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m := res.Counts(extract.Members); m.Valid != 1 || m.Rejected != 2 {
		t.Fatalf("members %+v: g2's two members must fall with it", m)
	}
	for _, p := range res.Plan.Phases {
		if p.Phase == planUnread && (p.Items != 1 || p.Calls != 1) {
			t.Errorf("unread plan: %d items in %d calls, want 1 in 1 (g1's member only)", p.Items, p.Calls)
		}
	}
}

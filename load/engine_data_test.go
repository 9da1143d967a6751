package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// This file holds the engine tests' fixtures: a sandbox over real HTTP with the real
// client (design §9: never a mock of the client), an in-memory Source, a dataset
// builder, and the check that a sandbox state is what a dataset implies.

const (
	testSDKAppID = 1400054321
	testAdmin    = "admin"
	testKey      = "load-test-secret-key"
)

// target is a sandbox behind httptest and a client of it.
type target struct {
	srv    *sandbox.Server
	client *tencentim.Client
	url    string
}

func newTarget(tb testing.TB, mod func(*sandbox.Config)) *target {
	tb.Helper()
	return newWrappedTarget(tb, mod, nil)
}

// newWrappedTarget is newTarget with the sandbox behind wrap (when not nil), e.g. to
// record the requests as they reach the target.
func newWrappedTarget(tb testing.TB, mod func(*sandbox.Config), wrap func(http.Handler) http.Handler) *target {
	tb.Helper()
	cfg := sandbox.Config{
		SDKAppID:  testSDKAppID,
		SecretKey: secret.New(testKey),
		Admins:    []string{testAdmin},
		Seed:      7,
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := sandbox.New(cfg)
	if err != nil {
		tb.Fatalf("sandbox.New: %v", err)
	}
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(srv)
	}
	hs := httptest.NewServer(h)
	tb.Cleanup(hs.Close)
	return &target{srv: srv, client: newTestClient(tb, hs.URL, testKey), url: hs.URL}
}

func newTestClient(tb testing.TB, url, key string) *tencentim.Client {
	tb.Helper()
	c, err := tencentim.NewClient(tencentim.Config{
		SDKAppID:  testSDKAppID,
		SecretKey: secret.New(key),
		Admin:     testAdmin,
		Endpoint:  url,
		MaxConns:  512,
	})
	if err != nil {
		tb.Fatalf("tencentim.NewClient: %v", err)
	}
	return c
}

// fastRetries makes an engine's backoff short, so fault tests do not sleep for
// seconds; the retry logic is the same.
func fastRetries(e *Engine) {
	e.retry.backoff = backoff{base: time.Millisecond, cap: 20 * time.Millisecond, rand: e.retry.backoff.rand}
}

// highRates lifts every limiter well above what a test needs, so that injected
// 60007 answers (which halve a rate) do not make a test slow.
func highRates() map[tencentim.Command]float64 {
	r := map[tencentim.Command]float64{}
	for _, c := range usedAPIs {
		r[c] = 20000
	}
	return r
}

// ---- the in-memory source ----

type memSource struct {
	accounts  []Account
	groups    []Group
	members   []Member
	groupMsgs []GroupMessage
	direct    []DirectMessage
	unread    []Unread
	friends   []Friend
	profiles  []Profile

	mu     sync.Mutex
	called map[string]int // method → calls
	active atomic.Int32   // methods running now
}

func (s *memSource) enter(name string) func() {
	s.mu.Lock()
	if s.called == nil {
		s.called = map[string]int{}
	}
	s.called[name]++
	s.mu.Unlock()
	s.active.Add(1)
	return func() { s.active.Add(-1) }
}

func yieldAll[T recorder](ctx context.Context, items []T, fn func(Record) error) error {
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := it.record()
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// Records implements Source: each typed record as the plan would spool it.
func (s *memSource) Records(ctx context.Context, ph Phase, fn func(Record) error) error {
	defer s.enter(string(ph))()
	switch ph {
	case PhaseAccounts:
		return yieldAll(ctx, s.accounts, fn)
	case PhaseGroups:
		return yieldAll(ctx, s.groups, fn)
	case PhaseMembers:
		return yieldAll(ctx, s.members, fn)
	case PhaseGroupMessages:
		return yieldAll(ctx, s.groupMsgs, fn)
	case PhaseDirectMessages:
		return yieldAll(ctx, s.direct, fn)
	case PhaseUnread:
		return yieldAll(ctx, s.unread, fn)
	case PhaseFriends:
		return yieldAll(ctx, s.friends, fn)
	case PhaseProfiles:
		return yieldAll(ctx, s.profiles, fn)
	case PhaseTopics:
		return nil // the engine tests' dataset has no topics
	case PhaseGroupDMs:
		return nil // nor group DMs (cmd/immigrate: TestRunGroupDMs)
	}
	return fmt.Errorf("memSource: no phase %q", ph)
}

func (s *memSource) counts() map[Phase]int64 {
	return map[Phase]int64{
		PhaseAccounts:       int64(len(s.accounts)),
		PhaseGroups:         int64(len(s.groups)),
		PhaseMembers:        int64(len(s.members)),
		PhaseGroupMessages:  int64(len(s.groupMsgs)),
		PhaseDirectMessages: int64(len(s.direct)),
		PhaseUnread:         int64(len(s.unread)),
		PhaseFriends:        int64(len(s.friends)),
		PhaseProfiles:       int64(len(s.profiles)),
	}
}

// ---- the dataset ----

func hash32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32() | 1 // never 0: 0 means "no Random"
}

func textBody(tb testing.TB, text string) []tencentim.MsgElem {
	el, err := tencentim.NewElem(tencentim.MsgText, tencentim.TextContent{Text: text})
	if err != nil {
		tb.Fatal(err)
	}
	return []tencentim.MsgElem{el}
}

func customBody(tb testing.TB, data string) []tencentim.MsgElem {
	el, err := tencentim.NewElem(tencentim.MsgCustom, tencentim.CustomContent{Data: data, Desc: "custom"})
	if err != nil {
		tb.Fatal(err)
	}
	return []tencentim.MsgElem{el}
}

func userID(i int) string { return fmt.Sprintf("u%03d", i) }

type dataSpec struct {
	users        int
	nicks        int   // the first nicks users get a Nick (account_import)
	groupMsgs    []int // messages per group; its length is the number of groups
	bigGroup     int   // members of the last group (> 300 exercises member batching)
	convs        int   // conversations
	convMsgs     int   // messages per conversation, at most
	unreadPerGrp int   // members of group 0 whose unread count is restored
}

// buildDataset makes a valid dataset: every record importable. Times are a month
// in the past, several messages share a second.
func buildDataset(tb testing.TB, spec dataSpec) *memSource {
	base := time.Now().Add(-30 * 24 * time.Hour).Unix()
	src := &memSource{}
	for i := range spec.users {
		a := Account{Item: Item{Origin: fmt.Sprintf("users.csv:%d", i+2), LegacyID: userID(i)}, Req: tencentim.AccountImportRequest{UserID: userID(i)}}
		if i < spec.nicks {
			a.Req.Nick = "Nick " + userID(i)
		}
		src.accounts = append(src.accounts, a)
	}
	types := []string{tencentim.GroupPublic, tencentim.GroupPrivate, tencentim.GroupChatRoom, tencentim.GroupCommunity}
	for g, nmsg := range spec.groupMsgs {
		typ := types[g%len(types)]
		id := fmt.Sprintf("imm_g%d", g)
		if typ == tencentim.GroupCommunity {
			id = communityPrefix + id
		}
		owner := userID(g)
		create := base + int64(g)*1000
		src.groups = append(src.groups, Group{
			Item: Item{Origin: fmt.Sprintf("groups.csv:%d", g+2), LegacyID: fmt.Sprint(g)},
			Req:  tencentim.ImportGroupRequest{OwnerAccount: owner, Type: typ, GroupID: id, Name: fmt.Sprintf("Group %d", g), CreateTime: create},
		})
		nmem := 12 + g
		if g == len(spec.groupMsgs)-1 && spec.bigGroup > 0 {
			nmem = spec.bigGroup
		}
		var memberIDs []string
		for k := 0; k < nmem && len(memberIDs) < spec.users-1; k++ {
			u := userID((g + 1 + k) % spec.users)
			if u == owner {
				continue
			}
			role := ""
			if k%5 == 0 {
				role = tencentim.RoleAdmin
			}
			memberIDs = append(memberIDs, u)
			src.members = append(src.members, Member{
				Item:    Item{Origin: fmt.Sprintf("members.csv:%d", len(src.members)+2), LegacyID: id + "/" + u},
				GroupID: id,
				M:       tencentim.ImportMember{MemberAccount: u, Role: role, JoinTime: create + 10 + int64(k)},
			})
		}
		for m := range nmsg {
			sender := owner
			if m%3 != 0 {
				sender = memberIDs[m%len(memberIDs)]
			}
			body := textBody(tb, fmt.Sprintf("group %d message %d", g, m))
			if m%4 == 3 {
				body = customBody(tb, fmt.Sprintf(`{"g":%d,"m":%d}`, g, m))
			}
			legacy := fmt.Sprintf("%s/m%d", id, m)
			src.groupMsgs = append(src.groupMsgs, GroupMessage{
				Item:    Item{Origin: fmt.Sprintf("group_messages.csv:%d", len(src.groupMsgs)+2), LegacyID: legacy},
				GroupID: id,
				// Three messages per second: equal seconds are allowed (design §7 A2).
				Msg: tencentim.GroupMsg{FromAccount: sender, SendTime: create + 500 + int64(m/3), Random: hash32(legacy), MsgBody: body},
			})
		}
		if g == 0 {
			for k := 0; k < spec.unreadPerGrp && k < len(memberIDs); k++ {
				src.unread = append(src.unread, Unread{
					Item: Item{Origin: fmt.Sprintf("members.csv:%d", k+2), LegacyID: id + "/" + memberIDs[k]},
					Req:  tencentim.SetUnreadMsgNumRequest{GroupID: id, MemberAccount: memberIDs[k], UnreadMsgNum: k + 1},
				})
			}
		}
	}
	for c := range spec.convs {
		a, b := userID((c*7)%spec.users), userID((c*7+3+c%5)%spec.users)
		n := 1 + (c*13)%spec.convMsgs
		for m := range n {
			from, to := a, b
			if m%2 == 1 {
				from, to = b, a
			}
			legacy := fmt.Sprintf("c%d/m%d", c, m)
			src.direct = append(src.direct, DirectMessage{
				Item: Item{Origin: fmt.Sprintf("direct_messages.csv:%d", len(src.direct)+2), LegacyID: legacy},
				Req: tencentim.ImportMsgRequest{
					SyncFromOldSystem: tencentim.SyncHistorical,
					FromAccount:       from, ToAccount: to,
					MsgSeq: hash32("seq/" + legacy), MsgRandom: hash32("rnd/" + legacy),
					MsgTimeStamp: base + 100_000 + int64(c*100+m/2),
					MsgBody:      textBody(tb, "hello "+legacy),
				},
			})
		}
	}
	return src
}

// ---- the expected state ----

func compactJSON(tb testing.TB, v any) string {
	tb.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

// checkState asserts that st holds exactly what src implies, minus the records
// whose legacy ids are in skip (the ones a test expects to be rejected).
func checkState(t *testing.T, st sandbox.State, src *memSource, skip map[string]bool) {
	t.Helper()
	// Accounts.
	want := map[string]string{}
	for _, a := range src.accounts {
		if !skip[a.LegacyID] {
			want[a.Req.UserID] = a.Req.Nick
		}
	}
	got := map[string]string{}
	for _, a := range st.Accounts {
		if a.UserID != testAdmin {
			got[a.UserID] = a.Nick
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("accounts: got %d, want %d (diff %s)", len(got), len(want), mapDiff(got, want))
	}

	// Groups, members, messages.
	groups := map[string]sandbox.GroupState{}
	for _, g := range st.Groups {
		groups[g.GroupID] = g
	}
	wantGroups := 0
	for _, g := range src.groups {
		if skip[g.LegacyID] {
			if _, ok := groups[g.Req.GroupID]; ok {
				t.Errorf("group %s was rejected but is in the target", g.Req.GroupID)
			}
			continue
		}
		wantGroups++
		gs, ok := groups[g.Req.GroupID]
		if !ok {
			t.Errorf("group %s missing", g.Req.GroupID)
			continue
		}
		if gs.Type != g.Req.Type || gs.Name != g.Req.Name || gs.Owner != g.Req.OwnerAccount || gs.CreateTime != g.Req.CreateTime {
			t.Errorf("group %s: got type %s name %q owner %s create %d; want %s %q %s %d", gs.GroupID,
				gs.Type, gs.Name, gs.Owner, gs.CreateTime, g.Req.Type, g.Req.Name, g.Req.OwnerAccount, g.Req.CreateTime)
		}
		wantMem := map[string]string{g.Req.OwnerAccount: tencentim.RoleOwner + "@" + fmt.Sprint(g.Req.CreateTime)}
		for _, m := range src.members {
			if m.GroupID == g.Req.GroupID && !skip[m.LegacyID] {
				role := m.M.Role
				if role == "" {
					role = tencentim.RoleMember
				}
				wantMem[m.M.MemberAccount] = role + "@" + fmt.Sprint(m.M.JoinTime)
			}
		}
		gotMem := map[string]string{}
		for _, m := range gs.Members {
			gotMem[m.Account] = m.Role + "@" + fmt.Sprint(m.JoinTime)
		}
		// The owner's join time is the sandbox's to choose; compare roles only.
		gotMem[g.Req.OwnerAccount] = strings.SplitN(gotMem[g.Req.OwnerAccount], "@", 2)[0] + "@" + fmt.Sprint(g.Req.CreateTime)
		if fmt.Sprint(gotMem) != fmt.Sprint(wantMem) {
			t.Errorf("group %s members: %s", g.Req.GroupID, mapDiff(gotMem, wantMem))
		}
		var wantMsgs []string
		for _, m := range src.groupMsgs {
			if m.GroupID == g.Req.GroupID && !skip[m.LegacyID] {
				wantMsgs = append(wantMsgs, fmt.Sprintf("%s@%d#%d:%s", m.Msg.FromAccount, m.Msg.SendTime, m.Msg.Random, compactJSON(t, m.Msg.MsgBody)))
			}
		}
		var gotMsgs []string
		for i, m := range gs.Messages {
			if m.MsgSeq != uint64(i+1) {
				t.Errorf("group %s: message %d has MsgSeq %d", gs.GroupID, i, m.MsgSeq)
			}
			gotMsgs = append(gotMsgs, fmt.Sprintf("%s@%d#%d:%s", m.FromAccount, m.SendTime, m.Random, compactJSON(t, m.MsgBody)))
		}
		if fmt.Sprint(gotMsgs) != fmt.Sprint(wantMsgs) {
			t.Errorf("group %s messages (order, sender, time, body): got %d, want %d\n got  %v\n want %v", gs.GroupID, len(gotMsgs), len(wantMsgs), gotMsgs, wantMsgs)
		}
		// Restored unread counts.
		for _, u := range src.unread {
			if u.Req.GroupID != g.Req.GroupID || skip[u.LegacyID] {
				continue
			}
			for _, m := range gs.Members {
				if m.Account == u.Req.MemberAccount && m.UnreadMsgNum != min(u.Req.UnreadMsgNum, len(gs.Messages)) {
					t.Errorf("group %s member %s: unread %d, want %d", gs.GroupID, m.Account, m.UnreadMsgNum, u.Req.UnreadMsgNum)
				}
			}
		}
	}
	if len(st.Groups) != wantGroups {
		t.Errorf("target holds %d groups, want %d", len(st.Groups), wantGroups)
	}

	// One-to-one messages, per conversation, each exactly once.
	wantC2C := map[string][]string{}
	for _, m := range src.direct {
		if skip[m.LegacyID] {
			continue
		}
		k := conversationKey(m.Req.FromAccount, m.Req.ToAccount)
		wantC2C[k] = append(wantC2C[k], fmt.Sprintf("%d/%d/%d %s>%s:%s", m.Req.MsgTimeStamp, m.Req.MsgSeq, m.Req.MsgRandom,
			m.Req.FromAccount, m.Req.ToAccount, compactJSON(t, m.Req.MsgBody)))
	}
	gotC2C := map[string][]string{}
	for _, c := range st.C2C {
		k := conversationKey(c.A, c.B)
		for _, m := range c.Messages {
			gotC2C[k] = append(gotC2C[k], fmt.Sprintf("%d/%d/%d %s>%s:%s", m.MsgTimeStamp, m.MsgSeq, m.MsgRandom,
				m.FromAccount, m.ToAccount, compactJSON(t, m.MsgBody)))
		}
	}
	for _, m := range []map[string][]string{wantC2C, gotC2C} {
		for _, v := range m {
			sort.Strings(v)
		}
	}
	if fmt.Sprint(gotC2C) != fmt.Sprint(wantC2C) {
		t.Errorf("one-to-one messages differ:\n got  %v\n want %v", gotC2C, wantC2C)
	}
}

func mapDiff(got, want map[string]string) string {
	var d []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			d = append(d, "missing "+k)
		} else if g != w {
			d = append(d, fmt.Sprintf("%s: got %q want %q", k, g, w))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			d = append(d, "extra "+k)
		}
	}
	sort.Strings(d)
	return strings.Join(d, "; ")
}

// memSink collects rejects.
type memSink struct {
	mu      sync.Mutex
	rejects []Reject
}

func (s *memSink) Reject(r Reject) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects = append(s.rejects, r)
	return nil
}

func (s *memSink) byID() map[string]Reject {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]Reject{}
	for _, r := range s.rejects {
		m[r.LegacyID] = r
	}
	return m
}

// checkAccounting asserts design §4 rule 6 per phase, and that every record of
// the source was read.
func checkAccounting(t *testing.T, sum *Summary, src *memSource) {
	t.Helper()
	for ph, n := range src.counts() {
		p := sum.Phases[ph]
		if p.Read != n {
			t.Errorf("%s: read %d, source has %d", ph, p.Read, n)
		}
		if p.Read != p.Imported+p.Present+p.Rejected {
			t.Errorf("%s: read %d != imported %d + present %d + rejected %d", ph, p.Read, p.Imported, p.Present, p.Rejected)
		}
		if p.State != PhaseFinished {
			t.Errorf("%s: state %s, want finished", ph, p.State)
		}
	}
	if !sum.Balanced() {
		t.Error("summary not balanced")
	}
}

package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/extract/synth"
	"github.com/immigrate/immigrate/internal/pgtest"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/migration"
	"github.com/immigrate/immigrate/plan"
	"github.com/immigrate/immigrate/report"
	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// End-to-end tests of `immigrate run` (issue 4): a synthetic legacy dataset with
// planted bad records goes through the CLI, in process, into a sandbox the test
// serves, and the sandbox's final state is compared with what the source implies.
// The expectation comes from a validate pass of the test's own (plan.Validate with
// a payload sink), never from the engine's counters.

// e2eData is the dataset of the end-to-end tests: every stream kind, large and
// small groups and conversations, every kind of planted bad record.
var e2eData = synth.Config{
	Seed: 42, Users: 200, Groups: 20, MembersMin: 2, MembersMax: 40,
	GroupMessages: 2000, DirectMessages: 2000, Conversations: 150, GroupDMs: 12, BadShare: 0.005, Profiles: true,
}

// Sandbox credentials of the tests; not secrets of any real app.
const (
	e2eSDKAppID = 1400000000
	e2eAdmin    = "administrator"
	e2eKey      = "run-test-secret-key"
)

// e2eLoad runs the engine far above what the tests' sandbox can serve, so that the
// tests are bound by the machine, not by the documented rate limits.
const e2eLoad = `
load:
  rates:
    account_import: 100000
    multiaccount_import: 100000
    import_group: 100000
    import_group_member: 100000
    import_group_msg: 100000
    group_msg_get_simple: 100000
    set_unread_msg_num: 100000
    importmsg: 100000
    portrait_set: 100000
`

// cliSetup serialises urfave/cli's setup and flag parsing across the tests that
// run the CLI concurrently: they write package-level state (the shared help flag
// and help command), a data race under -race. The lock is held only until the
// command's Before hook, so the runs themselves overlap.
var cliSetup sync.Mutex

// runCLIParallel is runCLI for tests that run in parallel: run's composition of
// newApp and exitCode, with the setup serialised.
func runCLIParallel(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	return runCLIWith(t, ctx, nil, args...)
}

// runCLIWith is runCLIParallel with the app's Metadata set to meta.
func runCLIWith(t *testing.T, ctx context.Context, meta map[string]any, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	app := newApp(&stdout, &stderr)
	app.Metadata = meta
	cliSetup.Lock()
	unlock := sync.OnceFunc(cliSetup.Unlock)
	defer unlock()
	for _, cmd := range app.Commands {
		before := cmd.Before
		cmd.Before = func(c *cli.Context) error {
			unlock()
			if before != nil {
				return before(c)
			}
			return nil
		}
	}
	err := app.RunContext(ctx, append([]string{"immigrate"}, args...))
	return exitCode(ctx, err, &stderr), stdout.String(), stderr.String()
}

// e2eSandbox serves a sandbox with the test credentials; mod adjusts its Config.
func e2eSandbox(t testing.TB, mod func(*sandbox.Config)) (*sandbox.Server, string) {
	t.Helper()
	cfg := sandbox.Config{
		SDKAppID:  e2eSDKAppID,
		SecretKey: secret.New(e2eKey),
		Admins:    []string{e2eAdmin},
		Seed:      1,
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

// pointAt rewrites a generated mapping's target (the embedded sandbox) to the
// endpoint and appends the tests' load settings; edit may change the text further.
// It returns the new mapping's path, named after the test and next to the
// original so that relative CSV paths still resolve.
func pointAt(t *testing.T, mapping, endpoint string, edit func(string) string) string {
	t.Helper()
	b, err := os.ReadFile(mapping)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "\ntarget:\n")
	if start < 0 {
		t.Fatalf("%s has no target section", mapping)
	}
	end := strings.Index(s[start+1:], "\n\n")
	if end < 0 {
		t.Fatalf("%s: target section does not end", mapping)
	}
	target := fmt.Sprintf("\ntarget:\n  endpoint: %s\n  sdkappid: %d\n  secret_key: %s\n  admin: %s\n  edition: pro\n",
		endpoint, e2eSDKAppID, e2eKey, e2eAdmin)
	s = s[:start] + target + s[start+1+end+1:]
	if strings.Contains(s, "\nload:") {
		t.Fatalf("%s already has a load section", mapping)
	}
	s += e2eLoad
	if edit != nil {
		s = edit(s)
	}
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + "-" + filepath.Base(mapping)
	out := filepath.Join(filepath.Dir(mapping), name)
	if err := os.WriteFile(out, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// ---- the expectation: what the source implies ----

// expected is the target's state that a source implies, built from the payloads
// the validate pass accepts.
type expected struct {
	res      *plan.ValidateResult
	rejects  []load.Reject
	accounts map[string]tencentim.AccountImportRequest
	groups   map[string]tencentim.ImportGroupRequest
	members  map[string][]tencentim.ImportMember // by GroupId, in source order
	// ownerUnread is the unread count of each group owner's own (skipped) row.
	ownerUnread map[string]int
	groupMsg    map[string][]tencentim.GroupMsg // by GroupId, in source (time, id) order
	direct      map[[2]string][]tencentim.ImportMsgRequest
	// groupDMs are the GroupIds of the group DMs in groups, each one record of
	// its own entity, its members included.
	groupDMs map[string]bool
	// profiles are the portrait_set requests, by UserID.
	profiles map[string]tencentim.PortraitSetRequest
}

// collector is the payload and reject sink of the expectation's validate pass.
type collector struct {
	exp *expected
}

func (c collector) Reject(r load.Reject) error {
	r.Severity = "" // not part of rejects.jsonl
	c.exp.rejects = append(c.exp.rejects, r)
	return nil
}

func (c collector) Payload(e extract.Entity, legacyID string, p any) error {
	x := c.exp
	switch v := p.(type) {
	case tencentim.AccountImportRequest:
		if _, dup := x.accounts[v.UserID]; dup {
			return fmt.Errorf("account %s accepted twice", v.UserID)
		}
		x.accounts[v.UserID] = v
	case tencentim.ImportGroupRequest:
		x.groups[v.GroupID] = v
	case plan.MemberPayload:
		x.members[v.GroupID] = append(x.members[v.GroupID], v.Member)
	case tencentim.SetUnreadMsgNumRequest:
		x.ownerUnread[v.GroupID] = v.UnreadMsgNum
	case load.GroupDM: // a group and its members (owner excepted)
		x.groups[v.Group.GroupID] = v.Group
		x.members[v.Group.GroupID] = v.Members
		x.groupDMs[v.Group.GroupID] = true
	case plan.GroupMessagePayload:
		x.groupMsg[v.GroupID] = append(x.groupMsg[v.GroupID], v.Msg)
	case tencentim.ImportMsgRequest:
		k := [2]string{v.FromAccount, v.ToAccount}
		if k[1] < k[0] {
			k[0], k[1] = k[1], k[0]
		}
		x.direct[k] = append(x.direct[k], v)
	case tencentim.PortraitSetRequest:
		x.profiles[v.FromAccount] = v
	default:
		return fmt.Errorf("unexpected payload %T for %s %s", p, e, legacyID)
	}
	return nil
}

// expect runs the validate pass over the mapping's source.
func expect(t *testing.T, mapping string) *expected {
	t.Helper()
	f, err := mappings.Load(mapping)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := migration.NewTransformer(f, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	bad := &plan.BadRows{}
	r, err := migration.OpenReader(t.Context(), f, extract.Options{OnBadRow: bad.Report})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	x := &expected{
		accounts:    map[string]tencentim.AccountImportRequest{},
		groups:      map[string]tencentim.ImportGroupRequest{},
		members:     map[string][]tencentim.ImportMember{},
		ownerUnread: map[string]int{},
		groupMsg:    map[string][]tencentim.GroupMsg{},
		direct:      map[[2]string][]tencentim.ImportMsgRequest{},
		groupDMs:    map[string]bool{},
		profiles:    map[string]tencentim.PortraitSetRequest{},
	}
	sink := collector{x}
	x.res, err = plan.Validate(t.Context(), r, tr, plan.ValidateOptions{Rejects: sink, Payloads: sink, BadRows: bad})
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	for _, id := range tr.ImpliedAccounts() {
		x.accounts[id] = tencentim.AccountImportRequest{UserID: id}
	}
	// Members and messages of a group refused at the end (its CreateTime could not
	// be clamped) were accepted before the refusal; they are not imported.
	for id := range x.members {
		if _, ok := x.groups[id]; !ok {
			delete(x.members, id)
		}
	}
	for id := range x.groupMsg {
		if _, ok := x.groups[id]; !ok {
			delete(x.groupMsg, id)
		}
	}
	if len(x.accounts) == 0 || len(x.groups) == 0 || len(x.groupMsg) == 0 || len(x.direct) == 0 || len(x.rejects) == 0 {
		t.Fatalf("degenerate dataset: %d accounts, %d groups, %d groups with messages, %d conversations, %d rejects",
			len(x.accounts), len(x.groups), len(x.groupMsg), len(x.direct), len(x.rejects))
	}
	return x
}

// sameJSON reports whether two JSON documents are equal as values.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("bad JSON %q: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("bad JSON %q: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

func bodyJSON(t *testing.T, body []tencentim.MsgElem) []byte {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// errorBudget stops a comparison after a few differences: one bug tends to show
// in every record.
type errorBudget struct {
	t *testing.T
	n int
}

func (b *errorBudget) errorf(format string, args ...any) bool {
	b.t.Helper()
	b.n++
	if b.n <= 10 {
		b.t.Errorf(format, args...)
	}
	return b.n < 10
}

// checkState asserts that st holds exactly what x implies: every account once
// with its profile; every group with its type, owner and CreateTime; every member
// with role, join time and restored unread count; every group message once, in
// (time, id) order, with sender, body and SendTime; every one-to-one message once
// with its identity (MsgSeq, MsgRandom, MsgTimeStamp) and body.
func checkState(t *testing.T, st sandbox.State, x *expected) {
	t.Helper()
	eb := &errorBudget{t: t}

	if len(st.Accounts) != len(x.accounts) {
		eb.errorf("sandbox holds %d accounts, the source implies %d", len(st.Accounts), len(x.accounts))
	}
	seen := map[string]bool{}
	for _, a := range st.Accounts {
		want, ok := x.accounts[a.UserID]
		switch {
		case !ok:
			eb.errorf("account %q imported but not implied by the source", a.UserID)
		case seen[a.UserID]:
			eb.errorf("account %q listed twice", a.UserID)
		case a.Nick != want.Nick || a.FaceURL != want.FaceURL:
			eb.errorf("account %q: nick %q face %q, want %q %q", a.UserID, a.Nick, a.FaceURL, want.Nick, want.FaceURL)
		case profileTags(a.Profile) != portraitTags(x.profiles[a.UserID]):
			eb.errorf("account %q: profile %s, want %s", a.UserID, profileTags(a.Profile), portraitTags(x.profiles[a.UserID]))
		}
		seen[a.UserID] = true
	}
	for id := range x.accounts {
		if !seen[id] {
			eb.errorf("account %q missing", id)
		}
	}

	if len(st.Groups) != len(x.groups) {
		eb.errorf("sandbox holds %d groups, the source implies %d", len(st.Groups), len(x.groups))
	}
	for _, g := range st.Groups {
		want, ok := x.groups[g.GroupID]
		if !ok {
			eb.errorf("group %q imported but not implied by the source", g.GroupID)
			continue
		}
		if g.Destroyed || g.Type != want.Type || g.Owner != want.OwnerAccount || g.CreateTime != want.CreateTime ||
			g.Name != want.Name || g.Introduction != want.Introduction || g.Notification != want.Notification || g.FaceURL != want.FaceURL {
			eb.errorf("group %q: type %s owner %q CreateTime %d name %q, want %s %q %d %q", g.GroupID,
				g.Type, g.Owner, g.CreateTime, g.Name, want.Type, want.OwnerAccount, want.CreateTime, want.Name)
		}
		msgs := x.groupMsg[g.GroupID]
		checkMembers(t, eb, g, want, x.members[g.GroupID], x.ownerUnread[g.GroupID], len(msgs))
		if len(g.Messages) != len(msgs) {
			eb.errorf("group %q holds %d messages, want %d", g.GroupID, len(g.Messages), len(msgs))
			continue
		}
		for i, m := range g.Messages {
			w := msgs[i]
			if m.FromAccount != w.FromAccount || m.SendTime != w.SendTime || m.Random != w.Random || m.TopicID != "" ||
				!sameJSON(t, m.MsgBody, bodyJSON(t, w.MsgBody)) {
				if !eb.errorf("group %q message %d (MsgSeq %d): from %q at %d random %d body %s, want from %q at %d random %d body %s",
					g.GroupID, i, m.MsgSeq, m.FromAccount, m.SendTime, m.Random, m.MsgBody, w.FromAccount, w.SendTime, w.Random, bodyJSON(t, w.MsgBody)) {
					return
				}
				break
			}
			if i > 0 && m.MsgSeq <= g.Messages[i-1].MsgSeq {
				eb.errorf("group %q: MsgSeq %d after %d", g.GroupID, m.MsgSeq, g.Messages[i-1].MsgSeq)
			}
		}
	}

	if len(st.C2C) != len(x.direct) {
		eb.errorf("sandbox holds %d conversations, the source implies %d", len(st.C2C), len(x.direct))
	}
	for _, c := range st.C2C {
		want := slices.Clone(x.direct[[2]string{c.A, c.B}])
		// The sandbox lists a conversation by message identity.
		slices.SortFunc(want, func(a, b tencentim.ImportMsgRequest) int {
			return cmp.Or(cmp.Compare(a.MsgTimeStamp, b.MsgTimeStamp), cmp.Compare(a.MsgSeq, b.MsgSeq), cmp.Compare(a.MsgRandom, b.MsgRandom))
		})
		if len(c.Messages) != len(want) {
			eb.errorf("conversation %s/%s holds %d messages, want %d", c.A, c.B, len(c.Messages), len(want))
			continue
		}
		for i, m := range c.Messages {
			w := want[i]
			if m.FromAccount != w.FromAccount || m.ToAccount != w.ToAccount || m.MsgSeq != w.MsgSeq || m.MsgRandom != w.MsgRandom ||
				m.MsgTimeStamp != w.MsgTimeStamp || m.CloudCustomData != w.CloudCustomData || m.SyncFromOldSystem != w.SyncFromOldSystem ||
				!sameJSON(t, m.MsgBody, bodyJSON(t, w.MsgBody)) {
				if !eb.errorf("conversation %s/%s message %d: %+v, want %+v", c.A, c.B, i, m, w) {
					return
				}
				break
			}
		}
	}
}

// checkMembers compares one group's members: the owner, added by import_group at
// CreateTime (spec §8.7), and every accepted member row with its role and join
// time. Group message import zeroes unread counts; the unread phase restores the
// source's, which the sandbox caps at the group's number of messages (spec §8.10).
func checkMembers(t *testing.T, eb *errorBudget, g sandbox.GroupState, grp tencentim.ImportGroupRequest, rows []tencentim.ImportMember, ownerUnread, msgs int) {
	t.Helper()
	type member struct {
		role   string
		join   int64
		unread int
	}
	// ChatRoom groups keep no unread counts (spec §8.10, design §7 A19).
	keepsUnread := grp.Type != tencentim.GroupChatRoom && grp.Type != tencentim.GroupAVChatRoom
	want := map[string]member{}
	if grp.OwnerAccount != "" {
		unread := 0
		if keepsUnread {
			unread = min(ownerUnread, msgs)
		}
		want[grp.OwnerAccount] = member{tencentim.RoleOwner, grp.CreateTime, unread}
	}
	for _, m := range rows {
		role := cmp.Or(m.Role, tencentim.RoleMember)
		unread := 0
		if keepsUnread {
			unread = min(m.UnreadMsgNum, msgs)
		}
		want[m.MemberAccount] = member{role, m.JoinTime, unread}
	}
	if len(g.Members) != len(want) {
		eb.errorf("group %q has %d members, want %d", g.GroupID, len(g.Members), len(want))
	}
	for _, m := range g.Members {
		w, ok := want[m.Account]
		got := member{m.Role, m.JoinTime, m.UnreadMsgNum}
		switch {
		case !ok:
			eb.errorf("group %q: member %q not in the source", g.GroupID, m.Account)
		case got != w:
			eb.errorf("%s group %q member %q: role %s, joined %d, unread %d; want %s, %d, %d",
				g.Type, g.GroupID, m.Account, got.role, got.join, got.unread, w.role, w.join, w.unread)
		}
	}
}

// rejectKey identifies a line of rejects.jsonl.
func rejectKey(r load.Reject) string {
	return r.Entity + "|" + r.Origin + "|" + r.LegacyID + "|" + r.Rule
}

// checkRejects asserts that rejects.jsonl lists exactly the records the validate
// pass refused (the target refused none of the valid ones), and among them every
// planted bad record with the rule the generator planted it for.
func checkRejects(t *testing.T, out string, x *expected, planted []synth.Planted) {
	t.Helper()
	f, err := os.Open(filepath.Join(out, report.RejectsFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := report.ReadRejects(f)
	if err != nil {
		t.Fatal(err)
	}
	count := func(rs []load.Reject) map[string]int {
		m := map[string]int{}
		for _, r := range rs {
			m[rejectKey(r)]++
		}
		return m
	}
	gotN, wantN := count(got), count(x.rejects)
	if !reflect.DeepEqual(gotN, wantN) {
		eb := &errorBudget{t: t}
		for k, n := range gotN {
			if wantN[k] != n {
				eb.errorf("rejects.jsonl lists %q %d times, validate rejects it %d times", k, n, wantN[k])
			}
		}
		for k, n := range wantN {
			if _, ok := gotN[k]; !ok {
				eb.errorf("rejects.jsonl lacks %q (validate rejects it %d times)", k, n)
			}
		}
	}
	byOrigin := map[string][]load.Reject{}
	byID := map[string][]load.Reject{}
	for _, r := range got {
		byOrigin[r.Origin] = append(byOrigin[r.Origin], r)
		byID[r.Entity+"|"+r.LegacyID] = append(byID[r.Entity+"|"+r.LegacyID], r)
	}
	n := 0
	for _, p := range planted {
		if p.Severity != synth.SeverityReject {
			continue
		}
		n++
		cands := byOrigin[p.Origin]
		if p.Origin == "" { // PostgreSQL: no line numbers
			cands = byID[string(p.Entity)+"|"+p.LegacyID]
			if len(cands) == 0 {
				// A row the reader refused has no legacy id of its own; its
				// origin names the key: "group_messages[id=423]".
				cands = byOrigin[string(p.Entity)+"[id="+p.LegacyID+"]"]
			}
		}
		if !slices.ContainsFunc(cands, func(r load.Reject) bool { return r.Entity == string(p.Entity) && r.Rule == p.Rule }) {
			t.Errorf("planted %s is not in rejects.jsonl with its rule (found %+v)", p, cands)
		}
	}
	if n == 0 {
		t.Fatal("no planted rejects to look for")
	}
}

// runReport is the part of run-report.json the tests read.
type runReport struct {
	Accounting []report.EntityAccounting `json:"accounting"`
	Phases     []struct {
		Phase    load.Phase `json:"Phase"`
		Read     int64      `json:"Read"`
		Imported int64      `json:"Imported"`
		Present  int64      `json:"Present"`
		Rejected int64      `json:"Rejected"`
	} `json:"phases"`
}

// checkAccounting asserts the accounting identity of run-report.json (design §4
// rule 6) and that its numbers are the source's: read as the validate pass read
// it, every valid record imported (or already present), the validate rejects and
// no others.
func checkAccounting(t *testing.T, out string, x *expected) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "run-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rr runReport
	if err := json.Unmarshal(b, &rr); err != nil {
		t.Fatalf("run-report.json: %v", err)
	}
	valid := map[extract.Entity]int64{
		extract.Users:   int64(len(x.accounts)),
		extract.Groups:  int64(len(x.groups)),
		extract.Members: 0, extract.GroupMessages: 0, extract.DirectMessages: 0,
	}
	for id, ms := range x.members {
		if x.groupDMs[id] {
			continue // imported with the group DM's record
		}
		valid[extract.Members] += int64(len(ms))
	}
	if n := int64(len(x.groupDMs)); n > 0 {
		valid[extract.Groups] -= n
		valid[extract.GroupDMs] = n
	}
	for _, ms := range x.groupMsg {
		valid[extract.GroupMessages] += int64(len(ms))
	}
	for _, ms := range x.direct {
		valid[extract.DirectMessages] += int64(len(ms))
	}
	counts := map[extract.Entity]plan.EntityCounts{}
	for _, e := range x.res.Entities {
		counts[e.Entity] = e
	}
	seen := map[extract.Entity]bool{}
	for _, a := range rr.Accounting {
		seen[a.Entity] = true
		if sum := a.Imported + a.Present + a.Rejected + a.Skipped; !a.Balanced || sum != a.Read {
			t.Errorf("%s: read %d, imported+present+rejected+skipped = %d (balanced %v)", a.Entity, a.Read, sum, a.Balanced)
		}
		c := counts[a.Entity]
		wantRead := c.Read
		if a.Entity == extract.Users {
			wantRead += x.res.Accounts.Implied
		}
		if a.Read != wantRead || a.Skipped != c.Skipped {
			t.Errorf("%s: read %d skipped %d, the source has %d and %d", a.Entity, a.Read, a.Skipped, wantRead, c.Skipped)
		}
		if v, ok := valid[a.Entity]; ok && a.Imported+a.Present != v {
			t.Errorf("%s: imported %d + present %d, want the %d valid records", a.Entity, a.Imported, a.Present, v)
		}
		if a.Rejected != c.Rejected {
			t.Errorf("%s: rejected %d, want the validate pass's %d (the target should refuse none)", a.Entity, a.Rejected, c.Rejected)
		}
	}
	for e := range valid {
		if !seen[e] {
			t.Errorf("run-report.json has no accounting for %s", e)
		}
	}
}

// runE2E runs `immigrate run` on mapping into out and checks the outcome every run
// of a dataset with planted rejects has: exit code 3 and the summary printed.
func runE2E(t *testing.T, mapping, out string) (stdout string) {
	t.Helper()
	code, stdout, stderr := runCLIParallel(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitRejected {
		t.Fatalf("immigrate run: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitRejected, stdout, stderr)
	}
	for _, want := range []string{"already present", "rejected", "records, each listed in"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout+stderr, e2eKey) {
		t.Error("the secret key appears in the output")
	}
	return stdout
}

func readPlanted(t *testing.T, dir string) []synth.Planted {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "planted.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ps, err := synth.ReadPlanted(f)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// stateDiff describes the first difference between two sandbox states.
func stateDiff(t *testing.T, a, b sandbox.State) string {
	t.Helper()
	ja, _ := json.MarshalIndent(a, "", " ")
	jb, _ := json.MarshalIndent(b, "", " ")
	la, lb := strings.Split(string(ja), "\n"), strings.Split(string(jb), "\n")
	for i := 0; i < min(len(la), len(lb)); i++ {
		if la[i] != lb[i] {
			lo := max(0, i-6)
			return fmt.Sprintf("first difference at line %d:\n--- got\n%s\n--- want\n%s",
				i+1, strings.Join(la[lo:min(len(la), i+3)], "\n"), strings.Join(lb[lo:min(len(lb), i+3)], "\n"))
		}
	}
	return fmt.Sprintf("one dump is a prefix of the other (%d and %d lines)", len(la), len(lb))
}

// TestRunEndToEnd migrates the dataset from CSV, then from PostgreSQL and through a
// faulty sandbox, and requires each to reach the state the source implies — the
// same state each time.
func TestRunEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := synth.WriteCSV(t.Context(), e2eData, dir); err != nil {
		t.Fatalf("generate: %v", err)
	}
	planted := readPlanted(t, dir)

	var csvState sandbox.State
	t.Run("csv", func(t *testing.T) {
		srv, url := e2eSandbox(t, nil)
		mapping := pointAt(t, filepath.Join(dir, "csv.yaml"), url, nil)
		x := expect(t, mapping)
		out := t.TempDir()
		runE2E(t, mapping, out)
		csvState = srv.State()
		checkState(t, csvState, x)
		checkRejects(t, out, x, planted)
		checkAccounting(t, out, x)
	})
	if t.Failed() {
		return
	}

	t.Run("group", func(t *testing.T) {
		t.Run("postgres", func(t *testing.T) {
			t.Parallel()
			url, schema := pgtest.Schema(t)
			var pgPlanted []synth.Planted
			_, err := synth.LoadPostgres(t.Context(), e2eData, synth.PostgresOptions{URL: url, Schema: schema,
				OnPlanted: func(p synth.Planted) error { pgPlanted = append(pgPlanted, p); return nil }})
			if err != nil {
				t.Fatalf("load postgres: %v", err)
			}
			srv, endpoint := e2eSandbox(t, nil)
			mapping := pointAt(t, filepath.Join(dir, "postgres.yaml"), endpoint, func(s string) string {
				return strings.Replace(s, `"${IMMIGRATE_SOURCE_PG_URL}"`, strconv.Quote(url), 1)
			})
			x := expect(t, mapping)
			out := t.TempDir()
			runE2E(t, mapping, out)
			st := srv.State()
			checkState(t, st, x)
			checkRejects(t, out, x, pgPlanted)
			checkAccounting(t, out, x)
			if !reflect.DeepEqual(st, csvState) {
				t.Errorf("PostgreSQL run's state differs from the CSV run's: %s", stateDiff(t, st, csvState))
			}
		})

		// Every kind of failure the target can have, 10 % of the calls together,
		// and a jittery round trip: retries, read-backs and the target's dedup must
		// give the identical state.
		t.Run("faults", func(t *testing.T) {
			t.Parallel()
			faults, err := sandbox.ParseFaults("http502:p=0.017,reset:p=0.017,code=60007:p=0.017,code=70169:p=0.017,code=91000:p=0.017,drop:p=0.017")
			if err != nil {
				t.Fatal(err)
			}
			srv, url := e2eSandbox(t, func(c *sandbox.Config) {
				c.Faults = faults
				c.Latency = time.Millisecond
				c.LatencyJitter = 4 * time.Millisecond
			})
			mapping := pointAt(t, filepath.Join(dir, "csv.yaml"), url, nil)
			x := expect(t, mapping)
			out := t.TempDir()
			runE2E(t, mapping, out)
			st := srv.State()
			checkState(t, st, x)
			checkRejects(t, out, x, planted)
			checkAccounting(t, out, x)
			if !reflect.DeepEqual(st, csvState) {
				t.Errorf("state after faults differs from the fault-free run's: %s", stateDiff(t, st, csvState))
			}
			checkFaultsFired(t, out)
		})
	})
}

// checkFaultsFired makes sure the fault run did meet faults: retries show in the
// run report.
func checkFaultsFired(t *testing.T, out string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "run-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rr struct {
		APIs map[string]load.APIStats `json:"apis"`
	}
	if err := json.Unmarshal(b, &rr); err != nil {
		t.Fatal(err)
	}
	var calls, retries, limited int64
	for _, a := range rr.APIs {
		calls, retries, limited = calls+a.Calls, retries+a.Retries, limited+a.RateLimited
	}
	if retries < calls/50 || limited == 0 {
		t.Errorf("%d calls, %d retries, %d rate-limited: the faults did not fire as configured", calls, retries, limited)
	}
}

// TestRunDemo is the README's first command: the demo dataset into the embedded
// sandbox, at the default (documented) rates.
func TestRunDemo(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Parallel()
	mapping := filepath.Join(wd, "..", "..", "testdata", "demo", "csv.yaml")
	demoDir := filepath.Dir(mapping)
	if _, err := os.Stat(mapping); err != nil {
		// The demo data is committed; regenerate it (the same seed) rather than
		// skip if a checkout lacks it.
		t.Logf("no %s (%v): generating the demo dataset", mapping, err)
		demoDir = t.TempDir()
		if _, err := synth.WriteCSV(t.Context(), synth.Config{
			Seed: 1, Users: 40, Groups: 6, MembersMin: 3, MembersMax: 15,
			GroupMessages: 2000, DirectMessages: 2500, Friends: 30, BadShare: 0.001, Profiles: true,
		}, demoDir); err != nil {
			t.Fatal(err)
		}
		mapping = filepath.Join(demoDir, "csv.yaml")
	}
	out := t.TempDir()
	code, so, se := runCLIParallel(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitRejected {
		t.Fatalf("exit %d, want %d (the demo plants bad records)\nstdout:\n%s\nstderr:\n%s", code, exitRejected, so, se)
	}

	f, err := os.Open(filepath.Join(out, report.RejectsFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rejects, err := report.ReadRejects(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejects) == 0 {
		t.Fatal("rejects.jsonl is empty")
	}
	// The summary, then every rule with a reject, with its count.
	perRule := map[string]int{}
	for _, r := range rejects {
		perRule[r.Entity+" "+r.Rule]++
	}
	for _, want := range []string{"entity", "imported", "already present", "embedded sandbox now holds",
		fmt.Sprintf("rejected %d records", len(rejects))} {
		if !strings.Contains(so, want) {
			t.Errorf("stdout lacks %q:\n%s", want, so)
		}
	}
	for rule, n := range perRule {
		entity, name, _ := strings.Cut(rule, " ")
		if !containsLine(so, entity, name, fmt.Sprint(n)) {
			t.Errorf("stdout does not list %s %s with %d rejects:\n%s", entity, name, n, so)
		}
	}
	for _, p := range readPlanted(t, demoDir) {
		if p.Severity == synth.SeverityReject && !slices.ContainsFunc(rejects, func(r load.Reject) bool {
			return r.Origin == p.Origin && r.Rule == p.Rule
		}) {
			t.Errorf("planted %s is not in rejects.jsonl", p)
		}
	}
	if !strings.Contains(se, "importing into the embedded sandbox") {
		t.Errorf("stderr lacks the progress preamble:\n%s", se)
	}
	var rr runReport
	b, err := os.ReadFile(filepath.Join(out, "run-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rr); err != nil {
		t.Fatal(err)
	}
	for _, a := range rr.Accounting {
		if !a.Balanced || a.Read != a.Imported+a.Present+a.Rejected+a.Skipped {
			t.Errorf("%s: accounting identity does not hold: %+v", a.Entity, a)
		}
	}
	for _, name := range []string{"run-report.md", "run-report.html", report.ValidateMarkdownFile} {
		if fi, err := os.Stat(filepath.Join(out, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", name, err)
		}
	}
}

// containsLine reports whether some line of s holds every field, as words.
func containsLine(s string, fields ...string) bool {
	for _, line := range strings.Split(s, "\n") {
		words := strings.Fields(line)
		if !slices.ContainsFunc(fields, func(f string) bool { return !slices.Contains(words, f) }) {
			return true
		}
	}
	return false
}

// TestRunStops covers the runs that end early: a fatal answer, or a target that
// keeps failing until a call's retries run out, stops with exit code 1 and one
// sentence saying what to fix; Ctrl-C stops with 130. Either way the summary says
// what was done and why the accounting is incomplete, no secret reaches the
// output, no record is rejected for the stop (rejects.jsonl holds validate's
// rejects only), and `immigrate status` reads the checkpoint the run saved.
func TestRunStops(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := synth.WriteCSV(t.Context(), synth.Config{
		Seed: 3, Users: 40, Groups: 4, GroupMessages: 300, DirectMessages: 1500, Conversations: 60, BadShare: 0.01,
	}, dir); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		sandbox  func(*sandbox.Config)
		edit     func(string) string
		cancelAt int64 // cancel the run when the sandbox receives this importmsg call
		wantCode int
		wantErr  string
		check    func(t *testing.T, st sandbox.State)
	}{
		{
			name:     "wrong secret key",
			edit:     func(s string) string { return strings.Replace(s, "secret_key: "+e2eKey, "secret_key: not-the-key", 1) },
			wantCode: exitError,
			wantErr:  "check sdkappid and secret_key",
			check: func(t *testing.T, st sandbox.State) {
				if len(st.Accounts) != 0 {
					t.Errorf("%d accounts imported with a wrong key", len(st.Accounts))
				}
			},
		},
		{
			name:     "edition limit",
			sandbox:  func(c *sandbox.Config) { c.AccountLimit = 10 },
			wantCode: exitError,
			wantErr:  "account limit (70398)",
			check: func(t *testing.T, st sandbox.State) {
				if len(st.Accounts) > 10 || len(st.Groups) != 0 || len(st.C2C) != 0 {
					t.Errorf("after 70398: %d accounts, %d groups, %d conversations; want at most 10 accounts and nothing else",
						len(st.Accounts), len(st.Groups), len(st.C2C))
				}
			},
		},
		{
			name: "target keeps failing",
			sandbox: func(c *sandbox.Config) {
				c.Faults = []sandbox.Fault{{Command: tencentim.CmdImportMsg, Nth: 1, Kind: sandbox.FaultHTTP502}}
			},
			// One retry: the backoff before it is short.
			edit:     func(s string) string { return strings.Replace(s, "\nload:\n", "\nload:\n  retries: 1\n", 1) },
			wantCode: exitError,
			wantErr:  "the target kept failing on openim/importmsg (last: HTTP status 502) through 2 attempts",
			check: func(t *testing.T, st sandbox.State) {
				if len(st.C2C) != 0 || len(st.Accounts) == 0 {
					t.Errorf("%d conversations, %d accounts; want the accounts and no one-to-one message", len(st.C2C), len(st.Accounts))
				}
			},
		},
		{
			name:     "interrupted",
			cancelAt: 300,
			wantCode: exitInterrupted,
			wantErr:  "interrupted",
			check: func(t *testing.T, st sandbox.State) {
				n := 0
				for _, c := range st.C2C {
					n += len(c.Messages)
				}
				if n < 299 || n >= 1500 {
					t.Errorf("%d one-to-one messages imported when interrupted at the 300th call", n)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			cfg := sandbox.Config{SDKAppID: e2eSDKAppID, SecretKey: secret.New(e2eKey), Admins: []string{e2eAdmin}, Seed: 1}
			if tt.sandbox != nil {
				tt.sandbox(&cfg)
			}
			srv, err := sandbox.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var importmsg atomic.Int64
			var usersigs sync.Map // every UserSig the run sent
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				usersigs.Store(r.URL.Query().Get("usersig"), true)
				if tt.cancelAt > 0 && strings.HasSuffix(r.URL.Path, "/importmsg") && importmsg.Add(1) == tt.cancelAt {
					cancel() // as Ctrl-C does: the call in hand still completes
				}
				srv.ServeHTTP(w, r)
			}))
			defer hs.Close()
			mapping := pointAt(t, filepath.Join(dir, "csv.yaml"), hs.URL, tt.edit)
			out := t.TempDir()
			code, stdout, stderr := runCLIParallel(t, ctx, "run", "-c", mapping, "--out", out)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			last := strings.TrimSpace(stderr[strings.LastIndex(strings.TrimSpace(stderr), "\n")+1:])
			if !strings.Contains(last, tt.wantErr) {
				t.Errorf("last line of stderr %q lacks %q", last, tt.wantErr)
			}
			// Where the checkpoint is, and that the same command resumes, said once.
			if n := strings.Count(stderr, "run the same command"); n != 1 || !strings.Contains(stderr, "checkpoint "+filepath.Join(out, "checkpoint.db")+" saved") {
				t.Errorf("stderr says %d times to run the same command, want once, and where the checkpoint was saved:\n%s", n, stderr)
			}
			for _, secret := range []string{e2eKey, "not-the-key"} {
				if strings.Contains(stdout+stderr, secret) {
					t.Errorf("output holds the secret %q", secret)
				}
			}
			sigs := 0
			usersigs.Range(func(sig, _ any) bool {
				if sig != "" {
					sigs++
					if strings.Contains(stdout+stderr, sig.(string)) {
						t.Errorf("output holds a UserSig the run sent")
					}
				}
				return true
			})
			if sigs == 0 {
				t.Error("the sandbox saw no UserSig")
			}
			// The summary says what was done, and where the accounting stops.
			if !strings.Contains(stdout, "already present") || !strings.Contains(stdout, "the run stopped before") {
				t.Errorf("stdout lacks the summary or the reason the accounting does not hold:\n%s", stdout)
			}
			if _, err := os.Stat(filepath.Join(out, "run-report.json")); err != nil {
				t.Errorf("no run report: %v", err)
			}
			f, err := os.Open(filepath.Join(out, report.RejectsFileName))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var validated struct{ Result plan.ValidateResult }
			if b, err := os.ReadFile(filepath.Join(out, report.ValidateJSONFile)); err != nil || json.Unmarshal(b, &validated) != nil {
				t.Fatalf("read %s: %v", report.ValidateJSONFile, err)
			}
			if rs, err := report.ReadRejects(f); err != nil || len(rs) == 0 || int64(len(rs)) != validated.Result.Rejected() {
				t.Errorf("rejects.jsonl after the stop: %d lines, %v; want the %d validate rejects", len(rs), err, validated.Result.Rejected())
			}
			tt.check(t, srv.State())

			// The checkpoint was saved: status reads it, with nothing rejected by
			// the target.
			scode, status, serr := runCLIParallel(t, t.Context(), "status", "-c", mapping, "--out", out)
			if scode != exitOK || !strings.Contains(status, "0 load reject(s) recorded") {
				t.Errorf("status: exit %d\nstdout:\n%s\nstderr:\n%s", scode, status, serr)
			}
		})
	}
}

// profileTags lists a sandbox account's profile tags beyond Nick and FaceUrl
// (account_import's) as tag=value, byte for byte, in tag order.
func profileTags(items []tencentim.ProfileItem) string {
	var out []string
	for _, it := range items {
		if it.Tag != tencentim.TagNick && it.Tag != tencentim.TagImage {
			out = append(out, it.Tag+"="+string(it.Value))
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// portraitTags is profileTags of what a portrait_set request sets.
func portraitTags(req tencentim.PortraitSetRequest) string { return profileTags(req.ProfileItem) }

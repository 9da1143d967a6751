package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/immigrate/immigrate/report"
	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// groupDMFiles is a source with group DMs: two imported (one with a generated
// name, one named by the source with a creator and a sender it does not list),
// one of two people, one whose id is a group's, and their messages.
var groupDMFiles = map[string]string{
	"users.csv": "id,nick\nu1,Alice\nu2,Bob\nu3,Carol\nu4,\nu5,Émile\n",
	"groups.csv": "id,owner_id,type,name,created_at\n" +
		"g1,u1,Public,Team,2024-01-01T00:00:00Z\n",
	"group_dms.csv": "id,members,created_at,name,creator_id\n" +
		`dm1,"[""u3"",""u1"",""u2""]",2024-01-01T00:00:00Z,,` + "\n" +
		`dm2,"{u2,u4,u5,u4}",,Ops,u4` + "\n" +
		`dm3,"[""u1"",""u2""]",,,` + "\n" +
		`g1,"[""u1"",""u2"",""u3""]",,,` + "\n",
	"group_messages.csv": "id,group_id,sender_id,sent_at,text\n" +
		"1,g1,u1,2024-02-01T00:00:00Z,team message\n" +
		`2,dm1,u3,2024-02-01T00:00:00Z,"héllo, ""quoted"" \ 😀"` + "\n" +
		"3,dm1,u1,2024-02-01T00:00:00Z,same second\n" +
		"4,dm1,u2,2024-02-02T00:00:00Z,third\n" +
		"5,dm2,u5,2024-03-01T00:00:00Z,ops one\n" +
		"6,dm2,u1,2024-03-02T00:00:00Z,from a sender not listed\n" +
		"7,dm3,u1,2024-03-01T00:00:00Z,of two people\n",
}

func writeGroupDMSource(t *testing.T, url string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range groupDMFiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mapping := filepath.Join(dir, "m.yaml")
	m := fmt.Sprintf(`version: 1
source:
  csv: {dir: .}
target:
  endpoint: %s
  sdkappid: %d
  secret_key: %s
  admin: %s
entities:
  users: {file: users.csv}
  groups: {file: groups.csv}
  group_dms: {file: group_dms.csv}
  group_messages: {file: group_messages.csv}
group_dms:
  type: Public
  id_prefix: dm_
`, url, e2eSDKAppID, e2eKey, e2eAdmin) + e2eLoad
	if err := os.WriteFile(mapping, []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	return mapping
}

// TestRunGroupDMs migrates group DMs over real HTTP into a sandbox: each a group
// of the mapped type under the prefixed GroupId, named by the source or after its
// members' nicks, owned by its creator or its first member, with every member
// (a sender it did not list added) and its messages byte for byte in order; the
// bad ones rejected by rule; group DMs a line of their own in the reports; a
// second run changes nothing.
func TestRunGroupDMs(t *testing.T) {
	srv, url := e2eSandbox(t, nil)
	mapping := writeGroupDMSource(t, url)
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitRejected {
		t.Fatalf("run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rejects, err := os.ReadFile(filepath.Join(out, "rejects.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"entity":"group_dms"`, `"legacy_id":"dm3"`, "group_dm.members.too_few", `"legacy_id":"g1"`,
		"group_dm.id.group_clash", "group_message.group.rejected"} {
		if !strings.Contains(string(rejects), want) {
			t.Errorf("rejects.jsonl lacks %s:\n%s", want, rejects)
		}
	}

	st := srv.State()
	groups := map[string]sandbox.GroupState{}
	for _, g := range st.Groups {
		groups[g.GroupID] = g
	}
	if len(groups) != 3 {
		t.Errorf("groups %v, want g1, dm_dm1, dm_dm2", reflect.ValueOf(groups).MapKeys())
	}
	text := func(s string) string {
		b, _ := json.Marshal(s)
		return `[{"MsgType":"TIMTextElem","MsgContent":{"Text":` + string(b) + `}}]`
	}
	type msg struct {
		From, Body string
		Time       int64
	}
	for _, want := range []struct {
		id, name, owner string
		members         []string
		createTime      int64
		msgs            []msg
	}{
		{"dm_dm1", "Alice, Bob, Carol", "u1", []string{"u1", "u2", "u3"}, 1704067200, []msg{
			{"u3", text(`héllo, "quoted" \ 😀`), 1706745600}, {"u1", text("same second"), 1706745600}, {"u2", text("third"), 1706832000}}},
		{"dm_dm2", "Ops", "u4", []string{"u1", "u2", "u4", "u5"}, 1709251199, []msg{
			{"u5", text("ops one"), 1709251200}, {"u1", text("from a sender not listed"), 1709337600}}},
	} {
		g, ok := groups[want.id]
		if !ok {
			t.Errorf("no group %s", want.id)
			continue
		}
		if g.Type != "Public" || g.Name != want.name || g.Owner != want.owner || g.CreateTime != want.createTime {
			t.Errorf("%s: type %q, name %q, owner %q, created %d; want Public, %q, %q, %d", want.id, g.Type, g.Name, g.Owner, g.CreateTime,
				want.name, want.owner, want.createTime)
		}
		var members []string
		for _, m := range g.Members {
			members = append(members, m.Account)
			if m.Account != g.Owner && m.JoinTime != want.createTime+1 {
				t.Errorf("%s: %s joined at %d, want %d (just after CreateTime)", want.id, m.Account, m.JoinTime, want.createTime+1)
			}
		}
		if !reflect.DeepEqual(members, want.members) {
			t.Errorf("%s: members %q, want %q", want.id, members, want.members)
		}
		var got []msg
		for _, m := range g.Messages {
			got = append(got, msg{m.FromAccount, string(m.MsgBody), m.SendTime})
		}
		if !reflect.DeepEqual(got, want.msgs) {
			t.Errorf("%s: messages\n got %+v\nwant %+v", want.id, got, want.msgs)
		}
	}

	// Group DMs are a line of their own in the validate and run reports.
	md, err := os.ReadFile(filepath.Join(out, report.ValidateMarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	if !containsLine(string(md), "group_dms", "4", "2", "1", "2") || !containsLine(string(md), "group_dms", "group_open_http_svc/import_group", "2") {
		t.Errorf("report.md lacks the group_dms lines (4 read, 2 valid, 1 repaired, 2 rejected; 2 import_group calls):\n%s", md)
	}
	var rr struct {
		Accounting []report.EntityAccounting `json:"accounting"`
	}
	readJSON(t, filepath.Join(out, "run-report.json"), &rr)
	found := false
	for _, a := range rr.Accounting {
		if a.Entity == "group_dms" {
			found = true
			if a.Read != 4 || a.Imported != 2 || a.Rejected != 2 || !a.Balanced {
				t.Errorf("group_dms accounting %+v, want 4 read = 2 imported + 2 rejected", a)
			}
		}
	}
	if !found {
		t.Errorf("run report has no group_dms line: %+v", rr.Accounting)
	}

	// The same command again resumes a finished migration: nothing changes.
	if code, stdout, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out); code != exitRejected {
		t.Fatalf("second run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if again := srv.State(); !reflect.DeepEqual(again.Groups, st.Groups) {
		t.Errorf("second run changed the groups")
	}

	// verify reads the group DMs' messages back with the other group messages.
	code, stdout, stderr = runCLI(t, t.Context(), "verify", "-c", mapping, "--out", out)
	if code != exitOK {
		t.Fatalf("verify: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var vr struct {
		Result struct {
			Entities []struct {
				Entity  string `json:"entity"`
				Present int64  `json:"present"`
			} `json:"entities"`
		} `json:"result"`
	}
	readJSON(t, filepath.Join(out, "verify.json"), &vr)
	verified := map[string]int64{}
	for _, e := range vr.Result.Entities {
		verified[e.Entity] = e.Present
	}
	if verified["group_messages"] != 6 || verified["group_dms"] != 2 {
		t.Errorf("verify: present %v, want 6 group messages (1 of g1, 5 of the group DMs) and 2 group DMs", verified)
	}

	// A member the target lost makes its group DM different.
	lost := srv.State()
	for i, g := range lost.Groups {
		if g.GroupID == "dm_dm1" {
			lost.Groups[i].Members = slices.DeleteFunc(slices.Clone(g.Members), func(m sandbox.GroupMemberState) bool { return m.Account == "u3" })
		}
	}
	if err := srv.Restore(lost); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, t.Context(), "verify", "-c", mapping, "--out", out)
	if code != exitRejected || !strings.Contains(stdout+stderr, "not members: u3") {
		b, _ := os.ReadFile(filepath.Join(out, "verify.md"))
		t.Errorf("verify after a member left: exit %d, want %d and the member named\n%s\n%s", code, exitRejected, stdout+stderr, b)
	}
}

// TestRunGroupDMsResume interrupts a run in the group DMs phase — between a
// group DM's import_group and its members, as Ctrl-C does — and again in their
// messages, and resumes it each time, with answers lost on the way (the call
// applied, its answer dropped); the target ends exactly as after one
// uninterrupted run: nothing lost, nothing twice.
func TestRunGroupDMsResume(t *testing.T) {
	ref, refURL := e2eSandbox(t, nil)
	if code, stdout, stderr := runCLI(t, t.Context(), "run", "-c", writeGroupDMSource(t, refURL), "--out", t.TempDir()); code != exitRejected {
		t.Fatalf("reference run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	want := ref.State()

	faults, err := sandbox.ParseFaults("drop:cmd=group_open_http_svc/import_group_member:nth=2,drop:cmd=group_open_http_svc/import_group_msg:nth=2")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sandbox.New(sandbox.Config{SDKAppID: e2eSDKAppID, SecretKey: secret.New(e2eKey), Admins: []string{e2eAdmin}, Seed: 1, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	var cancelAt atomic.Pointer[struct {
		suffix string
		n      int64
		cancel context.CancelFunc
	}]
	var calls atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := cancelAt.Load(); c != nil && strings.HasSuffix(r.URL.Path, c.suffix) && calls.Add(1) == c.n {
			c.cancel() // the call in hand still reaches the target
		}
		srv.ServeHTTP(w, r)
	}))
	defer hs.Close()
	mapping := writeGroupDMSource(t, hs.URL)
	out := t.TempDir()
	for i, stop := range []string{"/import_group_member", "/import_group_msg"} {
		ctx, cancel := context.WithCancel(t.Context())
		calls.Store(0)
		cancelAt.Store(&struct {
			suffix string
			n      int64
			cancel context.CancelFunc
		}{stop, 1, cancel})
		code, stdout, stderr := runCLI(t, ctx, "run", "-c", mapping, "--out", out)
		cancel()
		if code != exitInterrupted {
			t.Fatalf("run %d, stopped at the first %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", i+1, stop, code, exitInterrupted, stdout, stderr)
		}
	}
	cancelAt.Store(nil)
	code, stdout, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitRejected {
		t.Fatalf("resumed run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if got := srv.State(); !reflect.DeepEqual(got.Groups, want.Groups) {
		t.Errorf("after the interruptions the groups differ from one run's:\n%s", stateDiff(t, got, want))
	}
	var rr struct {
		Accounting []report.EntityAccounting `json:"accounting"`
	}
	readJSON(t, filepath.Join(out, "run-report.json"), &rr)
	for _, a := range rr.Accounting {
		if !a.Balanced || (a.Entity == "group_dms" && a.Imported+a.Present != 2) {
			t.Errorf("accounting after the resumes: %+v", a)
		}
	}
}

// TestRunGroupDMsRefused: the target refusing a group DM's import_group rejects
// that group DM with the target's code and, without a call, its messages; the
// other group DM is imported; a second run remembers the refusal.
func TestRunGroupDMsRefused(t *testing.T) {
	faults, err := sandbox.ParseFaults("code=10004:cmd=group_open_http_svc/import_group:nth=2")
	if err != nil {
		t.Fatal(err)
	}
	srv, url := e2eSandbox(t, func(c *sandbox.Config) { c.Faults = faults })
	mapping := writeGroupDMSource(t, url)
	out := t.TempDir()
	for run := 1; run <= 2; run++ {
		if code, stdout, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out); code != exitRejected {
			t.Fatalf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s", run, code, stdout, stderr)
		}
	}
	// The second import_group call is a group DM's: g1 goes first, in the groups
	// phase; which group DM is refused depends on the workers.
	st := srv.State()
	var refused string
	for _, id := range []string{"dm_dm1", "dm_dm2"} {
		found := false
		for _, g := range st.Groups {
			found = found || g.GroupID == id
		}
		if !found {
			if refused != "" {
				t.Fatalf("both group DMs missing from the target")
			}
			refused = id
		}
	}
	if refused == "" {
		t.Fatalf("no group DM refused: the fault did not fire")
	}
	legacy := strings.TrimPrefix(refused, "dm_")
	msgs := map[string]int{"dm1": 3, "dm2": 2}[legacy]
	type reject struct {
		Entity   string `json:"entity"`
		LegacyID string `json:"legacy_id"`
		Rule     string `json:"rule"`
	}
	var dmRejects, msgRejects int
	for _, r := range readJSONL[reject](t, filepath.Join(out, "rejects.jsonl")) {
		switch {
		case r.Entity == "group_dms" && r.LegacyID == legacy && r.Rule == "target.10004":
			dmRejects++
		case r.Entity == "group_messages" && r.Rule == "target.group_not_imported":
			msgRejects++
		}
	}
	if dmRejects != 1 || msgRejects != msgs {
		t.Errorf("rejects: group DM %s %d times target.10004 (want 1), %d messages target.group_not_imported (want %d)",
			legacy, dmRejects, msgRejects, msgs)
	}
}

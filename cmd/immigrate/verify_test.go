package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/migration"
	"github.com/immigrate/immigrate/plan"
	"github.com/immigrate/immigrate/report"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/tencentim/sandbox"
	"github.com/immigrate/immigrate/verify"
)

// End-to-end tests of `immigrate verify` (issue 9 item 5): the demo is migrated
// into a sandbox served over HTTP, the sandbox's state is tampered with through
// its state dump, and verify must name exactly the records touched.

// verifyRates lets verify's read-backs run as fast as the sandbox answers.
const verifyRates = `    account_check: 100000
    portrait_get: 100000
    get_group_info: 100000
    get_group_member_info: 100000
    admin_getroammsg: 100000
`

// migrateDemo copies the demo dataset to a temporary directory, points its
// mapping at a sandbox (roaming_days as given; -1 leaves the default) and runs
// it. It returns the sandbox, the mapping and the output directory.
func migrateDemo(t *testing.T, roamingDays int, mod func(*sandbox.Config)) (*sandbox.Server, string, string) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "..", "testdata", "demo")
	names, err := filepath.Glob(filepath.Join(src, "*.csv"))
	if err != nil || len(names) == 0 {
		t.Fatalf("demo CSV files: %v", err)
	}
	for _, n := range append(names, filepath.Join(src, "csv.yaml")) {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(n)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv, url := e2eSandbox(t, mod)
	mapping := pointAt(t, filepath.Join(dir, "csv.yaml"), url, func(s string) string {
		if roamingDays >= 0 {
			s = strings.Replace(s, "  edition: pro\n", fmt.Sprintf("  edition: pro\n  roaming_days: %d\n", roamingDays), 1)
		}
		return strings.Replace(s, "    importmsg: 100000\n", "    importmsg: 100000\n"+verifyRates, 1)
	})
	out := filepath.Join(dir, "out")
	if code, so, se := runCLIParallel(t, t.Context(), "run", "-c", mapping, "--out", out); code != exitRejected {
		t.Fatalf("run: exit %d, want %d (the demo plants bad records)\nstdout:\n%s\nstderr:\n%s", code, exitRejected, so, se)
	}
	return srv, mapping, out
}

// verifyJSONDoc is verify.json as a program reads it.
type verifyJSONDoc struct {
	OK     bool          `json:"ok"`
	Result verify.Result `json:"result"`
}

func verifyCLI(t *testing.T, mapping, out string, args ...string) (int, verifyJSONDoc, string) {
	t.Helper()
	os.Remove(filepath.Join(out, report.VerifyJSONFile))
	code, so, se := runCLIParallel(t, t.Context(), append([]string{"verify", "-c", mapping, "--out", out}, args...)...)
	var doc verifyJSONDoc
	b, err := os.ReadFile(filepath.Join(out, report.VerifyJSONFile))
	if err != nil {
		t.Fatalf("verify (exit %d) wrote no %s: %v\nstdout:\n%s\nstderr:\n%s", code, report.VerifyJSONFile, err, so, se)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{report.VerifyMarkdownFile, report.VerifyHTMLFile} {
		if fi, err := os.Stat(filepath.Join(out, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", name, err)
		}
	}
	return code, doc, so + se
}

// planCounts is the number of records of each entity in the run's plan.
func planCounts(t *testing.T, out string) map[extract.Entity]int64 {
	t.Helper()
	sp, err := plan.OpenSpool(filepath.Join(out, migration.PlanDir))
	if err != nil {
		t.Fatal(err)
	}
	n := map[extract.Entity]int64{}
	for e, ph := range map[extract.Entity]load.Phase{extract.Users: load.PhaseAccounts, extract.Groups: load.PhaseGroups,
		extract.Members: load.PhaseMembers, extract.GroupMessages: load.PhaseGroupMessages, extract.DirectMessages: load.PhaseDirectMessages,
		extract.Friends: load.PhaseFriends, extract.GroupDMs: load.PhaseGroupDMs,
		extract.Profiles: load.PhaseProfiles} {
		if err := sp.Source().Records(t.Context(), ph, func(load.Record) error { n[e]++; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func TestVerifyCleanRun(t *testing.T) {
	t.Parallel()
	_, mapping, out := migrateDemo(t, 0, nil)
	code, doc, output := verifyCLI(t, mapping, out)
	if code != exitOK || !doc.OK {
		t.Fatalf("verify after a clean run: exit %d, ok %v, findings %+v\n%s", code, doc.OK, doc.Result.Findings, output)
	}
	want := planCounts(t, out)
	for _, c := range doc.Result.Entities {
		if c.Expected == 0 || c.Expected != want[c.Entity] || c.Present != c.Expected || c.Missing+c.Different+c.BeyondRetention != 0 {
			t.Errorf("%s: %+v, want expected = present = %d (the plan's records)", c.Entity, c, want[c.Entity])
		}
	}
	if len(doc.Result.Entities) != 8 || len(doc.Result.Findings) != 0 { // the demo has friends, group DMs and profiles
		t.Errorf("entities %+v, findings %+v", doc.Result.Entities, doc.Result.Findings)
	}
	if !strings.Contains(output, "comparing with the plan") {
		t.Errorf("verify did not say it compares with the run's plan:\n%s", output)
	}

	// Without the run's plan, verify validates the source again, with the
	// migration's clock from the checkpoint, to the same result; it leaves no
	// plan behind.
	if err := os.RemoveAll(filepath.Join(out, migration.PlanDir)); err != nil {
		t.Fatal(err)
	}
	code, again, output := verifyCLI(t, mapping, out)
	if code != exitOK || !slices.Equal(again.Result.Entities, doc.Result.Entities) || !strings.Contains(output, "validating the source") {
		t.Errorf("verify without a plan: exit %d, %+v, want %+v\n%s", code, again.Result.Entities, doc.Result.Entities, output)
	}
	if left, _ := filepath.Glob(filepath.Join(out, "*plan*")); len(left) != 0 {
		t.Errorf("verify left %v behind", left)
	}
}

// tampered is what tamper did to the sandbox, as the findings must name it.
type tampered struct {
	key    string // entity/kind/fields/origin/legacy id
	target string
}

func findingKey(e extract.Entity, kind string, fields []string, origin, legacyID string) string {
	return fmt.Sprintf("%s %s %v %s %q", e, kind, fields, origin, legacyID)
}

// spoolIndex finds the plan's record of each entity by what the target keys it by.
type spoolIndex struct {
	groupMsg map[string]load.Record // GroupId + Random
	member   map[string]load.Record // GroupId/account
	direct   map[string]load.Record // MsgSeq/MsgRandom
	friend   map[string]load.Record // From_Account/To_Account
	profile  map[string]load.Record // From_Account
}

func indexSpool(t *testing.T, out string) spoolIndex {
	t.Helper()
	sp, err := plan.OpenSpool(filepath.Join(out, migration.PlanDir))
	if err != nil {
		t.Fatal(err)
	}
	ix := spoolIndex{map[string]load.Record{}, map[string]load.Record{}, map[string]load.Record{}, map[string]load.Record{}, map[string]load.Record{}}
	src := sp.Source()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(src.Records(t.Context(), load.PhaseGroupMessages, func(r load.Record) error {
		var m tencentim.GroupMsg
		must(json.Unmarshal(r.Payload, &m))
		ix.groupMsg[fmt.Sprint(r.Stream, "/", m.Random)] = r
		return nil
	}))
	must(src.Records(t.Context(), load.PhaseFriends, func(r load.Record) error {
		var f tencentim.AddFriendItem
		must(json.Unmarshal(r.Payload, &f))
		ix.friend[r.Stream+"/"+f.ToAccount] = r
		return nil
	}))
	must(src.Records(t.Context(), load.PhaseMembers, func(r load.Record) error {
		var m tencentim.ImportMember
		must(json.Unmarshal(r.Payload, &m))
		ix.member[r.Stream+"/"+m.MemberAccount] = r
		return nil
	}))
	must(src.Records(t.Context(), load.PhaseDirectMessages, func(r load.Record) error {
		var m tencentim.ImportMsgRequest
		must(json.Unmarshal(r.Payload, &m))
		ix.direct[fmt.Sprint(m.MsgSeq, "/", m.MsgRandom)] = r
		return nil
	}))
	must(src.Records(t.Context(), load.PhaseProfiles, func(r load.Record) error {
		var p tencentim.PortraitSetRequest
		must(json.Unmarshal(r.Payload, &p))
		ix.profile[p.FromAccount] = r
		return nil
	}))
	return ix
}

const tamperedBody = `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"tampered"}}]`

// tamper deletes a group message, a member and a one-to-one message from the
// sandbox and rewrites the text of another group message and another one-to-one
// message, and returns the findings that must follow.
func tamper(t *testing.T, srv *sandbox.Server, ix spoolIndex) []string {
	t.Helper()
	st := srv.State()
	var want []string
	add := func(e extract.Entity, kind string, fields []string, r load.Record) {
		want = append(want, findingKey(e, kind, fields, r.Origin, r.LegacyID))
	}
	// The largest group loses its 5th message and gets the 9th's text changed.
	gi := 0
	for i, g := range st.Groups {
		if len(g.Messages) > len(st.Groups[gi].Messages) {
			gi = i
		}
	}
	g := &st.Groups[gi]
	if len(g.Messages) < 10 || len(g.Members) < 2 {
		t.Fatalf("group %s has %d messages and %d members; the test needs more", g.GroupID, len(g.Messages), len(g.Members))
	}
	del := g.Messages[4]
	add(extract.GroupMessages, verify.KindMissing, nil, ix.groupMsg[fmt.Sprint(g.GroupID, "/", del.Random)])
	g.Messages = slices.Delete(g.Messages, 4, 5)
	for i := range g.Messages {
		g.Messages[i].MsgSeq = uint64(i + 1)
	}
	g.Messages[7].MsgBody = json.RawMessage(tamperedBody)
	add(extract.GroupMessages, verify.KindDifferent, []string{verify.FieldText}, ix.groupMsg[fmt.Sprint(g.GroupID, "/", g.Messages[7].Random)])
	// A member that is not the owner leaves another group.
	for i := range st.Groups {
		h := &st.Groups[i]
		if i == gi || h.Destroyed {
			continue
		}
		k := slices.IndexFunc(h.Members, func(m sandbox.GroupMemberState) bool { return m.Role != tencentim.RoleOwner })
		if k < 0 {
			continue
		}
		r, ok := ix.member[h.GroupID+"/"+h.Members[k].Account]
		if !ok {
			t.Fatalf("member %s/%s is not in the plan", h.GroupID, h.Members[k].Account)
		}
		add(extract.Members, verify.KindMissing, nil, r)
		h.Members = slices.Delete(h.Members, k, k+1)
		break
	}
	for i := range st.Groups {
		for j := range st.Groups[i].Members {
			m := &st.Groups[i].Members[j]
			m.LastReadSeq = min(m.LastReadSeq, uint64(len(st.Groups[i].Messages)))
		}
	}
	// The longest conversation loses its 3rd message and gets the 6th's text changed.
	ci := 0
	for i, c := range st.C2C {
		if len(c.Messages) > len(st.C2C[ci].Messages) {
			ci = i
		}
	}
	c := &st.C2C[ci]
	if len(c.Messages) < 7 {
		t.Fatalf("conversation %s/%s has %d messages; the test needs more", c.A, c.B, len(c.Messages))
	}
	dm := c.Messages[2]
	add(extract.DirectMessages, verify.KindMissing, nil, ix.direct[fmt.Sprint(dm.MsgSeq, "/", dm.MsgRandom)])
	c.Messages[5].MsgBody = json.RawMessage(tamperedBody)
	add(extract.DirectMessages, verify.KindDifferent, []string{verify.FieldText}, ix.direct[fmt.Sprint(c.Messages[5].MsgSeq, "/", c.Messages[5].MsgRandom)])
	c.Messages = slices.Delete(c.Messages, 2, 3)
	// One friend is dropped (friend_get no longer lists it), another's remark
	// changed.
	if len(st.Friends) < 2 {
		t.Fatalf("the target holds %d friends; the test needs 2", len(st.Friends))
	}
	f := st.Friends[0]
	add(extract.Friends, verify.KindMissing, nil, ix.friend[f.FromAccount+"/"+f.ToAccount])
	st.Friends = slices.Delete(st.Friends, 0, 1)
	st.Friends[0].Remark += " (tampered)"
	add(extract.Friends, verify.KindDifferent, []string{verify.FieldText}, ix.friend[st.Friends[0].FromAccount+"/"+st.Friends[0].ToAccount])
	// A human is marked as a bot (its custom Kind, set by the profiles phase).
	kind := -1
	for i := range st.Accounts {
		if r, ok := ix.profile[st.Accounts[i].UserID]; ok && kind < 0 {
			for j, p := range st.Accounts[i].Profile {
				if p.Tag == "Tag_Profile_Custom_Kind" && string(p.Value) == `"human"` {
					st.Accounts[i].Profile[j].Value = json.RawMessage(`"bot"`)
					add(extract.Profiles, verify.KindDifferent, []string{verify.FieldText}, r)
					kind = i
				}
			}
		}
	}
	if kind < 0 {
		t.Fatal("no account of the plan has the custom Kind human")
	}
	if err := srv.Restore(st); err != nil {
		t.Fatalf("restore the tampered state: %v", err)
	}
	slices.Sort(want)
	return want
}

func findingKeys(res verify.Result) []string {
	var got []string
	for _, f := range res.Findings {
		got = append(got, findingKey(f.Entity, f.Kind, f.Fields, f.Origin, f.LegacyID))
	}
	slices.Sort(got)
	return got
}

// TestVerifyFindsTamperedRecords: after deleting and altering records in the
// target, verify exits 3 and names exactly those records, with their origins;
// a sample verifies a deterministic subset of them.
func TestVerifyFindsTamperedRecords(t *testing.T) {
	t.Parallel()
	srv, mapping, out := migrateDemo(t, 0, nil)
	want := tamper(t, srv, indexSpool(t, out))

	code, doc, output := verifyCLI(t, mapping, out)
	if code != exitRejected || doc.OK {
		t.Fatalf("verify of a tampered target: exit %d (ok %v), want %d\n%s", code, doc.OK, exitRejected, output)
	}
	got := findingKeys(doc.Result)
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n  %s\nwant exactly:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for _, f := range doc.Result.Findings {
		if f.Origin == "" || !strings.Contains(f.Origin, ".csv:") || f.Target == "" || f.Detail == "" {
			t.Errorf("finding without origin, target or detail: %+v", f)
		}
	}
	full := planCounts(t, out)
	for _, c := range doc.Result.Entities {
		if c.Expected != full[c.Entity] || c.Present+c.Missing+c.Different != c.Expected {
			t.Errorf("%s: %+v does not add up to the plan's %d", c.Entity, c, full[c.Entity])
		}
	}
	if !strings.Contains(output, "tampered") {
		t.Errorf("the summary does not show the changed text:\n%s", output)
	}

	// --sample 50: the same subset twice, within the full result.
	var samples [2]verifyJSONDoc
	for i := range samples {
		_, samples[i], _ = verifyCLI(t, mapping, out, "--sample", "50%")
	}
	if !slices.Equal(samples[0].Result.Entities, samples[1].Result.Entities) || !slices.Equal(findingKeys(samples[0].Result), findingKeys(samples[1].Result)) {
		t.Errorf("two samples differ:\n%+v\n%+v", samples[0].Result.Entities, samples[1].Result.Entities)
	}
	for _, c := range samples[0].Result.Entities {
		if c.Entity == extract.Users || c.Entity == extract.DirectMessages {
			if c.Expected == 0 || c.Expected >= full[c.Entity] {
				t.Errorf("a 50 %% sample of %s checked %d of %d", c.Entity, c.Expected, full[c.Entity])
			}
		}
	}
	for _, k := range findingKeys(samples[0].Result) {
		if !slices.Contains(want, k) {
			t.Errorf("the sample found %s, which the full verify did not", k)
		}
	}
	if samples[0].Result.Sample != 50 {
		t.Errorf("sample_percent = %v, want 50", samples[0].Result.Sample)
	}
}

// TestVerifyRoamingRetention: one-to-one history older than the app's retention
// is not returned by admin_getroammsg; verify counts it as beyond retention and
// warns, instead of calling it missing.
func TestVerifyRoamingRetention(t *testing.T) {
	t.Parallel()
	cut := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	days := int(time.Since(cut).Hours()/24) + 1
	// The sandbox keeps an hour more than verify assumes, so that no message sits
	// between the two cutoffs.
	_, mapping, out := migrateDemo(t, days, func(c *sandbox.Config) { c.RoamingPeriod = time.Duration(days)*24*time.Hour + time.Hour })
	code, doc, output := verifyCLI(t, mapping, out)
	if code != exitOK {
		t.Fatalf("verify: exit %d, want 0 (old history is beyond retention, not missing)\n%s", code, output)
	}
	dm := doc.Result.Counts(extract.DirectMessages)
	if dm.BeyondRetention == 0 || dm.Present == 0 || dm.Missing != 0 || dm.Present+dm.BeyondRetention != dm.Expected {
		t.Errorf("direct messages %+v, want some present and some beyond retention, none missing", dm)
	}
	if len(doc.Result.Warnings) != 1 || !strings.Contains(doc.Result.Warnings[0], "roaming retention") ||
		!strings.Contains(doc.Result.Warnings[0], fmt.Sprint(dm.BeyondRetention)) {
		t.Errorf("warnings %q, want one about the %d messages beyond retention", doc.Result.Warnings, dm.BeyondRetention)
	}
}

func TestVerifyUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"verify"}, "-c FILE is required"},
		{[]string{"verify", "-c", "../../testdata/demo/csv.yaml", "--sample", "0"}, "not a percentage"},
		{[]string{"verify", "-c", "../../testdata/demo/csv.yaml", "--sample", "150%"}, "not a percentage"},
		{[]string{"verify", "-c", "../../testdata/demo/csv.yaml"}, "embedded sandbox"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, se := runCLI(t, t.Context(), tt.args...)
			if code != exitUsage || !strings.Contains(se, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, se, exitUsage, tt.want)
			}
		})
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/report"
	"github.com/immigrate/immigrate/transform"
)

// optionalFieldsMapping reads an export whose user bob has a nick that is not
// UTF-8 (Latin-1, as old exports sometimes are); %s is the rest of the mapping
// (policies, target).
const optionalFieldsMapping = `version: 1
source:
  csv: {dir: .}

target:
  sandbox: embedded

entities:
  users: {file: users.csv, time: unix}
  groups: {file: groups.csv, time: unix}
  group_members: {file: group_members.csv, time: unix}
  group_messages: {file: group_messages.csv, time: unix_ms}
  direct_messages: {file: direct_messages.csv, time: unix_ms}
%s`

// writeOptionalFieldsExport writes the export and its mapping into a new
// directory and returns the mapping's path. bob is at users.csv:3, and 5
// records reference him: his membership, one group message and three direct
// messages.
func writeOptionalFieldsExport(t *testing.T, rest string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"users.csv": "id,nick,created_at\n" +
			"alice,Alice,1700000000\n" +
			"bob,Andr\xe9,1700000000\n" +
			"carol,Carol,1700000000\n",
		"groups.csv":        "id,owner_id,type,name,created_at\ng1,alice,Public,Team,1700000100\n",
		"group_members.csv": "group_id,user_id,role,joined_at\ng1,bob,Member,1700000200\ng1,carol,Member,1700000200\n",
		"group_messages.csv": "id,group_id,sender_id,sent_at,kind,text\n" +
			"1,g1,bob,1700000300000,text,hi all\n" +
			"2,g1,carol,1700000301000,text,hi bob\n",
		"direct_messages.csv": "id,sender_id,recipient_id,sent_at,kind,text\n" +
			"10,alice,bob,1700000400000,text,hello\n" +
			"11,bob,alice,1700000401000,text,hello back\n" +
			"12,bob,carol,1700000402000,text,hey\n" +
			"13,alice,carol,1700000403000,text,hey\n",
		"m.yaml": fmt.Sprintf(optionalFieldsMapping, rest),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "m.yaml")
}

func readValidateReport(t *testing.T, out string) reportJSON {
	t.Helper()
	var rep reportJSON
	data, err := os.ReadFile(filepath.Join(out, report.ValidateJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestValidateOptionalFields is issue 13 item 2 through `immigrate validate`: a
// nick that is not UTF-8 is dropped with a repair that names the record, and
// nothing falls with the user; under policies.optional_fields: reject the user
// is rejected, with its legacy id, and so is everything that references him.
func TestValidateOptionalFields(t *testing.T) {
	tests := []struct {
		policy       string
		wantCode     int
		wantRejected int64
	}{
		{policy: "", wantCode: exitOK},
		{policy: "policies: {optional_fields: repair}\n", wantCode: exitOK},
		{policy: "policies: {optional_fields: reject}\n", wantCode: exitRejected, wantRejected: 6},
	}
	for _, tt := range tests {
		name := strings.TrimSpace(tt.policy)
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			mapping := writeOptionalFieldsExport(t, tt.policy)
			out := filepath.Join(filepath.Dir(mapping), "out")
			code, stdout, stderr := runCLI(t, context.Background(), "validate", "-c", mapping, "--out", out, "--now", demoNow)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s\n%s", code, tt.wantCode, stderr, stdout)
			}
			rep := readValidateReport(t, out)
			if rep.Rejected != tt.wantRejected {
				t.Errorf("report.json: %d rejected, want %d", rep.Rejected, tt.wantRejected)
			}
			users := rep.Result.Counts(extract.Users)
			f, err := os.Open(filepath.Join(out, report.RejectsFileName))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rejects, err := report.ReadRejects(f)
			if err != nil {
				t.Fatal(err)
			}

			if tt.wantRejected == 0 {
				if users.Read != 3 || users.Valid != 3 || users.Repaired != 1 {
					t.Errorf("users = %+v, want 3 read, 3 valid, 1 repaired", users)
				}
				for _, e := range []extract.Entity{extract.Members, extract.GroupMessages, extract.DirectMessages} {
					if c := rep.Result.Counts(e); c.Rejected != 0 || c.Valid != c.Read {
						t.Errorf("%s = %+v, want every record valid", e, c)
					}
				}
				if len(rejects) != 0 {
					t.Errorf("rejects.jsonl: %+v", rejects)
				}
				var found bool
				for _, rs := range rep.Result.Issues {
					if rs.Rule != transform.RuleFieldDropped {
						continue
					}
					found = true
					if rs.Entity != extract.Users || rs.Severity != "repair" || rs.Count != 1 || len(rs.Examples) != 1 {
						t.Fatalf("field.dropped = %+v, want one repair of users", rs)
					}
					ex := rs.Examples[0]
					if ex.Origin != "users.csv:3" || ex.LegacyID != "bob" || !strings.Contains(ex.Message, `"nick"`) {
						t.Errorf("example %+v, want users.csv:3, bob and the field nick", ex)
					}
				}
				if !found {
					t.Errorf("no %s issue in report.json", transform.RuleFieldDropped)
				}
				md, err := os.ReadFile(filepath.Join(out, report.ValidateMarkdownFile))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(md), "field.dropped") || !strings.Contains(string(md), "users.csv:3") {
					t.Errorf("report.md does not show the repair:\n%s", md)
				}
				return
			}

			if users.Read != 3 || users.Valid != 2 || users.Rejected != 1 {
				t.Errorf("users = %+v, want 3 read, 2 valid, 1 rejected", users)
			}
			var got []string
			for _, rj := range rejects {
				got = append(got, rj.Entity+" "+rj.Origin+" "+rj.LegacyID+" "+rj.Rule)
			}
			slices.Sort(got)
			want := []string{
				"direct_messages direct_messages.csv:2 10 " + transform.RuleDirectMessageRecipientUnknown,
				"direct_messages direct_messages.csv:3 11 " + transform.RuleDirectMessageSenderUnknown,
				"direct_messages direct_messages.csv:4 12 " + transform.RuleDirectMessageSenderUnknown,
				"group_members group_members.csv:2 g1/bob " + transform.RuleMemberUserUnknown,
				"group_messages group_messages.csv:2 1 " + transform.RuleGroupMessageSenderUnknown,
				"users users.csv:3 bob " + extract.RuleInvalidUTF8,
			}
			if !slices.Equal(got, want) {
				t.Errorf("rejects.jsonl:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestRunOptionalFields runs the export into a sandbox: bob is imported without
// a nick, and his membership and messages are there.
func TestRunOptionalFields(t *testing.T) {
	t.Parallel()
	srv, url := e2eSandbox(t, nil)
	mapping := writeOptionalFieldsExport(t, "")
	mapping = pointAt(t, mapping, url, nil)
	out := filepath.Join(filepath.Dir(mapping), "out")
	code, stdout, stderr := runCLIParallel(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitOK {
		t.Fatalf("immigrate run: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitOK, stdout, stderr)
	}
	st := srv.State()
	nicks := map[string]string{}
	for _, a := range st.Accounts {
		nicks[a.UserID] = a.Nick
	}
	if n, ok := nicks["bob"]; !ok || n != "" {
		t.Errorf("bob: imported %v with nick %q, want imported without a nick", ok, n)
	}
	if nicks["alice"] != "Alice" {
		t.Errorf("alice's nick = %q", nicks["alice"])
	}
	c2c := 0
	for _, c := range st.C2C {
		c2c += len(c.Messages)
	}
	if c2c != 4 {
		t.Errorf("%d direct messages in the sandbox, want all 4", c2c)
	}
	if len(st.Groups) != 1 {
		t.Fatalf("%d groups in the sandbox, want 1", len(st.Groups))
	}
	g := st.Groups[0]
	var members []string
	for _, m := range g.Members {
		members = append(members, m.Account)
	}
	slices.Sort(members)
	if !slices.Equal(members, []string{"alice", "bob", "carol"}) || len(g.Messages) != 2 {
		t.Errorf("group members %v and %d messages, want alice, bob, carol and 2", members, len(g.Messages))
	}
	f, err := os.Open(filepath.Join(out, report.RejectsFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if rejects, err := report.ReadRejects(f); err != nil || len(rejects) > 0 {
		t.Errorf("rejects.jsonl: %+v (%v), want none", rejects, err)
	}
}

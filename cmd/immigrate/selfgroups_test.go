package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/plan"
	"github.com/immigrate/immigrate/report"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// TestRunSelfMessagesToGroup imports notes to self under policies.self_messages:
// to_group into a sandbox over HTTP: alice's self-messages arrive in order, byte
// for byte, as the messages of a private group "Alice's notes" she owns, her
// conversation with bob stays a conversation, the accounting holds, verify
// finds everything and running it again changes nothing.
func TestRunSelfMessagesToGroup(t *testing.T) {
	t.Parallel()
	srv, url := e2eSandbox(t, nil)
	dir := t.TempDir()
	cols := []string{"id", "sender_id", "recipient_id", "sent_at", "kind", "text", "reply_to"}
	writeCSV(t, filepath.Join(dir, "users.csv"), []string{"id", "nick", "created_at"},
		[]string{"alice", "Alice", "1700000000"}, []string{"bob", "Bob", "1700000000"})
	writeCSV(t, filepath.Join(dir, "direct_messages.csv"), cols,
		[]string{"n1", "alice", "alice", "1700000500000", "text", "buy <milk> & eggs", ""},
		[]string{"n2", "alice", "alice", "1700000500400", "text", "same second", "n1"},
		[]string{"n3", "alice", "alice", "1700000600000", "text", "call bob", ""},
		[]string{"d1", "alice", "bob", "1700000400000", "text", "hi bob", ""})
	mapping := fmt.Sprintf(`version: 1
source:
  csv: {dir: .}
target:
  endpoint: %s
  sdkappid: %d
  secret_key: %s
  admin: %s
entities:
  users: {file: users.csv, time: unix}
  direct_messages: {file: direct_messages.csv, time: unix_ms}
policies:
  self_messages: to_group
`, url, e2eSDKAppID, e2eKey, e2eAdmin) + e2eLoad
	path := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(path, []byte(mapping), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, stdout, stderr := runCLIParallel(t, t.Context(), "run", "-c", path, "--out", out)
	if code != exitOK {
		t.Fatalf("immigrate run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "imported+present+rejected+skipped") {
		t.Errorf("the run's accounting does not hold:\n%s", stdout)
	}
	st := srv.State()
	if len(st.Groups) != 1 {
		t.Fatalf("sandbox groups %+v, want alice's notes", st.Groups)
	}
	g := st.Groups[0]
	if g.GroupID != "@self#alice" || g.Type != "Private" || g.Name != "Alice's notes" || g.Owner != "alice" || g.CreateTime != 1700000499 {
		t.Errorf("group %s %s %q owner %s created %d, want @self#alice Private \"Alice's notes\" owned by alice, created 1700000499",
			g.GroupID, g.Type, g.Name, g.Owner, g.CreateTime)
	}
	var got []string
	for _, m := range g.Messages {
		got = append(got, fmt.Sprintf("%s %d %s", m.FromAccount, m.SendTime, m.MsgBody))
	}
	want := []string{
		`alice 1700000500 [{"MsgType":"TIMTextElem","MsgContent":{"Text":"buy \u003cmilk\u003e \u0026 eggs"}}]`,
		`alice 1700000500 [{"MsgType":"TIMTextElem","MsgContent":{"Text":"same second"}}]`,
		`alice 1700000600 [{"MsgType":"TIMTextElem","MsgContent":{"Text":"call bob"}}]`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("group messages\n got %q\nwant %q", got, want)
	}
	if len(st.C2C) != 1 || st.C2C[0].A != "alice" || st.C2C[0].B != "bob" || len(st.C2C[0].Messages) != 1 {
		t.Errorf("conversations %+v, want alice-bob with d1", st.C2C)
	}
	var validated struct{ Result plan.ValidateResult }
	if b, err := os.ReadFile(filepath.Join(out, report.ValidateJSONFile)); err != nil || json.Unmarshal(b, &validated) != nil {
		t.Fatalf("read %s: %v", report.ValidateJSONFile, err)
	}
	if sg := validated.Result.SelfGroups; sg == nil || *sg != (plan.SelfGroupCount{Groups: 1, Messages: 3}) {
		t.Errorf("report.json self_groups %+v, want 1 group, 3 messages", sg)
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if !bytes.Contains(md, []byte("3 direct messages to oneself become the messages of 1 private groups")) {
		t.Errorf("report.md does not count the self-messages")
	}
	if code, stdout, stderr := runCLIParallel(t, t.Context(), "verify", "-c", path, "--out", out); code != exitOK {
		t.Errorf("verify: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	before := srv.State()
	if code, stdout, stderr := runCLIParallel(t, t.Context(), "run", "-c", path, "--out", out); code != exitOK {
		t.Fatalf("second run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if after := srv.State(); !reflect.DeepEqual(groupsOf(after), groupsOf(before)) || !reflect.DeepEqual(after.C2C, before.C2C) {
		t.Errorf("a second run changed the target")
	}
}

func groupsOf(st sandbox.State) []sandbox.GroupState { return st.Groups }

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/extract/synth"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// deltaSource writes a small synthetic export to dir and returns a mapping that
// imports it into the sandbox at url.
func deltaSource(t *testing.T, dir, url string) string {
	realtimeAfter := time.Now().Add(-45 * time.Hour).Truncate(time.Second)
	t.Helper()
	cfg := synth.Config{Seed: 11, Users: 30, Groups: 4, MembersMin: 2, MembersMax: 8, GroupMessages: 120, DirectMessages: 150}
	if _, err := synth.WriteCSV(t.Context(), cfg, dir); err != nil {
		t.Fatal(err)
	}
	// Rows are appended out of stream order: the reader sorts them. Messages
	// after realtimeAfter are real-time ones (SyncFromOldSystem 5): only those the
	// deltas add.
	return pointAt(t, filepath.Join(dir, "csv.yaml"), url, func(s string) string {
		s = strings.Replace(s, "sync:\n  default: 2\n", fmt.Sprintf("sync:\n  default: 2\n  realtime_after: %q\n", realtimeAfter.Format(time.RFC3339)), 1)
		return strings.ReplaceAll(s, "sorted: true", "sorted: false")
	})
}

// grow appends rows of every entity to the export in dir: a new user, a new
// group with its members and messages, a new member and a later message in an
// existing group, a new conversation and a later message in an existing one.
func grow(t *testing.T, dir string, at time.Time) {
	t.Helper()
	ms := func(d time.Duration) string { return fmt.Sprint(at.Add(d).UnixMilli()) }
	rows := map[string][]string{
		"users.csv":  {"u900,Delta Person,,1664426389"},
		"groups.csv": {"g900,u900,private,Delta Group,,,,," + at.Add(-48*time.Hour).UTC().Format(time.RFC3339)},
		"group_members.csv": {
			"g900,u900,owner," + at.Add(-48*time.Hour).UTC().Format(time.RFC3339) + ",",
			"g900,u01,member," + at.Add(-47*time.Hour).UTC().Format(time.RFC3339) + ",",
			"g1,u900,member," + at.Add(-46*time.Hour).UTC().Format(time.RFC3339) + ",",
		},
		"group_messages.csv": {
			"d-1,g900,u900," + ms(-40*time.Hour) + ",text,first of the new group,,,,,,,",
			"d-2,g900,u01," + ms(-39*time.Hour) + ",text,second of the new group,,,,,,,",
			"d-3,g1,u900," + ms(-38*time.Hour) + ",text,a later message in g1,,,,,,,",
		},
		"direct_messages.csv": {
			"d-4,u900,u01," + ms(-37*time.Hour) + ",text,hello from the delta,,,,,,,",
			"d-5,u01,u02," + ms(-36*time.Hour) + ",text,a later message between old friends,,,,,,,",
		},
	}
	appendExport(t, dir, rows)
}

func stateJSON(t *testing.T, srv *sandbox.Server) []byte {
	t.Helper()
	b, err := json.MarshalIndent(srv.State(), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDeltaRun (issue 9 item 1): after a complete run the source grows in every
// entity; the same command imports exactly the new records, and the target ends
// as a single run over the grown source leaves it. A group message older than
// its group's imported history is then reported with its own rule.
func TestDeltaRun(t *testing.T) {
	at := time.Now().Add(-time.Hour).Truncate(time.Second)

	srv, url := e2eSandbox(t, nil)
	dir := t.TempDir()
	mapping := deltaSource(t, dir, url)
	out := filepath.Join(dir, "out")
	code, _, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitOK {
		t.Fatalf("bulk run: exit %d\n%s", code, stderr)
	}
	bulk := stateJSON(t, srv)

	grow(t, dir, at)
	code, stdout, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitOK || !strings.Contains(stderr, "delta (generation 1): 9 new records to import") {
		t.Fatalf("delta run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	delta := stateJSON(t, srv)
	if bytes.Equal(bulk, delta) {
		t.Fatal("the delta run did not change the target")
	}
	// sync.realtime_after holds in a delta run: its one-to-one messages are
	// real-time ones, unread by their recipients (spec §7.1: SyncFromOldSystem 5).
	unread := map[string]int{}
	for _, u := range srv.State().C2CUnread {
		unread[u.UserID+" from "+u.PeerAccount] = u.Count
	}
	if unread["u01 from u900"] != 1 || unread["u02 from u01"] != 1 {
		t.Errorf("unread after the delta: %v; want u01 from u900 and u02 from u01 at 1 (real-time messages)", unread)
	}

	// The same export grown, in one run into another sandbox.
	ref, refURL := e2eSandbox(t, nil)
	refDir := t.TempDir()
	refMapping := deltaSource(t, refDir, refURL)
	grow(t, refDir, at)
	if code, _, stderr := runCLI(t, t.Context(), "run", "-c", refMapping, "--out", filepath.Join(refDir, "out")); code != exitOK {
		t.Fatalf("reference run: exit %d\n%s", code, stderr)
	}
	if want := stateJSON(t, ref); !bytes.Equal(delta, want) {
		t.Errorf("bulk + delta differs from one run over the grown source:\n%s", firstDiff(delta, want))
	}
	var rr struct {
		Entities []struct {
			Entity   string `json:"entity"`
			Imported int64  `json:"imported"`
			Present  int64  `json:"already_present"`
			Rejected int64  `json:"rejected"`
		} `json:"accounting"`
	}
	readJSON(t, filepath.Join(out, "run-report.json"), &rr)
	var refRR = rr
	readJSON(t, filepath.Join(refDir, "out", "run-report.json"), &refRR)
	if fmt.Sprint(rr.Entities) != fmt.Sprint(refRR.Entities) || len(rr.Entities) == 0 {
		t.Errorf("counts after bulk + delta %v, one run over the grown source %v", rr.Entities, refRR.Entities)
	}

	// Nothing new: the next run changes nothing.
	code, _, stderr = runCLI(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitOK || strings.Contains(stderr, "delta (") {
		t.Fatalf("run after the delta: exit %d\n%s", code, stderr)
	}
	if !bytes.Equal(stateJSON(t, srv), delta) {
		t.Error("a run over an unchanged source changed the target")
	}

	// A second delta: it is cut against the full plan the first was cut from, so
	// it knows what generation 0 imported.
	grow2(t, dir, at)
	code, stdout, stderr = runCLI(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitOK || !strings.Contains(stderr, "delta (generation 2): 6 new records to import") {
		t.Fatalf("second delta: exit %d\n%s\n%s", code, stdout, stderr)
	}
	second := stateJSON(t, srv)
	ref2, ref2URL := e2eSandbox(t, nil)
	ref2Dir := t.TempDir()
	ref2Mapping := deltaSource(t, ref2Dir, ref2URL)
	grow(t, ref2Dir, at)
	grow2(t, ref2Dir, at)
	if code, _, stderr := runCLI(t, t.Context(), "run", "-c", ref2Mapping, "--out", filepath.Join(ref2Dir, "out")); code != exitOK {
		t.Fatalf("reference run: exit %d\n%s", code, stderr)
	}
	if want := stateJSON(t, ref2); !bytes.Equal(second, want) {
		t.Errorf("bulk + two deltas differ from one run over the twice grown source:\n%s", firstDiff(second, want))
	}
	readJSON(t, filepath.Join(out, "run-report.json"), &rr)
	readJSON(t, filepath.Join(ref2Dir, "out", "run-report.json"), &refRR)
	if fmt.Sprint(rr.Entities) != fmt.Sprint(refRR.Entities) {
		t.Errorf("counts after bulk + two deltas %v, one run over the twice grown source %v", rr.Entities, refRR.Entities)
	}

	// Verify compares with the whole source, not the delta plan's share.
	code, doc, log := verifyCLI(t, mapping, out)
	if code != exitOK || !doc.OK {
		t.Fatalf("verify after two deltas: exit %d\n%s", code, log)
	}
	if c := doc.Result.Counts(extract.Users); c.Expected != 32 || c.Present != 32 {
		t.Errorf("verify after two deltas, users: %+v; want the 30 + 2 of every generation", c)
	}
	if c := doc.Result.Counts(extract.DirectMessages); c.Present != 154 {
		t.Errorf("verify after two deltas, direct messages: %+v; want 150 + 2 + 2 present", c)
	}

	// A group message older than its group's imported history can no longer be
	// placed (spec §8.9): the third delta reports it with its own rule.
	appendExport(t, dir, map[string][]string{
		"group_messages.csv": {fmt.Sprintf("d-20,g1,u01,%d,text,late arrival,,,,,,,", at.Add(-35*time.Hour).UnixMilli())},
	})
	code, stdout, stderr = runCLI(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitRejected || !strings.Contains(stderr, "delta (generation 3): 0 new records to import") ||
		!strings.Contains(stderr, "1 new group messages can no longer be placed") {
		t.Fatalf("third delta: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !bytes.Equal(stateJSON(t, srv), second) {
		t.Error("the refused message changed the target")
	}
	rej, err := os.ReadFile(filepath.Join(out, "rejects.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rej), `"legacy_id":"d-20"`) || !strings.Contains(string(rej), `"rule":"group_message.before_imported"`) {
		t.Errorf("rejects.jsonl does not name d-20 with group_message.before_imported:\n%s", rej)
	}
	// Verify knows it as rejected, not missing.
	code, doc, log = verifyCLI(t, mapping, out)
	if c := doc.Result.Counts(extract.GroupMessages); code != exitOK || c.Rejected != 1 || c.Missing != 0 {
		t.Errorf("verify after the refused message: exit %d, group messages %+v\n%s", code, c, log)
	}
}

// grow2 appends a second growth to the export in dir: a new user who joins the
// new group, later messages in the new group and in g1, a new conversation and a
// later message in an old one.
func grow2(t *testing.T, dir string, at time.Time) {
	t.Helper()
	ms := func(d time.Duration) string { return fmt.Sprint(at.Add(d).UnixMilli()) }
	appendExport(t, dir, map[string][]string{
		"users.csv":         {"u901,Second Delta,,1664426389"},
		"group_members.csv": {"g900,u901,member," + at.Add(-32*time.Hour).UTC().Format(time.RFC3339) + ","},
		"group_messages.csv": {
			"d-10,g900,u901," + ms(-30*time.Hour) + ",text,hello from the second delta,,,,,,,",
			"d-11,g1,u01," + ms(-29*time.Hour) + ",text,g1 goes on,,,,,,,",
		},
		"direct_messages.csv": {
			"d-12,u901,u900," + ms(-28*time.Hour) + ",text,second delta conversation,,,,,,,",
			"d-13,u02,u01," + ms(-27*time.Hour) + ",text,and an old one goes on,,,,,,,",
		},
	})
}

func appendExport(t *testing.T, dir string, rows map[string][]string) {
	t.Helper()
	for name, lines := range rows {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < min(len(la), len(lb)); i++ {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n  got  %s\n  want %s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(la), len(lb))
}

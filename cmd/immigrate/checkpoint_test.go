package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/extract/synth"
	"github.com/immigrate/immigrate/internal/pgtest"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/migration"
	"github.com/immigrate/immigrate/report"
	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// TestStatusReport: status prints each phase's progress, the refused groups and
// the calls in doubt from a checkpoint, and says whether the mapping changed.
func TestStatusReport(t *testing.T) {
	dir := t.TempDir()
	f := &mappings.File{
		Source: mappings.Source{CSV: &mappings.CSVSource{Dir: dir}},
		Target: mappings.Target{Endpoint: "http://127.0.0.1:9", SDKAppID: 1400000000},
	}
	loc := migration.SQLiteLocation(filepath.Join(dir, "checkpoint.db"))
	if _, err := loc.Open(t.Context(), true); !errors.Is(err, migration.ErrNoCheckpoint) {
		t.Fatalf("open of a missing checkpoint: %v, want migration.ErrNoCheckpoint", err)
	}
	store, err := loc.Open(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Begin(t.Context(), checkpoint.Manifest{MappingHash: f.Hash(), Source: migration.SourceIdentity(f), Target: migration.TargetIdentity(f)}, checkpoint.BeginOptions{}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	err = store.Apply(t.Context(), &checkpoint.Batch{
		Marks: []checkpoint.Mark{
			{Phase: string(load.PhaseAccounts), Ordinal: 99, LegacyID: "u99"},
			{Phase: string(load.PhaseGroupMessages), Stream: "g1", Ordinal: 13, LegacyID: "m13"},
			{Phase: string(load.PhaseGroupMessages), Stream: "g2", Ordinal: 6, LegacyID: "m26"},
			{Phase: load.PhaseFailedGroups, Stream: "@TGS#bad", LegacyID: "bad"},
		},
		Intents: []checkpoint.Intent{{Phase: string(load.PhaseGroupMessages), Stream: "g2", First: 7, Last: 13, FirstID: "m27", LastID: "m33"}},
		Done:    []checkpoint.PhaseDone{{Phase: string(load.PhaseAccounts), At: at}},
		Rejects: []checkpoint.Reject{{Entity: "groups", LegacyID: "bad", Rule: "target.10004"}},
		Counts: []checkpoint.PhaseCount{
			{Phase: string(load.PhaseAccounts), Counts: checkpoint.Counts{Imported: 98, Present: 2}},
			{Phase: string(load.PhaseGroupMessages), Counts: checkpoint.Counts{Imported: 20, Rejected: 1}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := report.ReadStatus(t.Context(), store)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		edit func(f *mappings.File)
		want []string
	}{
		{"unchanged", func(*mappings.File) {}, []string{
			"target      sdkappid 1400000000 at http://127.0.0.1:9\n",
			"(the mapping is unchanged)",
			`(?m)^accounts +done ` + at.Local().Format(time.TimeOnly) + ` +98 +2 +0 +- +0 +$`,
			`(?m)^groups +pending +0 +0 +0 +- +0 +$`,
			`(?m)^group_messages +in progress +20 +0 +1 +2 +1 +$`,
			`(?m)^direct_messages +pending +0 +0 +0 +0 +0 +$`,
			`1 group\(s\) refused by the target`,
			`1 group-message call\(s\) in doubt`,
			`group "g2": messages 7\.\.13 \(m27 \.\. m33\)`,
			`1 load reject\(s\) recorded`,
			"resumes where the last run stopped",
		}},
		{"mapping changed", func(f *mappings.File) { f.IDs.GroupIDPrefix = "x_" }, []string{`the mapping changed since: run refuses to resume without --force`}},
		{"target changed", func(f *mappings.File) { f.Target.Endpoint = "http://127.0.0.1:10" }, []string{`the mapping now names sdkappid 1400000000 at http://127\.0\.0\.1:10`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := *f
			tt.edit(&g)
			var b bytes.Buffer
			st.Write(&b, report.StatusContext{Location: loc.String(), Target: migration.TargetIdentity(&g), MappingHash: g.Hash()})
			for _, w := range tt.want {
				if !regexp.MustCompile(w).MatchString(b.String()) {
					t.Errorf("status lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}

// TestRunWithPostgresCheckpoint: the checkpoint can live in PostgreSQL (the
// schema named by the URL's search_path): a second run resumes from it and finds
// everything done, and status reads it.
func TestRunWithPostgresCheckpoint(t *testing.T) {
	url, schema := pgtest.Schema(t)
	t.Setenv("IMMIGRATE_TEST_CHECKPOINT_URL", url)
	dir := t.TempDir()
	cfg := synth.Config{Seed: 9, Users: 60, Groups: 5, MembersMin: 2, MembersMax: 8, GroupMessages: 200, DirectMessages: 200, BadShare: 0.01}
	if _, err := synth.WriteCSV(t.Context(), cfg, dir); err != nil {
		t.Fatal(err)
	}
	const key = "checkpoint-test-key"
	srv, err := sandbox.New(sandbox.Config{SDKAppID: 1400000000, SecretKey: secret.New(key), Admins: []string{"administrator"}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	b, err := os.ReadFile(filepath.Join(dir, "csv.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "\ntarget:\n")
	end := strings.Index(s[start+1:], "\n\n")
	s = s[:start] + fmt.Sprintf("\ntarget:\n  endpoint: %s\n  sdkappid: 1400000000\n  secret_key: %s\n", hs.URL, key) + s[start+1+end+1:] +
		"\ncheckpoint:\n  postgres: \"${IMMIGRATE_TEST_CHECKPOINT_URL}\"\n" +
		"load:\n  rates: {account_import: 50000, multiaccount_import: 50000, import_group: 50000, import_group_member: 50000, import_group_msg: 50000, set_unread_msg_num: 50000, importmsg: 50000}\n"
	mapping := filepath.Join(dir, "pg-checkpoint.yaml")
	if err := os.WriteFile(mapping, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")

	code, _, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitRejected || !strings.Contains(stderr, "checkpoint PostgreSQL schema "+schema+": new") {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	first, err := json.Marshal(srv.State())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, mappings.CheckpointFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a SQLite checkpoint was written too: %v", err)
	}
	code, stdout, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitRejected || !strings.Contains(stderr, "resuming the migration") {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "rejected") {
		t.Errorf("second run printed no summary:\n%s", stdout)
	}
	second, err := json.Marshal(srv.State())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Error("the second run changed the target")
	}
	code, stdout, stderr = runCLI(t, t.Context(), "status", "-c", mapping, "--out", out)
	if code != exitOK || !strings.Contains(stdout, "PostgreSQL schema "+schema) || !strings.Contains(stdout, "2 run(s)") ||
		!strings.Contains(stdout, "the migration is complete, and the source has nothing more") {
		t.Errorf("status: exit %d\n%s%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, key) {
		t.Error("the secret key appears in the output")
	}

	// The source grows: status tells "complete as of the last run" from "the
	// source has nothing more", naming the part that changed.
	dm, err := os.OpenFile(filepath.Join(dir, "direct_messages.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dm.WriteString("grown-1,u1,u2,1730258199552,text,one more,,,,,,,\n"); err != nil {
		t.Fatal(err)
	}
	if err := dm.Close(); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, t.Context(), "status", "-c", mapping, "--out", out)
	if code != exitOK || !strings.Contains(stdout, "the source has more (or other) data than the plan of") ||
		!strings.Contains(stdout, "direct_messages") || !strings.Contains(stdout, "complete as of the last run, but the source has changed since") {
		t.Errorf("status after the source grew: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, t.Context(), "status", "-c", mapping, "--out", out, "--no-source")
	if code != exitOK || strings.Contains(stdout, "source has") || !strings.Contains(stdout, "complete as of the last run") {
		t.Errorf("status --no-source: exit %d\n%s", code, stdout)
	}
}

// TestRunStoppedByConfigLeavesNoCheckpoint: a run that stops before importing
// anything, on a mistake in the mapping (here a misspelt file name), must not leave
// a checkpoint behind that then refuses the corrected mapping as "another
// migration". The newcomer's natural sequence — run, fix the typo, run again —
// must simply work.
func TestRunStoppedByConfigLeavesNoCheckpoint(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte("id,nick\nu1,Alice\nu2,Bob\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, url := e2eSandbox(t, nil)
	mapping := filepath.Join(dir, "m.yaml")
	write := func(file string) {
		t.Helper()
		s := fmt.Sprintf("version: 1\nsource: {csv: {dir: .}}\ntarget:\n  endpoint: %s\n  sdkappid: %d\n  secret_key: %s\n  admin: %s\n"+
			"entities:\n  users: {file: %s}\n", url, e2eSDKAppID, e2eKey, e2eAdmin, file)
		if err := os.WriteFile(mapping, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("user.csv")
	if code, _, stderr := runCLI(t, t.Context(), "run", "-c", mapping); code != exitUsage || !strings.Contains(stderr, "user.csv") {
		t.Fatalf("run with a misspelt file: exit %d, want %d naming the file\n%s", code, exitUsage, stderr)
	}
	write("users.csv")
	code, _, stderr := runCLI(t, t.Context(), "run", "-c", mapping)
	if code != exitOK {
		t.Fatalf("run with the corrected mapping: exit %d, want %d\n%s", code, exitOK, stderr)
	}
	if n := len(srv.State().Accounts); n != 2 {
		t.Errorf("the sandbox holds %d accounts, want 2", n)
	}
}

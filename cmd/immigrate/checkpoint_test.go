package main

import (
	"bytes"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/tencentim"
)

func TestLocateCheckpoint(t *testing.T) {
	dir := t.TempDir()
	def := filepath.Join(dir, "immigrate-out", mappings.CheckpointFile)
	tests := []struct {
		name string
		cp   mappings.Checkpoint
		out  string
		want string
	}{
		{"default", mappings.Checkpoint{SQLite: def}, "", def},
		{"--out moves the default", mappings.Checkpoint{SQLite: def}, filepath.Join(dir, "elsewhere"), filepath.Join(dir, "elsewhere", mappings.CheckpointFile)},
		{"--out keeps an explicit file", mappings.Checkpoint{SQLite: "/var/lib/cp.db"}, filepath.Join(dir, "elsewhere"), "/var/lib/cp.db"},
		{"postgres", mappings.Checkpoint{Postgres: tencentim.NewSecret("postgres://u:hunter2@db/x")}, "", "PostgreSQL schema " + checkpointSchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &mappings.File{Output: filepath.Join(dir, "immigrate-out"), Checkpoint: tt.cp}
			if got := locateCheckpoint(f, tt.out).String(); got != tt.want {
				t.Errorf("location %q, want %q", got, tt.want)
			}
		})
	}
}

// TestIdentitiesHoldNoSecret: the manifest's source and target identities are
// stored in the checkpoint and printed by status, so they never carry a secret.
func TestIdentitiesHoldNoSecret(t *testing.T) {
	tests := []struct {
		name           string
		f              mappings.File
		source, target string
	}{
		{"postgres and region",
			mappings.File{Source: mappings.Source{Postgres: &mappings.PostgresSource{URL: tencentim.NewSecret("postgres://app:hunter2@db.internal:5432/legacy?sslmode=require")}},
				Target: mappings.Target{Region: "singapore", SDKAppID: 1400000001, SecretKey: tencentim.NewSecret("hunter2")}},
			"postgres:db.internal:5432/legacy", "sdkappid 1400000001 in region singapore"},
		{"csv and endpoint",
			mappings.File{Source: mappings.Source{CSV: &mappings.CSVSource{Dir: "/data/export"}},
				Target: mappings.Target{Endpoint: "http://127.0.0.1:8080/", SDKAppID: 1400000000, SecretKey: tencentim.NewSecret("hunter2")}},
			"csv:/data/export", "sdkappid 1400000000 at http://127.0.0.1:8080"},
		{"embedded sandbox",
			mappings.File{Source: mappings.Source{CSV: &mappings.CSVSource{Dir: "d"}}, Target: mappings.Target{Sandbox: mappings.SandboxEmbedded, SDKAppID: 1400000000}},
			"csv:d", "embedded sandbox, sdkappid 1400000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, tg := sourceIdentity(&tt.f), targetIdentity(&tt.f)
			if src != tt.source || tg != tt.target {
				t.Errorf("identities %q, %q; want %q, %q", src, tg, tt.source, tt.target)
			}
			if strings.Contains(src+tg, "hunter2") {
				t.Error("an identity holds the secret")
			}
		})
	}
}

// TestStatusReport: status prints each phase's progress, the refused groups and
// the calls in doubt from a checkpoint, and says whether the mapping changed.
func TestStatusReport(t *testing.T) {
	dir := t.TempDir()
	f := &mappings.File{
		Source: mappings.Source{CSV: &mappings.CSVSource{Dir: dir}},
		Target: mappings.Target{Endpoint: "http://127.0.0.1:9", SDKAppID: 1400000000},
	}
	loc := checkpointLocation{sqlite: filepath.Join(dir, "checkpoint.db")}
	if _, err := loc.open(t.Context(), true); !errors.Is(err, errNoCheckpoint) {
		t.Fatalf("open of a missing checkpoint: %v, want errNoCheckpoint", err)
	}
	store, err := loc.open(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Begin(t.Context(), checkpoint.Manifest{MappingHash: f.Hash(), Source: sourceIdentity(f), Target: targetIdentity(f)}, checkpoint.BeginOptions{}); err != nil {
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
	m, err := store.Manifest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	st, err := readStatus(t.Context(), store)
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
			writeStatus(&b, loc, &g, m, st)
			for _, w := range tt.want {
				if !regexp.MustCompile(w).MatchString(b.String()) {
					t.Errorf("status lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}

package migration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/secret"
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
		{"postgres", mappings.Checkpoint{Postgres: secret.New("postgres://u:hunter2@db/x")}, "", "PostgreSQL schema " + CheckpointSchema},
		{"postgres with a schema", mappings.Checkpoint{Postgres: secret.New("postgres://u:hunter2@db/x?search_path=migration_7")}, "", "PostgreSQL schema migration_7"},
		{"postgres with a search path", mappings.Checkpoint{Postgres: secret.New("postgres://u:hunter2@db/x?search_path=a,b")}, "", "PostgreSQL schema " + CheckpointSchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &mappings.File{Output: filepath.Join(dir, "immigrate-out"), Checkpoint: tt.cp}
			if got := LocateCheckpoint(f, tt.out).String(); got != tt.want {
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
			mappings.File{Source: mappings.Source{Postgres: &mappings.PostgresSource{URL: secret.New("postgres://app:hunter2@db.internal:5432/legacy?sslmode=require")}},
				Target: mappings.Target{Region: "singapore", SDKAppID: 1400000001, SecretKey: secret.New("hunter2")}},
			"postgres:db.internal:5432/legacy", "sdkappid 1400000001 in region singapore"},
		{"csv and endpoint",
			mappings.File{Source: mappings.Source{CSV: &mappings.CSVSource{Dir: "/data/export"}},
				Target: mappings.Target{Endpoint: "http://127.0.0.1:8080/", SDKAppID: 1400000000, SecretKey: secret.New("hunter2")}},
			"csv:/data/export", "sdkappid 1400000000 at http://127.0.0.1:8080"},
		{"embedded sandbox",
			mappings.File{Source: mappings.Source{CSV: &mappings.CSVSource{Dir: "d"}}, Target: mappings.Target{Sandbox: mappings.SandboxEmbedded, SDKAppID: 1400000000}},
			"csv:d", "embedded sandbox, sdkappid 1400000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, tg := SourceIdentity(&tt.f), TargetIdentity(&tt.f)
			if src != tt.source || tg != tt.target {
				t.Errorf("identities %q, %q; want %q, %q", src, tg, tt.source, tt.target)
			}
			if strings.Contains(src+tg, "hunter2") {
				t.Error("an identity holds the secret")
			}
		})
	}
}

// TestInterruptedRunWhoseCheckpointIsNotSaved: exit code 130 promises that the
// progress is kept. When Ctrl-C stopped the run but the checkpoint could not be
// saved, the command must say so and not exit 130 with a bare "interrupted".
func TestInterruptedRunWhoseCheckpointIsNotSaved(t *testing.T) {
	loc := CheckpointLocation{sqlite: filepath.Join(t.TempDir(), "checkpoint.db")}
	store, err := loc.Open(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Begin(t.Context(), checkpoint.Manifest{MappingHash: "h", Target: "t"}, checkpoint.BeginOptions{}); err != nil {
		t.Fatal(err)
	}
	w := checkpoint.NewWriter(store, checkpoint.WriterConfig{Interval: time.Hour})
	var stderr bytes.Buffer
	rc := &RunCheckpoint{Loc: loc, store: store, w: w, stderr: &stderr}
	w.MapID(checkpoint.IDMapping{Kind: "users", LegacyID: "a b", TargetID: "a_b"})
	store.Close() // the flush in finish now fails

	err = rc.Finish(fmt.Errorf("run: %w", context.Canceled))
	// Exit code 130 is for errors that are the cancellation (cmd/immigrate).
	if err == nil || errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "save checkpoint") {
		t.Errorf("Finish = %v; want an error that says the checkpoint was not saved, not the cancellation", err)
	}
	if strings.Contains(stderr.String(), "run the same command to resume") {
		t.Errorf("stderr %q says the checkpoint was saved", stderr.String())
	}
}

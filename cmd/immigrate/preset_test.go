package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/immigrate/immigrate/internal/pgtest"
)

// TestPresetMattermost runs mappings/presets/mattermost.yaml, its target
// swapped for the embedded sandbox, against a small Mattermost-shaped database
// (testdata/presets/mattermost/seed.sql: hand-written, not yet the upstream
// migrations) and checks the counts and the reject the seed plants: a deleted
// post and a system post are not read, an empty post is rejected.
func TestPresetMattermost(t *testing.T) {
	url, schema := pgtest.Schema(t)
	seed, err := os.ReadFile(filepath.Join("..", "..", "testdata", "presets", "mattermost", "seed.sql"))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()+"; SET search_path = "+pgx.Identifier{schema}.Sanitize()+";\n"+string(seed)); err != nil {
		t.Fatal(err)
	}
	conn.Close(t.Context())

	preset, err := os.ReadFile(filepath.Join("..", "..", "mappings", "presets", "mattermost.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	target := regexp.MustCompile(`(?m)^target:\n(  .*\n)+`)
	if !target.Match(preset) {
		t.Fatal("preset has no target block")
	}
	m := target.ReplaceAllString(string(preset), "target:\n  sandbox: embedded\n  sdkappid: 1400000000\n  admin: administrator\n  edition: ultimate\n")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "mattermost.yaml")
	if err := os.WriteFile(cfg, []byte(m), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("IMMIGRATE_SOURCE_PG_URL", url)
	code, out, errOut := runCLI(t, t.Context(), "run", "-c", cfg, "--out", filepath.Join(dir, "out"))
	if code != 3 {
		t.Fatalf("exit %d, want 3 (one planted reject)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	all := out + errOut
	for _, want := range []string{
		"2 accounts, 2 groups, 2 group messages, 1 one-to-one messages",
		"group_messages[id=p4]",
		"message.text.empty",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("output lacks %q\n%s", want, all)
		}
	}
}

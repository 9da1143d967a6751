package main

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/immigrate/immigrate/mappings"
)

// presetFiles are the presets in the source tree, by name: what the binary
// must embed, whoever added them.
func presetFiles(t *testing.T) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "..", "mappings", "presets", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no presets in mappings/presets (%v)", err)
	}
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimSuffix(filepath.Base(p), ".yaml")] = b
	}
	return files
}

// TestInitList: `init --list` names every preset of mappings/presets with the
// first line of its header, and `init` without --preset or with an unknown one
// is a usage error listing them.
func TestInitList(t *testing.T) {
	files := presetFiles(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range files {
			if !yield(n) {
				return
			}
		}
	})
	if got := mappings.PresetNames(); !slices.Equal(got, names) {
		t.Fatalf("embedded presets %v, want those of mappings/presets %v", got, names)
	}
	code, stdout, stderr := runCLI(t, t.Context(), "init", "--list")
	if code != exitOK {
		t.Fatalf("init --list: exit %d\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != len(names) {
		t.Fatalf("init --list printed %d lines, want one per preset (%d):\n%s", len(lines), len(names), stdout)
	}
	for i, n := range names {
		summary := mappings.PresetSummary(files[n])
		if f := strings.Fields(lines[i]); len(f) == 0 || f[0] != n || !strings.HasSuffix(lines[i], summary) || summary == "" {
			t.Errorf("init --list line %d = %q, want %s and its summary %q", i+1, lines[i], n, summary)
		}
	}
	for _, args := range [][]string{{"init"}, {"init", "--preset", "no-such-platform"}} {
		code, _, stderr := runCLI(t, t.Context(), args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
		for _, n := range names {
			if !strings.Contains(stderr, n) {
				t.Errorf("%v: the error does not list preset %s:\n%s", args, n, stderr)
			}
		}
	}
}

// TestInitWritesEveryPreset: each preset is written as it is in the source
// tree (it reads its source URL from ${IMMIGRATE_SOURCE_PG_URL}); an existing
// file is kept unless --force.
func TestInitWritesEveryPreset(t *testing.T) {
	for name, want := range presetFiles(t) {
		t.Run(name, func(t *testing.T) {
			if _, err := presetSource(name, want, "postgres://reader@db.internal:5432/chat"); err != nil {
				t.Errorf("the preset does not take its source from ${%s}: %v", presetSourceVar, err)
			}
			out := filepath.Join(t.TempDir(), "m.yaml")
			code, stdout, stderr := runCLI(t, t.Context(), "init", "--preset", name, "--out", out)
			if code != exitOK {
				t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
			}
			if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("wrote %d bytes (%v), want the preset's %d", len(got), err, len(want))
			}
			if !strings.Contains(stdout, presetSourceVar) {
				t.Errorf("stdout does not tell to export %s:\n%s", presetSourceVar, stdout)
			}
			if err := os.WriteFile(out, []byte("mine\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, stderr = runCLI(t, t.Context(), "init", "--preset", name, "--out", out)
			if got, _ := os.ReadFile(out); code != exitUsage || string(got) != "mine\n" || !strings.Contains(stderr, "--force") {
				t.Errorf("over an existing file: exit %d, file %q, stderr %q; want %d, the file kept, a hint at --force", code, got, stderr, exitUsage)
			}
			code, _, stderr = runCLI(t, t.Context(), "init", "--preset", name, "--out", out, "--force")
			if got, _ := os.ReadFile(out); code != exitOK || !bytes.Equal(got, want) {
				t.Errorf("--force: exit %d (%s), file of %d bytes; want %d and the preset", code, stderr, len(got), exitOK)
			}
		})
	}
}

// withPassword is u with a password in it. The test server trusts local
// connections, so the password is never checked: it is there to be looked for.
func withPassword(t *testing.T, u, password string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	p.User = url.UserPassword(p.User.Username(), password)
	return p.String()
}

// TestInitPostgresMattermost: init --pg on a database in Mattermost's schema
// reports each entity's row count (those validate reads) and writes the preset
// without the URL or its password.
func TestInitPostgresMattermost(t *testing.T) {
	const password = "pw-never-written-7b1e"
	pg := withPassword(t, mattermostDB(t), password)
	out := filepath.Join(t.TempDir(), "mattermost.yaml")
	code, stdout, stderr := runCLI(t, t.Context(), "init", "--preset", "mattermost", "--pg", pg, "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// The rows each query returns (TestPresetMattermost's "read" counts).
	for entity, rows := range map[string]string{"users": "6", "groups": "6", "group_members": "16", "group_messages": "18", "direct_messages": "5"} {
		found := false
		for _, line := range strings.Split(stdout, "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == entity && f[1] == rows {
				found = true
			}
		}
		if !found {
			t.Errorf("stdout lacks %s with %s rows:\n%s", entity, rows, stdout)
		}
	}
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(written, []byte("${"+presetSourceVar+"}")) {
		t.Errorf("the mapping does not read its URL from ${%s}", presetSourceVar)
	}
	for what, s := range map[string]string{"the mapping": string(written), "stdout": stdout, "stderr": stderr} {
		if strings.Contains(s, password) || strings.Contains(s, "127.0.0.1") {
			t.Errorf("%s holds the --pg URL or its password", what)
		}
	}
}

// TestInitPostgresMissing: a database whose schema lacks what the preset
// reads (an older or trimmed Mattermost: no posts.editat, no reactions table)
// gets a usage error naming each failing entity and what is missing; the
// other entities are still counted and the mapping is written, to be edited.
func TestInitPostgresMissing(t *testing.T) {
	pg := mattermostDB(t)
	conn, err := pgx.Connect(t.Context(), pg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), "DROP TABLE reactions; ALTER TABLE channelmembers DROP COLUMN schemeadmin"); err != nil {
		t.Fatal(err)
	}
	conn.Close(t.Context())
	out := filepath.Join(t.TempDir(), "mattermost.yaml")
	code, stdout, stderr := runCLI(t, t.Context(), "init", "--preset", "mattermost", "--pg", pg, "--out", out)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitUsage, stdout, stderr)
	}
	for _, want := range []string{
		"4 of the preset's entity queries",
		"groups: query:", "group_members: query:", "schemeadmin",
		"group_messages: query:", "direct_messages: query:", `"reactions" does not exist`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "users: query:") {
		t.Errorf("users' query runs, yet it is reported:\n%s", stderr)
	}
	if !strings.Contains(stdout, "users") || !strings.Contains(stdout, "query fails") {
		t.Errorf("stdout lacks the per-entity table:\n%s", stdout)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("the mapping was not written: %v", err)
	}
}

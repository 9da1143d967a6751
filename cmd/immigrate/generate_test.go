package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerateCommand(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, context.Background(), "generate", "--out", dir, "--users", "30", "--groups", "3",
		"--group-messages", "300", "--direct-messages", "200", "--bad-share", "0", "--bad", "direct_message_self=0.005", "--seed", "9")
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	if !strings.Contains(stdout, "1 planted") {
		t.Errorf("stdout %q: want exactly the one planted self-conversation", stdout)
	}
	for _, name := range []string{"users.csv", "groups.csv", "group_members.csv", "group_messages.csv", "direct_messages.csv",
		"planted.jsonl", "csv.yaml", "postgres.yaml", "schema.sql"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	code, _, stderr = runCLI(t, context.Background(), "validate", "-c", filepath.Join(dir, "csv.yaml"), "--out", filepath.Join(dir, "out"))
	if code != exitRejected {
		t.Errorf("validate of the generated data: exit %d, want %d; stderr %s", code, exitRejected, stderr)
	}
}

func TestGenerateUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		say  string
	}{
		{"no out", []string{"generate"}, "--out"},
		{"bad kind spec", []string{"generate", "--out", t.TempDir(), "--bad", "oops"}, "KIND=SHARE"},
		{"unknown kind", []string{"generate", "--out", t.TempDir(), "--bad", "nope=0.1"}, `"nope"`},
		{"one user", []string{"generate", "--out", t.TempDir(), "--users", "1"}, "at least 2"},
		{"bad time", []string{"generate", "--out", t.TempDir(), "--start", "soon"}, "soon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, context.Background(), tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.say) {
				t.Errorf("exit %d, stderr %q; want %d mentioning %q", code, stderr, exitUsage, tt.say)
			}
		})
	}
}

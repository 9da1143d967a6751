//go:build linux

package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/immigrate/immigrate/report"
)

// fsizeChildEnv makes the test binary, run as TestFileSizeLimitChild, run the CLI
// with the arguments after "--" under RLIMIT_FSIZE of that many bytes.
const fsizeChildEnv = "IMMIGRATE_TEST_FSIZE_LIMIT"

// TestFileSizeLimitChild is the child of TestValidateOnAFullDisk, not a test of its
// own: a file-size limit is a real write failure (EFBIG once SIGXFSZ is ignored),
// as a nearly full disk is, without root for a tiny file system.
func TestFileSizeLimitChild(t *testing.T) {
	limit := os.Getenv(fsizeChildEnv)
	if limit == "" {
		t.Skip("the child process of TestValidateOnAFullDisk")
	}
	n, err := strconv.ParseUint(limit, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	signal.Ignore(syscall.SIGXFSZ)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
		t.Fatal(err)
	}
	os.Exit(run(context.Background(), append([]string{"immigrate"}, flag.Args()...), os.Stdout, os.Stderr))
}

// TestValidateOnAFullDisk: `immigrate validate` whose report.json cannot be written
// whole fails (exit 1), and leaves the previous reports as they were, with no
// temporary file; nothing in the output directory is half written (issue 13).
func TestValidateOnAFullDisk(t *testing.T) {
	out := t.TempDir()
	mapping := "../../testdata/demo/csv.yaml"
	// A first validate writes the reports: rejects.jsonl 13 kB, report.md 24 kB,
	// report.json 35 kB.
	if code, _, stderr := runCLI(t, context.Background(), "validate", "-c", mapping, "--out", out); code != exitRejected {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	before := map[string]string{}
	for _, name := range []string{report.RejectsFileName, report.ValidateMarkdownFile, report.ValidateJSONFile} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		// Marked, so that a rewrite with the same content shows.
		before[name] = "previous\n" + string(b)
	}
	reset := func() {
		for name, b := range before {
			if err := os.WriteFile(filepath.Join(out, name), []byte(b), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(before[report.ValidateJSONFile]) < 30_000 || len(before[report.ValidateMarkdownFile]) > 30_000 || len(before[report.RejectsFileName]) > 30_000 {
		t.Fatalf("the demo's reports changed size (%d, %d, %d bytes): choose another limit",
			len(before[report.RejectsFileName]), len(before[report.ValidateMarkdownFile]), len(before[report.ValidateJSONFile]))
	}

	for _, tc := range []struct {
		name  string
		limit int
	}{
		{"report.json does not fit", 30_000}, // rejects.jsonl and report.md would
		{"rejects.jsonl does not fit", 4_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reset()
			cmd := exec.Command(os.Args[0], "-test.run=^TestFileSizeLimitChild$", "--", "validate", "-c", mapping, "--out", out)
			cmd.Env = append(os.Environ(), fsizeChildEnv+"="+strconv.Itoa(tc.limit))
			combined, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitError {
				t.Fatalf("validate under a %d-byte file limit: %v, want exit %d\n%s", tc.limit, err, exitError, combined)
			}
			if !strings.Contains(string(combined), "file too large") {
				t.Errorf("the output does not say why:\n%s", combined)
			}
			ents, err := os.ReadDir(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				want, ok := before[e.Name()]
				if !ok {
					t.Errorf("left behind %s", e.Name())
					continue
				}
				b, err := os.ReadFile(filepath.Join(out, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if string(b) != want {
					t.Errorf("%s changed: %d bytes, was %d", e.Name(), len(b), len(want))
				}
			}
		})
	}
}

package atomicfile_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/internal/atomicfile"
)

// leftovers lists the files of dir other than the names given.
func leftovers(t *testing.T, dir string, names ...string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !slices.Contains(names, e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteFile(t *testing.T) {
	errDiskFull := errors.New("disk full")
	for _, tc := range []struct {
		name    string
		old     bool // a previous file exists
		write   func(io.Writer) error
		want    string
		wantErr error
	}{
		{"new file", false, func(w io.Writer) error { _, err := io.WriteString(w, "new report\n"); return err }, "new report\n", nil},
		{"replaces", true, func(w io.Writer) error { _, err := io.WriteString(w, "new report\n"); return err }, "new report\n", nil},
		// A write that fails halfway, as on a full disk, after part of the
		// content: it must not show, in the file or in a temporary one.
		{"fails after some bytes", true, func(w io.Writer) error {
			if _, err := io.WriteString(w, strings.Repeat("x", 100<<10)); err != nil {
				return err
			}
			return errDiskFull
		}, "old report\n", errDiskFull},
		{"fails on a new file", false, func(w io.Writer) error { io.WriteString(w, "half"); return errDiskFull }, "", errDiskFull},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "report.json")
			if tc.old {
				if err := os.WriteFile(path, []byte("old report\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := atomicfile.WriteFile(path, 0o644, tc.write)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.want == "" {
				if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the failed write created the file (%v)", err)
				}
			} else if got := readFile(t, path); got != tc.want {
				t.Errorf("file holds %q, want %q", got, tc.want)
			}
			if err == nil {
				if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
					t.Errorf("mode %v, want 0644", fi.Mode().Perm())
				}
			}
			if extra := leftovers(t, dir, "report.json"); len(extra) > 0 {
				t.Errorf("left behind %v", extra)
			}
		})
	}
}

// TestFileAbort: what is written shows at the path only on Commit, and not at all
// after Abort.
func TestFileAbort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rejects.jsonl")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := atomicfile.Create(path, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("new\n")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "old\n" {
		t.Errorf("before Commit the file holds %q", got)
	}
	f.Abort()
	if err := f.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	if _, err := f.Write([]byte("more\n")); err == nil {
		t.Error("Write after Abort succeeded")
	}
	if got := readFile(t, path); got != "old\n" {
		t.Errorf("after Abort the file holds %q", got)
	}
	if extra := leftovers(t, dir, "rejects.jsonl"); len(extra) > 0 {
		t.Errorf("left behind %v", extra)
	}

	f, err = atomicfile.Create(path, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("new\n"))
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Abort() // a no-op after Commit: the deferred call of an error path
	if got := readFile(t, path); got != "new\n" {
		t.Errorf("after Commit the file holds %q", got)
	}
}

// TestCommitFailure: a rename that cannot happen (the path is a directory) keeps
// what is there and removes the temporary file.
func TestCommitFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.md")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := atomicfile.WriteFile(path, 0o644, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err })
	if err == nil {
		t.Fatal("renaming over a non-empty directory succeeded")
	}
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		t.Errorf("the directory is gone: %v", err)
	}
	if extra := leftovers(t, dir, "report.md"); len(extra) > 0 {
		t.Errorf("left behind %v", extra)
	}
}

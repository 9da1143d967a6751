package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestFirstContact (issue 9 item 2): a complete run, then the checkpoint is
// deleted and the same command runs again against the populated target: it
// learns what the target holds and counts all of it as already present, never as
// imported or rejected, and the target does not change.
func TestFirstContact(t *testing.T) {
	srv, url := e2eSandbox(t, nil)
	dir := t.TempDir()
	mapping := deltaSource(t, dir, url)
	out := filepath.Join(dir, "out")
	if code, _, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	before := stateJSON(t, srv)
	var first struct {
		Entities []accountingRow `json:"accounting"`
	}
	readJSON(t, filepath.Join(out, "run-report.json"), &first)

	for _, name := range []string{"checkpoint.db", "checkpoint.db-wal", "checkpoint.db-shm"} {
		os.Remove(filepath.Join(out, name))
	}
	code, stdout, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitOK {
		t.Fatalf("run against the populated target: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !bytes.Equal(stateJSON(t, srv), before) {
		t.Errorf("the run against the populated target changed it:\n%s", firstDiff(stateJSON(t, srv), before))
	}
	var again struct {
		Entities []accountingRow `json:"accounting"`
	}
	readJSON(t, filepath.Join(out, "run-report.json"), &again)
	if len(again.Entities) != len(first.Entities) {
		t.Fatalf("accounting %v, the first run's %v", again.Entities, first.Entities)
	}
	for i, a := range again.Entities {
		w := first.Entities[i]
		if a.Entity != w.Entity || a.Imported != 0 || a.Rejected != w.Rejected || a.Present != w.Imported+w.Present {
			t.Errorf("%s: imported %d, already present %d, rejected %d; want 0, %d (all the first run imported), %d",
				a.Entity, a.Imported, a.Present, a.Rejected, w.Imported+w.Present, w.Rejected)
		}
	}
	t.Log(fmt.Sprint(again.Entities))
}

type accountingRow struct {
	Entity   string `json:"entity"`
	Imported int64  `json:"imported"`
	Present  int64  `json:"already_present"`
	Rejected int64  `json:"rejected"`
}

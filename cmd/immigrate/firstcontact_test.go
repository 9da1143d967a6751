package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract/synth"
)

// TestFirstContact (issue 9 item 2): a complete run, then the checkpoint is
// deleted and the same command runs again against the populated target. The run
// learns what the target holds and counts it as already present, never as
// imported or rejected, and the target does not change. One-to-one history older
// than the roaming retention cannot be read back: it is sent (the target's dedup
// drops it) and the summary says so.
func TestFirstContact(t *testing.T) {
	for _, tc := range []struct {
		name     string
		roaming  int  // target.roaming_days
		readable bool // the one-to-one history is within the retention
	}{
		{"history within the retention", 36500, true},
		{"history past the retention", 7, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, url := e2eSandbox(t, nil)
			dir := t.TempDir()
			cfg := synth.Config{Seed: 11, Users: 30, Groups: 4, MembersMin: 2, MembersMax: 8, GroupMessages: 120, DirectMessages: 150, Friends: 40}
			if _, err := synth.WriteCSV(t.Context(), cfg, dir); err != nil {
				t.Fatal(err)
			}
			mapping := pointAt(t, filepath.Join(dir, "csv.yaml"), url, func(s string) string {
				return strings.Replace(s, "  edition: pro\n", fmt.Sprintf("  edition: pro\n  roaming_days: %d\n", tc.roaming), 1)
			})
			out := filepath.Join(dir, "out")
			if code, _, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out); code != exitOK {
				t.Fatalf("first run: exit %d\n%s", code, stderr)
			}
			before := stateJSON(t, srv)
			var first, again struct {
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
			readJSON(t, filepath.Join(out, "run-report.json"), &again)
			_, st, _ := runCLI(t, t.Context(), "status", "-c", mapping, "--out", out)
			if !strings.Contains(st, "the target held accounts before this migration") || !strings.Contains(st, "4 group(s) and topic(s) were in the target before") {
				t.Errorf("status does not say what the run found in the target:\n%s", st)
			}
			if len(again.Entities) != len(first.Entities) {
				t.Fatalf("accounting %v, the first run's %v", again.Entities, first.Entities)
			}
			for i, a := range again.Entities {
				w := first.Entities[i]
				wantPresent, wantImported := w.Imported+w.Present, int64(0)
				if a.Entity == "direct_messages" && !tc.readable {
					wantPresent, wantImported = 0, w.Imported+w.Present
				}
				if a.Entity != w.Entity || a.Imported != wantImported || a.Rejected != w.Rejected || a.Present != wantPresent {
					t.Errorf("%s: imported %d, already present %d, rejected %d; want %d, %d, %d",
						a.Entity, a.Imported, a.Present, a.Rejected, wantImported, wantPresent, w.Rejected)
				}
			}
			t.Logf("accounting %v", again.Entities)
			past := strings.Contains(stdout, "150 one-to-one messages older than its roaming retention")
			if past == tc.readable {
				t.Errorf("summary (past the retention: %v):\n%s", !tc.readable, stdout)
			}
		})
	}
}

type accountingRow struct {
	Entity   string `json:"entity"`
	Imported int64  `json:"imported"`
	Present  int64  `json:"already_present"`
	Rejected int64  `json:"rejected"`
}

// TestFirstContactPartial: the target holds the migration as it stood before the
// source grew (a bulk run whose checkpoint was then lost); a run with a new
// checkpoint over the grown source imports exactly what is missing and counts
// the rest as already present: the target ends as one run over the grown source
// leaves it.
func TestFirstContactPartial(t *testing.T) {
	at := time.Now().Add(-time.Hour).Truncate(time.Second)
	srv, url := e2eSandbox(t, nil)
	dir := t.TempDir()
	mapping := deltaSource(t, dir, url)
	mapping = roamingForever(t, mapping)
	out := filepath.Join(dir, "out")
	if code, _, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out); code != exitOK {
		t.Fatalf("bulk run: exit %d\n%s", code, stderr)
	}
	var bulk, again, ref struct {
		Entities []accountingRow `json:"accounting"`
	}
	readJSON(t, filepath.Join(out, "run-report.json"), &bulk)
	grow(t, dir, at)
	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitOK {
		t.Fatalf("run over the grown source against the populated target: exit %d\n%s\n%s", code, stdout, stderr)
	}
	readJSON(t, filepath.Join(out, "run-report.json"), &again)

	refSrv, refURL := e2eSandbox(t, nil)
	refDir := t.TempDir()
	refMapping := roamingForever(t, deltaSource(t, refDir, refURL))
	grow(t, refDir, at)
	if code, _, stderr := runCLI(t, t.Context(), "run", "-c", refMapping, "--out", filepath.Join(refDir, "out")); code != exitOK {
		t.Fatalf("reference run: exit %d\n%s", code, stderr)
	}
	readJSON(t, filepath.Join(refDir, "out", "run-report.json"), &ref)
	if got, want := stateJSON(t, srv), stateJSON(t, refSrv); !bytes.Equal(got, want) {
		t.Errorf("the target differs from one run over the grown source:\n%s", firstDiff(got, want))
	}
	for i, a := range again.Entities {
		b, r := bulk.Entities[i], ref.Entities[i]
		if a.Present != b.Imported || a.Imported != r.Imported-b.Imported || a.Rejected != r.Rejected {
			t.Errorf("%s: imported %d, already present %d, rejected %d; want %d new, the bulk run's %d present, %d rejected",
				a.Entity, a.Imported, a.Present, a.Rejected, r.Imported-b.Imported, b.Imported, r.Rejected)
		}
	}
}

// roamingForever sets the mapping's roaming retention far beyond the data's age,
// so that one-to-one history can be read back.
func roamingForever(t *testing.T, mapping string) string {
	t.Helper()
	b, err := os.ReadFile(mapping)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "  edition: pro\n", "  edition: pro\n  roaming_days: 36500\n", 1)
	if err := os.WriteFile(mapping, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return mapping
}

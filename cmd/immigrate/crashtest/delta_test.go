package crashtest

import (
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The message files of the export, and the column of their send time (the
// synthetic exporter's sent_ms, milliseconds).
var deltaFiles = map[string]int{"group_messages.csv": 3, "direct_messages.csv": 3}

// cutExport copies the export at env.data to dir, keeping of the message files
// only the rows sent up to the cut: the source as it was a while before the
// dataset's end, the rest of the messages arriving later. Rows whose time does
// not parse (planted bad rows) are kept. It returns the number of rows held
// back.
func cutExport(t *testing.T, dir string, share float64) int {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var times []int64
	for name, col := range deltaFiles {
		for _, row := range readCSV(t, filepath.Join(env.data, name))[1:] {
			if ms, err := strconv.ParseInt(row[col], 10, 64); err == nil {
				times = append(times, ms)
			}
		}
	}
	slices.Sort(times)
	cut := times[int(float64(len(times))*share)]
	held := 0
	ents, err := os.ReadDir(env.data)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".csv") || e.Name() == "csv.yaml") {
			continue
		}
		col, isMsg := deltaFiles[e.Name()]
		if !isMsg {
			copyFile(t, filepath.Join(env.data, e.Name()), filepath.Join(dir, e.Name()))
			continue
		}
		rows := readCSV(t, filepath.Join(env.data, e.Name()))
		kept := rows[:1]
		for _, row := range rows[1:] {
			if ms, err := strconv.ParseInt(row[col], 10, 64); err == nil && ms > cut {
				held++
				continue
			}
			kept = append(kept, row)
		}
		writeCSV(t, filepath.Join(dir, e.Name()), kept)
	}
	return held
}

// growExport brings the message files of dir to the whole export: the source
// grew by the rows cutExport held back.
func growExport(t *testing.T, dir string) {
	t.Helper()
	for name := range deltaFiles {
		copyFile(t, filepath.Join(env.data, name), filepath.Join(dir, name))
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	var rows [][]string
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, row)
	}
}

func writeCSV(t *testing.T, path string, rows [][]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// bulkThenGrow migrates the cut export in dir into the sandbox at url without
// interruption, then grows the export: the next run is a delta run.
func bulkThenGrow(t *testing.T, dir, name, url string) (mapping, out string) {
	t.Helper()
	mapping = writeMappingIn(t, dir, name, url, nil)
	out = filepath.Join(dir, "out")
	if code, r := runToEnd(t, mapping, out); code != exitRejected {
		t.Fatalf("bulk run over the cut export: exit %d, want %d\n%s", code, exitRejected, r.tail())
	}
	growExport(t, dir)
	return mapping, out
}

// TestDeltaCrash (issue 9): a bulk run over the export as it was a while before
// its end, then the messages sent since arrive, and the delta run that imports
// them is killed with SIGKILL at random moments — while it validates the grown
// source, cuts and swaps in the delta plan, rebases the checkpoint, and imports
// — and restarted until it finishes: the target ends in exactly the state of one
// uninterrupted run over the whole export, with the same accounting and rejects.
func TestDeltaCrash(t *testing.T) {
	setup(t)
	kills := max(crashKills(t, 10)*6/10, 1) // the delta is about a third of the load
	const share = 0.65                      // of the messages in the bulk run
	base := filepath.Join(t.TempDir(), "base")
	held := cutExport(t, base, share)

	// An uninterrupted delta first: it times the delta run for the kill points,
	// and its result must already be the reference's.
	sb := startSandbox(t, "")
	refDir := filepath.Join(t.TempDir(), "ref")
	copyDir(t, base, refDir)
	mapping, out := bulkThenGrow(t, refDir, "delta-ref", sb.url)
	code, r := runToEnd(t, mapping, out)
	if code != exitRejected || !strings.Contains(r.out.String(), "delta (generation 1): ") || r.loadAt.IsZero() {
		t.Fatalf("uninterrupted delta run: exit %d, want %d after a delta cut\n%s", code, exitRejected, r.tail())
	}
	startup, load := r.loadAt.Sub(r.start), r.end.Sub(r.loadAt)
	t.Logf("%d messages held back; the uninterrupted delta run: %s to the load, %s of load", held,
		startup.Round(time.Millisecond), load.Round(time.Millisecond))
	checkState(t, sb.state(t))
	checkReport(t, out)

	rng := rngFor(t)
	sb = startSandbox(t, "")
	dir := filepath.Join(t.TempDir(), "crash")
	copyDir(t, base, dir)
	mapping, out = bulkThenGrow(t, dir, "delta-crash", sb.url)
	// Two kills in the switch to the delta first: one while the grown source is
	// validated or the delta cut, one the moment the delta plan is in place
	// (before or while the checkpoint is rebased onto it).
	r = startRun(t, mapping, out)
	select {
	case <-time.After(time.Duration(rng.Int64N(int64(startup)*8/10) + 1)):
	case <-r.done:
	}
	if code := r.signal(syscall.SIGKILL); code != -1 {
		t.Fatalf("the delta run ended before the kill during its cut: exit %d\n%s", code, r.tail())
	}
	r = startRunWatch(t, secretKey, "delta (generation 1): ", mapping, out)
	select {
	case <-r.seen:
	case <-r.done:
	}
	if code := r.signal(syscall.SIGKILL); code != -1 {
		t.Fatalf("the delta run ended before the kill at its swap: exit %d\n%s", code, r.tail())
	}
	began := time.Now()
	killed, runs := killLoopTimed(t, rng, mapping, out, kills, startup, load)
	t.Logf("delta run: %d SIGKILLs over %d runs, %s in all", killed, runs, time.Since(began).Round(time.Millisecond))
	checkState(t, sb.state(t))
	checkReport(t, out)
	if s := status(t, mapping, out); !strings.Contains(s, "the migration is complete") {
		t.Errorf("status after the delta:\n%s", s)
	}
	// The next run finds nothing new.
	if code, r := runToEnd(t, mapping, out); code != exitRejected || strings.Contains(r.out.String(), "delta (") {
		t.Errorf("run after the delta: exit %d\n%s", code, r.tail())
	}
	checkState(t, sb.state(t))
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.IsDir() {
			copyFile(t, filepath.Join(from, e.Name()), filepath.Join(to, e.Name()))
		}
	}
}

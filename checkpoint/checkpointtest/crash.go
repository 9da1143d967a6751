package checkpointtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/immigrate/immigrate/checkpoint"
)

// The crash tests re-execute the test binary (-test.run=^TestHelperProcess$) with
// these variables; HelperProcess then plays a run that the parent kills.
const (
	envScenario = "CHECKPOINTTEST_SCENARIO"
	envDriver   = "CHECKPOINTTEST_DRIVER"
	envLoc      = "CHECKPOINTTEST_LOC"
	envStart    = "CHECKPOINTTEST_START"
	linePrefix  = "checkpointtest:"
	// envKills sets how many times "killed while flushing" kills (default 3), for
	// a longer run: CHECKPOINTTEST_KILLS=100 go test -run 'crash' ./checkpoint/
	envKills = "CHECKPOINTTEST_KILLS"
)

const (
	scenarioAfterFlush = "after-flush" // flush a known state, buffer more, wait to be killed
	scenarioMidFlush   = "mid-flush"   // flush round after round until killed
)

var crashManifest = manifest("crash-hash", "crash-target", t0)

// HelperProcess is the child side of the crash tests. Call it from a
// TestHelperProcess in every test package that calls Run, with every driver the
// package runs; it returns at once unless the suite started this process.
func HelperProcess(t *testing.T, drivers ...Driver) {
	scenario := os.Getenv(envScenario)
	if scenario == "" {
		return
	}
	err := helper(scenario, drivers)
	fmt.Fprintf(os.Stderr, "checkpointtest helper %s: %v\n", scenario, err)
	os.Exit(2) // a helper only ends by being killed
}

func helper(scenario string, drivers []Driver) error {
	ctx := context.Background()
	var d *Driver
	for i := range drivers {
		if drivers[i].Name == os.Getenv(envDriver) {
			d = &drivers[i]
		}
	}
	if d == nil {
		return fmt.Errorf("no driver %q given to HelperProcess", os.Getenv(envDriver))
	}
	s, err := d.Open(ctx, os.Getenv(envLoc))
	if err != nil {
		return err
	}
	if _, err := beginRetry(ctx, s, crashManifest); err != nil {
		return err
	}
	// No background flush: what reaches the store is exactly what was flushed.
	w := checkpoint.NewWriter(s, checkpoint.WriterConfig{Interval: never, MaxBatch: 1 << 30})
	say := func(format string, args ...any) { fmt.Printf(linePrefix+format+"\n", args...) }
	switch scenario {
	case scenarioAfterFlush:
		if err := writeFlushed(ctx, w); err != nil {
			return err
		}
		say("flushed")
		writeUnflushed(w)
		say("ready")
		select {} // wait for SIGKILL
	case scenarioMidFlush:
		start, err := strconv.ParseInt(os.Getenv(envStart), 10, 64)
		if err != nil {
			return err
		}
		for i := start + 1; ; i++ {
			if err := writeRound(ctx, w, i); err != nil {
				return err
			}
			say("flushed %d", i)
		}
	}
	return fmt.Errorf("unknown scenario")
}

func conv(i int) string { return fmt.Sprintf("u%03d\x00u%03d", i, i+1) }
func grp(i int) string  { return fmt.Sprintf("g/%d", i) }

// writeFlushed writes and flushes the state that must survive the crash.
func writeFlushed(ctx context.Context, w *checkpoint.Writer) error {
	w.PhaseDone("accounts", t0)
	w.Confirm(checkpoint.Mark{Phase: "accounts", Ordinal: 500, LegacyID: "u500"}, checkpoint.Counts{Imported: 480, Present: 15, Rejected: 5})
	w.Reject(checkpoint.Reject{Entity: "user", Origin: "users.csv:3", LegacyID: "bad id", Rule: "user_id.charset", Message: "rewritten"})
	w.Reject(checkpoint.Reject{Entity: "user", Origin: "users.csv:3", LegacyID: "bad id", Rule: "user_id.charset", Message: "duplicate"})
	w.MapID(checkpoint.IDMapping{Kind: "user", LegacyID: "bad id", TargetID: "bad_id"})
	for i := range 50 {
		w.Confirm(checkpoint.Mark{Phase: "direct_messages", Stream: conv(i), Ordinal: 10, LegacyID: fmt.Sprintf("m%d-10", i)},
			checkpoint.Counts{Imported: 10})
	}
	for g := range 4 {
		w.Confirm(checkpoint.Mark{Phase: "group_messages", Stream: grp(g), Ordinal: 7, LegacyID: "7", TargetSeq: 7}, checkpoint.Counts{Imported: 7})
		// The intent of the call in flight when the process dies.
		if err := w.Intent(ctx, checkpoint.Intent{Phase: "group_messages", Stream: grp(g), First: 8, Last: 14, FirstID: "8", LastID: "14"}); err != nil {
			return err
		}
	}
	return w.Flush(ctx)
}

// flushedState is what writeFlushed leaves.
func flushedState() snapshot {
	m := crashManifest
	m.Runs = 1
	s := snapshot{Manifest: &m}
	s.Marks = append(s.Marks, checkpoint.Mark{Phase: "accounts", Ordinal: 500, LegacyID: "u500"})
	for i := range 50 {
		s.Marks = append(s.Marks, checkpoint.Mark{Phase: "direct_messages", Stream: conv(i), Ordinal: 10, LegacyID: fmt.Sprintf("m%d-10", i)})
	}
	for g := range 4 {
		s.Marks = append(s.Marks, checkpoint.Mark{Phase: "group_messages", Stream: grp(g), Ordinal: 7, LegacyID: "7", TargetSeq: 7})
		s.Intents = append(s.Intents, checkpoint.Intent{Phase: "group_messages", Stream: grp(g), First: 8, Last: 14, FirstID: "8", LastID: "14"})
	}
	s.IDs = []checkpoint.IDMapping{{Kind: "user", LegacyID: "bad id", TargetID: "bad_id"}}
	s.Rejects = []checkpoint.Reject{{Entity: "user", Origin: "users.csv:3", LegacyID: "bad id", Rule: "user_id.charset", Message: "rewritten"}}
	s.Counters = []checkpoint.PhaseCounters{
		{Phase: "accounts", Counts: checkpoint.Counts{Imported: 480, Present: 15, Rejected: 5}, Streams: 1, Done: true, DoneAt: t0},
		{Phase: "direct_messages", Counts: checkpoint.Counts{Imported: 500}, Streams: 50},
		{Phase: "group_messages", Counts: checkpoint.Counts{Imported: 28}, Streams: 4, Intents: 4},
	}
	return s
}

// writeUnflushed gives the writer records that the crash must lose: they touch
// every kind of record, and would close intents.
func writeUnflushed(w *checkpoint.Writer) {
	w.PhaseDone("groups", t0.Add(time.Hour))
	w.Count("groups", checkpoint.Counts{Imported: 4})
	for i := range 60 {
		w.Confirm(checkpoint.Mark{Phase: "direct_messages", Stream: conv(i), Ordinal: 20, LegacyID: "20"}, checkpoint.Counts{Imported: 10})
	}
	for g := range 2 {
		w.Confirm(checkpoint.Mark{Phase: "group_messages", Stream: grp(g), Ordinal: 14, LegacyID: "14", TargetSeq: 14}, checkpoint.Counts{Imported: 7})
	}
	w.ClearIntent("group_messages", grp(2))
	w.MapID(checkpoint.IDMapping{Kind: "user", LegacyID: "bad id", TargetID: "changed"})
	w.MapID(checkpoint.IDMapping{Kind: "group", LegacyID: "g 1", TargetID: "g_1"})
	w.Reject(checkpoint.Reject{Entity: "message", LegacyID: "m1", Rule: "target.10004"})
}

const roundStreams = 200

// writeRound writes round i of the mid-flush scenario and flushes it: every stream's
// mark moves to i, the imported count grows by one per stream, one reject is added,
// and the group stream "g" confirms round i-1 and announces round i.
func writeRound(ctx context.Context, w *checkpoint.Writer, i int64) error {
	for k := range roundStreams {
		w.Confirm(checkpoint.Mark{Phase: "direct_messages", Stream: fmt.Sprintf("c/%03d", k), Ordinal: i, LegacyID: fmt.Sprint(i)},
			checkpoint.Counts{Imported: 1})
	}
	w.Reject(checkpoint.Reject{Entity: "message", LegacyID: fmt.Sprint(i), Rule: "r"})
	w.Confirm(checkpoint.Mark{Phase: "group_messages", Stream: "g", Ordinal: i - 1}, checkpoint.Counts{})
	return w.Intent(ctx, checkpoint.Intent{Phase: "group_messages", Stream: "g", First: i, Last: i})
}

// checkRounds asserts that the store holds exactly rounds 1..n of writeRound, n
// being lo or lo+1 (a round may have committed without being reported), and returns n.
func checkRounds(tb testing.TB, s checkpoint.Store, lo int64) int64 {
	tb.Helper()
	ms := marksOf(tb, s, "direct_messages", "")
	if len(ms) != roundStreams {
		tb.Fatalf("%d direct message marks, want %d", len(ms), roundStreams)
	}
	n := ms[0].Ordinal
	for _, m := range ms {
		if m.Ordinal != n {
			tb.Fatalf("marks of one transaction differ: %s at %d, %s at %d", ms[0].Stream, n, m.Stream, m.Ordinal)
		}
	}
	if n < lo || n > lo+1 {
		tb.Fatalf("marks at round %d, want %d (last reported flush) or %d", n, lo, lo+1)
	}
	if c := countersOf(tb, s)["direct_messages"]; c.Imported != roundStreams*n {
		tb.Errorf("imported = %d, want %d: counters and marks disagree", c.Imported, roundStreams*n)
	}
	rs := rejectsOf(tb, s)
	if int64(len(rs)) != n {
		tb.Fatalf("%d rejects, want %d", len(rs), n)
	}
	for i, r := range rs {
		if r.LegacyID != fmt.Sprint(i+1) {
			tb.Fatalf("reject %d is %q, want %q", i, r.LegacyID, fmt.Sprint(i+1))
		}
	}
	diff(tb, "open intents", intentsOf(tb, s), []checkpoint.Intent{{Phase: "group_messages", Stream: "g", First: n, Last: n}})
	if g, ok, err := s.Mark(context.Background(), "group_messages", "g"); err != nil || !ok || g.Ordinal != n-1 {
		tb.Errorf("group mark = %+v, %v, %v; want ordinal %d", g, ok, err, n-1)
	}
	return n
}

// child is a helper process.
type child struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *bytes.Buffer
	mu     sync.Mutex
}

func startChild(tb testing.TB, d Driver, scenario, loc string, start int64) *child {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envScenario+"="+scenario, envDriver+"="+d.Name, envLoc+"="+loc,
		envStart+"="+strconv.FormatInt(start, 10))
	c := &child{cmd: cmd, lines: make(chan string, 1024), stderr: &bytes.Buffer{}}
	cmd.Stderr = c.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), linePrefix); ok {
				c.lines <- line
			}
		}
		io.Copy(io.Discard, out)
	}()
	tb.Cleanup(func() { c.kill() })
	return c
}

// await returns the next line the child reports, failing if it exits first.
func (c *child) await(tb testing.TB) string {
	tb.Helper()
	select {
	case line, ok := <-c.lines:
		if !ok {
			c.kill()
			tb.Fatalf("helper process ended without reporting (is TestHelperProcess wired to checkpointtest.HelperProcess?); stderr:\n%s", c.stderr)
		}
		return line
	case <-time.After(2 * time.Minute):
		c.kill()
		tb.Fatalf("helper process reported nothing; stderr:\n%s", c.stderr)
	}
	return ""
}

// kill sends SIGKILL and reaps the process; it returns the lines it reported that
// were not read yet.
func (c *child) kill() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd.ProcessState == nil {
		c.cmd.Process.Signal(syscall.SIGKILL)
		c.cmd.Wait()
	}
	var rest []string
	for line := range c.lines {
		rest = append(rest, line)
	}
	return rest
}

// skipShort keeps the tests that start helper processes and kill them out of the
// fast loop (go test -short).
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("kills helper processes; skipped with -short")
	}
}

func testCrash(t *testing.T, d Driver) {
	t.Run("killed after a flush", func(t *testing.T) {
		skipShort(t)
		loc := d.New(t)
		c := startChild(t, d, scenarioAfterFlush, loc, 0)
		for _, want := range []string{"flushed", "ready"} {
			if got := c.await(t); got != want {
				t.Fatalf("helper reported %q, want %q", got, want)
			}
		}
		c.kill()
		if d.Check != nil {
			d.Check(t, loc)
		}
		s := open(t, d, loc)
		// Everything flushed is there, intents included; nothing given after the
		// last flush is.
		diff(t, "store after the kill", read(t, s), flushedState())
		r := begin(t, s, crashManifest)
		if !r.Resumed || r.Manifest.Runs != 2 {
			t.Errorf("Begin after the kill = %+v, want a resume", r)
		}
	})

	t.Run("killed while flushing", func(t *testing.T) {
		skipShort(t)
		loc := d.New(t)
		kills := 3
		if v, err := strconv.Atoi(os.Getenv(envKills)); err == nil && v > 0 {
			kills = v
		}
		var n int64
		for kill := range kills {
			c := startChild(t, d, scenarioMidFlush, loc, n)
			after := rand.IntN(15) + 1
			var last int64
			for range after {
				line := c.await(t)
				v, err := strconv.ParseInt(strings.TrimPrefix(line, "flushed "), 10, 64)
				if err != nil {
					t.Fatalf("helper reported %q", line)
				}
				last = v
			}
			// The child keeps flushing: after a random pause the kill lands
			// anywhere in a round, often inside a transaction.
			time.Sleep(rand.N(3 * time.Millisecond))
			for _, line := range c.kill() {
				if v, err := strconv.ParseInt(strings.TrimPrefix(line, "flushed "), 10, 64); err == nil {
					last = v
				}
			}
			if d.Check != nil {
				d.Check(t, loc)
			}
			s := open(t, d, loc)
			n = checkRounds(t, s, last)
			t.Logf("kill %d: after round %d reported, store at round %d", kill+1, last, n)
			s.Close()
		}
		// The store takes writes again: one more round, by this process.
		s := open(t, d, loc)
		begin(t, s, crashManifest)
		w := checkpoint.NewWriter(s, checkpoint.WriterConfig{Interval: never})
		if err := writeRound(context.Background(), w, n+1); err != nil {
			t.Fatalf("round after the kills: %v", err)
		}
		if err := w.Close(context.Background()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		checkRounds(t, s, n+1)
	})

	t.Run("store dropped without flush", func(t *testing.T) {
		// In process: the connection goes away under a writer that holds records,
		// as when the pool is closed without a flush.
		ctx := context.Background()
		s, loc := fresh(t, d)
		begin(t, s, crashManifest)
		w := checkpoint.NewWriter(s, checkpoint.WriterConfig{Interval: never, MaxBatch: 1 << 30})
		if err := writeFlushed(ctx, w); err != nil {
			t.Fatal(err)
		}
		writeUnflushed(w)
		if err := s.Close(); err != nil {
			t.Fatalf("Close store: %v", err)
		}
		if err := w.Close(ctx); err == nil {
			t.Errorf("Close of a writer whose store is gone succeeded, want the flush error")
		}
		if d.Check != nil {
			d.Check(t, loc)
		}
		s = open(t, d, loc)
		diff(t, "store after the drop", read(t, s), flushedState())
	})
}

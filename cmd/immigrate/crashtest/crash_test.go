package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract/synth"
	"github.com/immigrate/immigrate/report"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// The dataset: thousands of users, hundreds of groups, tens of thousands of
// messages of both kinds, with planted bad records (validate rejects them; the
// target refuses none); six communities with topics and topic messages, rich
// messages (attachments; replies, edits and reactions in CloudCustomData) and
// about twenty messages over 12,000 bytes that policies.oversize: split cuts
// into consecutive parts.
var dataset = synth.Config{
	Seed: 5, Users: 3000, Groups: 300, MembersMin: 2, MembersMax: 40,
	GroupMessages: 20000, DirectMessages: 20000, Friends: 4000, GroupDMs: 150, BadShare: 0.002, Profiles: true,
	TopicGroups: 6, Rich: true, SplitMessages: 20,
}

// Credentials of the test sandboxes; not secrets of any real app. The mapping
// reads the key from the environment, as a real one would.
const (
	sdkAppID  = 1400000000
	admin     = "administrator"
	secretKey = "crash-test-secret-key"
	keyEnv    = "IMMIGRATE_CRASH_SECRET_KEY"
)

// The mapping's load settings. The message APIs, which make most of the calls,
// run at a rate this machine sustains even while other test packages load it, so
// a run's length is set by the rate limiter rather than by the machine's speed at
// the moment: the kill points, drawn from the reference run's length, then fall
// inside every later run too. The other APIs run far above what the sandbox
// serves, so the whole load takes about ten seconds.
const loadSettings = `
load:
  rates:
    account_import: 20000
    multiaccount_import: 20000
    import_group: 20000
    import_group_member: 20000
    import_group_msg: 2000
    group_msg_get_simple: 20000
    set_unread_msg_num: 20000
    importmsg: 2000
    friend_import: 20000
    portrait_set: 20000
  retries: 12
`

// Exit codes of immigrate (design §2).
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitRejected    = 3
	exitInterrupted = 130
)

// env is what every test shares: the binary, the dataset and the state of an
// uninterrupted run, built once.
var env struct {
	dir  string
	once sync.Once
	err  error

	bin     string
	data    string        // the dataset's directory
	refOut  string        // the output directory of the uninterrupted run
	want    []byte        // GET /_sandbox/state after an uninterrupted run
	startup time.Duration // from the start of a run to its load
	load    time.Duration // the load of an uninterrupted run
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "immigrate-crashtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	env.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// setup builds the binary, generates the dataset and migrates it once without
// interruption into a sandbox of its own: the reference every test compares with.
func setup(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("crash tests build the binary and run real migrations; skipped with -short")
	}
	env.once.Do(func() {
		env.err = errors.New("setup did not finish")
		env.err = build(t)
	})
	if env.err != nil {
		t.Fatalf("setup: %v", env.err)
	}
}

func build(t *testing.T) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	env.bin = filepath.Join(env.dir, "immigrate")
	cmd := exec.Command(gobin, "build", "-o", env.bin, "github.com/immigrate/immigrate/cmd/immigrate")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	env.data = filepath.Join(env.dir, "data")
	if _, err := synth.WriteCSV(context.Background(), dataset, env.data); err != nil {
		return err
	}
	sb := startSandbox(t, "")
	mapping := writeMapping(t, "reference", sb.url, nil)
	env.refOut = filepath.Join(env.dir, "reference-out")
	r := startRun(t, mapping, env.refOut)
	if code := r.wait(); code != exitRejected {
		return fmt.Errorf("uninterrupted run: exit %d, want %d\n%s", code, exitRejected, r.tail())
	}
	if r.loadAt.IsZero() {
		return fmt.Errorf("uninterrupted run never started its load:\n%s", r.tail())
	}
	env.startup, env.load = r.loadAt.Sub(r.start), r.end.Sub(r.loadAt)
	env.want = sb.state(t)
	checkReport(t, env.refOut)
	t.Logf("reference: %s to the load, %s of load; the target holds %d bytes of state", env.startup.Round(time.Millisecond), env.load.Round(time.Millisecond), len(env.want))
	return nil
}

// ---- sandboxes ----

type sandboxProc struct {
	url  string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan struct{} // closed when the process exited
}

// startSandbox serves `immigrate sandbox` on a free loopback port, with faults
// ("" for none), in memory only (no --state); it is stopped when the test ends.
func startSandbox(t *testing.T, faults string) *sandboxProc {
	t.Helper()
	var args []string
	if faults != "" {
		args = append(args, "--faults", faults)
	}
	return startSandboxAt(t, freeAddr(t), args...)
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startSandboxAt serves `immigrate sandbox` at addr with the extra arguments and
// returns once it answers; it is stopped with Ctrl-C when the test ends, unless
// it was killed before.
func startSandboxAt(t *testing.T, addr string, extra ...string) *sandboxProc {
	t.Helper()
	args := append([]string{"sandbox", "--addr", addr, "--sdkappid", strconv.Itoa(sdkAppID), "--admin", admin, "--seed", "1"}, extra...)
	var log bytes.Buffer
	cmd := exec.Command(env.bin, args...)
	cmd.Env = append(os.Environ(), "IMMIGRATE_SANDBOX_SECRET_KEY="+secretKey)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sb := &sandboxProc{url: "http://" + addr, cmd: cmd, log: &log, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(sb.done) }()
	t.Cleanup(func() {
		// Ctrl-C, as a user would; the sandbox then exits 0.
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-sb.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-sb.done
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(sb.url + "/_sandbox/state")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return sb
			}
		}
		select {
		case <-sb.done:
			t.Fatalf("sandbox at %s exited: %v\n%s", addr, cmd.ProcessState, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sandbox at %s did not come up: %v\n%s", addr, err, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to exit.
func (sb *sandboxProc) kill() {
	_ = sb.cmd.Process.Kill()
	<-sb.done
}

// state returns the sandbox's state dump, deterministic JSON.
func (sb *sandboxProc) state(t *testing.T) []byte {
	t.Helper()
	resp, err := http.Get(sb.url + "/_sandbox/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET state: %d %v", resp.StatusCode, err)
	}
	return b
}

// writeMapping writes the dataset's CSV mapping pointed at a sandbox endpoint,
// with the fast load settings; edit may change the text further.
func writeMapping(t *testing.T, name, endpoint string, edit func(string) string) string {
	t.Helper()
	return writeMappingIn(t, env.data, name, endpoint, edit)
}

// writeMappingIn is writeMapping for the export in dir.
func writeMappingIn(t *testing.T, dir, name, endpoint string, edit func(string) string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "csv.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "\ntarget:\n")
	end := strings.Index(s[start+1:], "\n\n")
	if start < 0 || end < 0 {
		t.Fatalf("csv.yaml has no target section")
	}
	target := fmt.Sprintf("\ntarget:\n  endpoint: %s\n  sdkappid: %d\n  secret_key: \"${%s}\"\n  admin: %s\n  edition: pro\n",
		endpoint, sdkAppID, keyEnv, admin)
	s = s[:start] + target + s[start+1+end+1:] + loadSettings
	if edit != nil {
		s = edit(s)
	}
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ---- runs ----

// runProc is one `immigrate run` process.
type runProc struct {
	cmd    *exec.Cmd
	start  time.Time
	loaded chan struct{} // closed when the run starts its load
	seen   chan struct{} // closed when stderr shows the watched line (startRunWatch)
	done   chan struct{} // closed when the process exited
	out    *bytes.Buffer // stdout and stderr, interleaved

	// Set before done is closed.
	loadAt time.Time
	end    time.Time
	code   int // exit code; -1 when killed by a signal
}

// startRun starts `immigrate run -c mapping --out out [extra...]` with the
// secret key in its environment.
func startRun(t *testing.T, mapping, out string, extra ...string) *runProc {
	return startRunKey(t, secretKey, mapping, out, extra...)
}

func startRunKey(t *testing.T, key, mapping, out string, extra ...string) *runProc {
	t.Helper()
	return startRunWatch(t, key, "", mapping, out, extra...)
}

// startRunWatch is startRunKey that also closes the run's seen channel when a
// line of its stderr contains watch ("" for never).
func startRunWatch(t *testing.T, key, watch, mapping, out string, extra ...string) *runProc {
	t.Helper()
	args := append([]string{"run", "-c", mapping, "--out", out}, extra...)
	cmd := exec.Command(env.bin, args...)
	cmd.Env = append(os.Environ(), keyEnv+"="+key)
	r := &runProc{cmd: cmd, loaded: make(chan struct{}), seen: make(chan struct{}), done: make(chan struct{}), out: &bytes.Buffer{}}
	pr, pw := io.Pipe()
	var mu sync.Mutex
	cmd.Stdout = lockedWriter{&mu, r.out}
	cmd.Stderr = pw
	r.start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once, watched sync.Once
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "importing into ") {
				once.Do(func() { r.loadAt = time.Now(); close(r.loaded) })
			}
			if watch != "" && strings.Contains(line, watch) {
				watched.Do(func() { close(r.seen) })
			}
			mu.Lock()
			r.out.WriteString(line + "\n")
			mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	go func() {
		err := cmd.Wait()
		pw.Close()
		<-scanned
		r.end = time.Now()
		r.code = cmd.ProcessState.ExitCode()
		if err != nil && r.code == 0 {
			r.code = -1
		}
		close(r.done)
	}()
	return r
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (r *runProc) wait() int {
	<-r.done
	return r.code
}

// signal sends sig and waits for the process to exit.
func (r *runProc) signal(sig syscall.Signal) int {
	_ = r.cmd.Process.Signal(sig)
	return r.wait()
}

// tail is the end of the process's output, for failure messages.
func (r *runProc) tail() string {
	s := r.out.String()
	if len(s) > 4000 {
		s = "…" + s[len(s)-4000:]
	}
	return s
}

// runToEnd runs the mapping to its end and returns the exit code.
func runToEnd(t *testing.T, mapping, out string, extra ...string) (int, *runProc) {
	t.Helper()
	r := startRun(t, mapping, out, extra...)
	return r.wait(), r
}

// killLoop runs the migration again and again, killing each run with SIGKILL,
// until kills runs were killed; then it lets one run finish. The kill moments are
// random: about one in seven lands before the load (validation, checkpoint open,
// at a random moment of the reference's startup), the others at points of the
// load drawn uniformly from the reference run's load time, in order, each run
// being killed when the load time of all runs so far reaches its point. So the
// kills spread over the whole migration whatever its phases. It returns the kills
// and the runs made.
func killLoop(t *testing.T, rng *rand.Rand, mapping, out string, kills int) (killed, runs int) {
	t.Helper()
	return killLoopTimed(t, rng, mapping, out, kills, env.startup, env.load)
}

// killLoopTimed is killLoop for a migration whose uninterrupted run takes
// startup to its load and load of load.
func killLoopTimed(t *testing.T, rng *rand.Rand, mapping, out string, kills int, startup, load time.Duration) (killed, runs int) {
	t.Helper()
	var points []time.Duration // load-time points of the load kills, ascending
	startups := 0
	for range kills {
		if rng.IntN(7) == 0 {
			startups++
			continue
		}
		// Up to 60 % of the reference's load: a resumed run redoes a little, and
		// a reference slowed by other work on the machine may have run below the
		// configured rates, so the migration outlasts the last point even when
		// later runs go faster than the reference did.
		points = append(points, time.Duration(rng.Int64N(int64(load)*60/100)))
	}
	slices.Sort(points)
	var loaded time.Duration // load time of the killed runs
	for {
		runs++
		r := startRun(t, mapping, out)
		var timer <-chan time.Time
		switch {
		case killed >= kills:
		case startups > 0 && (len(points) == 0 || rng.IntN(startups+len(points)) < startups):
			startups--
			timer = time.After(time.Duration(rng.Int64N(int64(startup) + 1)))
		default:
			p := points[0]
			points = points[1:]
			select {
			case <-r.loaded:
				timer = time.After(max(p-loaded, time.Millisecond))
			case <-r.done:
			}
		}
		select {
		case <-timer:
			at := time.Now()
			if code := r.signal(syscall.SIGKILL); code == -1 {
				killed++
				if !r.loadAt.IsZero() {
					loaded += at.Sub(r.loadAt)
				}
				continue
			}
		case <-r.done:
		}
		if r.code != exitOK && r.code != exitRejected {
			t.Fatalf("run %d (after %d kills): exit %d\n%s", runs, killed, r.code, r.tail())
		}
		if killed < kills {
			// The migration outran the kill points: the machine ran faster than
			// during the reference run.
			t.Errorf("the migration finished after %d kills, fewer than %d", killed, kills)
		}
		return killed, runs
	}
}

// ---- checks ----

// checkState compares the sandbox's state with the reference, byte for byte, and
// says what differs in the terms of design §4: lost or duplicated records, group
// message order, members and roles.
func checkState(t *testing.T, got []byte) {
	t.Helper()
	if bytes.Equal(got, env.want) {
		return
	}
	var a, b sandbox.State
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(env.want, &b); err != nil {
		t.Fatal(err)
	}
	var diffs []string
	add := func(format string, args ...any) {
		if len(diffs) < 20 {
			diffs = append(diffs, fmt.Sprintf(format, args...))
		}
	}
	if len(a.Accounts) != len(b.Accounts) {
		add("accounts: %d, want %d", len(a.Accounts), len(b.Accounts))
	} else {
		for i := range a.Accounts {
			if x, y := a.Accounts[i], b.Accounts[i]; fmt.Sprint(x.Profile) != fmt.Sprint(y.Profile) {
				add("account %s: profile %v, want %v", x.UserID, x.Profile, y.Profile)
			}
		}
	}
	want := map[string]sandbox.GroupState{}
	for _, g := range b.Groups {
		want[g.GroupID] = g
	}
	for _, g := range a.Groups {
		w, ok := want[g.GroupID]
		if !ok {
			add("group %s: not in the reference", g.GroupID)
			continue
		}
		delete(want, g.GroupID)
		if len(g.Messages) != len(w.Messages) {
			add("group %s: %d messages, want %d (lost or duplicated)", g.GroupID, len(g.Messages), len(w.Messages))
		} else {
			for i := range g.Messages {
				if x, y := g.Messages[i], w.Messages[i]; x.Random != y.Random || x.SendTime != y.SendTime || x.MsgSeq != y.MsgSeq {
					add("group %s: message %d is #%d@%d, want #%d@%d (order)", g.GroupID, i, x.Random, x.SendTime, y.Random, y.SendTime)
					break
				}
			}
		}
		if fmt.Sprint(g.Members) != fmt.Sprint(w.Members) {
			add("group %s: members %d differ from the reference's %d (member, role, join time, read position)", g.GroupID, len(g.Members), len(w.Members))
		}
	}
	for id := range want {
		add("group %s: missing", id)
	}
	conv := map[string]int{}
	for _, c := range b.C2C {
		conv[c.A+"|"+c.B] = len(c.Messages)
	}
	for _, c := range a.C2C {
		if n := conv[c.A+"|"+c.B]; n != len(c.Messages) {
			add("conversation %s|%s: %d messages, want %d (lost or duplicated)", c.A, c.B, len(c.Messages), n)
		}
		delete(conv, c.A+"|"+c.B)
	}
	for k, n := range conv {
		add("conversation %s: missing its %d messages", k, n)
	}
	if len(diffs) == 0 {
		diffs = append(diffs, "recent contacts, unread counts or a field the summary does not name")
	}
	path := filepath.Join(t.TempDir(), "state.json")
	_ = os.WriteFile(path, got, 0o644)
	t.Errorf("the target's state differs from the uninterrupted run's (dump %s):\n  %s", path, strings.Join(diffs, "\n  "))
}

// checkReport asserts the accounting identity of the last run's report over the
// whole migration (read = imported + already present + rejected + skipped), and
// that every record had the outcome it had in the uninterrupted run: the same
// counts, and rejects.jsonl the same records for the same rules — a group batch
// resent blindly would show as 10004 rejects there (design §4 rule 3).
func checkReport(t *testing.T, out string) {
	t.Helper()
	got := readReport(t, out)
	for _, a := range got {
		if !a.Balanced || a.Read != a.Imported+a.Present+a.Rejected+a.Skipped {
			t.Errorf("%s: read %d != imported %d + present %d + rejected %d + skipped %d", a.Entity, a.Read, a.Imported, a.Present, a.Rejected, a.Skipped)
		}
	}
	if out == env.refOut {
		return
	}
	want := readReport(t, env.refOut)
	if len(got) != len(want) {
		t.Fatalf("accounting of %d entities, the reference has %d", len(got), len(want))
	}
	for i, a := range got {
		w := want[i]
		if a.Entity != w.Entity || a.Read != w.Read || a.Imported+a.Present != w.Imported+w.Present || a.Rejected != w.Rejected || a.Skipped != w.Skipped {
			t.Errorf("%s: read %d, imported+present %d, rejected %d, skipped %d; the uninterrupted run: %d, %d, %d, %d",
				a.Entity, a.Read, a.Imported+a.Present, a.Rejected, a.Skipped, w.Read, w.Imported+w.Present, w.Rejected, w.Skipped)
		}
	}
	if g, w := rejectLines(t, out), rejectLines(t, env.refOut); !slices.Equal(g, w) {
		var extra []string
		for _, l := range g {
			if _, found := slices.BinarySearch(w, l); !found && len(extra) < 5 {
				extra = append(extra, l)
			}
		}
		t.Errorf("rejects.jsonl has %d records, the uninterrupted run's %d; not in the reference's: %s", len(g), len(w), strings.Join(extra, "\n"))
	}
}

func readReport(t *testing.T, out string) []report.EntityAccounting {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "run-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rr struct {
		Accounting []report.EntityAccounting `json:"accounting"`
	}
	if err := json.Unmarshal(b, &rr); err != nil {
		t.Fatal(err)
	}
	if len(rr.Accounting) == 0 {
		t.Fatal("run-report.json has no accounting")
	}
	return rr.Accounting
}

// rejectLines returns the records of rejects.jsonl as "entity origin legacy_id
// rule", sorted; messages are left out, as they quote the migration's clock.
func rejectLines(t *testing.T, out string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "rejects.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var r struct {
			Entity   string `json:"entity"`
			Origin   string `json:"origin"`
			LegacyID string `json:"legacy_id"`
			Rule     string `json:"rule"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("rejects.jsonl: %v: %s", err, l)
		}
		lines = append(lines, strings.Join([]string{r.Entity, r.Origin, strconv.Quote(r.LegacyID), r.Rule}, " "))
	}
	slices.Sort(lines)
	return lines
}

// status runs `immigrate status` and returns its output; it must succeed.
func status(t *testing.T, mapping, out string) string {
	t.Helper()
	cmd := exec.Command(env.bin, "status", "-c", mapping, "--out", out)
	cmd.Env = append(os.Environ(), keyEnv+"="+secretKey)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("immigrate status: %v\n%s", err, b)
	}
	return string(b)
}

// crashKills is how many SIGKILLs a crash test makes: IMMIGRATE_CRASH_KILLS, or
// def.
func crashKills(t *testing.T, def int) int {
	s := os.Getenv("IMMIGRATE_CRASH_KILLS")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("IMMIGRATE_CRASH_KILLS=%q: want a positive number", s)
	}
	return n
}

func rngFor(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("IMMIGRATE_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("IMMIGRATE_CRASH_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("kill moments: IMMIGRATE_CRASH_SEED=%d", seed)
	return rand.New(rand.NewPCG(seed, 0x1e9))
}

// ---- the tests ----

// TestCrash kills `immigrate run` with SIGKILL at random moments and restarts it
// until it finishes, against a sandbox in another process that applies requests
// faithfully, or drops answers to applied requests, or answers 60007 in bursts:
// the target ends in exactly the state of an uninterrupted run (design §4).
func TestCrash(t *testing.T) {
	setup(t)
	kills := crashKills(t, 10)
	tests := []struct {
		name   string
		faults string
	}{
		{"faithful target", ""},
		{"answers lost after the target applied them", "drop:p=0.03"},
		{"rate-limit bursts", "code=60007:p=0.05"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rngFor(t)
			sb := startSandbox(t, tt.faults)
			mapping := writeMapping(t, fmt.Sprintf("crash%d", i), sb.url, nil)
			out := filepath.Join(t.TempDir(), "out")
			began := time.Now()
			killed, runs := killLoop(t, rng, mapping, out, kills)
			t.Logf("%d SIGKILLs over %d runs, %s in all (an uninterrupted run: %s)", killed, runs,
				time.Since(began).Round(time.Millisecond), (env.startup + env.load).Round(time.Millisecond))
			checkState(t, sb.state(t))
			checkReport(t, out)
			// Every run that got as far as opening the checkpoint counted itself.
			s := status(t, mapping, out)
			m := regexp.MustCompile(`, (\d+) run\(s\)`).FindStringSubmatch(s)
			if !strings.Contains(s, "the migration is complete") || m == nil {
				t.Fatalf("status after the last run:\n%s", s)
			}
			if n, _ := strconv.Atoi(m[1]); n < killed/2 || n > runs {
				t.Errorf("status counts %d runs; %d were started, %d killed", n, runs, killed)
			}
		})
	}
}

// TestInterrupt: Ctrl-C flushes the checkpoint and exits 130; status reads the
// checkpoint and the same command resumes to the uninterrupted run's state.
func TestInterrupt(t *testing.T) {
	setup(t)
	sb := startSandbox(t, "")
	mapping := writeMapping(t, "interrupt", sb.url, nil)
	out := filepath.Join(t.TempDir(), "out")
	r := startRun(t, mapping, out)
	select {
	case <-r.loaded:
	case <-r.done:
		t.Fatalf("the run ended before its load: exit %d\n%s", r.code, r.tail())
	}
	time.Sleep(env.load / 3)
	if code := r.signal(syscall.SIGINT); code != exitInterrupted {
		t.Fatalf("after SIGINT: exit %d, want %d\n%s", code, exitInterrupted, r.tail())
	}
	if !strings.Contains(r.out.String(), "saved: run the same command to resume") {
		t.Errorf("the interrupted run did not say how to resume:\n%s", r.tail())
	}
	s := status(t, mapping, out)
	for _, want := range []string{"1 run(s)", "in progress", "resumes where the last run stopped"} {
		if !strings.Contains(s, want) {
			t.Errorf("status after Ctrl-C lacks %q:\n%s", want, s)
		}
	}
	if code, r := runToEnd(t, mapping, out); code != exitRejected || !strings.Contains(r.out.String(), "resuming the migration") {
		t.Fatalf("resumed run: exit %d, want %d, resuming\n%s", code, exitRejected, r.tail())
	}
	checkState(t, sb.state(t))
	checkReport(t, out)
}

// TestFatal: a fatal error (a wrong secret key) exits 1 and leaves a checkpoint
// that status reads; once the key is fixed — not part of the mapping's hash — the
// same mapping resumes.
func TestFatal(t *testing.T) {
	setup(t)
	sb := startSandbox(t, "")
	mapping := writeMapping(t, "fatal", sb.url, nil)
	out := filepath.Join(t.TempDir(), "out")
	r := startRunKey(t, "not-the-key", mapping, out)
	if code := r.wait(); code != exitError {
		t.Fatalf("wrong key: exit %d, want %d\n%s", code, exitError, r.tail())
	}
	if strings.Contains(r.out.String(), "not-the-key") {
		t.Error("the secret key appears in the output")
	}
	if !strings.Contains(r.out.String(), "70009") {
		t.Errorf("the fatal error does not name the vendor code:\n%s", r.tail())
	}
	if s := status(t, mapping, out); !strings.Contains(s, "1 run(s)") || !regexp.MustCompile(`(?m)^accounts +pending`).MatchString(s) {
		t.Errorf("status after the fatal error:\n%s", s)
	}
	if code, r := runToEnd(t, mapping, out); code != exitRejected || !strings.Contains(r.out.String(), "resuming the migration") {
		t.Fatalf("run with the right key: exit %d, want %d, resuming\n%s", code, exitRejected, r.tail())
	}
	checkState(t, sb.state(t))
}

// TestRefusedResume: a changed mapping is refused (exit 2, saying what to do) and
// changes nothing; --force resumes under it; --fresh starts a new checkpoint and
// leaves the target as it is.
func TestRefusedResume(t *testing.T) {
	setup(t)
	sb := startSandbox(t, "")
	mapping := writeMapping(t, "refused", sb.url, nil)
	out := filepath.Join(t.TempDir(), "out")
	r := startRun(t, mapping, out)
	select {
	case <-r.loaded:
	case <-r.done:
		t.Fatalf("the run ended before its load: exit %d\n%s", r.code, r.tail())
	}
	time.Sleep(env.load / 4)
	if code := r.signal(syscall.SIGKILL); code != -1 {
		t.Fatalf("the run ended with %d before its kill", code)
	}
	before := status(t, mapping, out)

	// A kind no record uses: the data imported is the same, the hash is not.
	changed := writeMapping(t, "refused", sb.url, func(s string) string {
		return strings.Replace(s, "    text:     {element: text}\n", "    text:     {element: text}\n    unused_kind: {element: text}\n", 1)
	})
	code, rr := runToEnd(t, changed, out)
	if code != exitUsage || !strings.Contains(rr.out.String(), "--force") || !strings.Contains(rr.out.String(), "mapping changed") {
		t.Fatalf("changed mapping: exit %d, want %d with a hint\n%s", code, exitUsage, rr.tail())
	}
	after := status(t, changed, out)
	if !strings.Contains(after, "the mapping changed since") || !strings.Contains(after, "1 run(s)") {
		t.Errorf("status under the changed mapping:\n%s", after)
	}
	if stripMapping(before) != stripMapping(after) {
		t.Errorf("the refused run changed the checkpoint:\nbefore\n%s\nafter\n%s", before, after)
	}

	if code, rr := runToEnd(t, changed, out, "--force"); code != exitRejected {
		t.Fatalf("--force: exit %d, want %d\n%s", code, exitRejected, rr.tail())
	}
	checkState(t, sb.state(t))
	checkReport(t, out)

	if code, rr := runToEnd(t, changed, out, "--fresh"); code != exitRejected || !strings.Contains(rr.out.String(), "starting over (--fresh)") {
		t.Fatalf("--fresh: exit %d, want %d\n%s", code, exitRejected, rr.tail())
	}
	if s := status(t, changed, out); !strings.Contains(s, "1 run(s)") || !strings.Contains(s, "the migration is complete") {
		t.Errorf("status after --fresh:\n%s", s)
	}
	checkState(t, sb.state(t))
}

// stripMapping drops status's line about the mapping, which differs by design
// between the two mappings it compares.
func stripMapping(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "mapping ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestSandboxCrash kills the target instead of the tool: a durable `immigrate
// sandbox --state` is SIGKILLed at random moments of the load, stays down a few
// seconds while `immigrate run` retries, and restarts on the same port from its
// state file and journal. The target must keep everything it confirmed, so the
// run ends in exactly the state of an uninterrupted run: nothing lost, nothing
// twice. A run whose retries ran out during an outage exits 1, resumable; it is
// run again once the sandbox is back, as an operator would.
func TestSandboxCrash(t *testing.T) {
	setup(t)
	rng := rngFor(t)
	const kills = 3
	addr := freeAddr(t)
	// Snapshots every second: kills land before, during and after them.
	args := []string{"--state", filepath.Join(t.TempDir(), "state.json"), "--snapshot-interval", "1s"}
	sb := startSandboxAt(t, addr, args...)
	mapping := writeMapping(t, "sandboxcrash", sb.url, nil)
	out := filepath.Join(t.TempDir(), "out")
	began := time.Now()

	// Kill points in the sandbox's up time since the load began, as killLoop
	// draws them; the load makes no progress while the sandbox is down.
	var points []time.Duration
	for range kills {
		points = append(points, time.Duration(rng.Int64N(int64(env.load)*60/100)))
	}
	slices.Sort(points)

	runs := 1
	r := startRun(t, mapping, out)
	select {
	case <-r.loaded:
	case <-r.done:
		t.Fatalf("the run ended before its load: exit %d\n%s", r.code, r.tail())
	}
	// rerun starts the migration again after a run stopped with its retries
	// run out (exit 1); any other end before the last kill is a failure.
	rerun := func() {
		t.Helper()
		if !strings.Contains(r.out.String(), "then run the same command again to resume") {
			t.Fatalf("run %d: exit %d, not for retries that ran out\n%s", runs, r.code, r.tail())
		}
		runs++
		r = startRun(t, mapping, out)
	}
	var up time.Duration
	upSince := time.Now()
	for i := 0; i < kills; {
		select {
		case <-time.After(points[i] - up - time.Since(upSince)):
		case <-r.done:
			if r.code != exitError {
				t.Fatalf("the migration ended (exit %d) before kill %d of %d\n%s", r.code, i+1, kills, r.tail())
			}
			rerun()
			continue
		}
		i++
		up += time.Since(upSince)
		sb.kill()
		down := 2*time.Second + time.Duration(rng.Int64N(int64(time.Second)))
		time.Sleep(down)
		sb = startSandboxAt(t, addr, args...)
		upSince = time.Now()
		t.Logf("kill %d at %s of up time into the load, down %s", i, up.Round(time.Millisecond), down.Round(time.Millisecond))
		select {
		case <-r.done:
			if r.code != exitError {
				t.Fatalf("run %d ended with exit %d while the sandbox was down\n%s", runs, r.code, r.tail())
			}
			rerun()
		default:
		}
	}
	for code := r.wait(); code != exitRejected; code = r.wait() {
		if code != exitError || runs > kills+1 {
			t.Fatalf("run %d: exit %d, want %d\n%s", runs, code, exitRejected, r.tail())
		}
		rerun()
	}
	t.Logf("%d sandbox SIGKILLs, %d runs, %s in all (an uninterrupted run: %s)", kills, runs,
		time.Since(began).Round(time.Millisecond), (env.startup + env.load).Round(time.Millisecond))
	checkState(t, sb.state(t))
	checkReport(t, out)
}

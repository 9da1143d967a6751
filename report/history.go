package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/immigrate/immigrate/internal/atomicfile"
	"github.com/immigrate/immigrate/load"
)

// A migration's run reports cover every invocation of `immigrate run` since its
// checkpoint began (issue 9): each invocation keeps its own calls, time and chart
// in <output>/runs/, written as it runs and when it ends, and the run report
// adds them up, marking where each invocation starts.

// HistoryDir holds the invocations of the output's migration.
const HistoryDir = "runs"

// Invocation is one `immigrate run` of a migration.
type Invocation struct {
	// Migration is the migration's start (its checkpoint's), which names the
	// invocations that belong together; Started is this invocation's.
	Migration time.Time     `json:"migration"`
	Started   time.Time     `json:"started"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	// Outcome is "running" while the invocation runs (a SIGKILLed one stays so),
	// then "finished" or "stopped: <why>".
	Outcome  string                    `json:"outcome"`
	APIs     map[string]*load.APIStats `json:"apis"`
	Phases   map[load.Phase]PhaseCalls `json:"phases"`
	Timeline []load.Sample             `json:"timeline"`
}

// PhaseCalls are one phase's calls in one invocation.
type PhaseCalls struct {
	Calls, Retries, RateLimited, Failed int64
}

// NewInvocation is the invocation started at started of the migration begun at
// migration, as sum (the engine's, so far) describes it.
func NewInvocation(migration, started time.Time, sum *load.Summary, outcome string) Invocation {
	inv := Invocation{Migration: migration, Started: started, Elapsed: sum.Elapsed, Outcome: outcome,
		APIs: sum.APIs, Timeline: sum.Timeline, Phases: map[load.Phase]PhaseCalls{}}
	for ph, st := range sum.Phases {
		if st.Calls > 0 {
			inv.Phases[ph] = PhaseCalls{st.Calls, st.Retries, st.RateLimited, st.Failed}
		}
	}
	return inv
}

func (inv Invocation) file() string {
	return strconv.FormatInt(inv.Migration.UnixNano(), 10) + "-" + strconv.FormatInt(inv.Started.UnixNano(), 10) + ".json"
}

// WriteInvocation writes inv into out's history, atomically, replacing what an
// earlier write of the same invocation left; it removes the invocations of other
// migrations (a --fresh start).
func WriteInvocation(out string, inv Invocation) error {
	dir := filepath.Join(out, HistoryDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, inv.file()), 0o644, func(w io.Writer) error {
		return json.NewEncoder(w).Encode(inv)
	}); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	mine := strconv.FormatInt(inv.Migration.UnixNano(), 10) + "-"
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") && !strings.HasPrefix(e.Name(), mine) {
			os.Remove(filepath.Join(dir, e.Name())) // another migration's
		}
	}
	return nil
}

// ReadHistory returns the invocations of the migration begun at migration, oldest
// first. A file that does not decode (cut by a crash of the file system) is
// skipped: it only costs the report that invocation's figures.
func ReadHistory(out string, migration time.Time) ([]Invocation, error) {
	dir := filepath.Join(out, HistoryDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	mine := strconv.FormatInt(migration.UnixNano(), 10) + "-"
	var out2 []Invocation
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), mine) || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		var inv Invocation
		if json.Unmarshal(b, &inv) != nil {
			continue
		}
		out2 = append(out2, inv)
	}
	slices.SortFunc(out2, func(a, b Invocation) int { return a.Started.Compare(b.Started) })
	return out2, nil
}

// InvocationMark is one invocation as the run report lists it: where it starts
// in the report's cumulative time and chart.
type InvocationMark struct {
	Started time.Time     `json:"started"`
	Offset  time.Duration `json:"offset_ns"` // in the cumulative time
	Elapsed time.Duration `json:"elapsed_ns"`
	Outcome string        `json:"outcome"`
	Calls   int64         `json:"calls"`
}

// cumulate makes rr cover every invocation of history (the current one
// included): calls, retries, throttled and failed attempts per API and per phase
// summed, time summed, the timelines laid end to end.
func (rr *RunReport) cumulate(history []Invocation) {
	if len(history) < 2 {
		return
	}
	apis := map[string]*load.APIStats{}
	phases := map[load.Phase]PhaseCalls{}
	var (
		timeline []load.Sample
		offset   time.Duration
		rttSum   = map[string]float64{}
		spans    = map[string]time.Duration{}
		runs     = map[string]int64{}
	)
	for _, inv := range history {
		mark := InvocationMark{Started: inv.Started, Offset: offset, Elapsed: inv.Elapsed, Outcome: inv.Outcome}
		for name, a := range inv.APIs {
			mark.Calls += a.Calls
			c := apis[name]
			if c == nil {
				c = &load.APIStats{Rate: a.Rate, First: a.First}
				apis[name] = c
			}
			c.Calls += a.Calls
			c.Retries += a.Retries
			c.RateLimited += a.RateLimited
			c.Failed += a.Failed
			c.RateCuts += a.RateCuts
			c.Last = a.Last
			c.MaxInFlight = max(c.MaxInFlight, a.MaxInFlight)
			c.InFlight = max(c.InFlight, a.InFlight)
			rttSum[name] += float64(a.RTT) * float64(a.Calls)
			if a.Calls > 1 {
				spans[name] += a.Last.Sub(a.First)
				runs[name]++
			}
		}
		for ph, pc := range inv.Phases {
			c := phases[ph]
			c.Calls += pc.Calls
			c.Retries += pc.Retries
			c.RateLimited += pc.RateLimited
			c.Failed += pc.Failed
			phases[ph] = c
		}
		for _, s := range inv.Timeline {
			s.Offset += offset
			timeline = append(timeline, s)
		}
		rr.Invocations = append(rr.Invocations, mark)
		offset += inv.Elapsed
	}
	for name, c := range apis {
		if c.Calls > 0 {
			c.RTT = time.Duration(rttSum[name] / float64(c.Calls))
		}
		// Calls per second while the API was called, the gaps between the
		// invocations left out.
		rr.Achieved[name] = 0
		if d := spans[name].Seconds(); d > 0 {
			rr.Achieved[name] = float64(c.Calls-runs[name]) / d
		}
	}
	for _, p := range rr.Phases {
		if pc, ok := phases[p.Phase]; ok {
			p.Calls, p.Retries, p.RateLimited, p.Failed = pc.Calls, pc.Retries, pc.RateLimited, pc.Failed
		}
	}
	rr.APIs, rr.Timeline, rr.Elapsed = apis, timeline, offset
	rr.Started = history[0].Started
}

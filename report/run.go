package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/plan"
)

// RunReport is what `immigrate run` reports: the validate counts, the accounting
// per entity, the engine's outcome per phase and per API, and calls/s over time.
type RunReport struct {
	Started    time.Time                 `json:"started"`
	Elapsed    time.Duration             `json:"elapsed_ns"`
	Entities   []plan.EntityCounts       `json:"validate"`
	Accounting []EntityAccounting        `json:"accounting"`
	Phases     []*load.PhaseStats        `json:"phases"`
	APIs       map[string]*load.APIStats `json:"apis"`
	Timeline   []load.Sample             `json:"timeline"`
	Achieved   map[string]float64        `json:"achieved_calls_per_second"`
	// Estimate is the plan's duration, at RTTSeconds round trips: what Elapsed
	// compares with (Estimate.Seconds the lower bound, PredictedSeconds the
	// prediction).
	Estimate   plan.CriticalPath `json:"estimate"`
	RTTSeconds float64           `json:"rtt_seconds"`
	// Invocations lists the migration's runs when it took more than one: the
	// report's calls, time and chart then cover them all (Started is the first's,
	// Elapsed their sum), each marked where it starts.
	Invocations []InvocationMark `json:"invocations,omitempty"`
}

// NewRunReport gathers a run's results, over every invocation of history (this
// one included, last) when there are several.
func NewRunReport(res *plan.ValidateResult, sum *load.Summary, started time.Time, history ...Invocation) *RunReport {
	rr := &RunReport{Started: started, Elapsed: sum.Elapsed, Entities: res.Entities, Accounting: Accounting(res, sum),
		APIs: sum.APIs, Timeline: sum.Timeline, Achieved: map[string]float64{},
		Estimate: res.Plan.Critical, RTTSeconds: res.Plan.RTTSeconds}
	for _, ph := range load.Phases() {
		if st, ok := sum.Phases[ph]; ok {
			rr.Phases = append(rr.Phases, st)
		}
	}
	for name, a := range sum.APIs {
		rr.Achieved[name] = a.AchievedRate()
	}
	rr.cumulate(history)
	return rr
}

// EntityAccounting is one entity's line of the run summary (design §4 rule 6):
// Read = Imported + Present + Rejected + Skipped, or Balanced is false and
// InFlight says how many records the target had been offered without an outcome
// when the run stopped.
type EntityAccounting struct {
	Entity extract.Entity `json:"entity"`
	// Read counts the source's records, and for users the implied accounts too,
	// which are imported without a user row of their own.
	Read     int64 `json:"read"`
	Imported int64 `json:"imported"`
	Present  int64 `json:"already_present"`
	// Rejected counts validation rejects and the target's.
	Rejected int64 `json:"rejected"`
	Skipped  int64 `json:"skipped"`
	InFlight int64 `json:"in_flight,omitempty"`
	Balanced bool  `json:"balanced"`
}

// Gap says why the identity does not hold, for a run that stopped early.
func (a EntityAccounting) Gap() string {
	missing := a.Read - (a.Imported + a.Present + a.Rejected + a.Skipped)
	return fmt.Sprintf("the run stopped before %d records had an outcome (%d of them in flight)", missing, a.InFlight)
}

// entityPhase is the engine phase that imports an entity.
var entityPhase = map[extract.Entity]load.Phase{
	extract.Users:          load.PhaseAccounts,
	extract.Groups:         load.PhaseGroups,
	extract.Topics:         load.PhaseTopics,
	extract.Members:        load.PhaseMembers,
	extract.GroupMessages:  load.PhaseGroupMessages,
	extract.DirectMessages: load.PhaseDirectMessages,
	extract.Friends:        load.PhaseFriends,
	extract.GroupDMs:       load.PhaseGroupDMs,
	extract.Profiles:       load.PhaseProfiles,
}

// Accounting combines the validate pass and the engine's counters into one line
// per entity the source had. The unread phase restores counts of members already
// accounted for, so it has no line of its own.
func Accounting(res *plan.ValidateResult, sum *load.Summary) []EntityAccounting {
	var out []EntityAccounting
	for _, e := range res.Entities {
		a := EntityAccounting{Entity: e.Entity, Read: e.Read, Rejected: e.Rejected, Skipped: e.Skipped}
		ph, ok := entityPhase[e.Entity]
		if !ok && e.Read == 0 {
			continue
		}
		if ok {
			if e.Entity == extract.Users {
				a.Read += res.Accounts.Implied
			}
			// A split message is one record of the source and several messages
			// of the plan (policies.oversize: split): each part is counted.
			a.Read += res.SplitOf(e.Entity).Extra()
			// Self-messages under policies.self_messages: to_group are read as
			// direct messages and imported as group messages of groups of their
			// own.
			if sg := res.SelfGroups; sg != nil {
				switch e.Entity {
				case extract.Groups:
					a.Read += sg.Groups
				case extract.GroupMessages:
					a.Read += sg.Messages
				case extract.DirectMessages:
					a.Read -= sg.Messages
				}
			}
			if st := sum.Phases[ph]; st != nil {
				a.Imported, a.Present = st.Imported, st.Present
				a.Rejected += st.Rejected
				a.InFlight = st.Read - st.Done()
			}
		}
		a.Balanced = a.Read == a.Imported+a.Present+a.Rejected+a.Skipped
		out = append(out, a)
	}
	return out
}

// WriteJSON writes the report for programs.
func (rr *RunReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rr)
}

func (rr *RunReport) apiNames() []string {
	names := make([]string, 0, len(rr.APIs))
	for n := range rr.APIs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// WriteMarkdown writes the report for people.
func (rr *RunReport) WriteMarkdown(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# immigrate run report\n\nStarted %s, took %s", rr.Started.UTC().Format(time.RFC3339), rr.Elapsed.Round(time.Millisecond))
	if n := len(rr.Invocations); n > 1 {
		fmt.Fprintf(&b, " over %d invocations", n)
	}
	if e := rr.Estimate; e.Dominant != "" {
		fmt.Fprintf(&b, "; the plan said at least %s, about %s at %s round trips", dur(e.Seconds), dur(e.PredictedSeconds), rtt(rr.RTTSeconds))
	}
	b.WriteString(".\n\n")
	if len(rr.Invocations) > 1 {
		b.WriteString("## Invocations\n\nCalls, retries, time and the chart below cover every invocation of this migration.\n\n" +
			"| run | started | took | calls | outcome |\n|--:|---|--:|--:|---|\n")
		for i, inv := range rr.Invocations {
			fmt.Fprintf(&b, "| %d | %s | %s | %d | %s |\n", i+1, inv.Started.UTC().Format(time.RFC3339), inv.Elapsed.Round(time.Millisecond), inv.Calls, inv.Outcome)
		}
		b.WriteString("\n")
	}
	b.WriteString("## Records\n\nread = imported + already present + rejected + skipped (design §4 rule 6).\n\n" +
		"| entity | read | imported | already present | rejected | skipped | identity |\n|---|--:|--:|--:|--:|--:|---|\n")
	for _, a := range rr.Accounting {
		holds := "holds"
		if !a.Balanced {
			holds = "does not hold: " + a.Gap()
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %s |\n", a.Entity, a.Read, a.Imported, a.Present, a.Rejected, a.Skipped, holds)
	}
	b.WriteString("\n")
	b.WriteString("## Phases\n\nIn flight is the calls the phase kept in flight at most, sized when it started from its rate × the measured round trip.\n\n" +
		"| phase | offered | imported | already present | rejected | calls | retries | throttled | in flight |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, p := range rr.Phases {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %d | %d |\n", p.Phase, p.Read, p.Imported, p.Present, p.Rejected, p.Calls, p.Retries, p.RateLimited, p.InFlight)
	}
	b.WriteString("\n## APIs\n\nThrottled attempts were answered over-rate (60007) and paced, not failed; the pacer's rate cuts are counted. " +
		"Round trip is the mean of the answered attempts; in flight is the mean and the most attempts under way at once.\n\n" +
		"| API | calls | configured rate/s | achieved rate/s | share | retries | throttled | failed | rate cuts | round trip | in flight |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, n := range rr.apiNames() {
		a := rr.APIs[n]
		share := "-"
		if a.Rate > 0 && rr.Achieved[n] > 0 {
			share = fmt.Sprintf("%.0f %%", 100*rr.Achieved[n]/a.Rate)
		}
		fmt.Fprintf(&b, "| %s | %d | %.1f | %.1f | %s | %d | %d | %d | %d | %s | %.1f / %d |\n", n, a.Calls, a.Rate, rr.Achieved[n], share,
			a.Retries, a.RateLimited, a.Failed, a.RateCuts, a.RTT.Round(100*time.Microsecond), a.InFlight, a.MaxInFlight)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// chartSeries is one API's line in the HTML chart.
type chartSeries struct {
	Name   string
	Color  string
	Points string // SVG polyline points
}

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

// WriteHTML writes a page with the phases table and a chart of calls/s per API
// (and failed calls/s) over time, as inline SVG: no scripts, nothing downloaded.
func (rr *RunReport) WriteHTML(w io.Writer) error {
	const width, height = 800.0, 260.0
	var maxRate, maxT float64
	for _, s := range rr.Timeline {
		sec := s.Width.Seconds()
		if sec <= 0 {
			continue
		}
		if t := (s.Offset + s.Width).Seconds(); t > maxT {
			maxT = t
		}
		for _, n := range s.Calls {
			maxRate = max(maxRate, float64(n)/sec)
		}
	}
	if maxRate == 0 {
		maxRate = 1
	}
	if maxT == 0 {
		maxT = 1
	}
	var series []chartSeries
	point := func(s load.Sample, n int64) string {
		x := (s.Offset + s.Width/2).Seconds() / maxT * width
		y := height - float64(n)/s.Width.Seconds()/maxRate*height
		return fmt.Sprintf("%.1f,%.1f ", x, y)
	}
	names := rr.apiNames()
	for i, n := range names {
		var calls, errs, thr bytes.Buffer
		hasErr, hasThr := false, false
		for _, s := range rr.Timeline {
			if s.Width <= 0 {
				continue
			}
			calls.WriteString(point(s, s.Calls[n]))
			errs.WriteString(point(s, s.Errors[n]))
			thr.WriteString(point(s, s.Throttled[n]))
			hasErr = hasErr || s.Errors[n] > 0
			hasThr = hasThr || s.Throttled[n] > 0
		}
		c := palette[i%len(palette)]
		series = append(series, chartSeries{Name: n + " calls/s", Color: c, Points: calls.String()})
		if hasErr {
			series = append(series, chartSeries{Name: n + " failed/s", Color: c + "88", Points: errs.String()})
		}
		if hasThr {
			series = append(series, chartSeries{Name: n + " throttled/s", Color: c + "55", Points: thr.String()})
		}
	}
	var md bytes.Buffer
	if err := rr.WriteMarkdown(&md); err != nil {
		return err
	}
	type marker struct {
		X     string
		Label string
	}
	var marks []marker
	if len(rr.Invocations) > 1 {
		for i, inv := range rr.Invocations {
			marks = append(marks, marker{fmt.Sprintf("%.1f", inv.Offset.Seconds()/maxT*width),
				fmt.Sprintf("run %d, %s: %s", i+1, inv.Started.UTC().Format(time.RFC3339), inv.Outcome)})
		}
	}
	return runHTML.Execute(w, map[string]any{
		"W": width, "H": height, "MaxRate": fmt.Sprintf("%.0f", maxRate), "MaxT": fmt.Sprintf("%.0f s", maxT),
		"Series": series, "Phases": rr.Phases, "Started": rr.Started.UTC().Format(time.RFC3339),
		"Elapsed": rr.Elapsed.Round(time.Millisecond).String(), "Marks": marks, "Runs": len(rr.Invocations),
	})
}

var runHTML = template.Must(template.New("run").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>immigrate run report</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th:first-child,td:first-child{text-align:left}</style>
</head><body>
<h1>immigrate run report</h1>
<p>Started {{.Started}}, took {{.Elapsed}}{{if .Marks}} over {{.Runs}} invocations, each marked by a dashed line{{end}}.</p>
<h2>Calls per second by API</h2>
<svg width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" style="border:1px solid #ccc;overflow:visible">
<text x="4" y="12" font-size="11">{{.MaxRate}} calls/s</text>
<text x="{{.W}}" y="{{.H}}" dy="14" font-size="11" text-anchor="end">{{.MaxT}}</text>
{{range .Series}}<polyline fill="none" stroke="{{.Color}}" stroke-width="1.5" points="{{.Points}}"><title>{{.Name}}</title></polyline>
{{end}}{{range .Marks}}<line x1="{{.X}}" x2="{{.X}}" y1="0" y2="{{$.H}}" stroke="#555" stroke-dasharray="4 3"><title>{{.Label}}</title></line>
{{end}}</svg>
<ul>{{range .Series}}<li><span style="color:{{.Color}}">&#9632;</span> {{.Name}}</li>{{end}}</ul>
<h2>Phases</h2>
<table><tr><th>phase</th><th>offered</th><th>imported</th><th>already present</th><th>rejected</th><th>calls</th><th>retries</th><th>throttled</th></tr>
{{range .Phases}}<tr><td>{{.Phase}}</td><td>{{.Read}}</td><td>{{.Imported}}</td><td>{{.Present}}</td><td>{{.Rejected}}</td><td>{{.Calls}}</td><td>{{.Retries}}</td><td>{{.RateLimited}}</td></tr>
{{end}}</table>
</body></html>
`))

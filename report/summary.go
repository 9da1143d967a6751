package report

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/plan"
)

// What `immigrate run` prints on the terminal: the validate pass in one line, the
// accounting table, and the rejects by rule.

// WriteValidated prints the validate pass in one paragraph; report.md has the rest.
func WriteValidated(w io.Writer, res *plan.ValidateResult, out string) {
	var read, valid, rejected, skipped int64
	for _, e := range res.Entities {
		read, valid, rejected, skipped = read+e.Read, valid+e.Valid, rejected+e.Rejected, skipped+e.Skipped
	}
	fmt.Fprintf(w, "validated %d records: %d valid, %d rejected, %d skipped by policy (report: %s)\n",
		read, valid, rejected, skipped, filepath.Join(out, ValidateMarkdownFile))
}

// WriteRunSummary prints the per-entity table: read = imported + already present +
// rejected + skipped (design §4 rule 6), or says where it does not hold.
// invocations is how many invocations the migration has had, this one included
// (0 when unknown): the plan's estimate covers the whole migration, so only a
// first invocation's elapsed time is set beside it; a resume's or a delta's would
// read as beating the plan's lower bound.
func WriteRunSummary(w io.Writer, res *plan.ValidateResult, sum *load.Summary, invocations int) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "entity\tread\timported\talready present\trejected\tskipped\t")
	var broken []EntityAccounting
	for _, a := range Accounting(res, sum) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", a.Entity, a.Read, a.Imported, a.Present, a.Rejected, a.Skipped)
		if !a.Balanced {
			broken = append(broken, a)
		}
	}
	tw.Flush()
	for _, a := range broken {
		fmt.Fprintf(w, "! %s: read %d but imported+present+rejected+skipped = %d: %s\n",
			a.Entity, a.Read, a.Imported+a.Present+a.Rejected+a.Skipped, a.Gap())
	}
	if n := sum.SentPastRetention; n > 0 {
		fmt.Fprintf(w, "! the target held data before this run: %d one-to-one messages older than its roaming retention (target.roaming_days) could not be read back first; they were sent, the target's dedup dropped those it held, and they count as imported (spec §7.1, §7.2)\n", n)
	}
	fmt.Fprintf(w, "elapsed %s", sum.Elapsed.Round(time.Millisecond))
	if invocations > 1 {
		fmt.Fprintf(w, " (this invocation, the migration's %s; run-report.md sets the whole migration's time beside the plan)", ordinal(invocations))
	} else if e := res.Plan.Critical; e.Dominant != "" {
		fmt.Fprintf(w, " (the plan: at least %s, about %s at %s round trips; %s", dur(e.Seconds), dur(e.PredictedSeconds),
			rtt(res.Plan.RTTSeconds), bounding(res.Plan))
		// The plan assumed a round trip (--rtt); when the run measured a very
		// different one (an in-process sandbox answers in microseconds), the
		// assumed bound would read as beaten or as missed: give it again at the
		// measured round trip.
		if m := sum.RTT; m > 0 && (m.Seconds() > 2*res.Plan.RTTSeconds || 2*m.Seconds() < res.Plan.RTTSeconds) {
			at := res.Plan.At(m).Critical
			fmt.Fprintf(w, "; at the %s round trips measured: at least %s, about %s", rtt(m.Seconds()), dur(at.Seconds), dur(at.PredictedSeconds))
		}
		fmt.Fprint(w, ")")
	}
	fmt.Fprintln(w)
}

// WriteRunFiles writes run-report.md, run-report.json and run-report.html into
// dir, each atomically: a failure leaves the previous ones as they were. history
// is the migration's invocations, this one last (see NewRunReport).
func WriteRunFiles(dir string, res *plan.ValidateResult, sum *load.Summary, started time.Time, history ...Invocation) error {
	rr := NewRunReport(res, sum, started, history...)
	return writeFiles(dir, []namedWriter{
		{"run-report.md", rr.WriteMarkdown},
		{"run-report.json", rr.WriteJSON},
		{"run-report.html", rr.WriteHTML},
	})
}

// RejectTally passes rejects on to a sink (rejects.jsonl) and counts them by
// entity and rule, with the first record of each, so that a run ends by listing
// what was rejected and why (the file has every record). It is safe for
// concurrent use.
type RejectTally struct {
	next load.RejectSink

	mu    sync.Mutex
	total int64
	rules map[rejectRule]*rejectCount
}

type rejectRule struct{ entity, rule string }

type rejectCount struct {
	n     int64
	first load.Reject
}

// NewRejectTally counts the rejects it passes on to next.
func NewRejectTally(next load.RejectSink) *RejectTally {
	return &RejectTally{next: next, rules: map[rejectRule]*rejectCount{}}
}

// Reject implements load.RejectSink.
func (t *RejectTally) Reject(r load.Reject) error {
	if err := t.next.Reject(r); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	k := rejectRule{r.Entity, r.Rule}
	c := t.rules[k]
	if c == nil {
		c = &rejectCount{first: r}
		t.rules[k] = c
	}
	c.n++
	t.total++
	return nil
}

// maxRejectMessage is how much of the first record's message a line shows.
const maxRejectMessage = 90

// Write lists the rejects by entity (in pipeline order) and rule; the file named
// is where every record is.
func (t *RejectTally) Write(w io.Writer, file string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.total == 0 {
		return
	}
	order := map[string]int{}
	for i, e := range extract.Entities() {
		order[string(e)] = i
	}
	keys := slices.SortedFunc(maps.Keys(t.rules), func(a, b rejectRule) int {
		return cmp.Or(cmp.Compare(order[a.entity], order[b.entity]), strings.Compare(a.entity, b.entity), strings.Compare(a.rule, b.rule))
	})
	fmt.Fprintf(w, "\nrejected %d records, each listed in %s; by rule, with the first of each:\n", t.total, file)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range keys {
		c := t.rules[k]
		first := c.first.Origin
		if c.first.LegacyID != "" {
			first += " " + strconv.Quote(c.first.LegacyID)
		}
		msg := c.first.Message
		if r := []rune(msg); len(r) > maxRejectMessage {
			msg = string(r[:maxRejectMessage-1]) + "…"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s: %s\n", k.entity, k.rule, c.n, first, msg)
	}
	tw.Flush()
}

// ordinal spells n as 1st, 2nd, 3rd, 4th, 11th, 21st, ...
func ordinal(n int) string {
	suffix := "th"
	switch n % 10 {
	case 1:
		suffix = "st"
	case 2:
		suffix = "nd"
	case 3:
		suffix = "rd"
	}
	if n%100 >= 11 && n%100 <= 13 {
		suffix = "th"
	}
	return strconv.Itoa(n) + suffix
}

package report

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/immigrate/immigrate/internal/atomicfile"
	"github.com/immigrate/immigrate/plan"
)

// File names of the validate report, in the output directory.
const (
	ValidateMarkdownFile = "report.md"
	ValidateJSONFile     = "report.json"
	RejectsFileName      = "rejects.jsonl"
)

// ValidateMeta says what a validate report is about. Nothing in it is read from a
// clock: the caller passes the times, and tests pass fixed ones (or none).
type ValidateMeta struct {
	Mapping string // the mapping file, as the user named it
	Source  string // "csv" or "postgres"
	// Now is the validation clock (the transformer's "now").
	Now time.Time
	// GeneratedAt is when the report was written; zero leaves it out.
	GeneratedAt time.Time
	// Rejects names the rejects file, for the summary's pointer to it.
	Rejects string
}

// validateJSON is report.json. Field names are stable: programs read them.
type validateJSON struct {
	Version     int                  `json:"version"`
	Kind        string               `json:"kind"`
	Mapping     string               `json:"mapping,omitempty"`
	Source      string               `json:"source,omitempty"`
	Now         *time.Time           `json:"now,omitempty"`
	GeneratedAt *time.Time           `json:"generated_at,omitempty"`
	Rejected    int64                `json:"rejected"`
	Result      *plan.ValidateResult `json:"result"`
}

// WriteValidateJSON writes report.json: the result under "result", with the
// meta-data and the total of rejected records at the top.
func WriteValidateJSON(w io.Writer, res *plan.ValidateResult, meta ValidateMeta) error {
	doc := validateJSON{Version: 1, Kind: "validate", Mapping: meta.Mapping, Source: meta.Source,
		Rejected: res.Rejected(), Result: withEmptyLists(res)}
	if !meta.Now.IsZero() {
		now := meta.Now.UTC()
		doc.Now = &now
	}
	if !meta.GeneratedAt.IsZero() {
		at := meta.GeneratedAt.UTC()
		doc.GeneratedAt = &at
	}
	enc := newEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// withEmptyLists returns res with every nil list made empty, so that programs
// reading report.json always find an array, never null.
func withEmptyLists(res *plan.ValidateResult) *plan.ValidateResult {
	c := *res
	c.Entities = orEmpty(c.Entities)
	c.Issues = slices.Clone(orEmpty(c.Issues))
	for i := range c.Issues {
		c.Issues[i].Examples = orEmpty(c.Issues[i].Examples)
	}
	c.Plan.Phases = orEmpty(c.Plan.Phases)
	c.TimeRanges = orEmpty(c.TimeRanges)
	c.LargestGroups = orEmpty(c.LargestGroups)
	c.LargestGroupsByMembers = orEmpty(c.LargestGroupsByMembers)
	c.LargestConversations = orEmpty(c.LargestConversations)
	c.Warnings = orEmpty(c.Warnings)
	c.Rewrites = orEmpty(c.Rewrites)
	return &c
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// WriteValidateSummary writes the head of the Markdown report: what was validated,
// the counts per entity, the accounts, the expected duration and the verdict. The
// validate command prints it.
func WriteValidateSummary(w io.Writer, res *plan.ValidateResult, meta ValidateMeta) error {
	var b bytes.Buffer
	b.WriteString("# immigrate validate\n\n")
	if meta.Mapping != "" {
		fmt.Fprintf(&b, "Mapping: %s", meta.Mapping)
		if meta.Source != "" {
			fmt.Fprintf(&b, " (source: %s)", meta.Source)
		}
		b.WriteString("  \n")
	}
	if !meta.Now.IsZero() {
		fmt.Fprintf(&b, "Checked as of: %s  \n", meta.Now.UTC().Format(time.RFC3339))
	}
	if !meta.GeneratedAt.IsZero() {
		fmt.Fprintf(&b, "Generated at: %s  \n", meta.GeneratedAt.UTC().Format(time.RFC3339))
	}
	b.WriteString("Nothing was sent to the target: this is a dry run.\n\n")

	b.WriteString("## Records\n\n")
	t := newTable("entity", "read ", "valid ", "repaired ", "rejected ", "skipped ")
	var total plan.EntityCounts
	for _, c := range res.Entities {
		t.add(string(c.Entity), num(c.Read), num(c.Valid), num(c.Repaired), num(c.Rejected), num(c.Skipped))
		total.Read += c.Read
		total.Valid += c.Valid
		total.Repaired += c.Repaired
		total.Rejected += c.Rejected
		total.Skipped += c.Skipped
	}
	t.add("total", num(total.Read), num(total.Valid), num(total.Repaired), num(total.Rejected), num(total.Skipped))
	if err := t.write(&b); err != nil {
		return err
	}
	b.WriteString("\nread = valid + rejected + skipped for every entity; repaired records are valid ones that were changed;\n" +
		"skipped records are left out by policy (the owner's member row, added by import_group; friends).\n\n")

	a := res.Accounts
	fmt.Fprintf(&b, "Accounts to import: %s (%s users", num(a.Total), num(a.Users))
	if a.Implied > 0 {
		fmt.Fprintf(&b, " + %s implied", num(a.Implied))
	}
	b.WriteString(")")
	if a.Limit > 0 {
		fmt.Fprintf(&b, "; edition limit %s", num(a.Limit))
	}
	b.WriteString(".  \n")
	if cp := res.Plan.Critical; cp.Dominant != "" {
		trips := "round trips not counted"
		if res.Plan.RTTSeconds > 0 {
			trips = rtt(res.Plan.RTTSeconds) + " round trips"
		}
		fmt.Fprintf(&b, "Expected duration: about %s, at least %s, at the configured rates and %s "+
			"(at least %s at the documented maxima); %s dominates (%s), %s.\n\n",
			dur(cp.PredictedSeconds), dur(cp.Seconds), trips, dur(cp.DocumentedSeconds),
			cp.Dominant, percent(cp.Seconds*cp.Share, cp.Seconds), bounding(res.Plan))
	} else {
		b.WriteString("Expected duration: nothing to import.\n\n")
	}

	switch n := res.Rejected(); {
	case n == 0:
		b.WriteString("**Verdict: every record can be imported.**\n")
	default:
		fmt.Fprintf(&b, "**Verdict: %s records would be rejected", num(n))
		if meta.Rejects != "" {
			fmt.Fprintf(&b, "; they are listed in %s", meta.Rejects)
		}
		b.WriteString(".**\n")
	}
	if len(res.Warnings) > 0 {
		fmt.Fprintf(&b, "Warnings: %d, listed at the end of the report.\n", len(res.Warnings))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// WriteValidateMarkdown writes report.md: the summary, then the plan, the issues by
// rule with their first examples, the time range, the largest groups and
// conversations, the rewritten ids and the warnings.
func WriteValidateMarkdown(w io.Writer, res *plan.ValidateResult, meta ValidateMeta) error {
	var b bytes.Buffer
	if err := WriteValidateSummary(&b, res, meta); err != nil {
		return err
	}
	sections := []func(*bytes.Buffer, *plan.ValidateResult) error{
		writePlan, writeIssues, writeTimeRanges, writeLargest, writeRewrites, writeWarnings,
	}
	if res.Links != nil {
		sections = append(sections, writeLinks)
	}
	for _, s := range sections {
		b.WriteString("\n")
		if err := s(&b, res); err != nil {
			return err
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func writePlan(b *bytes.Buffer, res *plan.ValidateResult) error {
	b.WriteString("## Plan\n\n")
	pl := res.Plan
	t := newTable("phase", "API", "records ", "calls ", "rate/s ", "in flight ", "longest stream ", "time ", "bound", "predicted ", "max rate/s ", "time at max ")
	for _, p := range pl.Phases {
		inFlight, longest := "", ""
		if p.InFlight > 0 {
			inFlight = num(p.InFlight)
		}
		if p.LongestStream != nil {
			longest = num(p.LongestStream.Calls)
		}
		t.add(p.Phase, p.Command, num(p.Items), num(p.Calls), rate(p.Rate), inFlight, longest, dur(p.Seconds), p.Bound,
			dur(p.PredictedSeconds), rate(p.DocumentedRate), dur(p.DocumentedSeconds))
	}
	if err := t.write(b); err != nil {
		return err
	}
	if sg := res.SelfGroups; sg != nil {
		fmt.Fprintf(b, "\nSelf-messages (policies.self_messages: to_group): %s direct messages to oneself become the messages of %s private groups, one per user; the groups and group_messages rows above count them.\n",
			num(sg.Messages), num(sg.Groups))
	}
	for _, sp := range res.Split {
		fmt.Fprintf(b, "\nSplit (policies.oversize: split): %s %s over 12,000 bytes become %s messages (spec §6.3); the records above count the parts.\n",
			num(sp.Messages), sp.Entity, num(sp.Parts))
	}
	if len(pl.Phases) == 0 {
		return nil
	}
	fmt.Fprintf(b, "\nA phase takes at least the longest of: its calls at the API's rate; its longest stream's calls one\n"+
		"after the other, one round trip each (message phases keep one call in flight per group or conversation);\n"+
		"its calls' round trips shared by the calls in flight. Round trip: %s (--rtt). \"predicted\" adds what the\n"+
		"engine adds to that bound: the last answer's round trip; retries are not predicted.\n", rtt(pl.RTTSeconds))
	listed := false
	for _, p := range pl.Phases {
		if s := p.LongestStream; s != nil {
			if !listed {
				b.WriteString("\n")
				listed = true
			}
			fmt.Fprintf(b, "- Longest stream of %s: %s, %s calls for %s records", p.Phase, s.Name(), num(s.Calls), num(s.Records))
			if s.Origin != "" {
				fmt.Fprintf(b, " (%s)", s.Origin)
			}
			fmt.Fprintf(b, ": %s.\n", dur(p.StreamSeconds))
		}
	}
	cp := pl.Critical
	if cp.Dominant == "" {
		return nil
	}
	branch := fmt.Sprintf("the group phases (%s) outlast the one-to-one messages (%s)", dur(cp.GroupChainSeconds), dur(cp.DirectSeconds))
	switch cp.Branch {
	case "direct":
		branch = fmt.Sprintf("the one-to-one messages (%s) outlast the group phases (%s)", dur(cp.DirectSeconds), dur(cp.GroupChainSeconds))
	case "friends":
		branch = fmt.Sprintf("the friends outlast the group phases (%s) and the one-to-one messages (%s)", dur(cp.GroupChainSeconds), dur(cp.DirectSeconds))
	case "profiles":
		branch = fmt.Sprintf("the profiles outlast the group phases (%s) and the one-to-one messages (%s)", dur(cp.GroupChainSeconds), dur(cp.DirectSeconds))
	}
	fmt.Fprintf(b, "\nCritical path: accounts, then the group phases (groups → members → group messages → unread)\n"+
		"alongside the one-to-one messages (design §3): %s.\n"+
		"Lower bound: %s at the configured rates, %s at the documented maxima (spec §1.10); predicted: %s.\n"+
		"The longest phase is %s, %s of the lower bound, %s.\n",
		branch, dur(cp.Seconds), dur(cp.DocumentedSeconds), dur(cp.PredictedSeconds), cp.Dominant, percent(cp.Seconds*cp.Share, cp.Seconds), bounding(pl))
	return nil
}

// bounding says what bounds the run ("bounded by …"): the dominant phase's API
// rate, its longest stream, or the calls in flight.
func bounding(pl plan.Plan) string {
	cp := pl.Critical
	var row *plan.PhasePlan
	for i := range pl.Phases {
		if p := &pl.Phases[i]; p.Phase == cp.Dominant && (row == nil || p.Seconds > row.Seconds) {
			row = p
		}
	}
	switch {
	case row == nil:
		return "bounded by nothing"
	case cp.Bound == plan.BoundStream && cp.Stream != nil:
		return fmt.Sprintf("bounded by a single stream: %s, %s calls one after the other × %s",
			cp.Stream.Name(), num(cp.Stream.Calls), rtt(pl.RTTSeconds))
	case cp.Bound == plan.BoundConcurrency:
		return fmt.Sprintf("bounded by the calls in flight: %s calls × %s ÷ %s", num(row.Calls), rtt(pl.RTTSeconds), num(row.InFlight))
	}
	return fmt.Sprintf("bounded by the rate of %s (%s calls at %s/s)", row.Command, num(row.Calls), rate(row.Rate))
}

// rtt formats a round trip in seconds as a duration ("50ms").
func rtt(seconds float64) string {
	return time.Duration(seconds * float64(time.Second)).Round(time.Microsecond).String()
}

func writeIssues(b *bytes.Buffer, res *plan.ValidateResult) error {
	b.WriteString("## Issues by rule\n\n")
	if len(res.Issues) == 0 {
		b.WriteString("None.\n")
		return nil
	}
	t := newTable("entity", "rule", "severity", "count ", "what", "spec")
	for _, is := range res.Issues {
		t.add(string(is.Entity), is.Rule, is.Severity, num(is.Count), is.Summary, is.Spec)
	}
	if err := t.write(b); err != nil {
		return err
	}
	for _, is := range res.Issues {
		fmt.Fprintf(b, "\n### %s: %s (%s, %s)\n\n", is.Entity, is.Rule, is.Severity, num(is.Count))
		for _, ex := range is.Examples {
			id := ""
			if ex.LegacyID != "" {
				id = " `" + strings.ReplaceAll(ex.LegacyID, "`", "'") + "`"
			}
			fmt.Fprintf(b, "- %s%s: %s\n", ex.Origin, id, oneLine(ex.Message))
		}
		if more := is.Count - int64(len(is.Examples)); more > 0 {
			fmt.Fprintf(b, "- … and %s more\n", num(more))
		}
	}
	return nil
}

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

func writeTimeRanges(b *bytes.Buffer, res *plan.ValidateResult) error {
	b.WriteString("## Time range\n\n")
	if len(res.TimeRanges) == 0 {
		b.WriteString("No dated records.\n")
		return nil
	}
	t := newTable("entity", "first", "last")
	for _, tr := range res.TimeRanges {
		t.add(string(tr.Entity), tr.First.UTC().Format(time.RFC3339), tr.Last.UTC().Format(time.RFC3339))
	}
	return t.write(b)
}

func writeLargest(b *bytes.Buffer, res *plan.ValidateResult) error {
	groups := func(title string, list []plan.GroupSize) error {
		fmt.Fprintf(b, "## %s\n\n", title)
		if len(list) == 0 {
			b.WriteString("None.\n")
			return nil
		}
		t := newTable("group", "GroupId", "type", "members ", "messages ")
		for _, g := range list {
			t.add(g.LegacyID, g.GroupID, g.Type, num(g.Members), num(g.Messages))
		}
		return t.write(b)
	}
	if err := groups("Largest groups by messages", res.LargestGroups); err != nil {
		return err
	}
	b.WriteString("\n")
	if err := groups("Largest groups by members", res.LargestGroupsByMembers); err != nil {
		return err
	}
	b.WriteString("\n## Largest conversations\n\n")
	if len(res.LargestConversations) == 0 {
		b.WriteString("None.\n")
		return nil
	}
	t := newTable("user", "user", "messages ")
	for _, c := range res.LargestConversations {
		t.add(c.A, c.B, num(c.Messages))
	}
	return t.write(b)
}

// maxRewritesShown bounds the rewrites listed in report.md; report.json has all.
const maxRewritesShown = 20

func writeRewrites(b *bytes.Buffer, res *plan.ValidateResult) error {
	b.WriteString("## Rewritten ids\n\n")
	if len(res.Rewrites) == 0 {
		b.WriteString("None.\n")
		return nil
	}
	t := newTable("entity", "legacy id", "target id")
	for i, rw := range res.Rewrites {
		if i == maxRewritesShown {
			break
		}
		t.add(string(rw.Entity), rw.Legacy, rw.Target)
	}
	if err := t.write(b); err != nil {
		return err
	}
	if n := len(res.Rewrites); n > maxRewritesShown {
		fmt.Fprintf(b, "\n… and %s more in report.json.\n", num(n-maxRewritesShown))
	}
	return nil
}

func writeWarnings(b *bytes.Buffer, res *plan.ValidateResult) error {
	b.WriteString("## Warnings\n\n")
	if len(res.Warnings) == 0 {
		b.WriteString("None.\n")
		return nil
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(b, "- %s\n", w)
	}
	return nil
}

// WriteValidateFiles writes report.md and report.json into dir, each atomically
// (atomicfile): a failure leaves the previous reports as they were.
func WriteValidateFiles(dir string, res *plan.ValidateResult, meta ValidateMeta) error {
	var files []namedWriter
	for _, f := range []struct {
		name  string
		write func(io.Writer, *plan.ValidateResult, ValidateMeta) error
	}{
		{ValidateMarkdownFile, WriteValidateMarkdown},
		{ValidateJSONFile, WriteValidateJSON},
	} {
		files = append(files, namedWriter{f.name, func(w io.Writer) error { return f.write(w, res, meta) }})
	}
	return writeFiles(dir, files)
}

// namedWriter is one report file: its name and what writes its content.
type namedWriter struct {
	name  string
	write func(io.Writer) error
}

// writeFiles writes the files into dir, each atomically. Every file is rendered
// and written to its temporary file before any is put in place, so a failure
// (a full disk) leaves all of them as they were, and a reader never sees half a
// report (issue 13).
func writeFiles(dir string, files []namedWriter) error {
	staged := make([]*atomicfile.File, 0, len(files))
	defer func() {
		for _, f := range staged {
			f.Abort() // a no-op once committed
		}
	}()
	for _, nf := range files {
		var b bytes.Buffer
		if err := nf.write(&b); err != nil {
			return fmt.Errorf("report: %s: %w", nf.name, err)
		}
		f, err := atomicfile.Create(filepath.Join(dir, nf.name), 0o644)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		staged = append(staged, f)
		if _, err := f.Write(b.Bytes()); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	for _, f := range staged {
		if err := f.Commit(); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	return nil
}

// writeLinks lists the dead media links validate --check-urls found, each with
// its record; they reject nothing (the import sends the URL as it is).
func writeLinks(b *bytes.Buffer, res *plan.ValidateResult) error {
	l := res.Links
	b.WriteString("## Media links\n\n")
	fmt.Fprintf(b, "%s checked (HEAD), %s live, %d dead.\n", num(l.Checked), num(l.Live), len(l.Dead))
	if len(l.Dead) == 0 {
		return nil
	}
	b.WriteString("\n")
	t := newTable("entity", "origin", "legacy id", "URL", "status", "error")
	for _, d := range l.Dead {
		status := ""
		if d.Status != 0 {
			status = fmt.Sprint(d.Status)
		}
		t.add(d.Entity, d.Origin, d.LegacyID, d.URL, status, d.Error)
	}
	return t.write(b)
}

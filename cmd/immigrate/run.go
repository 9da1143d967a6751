package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/report"
	"github.com/immigrate/immigrate/transform"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "validate, then import everything into the target",
		Description: "Validates the source exactly as `immigrate validate` does, then imports what is valid at the\n" +
			"target's rate limits: accounts, groups, members, group messages, unread counts, and one-to-one\n" +
			"messages alongside the group phases. Rejected records go to rejects.jsonl in the output directory.\n\n" +
			"Progress is kept in the mapping's checkpoint (default <output>/checkpoint.db). After Ctrl-C, a crash\n" +
			"or kill -9, the same command resumes where the run stopped: nothing is lost, nothing imported twice.\n" +
			"A changed mapping or target is refused unless --force; --fresh starts a new checkpoint.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "the mapping file"},
			&cli.StringFlag{Name: "out", Usage: "output directory (default: the mapping's output)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "validate only (same as `immigrate validate`)"},
			&cli.BoolFlag{Name: "fresh", Usage: "start a new checkpoint instead of resuming (the target is not touched)"},
			&cli.BoolFlag{Name: "force", Usage: "resume even though the mapping or the target changed since the checkpoint"},
		},
		Action: runRun,
	}
}

func runRun(c *cli.Context) error {
	ctx := c.Context
	if c.String("config") == "" {
		return usagef("run: -c FILE is required")
	}
	f, err := mappings.Load(c.String("config"))
	if err != nil {
		return &usageError{err}
	}
	out := c.String("out")
	if out == "" {
		out = f.Output
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	now := time.Now()
	stderr := c.App.ErrWriter
	// A resumed run transforms with the migration's clock, so that it yields the
	// records an earlier run did. It is read from the checkpoint without writing
	// to it: the run begins on the checkpoint only once validation passed, so a
	// run stopped by a mistake in the mapping leaves nothing that would refuse
	// the corrected mapping as another migration.
	clock := now
	opt := checkpoint.BeginOptions{Fresh: c.Bool("fresh"), Force: c.Bool("force")}
	if !c.Bool("dry-run") {
		if clock, err = resumeClock(ctx, f, out, opt, now); err != nil {
			return err
		}
	}
	tcfg, err := transformConfig(f, clock)
	if err != nil {
		return err
	}

	rejectsFile, err := report.CreateRejects(filepath.Join(out, report.RejectsFileName))
	if err != nil {
		return err
	}
	defer rejectsFile.Close()
	rejects := newRejectTally(rejectsFile)

	// 1. Validate: the same rules as `immigrate validate`; what fails is never sent.
	fmt.Fprintf(stderr, "validating %s ...\n", c.String("config"))
	validated, res, err := validateSource(ctx, f, tcfg, c.String("config"), rejects, out, clock)
	if err != nil {
		return err
	}
	writeValidated(c.App.Writer, res, out)
	if c.Bool("dry-run") {
		rejects.write(c.App.Writer, out)
		return finish(rejectsFile)
	}

	// 2. Load, resuming from the checkpoint.
	cp, err := openRunCheckpoint(ctx, stderr, f, out, opt, now)
	if err != nil {
		return err
	}
	defer cp.close()
	if !cp.now.Equal(clock) {
		return fmt.Errorf("checkpoint %s changed while this run validated (another run of this mapping?): run the same command again", cp.loc)
	}
	cp.recordRewrites(validated.Rewrites())
	engineRejects, err := cp.rejects(ctx, rejects)
	if err != nil {
		return err
	}
	tg, err := openTarget(f)
	if err != nil {
		return err
	}
	defer tg.close()
	progress := load.NewProgress()
	setTotals(progress, res)
	engine := load.NewEngine(tg.client, load.Config{
		Rates:   f.Load.Rates,
		Streams: f.Load.Concurrency,
		// The batch phases get the same concurrency. The engine's own default
		// scales with the rates, which for a rehearsal against an unthrottled
		// sandbox (rates of 100,000/s) would start tens of thousands of idle
		// workers per phase.
		Workers:           f.Load.Concurrency,
		UseMultiAccount:   true,
		GroupMsgBatch:     f.Load.GroupMsgBatch,
		MaxAttempts:       f.Load.Retries + 1,
		RecentContactFlag: recentContactFlag,
		Rejects:           engineRejects,
		Progress:          progress,
		Checkpoint:        cp.engine,
	})
	src := load.NewReplaySource(func(ctx context.Context) (extract.Reader, error) {
		return openReader(ctx, f, nil)
	}, tcfg, validated)
	defer src.Close()

	fmt.Fprintf(stderr, "importing into %s ...\n", targetName(f))
	view := startProgress(stderr, progress)
	sum, runErr := engine.Run(ctx, src)
	view.Stop()
	runErr = cp.finish(runErr)
	if sum != nil {
		writeSummary(c.App.Writer, res, sum)
		if err := writeRunReports(out, f, res, sum, now); err != nil && runErr == nil {
			runErr = err
		}
	}
	if tg.sandbox != nil {
		st := tg.sandbox.State()
		msgs := 0
		for _, g := range st.Groups {
			msgs += len(g.Messages)
		}
		c2c := 0
		for _, conv := range st.C2C {
			c2c += len(conv.Messages)
		}
		fmt.Fprintf(c.App.Writer, "\nembedded sandbox now holds %d accounts, %d groups, %d group messages, %d one-to-one messages\n",
			len(st.Accounts), len(st.Groups), msgs, c2c)
	}
	rejects.write(c.App.Writer, out)
	if runErr != nil {
		var fe *load.FatalError
		if errors.As(runErr, &fe) {
			return fmt.Errorf("run stopped: %w", runErr)
		}
		return runErr
	}
	return finish(rejectsFile)
}

// writeValidated prints the validate pass in one paragraph; report.md has the rest.
func writeValidated(w io.Writer, res *load.ValidateResult, out string) {
	var read, valid, rejected, skipped int64
	for _, e := range res.Entities {
		read, valid, rejected, skipped = read+e.Read, valid+e.Valid, rejected+e.Rejected, skipped+e.Skipped
	}
	fmt.Fprintf(w, "validated %d records: %d valid, %d rejected, %d skipped by policy (report: %s)\n",
		read, valid, rejected, skipped, filepath.Join(out, report.ValidateMarkdownFile))
}

// rejectTally passes rejects on to rejects.jsonl and counts them by entity and
// rule, with the first record of each, so that the run ends by listing what was
// rejected and why (the file has every record).
type rejectTally struct {
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

func newRejectTally(next load.RejectSink) *rejectTally {
	return &rejectTally{next: next, rules: map[rejectRule]*rejectCount{}}
}

// Reject implements load.RejectSink.
func (t *rejectTally) Reject(r load.Reject) error {
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

// write lists the rejects by entity (in pipeline order) and rule.
func (t *rejectTally) write(w io.Writer, out string) {
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
	fmt.Fprintf(w, "\nrejected %d records, each listed in %s; by rule, with the first of each:\n", t.total, filepath.Join(out, report.RejectsFileName))
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

// finish closes the rejects file and turns rejects into exit code 3.
func finish(rejects *report.RejectsFile) error {
	if err := rejects.Close(); err != nil {
		return err
	}
	if rejects.Count() > 0 {
		return fmt.Errorf("%w: %d records (see rejects.jsonl)", errRejected, rejects.Count())
	}
	return nil
}

func targetName(f *mappings.File) string {
	switch {
	case f.Target.Sandbox != "":
		return "the embedded sandbox"
	case f.Target.Endpoint != "":
		return f.Target.Endpoint
	}
	return "region " + f.Target.Region
}

// validateSource runs the dry run exactly as `immigrate validate` does (wiring.go)
// and writes its reports; it returns the transformer that ran it, whose decisions
// the run replays.
func validateSource(ctx context.Context, f *mappings.File, tcfg transform.Config, mapping string, rejects load.RejectSink, out string, now time.Time) (*transform.Transformer, *load.ValidateResult, error) {
	bad := &load.BadRows{}
	r, err := openReader(ctx, f, bad.Report)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	t, err := transform.New(tcfg)
	if err != nil {
		return nil, nil, usagef("mapping: %v", err)
	}
	opt := validateOptions(f, now)
	opt.Rejects, opt.BadRows = rejects, bad
	res, err := load.Validate(ctx, r, t, opt)
	if err != nil {
		return nil, nil, err
	}
	meta := report.ValidateMeta{Mapping: mapping, Source: sourceKind(f), Now: now, GeneratedAt: time.Now(), Rejects: report.RejectsFileName}
	if err := report.WriteValidateFiles(out, res, meta); err != nil {
		return nil, nil, err
	}
	return t, res, nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// setTotals gives each phase its expected count from the plan, for the bars (the
// unread phase included, which no entity count gives).
func setTotals(p *load.Progress, res *load.ValidateResult) {
	totals := map[load.Phase]int64{}
	for _, pp := range res.Plan.Phases {
		totals[load.Phase(pp.Phase)] += pp.Items
	}
	for _, ph := range load.Phases() {
		p.SetTotal(ph, totals[ph])
	}
}

// writeSummary prints the per-entity table: read = imported + already present +
// rejected + skipped (design §4 rule 6), or says where it does not hold.
func writeSummary(w io.Writer, res *load.ValidateResult, sum *load.Summary) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "entity\tread\timported\talready present\trejected\tskipped\t")
	var broken []report.EntityAccounting
	for _, a := range report.Accounting(res, sum) {
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
	fmt.Fprintf(w, "elapsed %s\n", sum.Elapsed.Round(time.Millisecond))
}

// writeRunReports writes run-report.md, run-report.json and run-report.html.
func writeRunReports(out string, f *mappings.File, res *load.ValidateResult, sum *load.Summary, started time.Time) error {
	rr := report.NewRunReport(res, sum, started)
	for name, write := range map[string]func(io.Writer) error{
		"run-report.md":   rr.WriteMarkdown,
		"run-report.json": rr.WriteJSON,
		"run-report.html": rr.WriteHTML,
	} {
		if err := writeFile(filepath.Join(out, name), write); err != nil {
			return err
		}
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

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
			"messages alongside the group phases. Rejected records go to rejects.jsonl in the output directory.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "the mapping file"},
			&cli.StringFlag{Name: "out", Usage: "output directory (default: the mapping's output)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "validate only (same as `immigrate validate`)"},
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
	p, err := newPipeline(f, now)
	if err != nil {
		return err
	}
	stderr := c.App.ErrWriter

	rejects, err := report.CreateRejects(filepath.Join(out, "rejects.jsonl"))
	if err != nil {
		return err
	}
	defer rejects.Close()

	// 1. Validate: the same rules as `immigrate validate`; what fails is never sent.
	fmt.Fprintf(stderr, "validating %s ...\n", c.String("config"))
	validated, res, err := validateSource(ctx, p, c.String("config"), rejects, out, now)
	if err != nil {
		return err
	}
	if c.Bool("dry-run") {
		return finish(rejects)
	}

	// 2. Load.
	tg, err := openTarget(f)
	if err != nil {
		return err
	}
	defer tg.close()
	progress := load.NewProgress()
	setTotals(progress, res)
	engine := load.NewEngine(tg.client, load.Config{
		Rates:             f.Load.Rates,
		Streams:           f.Load.Concurrency,
		UseMultiAccount:   true,
		GroupMsgBatch:     f.Load.GroupMsgBatch,
		MaxAttempts:       f.Load.Retries + 1,
		RecentContactFlag: true,
		Rejects:           rejects,
		Progress:          progress,
	})
	src := load.NewReplaySource(func(ctx context.Context) (extract.Reader, error) {
		return p.openReader(ctx, extract.Options{})
	}, p.tcfg, validated)
	defer src.Close()

	fmt.Fprintf(stderr, "importing into %s ...\n", targetName(f))
	view := startProgress(stderr, progress)
	sum, runErr := engine.Run(ctx, src)
	view.Stop()
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
	if runErr != nil {
		var fe *load.FatalError
		if errors.As(runErr, &fe) {
			return fmt.Errorf("run stopped: %w", runErr)
		}
		return runErr
	}
	return finish(rejects)
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

// validateSource runs the dry run and writes its reports; it returns the
// transformer that ran it (the run replays its decisions).
func validateSource(ctx context.Context, p *pipeline, mapping string, rejects load.RejectSink, out string, now time.Time) (*transform.Transformer, *load.ValidateResult, error) {
	bad := &load.BadRows{}
	r, err := p.openReader(ctx, extract.Options{OnBadRow: bad.Report})
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	t, err := transform.New(p.tcfg)
	if err != nil {
		return nil, nil, usagef("mapping: %v", err)
	}
	res, err := load.Validate(ctx, r, t, load.ValidateOptions{
		Rejects:          rejects,
		BadRows:          bad,
		Rates:            p.file.Load.Rates,
		UseAccountImport: p.nicksMapped(),
		GroupMsgBatch:    p.file.Load.GroupMsgBatch,
		AccountLimit:     p.file.Target.AccountLimit,
		Now:              now,
	})
	if err != nil {
		return nil, nil, err
	}
	meta := report.ValidateMeta{Mapping: mapping, Now: now, GeneratedAt: time.Now(), Rejects: "rejects.jsonl"}
	if err := writeFile(filepath.Join(out, "report.md"), func(w io.Writer) error { return report.WriteValidateMarkdown(w, res, meta) }); err != nil {
		return nil, nil, err
	}
	if err := writeFile(filepath.Join(out, "report.json"), func(w io.Writer) error { return report.WriteValidateJSON(w, res, meta) }); err != nil {
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

// setTotals gives each phase its expected count from the plan, for the bars.
func setTotals(p *load.Progress, res *load.ValidateResult) {
	p.SetTotal(load.PhaseAccounts, res.Accounts.Total)
	for _, e := range res.Entities {
		if ph, ok := entityPhase[e.Entity]; ok && ph != load.PhaseAccounts {
			p.SetTotal(ph, e.Valid)
		}
	}
}

var entityPhase = map[extract.Entity]load.Phase{
	extract.Users:          load.PhaseAccounts,
	extract.Groups:         load.PhaseGroups,
	extract.Members:        load.PhaseMembers,
	extract.GroupMessages:  load.PhaseGroupMessages,
	extract.DirectMessages: load.PhaseDirectMessages,
}

// writeSummary prints the per-entity table: read = imported + already present +
// rejected + skipped (design §4 rule 6), or says where it does not hold.
func writeSummary(w io.Writer, res *load.ValidateResult, sum *load.Summary) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "entity\tread\timported\talready present\trejected\tskipped\t")
	for _, e := range res.Entities {
		ph, ok := entityPhase[e.Entity]
		if !ok {
			continue
		}
		st := sum.Phases[ph]
		read := e.Read
		imported, present, rejected := st.Imported, st.Present, e.Rejected+st.Rejected
		if ph == load.PhaseAccounts {
			// Implied accounts are imported without a user row of their own.
			read += res.Accounts.Implied
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", e.Entity, read, imported, present, rejected, e.Skipped)
		if got := imported + present + rejected + e.Skipped; got != read {
			fmt.Fprintf(tw, "  ! %s: read %d but imported+present+rejected+skipped = %d (%d offered to the target, %d still in flight when the run stopped)\t\t\t\t\t\t\n",
				e.Entity, read, got, st.Read, st.Read-st.Done())
		}
	}
	tw.Flush()
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

package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/migration"
	"github.com/immigrate/immigrate/report"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "validate, then import everything into the target",
		Description: "Validates the source exactly as `immigrate validate` does, writing the plan (every record to\n" +
			"import, in order) to <output>/plan, then imports what is valid at the target's rate limits:\n" +
			"accounts, groups, members, group messages, unread counts, and one-to-one messages alongside the\n" +
			"group phases. Rejected records go to rejects.jsonl in the output directory.\n\n" +
			"Progress is kept in the mapping's checkpoint (default <output>/checkpoint.db). After Ctrl-C, a crash\n" +
			"or kill -9, the same command resumes where the run stopped from the plan, without reading the\n" +
			"source again: nothing is lost, nothing imported twice. A source that changed since the plan was\n" +
			"written is refused (exit 2), as is a changed mapping or target unless --force; --fresh starts over\n" +
			"with a new plan and a new checkpoint.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "the mapping file"},
			&cli.StringFlag{Name: "out", Usage: "output directory (default: the mapping's output)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "validate only (same as `immigrate validate`)"},
			&cli.BoolFlag{Name: "fresh", Usage: "validate the source again and start a new checkpoint instead of resuming (the target is not touched)"},
			&cli.BoolFlag{Name: "force", Usage: "resume even though the mapping or the target changed since the checkpoint"},
			rttFlag(),
			&cli.StringFlag{Name: "memprofile", Hidden: true, Usage: "write heap profiles to `PREFIX`.validate.pprof and PREFIX.load.pprof"},
		},
		Action: runRun,
	}
}

func runRun(c *cli.Context) error {
	ctx := c.Context
	if c.String("config") == "" {
		return usagef("run: -c FILE is required")
	}
	if c.Bool("dry-run") {
		return dryRun(c, c.String("config"), "")
	}
	f, err := mappings.Load(c.String("config"))
	if err != nil {
		return &usageError{err}
	}
	rtt, err := rttOf(c)
	if err != nil {
		return err
	}
	out, err := outputDir(c, f)
	if err != nil {
		return err
	}
	stderr := c.App.ErrWriter
	opt := checkpoint.BeginOptions{Fresh: c.Bool("fresh"), Force: c.Bool("force")}
	rejectsFile, err := report.CreateRejects(filepath.Join(out, report.RejectsFileName))
	if err != nil {
		return err
	}
	// rejects.jsonl is put in place once the engine has run (below); a run that
	// stops before that leaves the previous one.
	defer rejectsFile.Abort()
	rejects := report.NewRejectTally(rejectsFile)
	prof := newMemProfiler(c.String("memprofile"), stderr)
	defer prof.close()

	// 1. The plan: the validate pass writes it, or an earlier run of this
	// migration did and the source has not changed since.
	pl, err := migration.PreparePlan(ctx, f, migration.PlanOptions{
		Mapping: c.String("config"), Out: out, Begin: opt, Rejects: rejects, Stderr: stderr, OnRead: sourceReadHook(c),
		RTT: rtt,
	})
	if err != nil {
		return err
	}
	prof.write("validate")
	res := pl.Spool.Meta().Result
	report.WriteValidated(c.App.Writer, res, out)

	// 2. Load, resuming from the checkpoint.
	cp, err := migration.OpenCheckpoint(ctx, stderr, f, out, opt, pl)
	if err != nil {
		return err
	}
	defer cp.Close()
	if pl.Built && !cp.Clock.Equal(pl.Clock) {
		return fmt.Errorf("checkpoint %s changed while this run validated (another run of this mapping?): run the same command again", cp.Loc)
	}
	cp.RecordRewrites(res.Rewrites)
	engineRejects, err := cp.Rejects(ctx, rejects)
	if err != nil {
		return err
	}
	tg, err := migration.OpenTarget(f)
	if err != nil {
		return err
	}
	defer tg.Close()
	progress := load.NewProgress()
	for ph, n := range res.Plan.Items() {
		progress.SetTotal(load.Phase(ph), n)
	}
	engine := load.NewEngine(tg.Client, load.Config{
		Rates: f.Load.Rates,
		// Each phase sizes its calls in flight from its rate and the measured
		// round trip (Little's law), at most load.concurrency: a rehearsal
		// against an unthrottled sandbox (rates of 100,000/s) must not start
		// tens of thousands of idle workers.
		MaxInFlight:       f.Load.Concurrency,
		UseMultiAccount:   true,
		GroupMsgBatch:     f.Load.GroupMsgBatch,
		MaxAttempts:       f.Load.Retries + 1,
		RecentContactFlag: migration.RecentContactFlag,
		Rejects:           engineRejects,
		Progress:          progress,
		Checkpoint:        cp.Engine,
		RoamingDays:       f.Target.RoamingDays,
	})

	fmt.Fprintf(stderr, "importing into %s ...\n", targetName(f))
	view := startProgress(stderr, progress)
	stopHistory := keepHistory(out, cp.Now, pl.Started, engine)
	sum, runErr := engine.Run(ctx, pl.Spool.Source())
	stopHistory()
	view.Stop()
	prof.write("load")
	runErr = cp.Finish(runErr)
	// Whatever stopped the engine, the file now lists every reject the migration
	// met so far, whole; the next run writes it again from the start.
	if err := rejectsFile.Close(); err != nil && runErr == nil {
		runErr = err
	}
	if sum != nil {
		history, err := endHistory(ctx, out, cp.Now, pl.Started, sum, runErr)
		report.WriteRunSummary(c.App.Writer, res, sum, len(history))
		if err == nil {
			err = report.WriteRunFiles(out, res, sum, pl.Started, history...)
		}
		if err != nil && runErr == nil {
			runErr = err
		}
	}
	if tg.Sandbox != nil {
		tg.WriteSandboxHolds(c.App.Writer)
	}
	rejects.Write(c.App.Writer, filepath.Join(out, report.RejectsFileName))
	if runErr != nil {
		var fe *load.FatalError
		if errors.As(runErr, &fe) {
			return fmt.Errorf("run stopped: %w", runErr)
		}
		return runErr
	}
	return finish(rejectsFile)
}

// historyEvery is how often a running invocation saves its figures, so that a
// SIGKILLed one still counts in the migration's run report, but for its last
// seconds.
const historyEvery = 10 * time.Second

// keepHistory saves the engine's figures as this invocation's (of the migration
// begun at migration) every historyEvery until the returned stop is called.
func keepHistory(out string, migration, started time.Time, engine *load.Engine) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(historyEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if sum := engine.Summary(); sum != nil {
					// Best effort: the final write reports a failure.
					_ = report.WriteInvocation(out, report.NewInvocation(migration, started, sum, "running"))
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// endHistory saves this invocation's final figures and returns the migration's
// invocations, this one last.
func endHistory(ctx context.Context, out string, migration, started time.Time, sum *load.Summary, runErr error) ([]report.Invocation, error) {
	outcome := "finished"
	switch {
	case ctx.Err() != nil:
		outcome = "interrupted"
	case runErr != nil:
		outcome = "stopped: " + runErr.Error()
		if len(outcome) > 200 {
			outcome = outcome[:200] + "…"
		}
	}
	if err := report.WriteInvocation(out, report.NewInvocation(migration, started, sum, outcome)); err != nil {
		return nil, err
	}
	return report.ReadHistory(out, migration)
}

// finish turns rejects into exit code 3.
func finish(rejects *report.RejectsFile) error {
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

// sourceReadHookKey names, in the app's Metadata, a func(extract.Entity) called
// each time the source is read: tests count reads with it.
const sourceReadHookKey = "immigrate.onSourceRead"

func sourceReadHook(c *cli.Context) func(extract.Entity) {
	fn, _ := c.App.Metadata[sourceReadHookKey].(func(extract.Entity))
	return fn
}

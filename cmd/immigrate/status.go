package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/migration"
	"github.com/immigrate/immigrate/plan"
	"github.com/immigrate/immigrate/report"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show a migration's progress from its checkpoint, without running anything",
		Description: "Reads the mapping's checkpoint — also while a run is writing it — and prints, per phase,\n" +
			"whether it finished and how many records were imported, already present or rejected, how\n" +
			"many streams (groups, conversations) have progress, and the group-message calls in doubt that\n" +
			"the next run will reconcile. It compares the source with the last run's plan by its\n" +
			"fingerprint (file sizes and times, row counts; no record is read), unless --no-source,\n" +
			"to tell a migration complete as of the last run from one whose source has more. The\n" +
			"target is not contacted.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "the mapping file"},
			&cli.StringFlag{Name: "out", Usage: "output directory the run used (default: the mapping's output)"},
			&cli.BoolFlag{Name: "no-source", Usage: "do not compare the source with the last run's plan"},
		},
		Action: runStatus,
	}
}

func runStatus(c *cli.Context) error {
	ctx := c.Context
	if c.String("config") == "" {
		return usagef("status: -c FILE is required")
	}
	f, err := mappings.Load(c.String("config"))
	if err != nil {
		return &usageError{err}
	}
	loc := migration.LocateCheckpoint(f, c.String("out"))
	store, err := loc.Open(ctx, true)
	if errors.Is(err, migration.ErrNoCheckpoint) {
		return fmt.Errorf("no checkpoint at %s: no run of this mapping has begun", loc)
	}
	if err != nil {
		return fmt.Errorf("open checkpoint %s: %w", loc, err)
	}
	defer store.Close()
	st, err := report.ReadStatus(ctx, store)
	if errors.Is(err, checkpoint.ErrNoManifest) {
		return fmt.Errorf("no checkpoint at %s: no run of this mapping has begun", loc)
	}
	if err != nil {
		return fmt.Errorf("read checkpoint %s: %w", loc, err)
	}
	sc := report.StatusContext{Location: loc.String(), Target: migration.TargetIdentity(f), MappingHash: f.Hash()}
	if !c.Bool("no-source") {
		out := c.String("out")
		if out == "" {
			out = f.Output
		}
		changed, planned, err := migration.SourceChanges(ctx, f, out)
		if errors.Is(err, plan.ErrNoSpool) {
			err = fmt.Errorf("no plan in %s", out)
		}
		sc.Source = &report.SourceState{Planned: planned, Changed: changed, Err: err}
	}
	st.Write(c.App.Writer, sc)
	return nil
}

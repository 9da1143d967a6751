package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/migration"
	"github.com/immigrate/immigrate/report"
	"github.com/immigrate/immigrate/verify"
)

// errDifferent reports that verify found records missing or different in the
// target (exit code 3). The command has already printed where the findings are.
var errDifferent = errors.New("records are missing or different in the target")

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "read the target back and reconcile it with the source",
		Description: "Reads back every user (account_check, portrait_get), group (get_group_info), member\n" +
			"(get_group_member_info), group message (group_msg_get_simple) and one-to-one message\n" +
			"(admin_getroammsg) the import sends, at the mapping's load.rates, and compares it with the plan in\n" +
			"<output>/plan (validating the source again when the plan is missing or the source changed).\n" +
			"Writes verify.md, verify.json and verify.html: per entity expected / present / missing / different,\n" +
			"each finding with the record's origin. Exit code 3 when something is missing or different.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "the mapping file"},
			&cli.StringFlag{Name: "out", Usage: "output directory the run used, where the reports go (default: the mapping's output)"},
			&cli.StringFlag{Name: "sample", Usage: "verify only this percentage of users, groups and conversations (e.g. 5 or 0.5%), chosen by a hash of their ids", Value: "100"},
		},
		Action: runVerify,
	}
}

func runVerify(c *cli.Context) error {
	ctx := c.Context
	if c.String("config") == "" {
		return usagef("verify: -c FILE is required")
	}
	sample, err := parseSample(c.String("sample"))
	if err != nil {
		return usagef("verify: --sample: %v", err)
	}
	f, err := mappings.Load(c.String("config"))
	if err != nil {
		return &usageError{err}
	}
	if f.Target.Sandbox == mappings.SandboxEmbedded {
		return usagef("verify: the embedded sandbox lives only as long as one run, so there is nothing to read back; point target at an endpoint (e.g. `immigrate sandbox`) or a region")
	}
	out, err := outputDir(c, f)
	if err != nil {
		return err
	}
	stderr := c.App.ErrWriter
	started := time.Now()
	pl, err := migration.OpenVerifyPlan(ctx, f, c.String("config"), out, stderr)
	if err != nil {
		return err
	}
	defer pl.Close()
	tg, err := migration.OpenTarget(f)
	if err != nil {
		return err
	}
	defer tg.Close()

	rejected, err := migration.RunRejects(ctx, f, out)
	if err != nil {
		return err
	}
	progress := verify.NewProgress()
	if sample >= 100 {
		// The spool's counts; a group that fell at the end of the validate pass
		// is in them but not verified, so the totals may be a little high.
		for e, ph := range map[extract.Entity]load.Phase{extract.Users: load.PhaseAccounts, extract.Groups: load.PhaseGroups,
			extract.Members: load.PhaseMembers, extract.GroupMessages: load.PhaseGroupMessages, extract.DirectMessages: load.PhaseDirectMessages,
			extract.Friends: load.PhaseFriends, extract.GroupDMs: load.PhaseGroupDMs,
			extract.Profiles: load.PhaseProfiles} {
			progress.SetTotal(e, pl.Spool.Records(ph))
		}
	}
	const verifyWorkers = 64
	caller := load.NewCaller(tg.Client, f.Load.Rates, f.Load.Retries+1)
	fmt.Fprintf(stderr, "reading back %s ...\n", targetName(f))
	stop := drawVerifyProgress(stderr, progress)
	res, err := verify.Run(ctx, caller, pl.Spool.Source(), verify.Config{
		// Each worker holds one stream's read-back: a bounded number, whatever
		// load.concurrency allows the import.
		Sample: sample, Workers: min(f.Load.Concurrency, verifyWorkers), RoamingDays: f.Target.RoamingDays, Progress: progress,
		Rejected: rejected,
	})
	stop()
	if err != nil {
		var fe *load.FatalError
		if errors.As(err, &fe) {
			return fmt.Errorf("verify stopped: %w", err)
		}
		return err
	}
	res.Calls = caller.Calls()
	meta := report.VerifyMeta{Mapping: c.String("config"), Target: targetName(f), Plan: pl.Desc, Started: started, Elapsed: time.Since(started)}
	if err := report.WriteVerifyFiles(out, res, meta); err != nil {
		return err
	}
	writeVerifySummary(c.App.Writer, res, out)
	if !res.OK() {
		return fmt.Errorf("%w (see %s)", errDifferent, filepath.Join(out, report.VerifyMarkdownFile))
	}
	return nil
}

// parseSample reads a percentage: "5", "5%", "0.5".
func parseSample(s string) (float64, error) {
	p, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%")), 64)
	if err != nil || !(p > 0 && p <= 100) {
		return 0, fmt.Errorf("%q is not a percentage in (0, 100]", s)
	}
	return p, nil
}

// writeVerifySummary prints the per-entity table and the first findings.
func writeVerifySummary(w io.Writer, res *verify.Result, out string) {
	fmt.Fprintf(w, "\n%-16s %10s %10s %10s %10s %10s %10s\n", "entity", "expected", "present", "missing", "different", "beyond ret.", "rejected")
	for _, c := range res.Entities {
		fmt.Fprintf(w, "%-16s %10d %10d %10d %10d %10d %10d\n", c.Entity, c.Expected, c.Present, c.Missing, c.Different, c.BeyondRetention, c.Rejected)
	}
	for _, s := range res.Warnings {
		fmt.Fprintf(w, "! %s\n", s)
	}
	const shown = 10
	for i, f := range res.Findings {
		if i == shown {
			fmt.Fprintf(w, "  … and %d more\n", int64(len(res.Findings)-shown)+res.FindingsDropped)
			break
		}
		fields := ""
		if len(f.Fields) > 0 {
			fields = " (" + strings.Join(f.Fields, ", ") + ")"
		}
		fmt.Fprintf(w, "  %s %s%s: %s %q %s: %s\n", f.Entity, f.Kind, fields, f.Origin, f.LegacyID, f.Target, f.Detail)
	}
	fmt.Fprintf(w, "reports: %s, %s, %s\n", filepath.Join(out, report.VerifyMarkdownFile),
		filepath.Join(out, report.VerifyJSONFile), filepath.Join(out, report.VerifyHTMLFile))
}

// drawVerifyProgress prints the checked records per entity on stderr: redrawn in
// place on a terminal, else a line every few seconds. The returned func stops it
// after a last line.
func drawVerifyProgress(w io.Writer, p *verify.Progress) (stop func()) {
	tty := isTerminal(w)
	interval := 5 * time.Second
	if tty {
		interval = 250 * time.Millisecond
	}
	line := func() string {
		snap, findings := p.Snapshot()
		parts := make([]string, 0, len(snap))
		for _, e := range snap {
			if e.Total > 0 {
				parts = append(parts, fmt.Sprintf("%s %d/%d", e.Entity, e.Checked, e.Total))
			} else {
				parts = append(parts, fmt.Sprintf("%s %d", e.Entity, e.Checked))
			}
		}
		return fmt.Sprintf("verify: %s; findings %d", strings.Join(parts, ", "), findings)
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				if tty {
					fmt.Fprintf(w, "\r\033[K%s\n", line())
				} else {
					fmt.Fprintln(w, line())
				}
				return
			case <-t.C:
				if tty {
					fmt.Fprintf(w, "\r\033[K%s", line())
				} else {
					fmt.Fprintln(w, line())
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-finished
	}
}

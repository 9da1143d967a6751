package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/migration"
	"github.com/immigrate/immigrate/plan"
	"github.com/immigrate/immigrate/report"
	"github.com/immigrate/immigrate/urlcheck"
)

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:  "validate",
		Usage: "dry run: read, map and check everything; say what would be imported, repaired or rejected",
		Description: "Reads every record of the mapping's source, maps it to TIM payloads and checks it against\n" +
			"every documented rule of the target, without contacting it. Writes report.md, report.json and\n" +
			"rejects.jsonl, and prints the report's summary. Exit code 0 when nothing would be rejected,\n" +
			"3 when something would.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "the mapping file"},
			&cli.StringFlag{Name: "out", Usage: "directory for the reports (default: the mapping's output)"},
			&cli.StringFlag{Name: "now", Usage: "check as of this RFC 3339 time instead of the clock; the report is then reproducible"},
			rttFlag(),
			&cli.BoolFlag{Name: "check-urls", Usage: "HEAD every media URL the import would send and list the dead links in the report"},
			&cli.IntFlag{Name: "check-urls-concurrency", Value: 8, Usage: "--check-urls: requests in flight"},
			&cli.DurationFlag{Name: "check-urls-timeout", Value: 10 * time.Second, Usage: "--check-urls: timeout of one request"},
		},
		Action: runValidate,
	}
}

// rttFlag is --rtt of validate and run: the round trip the plan's time estimate
// assumes.
func rttFlag() cli.Flag {
	return &cli.DurationFlag{Name: "rtt", Value: plan.DefaultRTT,
		Usage: "round trip of one call to the target, for the time estimate (one call in flight per group or conversation)"}
}

// rttOf returns --rtt, refusing a negative one.
func rttOf(c *cli.Context) (time.Duration, error) {
	d := c.Duration("rtt")
	if d < 0 {
		return 0, usagef("%s: --rtt %v: must not be negative", c.Command.Name, d)
	}
	return d, nil
}

func runValidate(c *cli.Context) error {
	if c.String("config") == "" {
		return usagef("validate: -c FILE is required")
	}
	return dryRun(c, c.String("config"), c.String("now"))
}

// dryRun is `immigrate validate` and `immigrate run --dry-run`: one path, one
// output. It reads the source once, writes report.md, report.json and
// rejects.jsonl into the output directory, and prints the report's summary.
func dryRun(c *cli.Context, path, nowFlag string) error {
	f, err := mappings.Load(path)
	if err != nil {
		return usagef("validate: %v", err)
	}
	rtt, err := rttOf(c)
	if err != nil {
		return err
	}
	now, fixed := time.Now(), false
	if nowFlag != "" {
		if now, err = time.Parse(time.RFC3339, nowFlag); err != nil {
			return usagef("validate: --now %q: not an RFC 3339 time", nowFlag)
		}
		fixed = true
	}
	out, err := outputDir(c, f)
	if err != nil {
		return fmt.Errorf("validate: %w", err)
	}

	res, rejects, err := validateMapping(c, f, now, out, rtt)
	if err != nil {
		return err
	}
	// rejects.jsonl is put in place after the reports it goes with: a failure
	// (a full disk) leaves the previous three as they were.
	defer rejects.Abort()
	meta := migration.ValidateMeta(path, f, now, time.Time{})
	if !fixed {
		meta.GeneratedAt = time.Now()
	}
	if err := report.WriteValidateFiles(out, res, meta); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	if err := rejects.Close(); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	w := c.App.Writer
	if err := report.WriteValidateSummary(w, res, meta); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	fmt.Fprintf(w, "\nFull report: %s (and %s); rejects: %s\n", filepath.Join(out, report.ValidateMarkdownFile),
		report.ValidateJSONFile, filepath.Join(out, report.RejectsFileName))
	if res.Rejected() > 0 {
		return errRejected
	}
	return nil
}

// validateMapping runs the dry run of f at round trip rtt, writing the rejects
// into a rejects.jsonl in out that the caller puts in place (Close) or drops
// (Abort).
func validateMapping(c *cli.Context, f *mappings.File, now time.Time, out string, rtt time.Duration) (res *plan.ValidateResult, rejects *report.RejectsFile, err error) {
	tr, err := migration.NewTransformer(f, now)
	if err != nil {
		return nil, nil, err
	}
	bad := &plan.BadRows{}
	r, err := migration.OpenReader(c.Context, f, extract.Options{OnBadRow: bad.Report, OnRead: sourceReadHook(c)})
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if cerr := r.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("validate: close source: %w", cerr)
		}
		if err != nil && rejects != nil {
			rejects.Abort()
			res, rejects = nil, nil
		}
	}()
	rejects, err = report.CreateRejects(filepath.Join(out, report.RejectsFileName))
	if err != nil {
		return nil, nil, fmt.Errorf("validate: %w", err)
	}
	opt := migration.ValidateOptions(f, now)
	opt.Rejects, opt.BadRows, opt.RTT = rejects, bad, rtt
	var links *urlcheck.Checker
	if c.Command.Name == "validate" && c.Bool("check-urls") {
		links = urlcheck.New(c.Context, urlcheck.Config{Concurrency: c.Int("check-urls-concurrency"), Timeout: c.Duration("check-urls-timeout")})
		opt.OnMediaURL = func(e extract.Entity, origin, legacyID, url string) {
			links.Add(urlcheck.Link{Entity: string(e), Origin: origin, LegacyID: legacyID, URL: url})
		}
	}
	res, err = plan.Validate(c.Context, r, tr, opt)
	if links != nil {
		lr := links.Wait()
		if res != nil {
			res.Links = &lr
		}
	}
	if err != nil {
		return nil, rejects, fmt.Errorf("validate: %w", err)
	}
	return res, rejects, nil
}

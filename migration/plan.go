package migration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/plan"
	"github.com/immigrate/immigrate/report"
)

// PlanDir is the spool of a run's plan, in the output directory.
const PlanDir = "plan"

// Plan is the plan a run imports.
type Plan struct {
	Spool   *plan.Spool
	Built   bool      // this run's validate pass wrote it
	Clock   time.Time // the clock it was validated with
	Started time.Time // this run's start

	// deltaOf is the plan the checkpoint followed when the source grew since: the
	// Spool is then the full plan of the grown source (at fullDir), and
	// OpenCheckpoint turns it into the delta plan under the run lock.
	deltaOf *plan.Spool
	fullDir string
}

// PlanOptions are the settings of PreparePlan.
type PlanOptions struct {
	Mapping string // the mapping file's path, for the reports
	Out     string // the output directory
	Begin   checkpoint.BeginOptions
	Rejects load.RejectSink // receives the validate rejects
	Stderr  io.Writer       // where progress sentences go
	// OnRead, when set, is called each time an entity of the source is read
	// (extract.Options.OnRead): tests count the reads with it.
	OnRead func(extract.Entity)
	// RTT is the round trip the plan's time estimate assumes
	// (plan.ValidateOptions.RTT).
	RTT time.Duration
}

// PreparePlan returns the plan of the run: the one an earlier run of this
// migration wrote, when the mapping is the same and the source did not change
// (the source is then not read at all), else a new one from one validate pass.
// Validate rejects go to rejects either way.
func PreparePlan(ctx context.Context, f *mappings.File, o PlanOptions) (*Plan, error) {
	stderr, mapping, out, opt, rejects := o.Stderr, o.Mapping, o.Out, o.Begin, o.Rejects
	now := time.Now()
	// A run that will resume validates with the migration's clock, so that a plan
	// written again holds the records at the positions the checkpoint recorded.
	// It also refuses early what Begin would refuse: a changed mapping or target.
	clock, err := resumeClock(ctx, f, out, opt, now)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(out, PlanDir)
	if err := finishSwap(dir); err != nil {
		return nil, err
	}
	if !opt.Fresh && f.Target.Sandbox != mappings.SandboxEmbedded {
		sp, err := plan.OpenSpool(dir)
		switch {
		case err == nil && sp.Meta().MappingHash == f.Hash():
			if err := checkSource(ctx, f, dir, sp.Meta().Source); err != nil {
				progress, perr := hasProgress(ctx, f, out)
				if perr != nil {
					return nil, perr
				}
				if !progress {
					fmt.Fprintf(stderr, "plan %s: the source changed and no run made progress on it; validating again\n", dir)
					break
				}
				// A delta run (issue 9): the full plan of the grown source first,
				// with today's clock (new records are not in the future of the
				// migration's start); the delta is cut under the run lock.
				fmt.Fprintf(stderr, "plan %s: the source changed since it was written; validating the grown source for a delta run ...\n", dir)
				full := dir + fullSuffix
				res, err := buildSpool(ctx, f, full, now, o.RTT, rejects, o.OnRead)
				if err != nil {
					return nil, err
				}
				if err := report.WriteValidateFiles(out, res, ValidateMeta(mapping, f, now, time.Now())); err != nil {
					return nil, err
				}
				fsp, err := plan.OpenSpool(full)
				if err != nil {
					return nil, err
				}
				return &Plan{Spool: fsp, Built: true, Clock: now, Started: now, deltaOf: sp, fullDir: full}, nil
			}
			if err := sp.Rejects(ctx, rejects.Reject); err != nil {
				return nil, err
			}
			meta := sp.Meta()
			// The plan may have been estimated at another round trip; the calls
			// and streams are the same. The run reads this Result too.
			meta.Result.Plan = meta.Result.Plan.At(o.RTT)
			if err := report.WriteValidateFiles(out, meta.Result, ValidateMeta(mapping, f, meta.Now, meta.Created)); err != nil {
				return nil, err
			}
			fmt.Fprintf(stderr, "plan %s: written %s, the source unchanged since: not read again\n", dir, meta.Created.Local().Format(time.DateTime))
			return &Plan{Spool: sp, Clock: meta.Now, Started: now}, nil
		case err == nil:
			fmt.Fprintf(stderr, "plan %s: written for another mapping; validating again\n", dir)
		case !errors.Is(err, plan.ErrNoSpool):
			fmt.Fprintf(stderr, "plan %s: %v; validating again\n", dir, err)
		}
	}

	fmt.Fprintf(stderr, "validating %s ...\n", mapping)
	res, err := buildSpool(ctx, f, dir, clock, o.RTT, rejects, o.OnRead)
	if err != nil {
		return nil, err
	}
	if err := report.WriteValidateFiles(out, res, ValidateMeta(mapping, f, clock, time.Now())); err != nil {
		return nil, err
	}
	sp, err := plan.OpenSpool(dir)
	if err != nil {
		return nil, err
	}
	return &Plan{Spool: sp, Built: true, Clock: clock, Started: now}, nil
}

// buildSpool runs one validate pass over f's source at clock and seals its plan
// at dir: the source's fingerprint is taken first, rejects (may be nil; the plan
// keeps a copy) receive every reject, onRead (may be nil) sees each read.
func buildSpool(ctx context.Context, f *mappings.File, dir string, clock time.Time, rtt time.Duration,
	rejects load.RejectSink, onRead func(extract.Entity)) (*plan.ValidateResult, error) {
	bad := &plan.BadRows{}
	r, err := OpenReader(ctx, f, extract.Options{OnBadRow: bad.Report, OnRead: onRead})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	fp, err := fingerprint(ctx, r)
	if err != nil {
		return nil, err
	}
	t, err := NewTransformer(f, clock)
	if err != nil {
		return nil, err
	}
	vopt := ValidateOptions(f, clock)
	vopt.RTT = rtt
	vopt.Rejects, vopt.BadRows = rejects, bad
	return plan.Build(ctx, r, t, vopt, dir, plan.Meta{MappingHash: f.Hash(), Source: fp, Now: clock})
}

// fingerprint identifies the source's state without reading its records (file
// sizes and times, row counts).
func fingerprint(ctx context.Context, r extract.Reader) ([]extract.SourcePart, error) {
	fr, ok := r.(extract.Fingerprinter)
	if !ok {
		return nil, nil
	}
	fp, err := fr.Fingerprint(ctx)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	return fp, nil
}

// SourceChanges compares the source as it is now with the one the plan in out
// was validated from (fingerprints only: file sizes and times, row counts; no
// record is read). It returns one sentence per part that changed, none when the
// source is unchanged, and plan.ErrNoSpool when out holds no plan.
func SourceChanges(ctx context.Context, f *mappings.File, out string) (changed []string, planned time.Time, err error) {
	sp, err := plan.OpenSpool(filepath.Join(out, PlanDir))
	if err != nil {
		return nil, time.Time{}, err
	}
	r, err := OpenReader(ctx, f, extract.Options{})
	if err != nil {
		return nil, time.Time{}, err
	}
	defer r.Close()
	now, err := fingerprint(ctx, r)
	if err != nil {
		return nil, time.Time{}, err
	}
	return extract.Changed(sp.Meta().Source, now), sp.Meta().Created, nil
}

// checkSource refuses a plan whose source changed since it was written: a resume
// would silently import the old data (issue: a source that grew needs a new plan).
func checkSource(ctx context.Context, f *mappings.File, dir string, was []extract.SourcePart) error {
	r, err := OpenReader(ctx, f, extract.Options{})
	if err != nil {
		return err
	}
	defer r.Close()
	now, err := fingerprint(ctx, r)
	if err != nil {
		return err
	}
	if changed := extract.Changed(was, now); len(changed) > 0 {
		return configf("the source changed since the plan %s was written:\n  %s\nrun with --fresh to validate it again and start a new checkpoint (the target keeps what earlier runs imported)",
			dir, strings.Join(changed, "\n  "))
	}
	return nil
}

// ValidateMeta is the header of the validate reports.
func ValidateMeta(mapping string, f *mappings.File, now, generated time.Time) report.ValidateMeta {
	return report.ValidateMeta{Mapping: mapping, Source: SourceKind(f), Now: now, GeneratedAt: generated, Rejects: report.RejectsFileName}
}

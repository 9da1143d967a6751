package migration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/plan"
)

// VerifyPlan is the plan `immigrate verify` compares the target with.
type VerifyPlan struct {
	Spool *plan.Spool
	// Desc says which plan it is, for the report.
	Desc string
	// Close releases it: a plan built for this verification is deleted.
	Close func() error
}

// OpenVerifyPlan returns the plan of the migration in out when it was written for
// this mapping and the source has not changed since — exactly what the import
// sends — and otherwise builds one from the source in a temporary directory of
// out, with the migration's clock when a checkpoint has one. The run's own plan is
// never replaced: a resume relies on it.
func OpenVerifyPlan(ctx context.Context, f *mappings.File, mapping, out string, stderr io.Writer) (*VerifyPlan, error) {
	dir := filepath.Join(out, PlanDir)
	sp, err := plan.OpenSpool(dir)
	switch {
	case err == nil && sp.Meta().MappingHash == f.Hash():
		changed, err := sourceChanges(ctx, f, sp.Meta().Source)
		if err != nil {
			return nil, err
		}
		switch {
		case len(changed) > 0:
			fmt.Fprintf(stderr, "the source changed since the plan %s was written (%s): validating it again for the comparison\n", dir, strings.Join(changed, "; "))
		case sp.Meta().Delta == nil:
			fmt.Fprintf(stderr, "comparing with the plan %s (written %s; the source unchanged since)\n", dir, sp.Meta().Created.Local().Format(time.DateTime))
			return &VerifyPlan{Spool: sp, Desc: dir, Close: func() error { return nil }}, nil
		default:
			// A delta plan holds only its generation's records: the full plan it
			// was cut from holds the whole source as it is now.
			if err := finishSwap(dir); err != nil {
				return nil, err
			}
			base, err := plan.OpenSpool(dir + baseSuffix)
			if err == nil && base.Meta().Created.Equal(sp.Meta().Delta.Base) {
				fmt.Fprintf(stderr, "comparing with the plan %s (the whole source as of delta generation %d, written %s; the source unchanged since)\n",
					dir+baseSuffix, sp.Meta().Delta.Generation, base.Meta().Created.Local().Format(time.DateTime))
				return &VerifyPlan{Spool: base, Desc: dir + baseSuffix, Close: func() error { return nil }}, nil
			}
			fmt.Fprintf(stderr, "the plan %s is a delta and the full plan it was cut from is not beside it: validating the source for the comparison\n", dir)
		}
	case err == nil:
		fmt.Fprintf(stderr, "the plan %s was written for another mapping: validating the source for the comparison\n", dir)
	case errors.Is(err, plan.ErrNoSpool):
		fmt.Fprintf(stderr, "no plan in %s: validating the source for the comparison\n", out)
	default:
		fmt.Fprintf(stderr, "plan %s: %v; validating the source for the comparison\n", dir, err)
	}

	clock, err := resumeClock(ctx, f, out, checkpoint.BeginOptions{Force: true}, time.Now())
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(out, ".verify-plan-")
	if err != nil {
		return nil, err
	}
	cleanup := func() error { return os.RemoveAll(tmp) }
	sp, err = buildPlan(ctx, f, filepath.Join(tmp, PlanDir), clock)
	if err != nil {
		cleanup()
		return nil, err
	}
	return &VerifyPlan{Spool: sp, Desc: fmt.Sprintf("%s, validated again (clock %s)", mapping, clock.UTC().Format(time.RFC3339)), Close: cleanup}, nil
}

// sourceChanges lists what changed in the source since it had the fingerprint was (checkSource refuses a resume on the same list).
func sourceChanges(ctx context.Context, f *mappings.File, was []extract.SourcePart) ([]string, error) {
	r, err := OpenReader(ctx, f, extract.Options{})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	now, err := fingerprint(ctx, r)
	if err != nil {
		return nil, err
	}
	return extract.Changed(was, now), nil
}

// buildPlan runs a validate pass over the source and seals its plan at dir; the
// rejects stay in the plan.
func buildPlan(ctx context.Context, f *mappings.File, dir string, clock time.Time) (*plan.Spool, error) {
	if _, err := buildSpool(ctx, f, dir, clock, plan.DefaultRTT, nil, nil); err != nil {
		return nil, err
	}
	return plan.OpenSpool(dir)
}

// RunRejects returns a lookup of the records the migration's runs rejected, by
// entity, origin and legacy id, from its checkpoint (nil when there is none):
// verify counts them as rejected, not missing.
func RunRejects(ctx context.Context, f *mappings.File, out string) (func(e extract.Entity, origin, legacyID string) (string, bool), error) {
	if f.Target.Sandbox == mappings.SandboxEmbedded {
		return nil, nil
	}
	loc := LocateCheckpoint(f, out)
	store, err := loc.Open(ctx, true)
	if errors.Is(err, ErrNoCheckpoint) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open checkpoint %s: %w", loc, err)
	}
	defer store.Close()
	type key struct{ entity, origin, id string }
	rules := map[key]string{}
	err = store.Rejects(ctx, func(r checkpoint.Reject) error {
		rules[key{r.Entity, r.Origin, r.LegacyID}] = r.Rule
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read checkpoint %s: %w", loc, err)
	}
	return func(e extract.Entity, origin, legacyID string) (string, bool) {
		rule, ok := rules[key{string(e), origin, legacyID}]
		return rule, ok
	}, nil
}

package migration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/plan"
)

// Delta runs (issue 9, design §4). After a migration made progress, the source
// grew: PreparePlan validates the grown source into a full plan beside the one
// the checkpoint follows, and OpenCheckpoint, under the run lock, keeps of it
// only what the checkpoint does not cover (plan.BuildDelta), puts that delta plan
// in place of the old one and rebases the checkpoint onto it (a new generation).
// Each step survives a crash:
//
//   - before the swap, the old plan and checkpoint are untouched: the next run
//     builds the delta again;
//   - between the two renames of the swap, <plan>.delta is sealed and <plan> is
//     gone: finishSwap completes the swap;
//   - after the swap, the plan's generation is one above the checkpoint's:
//     followPlan rebases the checkpoint (again).

const (
	deltaSuffix = ".delta"
	prevSuffix  = ".prev"
	fullSuffix  = ".full"
	// baseSuffix is the full plan the delta plan at dir was cut from: the next
	// delta is cut against it.
	baseSuffix = ".base"
)

// finishSwap completes a swap a crash interrupted: no plan at dir but a sealed
// delta plan beside it, or a delta plan whose base is still at <dir>.full.
func finishSwap(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if _, err := plan.OpenSpool(dir + deltaSuffix); err != nil {
			return nil
		}
		if err := os.Rename(dir+deltaSuffix, dir); err != nil {
			return fmt.Errorf("plan: finish the delta swap: %w", err)
		}
	}
	sp, err := plan.OpenSpool(dir)
	if err != nil || sp.Meta().Delta == nil {
		return nil
	}
	want := sp.Meta().Delta.Base
	if b, err := plan.OpenSpool(dir + baseSuffix); err == nil && b.Meta().Created.Equal(want) {
		return nil
	}
	if f, err := plan.OpenSpool(dir + fullSuffix); err == nil && f.Meta().Created.Equal(want) {
		return keepBase(dir, dir+fullSuffix)
	}
	return nil
}

// keepBase puts the full plan at full in place as the base of the delta plan at
// dir.
func keepBase(dir, full string) error {
	if err := os.RemoveAll(dir + baseSuffix); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	if err := os.Rename(full, dir+baseSuffix); err != nil {
		return fmt.Errorf("plan: keep the delta's base: %w", err)
	}
	return nil
}

// hasProgress reports whether the mapping's checkpoint exists with progress that
// a run would resume.
func hasProgress(ctx context.Context, f *mappings.File, out string) (bool, error) {
	if f.Target.Sandbox == mappings.SandboxEmbedded {
		return false, nil
	}
	loc := LocateCheckpoint(f, out)
	store, err := loc.Open(ctx, true)
	if errors.Is(err, ErrNoCheckpoint) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open checkpoint %s: %w", loc, err)
	}
	defer store.Close()
	cs, err := store.Counters(ctx)
	if err != nil {
		return false, fmt.Errorf("read checkpoint %s: %w", loc, err)
	}
	return len(cs) > 0, nil
}

// useFull makes the full plan of the grown source the run's plan: the checkpoint
// turned out to start afresh.
func (pl *Plan) useFull(out string) error {
	if pl.fullDir == "" {
		return nil
	}
	dir := filepath.Join(out, PlanDir)
	for _, d := range []string{dir, dir + baseSuffix} {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("plan: %w", err)
		}
	}
	if err := os.Rename(pl.fullDir, dir); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	pl.fullDir = ""
	sp, err := plan.OpenSpool(dir)
	if err != nil {
		return err
	}
	pl.Spool = sp
	return nil
}

// followPlan makes the checkpoint follow the run's plan: it cuts the delta plan
// when the source grew, rebases the checkpoint onto a delta plan one generation
// ahead of it, and refuses a plan of another generation. It returns the clock the
// plan was validated with. The caller holds the run lock.
func followPlan(ctx context.Context, stderr io.Writer, store checkpoint.Store, out string, pl *Plan) (time.Time, error) {
	g, err := store.Generation(ctx)
	if err != nil {
		return time.Time{}, err
	}
	dir := filepath.Join(out, PlanDir)
	if pl.deltaOf != nil {
		if was := pl.deltaOf.Meta().Generation(); was != g.Number {
			return time.Time{}, configf("the plan %s is of generation %d, the checkpoint follows generation %d: run with --fresh to validate the source again and start a new checkpoint", dir, was, g.Number)
		}
		// A delta plan holds only what its generation added; what earlier
		// generations covered is what its base holds beyond it.
		var base *plan.Spool
		if pl.deltaOf.Meta().Delta != nil {
			if base, err = plan.OpenSpool(dir + baseSuffix); err != nil {
				return time.Time{}, configf("the plan %s is the delta of generation %d, and the full plan it was cut from (%s) cannot be read: %v\nrun with --fresh to validate the whole source and send it again (the target's dedup keeps accounts, members and one-to-one messages single; group messages already present are answered 10004)",
					dir, g.Number, dir+baseSuffix, err)
			}
		}
		cov, err := load.NewCheckpoint(ctx, store, nil)
		if err != nil {
			return time.Time{}, err
		}
		d, err := plan.BuildDelta(ctx, pl.deltaOf, base, pl.Spool, cov, g.Number+1, dir+deltaSuffix)
		if err != nil {
			return time.Time{}, err
		}
		if err := os.RemoveAll(dir + prevSuffix); err != nil {
			return time.Time{}, fmt.Errorf("plan: %w", err)
		}
		if err := os.Rename(dir, dir+prevSuffix); err != nil {
			return time.Time{}, fmt.Errorf("plan: %w", err)
		}
		if err := os.Rename(dir+deltaSuffix, dir); err != nil {
			return time.Time{}, fmt.Errorf("plan: %w", err)
		}
		// The full plan becomes the base of the next delta.
		if err := keepBase(dir, pl.fullDir); err != nil {
			return time.Time{}, err
		}
		pl.deltaOf, pl.fullDir = nil, ""
		if pl.Spool, err = plan.OpenSpool(dir); err != nil {
			return time.Time{}, err
		}
		var n, covered, refused int64
		for _, ph := range d.Phases {
			n, covered, refused = n+ph.New, covered+ph.Covered, refused+ph.Refused
		}
		fmt.Fprintf(stderr, "delta (generation %d): %d new records to import; %d covered by earlier runs; %d new group messages can no longer be placed (%s)\n",
			d.Generation, n, covered, refused, plan.RuleBeforeImported)
	}
	meta := pl.Spool.Meta()
	switch pg := meta.Generation(); {
	case pg == g.Number:
		if g.Number == 0 {
			m, err := store.Manifest(ctx)
			if err != nil {
				return time.Time{}, err
			}
			return m.Started, nil
		}
		return g.Clock, nil
	case pg == g.Number+1 && meta.Delta != nil:
		var counts []checkpoint.PhaseCount
		if n := int64(len(meta.Delta.Refused)); n > 0 {
			counts = []checkpoint.PhaseCount{{Phase: string(load.PhaseGroupMessages), Counts: checkpoint.Counts{Rejected: n}}}
		}
		err := store.Rebase(ctx, checkpoint.Generation{
			Number: pg, Clock: meta.Now, Keep: []string{load.PhaseFailedGroups}, Intents: meta.Delta.Intents,
			Rejects: meta.Delta.Refused, Counts: counts,
		})
		if err != nil {
			return time.Time{}, err
		}
		return meta.Now, nil
	default:
		return time.Time{}, configf("the plan %s is of generation %d, the checkpoint follows generation %d: run with --fresh to validate the source again and start a new checkpoint", dir, pg, g.Number)
	}
}

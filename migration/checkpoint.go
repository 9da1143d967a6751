package migration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/plan"
)

// The checkpoint of `immigrate run` and `immigrate status` (design §4): where it
// is, what identifies a run, and how a run records into it.
//
// The embedded sandbox lives inside the run's process, so its state dies with the
// process while the checkpoint survives: a run against it always starts a fresh
// checkpoint (it still writes one, for `immigrate status`). Rehearse a resume with
// `immigrate sandbox` in another process instead.

// CheckpointSchema is the PostgreSQL schema of a checkpoint.postgres checkpoint
// whose URL names none with search_path (e.g. "postgres://host/db?search_path=cp"),
// which lets several migrations keep their checkpoints in one database.
const CheckpointSchema = "immigrate_checkpoint"

// CheckpointLocation says where the mapping's checkpoint is: its PostgreSQL URL
// (a secret) and schema, or its SQLite file. A mapping that names no checkpoint
// keeps it in the output directory, which --out moves.
type CheckpointLocation struct {
	sqlite   string
	postgres string
	schema   string
}

func LocateCheckpoint(f *mappings.File, out string) CheckpointLocation {
	if !f.Checkpoint.Postgres.IsZero() {
		u := f.Checkpoint.Postgres.Reveal()
		return CheckpointLocation{postgres: u, schema: pgSchema(u)}
	}
	path := f.Checkpoint.SQLite
	if out != "" && path == filepath.Join(f.Output, mappings.CheckpointFile) {
		path = filepath.Join(out, mappings.CheckpointFile)
	}
	return CheckpointLocation{sqlite: path}
}

// pgSchema is the one schema the URL's search_path names, or CheckpointSchema.
func pgSchema(url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return CheckpointSchema // OpenPostgres reports the URL
	}
	sp := strings.TrimSpace(cfg.RuntimeParams["search_path"])
	if sp == "" || strings.Contains(sp, ",") {
		return CheckpointSchema
	}
	return strings.Trim(sp, `"`)
}

// String names the location for humans; never the URL, which may hold a password.
func (l CheckpointLocation) String() string {
	if l.postgres != "" {
		return "PostgreSQL schema " + l.schema
	}
	return l.sqlite
}

// open opens the store. With mustExist, a missing SQLite file is ErrNoCheckpoint
// rather than created.
func (l CheckpointLocation) Open(ctx context.Context, mustExist bool) (checkpoint.Store, error) {
	if l.postgres != "" {
		return checkpoint.OpenPostgres(ctx, l.postgres, l.schema)
	}
	if mustExist {
		if _, err := os.Stat(l.sqlite); errors.Is(err, os.ErrNotExist) {
			return nil, ErrNoCheckpoint
		}
	}
	if err := os.MkdirAll(filepath.Dir(l.sqlite), 0o755); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return checkpoint.OpenSQLite(l.sqlite)
}

var ErrNoCheckpoint = errors.New("no checkpoint")

// TargetIdentity names the mapping's target for the resume check; never a secret.
func TargetIdentity(f *mappings.File) string {
	t := f.Target
	switch {
	case t.Sandbox != "":
		return fmt.Sprintf("%s sandbox, sdkappid %d", t.Sandbox, t.SDKAppID)
	case t.Endpoint != "":
		return fmt.Sprintf("sdkappid %d at %s", t.SDKAppID, strings.TrimRight(t.Endpoint, "/"))
	}
	return fmt.Sprintf("sdkappid %d in region %s", t.SDKAppID, t.Region)
}

// SourceIdentity names the mapping's source for humans: the CSV directory, or the
// database's host and name without credentials.
func SourceIdentity(f *mappings.File) string {
	if f.Source.CSV != nil {
		return "csv:" + f.Source.CSV.Dir
	}
	if f.Source.Postgres != nil {
		if u, err := url.Parse(f.Source.Postgres.URL.Reveal()); err == nil && u.Host != "" {
			return "postgres:" + u.Host + u.Path
		}
		return "postgres"
	}
	return "none"
}

func toolVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return "immigrate " + bi.Main.Version
	}
	return "immigrate"
}

// RunCheckpoint is one run's checkpoint: the store, the Writer that batches its
// records, and the engine's view of it.
type RunCheckpoint struct {
	Loc     CheckpointLocation
	store   checkpoint.Store
	w       *checkpoint.Writer
	Engine  *load.Checkpoint // the engine's view, for load.Config.Checkpoint
	stderr  io.Writer
	resumed bool
	// now is the migration's clock: the first run's start. Validation rules that
	// compare with "now" (records in the future) then decide alike in every run,
	// so a resumed run yields the records at the positions the checkpoint recorded.
	Now time.Time
	// Clock is the clock the plan this run follows must have been validated with:
	// Now, or a delta generation's own.
	Clock time.Time

	closeOnce sync.Once
	closeErr  error
}

// OpenCheckpoint opens the mapping's checkpoint and begins a run on it: fresh
// with --fresh (or against the embedded sandbox), else resuming, refused under a
// changed mapping or target unless --force.
func OpenCheckpoint(ctx context.Context, stderr io.Writer, f *mappings.File, out string, opt checkpoint.BeginOptions, pl *Plan) (*RunCheckpoint, error) {
	now := pl.Started
	loc := LocateCheckpoint(f, out)
	if f.Target.Sandbox == mappings.SandboxEmbedded {
		opt.Fresh = true
	}
	store, err := loc.Open(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("open checkpoint %s: %w", loc, err)
	}
	res, err := store.Begin(ctx, checkpoint.Manifest{
		MappingHash: f.Hash(),
		Source:      SourceIdentity(f),
		Target:      TargetIdentity(f),
		ToolVersion: toolVersion(),
		Started:     now,
	}, opt)
	if err != nil {
		store.Close()
		var me *checkpoint.MismatchError
		switch {
		case errors.As(err, &me):
			return nil, configf("%v\nthe checkpoint %s belongs to another migration: run with --force to resume it anyway, or --fresh to start a new checkpoint (the target is not touched)", err, loc)
		case errors.Is(err, checkpoint.ErrLocked):
			return nil, fmt.Errorf("checkpoint %s: %w (is another `immigrate run` of this mapping still running?)", loc, err)
		}
		return nil, fmt.Errorf("checkpoint %s: %w", loc, err)
	}
	if !res.Resumed {
		pl.deltaOf = nil // a fresh checkpoint covers nothing: the full plan is the plan
		if err := pl.useFull(out); err != nil {
			store.Close()
			return nil, err
		}
		if g := pl.Spool.Meta().Generation(); g > 0 {
			store.Close()
			return nil, configf("the plan %s holds only what the source gained after generation %d of a migration whose checkpoint is gone: run with --fresh to validate the whole source again",
				filepath.Join(out, PlanDir), g-1)
		}
	}
	clock, err := followPlan(ctx, stderr, store, out, pl)
	if err != nil {
		store.Close()
		return nil, err
	}
	w := checkpoint.NewWriter(store, checkpoint.WriterConfig{})
	cp, err := load.NewCheckpoint(ctx, store, w)
	if err != nil {
		w.Close(context.Background())
		store.Close()
		return nil, err
	}
	rc := &RunCheckpoint{Loc: loc, store: store, w: w, Engine: cp, stderr: stderr, resumed: res.Resumed, Now: now, Clock: now}
	switch {
	case res.Resumed:
		rc.Now = res.Manifest.Started
		rc.Clock = clock
		fmt.Fprintf(stderr, "checkpoint %s: resuming the migration begun %s (run %d)\n",
			loc, res.Manifest.Started.Local().Format(time.DateTime), res.Manifest.Runs)
	case res.Previous != nil && f.Target.Sandbox == mappings.SandboxEmbedded:
		fmt.Fprintf(stderr, "checkpoint %s: starting over, as the embedded sandbox does not outlive a run\n", loc)
	case res.Previous != nil:
		fmt.Fprintf(stderr, "checkpoint %s: starting over (--fresh); the target keeps what earlier runs imported\n", loc)
	default:
		fmt.Fprintf(stderr, "checkpoint %s: new\n", loc)
	}
	return rc, nil
}

// resumeClock is the clock a run validates with: the migration's start when the
// run will resume the mapping's checkpoint, else now. It only reads the
// checkpoint, and refuses early, before a long validation, what Begin would
// refuse: a changed mapping or target without --force.
func resumeClock(ctx context.Context, f *mappings.File, out string, opt checkpoint.BeginOptions, now time.Time) (time.Time, error) {
	if opt.Fresh || f.Target.Sandbox == mappings.SandboxEmbedded {
		return now, nil
	}
	loc := LocateCheckpoint(f, out)
	store, err := loc.Open(ctx, true)
	if errors.Is(err, ErrNoCheckpoint) {
		return now, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("open checkpoint %s: %w", loc, err)
	}
	defer store.Close()
	m, err := store.Manifest(ctx)
	if errors.Is(err, checkpoint.ErrNoManifest) {
		return now, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read checkpoint %s: %w", loc, err)
	}
	if !opt.Force {
		var changed []string
		if m.MappingHash != f.Hash() {
			changed = append(changed, "the mapping")
		}
		if cur := TargetIdentity(f); m.Target != cur {
			changed = append(changed, fmt.Sprintf("the target (%s, now %s)", m.Target, cur))
		}
		if len(changed) > 0 {
			return time.Time{}, configf("resume refused: %s changed since the checkpoint was written\n"+
				"the checkpoint %s belongs to another migration: run with --force to resume it anyway, or --fresh to start a new checkpoint (the target is not touched)",
				strings.Join(changed, " and "), loc)
		}
	}
	if g, err := store.Generation(ctx); err != nil {
		return time.Time{}, err
	} else if g.Number > 0 {
		// A delta generation's plan was validated with its own clock.
		return g.Clock, nil
	}
	return m.Started, nil
}

// recordRewrites keeps the IDs the validate pass rewrote (ids.invalid: rewrite)
// with the checkpoint.
func (rc *RunCheckpoint) RecordRewrites(rws []plan.Rewrite) {
	for _, r := range rws {
		rc.w.MapID(checkpoint.IDMapping{Kind: string(r.Entity), LegacyID: r.Legacy, TargetID: r.Target})
	}
}

// rejects writes the load rejects of earlier runs to next (rejects.jsonl after the
// validate rejects) and returns the engine's sink: next, minus the records an
// earlier run already rejected for the same rule, so that the file lists every
// load reject of the migration once.
func (rc *RunCheckpoint) Rejects(ctx context.Context, next load.RejectSink) (load.RejectSink, error) {
	seen := map[[3]string]struct{}{}
	err := rc.store.Rejects(ctx, func(r checkpoint.Reject) error {
		seen[[3]string{r.Entity, r.LegacyID, r.Rule}] = struct{}{}
		return next.Reject(load.Reject{Entity: r.Entity, Origin: r.Origin, LegacyID: r.LegacyID, Rule: r.Rule, Severity: "reject", Message: r.Message})
	})
	if err != nil {
		return nil, fmt.Errorf("rejects of earlier runs: %w", err)
	}
	return &dedupRejects{next: next, seen: seen}, nil
}

type dedupRejects struct {
	next load.RejectSink
	seen map[[3]string]struct{} // read-only after rejects returned
}

func (d *dedupRejects) Reject(r load.Reject) error {
	if _, ok := d.seen[[3]string{r.Entity, r.LegacyID, r.Rule}]; ok {
		return nil
	}
	return d.next.Reject(r)
}

// finish flushes what the run recorded and closes the checkpoint, then explains
// runErr where the checkpoint is why the run stopped. It is called once the engine
// returned, whatever the outcome: after Ctrl-C or a fatal error the checkpoint is
// flushed before the process exits, ready for `status` and the next `run`.
func (rc *RunCheckpoint) Finish(runErr error) error {
	err := rc.Close()
	var exhausted *load.ExhaustedError
	switch {
	case errors.Is(runErr, load.ErrSourceChanged):
		runErr = configf("%v\nthe checkpoint %s was written for other data: run with --fresh to start a new checkpoint", runErr, rc.Loc)
	case runErr != nil && err == nil && errors.As(runErr, &exhausted):
		// The error's sentence already says to run the same command again.
		fmt.Fprintf(rc.stderr, "checkpoint %s saved; `immigrate status` shows the progress\n", rc.Loc)
	case runErr != nil && err == nil:
		fmt.Fprintf(rc.stderr, "checkpoint %s saved: run the same command to resume; `immigrate status` shows the progress\n", rc.Loc)
	}
	if err != nil {
		if errors.Is(runErr, context.Canceled) {
			// Exit code 130 says the progress is kept; it is not, so this is
			// an error (exit 1) that says why.
			return fmt.Errorf("interrupted, but the last progress was not saved (a resume redoes it): %w", err)
		}
		return errors.Join(runErr, err)
	}
	return runErr
}

// close flushes the Writer (with its own deadline: the run's context may be
// cancelled) and closes the store. It may be called more than once.
func (rc *RunCheckpoint) Close() error {
	rc.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := rc.w.Close(ctx); err != nil {
			rc.closeErr = fmt.Errorf("save checkpoint %s: %w", rc.Loc, err)
		}
		if err := rc.store.Close(); err != nil && rc.closeErr == nil {
			rc.closeErr = fmt.Errorf("close checkpoint %s: %w", rc.Loc, err)
		}
	})
	return rc.closeErr
}

// SQLiteLocation is a checkpoint in the SQLite file at path.
func SQLiteLocation(path string) CheckpointLocation { return CheckpointLocation{sqlite: path} }

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/mappings"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show a migration's progress from its checkpoint, without running anything",
		Description: "Reads the mapping's checkpoint — also while a run is writing it — and prints, per phase,\n" +
			"whether it finished and how many records were imported, already present or rejected, how\n" +
			"many streams (groups, conversations) have progress, and the group-message calls in doubt that\n" +
			"the next run will reconcile. Neither the source nor the target is contacted.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "the mapping file"},
			&cli.StringFlag{Name: "out", Usage: "output directory the run used (default: the mapping's output)"},
		},
		Action: runStatus,
	}
}

// maxListedIntents is how many open intents status lists by name.
const maxListedIntents = 10

func runStatus(c *cli.Context) error {
	ctx := c.Context
	if c.String("config") == "" {
		return usagef("status: -c FILE is required")
	}
	f, err := mappings.Load(c.String("config"))
	if err != nil {
		return &usageError{err}
	}
	loc := locateCheckpoint(f, c.String("out"))
	store, err := loc.open(ctx, true)
	if errors.Is(err, errNoCheckpoint) {
		return fmt.Errorf("no checkpoint at %s: no run of this mapping has begun", loc)
	}
	if err != nil {
		return fmt.Errorf("open checkpoint %s: %w", loc, err)
	}
	defer store.Close()
	m, err := store.Manifest(ctx)
	if errors.Is(err, checkpoint.ErrNoManifest) {
		return fmt.Errorf("no checkpoint at %s: no run of this mapping has begun", loc)
	}
	if err != nil {
		return fmt.Errorf("read checkpoint %s: %w", loc, err)
	}
	st, err := readStatus(ctx, store)
	if err != nil {
		return fmt.Errorf("read checkpoint %s: %w", loc, err)
	}
	writeStatus(c.App.Writer, loc, f, m, st)
	return nil
}

// status is what a checkpoint says about its migration.
type status struct {
	phases   map[string]checkpoint.PhaseCounters
	intents  []checkpoint.Intent // the first maxListedIntents
	nIntents int
	rejects  int64
	ids      int64
}

func readStatus(ctx context.Context, store checkpoint.Store) (*status, error) {
	st := &status{phases: map[string]checkpoint.PhaseCounters{}}
	counters, err := store.Counters(ctx)
	if err != nil {
		return nil, err
	}
	for _, pc := range counters {
		st.phases[pc.Phase] = pc
	}
	err = store.Intents(ctx, func(in checkpoint.Intent) error {
		if st.nIntents < maxListedIntents {
			st.intents = append(st.intents, in)
		}
		st.nIntents++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := store.Rejects(ctx, func(checkpoint.Reject) error { st.rejects++; return nil }); err != nil {
		return nil, err
	}
	if err := store.IDMap(ctx, func(checkpoint.IDMapping) error { st.ids++; return nil }); err != nil {
		return nil, err
	}
	return st, nil
}

func writeStatus(w io.Writer, loc checkpointLocation, f *mappings.File, m checkpoint.Manifest, st *status) {
	fmt.Fprintf(w, "checkpoint  %s\n", loc)
	fmt.Fprintf(w, "source      %s\n", m.Source)
	fmt.Fprintf(w, "target      %s", m.Target)
	if cur := targetIdentity(f); cur != m.Target {
		fmt.Fprintf(w, " (the mapping now names %s: run refuses to resume without --force)", cur)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "mapping     %s", short(m.MappingHash))
	if f.Hash() != m.MappingHash {
		fmt.Fprint(w, " (the mapping changed since: run refuses to resume without --force)")
	} else {
		fmt.Fprint(w, " (the mapping is unchanged)")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "started     %s, %d run(s)", m.Started.Local().Format(time.DateTime), m.Runs)
	if !m.Resumed.IsZero() {
		fmt.Fprintf(w, ", last resumed %s", m.Resumed.Local().Format(time.DateTime))
	}
	if m.ToolVersion != "" {
		fmt.Fprintf(w, ", by %s", m.ToolVersion)
	}
	fmt.Fprint(w, "\n\n")

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "phase\tstate\timported\talready present\trejected\tstreams\tin doubt\t")
	all := true
	for _, ph := range load.Phases() {
		pc := st.phases[string(ph)]
		state := "pending"
		switch {
		case pc.Done:
			state = "done " + pc.DoneAt.Local().Format(time.TimeOnly)
		case pc.Imported+pc.Present+pc.Rejected > 0 || pc.Streams > 0 || pc.Intents > 0:
			state = "in progress"
		}
		if !pc.Done {
			all = false
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t\n", ph, state, pc.Imported, pc.Present, pc.Rejected,
			streams(ph, pc.Streams), strconv.FormatInt(pc.Intents, 10))
	}
	tw.Flush()
	fmt.Fprintln(w)
	if g := st.phases[load.PhaseFailedGroups]; g.Streams > 0 {
		fmt.Fprintf(w, "%d group(s) refused by the target: their members, messages and unread counts are rejected without calls\n", g.Streams)
	}
	if st.nIntents > 0 {
		fmt.Fprintf(w, "%d group-message call(s) in doubt: the next run reads these groups back before sending (design §4 rule 3)\n", st.nIntents)
		for _, in := range st.intents {
			fmt.Fprintf(w, "  group %q: messages %d..%d (%s .. %s)\n", in.Stream, in.First, in.Last, in.FirstID, in.LastID)
		}
		if st.nIntents > len(st.intents) {
			fmt.Fprintf(w, "  and %d more\n", st.nIntents-len(st.intents))
		}
	}
	fmt.Fprintf(w, "%d load reject(s) recorded (written to rejects.jsonl by each run, after the validate rejects)", st.rejects)
	if st.ids > 0 {
		fmt.Fprintf(w, "; %d rewritten ID(s) in the ID map", st.ids)
	}
	fmt.Fprintln(w)
	if all {
		fmt.Fprintln(w, "every phase is done: the migration is complete")
	} else {
		fmt.Fprintln(w, "`immigrate run` with this mapping resumes where the last run stopped")
	}
}

// streams shows a phase's stream count; batch phases have none, only a position.
func streams(ph load.Phase, n int64) string {
	if ph != load.PhaseGroupMessages && ph != load.PhaseDirectMessages {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}

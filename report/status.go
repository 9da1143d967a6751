package report

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/load"
)

// maxListedIntents is how many open intents a status lists by name.
const maxListedIntents = 10

// Status is what a checkpoint says about its migration, for `immigrate status`.
type Status struct {
	Manifest checkpoint.Manifest
	phases   map[string]checkpoint.PhaseCounters
	intents  []checkpoint.Intent // the first maxListedIntents
	nIntents int
	rejects  int64
	ids      int64
}

// ReadStatus reads the status of the migration in store; it may run while a run
// writes the store.
func ReadStatus(ctx context.Context, store checkpoint.Store) (*Status, error) {
	m, err := store.Manifest(ctx)
	if err != nil {
		return nil, err
	}
	st := &Status{Manifest: m, phases: map[string]checkpoint.PhaseCounters{}}
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

// StatusContext is what the status is compared with: the mapping as it is now.
type StatusContext struct {
	Location    string // where the checkpoint is, for humans
	Target      string // the target identity the mapping names now
	MappingHash string // the mapping's hash now
	// Source compares the source now with the one the last plan was validated
	// from; nil when it was not compared.
	Source *SourceState
}

// SourceState is the source as it is now against the last run's plan.
type SourceState struct {
	Planned time.Time // when the plan was written
	Changed []string  // one sentence per changed part; none when unchanged
	Err     error     // the comparison failed (no plan, source unreachable)
}

// Write prints the status: the manifest, a table of the phases, the refused
// groups, the calls in doubt, and whether the migration is complete.
func (st *Status) Write(w io.Writer, now StatusContext) {
	m := st.Manifest
	fmt.Fprintf(w, "checkpoint  %s\n", now.Location)
	fmt.Fprintf(w, "source      %s\n", m.Source)
	fmt.Fprintf(w, "target      %s", m.Target)
	if now.Target != m.Target {
		fmt.Fprintf(w, " (the mapping now names %s: run refuses to resume without --force)", now.Target)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "mapping     %s", short(m.MappingHash))
	if now.MappingHash != m.MappingHash {
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
	if st.phases[load.PhasePopulated].Streams > 0 {
		fmt.Fprintln(w, "the target held accounts before this migration: accounts, one-to-one messages and friends are read back before they are sent, and what it holds counts as already present")
	}
	if g := st.phases[load.PhasePresentGroups].Streams; g > 0 {
		fmt.Fprintf(w, "%d group(s) and topic(s) were in the target before this migration: their messages are read back before they are sent\n", g)
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
	src := now.Source
	switch {
	case src == nil:
	case src.Err != nil:
		fmt.Fprintf(w, "source not compared with the last plan: %v\n", src.Err)
	case len(src.Changed) > 0:
		fmt.Fprintf(w, "the source has more (or other) data than the plan of %s:\n", src.Planned.Local().Format(time.DateTime))
		for _, c := range src.Changed {
			fmt.Fprintf(w, "  %s\n", c)
		}
	default:
		fmt.Fprintf(w, "the source is unchanged since the plan of %s\n", src.Planned.Local().Format(time.DateTime))
	}
	switch {
	case all && src != nil && src.Err == nil && len(src.Changed) > 0:
		fmt.Fprintln(w, "every phase is done: the migration is complete as of the last run, but the source has changed since: the next `immigrate run` imports what it gained (a delta run)")
	case all && src != nil && src.Err == nil:
		fmt.Fprintln(w, "every phase is done: the migration is complete, and the source has nothing more")
	case all:
		fmt.Fprintln(w, "every phase is done: the migration is complete as of the last run")
	default:
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

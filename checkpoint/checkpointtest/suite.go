package checkpointtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/checkpoint"
)

// Run runs the whole suite against d.
func Run(t *testing.T, d Driver) {
	t.Run("manifest", func(t *testing.T) { testManifest(t, d) })
	t.Run("lock", func(t *testing.T) { testLock(t, d) })
	t.Run("phases", func(t *testing.T) { testPhases(t, d) })
	t.Run("marks", func(t *testing.T) { testMarks(t, d) })
	t.Run("marks iteration", func(t *testing.T) { testMarksIteration(t, d) })
	t.Run("intents", func(t *testing.T) { testIntents(t, d) })
	t.Run("id map", func(t *testing.T) { testIDMap(t, d) })
	t.Run("rejects", func(t *testing.T) { testRejects(t, d) })
	t.Run("counters", func(t *testing.T) { testCounters(t, d) })
	t.Run("rebase", func(t *testing.T) { testRebase(t, d) })
	t.Run("apply retry", func(t *testing.T) { testApplyRetry(t, d) })
	t.Run("apply cancelled", func(t *testing.T) { testApplyCancelled(t, d) })
	t.Run("writer", func(t *testing.T) { testWriter(t, d) })
	t.Run("writer failures", func(t *testing.T) { testWriterFailures(t, d) })
	t.Run("writer on a hung store", func(t *testing.T) { testWriterHungStore(t, d) })
	t.Run("concurrency", func(t *testing.T) { testConcurrency(t, d) })
	t.Run("crash", func(t *testing.T) { testCrash(t, d) })
}

func testManifest(t *testing.T, d Driver) {
	const hashA, hashB = "hash-aaaa", "hash-bbbb"
	const targetA, targetB = "sdkappid 1400000001 at sandbox", "sdkappid 1400000002 at sandbox"
	t1 := t0.Add(time.Hour)
	progress := &checkpoint.Batch{
		Marks:   []checkpoint.Mark{{Phase: "accounts", Ordinal: 9}},
		Intents: []checkpoint.Intent{{Phase: "group_messages", Stream: "g", First: 1, Last: 7}},
		Done:    []checkpoint.PhaseDone{{Phase: "accounts", At: t0}},
		IDs:     []checkpoint.IDMapping{{Kind: "user", LegacyID: "a b", TargetID: "a_b"}},
		Rejects: []checkpoint.Reject{{Entity: "user", LegacyID: "x", Rule: "r"}},
		Counts:  []checkpoint.PhaseCount{{Phase: "accounts", Counts: checkpoint.Counts{Imported: 9}}},
	}
	cases := []struct {
		name        string
		second      checkpoint.Manifest
		opt         checkpoint.BeginOptions
		wantErrs    []error // nil: Begin succeeds
		notErrs     []error
		wantInErr   []string
		wantResumed bool
		wantHash    string
		wantTarget  string
		wantRuns    int
		keepsWork   bool
	}{
		{name: "same config resumes", second: manifest(hashA, targetA, t1),
			wantResumed: true, wantHash: hashA, wantTarget: targetA, wantRuns: 2, keepsWork: true},
		{name: "changed mapping refused", second: manifest(hashB, targetA, t1),
			wantErrs: []error{checkpoint.ErrConfigChanged}, notErrs: []error{checkpoint.ErrTargetChanged},
			wantInErr: []string{hashA, hashB}},
		{name: "changed target refused", second: manifest(hashA, targetB, t1),
			wantErrs: []error{checkpoint.ErrTargetChanged}, notErrs: []error{checkpoint.ErrConfigChanged},
			wantInErr: []string{targetA, targetB}},
		{name: "both changed refused", second: manifest(hashB, targetB, t1),
			wantErrs:  []error{checkpoint.ErrConfigChanged, checkpoint.ErrTargetChanged},
			wantInErr: []string{hashA, hashB, targetA, targetB}},
		{name: "force resumes under a new config", second: manifest(hashB, targetB, t1), opt: checkpoint.BeginOptions{Force: true},
			wantResumed: true, wantHash: hashB, wantTarget: targetB, wantRuns: 2, keepsWork: true},
		{name: "fresh starts over", second: manifest(hashB, targetA, t1), opt: checkpoint.BeginOptions{Fresh: true},
			wantHash: hashB, wantTarget: targetA, wantRuns: 1},
		{name: "fresh wins over force", second: manifest(hashA, targetA, t1), opt: checkpoint.BeginOptions{Fresh: true, Force: true},
			wantHash: hashA, wantTarget: targetA, wantRuns: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s, loc := fresh(t, d)
			if _, err := s.Manifest(ctx); !errors.Is(err, checkpoint.ErrNoManifest) {
				t.Fatalf("Manifest of an empty store: err = %v, want ErrNoManifest", err)
			}
			first := manifest(hashA, targetA, t0)
			r := begin(t, s, first)
			if r.Resumed || r.Previous != nil || r.Manifest.Runs != 1 || !r.Manifest.Started.Equal(t0) {
				t.Fatalf("first Begin = %+v, want a new manifest started at %v", r, t0)
			}
			apply(t, s, progress)
			before := read(t, s)
			s.Close()

			// The second run is another process: reopen.
			s = open(t, d, loc)
			second := tc.second
			second.Source, second.ToolVersion = "csv:/moved/export", "v1.1.0"
			r, err := s.Begin(ctx, second, tc.opt)
			if tc.wantErrs != nil {
				if err == nil {
					t.Fatalf("Begin succeeded, want %v", tc.wantErrs)
				}
				for _, want := range tc.wantErrs {
					if !errors.Is(err, want) {
						t.Errorf("Begin error %q is not %v", err, want)
					}
				}
				for _, not := range tc.notErrs {
					if errors.Is(err, not) {
						t.Errorf("Begin error %q is %v, want not", err, not)
					}
				}
				var mm *checkpoint.MismatchError
				if !errors.As(err, &mm) {
					t.Errorf("Begin error %q is not a *MismatchError", err)
				}
				for _, sub := range tc.wantInErr {
					if !strings.Contains(err.Error(), sub) {
						t.Errorf("Begin error %q does not name %q", err, sub)
					}
				}
				diff(t, "store after a refused Begin", read(t, s), before)
				return
			}
			if err != nil {
				t.Fatalf("Begin: %v", err)
			}
			if r.Resumed != tc.wantResumed {
				t.Errorf("Resumed = %v, want %v", r.Resumed, tc.wantResumed)
			}
			if r.Previous == nil || r.Previous.MappingHash != hashA {
				t.Errorf("Previous = %+v, want the first run's manifest", r.Previous)
			}
			got, err := s.Manifest(ctx)
			if err != nil {
				t.Fatalf("Manifest: %v", err)
			}
			diff(t, "Begin's manifest vs Manifest()", r.Manifest, got)
			wantStarted, wantResumedAt := t1, time.Time{}
			if tc.wantResumed {
				wantStarted, wantResumedAt = t0, t1
			}
			if got.MappingHash != tc.wantHash || got.Target != tc.wantTarget || got.Runs != tc.wantRuns ||
				got.Source != second.Source || got.ToolVersion != second.ToolVersion ||
				!got.Started.Equal(wantStarted) || !got.Resumed.Equal(wantResumedAt) {
				t.Errorf("manifest = %+v, want hash %q target %q runs %d source %q version %q started %v resumed %v",
					got, tc.wantHash, tc.wantTarget, tc.wantRuns, second.Source, second.ToolVersion, wantStarted, wantResumedAt)
			}
			after := read(t, s)
			after.Manifest, before.Manifest = nil, nil
			if tc.keepsWork {
				diff(t, "progress after resume", after, before)
			} else {
				diff(t, "progress after fresh", after, snapshot{})
			}
		})
	}

	t.Run("invalid manifest", func(t *testing.T) {
		for _, m := range []checkpoint.Manifest{manifest("", targetA, t0), manifest(hashA, "", t0)} {
			s, _ := fresh(t, d)
			if _, err := s.Begin(context.Background(), m, checkpoint.BeginOptions{}); err == nil {
				t.Errorf("Begin(%+v) succeeded, want an error", m)
			}
		}
	})
	t.Run("secret-free errors", func(t *testing.T) {
		// The store only echoes what it was given: the mismatch message holds the two
		// identities and nothing else of the manifest.
		s, loc := fresh(t, d)
		m := manifest(hashA, targetA, t0)
		m.Source = "postgres://user@db/legacy"
		begin(t, s, m)
		s.Close()
		s = open(t, d, loc)
		_, err := s.Begin(context.Background(), manifest(hashB, targetA, t1), checkpoint.BeginOptions{})
		if err == nil || strings.Contains(err.Error(), "postgres://") {
			t.Errorf("Begin error = %v, want a mismatch that does not echo the source", err)
		}
	})
}

func testLock(t *testing.T, d Driver) {
	ctx := context.Background()
	s1, loc := fresh(t, d)
	s2 := open(t, d, loc)
	m := manifest("h", "t", t0)
	begin(t, s1, m)
	if _, err := s2.Begin(ctx, m, checkpoint.BeginOptions{}); !errors.Is(err, checkpoint.ErrLocked) {
		t.Fatalf("second Begin while the first store runs: err = %v, want ErrLocked", err)
	}
	// Reading needs no lock: `immigrate status` reads while a run writes.
	if _, err := s2.Manifest(ctx); err != nil {
		t.Errorf("Manifest from a second store: %v", err)
	}
	// Nor does opening: `immigrate status` (and a second run, which must get
	// ErrLocked rather than hang) opens the checkpoint while the run holds it.
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	s3, err := d.Open(octx, loc)
	cancel()
	if err != nil {
		t.Fatalf("open while another store runs: %v", err)
	}
	t.Cleanup(func() { s3.Close() })
	if _, err := s3.Manifest(ctx); err != nil {
		t.Errorf("Manifest from a store opened while another runs: %v", err)
	}
	if err := s1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := beginRetry(ctx, s2, m); err != nil {
		t.Errorf("Begin after the first store closed: %v", err)
	}
}

func testPhases(t *testing.T, d Driver) {
	ctx := context.Background()
	s, loc := fresh(t, d)
	t1 := t0.Add(time.Minute)
	if _, done, err := s.PhaseDone(ctx, "accounts"); err != nil || done {
		t.Fatalf("PhaseDone before any record = %v, %v; want false", done, err)
	}
	apply(t, s,
		&checkpoint.Batch{Done: []checkpoint.PhaseDone{{Phase: "accounts", At: t0}}},
		&checkpoint.Batch{Done: []checkpoint.PhaseDone{{Phase: "accounts", At: t1}, {Phase: "groups", At: t1}}},
	)
	s.Close()
	s = open(t, d, loc)
	cases := []struct {
		phase string
		done  bool
		at    time.Time
	}{
		{"accounts", true, t0}, // the first time recorded is kept
		{"groups", true, t1},
		{"members", false, time.Time{}},
		{"Accounts", false, time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.phase, func(t *testing.T) {
			at, done, err := s.PhaseDone(ctx, tc.phase)
			if err != nil || done != tc.done || !at.Equal(tc.at) {
				t.Errorf("PhaseDone(%q) = %v, %v, %v; want %v, %v", tc.phase, at, done, err, tc.at, tc.done)
			}
			if done && at.Location() != time.UTC {
				t.Errorf("PhaseDone(%q) time in %v, want UTC", tc.phase, at.Location())
			}
		})
	}
}

func testMarks(t *testing.T, d Driver) {
	mk := func(stream string, ord int64) checkpoint.Mark {
		return checkpoint.Mark{Phase: "p", Stream: stream, Ordinal: ord, LegacyID: fmt.Sprintf("id-%d", ord), TargetSeq: ord * 10}
	}
	cases := []struct {
		name    string
		batches [][]checkpoint.Mark
		want    []checkpoint.Mark
	}{
		{"insert", [][]checkpoint.Mark{{mk("a", 1), mk("b", 2)}}, []checkpoint.Mark{mk("a", 1), mk("b", 2)}},
		{"advance", [][]checkpoint.Mark{{mk("a", 1)}, {mk("a", 5)}}, []checkpoint.Mark{mk("a", 5)}},
		{"never backwards", [][]checkpoint.Mark{{mk("a", 5)}, {mk("a", 3)}}, []checkpoint.Mark{mk("a", 5)}},
		{"equal ordinal keeps the first", [][]checkpoint.Mark{{mk("a", 5)}, {{Phase: "p", Stream: "a", Ordinal: 5, LegacyID: "other"}}},
			[]checkpoint.Mark{mk("a", 5)}},
		{"zero and negative ordinals", [][]checkpoint.Mark{{mk("a", -3)}, {mk("a", 0)}, {mk("b", 0)}},
			[]checkpoint.Mark{mk("a", 0), mk("b", 0)}},
		{"empty stream is a batch phase's mark", [][]checkpoint.Mark{{mk("", 300)}, {mk("", 600)}}, []checkpoint.Mark{mk("", 600)}},
		{"opaque bytes", [][]checkpoint.Mark{{
			{Phase: "p", Stream: "alice\x00bob", Ordinal: 1, LegacyID: "m\x00\xff\xfe"},
			{Phase: "p", Stream: "\xff\xff", Ordinal: 2, LegacyID: "日本"},
		}}, []checkpoint.Mark{
			{Phase: "p", Stream: "alice\x00bob", Ordinal: 1, LegacyID: "m\x00\xff\xfe"},
			{Phase: "p", Stream: "\xff\xff", Ordinal: 2, LegacyID: "日本"},
		}},
		{"phases are separate", [][]checkpoint.Mark{{mk("a", 7), {Phase: "q", Stream: "a", Ordinal: 1}}}, []checkpoint.Mark{mk("a", 7)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, loc := fresh(t, d)
			for _, ms := range tc.batches {
				apply(t, s, &checkpoint.Batch{Marks: ms})
			}
			diff(t, "marks", marksOf(t, s, "p", ""), tc.want)
			s.Close()
			s = open(t, d, loc)
			diff(t, "marks after reopen", marksOf(t, s, "p", ""), tc.want)
			for _, want := range tc.want {
				got, ok, err := s.Mark(context.Background(), want.Phase, want.Stream)
				if err != nil || !ok || got != want {
					t.Errorf("Mark(%q, %q) = %+v, %v, %v; want %+v", want.Phase, want.Stream, got, ok, err, want)
				}
			}
			if _, ok, err := s.Mark(context.Background(), "p", "missing"); ok || err != nil {
				t.Errorf("Mark(missing) = %v, %v; want not found", ok, err)
			}
		})
	}
}

func testMarksIteration(t *testing.T, d Driver) {
	ctx := context.Background()
	s, _ := fresh(t, d)
	streams := []string{"", "a", "c/", "c/1", "c/1\x00x", "c/2", "c0", "c\xff", "d", "\xff", "\xff\xff", "\xff\xffa"}
	var ms []checkpoint.Mark
	for i, st := range streams {
		ms = append(ms, checkpoint.Mark{Phase: "dm", Stream: st, Ordinal: int64(i)})
	}
	ms = append(ms, checkpoint.Mark{Phase: "gm", Stream: "c/9", Ordinal: 1})
	apply(t, s, &checkpoint.Batch{Marks: ms})

	cases := []struct {
		prefix string
		want   []string
	}{
		{"", streams},
		{"c/", []string{"c/", "c/1", "c/1\x00x", "c/2"}},
		{"c/1", []string{"c/1", "c/1\x00x"}},
		{"c", []string{"c/", "c/1", "c/1\x00x", "c/2", "c0", "c\xff"}},
		{"\xff", []string{"\xff", "\xff\xff", "\xff\xffa"}},
		{"\xff\xff", []string{"\xff\xff", "\xff\xffa"}},
		{"zz", nil},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("prefix %q", tc.prefix), func(t *testing.T) {
			var got []string
			for _, m := range marksOf(t, s, "dm", tc.prefix) {
				got = append(got, m.Stream)
			}
			diff(t, "streams", got, tc.want)
		})
	}
	t.Run("callback error stops", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		err := s.Marks(ctx, "dm", "", func(checkpoint.Mark) error {
			n++
			if n == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 3 {
			t.Errorf("Marks = %v after %d calls, want the callback's error after 3", err, n)
		}
	})
	t.Run("callback may call the store", func(t *testing.T) {
		n := 0
		err := s.Marks(ctx, "dm", "", func(m checkpoint.Mark) error {
			got, ok, err := s.Mark(ctx, m.Phase, m.Stream)
			if err != nil || !ok || got != m {
				return fmt.Errorf("Mark(%q) inside Marks = %+v, %v, %v", m.Stream, got, ok, err)
			}
			if err := s.Apply(ctx, &checkpoint.Batch{Counts: []checkpoint.PhaseCount{{Phase: "dm", Counts: checkpoint.Counts{Present: 1}}}}); err != nil {
				return fmt.Errorf("Apply inside Marks: %w", err)
			}
			n++
			return nil
		})
		if err != nil || n != len(streams) {
			t.Errorf("Marks = %v after %d calls, want nil after %d", err, n, len(streams))
		}
	})
}

func testIntents(t *testing.T, d Driver) {
	in := func(stream string, first, last int64) checkpoint.Intent {
		return checkpoint.Intent{Phase: "gm", Stream: stream, First: first, Last: last,
			FirstID: fmt.Sprintf("m%d", first), LastID: fmt.Sprintf("m%d", last)}
	}
	mk := func(stream string, ord int64) checkpoint.Mark {
		return checkpoint.Mark{Phase: "gm", Stream: stream, Ordinal: ord}
	}
	key := func(stream string) checkpoint.StreamKey { return checkpoint.StreamKey{Phase: "gm", Stream: stream} }
	cases := []struct {
		name    string
		batches []*checkpoint.Batch
		want    []checkpoint.Intent
	}{
		{"listed", []*checkpoint.Batch{{Intents: []checkpoint.Intent{in("g2", 1, 7), in("g1", 8, 14)}}},
			[]checkpoint.Intent{in("g1", 8, 14), in("g2", 1, 7)}},
		{"superseded", []*checkpoint.Batch{{Intents: []checkpoint.Intent{in("g1", 1, 7)}}, {Intents: []checkpoint.Intent{in("g1", 8, 14)}}},
			[]checkpoint.Intent{in("g1", 8, 14)}},
		{"closed by a mark reaching Last", []*checkpoint.Batch{{Intents: []checkpoint.Intent{in("g1", 1, 7), in("g2", 1, 7)}}, {Marks: []checkpoint.Mark{mk("g1", 7)}}},
			[]checkpoint.Intent{in("g2", 1, 7)}},
		{"closed by a mark beyond Last", []*checkpoint.Batch{{Intents: []checkpoint.Intent{in("g1", 1, 7)}}, {Marks: []checkpoint.Mark{mk("g1", 9)}}}, nil},
		{"kept by a mark short of Last", []*checkpoint.Batch{{Intents: []checkpoint.Intent{in("g1", 1, 7)}}, {Marks: []checkpoint.Mark{mk("g1", 6)}}},
			[]checkpoint.Intent{in("g1", 1, 7)}},
		{"mark of another phase does not close", []*checkpoint.Batch{{Intents: []checkpoint.Intent{in("g1", 1, 7)}},
			{Marks: []checkpoint.Mark{{Phase: "members", Stream: "g1", Ordinal: 100}}}},
			[]checkpoint.Intent{in("g1", 1, 7)}},
		{"intent and its mark in one batch", []*checkpoint.Batch{{Intents: []checkpoint.Intent{in("g1", 1, 7)}, Marks: []checkpoint.Mark{mk("g1", 7)}}}, nil},
		{"intent already covered by a stored mark", []*checkpoint.Batch{{Marks: []checkpoint.Mark{mk("g1", 10)}}, {Intents: []checkpoint.Intent{in("g1", 1, 7)}}}, nil},
		{"next intent after its mark", []*checkpoint.Batch{{Intents: []checkpoint.Intent{in("g1", 1, 7)}, Marks: []checkpoint.Mark{mk("g1", 7)}},
			{Intents: []checkpoint.Intent{in("g1", 8, 14)}}},
			[]checkpoint.Intent{in("g1", 8, 14)}},
		{"cleared", []*checkpoint.Batch{{Intents: []checkpoint.Intent{in("g1", 1, 7), in("g2", 1, 7)}}, {ClearIntents: []checkpoint.StreamKey{key("g1"), key("g9")}}},
			[]checkpoint.Intent{in("g2", 1, 7)}},
		{"clear then set in one batch", []*checkpoint.Batch{{Intents: []checkpoint.Intent{in("g1", 1, 7)}},
			{ClearIntents: []checkpoint.StreamKey{key("g1")}, Intents: []checkpoint.Intent{in("g1", 8, 14)}}},
			[]checkpoint.Intent{in("g1", 8, 14)}},
		{"opaque stream", []*checkpoint.Batch{{Intents: []checkpoint.Intent{in("g\x00\xff", 1, 2)}}}, []checkpoint.Intent{in("g\x00\xff", 1, 2)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, loc := fresh(t, d)
			apply(t, s, tc.batches...)
			diff(t, "intents", intentsOf(t, s), tc.want)
			s.Close()
			s = open(t, d, loc)
			diff(t, "intents after reopen", intentsOf(t, s), tc.want)
		})
	}
}

func testIDMap(t *testing.T, d Driver) {
	ctx := context.Background()
	s, loc := fresh(t, d)
	apply(t, s,
		&checkpoint.Batch{IDs: []checkpoint.IDMapping{
			{Kind: "user", LegacyID: "b c", TargetID: "b_c"},
			{Kind: "group", LegacyID: "g/1", TargetID: "grp_1"},
			{Kind: "user", LegacyID: "a\x00", TargetID: "a_0"},
		}},
		&checkpoint.Batch{IDs: []checkpoint.IDMapping{{Kind: "user", LegacyID: "b c", TargetID: "b_c2"}}},
	)
	s.Close()
	s = open(t, d, loc)
	var got []checkpoint.IDMapping
	if err := s.IDMap(ctx, func(m checkpoint.IDMapping) error { got = append(got, m); return nil }); err != nil {
		t.Fatalf("IDMap: %v", err)
	}
	diff(t, "IDMap", got, []checkpoint.IDMapping{
		{Kind: "group", LegacyID: "g/1", TargetID: "grp_1"},
		{Kind: "user", LegacyID: "a\x00", TargetID: "a_0"},
		{Kind: "user", LegacyID: "b c", TargetID: "b_c2"},
	})
	cases := []struct {
		kind, legacy, want string
		ok                 bool
	}{
		{"user", "b c", "b_c2", true},
		{"user", "a\x00", "a_0", true},
		{"group", "g/1", "grp_1", true},
		{"group", "b c", "", false},
		{"user", "a", "", false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s %q", tc.kind, tc.legacy), func(t *testing.T) {
			got, ok, err := s.LookupID(ctx, tc.kind, tc.legacy)
			if err != nil || ok != tc.ok || got != tc.want {
				t.Errorf("LookupID = %q, %v, %v; want %q, %v", got, ok, err, tc.want, tc.ok)
			}
		})
	}
}

func testRejects(t *testing.T, d Driver) {
	r := func(entity, id, rule, msg string) checkpoint.Reject {
		return checkpoint.Reject{Entity: entity, Origin: "users.csv:" + id, LegacyID: id, Rule: rule, Message: msg}
	}
	s, loc := fresh(t, d)
	apply(t, s,
		&checkpoint.Batch{Rejects: []checkpoint.Reject{r("user", "7", "id.invalid", "first"), r("user", "3", "id.invalid", "x"), r("user", "7", "id.invalid", "again")}},
		&checkpoint.Batch{Rejects: []checkpoint.Reject{r("user", "7", "nick.long", "other rule"), r("group", "7", "id.invalid", "other entity"), r("user", "3", "id.invalid", "resumed run")}},
	)
	want := []checkpoint.Reject{
		r("user", "7", "id.invalid", "first"), r("user", "3", "id.invalid", "x"),
		r("user", "7", "nick.long", "other rule"), r("group", "7", "id.invalid", "other entity"),
	}
	diff(t, "rejects", rejectsOf(t, s), want)
	s.Close()
	s = open(t, d, loc)
	apply(t, s, &checkpoint.Batch{Rejects: []checkpoint.Reject{r("user", "7", "id.invalid", "after reopen"), r("msg", "\x00\xff", "t.80002", "bytes")}})
	diff(t, "rejects after reopen", rejectsOf(t, s), append(want, r("msg", "\x00\xff", "t.80002", "bytes")))
}

func testCounters(t *testing.T, d Driver) {
	s, loc := fresh(t, d)
	if got := countersOf(t, s); len(got) != 0 {
		t.Errorf("Counters of an empty store = %+v", got)
	}
	c := func(phase string, imp, pre, rej int64) checkpoint.PhaseCount {
		return checkpoint.PhaseCount{Phase: phase, Counts: checkpoint.Counts{Imported: imp, Present: pre, Rejected: rej}}
	}
	apply(t, s,
		&checkpoint.Batch{Counts: []checkpoint.PhaseCount{c("accounts", 100, 2, 1), c("dm", 5, 0, 0)}},
		&checkpoint.Batch{Counts: []checkpoint.PhaseCount{c("accounts", 50, 0, 3)},
			Marks:   []checkpoint.Mark{{Phase: "dm", Stream: "a"}, {Phase: "dm", Stream: "b"}, {Phase: "gm", Stream: "g"}},
			Intents: []checkpoint.Intent{{Phase: "gm", Stream: "g", First: 1, Last: 7}, {Phase: "gm", Stream: "h", First: 1, Last: 7}},
			Done:    []checkpoint.PhaseDone{{Phase: "accounts", At: t0}, {Phase: "groups", At: t0}}},
	)
	s.Close()
	s = open(t, d, loc)
	cs, err := s.Counters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "counters", cs, []checkpoint.PhaseCounters{
		{Phase: "accounts", Counts: checkpoint.Counts{Imported: 150, Present: 2, Rejected: 4}, Done: true, DoneAt: t0},
		{Phase: "dm", Counts: checkpoint.Counts{Imported: 5}, Streams: 2},
		{Phase: "gm", Streams: 1, Intents: 2},
		{Phase: "groups", Done: true, DoneAt: t0},
	})
}

func testRebase(t *testing.T, d Driver) {
	s, loc := fresh(t, d)
	ctx := context.Background()
	if g, err := s.Generation(ctx); err != nil || g.Number != 0 || !g.Clock.IsZero() {
		t.Fatalf("Generation of a new store = %+v, %v; want number 0, zero clock", g, err)
	}
	c := checkpoint.Counts{Imported: 7, Rejected: 1}
	apply(t, s, &checkpoint.Batch{ID: "w-9",
		Counts:  []checkpoint.PhaseCount{{Phase: "dm", Counts: c}},
		Marks:   []checkpoint.Mark{{Phase: "dm", Stream: "a", Ordinal: 4}, {Phase: "failed", Stream: "g1"}, {Phase: "gm", Stream: "g"}},
		Intents: []checkpoint.Intent{{Phase: "gm", Stream: "h", First: 1, Last: 7}},
		Rejects: []checkpoint.Reject{{Entity: "m", LegacyID: "x", Rule: "r"}},
		Done:    []checkpoint.PhaseDone{{Phase: "dm", At: t0}}})
	clock := t0.Add(time.Hour)
	in := checkpoint.Intent{Phase: "gm", Stream: "g", First: 0, Last: 2, FirstID: "m1", LastID: "m3"}
	refused := checkpoint.Reject{Entity: "gm", LegacyID: "late", Rule: "before_imported"}
	if err := s.Rebase(ctx, checkpoint.Generation{Number: 1, Clock: clock, Keep: []string{"failed"}, Intents: []checkpoint.Intent{in},
		Rejects: []checkpoint.Reject{refused}, Counts: []checkpoint.PhaseCount{{Phase: "gm", Counts: checkpoint.Counts{Rejected: 1}}}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, d, loc)
	if g, err := s.Generation(ctx); err != nil || g.Number != 1 || !g.Clock.Equal(clock) {
		t.Errorf("Generation after Rebase = %+v, %v; want 1 at %v", g, err, clock)
	}
	if _, ok, err := s.Mark(ctx, "dm", "a"); err != nil || ok {
		t.Errorf("a mark survived the rebase (ok %v, err %v)", ok, err)
	}
	if _, ok, err := s.Mark(ctx, "failed", "g1"); err != nil || !ok {
		t.Errorf("a kept phase's mark was dropped (ok %v, err %v)", ok, err)
	}
	var intents []checkpoint.Intent
	if err := s.Intents(ctx, func(i checkpoint.Intent) error { intents = append(intents, i); return nil }); err != nil {
		t.Fatal(err)
	}
	diff(t, "intents after rebase", intents, []checkpoint.Intent{in})
	diff(t, "counters after rebase", countersOf(t, s), map[string]checkpoint.PhaseCounters{
		"dm": {Phase: "dm", Counts: c}, "failed": {Phase: "failed", Streams: 1}, "gm": {Phase: "gm", Intents: 1, Counts: checkpoint.Counts{Rejected: 1}}})
	var rejects []checkpoint.Reject
	if err := s.Rejects(ctx, func(r checkpoint.Reject) error { rejects = append(rejects, r); return nil }); err != nil {
		t.Fatal(err)
	}
	diff(t, "rejects after rebase (the kept one, then the new generation's)", rejects, []checkpoint.Reject{{Entity: "m", LegacyID: "x", Rule: "r"}, refused})
	// The batch applied last before the rebase named old positions: a batch of
	// the new generation with the same ID is applied, not taken for a retry.
	apply(t, s, &checkpoint.Batch{ID: "w-9", Marks: []checkpoint.Mark{{Phase: "dm", Stream: "a", Ordinal: 1}}})
	if m, ok, err := s.Mark(ctx, "dm", "a"); err != nil || !ok || m.Ordinal != 1 {
		t.Errorf("mark after rebase = %+v, %v, %v; want ordinal 1", m, ok, err)
	}
	if err := s.Rebase(ctx, checkpoint.Generation{}); err == nil {
		t.Error("Rebase to generation 0 succeeded")
	}
}

func testApplyRetry(t *testing.T, d Driver) {
	b := func(id string) *checkpoint.Batch {
		return &checkpoint.Batch{ID: id,
			Counts:  []checkpoint.PhaseCount{{Phase: "dm", Counts: checkpoint.Counts{Imported: 10}}},
			Rejects: []checkpoint.Reject{{Entity: "m", LegacyID: id, Rule: "r"}}}
	}
	cases := []struct {
		name string
		ids  []string
		want int64
	}{
		{"same id applied once", []string{"w-1", "w-1"}, 10},
		{"distinct ids", []string{"w-1", "w-2"}, 20},
		{"only the last id is remembered", []string{"w-1", "w-2", "w-1"}, 30},
		{"no id: every apply counts", []string{"", ""}, 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := fresh(t, d)
			for _, id := range tc.ids {
				apply(t, s, b(id))
			}
			if got := countersOf(t, s)["dm"].Imported; got != tc.want {
				t.Errorf("imported = %d, want %d", got, tc.want)
			}
		})
	}
}

// testApplyCancelled ends Apply's context ever later, so that it lands before, inside
// and after the transaction: the batch is applied whole or not at all, and the store
// takes the next Apply (a connection left inside a transaction would refuse it).
func testApplyCancelled(t *testing.T, d Driver) {
	s, _ := fresh(t, d)
	big := &checkpoint.Batch{Counts: []checkpoint.PhaseCount{{Phase: "big", Counts: checkpoint.Counts{Imported: 1}}}}
	for i := range 2000 {
		big.Marks = append(big.Marks, checkpoint.Mark{Phase: "big", Stream: fmt.Sprintf("s/%05d", i), Ordinal: 1})
	}
	for timeout := time.Microsecond; ; timeout *= 2 {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := s.Apply(ctx, big)
		cancel()
		apply(t, s, &checkpoint.Batch{Counts: []checkpoint.PhaseCount{{Phase: "small", Counts: checkpoint.Counts{Imported: 1}}}})
		c := countersOf(t, s)
		if n := c["big"].Imported; c["big"].Streams != int64(len(big.Marks))*n || n > 1 {
			t.Fatalf("after an Apply cut at %v: %d of %d marks with counts %d, want all or none, once", timeout, c["big"].Streams, len(big.Marks), n)
		}
		if err == nil {
			if c["big"].Imported != 1 {
				t.Fatalf("Apply succeeded at %v but its batch is not there", timeout)
			}
			return
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Apply cut at %v = %v, want a deadline error", timeout, err)
		}
		if c["big"].Imported == 1 {
			return // committed, but the answer came too late; nothing later to try
		}
	}
}

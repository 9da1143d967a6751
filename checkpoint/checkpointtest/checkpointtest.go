// Package checkpointtest is the shared test suite of checkpoint.Store: every
// implementation runs Run (and Bench) from its tests, so that SQLite and PostgreSQL
// behave alike, crashes included.
//
// A driver's test package wires it like this:
//
//	var driver = checkpointtest.Driver{Name: "sqlite", New: newLocation, Open: openStore}
//
//	func TestStore(t *testing.T)           { checkpointtest.Run(t, driver) }
//	func BenchmarkWriter(b *testing.B)     { checkpointtest.Bench(b, driver) }
//	func TestHelperProcess(t *testing.T)   { checkpointtest.HelperProcess(t, driver) }
//
// TestHelperProcess is the child side of the crash tests, which re-execute the test
// binary and kill it with SIGKILL (skipped under -short); it does nothing in a
// normal run.
package checkpointtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/checkpoint"
)

// Driver makes stores of one implementation for the suite.
type Driver struct {
	// Name tells drivers apart in one test binary (the helper process picks its
	// driver by it).
	Name string
	// New creates an empty checkpoint location for one test — a file path, a
	// schema name — and removes it when the test ends (tb.Cleanup). It skips the
	// test when the implementation's server is unavailable.
	New func(tb testing.TB) string
	// Open opens the store at loc. The suite opens one loc many times: after a
	// Close (reopen), while another Store on it is open, and from a helper process.
	Open func(ctx context.Context, loc string) (checkpoint.Store, error)
	// Check, when set, verifies the implementation's own consistency at loc after
	// a crash (e.g. SQLite's integrity_check); no Store is open on loc then.
	Check func(tb testing.TB, loc string)
}

// open opens loc and closes the store when the test ends (closing twice is fine).
func open(tb testing.TB, d Driver, loc string) checkpoint.Store {
	tb.Helper()
	s, err := d.Open(context.Background(), loc)
	if err != nil {
		tb.Fatalf("open %s: %v", loc, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// fresh opens a new empty store.
func fresh(tb testing.TB, d Driver) (checkpoint.Store, string) {
	tb.Helper()
	loc := d.New(tb)
	return open(tb, d, loc), loc
}

var t0 = time.Date(2024, 3, 1, 10, 0, 0, 123456789, time.UTC)

func manifest(hash, target string, started time.Time) checkpoint.Manifest {
	return checkpoint.Manifest{MappingHash: hash, Source: "csv:/data/export", Target: target,
		ToolVersion: "v1.0.0", Started: started}
}

// begin records a manifest, retrying while a killed process's session still holds
// the run lock (a server notices a dead client's session after a moment).
func begin(tb testing.TB, s checkpoint.Store, m checkpoint.Manifest) checkpoint.Resume {
	tb.Helper()
	r, err := beginRetry(context.Background(), s, m)
	if err != nil {
		tb.Fatalf("Begin: %v", err)
	}
	return r
}

func beginRetry(ctx context.Context, s checkpoint.Store, m checkpoint.Manifest) (checkpoint.Resume, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := s.Begin(ctx, m, checkpoint.BeginOptions{})
		if !errors.Is(err, checkpoint.ErrLocked) || time.Now().After(deadline) {
			return r, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func apply(tb testing.TB, s checkpoint.Store, bs ...*checkpoint.Batch) {
	tb.Helper()
	for i, b := range bs {
		if err := s.Apply(context.Background(), b); err != nil {
			tb.Fatalf("Apply batch %d: %v", i, err)
		}
	}
}

// snapshot is everything a store holds, read through its public methods.
type snapshot struct {
	Manifest *checkpoint.Manifest
	Marks    []checkpoint.Mark // by phase, then stream
	Intents  []checkpoint.Intent
	IDs      []checkpoint.IDMapping
	Rejects  []checkpoint.Reject
	Counters []checkpoint.PhaseCounters
}

func read(tb testing.TB, s checkpoint.Store) snapshot {
	tb.Helper()
	ctx := context.Background()
	var snap snapshot
	m, err := s.Manifest(ctx)
	switch {
	case err == nil:
		snap.Manifest = &m
	case !errors.Is(err, checkpoint.ErrNoManifest):
		tb.Fatalf("Manifest: %v", err)
	}
	if snap.Counters, err = s.Counters(ctx); err != nil {
		tb.Fatalf("Counters: %v", err)
	}
	for _, c := range snap.Counters {
		if err := s.Marks(ctx, c.Phase, "", func(m checkpoint.Mark) error {
			snap.Marks = append(snap.Marks, m)
			return nil
		}); err != nil {
			tb.Fatalf("Marks(%q): %v", c.Phase, err)
		}
	}
	if err := s.Intents(ctx, func(in checkpoint.Intent) error {
		snap.Intents = append(snap.Intents, in)
		return nil
	}); err != nil {
		tb.Fatalf("Intents: %v", err)
	}
	if err := s.IDMap(ctx, func(m checkpoint.IDMapping) error {
		snap.IDs = append(snap.IDs, m)
		return nil
	}); err != nil {
		tb.Fatalf("IDMap: %v", err)
	}
	if err := s.Rejects(ctx, func(r checkpoint.Reject) error {
		snap.Rejects = append(snap.Rejects, r)
		return nil
	}); err != nil {
		tb.Fatalf("Rejects: %v", err)
	}
	return snap
}

// marksOf returns the marks of one phase.
func marksOf(tb testing.TB, s checkpoint.Store, phase, prefix string) []checkpoint.Mark {
	tb.Helper()
	var out []checkpoint.Mark
	if err := s.Marks(context.Background(), phase, prefix, func(m checkpoint.Mark) error {
		out = append(out, m)
		return nil
	}); err != nil {
		tb.Fatalf("Marks(%q, %q): %v", phase, prefix, err)
	}
	return out
}

func intentsOf(tb testing.TB, s checkpoint.Store) []checkpoint.Intent {
	tb.Helper()
	var out []checkpoint.Intent
	if err := s.Intents(context.Background(), func(in checkpoint.Intent) error {
		out = append(out, in)
		return nil
	}); err != nil {
		tb.Fatalf("Intents: %v", err)
	}
	return out
}

func rejectsOf(tb testing.TB, s checkpoint.Store) []checkpoint.Reject {
	tb.Helper()
	var out []checkpoint.Reject
	if err := s.Rejects(context.Background(), func(r checkpoint.Reject) error {
		out = append(out, r)
		return nil
	}); err != nil {
		tb.Fatalf("Rejects: %v", err)
	}
	return out
}

func countersOf(tb testing.TB, s checkpoint.Store) map[string]checkpoint.PhaseCounters {
	tb.Helper()
	cs, err := s.Counters(context.Background())
	if err != nil {
		tb.Fatalf("Counters: %v", err)
	}
	out := make(map[string]checkpoint.PhaseCounters, len(cs))
	for _, c := range cs {
		out[c.Phase] = c
	}
	return out
}

// diff reports got != want field by field, with values quoted so that NUL and
// invalid UTF-8 show.
func diff(tb testing.TB, what string, got, want any) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("%s:\n got %s\nwant %s", what, show(got), show(want))
	}
}

func show(v any) string {
	s := fmt.Sprintf("%#v", v)
	s = strings.ReplaceAll(s, "checkpoint.", "")
	return s
}

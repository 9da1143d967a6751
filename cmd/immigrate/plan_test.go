package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/extract/synth"
	"github.com/immigrate/immigrate/internal/pgtest"
)

// readCounter counts the reads of each source entity (extract.Options.OnRead).
type readCounter struct {
	mu sync.Mutex
	n  map[extract.Entity]int
}

func (c *readCounter) meta() map[string]any {
	return map[string]any{sourceReadHookKey: func(e extract.Entity) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.n[e]++
	}}
}

func (c *readCounter) take() map[extract.Entity]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[extract.Entity]int{}
	return n
}

// TestRunReadsTheSourceOnce: `immigrate run` reads each source file or query
// exactly once (the validate pass writes the plan, the import reads only the
// plan); the same command again — a resume — reads it zero times and reaches the
// same state; and a source that changed since the plan was written is refused
// with exit 2, naming what changed, instead of being silently replayed.
func TestRunReadsTheSourceOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := e2eData
	data.Friends = 50 // so that every entity has a source
	if _, err := synth.WriteCSV(t.Context(), data, dir); err != nil {
		t.Fatalf("generate: %v", err)
	}
	everyEntity := map[extract.Entity]int{}
	for _, e := range extract.Entities() {
		if e == extract.Topics {
			continue // the demo source has no topics, so its mapping names none
		}
		everyEntity[e] = 1
	}
	sources := []struct {
		name    string
		mapping func(t *testing.T) string
		// grow appends a record to the source.
		grow        func(t *testing.T)
		changedPart string
	}{
		{
			name:    "csv",
			mapping: func(t *testing.T) string { return filepath.Join(dir, "csv.yaml") },
			grow: func(t *testing.T) {
				f, err := os.OpenFile(filepath.Join(dir, "users.csv"), os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				// Empty profile fields, as many as the header has (e2eData.Profiles).
				if _, err := fmt.Fprintln(f, "late_user,Late,,1700000000,,,,"); err != nil {
					t.Fatal(err)
				}
			},
			changedPart: "users.csv",
		},
	}
	var pgURL string
	sources = append(sources, struct {
		name        string
		mapping     func(t *testing.T) string
		grow        func(t *testing.T)
		changedPart string
	}{
		name: "postgres",
		mapping: func(t *testing.T) string {
			var schema string
			pgURL, schema = pgtest.Schema(t)
			if _, err := synth.LoadPostgres(t.Context(), data, synth.PostgresOptions{URL: pgURL, Schema: schema}); err != nil {
				t.Fatalf("load postgres: %v", err)
			}
			return filepath.Join(dir, "postgres.yaml")
		},
		grow: func(t *testing.T) {
			conn, err := pgx.Connect(t.Context(), pgURL)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(t.Context())
			if _, err := conn.Exec(t.Context(), `INSERT INTO users (id, nickname, avatar_url, created_at)
				SELECT 'late_user', 'Late', NULL, created_at FROM users WHERE created_at IS NOT NULL LIMIT 1`); err != nil {
				t.Fatal(err)
			}
		},
		changedPart: "users",
	})
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			srv, url := e2eSandbox(t, nil)
			mapping := pointAt(t, src.mapping(t), url, func(s string) string {
				return strings.Replace(s, `"${IMMIGRATE_SOURCE_PG_URL}"`, strconv.Quote(pgURL), 1)
			})
			out := t.TempDir()
			reads := &readCounter{n: map[extract.Entity]int{}}
			run := func() (int, string, string) {
				return runCLIWith(t, t.Context(), reads.meta(), "run", "-c", mapping, "--out", out)
			}

			code, stdout, stderr := run()
			if code != exitRejected {
				t.Fatalf("first run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if got := reads.take(); fmt.Sprint(got) != fmt.Sprint(everyEntity) {
				t.Errorf("first run read %v, want every entity once: %v", got, everyEntity)
			}
			first := srv.State()
			firstRejects, err := os.ReadFile(filepath.Join(out, "rejects.jsonl"))
			if err != nil {
				t.Fatal(err)
			}

			code, stdout2, stderr := run()
			if code != exitRejected {
				t.Fatalf("second run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout2, stderr)
			}
			if got := reads.take(); len(got) != 0 {
				t.Errorf("second run read %v, want nothing: it runs from the plan", got)
			}
			if !strings.Contains(stderr, "not read again") {
				t.Errorf("second run does not say it used the plan:\n%s", stderr)
			}
			if st := srv.State(); !reflect.DeepEqual(st, first) {
				t.Errorf("the second run changed the target: %s", stateDiff(t, first, st))
			}
			if again, _ := os.ReadFile(filepath.Join(out, "rejects.jsonl")); len(firstRejects) == 0 || string(again) != string(firstRejects) {
				t.Errorf("rejects.jsonl after the second run (%d bytes) differs from the first's (%d bytes)", len(again), len(firstRejects))
			}
			if !strings.Contains(stdout2, "records, each listed in") {
				t.Errorf("second run lists no rejects:\n%s", stdout2)
			}

			// The source grew: the run reads it once more and imports the one
			// new user, a delta (TestDeltaRun covers every entity).
			src.grow(t)
			code, _, stderr = run()
			if code != exitRejected || !strings.Contains(stderr, "delta (generation 1): 1 new records to import") {
				t.Errorf("run after the source grew: exit %d, want %d with a delta of 1 record\nstderr:\n%s", code, exitRejected, stderr)
			}
			if got := reads.take(); fmt.Sprint(got) != fmt.Sprint(everyEntity) {
				t.Errorf("the delta run read %v, want every entity once", got)
			}
			st := srv.State()
			if len(st.Accounts) != len(first.Accounts)+1 || !reflect.DeepEqual(st.Groups, first.Groups) || !reflect.DeepEqual(st.C2C, first.C2C) {
				t.Errorf("the delta run did not add exactly the one account: %s", stateDiff(t, first, st))
			}
		})
	}
}

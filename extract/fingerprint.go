package extract

import (
	"context"
	"fmt"
)

// SourcePart is one piece of a source's identity: one entity's file or query, and
// its state when it was fingerprinted. Fingerprints of an unchanged source have
// equal parts; Changed tells how two differ. Neither field ever holds a secret (a
// password, a connection URL), so parts may be stored and printed.
type SourcePart struct {
	// Name says which piece: the CSV file as configured ("users.csv"), or the
	// entity's query, named by its mapping key ("group_members query").
	Name string `json:"name"`
	// State is what changes with the data, in words: "1234 bytes, modified
	// 2026-12-03T09:25:18.123456789Z", or "40 rows".
	State string `json:"state"`
}

// Fingerprinter identifies the current state of a source without reading its
// records, so that a later run can tell whether the source changed since.
//
// Fingerprint returns one part per entity the source configures, in the order of
// Entities(). It does not read the records and does not call Options.OnRead: a CSV
// file is only stat'ed, never opened; a PostgreSQL query is counted (SELECT count(*)
// over it), which the server must evaluate but which sends no rows. It may run
// concurrently with reads, and fails with ErrClosed after Close.
//
// A fingerprint is evidence, not proof: a change that keeps it — a file rewritten
// to the same size with its time restored, rows updated in place or replaced one for
// one in PostgreSQL — goes unnoticed.
type Fingerprinter interface {
	Fingerprint(ctx context.Context) ([]SourcePart, error)
}

// Changed describes how the source fingerprinted as after differs from the one
// fingerprinted as before, one sentence per part whose state changed, that is no
// longer there or that is new, in the order of before then after; nil when they are
// the same. Parts are matched by Name (the n-th part of a name with the n-th).
func Changed(before, after []SourcePart) []string {
	type key struct {
		name string
		n    int
	}
	keys := func(parts []SourcePart) []key {
		seen := map[string]int{}
		out := make([]key, len(parts))
		for i, p := range parts {
			out[i] = key{p.Name, seen[p.Name]}
			seen[p.Name]++
		}
		return out
	}
	beforeKeys, afterKeys := keys(before), keys(after)
	now := make(map[key]string, len(after))
	for i, p := range after {
		now[afterKeys[i]] = p.State
	}
	was := make(map[key]bool, len(before))
	var out []string
	for i, p := range before {
		k := beforeKeys[i]
		was[k] = true
		state, ok := now[k]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: no longer in the source (was %s)", p.Name, p.State))
		case state != p.State:
			out = append(out, fmt.Sprintf("%s: was %s; now %s", p.Name, p.State, state))
		}
	}
	for i, p := range after {
		if !was[afterKeys[i]] {
			out = append(out, fmt.Sprintf("%s: new in the source (now %s)", p.Name, p.State))
		}
	}
	return out
}

// countState is the State of a query's part.
func countState(n int64) string {
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}

package verify

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/tencentim"
)

// Caller makes one read call with the retries and rate limits of the migration
// (*load.Caller is one). It returns nil, ctx.Err(), a *load.FatalError that stops
// the verification, or the *tencentim.Error of an answer that refuses the request
// (a group or account that does not exist), which verify reads as "missing".
// Safe for concurrent use.
type Caller interface {
	Call(ctx context.Context, cmd tencentim.Command, req, resp any) error
}

// Config tunes Run. The zero value verifies everything, 16 streams at a time,
// with an unlimited roaming retention.
type Config struct {
	// Sample is the share of users, groups and conversations verified, in percent
	// (0 < Sample ≤ 100); 0 means 100. The choice hashes the UserID, GroupId or
	// conversation, so the same sample is drawn every time.
	Sample float64
	// Workers is how many groups or conversations are read back at once.
	Workers int
	// RoamingDays is the app's C2C roaming retention (spec §7.2): a one-to-one
	// message older than Now minus that many days that the target does not return
	// is counted as beyond retention, not missing. 0 means unlimited.
	RoamingDays int
	// Now is the clock of the retention; zero means time.Now().
	Now time.Time
	// MaxFindings bounds the findings kept (the counts stay exact); 0 means
	// DefaultMaxFindings.
	MaxFindings int
	// Progress, when set, is updated as records are checked.
	Progress *Progress
	// Rejected, when set, names the records the migration's runs rejected (the
	// checkpoint's rejects, as rejects.jsonl lists them): one the target does not
	// hold is counted as rejected, not missing.
	Rejected func(e extract.Entity, origin, legacyID string) (rule string, ok bool)
}

// DefaultMaxFindings is Config.MaxFindings' default.
const DefaultMaxFindings = 100_000

// Kinds of findings.
const (
	KindMissing   = "missing"
	KindDifferent = "different"
)

// Fields a "different" finding names.
const (
	FieldText   = "text" // message body (and CloudCustomData), or a profile text
	FieldSender = "sender"
	FieldTime   = "time"
	FieldOrder  = "order"
)

// Result is what Run found. Its JSON form is verify.json's: field names are
// stable, for programs.
type Result struct {
	Sample   float64  `json:"sample_percent"`
	Entities []Counts `json:"entities"`
	// Findings are sorted by entity, then by the record's position in the plan.
	Findings []Finding `json:"findings"`
	// FindingsDropped counts the findings past MaxFindings.
	FindingsDropped int64            `json:"findings_dropped,omitempty"`
	Warnings        []string         `json:"warnings"`
	Calls           map[string]int64 `json:"calls,omitempty"`
}

// Counts is one entity's reconciliation: Expected = Present + Missing + Different
// + BeyondRetention.
type Counts struct {
	Entity   extract.Entity `json:"entity"`
	Expected int64          `json:"expected"`
	// Present are in the target as the import sent them.
	Present   int64 `json:"present"`
	Missing   int64 `json:"missing"`
	Different int64 `json:"different"`
	// BeyondRetention are one-to-one messages older than the roaming retention
	// that the target did not return: they cannot be verified.
	BeyondRetention int64 `json:"beyond_retention,omitempty"`
	// Rejected are records of the plan that the runs rejected (rejects.jsonl)
	// and the target does not hold: not expected, so not in Expected.
	Rejected int64 `json:"rejected,omitempty"`
}

// OK reports whether everything expected is present as sent.
func (r *Result) OK() bool {
	for _, c := range r.Entities {
		if c.Missing > 0 || c.Different > 0 {
			return false
		}
	}
	return true
}

// Counts returns the counts of e.
func (r *Result) Counts(e extract.Entity) Counts {
	for _, c := range r.Entities {
		if c.Entity == e {
			return c
		}
	}
	return Counts{Entity: e}
}

// Finding is one record that is not in the target as the import sent it.
type Finding struct {
	Entity extract.Entity `json:"entity"`
	Kind   string         `json:"kind"`
	// Fields name what differs, for KindDifferent.
	Fields []string `json:"fields,omitempty"`
	// Origin is where the record came from ("file.csv:12", "table id=42"), and
	// LegacyID its legacy id, as the rejects name them.
	Origin   string `json:"origin"`
	LegacyID string `json:"legacy_id"`
	// Target names it on the target: a UserID, a GroupId, "GroupId/UserID", or
	// for messages the group or the two accounts.
	Target string `json:"target"`
	// Detail says what was expected and what the target holds.
	Detail string `json:"detail,omitempty"`

	pos int64 // the record's position in its phase of the plan
}

// entities are the reconciled entities in migration order, with the phase of the
// plan that holds each.
var entities = []struct {
	entity extract.Entity
	phase  load.Phase
}{
	{extract.Users, load.PhaseAccounts},
	{extract.Groups, load.PhaseGroups},
	{extract.Members, load.PhaseMembers},
	{extract.GroupDMs, load.PhaseGroupDMs},
	{extract.GroupMessages, load.PhaseGroupMessages},
	{extract.DirectMessages, load.PhaseDirectMessages},
	{extract.Friends, load.PhaseFriends},
	{extract.Profiles, load.PhaseProfiles},
}

// Run reads back every record of src (the plan the import sends; sampled by
// cfg.Sample) through c and reconciles it. Only a fatal answer, an exhausted
// retry, a bad plan or ctx ends it with an error.
func Run(ctx context.Context, c Caller, src load.Source, cfg Config) (*Result, error) {
	if cfg.Sample <= 0 || cfg.Sample > 100 {
		cfg.Sample = 100
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	if cfg.MaxFindings <= 0 {
		cfg.MaxFindings = DefaultMaxFindings
	}
	if cfg.Progress == nil {
		cfg.Progress = NewProgress()
	}
	v := &verifier{c: c, cfg: cfg, tally: newTally(cfg.MaxFindings, cfg.Progress)}
	v.tally.rejected = cfg.Rejected
	steps := []func(context.Context, load.Source) error{v.users, v.groups, v.members, v.groupDMs, v.groupMessages, v.directMessages, v.friends, v.userProfiles}
	for _, step := range steps {
		if err := step(ctx, src); err != nil {
			return nil, err
		}
	}
	return v.tally.result(cfg.Sample, v.warnings()), nil
}

type verifier struct {
	c     Caller
	cfg   Config
	tally *tally

	mu      sync.Mutex
	types   map[string]string // GroupId → the Type the import sends
	beyond  int64             // C2C messages not returned, older than the retention
	oldest  time.Time         // the oldest of them
	retains time.Time         // the retention's cutoff
}

func (v *verifier) warnings() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.beyond == 0 {
		return []string{}
	}
	return []string{fmt.Sprintf("%d one-to-one messages (the oldest from %s) are older than the app's roaming retention of %d days "+
		"(target.roaming_days, spec §11 item 10) and were not returned by admin_getroammsg: they cannot be verified, and "+
		"clients cannot read them either. Extend the retention to verify them.",
		v.beyond, v.oldest.UTC().Format(time.DateOnly), v.cfg.RoamingDays)}
}

// sampled reports whether the user, group or conversation key is in the sample.
func (v *verifier) sampled(key string) bool {
	if v.cfg.Sample >= 100 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return float64(h.Sum64()%10000) < v.cfg.Sample*100
}

// record is a record of the plan with its position in its phase.
type record struct {
	load.Record
	pos int64
}

// eachStream calls fn with each sampled stream of ph, its records in plan order,
// from up to cfg.Workers goroutines. A stream's records are consecutive in the
// plan (load.Source's contract).
func (v *verifier) eachStream(ctx context.Context, src load.Source, ph load.Phase, fn func(ctx context.Context, stream string, recs []record) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(v.cfg.Workers)
	var (
		cur  string
		recs []record
		pos  int64
	)
	flush := func() {
		if len(recs) == 0 {
			return
		}
		stream, batch := cur, recs
		recs = nil
		g.Go(func() error { return fn(gctx, stream, batch) })
	}
	err := src.Records(gctx, ph, func(r load.Record) error {
		defer func() { pos++ }()
		if r.Stream != cur {
			flush()
			cur = r.Stream
		}
		if !v.sampled(r.Stream) {
			return nil
		}
		recs = append(recs, record{Record: r, pos: pos})
		return gctx.Err()
	})
	if err == nil {
		flush()
	}
	if werr := g.Wait(); err == nil {
		err = werr
	}
	return err
}

// eachBatch calls fn with the sampled records of ph (sampled by key) in batches of
// at most n, from up to cfg.Workers goroutines.
func (v *verifier) eachBatch(ctx context.Context, src load.Source, ph load.Phase, n int, key func(load.Record) (string, error),
	fn func(ctx context.Context, batch []record) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(v.cfg.Workers)
	var (
		batch []record
		pos   int64
	)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		b := batch
		batch = nil
		g.Go(func() error { return fn(gctx, b) })
	}
	err := src.Records(gctx, ph, func(r load.Record) error {
		defer func() { pos++ }()
		k, err := key(r)
		if err != nil {
			return err
		}
		if !v.sampled(k) {
			return nil
		}
		batch = append(batch, record{Record: r, pos: pos})
		if len(batch) == n {
			flush()
		}
		return gctx.Err()
	})
	if err == nil {
		flush()
	}
	if werr := g.Wait(); err == nil {
		err = werr
	}
	return err
}

// tally collects the counts and findings; safe for concurrent use.
type tally struct {
	progress *Progress
	max      int
	rejected func(e extract.Entity, origin, legacyID string) (string, bool)

	mu       sync.Mutex
	counts   map[extract.Entity]*Counts
	findings []Finding
	dropped  int64
}

func newTally(maxFindings int, p *Progress) *tally {
	t := &tally{progress: p, max: maxFindings, counts: map[extract.Entity]*Counts{}}
	for _, e := range entities {
		t.counts[e.entity] = &Counts{Entity: e.entity}
	}
	return t
}

// present counts a record found as sent.
func (t *tally) present(e extract.Entity) {
	t.mu.Lock()
	c := t.counts[e]
	c.Expected++
	c.Present++
	t.mu.Unlock()
	t.progress.checked(e)
}

// beyondRetention counts a record the target cannot return any more.
func (t *tally) beyondRetention(e extract.Entity) {
	t.mu.Lock()
	c := t.counts[e]
	c.Expected++
	c.BeyondRetention++
	t.mu.Unlock()
	t.progress.checked(e)
}

// find counts a record that is missing or different.
func (t *tally) find(e extract.Entity, r record, target, kind, detail string, fields ...string) {
	if kind == KindMissing && t.rejected != nil {
		if _, ok := t.rejected(e, r.Origin, r.LegacyID); ok {
			t.mu.Lock()
			t.counts[e].Rejected++
			t.mu.Unlock()
			t.progress.checked(e)
			return
		}
	}
	t.mu.Lock()
	c := t.counts[e]
	c.Expected++
	if kind == KindMissing {
		c.Missing++
	} else {
		c.Different++
	}
	if len(t.findings) < t.max {
		t.findings = append(t.findings, Finding{Entity: e, Kind: kind, Fields: fields, Origin: r.Origin, LegacyID: r.LegacyID,
			Target: target, Detail: detail, pos: r.pos})
	} else {
		t.dropped++
	}
	t.mu.Unlock()
	t.progress.checked(e)
	t.progress.found()
}

func (t *tally) result(sample float64, warnings []string) *Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	order := map[extract.Entity]int{}
	res := &Result{Sample: sample, Warnings: warnings, FindingsDropped: t.dropped}
	for i, e := range entities {
		order[e.entity] = i
		c := *t.counts[e.entity]
		if (e.entity == extract.Friends || e.entity == extract.GroupDMs || e.entity == extract.Profiles) && c == (Counts{Entity: e.entity}) {
			continue // friends, group DMs and profiles only when there are some
		}
		res.Entities = append(res.Entities, c)
	}
	res.Findings = slices.Clone(t.findings)
	slices.SortFunc(res.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(order[a.Entity], order[b.Entity]), cmp.Compare(a.pos, b.pos))
	})
	if res.Findings == nil {
		res.Findings = []Finding{}
	}
	return res
}

package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/spool"
	"github.com/immigrate/immigrate/transform"
)

// The plan on disk (design §3): the validate pass of `immigrate run` writes every
// phase's records to a spool, ordered per stream, with the validate rejects and
// what the pass found; the import and every resume read the spool, never the
// source again.

// Spooler receives the records of the plan; *spool.Writer is one.
type Spooler interface {
	Append(phase string, r spool.Record) error
}

// ImpliedOrigin is the origin of an account no user record holds but other
// records reference (unknown_users: import).
const ImpliedOrigin = "implied by references"

// rejectsPhase holds the validate rejects in the spool, in the order met, as the
// JSON of load.Reject.
const rejectsPhase = "rejects"

func (v *validator) spool(ph load.Phase, stream, origin, legacyID string, payload any) error {
	if v.opt.Spool == nil {
		return nil
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("%s %s: encode payload: %w", ph, legacyID, err)
	}
	return v.spoolRaw(ph, stream, origin, legacyID, raw)
}

func (v *validator) spoolRaw(ph load.Phase, stream, origin, legacyID string, raw []byte) error {
	if v.opt.Spool == nil {
		return nil
	}
	if err := v.opt.Spool.Append(string(ph), spool.Record{Stream: stream, Origin: origin, LegacyID: legacyID, Payload: raw}); err != nil {
		v.sinkErr = fmt.Errorf("validate: write the plan: %w", err)
		return v.sinkErr
	}
	return nil
}

// Meta describes a spool: what it was built from, and what the validate pass
// found. A run reuses a spool only for the same mapping and an unchanged source.
type Meta struct {
	MappingHash string `json:"mapping_hash"`
	// Source is the source's fingerprint, taken before it was read.
	Source []extract.SourcePart `json:"source"`
	// Now is the clock the transformer checked against.
	Now     time.Time       `json:"now"`
	Created time.Time       `json:"created"`
	Result  *ValidateResult `json:"result"`
	// DroppedGroups are groups rejected at the end of the pass (group_create_time:
	// reject) whose members, messages and unread counts the spool may hold: the
	// Source leaves them out.
	DroppedGroups []string `json:"dropped_groups,omitempty"`
	// Delta is set on a delta plan (BuildDelta): what it holds beyond the plan
	// before it.
	Delta *Delta `json:"delta,omitempty"`
}

// Generation is the checkpoint generation the plan follows: 0 for the first plan
// of a migration.
func (m Meta) Generation() int64 {
	if m.Delta == nil {
		return 0
	}
	return m.Delta.Generation
}

// Build runs the validate pass over r with t, as Validate does, and writes the plan
// to a spool sealed at dir with meta (its Result and DroppedGroups filled in).
// opt.Rejects still receives every reject; the spool keeps a copy. The spool at dir
// is replaced only when Build succeeds.
func Build(ctx context.Context, r extract.Reader, t *transform.Transformer, opt ValidateOptions, dir string, meta Meta) (*ValidateResult, error) {
	w, err := spool.Create(dir)
	if err != nil {
		return nil, err
	}
	opt.Spool = w
	opt.Rejects = teeRejects{w, opt.Rejects}
	res, dropped, err := validate(ctx, r, t, opt)
	if err != nil {
		w.Abort()
		return nil, err
	}
	meta.Result, meta.DroppedGroups = res, dropped
	if meta.Created.IsZero() {
		meta.Created = time.Now().UTC()
	}
	if err := w.Seal(meta); err != nil {
		return nil, err
	}
	return res, nil
}

// teeRejects writes each reject to the spool, then to next (if any).
type teeRejects struct {
	w    Spooler
	next load.RejectSink
}

func (t teeRejects) Reject(r load.Reject) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := t.w.Append(rejectsPhase, spool.Record{Origin: r.Origin, LegacyID: r.LegacyID, Payload: raw}); err != nil {
		return err
	}
	if t.next == nil {
		return nil
	}
	return t.next.Reject(r)
}

// ErrNoSpool means that the output directory holds no complete plan.
var ErrNoSpool = spool.ErrNotFound

// Spool is a sealed plan.
type Spool struct {
	r       *spool.Reader
	meta    Meta
	dropped map[string]bool
}

// OpenSpool opens the plan at dir: ErrNoSpool when there is none (or its writing
// was interrupted).
func OpenSpool(dir string) (*Spool, error) {
	r, err := spool.Open(dir)
	if err != nil {
		return nil, err
	}
	s := &Spool{r: r, dropped: map[string]bool{}}
	if err := r.Meta(&s.meta); err != nil {
		return nil, err
	}
	if s.meta.Result == nil {
		return nil, fmt.Errorf("%w: the plan has no validate result", spool.ErrCorrupt)
	}
	for _, g := range s.meta.DroppedGroups {
		s.dropped[g] = true
	}
	return s, nil
}

// Meta returns what the spool was built from and what the validate pass found.
func (s *Spool) Meta() Meta { return s.meta }

// Bytes is the size of the spool's records.
func (s *Spool) Bytes() int64 { return s.r.Bytes() }

// Records is the number of records the spool holds for ph (before DroppedGroups
// are left out).
func (s *Spool) Records(ph load.Phase) int64 { return s.r.Info(string(ph)).Records }

// Rejects calls fn with each validate reject, in the order the pass met them.
func (s *Spool) Rejects(ctx context.Context, fn func(load.Reject) error) error {
	return s.r.Records(ctx, rejectsPhase, func(rec spool.Record) error {
		var r load.Reject
		if err := json.Unmarshal(rec.Payload, &r); err != nil {
			return fmt.Errorf("%w: reject %s: %v", spool.ErrCorrupt, rec.LegacyID, err)
		}
		r.Severity = "reject"
		return fn(r)
	})
}

// Source is the engine's view of the spool: a load.StreamSource, whose large
// streams are the spool's index of the largest.
func (s *Spool) Source() load.StreamSource { return spoolSource{s} }

type spoolSource struct{ s *Spool }

// Records implements load.Source. A group's records are left out when the group
// fell at the end of the validate pass; GroupIds never collide with the streams of
// one-to-one messages, which hold a NUL.
func (src spoolSource) Records(ctx context.Context, ph load.Phase, fn func(load.Record) error) error {
	return src.wrap(src.s.r.Records(ctx, string(ph), src.keep(fn)))
}

// LargeStreams implements load.StreamSource: the spool's index, less the dropped
// groups.
func (src spoolSource) LargeStreams(ph load.Phase) []load.StreamRef {
	var out []load.StreamRef
	for _, s := range src.s.r.Largest(string(ph)) {
		if !src.s.droppedStream(s.Stream) {
			out = append(out, load.StreamRef{Key: s.Stream, Records: s.Records, Pos: s.Offset})
		}
	}
	return out
}

// ReadStream implements load.StreamSource.
func (src spoolSource) ReadStream(ctx context.Context, ph load.Phase, ref load.StreamRef, fn func(load.Record) error) error {
	for _, s := range src.s.r.Largest(string(ph)) {
		if s.Offset == ref.Pos && s.Stream == ref.Key {
			return src.wrap(src.s.r.ReadStream(ctx, string(ph), s, src.keep(fn)))
		}
	}
	return fmt.Errorf("plan: %s has no large stream %q at %d", ph, ref.Key, ref.Pos)
}

// RecordsBesides implements load.StreamSource.
func (src spoolSource) RecordsBesides(ctx context.Context, ph load.Phase, fn func(load.Record) error) error {
	return src.wrap(src.s.r.RecordsBesides(ctx, string(ph), src.keep(fn)))
}

func (src spoolSource) keep(fn func(load.Record) error) func(spool.Record) error {
	return func(rec spool.Record) error {
		if rec.Stream != "" && src.s.droppedStream(rec.Stream) {
			return nil
		}
		return fn(load.Record{Item: load.Item{Origin: rec.Origin, LegacyID: rec.LegacyID}, Stream: rec.Stream, Payload: rec.Payload})
	}
}

func (spoolSource) wrap(err error) error {
	if errors.Is(err, spool.ErrCorrupt) {
		return fmt.Errorf("%w (delete it, or run with --fresh, to validate the source again)", err)
	}
	return err
}

// droppedStream reports whether stream belongs to a group rejected at the end of
// the validate pass: the group's own stream or one of its topics'.
func (s *Spool) droppedStream(stream string) bool {
	group, _ := load.SplitTopicStream(stream)
	return s.dropped[stream] || s.dropped[group]
}

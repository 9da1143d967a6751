package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/internal/seenset"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/spool"
)

// A delta plan (design §4, issue 9): what a grown source holds beyond what an
// earlier plan's checkpoint covers. The validate pass writes the full plan of the
// grown source; BuildDelta keeps of it the records the checkpoint does not cover,
// in the same order, so that the engine imports exactly the new records with the
// usual resume rules, at positions of the delta plan (the checkpoint is rebased
// onto it: checkpoint.Store.Rebase).
//
// A record of the earlier plan is covered when its phase finished, or its
// position is at or below its stream's mark (positions as the engine gives them:
// per stream in the message phases, per phase in the batch phases). Records are
// matched by phase, stream, legacy id and their rank among consecutive records of
// that id (a split message's parts), as 64-bit fingerprints: two records of one
// phase and stream collide with a probability of about n²/2⁶⁵.

// RuleBeforeImported rejects a new group message that is not later than the last
// message imported into its group: the target refuses it (spec §8.9, design §7 A2:
// strictly later than the group's latest message).
const RuleBeforeImported = "group_message.before_imported"

// Coverage is what a checkpoint covers of the plan it followed; *load.Checkpoint
// is one.
type Coverage interface {
	// Finished reports whether the phase finished.
	Finished(ph load.Phase) bool
	// Mark is the position of the stream's (a batch phase's: stream "") last
	// covered record.
	Mark(ctx context.Context, ph load.Phase, stream string) (ordinal int64, ok bool, err error)
	// Intent is the stream's open import_group_msg intent, if any.
	Intent(ph load.Phase, stream string) (checkpoint.Intent, bool)
}

// DeltaPhase counts what BuildDelta found in one phase.
type DeltaPhase struct {
	Covered int64 `json:"covered"` // records of the earlier plan the checkpoint covers
	New     int64 `json:"new"`     // records of the delta plan
	Refused int64 `json:"refused"` // new records rejected (RuleBeforeImported)
}

// Delta is what a delta plan was built from, in its Meta.
type Delta struct {
	// Generation is the checkpoint generation the delta plan starts (the earlier
	// plan's plus one).
	Generation int64                 `json:"generation"`
	Phases     map[string]DeltaPhase `json:"phases"`
	// Intents are the earlier plan's open intents at the delta plan's positions.
	Intents []checkpoint.Intent `json:"intents,omitempty"`
	// Refused are the new records left out as RuleBeforeImported: the rebase
	// records them in the checkpoint, so that every later run and verify knows
	// them.
	Refused []checkpoint.Reject `json:"refused,omitempty"`
	// Base is when the full plan the delta was cut from was written: the next
	// delta is cut against that plan (kept beside the delta plan), so that it
	// knows what earlier generations covered.
	Base time.Time `json:"base"`
}

// BuildDelta writes to dir the delta of full (the plan of the grown source) over
// old (the plan cov follows), generation gen. The validate rejects of full are
// kept in the delta plan; the records it leaves out as RuleBeforeImported are in
// its Delta.Refused, for the checkpoint.
//
// When old is itself a delta plan, base is the full plan it was cut from (its
// Delta.Base names it): a record of base is covered unless old holds it and cov
// does not cover it there, as base's records missing from old were covered (or
// refused) by an earlier generation. base is nil when old is a generation-0 plan,
// which is its own base.
func BuildDelta(ctx context.Context, old, base, full *Spool, cov Coverage, gen int64, dir string) (*Delta, error) {
	if old.Meta().Delta != nil {
		if base == nil {
			return nil, fmt.Errorf("delta: the plan is a delta of generation %d and its base plan is missing", old.Meta().Delta.Generation)
		}
		if want, got := old.Meta().Delta.Base, base.Meta().Created; !want.Equal(got) {
			return nil, fmt.Errorf("delta: the base plan was written %s, the plan was cut from one written %s", got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
		}
	} else {
		base = nil
	}
	seen := seenset.New(seenset.Config{})
	defer seen.Close()
	// open holds old's records that cov does not cover, when old is a delta plan:
	// exact fingerprints (payload included; old's records are byte copies of
	// base's), so that base's records can be told apart.
	open := seenset.New(seenset.Config{})
	defer open.Close()
	d := &Delta{Generation: gen, Phases: map[string]DeltaPhase{}, Base: full.Meta().Created}
	last := map[string]int64{}     // group-message stream → last covered SendTime
	doubt := map[string][]string{} // group-message stream → legacy ids an open intent may have sent
	cover := func(ph load.Phase, st *DeltaPhase, fp uint64, r load.Record) error {
		seen.Add(fp)
		st.Covered++
		if ph == load.PhaseGroupMessages {
			t, err := sendTime(r)
			if err != nil {
				return err
			}
			last[r.Stream] = max(last[r.Stream], t)
		}
		return nil
	}
	for _, ph := range load.Phases() {
		st := d.Phases[string(ph)]
		batch := !load.StreamPhase(ph)
		var (
			stream           string
			started          bool
			ord              int64
			mark             int64
			marked, finished = false, cov.Finished(ph)
			intent           checkpoint.Intent
			inDoubt          bool
			rank, exact      rankKey
		)
		exact.payload = true
		if batch {
			var err error
			if mark, marked, err = cov.Mark(ctx, ph, ""); err != nil {
				return nil, err
			}
		}
		err := old.Source().Records(ctx, ph, func(r load.Record) error {
			if !batch && (!started || r.Stream != stream) {
				stream, ord = r.Stream, 0
				var err error
				if mark, marked, err = cov.Mark(ctx, ph, stream); err != nil {
					return err
				}
				intent, inDoubt = cov.Intent(ph, stream)
			}
			started = true
			pos := ord
			ord++
			fp, xfp := rank.key(ph, r), exact.key(ph, r)
			if finished || (marked && pos <= mark) {
				if base != nil {
					return nil // counted in base's pass below
				}
				return cover(ph, &st, fp, r)
			}
			if base != nil {
				open.Add(xfp)
			}
			if inDoubt && pos <= intent.Last {
				doubt[r.Stream] = append(doubt[r.Stream], r.LegacyID)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("delta: read the earlier plan's %s: %w", ph, err)
		}
		if base != nil {
			// Base's records are covered but for old's open ones. Add reports
			// whether a fingerprint is new to the set: an open record's is not.
			var rank, exact rankKey
			exact.payload = true
			err = base.Source().Records(ctx, ph, func(r load.Record) error {
				fp, xfp := rank.key(ph, r), exact.key(ph, r)
				if !open.Add(xfp) {
					return nil
				}
				return cover(ph, &st, fp, r)
			})
			if err != nil {
				return nil, fmt.Errorf("delta: read the base plan's %s: %w", ph, err)
			}
		}
		d.Phases[string(ph)] = st
	}
	if err := seen.Err(); err != nil {
		return nil, fmt.Errorf("delta: %w", err)
	}
	if err := open.Err(); err != nil {
		return nil, fmt.Errorf("delta: %w", err)
	}

	w, err := spool.Create(dir)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Delta, error) { w.Abort(); return nil, err }
	touched := map[string]bool{} // groups that gain messages: their unread counts are reset (spec §11 item 6)
	for _, ph := range load.Phases() {
		st := d.Phases[string(ph)]
		var (
			rank   rankKey
			stream string
			pos    int64
			first  = int64(-1)
			lastIn = int64(-1)
			ids    map[string]bool
			began  bool
		)
		flush := func() {
			if first >= 0 {
				d.Intents = append(d.Intents, checkpoint.Intent{Phase: string(ph), Stream: stream, First: first, Last: lastIn})
			}
		}
		err := full.Source().Records(ctx, ph, func(r load.Record) error {
			if !began || r.Stream != stream {
				began = true
				flush()
				stream, pos, first, lastIn = r.Stream, 0, -1, -1
				ids = map[string]bool{}
				for _, id := range doubt[r.Stream] {
					ids[id] = true
				}
			}
			fp := rank.key(ph, r)
			if !seen.Add(fp) && !(ph == load.PhaseUnread && touched[r.Stream]) {
				return nil // covered
			}
			if ph == load.PhaseGroupMessages {
				t, err := sendTime(r)
				if err != nil {
					return err
				}
				if lt, ok := last[r.Stream]; ok && t <= lt {
					st.Refused++
					d.Refused = append(d.Refused, checkpoint.Reject{Entity: "group_messages", Origin: r.Origin, LegacyID: r.LegacyID, Rule: RuleBeforeImported,
						Message: fmt.Sprintf("group %s already holds messages up to %s, imported by an earlier run; this message of %s can no longer be placed (spec §8.9)",
							r.Stream, time.Unix(lt, 0).UTC().Format(time.RFC3339), time.Unix(t, 0).UTC().Format(time.RFC3339))})
					return nil
				}
				touched[r.Stream] = true
				if ids[r.LegacyID] {
					if first < 0 {
						first = pos
					}
					lastIn = pos
				}
			}
			st.New++
			if load.StreamPhase(ph) {
				pos++
			}
			return w.Append(string(ph), spool.Record{Stream: r.Stream, Origin: r.Origin, LegacyID: r.LegacyID, Payload: r.Payload})
		})
		if err != nil {
			return fail(fmt.Errorf("delta: %s: %w", ph, err))
		}
		flush()
		d.Phases[string(ph)] = st
	}
	if err := seen.Err(); err != nil {
		return fail(fmt.Errorf("delta: %w", err))
	}
	// The validate rejects of the grown source stay with its plan.
	err = full.Rejects(ctx, func(r load.Reject) error {
		raw, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return w.Append(rejectsPhase, spool.Record{Origin: r.Origin, LegacyID: r.LegacyID, Payload: raw})
	})
	if err != nil {
		return fail(err)
	}
	meta := full.Meta()
	meta.DroppedGroups = nil // left out of the delta already
	meta.Delta = d
	meta.Created = time.Now().UTC()
	if err := w.Seal(meta); err != nil {
		return nil, err
	}
	return d, nil
}

// rankKey fingerprints records, ranking consecutive records of one legacy id.
// With payload, the payload is fingerprinted too (the records of two plans that
// must be byte copies of each other).
type rankKey struct {
	stream, id string
	n          int
	payload    bool
}

func (k *rankKey) key(ph load.Phase, r load.Record) uint64 {
	// With payload, records are not ranked: a delta plan may hold only some
	// parts of a split message, and the parts' payloads tell them apart.
	if !k.payload && r.Stream == k.stream && r.LegacyID == k.id {
		k.n++
	} else {
		k.stream, k.id, k.n = r.Stream, r.LegacyID, 0
	}
	h := fnv.New64a()
	for _, s := range []string{string(ph), r.Stream, r.LegacyID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	fmt.Fprintf(h, "%d", k.n)
	if ph == load.PhaseUnread || ph == load.PhaseProfiles || k.payload {
		// An unread count or a profile that changed is set again
		// (set_unread_msg_num and portrait_set are idempotent).
		h.Write(r.Payload)
	}
	return h.Sum64()
}

func sendTime(r load.Record) (int64, error) {
	var m struct{ SendTime int64 }
	if err := json.Unmarshal(r.Payload, &m); err != nil {
		return 0, fmt.Errorf("group message %s: %w", r.LegacyID, err)
	}
	return m.SendTime, nil
}

package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/immigrate/immigrate/checkpoint"
)

// Resume (design §4). A run with a Checkpoint continues the migration an earlier,
// interrupted run of the same mapping began:
//
//   - Positions. Every record has an Ordinal, its position as the source yields it:
//     within its stream for the message phases (a group's or a conversation's
//     messages), within the phase for the batch phases (accounts, groups, members,
//     unread). Records validate rejects are never yielded, and the mapping hash
//     guards the rest, so positions are the same in every run over the same data.
//   - Marks. A batch phase has one mark (stream ""): the highest position below
//     which every record is confirmed. Workers confirm out of order, so the mark
//     follows the contiguous low-water mark of the confirmations; records confirmed
//     beyond it wait in memory and are redone after a crash, harmlessly (design §4
//     rules 1-2). A message stream has one call in flight, confirmed in order, so
//     its mark is its last confirmed record. The counts of the records a mark
//     covers are committed with it, and a record's reject before it, so after a
//     crash the counters describe exactly the records the marks cover.
//   - Skipping. A finished phase is skipped whole; in the others, the records at or
//     below their stream's mark are skipped, counted from the checkpoint rather
//     than twice. The record at a mark must be the one the mark names, and a stream
//     must reach its mark: otherwise the source changed since the checkpoint was
//     written and the run stops with ErrSourceChanged rather than skip the wrong
//     records.
//   - Intents. Before each import_group_msg call the engine records an intent
//     (group, first..last position) and waits until it is durable. A group whose
//     intent is still open when a run starts may hold part of that batch: its
//     batches up to the intent's last position are reconciled by reading the group
//     back (group_msg_get_simple) and sending only what is missing.
//   - Refused groups. A group the target refused is recorded (pseudo-phase
//     PhaseFailedGroups, one mark per GroupId), so that a resumed run still rejects
//     its members, messages and unread counts without calls.
//
// The positions of a stream assume that the source yields each stream once, in one
// consecutive run (the plan's spool does: the readers sort by stream). A stream that
// came back later would restart its positions; the mark checks stop such a run.

// PhaseFailedGroups is the checkpoint pseudo-phase recording the groups the target
// refused: one mark per GroupId, with no counts.
const PhaseFailedGroups = "groups.failed"

// ErrSourceChanged: the records the source yields no longer match the checkpoint's
// marks (the export changed since the checkpoint was written). Resuming would skip
// the wrong records; start over with a fresh checkpoint instead.
var ErrSourceChanged = errors.New("the source changed since the checkpoint was written")

// defaultMaxFailing is how long checkpoint writes may keep failing before the run
// stops: long enough to ride out a database restart, short enough that a run does
// not import for hours without a way to resume.
const defaultMaxFailing = 30 * time.Second

// Checkpoint connects an Engine to a checkpoint.Store: it tells the engine what
// earlier runs finished and records, through w, what this run confirms (design §4
// rule 4: only after the target confirmed). Build it with NewCheckpoint after
// Store.Begin, hand it to one Run through Config.Checkpoint, and close w after the
// Run (Writer.Close flushes what remains, also after a failure or a cancel).
type Checkpoint struct {
	store      checkpoint.Store
	w          *checkpoint.Writer
	maxFailing time.Duration

	done      map[Phase]bool
	base      map[Phase]checkpoint.Counts
	marked    map[Phase]bool               // message phases with at least one stream mark
	batch     map[Phase]checkpoint.Mark    // batch phases' marks
	intents   map[string]checkpoint.Intent // open import_group_msg intents by GroupId
	failed    []string                     // GroupIds refused in earlier runs
	present   []string                     // GroupIds present before the migration (firstcontact.go)
	populated bool                         // the accounts probe found the target populated

	trackers map[Phase]*lowWater // batch phases

	mu           sync.Mutex
	failingSince time.Time // when w.Err was first seen failing; zero while it succeeds
}

// batchPhases have one mark per phase; the others one per stream.
func batchPhase(ph Phase) bool { d := def(ph); return d != nil && !d.streams }

// NewCheckpoint reads what earlier runs left in store (after Begin) and returns a
// Checkpoint that records this run's progress through w.
func NewCheckpoint(ctx context.Context, store checkpoint.Store, w *checkpoint.Writer) (*Checkpoint, error) {
	cp := &Checkpoint{
		store:      store,
		w:          w,
		maxFailing: defaultMaxFailing,
		done:       map[Phase]bool{},
		base:       map[Phase]checkpoint.Counts{},
		marked:     map[Phase]bool{},
		batch:      map[Phase]checkpoint.Mark{},
		intents:    map[string]checkpoint.Intent{},
		trackers:   map[Phase]*lowWater{},
	}
	counters, err := store.Counters(ctx)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	for _, pc := range counters {
		ph := Phase(pc.Phase)
		if ph.index() < 0 {
			continue // PhaseFailedGroups
		}
		cp.done[ph] = pc.Done
		cp.base[ph] = pc.Counts
		cp.marked[ph] = pc.Streams > 0
	}
	for _, ph := range phaseOrder {
		next := int64(0)
		if batchPhase(ph) {
			m, ok, err := store.Mark(ctx, string(ph), "")
			if err != nil {
				return nil, fmt.Errorf("read checkpoint: %w", err)
			}
			if ok {
				cp.batch[ph] = m
				next = m.Ordinal + 1
			}
			cp.trackers[ph] = &lowWater{next: next, pending: map[int64]*settled{}}
		}
	}
	err = store.Intents(ctx, func(in checkpoint.Intent) error {
		if in.Phase == string(PhaseGroupMessages) {
			cp.intents[in.Stream] = in
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read checkpoint intents: %w", err)
	}
	err = store.Marks(ctx, PhaseFailedGroups, "", func(m checkpoint.Mark) error {
		cp.failed = append(cp.failed, m.Stream)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	err = store.Marks(ctx, PhasePresentGroups, "", func(m checkpoint.Mark) error {
		cp.present = append(cp.present, m.Stream)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	if _, cp.populated, err = store.Mark(ctx, PhasePopulated, ""); err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	return cp, nil
}

// ---- what the engine asks (every method is safe on a nil *Checkpoint) ----

// finished reports whether an earlier run finished ph.
func (cp *Checkpoint) finished(ph Phase) bool {
	return cp != nil && cp.done[ph]
}

// inDoubt reports whether an interrupted run may have sent the group-message batch
// starting at position first of group: the group has an open intent reaching it.
func (cp *Checkpoint) inDoubt(groupID string, first int64) bool {
	if cp == nil {
		return false
	}
	in, ok := cp.intents[groupID]
	return ok && first <= in.Last
}

// intent records, and waits for, the intent of an import_group_msg call.
func (cp *Checkpoint) intent(ctx context.Context, ph Phase, stream string, its []Item) error {
	if cp == nil || len(its) == 0 {
		return nil
	}
	first, last := its[0], its[len(its)-1]
	err := cp.w.Intent(ctx, checkpoint.Intent{
		Phase: string(ph), Stream: stream,
		First: first.Ordinal, Last: last.Ordinal,
		FirstID: first.LegacyID, LastID: last.LegacyID,
	})
	if err != nil {
		return fmt.Errorf("record intent for group %s: %w", stream, err)
	}
	return nil
}

// rejected records r, the reject of it, so that it is committed no later than the
// mark that covers it.
func (cp *Checkpoint) rejected(ph Phase, it Item, r Reject) {
	if cp == nil {
		return
	}
	cr := checkpoint.Reject{Entity: r.Entity, Origin: r.Origin, LegacyID: r.LegacyID, Rule: r.Rule, Message: r.Message}
	if t := cp.trackers[ph]; t != nil {
		// Held with the record's outcome until the mark covers it: a reject
		// committed without its mark would outlive a redo that imports the record.
		t.reject(it.Ordinal, cr)
		return
	}
	cp.w.Reject(cr)
}

// confirmed records the outcome of one record. Called after the target confirmed
// it (design §4 rule 4), for a message stream in the stream's order.
func (cp *Checkpoint) confirmed(ph Phase, stream string, it Item, o Outcome) {
	if cp == nil {
		return
	}
	c := outcomeCounts(o)
	if (ph == PhaseGroups || ph == PhaseTopics) && o == OutcomeRejected && stream != "" {
		// Before the groups mark covers the group, so a resumed run that skips
		// the group still knows it is not in the target; a topic likewise (its
		// stream is its TopicId).
		cp.w.Confirm(checkpoint.Mark{Phase: PhaseFailedGroups, Stream: stream, LegacyID: it.LegacyID}, checkpoint.Counts{})
	}
	if (ph == PhaseGroups || ph == PhaseTopics) && o == OutcomePresent && stream != "" {
		// Likewise a group that was in the target before: its messages are read
		// back before they are sent (firstcontact.go).
		cp.w.Confirm(checkpoint.Mark{Phase: PhasePresentGroups, Stream: stream, LegacyID: it.LegacyID}, checkpoint.Counts{})
	}
	if t := cp.trackers[ph]; t != nil {
		t.settle(it, c, func(m checkpoint.Mark, sum checkpoint.Counts, rejects []checkpoint.Reject) {
			for _, r := range rejects {
				cp.w.Reject(r)
			}
			m.Phase = string(ph)
			cp.w.Confirm(m, sum)
		})
		return
	}
	cp.w.Confirm(checkpoint.Mark{Phase: string(ph), Stream: stream, Ordinal: it.Ordinal, LegacyID: it.LegacyID}, c)
}

// finishPhase records that ph finished and waits until everything it confirmed is
// durable.
func (cp *Checkpoint) finishPhase(ctx context.Context, ph Phase, now time.Time) error {
	if cp == nil {
		return nil
	}
	if t := cp.trackers[ph]; t != nil {
		if n := t.waiting(); n > 0 {
			// Every record of a finished phase was confirmed, so none can wait.
			return fmt.Errorf("checkpoint: %d confirmations of %s beyond a gap at the end of the phase", n, ph)
		}
	}
	cp.w.PhaseDone(string(ph), now)
	if err := cp.w.Flush(ctx); err != nil {
		return fmt.Errorf("checkpoint %s phase: %w", ph, err)
	}
	return nil
}

// healthy returns an error once checkpoint writes have kept failing for
// maxFailing: the hooks cannot fail, so the readers poll it.
func (cp *Checkpoint) healthy(now time.Time) error {
	err := cp.w.Err()
	cp.mu.Lock()
	defer cp.mu.Unlock()
	switch {
	case err == nil:
		cp.failingSince = time.Time{}
		return nil
	case errors.Is(err, checkpoint.ErrClosed):
		return err
	case cp.failingSince.IsZero():
		cp.failingSince = now
		return nil
	case now.Sub(cp.failingSince) >= cp.maxFailing:
		return fmt.Errorf("checkpoint writes failing for %s: %w", now.Sub(cp.failingSince).Round(time.Second), err)
	}
	return nil
}

// StreamPhase reports whether ph keeps a mark per stream (a message phase)
// rather than one for the phase.
func StreamPhase(ph Phase) bool { d := def(ph); return d != nil && d.streams }

// Finished reports whether an earlier run finished ph (plan.Coverage).
func (cp *Checkpoint) Finished(ph Phase) bool { return cp.finished(ph) }

// Mark returns the position of the last record of stream (of a batch phase:
// "") that the checkpoint covers (plan.Coverage).
func (cp *Checkpoint) Mark(ctx context.Context, ph Phase, stream string) (int64, bool, error) {
	if batchPhase(ph) {
		m, ok := cp.batchMark(ph)
		return m.Ordinal, ok, nil
	}
	m, ok, err := cp.streamMark(ctx, ph, stream)
	return m.Ordinal, ok, err
}

// Intent returns the open intent of a group-message stream (plan.Coverage).
func (cp *Checkpoint) Intent(ph Phase, stream string) (checkpoint.Intent, bool) {
	if cp == nil || ph != PhaseGroupMessages {
		return checkpoint.Intent{}, false
	}
	in, ok := cp.intents[stream]
	return in, ok
}

// streamMark returns the mark of a message stream; ok is false when it has none.
func (cp *Checkpoint) streamMark(ctx context.Context, ph Phase, stream string) (checkpoint.Mark, bool, error) {
	if cp == nil || !cp.marked[ph] {
		return checkpoint.Mark{}, false, nil
	}
	m, ok, err := cp.store.Mark(ctx, string(ph), stream)
	if err != nil {
		return checkpoint.Mark{}, false, fmt.Errorf("read checkpoint mark: %w", err)
	}
	return m, ok, nil
}

func outcomeCounts(o Outcome) checkpoint.Counts {
	switch o {
	case OutcomeImported:
		return checkpoint.Counts{Imported: 1}
	case OutcomePresent:
		return checkpoint.Counts{Present: 1}
	case OutcomeRejected:
		return checkpoint.Counts{Rejected: 1}
	}
	return checkpoint.Counts{}
}

func addCounts(a, b checkpoint.Counts) checkpoint.Counts {
	return checkpoint.Counts{Imported: a.Imported + b.Imported, Present: a.Present + b.Present, Rejected: a.Rejected + b.Rejected}
}

// ---- the low-water mark of a batch phase ----

// lowWater turns out-of-order confirmations into a mark that only covers an
// unbroken run of confirmed positions. Its memory is the records confirmed beyond
// the first unconfirmed one, bounded by the records in flight.
type lowWater struct {
	mu      sync.Mutex
	next    int64 // lowest position not confirmed yet
	pending map[int64]*settled
}

type settled struct {
	legacyID  string
	confirmed bool
	counts    checkpoint.Counts
	rejects   []checkpoint.Reject
}

func (l *lowWater) entry(ord int64) *settled {
	s := l.pending[ord]
	if s == nil {
		s = &settled{}
		l.pending[ord] = s
	}
	return s
}

func (l *lowWater) reject(ord int64, r checkpoint.Reject) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.entry(ord)
	s.rejects = append(s.rejects, r)
}

// settle records the outcome of it and, when that extends the unbroken run, calls
// emit (under the lock, so marks go out in order) with the new mark, the counts of
// the records it newly covers and their rejects.
func (l *lowWater) settle(it Item, c checkpoint.Counts, emit func(checkpoint.Mark, checkpoint.Counts, []checkpoint.Reject)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if it.Ordinal < l.next {
		return // a second confirmation of a covered record: counted once
	}
	s := l.entry(it.Ordinal)
	s.legacyID, s.confirmed, s.counts = it.LegacyID, true, c
	var (
		sum     checkpoint.Counts
		rejects []checkpoint.Reject
		last    *settled
	)
	for {
		s := l.pending[l.next]
		if s == nil || !s.confirmed {
			break
		}
		delete(l.pending, l.next)
		sum = addCounts(sum, s.counts)
		rejects = append(rejects, s.rejects...)
		last = s
		l.next++
	}
	if last != nil {
		emit(checkpoint.Mark{Ordinal: l.next - 1, LegacyID: last.legacyID}, sum, rejects)
	}
}

// waiting is the number of confirmations held beyond the first gap.
func (l *lowWater) waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}

// ---- the engine side ----

// cursor follows one phase's records as its source yields them, in the phase's
// reader goroutine: it gives each record its Ordinal and says whether an earlier
// run already confirmed it.
type cursor struct {
	e  *Engine
	ph Phase
	cp *Checkpoint

	key     string
	started bool
	next    int64           // ordinal of the next record, in the phase or the current stream
	mark    checkpoint.Mark // skip ordinals ≤ mark.Ordinal
	marked  bool
	polled  int
}

// healthEvery is how many records a cursor admits between checkpoint health polls.
const healthEvery = 256

// startResume prepares a run: the phases' cursors, and with a checkpoint the
// counters and refused groups of earlier runs.
func (e *Engine) startResume(ctx context.Context) error {
	cp := e.cfg.Checkpoint
	e.cursors = make([]*cursor, len(phaseOrder))
	for i, ph := range phaseOrder {
		c := &cursor{e: e, ph: ph, cp: cp}
		if m, ok := cp.batchMark(ph); ok {
			c.mark, c.marked = m, true
		}
		e.cursors[i] = c
	}
	if cp == nil {
		return nil
	}
	for ph, b := range cp.base {
		pc := e.progress.counters(ph)
		pc.imported.Add(b.Imported)
		pc.present.Add(b.Present)
		pc.rejected.Add(b.Rejected)
		pc.read.Add(b.Imported + b.Present + b.Rejected)
	}
	for _, g := range cp.failed {
		e.markGroupFailed(g)
	}
	for _, g := range cp.present {
		e.fc.markGroup(g)
	}
	return ctx.Err()
}

func (cp *Checkpoint) batchMark(ph Phase) (checkpoint.Mark, bool) {
	if cp == nil {
		return checkpoint.Mark{}, false
	}
	m, ok := cp.batch[ph]
	return m, ok
}

// admit gives it its ordinal and reports whether to process it: false with a nil
// error skips a record an earlier run confirmed, false with an error stops the
// phase. A processed record is counted as read.
func (e *Engine) admit(ctx context.Context, ph Phase, stream string, it *Item) (bool, error) {
	return e.cursors[ph.index()].admit(ctx, stream, it)
}

// streamCursor is the cursor of one large stream read on its own (StreamSource).
func (e *Engine) streamCursor(ph Phase) *cursor {
	return &cursor{e: e, ph: ph, cp: e.cfg.Checkpoint}
}

// admit is Engine.admit for the records this cursor reads.
func (c *cursor) admit(ctx context.Context, stream string, it *Item) (bool, error) {
	e, ph := c.e, c.ph
	if !batchPhase(ph) && (!c.started || stream != c.key) {
		if err := c.endStream(); err != nil {
			return false, err
		}
		c.key, c.next, c.marked = stream, 0, false
		m, ok, err := c.cp.streamMark(ctx, ph, stream)
		if err != nil {
			return false, err
		}
		c.mark, c.marked = m, ok
	}
	c.started = true
	it.Ordinal = c.next
	c.next++
	if c.cp != nil {
		if c.polled++; c.polled >= healthEvery {
			c.polled = 0
			if err := c.cp.healthy(e.now()); err != nil {
				return false, err
			}
		}
	}
	if c.marked && it.Ordinal <= c.mark.Ordinal {
		if it.Ordinal == c.mark.Ordinal && it.LegacyID != c.mark.LegacyID {
			return false, fmt.Errorf("%s%s: record %d is %q, the checkpoint's mark names %q: %w",
				ph, streamSuffix(stream), it.Ordinal, it.LegacyID, c.mark.LegacyID, ErrSourceChanged)
		}
		return false, nil
	}
	e.read(ph)
	return true, nil
}

// endStream checks that the stream (or batch phase) that just ended reached its
// mark: a shorter one means the source lost records.
func (c *cursor) endStream() error {
	if !c.marked || c.next > c.mark.Ordinal {
		return nil
	}
	return fmt.Errorf("%s%s: the source ends after %d records, the checkpoint's mark is at record %d (%q): %w",
		c.ph, streamSuffix(c.key), c.next, c.mark.Ordinal, c.mark.LegacyID, ErrSourceChanged)
}

// end is called once the phase's source is drained.
func (c *cursor) end() error {
	if !batchPhase(c.ph) && !c.started {
		return nil
	}
	return c.endStream()
}

func streamSuffix(stream string) string {
	if stream == "" {
		return ""
	}
	return fmt.Sprintf(" stream %q", stream)
}

package checkpoint

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"
)

// WriterConfig tunes a Writer. The zero value of every field is a sensible default.
type WriterConfig struct {
	// Interval is how long a record may wait in memory before a background flush
	// writes it; default 100 ms. It bounds what a crash can lose.
	Interval time.Duration
	// MaxBatch starts a flush early when this many records wait; default 4096.
	MaxBatch int
	// MaxPending is how many records may wait while a flush is running before
	// writers wait for it (backpressure, bounding memory); default 16 × MaxBatch.
	// While flushes fail, writers do not wait: records pile up until a flush
	// succeeds, and Err says why, for the caller to stop the run.
	MaxPending int
	// FlushTimeout bounds each flush, a Flush or Intent on its caller's context
	// included, so that a store that stops answering fails the flush (Err says so)
	// rather than hold it, and everything queued behind it, forever; default 30 s.
	FlushTimeout time.Duration
}

func (c WriterConfig) withDefaults() WriterConfig {
	if c.Interval <= 0 {
		c.Interval = 100 * time.Millisecond
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 4096
	}
	if c.MaxPending < c.MaxBatch {
		c.MaxPending = 16 * c.MaxBatch
	}
	if c.FlushTimeout <= 0 {
		c.FlushTimeout = 30 * time.Second
	}
	return c
}

// Writer batches checkpoint records in memory and applies them to a Store, one
// transaction per flush: every Interval, as soon as MaxBatch records wait, on Flush
// and on Close. Its methods are safe for concurrent use by many goroutines and do not
// wait for the store, except Intent, Flush and Close, and except when MaxPending
// records already wait behind a running flush.
//
// Ordering: a record given before another is committed in the same transaction or an
// earlier one, never a later one. Hence the calling pattern of design §4: record
// rejects before the Confirm that covers their records, and an intent before the
// call it announces.
//
// Coalescing: marks of one stream collapse to the highest ordinal, an intent replaces
// the stream's previous one, counts add up, rejects collapse by (entity, legacy ID,
// rule) — a buffer holds at most one mark per stream, however many items it confirms.
//
// Failures: a failed flush keeps its batch and retries it, as is and before anything
// newer, at the next flush; Flush, Close and Err report the failure until a flush
// succeeds. Because the retried batch keeps its ID, a flush whose commit outcome was
// unknown is not applied twice (see Batch).
//
// What a crash loses: the records given since the last successful flush, at most
// about Interval's worth. All of them describe work the target already confirmed, so
// a resumed run redoes it harmlessly (design §4 rules 1–2); intents are never lost,
// since Intent returns only once its intent is committed.
type Writer struct {
	store Store
	cfg   WriterConfig
	id    string // prefix of batch IDs, unique per Writer

	mu     sync.Mutex
	cond   *sync.Cond // signalled when buf is swapped out, or on failure or close
	buf    *buffer
	gen    uint64 // generation of buf; a flush commits every generation ≤ the one it took
	err    error  // last flush's error; nil after a success
	closed bool

	sem        chan struct{} // held by the one running flush
	pending    *Batch        // a failed batch, retried before anything newer; guarded by sem
	pendingGen uint64        // guarded by sem
	committed  uint64        // highest generation committed; guarded by sem
	seq        uint64        // batch counter; guarded by sem

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

// NewWriter starts a Writer on s. Call Store.Begin first, and Close the Writer
// before the Store.
func NewWriter(s Store, cfg WriterConfig) *Writer {
	var id [8]byte
	_, _ = rand.Read(id[:]) // never fails (crypto/rand doc)
	w := &Writer{
		store: s,
		cfg:   cfg.withDefaults(),
		id:    hex.EncodeToString(id[:]),
		buf:   newBuffer(),
		gen:   1,
		sem:   make(chan struct{}, 1),
		kick:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	w.cond = sync.NewCond(&w.mu)
	go w.loop()
	return w
}

// Confirm records that the target confirmed the items of a stream up to m (call it
// only then: design §4 rule 4), with the outcomes c of those items counted in
// m.Phase. The mark and the counts are committed in the same transaction, so after a
// crash the counters agree with the marks. An m with a lower Ordinal than one already
// given for the stream does not move the mark back; c is counted regardless.
func (w *Writer) Confirm(m Mark, c Counts) {
	w.add(func(b *buffer) {
		b.mark(m)
		b.count(m.Phase, c)
	})
}

// Count adds outcomes to a phase's counters without moving a mark: records whose
// outcome needs no resume point (e.g. rejected before any call).
func (w *Writer) Count(phase string, c Counts) {
	if c.isZero() {
		return
	}
	w.add(func(b *buffer) { b.count(phase, c) })
}

// Intent records in before the call it announces and waits until it is committed, so
// that a crash after the call leaves the intent to find (design §4 rule 3). Intents
// of concurrent streams share a transaction (group commit). On error the call must
// not be made; the intent may still be written later.
func (w *Writer) Intent(ctx context.Context, in Intent) error {
	w.add(func(b *buffer) { b.intent(in) })
	return w.Flush(ctx)
}

// ClearIntent closes a stream's open intent without a mark, e.g. when the call it
// announced was never sent.
func (w *Writer) ClearIntent(phase, stream string) {
	w.add(func(b *buffer) { b.clearIntent(StreamKey{phase, stream}) })
}

// PhaseDone records that phase finished at at.
func (w *Writer) PhaseDone(phase string, at time.Time) {
	w.add(func(b *buffer) { b.phaseDone(phase, at) })
}

// MapID records a rewritten ID.
func (w *Writer) MapID(m IDMapping) {
	w.add(func(b *buffer) { b.mapID(m) })
}

// Reject records a refused record.
func (w *Writer) Reject(r Reject) {
	w.add(func(b *buffer) { b.reject(r) })
}

// add applies f to the buffer under the lock, after waiting while the buffer is
// full behind a running flush.
func (w *Writer) add(f func(*buffer)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.buf.n >= w.cfg.MaxPending && w.err == nil && !w.closed {
		w.kickFlush()
		w.cond.Wait()
	}
	if w.closed {
		// Close may already have taken its final flush: the record would be
		// left behind silently.
		w.err = fmt.Errorf("write after close: %w", ErrClosed)
		return
	}
	f(w.buf)
	w.buf.n++
	if w.buf.n >= w.cfg.MaxBatch {
		w.kickFlush()
	}
}

func (w *Writer) kickFlush() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Flush commits every record given before it was called; when it returns nil they
// are durable (see Store). Concurrent Flush calls share transactions.
func (w *Writer) Flush(ctx context.Context) error {
	w.mu.Lock()
	target := w.gen
	w.mu.Unlock()
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("checkpoint flush: %w", ctx.Err())
	}
	defer func() { <-w.sem }()
	if w.committed >= target {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.FlushTimeout)
	defer cancel()
	return w.flushLocked(ctx)
}

// flushLocked retries the pending batch, then applies the buffer. The caller holds
// sem.
func (w *Writer) flushLocked(ctx context.Context) error {
	if w.pending != nil {
		if err := w.store.Apply(ctx, w.pending); err != nil {
			return w.failed(err)
		}
		w.committed, w.pending = w.pendingGen, nil
	}
	w.mu.Lock()
	buf, gen := w.buf, w.gen
	w.buf, w.gen = newBuffer(), w.gen+1
	w.cond.Broadcast()
	w.mu.Unlock()
	if buf.n > 0 {
		w.seq++
		b := buf.batch(fmt.Sprintf("%s-%d", w.id, w.seq))
		if err := w.store.Apply(ctx, b); err != nil {
			w.pending, w.pendingGen = b, gen
			return w.failed(err)
		}
	}
	w.committed = gen
	w.mu.Lock()
	w.err = nil
	w.mu.Unlock()
	return nil
}

func (w *Writer) failed(err error) error {
	err = fmt.Errorf("checkpoint flush: %w", err)
	w.mu.Lock()
	w.err = err
	w.cond.Broadcast()
	w.mu.Unlock()
	return err
}

// Err returns the error of the last flush (nil once a flush succeeds again), or
// ErrClosed after a write to a closed Writer. Callers that cannot wait on Flush poll
// it to stop a run whose checkpoint cannot be written.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close stops the background flushes and flushes what remains. Writes after Close
// are dropped (Err reports it). A second Close returns nil.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.cond.Broadcast()
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	return w.Flush(ctx)
}

func (w *Writer) loop() {
	defer close(w.done)
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		case <-w.kick:
		}
		w.background()
	}
}

// background runs one flush with its own deadline; its error is kept for Err and for
// the next Flush, which retries.
func (w *Writer) background() {
	select {
	case w.sem <- struct{}{}:
	case <-w.stop:
		return
	}
	defer func() { <-w.sem }()
	w.mu.Lock()
	idle := w.buf.n == 0
	w.mu.Unlock()
	if idle && w.pending == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.FlushTimeout)
	defer cancel()
	_ = w.flushLocked(ctx) // kept in w.err
}

// buffer holds the records of one generation, coalesced.
type buffer struct {
	n       int // records given, before coalescing
	marks   map[StreamKey]Mark
	intents map[StreamKey]Intent
	clears  map[StreamKey]struct{}
	done    map[string]time.Time
	ids     map[[2]string]IDMapping
	rejects []Reject
	seen    map[[3]string]struct{}
	counts  map[string]Counts
}

func newBuffer() *buffer { return &buffer{} }

func (b *buffer) mark(m Mark) {
	k := StreamKey{m.Phase, m.Stream}
	if old, ok := b.marks[k]; ok && old.Ordinal >= m.Ordinal {
		return
	}
	if b.marks == nil {
		b.marks = make(map[StreamKey]Mark)
	}
	b.marks[k] = m
}

func (b *buffer) count(phase string, c Counts) {
	if c.isZero() {
		return
	}
	if b.counts == nil {
		b.counts = make(map[string]Counts)
	}
	sum := b.counts[phase]
	sum.add(c)
	b.counts[phase] = sum
}

func (b *buffer) intent(in Intent) {
	if b.intents == nil {
		b.intents = make(map[StreamKey]Intent)
	}
	// A clear given earlier stays: Apply deletes before it upserts, so the new intent
	// survives it.
	b.intents[StreamKey{in.Phase, in.Stream}] = in
}

func (b *buffer) clearIntent(k StreamKey) {
	delete(b.intents, k)
	if b.clears == nil {
		b.clears = make(map[StreamKey]struct{})
	}
	b.clears[k] = struct{}{}
}

func (b *buffer) phaseDone(phase string, at time.Time) {
	if _, ok := b.done[phase]; ok {
		return
	}
	if b.done == nil {
		b.done = make(map[string]time.Time)
	}
	b.done[phase] = at
}

func (b *buffer) mapID(m IDMapping) {
	if b.ids == nil {
		b.ids = make(map[[2]string]IDMapping)
	}
	b.ids[[2]string{m.Kind, m.LegacyID}] = m
}

func (b *buffer) reject(r Reject) {
	k := [3]string{r.Entity, r.LegacyID, r.Rule}
	if _, ok := b.seen[k]; ok {
		return
	}
	if b.seen == nil {
		b.seen = make(map[[3]string]struct{})
	}
	b.seen[k] = struct{}{}
	b.rejects = append(b.rejects, r)
}

// batch turns the buffer into a Batch. Keyed lists are sorted, so that stores touch
// their indexes in order.
func (b *buffer) batch(id string) *Batch {
	out := &Batch{ID: id, Rejects: b.rejects}
	for k := range b.clears {
		out.ClearIntents = append(out.ClearIntents, k)
	}
	slices.SortFunc(out.ClearIntents, compareKeys)
	for _, in := range b.intents {
		out.Intents = append(out.Intents, in)
	}
	slices.SortFunc(out.Intents, func(x, y Intent) int {
		return compareKeys(StreamKey{x.Phase, x.Stream}, StreamKey{y.Phase, y.Stream})
	})
	out.Marks = make([]Mark, 0, len(b.marks))
	for _, m := range b.marks {
		out.Marks = append(out.Marks, m)
	}
	slices.SortFunc(out.Marks, func(x, y Mark) int {
		return compareKeys(StreamKey{x.Phase, x.Stream}, StreamKey{y.Phase, y.Stream})
	})
	for p, at := range b.done {
		out.Done = append(out.Done, PhaseDone{Phase: p, At: at})
	}
	slices.SortFunc(out.Done, func(x, y PhaseDone) int { return cmp.Compare(x.Phase, y.Phase) })
	for _, m := range b.ids {
		out.IDs = append(out.IDs, m)
	}
	slices.SortFunc(out.IDs, func(x, y IDMapping) int {
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.LegacyID, y.LegacyID))
	})
	for p, c := range b.counts {
		out.Counts = append(out.Counts, PhaseCount{Phase: p, Counts: c})
	}
	slices.SortFunc(out.Counts, func(x, y PhaseCount) int { return cmp.Compare(x.Phase, y.Phase) })
	return out
}

func compareKeys(x, y StreamKey) int {
	return cmp.Or(cmp.Compare(x.Phase, y.Phase), cmp.Compare(x.Stream, y.Stream))
}

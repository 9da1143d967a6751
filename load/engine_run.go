package load

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Run imports src. It returns when every phase finished, at the first fatal error
// (a *FatalError, whose message says what to fix), at a source or reject-sink error,
// or with ctx.Err() when ctx is cancelled. The Summary is never nil except for a
// configuration error; after a failure it holds the counters so far.
//
// Every phase of the table starts once the phase it comes after finished, so
// phases without a dependency between them overlap (design §3).
func (e *Engine) Run(ctx context.Context, src Source) (*Summary, error) {
	if e.cfgErr != nil {
		return nil, e.cfgErr
	}
	if e.client == nil {
		return nil, errors.New("load: engine has no client")
	}
	if !e.running.CompareAndSwap(false, true) {
		return nil, errors.New("load: engine is already running")
	}
	defer e.running.Store(false)
	e.startRun()
	if err := e.startResume(ctx); err != nil {
		return e.summary(), err
	}

	done := make(map[Phase]chan struct{}, len(phaseTable))
	for _, d := range phaseTable {
		done[d.phase] = make(chan struct{})
	}
	g, gctx := errgroup.WithContext(ctx)
	for i := range phaseTable {
		d := &phaseTable[i]
		g.Go(func() error {
			if d.after != "" {
				select {
				case <-done[d.after]:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			if err := e.phase(gctx, d, src); err != nil {
				return err
			}
			close(done[d.phase])
			return nil
		})
	}
	err := g.Wait()
	sum := e.summary()
	if ctx.Err() != nil {
		return sum, ctx.Err()
	}
	return sum, err
}

// phase runs one phase, marking its start and end in the progress counters.
// Errors other than fatal ones and cancellation get the phase's name.
func (e *Engine) phase(ctx context.Context, d *phaseDef, src Source) error {
	ph := d.phase
	e.progress.start(ph, e.now())
	if e.cfg.Checkpoint.finished(ph) {
		// An earlier run finished it; its counters came from the checkpoint.
		e.progress.readAll(ph, e.now())
		e.progress.finish(ph, e.now())
		return nil
	}
	var err error
	if d.streams {
		err = e.runStreams(ctx, d, src)
	} else {
		err = e.runBatches(ctx, d, src)
	}
	if err == nil {
		err = e.cfg.Checkpoint.finishPhase(ctx, ph, e.now())
	}
	if err == nil {
		e.progress.finish(ph, e.now())
		return nil
	}
	var fe *FatalError
	if errors.As(err, &fe) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%s phase: %w", ph, err)
}

// runBatches runs a batch phase: the reader goroutine cuts the records into
// batches (by the phase's key, never across streams) and a pool of workers sends
// them concurrently.
func (e *Engine) runBatches(ctx context.Context, d *phaseDef, src Source) error {
	workers := e.phaseInflight(d)
	e.progress.counters(d.phase).inflight.Store(int64(workers))
	p := pool[Record]{workers: workers, send: func(ctx context.Context, b []Record) error {
		return d.send(e, ctx, b[0].Stream, b)
	}}
	return p.run(ctx, func(ctx context.Context, emit func([]Record) error) error {
		type open struct {
			cut   batcher
			batch []Record
		}
		var (
			pending = map[string]*open{}
			keys    []string // the keys of pending, in the order they opened
			stream  string
		)
		flush := func() error {
			for _, k := range keys {
				if b := pending[k]; len(b.batch) > 0 {
					if err := emit(b.batch); err != nil {
						return err
					}
				}
			}
			clear(pending)
			keys = keys[:0]
			return nil
		}
		err := e.drained(d.phase, src.Records(ctx, d.phase, func(r Record) error {
			if ok, err := e.admit(ctx, d.phase, "", &r.Item); !ok {
				return err
			}
			if d.groupScoped && e.groupFailed(r.Stream) {
				return e.rejectAbsentGroup(d.phase, r.Stream, r.Item)
			}
			if r.Stream != stream {
				if err := flush(); err != nil {
					return err
				}
				stream = r.Stream
			}
			key, cut, err := d.cut(&e.cfg, r)
			if err != nil {
				return err
			}
			b := pending[key]
			if b == nil {
				b = &open{cut: cut}
				pending[key] = b
				keys = append(keys, key)
			}
			size := 0
			if d.size != nil {
				size = d.size(r)
			}
			if !b.cut.fits(size) {
				if err := emit(b.batch); err != nil {
					return err
				}
				b.batch = nil
			}
			b.cut.add(size)
			b.batch = append(b.batch, r)
			if b.cut.full() {
				batch := b.batch
				b.batch, b.cut = nil, cut
				return emit(batch)
			}
			return nil
		}))
		if err != nil {
			return err
		}
		return flush()
	})
}

// waitCtx waits for wg, or until ctx is done.
func waitCtx(ctx context.Context, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// runStreams runs a message phase through the streamer: one call in flight per
// stream, the stream's batches cut by the phase's batcher.
func (e *Engine) runStreams(ctx context.Context, d *phaseDef, src Source) error {
	streams := e.phaseInflight(d)
	e.progress.counters(d.phase).inflight.Store(int64(streams))
	s := streamer[Record]{
		streams: streams,
		key:     func(r Record) string { return r.Stream },
		send:    func(ctx context.Context, key string, b []Record) error { return d.send(e, ctx, key, b) },
	}
	// The stream's batcher: its item count is the same for every stream.
	_, probe, err := d.cut(&e.cfg, Record{})
	if err != nil {
		return err
	}
	s.batch = probe.max
	// The buffer feeds the streams the sequential reader starts: two batches
	// each, and at least 4,096 records so that short streams queue up while
	// long ones send; bounded by the in-flight level, never by the data.
	s.budget = max(4096, streams*2*probe.max)
	if d.size != nil {
		s.size = d.size
		s.batcher = func(key string) batcher {
			_, b, _ := d.cut(&e.cfg, Record{Stream: key})
			return b
		}
	}
	records := src.Records
	if ss, ok := src.(StreamSource); ok {
		s.position = func(r Record) int64 { return r.Ordinal }
		// The large streams first, each read by its worker with a cursor of its
		// own; the rest in order alongside.
		records = ss.RecordsBesides
		for _, ref := range ss.LargeStreams(d.phase) {
			s.large = append(s.large, largeStream[Record]{key: ref.Key, records: ref.Records, read: func(ctx context.Context, fn func(Record) error) error {
				c := e.streamCursor(d.phase)
				err := ss.ReadStream(ctx, d.phase, ref, func(r Record) error {
					if ok, err := c.admit(ctx, r.Stream, &r.Item); !ok {
						return err
					}
					return fn(r)
				})
				if err == nil {
					err = c.end()
				}
				return err
			}})
		}
	}
	return s.run(ctx, func(ctx context.Context, fn func(Record) error) error {
		err := records(ctx, d.phase, func(r Record) error {
			if ok, err := e.admit(ctx, d.phase, r.Stream, &r.Item); !ok {
				return err
			}
			return fn(r)
		})
		if err == nil {
			// With the large streams read too, the phase's source is drained
			// (ReadDone).
			waitCtx(ctx, &s.largeRead)
		}
		return e.drained(d.phase, err)
	})
}

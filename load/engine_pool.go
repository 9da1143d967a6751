package load

import (
	"context"
	"errors"

	"golang.org/x/sync/errgroup"
)

// pool runs the calls of a batch phase (accounts, groups, members, unread): the
// reader goroutine cuts the source into batches and emits them; `workers`
// goroutines send them concurrently. The jobs channel holds at most `workers`
// batches, so memory is bounded by about 2 × workers batches whatever the dataset.
type pool[T any] struct {
	workers int
	// send makes the call(s) for one batch; an error stops the phase (per-item
	// failures are its own business).
	send func(ctx context.Context, batch []T) error
}

// run calls feed with an emit function and returns when every emitted batch was
// sent, or with the first error.
func (p *pool[T]) run(ctx context.Context, feed func(ctx context.Context, emit func([]T) error) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan []T, p.workers)
	for range p.workers {
		g.Go(func() error {
			for {
				select {
				case batch, ok := <-jobs:
					if !ok {
						return nil
					}
					if err := p.send(gctx, batch); err != nil {
						return err
					}
				case <-gctx.Done():
					return gctx.Err()
				}
			}
		})
	}
	perr := feed(gctx, func(batch []T) error {
		select {
		case jobs <- batch:
			return nil
		case <-gctx.Done():
			return gctx.Err()
		}
	})
	close(jobs)
	if perr != nil {
		cancel()
	}
	return runErr(ctx, g.Wait(), perr)
}

// runErr picks the error of a producer (perr) feeding workers (werr, from their
// errgroup): a worker's failure comes first — it is why the producer stopped —
// unless it is only the cancellation the producer's own failure caused.
func runErr(ctx context.Context, werr, perr error) error {
	switch {
	case werr != nil && (perr == nil || !errors.Is(werr, context.Canceled)):
		return werr
	case perr != nil:
		return perr
	}
	return ctx.Err()
}

// batchByKey accumulates items into batches of at most max items that never mix
// keys (e.g. members of different groups); flush emits the pending batch.
type batchByKey[T any] struct {
	max     int
	emit    func([]T) error
	pending []T
	key     string
}

func (b *batchByKey[T]) add(key string, it T) error {
	if len(b.pending) > 0 && (key != b.key || len(b.pending) >= b.max) {
		if err := b.flush(); err != nil {
			return err
		}
	}
	if b.pending == nil {
		b.pending = make([]T, 0, b.max)
	}
	b.key = key
	b.pending = append(b.pending, it)
	return nil
}

func (b *batchByKey[T]) flush() error {
	if len(b.pending) == 0 {
		return nil
	}
	batch := b.pending
	b.pending = nil
	return b.emit(batch)
}

package load

import (
	"context"
	"math"
	"sync"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
)

// Streams: the engine's message phases read a sequential source (stream after
// stream) and send each stream's items in order with at most one call in flight per
// stream, many streams in parallel (design §3).
//
// Dispatch: the reader goroutine appends each item to its stream's queue; a stream
// gets a worker goroutine when its first item arrives, and at most `streams` workers
// exist at once (a new stream waits for a slot). Every buffered item holds one unit
// of a global budget, released when the call carrying it returned, so memory is
// bounded by the budget (streams × per-stream share), never by the dataset. A
// worker sends full batches: it waits until it holds `batch` items, or items
// whose sizes fill the stream's capacity (the next one would overflow it), or its
// stream ended, so calls, the scarce resource, always carry as many items as
// allowed.
//
// Head-of-line behaviour: the reader is sequential. A stream with more items than
// the budget fills the budget on its own; the reader then waits for that stream to
// drain before it can read (and start) the streams after it. Meanwhile the streams
// already started keep running, but once they finish, only the huge stream is
// sending — one call per round trip, e.g. 7 group messages per RTT — until the reader
// gets past it. Interleaving cannot fix this without reading the huge stream twice
// or buffering it whole; a source that knows its stream sizes can order the huge
// streams first, so that the rest of the dataset runs alongside their tails.

// streamer dispatches the items of a sequential source to per-stream workers.
type streamer[T any] struct {
	streams int // workers in flight at most
	budget  int // items buffered or in flight at most, over all streams; >= 2*batch
	batch   int // items per call at most
	// size, when set, is an item's share of a call's request body in bytes, and
	// batcher(key) cuts the batches of stream key (see batcher). Without them,
	// batches are cut at batch items.
	size    func(T) int
	batcher func(key string) batcher
	key     func(T) string
	// send makes the call(s) for one batch of one stream. It returns an error only
	// to stop the run; per-item failures are its own business.
	send func(ctx context.Context, key string, batch []T) error
	// large are streams read on their own, each by the worker that sends it: they
	// start before the sequential source's streams, in this order. position, when
	// set, is an item's position in its stream, for the priority of a large
	// stream's calls (its records after the batch); else the items sent count.
	large    []largeStream[T]
	position func(T) int64
	// largeRead counts the large streams started and not yet read to their end;
	// all are started before produce runs.
	largeRead sync.WaitGroup
}

// largeStream is a stream its worker reads itself, cutting and sending batches
// as it reads: it holds one batch at a time and needs no share of the budget.
type largeStream[T any] struct {
	key     string
	records int64 // in the stream: its calls wait with their remaining records as priority
	read    func(ctx context.Context, fn func(T) error) error
}

// run reads the source through produce and returns when every item was sent, or
// with the first error (the reader's, or a worker's, which stops everything).
func (s *streamer[T]) run(ctx context.Context, produce func(ctx context.Context, fn func(T) error) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.streams)
	budget := semaphore.NewWeighted(int64(s.budget))

	var (
		cur    *streamQueue[T]
		curKey string
		// active holds the streams whose worker still runs, so that a key the
		// source brings back later waits for its previous run to finish: never two
		// calls in flight for one stream.
		activeMu sync.Mutex
		active   = map[string]*streamQueue[T]{}
	)
	startStream := func(key string) {
		s.waitIdle(gctx, &activeMu, active, key)
		q := newStreamQueue[T]()
		cut := batcher{max: s.batch, capacity: math.MaxInt}
		if s.size != nil && s.batcher != nil {
			cut = s.batcher(key)
		}
		activeMu.Lock()
		active[key] = q
		activeMu.Unlock()
		cur, curKey = q, key
		g.Go(func() error {
			defer func() {
				activeMu.Lock()
				if active[key] == q {
					delete(active, key)
				}
				activeMu.Unlock()
				close(q.done)
			}()
			for {
				items, ok := q.take(gctx, cut)
				if !ok {
					return gctx.Err()
				}
				err := s.send(gctx, key, items)
				budget.Release(int64(len(items)))
				if err != nil {
					return err
				}
			}
		})
	}

	// The large streams take the worker slots first (g.Go waits for a free one),
	// then the sequential source starts its streams as slots free up.
	for _, ls := range s.large {
		if gctx.Err() != nil {
			break
		}
		s.waitIdle(gctx, &activeMu, active, ls.key)
		q := newStreamQueue[T]() // only its done channel: the stream's run is over
		activeMu.Lock()
		active[ls.key] = q
		activeMu.Unlock()
		s.largeRead.Add(1)
		g.Go(func() error {
			defer func() {
				activeMu.Lock()
				if active[ls.key] == q {
					delete(active, ls.key)
				}
				activeMu.Unlock()
				close(q.done)
			}()
			return s.runLarge(gctx, ls)
		})
	}

	perr := produce(gctx, func(it T) error {
		if err := budget.Acquire(gctx, 1); err != nil {
			return err
		}
		k := s.key(it)
		if cur == nil || k != curKey {
			if cur != nil {
				cur.close()
			}
			startStream(k)
		}
		size := 0
		if s.size != nil {
			size = s.size(it)
		}
		cur.push(it, size)
		return nil
	})
	if cur != nil {
		cur.close()
	}
	if perr != nil {
		cancel()
	}
	return runErr(ctx, g.Wait(), perr)
}

// waitIdle waits until stream key has no run in flight (or ctx is done): never
// two calls in flight for one stream.
func (s *streamer[T]) waitIdle(ctx context.Context, mu *sync.Mutex, active map[string]*streamQueue[T], key string) {
	mu.Lock()
	prev := active[key]
	mu.Unlock()
	if prev != nil {
		select {
		case <-prev.done:
		case <-ctx.Done():
		}
	}
}

// runLarge reads a large stream and sends its batches as they fill, cut as the
// queue's take cuts them.
func (s *streamer[T]) runLarge(ctx context.Context, ls largeStream[T]) error {
	cut := batcher{max: s.batch, capacity: math.MaxInt}
	if s.size != nil && s.batcher != nil {
		cut = s.batcher(ls.key)
	}
	var (
		batch []T
		sent  int64
	)
	send := func() error {
		// The longest remaining stream gets the next pacer slot (pacer.wait);
		// records a resumed run skips count as done.
		done := sent
		if s.position != nil {
			done = s.position(batch[0])
		}
		err := s.send(withPriority(ctx, ls.records-done), ls.key, batch)
		sent += int64(len(batch))
		batch = nil
		return err
	}
	err := s.readLarge(ctx, ls, func(it T) error {
		size := 0
		if s.size != nil {
			size = s.size(it)
		}
		if len(batch) > 0 && !cut.fits(size) {
			if err := send(); err != nil {
				return err
			}
		}
		cut.add(size)
		batch = append(batch, it)
		if cut.full() {
			return send()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = send()
	}
	return err
}

// readLarge is ls.read, counted in largeRead.
func (s *streamer[T]) readLarge(ctx context.Context, ls largeStream[T], fn func(T) error) error {
	defer s.largeRead.Done()
	return ls.read(ctx, fn)
}

// streamQueue is one stream's buffer: the reader pushes, the stream's worker takes.
// It is unbounded by itself; the streamer's budget bounds it.
type streamQueue[T any] struct {
	mu     sync.Mutex
	items  []queued[T]
	head   int
	closed bool
	ready  chan struct{} // signalled (non-blocking) after each push and on close
	done   chan struct{} // closed when the stream's worker returned
}

// queued is an item with its size (see streamer.size).
type queued[T any] struct {
	item T
	size int
}

func newStreamQueue[T any]() *streamQueue[T] {
	return &streamQueue[T]{ready: make(chan struct{}, 1), done: make(chan struct{})}
}

func (q *streamQueue[T]) push(it T, size int) {
	q.mu.Lock()
	q.items = append(q.items, queued[T]{it, size})
	q.mu.Unlock()
	q.signal()
}

func (q *streamQueue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *streamQueue[T]) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take waits for a full batch as cut (an empty batcher) closes it — the batcher's
// max items, or the next queued item does not fit — or for the remaining items of
// a closed stream. ok is false when the stream is closed and empty, or ctx is done.
func (q *streamQueue[T]) take(ctx context.Context, cut batcher) (batch []T, ok bool) {
	for {
		q.mu.Lock()
		waiting := len(q.items) - q.head
		b := cut
		for b.n < waiting && b.fits(q.items[q.head+b.n].size) {
			b.add(q.items[q.head+b.n].size)
		}
		n := b.n
		// Full: max items, or an item waits that does not fit.
		if b.full() || n < waiting || (q.closed && n > 0) {
			batch = make([]T, n)
			for i := range n {
				batch[i] = q.items[q.head+i].item
			}
			clear(q.items[q.head : q.head+n]) // let the payloads be collected once sent
			q.head += n
			if q.head == len(q.items) {
				q.items, q.head = q.items[:0], 0
			} else if q.head > len(q.items)/2 {
				m := copy(q.items, q.items[q.head:])
				clear(q.items[m:])
				q.items, q.head = q.items[:m], 0
			}
			q.mu.Unlock()
			return batch, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return nil, false
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// Batcher is exported for the plan, which counts the calls of a phase with it.
type Batcher = batcher

// Add puts an item of size in the open batch and reports whether it opened a
// new batch: one more call.
func (b *batcher) Add(size int) bool { return b.add(size) }

// batcher is where a stream's batches close: the one rule behind the engine's
// calls and validate's plan of them, so that the plan counts the calls the run
// makes. A batch holds at most max items whose sizes add up to at most capacity;
// it closes before the item that would break either bound. The first item of a
// batch joins it whatever its size: an item larger than the capacity goes alone.
type batcher struct {
	max      int // items per batch at most
	capacity int // sum of the items' sizes per batch at most
	n, used  int // the open batch: items, and their sizes summed
}

// fits reports whether an item of size joins the open batch.
func (b *batcher) fits(size int) bool {
	return b.n == 0 || b.n < b.max && size <= b.capacity-b.used
}

// full reports whether the open batch takes no further item, whatever its size.
func (b *batcher) full() bool { return b.n > 0 && b.n >= b.max }

// add puts an item of size in the open batch, closing the batch first when the
// item does not fit. It reports whether the item opened a batch: one more call.
func (b *batcher) add(size int) (opened bool) {
	if !b.fits(size) {
		b.n, b.used = 0, 0
	}
	opened = b.n == 0
	b.n++
	b.used += size
	return opened
}

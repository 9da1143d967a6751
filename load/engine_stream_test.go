package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type keyed struct {
	key string
	seq int // position within its key, from 0
}

// streamsOf builds a sequential source: sizes[i] items of key "s<i>".
func streamsOf(sizes ...int) []keyed {
	var out []keyed
	for i, n := range sizes {
		for j := range n {
			out = append(out, keyed{fmt.Sprintf("s%d", i), j})
		}
	}
	return out
}

func produceSlice(items []keyed, read *atomic.Int64) func(context.Context, func(keyed) error) error {
	return func(ctx context.Context, fn func(keyed) error) error {
		for _, it := range items {
			if read != nil {
				read.Add(1)
			}
			if err := fn(it); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestStreamerOrderBatchingAndBounds(t *testing.T) {
	tests := []struct {
		name    string
		sizes   []int
		streams int
		budget  int
		batch   int
	}{
		{"single stream", []int{50}, 4, 16, 7},
		{"many small streams", []int{1, 2, 3, 7, 8, 14, 15, 0, 1, 6}, 3, 14, 7},
		{"one message per call", []int{5, 9, 1, 30}, 2, 8, 1},
		{"a huge stream among small ones", []int{3, 400, 2, 5, 1}, 4, 32, 7},
		{"budget exactly two batches", []int{20, 20, 20}, 8, 14, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items := streamsOf(tt.sizes...)
			var (
				mu        sync.Mutex
				got       = map[string][]int{}
				batches   = map[string][]int{}
				inFlight  = map[string]bool{}
				active    int
				maxActive int
				read      atomic.Int64
				finished  atomic.Int64
				violation string
			)
			s := streamer[keyed]{
				streams: tt.streams, budget: tt.budget, batch: tt.batch,
				key: func(k keyed) string { return k.key },
				send: func(ctx context.Context, key string, b []keyed) error {
					mu.Lock()
					if inFlight[key] {
						violation = "two calls in flight for " + key
					}
					inFlight[key] = true
					active++
					maxActive = max(maxActive, active)
					if buffered := read.Load() - finished.Load(); buffered > int64(tt.budget)+1 {
						violation = fmt.Sprintf("%d items buffered, budget %d", buffered, tt.budget)
					}
					for _, it := range b {
						if it.key != key {
							violation = "batch of " + key + " holds an item of " + it.key
						}
						got[key] = append(got[key], it.seq)
					}
					batches[key] = append(batches[key], len(b))
					mu.Unlock()

					mu.Lock()
					inFlight[key] = false
					active--
					mu.Unlock()
					finished.Add(int64(len(b)))
					return nil
				},
			}
			if err := s.run(context.Background(), produceSlice(items, &read)); err != nil {
				t.Fatalf("run: %v", err)
			}
			if violation != "" {
				t.Fatal(violation)
			}
			if maxActive > tt.streams {
				t.Fatalf("%d streams sent at once, limit %d", maxActive, tt.streams)
			}
			for i, n := range tt.sizes {
				key := fmt.Sprintf("s%d", i)
				if len(got[key]) != n {
					t.Fatalf("%s: %d items sent, want %d", key, len(got[key]), n)
				}
				for j, seq := range got[key] {
					if seq != j {
						t.Fatalf("%s: item %d sent at position %d", key, seq, j)
					}
				}
				// Every batch is full except the stream's last one.
				bs := batches[key]
				for j, l := range bs {
					if l > tt.batch || (j < len(bs)-1 && l != tt.batch) {
						t.Fatalf("%s: batch sizes %v, want full batches of %d", key, bs, tt.batch)
					}
				}
			}
		})
	}
}

// TestStreamerRunsStreamsInParallel makes the first call of each of 4 streams wait
// until all 4 are in flight: it completes only if the streams run in parallel.
func TestStreamerRunsStreamsInParallel(t *testing.T) {
	const n = 4
	var arrived sync.WaitGroup
	arrived.Add(n)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	var first sync.Map
	s := streamer[keyed]{
		streams: n, budget: 64, batch: 1,
		key: func(k keyed) string { return k.key },
		send: func(ctx context.Context, key string, b []keyed) error {
			if _, seen := first.LoadOrStore(key, true); !seen {
				arrived.Done()
				select {
				case <-all:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a deadlock guard, not a timing assertion
	defer cancel()
	if err := s.run(ctx, produceSlice(streamsOf(3, 3, 3, 3), nil)); err != nil {
		t.Fatalf("run: %v (streams did not run in parallel)", err)
	}
}

func TestStreamerErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		send    func(ctx context.Context, key string, b []keyed) error
		produce func(context.Context, func(keyed) error) error
		want    error
	}{
		{
			name: "a worker's error stops the run",
			send: func(ctx context.Context, key string, b []keyed) error {
				if key == "s1" {
					return boom
				}
				return nil
			},
			produce: produceSlice(streamsOf(5, 5, 500, 500, 500), nil),
			want:    boom,
		},
		{
			name: "the reader's error stops the run",
			send: func(ctx context.Context, key string, b []keyed) error { return nil },
			produce: func(ctx context.Context, fn func(keyed) error) error {
				if err := fn(keyed{"a", 0}); err != nil {
					return err
				}
				return boom
			},
			want: boom,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := streamer[keyed]{streams: 2, budget: 16, batch: 7, key: func(k keyed) string { return k.key }, send: tt.send}
			if err := s.run(context.Background(), tt.produce); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestStreamerReturningKeyWaits: a key that comes back after another stream is a
// new run of that stream; it must not overlap the first run.
func TestStreamerReturningKeyWaits(t *testing.T) {
	items := []keyed{{"a", 0}, {"a", 1}, {"b", 0}, {"a", 2}, {"a", 3}}
	var mu sync.Mutex
	var got []int
	inFlight := false
	s := streamer[keyed]{
		streams: 4, budget: 16, batch: 1,
		key: func(k keyed) string { return k.key },
		send: func(ctx context.Context, key string, b []keyed) error {
			if key != "a" {
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			if inFlight {
				return errors.New("two calls in flight for a")
			}
			inFlight = true
			got = append(got, b[0].seq)
			inFlight = false
			return nil
		},
	}
	if err := s.run(context.Background(), produceSlice(items, nil)); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[0 1 2 3]" {
		t.Fatalf("stream a sent in order %v", got)
	}
}

func TestStreamQueueTake(t *testing.T) {
	tests := []struct {
		name     string
		push     int
		sizes    []int // of the pushed items, in order; nil: 0 each
		capacity int   // 0: no size limit
		close    bool
		max      int
		want     []int // sizes of successive takes until !ok
	}{
		{"full batches then the rest", 17, nil, 0, true, 7, []int{7, 7, 3}},
		{"exact multiple", 14, nil, 0, true, 7, []int{7, 7}},
		{"closed empty", 0, nil, 0, true, 7, nil},
		{"open and short waits until cancelled", 3, nil, 0, false, 7, nil},
		{"size cuts before the item that overflows", 8, []int{4, 4, 4, 4, 4, 4, 4, 4}, 10, true, 7, []int{2, 2, 2, 2}},
		{"exactly at capacity fits", 6, []int{5, 5, 3, 7, 10, 1}, 10, true, 7, []int{2, 2, 1, 1}},
		{"an item over capacity goes alone", 5, []int{3, 30, 3, 3, 40}, 10, true, 7, []int{1, 1, 2, 1}},
		{"count still caps small items", 9, []int{1, 1, 1, 1, 1, 1, 1, 1, 1}, 100, true, 7, []int{7, 2}},
		{"open: a batch cut by size is full", 3, []int{6, 6, 6}, 10, false, 7, []int{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newStreamQueue[int]()
			for i := range tt.push {
				size := 0
				if tt.sizes != nil {
					size = tt.sizes[i]
				}
				q.push(i, size)
			}
			if tt.close {
				q.close()
			}
			capacity := tt.capacity
			if capacity == 0 {
				capacity = math.MaxInt
			}
			ctx, cancel := context.WithCancel(context.Background())
			if !tt.close {
				cancel() // take must give up rather than send a short batch
			}
			defer cancel()
			var sizes []int
			next := 0
			for {
				b, ok := q.take(ctx, batcher{max: tt.max, capacity: capacity})
				if !ok {
					break
				}
				for _, v := range b {
					if v != next {
						t.Fatalf("took %d, want %d", v, next)
					}
					next++
				}
				sizes = append(sizes, len(b))
			}
			if fmt.Sprint(sizes) != fmt.Sprint(tt.want) {
				t.Fatalf("take sizes %v, want %v", sizes, tt.want)
			}
		})
	}
}

func TestPoolAndBatchByKey(t *testing.T) {
	var mu sync.Mutex
	var batches [][]keyed
	p := pool[keyed]{workers: 3, send: func(ctx context.Context, b []keyed) error {
		mu.Lock()
		batches = append(batches, b)
		mu.Unlock()
		return nil
	}}
	items := streamsOf(5, 1, 0, 12)
	err := p.run(context.Background(), func(ctx context.Context, emit func([]keyed) error) error {
		b := batchByKey[keyed]{max: 5, emit: emit}
		for _, it := range items {
			if err := b.add(it.key, it); err != nil {
				return err
			}
		}
		return b.flush()
	})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	sizes := map[string][]int{}
	for _, b := range batches {
		for _, it := range b {
			if it.key != b[0].key {
				t.Fatalf("batch mixes %s and %s", b[0].key, it.key)
			}
		}
		count[b[0].key] += len(b)
		sizes[b[0].key] = append(sizes[b[0].key], len(b))
	}
	if count["s0"] != 5 || count["s1"] != 1 || count["s3"] != 12 || len(batches) != 5 {
		t.Fatalf("batches %v", sizes)
	}
}

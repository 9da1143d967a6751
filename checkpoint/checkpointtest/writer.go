package checkpointtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/immigrate/immigrate/checkpoint"
)

// never is an interval no test outlives: records reach the store only on Flush,
// Close or MaxBatch.
const never = time.Hour

// eventually polls cond until it holds; it fails the test after a generous
// deadline. It asserts that something happens, not how fast.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: did not happen", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func streams(tb testing.TB, s checkpoint.Store, phase string) int64 {
	return countersOf(tb, s)[phase].Streams
}

func testWriter(t *testing.T, d Driver) {
	ctx := context.Background()
	dm := func(i int, ord int64) checkpoint.Mark {
		return checkpoint.Mark{Phase: "dm", Stream: fmt.Sprintf("c/%03d", i), Ordinal: ord}
	}

	t.Run("flush on interval", func(t *testing.T) {
		s, _ := fresh(t, d)
		w := checkpoint.NewWriter(s, checkpoint.WriterConfig{Interval: 10 * time.Millisecond})
		defer w.Close(ctx)
		w.Confirm(dm(1, 1), checkpoint.Counts{Imported: 1})
		eventually(t, "background flush", func() bool { return streams(t, s, "dm") == 1 })
	})

	t.Run("flush on max batch", func(t *testing.T) {
		s, _ := fresh(t, d)
		w := checkpoint.NewWriter(s, checkpoint.WriterConfig{Interval: never, MaxBatch: 10})
		defer w.Close(ctx)
		for i := range 25 {
			w.Confirm(dm(i, 1), checkpoint.Counts{})
		}
		// Every full batch is flushed; fewer than MaxBatch may wait for the interval.
		eventually(t, "flushes of full batches", func() bool { return streams(t, s, "dm") >= 16 })
	})

	t.Run("flush on close", func(t *testing.T) {
		s, _ := fresh(t, d)
		w := checkpoint.NewWriter(s, checkpoint.WriterConfig{Interval: never})
		for i := range 5 {
			w.Confirm(dm(i, 3), checkpoint.Counts{Imported: 3})
		}
		if n := streams(t, s, "dm"); n != 0 {
			t.Fatalf("%d marks in the store before any flush, want 0", n)
		}
		if err := w.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if c := countersOf(t, s)["dm"]; c.Streams != 5 || c.Imported != 15 {
			t.Errorf("after Close: %+v, want 5 streams and 15 imported", c)
		}
		if err := w.Close(ctx); err != nil {
			t.Errorf("second Close: %v", err)
		}
		w.Confirm(dm(9, 1), checkpoint.Counts{})
		if err := w.Err(); !errors.Is(err, checkpoint.ErrClosed) {
			t.Errorf("Err after a write to a closed writer = %v, want ErrClosed", err)
		}
		if n := streams(t, s, "dm"); n != 5 {
			t.Errorf("a write after Close reached the store: %d streams", n)
		}
	})

	t.Run("flush", func(t *testing.T) {
		s, _ := fresh(t, d)
		w := checkpoint.NewWriter(s, checkpoint.WriterConfig{Interval: never})
		defer w.Close(ctx)
		w.Confirm(dm(1, 1), checkpoint.Counts{})
		w.PhaseDone("accounts", t0)
		if err := w.Flush(ctx); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		if _, done, _ := s.PhaseDone(ctx, "accounts"); !done || streams(t, s, "dm") != 1 {
			t.Errorf("Flush returned before its records were in the store")
		}
		if err := w.Flush(ctx); err != nil {
			t.Errorf("Flush of nothing: %v", err)
		}
	})

	t.Run("intent is durable on return", func(t *testing.T) {
		s, _ := fresh(t, d)
		w := checkpoint.NewWriter(s, checkpoint.WriterConfig{Interval: never})
		defer w.Close(ctx)
		in := checkpoint.Intent{Phase: "gm", Stream: "g1", First: 1, Last: 7, FirstID: "a", LastID: "g"}
		if err := w.Intent(ctx, in); err != nil {
			t.Fatalf("Intent: %v", err)
		}
		diff(t, "intents", intentsOf(t, s), []checkpoint.Intent{in})
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if err := w.Intent(cancelled, checkpoint.Intent{Phase: "gm", Stream: "g2"}); !errors.Is(err, context.Canceled) {
			// The flush may win the race with the cancelled context: then it is
			// durable and nil is right too.
			if err != nil {
				t.Errorf("Intent with a cancelled context = %v", err)
			}
		}
	})

	t.Run("coalescing", func(t *testing.T) {
		s, _ := fresh(t, d)
		w := checkpoint.NewWriter(s, checkpoint.WriterConfig{Interval: never})
		for _, ord := range []int64{3, 9, 1, 7} {
			w.Confirm(dm(1, ord), checkpoint.Counts{Imported: 1})
		}
		w.Count("dm", checkpoint.Counts{Rejected: 2})
		w.Count("dm", checkpoint.Counts{})
		w.Intent(ctx, checkpoint.Intent{Phase: "gm", Stream: "g", First: 1, Last: 7})
		w.Confirm(checkpoint.Mark{Phase: "gm", Stream: "g", Ordinal: 7}, checkpoint.Counts{})
		w.Intent(ctx, checkpoint.Intent{Phase: "gm", Stream: "g", First: 8, Last: 9})
		w.Intent(ctx, checkpoint.Intent{Phase: "gm", Stream: "h", First: 1, Last: 2})
		w.ClearIntent("gm", "h")
		w.ClearIntent("gm", "k")
		w.Intent(ctx, checkpoint.Intent{Phase: "gm", Stream: "k", First: 1, Last: 2})
		w.PhaseDone("accounts", t0)
		w.PhaseDone("accounts", t0.Add(time.Hour))
		w.MapID(checkpoint.IDMapping{Kind: "user", LegacyID: "a", TargetID: "1"})
		w.MapID(checkpoint.IDMapping{Kind: "user", LegacyID: "a", TargetID: "2"})
		w.Reject(checkpoint.Reject{Entity: "m", LegacyID: "1", Rule: "r", Message: "first"})
		w.Reject(checkpoint.Reject{Entity: "m", LegacyID: "1", Rule: "r", Message: "second"})
		if err := w.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		got := read(t, s)
		want := snapshot{
			Marks: []checkpoint.Mark{dm(1, 9), {Phase: "gm", Stream: "g", Ordinal: 7}},
			Intents: []checkpoint.Intent{
				{Phase: "gm", Stream: "g", First: 8, Last: 9},
				{Phase: "gm", Stream: "k", First: 1, Last: 2},
			},
			IDs:     []checkpoint.IDMapping{{Kind: "user", LegacyID: "a", TargetID: "2"}},
			Rejects: []checkpoint.Reject{{Entity: "m", LegacyID: "1", Rule: "r", Message: "first"}},
			Counters: []checkpoint.PhaseCounters{
				{Phase: "accounts", Done: true, DoneAt: t0},
				{Phase: "dm", Counts: checkpoint.Counts{Imported: 4, Rejected: 2}, Streams: 1},
				{Phase: "gm", Streams: 1, Intents: 2},
			},
		}
		diff(t, "store", got, want)
	})
}

// flaky fails Apply on demand: before applying (nothing written) or after (written,
// but the answer lost, as when a connection drops during COMMIT).
type flaky struct {
	checkpoint.Store
	mu          sync.Mutex
	failBefore  int
	failAfter   int
	applied     int
	errBefore   error
	errAfterCmt error
}

func (f *flaky) Apply(ctx context.Context, b *checkpoint.Batch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failBefore > 0 {
		f.failBefore--
		return f.errBefore
	}
	if err := f.Store.Apply(ctx, b); err != nil {
		return err
	}
	f.applied++
	if f.failAfter > 0 {
		f.failAfter--
		return f.errAfterCmt
	}
	return nil
}

func testWriterFailures(t *testing.T, d Driver) {
	ctx := context.Background()
	errDown := errors.New("store down")
	errLost := errors.New("answer lost")
	cases := []struct {
		name        string
		failBefore  int
		failAfter   int
		wantErr     error
		visibleRead int64 // dm streams visible right after the failed flush
	}{
		{"failed before commit", 1, 0, errDown, 0},
		{"failed twice before commit", 2, 0, errDown, 0},
		{"commit outcome lost", 0, 1, errLost, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := fresh(t, d)
			f := &flaky{Store: s, errBefore: errDown, errAfterCmt: errLost}
			w := checkpoint.NewWriter(f, checkpoint.WriterConfig{Interval: never})
			w.Confirm(checkpoint.Mark{Phase: "dm", Stream: "a", Ordinal: 1}, checkpoint.Counts{Imported: 1})
			w.Reject(checkpoint.Reject{Entity: "m", LegacyID: "x", Rule: "r"})

			f.mu.Lock()
			f.failBefore, f.failAfter = tc.failBefore, tc.failAfter
			f.mu.Unlock()
			if err := w.Flush(ctx); !errors.Is(err, tc.wantErr) {
				t.Fatalf("Flush = %v, want %v", err, tc.wantErr)
			}
			if err := w.Err(); !errors.Is(err, tc.wantErr) {
				t.Errorf("Err = %v, want %v", err, tc.wantErr)
			}
			if n := streams(t, s, "dm"); n != tc.visibleRead {
				t.Errorf("%d streams in the store after the failed flush, want %d", n, tc.visibleRead)
			}
			// Records given after the failure go after the failed batch.
			w.Confirm(checkpoint.Mark{Phase: "dm", Stream: "b", Ordinal: 1}, checkpoint.Counts{Imported: 1})
			for range tc.failBefore - 1 {
				if err := w.Flush(ctx); !errors.Is(err, tc.wantErr) {
					t.Fatalf("Flush = %v, want %v", err, tc.wantErr)
				}
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatalf("Flush after the store recovered: %v", err)
			}
			if err := w.Err(); err != nil {
				t.Errorf("Err after a successful flush = %v", err)
			}
			if err := w.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
			c := countersOf(t, s)["dm"]
			if c.Imported != 2 || c.Streams != 2 {
				t.Errorf("dm counters = %+v, want 2 imported in 2 streams (the retried batch applied once)", c)
			}
			if n := len(rejectsOf(t, s)); n != 1 {
				t.Errorf("%d rejects, want 1", n)
			}
		})
	}
}

// hung is a store whose Apply hangs until its context ends while hang is set, as
// on a connection to a server that stopped answering.
type hung struct {
	checkpoint.Store
	hang atomic.Bool
}

func (h *hung) Apply(ctx context.Context, b *checkpoint.Batch) error {
	if h.hang.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return h.Store.Apply(ctx, b)
}

// testWriterHungStore: FlushTimeout bounds every flush, the ones Flush and Intent
// run on their caller's context too. Otherwise a store that stops answering holds
// the flush forever: the caller waits, background flushes queue behind it, Err
// stays nil, and a run hangs instead of stopping on the checkpoint's failure.
func testWriterHungStore(t *testing.T, d Driver) {
	s, _ := fresh(t, d)
	h := &hung{Store: s}
	// The timeout bounds the hung flushes, and then the flush of Close on the
	// store that answers again: long enough for a real apply on a loaded machine
	// (50 ms was not, under CI's parallel packages).
	w := checkpoint.NewWriter(h, checkpoint.WriterConfig{Interval: never, FlushTimeout: 2 * time.Second})
	h.hang.Store(true)
	calls := []struct {
		name string
		call func(context.Context) error
	}{
		{"Flush", func(ctx context.Context) error {
			w.Confirm(checkpoint.Mark{Phase: "dm", Stream: "a", Ordinal: 1}, checkpoint.Counts{Imported: 1})
			return w.Flush(ctx)
		}},
		{"Intent", func(ctx context.Context) error {
			return w.Intent(ctx, checkpoint.Intent{Phase: "gm", Stream: "g", First: 0, Last: 6})
		}},
	}
	for _, c := range calls {
		done := make(chan error, 1)
		go func() { done <- c.call(context.Background()) }()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s on a hung store = %v, want a deadline error", c.name, err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%s on a hung store still waits after a minute; FlushTimeout is 2s", c.name)
		}
	}
	if err := w.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Err = %v, want the deadline error", err)
	}
	h.hang.Store(false)
	if err := w.Close(context.Background()); err != nil {
		t.Fatalf("Close once the store answers: %v", err)
	}
	if n := streams(t, s, "dm"); n != 1 {
		t.Errorf("%d dm streams after Close, want 1", n)
	}
	if n := len(intentsOf(t, s)); n != 1 {
		t.Errorf("%d intents after Close, want 1", n)
	}
}

// testConcurrency has many goroutines confirm marks out of order while others read;
// the marks end at their maximum, the counts add up, and a reader never sees a mark
// go back.
func testConcurrency(t *testing.T, d Driver) {
	const (
		writers = 8
		nstream = 40
		maxOrd  = 60
	)
	ctx := context.Background()
	s, _ := fresh(t, d)
	begin(t, s, manifest("h", "t", t0))
	// Small batches and little room, so flushes overlap writes and writers wait.
	w := checkpoint.NewWriter(s, checkpoint.WriterConfig{Interval: time.Millisecond, MaxBatch: 64, MaxPending: 128})
	var g errgroup.Group
	var writing atomic.Int32
	writing.Store(writers)
	for id := range writers {
		g.Go(func() error {
			defer writing.Add(-1)
			r := rand.New(rand.NewPCG(uint64(id), 1))
			var ords []int64
			for o := int64(1); o <= maxOrd; o++ {
				if o%writers == int64(id) {
					ords = append(ords, o)
				}
			}
			r.Shuffle(len(ords), func(i, j int) { ords[i], ords[j] = ords[j], ords[i] })
			for i, o := range ords {
				for st := range nstream {
					w.Confirm(checkpoint.Mark{Phase: "dm", Stream: fmt.Sprintf("c/%02d", st), Ordinal: o, LegacyID: fmt.Sprint(o)},
						checkpoint.Counts{Imported: 1})
				}
				w.Reject(checkpoint.Reject{Entity: "m", LegacyID: fmt.Sprint(o % 5), Rule: "r"})
				if i%3 == 0 {
					if err := w.Flush(ctx); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	for range 2 {
		g.Go(func() error {
			seen := map[string]int64{}
			for writing.Load() > 0 {
				err := s.Marks(ctx, "dm", "c/", func(m checkpoint.Mark) error {
					if m.Ordinal < seen[m.Stream] {
						return fmt.Errorf("mark %s went back from %d to %d", m.Stream, seen[m.Stream], m.Ordinal)
					}
					seen[m.Stream] = m.Ordinal
					return nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ms := marksOf(t, s, "dm", "")
	if len(ms) != nstream {
		t.Fatalf("%d marks, want %d", len(ms), nstream)
	}
	for _, m := range ms {
		if m.Ordinal != maxOrd || m.LegacyID != fmt.Sprint(maxOrd) {
			t.Errorf("mark %+v, want ordinal %d", m, maxOrd)
		}
	}
	if c := countersOf(t, s)["dm"]; c.Imported != nstream*maxOrd {
		t.Errorf("imported = %d, want %d", c.Imported, nstream*maxOrd)
	}
	if n := len(rejectsOf(t, s)); n != 5 {
		t.Errorf("%d rejects, want 5 (de-duplicated)", n)
	}
}

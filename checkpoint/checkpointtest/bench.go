package checkpointtest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/immigrate/immigrate/checkpoint"
)

// Bench measures marks per second through a Writer with its default settings: many
// goroutines confirm one item each of distinct conversations (the shape of the
// direct-message phase, where no two marks of a flush coalesce), and the time
// includes the final flush, so the figure is what the store absorbs, not what
// memory buffers. It reports "marks/s".
func Bench(b *testing.B, d Driver) {
	ctx := context.Background()
	s, _ := fresh(b, d)
	begin(b, s, manifest("bench", "bench", t0))
	w := checkpoint.NewWriter(s, checkpoint.WriterConfig{})
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			w.Confirm(checkpoint.Mark{Phase: "direct_messages", Stream: fmt.Sprintf("c/%09d", i), Ordinal: i, LegacyID: "m"},
				checkpoint.Counts{Imported: 1})
		}
	})
	if err := w.Close(ctx); err != nil {
		b.Fatalf("Close: %v", err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "marks/s")
	if c := countersOf(b, s)["direct_messages"]; c.Imported != int64(b.N) {
		b.Fatalf("imported = %d, want %d", c.Imported, b.N)
	}
}

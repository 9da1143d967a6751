package extract_test

import (
	"bufio"
	"context"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/internal/pgtest"
)

// benchMessages is the size of the generated direct-message sets.
const benchMessages = 200_000

type benchRow struct {
	id         int
	from, to   string
	sentAt     time.Time
	text, kind string
}

// benchRows generates direct messages between 2,000 users with realistic field
// sizes, in random order.
func benchRows() []benchRow {
	rng := mrand.New(mrand.NewPCG(42, 42))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := make([]benchRow, benchMessages)
	for i := range rows {
		rows[i] = benchRow{
			id:     i + 1,
			from:   fmt.Sprintf("user_%04d", rng.IntN(2000)),
			to:     fmt.Sprintf("user_%04d", rng.IntN(2000)),
			sentAt: base.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Microsecond),
			kind:   "text",
			text:   fmt.Sprintf("hello, this is message %d of the benchmark — with unicode ✓", i),
		}
	}
	rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	return rows
}

func writeBenchCSV(b *testing.B, dir string, rows []benchRow) {
	f, err := os.Create(filepath.Join(dir, "dm.csv"))
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "id,sender_id,recipient_id,sent_at,kind,text")
	for _, r := range rows {
		fmt.Fprintf(w, "%d,%s,%s,%s,%s,\"%s\"\n", r.id, r.from, r.to, r.sentAt.Format(time.RFC3339Nano), r.kind, r.text)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// cpuTime is the CPU time this process has used, in all its threads.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRead reads every direct message per iteration and reports the rate, per
// second of wall time and per second of this process's CPU time (the figure that
// matters for the one-core target, and steadier on a shared machine).
func benchRead(b *testing.B, r extract.Reader) {
	b.ReportAllocs()
	ctx := context.Background()
	n := 0
	cpu0 := cpuTime(b)
	for b.Loop() {
		n = 0
		if err := r.DirectMessages(ctx, func(extract.Message) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != benchMessages {
			b.Fatalf("read %d messages, want %d", n, benchMessages)
		}
	}
	total := float64(n) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(total/(cpuTime(b)-cpu0).Seconds(), "msgs/cpu-s")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkCSVDirectMessages(b *testing.B) {
	rows := benchRows()
	unsortedDir := b.TempDir()
	writeBenchCSV(b, unsortedDir, rows)
	sorted := slices.Clone(rows)
	slices.SortFunc(sorted, func(x, y benchRow) int {
		xl, xh := extract.ConversationKey(x.from, x.to)
		yl, yh := extract.ConversationKey(y.from, y.to)
		if c := cmpStrings(xl, yl); c != 0 {
			return c
		}
		if c := cmpStrings(xh, yh); c != 0 {
			return c
		}
		if c := x.sentAt.Compare(y.sentAt); c != 0 {
			return c
		}
		return cmpStrings(fmt.Sprintf("%020d", x.id), fmt.Sprintf("%020d", y.id))
	})
	sortedDir := b.TempDir()
	writeBenchCSV(b, sortedDir, sorted)

	cases := []struct {
		name   string
		dir    string
		sorted bool
		memory int
	}{
		{"declared sorted", sortedDir, true, 0},
		{"sort in memory", unsortedDir, false, 0},
		{"sort on disk 4MiB", unsortedDir, false, 4 << 20},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			r, err := extract.NewCSVReader(extract.CSVConfig{Dir: tc.dir, TempDir: b.TempDir(), SortMemoryBytes: tc.memory,
				Entities: map[extract.Entity]extract.EntitySource{extract.DirectMessages: {File: "dm.csv", Sorted: tc.sorted}},
			}, extract.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			benchRead(b, r)
		})
	}
}

func cmpStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// BenchmarkPostgresDirectMessages reads a table with the expression index that serves
// the reader's keyset pages (see PostgresReader).
func BenchmarkPostgresDirectMessages(b *testing.B) {
	conn, schema := pgSchema(b)
	ctx := context.Background()
	exec(b, conn, fmt.Sprintf(`CREATE TABLE %[1]s.dm (id bigint, sender_id text, recipient_id text, sent_at timestamptz, kind text, text text)`, schema))
	rows := benchRows()
	src := make([][]any, len(rows))
	for i, r := range rows {
		src[i] = []any{int64(r.id), r.from, r.to, r.sentAt, r.kind, r.text}
	}
	if _, err := conn.CopyFrom(ctx, []string{schema, "dm"}, []string{"id", "sender_id", "recipient_id", "sent_at", "kind", "text"},
		pgxCopyRows(src)); err != nil {
		b.Fatal(err)
	}
	exec(b, conn, fmt.Sprintf(`CREATE INDEX ON %[1]s.dm (
  (LEAST(COALESCE(sender_id::text, '') COLLATE "C", COALESCE(recipient_id::text, '') COLLATE "C")),
  (GREATEST(COALESCE(sender_id::text, '') COLLATE "C", COALESCE(recipient_id::text, '') COLLATE "C")),
  (COALESCE(sent_at, '-infinity'::timestamptz)),
  (octet_length(COALESCE(id::text, ''))),
  (COALESCE(id::text, '') COLLATE "C"));
ANALYZE %[1]s.dm`, schema))
	r, err := extract.NewPostgresReader(ctx, extract.PostgresConfig{URL: pgtest.URL(b),
		Entities: map[extract.Entity]extract.EntitySource{extract.DirectMessages: {Query: "SELECT * FROM " + schema + ".dm"}},
	}, extract.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	benchRead(b, r)
}

package seenset_test

import (
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/immigrate/immigrate/internal/seenset"
)

// TestSetMatchesAMap: whatever its sizes (a table that spills every 12 entries,
// a Bloom filter so small that most lookups reach the runs), Add answers as a
// map does, with 0 and 1 the same member, and Close removes what it spilled.
func TestSetMatchesAMap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  seenset.Config
	}{
		{"defaults", seenset.Config{}},
		{"tiny table, tiny bloom", seenset.Config{TableSlots: 16, BloomBits: 512}},
		{"tiny table, large bloom", seenset.Config{TableSlots: 16, BloomBits: 1 << 20}},
		{"odd sizes", seenset.Config{TableSlots: 100, BloomBits: 3000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tc.cfg.Dir = dir
			s := seenset.New(tc.cfg)
			want := map[uint64]bool{}
			rng := rand.New(rand.NewPCG(1, 2))
			var added []uint64
			for i := range 5000 {
				var fp uint64
				switch {
				case i%7 == 3 && len(added) > 0:
					fp = added[rng.IntN(len(added))] // a repeat
				case i == 100:
					fp = 0
				case i == 200:
					fp = 1
				default:
					fp = rng.Uint64()
				}
				key := max(fp, 1)
				absent := !want[key]
				want[key] = true
				if got := s.Add(fp); got != absent {
					t.Fatalf("Add #%d (%#x) = %v, want %v", i, fp, got, absent)
				}
				added = append(added, fp)
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if got := s.Len(); got != len(want) {
				t.Errorf("Len = %d, want %d", got, len(want))
			}
			if tc.cfg.TableSlots == 16 && s.Spilled() == 0 {
				t.Error("the tiny table never spilled")
			}
			// Merged as they accumulate: each run more than twice the next.
			if runs, most := s.Runs(), bits.Len(uint(s.Len()/12))+1; runs > most {
				t.Errorf("%d runs of %d fingerprints, want at most %d", runs, s.Len(), most)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			left, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(left) > 0 {
				t.Errorf("after Close the spill directory holds %d files", len(left))
			}
		})
	}
}

// TestSetSpillError: a spill that cannot be written is kept in Err, and the set
// goes on answering (without growing) until its owner sees it.
func TestSetSpillError(t *testing.T) {
	t.Parallel()
	s := seenset.New(seenset.Config{Dir: filepath.Join(t.TempDir(), "missing"), TableSlots: 16})
	for i := range 40 {
		s.Add(uint64(i + 10))
	}
	if s.Err() == nil {
		t.Fatal("Err = nil after a spill into a missing directory")
	}
	for i := range 40 {
		s.Add(uint64(i + 1000))
	}
	if s.Err() == nil {
		t.Error("Err forgot the error")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkAdd(b *testing.B) {
	s := seenset.New(seenset.Config{Dir: b.TempDir()})
	defer s.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	for b.Loop() {
		s.Add(rng.Uint64())
	}
	if err := s.Err(); err != nil {
		b.Fatal(err)
	}
}

package seenset

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
)

// Config sizes a Set; zero fields take the defaults.
type Config struct {
	// Dir is where the spilled runs go (one temporary file, removed by Close);
	// "" is os.TempDir(). Nothing is written until the table first fills.
	Dir string
	// TableSlots is the in-memory table's size, 8 bytes a slot, rounded up to a
	// power of two; it spills at 3/4 full.
	TableSlots int
	// BloomBits is the Bloom filter's size, rounded up to a power of two of at
	// least 512; it is allocated at the first spill.
	BloomBits int
}

// Defaults: 4 MB of table, spilled every 393,216 fingerprints, and a 16 MB
// Bloom filter, which lets about 0.3 % of the lookups through to the runs at
// 10 M fingerprints (and about 8 % at 30 M: the set stays exact, only slower).
const (
	DefaultTableSlots = 1 << 19
	DefaultBloomBits  = 1 << 27
)

const (
	pageEntries = 512 // fingerprints in a page of a run: one 4 KB read per lookup
	blockWords  = 8   // a Bloom block is one 64-byte cache line
	bloomProbes = 7   // bits set per fingerprint, each 9 bits of one hash
)

// Set is a set of fingerprints. The fingerprints 0 and 1 are the same member
// (0 marks an empty slot). A Set is not safe for concurrent use.
//
// The spilled runs are merged as they accumulate, two of similar size at a time,
// so that a lookup the Bloom filter lets through reads one page from each of at
// most log2(fingerprints / table) + 1 runs, and every fingerprint is rewritten
// as often.
//
// An I/O error while spilling or reading a run is kept and returned by Err,
// which the owner must check (after each Add, or before it trusts the answers):
// after one, Add's answers mean nothing and the set stops growing.
type Set struct {
	cfg     Config
	slots   []uint64 // open addressing, linear probing
	n       int
	bloom   []uint64 // nil until the first spill
	runs    []*run   // oldest (largest) first
	spilled int64    // bytes written
	page    []byte
	err     error
}

// run is a sorted file of n fingerprints, with the first fingerprint of each of
// its pages.
type run struct {
	f     *os.File
	name  string // of f, while it still has to be removed
	n     int
	index []uint64
}

// New returns an empty Set.
func New(cfg Config) *Set {
	cfg.TableSlots = pow2(max(cfg.TableSlots, 0), DefaultTableSlots, 16)
	cfg.BloomBits = pow2(max(cfg.BloomBits, 0), DefaultBloomBits, blockWords*64)
	return &Set{cfg: cfg}
}

// pow2 rounds n up to a power of two, at least least; 0 gives def.
func pow2(n, def, least int) int {
	if n == 0 {
		n = def
	}
	p := least
	for p < n {
		p *= 2
	}
	return p
}

// Add inserts fp and reports whether it was absent.
func (s *Set) Add(fp uint64) bool {
	if fp == 0 {
		fp = 1
	}
	if s.tableHas(fp) {
		return false
	}
	if s.bloom != nil && s.bloomHas(fp) && s.runsHave(fp) {
		return false
	}
	if s.err != nil {
		return true
	}
	s.tableAdd(fp)
	if len(s.slots) == s.cfg.TableSlots && s.n*4 >= len(s.slots)*3 {
		s.spill()
	}
	return true
}

// Len is the number of fingerprints in the set.
func (s *Set) Len() int {
	n := s.n
	for _, r := range s.runs {
		n += r.n
	}
	return n
}

// Runs is the number of spilled runs.
func (s *Set) Runs() int { return len(s.runs) }

// Spilled is the number of bytes the set wrote to disk, merges included.
func (s *Set) Spilled() int64 { return s.spilled }

// Err returns the first I/O error met, if any.
func (s *Set) Err() error { return s.err }

// Close removes the spilled runs and drops the set's memory; the Set must not
// be used afterwards.
func (s *Set) Close() error {
	var errs []error
	for _, r := range s.runs {
		errs = append(errs, r.remove())
	}
	*s = Set{cfg: s.cfg, err: s.err}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("seenset: %w", err)
	}
	return nil
}

func (s *Set) tableHas(fp uint64) bool {
	if s.n == 0 {
		return false
	}
	mask := uint64(len(s.slots) - 1)
	for i := fp & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case fp:
			return true
		case 0:
			return false
		}
	}
}

func (s *Set) tableAdd(fp uint64) {
	if (s.n+1)*4 > len(s.slots)*3 && len(s.slots) < s.cfg.TableSlots {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	i := fp & mask
	for s.slots[i] != 0 {
		i = (i + 1) & mask
	}
	s.slots[i] = fp
	s.n++
}

func (s *Set) grow() {
	old := s.slots
	s.slots = make([]uint64, max(2*len(old), 16))
	mask := uint64(len(s.slots) - 1)
	for _, fp := range old {
		if fp == 0 {
			continue
		}
		i := fp & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = fp
	}
}

// spill writes the table as a sorted run, enters it in the Bloom filter and
// empties it, then merges runs of similar size. The table is sorted in place:
// the set needs no memory beyond its configuration.
func (s *Set) spill() {
	if s.bloom == nil {
		s.bloom = make([]uint64, s.cfg.BloomBits/64)
	}
	fps := s.slots[:0]
	for _, fp := range s.slots {
		if fp != 0 {
			fps = append(fps, fp)
		}
	}
	slices.Sort(fps)
	for _, fp := range fps {
		s.bloomAdd(fp)
	}
	r, err := s.writeRun(len(fps), func(yield func(uint64) error) error {
		for _, fp := range fps {
			if err := yield(fp); err != nil {
				return err
			}
		}
		return nil
	})
	// Sorting broke the table's layout: it is emptied whatever happened.
	clear(s.slots)
	s.n = 0
	if err != nil {
		s.err = err
		return
	}
	s.runs = append(s.runs, r)
	for k := len(s.runs); k >= 2 && s.runs[k-2].n <= 2*s.runs[k-1].n; k = len(s.runs) {
		if err := s.merge(); err != nil {
			s.err = err
			return
		}
	}
}

// writeRun writes n sorted fingerprints, which gen yields, as a new run.
func (s *Set) writeRun(n int, gen func(yield func(uint64) error) error) (*run, error) {
	f, err := os.CreateTemp(s.cfg.Dir, "immigrate-seen-*")
	if err != nil {
		return nil, fmt.Errorf("seenset: %w", err)
	}
	r := &run{f: f, n: n, index: make([]uint64, 0, (n+pageEntries-1)/pageEntries)}
	// Unlinked at once where the system allows it, so that a killed process
	// leaves nothing behind; elsewhere Close removes it.
	if os.Remove(f.Name()) != nil {
		r.name = f.Name()
	}
	w := bufio.NewWriterSize(f, 64<<10)
	var b [8]byte
	i := 0
	err = gen(func(fp uint64) error {
		if i%pageEntries == 0 {
			r.index = append(r.index, fp)
		}
		i++
		binary.LittleEndian.PutUint64(b[:], fp)
		_, err := w.Write(b[:])
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		r.remove()
		return nil, fmt.Errorf("seenset: spill: %w", err)
	}
	s.spilled += int64(n) * 8
	return r, nil
}

// merge replaces the last two runs by one. Runs are disjoint: a fingerprint is
// added only when no run holds it.
func (s *Set) merge() error {
	a, b := s.runs[len(s.runs)-2], s.runs[len(s.runs)-1]
	ra := bufio.NewReaderSize(io.NewSectionReader(a.f, 0, int64(a.n)*8), 64<<10)
	rb := bufio.NewReaderSize(io.NewSectionReader(b.f, 0, int64(b.n)*8), 64<<10)
	var buf [8]byte
	next := func(r *bufio.Reader, left *int) (uint64, bool, error) {
		if *left == 0 {
			return 0, false, nil
		}
		*left--
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return 0, false, err
		}
		return binary.LittleEndian.Uint64(buf[:]), true, nil
	}
	m, err := s.writeRun(a.n+b.n, func(yield func(uint64) error) error {
		la, lb := a.n, b.n
		x, okx, err := next(ra, &la)
		if err != nil {
			return err
		}
		y, oky, err := next(rb, &lb)
		if err != nil {
			return err
		}
		for okx || oky {
			if okx && (!oky || x < y) {
				if err := yield(x); err != nil {
					return err
				}
				if x, okx, err = next(ra, &la); err != nil {
					return err
				}
			} else {
				if err := yield(y); err != nil {
					return err
				}
				if y, oky, err = next(rb, &lb); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.runs = append(s.runs[:len(s.runs)-2], m)
	return errors.Join(a.remove(), b.remove())
}

// remove closes the run's file, and removes it if it was not unlinked yet.
func (r *run) remove() error {
	err := r.f.Close()
	if r.name != "" {
		if rerr := os.Remove(r.name); err == nil {
			err = rerr
		}
	}
	return err
}

func (s *Set) block(fp uint64) []uint64 {
	i := int(fp&uint64(len(s.bloom)/blockWords-1)) * blockWords
	return s.bloom[i : i+blockWords]
}

func (s *Set) bloomAdd(fp uint64) {
	b := s.block(fp)
	h := mix64(fp)
	for range bloomProbes {
		bit := h & 511
		b[bit>>6] |= 1 << (bit & 63)
		h >>= 9
	}
}

func (s *Set) bloomHas(fp uint64) bool {
	b := s.block(fp)
	h := mix64(fp)
	for range bloomProbes {
		bit := h & 511
		if b[bit>>6]&(1<<(bit&63)) == 0 {
			return false
		}
		h >>= 9
	}
	return true
}

// runsHave looks fp up in every run: one page read each.
func (s *Set) runsHave(fp uint64) bool {
	if s.err != nil {
		return false
	}
	if s.page == nil {
		s.page = make([]byte, pageEntries*8)
	}
	for _, r := range s.runs {
		p := sort.Search(len(r.index), func(i int) bool { return r.index[i] > fp }) - 1
		if p < 0 {
			continue
		}
		n := min(pageEntries, r.n-p*pageEntries)
		buf := s.page[:n*8]
		if _, err := r.f.ReadAt(buf, int64(p*pageEntries*8)); err != nil {
			s.err = fmt.Errorf("seenset: read a run: %w", err)
			return false
		}
		i := sort.Search(n, func(i int) bool { return binary.LittleEndian.Uint64(buf[i*8:]) >= fp })
		if i < n && binary.LittleEndian.Uint64(buf[i*8:]) == fp {
			return true
		}
	}
	return false
}

// mix64 is SplitMix64's finalizer: the Bloom filter's bits come from it, its
// block from the fingerprint itself.
func mix64(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

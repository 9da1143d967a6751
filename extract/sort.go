package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
)

// This file holds the external merge sort that puts unsorted CSV members and messages
// into stream order with bounded memory. Each record is encoded as an order key —
// bytes that compare like the records, source line included as the tie-breaker, so
// the order is total whatever the chunk size — and a payload. Encoded records fill
// pointer-free slabs of at most SortMemoryBytes; runs of them are sorted by key, and
// when the slabs are full they are merged into a temporary file. The files and the
// last slabs are then merged with a heap, comparing keys only: a record is decoded
// once, when it is handed to the caller. The spill files and the merge are in
// sort_merge.go, the order keys and the record encoding in sort_codec.go.

// sortCodec describes how to order and serialize one record type.
type sortCodec[T any] struct {
	compare func(a, b *T) int // the stream order, for checking declared-sorted files
	line    func(*T) int64
	// key appends the order key: it compares bytewise as compare does, then by line.
	key    func(dst []byte, r *T) []byte
	encode func(dst []byte, r *T) []byte
	decode func(d *spillDecoder, r *T)
}

// defaultMergeFanIn bounds the files merged at once, and so the read buffers held
// during a merge; more spill files are first merged into larger ones.
const defaultMergeFanIn = 128

const spillBufferSize = 64 << 10

// sortRun is the number of records sorted together. Runs that fit in the CPU cache
// sort much faster than one large chunk; they are then merged like spill files.
const sortRun = 1 << 13

// sortEntry locates one encoded record, key then payload, in the sorter's slabs.
type sortEntry struct {
	slab, off, klen, n uint32
}

// entrySize is what one record costs beyond its encoding.
const entrySize = 16

// extSorter sorts records of type T. add every record, then emit once, then cleanup.
type extSorter[T any] struct {
	codec    *sortCodec[T]
	limit    int
	slabSize int
	newDir   func() (string, error) // creates the spill directory on first spill
	fanIn    int
	dir      string
	slabs    [][]byte
	cur      int // the slab being filled
	entries  []sortEntry
	used     int
	files    []string
	scratch  []byte
	seq      int
}

func newExtSorter[T any](codec *sortCodec[T], limit, fanIn int, newDir func() (string, error)) *extSorter[T] {
	if fanIn < 2 {
		fanIn = defaultMergeFanIn
	}
	return &extSorter[T]{codec: codec, limit: limit, fanIn: fanIn, newDir: newDir,
		slabSize: min(max(limit/16, 64<<10), 4<<20)}
}

// add encodes r into the chunk, spilling the chunk when it reaches the limit.
func (s *extSorter[T]) add(r *T) error {
	s.scratch = s.codec.key(s.scratch[:0], r)
	klen := len(s.scratch)
	s.scratch = s.codec.encode(s.scratch, r)
	rec := s.scratch
	if len(rec) > math.MaxUint32/2 {
		return errors.New("sort: record too large")
	}
	if len(s.slabs) == 0 || cap(s.slabs[s.cur])-len(s.slabs[s.cur]) < len(rec) {
		if len(s.slabs) > 0 {
			s.cur++
		}
		switch {
		case s.cur == len(s.slabs):
			slab, err := allocSlab(max(s.slabSize, len(rec)))
			if err != nil {
				return err
			}
			s.slabs = append(s.slabs, slab)
		case cap(s.slabs[s.cur]) < len(rec):
			slab, err := allocSlab(len(rec))
			if err != nil {
				return err
			}
			freeSlab(s.slabs[s.cur])
			s.slabs[s.cur] = slab
		}
	}
	slab := s.slabs[s.cur]
	s.entries = append(s.entries, sortEntry{slab: uint32(s.cur), off: uint32(len(slab)), klen: uint32(klen), n: uint32(len(rec))})
	s.slabs[s.cur] = append(slab, rec...)
	s.used += len(rec) + entrySize
	if len(s.entries)%sortRun == 0 {
		// Sort each run as soon as it is full, while its records are in the cache.
		s.sortRun(s.entries[len(s.entries)-sortRun:])
	}
	if s.used >= s.limit || len(s.entries) == math.MaxInt32 {
		return s.spill()
	}
	return nil
}

func (s *extSorter[T]) sortRun(run []sortEntry) {
	slices.SortFunc(run, func(a, b sortEntry) int { return bytes.Compare(s.key(a), s.key(b)) })
}

func (s *extSorter[T]) key(e sortEntry) []byte {
	return s.slabs[e.slab][e.off : e.off+e.klen]
}

// sortChunk sorts the last, partial run of the chunk (add sorted the full ones) and
// returns one merge source per run.
func (s *extSorter[T]) sortChunk() []*mergeSource {
	if n := len(s.entries) % sortRun; n > 0 {
		s.sortRun(s.entries[len(s.entries)-n:])
	}
	var runs []*mergeSource
	for lo := 0; lo < len(s.entries); lo += sortRun {
		runs = append(runs, &mergeSource{slabs: s.slabs, run: s.entries[lo:min(lo+sortRun, len(s.entries))]})
	}
	return runs
}

func (s *extSorter[T]) spill() error {
	if len(s.entries) == 0 {
		return nil
	}
	if err := s.mergeInto(nil, s.sortChunk()); err != nil {
		return err
	}
	// Keep the slabs for the next chunk.
	for i := range s.slabs {
		s.slabs[i] = s.slabs[i][:0]
	}
	s.cur, s.entries, s.used = 0, s.entries[:0], 0
	return nil
}

// mergeInto merges the files at paths and the runs into a new spill file, which
// replaces the files.
func (s *extSorter[T]) mergeInto(paths []string, runs []*mergeSource) error {
	m, err := openMerge(paths, runs)
	if err != nil {
		return err
	}
	defer m.close()
	w, err := s.createSpill()
	if err != nil {
		return err
	}
	for m.Len() > 0 {
		if err := w.write(m.srcs[0]); err != nil {
			w.abort()
			return err
		}
		if err := m.advance(); err != nil {
			w.abort()
			return err
		}
	}
	if err := w.close(); err != nil {
		return err
	}
	for _, p := range paths {
		_ = os.Remove(p)
	}
	s.files = append(s.files[len(paths):], w.path)
	return nil
}

// emit calls fn with every record in order. Records handed to fn share no memory
// with later ones.
func (s *extSorter[T]) emit(ctx context.Context, fn func(*T) error) error {
	// Reduce the spill files until one merge can read them all; the runs still in
	// memory need no read buffer.
	for len(s.files) > s.fanIn {
		if err := stopped(ctx); err != nil {
			return err
		}
		// Merging k files removes k-1; take no more than needed.
		k := min(s.fanIn, len(s.files)-s.fanIn+1)
		if err := s.mergeInto(s.files[:k], nil); err != nil {
			return err
		}
	}
	m, err := openMerge(s.files, s.sortChunk())
	if err != nil {
		return err
	}
	defer m.close()
	// Declared once: fn is a function value, so a record declared in the loop
	// would move to the heap every time.
	var (
		rec T
		dec spillDecoder
	)
	for m.Len() > 0 {
		if err := stopped(ctx); err != nil {
			return err
		}
		// One allocation per record: every string field is a slice of this string.
		dec = spillDecoder{s: string(m.srcs[0].payload)}
		s.codec.decode(&dec, &rec)
		if dec.bad || dec.i != len(dec.s) {
			return errors.New("sort: corrupt spill record")
		}
		if err := fn(&rec); err != nil {
			return err
		}
		if err := m.advance(); err != nil {
			return err
		}
	}
	return nil
}

// cleanup removes the spill files; the sorter must not be used afterwards.
func (s *extSorter[T]) cleanup() error {
	for _, slab := range s.slabs {
		freeSlab(slab)
	}
	s.slabs, s.entries, s.files = nil, nil, nil
	if s.dir == "" {
		return nil
	}
	err := os.RemoveAll(s.dir)
	s.dir = ""
	if err != nil {
		return fmt.Errorf("sort: remove spill files: %w", err)
	}
	return nil
}

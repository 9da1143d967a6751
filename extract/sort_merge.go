package extract

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// The sort's spill files and its k-way merge. A spill file is a sequence of
// records, each its key length and payload length as uvarints, then the key, then
// the payload.

type spillWriter struct {
	path string
	f    *os.File
	w    *bufio.Writer
	hdr  [2 * binary.MaxVarintLen64]byte // in the heap-allocated writer, so slicing it is free
}

func (s *extSorter[T]) createSpill() (*spillWriter, error) {
	if s.dir == "" {
		dir, err := s.newDir()
		if err != nil {
			return nil, err
		}
		s.dir = dir
	}
	s.seq++
	path := filepath.Join(s.dir, fmt.Sprintf("chunk-%06d", s.seq))
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("sort: %w", err)
	}
	return &spillWriter{path: path, f: f, w: bufio.NewWriterSize(f, spillBufferSize)}, nil
}

// write appends the current record of src: key length, payload length, key, payload.
func (w *spillWriter) write(src *mergeSource) error {
	n := binary.PutUvarint(w.hdr[:], uint64(len(src.key)))
	n += binary.PutUvarint(w.hdr[n:], uint64(len(src.payload)))
	if _, err := w.w.Write(w.hdr[:n]); err != nil {
		return fmt.Errorf("sort: write spill file: %w", err)
	}
	if _, err := w.w.Write(src.key); err != nil {
		return fmt.Errorf("sort: write spill file: %w", err)
	}
	if _, err := w.w.Write(src.payload); err != nil {
		return fmt.Errorf("sort: write spill file: %w", err)
	}
	return nil
}

func (w *spillWriter) abort() {
	_ = w.f.Close()
	_ = os.Remove(w.path)
}

func (w *spillWriter) close() error {
	if err := w.w.Flush(); err != nil {
		w.abort()
		return fmt.Errorf("sort: write spill file: %w", err)
	}
	if err := w.f.Close(); err != nil {
		_ = os.Remove(w.path)
		return fmt.Errorf("sort: write spill file: %w", err)
	}
	return nil
}

// mergeSource is one sorted input of a merge: a spill file or a run of the chunk.
// key and payload hold its current record until the next call to next.
type mergeSource struct {
	key, payload []byte
	// file input
	f   *os.File
	r   *bufio.Reader
	buf []byte
	// memory input
	slabs [][]byte
	run   []sortEntry
	pos   int
}

func (src *mergeSource) next() (bool, error) {
	if src.f == nil {
		if src.pos == len(src.run) {
			return false, nil
		}
		e := src.run[src.pos]
		src.pos++
		rec := src.slabs[e.slab][e.off : e.off+e.n]
		src.key, src.payload = rec[:e.klen], rec[e.klen:]
		return true, nil
	}
	klen, err := binary.ReadUvarint(src.r)
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sort: read spill file: %w", err)
	}
	plen, err := binary.ReadUvarint(src.r)
	if err != nil || klen > math.MaxUint32 || plen > math.MaxUint32 {
		return false, errors.New("sort: corrupt spill file")
	}
	n := int(klen + plen)
	if cap(src.buf) < n {
		src.buf = make([]byte, n)
	}
	src.buf = src.buf[:n]
	if _, err := io.ReadFull(src.r, src.buf); err != nil {
		return false, fmt.Errorf("sort: read spill file: %w", err)
	}
	src.key, src.payload = src.buf[:klen], src.buf[klen:]
	return true, nil
}

// merger is a heap of sources ordered by the key of their current record.
type merger struct {
	srcs  []*mergeSource
	files []*os.File
}

func (m *merger) Len() int           { return len(m.srcs) }
func (m *merger) Less(i, j int) bool { return bytes.Compare(m.srcs[i].key, m.srcs[j].key) < 0 }
func (m *merger) Swap(i, j int)      { m.srcs[i], m.srcs[j] = m.srcs[j], m.srcs[i] }
func (m *merger) Push(x any)         { m.srcs = append(m.srcs, x.(*mergeSource)) }
func (m *merger) Pop() any {
	x := m.srcs[len(m.srcs)-1]
	m.srcs = m.srcs[:len(m.srcs)-1]
	return x
}

// openMerge merges the files at paths and the given in-memory runs.
func openMerge(paths []string, runs []*mergeSource) (*merger, error) {
	m := &merger{}
	add := func(src *mergeSource) error {
		ok, err := src.next()
		if err != nil || !ok {
			return err
		}
		m.srcs = append(m.srcs, src)
		return nil
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			m.close()
			return nil, fmt.Errorf("sort: %w", err)
		}
		m.files = append(m.files, f)
		if err := add(&mergeSource{f: f, r: bufio.NewReaderSize(f, spillBufferSize)}); err != nil {
			m.close()
			return nil, err
		}
	}
	for _, run := range runs {
		if err := add(run); err != nil {
			m.close()
			return nil, err
		}
	}
	heap.Init(m)
	return m, nil
}

// advance moves the smallest source to its next record.
func (m *merger) advance() error {
	ok, err := m.srcs[0].next()
	if err != nil {
		return err
	}
	if ok {
		heap.Fix(m, 0)
	} else {
		heap.Pop(m)
	}
	return nil
}

func (m *merger) close() {
	for _, f := range m.files {
		_ = f.Close()
	}
	m.files = nil
}

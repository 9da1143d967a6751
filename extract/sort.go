package extract

import (
	"bufio"
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"
	"unsafe"
)

// This file holds the external merge sort that puts unsorted CSV members and messages
// into stream order with bounded memory: records are gathered into chunks of at most
// SortMemoryBytes, each chunk is sorted and spilled to a temporary file as
// length-prefixed binary records, and the files are merged with a heap. Ties on the
// stream order are broken by the source line, so the output is one total order
// whatever the chunk size.

// sortCodec describes how to order, size and serialize one record type.
type sortCodec[T any] struct {
	compare func(a, b *T) int // the stream order
	line    func(*T) int64    // the unique tie-breaker
	encode  func(buf []byte, r *T) []byte
	decode  func(d *spillDecoder, r *T)
}

func (c *sortCodec[T]) less(a, b *T) int {
	if x := c.compare(a, b); x != 0 {
		return x
	}
	l1, l2 := c.line(a), c.line(b)
	switch {
	case l1 < l2:
		return -1
	case l1 > l2:
		return 1
	}
	return 0
}

// blocks holds a chunk's records in fixed-size blocks: growing it never copies
// records, and its blocks are reused from one chunk to the next.
type blocks[T any] struct {
	b [][]T
	n int
}

const blockShift = 12

func (s *blocks[T]) add(r T) int32 {
	if s.n>>blockShift == len(s.b) {
		s.b = append(s.b, make([]T, 1<<blockShift))
	}
	s.b[s.n>>blockShift][s.n&(1<<blockShift-1)] = r
	s.n++
	return int32(s.n - 1)
}

func (s *blocks[T]) at(i int32) *T { return &s.b[i>>blockShift][i&(1<<blockShift-1)] }

// reset empties the chunk, dropping its references so the records' strings can be
// collected, and keeps the blocks.
func (s *blocks[T]) reset() {
	for i := 0; i<<blockShift < s.n; i++ {
		clear(s.b[i])
	}
	s.n = 0
}

// defaultMergeFanIn bounds the files merged at once, and so the read buffers held
// during a merge; more spill files are first merged into larger ones.
const defaultMergeFanIn = 128

const spillBufferSize = 64 << 10

// extSorter sorts records of type T. add every record, then emit once, then cleanup.
type extSorter[T any] struct {
	codec   *sortCodec[T]
	limit   int
	newDir  func() (string, error) // creates the spill directory on first spill
	fanIn   int
	dir     string
	chunk   blocks[T]
	order   []int32
	used    int
	files   []string
	scratch []byte
	seq     int
}

func newExtSorter[T any](codec *sortCodec[T], limit, fanIn int, newDir func() (string, error)) *extSorter[T] {
	if fanIn < 2 {
		fanIn = defaultMergeFanIn
	}
	return &extSorter[T]{codec: codec, limit: limit, fanIn: fanIn, newDir: newDir}
}

// add takes r, whose strings occupy extra bytes of memory, spilling the chunk when
// it outgrows the limit.
func (s *extSorter[T]) add(r T, extra int) error {
	s.order = append(s.order, s.chunk.add(r))
	s.used += int(unsafe.Sizeof(r)) + 4 + extra
	if s.used >= s.limit || s.chunk.n == math.MaxInt32 {
		return s.spill()
	}
	return nil
}

// sortRun is the number of records sorted together. Runs that fit in the CPU cache
// sort much faster than one large chunk; they are then merged like spill files.
const sortRun = 1 << 13

// sortChunk sorts each run of the chunk and returns one merge source per run.
func (s *extSorter[T]) sortChunk() []*mergeSource[T] {
	var runs []*mergeSource[T]
	for lo := 0; lo < len(s.order); lo += sortRun {
		run := s.order[lo:min(lo+sortRun, len(s.order))]
		slices.SortFunc(run, func(a, b int32) int { return s.codec.less(s.chunk.at(a), s.chunk.at(b)) })
		runs = append(runs, &mergeSource[T]{chunk: &s.chunk, order: run})
	}
	return runs
}

func (s *extSorter[T]) spill() error {
	if s.chunk.n == 0 {
		return nil
	}
	m, err := s.openMerge(nil, s.sortChunk())
	if err != nil {
		return err
	}
	defer m.close()
	w, err := s.createSpill()
	if err != nil {
		return err
	}
	for m.Len() > 0 {
		if err := writeSpillRecord(w, s.codec, m.srcs[0].cur, &s.scratch); err != nil {
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
	s.files = append(s.files, w.path)
	s.chunk.reset()
	s.order, s.used = s.order[:0], 0
	return nil
}

type spillWriter struct {
	path string
	f    *os.File
	w    *bufio.Writer
	hdr  [binary.MaxVarintLen64]byte // in the heap-allocated writer, so slicing it is free
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
		if err := s.mergeFiles(s.files[:k]); err != nil {
			return err
		}
	}
	m, err := s.openMerge(s.files, s.sortChunk())
	if err != nil {
		return err
	}
	defer m.close()
	for m.Len() > 0 {
		if err := stopped(ctx); err != nil {
			return err
		}
		if err := fn(m.srcs[0].cur); err != nil {
			return err
		}
		if err := m.advance(); err != nil {
			return err
		}
	}
	return nil
}

// mergeFiles merges group into one new spill file that replaces them.
func (s *extSorter[T]) mergeFiles(group []string) error {
	m, err := s.openMerge(group, nil)
	if err != nil {
		return err
	}
	defer m.close()
	w, err := s.createSpill()
	if err != nil {
		return err
	}
	for m.Len() > 0 {
		if err := writeSpillRecord(w, s.codec, m.srcs[0].cur, &s.scratch); err != nil {
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
	for _, p := range group {
		_ = os.Remove(p)
	}
	s.files = append(s.files[len(group):], w.path)
	return nil
}

// cleanup removes the spill files; the sorter must not be used afterwards.
func (s *extSorter[T]) cleanup() error {
	s.chunk = blocks[T]{}
	s.order, s.files = nil, nil
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

func writeSpillRecord[T any](w *spillWriter, codec *sortCodec[T], r *T, scratch *[]byte) error {
	buf := codec.encode((*scratch)[:0], r)
	*scratch = buf
	n := binary.PutUvarint(w.hdr[:], uint64(len(buf)))
	if _, err := w.w.Write(w.hdr[:n]); err != nil {
		return fmt.Errorf("sort: write spill file: %w", err)
	}
	if _, err := w.w.Write(buf); err != nil {
		return fmt.Errorf("sort: write spill file: %w", err)
	}
	return nil
}

// mergeSource is one sorted input of a merge: a spill file or a run of the chunk.
type mergeSource[T any] struct {
	cur *T // the current record: in the chunk, or own for a file
	own T
	// file input
	f   *os.File
	r   *bufio.Reader
	buf []byte
	dec spillDecoder // reused: a fresh one per record would escape to the heap
	// memory input
	chunk *blocks[T]
	order []int32
	pos   int
}

func (src *mergeSource[T]) next(codec *sortCodec[T]) (bool, error) {
	if src.f == nil {
		if src.pos == len(src.order) {
			return false, nil
		}
		src.cur = src.chunk.at(src.order[src.pos])
		src.pos++
		return true, nil
	}
	n, err := binary.ReadUvarint(src.r)
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sort: read spill file: %w", err)
	}
	if uint64(cap(src.buf)) < n {
		src.buf = make([]byte, n)
	}
	src.buf = src.buf[:n]
	if _, err := io.ReadFull(src.r, src.buf); err != nil {
		return false, fmt.Errorf("sort: read spill file: %w", err)
	}
	// One allocation per record: every string field is a slice of this string.
	src.dec = spillDecoder{s: string(src.buf)}
	codec.decode(&src.dec, &src.own)
	src.cur = &src.own
	if src.dec.bad {
		return false, errors.New("sort: corrupt spill file")
	}
	return true, nil
}

// merger is a heap of sources ordered by their current record.
type merger[T any] struct {
	codec *sortCodec[T]
	srcs  []*mergeSource[T]
	files []*os.File
}

func (m *merger[T]) Len() int           { return len(m.srcs) }
func (m *merger[T]) Less(i, j int) bool { return m.codec.less(m.srcs[i].cur, m.srcs[j].cur) < 0 }
func (m *merger[T]) Swap(i, j int)      { m.srcs[i], m.srcs[j] = m.srcs[j], m.srcs[i] }
func (m *merger[T]) Push(x any)         { m.srcs = append(m.srcs, x.(*mergeSource[T])) }
func (m *merger[T]) Pop() any {
	x := m.srcs[len(m.srcs)-1]
	m.srcs = m.srcs[:len(m.srcs)-1]
	return x
}

// openMerge merges the files at paths and the given in-memory runs.
func (s *extSorter[T]) openMerge(paths []string, runs []*mergeSource[T]) (*merger[T], error) {
	m := &merger[T]{codec: s.codec}
	add := func(src *mergeSource[T]) error {
		ok, err := src.next(s.codec)
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
		if err := add(&mergeSource[T]{f: f, r: bufio.NewReaderSize(f, spillBufferSize)}); err != nil {
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
func (m *merger[T]) advance() error {
	ok, err := m.srcs[0].next(m.codec)
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

func (m *merger[T]) close() {
	for _, f := range m.files {
		_ = f.Close()
	}
	m.files = nil
}

// spillDecoder reads the compact record encoding from one string; strings it returns
// are slices of it. A malformed record sets bad.
type spillDecoder struct {
	s   string
	i   int
	bad bool
}

func (d *spillDecoder) uvarint() uint64 {
	var x uint64
	var shift uint
	for d.i < len(d.s) {
		b := d.s[d.i]
		d.i++
		if b < 0x80 {
			if shift >= 64 || (shift == 63 && b > 1) {
				d.bad = true
				return 0
			}
			return x | uint64(b)<<shift
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	d.bad = true
	return 0
}

func (d *spillDecoder) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (d *spillDecoder) str() string {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.s)-d.i) {
		d.bad = true
		return ""
	}
	s := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return s
}

func (d *spillDecoder) time() time.Time {
	sec := d.varint()
	nsec := d.varint()
	return time.Unix(sec, nsec).UTC()
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendTime stores t as seconds and nanoseconds since the epoch, which round-trips
// every time including the zero Time.
func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendVarint(b, int64(t.Nanosecond()))
}

func encodeMessage(b []byte, m *Message) []byte {
	b = appendStr(b, m.ID)
	b = appendStr(b, m.GroupID)
	b = appendStr(b, m.SenderID)
	b = appendStr(b, m.RecipientID)
	b = appendTime(b, m.SentAt)
	b = appendStr(b, m.Kind)
	b = appendStr(b, m.Text)
	b = appendStr(b, m.Payload)
	b = appendStr(b, m.URL)
	b = appendStr(b, m.FileName)
	b = binary.AppendVarint(b, m.Size)
	b = binary.AppendVarint(b, int64(m.Width))
	b = binary.AppendVarint(b, int64(m.Height))
	b = binary.AppendVarint(b, int64(m.Duration))
	b = appendStr(b, m.Origin.Source)
	return binary.AppendVarint(b, m.Origin.Line)
}

func decodeMessage(d *spillDecoder, m *Message) {
	*m = Message{
		ID: d.str(), GroupID: d.str(), SenderID: d.str(), RecipientID: d.str(), SentAt: d.time(),
		Kind: d.str(), Text: d.str(), Payload: d.str(), URL: d.str(), FileName: d.str(),
		Size: d.varint(), Width: int(d.varint()), Height: int(d.varint()), Duration: int(d.varint()),
	}
	m.Origin.Source = d.str()
	m.Origin.Line = d.varint()
}

func encodeMember(b []byte, m *Member) []byte {
	b = appendStr(b, m.GroupID)
	b = appendStr(b, m.UserID)
	b = appendStr(b, m.Role)
	b = appendTime(b, m.JoinedAt)
	b = binary.AppendVarint(b, int64(m.Unread))
	if m.HasUnread {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendStr(b, m.Origin.Source)
	return binary.AppendVarint(b, m.Origin.Line)
}

func decodeMember(d *spillDecoder, m *Member) {
	*m = Member{GroupID: d.str(), UserID: d.str(), Role: d.str(), JoinedAt: d.time(), Unread: int(d.varint())}
	m.HasUnread = d.uvarint() == 1
	m.Origin.Source = d.str()
	m.Origin.Line = d.varint()
}

var (
	groupMessageCodec = &sortCodec[Message]{
		compare: compareGroupMessages, line: messageLine, encode: encodeMessage, decode: decodeMessage,
	}
	directMessageCodec = &sortCodec[Message]{
		compare: compareDirectMessages, line: messageLine, encode: encodeMessage, decode: decodeMessage,
	}
	memberCodec = &sortCodec[Member]{
		compare: compareMembers, line: func(m *Member) int64 { return m.Origin.Line },
		encode: encodeMember, decode: decodeMember,
	}
)

func messageLine(m *Message) int64 { return m.Origin.Line }

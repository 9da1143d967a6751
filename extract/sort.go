package extract

import (
	"bufio"
	"bytes"
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
)

// This file holds the external merge sort that puts unsorted CSV members and messages
// into stream order with bounded memory. Each record is encoded as an order key —
// bytes that compare like the records, source line included as the tie-breaker, so
// the order is total whatever the chunk size — and a payload. Encoded records fill
// pointer-free slabs of at most SortMemoryBytes; runs of them are sorted by key, and
// when the slabs are full they are merged into a temporary file. The files and the
// last slabs are then merged with a heap, comparing keys only: a record is decoded
// once, when it is handed to the caller.

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

// Order keys. Each component compares bytewise as its value does:
//   - a string is escaped (0x00 becomes 0x00 0xFF) and ends with 0x00 0x01, so a
//     prefix sorts first and later components are never compared against its bytes;
//   - a time is its seconds with the sign bit flipped, then its nanoseconds, big-endian;
//   - a legacy id is its length then its bytes (shortlex);
//   - the source line is big-endian.

func appendKeyString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			b = append(b, 0, 0xFF)
		} else {
			b = append(b, s[i])
		}
	}
	return append(b, 0, 1)
}

func appendKeyTime(b []byte, t time.Time) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Unix())^1<<63)
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

func appendKeyID(b []byte, id string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(id)))
	return append(b, id...)
}

func appendKeyLine(b []byte, line int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(line)^1<<63)
}

func groupMessageKey(b []byte, m *Message) []byte {
	b = appendKeyString(b, m.GroupID)
	b = appendKeyTime(b, m.SentAt)
	b = appendKeyID(b, m.ID)
	return appendKeyLine(b, m.Origin.Line)
}

func directMessageKey(b []byte, m *Message) []byte {
	lo, hi := ConversationKey(m.SenderID, m.RecipientID)
	b = appendKeyString(b, lo)
	b = appendKeyString(b, hi)
	b = appendKeyTime(b, m.SentAt)
	b = appendKeyID(b, m.ID)
	return appendKeyLine(b, m.Origin.Line)
}

func memberKey(b []byte, m *Member) []byte {
	b = appendKeyString(b, m.GroupID)
	b = appendKeyTime(b, m.JoinedAt)
	b = appendKeyString(b, m.UserID)
	return appendKeyLine(b, m.Origin.Line)
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
		compare: compareGroupMessages, line: messageLine, key: groupMessageKey,
		encode: encodeMessage, decode: decodeMessage,
	}
	directMessageCodec = &sortCodec[Message]{
		compare: compareDirectMessages, line: messageLine, key: directMessageKey,
		encode: encodeMessage, decode: decodeMessage,
	}
	memberCodec = &sortCodec[Member]{
		compare: compareMembers, line: func(m *Member) int64 { return m.Origin.Line }, key: memberKey,
		encode: encodeMember, decode: decodeMember,
	}
)

func messageLine(m *Message) int64 { return m.Origin.Line }

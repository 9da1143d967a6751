package spool

import (
	"bufio"
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Layout of a spool directory:
//
//	<dir>/<phase>.rec   one file per phase: its records, in the order appended
//	<dir>/manifest.json the seal: per-phase counts, sizes and checksums, and the
//	                    caller's metadata; written last
//
// A spool is built in <dir>.tmp and renamed to <dir> by Seal, so a directory named
// <dir> is always a whole spool: a crash while writing leaves only the .tmp
// directory, which the next Create removes.
//
// Each record is a uvarint length followed by that many bytes: four fields, each a
// uvarint length and its bytes (stream, origin, legacy id, payload). The stream is
// written as length 0 with a flag byte when it equals the previous record's, since
// the records of a stream are consecutive: the flag byte is 0 for "same stream", 1
// for "this stream" (followed by its length and bytes).
//
// The seal also lists each phase's largest streams (at most LargestStreams of
// them, by records), each with its byte range and checksum, so that a reader can
// read them on their own: the engine starts them first, each read as it is sent,
// and reads the rest of the phase in order around them (design §3).

// ManifestFile is the name of a spool's seal.
const ManifestFile = "manifest.json"

const (
	recExt    = ".rec"
	tmpSuffix = ".tmp"
	format    = "immigrate-spool"
	version   = 1
	// maxRecord bounds one record, so that a corrupted length cannot make the
	// reader allocate without limit. A TIM payload is at most a few tens of KB.
	maxRecord = 16 << 20
)

// LargestStreams is how many of a phase's streams the seal indexes. The engine
// keeps a few hundred streams in flight, so the streams past the first thousand
// are shorter than the ones started before them and end inside the rate-bound
// part of the run; the index stays a few hundred KB whatever the dataset.
const LargestStreams = 1024

// ErrNotFound means that the directory holds no sealed spool.
var ErrNotFound = errors.New("no sealed spool")

// ErrCorrupt means that a spool's files do not match its seal.
var ErrCorrupt = errors.New("spool is corrupt")

// Record is one planned item of a phase.
type Record struct {
	// Stream is the record's stream (a group, a conversation) or "" in a phase
	// without streams. A stream's records must be appended consecutively.
	Stream   string
	Origin   string // where the record came from, for rejects
	LegacyID string
	Payload  []byte // opaque to the spool
}

// PhaseInfo is what the seal records of one phase.
type PhaseInfo struct {
	Records int64  `json:"records"`
	Bytes   int64  `json:"bytes"`
	CRC32   uint32 `json:"crc32"`
	// Largest are the phase's largest streams (named, non-empty), by records
	// then position: at most LargestStreams of them.
	Largest []StreamInfo `json:"largest,omitempty"`
}

// StreamInfo locates one run of a stream's consecutive records in its phase.
type StreamInfo struct {
	Stream  string `json:"stream"`
	Offset  int64  `json:"offset"` // of its first record, in bytes
	Bytes   int64  `json:"bytes"`
	Records int64  `json:"records"`
	CRC32   uint32 `json:"crc32"`
}

// streamHeap is a min-heap of streams by size: the smallest of the largest is
// the one to drop.
type streamHeap []StreamInfo

func (h streamHeap) Len() int { return len(h) }
func (h streamHeap) Less(i, j int) bool {
	if h[i].Records != h[j].Records {
		return h[i].Records < h[j].Records
	}
	return h[i].Offset > h[j].Offset // of equal sizes, keep the earlier
}
func (h streamHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *streamHeap) Push(x any)   { *h = append(*h, x.(StreamInfo)) }
func (h *streamHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type manifest struct {
	Format  string               `json:"format"`
	Version int                  `json:"version"`
	Phases  map[string]PhaseInfo `json:"phases"`
	Meta    json.RawMessage      `json:"meta"`
}

// Writer builds a spool. It is not safe for concurrent use.
type Writer struct {
	dir, tmp string
	phases   map[string]*phaseWriter
	scratch  []byte
	err      error
}

type phaseWriter struct {
	f      *os.File
	w      *bufio.Writer
	crc    hash.Hash32
	info   PhaseInfo
	stream string
	// cur is the stream being written and curCRC its checksum; largest the
	// biggest streams closed so far.
	cur     StreamInfo
	curCRC  hash.Hash32
	largest streamHeap
}

// closeStream enters the stream just written in the index of the largest.
func (p *phaseWriter) closeStream() {
	if p.cur.Records == 0 || p.cur.Stream == "" {
		return
	}
	p.cur.CRC32 = p.curCRC.Sum32()
	switch {
	case len(p.largest) < LargestStreams:
		heap.Push(&p.largest, p.cur)
	case p.cur.Records > p.largest[0].Records:
		p.largest[0] = p.cur
		heap.Fix(&p.largest, 0)
	}
}

// index returns the largest streams, largest first.
func (p *phaseWriter) index() []StreamInfo {
	p.closeStream()
	out := slices.Clone([]StreamInfo(p.largest))
	slices.SortFunc(out, func(a, b StreamInfo) int {
		if a.Records != b.Records {
			return cmp.Compare(b.Records, a.Records)
		}
		return cmp.Compare(a.Offset, b.Offset)
	})
	return out
}

// Create starts a new spool that Seal will place at dir, replacing the spool
// there. Until Seal, the spool at dir (if any) stays as it was.
func Create(dir string) (*Writer, error) {
	tmp := strings.TrimRight(dir, string(filepath.Separator)) + tmpSuffix
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &Writer{dir: dir, tmp: tmp, phases: map[string]*phaseWriter{}}, nil
}

func validPhase(phase string) bool {
	return phase != "" && !strings.ContainsAny(phase, `/\.`)
}

// Append adds r at the end of phase's records.
func (w *Writer) Append(phase string, r Record) error {
	if w.err != nil {
		return w.err
	}
	p, err := w.phase(phase)
	if err != nil {
		w.err = err
		return err
	}
	b := w.scratch[:0]
	if r.Stream == p.stream && p.info.Records > 0 {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = appendBytes(b, r.Stream)
		p.stream = r.Stream
		p.closeStream()
		p.cur = StreamInfo{Stream: r.Stream, Offset: p.info.Bytes}
		p.curCRC.Reset()
	}
	b = appendBytes(b, r.Origin)
	b = appendBytes(b, r.LegacyID)
	b = binary.AppendUvarint(b, uint64(len(r.Payload)))
	b = append(b, r.Payload...)
	var head [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(head[:], uint64(len(b)))
	w.scratch = b
	if len(b) > maxRecord {
		w.err = fmt.Errorf("spool: record %q of %s is %d bytes, over the %d-byte limit", r.LegacyID, phase, len(b), maxRecord)
		return w.err
	}
	for _, chunk := range [][]byte{head[:n], b} {
		if _, err := p.w.Write(chunk); err != nil {
			w.err = fmt.Errorf("spool: write %s: %w", phase, err)
			return w.err
		}
		p.crc.Write(chunk)
		p.curCRC.Write(chunk)
	}
	p.info.Records++
	p.info.Bytes += int64(n + len(b))
	p.cur.Records++
	p.cur.Bytes += int64(n + len(b))
	return nil
}

func appendBytes[S string | []byte](b []byte, s S) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (w *Writer) phase(name string) (*phaseWriter, error) {
	if p := w.phases[name]; p != nil {
		return p, nil
	}
	if !validPhase(name) {
		return nil, fmt.Errorf("spool: invalid phase name %q", name)
	}
	f, err := os.Create(filepath.Join(w.tmp, name+recExt))
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	p := &phaseWriter{f: f, w: bufio.NewWriterSize(f, 256<<10), crc: crc32.NewIEEE(), curCRC: crc32.NewIEEE()}
	w.phases[name] = p
	return p, nil
}

// Count is the number of records appended to phase so far.
func (w *Writer) Count(phase string) int64 {
	if p := w.phases[phase]; p != nil {
		return p.info.Records
	}
	return 0
}

// Seal makes the spool durable and puts it in place with meta, the caller's
// description of it (any JSON value), which Reader.Meta returns. After Seal, or
// after any error, the Writer is done.
func (w *Writer) Seal(meta any) error {
	if w.err != nil {
		w.Abort()
		return w.err
	}
	raw, err := json.Marshal(meta)
	if err != nil {
		w.Abort()
		return fmt.Errorf("spool: encode manifest: %w", err)
	}
	m := manifest{Format: format, Version: version, Phases: map[string]PhaseInfo{}, Meta: raw}
	for name, p := range w.phases {
		err := p.w.Flush()
		if err == nil {
			err = p.f.Sync()
		}
		if cerr := p.f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			w.Abort()
			return fmt.Errorf("spool: write %s: %w", name, err)
		}
		p.info.CRC32 = p.crc.Sum32()
		largest, err := onlyRuns(filepath.Join(w.tmp, name+recExt), name, p.info.Records, p.index())
		if err != nil {
			w.Abort()
			return fmt.Errorf("spool: index %s: %w", name, err)
		}
		p.info.Largest = largest
		m.Phases[name] = p.info
	}
	w.phases = nil
	body, err := json.MarshalIndent(m, "", "  ")
	if err == nil {
		err = writeSynced(filepath.Join(w.tmp, ManifestFile), body)
	}
	if err == nil {
		err = syncDir(w.tmp)
	}
	if err == nil {
		err = replaceDir(w.tmp, w.dir)
	}
	if err != nil {
		w.Abort()
		return fmt.Errorf("spool: seal: %w", err)
	}
	w.err = errors.New("spool: writer is sealed")
	return nil
}

// Abort drops the unsealed spool; the spool at dir, if any, is left as it was.
func (w *Writer) Abort() {
	for _, p := range w.phases {
		p.f.Close()
	}
	w.phases = nil
	os.RemoveAll(w.tmp)
	if w.err == nil {
		w.err = errors.New("spool: writer is aborted")
	}
}

func writeSynced(path string, body []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(body); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// replaceDir puts the directory tmp at dir. The old spool is first renamed
// aside, so that dir names either the old or the new spool, never a mixture.
func replaceDir(tmp, dir string) error {
	old := dir + ".old"
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	if err := os.Rename(dir, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// onlyRuns drops from the index every stream that has another run in the file:
// a stream that comes back after another began (the engine's Source contract
// allows it) must be read in file order, not started early. The writer cannot
// tell in bounded memory whether a stream's key was met before, so Seal reads the
// phase's file once more, keeping only the indexed keys.
func onlyRuns(path, phase string, records int64, index []StreamInfo) ([]StreamInfo, error) {
	if len(index) == 0 {
		return nil, nil
	}
	at := make(map[string]int64, len(index))
	for _, s := range index {
		if _, dup := at[s.Stream]; dup {
			at[s.Stream] = -1
			continue
		}
		at[s.Stream] = s.Offset
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := decoder{phase: phase, br: bufio.NewReaderSize(f, 256<<10)}
	var off int64
	for n := range records {
		prev := dec.stream
		rec, err := dec.next(context.Background(), n)
		if err != nil {
			return nil, err
		}
		if n == 0 || rec.Stream != prev {
			if o, ok := at[rec.Stream]; ok && o != off {
				at[rec.Stream] = -1
			}
		}
		off += dec.last
	}
	out := index[:0]
	for _, s := range index {
		if at[s.Stream] == s.Offset {
			out = append(out, s)
		}
	}
	return out, nil
}

// phaseNames lists the phases of a manifest, sorted.
func phaseNames(m map[string]PhaseInfo) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

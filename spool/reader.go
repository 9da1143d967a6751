package spool

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// Reader reads a sealed spool. It holds no open file between calls; it is safe
// for concurrent use, each Records call reading on its own.
type Reader struct {
	dir string
	m   manifest
}

// Open opens the sealed spool at dir: ErrNotFound when there is none (a spool
// whose writing was interrupted is none).
func Open(dir string) (*Reader, error) {
	body, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrCorrupt, err)
	}
	if m.Format != format {
		return nil, fmt.Errorf("%w: %s is not a spool manifest", ErrCorrupt, filepath.Join(dir, ManifestFile))
	}
	if m.Version != version {
		return nil, fmt.Errorf("%w: spool version %d, this tool reads version %d", ErrCorrupt, m.Version, version)
	}
	for _, name := range phaseNames(m.Phases) {
		st, err := os.Stat(filepath.Join(dir, name+recExt))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if st.Size() != m.Phases[name].Bytes {
			return nil, fmt.Errorf("%w: %s%s has %d bytes, the manifest says %d", ErrCorrupt, name, recExt, st.Size(), m.Phases[name].Bytes)
		}
	}
	return &Reader{dir: dir, m: m}, nil
}

// Meta decodes the metadata given to Seal into v.
func (r *Reader) Meta(v any) error {
	if err := json.Unmarshal(r.m.Meta, v); err != nil {
		return fmt.Errorf("%w: manifest metadata: %v", ErrCorrupt, err)
	}
	return nil
}

// Info returns what the seal says of phase (zero for a phase with no record).
func (r *Reader) Info(phase string) PhaseInfo { return r.m.Phases[phase] }

// Bytes is the size of every phase's records.
func (r *Reader) Bytes() int64 {
	var n int64
	for _, p := range r.m.Phases {
		n += p.Bytes
	}
	return n
}

// Records calls fn for each record of phase in the order they were appended. A
// phase without records yields none. fn may keep the Record: its fields share no
// memory with the reader. An error from fn stops the read and is returned as is;
// a cancelled ctx stops it with ctx.Err(). A file that does not match its seal is
// ErrCorrupt — found at the end at the latest, by the checksum.
func (r *Reader) Records(ctx context.Context, phase string, fn func(Record) error) error {
	return r.read(ctx, phase, nil, fn)
}

// Largest returns the phase's largest streams, largest first, as the seal lists
// them (none for a spool sealed before the index existed).
func (r *Reader) Largest(phase string) []StreamInfo { return r.m.Phases[phase].Largest }

// RecordsBesides is Records without the records of the streams Largest lists:
// ReadStream reads those.
func (r *Reader) RecordsBesides(ctx context.Context, phase string, fn func(Record) error) error {
	return r.read(ctx, phase, r.m.Phases[phase].Largest, fn)
}

// ReadStream calls fn for each record of s, one of the streams Largest lists, in
// order. The stream's bytes are checked against its own checksum.
func (r *Reader) ReadStream(ctx context.Context, phase string, s StreamInfo, fn func(Record) error) error {
	if !slices.Contains(r.m.Phases[phase].Largest, s) {
		return fmt.Errorf("spool: %s has no indexed stream %q at %d", phase, s.Stream, s.Offset)
	}
	f, err := os.Open(filepath.Join(r.dir, phase+recExt))
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(s.Offset, io.SeekStart); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	crc := crc32.NewIEEE()
	// Many streams read at once (one per call in flight): a small buffer each.
	br := bufio.NewReaderSize(io.TeeReader(io.LimitReader(f, s.Bytes), crc), int(min(max(s.Bytes, 512), 8<<10)))
	dec := decoder{phase: phase, br: br}
	for n := int64(0); n < s.Records; n++ {
		rec, err := dec.next(ctx, n)
		if err != nil {
			return err
		}
		if rec.Stream != s.Stream {
			return fmt.Errorf("%w: %s stream %q at %d holds a record of %q", ErrCorrupt, phase, s.Stream, s.Offset, rec.Stream)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	if _, err := br.ReadByte(); err != io.EOF || crc.Sum32() != s.CRC32 {
		return fmt.Errorf("%w: %s stream %q at %d: checksum mismatch", ErrCorrupt, phase, s.Stream, s.Offset)
	}
	return nil
}

// read reads phase in order, passing over the streams in skip (their bytes still
// go through the checksum).
func (r *Reader) read(ctx context.Context, phase string, skip []StreamInfo, fn func(Record) error) error {
	info, ok := r.m.Phases[phase]
	if !ok {
		return ctx.Err()
	}
	f, err := os.Open(filepath.Join(r.dir, phase+recExt))
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	skip = slices.Clone(skip)
	slices.SortFunc(skip, func(a, b StreamInfo) int { return cmp.Compare(a.Offset, b.Offset) })
	crc := crc32.NewIEEE()
	br := bufio.NewReaderSize(io.TeeReader(f, crc), 256<<10)
	dec := decoder{phase: phase, br: br}
	var off int64
	for n := int64(0); n < info.Records; {
		if len(skip) > 0 && off == skip[0].Offset {
			s := skip[0]
			skip = skip[1:]
			if _, err := io.CopyN(io.Discard, br, s.Bytes); err != nil {
				return fmt.Errorf("%w: %s stream %q: truncated", ErrCorrupt, phase, s.Stream)
			}
			off += s.Bytes
			n += s.Records
			dec.stream = s.Stream
			continue
		}
		rec, err := dec.next(ctx, n)
		if err != nil {
			return err
		}
		off += dec.last
		n++
		if err := fn(rec); err != nil {
			return err
		}
	}
	if len(skip) > 0 {
		return fmt.Errorf("%w: %s: indexed stream %q at %d is past the records", ErrCorrupt, phase, skip[0].Stream, skip[0].Offset)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return fmt.Errorf("%w: %s has data after its %d records", ErrCorrupt, phase, info.Records)
	}
	if crc.Sum32() != info.CRC32 {
		return fmt.Errorf("%w: %s%s checksum mismatch", ErrCorrupt, phase, recExt)
	}
	return nil
}

// decoder reads one phase's records off br.
type decoder struct {
	phase  string
	br     *bufio.Reader
	stream string // the previous record's
	buf    []byte
	last   int64 // bytes of the record read last, its length included
}

// next reads record number n (from 0, for messages).
func (d *decoder) next(ctx context.Context, n int64) (Record, error) {
	corrupt := func(why string) error {
		return fmt.Errorf("%w: %s record %d: %s", ErrCorrupt, d.phase, n+1, why)
	}
	if n&1023 == 0 {
		if err := ctx.Err(); err != nil {
			return Record{}, err
		}
	}
	size, err := binary.ReadUvarint(d.br)
	if err != nil {
		return Record{}, corrupt("truncated")
	}
	if size > maxRecord {
		return Record{}, corrupt("length out of range")
	}
	if uint64(cap(d.buf)) < size {
		d.buf = make([]byte, size)
	}
	d.buf = d.buf[:size]
	if _, err := io.ReadFull(d.br, d.buf); err != nil {
		return Record{}, corrupt("truncated")
	}
	rec, next, ok := decode(d.buf, d.stream)
	if !ok {
		return Record{}, corrupt("malformed")
	}
	d.stream = next
	d.last = int64(uvarintLen(size)) + int64(size)
	return rec, nil
}

func uvarintLen(v uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], v)
}

// decode parses one record's body; prev is the previous record's stream.
func decode(b []byte, prev string) (Record, string, bool) {
	if len(b) == 0 {
		return Record{}, "", false
	}
	flag, b := b[0], b[1:]
	var rec Record
	field := func() ([]byte, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, false
		}
		v := b[k : k+int(n)]
		b = b[k+int(n):]
		return v, true
	}
	switch flag {
	case 0:
		rec.Stream = prev
	case 1:
		s, ok := field()
		if !ok {
			return Record{}, "", false
		}
		rec.Stream = string(s)
	default:
		return Record{}, "", false
	}
	origin, ok1 := field()
	id, ok2 := field()
	payload, ok3 := field()
	if !ok1 || !ok2 || !ok3 || len(b) != 0 {
		return Record{}, "", false
	}
	rec.Origin, rec.LegacyID = string(origin), string(id)
	rec.Payload = append([]byte(nil), payload...)
	return rec, rec.Stream, true
}

package spool

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
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
	info, ok := r.m.Phases[phase]
	if !ok {
		return ctx.Err()
	}
	f, err := os.Open(filepath.Join(r.dir, phase+recExt))
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	crc := crc32.NewIEEE()
	br := bufio.NewReaderSize(io.TeeReader(f, crc), 256<<10)
	corrupt := func(n int64, why string) error {
		return fmt.Errorf("%w: %s record %d: %s", ErrCorrupt, phase, n+1, why)
	}
	var (
		stream string
		buf    []byte
	)
	for n := int64(0); n < info.Records; n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		size, err := binary.ReadUvarint(br)
		if err != nil {
			return corrupt(n, "truncated")
		}
		if size > maxRecord {
			return corrupt(n, "length out of range")
		}
		if uint64(cap(buf)) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(br, buf); err != nil {
			return corrupt(n, "truncated")
		}
		rec, next, ok := decode(buf, stream)
		if !ok {
			return corrupt(n, "malformed")
		}
		stream = next
		if err := fn(rec); err != nil {
			return err
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return fmt.Errorf("%w: %s has data after its %d records", ErrCorrupt, phase, info.Records)
	}
	if crc.Sum32() != info.CRC32 {
		return fmt.Errorf("%w: %s%s checksum mismatch", ErrCorrupt, phase, recExt)
	}
	return nil
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

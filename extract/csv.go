package extract

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unicode/utf8"
)

// ErrUnsorted is returned when a CSV file declared Sorted is not in stream order.
var ErrUnsorted = errors.New("extract: file is not in stream order")

// stopped returns ctx's error once it is done. A non-blocking receive is cheap
// enough to do for every record, so cancellation stops a read at the next record.
func stopped(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	default:
		return nil
	}
}

const csvBufferSize = 256 << 10

// CSVReader reads legacy records from CSV files (RFC 4180, one file per entity, a
// header row naming the columns). It implements Reader.
//
// Members and messages come out in stream order: a file declared Sorted is streamed
// and checked (ErrUnsorted if it is not in order); any other file is first read whole
// into an external merge sort that keeps at most SortMemoryBytes of records in memory
// and spills the rest to TempDir, so its BadRows are all reported before its first
// record. Users, groups and friends come out in file order.
//
// A record that cannot be read — a parse error, a field count different from the
// header's, invalid UTF-8 in a column the entity uses, or a bad field — is reported
// by line and skipped, except that an optional field that cannot be read is only
// dropped from its record (see Options.RejectUnreadable). Only an I/O error, or a file that cannot be read past a parse
// error, stops the read, with an error naming file:line.
type CSVReader struct {
	cfg     CSVConfig
	opt     Options
	sources map[Entity]*csvSource
	// mergeFanIn is the sort's fan-in; tests lower it to exercise multi-pass merges.
	mergeFanIn int

	mu       sync.Mutex
	sortDirs map[string]struct{}
	closed   bool
}

// csvSource is one entity's file, resolved against its header.
type csvSource struct {
	entity  Entity
	path    string // on disk
	name    string // in origins: the file as configured
	time    TimeFormat
	sorted  bool
	columns []string // per canonical field (then custom field), the header name, "" if absent
	custom  []string // the custom profile fields' names (sourceFields)
	index   []int    // per canonical field, the header position, -1 if absent
	used    []int    // header positions of present fields
	width   int      // header field count
}

// NewCSVReader checks the configuration and the header of every configured file, so
// a missing file or column is reported before any record is read.
func NewCSVReader(cfg CSVConfig, opt Options) (*CSVReader, error) {
	if cfg.Delimiter == 0 {
		cfg.Delimiter = DefaultDelimiter
	}
	if cfg.Delimiter == '"' || cfg.Delimiter == '\r' || cfg.Delimiter == '\n' ||
		!utf8.ValidRune(cfg.Delimiter) || cfg.Delimiter == utf8.RuneError {
		return nil, fmt.Errorf("%w: invalid CSV delimiter %q", ErrConfig, cfg.Delimiter)
	}
	if cfg.SortMemoryBytes <= 0 {
		cfg.SortMemoryBytes = DefaultSortMemoryBytes
	}
	if err := validateSources(cfg.Entities, true); err != nil {
		return nil, err
	}
	r := &CSVReader{cfg: cfg, opt: opt, sources: map[Entity]*csvSource{}, sortDirs: map[string]struct{}{}}
	for _, e := range Entities() {
		src, ok := cfg.Entities[e]
		if !ok {
			continue
		}
		s, err := r.resolve(e, src)
		if err != nil {
			return nil, err
		}
		r.sources[e] = s
	}
	return r, nil
}

func (r *CSVReader) resolve(e Entity, src EntitySource) (*csvSource, error) {
	path := src.File
	if !filepath.IsAbs(path) && r.cfg.Dir != "" {
		path = filepath.Join(r.cfg.Dir, path)
	}
	s := &csvSource{entity: e, path: path, name: src.File, time: src.Time, sorted: src.Sorted}
	f, cr, err := s.open(r.cfg.Delimiter)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: %s: %s: empty file, no header row", ErrConfig, e, s.name)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s: header: %w", ErrConfig, e, s.name, err)
	}
	s.width = len(header)
	pos := make(map[string]int, len(header))
	dup := map[string]bool{}
	for i, h := range header {
		if _, ok := pos[h]; ok {
			dup[h] = true
			continue
		}
		pos[h] = i
	}
	fields, cols, explicit, custom := sourceFields(e, src)
	s.custom = custom
	s.columns = make([]string, len(fields))
	s.index = make([]int, len(fields))
	for i, f := range fields {
		col, mapped := cols[i], explicit[i]
		p, ok := pos[col]
		switch {
		case ok && dup[col]:
			return nil, fmt.Errorf("%w: %s: %s: column %q appears more than once in the header", ErrConfig, e, s.name, col)
		case ok:
			s.columns[i], s.index[i] = col, p
			s.used = append(s.used, p)
		case mapped:
			return nil, fmt.Errorf("%w: %s: %s: no column %q (mapped to field %q) in the header", ErrConfig, e, s.name, col, f)
		default:
			s.index[i] = -1
		}
	}
	for _, req := range entityRequired[e] {
		if !slicesContainsIndex(fields, s.index, req) {
			return nil, fmt.Errorf("%w: %s: %s: no column for required field %q", ErrConfig, e, s.name, req)
		}
	}
	return s, nil
}

func slicesContainsIndex(fields []string, index []int, name string) bool {
	for i, f := range fields {
		if f == name {
			return index[i] >= 0
		}
	}
	return false
}

// open opens the file past its byte order mark.
func (s *csvSource) open(delim rune) (*os.File, *csv.Reader, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrConfig, s.entity, err)
	}
	br := bufio.NewReaderSize(f, csvBufferSize)
	if b, err := br.Peek(3); err == nil && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		_, _ = br.Discard(3)
	}
	// csv.NewReader keeps br as is: it is already a large enough *bufio.Reader.
	cr := csv.NewReader(br)
	cr.Comma = delim
	cr.FieldsPerRecord = -1 // ragged rows are reported per line, not fatal
	cr.LazyQuotes = false
	cr.ReuseRecord = true
	return f, cr, nil
}

// csvScan reads one pass over a file, yielding rows in canonical field order.
type csvScan struct {
	src  *csvSource
	f    *os.File
	cr   *csv.Reader
	dec  *decoder
	vals [maxRowFields]string
	line int64 // start line of the last record read
}

func (r *CSVReader) scan(ctx context.Context, e Entity) (*csvScan, error) {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	src, ok := r.sources[e]
	if !ok {
		return nil, nil
	}
	if err := stopped(ctx); err != nil {
		return nil, err
	}
	if r.opt.OnRead != nil {
		r.opt.OnRead(e)
	}
	f, cr, err := src.open(r.cfg.Delimiter)
	if err != nil {
		return nil, err
	}
	if _, err := cr.Read(); err != nil { // the header, checked by NewCSVReader
		f.Close()
		return nil, fmt.Errorf("%s: header: %w", src.name, err)
	}
	return &csvScan{src: src, f: f, cr: cr, dec: newDecoder(e, src.columns, src.custom, src.time, r.opt), line: 1}, nil
}

func (s *csvScan) close() {
	if s.f != nil {
		_ = s.f.Close()
		s.f = nil
	}
}

// next returns the next readable row, or io.EOF. Rows that cannot be read are
// reported and skipped.
func (s *csvScan) next(ctx context.Context) (vals []string, o Origin, err error) {
	for {
		if err := stopped(ctx); err != nil {
			return nil, Origin{}, err
		}
		s.dec.reset()
		rec, err := s.cr.Read()
		if err != nil {
			if err == io.EOF {
				return nil, Origin{}, io.EOF
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err != csv.ErrFieldCount {
				// encoding/csv discards the rest of the broken line, so reading
				// resumes on the next one.
				s.line = int64(pe.StartLine)
				s.dec.bad(nil, Origin{Source: s.src.name, Line: int64(pe.StartLine)}, RuleParse,
					"line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
				continue
			}
			return nil, Origin{}, fmt.Errorf("%s:%d: %w", s.src.name, s.line+1, err)
		}
		line, _ := s.cr.FieldPos(0)
		s.line = int64(line)
		o = Origin{Source: s.src.name, Line: s.line}
		if len(rec) != s.src.width {
			s.dec.bad(nil, o, RuleRaggedRow, "record has %d fields, the header has %d", len(rec), s.src.width)
			continue
		}
		invalid := -1   // the first field that is not UTF-8 and cannot be dropped
		var drop uint64 // the fields that are not UTF-8 and can be dropped
		for i, p := range s.src.index {
			if p < 0 {
				s.vals[i] = ""
				continue
			}
			s.vals[i] = rec[p]
			if !utf8.ValidString(rec[p]) {
				if s.dec.droppable[i] {
					drop |= 1 << i
				} else if invalid < 0 {
					invalid = i
				}
			}
		}
		vals = s.vals[:len(s.src.index)]
		if invalid >= 0 {
			s.dec.bad(vals, o, RuleInvalidUTF8, "field %s is not valid UTF-8", s.dec.describe(invalid))
			continue
		}
		for i := range vals {
			if drop&(1<<i) != 0 {
				s.dec.drop(vals, i, RuleInvalidUTF8, "field %s is not valid UTF-8", s.dec.describe(i))
			}
		}
		return vals, o, nil
	}
}

// readCSV streams an entity in file order.
func readCSV[T any](ctx context.Context, r *CSVReader, e Entity, decode func(*decoder, []string, Origin) (T, bool), fn func(T) error) error {
	s, err := r.scan(ctx, e)
	if s == nil || err != nil {
		return err
	}
	defer s.close()
	for {
		v, o, err := s.next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		rec, ok := decode(s.dec, v, o)
		if !ok {
			continue
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// readCSVOrdered streams an entity in stream order, sorting it on disk unless the
// file is declared sorted.
func readCSVOrdered[T any](ctx context.Context, r *CSVReader, e Entity, codec *sortCodec[T],
	decode func(*decoder, []string, Origin) (T, bool), fn func(T) error) error {
	s, err := r.scan(ctx, e)
	if s == nil || err != nil {
		return err
	}
	defer s.close()
	if s.src.sorted {
		// Declared once: compare takes their addresses, which would otherwise move
		// every record to the heap.
		var prev, rec T
		first := true
		for {
			v, o, err := s.next(ctx)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			var ok bool
			if rec, ok = decode(s.dec, v, o); !ok {
				continue
			}
			if !first && codec.compare(&prev, &rec) > 0 {
				return fmt.Errorf("%s:%d: %w: the record sorts before line %d; remove sorted from the mapping",
					s.src.name, o.Line, ErrUnsorted, codec.line(&prev))
			}
			first, prev = false, rec
			if err := fn(rec); err != nil {
				return err
			}
		}
	}
	sorter := newExtSorter(codec, r.cfg.SortMemoryBytes, r.mergeFanIn, r.newSortDir)
	defer func() {
		dir := sorter.dir
		_ = sorter.cleanup()
		r.forgetSortDir(dir)
	}()
	var rec T // declared once: add takes its address, which would move each record to the heap
	for {
		v, o, err := s.next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		var ok bool
		if rec, ok = decode(s.dec, v, o); !ok {
			continue
		}
		if err := sorter.add(&rec); err != nil {
			return fmt.Errorf("%s: %w", s.src.name, err)
		}
	}
	s.close()
	return sorter.emit(ctx, func(rec *T) error { return fn(*rec) })
}

// newSortDir creates a spill directory and remembers it for Close.
func (r *CSVReader) newSortDir() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return "", ErrClosed
	}
	dir, err := os.MkdirTemp(r.cfg.TempDir, "immigrate-extract-sort-")
	if err != nil {
		return "", fmt.Errorf("sort: %w", err)
	}
	r.sortDirs[dir] = struct{}{}
	return dir, nil
}

func (r *CSVReader) forgetSortDir(dir string) {
	if dir == "" {
		return
	}
	r.mu.Lock()
	delete(r.sortDirs, dir)
	r.mu.Unlock()
}

// Users implements Reader.
func (r *CSVReader) Users(ctx context.Context, fn func(User) error) error {
	return readCSV(ctx, r, Users, (*decoder).user, fn)
}

// Groups implements Reader.
func (r *CSVReader) Groups(ctx context.Context, fn func(Group) error) error {
	return readCSV(ctx, r, Groups, (*decoder).group, fn)
}

// Members implements Reader.
func (r *CSVReader) Members(ctx context.Context, fn func(Member) error) error {
	return readCSVOrdered(ctx, r, Members, memberCodec, (*decoder).member, fn)
}

// GroupMessages implements Reader.
func (r *CSVReader) GroupMessages(ctx context.Context, fn func(Message) error) error {
	return readCSVOrdered(ctx, r, GroupMessages, groupMessageCodec, (*decoder).message, fn)
}

// DirectMessages implements Reader.
func (r *CSVReader) DirectMessages(ctx context.Context, fn func(Message) error) error {
	return readCSVOrdered(ctx, r, DirectMessages, directMessageCodec, (*decoder).message, fn)
}

// Friends implements Reader.
func (r *CSVReader) Friends(ctx context.Context, fn func(Friend) error) error {
	return readCSVOrdered(ctx, r, Friends, friendCodec, (*decoder).friend, fn)
}

// Topics implements Reader.
func (r *CSVReader) Topics(ctx context.Context, fn func(Topic) error) error {
	return readCSV(ctx, r, Topics, (*decoder).topic, fn)
}

// Close removes the spill files of sorts still in progress; those reads then fail.
// Reads that start after Close fail with ErrClosed.
func (r *CSVReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	var errs []error
	for dir := range r.sortDirs {
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
		}
		delete(r.sortDirs, dir)
	}
	return errors.Join(errs...)
}

// Fingerprint implements Fingerprinter: the size and modification time of each
// configured file, read with os.Stat. A file that no longer exists is "missing".
func (r *CSVReader) Fingerprint(ctx context.Context) ([]SourcePart, error) {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	var parts []SourcePart
	for _, e := range Entities() {
		src, ok := r.sources[e]
		if !ok {
			continue
		}
		if err := stopped(ctx); err != nil {
			return nil, err
		}
		fi, err := os.Stat(src.path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			parts = append(parts, SourcePart{Name: src.name, State: "missing"})
		case err != nil:
			return nil, fmt.Errorf("%s: %w", e, err)
		default:
			parts = append(parts, SourcePart{Name: src.name,
				State: fmt.Sprintf("%d bytes, modified %s", fi.Size(), fi.ModTime().UTC().Format(time.RFC3339Nano))})
		}
	}
	return parts, nil
}

var (
	_ Reader        = (*CSVReader)(nil)
	_ Fingerprinter = (*CSVReader)(nil)
)

package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/immigrate/immigrate/internal/atomicfile"
	"github.com/immigrate/immigrate/load"
)

// RejectsFile writes rejects.jsonl: one JSON object per rejected record, with the
// fields entity, origin, legacy_id, rule and message (load.Reject). It implements
// load.RejectSink and is safe for concurrent use.
//
// The lines go to a temporary file next to the path (atomicfile), buffered; Close
// puts it in place whole, and until then a reader sees the previous rejects.jsonl,
// if any. Abort, or a failed write, drops it and leaves the previous one. Every
// command writes the file from the start: a resumed run writes the validate
// rejects again, then those of earlier runs from the checkpoint, then its own.
type RejectsFile struct {
	mu  sync.Mutex
	f   *atomicfile.File
	w   *bufio.Writer
	enc *json.Encoder
	n   int64
	err error
}

// CreateRejects starts the rejects file that will replace the one at path.
func CreateRejects(path string) (*RejectsFile, error) {
	f, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return nil, fmt.Errorf("rejects: %w", err)
	}
	r := &RejectsFile{f: f}
	r.w = bufio.NewWriterSize(f, 64<<10)
	r.enc = newEncoder(r.w)
	return r, nil
}

func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	// Origins and messages quote values with < > &: keep them readable.
	enc.SetEscapeHTML(false)
	return enc
}

// Reject appends one line. After a write error every call returns that error.
func (r *RejectsFile) Reject(rj load.Reject) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	if r.enc == nil {
		return errors.New("rejects: file closed")
	}
	if err := r.enc.Encode(rj); err != nil {
		r.err = fmt.Errorf("rejects: %w", err)
		r.f.Abort()
		return r.err
	}
	r.n++
	return nil
}

// Count is the number of lines written.
func (r *RejectsFile) Count() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// Close flushes the lines and puts the file in place. After a write error it
// returns that error and the previous file stays. It may be called more than
// once.
func (r *RejectsFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.enc == nil {
		return r.err
	}
	r.enc = nil
	if r.err != nil {
		return r.err
	}
	err := r.w.Flush()
	if err == nil {
		err = r.f.Commit()
	}
	if err != nil {
		r.f.Abort()
		r.err = fmt.Errorf("rejects: %w", err)
	}
	return r.err
}

// Abort drops the lines written; the previous file at the path, if any, stays. It
// is a no-op after Close, so that error paths may defer it.
func (r *RejectsFile) Abort() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.enc == nil {
		return
	}
	r.enc = nil
	r.f.Abort()
	if r.err == nil {
		r.err = errors.New("rejects: aborted")
	}
}

// ReadRejects reads a rejects.jsonl stream.
func ReadRejects(rd io.Reader) ([]load.Reject, error) {
	var out []load.Reject
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	for dec.More() {
		var rj load.Reject
		if err := dec.Decode(&rj); err != nil {
			return out, fmt.Errorf("rejects: line %d: %w", len(out)+1, err)
		}
		out = append(out, rj)
	}
	return out, nil
}

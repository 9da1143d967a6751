package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/immigrate/immigrate/load"
)

// RejectsFile writes rejects.jsonl: one JSON object per rejected record, with the
// fields entity, origin, legacy_id, rule and message (load.Reject). Writes are
// buffered; Close flushes them. It implements load.RejectSink and is safe for
// concurrent use.
type RejectsFile struct {
	mu  sync.Mutex
	f   *os.File
	w   *bufio.Writer
	enc *json.Encoder
	n   int64
	err error
}

// CreateRejects creates (or truncates) the rejects file at path.
func CreateRejects(path string) (*RejectsFile, error) {
	f, err := os.Create(path)
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

// Close flushes and closes the file. It may be called more than once.
func (r *RejectsFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return r.err
	}
	err := r.w.Flush()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.f, r.enc = nil, nil
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("rejects: %w", err)
	}
	return r.err
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

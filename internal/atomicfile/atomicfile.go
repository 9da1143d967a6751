package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// File is a file being written in place of Path. Commit puts it there; Abort, or
// any failed Write or Commit, drops it. A File is not safe for concurrent use.
type File struct {
	path string
	perm os.FileMode
	tmp  *os.File
	err  error // the first failure; the File is then aborted
}

// Create starts writing a file that will replace path (or create it) with mode perm.
// The temporary file is named ".<name>.<random>.tmp" next to path, so that the
// rename stays within one file system; a process killed before Commit leaves it
// behind.
func Create(path string, perm os.FileMode) (*File, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, err
	}
	return &File{path: path, perm: perm, tmp: tmp}, nil
}

// Path is the path the file will have once committed.
func (f *File) Path() string { return f.path }

// Write writes to the temporary file. After a failure every call fails, and the
// temporary file is gone.
func (f *File) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.tmp.Write(p)
	if err != nil {
		f.fail(fmt.Errorf("write %s: %w", f.path, err))
		return n, f.err
	}
	return n, nil
}

// Commit makes the content durable and puts it at the path: sync, close, rename,
// and sync the directory so that the rename survives a crash too. After a failure
// the previous file at the path is unchanged and the temporary file is removed.
// Commit after Commit is a no-op.
func (f *File) Commit() error {
	if f.err != nil {
		return f.err
	}
	if f.tmp == nil {
		return nil
	}
	name := f.tmp.Name()
	err := f.tmp.Chmod(f.perm)
	if err == nil {
		err = f.tmp.Sync()
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, f.path)
	}
	f.tmp = nil
	if err != nil {
		os.Remove(name)
		f.err = fmt.Errorf("write %s: %w", f.path, err)
		return f.err
	}
	if err := syncDir(filepath.Dir(f.path)); err != nil {
		f.err = fmt.Errorf("write %s: sync directory: %w", f.path, err)
		return f.err
	}
	return nil
}

// Abort drops what was written; the file at the path is left as it was. It is a
// no-op after Commit or a failure.
func (f *File) Abort() {
	f.fail(errors.New("atomicfile: " + f.path + ": aborted"))
}

func (f *File) fail(err error) {
	if f.err == nil {
		f.err = err
	}
	if f.tmp != nil {
		f.tmp.Close()
		os.Remove(f.tmp.Name())
		f.tmp = nil
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// WriteFile replaces path with what write writes (buffered), or leaves it as it
// was when write or the commit fails.
func WriteFile(path string, perm os.FileMode, write func(io.Writer) error) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

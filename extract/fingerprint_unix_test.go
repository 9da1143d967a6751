//go:build unix

package extract_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
)

// TestCSVFingerprintOpensNothing replaces a file, once the reader is built, by a
// named pipe that no one writes: opening it for reading would block, so a
// Fingerprint that returns did not open it. (Permissions cannot show it: tests may
// run as root.)
func TestCSVFingerprintOpensNothing(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "u.csv", "id,nick\nu1,One\n")
	r, err := extract.NewCSVReader(extract.CSVConfig{Dir: dir, Entities: map[extract.Entity]extract.EntitySource{
		extract.Users: {File: "u.csv"},
	}}, extract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	path := filepath.Join(dir, "u.csv")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.Fingerprint(context.Background())
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		// Let the blocked open return, so the test binary can end.
		if w, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatal("Fingerprint opened the file")
	}
}

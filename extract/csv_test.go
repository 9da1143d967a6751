package extract_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/extract/extracttest"
)

// csvSetup varies how the suite's dataset is laid out on disk.
type csvSetup struct {
	delimiter rune
	bom       bool
	tweak     func(*extract.CSVConfig)
}

func openCSV(t *testing.T, ds extracttest.Dataset, setup csvSetup) extract.Reader {
	t.Helper()
	delim := setup.delimiter
	if delim == 0 {
		delim = ','
	}
	cfg := extracttest.WriteCSV(t, t.TempDir(), ds, delim)
	cfg.TempDir = t.TempDir()
	if setup.bom {
		for _, src := range cfg.Entities {
			path := filepath.Join(cfg.Dir, src.File)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, append([]byte("\xEF\xBB\xBF"), data...), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if setup.tweak != nil {
		setup.tweak(&cfg)
	}
	r, err := extract.NewCSVReader(cfg, ds.Options)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCSVReaderSuite(t *testing.T) {
	cases := []struct {
		name  string
		setup csvSetup
	}{
		{"sorted in memory", csvSetup{}},
		// Every record spills on its own, and merges take three files at a time, so
		// the sort makes several merge passes.
		{"external sort", csvSetup{tweak: func(c *extract.CSVConfig) { c.SortMemoryBytes = 1 }}},
		{"semicolon delimiter", csvSetup{delimiter: ';'}},
		{"byte order marks", csvSetup{bom: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			extracttest.Run(t, func(t *testing.T, ds extracttest.Dataset) extract.Reader {
				return openCSV(t, ds, tc.setup)
			})
		})
	}
}

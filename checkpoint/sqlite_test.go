package checkpoint_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/checkpoint/checkpointtest"
)

var sqliteDriver = checkpointtest.Driver{
	Name: "sqlite",
	New: func(tb testing.TB) string {
		return filepath.Join(tb.TempDir(), "checkpoint.db")
	},
	Open: func(_ context.Context, loc string) (checkpoint.Store, error) {
		return checkpoint.OpenSQLite(loc)
	},
	Check: func(tb testing.TB, loc string) {
		tb.Helper()
		db, err := sql.Open("sqlite", "file:"+loc)
		if err != nil {
			tb.Fatal(err)
		}
		defer db.Close()
		var res string
		if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
			tb.Fatalf("integrity_check = %q, %v; want ok", res, err)
		}
	},
}

func TestSQLite(t *testing.T) { checkpointtest.Run(t, sqliteDriver) }

func BenchmarkSQLiteWriter(b *testing.B) { checkpointtest.Bench(b, sqliteDriver) }

// TestHelperProcess is the child of the crash tests; see checkpointtest.
func TestHelperProcess(t *testing.T) {
	checkpointtest.HelperProcess(t, sqliteDriver, postgresDriver)
}

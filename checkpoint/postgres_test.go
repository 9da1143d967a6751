package checkpoint_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/checkpoint/checkpointtest"
	"github.com/immigrate/immigrate/internal/pgtest"
)

// postgresDriver's locations are test-server URLs whose search_path names the
// checkpoint's schema: self-contained, so the suite's helper process, which has no
// test of its own to ask pgtest, can open them too.
var postgresDriver = checkpointtest.Driver{
	Name: "postgres",
	New: func(tb testing.TB) string {
		url, _ := pgtest.Schema(tb)
		return url
	},
	Open: func(ctx context.Context, loc string) (checkpoint.Store, error) {
		cfg, err := pgx.ParseConfig(loc)
		if err != nil {
			return nil, err
		}
		return checkpoint.OpenPostgres(ctx, loc, cfg.RuntimeParams["search_path"])
	},
}

func TestPostgres(t *testing.T) { checkpointtest.Run(t, postgresDriver) }

func BenchmarkPostgresWriter(b *testing.B) { checkpointtest.Bench(b, postgresDriver) }

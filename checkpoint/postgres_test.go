package checkpoint_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/checkpoint/checkpointtest"
)

func pgURL() string {
	if u := os.Getenv("IMMIGRATE_TEST_PG_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

var (
	pgOnce sync.Once
	pgErr  error
)

// pgConn connects to the test server, or skips the test loudly — fails it under
// IMMIGRATE_TEST_REQUIRE_PG=1 — when there is none.
func pgConn(tb testing.TB) *pgx.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pgOnce.Do(func() {
		c, err := pgx.Connect(ctx, pgURL())
		if err == nil {
			c.Close(ctx)
		}
		pgErr = err
	})
	if pgErr != nil {
		if os.Getenv("IMMIGRATE_TEST_REQUIRE_PG") == "1" {
			tb.Fatalf("PostgreSQL required (IMMIGRATE_TEST_REQUIRE_PG=1) but unreachable: %v", pgErr)
		}
		tb.Skipf("SKIPPING POSTGRESQL CHECKPOINT TESTS: no server at IMMIGRATE_TEST_PG_URL: %v", pgErr)
	}
	c, err := pgx.Connect(ctx, pgURL())
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	return c
}

var postgresDriver = checkpointtest.Driver{
	Name: "postgres",
	New: func(tb testing.TB) string {
		c := pgConn(tb)
		c.Close(context.Background())
		var b [6]byte
		rand.Read(b[:])
		schema := "checkpoint_test_" + hex.EncodeToString(b[:])
		tb.Cleanup(func() {
			ctx := context.Background()
			c := pgConn(tb)
			defer c.Close(ctx)
			if _, err := c.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
				tb.Errorf("drop schema %s: %v", schema, err)
			}
		})
		return schema
	},
	Open: func(ctx context.Context, schema string) (checkpoint.Store, error) {
		return checkpoint.OpenPostgres(ctx, pgURL(), schema)
	},
}

func TestPostgres(t *testing.T) { checkpointtest.Run(t, postgresDriver) }

func BenchmarkPostgresWriter(b *testing.B) { checkpointtest.Bench(b, postgresDriver) }

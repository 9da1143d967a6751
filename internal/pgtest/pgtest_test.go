package pgtest

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// recorder is a testing.TB that records Skipf and Fatalf and, like the real ones,
// ends the calling goroutine.
type recorder struct {
	testing.TB // nil: URL may call only what recorder implements
	skipped    string
	failed     string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestURLUnreachable(t *testing.T) {
	// A closed port: the connect fails at once. The password must not leak.
	t.Setenv(envURL, "postgres://immigrate:s3cr3t-pw@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
	tests := []struct {
		require  string
		wantSkip bool
		want     []string
	}{
		{"", true, []string{"SKIPPING", "NOT TESTED", envURL, envRequire + "=1", defaultURL}},
		{"0", true, []string{"SKIPPING", envURL, envRequire}},
		{"1", false, []string{"required", envRequire + "=1", envURL}},
	}
	for _, tt := range tests {
		t.Run("require="+tt.require, func(t *testing.T) {
			t.Setenv(envRequire, tt.require)
			r := &recorder{}
			returned := false
			done := make(chan struct{})
			go func() {
				defer close(done)
				URL(r)
				returned = true
			}()
			<-done
			if returned {
				t.Fatal("URL returned for an unreachable server")
			}
			got, other := r.skipped, r.failed
			if !tt.wantSkip {
				got, other = other, got
			}
			if got == "" || other != "" {
				t.Fatalf("skipped %q, failed %q; want only a %s", r.skipped, r.failed, map[bool]string{true: "skip", false: "failure"}[tt.wantSkip])
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("message lacks %q: %s", w, got)
				}
			}
			if strings.Contains(got, "s3cr3t-pw") {
				t.Errorf("message shows the password: %s", got)
			}
		})
	}
}

func TestSchema(t *testing.T) {
	base := URL(t)
	ctx := context.Background()
	exists := func(t *testing.T, schema string) bool {
		t.Helper()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	tests := []struct {
		name   string
		create bool
	}{
		{"created by the test", true},
		{"never created", false}, // the drop must not fail the test
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var schema string
			t.Run("use", func(t *testing.T) {
				var url string
				url, schema = Schema(t)
				if _, other := Schema(t); other == schema {
					t.Fatalf("two calls gave the same schema %s", schema)
				}
				if exists(t, schema) {
					t.Fatalf("schema %s exists before the test creates it", schema)
				}
				if !tt.create {
					return
				}
				conn, err := pgx.Connect(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(ctx)
				// Unqualified names land in the schema: the URL's search_path names it.
				if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema+"; CREATE TABLE t (x int)"); err != nil {
					t.Fatal(err)
				}
				var in string
				if err := conn.QueryRow(ctx, `SELECT table_schema FROM information_schema.tables WHERE table_name = 't' AND table_schema = current_schema()`).Scan(&in); err != nil {
					t.Fatal(err)
				}
				if in != schema {
					t.Errorf("table created in %q, want %q", in, schema)
				}
			})
			if exists(t, schema) {
				t.Errorf("schema %s still exists after its test ended", schema)
			}
		})
	}
}

func TestWithSearchPath(t *testing.T) {
	const schema = "pgtest_x_0123456789ab"
	tests := []struct {
		name, base string
		wantDB     string
	}{
		{"URL", "postgres://postgres@127.0.0.1:5432/test", "test"},
		{"URL with a query", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&connect_timeout=3", "test"},
		{"URL with a search_path", "postgresql://u:pw@db:5433/other?search_path=public", "other"},
		{"keyword/value", "host=127.0.0.1 user=postgres dbname=test sslmode=disable", "test"},
		{"keyword/value with a search_path", "host=127.0.0.1 dbname=kv search_path=public", "kv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := withSearchPath(tt.base, schema)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := pgx.ParseConfig(got)
			if err != nil {
				t.Fatalf("pgx cannot parse %q: %v", got, err)
			}
			if sp := cfg.RuntimeParams["search_path"]; sp != schema {
				t.Errorf("search_path = %q, want %q (%s)", sp, schema, got)
			}
			if cfg.Database != tt.wantDB {
				t.Errorf("database = %q, want %q (%s)", cfg.Database, tt.wantDB, got)
			}
		})
	}
	t.Run("bad URL", func(t *testing.T) {
		_, err := withSearchPath("postgres://u:s3cr3t-pw@h:notaport/db", schema)
		if err == nil {
			t.Fatal("no error")
		}
		if strings.Contains(err.Error(), "s3cr3t-pw") {
			t.Errorf("error shows the password: %v", err)
		}
	})
}

func TestName(t *testing.T) {
	ident := regexp.MustCompile(`^[a-z][a-z0-9_]*[a-z0-9]$`)
	tests := []struct {
		test, wantPrefix string
	}{
		{"TestLoadPostgres", "pgtest_testloadpostgres_"},
		{"TestRun/group/postgres#01", "pgtest_testrun_group_postgres_01_"},
		{"BenchmarkValidatePostgres", "pgtest_benchmarkvalidatepostgres_"},
		{"Test_ä__x_", "pgtest_test_x_"},
		{"TestAVeryLongNameThatGoesOnAndOnForever/and_a_subtest", "pgtest_testaverylongnamethatgoesonan"},
		{"", "pgtest_"},
	}
	for _, tt := range tests {
		t.Run(tt.test, func(t *testing.T) {
			a, b := name(tt.test), name(tt.test)
			if a == b {
				t.Errorf("two names for %q are both %s", tt.test, a)
			}
			for _, n := range []string{a, b} {
				if !ident.MatchString(n) || strings.Contains(n, "__") || len(n) > 63 {
					t.Errorf("%s is not a plain identifier of at most 63 bytes", n)
				}
				if !strings.HasPrefix(n, tt.wantPrefix) {
					t.Errorf("%s lacks the prefix %s", n, tt.wantPrefix)
				}
			}
		})
	}
}

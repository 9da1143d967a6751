package pgtest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The variables of design §9.
const (
	envURL     = "IMMIGRATE_TEST_PG_URL"
	envRequire = "IMMIGRATE_TEST_REQUIRE_PG"
	defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
)

// probes holds one *probe per URL: a test binary asks whether the server is there
// once, not once per test, so a missing server costs one connect timeout, not one
// per test.
var probes sync.Map

type probe struct {
	once sync.Once
	err  error
}

func reach(u string) error {
	v, _ := probes.LoadOrStore(u, new(probe))
	p := v.(*probe)
	p.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			p.err = err
			return
		}
		p.err = conn.Close(ctx)
	})
	return p.err
}

// URL returns the test server's URL: IMMIGRATE_TEST_PG_URL, or
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable when it is unset. When
// the server cannot be reached it skips tb with a loud message naming both
// variables, or fails tb when IMMIGRATE_TEST_REQUIRE_PG=1. The messages never
// show the URL, which may carry a password; pgx's connect errors do not either.
func URL(tb testing.TB) string {
	tb.Helper()
	u := cmp.Or(os.Getenv(envURL), defaultURL)
	if err := reach(u); err != nil {
		if os.Getenv(envRequire) == "1" {
			tb.Fatalf("PostgreSQL required (%s=1) but unreachable: %v; point %s at a server (default %s)",
				envRequire, err, envURL, defaultURL)
		}
		tb.Skipf("!!! SKIPPING PostgreSQL test, PostgreSQL NOT TESTED: server unreachable: %v; "+
			"point %s at a server (default %s), or set %s=1 to fail instead of skipping",
			err, envURL, defaultURL, envRequire)
	}
	return u
}

// Schema returns a schema name that no other test, run or process uses, and the
// test server's URL with search_path set to it, skipping or failing tb as URL
// does. It does not create the schema: the code under test does, as it would in
// production (synth.LoadPostgres refuses a schema that exists, OpenPostgres
// creates its own). Whatever exists under the name when tb ends is dropped.
//
// The name is lower-case letters, digits and underscores, starting with a letter,
// so it is the same identifier quoted or not.
func Schema(tb testing.TB) (url, schema string) {
	tb.Helper()
	base := URL(tb)
	schema = name(tb.Name())
	url, err := withSearchPath(base, schema)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return url, schema
}

// name is "pgtest_", the test's name folded to an identifier (so a schema left
// behind by a killed run says whose it was), and 48 random bits. It stays well
// under PostgreSQL's 63-byte identifier limit.
func name(test string) string {
	var b strings.Builder
	b.WriteString("pgtest_")
	under := true // no leading, doubled or trailing underscore from the test name
	for _, r := range strings.ToLower(test) {
		if b.Len() >= len("pgtest_")+30 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			under = false
		} else if !under {
			b.WriteByte('_')
			under = true
		}
	}
	if !under {
		b.WriteByte('_')
	}
	var r [6]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails
	b.WriteString(hex.EncodeToString(r[:]))
	return b.String()
}

// withSearchPath sets search_path in a connection string of either form pgx
// accepts: a URL, or keyword=value pairs. An existing search_path is replaced.
func withSearchPath(base, schema string) (string, error) {
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		// A later keyword wins in pgx's keyword/value parser.
		return base + " search_path=" + schema, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		// url's errors quote the input, password included.
		return "", errors.New("pgtest: cannot parse " + envURL + " as a URL")
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

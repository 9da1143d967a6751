package extract_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/internal/pgtest"
)

// TestProbePostgres: every configured entity is probed in Entities order, a
// failing query does not stop the others, and each good query gets its row
// count, without a record read.
func TestProbePostgres(t *testing.T) {
	conn, schema := pgSchema(t)
	exec(t, conn, fmt.Sprintf(`CREATE TABLE %[1]s.u (id text); INSERT INTO %[1]s.u SELECT 'u' || g FROM generate_series(1, 7) g;
		CREATE TABLE %[1]s.m (id text, group_id text, sender_id text, sent_at timestamptz);
		INSERT INTO %[1]s.m VALUES ('m1', 'g1', 'u1', now()), ('m2', 'g1', 'u2', now());`, schema))
	from := func(t string) string { return " FROM " + schema + "." + t }
	probes, err := extract.ProbePostgres(context.Background(), extract.PostgresConfig{URL: pgtest.URL(t),
		Entities: map[extract.Entity]extract.EntitySource{
			extract.DirectMessages: {Query: "SELECT id, sender_id, sender_id AS recipient_id, sent_at" + from("m")},
			extract.GroupMessages:  {Query: "SELECT id, group_id, sender_id, sent_at" + from("m") + " WHERE edited > 0"},
			extract.Groups:         {Query: "SELECT id" + from("nosuchtable")},
			extract.Users:          {Query: "SELECT id" + from("u")},
		}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range probes {
		s := fmt.Sprintf("%s %d", p.Entity, p.Rows)
		if p.Err != nil {
			if !errors.Is(p.Err, extract.ErrConfig) || !strings.Contains(p.Err.Error(), string(p.Entity)+": query") {
				t.Errorf("%s: error %v, want a configuration error naming the entity", p.Entity, p.Err)
			}
			s = fmt.Sprintf("%s fails: %v", p.Entity, p.Err)
		}
		got = append(got, s)
	}
	want := []string{"users 7", `groups fails: "nosuchtable"`, `group_messages fails: "edited"`, "direct_messages 2"}
	if len(got) != len(want) {
		t.Fatalf("probes %q, want %q", got, want)
	}
	for i := range want {
		w, rest, _ := strings.Cut(want[i], ": ")
		if !strings.HasPrefix(got[i], w) || !strings.Contains(got[i], strings.Trim(rest, `"`)) {
			t.Errorf("probe %d = %q, want %q", i, got[i], want[i])
		}
	}

	// An unreachable server is the probe's error, not an entity's.
	if _, err := extract.ProbePostgres(context.Background(), extract.PostgresConfig{URL: "postgres://nobody@127.0.0.1:1/none?connect_timeout=2",
		Entities: map[extract.Entity]extract.EntitySource{extract.Users: {Query: "SELECT 1 AS id"}}}); err == nil {
		t.Error("an unreachable server: no error")
	}
}

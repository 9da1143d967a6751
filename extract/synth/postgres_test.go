package synth

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/internal/pgtest"
)

func TestLoadPostgres(t *testing.T) {
	url, schema := pgtest.Schema(t)
	ctx := context.Background()
	var planted []Planted
	sum, err := LoadPostgres(ctx, small, PostgresOptions{URL: url, Schema: schema,
		OnPlanted: func(p Planted) error { planted = append(planted, p); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	csvSum, err := WriteCSV(ctx, small, dir)
	if err != nil {
		t.Fatal(err)
	}
	csvPlanted := readPlanted(t, dir)

	// PostgreSQL holds every CSV row but those only a text file can hold.
	csvOnly := map[extract.Entity]int{}
	wantPlanted := 0
	for _, p := range csvPlanted {
		if p.CSVOnly {
			csvOnly[p.Entity]++
		} else {
			wantPlanted++
		}
	}
	if len(planted) != wantPlanted || sum.Planted != wantPlanted {
		t.Errorf("planted %d (summary %d), want the %d CSV plants that are not CSV-only", len(planted), sum.Planted, wantPlanted)
	}
	for e, n := range csvSum.Rows {
		if got := sum.Rows[e]; got != n-csvOnly[e] {
			t.Errorf("%s: loaded %d rows, want %d CSV rows - %d CSV-only", e, got, n, csvOnly[e])
		}
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	count := func(q string) int {
		var n int
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	s := pgx.Identifier{schema}.Sanitize() + "."
	tables := []struct {
		query string
		want  int
	}{
		{"SELECT count(*) FROM " + s + "users", sum.Rows[extract.Users]},
		{"SELECT count(*) FROM " + s + "chat_groups", sum.Rows[extract.Groups]},
		{"SELECT count(*) FROM " + s + "group_members", sum.Rows[extract.Members]},
		{"SELECT count(*) FROM " + s + "messages WHERE group_id IS NOT NULL", sum.Rows[extract.GroupMessages]},
		{"SELECT count(*) FROM " + s + "messages WHERE recipient_id IS NOT NULL", sum.Rows[extract.DirectMessages]},
		{"SELECT count(*) FROM " + s + "friendships", small.Friends},
		{"SELECT count(*) FROM " + s + "messages WHERE sender_id IS NULL", small.count(mustKind("group_message_missing_sender"), small.GroupMessages)},
		// Every attachment belongs to one message; a planted duplicate joins its original's.
		{"SELECT count(*) FROM (SELECT message_id FROM " + s + "attachments GROUP BY 1 HAVING count(*) > 1) d", 0},
	}
	for _, tt := range tables {
		t.Run(tt.query, func(t *testing.T) {
			if got := count(tt.query); got != tt.want {
				t.Errorf("= %d, want %d", got, tt.want)
			}
		})
	}

	t.Run("exists", func(t *testing.T) {
		_, err := LoadPostgres(ctx, small, PostgresOptions{URL: url, Schema: schema})
		if !errors.Is(err, ErrSchemaExists) {
			t.Fatalf("second load = %v, want ErrSchemaExists", err)
		}
		cfg := small
		cfg.Friends = 0
		if _, err := LoadPostgres(ctx, cfg, PostgresOptions{URL: url, Schema: schema, Replace: true}); err != nil {
			t.Fatalf("replace: %v", err)
		}
		if got := count("SELECT count(*) FROM " + s + "friendships"); got != 0 {
			t.Errorf("after replace: %d friendships, want 0", got)
		}
	})
}

func mustKind(name string) Kind {
	k, ok := kindByName(name)
	if !ok {
		panic(name)
	}
	return k
}

package extract_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/internal/pgtest"
)

func TestParseList(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{`["u1","u2"]`, []string{"u1", "u2"}, ""},
		{` [1, 22, "x"] `, []string{"1", "22", "x"}, ""},
		{`[]`, []string{}, ""},
		{`{a,b}`, []string{"a", "b"}, ""},
		{`{"a b", c ,"d,e","f\"g","h\\i"}`, []string{"a b", "c", "d,e", `f"g`, `h\i`}, ""},
		{`{}`, []string{}, ""},
		{`{"NULL"}`, []string{"NULL"}, ""},
		{`u1,u2`, nil, "not a JSON array"},
		{`["u1",null]`, nil, "element null is not an id"},
		{`[{"id":1}]`, nil, "is not an id"},
		{`["",1]`, nil, "empty id"},
		{`["a"] x`, nil, "text after"},
		{`{a,NULL}`, nil, "NULL"},
		{`{{a},{b}}`, nil, "nested"},
		{`{"a`, nil, "must end with }"},
		{`{"a}`, nil, "unterminated"},
		{`{a,,b}`, nil, "empty id"},
		{`{"a"b}`, nil, "unexpected b"},
	}
	for _, tt := range tests {
		got, err := extract.ParseList(tt.in)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParseList(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || !slices.Equal(got, tt.want)):
			t.Errorf("ParseList(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestPostgresGroupDMMembers reads members from native PostgreSQL columns:
// text[] and bigint[] arrays (an array_agg), json and jsonb arrays, as PostgreSQL
// prints them, special characters included.
func TestPostgresGroupDMMembers(t *testing.T) {
	conn, schema := pgSchema(t)
	exec(t, conn, strings.ReplaceAll(`
CREATE TABLE S.dm (id text, ids text[], nums bigint[], j jsonb, js json, at timestamptz);
INSERT INTO S.dm VALUES
  ('a', ARRAY['u1', 'u 2', 'q"uote', 'back\slash', 'com,ma', 'NULL', '{brace}'], ARRAY[3, 1, 2], '["u1", 7]', '["x","y"]', '2024-01-01 00:00:00+00'),
  ('b', ARRAY['u1', NULL], NULL, NULL, NULL, NULL);
CREATE TABLE S.pm (channel text, user_id text);
INSERT INTO S.pm VALUES ('c', 'u3'), ('c', 'u1'), ('c', 'u2');
`, "S.", schema+"."))
	q := func(sql string) extract.PostgresConfig {
		return extract.PostgresConfig{URL: pgtest.URL(t), Entities: map[extract.Entity]extract.EntitySource{
			extract.GroupDMs: {Query: strings.ReplaceAll(sql, "S.", schema+".")}}}
	}
	cases := []struct {
		name      string
		cfg       extract.PostgresConfig
		want, bad []string
	}{
		{"text[]", q("SELECT id, ids AS members, at AS created_at FROM S.dm"),
			[]string{`{ID:a Members:[u1 u 2 q"uote back\slash com,ma NULL {brace}] CreatedAt:2024-01-01 00:00:00 +0000 UTC Name: CreatorID: Origin:group_dms[id=a] Dropped:[]}`},
			[]string{`group_dms[id=b]: field.list: field "members": an element is NULL`}},
		{"bigint[]", q("SELECT id, nums AS members FROM S.dm WHERE nums IS NOT NULL"),
			[]string{`{ID:a Members:[3 1 2] CreatedAt:0001-01-01 00:00:00 +0000 UTC Name: CreatorID: Origin:group_dms[id=a] Dropped:[]}`}, nil},
		{"jsonb", q("SELECT id, j AS members FROM S.dm WHERE j IS NOT NULL"),
			[]string{`{ID:a Members:[u1 7] CreatedAt:0001-01-01 00:00:00 +0000 UTC Name: CreatorID: Origin:group_dms[id=a] Dropped:[]}`}, nil},
		{"json", q("SELECT id, js AS members FROM S.dm WHERE js IS NOT NULL"),
			[]string{`{ID:a Members:[x y] CreatedAt:0001-01-01 00:00:00 +0000 UTC Name: CreatorID: Origin:group_dms[id=a] Dropped:[]}`}, nil},
		{"array_agg of a membership table", q("SELECT channel AS id, array_agg(user_id ORDER BY user_id) AS members FROM S.pm GROUP BY channel"),
			[]string{`{ID:c Members:[u1 u2 u3] CreatedAt:0001-01-01 00:00:00 +0000 UTC Name: CreatorID: Origin:group_dms[id=c] Dropped:[]}`}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var bad []string
			r, err := extract.NewPostgresReader(context.Background(), tc.cfg, extract.Options{OnBadRow: func(b extract.BadRow) { bad = append(bad, b.String()) }})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got []string
			if err := r.GroupDMs(context.Background(), func(d extract.GroupDM) error {
				got = append(got, fmt.Sprintf("%+v", d))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) || !slices.Equal(bad, tc.bad) {
				t.Errorf("records\n  %q\nwant\n  %q\nbad rows %q, want %q", got, tc.want, bad, tc.bad)
			}
		})
	}

	// A type that holds no list is refused before any row is read.
	r, err := extract.NewPostgresReader(context.Background(), q("SELECT id, at AS members FROM S.dm"), extract.Options{})
	if err == nil {
		defer r.Close()
		err = r.GroupDMs(context.Background(), func(extract.GroupDM) error { return nil })
	}
	if err == nil || !strings.Contains(err.Error(), "a list of ids must be an array") {
		t.Errorf("timestamptz members: err = %v, want the type refused", err)
	}
}

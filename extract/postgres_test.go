package extract_test

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/extract/extracttest"
	"github.com/immigrate/immigrate/internal/pgtest"
)

// pgSchema connects to the test server and creates a schema of the test's own,
// dropped when tb ends (pgtest: it skips loudly, or fails under
// IMMIGRATE_TEST_REQUIRE_PG=1, without a server).
func pgSchema(tb testing.TB) (*pgx.Conn, string) {
	tb.Helper()
	ctx := context.Background()
	url, schema := pgtest.Schema(tb)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	return conn, schema
}

func exec(tb testing.TB, conn *pgx.Conn, sql string) {
	tb.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		tb.Fatalf("%v\n%s", err, sql)
	}
}

func TestPostgresReaderSuite(t *testing.T) {
	for _, pageSize := range []int{1, 3, 0} {
		t.Run(fmt.Sprintf("page size %d", pageSize), func(t *testing.T) {
			extracttest.Run(t, func(t *testing.T, ds extracttest.Dataset) extract.Reader {
				conn, schema := pgSchema(t)
				exec(t, conn, extracttest.SchemaSQL(ds, schema))
				r, err := extract.NewPostgresReader(context.Background(), extract.PostgresConfig{
					URL: pgtest.URL(t), Entities: extracttest.PostgresEntities(ds, schema), PageSize: pageSize,
				}, ds.Options)
				if err != nil {
					t.Fatal(err)
				}
				return r
			})
		})
	}
}

// readAll reads one entity with a fresh reader and renders its records and bad rows.
func readAll(t *testing.T, cfg extract.PostgresConfig, e extract.Entity) (recs, bad []string) {
	t.Helper()
	opt := extract.Options{OnBadRow: func(b extract.BadRow) { bad = append(bad, b.String()) }}
	r, err := extract.NewPostgresReader(context.Background(), cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recs, err = readEntity(context.Background(), r, e)
	if err != nil {
		t.Fatal(err)
	}
	return recs, bad
}

func readEntity(ctx context.Context, r extract.Reader, e extract.Entity) ([]string, error) {
	var out []string
	add := func(v any) error { out = append(out, fmt.Sprintf("%+v", v)); return nil }
	var err error
	switch e {
	case extract.Users:
		err = r.Users(ctx, func(v extract.User) error { return add(v) })
	case extract.Groups:
		err = r.Groups(ctx, func(v extract.Group) error { return add(v) })
	case extract.Members:
		err = r.Members(ctx, func(v extract.Member) error { return add(v) })
	case extract.GroupMessages:
		err = r.GroupMessages(ctx, func(v extract.Message) error { return add(v) })
	case extract.DirectMessages:
		err = r.DirectMessages(ctx, func(v extract.Message) error { return add(v) })
	case extract.Friends:
		err = r.Friends(ctx, func(v extract.Friend) error { return add(v) })
	}
	return out, err
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestPostgresNativeTypes(t *testing.T) {
	conn, schema := pgSchema(t)
	exec(t, conn, strings.ReplaceAll(`
CREATE TABLE S.msg (mid bigint, room int, author text, at timestamptz, body text, bytes numeric, w smallint);
INSERT INTO S.msg VALUES
  (10, 7, 'u1', '2024-05-01 10:00:00+00', 'ten', 12, NULL),
  (9, 7, 'u2', '2024-05-01 12:00:00+02', 'nine', NULL, 3),
  (11, 7, 'u1', '2024-05-01 09:59:59.999999+00', 'earlier', NULL, NULL),
  (1, 12, 'u1', '2024-05-01 00:00:00+00', 'other room', NULL, NULL),
  (2, 7, 'u1', 'infinity', 'never', NULL, NULL),
  (3, 7, 'u1', '2024-05-01 00:00:00+00', 'half byte', 1.5, NULL),
  (4, 7, NULL, '2024-05-01 00:00:00+00', 'no author', NULL, NULL);
CREATE TABLE S.dm (id bigint, a text, b text, ts bigint);
INSERT INTO S.dm VALUES (10, 'x', 'y', 1700000000), (9, 'y', 'x', 1700000000), (8, 'x', 'y', 1699999999), (7, 'x', 'y', NULL);
CREATE TABLE S.dm_ms (id text, a text, b text, ts text);
INSERT INTO S.dm_ms VALUES ('1', 'x', 'y', '1700000000001'), ('2', 'x', 'y', '999'), ('3', 'x', 'y', '-5'), ('4', 'x', 'y', '12a');
CREATE TABLE S.mem (g text, u text, joined timestamp, unread bigint);
INSERT INTO S.mem VALUES ('g', 'b', '2024-01-01 00:00:00', 4), ('g', 'a', '2024-01-01 00:00:00', NULL), ('g', 'c', NULL, 0);
`, "S.", schema+"."))
	msgCols := map[string]string{"id": "mid", "group_id": "room", "sender_id": "author", "sent_at": "at", "text": "body", "size": "bytes", "width": "w"}
	cases := []struct {
		name    string
		entity  extract.Entity
		src     extract.EntitySource
		want    []any
		wantBad []string
	}{
		{
			// Group "12" sorts before "7": string keys compare bytewise.
			name:   "bigint ids, int groups, timestamptz, numeric and smallint",
			entity: extract.GroupMessages,
			// The format is ignored for a timestamptz column.
			src: extract.EntitySource{Query: "SELECT * FROM S.msg", Columns: msgCols, Time: extract.TimeUnix},
			want: []any{
				extract.Message{ID: "1", GroupID: "12", SenderID: "u1", SentAt: utc("2024-05-01T00:00:00Z"), Text: "other room",
					Origin: extract.Origin{Source: "group_messages", Key: "id=1"}},
				extract.Message{ID: "11", GroupID: "7", SenderID: "u1", SentAt: utc("2024-05-01T09:59:59.999999Z"), Text: "earlier",
					Origin: extract.Origin{Source: "group_messages", Key: "id=11"}},
				extract.Message{ID: "9", GroupID: "7", SenderID: "u2", SentAt: utc("2024-05-01T10:00:00Z"), Text: "nine", Width: 3,
					Origin: extract.Origin{Source: "group_messages", Key: "id=9"}},
				extract.Message{ID: "10", GroupID: "7", SenderID: "u1", SentAt: utc("2024-05-01T10:00:00Z"), Text: "ten", Size: 12,
					Origin: extract.Origin{Source: "group_messages", Key: "id=10"}},
			},
			wantBad: []string{
				`group_messages[id=2]: field.timestamp: field "sent_at" (column "at"): "infinity" is not a timestamptz time: bad syntax`,
				`group_messages[id=3]: field.number: field "size" (column "bytes"): "1.5" is not an integer`,
				`group_messages[id=4]: field.missing: required field "sender_id" (column "author") is empty`,
			},
		},
		{
			name:   "unix seconds in bigint",
			entity: extract.DirectMessages,
			src: extract.EntitySource{Query: "SELECT id, a AS sender_id, b AS recipient_id, ts AS sent_at FROM S.dm",
				Time: extract.TimeUnix},
			want: []any{
				extract.Message{ID: "8", SenderID: "x", RecipientID: "y", SentAt: time.Unix(1699999999, 0).UTC(),
					Origin: extract.Origin{Source: "direct_messages", Key: "id=8"}},
				extract.Message{ID: "9", SenderID: "y", RecipientID: "x", SentAt: time.Unix(1700000000, 0).UTC(),
					Origin: extract.Origin{Source: "direct_messages", Key: "id=9"}},
				extract.Message{ID: "10", SenderID: "x", RecipientID: "y", SentAt: time.Unix(1700000000, 0).UTC(),
					Origin: extract.Origin{Source: "direct_messages", Key: "id=10"}},
			},
			wantBad: []string{`direct_messages[id=7]: field.missing: required field "sent_at" is empty`},
		},
		{
			name:   "unix milliseconds in text",
			entity: extract.DirectMessages,
			src: extract.EntitySource{Query: "SELECT * FROM S.dm_ms",
				Columns: map[string]string{"sender_id": "a", "recipient_id": "b", "sent_at": "ts"}, Time: extract.TimeUnixMS},
			want: []any{
				extract.Message{ID: "3", SenderID: "x", RecipientID: "y", SentAt: time.UnixMilli(-5).UTC(),
					Origin: extract.Origin{Source: "direct_messages", Key: "id=3"}},
				extract.Message{ID: "2", SenderID: "x", RecipientID: "y", SentAt: time.UnixMilli(999).UTC(),
					Origin: extract.Origin{Source: "direct_messages", Key: "id=2"}},
				extract.Message{ID: "1", SenderID: "x", RecipientID: "y", SentAt: time.UnixMilli(1700000000001).UTC(),
					Origin: extract.Origin{Source: "direct_messages", Key: "id=1"}},
			},
			wantBad: []string{`direct_messages[id=4]: field.timestamp: field "sent_at" (column "ts"): "12a" is not a unix_ms time: bad syntax`},
		},
		{
			name:   "timestamp without zone, bigint unread, NULL join time first",
			entity: extract.Members,
			src: extract.EntitySource{Query: "SELECT * FROM S.mem",
				Columns: map[string]string{"group_id": "g", "user_id": "u", "joined_at": "joined"}},
			want: []any{
				extract.Member{GroupID: "g", UserID: "c", Unread: 0, HasUnread: true, Origin: extract.Origin{Source: "group_members", Key: "group_id=g,user_id=c"}},
				extract.Member{GroupID: "g", UserID: "a", JoinedAt: utc("2024-01-01T00:00:00Z"), Origin: extract.Origin{Source: "group_members", Key: "group_id=g,user_id=a"}},
				extract.Member{GroupID: "g", UserID: "b", JoinedAt: utc("2024-01-01T00:00:00Z"), Unread: 4, HasUnread: true,
					Origin: extract.Origin{Source: "group_members", Key: "group_id=g,user_id=b"}},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.src.Query = strings.ReplaceAll(tc.src.Query, "S.", schema+".")
			for _, pageSize := range []int{1, 2, 100} {
				cfg := extract.PostgresConfig{URL: pgtest.URL(t), PageSize: pageSize, Entities: map[extract.Entity]extract.EntitySource{tc.entity: tc.src}}
				got, bad := readAll(t, cfg, tc.entity)
				want := make([]string, len(tc.want))
				for i, w := range tc.want {
					want[i] = fmt.Sprintf("%+v", w)
				}
				if !slices.Equal(got, want) {
					t.Errorf("page size %d: records\n got %q\nwant %q", pageSize, got, want)
				}
				slices.Sort(bad)
				if !slices.Equal(bad, tc.wantBad) {
					t.Errorf("page size %d: bad rows\n got %q\nwant %q", pageSize, bad, tc.wantBad)
				}
			}
		})
	}
}

// Rows sharing a key straddle page boundaries; OFFSET must neither lose nor repeat
// them.
func TestPostgresDuplicateKeys(t *testing.T) {
	conn, schema := pgSchema(t)
	exec(t, conn, fmt.Sprintf(`CREATE TABLE %[1]s.u (id text, nick text);
INSERT INTO %[1]s.u SELECT CASE WHEN i %% 3 = 0 THEN 'dup' ELSE 'u' || i END, 'n' || i FROM generate_series(1, 40) i;
INSERT INTO %[1]s.u VALUES (NULL, 'null1'), (NULL, 'null2'), ('', 'empty');`, schema))
	for _, pageSize := range []int{1, 2, 5, 7} {
		cfg := extract.PostgresConfig{URL: pgtest.URL(t), PageSize: pageSize,
			Entities: map[extract.Entity]extract.EntitySource{extract.Users: {Query: "SELECT * FROM " + schema + ".u"}}}
		var nicks []string
		var bad int
		r, err := extract.NewPostgresReader(context.Background(), cfg, extract.Options{OnBadRow: func(extract.BadRow) { bad++ }})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Users(context.Background(), func(u extract.User) error { nicks = append(nicks, u.Nick); return nil }); err != nil {
			t.Fatal(err)
		}
		r.Close()
		slices.Sort(nicks)
		if n := len(slices.Compact(slices.Clone(nicks))); n != 40 || len(nicks) != 40 {
			t.Errorf("page size %d: read %d users (%d distinct), want 40 distinct", pageSize, len(nicks), n)
		}
		if bad != 3 {
			t.Errorf("page size %d: %d bad rows, want 3 (two NULL ids, one empty)", pageSize, bad)
		}
	}
}

// TestPostgresAgreesWithCSV feeds the same random messages to both readers and expects
// the same sequence: the SQL order keys must order text times exactly as Go parses
// them, whatever the zone, fraction or validity.
func TestPostgresAgreesWithCSV(t *testing.T) {
	conn, _ := pgSchema(t)
	rng := mrand.New(mrand.NewPCG(1, 2))
	zones := []string{"Z", "z", "+00", "+08", "-0230", "+05:45", "-11:00", "+01:02:03", ""}
	texts := map[extract.TimeFormat]func() string{
		extract.TimeTimestamptz: func() string {
			sec := 1700000000 + rng.Int64N(7200)
			zone := zones[rng.IntN(len(zones))]
			base := time.Unix(sec, 0).UTC()
			if zone != "" && zone != "Z" && zone != "z" {
				off := zoneSeconds(zone)
				base = base.Add(time.Duration(off) * time.Second)
			}
			s := base.Format("2006-01-02")
			if rng.IntN(2) == 0 {
				s += "T"
			} else {
				s += " "
			}
			s += base.Format("15:04:05")
			if rng.IntN(2) == 0 {
				s += "."
				for range 1 + rng.IntN(9) {
					s += fmt.Sprint(rng.IntN(10))
				}
			}
			switch rng.IntN(20) {
			case 0:
				return "2023-02-29T00:00:00Z" // impossible date
			case 1:
				return "garbage"
			case 2:
				return ""
			}
			return s + zone
		},
		extract.TimeUnix: func() string {
			switch rng.IntN(12) {
			case 0:
				return "1.2.3"
			case 1:
				return ""
			case 2:
				return "-" + fmt.Sprint(rng.IntN(100)) + ".5"
			}
			s := fmt.Sprint(1700000000 + rng.IntN(50))
			if rng.IntN(2) == 0 {
				s += "."
				for range 1 + rng.IntN(10) { // 10 digits is one too many
					s += fmt.Sprint(rng.IntN(10))
				}
			}
			return s
		},
	}
	texts[extract.TimeRFC3339] = texts[extract.TimeTimestamptz]
	texts[extract.TimeUnixMS] = func() string {
		if rng.IntN(10) == 0 {
			return "12.5"
		}
		return fmt.Sprint(1700000000000 + rng.IntN(100))
	}
	for _, tf := range []extract.TimeFormat{extract.TimeTimestamptz, extract.TimeRFC3339, extract.TimeUnix, extract.TimeUnixMS} {
		t.Run(string(tf), func(t *testing.T) {
			// Bytewise, "B" < "a" < "b" < "c" < "ä", unlike most collations.
			users := []string{"a", "b", "c", "ä", "B"}
			tab := extracttest.Table{Columns: []string{"id", "sender_id", "recipient_id", "sent_at", "text"}}
			// Unique ids keep the order total, so ties cannot be broken differently.
			for i, id := range rng.Perm(300) {
				tab.Rows = append(tab.Rows, []string{
					fmt.Sprint(id), users[rng.IntN(len(users))], users[rng.IntN(len(users))], texts[tf](), fmt.Sprint(i),
				})
			}
			ds := extracttest.Dataset{Time: tf, Tables: map[extract.Entity]extracttest.Table{extract.DirectMessages: tab}}

			var csvBad, pgBad []string
			csvCfg := extracttest.WriteCSV(t, t.TempDir(), ds, ',')
			csvCfg.TempDir = t.TempDir()
			cr, err := extract.NewCSVReader(csvCfg, extract.Options{OnBadRow: func(b extract.BadRow) { csvBad = append(csvBad, b.Rule) }})
			if err != nil {
				t.Fatal(err)
			}
			defer cr.Close()
			_, schema := pgSchema(t)
			exec(t, conn, extracttest.SchemaSQL(ds, schema))
			pr, err := extract.NewPostgresReader(context.Background(), extract.PostgresConfig{
				URL: pgtest.URL(t), PageSize: 16, Entities: extracttest.PostgresEntities(ds, schema),
			}, extract.Options{OnBadRow: func(b extract.BadRow) { pgBad = append(pgBad, b.Rule) }})
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()

			read := func(r extract.Reader) []string {
				var out []string
				if err := r.DirectMessages(context.Background(), func(m extract.Message) error {
					m.Origin = extract.Origin{}
					out = append(out, fmt.Sprintf("%+v", m))
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				return out
			}
			fromCSV, fromPG := read(cr), read(pr)
			if len(fromCSV) < 100 {
				t.Fatalf("only %d of 300 rows readable: the generator is off", len(fromCSV))
			}
			if !slices.Equal(fromCSV, fromPG) {
				for i := range min(len(fromCSV), len(fromPG)) {
					if fromCSV[i] != fromPG[i] {
						t.Fatalf("first difference at record %d of %d/%d:\ncsv %s\npg  %s", i, len(fromCSV), len(fromPG), fromCSV[i], fromPG[i])
					}
				}
				t.Fatalf("csv read %d records, postgres %d", len(fromCSV), len(fromPG))
			}
			slices.Sort(csvBad)
			slices.Sort(pgBad)
			if !slices.Equal(csvBad, pgBad) {
				t.Errorf("bad rows differ:\ncsv %q\npg  %q", csvBad, pgBad)
			}
		})
	}
}

func zoneSeconds(z string) int {
	sign := 1
	if z[0] == '-' {
		sign = -1
	}
	d := strings.ReplaceAll(z[1:], ":", "")
	var h, m, s int
	fmt.Sscanf(d[:2], "%d", &h)
	if len(d) >= 4 {
		fmt.Sscanf(d[2:4], "%d", &m)
	}
	if len(d) >= 6 {
		fmt.Sscanf(d[4:6], "%d", &s)
	}
	return sign * (h*3600 + m*60 + s)
}

func TestNewPostgresReaderErrors(t *testing.T) {
	conn, schema := pgSchema(t)
	exec(t, conn, fmt.Sprintf(`CREATE TABLE %[1]s.m (id text, group_id text, sender_id text, sent_at text, n bigint, j jsonb);`, schema))
	from := " FROM " + schema + ".m"
	cases := []struct {
		name      string
		entity    extract.Entity
		src       extract.EntitySource
		want      string
		configErr bool
	}{
		{"no query", extract.Users, extract.EntitySource{}, "no query", true},
		{"required column absent", extract.GroupMessages,
			extract.EntitySource{Query: "SELECT id, group_id, sent_at" + from}, `required field "sender_id"`, true},
		{"mapped column absent", extract.GroupMessages,
			extract.EntitySource{Query: "SELECT *" + from, Columns: map[string]string{"text": "body"}}, `no column "body"`, true},
		{"duplicate column", extract.Users,
			extract.EntitySource{Query: "SELECT id, id" + from}, "more than once", true},
		{"Go layout on an ordered text time", extract.GroupMessages,
			extract.EntitySource{Query: "SELECT *" + from, Time: "2006/01/02"}, "cannot be ordered in SQL", true},
		{"numeric time with a text format", extract.GroupMessages,
			extract.EntitySource{Query: "SELECT id, group_id, sender_id, n AS sent_at" + from}, "unix or unix_ms", true},
		{"json time", extract.GroupMessages,
			extract.EntitySource{Query: "SELECT id, group_id, sender_id, j AS sent_at" + from}, "a time must be", true},
		// The mapping's SQL does not compile (SQLSTATE class 42): the user must fix
		// the mapping, so it is a configuration error like a missing column.
		{"SQL error", extract.Users, extract.EntitySource{Query: "SELECT nope" + from}, "users: query", true},
		{"no such table", extract.Users, extract.EntitySource{Query: "SELECT id FROM " + schema + ".nosuchtable"}, "users: query", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := extract.NewPostgresReader(context.Background(), extract.PostgresConfig{
				URL: pgtest.URL(t), Entities: map[extract.Entity]extract.EntitySource{tc.entity: tc.src},
			}, extract.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, extract.ErrConfig) != tc.configErr {
				t.Errorf("err = %v, want one mentioning %q (ErrConfig: %v)", err, tc.want, tc.configErr)
			}
		})
	}
	// A Go layout is fine where the time orders nothing.
	_, err := extract.NewPostgresReader(context.Background(), extract.PostgresConfig{URL: pgtest.URL(t),
		Entities: map[extract.Entity]extract.EntitySource{extract.Users: {Query: "SELECT id, sent_at AS created_at" + from, Time: "2006/01/02"}},
	}, extract.Options{})
	if err != nil {
		t.Errorf("Go layout for users: %v", err)
	}
}

func TestPostgresErrorsHideThePassword(t *testing.T) {
	for _, url := range []string{
		"postgres://immigrate:s3cr3t-pw@127.0.0.1:1/nodb?sslmode=disable&connect_timeout=2",
		"postgres://immigrate:s3cr3t-pw@127.0.0.1:notaport/db",
		"host=127.0.0.1 port=1 password=s3cr3t-pw connect_timeout=2",
	} {
		_, err := extract.NewPostgresReader(context.Background(), extract.PostgresConfig{URL: url}, extract.Options{})
		if err == nil {
			t.Fatalf("connecting to %s succeeded", "a closed port")
		}
		if strings.Contains(err.Error(), "s3cr3t-pw") {
			t.Errorf("error reveals the password: %v", err)
		}
	}
}

func pgxCopyRows(rows [][]any) pgx.CopyFromSource { return pgx.CopyFromRows(rows) }

// TestPostgresColumnTypes: a column whose type does not fit its field is refused
// from the probe's field descriptions, before any row is read, naming the entity,
// the column, the field and the type (issue 13). PostgreSQL prints an array id as
// {u01}, which would otherwise be imported as that text.
func TestPostgresColumnTypes(t *testing.T) {
	conn, schema := pgSchema(t)
	exec(t, conn, strings.ReplaceAll(`
CREATE TYPE S.kind AS ENUM ('text', 'card');
CREATE TABLE S.u (id text, n bigint, nick text, b bytea, j jsonb, js json, at timestamptz, d date, uid uuid, k S.kind);
INSERT INTO S.u VALUES ('u01', 7, 'Ann', 'x', '{"a": 1}', '"u02"', '2024-05-01 10:00:00+00', '2024-05-01',
  '6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'card');
CREATE TABLE S.m (id text, g text, s text, at timestamptz, k S.kind, p jsonb, sz bigint);
INSERT INTO S.m VALUES ('m1', 'g1', 'u01', '2024-05-01 10:00:00+00', 'card', '{"lat": 1}', 12);
`, "S.", schema+"."))
	from := func(table string) string { return " FROM " + schema + "." + table }
	refused := []struct {
		name   string
		entity extract.Entity
		src    extract.EntitySource
		want   []string
	}{
		{"array id", extract.Users, extract.EntitySource{Query: "SELECT ARRAY[id] AS id" + from("u")},
			[]string{`users query: column "id" (field id) has type text[]; an id must be`, "col[1]"}},
		{"composite id", extract.Users, extract.EntitySource{Query: "SELECT ROW(id, nick) AS id" + from("u")},
			[]string{`column "id" (field id) has type record`}},
		{"jsonb id", extract.Users, extract.EntitySource{Query: "SELECT j AS user_key" + from("u"), Columns: map[string]string{"id": "user_key"}},
			[]string{`users query: column "user_key" (field id) has type jsonb`, "->>"}},
		{"json text", extract.Users, extract.EntitySource{Query: "SELECT id, js AS nick" + from("u")},
			[]string{`column "nick" (field nick) has type json; a text field`}},
		{"bytea text", extract.Users, extract.EntitySource{Query: "SELECT id, b AS nick" + from("u")},
			[]string{`column "nick" (field nick) has type bytea`, "convert_from"}},
		{"jsonb time", extract.Users, extract.EntitySource{Query: "SELECT id, j AS created_at" + from("u")},
			[]string{`column "created_at" (field created_at) has type jsonb; a time must be`}},
		{"date time", extract.GroupMessages, extract.EntitySource{Query: "SELECT id, g AS group_id, s AS sender_id, d::date AS sent_at FROM (SELECT m.*, now()::date AS d" + from("m") + " m) x"},
			[]string{`group_messages query: column "sent_at" (field sent_at) has type date`}},
		{"array payload", extract.GroupMessages, extract.EntitySource{Query: "SELECT id, g AS group_id, s AS sender_id, at AS sent_at, ARRAY[p] AS payload" + from("m")},
			[]string{`column "payload" (field payload) has type jsonb[]; a payload must be`}},
		{"array count", extract.GroupMessages, extract.EntitySource{Query: "SELECT id, g AS group_id, s AS sender_id, at AS sent_at, ARRAY[sz] AS size" + from("m")},
			[]string{`column "size" (field size) has type bigint[]`}},
		{"two bad columns", extract.Users, extract.EntitySource{Query: "SELECT ARRAY[id] AS id, b AS nick" + from("u")},
			[]string{`"id" (field id) has type text[]`, `"nick" (field nick) has type bytea`}},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			_, err := extract.NewPostgresReader(context.Background(), extract.PostgresConfig{
				URL: pgtest.URL(t), Entities: map[extract.Entity]extract.EntitySource{tc.entity: tc.src},
			}, extract.Options{})
			if !errors.Is(err, extract.ErrConfig) {
				t.Fatalf("err = %v, want an ErrConfig", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to mention %q", err, w)
				}
			}
		})
	}

	// Scalars that print as one value are read as before.
	cfg := extract.PostgresConfig{URL: pgtest.URL(t), Entities: map[extract.Entity]extract.EntitySource{
		extract.Users: {Query: "SELECT n AS id, k AS nick, uid::uuid AS face_url, at AS created_at" + from("u")},
		extract.GroupMessages: {Query: "SELECT id, g AS group_id, s AS sender_id, at AS sent_at, k AS kind, p AS payload, sz::numeric AS size" +
			from("m")},
		extract.Friends: {Query: "SELECT uid AS user_id, id AS friend_id, js #>> '{}' AS remark, at AS added_at" + from("u")},
	}}
	for e, want := range map[extract.Entity]string{
		extract.Users:         "{ID:7 Nick:card FaceURL:6ba7b810-9dad-11d1-80b4-00c04fd430c8 CreatedAt:2024-05-01 10:00:00 +0000 UTC",
		extract.GroupMessages: `Kind:card Text: Payload:{"lat": 1} URL: FileName: Size:12`,
		extract.Friends:       "{UserID:6ba7b810-9dad-11d1-80b4-00c04fd430c8 FriendID:u01 Remark:u02 ",
	} {
		recs, bad := readAll(t, cfg, e)
		if len(recs) != 1 || len(bad) != 0 || !strings.Contains(recs[0], want) {
			t.Errorf("%s: records %q, bad rows %q; want one containing %q", e, recs, bad, want)
		}
	}
}

// TestPostgresQueryTopLevel: the reader wraps the query as a subquery and pages it
// with its own ORDER BY and LIMIT, so a final semicolon (with comments after it) is
// dropped, and an ORDER BY, LIMIT, OFFSET or FETCH at the query's top level, or a
// second statement, is refused naming the entity (issue 13); the same words inside
// parentheses, strings, quoted identifiers or comments are the user's business.
func TestPostgresQueryTopLevel(t *testing.T) {
	conn, schema := pgSchema(t)
	exec(t, conn, strings.ReplaceAll(`
CREATE TABLE S.u (id text, nick text, created_at timestamptz);
INSERT INTO S.u VALUES ('u2', 'Bo', '2024-05-01 10:00:00+00'), ('u1', 'Ann', '2024-05-02 10:00:00+00');
`, "S.", schema+"."))
	u := schema + ".u"
	accepted := []struct {
		name, query string
		columns     map[string]string
		want        string // the records' ids and nicks
	}{
		{"semicolon", "SELECT id, nick FROM " + u + ";", nil, "u1 Ann, u2 Bo"},
		{"semicolon, spaces and a comment", "SELECT id, nick FROM " + u + " ;  -- the end\n\t", nil, "u1 Ann, u2 Bo"},
		{"semicolons and a block comment", "SELECT id, nick FROM " + u + "; /* done; ORDER BY */ ;\n", nil, "u1 Ann, u2 Bo"},
		{"a line comment last", "SELECT id, nick FROM " + u + " -- ORDER BY id;", nil, "u1 Ann, u2 Bo"},
		{"ORDER BY in a window", "SELECT id, row_number() OVER (ORDER BY created_at)::text AS nick FROM " + u, nil, "u1 2, u2 1"},
		{"ORDER BY and LIMIT in a subquery", "SELECT * FROM (SELECT id, nick FROM " + u + " ORDER BY created_at LIMIT 1) AS t", nil, "u2 Bo"},
		{"ORDER BY in a CTE", "WITH x AS (SELECT * FROM " + u + " ORDER BY id) SELECT id, nick FROM x;", nil, "u1 Ann, u2 Bo"},
		{"in a string", "SELECT id, 'x; ORDER BY y LIMIT 1' AS nick FROM " + u, nil, "u1 x; ORDER BY y LIMIT 1, u2 x; ORDER BY y LIMIT 1"},
		{"in an escape string", `SELECT id, E'it\'s; ORDER BY' AS nick FROM ` + u, nil, "u1 it's; ORDER BY, u2 it's; ORDER BY"},
		{"in a dollar-quoted string", "SELECT id, $q$; ORDER BY $q$ AS nick FROM " + u, nil, "u1 ; ORDER BY , u2 ; ORDER BY "},
		{"quoted identifier", `SELECT id, nick AS "order by" FROM ` + u, map[string]string{"nick": "order by"}, "u1 Ann, u2 Bo"},
		{"keyword as a column label", "SELECT id, nick AS limit FROM " + u, map[string]string{"nick": "limit"}, "u1 Ann, u2 Bo"},
	}
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			cfg := extract.PostgresConfig{URL: pgtest.URL(t), Entities: map[extract.Entity]extract.EntitySource{
				extract.Users: {Query: tc.query, Columns: tc.columns}}}
			r, err := extract.NewPostgresReader(context.Background(), cfg, extract.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got []string
			err = r.Users(context.Background(), func(u extract.User) error { got = append(got, u.ID+" "+u.Nick); return nil })
			if err != nil {
				t.Fatal(err)
			}
			if s := strings.Join(got, ", "); s != tc.want {
				t.Errorf("read %q, want %q", s, tc.want)
			}
		})
	}

	refused := []struct{ name, query, want string }{
		{"ORDER BY and a semicolon", "SELECT id FROM " + u + " ORDER BY created_at;", "users query has an ORDER BY at its top level: the reader orders the rows by the entity's stream order"},
		{"ORDER BY", "SELECT id FROM " + u + "\norder  by created_at DESC -- newest first", "ORDER BY at its top level"},
		{"ORDER BY after a UNION", "SELECT id FROM " + u + " UNION ALL (SELECT id FROM " + u + ") ORDER BY 1", "ORDER BY at its top level"},
		{"LIMIT", "SELECT id FROM " + u + " LIMIT 10;", "users query has a LIMIT at its top level: the reader pages the rows itself"},
		{"OFFSET", "SELECT id FROM " + u + " OFFSET 1", "OFFSET at its top level"},
		{"FETCH", "SELECT id FROM " + u + " FETCH FIRST 1 ROWS ONLY", "FETCH at its top level"},
		{"two statements", "SELECT id FROM " + u + "; DROP TABLE " + u, "users query holds more than one statement"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			_, err := extract.NewPostgresReader(context.Background(), extract.PostgresConfig{URL: pgtest.URL(t),
				Entities: map[extract.Entity]extract.EntitySource{extract.Users: {Query: tc.query}}}, extract.Options{})
			if !errors.Is(err, extract.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant an ErrConfig containing %q", err, tc.want)
			}
		})
	}
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM "+u).Scan(&n); err != nil || n != 2 {
		t.Errorf("the table after the test: %d rows, %v", n, err)
	}
}

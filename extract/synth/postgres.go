package synth

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"iter"

	"github.com/jackc/pgx/v5"

	"github.com/immigrate/immigrate/extract"
)

//go:embed schema.sql
var schemaSQL string

// Schema returns the DDL of the legacy PostgreSQL schema (schema.sql). It creates
// its tables in the current search_path.
func Schema() string { return schemaSQL }

// ErrSchemaExists is returned by LoadPostgres when the target schema exists and
// replacing it was not asked for.
var ErrSchemaExists = errors.New("synth: schema already exists")

// PostgresOptions says where LoadPostgres loads.
type PostgresOptions struct {
	// URL is the pgx connection string. It may hold a password: never printed.
	URL string
	// Schema is created and receives the tables of Schema().
	Schema string
	// Replace drops an existing schema of that name first (CASCADE).
	Replace bool
	// OnPlanted, if set, receives each planted record loaded (without an origin;
	// records only a CSV file can hold are not loaded).
	OnPlanted func(Planted) error
}

// LoadPostgres creates opt.Schema and loads the dataset of cfg into it with COPY.
// Rows that only a text file can hold (ragged rows, invalid UTF-8, unparsable
// timestamps or numbers) are left out: a reader skips them from a CSV file too, so
// both sources give the same records. Point a mapping at the schema by adding
// search_path=<schema> to the connection string (see postgres.yaml).
func LoadPostgres(ctx context.Context, cfg Config, opt PostgresOptions) (Summary, error) {
	g, err := newGenerator(cfg)
	if err != nil {
		return Summary{}, err
	}
	if opt.Schema == "" {
		return Summary{}, errors.New("synth: no schema name")
	}
	if cfg.extras() {
		return Summary{}, errors.New("synth: topic groups, rich and split messages are written to CSV only")
	}
	conn, err := pgx.Connect(ctx, opt.URL)
	if err != nil {
		return Summary{}, fmt.Errorf("synth: connect to postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	schema := pgx.Identifier{opt.Schema}.Sanitize()
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, opt.Schema).Scan(&exists); err != nil {
		return Summary{}, fmt.Errorf("synth: %w", err)
	}
	if exists && !opt.Replace {
		return Summary{}, fmt.Errorf("%w: %s", ErrSchemaExists, opt.Schema)
	}
	setup := []string{
		`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE`,
		`CREATE SCHEMA ` + schema,
		`SET search_path TO ` + schema,
		schemaSQL,
	}
	for _, q := range setup {
		if _, err := conn.Exec(ctx, q); err != nil {
			return Summary{}, fmt.Errorf("synth: create schema %s: %w", opt.Schema, err)
		}
	}

	sum := Summary{Rows: map[extract.Entity]int{}}
	onPlant := func(e extract.Entity, p plant) error {
		if p.kind == nil {
			return nil
		}
		sum.Planted++
		if opt.OnPlanted == nil {
			return nil
		}
		return opt.OnPlanted(plantedOf(e, p, ""))
	}
	type load struct {
		table  string
		cols   []string
		entity extract.Entity // "" for a table that holds no records of its own
		rows   iter.Seq[*valued]
	}
	loads := []load{
		{"users", []string{"id", "nickname", "avatar_url", "created_at", "gender", "birthday", "kind", "active"}, extract.Users,
			rowValues(g.userRows, func(u *userRow, v []any) (plant, bool) {
				v[0], v[1], v[2], v[3] = u.id, null(u.nick), null(u.face), u.created
				v[4], v[5], v[6], v[7] = null(u.gender), nil, null(u.kind), null(u.active)
				if !u.birthday.IsZero() {
					v[5] = u.birthday
				}
				return u.plant, true
			})},
		{"chat_groups", []string{"id", "owner_id", "group_type", "name", "intro", "notice", "avatar_url", "max_members", "created_at"}, extract.Groups,
			rowValues(g.groupRows, func(r *groupRow, v []any) (plant, bool) {
				v[0], v[1], v[2], v[3], v[4], v[5], v[6] = r.id, null(r.owner), null(r.typ), null(r.name), null(r.intro), null(r.notice), null(r.face)
				v[7], v[8] = nullInt(int64(r.maxMembers)), r.created
				return r.plant, true
			})},
		{"group_members", []string{"group_id", "user_id", "role", "joined_at", "unread_count"}, extract.Members,
			rowValues(g.memberRows, func(m *memberRow, v []any) (plant, bool) {
				v[0], v[1], v[2], v[3], v[4] = m.group, m.user, null(m.role), m.joined, nil
				if m.hasUnread {
					v[4] = int64(m.unread)
				}
				return m.plant, m.defect == defectNone
			})},
		{"messages", messageCols, extract.GroupMessages, rowValues(g.groupMessageRows, messageValues)},
		{"messages", messageCols, extract.DirectMessages, rowValues(g.directMessageRows, messageValues)},
		{"attachments", attachmentCols, "", rowValues(g.groupMessageRows, attachmentValues)},
		{"attachments", attachmentCols, "", rowValues(g.directMessageRows, attachmentValues)},
	}
	if g.cfg.GroupDMs > 0 {
		loads = append(loads, load{"group_dms", []string{"id", "members", "created_at", "title", "creator_id"}, extract.GroupDMs,
			rowValues(g.groupDMRows, groupDMValues)})
	}
	if g.cfg.Friends > 0 {
		loads = append(loads, load{"friendships", []string{"user_id", "friend_id", "remark", "created_at"}, extract.Friends,
			rowValues(g.friendRows, func(f *friendRow, v []any) (plant, bool) {
				v[0], v[1], v[2], v[3] = f.user, f.friend, null(f.remark), f.added
				return plant{}, true
			})})
	}
	for _, l := range loads {
		n, err := copyRows(ctx, conn, pgx.Identifier{opt.Schema, l.table}, l.cols, l.rows, func(p plant) error {
			if l.entity == "" {
				return nil
			}
			return onPlant(l.entity, p)
		})
		if l.entity != "" {
			sum.Rows[l.entity] += n
		}
		if err != nil {
			return sum, fmt.Errorf("synth: load %s: %w", l.table, err)
		}
	}
	for _, q := range indexes {
		if _, err := conn.Exec(ctx, q); err != nil {
			return sum, fmt.Errorf("synth: index: %w", err)
		}
	}
	return sum, nil
}

// indexes let PostgreSQL serve each page of the reader's keyset pagination from an
// index instead of sorting the whole query per page. The reader wraps the mapping's
// query and orders by NULL-safe, collation-"C" expressions of its output columns
// (extract.PostgresReader); an expression index on exactly those expressions of the
// base columns matches once PostgreSQL flattens the subqueries, so a page costs its
// own rows (about 25 ms for 10,000 messages instead of 0.4-0.8 s at 100,000). A
// user's database wants the same indexes on its own tables. They are created after
// the load, which is faster than maintaining them during COPY.
var indexes = []string{
	`CREATE INDEX ON users ((COALESCE(id::text, '') COLLATE "C"))`,
	`CREATE INDEX ON chat_groups ((COALESCE(id::text, '') COLLATE "C"))`,
	`CREATE INDEX ON group_members ((COALESCE(group_id::text, '') COLLATE "C"),
		(COALESCE(joined_at, '-infinity'::timestamptz)), (COALESCE(user_id::text, '') COLLATE "C"))`,
	`CREATE INDEX ON messages ((COALESCE(group_id::text, '') COLLATE "C"), (COALESCE(created_at, '-infinity'::timestamptz)),
		(octet_length(COALESCE(id::text::text, ''))), (COALESCE(id::text::text, '') COLLATE "C")) WHERE group_id IS NOT NULL`,
	`CREATE INDEX ON messages (
		(LEAST(COALESCE(sender_id::text, '') COLLATE "C", COALESCE(recipient_id::text, '') COLLATE "C")),
		(GREATEST(COALESCE(sender_id::text, '') COLLATE "C", COALESCE(recipient_id::text, '') COLLATE "C")),
		(COALESCE(created_at, '-infinity'::timestamptz)),
		(octet_length(COALESCE(id::text::text, ''))), (COALESCE(id::text::text, '') COLLATE "C")) WHERE recipient_id IS NOT NULL`,
	`CREATE INDEX ON attachments (message_id)`,
	`CREATE INDEX ON friendships ((COALESCE(user_id::text, '') COLLATE "C"), (COALESCE(friend_id::text, '') COLLATE "C"))`,
	`ANALYZE`,
}

var (
	messageCols    = []string{"id", "group_id", "sender_id", "recipient_id", "created_at", "msg_type", "content", "extra"}
	attachmentCols = []string{"message_id", "url", "file_name", "size_bytes", "width", "height", "duration_s"}
)

// messageValues renders a message row; rows only a CSV file can hold are left out.
func messageValues(m *messageRow, v []any) (plant, bool) {
	v[0], v[1], v[2], v[3], v[4] = m.id, null(m.group), null(m.sender), null(m.recipient), m.sent
	v[5], v[6], v[7] = null(m.kind), null(m.text), null(m.payload)
	return m.plant, m.defect == defectNone
}

func attachmentValues(m *messageRow, v []any) (plant, bool) {
	v[0], v[1], v[2], v[3] = m.id, null(m.url), null(m.fileName), nullInt(m.size)
	v[4], v[5], v[6] = nullInt(int64(m.width)), nullInt(int64(m.height)), nullInt(int64(m.duration))
	return plant{}, m.hasMedia && m.defect == defectNone
}

func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// valued is a row rendered for COPY, with what was planted in it.
type valued struct {
	values []any
	plant  plant
}

// rowValues renders a row stream into COPY values (one reused row), dropping the
// rows render refuses.
func rowValues[T any](rows func(func(*T) bool), render func(*T, []any) (plant, bool)) iter.Seq[*valued] {
	return func(yield func(*valued) bool) {
		var buf [16]any
		out := &valued{}
		rows(func(row *T) bool {
			clear(buf[:])
			p, ok := render(row, buf[:])
			if !ok {
				return true
			}
			out.values, out.plant = buf[:], p
			return yield(out)
		})
	}
}

// copyRows streams rows into table with COPY, calling onPlant for each row's plant.
// pgx pulls the rows on its own goroutine, one at a time, as iter.Pull requires.
func copyRows(ctx context.Context, conn *pgx.Conn, table pgx.Identifier, cols []string, rows iter.Seq[*valued], onPlant func(plant) error) (int, error) {
	next, stop := iter.Pull(rows)
	defer stop()
	n := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		v, ok := next()
		if !ok {
			return nil, nil
		}
		if err := onPlant(v.plant); err != nil {
			return nil, err
		}
		n++
		return v.values[:len(cols)], nil
	})
	_, err := conn.CopyFrom(ctx, table, cols, src)
	return n, err
}

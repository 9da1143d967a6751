package extract

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
)

// PostgresReader reads legacy records from PostgreSQL through one user query per
// entity. It implements Reader.
//
// Each query is wrapped as a subquery and read in keyset pages,
//
//	SELECT … FROM (<query>) q WHERE (<order key>) > (<last key>) ORDER BY <order key> LIMIT <page+1>
//
// so every statement is short: no snapshot is held open while the migration runs for
// hours. The flip side is that pages see different snapshots; consistency across
// pages is the user's concern — migrate from a frozen source, a replica whose replay
// is paused, or a snapshot copy. A page never ends inside a run of rows sharing one
// key (duplicates in the source), so they are neither lost nor repeated.
//
// The order key is the Reader order written in SQL (strings COLLATE "C", ids by
// octet_length then bytes). Each page is as fast as the server finds its first row:
// with an expression index on exactly that key a page costs its own rows; without
// one, every page scans and top-N sorts the whole query. For a large source that is
// one table (or a copy of the query into one), create the index; for direct messages
// with a timestamptz sent_at it is
//
//	CREATE INDEX ON dm (
//	  (LEAST(COALESCE(sender_id::text, '') COLLATE "C", COALESCE(recipient_id::text, '') COLLATE "C")),
//	  (GREATEST(COALESCE(sender_id::text, '') COLLATE "C", COALESCE(recipient_id::text, '') COLLATE "C")),
//	  (COALESCE(sent_at, '-infinity'::timestamptz)),
//	  (octet_length(COALESCE(id::text, ''))),
//	  (COALESCE(id::text, '') COLLATE "C"))
//
// and for group messages the same over group_id, then the last three.
//
// Values are read as PostgreSQL prints them (the session runs with TimeZone UTC and
// DateStyle ISO), so a column's type must print as one value of its field: ids are
// text, varchar, char, an integer, numeric or uuid; counts and sizes a number or
// text; text fields any scalar (enums included) but not json or bytea; payloads any
// scalar or json. Arrays and composite values fit no field. A column of another
// type is refused when the reader is made, from the probe's column types. Time
// columns: timestamptz and
// timestamp columns are used as they are whatever the TimeFormat says; integer,
// numeric and floating columns need TimeFormat unix or unix_ms; text columns take any
// format, but the time of members and messages orders them, so in text it must be
// unix, unix_ms, timestamptz or rfc3339 (a Go layout cannot be ordered in SQL: convert
// it in the query). A text time column that does not parse sorts first and is
// reported as a BadRow, or dropped from its record when it is optional (see
// Options.RejectUnreadable).
//
// Each page is read whole (at most PageSize+1 rows), then its records are handed to
// fn, so no statement stays open while fn works.
//
// Methods may run concurrently: each read takes its own connection.
type PostgresReader struct {
	connCfg  *pgx.ConnConfig
	pageSize int
	opt      Options
	plans    map[Entity]*pgPlan

	mu     sync.Mutex
	idle   []*pgx.Conn // connections kept for the next read
	closed bool
}

// maxIdleConns bounds the connections kept between reads; one per entity that may
// be read at the same time is plenty.
const maxIdleConns = 4

// conn returns an idle connection or opens one.
func (r *PostgresReader) conn(ctx context.Context) (*pgx.Conn, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	if n := len(r.idle); n > 0 {
		c := r.idle[n-1]
		r.idle = r.idle[:n-1]
		r.mu.Unlock()
		return c, nil
	}
	r.mu.Unlock()
	c, err := pgx.ConnectConfig(ctx, r.connCfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return c, nil
}

// release keeps c for the next read unless it is broken or there are enough.
func (r *PostgresReader) release(c *pgx.Conn) {
	r.mu.Lock()
	if !r.closed && !c.IsClosed() && !c.PgConn().IsBusy() && len(r.idle) < maxIdleConns {
		r.idle = append(r.idle, c)
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	_ = c.Close(context.Background())
}

// NewPostgresReader connects and checks each configured query's columns (with a
// LIMIT 0 probe), so a wrong query or a missing column is reported before any record
// is read. Errors never contain the connection URL.
func NewPostgresReader(ctx context.Context, cfg PostgresConfig, opt Options) (*PostgresReader, error) {
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	if err := validateSources(cfg.Entities, false); err != nil {
		return nil, err
	}
	cc, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		// The parse error may quote the URL, password included: leave it out.
		return nil, fmt.Errorf("%w: postgres: the connection URL does not parse", ErrConfig)
	}
	// Fixed session settings make printed times parseable and comparable.
	cc.RuntimeParams["timezone"] = "UTC"
	cc.RuntimeParams["datestyle"] = "ISO, MDY"
	if cc.RuntimeParams["application_name"] == "" {
		cc.RuntimeParams["application_name"] = "immigrate-extract"
	}
	r := &PostgresReader{connCfg: cc, pageSize: cfg.PageSize, opt: opt, plans: map[Entity]*pgPlan{}}
	c, err := r.conn(ctx)
	if err != nil {
		return nil, err
	}
	for _, e := range Entities() {
		src, ok := cfg.Entities[e]
		if !ok {
			continue
		}
		p, err := r.plan(ctx, c, e, src)
		if err != nil {
			_ = c.Close(context.Background())
			return nil, err
		}
		r.plans[e] = p
	}
	r.release(c)
	return r, nil
}

// Close closes the idle connections; reads in progress close theirs when they end.
// Reads that start after Close fail with ErrClosed.
func (r *PostgresReader) Close() error {
	r.mu.Lock()
	idle := r.idle
	r.idle, r.closed = nil, true
	r.mu.Unlock()
	var errs []error
	for _, c := range idle {
		if err := c.Close(context.Background()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Users implements Reader.
func (r *PostgresReader) Users(ctx context.Context, fn func(User) error) error {
	return pgRead(ctx, r, Users, (*decoder).user, fn)
}

// Groups implements Reader.
func (r *PostgresReader) Groups(ctx context.Context, fn func(Group) error) error {
	return pgRead(ctx, r, Groups, (*decoder).group, fn)
}

// Members implements Reader.
func (r *PostgresReader) Members(ctx context.Context, fn func(Member) error) error {
	return pgRead(ctx, r, Members, (*decoder).member, fn)
}

// GroupMessages implements Reader.
func (r *PostgresReader) GroupMessages(ctx context.Context, fn func(Message) error) error {
	return pgRead(ctx, r, GroupMessages, (*decoder).message, fn)
}

// DirectMessages implements Reader.
func (r *PostgresReader) DirectMessages(ctx context.Context, fn func(Message) error) error {
	return pgRead(ctx, r, DirectMessages, (*decoder).message, fn)
}

// Friends implements Reader.
func (r *PostgresReader) Friends(ctx context.Context, fn func(Friend) error) error {
	return pgRead(ctx, r, Friends, (*decoder).friend, fn)
}

// Topics implements Reader.
func (r *PostgresReader) Topics(ctx context.Context, fn func(Topic) error) error {
	return pgRead(ctx, r, Topics, (*decoder).topic, fn)
}

// Fingerprint implements Fingerprinter: the row count of each configured query,
// one SELECT count(*) over it per entity, on one connection.
func (r *PostgresReader) Fingerprint(ctx context.Context) ([]SourcePart, error) {
	c, err := r.conn(ctx)
	if err != nil {
		return nil, err
	}
	defer r.release(c)
	var parts []SourcePart
	for _, e := range Entities() {
		p, ok := r.plans[e]
		if !ok {
			continue
		}
		var n int64
		if err := c.QueryRow(ctx, p.count).Scan(&n); err != nil {
			return nil, fmt.Errorf("%s: count: %w", e, err)
		}
		parts = append(parts, SourcePart{Name: string(e) + " query", State: countState(n)})
	}
	return parts, nil
}

var (
	_ Reader        = (*PostgresReader)(nil)
	_ Fingerprinter = (*PostgresReader)(nil)
)

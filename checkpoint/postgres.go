package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5"
)

// PostgresStore is a Store in its own PostgreSQL schema, for teams that keep the
// checkpoint on a server. Every string is a bytea column, so that opaque IDs with NUL
// or invalid UTF-8 round-trip and sort as bytes. A batch is written in one round trip
// (array parameters, pipelined), through one writer connection; reads use a few
// other connections, so a read's callback may call the store again. The run lock of
// Begin is a session advisory lock, which the server drops when the session ends,
// however the process ended.
type PostgresStore struct {
	cfg     *pgx.ConnConfig
	schema  string
	lockKey int64

	wmu    sync.Mutex // one writer
	wconn  *pgx.Conn  // nil when it must be (re)connected
	locked bool       // Begin took the run lock (on wconn's session)

	mu     sync.Mutex
	idle   []*pgx.Conn // read connections waiting for reuse
	closed bool
}

var _ Store = (*PostgresStore)(nil)

// maxIdleReaders bounds the read connections kept open between reads.
const maxIdleReaders = 4

const postgresSchema = `
CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS manifest (
	id           int PRIMARY KEY CHECK (id = 1),
	mapping_hash bytea NOT NULL,
	source       bytea NOT NULL,
	target       bytea NOT NULL,
	tool_version bytea NOT NULL,
	started      bigint NOT NULL,
	resumed      bigint NOT NULL,
	runs         bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS phases (phase bytea PRIMARY KEY, done_at bigint NOT NULL);
CREATE TABLE IF NOT EXISTS marks (
	phase      bytea NOT NULL,
	stream     bytea NOT NULL,
	ordinal    bigint NOT NULL,
	legacy_id  bytea NOT NULL,
	target_seq bigint NOT NULL,
	PRIMARY KEY (phase, stream)
);
CREATE TABLE IF NOT EXISTS intents (
	phase         bytea NOT NULL,
	stream        bytea NOT NULL,
	first_ordinal bigint NOT NULL,
	last_ordinal  bigint NOT NULL,
	first_id      bytea NOT NULL,
	last_id       bytea NOT NULL,
	PRIMARY KEY (phase, stream)
);
CREATE TABLE IF NOT EXISTS id_map (
	kind      bytea NOT NULL,
	legacy_id bytea NOT NULL,
	target_id bytea NOT NULL,
	PRIMARY KEY (kind, legacy_id)
);
CREATE TABLE IF NOT EXISTS rejects (
	seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	entity    bytea NOT NULL,
	legacy_id bytea NOT NULL,
	rule      bytea NOT NULL,
	origin    bytea NOT NULL,
	message   bytea NOT NULL,
	UNIQUE (entity, legacy_id, rule)
);
CREATE TABLE IF NOT EXISTS counters (
	phase    bytea PRIMARY KEY,
	imported bigint NOT NULL,
	present  bigint NOT NULL,
	rejected bigint NOT NULL
);
`

// OpenPostgres opens the checkpoint in schema of the database at url, creating the
// schema and its tables if missing. The schema must hold nothing else. Errors never
// contain the URL (it may carry a password).
func OpenPostgres(ctx context.Context, url, schema string) (*PostgresStore, error) {
	if schema == "" {
		return nil, errors.New("open checkpoint: empty schema name")
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's parse errors redact the password, but not every malformed URL
		// parses far enough to find it: say only what kind of failure it was.
		return nil, errors.New("open checkpoint: cannot parse the PostgreSQL URL")
	}
	// Every statement names its tables unqualified: the session looks only in
	// the checkpoint's schema (pg_catalog is always searched first).
	cfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	s := &PostgresStore{cfg: cfg, schema: schema, lockKey: advisoryKey("immigrate-checkpoint:", schema)}
	s.wmu.Lock()
	err = s.init(ctx)
	s.wmu.Unlock()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open checkpoint schema %s: %w", schema, err)
	}
	return s, nil
}

// advisoryKey is the advisory lock key of purpose on schema.
func advisoryKey(purpose, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte(purpose + schema))
	return int64(h.Sum64())
}

func (s *PostgresStore) connect(ctx context.Context) (*pgx.Conn, error) {
	return pgx.ConnectConfig(ctx, s.cfg.Copy())
}

func (s *PostgresStore) init(ctx context.Context) error {
	c, err := s.writer(ctx)
	if err != nil {
		return err
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// Two runs opening a new checkpoint at once must not both create it. The key is
	// not the run lock's: session and transaction advisory locks on one key
	// conflict, so opening would wait for the end of a run that holds the
	// checkpoint, and `immigrate status` (or a second run, owed ErrLocked) hang.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, advisoryKey("immigrate-checkpoint-init:", s.schema)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{s.schema}.Sanitize()); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	var ours bool
	var tables int
	err = tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE table_name = 'meta') > 0, count(*)
		FROM information_schema.tables WHERE table_schema = $1`, s.schema).Scan(&ours, &tables)
	if err != nil {
		return err
	}
	if ours {
		var format, version *string
		err := tx.QueryRow(ctx, `SELECT
			(SELECT value FROM meta WHERE key = 'format'),
			(SELECT value FROM meta WHERE key = 'schema_version')`).Scan(&format, &version)
		if err != nil {
			return err
		}
		return checkFormat(deref(format), deref(version))
	}
	if tables > 0 {
		return fmt.Errorf("%w: the schema has tables but is not a checkpoint", ErrFormat)
	}
	if _, err := tx.Exec(ctx, postgresSchema); err != nil {
		return fmt.Errorf("create tables: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ('format', $1), ('schema_version', $2)`,
		formatName, strconv.Itoa(schemaVersion)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// writer returns the writer connection, reconnecting it if it broke; a broken
// session lost the run lock, which is taken again or the write refused. The caller
// holds wmu.
func (s *PostgresStore) writer(ctx context.Context) (*pgx.Conn, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if s.wconn != nil && !s.wconn.IsClosed() {
		return s.wconn, nil
	}
	s.wconn = nil
	c, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	if s.locked {
		if err := tryLock(ctx, c, s.lockKey); err != nil {
			c.Close(context.WithoutCancel(ctx))
			return nil, err
		}
	}
	s.wconn = c
	return c, nil
}

func tryLock(ctx context.Context, c *pgx.Conn, key int64) error {
	var ok bool
	if err := c.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return ErrLocked
	}
	return nil
}

// reader lends a read connection; give it back with release.
func (s *PostgresStore) reader(ctx context.Context) (*pgx.Conn, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	for len(s.idle) > 0 {
		c := s.idle[len(s.idle)-1]
		s.idle = s.idle[:len(s.idle)-1]
		if !c.IsClosed() {
			s.mu.Unlock()
			return c, nil
		}
	}
	s.mu.Unlock()
	return s.connect(ctx)
}

func (s *PostgresStore) release(c *pgx.Conn) {
	s.mu.Lock()
	if !s.closed && !c.IsClosed() && len(s.idle) < maxIdleReaders {
		s.idle = append(s.idle, c)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	c.Close(context.Background())
}

// Begin implements Store.
func (s *PostgresStore) Begin(ctx context.Context, m Manifest, opt BeginOptions) (Resume, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	c, err := s.writer(ctx)
	if err != nil {
		return Resume{}, fmt.Errorf("begin: %w", err)
	}
	if !s.locked {
		if err := tryLock(ctx, c, s.lockKey); err != nil {
			return Resume{}, fmt.Errorf("begin: schema %s: %w", s.schema, err)
		}
		s.locked = true
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		return Resume{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	prev, err := pgManifest(ctx, tx)
	if err != nil && !errors.Is(err, ErrNoManifest) {
		return Resume{}, fmt.Errorf("begin: %w", err)
	}
	next, drop, r, err := begin(prev, m, opt)
	if err != nil {
		return Resume{}, err
	}
	if drop {
		if _, err := tx.Exec(ctx, `TRUNCATE phases, marks, intents, id_map, rejects, counters RESTART IDENTITY`); err != nil {
			return Resume{}, fmt.Errorf("begin: drop progress: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM meta WHERE key = 'last_batch'`); err != nil {
			return Resume{}, fmt.Errorf("begin: drop progress: %w", err)
		}
	}
	_, err = tx.Exec(ctx, `INSERT INTO manifest (id, mapping_hash, source, target, tool_version, started, resumed, runs)
		VALUES (1, $1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET mapping_hash = excluded.mapping_hash, source = excluded.source,
			target = excluded.target, tool_version = excluded.tool_version, started = excluded.started,
			resumed = excluded.resumed, runs = excluded.runs`,
		[]byte(next.MappingHash), []byte(next.Source), []byte(next.Target), []byte(next.ToolVersion),
		nanos(next.Started), nanos(next.Resumed), next.Runs)
	if err != nil {
		return Resume{}, fmt.Errorf("begin: write manifest: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return Resume{}, fmt.Errorf("begin: %w", err)
	}
	return r, nil
}

// text scans a bytea column into a string.
type text struct{ s *string }

func (t text) ScanBytes(v []byte) error {
	*t.s = string(v)
	return nil
}

func pgManifest(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (*Manifest, error) {
	var m Manifest
	var started, resumed int64
	err := q.QueryRow(ctx, `SELECT mapping_hash, source, target, tool_version, started, resumed, runs
		FROM manifest WHERE id = 1`).Scan(text{&m.MappingHash}, text{&m.Source}, text{&m.Target},
		text{&m.ToolVersion}, &started, &resumed, &m.Runs)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoManifest
	}
	if err != nil {
		return nil, err
	}
	m.Started, m.Resumed = fromNanos(started), fromNanos(resumed)
	return &m, nil
}

// Manifest implements Store.
func (s *PostgresStore) Manifest(ctx context.Context) (Manifest, error) {
	var m *Manifest
	err := s.withReader(ctx, func(c *pgx.Conn) error {
		var err error
		m, err = pgManifest(ctx, c)
		return err
	})
	if errors.Is(err, ErrNoManifest) {
		return Manifest{}, err
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("read manifest: %w", err)
	}
	return *m, nil
}

func (s *PostgresStore) withReader(ctx context.Context, f func(*pgx.Conn) error) error {
	c, err := s.reader(ctx)
	if err != nil {
		return err
	}
	defer s.release(c)
	return f(c)
}

// Apply implements Store.
func (s *PostgresStore) Apply(ctx context.Context, b *Batch) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	c, err := s.writer(ctx)
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if b.ID != "" {
		var last string
		err := tx.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'last_batch'`).Scan(&last)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("apply: %w", err)
		}
		if last == b.ID {
			return nil
		}
	}
	q := pgBatch(b)
	if b.ID != "" {
		q.Queue(`INSERT INTO meta (key, value) VALUES ('last_batch', $1)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, b.ID)
	}
	if err := tx.SendBatch(ctx, q).Close(); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("apply: commit: %w", err)
	}
	return nil
}

// pgBatch queues b's statements in the order the Batch rules give, one statement per
// kind of record with the records as array parameters.
func pgBatch(b *Batch) *pgx.Batch {
	q := &pgx.Batch{}
	if n := len(b.ClearIntents); n > 0 {
		ph, st := make([][]byte, n), make([][]byte, n)
		for i, k := range b.ClearIntents {
			ph[i], st[i] = []byte(k.Phase), []byte(k.Stream)
		}
		q.Queue(`DELETE FROM intents i USING unnest($1::bytea[], $2::bytea[]) AS k(phase, stream)
			WHERE i.phase = k.phase AND i.stream = k.stream`, ph, st)
	}
	if n := len(b.Intents); n > 0 {
		ph, st, first, last, fid, lid := make([][]byte, n), make([][]byte, n), make([]int64, n), make([]int64, n), make([][]byte, n), make([][]byte, n)
		for i, in := range b.Intents {
			ph[i], st[i], first[i], last[i] = []byte(in.Phase), []byte(in.Stream), in.First, in.Last
			fid[i], lid[i] = []byte(in.FirstID), []byte(in.LastID)
		}
		q.Queue(`INSERT INTO intents (phase, stream, first_ordinal, last_ordinal, first_id, last_id)
			SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::int8[], $4::int8[], $5::bytea[], $6::bytea[])
			ON CONFLICT (phase, stream) DO UPDATE SET first_ordinal = excluded.first_ordinal,
				last_ordinal = excluded.last_ordinal, first_id = excluded.first_id, last_id = excluded.last_id`,
			ph, st, first, last, fid, lid)
	}
	if n := len(b.Marks); n > 0 {
		ph, st, ord, lid, seq := make([][]byte, n), make([][]byte, n), make([]int64, n), make([][]byte, n), make([]int64, n)
		for i, m := range b.Marks {
			ph[i], st[i], ord[i], lid[i], seq[i] = []byte(m.Phase), []byte(m.Stream), m.Ordinal, []byte(m.LegacyID), m.TargetSeq
		}
		q.Queue(`INSERT INTO marks AS m (phase, stream, ordinal, legacy_id, target_seq)
			SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::int8[], $4::bytea[], $5::int8[])
			ON CONFLICT (phase, stream) DO UPDATE SET ordinal = excluded.ordinal,
				legacy_id = excluded.legacy_id, target_seq = excluded.target_seq
			WHERE excluded.ordinal > m.ordinal`, ph, st, ord, lid, seq)
	}
	if keys := b.intentStreams(); len(keys) > 0 {
		ph, st := make([][]byte, len(keys)), make([][]byte, len(keys))
		for i, k := range keys {
			ph[i], st[i] = []byte(k.Phase), []byte(k.Stream)
		}
		q.Queue(`DELETE FROM intents i USING marks m, unnest($1::bytea[], $2::bytea[]) AS k(phase, stream)
			WHERE i.phase = k.phase AND i.stream = k.stream
				AND m.phase = i.phase AND m.stream = i.stream AND i.last_ordinal <= m.ordinal`, ph, st)
	}
	if n := len(b.Done); n > 0 {
		ph, at := make([][]byte, n), make([]int64, n)
		for i, d := range b.Done {
			ph[i], at[i] = []byte(d.Phase), nanos(d.At)
		}
		q.Queue(`INSERT INTO phases (phase, done_at) SELECT * FROM unnest($1::bytea[], $2::int8[])
			ON CONFLICT (phase) DO NOTHING`, ph, at)
	}
	if n := len(b.IDs); n > 0 {
		kind, lid, tid := make([][]byte, n), make([][]byte, n), make([][]byte, n)
		for i, m := range b.IDs {
			kind[i], lid[i], tid[i] = []byte(m.Kind), []byte(m.LegacyID), []byte(m.TargetID)
		}
		q.Queue(`INSERT INTO id_map (kind, legacy_id, target_id) SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[])
			ON CONFLICT (kind, legacy_id) DO UPDATE SET target_id = excluded.target_id`, kind, lid, tid)
	}
	if n := len(b.Rejects); n > 0 {
		ent, lid, rule, origin, msg := make([][]byte, n), make([][]byte, n), make([][]byte, n), make([][]byte, n), make([][]byte, n)
		for i, r := range b.Rejects {
			ent[i], lid[i], rule[i], origin[i], msg[i] = []byte(r.Entity), []byte(r.LegacyID), []byte(r.Rule), []byte(r.Origin), []byte(r.Message)
		}
		// ORDER BY the array position gives the identity (seq) in the batch's order.
		q.Queue(`INSERT INTO rejects (entity, legacy_id, rule, origin, message)
			SELECT e, l, r, o, m FROM unnest($1::bytea[], $2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[])
				WITH ORDINALITY AS u(e, l, r, o, m, n) ORDER BY n
			ON CONFLICT (entity, legacy_id, rule) DO NOTHING`, ent, lid, rule, origin, msg)
	}
	if n := len(b.Counts); n > 0 {
		ph, imp, pre, rej := make([][]byte, n), make([]int64, n), make([]int64, n), make([]int64, n)
		for i, c := range b.Counts {
			ph[i], imp[i], pre[i], rej[i] = []byte(c.Phase), c.Imported, c.Present, c.Rejected
		}
		q.Queue(`INSERT INTO counters AS c (phase, imported, present, rejected)
			SELECT * FROM unnest($1::bytea[], $2::int8[], $3::int8[], $4::int8[])
			ON CONFLICT (phase) DO UPDATE SET imported = c.imported + excluded.imported,
				present = c.present + excluded.present, rejected = c.rejected + excluded.rejected`, ph, imp, pre, rej)
	}
	return q
}

// Close implements Store. Ending the writer's session releases the run lock.
func (s *PostgresStore) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	ctx := context.Background()
	for _, c := range idle {
		c.Close(ctx)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var err error
	if s.wconn != nil {
		err = s.wconn.Close(ctx)
		s.wconn = nil
	}
	s.locked = false
	return err
}

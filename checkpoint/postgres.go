package checkpoint

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgresStore is a Store in its own PostgreSQL schema, for teams that keep the
// checkpoint on a server. Every string is a bytea column, so that opaque IDs with NUL
// or invalid UTF-8 round-trip and sort as bytes. A batch is written with one
// statement per kind of record (array parameters), through one writer connection;
// reads use a few other connections, so a read's callback may call the store again.
// The run lock of Begin is a session advisory lock on the writer's connection, which
// the server drops when the session ends, however the process ended.
type PostgresStore struct{ sqlStore }

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
	db := stdlib.OpenDB(*cfg)
	db.SetMaxIdleConns(maxIdleReaders)
	s := &PostgresStore{sqlStore{db: db, d: postgresDialect(schema)}}
	if err := s.init(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open checkpoint schema %s: %w", schema, err)
	}
	return s, nil
}

// postgresDialect is PostgreSQL's in schema: bytea strings, array parameters, and an
// advisory lock for the run lock.
func postgresDialect(schema string) dialect {
	lockKey := advisoryKey("immigrate-checkpoint:", schema)
	return dialect{
		placeholder:  '$',
		bytea:        true,
		tables:       postgresSchema,
		dropProgress: `TRUNCATE phases, marks, intents, id_map, rejects, counters RESTART IDENTITY`,
		inspect: func(ctx context.Context, tx *sql.Tx) (bool, error) {
			return pgInspect(ctx, tx, schema)
		},
		lock: func(ctx context.Context, w *sql.Conn) (func() error, error) {
			var ok bool
			if err := w.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, lockKey).Scan(&ok); err != nil {
				return nil, err
			}
			if !ok {
				return nil, fmt.Errorf("schema %s: %w", schema, ErrLocked)
			}
			// Ending the session (Close discards the writer's connection) unlocks.
			return func() error { return nil }, nil
		},
		sessionLock: true,
		broken: func(dc any) bool {
			c, ok := dc.(*stdlib.Conn)
			return ok && c.Conn().IsClosed()
		},
		writeBatch: pgWriteBatch,
	}
}

// advisoryKey is the advisory lock key of purpose on schema.
func advisoryKey(purpose, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte(purpose + schema))
	return int64(h.Sum64())
}

// pgInspect creates schema if missing and reports whether it holds a checkpoint.
func pgInspect(ctx context.Context, tx *sql.Tx, schema string) (bool, error) {
	// Two runs opening a new checkpoint at once must not both create it. The key is
	// not the run lock's: session and transaction advisory locks on one key
	// conflict, so opening would wait for the end of a run that holds the
	// checkpoint, and `immigrate status` (or a second run, owed ErrLocked) hang.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, advisoryKey("immigrate-checkpoint-init:", schema)); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
		return false, fmt.Errorf("create schema: %w", err)
	}
	var ours bool
	var tables int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE table_name = 'meta') > 0, count(*)
		FROM information_schema.tables WHERE table_schema = $1`, schema).Scan(&ours, &tables)
	if err != nil {
		return false, err
	}
	if !ours && tables > 0 {
		return false, fmt.Errorf("%w: the schema has tables but is not a checkpoint", ErrFormat)
	}
	return ours, nil
}

// pgWriteBatch writes b's records in the order the Batch rules give, one statement
// per kind of record with the records as array parameters: a round trip per kind.
// A statement per record, as SQLite's, is about ten times slower here
// (checkpointtest's Bench: some 10k marks/s against 100k).
func pgWriteBatch(ctx context.Context, tx *sql.Tx, b *Batch) error {
	var err error
	exec := func(query string, args ...any) {
		if err == nil {
			_, err = tx.ExecContext(ctx, query, args...)
		}
	}
	if n := len(b.ClearIntents); n > 0 {
		ph, st := make([][]byte, n), make([][]byte, n)
		for i, k := range b.ClearIntents {
			ph[i], st[i] = []byte(k.Phase), []byte(k.Stream)
		}
		exec(`DELETE FROM intents i USING unnest($1::bytea[], $2::bytea[]) AS k(phase, stream)
			WHERE i.phase = k.phase AND i.stream = k.stream`, ph, st)
	}
	if n := len(b.Intents); n > 0 {
		ph, st, first, last, fid, lid := make([][]byte, n), make([][]byte, n), make([]int64, n), make([]int64, n), make([][]byte, n), make([][]byte, n)
		for i, in := range b.Intents {
			ph[i], st[i], first[i], last[i] = []byte(in.Phase), []byte(in.Stream), in.First, in.Last
			fid[i], lid[i] = []byte(in.FirstID), []byte(in.LastID)
		}
		exec(`INSERT INTO intents (phase, stream, first_ordinal, last_ordinal, first_id, last_id)
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
		exec(`INSERT INTO marks AS m (phase, stream, ordinal, legacy_id, target_seq)
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
		exec(`DELETE FROM intents i USING marks m, unnest($1::bytea[], $2::bytea[]) AS k(phase, stream)
			WHERE i.phase = k.phase AND i.stream = k.stream
				AND m.phase = i.phase AND m.stream = i.stream AND i.last_ordinal <= m.ordinal`, ph, st)
	}
	if n := len(b.Done); n > 0 {
		ph, at := make([][]byte, n), make([]int64, n)
		for i, d := range b.Done {
			ph[i], at[i] = []byte(d.Phase), nanos(d.At)
		}
		exec(`INSERT INTO phases (phase, done_at) SELECT * FROM unnest($1::bytea[], $2::int8[])
			ON CONFLICT (phase) DO NOTHING`, ph, at)
	}
	if n := len(b.IDs); n > 0 {
		kind, lid, tid := make([][]byte, n), make([][]byte, n), make([][]byte, n)
		for i, m := range b.IDs {
			kind[i], lid[i], tid[i] = []byte(m.Kind), []byte(m.LegacyID), []byte(m.TargetID)
		}
		exec(`INSERT INTO id_map (kind, legacy_id, target_id) SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[])
			ON CONFLICT (kind, legacy_id) DO UPDATE SET target_id = excluded.target_id`, kind, lid, tid)
	}
	if n := len(b.Rejects); n > 0 {
		ent, lid, rule, origin, msg := make([][]byte, n), make([][]byte, n), make([][]byte, n), make([][]byte, n), make([][]byte, n)
		for i, r := range b.Rejects {
			ent[i], lid[i], rule[i], origin[i], msg[i] = []byte(r.Entity), []byte(r.LegacyID), []byte(r.Rule), []byte(r.Origin), []byte(r.Message)
		}
		// ORDER BY the array position gives the identity (seq) in the batch's order.
		exec(`INSERT INTO rejects (entity, legacy_id, rule, origin, message)
			SELECT e, l, r, o, m FROM unnest($1::bytea[], $2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[])
				WITH ORDINALITY AS u(e, l, r, o, m, n) ORDER BY n
			ON CONFLICT (entity, legacy_id, rule) DO NOTHING`, ent, lid, rule, origin, msg)
	}
	if n := len(b.Counts); n > 0 {
		ph, imp, pre, rej := make([][]byte, n), make([]int64, n), make([]int64, n), make([]int64, n)
		for i, c := range b.Counts {
			ph[i], imp[i], pre[i], rej[i] = []byte(c.Phase), c.Imported, c.Present, c.Rejected
		}
		exec(`INSERT INTO counters AS c (phase, imported, present, rejected)
			SELECT * FROM unnest($1::bytea[], $2::int8[], $3::int8[], $4::int8[])
			ON CONFLICT (phase) DO UPDATE SET imported = c.imported + excluded.imported,
				present = c.present + excluded.present, rejected = c.rejected + excluded.rejected`, ph, imp, pre, rej)
	}
	return err
}

package checkpoint

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// SQLiteStore is a Store in one SQLite file (modernc.org/sqlite, pure Go), the default
// checkpoint. It runs in WAL mode with synchronous=NORMAL: a committed transaction
// survives the death of the process; a power loss may take back the last ones but
// never corrupts the file (see Store). Writes go through one writer at a time;
// readers, in this process or another (`immigrate status`), do not block it. The run
// lock of Begin is an flock on the file's path + ".lock".
type SQLiteStore struct {
	db   *sql.DB
	path string

	wmu    sync.Mutex // one writer: SQLite allows one, and waiting here is cheaper than busy_timeout
	lockMu sync.Mutex
	unlock func() error // run lock, taken by Begin
	closed bool         // guarded by lockMu
}

var _ Store = (*SQLiteStore)(nil)

const sqliteSchema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS manifest (
	id           INTEGER PRIMARY KEY CHECK (id = 1),
	mapping_hash TEXT NOT NULL,
	source       TEXT NOT NULL,
	target       TEXT NOT NULL,
	tool_version TEXT NOT NULL,
	started      INTEGER NOT NULL,
	resumed      INTEGER NOT NULL,
	runs         INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS phases (phase TEXT PRIMARY KEY, done_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS marks (
	phase      TEXT NOT NULL,
	stream     TEXT NOT NULL,
	ordinal    INTEGER NOT NULL,
	legacy_id  TEXT NOT NULL,
	target_seq INTEGER NOT NULL,
	PRIMARY KEY (phase, stream)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS intents (
	phase         TEXT NOT NULL,
	stream        TEXT NOT NULL,
	first_ordinal INTEGER NOT NULL,
	last_ordinal  INTEGER NOT NULL,
	first_id      TEXT NOT NULL,
	last_id       TEXT NOT NULL,
	PRIMARY KEY (phase, stream)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS id_map (
	kind      TEXT NOT NULL,
	legacy_id TEXT NOT NULL,
	target_id TEXT NOT NULL,
	PRIMARY KEY (kind, legacy_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rejects (
	seq       INTEGER PRIMARY KEY,
	entity    TEXT NOT NULL,
	legacy_id TEXT NOT NULL,
	rule      TEXT NOT NULL,
	origin    TEXT NOT NULL,
	message   TEXT NOT NULL,
	UNIQUE (entity, legacy_id, rule)
);
CREATE TABLE IF NOT EXISTS counters (
	phase    TEXT PRIMARY KEY,
	imported INTEGER NOT NULL,
	present  INTEGER NOT NULL,
	rejected INTEGER NOT NULL
) WITHOUT ROWID;
`

// OpenSQLite opens the checkpoint file at path, creating it (not its directory) if
// missing.
func OpenSQLite(path string) (*SQLiteStore, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open checkpoint %s: %w", path, err)
	}
	// A file: URI, so that any byte of the path is escaped rather than read as URI
	// syntax. _txlock=immediate makes write transactions take the write lock at
	// BEGIN: a deferred one could fail with SQLITE_BUSY when it upgrades, which
	// busy_timeout does not retry.
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	dsn := "file:" + u.EscapedPath() +
		"?_busy_timeout=10000&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open checkpoint %s: %w", path, err)
	}
	// Enough for a streaming read, a point lookup from its callback and a writer.
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	s := &SQLiteStore{db: db, path: abs}
	if err := s.init(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("open checkpoint %s: %w", path, err)
	}
	return s, nil
}

func (s *SQLiteStore) init(ctx context.Context) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var ours, tables int
	err = tx.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE name = 'meta'), count(*)
		FROM sqlite_schema WHERE type = 'table'`).Scan(&ours, &tables)
	if err != nil {
		return err
	}
	if ours == 1 {
		var format, version sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT
			(SELECT value FROM meta WHERE key = 'format'),
			(SELECT value FROM meta WHERE key = 'schema_version')`).Scan(&format, &version)
		if err != nil {
			return err
		}
		return checkFormat(format.String, version.String)
	}
	if tables > 0 {
		return fmt.Errorf("%w: the database has tables but is not a checkpoint", ErrFormat)
	}
	if _, err := tx.ExecContext(ctx, sqliteSchema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('format', ?), ('schema_version', ?)`,
		formatName, strconv.Itoa(schemaVersion)); err != nil {
		return err
	}
	return tx.Commit()
}

// checkFormat accepts this version's layout only: an older one would need a
// migration, which no version so far has.
func checkFormat(format, version string) error {
	if format != formatName {
		return fmt.Errorf("%w: format %q", ErrFormat, format)
	}
	if version != strconv.Itoa(schemaVersion) {
		return fmt.Errorf("%w: layout version %s, this tool reads %d", ErrFormat, version, schemaVersion)
	}
	return nil
}

// Begin implements Store.
func (s *SQLiteStore) Begin(ctx context.Context, m Manifest, opt BeginOptions) (Resume, error) {
	if err := s.lock(); err != nil {
		return Resume{}, fmt.Errorf("begin: %w", err)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Resume{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	prev, err := sqliteManifest(ctx, tx)
	if err != nil && !errors.Is(err, ErrNoManifest) {
		return Resume{}, fmt.Errorf("begin: %w", err)
	}
	next, drop, r, err := begin(prev, m, opt)
	if err != nil {
		return Resume{}, err
	}
	if drop {
		for _, t := range []string{"phases", "marks", "intents", "id_map", "rejects", "counters"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
				return Resume{}, fmt.Errorf("begin: drop progress: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM meta WHERE key = 'last_batch'`); err != nil {
			return Resume{}, fmt.Errorf("begin: drop progress: %w", err)
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO manifest
		(id, mapping_hash, source, target, tool_version, started, resumed, runs) VALUES (1, ?, ?, ?, ?, ?, ?, ?)`,
		next.MappingHash, next.Source, next.Target, next.ToolVersion, nanos(next.Started), nanos(next.Resumed), next.Runs)
	if err != nil {
		return Resume{}, fmt.Errorf("begin: write manifest: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Resume{}, fmt.Errorf("begin: %w", err)
	}
	return r, nil
}

func (s *SQLiteStore) lock() error {
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.unlock != nil {
		return nil
	}
	release, err := lockFile(s.path + ".lock")
	if err != nil {
		return err
	}
	s.unlock = release
	return nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func sqliteManifest(ctx context.Context, q queryer) (*Manifest, error) {
	var m Manifest
	var started, resumed int64
	err := q.QueryRowContext(ctx, `SELECT mapping_hash, source, target, tool_version, started, resumed, runs
		FROM manifest WHERE id = 1`).Scan(&m.MappingHash, &m.Source, &m.Target, &m.ToolVersion, &started, &resumed, &m.Runs)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoManifest
	}
	if err != nil {
		return nil, err
	}
	m.Started, m.Resumed = fromNanos(started), fromNanos(resumed)
	return &m, nil
}

// Manifest implements Store.
func (s *SQLiteStore) Manifest(ctx context.Context) (Manifest, error) {
	m, err := sqliteManifest(ctx, s.db)
	if err != nil {
		if errors.Is(err, ErrNoManifest) {
			return Manifest{}, err
		}
		return Manifest{}, fmt.Errorf("read manifest: %w", err)
	}
	return *m, nil
}

// Apply implements Store.
func (s *SQLiteStore) Apply(ctx context.Context, b *Batch) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	defer tx.Rollback()
	if b.ID != "" {
		var last string
		err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'last_batch'`).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("apply: %w", err)
		}
		if last == b.ID {
			return nil
		}
	}
	if err := sqliteApply(ctx, tx, b); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	if b.ID != "" {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO meta (key, value) VALUES ('last_batch', ?)`, b.ID); err != nil {
			return fmt.Errorf("apply: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("apply: commit: %w", err)
	}
	return nil
}

// sqliteApply writes b's records in the order the Batch rules give.
func sqliteApply(ctx context.Context, tx *sql.Tx, b *Batch) error {
	steps := []struct {
		query string
		n     int
		args  func(i int) []any
	}{
		{`DELETE FROM intents WHERE phase = ? AND stream = ?`, len(b.ClearIntents), func(i int) []any {
			k := b.ClearIntents[i]
			return []any{k.Phase, k.Stream}
		}},
		{`INSERT OR REPLACE INTO intents (phase, stream, first_ordinal, last_ordinal, first_id, last_id)
			VALUES (?, ?, ?, ?, ?, ?)`, len(b.Intents), func(i int) []any {
			in := b.Intents[i]
			return []any{in.Phase, in.Stream, in.First, in.Last, in.FirstID, in.LastID}
		}},
		{`INSERT INTO marks (phase, stream, ordinal, legacy_id, target_seq) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (phase, stream) DO UPDATE SET
				ordinal = excluded.ordinal, legacy_id = excluded.legacy_id, target_seq = excluded.target_seq
			WHERE excluded.ordinal > marks.ordinal`, len(b.Marks), func(i int) []any {
			m := b.Marks[i]
			return []any{m.Phase, m.Stream, m.Ordinal, m.LegacyID, m.TargetSeq}
		}},
		{`DELETE FROM intents WHERE phase = ?1 AND stream = ?2
			AND last_ordinal <= (SELECT ordinal FROM marks WHERE phase = ?1 AND stream = ?2)`, 0, nil},
		{`INSERT INTO phases (phase, done_at) VALUES (?, ?) ON CONFLICT (phase) DO NOTHING`, len(b.Done), func(i int) []any {
			return []any{b.Done[i].Phase, nanos(b.Done[i].At)}
		}},
		{`INSERT OR REPLACE INTO id_map (kind, legacy_id, target_id) VALUES (?, ?, ?)`, len(b.IDs), func(i int) []any {
			m := b.IDs[i]
			return []any{m.Kind, m.LegacyID, m.TargetID}
		}},
		{`INSERT INTO rejects (entity, legacy_id, rule, origin, message) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (entity, legacy_id, rule) DO NOTHING`, len(b.Rejects), func(i int) []any {
			r := b.Rejects[i]
			return []any{r.Entity, r.LegacyID, r.Rule, r.Origin, r.Message}
		}},
		{`INSERT INTO counters (phase, imported, present, rejected) VALUES (?, ?, ?, ?)
			ON CONFLICT (phase) DO UPDATE SET imported = imported + excluded.imported,
				present = present + excluded.present, rejected = rejected + excluded.rejected`, len(b.Counts), func(i int) []any {
			c := b.Counts[i]
			return []any{c.Phase, c.Imported, c.Present, c.Rejected}
		}},
	}
	// Step 4 re-checks the intents of every stream the batch touched.
	keys := b.intentStreams()
	steps[3].n = len(keys)
	steps[3].args = func(i int) []any { return []any{keys[i].Phase, keys[i].Stream} }
	for _, st := range steps {
		if st.n == 0 {
			continue
		}
		stmt, err := tx.PrepareContext(ctx, st.query)
		if err != nil {
			return err
		}
		for i := range st.n {
			if _, err := stmt.ExecContext(ctx, st.args(i)...); err != nil {
				stmt.Close()
				return err
			}
		}
		if err := stmt.Close(); err != nil {
			return err
		}
	}
	return nil
}

// PhaseDone implements Store.
func (s *SQLiteStore) PhaseDone(ctx context.Context, phase string) (time.Time, bool, error) {
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT done_at FROM phases WHERE phase = ?`, phase).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read phase %s: %w", phase, err)
	}
	return fromNanos(at), true, nil
}

// Mark implements Store.
func (s *SQLiteStore) Mark(ctx context.Context, phase, stream string) (Mark, bool, error) {
	m := Mark{Phase: phase, Stream: stream}
	err := s.db.QueryRowContext(ctx, `SELECT ordinal, legacy_id, target_seq FROM marks WHERE phase = ? AND stream = ?`,
		phase, stream).Scan(&m.Ordinal, &m.LegacyID, &m.TargetSeq)
	if errors.Is(err, sql.ErrNoRows) {
		return Mark{}, false, nil
	}
	if err != nil {
		return Mark{}, false, fmt.Errorf("read mark: %w", err)
	}
	return m, true, nil
}

// Marks implements Store.
func (s *SQLiteStore) Marks(ctx context.Context, phase, prefix string, fn func(Mark) error) error {
	q := `SELECT stream, ordinal, legacy_id, target_seq FROM marks WHERE phase = ? AND stream >= ?`
	args := []any{phase, prefix}
	if end, ok := prefixEnd(prefix); ok {
		q += ` AND stream < ?`
		args = append(args, end)
	}
	return sqliteEach(ctx, s.db, q+` ORDER BY stream`, args, func(rows *sql.Rows) error {
		m := Mark{Phase: phase}
		if err := rows.Scan(&m.Stream, &m.Ordinal, &m.LegacyID, &m.TargetSeq); err != nil {
			return fmt.Errorf("read checkpoint: %w", err)
		}
		return fn(m)
	})
}

// Intents implements Store.
func (s *SQLiteStore) Intents(ctx context.Context, fn func(Intent) error) error {
	return sqliteEach(ctx, s.db, `SELECT phase, stream, first_ordinal, last_ordinal, first_id, last_id
		FROM intents ORDER BY phase, stream`, nil, func(rows *sql.Rows) error {
		var in Intent
		if err := rows.Scan(&in.Phase, &in.Stream, &in.First, &in.Last, &in.FirstID, &in.LastID); err != nil {
			return fmt.Errorf("read checkpoint: %w", err)
		}
		return fn(in)
	})
}

// LookupID implements Store.
func (s *SQLiteStore) LookupID(ctx context.Context, kind, legacyID string) (string, bool, error) {
	var target string
	err := s.db.QueryRowContext(ctx, `SELECT target_id FROM id_map WHERE kind = ? AND legacy_id = ?`,
		kind, legacyID).Scan(&target)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read id map: %w", err)
	}
	return target, true, nil
}

// IDMap implements Store.
func (s *SQLiteStore) IDMap(ctx context.Context, fn func(IDMapping) error) error {
	return sqliteEach(ctx, s.db, `SELECT kind, legacy_id, target_id FROM id_map ORDER BY kind, legacy_id`, nil,
		func(rows *sql.Rows) error {
			var m IDMapping
			if err := rows.Scan(&m.Kind, &m.LegacyID, &m.TargetID); err != nil {
				return fmt.Errorf("read checkpoint: %w", err)
			}
			return fn(m)
		})
}

// Rejects implements Store.
func (s *SQLiteStore) Rejects(ctx context.Context, fn func(Reject) error) error {
	return sqliteEach(ctx, s.db, `SELECT entity, origin, legacy_id, rule, message FROM rejects ORDER BY seq`, nil,
		func(rows *sql.Rows) error {
			var r Reject
			if err := rows.Scan(&r.Entity, &r.Origin, &r.LegacyID, &r.Rule, &r.Message); err != nil {
				return fmt.Errorf("read checkpoint: %w", err)
			}
			return fn(r)
		})
}

// Counters implements Store.
func (s *SQLiteStore) Counters(ctx context.Context) ([]PhaseCounters, error) {
	var out []PhaseCounters
	err := sqliteEach(ctx, s.db, countersQuery, nil, func(rows *sql.Rows) error {
		var c PhaseCounters
		var doneAt sql.NullInt64
		if err := rows.Scan(&c.Phase, &c.Imported, &c.Present, &c.Rejected, &c.Streams, &c.Intents, &doneAt); err != nil {
			return fmt.Errorf("read checkpoint: %w", err)
		}
		if doneAt.Valid {
			c.Done, c.DoneAt = true, fromNanos(doneAt.Int64)
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// countersQuery is the same SQL in both stores, tables qualified by the caller.
const countersQuery = `
SELECT p.phase,
	COALESCE(c.imported, 0), COALESCE(c.present, 0), COALESCE(c.rejected, 0),
	COALESCE(m.n, 0), COALESCE(i.n, 0), d.done_at
FROM (SELECT phase FROM counters UNION SELECT phase FROM phases
	UNION SELECT DISTINCT phase FROM marks UNION SELECT DISTINCT phase FROM intents) p
LEFT JOIN counters c ON c.phase = p.phase
LEFT JOIN (SELECT phase, count(*) AS n FROM marks GROUP BY phase) m ON m.phase = p.phase
LEFT JOIN (SELECT phase, count(*) AS n FROM intents GROUP BY phase) i ON i.phase = p.phase
LEFT JOIN phases d ON d.phase = p.phase
ORDER BY p.phase`

// sqliteEach runs a query and calls scan for each row, streaming. An error from
// scan's callback is returned as is.
func sqliteEach(ctx context.Context, db *sql.DB, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	return nil
}

// Close implements Store.
func (s *SQLiteStore) Close() error {
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.db.Close()
	if s.unlock != nil {
		if uerr := s.unlock(); err == nil {
			err = uerr
		}
		s.unlock = nil
	}
	return err
}

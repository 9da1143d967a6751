package checkpoint

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// SQLiteStore is a Store in one SQLite file (modernc.org/sqlite, pure Go), the default
// checkpoint. It runs in WAL mode with synchronous=NORMAL: a committed transaction
// survives the death of the process; a power loss may take back the last ones but
// never corrupts the file (see Store). Writes go through one writer at a time;
// readers, in this process or another (`immigrate status`), do not block it. The run
// lock of Begin is an flock on the file's path + ".lock".
type SQLiteStore struct{ sqlStore }

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
	// Enough for the writer, a streaming read and a point lookup from its callback.
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	s := &SQLiteStore{sqlStore{db: db, d: sqliteDialect(abs)}}
	if err := s.init(context.Background()); err != nil {
		s.Close()
		return nil, fmt.Errorf("open checkpoint %s: %w", path, err)
	}
	return s, nil
}

// sqliteDialect is SQLite's: TEXT strings, which are byte strings compared with
// memcmp as they are, and a run lock that is an flock beside the file.
func sqliteDialect(path string) dialect {
	return dialect{
		placeholder: '?',
		tables:      sqliteSchema,
		dropProgress: `DELETE FROM phases; DELETE FROM marks; DELETE FROM intents;
			DELETE FROM id_map; DELETE FROM rejects; DELETE FROM counters;`,
		inspect: func(ctx context.Context, tx *sql.Tx) (bool, error) {
			var ours, tables int
			err := tx.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE name = 'meta'), count(*)
				FROM sqlite_schema WHERE type = 'table'`).Scan(&ours, &tables)
			if err != nil {
				return false, err
			}
			if ours == 0 && tables > 0 {
				return false, fmt.Errorf("%w: the database has tables but is not a checkpoint", ErrFormat)
			}
			return ours == 1, nil
		},
		lock: func(context.Context, *sql.Conn) (func() error, error) {
			return lockFile(path + ".lock")
		},
		writeBatch: sqliteWriteBatch,
	}
}

// sqliteWriteBatch writes b's records in the order the Batch rules give, one
// prepared statement per kind of record, executed per record: in process, a
// statement costs no round trip.
func sqliteWriteBatch(ctx context.Context, tx *sql.Tx, b *Batch) error {
	keys := b.intentStreams()
	steps := []struct {
		query string
		n     int
		args  func(i int) []any
	}{
		{`DELETE FROM intents WHERE phase = ? AND stream = ?`, len(b.ClearIntents), func(i int) []any {
			k := b.ClearIntents[i]
			return []any{k.Phase, k.Stream}
		}},
		{`INSERT INTO intents (phase, stream, first_ordinal, last_ordinal, first_id, last_id)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (phase, stream) DO UPDATE SET first_ordinal = excluded.first_ordinal,
				last_ordinal = excluded.last_ordinal, first_id = excluded.first_id, last_id = excluded.last_id`,
			len(b.Intents), func(i int) []any {
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
		// Re-check the intents of every stream the batch touched.
		{`DELETE FROM intents WHERE phase = ?1 AND stream = ?2
			AND last_ordinal <= (SELECT ordinal FROM marks WHERE phase = ?1 AND stream = ?2)`, len(keys), func(i int) []any {
			return []any{keys[i].Phase, keys[i].Stream}
		}},
		{`INSERT INTO phases (phase, done_at) VALUES (?, ?) ON CONFLICT (phase) DO NOTHING`, len(b.Done), func(i int) []any {
			return []any{b.Done[i].Phase, nanos(b.Done[i].At)}
		}},
		{`INSERT INTO id_map (kind, legacy_id, target_id) VALUES (?, ?, ?)
			ON CONFLICT (kind, legacy_id) DO UPDATE SET target_id = excluded.target_id`, len(b.IDs), func(i int) []any {
			m := b.IDs[i]
			return []any{m.Kind, m.LegacyID, m.TargetID}
		}},
		{`INSERT INTO rejects (entity, legacy_id, rule, origin, message) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (entity, legacy_id, rule) DO NOTHING`, len(b.Rejects), func(i int) []any {
			r := b.Rejects[i]
			return []any{r.Entity, r.LegacyID, r.Rule, r.Origin, r.Message}
		}},
		{`INSERT INTO counters (phase, imported, present, rejected) VALUES (?, ?, ?, ?)
			ON CONFLICT (phase) DO UPDATE SET imported = counters.imported + excluded.imported,
				present = counters.present + excluded.present, rejected = counters.rejected + excluded.rejected`,
			len(b.Counts), func(i int) []any {
				c := b.Counts[i]
				return []any{c.Phase, c.Imported, c.Present, c.Rejected}
			}},
	}
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

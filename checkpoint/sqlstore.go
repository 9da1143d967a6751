package checkpoint

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sqlStore is the Store of both implementations, over database/sql: SQLiteStore and
// PostgresStore are a sqlStore with their dialect. Its statements — the reads,
// init, Begin, Apply's batch ID check — are written once, with $n placeholders, in
// the SQL the two databases share (ON CONFLICT upserts); the dialect holds what
// really differs, the statements that write a batch's records among it.
//
// Writes — init, Begin, Apply — go through one writer connection, pinned and taken
// under wmu: a database that allows one writer is not made to arbitrate, and a run
// lock that lives in a session (PostgreSQL's advisory lock) covers every write.
// Reads take connections from the pool, so a read's callback may call the store.
type sqlStore struct {
	db *sql.DB
	d  dialect

	wmu    sync.Mutex   // one writer
	w      *sql.Conn    // the writer's connection; nil when it must be (re)connected
	unlock func() error // releases the run lock; nil until Begin took it
	closed atomic.Bool
}

// dialect is what SQLite and PostgreSQL differ in.
type dialect struct {
	// placeholder is the driver's mark of a numbered parameter: '$' ($1), or '?'
	// (SQLite's ?1, the same thing).
	placeholder byte
	// bytea: strings are bytea columns, bound as []byte, so that they hold any byte
	// and compare as bytes. SQLite's TEXT does both as it is (BINARY collation).
	bytea bool
	// tables is the DDL of a new checkpoint.
	tables string
	// dropProgress deletes every record but the manifest and meta (Begin's Fresh).
	dropProgress string
	// inspect runs first in init's transaction: it says whether the checkpoint
	// exists, and fails with ErrFormat when the place holds something else.
	inspect func(ctx context.Context, tx *sql.Tx) (exists bool, err error)
	// lock takes the run lock, ErrLocked when another Store holds it; w is the
	// writer's connection.
	lock func(ctx context.Context, w *sql.Conn) (release func() error, err error)
	// sessionLock: the run lock belongs to the writer's session and ends with it,
	// so a new writer connection must take it again.
	sessionLock bool
	// broken, when set, reports a driver connection known to be dead that the
	// driver does not say so of itself (driver.Validator).
	broken func(driverConn any) bool
	// writeBatch writes b's records by the Batch rules, inside Apply's
	// transaction: the one part of the write path whose best form differs, a
	// prepared statement per record in process, array parameters over the network.
	writeBatch func(ctx context.Context, tx *sql.Tx, b *Batch) error
}

// query rewrites the placeholders of a statement of this file for the driver.
func (s *sqlStore) query(q string) string {
	if s.d.placeholder == '$' {
		return q
	}
	return strings.ReplaceAll(q, "$", string(s.d.placeholder))
}

// str binds a stored string.
func (s *sqlStore) str(v string) any {
	if s.d.bytea {
		return []byte(v)
	}
	return v
}

// writer returns the writer's connection, connecting it if it broke. A new
// connection takes a session's run lock again: the old session's end released it,
// and another run may hold it now. The caller holds wmu.
func (s *sqlStore) writer(ctx context.Context) (*sql.Conn, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if s.w != nil {
		if s.usable(s.w) {
			return s.w, nil
		}
		s.w = nil
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if s.unlock != nil && s.d.sessionLock {
		if _, err := s.d.lock(ctx, c); err != nil {
			c.Close()
			return nil, err
		}
	}
	s.w = c
	return c, nil
}

// usable reports whether c can still be used, discarding it when not.
func (s *sqlStore) usable(c *sql.Conn) bool {
	err := c.Raw(func(dc any) error {
		if v, ok := dc.(driver.Validator); ok && !v.IsValid() {
			return driver.ErrBadConn
		}
		if s.d.broken != nil && s.d.broken(dc) {
			return driver.ErrBadConn
		}
		return nil
	})
	return err == nil // ErrConnDone: database/sql dropped it already
}

// discard closes c's session instead of returning it to the pool, which for a
// session lock releases the run lock.
func discard(c *sql.Conn) {
	_ = c.Raw(func(any) error { return driver.ErrBadConn }) // Raw closes a bad connection
}

// inTx runs f in a transaction on w, the writer's connection, and commits it. The
// caller holds wmu.
//
// When the transaction ends in a way inTx does not see succeed — database/sql
// rolled it back itself because ctx ended, or COMMIT failed — the connection is
// dropped and the next write connects afresh: SQLite's ROLLBACK on an interrupted
// connection can fail and leave it inside the transaction, refusing every BEGIN
// after. The error of a transaction that ctx cut says so (errors.Is ctx.Err()),
// whatever the driver made of the cut.
func (s *sqlStore) inTx(ctx context.Context, w *sql.Conn, f func(*sql.Tx) error) (err error) {
	defer func() {
		if cerr := ctx.Err(); err != nil && cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w: %w", cerr, err)
		}
	}()
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			s.dropWriter()
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		s.dropWriter()
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// dropWriter discards the writer's connection. The caller holds wmu.
func (s *sqlStore) dropWriter() {
	if s.w != nil {
		discard(s.w)
		s.w = nil
	}
}

func (s *sqlStore) init(ctx context.Context) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	w, err := s.writer(ctx)
	if err != nil {
		return err
	}
	return s.inTx(ctx, w, func(tx *sql.Tx) error {
		exists, err := s.d.inspect(ctx, tx)
		if err != nil {
			return err
		}
		if exists {
			var format, version sql.NullString
			err := tx.QueryRowContext(ctx, `SELECT
				(SELECT value FROM meta WHERE key = 'format'),
				(SELECT value FROM meta WHERE key = 'schema_version')`).Scan(&format, &version)
			if err != nil {
				return err
			}
			return checkFormat(format.String, version.String)
		}
		if _, err := tx.ExecContext(ctx, s.d.tables); err != nil {
			return fmt.Errorf("create tables: %w", err)
		}
		_, err = tx.ExecContext(ctx, s.query(`INSERT INTO meta (key, value) VALUES ('format', $1), ('schema_version', $2)`),
			formatName, strconv.Itoa(schemaVersion))
		return err
	})
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
func (s *sqlStore) Begin(ctx context.Context, m Manifest, opt BeginOptions) (Resume, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	w, err := s.writer(ctx)
	if err != nil {
		return Resume{}, fmt.Errorf("begin: %w", err)
	}
	if s.unlock == nil {
		if s.unlock, err = s.d.lock(ctx, w); err != nil {
			return Resume{}, fmt.Errorf("begin: %w", err)
		}
	}
	var r Resume
	var refused error // begin's own refusal, returned as is
	err = s.inTx(ctx, w, func(tx *sql.Tx) error {
		prev, err := s.manifest(ctx, tx)
		if err != nil && !errors.Is(err, ErrNoManifest) {
			return err
		}
		var next Manifest
		var drop bool
		next, drop, r, refused = begin(prev, m, opt)
		if refused != nil {
			return refused
		}
		if drop {
			if _, err := tx.ExecContext(ctx, s.d.dropProgress); err != nil {
				return fmt.Errorf("drop progress: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM meta WHERE key IN ('last_batch', 'generation', 'generation_clock')`); err != nil {
				return fmt.Errorf("drop progress: %w", err)
			}
		}
		_, err = tx.ExecContext(ctx, s.query(`INSERT INTO manifest
			(id, mapping_hash, source, target, tool_version, started, resumed, runs) VALUES (1, $1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (id) DO UPDATE SET mapping_hash = excluded.mapping_hash, source = excluded.source,
				target = excluded.target, tool_version = excluded.tool_version, started = excluded.started,
				resumed = excluded.resumed, runs = excluded.runs`),
			s.str(next.MappingHash), s.str(next.Source), s.str(next.Target), s.str(next.ToolVersion),
			nanos(next.Started), nanos(next.Resumed), next.Runs)
		if err != nil {
			return fmt.Errorf("write manifest: %w", err)
		}
		return nil
	})
	if refused != nil {
		return Resume{}, refused
	}
	if err != nil {
		return Resume{}, fmt.Errorf("begin: %w", err)
	}
	return r, nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *sqlStore) manifest(ctx context.Context, q queryer) (*Manifest, error) {
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
func (s *sqlStore) Manifest(ctx context.Context) (Manifest, error) {
	if s.closed.Load() {
		return Manifest{}, fmt.Errorf("read manifest: %w", ErrClosed)
	}
	m, err := s.manifest(ctx, s.db)
	if errors.Is(err, ErrNoManifest) {
		return Manifest{}, err
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("read manifest: %w", err)
	}
	return *m, nil
}

// Apply implements Store.
func (s *sqlStore) Apply(ctx context.Context, b *Batch) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	w, err := s.writer(ctx)
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	err = s.inTx(ctx, w, func(tx *sql.Tx) error {
		if b.ID != "" {
			var last string
			err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'last_batch'`).Scan(&last)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if last == b.ID {
				return nil // committing nothing
			}
		}
		if err := s.d.writeBatch(ctx, tx, b); err != nil {
			return err
		}
		if b.ID == "" {
			return nil
		}
		_, err := tx.ExecContext(ctx, s.query(`INSERT INTO meta (key, value) VALUES ('last_batch', $1)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`), b.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	return nil
}

// Rebase implements Store.
func (s *sqlStore) Rebase(ctx context.Context, g Generation) error {
	if g.Number <= 0 {
		return fmt.Errorf("rebase: generation %d", g.Number)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	w, err := s.writer(ctx)
	if err != nil {
		return fmt.Errorf("rebase: %w", err)
	}
	err = s.inTx(ctx, w, func(tx *sql.Tx) error {
		keep := make([]any, len(g.Keep))
		marks := `DELETE FROM marks`
		for i, ph := range g.Keep {
			keep[i] = s.str(ph)
			if i == 0 {
				marks += ` WHERE phase NOT IN (`
			} else {
				marks += `, `
			}
			marks += fmt.Sprintf("$%d", i+1)
		}
		if len(keep) > 0 {
			marks += `)`
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{{marks, keep}, {`DELETE FROM intents`, nil}, {`DELETE FROM phases`, nil}} {
			if _, err := tx.ExecContext(ctx, s.query(q.sql), q.args...); err != nil {
				return err
			}
		}
		if len(g.Intents)+len(g.Rejects)+len(g.Counts) > 0 {
			if err := s.d.writeBatch(ctx, tx, &Batch{Intents: g.Intents, Rejects: g.Rejects, Counts: g.Counts}); err != nil {
				return err
			}
		}
		for k, v := range map[string]string{
			"generation":       strconv.FormatInt(g.Number, 10),
			"generation_clock": strconv.FormatInt(nanos(g.Clock), 10),
		} {
			_, err := tx.ExecContext(ctx, s.query(`INSERT INTO meta (key, value) VALUES ($1, $2)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value`), k, v)
			if err != nil {
				return err
			}
		}
		// A retried batch of the previous generation must not be taken for
		// applied: its ID names the old positions.
		_, err := tx.ExecContext(ctx, `DELETE FROM meta WHERE key = 'last_batch'`)
		return err
	})
	if err != nil {
		return fmt.Errorf("rebase: %w", err)
	}
	return nil
}

// Generation implements Store.
func (s *sqlStore) Generation(ctx context.Context) (Generation, error) {
	var num, clock sql.NullString
	_, err := s.get(ctx, `SELECT
		(SELECT value FROM meta WHERE key = 'generation'),
		(SELECT value FROM meta WHERE key = 'generation_clock')`, nil, &num, &clock)
	if err != nil {
		return Generation{}, fmt.Errorf("read checkpoint generation: %w", err)
	}
	var g Generation
	if num.Valid {
		if g.Number, err = strconv.ParseInt(num.String, 10, 64); err != nil {
			return Generation{}, fmt.Errorf("read checkpoint generation %q: %w", num.String, err)
		}
	}
	if clock.Valid {
		n, err := strconv.ParseInt(clock.String, 10, 64)
		if err != nil {
			return Generation{}, fmt.Errorf("read checkpoint generation clock %q: %w", clock.String, err)
		}
		g.Clock = fromNanos(n)
	}
	return g, nil
}

// get reads one row into dest; found is false when there is none.
func (s *sqlStore) get(ctx context.Context, query string, args []any, dest ...any) (found bool, err error) {
	if s.closed.Load() {
		return false, ErrClosed
	}
	err = s.db.QueryRowContext(ctx, s.query(query), args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// each runs a query and calls scan for each row, streaming. An error from scan is
// returned as is.
func (s *sqlStore) each(ctx context.Context, query string, args []any, scan func(*sql.Rows) error) error {
	if s.closed.Load() {
		return fmt.Errorf("read checkpoint: %w", ErrClosed)
	}
	rows, err := s.db.QueryContext(ctx, s.query(query), args...)
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

// PhaseDone implements Store.
func (s *sqlStore) PhaseDone(ctx context.Context, phase string) (time.Time, bool, error) {
	var at int64
	found, err := s.get(ctx, `SELECT done_at FROM phases WHERE phase = $1`, []any{s.str(phase)}, &at)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read phase %s: %w", phase, err)
	}
	if !found {
		return time.Time{}, false, nil
	}
	return fromNanos(at), true, nil
}

// Mark implements Store.
func (s *sqlStore) Mark(ctx context.Context, phase, stream string) (Mark, bool, error) {
	m := Mark{Phase: phase, Stream: stream}
	found, err := s.get(ctx, `SELECT ordinal, legacy_id, target_seq FROM marks WHERE phase = $1 AND stream = $2`,
		[]any{s.str(phase), s.str(stream)}, &m.Ordinal, &m.LegacyID, &m.TargetSeq)
	if err != nil {
		return Mark{}, false, fmt.Errorf("read mark: %w", err)
	}
	if !found {
		return Mark{}, false, nil
	}
	return m, true, nil
}

// Marks implements Store.
func (s *sqlStore) Marks(ctx context.Context, phase, prefix string, fn func(Mark) error) error {
	q := `SELECT stream, ordinal, legacy_id, target_seq FROM marks WHERE phase = $1 AND stream >= $2`
	args := []any{s.str(phase), s.str(prefix)}
	if end, ok := prefixEnd(prefix); ok {
		q += ` AND stream < $3`
		args = append(args, s.str(end))
	}
	return s.each(ctx, q+` ORDER BY stream`, args, func(rows *sql.Rows) error {
		m := Mark{Phase: phase}
		if err := rows.Scan(&m.Stream, &m.Ordinal, &m.LegacyID, &m.TargetSeq); err != nil {
			return fmt.Errorf("read checkpoint: %w", err)
		}
		return fn(m)
	})
}

// Intents implements Store.
func (s *sqlStore) Intents(ctx context.Context, fn func(Intent) error) error {
	return s.each(ctx, `SELECT phase, stream, first_ordinal, last_ordinal, first_id, last_id
		FROM intents ORDER BY phase, stream`, nil, func(rows *sql.Rows) error {
		var in Intent
		if err := rows.Scan(&in.Phase, &in.Stream, &in.First, &in.Last, &in.FirstID, &in.LastID); err != nil {
			return fmt.Errorf("read checkpoint: %w", err)
		}
		return fn(in)
	})
}

// LookupID implements Store.
func (s *sqlStore) LookupID(ctx context.Context, kind, legacyID string) (string, bool, error) {
	var target string
	found, err := s.get(ctx, `SELECT target_id FROM id_map WHERE kind = $1 AND legacy_id = $2`,
		[]any{s.str(kind), s.str(legacyID)}, &target)
	if err != nil {
		return "", false, fmt.Errorf("read id map: %w", err)
	}
	return target, found, nil
}

// IDMap implements Store.
func (s *sqlStore) IDMap(ctx context.Context, fn func(IDMapping) error) error {
	return s.each(ctx, `SELECT kind, legacy_id, target_id FROM id_map ORDER BY kind, legacy_id`, nil,
		func(rows *sql.Rows) error {
			var m IDMapping
			if err := rows.Scan(&m.Kind, &m.LegacyID, &m.TargetID); err != nil {
				return fmt.Errorf("read checkpoint: %w", err)
			}
			return fn(m)
		})
}

// Rejects implements Store.
func (s *sqlStore) Rejects(ctx context.Context, fn func(Reject) error) error {
	return s.each(ctx, `SELECT entity, origin, legacy_id, rule, message FROM rejects ORDER BY seq`, nil,
		func(rows *sql.Rows) error {
			var r Reject
			if err := rows.Scan(&r.Entity, &r.Origin, &r.LegacyID, &r.Rule, &r.Message); err != nil {
				return fmt.Errorf("read checkpoint: %w", err)
			}
			return fn(r)
		})
}

// Counters implements Store.
func (s *sqlStore) Counters(ctx context.Context) ([]PhaseCounters, error) {
	var out []PhaseCounters
	err := s.each(ctx, `
SELECT p.phase,
	COALESCE(c.imported, 0), COALESCE(c.present, 0), COALESCE(c.rejected, 0),
	COALESCE(m.n, 0), COALESCE(i.n, 0), d.done_at
FROM (SELECT phase FROM counters UNION SELECT phase FROM phases
	UNION SELECT DISTINCT phase FROM marks UNION SELECT DISTINCT phase FROM intents) p
LEFT JOIN counters c ON c.phase = p.phase
LEFT JOIN (SELECT phase, count(*) AS n FROM marks GROUP BY phase) m ON m.phase = p.phase
LEFT JOIN (SELECT phase, count(*) AS n FROM intents GROUP BY phase) i ON i.phase = p.phase
LEFT JOIN phases d ON d.phase = p.phase
ORDER BY p.phase`, nil, func(rows *sql.Rows) error {
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

// Close implements Store. It waits for a running Begin or Apply. Ending the
// writer's session releases a session's run lock.
func (s *sqlStore) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.w != nil {
		discard(s.w)
		s.w = nil
	}
	err := s.db.Close()
	if s.unlock != nil {
		if uerr := s.unlock(); err == nil {
			err = uerr
		}
		s.unlock = nil
	}
	return err
}

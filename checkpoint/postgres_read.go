package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The reads of PostgresStore: resume and `immigrate status`, on read connections
// that never wait for the run holding the writer.

// PhaseDone implements Store.
func (s *PostgresStore) PhaseDone(ctx context.Context, phase string) (time.Time, bool, error) {
	var at int64
	err := s.withReader(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT done_at FROM phases WHERE phase = $1`, []byte(phase)).Scan(&at)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read phase %s: %w", phase, err)
	}
	return fromNanos(at), true, nil
}

// Mark implements Store.
func (s *PostgresStore) Mark(ctx context.Context, phase, stream string) (Mark, bool, error) {
	m := Mark{Phase: phase, Stream: stream}
	err := s.withReader(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT ordinal, legacy_id, target_seq FROM marks WHERE phase = $1 AND stream = $2`,
			[]byte(phase), []byte(stream)).Scan(&m.Ordinal, text{&m.LegacyID}, &m.TargetSeq)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Mark{}, false, nil
	}
	if err != nil {
		return Mark{}, false, fmt.Errorf("read mark: %w", err)
	}
	return m, true, nil
}

// Marks implements Store.
func (s *PostgresStore) Marks(ctx context.Context, phase, prefix string, fn func(Mark) error) error {
	q := `SELECT stream, ordinal, legacy_id, target_seq FROM marks WHERE phase = $1 AND stream >= $2`
	args := []any{[]byte(phase), []byte(prefix)}
	if end, ok := prefixEnd(prefix); ok {
		q += ` AND stream < $3`
		args = append(args, []byte(end))
	}
	return s.each(ctx, q+` ORDER BY stream`, args, func(rows pgx.Rows) error {
		m := Mark{Phase: phase}
		if err := rows.Scan(text{&m.Stream}, &m.Ordinal, text{&m.LegacyID}, &m.TargetSeq); err != nil {
			return fmt.Errorf("read checkpoint: %w", err)
		}
		return fn(m)
	})
}

// Intents implements Store.
func (s *PostgresStore) Intents(ctx context.Context, fn func(Intent) error) error {
	return s.each(ctx, `SELECT phase, stream, first_ordinal, last_ordinal, first_id, last_id
		FROM intents ORDER BY phase, stream`, nil, func(rows pgx.Rows) error {
		var in Intent
		if err := rows.Scan(text{&in.Phase}, text{&in.Stream}, &in.First, &in.Last, text{&in.FirstID}, text{&in.LastID}); err != nil {
			return fmt.Errorf("read checkpoint: %w", err)
		}
		return fn(in)
	})
}

// LookupID implements Store.
func (s *PostgresStore) LookupID(ctx context.Context, kind, legacyID string) (string, bool, error) {
	var target string
	err := s.withReader(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT target_id FROM id_map WHERE kind = $1 AND legacy_id = $2`,
			[]byte(kind), []byte(legacyID)).Scan(text{&target})
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read id map: %w", err)
	}
	return target, true, nil
}

// IDMap implements Store.
func (s *PostgresStore) IDMap(ctx context.Context, fn func(IDMapping) error) error {
	return s.each(ctx, `SELECT kind, legacy_id, target_id FROM id_map ORDER BY kind, legacy_id`, nil,
		func(rows pgx.Rows) error {
			var m IDMapping
			if err := rows.Scan(text{&m.Kind}, text{&m.LegacyID}, text{&m.TargetID}); err != nil {
				return fmt.Errorf("read checkpoint: %w", err)
			}
			return fn(m)
		})
}

// Rejects implements Store.
func (s *PostgresStore) Rejects(ctx context.Context, fn func(Reject) error) error {
	return s.each(ctx, `SELECT entity, origin, legacy_id, rule, message FROM rejects ORDER BY seq`, nil,
		func(rows pgx.Rows) error {
			var r Reject
			if err := rows.Scan(text{&r.Entity}, text{&r.Origin}, text{&r.LegacyID}, text{&r.Rule}, text{&r.Message}); err != nil {
				return fmt.Errorf("read checkpoint: %w", err)
			}
			return fn(r)
		})
}

// Counters implements Store.
func (s *PostgresStore) Counters(ctx context.Context) ([]PhaseCounters, error) {
	var out []PhaseCounters
	err := s.each(ctx, countersQuery, nil, func(rows pgx.Rows) error {
		var c PhaseCounters
		var doneAt *int64
		if err := rows.Scan(text{&c.Phase}, &c.Imported, &c.Present, &c.Rejected, &c.Streams, &c.Intents, &doneAt); err != nil {
			return fmt.Errorf("read checkpoint: %w", err)
		}
		if doneAt != nil {
			c.Done, c.DoneAt = true, fromNanos(*doneAt)
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// each runs a query on a read connection and calls scan for each row, streaming.
// An error from scan is returned as is.
func (s *PostgresStore) each(ctx context.Context, query string, args []any, scan func(pgx.Rows) error) error {
	c, err := s.reader(ctx)
	if err != nil {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	defer s.release(c)
	rows, err := c.Query(ctx, query, args...)
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

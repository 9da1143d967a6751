package extract

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The reading side of PostgresReader: the keyset pages of one entity fetched and
// handed to the caller.

// textFormat asks for every result column as PostgreSQL prints it: one decoding path
// for all types, and raw values that need no per-type scanning.
var textFormat = pgx.QueryResultFormats{pgx.TextFormatCode}

// pgRow is one fetched row, every string a slice of one allocation.
type pgRow struct {
	vals   [maxRowFields]string // canonical order, then custom fields
	keys   [maxOrderKeys]string
	origin Origin
}

// maxOrderKeys is the longest order key (direct messages).
const maxOrderKeys = 5

// pgScan holds one read's connection and buffers.
type pgScan struct {
	p       *pgPlan
	conn    *pgx.Conn
	rows    []pgRow
	args    []any
	scratch []byte
	keyName []string // "id=" etc., per Origin.Key field
	keyProj []int    // projected position of each Origin.Key field
}

// fetch runs sql with the key and trailing arguments and buffers its rows.
func (sc *pgScan) fetch(ctx context.Context, sql string, key []string, tail ...any) error {
	p := sc.p
	sc.args = append(sc.args[:0], textFormat)
	for _, k := range key {
		sc.args = append(sc.args, k)
	}
	sc.args = append(sc.args, tail...)
	rows, err := sc.conn.Query(ctx, sql, sc.args...)
	if err != nil {
		return fmt.Errorf("%s: %w", p.entity, err)
	}
	defer rows.Close()
	sc.rows = sc.rows[:0]
	nproj := len(p.proj)
	for rows.Next() {
		raw := rows.RawValues()
		// One string per row: the origin key, the values, the order key.
		sc.scratch = sc.scratch[:0]
		for i, j := range sc.keyProj {
			if i > 0 {
				sc.scratch = append(sc.scratch, ',')
			}
			sc.scratch = append(sc.scratch, sc.keyName[i]...)
			if j >= 0 {
				sc.scratch = append(sc.scratch, raw[j]...)
			}
		}
		keyLen := len(sc.scratch)
		for _, v := range raw {
			sc.scratch = append(sc.scratch, v...)
		}
		s := string(sc.scratch)
		sc.rows = append(sc.rows, pgRow{origin: Origin{Source: string(p.entity), Key: s[:keyLen]}})
		row := &sc.rows[len(sc.rows)-1]
		off := keyLen
		for i, v := range raw {
			if i < nproj {
				row.vals[p.proj[i]] = s[off : off+len(v)]
			} else {
				row.keys[i-nproj] = s[off : off+len(v)]
			}
			off += len(v)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", p.entity, err)
	}
	return nil
}

func (sc *pgScan) sameKey(a, b *pgRow) bool { return a.keys == b.keys }

// pgRead pages through one entity. Each page fetches one row more than it keeps:
// when that lookahead row shares the order key of the page's last rows, those rows
// are left for the next page, so pages never split rows of equal keys. A key whose
// rows fill a page by themselves is read alone, in a fixed order.
func pgRead[T any](ctx context.Context, r *PostgresReader, e Entity, decode func(*decoder, []string, Origin) (T, bool), fn func(T) error) error {
	p, ok := r.plans[e]
	if !ok {
		return nil
	}
	if err := stopped(ctx); err != nil {
		return err
	}
	c, err := r.conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", e, err)
	}
	defer r.release(c)
	if r.opt.OnRead != nil {
		r.opt.OnRead(e)
	}
	dec := newDecoder(e, p.columns, p.custom, p.time, r.opt)
	sc := &pgScan{p: p, conn: c, rows: make([]pgRow, 0, min(r.pageSize+1, 4097)),
		keyName: make([]string, len(p.keyFields)), keyProj: make([]int, len(p.keyFields))}
	for i, f := range p.keyFields {
		sc.keyName[i] = entityFields[e][f] + "="
		sc.keyProj[i] = projIndex(p.proj, f)
	}
	nv := len(p.columns)
	emit := func(rows []pgRow) error {
		for i := range rows {
			if err := stopped(ctx); err != nil {
				return err
			}
			dec.reset()
			rec, ok := decode(dec, rows[i].vals[:nv], rows[i].origin)
			if !ok {
				continue
			}
			if err := fn(rec); err != nil {
				return err
			}
		}
		return nil
	}
	n := r.pageSize
	var last [maxOrderKeys]string
	for first := true; ; first = false {
		if err := stopped(ctx); err != nil {
			return err
		}
		if first {
			err = sc.fetch(ctx, p.first, nil, n+1)
		} else {
			err = sc.fetch(ctx, p.next, last[:p.keyCount], n+1)
		}
		if err != nil {
			return err
		}
		rows := sc.rows
		if len(rows) <= n {
			return emit(rows)
		}
		// Keep the rows before the group of equal keys the lookahead belongs to.
		g := n
		for g > 0 && sc.sameKey(&rows[g-1], &rows[n]) {
			g--
		}
		if g > 0 {
			last = rows[g-1].keys
			if err := emit(rows[:g]); err != nil {
				return err
			}
			continue
		}
		// One key fills the page.
		last = rows[0].keys
		for off := 0; ; off += n {
			if err := sc.fetch(ctx, p.same, last[:p.keyCount], off, n); err != nil {
				return err
			}
			if err := emit(sc.rows); err != nil {
				return err
			}
			if len(sc.rows) < n {
				break
			}
		}
	}
}

func projIndex(proj []int, f int) int {
	for j, g := range proj {
		if g == f {
			return j
		}
	}
	return -1
}

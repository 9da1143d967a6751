package extract

import (
	"context"
	"errors"
	"fmt"
)

// EntityProbe is what ProbePostgres found of one entity's query.
type EntityProbe struct {
	Entity Entity
	// Rows is the query's row count; 0 when Err is set.
	Rows int64
	// Err says why the query does not fit the database or the entity: an unknown
	// table or column, a syntax error, a column of the wrong type, a required
	// field missing (all ErrConfig). Errors never contain the connection URL.
	Err error
}

// ProbePostgres checks every configured entity query against the database
// without reading a record: each as NewPostgresReader does (a LIMIT 0 probe of
// its tables, columns and types), then its row count. Every entity is probed,
// in Entities order; a query that does not fit is reported in its EntityProbe
// and the others are still probed. The error is for what is not the queries'
// fault (the server cannot be reached, a timeout), which stops the probe.
func ProbePostgres(ctx context.Context, cfg PostgresConfig) ([]EntityProbe, error) {
	var probes []EntityProbe
	for _, e := range Entities() {
		src, ok := cfg.Entities[e]
		if !ok {
			continue
		}
		one := PostgresConfig{URL: cfg.URL, Entities: map[Entity]EntitySource{e: src}, PageSize: cfg.PageSize}
		r, err := NewPostgresReader(ctx, one, Options{})
		if errors.Is(err, ErrConfig) {
			probes = append(probes, EntityProbe{Entity: e, Err: err})
			continue
		}
		if err != nil {
			return probes, err
		}
		n, err := r.count(ctx, e)
		_ = r.Close()
		if err != nil {
			return probes, err
		}
		probes = append(probes, EntityProbe{Entity: e, Rows: n})
	}
	return probes, nil
}

// count runs the row count of entity e's query (its Fingerprint part).
func (r *PostgresReader) count(ctx context.Context, e Entity) (int64, error) {
	c, err := r.conn(ctx)
	if err != nil {
		return 0, err
	}
	defer r.release(c)
	var n int64
	if err := c.QueryRow(ctx, r.plans[e].count).Scan(&n); err != nil {
		return 0, fmt.Errorf("%s: count: %w", e, err)
	}
	return n, nil
}

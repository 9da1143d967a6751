package extract

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
// Columns may be of any type; values are read as PostgreSQL prints them (the
// session runs with TimeZone UTC and DateStyle ISO). Time columns: timestamptz and
// timestamp columns are used as they are whatever the TimeFormat says; integer,
// numeric and floating columns need TimeFormat unix or unix_ms; text columns take any
// format, but the time of members and messages orders them, so in text it must be
// unix, unix_ms, timestamptz or rfc3339 (a Go layout cannot be ordered in SQL: convert
// it in the query). A text time column that does not parse sorts first and is
// reported as a BadRow.
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

// pgPlan is one entity's resolved query.
type pgPlan struct {
	entity    Entity
	columns   []string // per canonical field, the result column, "" if absent
	proj      []int    // canonical field of each projected value, in projection order
	keyFields []int    // canonical fields that make Origin.Key
	keyCount  int      // order key values after the projected ones
	first     string   // SQL of the first page: $1 = limit
	next      string   // SQL of later pages: $1..$k = last key, $k+1 = limit
	same      string   // SQL of the rows of one key: $1..$k = the key, $k+1 = offset, $k+2 = limit
	time      TimeFormat
}

// Type OIDs the reader tells apart (pg_type.dat).
const (
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidFloat4      = 700
	oidFloat8      = 701
	oidBPChar      = 1042
	oidVarchar     = 1043
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidNumeric     = 1700
)

func isTextOID(oid uint32) bool {
	switch oid {
	case oidText, oidVarchar, oidBPChar, oidName:
		return true
	}
	return false
}

// textTimeRE matches what parseTimestamp accepts (a superset: the Go parser rejects
// impossible dates, which then only need some position). Groups: 1 year, 2 month,
// 3 day, 4 hour, 5 minute, 6 second, 7 fraction with its dot, 8 offset sign, 9-11
// offset hours, minutes, seconds.
const textTimeRE = `^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?` +
	`(?:[Zz]|([+-])([0-9]{2})(?::?([0-9]{2}))?(?::([0-9]{2}))?)?$`

// textUnixRE matches what parseUnix and parseUnixMS accept (a superset).
const textUnixRE = `^-?[0-9]{1,19}(\.[0-9]{1,9})?$`

// textTimeKey is a numeric number of seconds since the epoch computed from the
// groups of textTimeRE (in immigrate_tk.m) without any cast that can fail: days from the civil
// date by H. Hinnant's algorithm, shifted by 400 years so every division is on
// non-negative numbers. An impossible date gets some value; it is a BadRow anyway.
const textTimeKey = `CASE WHEN immigrate_tk.m IS NULL THEN -1e30::numeric ELSE (
  ((((immigrate_tk.m[1]::int - (immigrate_tk.m[2]::int <= 2)::int + 400) / 400) - 1) * 146097
   + ((immigrate_tk.m[1]::int - (immigrate_tk.m[2]::int <= 2)::int + 400) % 400) * 365
   + ((immigrate_tk.m[1]::int - (immigrate_tk.m[2]::int <= 2)::int + 400) % 400) / 4
   - ((immigrate_tk.m[1]::int - (immigrate_tk.m[2]::int <= 2)::int + 400) % 400) / 100
   + (153 * ((immigrate_tk.m[2]::int + 9) % 12) + 2) / 5 + immigrate_tk.m[3]::int - 1
   - 719468)::numeric * 86400
  + immigrate_tk.m[4]::int * 3600 + immigrate_tk.m[5]::int * 60 + immigrate_tk.m[6]::int
  + COALESCE(('0' || immigrate_tk.m[7])::numeric, 0)
  - CASE immigrate_tk.m[8] WHEN '-' THEN -1 WHEN '+' THEN 1 ELSE 0 END
    * (COALESCE(immigrate_tk.m[9]::int, 0) * 3600 + COALESCE(immigrate_tk.m[10]::int, 0) * 60 + COALESCE(immigrate_tk.m[11]::int, 0))
) END`

// pgKey is one component of an order key: its SQL and the cast that turns the text of
// a previous value back into a comparable parameter.
type pgKey struct {
	expr  string
	param string // with %s for the parameter
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteLiteral(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

func (r *PostgresReader) plan(ctx context.Context, c *pgx.Conn, e Entity, src EntitySource) (*pgPlan, error) {
	query := strings.TrimRight(strings.TrimSpace(src.Query), ";")
	rows, err := c.Query(ctx, "SELECT * FROM ("+query+"\n) AS q LIMIT 0")
	if err != nil {
		return nil, queryError(e, err)
	}
	fds := rows.FieldDescriptions()
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, queryError(e, err)
	}
	pos := map[string]int{}
	dup := map[string]bool{}
	for i, fd := range fds {
		if _, ok := pos[fd.Name]; ok {
			dup[fd.Name] = true
			continue
		}
		pos[fd.Name] = i
	}
	fields := entityFields[e]
	p := &pgPlan{entity: e, columns: make([]string, len(fields)), time: src.Time}
	oids := make([]uint32, len(fields))
	for i, f := range fields {
		col, mapped := src.Columns[f]
		if !mapped {
			col = f
		}
		j, ok := pos[col]
		switch {
		case ok && dup[col]:
			return nil, fmt.Errorf("%w: %s: the query returns column %q more than once", ErrConfig, e, col)
		case ok:
			p.columns[i], oids[i] = col, fds[j].DataTypeOID
			p.proj = append(p.proj, i)
		case mapped:
			return nil, fmt.Errorf("%w: %s: the query returns no column %q (mapped to field %q)", ErrConfig, e, col, f)
		}
	}
	for _, req := range entityRequired[e] {
		if p.columns[fieldIndex(e, req)] == "" {
			return nil, fmt.Errorf("%w: %s: the query returns no column for required field %q", ErrConfig, e, req)
		}
	}

	// The time field: native columns are printed in the timestamptz form.
	tf := timeField[e]
	timeOID := oids[tf]
	if p.columns[tf] != "" {
		switch {
		case timeOID == oidTimestamptz || timeOID == oidTimestamp:
			p.time = TimeTimestamptz
		case isNumericOID(timeOID):
			if p.time != TimeUnix && p.time != TimeUnixMS {
				return nil, fmt.Errorf("%w: %s: time column %q is numeric: its time format must be unix or unix_ms",
					ErrConfig, e, p.columns[tf])
			}
		}
	}

	col := func(f int) string { return "q." + quoteIdent(p.columns[f]) }
	str := func(f int) string { return "COALESCE(" + col(f) + "::text, '') COLLATE \"C\"" }
	textKey := func(expr string) pgKey { return pgKey{expr, `%s::text COLLATE "C"`} }
	var keys []pgKey
	var lateral string
	timeKey := func() error {
		if p.columns[tf] == "" {
			return nil // an absent optional time orders nothing
		}
		k, lat, err := pgTimeKey(col(tf), timeOID, p.time)
		if err != nil {
			return fmt.Errorf("%w: %s: time column %q: %w", ErrConfig, e, p.columns[tf], err)
		}
		keys, lateral = append(keys, k), lat
		return nil
	}
	idKeys := func(f int) {
		keys = append(keys,
			pgKey{"octet_length(COALESCE(" + col(f) + "::text, ''))", "(%s::text)::int4"},
			textKey(str(f)))
	}
	switch e {
	case Users, Groups:
		keys = append(keys, textKey(str(0)))
		p.keyFields = []int{0}
	case Members:
		keys = append(keys, textKey(str(fMemberGroupID)))
		if err := timeKey(); err != nil {
			return nil, err
		}
		keys = append(keys, textKey(str(fMemberUserID)))
		p.keyFields = []int{fMemberGroupID, fMemberUserID}
	case GroupMessages:
		keys = append(keys, textKey(str(1)))
		if err := timeKey(); err != nil {
			return nil, err
		}
		idKeys(fMsgID)
		p.keyFields = []int{fMsgID}
	case DirectMessages:
		keys = append(keys,
			textKey("LEAST("+str(1)+", "+str(2)+")"),
			textKey("GREATEST("+str(1)+", "+str(2)+")"))
		if err := timeKey(); err != nil {
			return nil, err
		}
		idKeys(fMsgID)
		p.keyFields = []int{fMsgID}
	case Friends:
		keys = append(keys, textKey(str(fFriendUserID)), textKey(str(fFriendFriendID)))
		p.keyFields = []int{fFriendUserID, fFriendFriendID}
	}
	p.keyCount = len(keys)

	var sel, order, tuple, params, content strings.Builder
	for n, f := range p.proj {
		fmt.Fprintf(&sel, "%s AS f%d, ", col(f), n)
		if n > 0 {
			content.WriteString(", ")
		}
		fmt.Fprintf(&content, "s.f%d::text COLLATE \"C\"", n)
	}
	for n, k := range keys {
		if n > 0 {
			sel.WriteString(", ")
			order.WriteString(", ")
			tuple.WriteString(", ")
			params.WriteString(", ")
		}
		fmt.Fprintf(&sel, "%s AS k%d", k.expr, n)
		fmt.Fprintf(&order, "s.k%d", n)
		fmt.Fprintf(&tuple, "s.k%d", n)
		params.WriteString(fmt.Sprintf(k.param, "$"+strconv.Itoa(n+1)))
	}
	inner := "SELECT " + sel.String() + " FROM (" + query + "\n) AS q" + lateral
	p.first = "SELECT * FROM (" + inner + ") AS s ORDER BY " + order.String() + " LIMIT $1"
	p.next = fmt.Sprintf("SELECT * FROM (%s) AS s WHERE (%s) > (%s) ORDER BY %s LIMIT $%d",
		inner, tuple.String(), params.String(), order.String(), len(keys)+1)
	// Rows sharing one key are ordered by their whole content, so OFFSET pages
	// through them deterministically.
	p.same = fmt.Sprintf("SELECT * FROM (%s) AS s WHERE (%s) = (%s) ORDER BY %s OFFSET $%d LIMIT $%d",
		inner, tuple.String(), params.String(), content.String(), len(keys)+1, len(keys)+2)
	return p, nil
}

// queryError wraps the probe's error. The server refusing the SQL itself (SQLSTATE
// class 42: syntax error, unknown table or column, no permission) is a problem of
// the mapping's query, so ErrConfig; a lost connection or a timeout is not.
func queryError(e Entity, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && strings.HasPrefix(pe.Code, "42") {
		return fmt.Errorf("%w: %s: query: %w", ErrConfig, e, err)
	}
	return fmt.Errorf("%s: query: %w", e, err)
}

func isNumericOID(oid uint32) bool {
	switch oid {
	case oidInt2, oidInt4, oidInt8, oidNumeric, oidFloat4, oidFloat8:
		return true
	}
	return false
}

// pgTimeKey returns the order key of a time column, and the LATERAL clause it needs.
func pgTimeKey(col string, oid uint32, tf TimeFormat) (pgKey, string, error) {
	switch {
	case oid == oidTimestamptz:
		return pgKey{"COALESCE(" + col + ", '-infinity'::timestamptz)", "(%s::text)::timestamptz"}, "", nil
	case oid == oidTimestamp:
		return pgKey{"COALESCE(" + col + ", '-infinity'::timestamp)", "(%s::text)::timestamp"}, "", nil
	case oid == oidInt2 || oid == oidInt4 || oid == oidInt8:
		return pgKey{"COALESCE(" + col + "::int8, '-9223372036854775808'::int8)", "(%s::text)::int8"}, "", nil
	case isNumericOID(oid):
		return pgKey{"COALESCE(" + col + "::numeric, -1e30::numeric)", "(%s::text)::numeric"}, "", nil
	case !isTextOID(oid):
		return pgKey{}, "", fmt.Errorf("type oid %d cannot hold a time: use timestamptz, timestamp, a number or text", oid)
	}
	switch tf {
	case TimeUnix, TimeUnixMS:
		return pgKey{"CASE WHEN " + col + " ~ " + quoteLiteral(textUnixRE) + " THEN " + col + "::numeric ELSE -1e30::numeric END",
			"(%s::text)::numeric"}, "", nil
	case "", TimeTimestamptz, TimeRFC3339:
		lateral := " CROSS JOIN LATERAL (SELECT regexp_match(" + col + "::text, " + quoteLiteral(textTimeRE) + ") AS m) AS immigrate_tk"
		return pgKey{textTimeKey, "(%s::text)::numeric"}, lateral, nil
	}
	return pgKey{}, "", fmt.Errorf("a text column in the Go layout %q cannot be ordered in SQL; convert it in the query (to_timestamp)", string(tf))
}

func fieldIndex(e Entity, name string) int {
	for i, f := range entityFields[e] {
		if f == name {
			return i
		}
	}
	return -1
}

// textFormat asks for every result column as PostgreSQL prints it: one decoding path
// for all types, and raw values that need no per-type scanning.
var textFormat = pgx.QueryResultFormats{pgx.TextFormatCode}

// pgRow is one fetched row, every string a slice of one allocation.
type pgRow struct {
	vals   [maxFields]string // canonical order
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
	dec := newDecoder(e, p.columns, p.time, r.opt.OnBadRow)
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

var _ Reader = (*PostgresReader)(nil)

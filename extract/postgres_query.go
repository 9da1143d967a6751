package extract

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The SQL of PostgresReader: how one entity's query is probed for its columns and
// wrapped into the keyset-paged statements pgRead runs.

// pgPlan is one entity's resolved query.
type pgPlan struct {
	entity    Entity
	columns   []string // per canonical field (then custom field), the result column, "" if absent
	custom    []string // the custom profile fields' names (sourceFields)
	proj      []int    // canonical field of each projected value, in projection order
	keyFields []int    // canonical fields that make Origin.Key
	keyCount  int      // order key values after the projected ones
	count     string   // SQL counting the query's rows, for Fingerprint
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
	query, err := userQuery(src.Query)
	if err != nil {
		return nil, fmt.Errorf("%w: %s query %w", ErrConfig, e, err)
	}
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
	fields, cols, explicit, custom := sourceFields(e, src)
	p := &pgPlan{entity: e, columns: make([]string, len(fields)), custom: custom, time: src.Time}
	oids := make([]uint32, len(fields))
	for i, f := range fields {
		col, mapped := cols[i], explicit[i]
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

	if err := checkTypes(ctx, c, e, fields, p.columns, oids); err != nil {
		return nil, err
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
	case Users, Groups, Topics, GroupDMs:
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
		if p.columns[fMsgTopicID] != "" {
			keys = append(keys, textKey(str(fMsgTopicID))) // a topic is its own stream
		}
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
	p.count = "SELECT count(*) FROM (" + query + "\n) AS q"
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
// The column's type has passed checkTypes.
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
	}
	// Any other type is text: checkTypes refused the rest.
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

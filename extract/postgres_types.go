package extract

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Which PostgreSQL column types fit which fields. The reader takes every value as
// PostgreSQL prints it, so a column of the wrong type does not fail: an array id
// {u01} or a jsonb text "hello" (quotes included) would be imported as such, and
// every record referring to the real id rejected. The probe's field descriptions
// give each column's type before any row is read; a type that cannot hold its field
// is a configuration error.

// fieldKind is what a canonical field holds.
type fieldKind int

const (
	kindText    fieldKind = iota // names, URLs, kinds, roles: any scalar
	kindID                       // a legacy id, compared and printed as text
	kindTime                     // the entity's time field
	kindInt                      // counts and sizes, parsed as integers
	kindPayload                  // message payload: any scalar or JSON
	kindList                     // a list of ids: an array, json, jsonb or text
)

// Type OIDs, beyond those of postgres_query.go, the checks name (pg_type.dat).
const (
	oidBytea   = 17
	oidJSON    = 114
	oidUnknown = 705
	oidUUID    = 2950
	oidJSONB   = 3802
)

func kindOf(e Entity, f int) fieldKind {
	if timeField[e] == f {
		return kindTime
	}
	if f >= len(entityFields[e]) {
		return kindText // a custom profile field
	}
	switch entityFields[e][f] {
	case "id", "owner_id", "group_id", "user_id", "sender_id", "recipient_id", "friend_id", "topic_id", "creator_id":
		return kindID
	case "max_members", "unread", "size", "width", "height", "duration":
		return kindInt
	case "payload", "attachments", "reactions":
		return kindPayload
	case "members":
		return kindList
	}
	return kindText
}

// pgType is a row of pg_type: what the checks need of a column's type.
type pgType struct {
	name     string // format_type: "text[]", "record", "character varying"
	category byte   // typcategory: 'A' array, 'C' composite, 'P' pseudo (record), 'S' string, …
}

// textual reports whether a column of t is text: the string category covers text,
// varchar, char, name and extensions such as citext; a domain is described by its
// base type, so it needs nothing of its own.
func (t pgType) textual(oid uint32) bool {
	return isTextOID(oid) || oid == oidUnknown || t.category == 'S'
}

// fits returns why a column of type t (oid) cannot hold a field of kind k, or "".
func fits(k fieldKind, oid uint32, t pgType) string {
	switch k {
	case kindID:
		if t.textual(oid) || oid == oidInt2 || oid == oidInt4 || oid == oidInt8 || oid == oidNumeric || oid == oidUUID {
			return ""
		}
		return "an id must be text, varchar, an integer or a uuid"
	case kindTime:
		if oid == oidTimestamptz || oid == oidTimestamp || isNumericOID(oid) || t.textual(oid) {
			return ""
		}
		return "a time must be timestamptz, timestamp, a number (time: unix or unix_ms) or text"
	case kindList:
		if t.category == 'A' || oid == oidJSON || oid == oidJSONB || t.textual(oid) {
			return ""
		}
		return "a list of ids must be an array (text[], bigint[], uuid[]), json, jsonb or text"
	case kindInt:
		if isNumericOID(oid) || t.textual(oid) {
			return ""
		}
		return "this field must be an integer, numeric or text"
	}
	// Text and payload take any type that prints as one value. JSON is a payload's
	// natural type, but as text it would keep its quotes; bytea prints as \x hex.
	switch {
	case t.category == 'A', t.category == 'C', t.category == 'P':
	case oid == oidBytea:
	case k == kindText && (oid == oidJSON || oid == oidJSONB):
	default:
		return ""
	}
	if k == kindPayload {
		return "a payload must be text, json, jsonb or another scalar"
	}
	return "a text field must be text or another scalar (a number, an enum), not " + typeNoun(oid, t)
}

// typeNoun names the class of a refused type, for the messages.
func typeNoun(oid uint32, t pgType) string {
	switch {
	case t.category == 'A':
		return "an array"
	case t.category == 'C', t.category == 'P':
		return "a composite value"
	case oid == oidBytea:
		return "bytea"
	}
	return "json"
}

// typeHint says how to fix the query for a refused type.
func typeHint(oid uint32, t pgType) string {
	switch {
	case t.category == 'A':
		return "select one element (col[1]) or join the array's rows"
	case t.category == 'C', t.category == 'P':
		return "select its fields as separate columns ((col).field)"
	case oid == oidBytea:
		return "decode it in the query (convert_from(col, 'UTF8'))"
	case oid == oidJSON || oid == oidJSONB:
		return "extract the value as text in the query (col->>'key')"
	}
	return "cast it in the query"
}

// checkTypes refuses a projected column whose type cannot hold its field (issue 13).
// oids holds each canonical field's column type, 0 where the field is absent.
func checkTypes(ctx context.Context, c *pgx.Conn, e Entity, fields, columns []string, oids []uint32) error {
	var want []int64
	for f, oid := range oids {
		if columns[f] != "" {
			want = append(want, int64(oid))
		}
	}
	if len(want) == 0 {
		return nil
	}
	rows, err := c.Query(ctx, "SELECT oid::int8, format_type(oid, NULL), typcategory::text FROM pg_type WHERE oid::int8 = ANY($1)", want)
	if err != nil {
		return fmt.Errorf("%s: column types: %w", e, err)
	}
	types := map[uint32]pgType{}
	for rows.Next() {
		var (
			oid  int64
			name string
			cat  string
		)
		if err := rows.Scan(&oid, &name, &cat); err != nil {
			rows.Close()
			return fmt.Errorf("%s: column types: %w", e, err)
		}
		types[uint32(oid)] = pgType{name: name, category: cat[0]}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: column types: %w", e, err)
	}
	var errs []string
	for f, oid := range oids {
		if columns[f] == "" {
			continue
		}
		t, ok := types[oid]
		if !ok {
			t = pgType{name: fmt.Sprintf("oid %d", oid)}
		}
		if why := fits(kindOf(e, f), oid, t); why != "" {
			errs = append(errs, fmt.Sprintf("%s query: column %q (field %s) has type %s; %s: %s",
				e, columns[f], fields[f], t.name, why, typeHint(oid, t)))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrConfig, strings.Join(errs, "\n"))
	}
	return nil
}

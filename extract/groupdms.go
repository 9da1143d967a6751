package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
)

// Group DMs (GroupDMs): one record per conversation, its participants in one
// field, so that a source lists a conversation once whatever its size and the
// group DM is one record of the reject, resume and report accounting.

const fDMID, fDMMembers, fDMCreatedAt, fDMName, fDMCreatorID = 0, 1, 2, 3, 4

// RuleList is the BadRow rule of a list field (a group DM's members) that is
// neither a JSON array of ids nor a PostgreSQL array.
const RuleList = "field.list"

// GroupDMs implements Reader.
func (r *CSVReader) GroupDMs(ctx context.Context, fn func(GroupDM) error) error {
	return readCSV(ctx, r, GroupDMs, (*decoder).groupDM, fn)
}

// GroupDMs implements Reader.
func (r *PostgresReader) GroupDMs(ctx context.Context, fn func(GroupDM) error) error {
	return pgRead(ctx, r, GroupDMs, (*decoder).groupDM, fn)
}

func (d *decoder) groupDM(v []string, o Origin) (GroupDM, bool) {
	if !d.checkRequired(v, o) {
		return GroupDM{}, false
	}
	members, err := ParseList(v[fDMMembers])
	if err != nil {
		d.bad(v, o, RuleList, "field %s: %v", d.describe(fDMMembers), err)
		return GroupDM{}, false
	}
	t, ok := d.timeAt(v, fDMCreatedAt, o)
	if !ok {
		return GroupDM{}, false
	}
	return GroupDM{ID: v[fDMID], Members: members, CreatedAt: t, Name: v[fDMName], CreatorID: v[fDMCreatorID],
		Origin: o, Dropped: d.takeDropped()}, true
}

// ParseList reads a list of ids in either documented form: a JSON array of
// strings or integers (["u1","u2"], [1,2]; what json_agg, a CSV export or a
// jsonb column gives), or a PostgreSQL array as it prints ({u1,u2,"a b"}; a
// text[], bigint[] or uuid[] column). An empty string is an error, and so are a
// null element, an empty id and a nested array: each element must be an id.
func ParseList(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "["):
		return parseJSONList(s)
	case strings.HasPrefix(s, "{"):
		return parsePGArray(s)
	}
	return nil, errors.New("not a JSON array ([\"u1\",\"u2\"]) or a PostgreSQL array ({u1,u2})")
}

func parseJSONList(s string) ([]string, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var raw []any
	if err := dec.Decode(&raw); err != nil {
		return nil, errors.New("not a JSON array of ids: " + err.Error())
	}
	if dec.More() {
		return nil, errors.New("text after the JSON array")
	}
	out := make([]string, 0, len(raw))
	for _, e := range raw {
		var id string
		switch e := e.(type) {
		case string:
			id = e
		case json.Number:
			id = e.String()
		default:
			b, _ := json.Marshal(e)
			return nil, errors.New("element " + string(b) + " is not an id (a string or an integer)")
		}
		if id == "" {
			return nil, errors.New("an element is an empty id")
		}
		out = append(out, id)
	}
	return out, nil
}

// parsePGArray reads a one-dimensional PostgreSQL array literal: elements
// separated by commas, double-quoted when they hold special characters (with
// backslash escapes), NULL unquoted for a null.
func parsePGArray(s string) ([]string, error) {
	if len(s) < 2 || s[len(s)-1] != '}' {
		return nil, errors.New("a PostgreSQL array must end with }")
	}
	body := s[1 : len(s)-1]
	if strings.TrimSpace(body) == "" {
		return []string{}, nil
	}
	var out []string
	for i := 0; ; {
		for i < len(body) && body[i] == ' ' {
			i++
		}
		var el bytes.Buffer
		quoted := false
		switch {
		case i < len(body) && body[i] == '{':
			return nil, errors.New("a nested array is not a list of ids")
		case i < len(body) && body[i] == '"':
			quoted = true
			i++
			for ; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				el.WriteByte(body[i])
			}
			if i >= len(body) {
				return nil, errors.New("an unterminated quoted element")
			}
			i++
			for i < len(body) && body[i] == ' ' {
				i++
			}
		default:
			j := strings.IndexByte(body[i:], ',')
			if j < 0 {
				j = len(body) - i
			}
			el.WriteString(strings.TrimSpace(body[i : i+j]))
			i += j
		}
		id := el.String()
		switch {
		case !quoted && strings.EqualFold(id, "NULL"):
			return nil, errors.New("an element is NULL")
		case id == "":
			return nil, errors.New("an element is an empty id")
		}
		out = append(out, id)
		if i >= len(body) {
			return out, nil
		}
		if body[i] != ',' {
			return nil, errors.New("unexpected " + string(body[i]) + " after an element")
		}
		i++
	}
}

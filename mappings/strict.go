package mappings

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Strict structure checking.
//
// The file is first parsed into a yaml.Node tree and walked against the raw
// structs' yaml tags: every mapping key must be known (else the error names the
// line, suggests the closest key and lists the valid ones), no key may repeat, and
// every value must have the right shape (mapping vs single value). The walk also
// records the line of every key path so later semantic errors can name it. Only
// then are values decoded (see parse.go), as scalars into the raw structs of
// raw.go, so that conversion after ${ENV} expansion (convert.go, scalars.go) can
// report wrong types with their line.

// scalar is one leaf value as written. It is converted after expansion, which lets
// "${PAGE_SIZE}" fill an integer and lets every conversion error name its line.
type scalar struct {
	Value string
	Line  int
	Style yaml.Style
	Set   bool // false when the key is absent or null
}

// UnmarshalYAML keeps the node's text and position. yaml does not call it for a
// null value, so Set stays false for "key:" and "key: ~". A wrong shape is a
// *yaml.TypeError, which the decoder collects while it decodes the rest of the
// file; any other error would abort the decoding there.
func (s *scalar) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want a single value, got %s", n.Line, kindName(n))}}
	}
	*s = scalar{Value: n.Value, Line: n.Line, Style: n.Style, Set: true}
	return nil
}

var scalarType = reflect.TypeOf(scalar{})

// checkTree walks n against t, reporting structural problems into l and recording
// the line of each key path in lines.
func checkTree(n *yaml.Node, t reflect.Type, path string, l *errorList, lines map[string]int) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == scalarType {
		if n.Kind != yaml.ScalarNode {
			l.addAt(n.Line, path, "want a single value, got "+kindName(n))
		}
		return
	}
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.addAt(n.Line, path, "want a mapping of keys, got "+kindName(n))
		return
	}
	var fields map[string]reflect.Type
	var valid []string
	if t.Kind() == reflect.Struct {
		fields, valid = yamlFields(t)
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			l.addAt(k.Line, path, "a key must be a plain value, got "+kindName(k))
			continue
		}
		if k.Value == "<<" && k.Tag == "!!merge" {
			l.addAt(k.Line, path, "merge keys (<<) are not supported; repeat the keys")
			continue
		}
		p := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			l.addAt(k.Line, p, fmt.Sprintf("duplicate key (first set at line %d)", first))
			continue
		}
		seen[k.Value] = k.Line
		var elem reflect.Type
		if t.Kind() == reflect.Struct {
			ft, ok := fields[k.Value]
			if !ok {
				l.addAt(k.Line, p, unknownKeyMsg(k.Value, path, valid))
				continue
			}
			elem = ft
		} else {
			elem = t.Elem()
		}
		lines[p] = k.Line
		checkTree(v, elem, p, l, lines)
	}
}

// yamlFields returns the struct's yaml keys and their types.
func yamlFields(t reflect.Type) (map[string]reflect.Type, []string) {
	fields := make(map[string]reflect.Type, t.NumField())
	names := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = f.Type
		names = append(names, name)
	}
	return fields, names
}

func unknownKeyMsg(key, parent string, valid []string) string {
	where := "at the top level"
	if parent != "" {
		where = "in " + parent
	}
	msg := fmt.Sprintf("unknown key %q %s", key, where)
	if s := closest(key, valid); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	sorted := append([]string(nil), valid...)
	sort.Strings(sorted)
	return msg + " (valid keys: " + strings.Join(sorted, ", ") + ")"
}

// closest returns the candidate nearest to s by edit distance, if near enough to
// be a likely typo.
func closest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	limit := 2
	if len(s) <= 3 {
		limit = 1
	}
	if bestD <= limit {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance over bytes; keys are short ASCII.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

// joinPath appends a key to a dotted key path, quoting keys that are not plain
// words so a legacy value like "a.b" stays readable.
func joinPath(parent, key string) string {
	if !plainKey(key) {
		key = "[" + strconv.Quote(key) + "]"
		return parent + key
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

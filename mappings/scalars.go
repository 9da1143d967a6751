package mappings

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/immigrate/immigrate/extract"
)

// Conversions of single values: each expands ${ENV} references first, reports a
// wrong value with its line and goes on with a default, so that one run reports
// every problem.

// text returns the expanded value of s.
func (c *converter) text(s scalar, path string) string {
	v, _ := c.expanded(s, path)
	return v
}

// expanded returns the expanded value of s; ok is false when expansion failed
// (and was reported), so the caller does not report the same value twice.
func (c *converter) expanded(s scalar, path string) (v string, ok bool) {
	if !s.Set {
		return "", true
	}
	v, err := expand(s.Value, c.env)
	if err != nil {
		var ee *envError
		if errors.As(err, &ee) {
			c.addAt(s.lineAt(ee.Off), path, ee.Msg)
		} else {
			c.addAt(s.Line, path, err.Error())
		}
		return "", false
	}
	return v, true
}

// lineAt is the line of byte offset off of the value. In a block scalar (| or >)
// the text starts on the line after the indicator, and in a literal block each
// newline is a source line; elsewhere the value's first line is the best guess.
func (s scalar) lineAt(off int) int {
	switch {
	case s.Style&yaml.LiteralStyle != 0:
		return s.Line + 1 + strings.Count(s.Value[:off], "\n")
	case s.Style&yaml.FoldedStyle != 0:
		return s.Line + 1
	}
	return s.Line
}

func (c *converter) integer(s scalar, path string, def int64) int64 {
	if !s.Set {
		return def
	}
	v, ok := c.expanded(s, path)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		c.addAt(s.Line, path, fmt.Sprintf("want an integer, got %q", v))
		return def
	}
	return n
}

func (c *converter) intValue(s scalar, path string, def int) int {
	n := c.integer(s, path, int64(def))
	if n > math.MaxInt32 || n < math.MinInt32 {
		c.addAt(s.Line, path, fmt.Sprintf("%d is out of range", n))
		return def
	}
	return int(n)
}

func (c *converter) number(s scalar, path string) (float64, bool) {
	v, ok := c.expanded(s, path)
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		c.addAt(s.Line, path, fmt.Sprintf("want a number, got %q", v))
		return 0, false
	}
	return x, true
}

func (c *converter) boolean(s scalar, path string) bool {
	if !s.Set {
		return false
	}
	v, ok := c.expanded(s, path)
	if !ok {
		return false
	}
	switch v {
	case "true":
		return true
	case "false":
		return false
	default:
		c.addAt(s.Line, path, fmt.Sprintf("want true or false, got %q", v))
		return false
	}
}

func (c *converter) duration(s scalar, path string, def time.Duration) time.Duration {
	if !s.Set {
		return def
	}
	v, ok := c.expanded(s, path)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		c.addAt(s.Line, path, fmt.Sprintf("want a duration such as 10s or 1m30s, got %q", v))
		return def
	}
	return d
}

func (c *converter) size(s scalar, path string, def int) int {
	if !s.Set {
		return def
	}
	v, ok := c.expanded(s, path)
	if !ok {
		return def
	}
	n, err := parseSize(v)
	if err != nil {
		c.addAt(s.Line, path, err.Error())
		return def
	}
	return n
}

// path resolves a file path against the mapping file's directory.
func (c *converter) path(s scalar, key string, def string) string {
	p := def
	if s.Set {
		p = c.text(s, key)
	}
	if p == "" {
		return ""
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(c.dir, p)
}

const maxSize = 1 << 40

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1000, "kb": 1000, "kib": 1 << 10,
	"m": 1000 * 1000, "mb": 1000 * 1000, "mib": 1 << 20,
	"g": 1000 * 1000 * 1000, "gb": 1000 * 1000 * 1000, "gib": 1 << 30,
}

// parseSize reads a byte size: an integer with an optional unit (B, KB, KiB, MB,
// MiB, GB, GiB; case-insensitive, SI units are powers of 1000).
func parseSize(v string) (int, error) {
	s := strings.TrimSpace(v)
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	unit, ok := sizeUnits[strings.ToLower(strings.TrimSpace(s[i:]))]
	if i == 0 || !ok {
		return 0, fmt.Errorf("want a size such as 64MiB or 1048576, got %q", v)
	}
	// A sort buffer beyond 1 TiB is a typo, and the bound keeps n*unit in range.
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n > maxSize/unit {
		return 0, fmt.Errorf("size %q is too large (at most 1TiB)", v)
	}
	return int(n * unit), nil
}

func (c *converter) enum(s scalar, path, def string) string {
	if !s.Set {
		return def
	}
	return c.text(s, path)
}

// delimiter reads one character; "tab" and "\t" name the tab.
func (c *converter) delimiter(s scalar, path string) rune {
	v, ok := c.expanded(s, path)
	if !ok {
		return extract.DefaultDelimiter
	}
	switch v {
	case "tab", `\t`:
		return '\t'
	}
	r, n := utf8.DecodeRuneInString(v)
	if n == 0 || n != len(v) {
		c.addAt(s.Line, path, fmt.Sprintf("want a single character, got %q", v))
		return extract.DefaultDelimiter
	}
	return r
}

// stringMap converts a legacy → TIM map; absent means def.
func (c *converter) stringMap(m map[string]scalar, path string, def map[string]string) map[string]string {
	if m == nil {
		return def
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = c.text(v, joinPath(path, k))
	}
	return out
}

func (c *converter) timestamp(s scalar, path string) time.Time {
	v, ok := c.expanded(s, path)
	if !ok {
		return time.Time{}
	}
	v = strings.TrimSpace(v)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC()
		}
	}
	c.addAt(s.Line, path, fmt.Sprintf("want an RFC 3339 time such as 2026-11-01T00:00:00Z, got %q", v))
	return time.Time{}
}

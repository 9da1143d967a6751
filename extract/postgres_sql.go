package extract

import (
	"errors"
	"strings"
)

// The mapping's SQL is wrapped as a subquery, SELECT … FROM (<query>) AS q … ORDER
// BY <order key> LIMIT <page> (postgres_query.go), which gives a query's top level a
// meaning it does not have on its own: an ORDER BY there is ignored, a LIMIT or
// OFFSET picks an arbitrary set of rows on every page, and a semicolon is a syntax
// error. userQuery finds those by scanning PostgreSQL's lexical structure
// (comments, string and identifier quoting, dollar quoting, parentheses); it is not
// a parser, it only needs to know what is at depth 0.

// userQuery returns the query the reader wraps: q without a final semicolon and what
// follows it (whitespace, comments). It refuses more than one statement and an
// ORDER BY, LIMIT, OFFSET or FETCH at the query's top level.
func userQuery(q string) (string, error) {
	end := len(q) // where the statement ends: its first top-level semicolon
	var prev, prev2 string
	depth := 0
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case strings.HasPrefix(q[i:], "--"):
			if n := strings.IndexByte(q[i:], '\n'); n >= 0 {
				i += n + 1
			} else {
				i = len(q)
			}
			continue
		case strings.HasPrefix(q[i:], "/*"):
			i = skipBlockComment(q, i)
			continue
		}
		if end < len(q) {
			if c != ';' {
				return "", errors.New("holds more than one statement: end it at its first semicolon")
			}
			i++
			continue
		}
		tok, next := sqlToken(q, i)
		switch tok {
		case "(", "[":
			depth++
		case ")", "]":
			depth--
		case ";":
			if depth == 0 {
				end = i
			}
		}
		if depth == 0 && prev != "as" && prev != "." {
			word := strings.ToLower(tok)
			switch {
			case prev == "order" && prev2 != "as" && prev2 != "." && word == "by":
				return "", errors.New("has an ORDER BY at its top level: the reader orders the rows by the entity's stream order and pages them itself, so yours would be ignored; remove the ORDER BY")
			case word == "limit", word == "offset", word == "fetch":
				return "", errors.New("has a " + strings.ToUpper(word) + " at its top level: the reader pages the rows itself, so it would pick another set of rows for every page; select the rows with WHERE, or put ORDER BY and " + strings.ToUpper(word) + " into a subquery (SELECT * FROM (…) AS t)")
			}
			prev2, prev = prev, word
		} else {
			prev2, prev = prev, strings.ToLower(tok)
		}
		i = next
	}
	return q[:end], nil
}

// skipBlockComment returns the position after the comment that starts at i.
// PostgreSQL's block comments nest.
func skipBlockComment(q string, i int) int {
	depth := 0
	for i < len(q) {
		switch {
		case strings.HasPrefix(q[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(q[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return i
}

// sqlToken returns the token that starts at i (not a space or comment) and the
// position after it. Quoted strings and identifiers are one token each.
func sqlToken(q string, i int) (string, int) {
	c := q[i]
	switch {
	case c == '\'':
		return q[i:skipQuoted(q, i, '\'', false)], skipQuoted(q, i, '\'', false)
	case (c == 'E' || c == 'e') && i+1 < len(q) && q[i+1] == '\'':
		n := skipQuoted(q, i+1, '\'', true)
		return q[i:n], n
	case c == '"':
		n := skipQuoted(q, i, '"', false)
		return q[i:n], n
	case c == '$':
		if n, ok := skipDollarQuoted(q, i); ok {
			return q[i:n], n
		}
		n := i + 1
		for n < len(q) && q[n] >= '0' && q[n] <= '9' {
			n++
		}
		return q[i:n], n
	case isIdentStart(c):
		n := i + 1
		for n < len(q) && (isIdentStart(q[n]) || q[n] >= '0' && q[n] <= '9' || q[n] == '$') {
			n++
		}
		return q[i:n], n
	}
	return q[i : i+1], i + 1
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

// skipQuoted returns the position after the quoted token starting at i: a doubled
// quote stands for itself, and in an escape string (E'…') so does a backslash-escaped one.
func skipQuoted(q string, i int, quote byte, backslash bool) int {
	for i++; i < len(q); i++ {
		switch q[i] {
		case '\\':
			if backslash {
				i++
			}
		case quote:
			if i+1 < len(q) && q[i+1] == quote {
				i++
				continue
			}
			return i + 1
		}
	}
	return len(q)
}

// skipDollarQuoted reports whether a dollar-quoted string ($$…$$, $tag$…$tag$)
// starts at i, and the position after it.
func skipDollarQuoted(q string, i int) (int, bool) {
	n := i + 1
	if n < len(q) && isIdentStart(q[n]) {
		for n < len(q) && (isIdentStart(q[n]) || q[n] >= '0' && q[n] <= '9') {
			n++
		}
	}
	if n >= len(q) || q[n] != '$' {
		return 0, false
	}
	tag := q[i : n+1]
	if e := strings.Index(q[n+1:], tag); e >= 0 {
		return n + 1 + e + len(tag), true
	}
	return len(q), true
}

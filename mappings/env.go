package mappings

import (
	"fmt"
	"strings"
)

// Environment expansion.
//
// Only "${NAME}" is a reference, NAME being [A-Za-z_][A-Za-z0-9_]*. "$${" is the
// escape and yields a literal "${". Every other "$" is kept as written, so SQL
// placeholders ($1) and PostgreSQL dollar quoting ($$ ... $$) need no escaping.
// References are expanded in values only, never in keys, and after YAML parsing, so
// a secret holding '#', ':' or quotes cannot change the document's structure.

// envError is an expansion problem at byte offset Off of the value.
type envError struct {
	Off int
	Msg string
}

func (e *envError) Error() string { return e.Msg }

// expand returns s with its references replaced by env's values. An unset
// variable is an error naming it (a variable set to "" is not unset).
func expand(s string, env func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' {
			b.WriteByte(c)
			i++
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", &envError{Off: i, Msg: `unterminated "${" (write "$${" for a literal "${")`}
			}
			name := s[i+2 : i+2+end]
			if !validEnvName(name) {
				return "", &envError{Off: i, Msg: fmt.Sprintf("invalid variable name %q in ${...}", name)}
			}
			if env == nil {
				return "", &envError{Off: i, Msg: fmt.Sprintf("environment variable %s is not set", name)}
			}
			v, ok := env(name)
			if !ok {
				return "", &envError{Off: i, Msg: fmt.Sprintf("environment variable %s is not set", name)}
			}
			b.WriteString(v)
			i += 2 + end + 1
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

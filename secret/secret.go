package secret

import "encoding/json"

// Secret holds a credential. Its String, GoString and JSON forms are redacted
// so that it cannot leak into logs, reports or checkpoints by accident.
//
// The value sits behind a pointer because fmt prints a struct reached through an
// unexported field (e.g. a Config kept in a server's private field) by reflection,
// without calling String; a nested pointer is then printed as an address, never
// as the key.
type Secret struct{ v *string }

// New wraps a credential.
func New(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{v: &s}
}

// Reveal returns the credential itself; only signing and connecting code calls it.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether no credential was given.
func (s Secret) IsZero() bool { return s.v == nil || *s.v == "" }

func (s Secret) String() string {
	if s.IsZero() {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the credential.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON writes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText writes the redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

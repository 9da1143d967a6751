package mappings

import (
	"errors"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestExpand(t *testing.T) {
	env := envOf(map[string]string{"A": "alpha", "B_2": "b#: 'x'", "EMPTY": ""})
	tests := []struct {
		name, in, want string
		wantErr        string // substring; "" means success
		wantOff        int
	}{
		{name: "no reference", in: "plain text", want: "plain text"},
		{name: "one reference", in: "${A}", want: "alpha"},
		{name: "embedded", in: "x-${A}-${B_2}-y", want: "x-alpha-b#: 'x'-y"},
		{name: "set but empty", in: "[${EMPTY}]", want: "[]"},
		{name: "escape", in: "$${A}", want: "${A}"},
		{name: "escape then reference", in: "$${A}${A}", want: "${A}alpha"},
		{name: "sql placeholder kept", in: "WHERE id > $1", want: "WHERE id > $1"},
		{name: "dollar quoting kept", in: "SELECT $$it's$$", want: "SELECT $$it's$$"},
		{name: "bare name not expanded", in: "$A", want: "$A"},
		{name: "trailing dollar", in: "cost$", want: "cost$"},
		{name: "unset", in: "ab${MISSING}", wantErr: "environment variable MISSING is not set", wantOff: 2},
		{name: "unterminated", in: "x ${A", wantErr: "unterminated", wantOff: 2},
		{name: "empty name", in: "${}", wantErr: "invalid variable name"},
		{name: "bad name", in: "${1A}", wantErr: "invalid variable name"},
		{name: "default syntax not supported", in: "${A:-x}", wantErr: "invalid variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := expand(tt.in, env)
			if tt.wantErr != "" {
				var ee *envError
				if !errors.As(err, &ee) || !strings.Contains(ee.Msg, tt.wantErr) {
					t.Fatalf("expand(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				if ee.Off != tt.wantOff {
					t.Errorf("offset = %d, want %d", ee.Off, tt.wantOff)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseExpandsEnv(t *testing.T) {
	const doc = `version: 1
source:
  postgres:
    url: "${PG}"
    page_size: ${PAGE}
    # a comment with ${NOT_A_VALUE} is never expanded
target:
  endpoint: https://${HOST}
  sdkappid: ${APPID}
  secret_key: ${KEY}
  admin: "$${literal}"
entities:
  users:
    query: |
      SELECT id FROM ${SCHEMA}.users WHERE id <> $1
`
	env := envOf(map[string]string{
		"PG": "postgres://u:pw@db/x", "PAGE": "500", "HOST": "example.com", "APPID": "1400000123",
		"KEY": "s3cr#t: 'x'", "SCHEMA": "legacy",
	})
	f, err := Parse([]byte(doc), "m.yaml", env)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := f.Source.Postgres.URL.Reveal(); got != "postgres://u:pw@db/x" {
		t.Errorf("url = %q", got)
	}
	if got := f.Source.Postgres.PageSize; got != 500 {
		t.Errorf("page_size = %d, want 500 (from env)", got)
	}
	if got := f.Target.Endpoint; got != "https://example.com" {
		t.Errorf("endpoint = %q", got)
	}
	if got := f.Target.SDKAppID; got != 1400000123 {
		t.Errorf("sdkappid = %d", got)
	}
	if got := f.Target.SecretKey.Reveal(); got != "s3cr#t: 'x'" {
		t.Errorf("secret kept its YAML-special characters? got %q", got)
	}
	if got := f.Target.Admin; got != "${literal}" {
		t.Errorf("admin = %q, want the escaped literal ${literal}", got)
	}
	if got, want := f.Entities["users"].Query, "SELECT id FROM legacy.users WHERE id <> $1\n"; got != want {
		t.Errorf("query = %q, want %q", got, want)
	}
}

func TestParseEnvErrorsNameTheLine(t *testing.T) {
	const doc = `version: 1
source:
  postgres:
    url: ${PG}
target:
  sandbox: embedded
entities:
  users:
    query: |
      SELECT id
      FROM ${SCHEMA}.users
  groups:
    query: "SELECT ${BAD NAME}"
`
	_, err := Parse([]byte(doc), "m.yaml", envOf(nil))
	got := Errors(err)
	want := []struct {
		line int
		path string
		msg  string
	}{
		{4, "source.postgres.url", "environment variable PG is not set"},
		{11, "entities.users.query", "environment variable SCHEMA is not set"},
		{13, "entities.groups.query", "invalid variable name"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(got), len(want), err)
	}
	byPath := map[string]*Error{}
	for _, e := range got {
		byPath[e.Path] = e
	}
	for _, w := range want {
		t.Run(w.path, func(t *testing.T) {
			e := byPath[w.path]
			if e == nil {
				t.Fatalf("no error for %s in %v", w.path, err)
			}
			if e.Line != w.line || !strings.Contains(e.Msg, w.msg) {
				t.Errorf("got line %d %q, want line %d %q", e.Line, e.Msg, w.line, w.msg)
			}
			if !strings.Contains(e.Error(), "line ") {
				t.Errorf("error text %q does not name the line", e.Error())
			}
		})
	}
}

package mappings

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// hashBase is a full mapping used by the hash tests; each mutation below edits
// one thing in it.
const hashBase = `version: 1
source:
  csv:
    dir: data
    delimiter: ","
target:
  region: singapore
  sdkappid: 1400000001
  secret_key: ${KEY}
  admin: administrator
entities:
  users: {file: users.csv, columns: {id: user_id, nick: name}, time: unix}
  groups: {file: groups.csv}
  group_messages: {file: gm.csv, time: unix_ms}
group_types: {public: Public, private: Private}
default_group_type: Public
roles: {owner: Owner, member: Member}
messages:
  kinds:
    text: {element: text}
    sticker: {element: face, index: 3}
    image: {element: image}
  unknown_kind: reject
  group_rich_media: custom
ids: {invalid: rewrite, group_id_prefix: "g_"}
policies: {long_names: truncate, group_create_time: clamp}
sync: {default: 2, realtime_after: "2026-11-01T00:00:00Z"}
load: {rates: {importmsg: 190}, concurrency: 64}
output: out
`

const hashSecret = "TOP-SECRET-KEY-0xDEADBEEF"

func hashOf(t *testing.T, doc string, env map[string]string) string {
	t.Helper()
	if env == nil {
		env = map[string]string{"KEY": hashSecret}
	}
	f, err := Parse([]byte(doc), "m.yaml", envOf(env))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, doc)
	}
	return f.Hash()
}

func edit(t *testing.T, doc, old, new string) string {
	t.Helper()
	if !strings.Contains(doc, old) {
		t.Fatalf("test edit: %q not in the document", old)
	}
	return strings.Replace(doc, old, new, 1)
}

func TestHashFormat(t *testing.T) {
	h := hashOf(t, hashBase, nil)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(h) {
		t.Fatalf("Hash = %q, want 64 hex digits", h)
	}
}

func TestHashStable(t *testing.T) {
	base := hashOf(t, hashBase, nil)
	tests := []struct {
		name string
		doc  func(t *testing.T) string
		env  map[string]string
	}{
		{"identical", func(t *testing.T) string { return hashBase }, nil},
		{"comments and blank lines", func(t *testing.T) string {
			return "# header\n\n" + edit(t, hashBase, "target:\n", "# where to\ntarget:   # the app\n\n")
		}, nil},
		{"top-level key order", func(t *testing.T) string {
			d := edit(t, hashBase, "output: out\n", "")
			return "output: out\n" + d
		}, nil},
		{"map order", func(t *testing.T) string {
			return edit(t, hashBase, "group_types: {public: Public, private: Private}", "group_types: {private: Private, public: Public}")
		}, nil},
		{"flow vs block style and quoting", func(t *testing.T) string {
			return edit(t, hashBase, "policies: {long_names: truncate, group_create_time: clamp}",
				"policies:\n  group_create_time: 'clamp'\n  long_names: \"truncate\"")
		}, nil},
		{"defaults written out", func(t *testing.T) string {
			d := edit(t, hashBase, "  groups: {file: groups.csv}", "  groups: {file: groups.csv, time: timestamptz}")
			d = edit(t, d, "roles: {owner: Owner, member: Member}", "roles: {owner: Owner, member: Member}\ndefault_role: Member")
			d = edit(t, d, "invalid: rewrite,", "invalid: rewrite, unknown_users: reject,")
			d = edit(t, d, "group_create_time: clamp}", "group_create_time: clamp, optional_fields: repair, oversize: reject}")
			return edit(t, d, "  group_rich_media: custom", "  group_rich_media: custom\n  default_kind: text\n  keep_legacy_id: false")
		}, nil},
		{"identity column mapping", func(t *testing.T) string {
			return edit(t, hashBase, "{file: groups.csv}", "{file: groups.csv, columns: {id: id}}")
		}, nil},
		{"region alias", func(t *testing.T) string { return edit(t, hashBase, "region: singapore", "region: SGP") }, nil},
		{"secret key rotated", func(t *testing.T) string { return hashBase }, map[string]string{"KEY": "another-key"}},
		{"secret key from a literal", func(t *testing.T) string {
			return edit(t, hashBase, "secret_key: ${KEY}", "secret_key: inline")
		}, nil},
		{"output moved", func(t *testing.T) string { return edit(t, hashBase, "output: out", "output: /elsewhere/out") }, nil},
		{"checkpoint moved", func(t *testing.T) string { return hashBase + "checkpoint: {sqlite: /var/cp.db}\n" }, nil},
		{"data directory moved", func(t *testing.T) string { return edit(t, hashBase, "dir: data", "dir: /mnt/export") }, nil},
		{"load tuning", func(t *testing.T) string {
			return edit(t, hashBase, "load: {rates: {importmsg: 190}, concurrency: 64}",
				"load: {rates: {importmsg: 100, import_group_msg: 50}, concurrency: 8, retries: 3, group_msg_batch: 5}")
		}, nil},
		{"timeout, admin and edition", func(t *testing.T) string {
			return edit(t, hashBase, "  admin: administrator", "  admin: ops_admin\n  timeout: 30s\n  edition: ultimate\n  roaming_days: 0")
		}, nil},
		{"sort memory and sorted flag", func(t *testing.T) string {
			d := edit(t, hashBase, `delimiter: ","`, "delimiter: \",\"\n    sort_memory: 8MiB\n    temp_dir: /tmp")
			return edit(t, d, "{file: gm.csv, time: unix_ms}", "{file: gm.csv, time: unix_ms, sorted: true}")
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hashOf(t, tt.doc(t), tt.env); got != base {
				t.Errorf("hash changed: %s != %s", got, base)
			}
		})
	}
	// The name (and so the directory) of the mapping file does not matter either.
	f, err := Parse([]byte(hashBase), "/some/where/else.yaml", envOf(map[string]string{"KEY": hashSecret}))
	if err != nil {
		t.Fatal(err)
	}
	if f.Hash() != base {
		t.Error("hash depends on the mapping file's location")
	}
}

func TestHashChangesWithTheMapping(t *testing.T) {
	base := hashOf(t, hashBase, nil)
	mutations := []struct{ name, old, new string }{
		{"delimiter", `delimiter: ","`, `delimiter: ";"`},
		{"target region", "region: singapore", "region: seoul"},
		{"target kind", "region: singapore", "endpoint: https://adminapisgp.im.qcloud.com"},
		{"sdkappid", "sdkappid: 1400000001", "sdkappid: 1400000002"},
		{"entity file", "file: users.csv", "file: users2.csv"},
		{"entity column", "nick: name", "nick: nickname"},
		{"entity column added", "nick: name}", "nick: name, face_url: avatar}"},
		{"entity time", "time: unix}", "time: unix_ms}"},
		{"entity removed", "  groups: {file: groups.csv}\n  group_messages: {file: gm.csv, time: unix_ms}\n", ""},
		{"entity added", "  groups: {file: groups.csv}", "  groups: {file: groups.csv}\n  friends: {file: f.csv}"},
		{"group type", "private: Private}", "private: Work}"},
		{"group type added", "private: Private}", "private: Private, live: AVChatRoom}"},
		{"default group type", "default_group_type: Public", "default_group_type: Private"},
		{"role", "owner: Owner", "owner: Admin"},
		{"default role", "roles: {owner: Owner, member: Member}", "roles: {owner: Owner, member: Member}\ndefault_role: Admin"},
		{"kind element", "image: {element: image}", "image: {element: custom}"},
		{"face index", "index: 3", "index: 4"},
		{"face index from payload", "sticker: {element: face, index: 3}", "sticker: {element: face}"},
		{"kind added", "image: {element: image}", "image: {element: image}\n    gif: {element: image}"},
		{"default kind", "  unknown_kind: reject", "  unknown_kind: reject\n  default_kind: image"},
		{"unknown kind", "unknown_kind: reject", "unknown_kind: text"},
		{"group rich media", "group_rich_media: custom", "group_rich_media: text"},
		{"id policy", "invalid: rewrite", "invalid: reject"},
		{"unknown users imported", "invalid: rewrite,", "invalid: rewrite, unknown_users: import,"},
		{"group id prefix", `group_id_prefix: "g_"`, `group_id_prefix: "h_"`},
		{"long names", "long_names: truncate", "long_names: reject"},
		{"create time", "group_create_time: clamp", "group_create_time: reject"},
		{"optional fields", "group_create_time: clamp}", "group_create_time: clamp, optional_fields: reject}"},
		{"sync default", "sync: {default: 2,", "sync: {default: 5,"},
		{"realtime after", "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"},
		{"realtime after removed", `, realtime_after: "2026-11-01T00:00:00Z"`, ""},
		{"url template", "  group_rich_media: custom", "  group_rich_media: custom\n  url_template: \"https://cdn.example.com/{path}\""},
		{"keep legacy id", "  group_rich_media: custom", "  group_rich_media: custom\n  keep_legacy_id: true"},
		{"oversize", "group_create_time: clamp}", "group_create_time: clamp, oversize: truncate}"},
		{"oversize split", "group_create_time: clamp}", "group_create_time: clamp, oversize: split}"},
		{"self messages", "group_create_time: clamp}", "group_create_time: clamp, self_messages: to_group}"},
		{"custom profile field", "nick: name}, time: unix}", "nick: name}, custom: {Kind: kind}, time: unix}"},
		{"custom profile column", "nick: name}, time: unix}", "nick: name}, custom: {Kind: kind2}, time: unix}"},
		{"profile column", "nick: name}", "nick: name, gender: sex}"},
	}
	seen := map[string]string{base: "base"}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			h := hashOf(t, edit(t, hashBase, m.old, m.new), nil)
			if h == base {
				t.Fatalf("hash unchanged by %s", m.name)
			}
			if other, dup := seen[h]; dup {
				t.Errorf("hash equals that of %s", other)
			}
			seen[h] = m.name
		})
	}
}

func TestSecretNeverExposed(t *testing.T) {
	const pgPassword = "PG-PASSWORD-0xFEEDFACE"
	doc := edit(t, hashBase, "  csv:\n    dir: data\n    delimiter: \",\"", "  postgres: {url: \"postgres://u:"+pgPassword+"@db/x\"}")
	doc = edit(t, doc, "  users: {file: users.csv, columns: {id: user_id, nick: name}, time: unix}\n  groups: {file: groups.csv}\n  group_messages: {file: gm.csv, time: unix_ms}",
		"  users: {query: SELECT 1}")
	doc += "checkpoint: {postgres: \"postgres://cp:" + pgPassword + "@db/cp\"}\n"
	f, err := Parse([]byte(doc), "m.yaml", envOf(map[string]string{"KEY": hashSecret}))
	if err != nil {
		t.Fatal(err)
	}
	if f.Target.SecretKey.Reveal() != hashSecret {
		t.Fatal("secret not parsed")
	}
	js, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":         fmt.Sprintf("%v", f),
		"%+v":        fmt.Sprintf("%+v", f),
		"%#v":        fmt.Sprintf("%#v", f),
		"%v value":   fmt.Sprintf("%v", *f),
		"%+v value":  fmt.Sprintf("%+v", *f),
		"%#v value":  fmt.Sprintf("%#v", *f),
		"%+v target": fmt.Sprintf("%+v", f.Target),
		"%+v source": fmt.Sprintf("%+v", *f.Source.Postgres),
		"%s checkpt": fmt.Sprintf("%s", f.Checkpoint),
		"json":       string(js),
		"hash input": string(f.hashInput()),
		"hash":       f.Hash(),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			for _, secret := range []string{hashSecret, pgPassword} {
				if strings.Contains(out, secret) {
					t.Errorf("%s shows a secret:\n%s", name, out)
				}
			}
		})
	}
	// Errors from a file holding secrets must not show them either.
	bad := edit(t, doc, "sdkappid: 1400000001", "sdkappid: nope")
	_, err = Parse([]byte(bad), "m.yaml", envOf(map[string]string{"KEY": hashSecret}))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, secret := range []string{hashSecret, pgPassword} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows a secret: %v", err)
		}
	}
}

// TestHashOfUnusedRichKeys pins the hash of hashBase, which uses none of
// messages.url_template, messages.keep_legacy_id and policies.oversize: adding
// them left the hash of such a mapping what it was under format 3 before them
// (the value was computed by the code without them).
func TestHashOfUnusedRichKeys(t *testing.T) {
	const want = "529a14f915516e3fb9572ba1187361dbd28000f4e133ade78d89081299dc7f7c"
	if got := hashOf(t, hashBase, nil); got != want {
		t.Errorf("hash of a mapping without the rich-message keys = %s, want %s", got, want)
	}
}

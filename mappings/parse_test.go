package mappings

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim/vocab"
)

// minimal is the smallest valid mapping file; tests build on it.
const minimal = `version: 1
source:
  csv: {dir: data}
target:
  sandbox: embedded
entities:
  users: {file: users.csv}
`

func TestParseErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		line int
		path string
		msg  string
	}{
		{
			name: "yaml syntax",
			doc:  "version: 1\ntarget:\n  sandbox: x\n   admin: y\n",
			line: 4, msg: "invalid YAML: mapping values are not allowed",
		},
		{
			name: "tab indentation",
			doc:  "version: 1\nsource:\n\tcsv: {}\n",
			line: 3, msg: "invalid YAML",
		},
		{
			name: "unknown top-level key",
			doc:  minimal + "outptu: x\n",
			line: 8, path: "outptu", msg: `unknown key "outptu" at the top level; did you mean "output"?`,
		},
		{
			name: "unknown nested key lists valid keys",
			doc:  strings.Replace(minimal, "{dir: data}", "{dir: data, delimeter: ';'}", 1),
			line: 3, path: "source.csv.delimeter", msg: "did you mean \"delimiter\"? (valid keys: delimiter, dir, sort_memory, temp_dir)",
		},
		{
			name: "unknown entity",
			doc:  minimal + "  usres: {file: u.csv}\n",
			line: 8, path: "entities.usres", msg: `did you mean "users"?`,
		},
		{
			name: "unknown key in a kind",
			doc:  minimal + "messages:\n  kinds:\n    text: {element: text, idx: 3}\n",
			line: 10, path: "messages.kinds.text.idx", msg: "unknown key",
		},
		{
			name: "duplicate key",
			doc:  minimal + "version: 1\n",
			line: 8, path: "version", msg: "duplicate key (first set at line 1)",
		},
		{
			name: "mapping where a value is wanted",
			doc:  strings.Replace(minimal, "sandbox: embedded", "sandbox: {name: embedded}", 1),
			line: 5, path: "target.sandbox", msg: "want a single value, got a mapping",
		},
		{
			name: "value where a mapping is wanted",
			doc:  strings.Replace(minimal, "users: {file: users.csv}", "users:\n    file: users.csv\n    columns: user_id", 1),
			line: 9, path: "entities.users.columns", msg: `want a mapping of keys, got the value "user_id"`,
		},
		{
			name: "list where a mapping is wanted",
			doc:  minimal + "roles: [owner, admin]\n",
			line: 8, path: "roles", msg: "want a mapping of keys, got a list",
		},
		{
			name: "not an integer",
			doc:  minimal + "load:\n  concurrency: lots\n",
			line: 9, path: "load.concurrency", msg: `want an integer, got "lots"`,
		},
		{
			name: "fraction for an integer",
			doc:  minimal + "load:\n  retries: 1.5\n",
			line: 9, path: "load.retries", msg: "want an integer",
		},
		{
			name: "not a boolean",
			doc:  strings.Replace(minimal, "{file: users.csv}", "{file: users.csv, sorted: yes}", 1),
			line: 7, path: "entities.users.sorted", msg: `want true or false, got "yes"`,
		},
		{
			name: "duration without unit",
			doc:  strings.Replace(minimal, "sandbox: embedded", "sandbox: embedded\n  timeout: 10", 1),
			line: 6, path: "target.timeout", msg: "want a duration such as 10s",
		},
		{
			name: "not a size",
			doc:  strings.Replace(minimal, "{dir: data}", "{dir: data, sort_memory: lots}", 1),
			line: 3, path: "source.csv.sort_memory", msg: "want a size such as 64MiB",
		},
		{
			name: "delimiter of two characters",
			doc:  strings.Replace(minimal, "{dir: data}", "{dir: data, delimiter: ';;'}", 1),
			line: 3, path: "source.csv.delimiter", msg: "want a single character",
		},
		{
			name: "not a time",
			doc:  minimal + "sync:\n  realtime_after: yesterday\n",
			line: 9, path: "sync.realtime_after", msg: "want an RFC 3339 time",
		},
		{
			name: "unknown rate API",
			doc:  minimal + "load:\n  rates:\n    importmsgs: 100\n",
			line: 10, path: "load.rates.importmsgs", msg: `unknown API "importmsgs"; did you mean "importmsg"?`,
		},
		{
			name: "rate not a number",
			doc:  minimal + "load:\n  rates:\n    importmsg: fast\n",
			line: 10, path: "load.rates.importmsg", msg: `want a number, got "fast"`,
		},
		{
			name: "second document",
			doc:  minimal + "---\nversion: 1\n",
			line: 8, msg: "only one YAML document",
		},
		{
			name: "top level is a list",
			doc:  "- version: 1\n",
			line: 1, msg: "must be a mapping of keys",
		},
		// Semantic checks (Validate) name the line of the key too.
		{
			name: "unsupported version",
			doc:  strings.Replace(minimal, "version: 1", "version: 2", 1),
			line: 1, path: "version", msg: "version 2 is not supported",
		},
		{
			name: "two sources",
			doc:  strings.Replace(minimal, "  csv: {dir: data}", "  csv: {dir: data}\n  postgres: {url: x}", 1),
			line: 2, path: "source", msg: "exactly one of source.csv and source.postgres",
		},
		{
			name: "two targets",
			doc:  strings.Replace(minimal, "sandbox: embedded", "sandbox: embedded\n  region: singapore", 1),
			line: 4, path: "target", msg: "exactly one of target.sandbox, target.region and target.endpoint",
		},
		{
			name: "unknown sandbox",
			doc:  strings.Replace(minimal, "sandbox: embedded", "sandbox: remote", 1),
			line: 5, path: "target.sandbox", msg: `the only value is "embedded"`,
		},
		{
			name: "unknown region",
			doc:  strings.Replace(minimal, "sandbox: embedded", "region: atlantis\n  sdkappid: 1\n  secret_key: k", 1),
			line: 5, path: "target.region", msg: `unknown region "atlantis"`,
		},
		{
			name: "plain http to a remote host",
			doc:  strings.Replace(minimal, "sandbox: embedded", "endpoint: http://example.com\n  sdkappid: 1\n  secret_key: k", 1),
			line: 5, path: "target.endpoint", msg: "endpoint must be https",
		},
		{
			name: "secret key required for a real target",
			doc:  strings.Replace(minimal, "sandbox: embedded", "region: singapore\n  sdkappid: 1400000000", 1),
			line: 4, path: "target.secret_key", msg: "required", // absent: reported at its parent
		},
		{
			name: "sdkappid not positive",
			doc:  strings.Replace(minimal, "sandbox: embedded", "sandbox: embedded\n  sdkappid: 0", 1),
			line: 6, path: "target.sdkappid", msg: "positive",
		},
		{
			name: "admin with a space",
			doc:  strings.Replace(minimal, "sandbox: embedded", "sandbox: embedded\n  admin: the admin", 1),
			line: 6, path: "target.admin", msg: "printable ASCII",
		},
		{
			name: "unknown edition",
			doc:  strings.Replace(minimal, "sandbox: embedded", "sandbox: embedded\n  edition: gold", 1),
			line: 6, path: "target.edition", msg: `"gold" is not one of free, pro, ultimate`,
		},
		{
			name: "timeout not above the backend's 3s",
			doc:  strings.Replace(minimal, "sandbox: embedded", "sandbox: embedded\n  timeout: 3s", 1),
			line: 6, path: "target.timeout", msg: "more than 3s",
		},
		{
			name: "query for a CSV source",
			doc:  strings.Replace(minimal, "{file: users.csv}", "{file: users.csv, query: SELECT 1}", 1),
			line: 7, path: "entities.users.query", msg: "use file",
		},
		{
			name: "file missing for a CSV source",
			doc:  strings.Replace(minimal, "{file: users.csv}", "{time: unix}", 1),
			line: 7, path: "entities.users", msg: "file: required",
		},
		{
			name: "unknown canonical field",
			doc:  strings.Replace(minimal, "{file: users.csv}", "{file: users.csv, columns: {nickname: nick}}", 1),
			line: 7, path: "entities.users.columns.nickname", msg: `unknown field "nickname" of users`,
		},
		{
			name: "empty source column",
			doc:  strings.Replace(minimal, "{file: users.csv}", "{file: users.csv, columns: {nick: ''}}", 1),
			line: 7, path: "entities.users.columns.nick", msg: "must not be empty",
		},
		{
			name: "custom profile field name too long",
			doc:  strings.Replace(minimal, "{file: users.csv}", "{file: users.csv, custom: {Deactivated: off}}", 1),
			line: 7, path: "entities.users.custom.Deactivated", msg: "must be 1-8 letters",
		},
		{
			name: "custom profile fields of groups",
			doc:  minimal + "  groups: {file: g.csv, custom: {Kind: kind}}\n",
			line: 8, path: "entities.groups.custom", msg: "belong to users",
		},
		{
			name: "bad time format",
			doc:  strings.Replace(minimal, "{file: users.csv}", "{file: users.csv, time: epoch}", 1),
			line: 7, path: "entities.users.time", msg: `"epoch" is neither`,
		},
		{
			name: "null entity is mapped, not skipped",
			doc:  minimal + "  friends:\n",
			line: 8, path: "entities.friends", msg: "file: required",
		},
		{
			name: "members without groups",
			doc:  minimal + "  group_members: {file: m.csv}\n",
			line: 8, path: "entities.group_members", msg: "needs entities.groups",
		},
		{
			name: "unknown TIM group type",
			doc:  minimal + "group_types:\n  public: Open\n",
			line: 9, path: "group_types.public", msg: `"Open" is not a TIM group type`,
		},
		{
			name: "group type case",
			doc:  minimal + "group_types:\n  public: public\n",
			line: 9, path: "group_types.public", msg: `must be spelt "Public"`,
		},
		{
			name: "legacy key with a dot",
			doc:  minimal + "roles:\n  \"a.b\": Boss\n",
			line: 9, path: `roles["a.b"]`, msg: "is not a TIM role",
		},
		{
			name: "unknown element",
			doc:  minimal + "messages:\n  kinds:\n    gif: {element: animation}\n",
			line: 10, path: "messages.kinds.gif.element", msg: `"animation" is not an element`,
		},
		{
			name: "element missing",
			doc:  minimal + "messages:\n  kinds:\n    gif: {}\n",
			line: 10, path: "messages.kinds.gif", msg: "element: required",
		},
		{
			name: "index on a text element",
			doc:  minimal + "messages:\n  kinds:\n    text: {element: text, index: 2}\n",
			line: 10, path: "messages.kinds.text.index", msg: "only a face element has an index",
		},
		{
			name: "default kind not mapped",
			doc:  minimal + "messages:\n  kinds:\n    msg: {element: text}\n  default_kind: text\n",
			line: 11, path: "messages.default_kind", msg: `"text" is not a key of messages.kinds`,
		},
		{
			name: "unknown rich media rule",
			doc:  minimal + "messages:\n  group_rich_media: link\n",
			line: 9, path: "messages.group_rich_media", msg: `"link" is not one of custom, text, reject`,
		},
		{
			name: "unknown id policy",
			doc:  minimal + "ids:\n  invalid: fix\n",
			line: 9, path: "ids.invalid", msg: `"fix" is not one of reject, rewrite`,
		},
		{
			name: "unknown users policy",
			doc:  minimal + "ids:\n  unknown_users: create\n",
			line: 9, path: "ids.unknown_users", msg: `"create" is not one of reject, import`,
		},
		{
			name: "reserved group id prefix",
			doc:  minimal + "ids:\n  group_id_prefix: \"@TGS#x\"\n",
			line: 9, path: "ids.group_id_prefix", msg: `must not start with "@TGS#"`,
		},
		{
			name: "unknown name policy",
			doc:  minimal + "policies:\n  long_names: cut\n",
			line: 9, path: "policies.long_names", msg: `"cut" is not one of truncate, reject`,
		},
		{
			name: "unknown optional fields policy",
			doc:  minimal + "policies:\n  optional_fields: drop\n",
			line: 9, path: "policies.optional_fields", msg: `"drop" is not one of repair, reject`,
		},
		{
			name: "sync value",
			doc:  minimal + "sync:\n  default: 3\n",
			line: 9, path: "sync.default", msg: "2 (historical) or 5 (real-time)",
		},
		{
			name: "group message batch above 7",
			doc:  minimal + "load:\n  group_msg_batch: 20\n",
			line: 9, path: "load.group_msg_batch", msg: "out of range 1..7",
		},
		{
			name: "rate not positive",
			doc:  minimal + "load:\n  rates: {import_group_msg: 0}\n",
			line: 9, path: "load.rates.import_group_msg", msg: "a rate must be positive",
		},
		{
			name: "rate by service/name",
			doc:  minimal + "load:\n  rates:\n    openim/importmsg: -1\n",
			line: 10, path: "load.rates.importmsg", msg: "a rate must be positive",
		},
		{
			name: "two checkpoints",
			doc:  minimal + "checkpoint:\n  sqlite: c.db\n  postgres: postgres://x\n",
			line: 8, path: "checkpoint", msg: "exactly one of checkpoint.sqlite and checkpoint.postgres",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.doc), "m.yaml", envOf(nil))
			if err == nil {
				t.Fatalf("Parse succeeded (%+v); want an error at line %d", f, tt.line)
			}
			errs := Errors(err)
			if len(errs) == 0 {
				t.Fatalf("error %v holds no *Error", err)
			}
			var found *Error
			for _, e := range errs {
				if (tt.path == "" || e.Path == tt.path) && strings.Contains(e.Msg, tt.msg) {
					found = e
					break
				}
			}
			if found == nil {
				t.Fatalf("no error with path %q and message %q in:\n%v", tt.path, tt.msg, err)
			}
			if found.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", found.Line, tt.line, found)
			}
			if found.File != "m.yaml" {
				t.Errorf("file = %q, want m.yaml", found.File)
			}
			if tt.line > 0 && !strings.Contains(err.Error(), "line ") {
				t.Errorf("error text does not name the line: %v", err)
			}
			var asErr *Error
			if !errors.As(err, &asErr) {
				t.Errorf("errors.As(*Error) failed on %v", err)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	doc := minimal + "load:\n  concurrency: 0\n  retries: -1\nsync:\n  default: 4\n"
	_, err := Parse([]byte(doc), "m.yaml", nil)
	paths := map[string]bool{}
	for _, e := range Errors(err) {
		paths[e.Path] = true
	}
	for _, want := range []string{"load.concurrency", "load.retries", "sync.default"} {
		if !paths[want] {
			t.Errorf("no error for %s in %v", want, err)
		}
	}
}

// TestParseReportsKeysAndTypesTogether: a misspelt key and a value of the wrong
// type elsewhere in the file are reported by one run, as README promises ("every
// problem in the file is reported at once"), not one per edit-and-retry.
func TestParseReportsKeysAndTypesTogether(t *testing.T) {
	doc := strings.Replace(minimal, "csv: {dir: data}", "csv: {dir: data, delimeter: \";\"}", 1) +
		"load:\n  concurrency: lots\n  retries: [1]\nsync:\n  default: two\n"
	_, err := Parse([]byte(doc), "m.yaml", nil)
	got := map[string]int{}
	for _, e := range Errors(err) {
		got[e.Path] = e.Line
	}
	for path, line := range map[string]int{
		"source.csv.delimeter": 3, "load.concurrency": 9, "load.retries": 10, "sync.default": 12,
	} {
		if got[path] != line {
			t.Errorf("%s: reported at line %d, want %d; all errors:\n%v", path, got[path], line, err)
		}
	}
	if n := len(Errors(err)); n != 4 {
		t.Errorf("%d errors, want 4 (one per problem):\n%v", n, err)
	}
}

func TestNullSectionMeansDefaults(t *testing.T) {
	doc := strings.Replace(minimal, "  csv: {dir: data}", "  csv:", 1)
	f, err := Parse([]byte(doc), "m.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Source.CSV == nil || f.Source.CSV.Dir != "." || f.Source.CSV.Delimiter != ',' {
		t.Errorf("csv: alone = %+v, want a CSV source with defaults", f.Source.CSV)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, doc := range []string{"", "# only a comment\n", "~\n"} {
		t.Run(doc, func(t *testing.T) {
			_, err := Parse([]byte(doc), "m.yaml", nil)
			if err == nil || !strings.Contains(err.Error(), "empty") {
				t.Fatalf("Parse(%q) = %v, want an empty-file error", doc, err)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	f, err := Parse([]byte(minimal), filepath.Join("conf", "m.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"csv dir resolved against the file's directory", f.Source.CSV.Dir, filepath.Join("conf", "data")},
		{"delimiter", f.Source.CSV.Delimiter, ','},
		{"temp dir", f.Source.CSV.TempDir, ""},
		{"sort memory", f.Source.CSV.SortMemoryBytes, 64 << 20},
		{"sandbox sdkappid", f.Target.SDKAppID, int64(DefaultSandboxSDKAppID)},
		{"admin", f.Target.Admin, "administrator"},
		{"edition", f.Target.Edition, EditionPro},
		{"account limit", f.Target.AccountLimit, 0},
		{"timeout", f.Target.Timeout, 10 * time.Second},
		{"roaming retention", f.Target.RoamingDays, DefaultRoamingDays},
		{"secret optional for the sandbox", f.Target.SecretKey.IsZero(), true},
		{"entity time", f.Entities[extract.Users].Time, extract.TimeTimestamptz},
		{"group types are TIM's own names", f.GroupTypes["Public"], "Public"},
		{"group types count", len(f.GroupTypes), 7},
		{"default group type", f.DefaultGroupType, ""},
		{"roles", f.Roles["Admin"], "Admin"},
		{"default role", f.DefaultRole, "Member"},
		{"a kind not named like an element is unmapped", f.Messages.Kinds["voice"].Element, Element("")},
		{"sound kind", f.Messages.Kinds["sound"].Element, ElemSound},
		{"default kind", f.Messages.DefaultKind, "text"},
		{"unknown kind", f.Messages.UnknownKind, UnknownKindReject},
		{"group rich media", f.Messages.GroupRichMedia, RichMediaCustom},
		{"ids", f.IDs.Invalid, IDsReject},
		{"unknown users", f.IDs.UnknownUsers, UnknownUsersReject},
		{"long names", f.Policies.LongNames, LongNamesTruncate},
		{"create time", f.Policies.GroupCreateTime, CreateTimeClamp},
		{"optional fields", f.Policies.OptionalFields, OptionalFieldsRepair},
		{"sync", f.Sync.Default, 2},
		{"realtime after", f.Sync.RealtimeAfter.IsZero(), true},
		{"importmsg rate 95 % of 200", f.Load.Rates[vocab.CmdImportMsg], 190.0},
		{"multiaccount rate 95 % of 100", f.Load.Rate(vocab.CmdMultiAccountImport), 95.0},
		{"concurrency", f.Load.Concurrency, 1024},
		{"batch", f.Load.GroupMsgBatch, 7},
		{"retries", f.Load.Retries, 8},
		{"output", f.Output, filepath.Join("conf", "immigrate-out")},
		{"checkpoint in output", f.Checkpoint.SQLite, filepath.Join("conf", "immigrate-out", "checkpoint.db")},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	doc := `version: 1
source:
  csv:
    dir: /data/export
    delimiter: tab
    temp_dir: tmp
    sort_memory: 2GiB
target:
  endpoint: http://127.0.0.1:8080
  sdkappid: 1400000001
  secret_key: k
  edition: free
  timeout: 1m
entities:
  users: {file: u.tsv, columns: {id: user_id}, time: "2006-01-02 15:04:05", sorted: true}
messages:
  kinds:
    sticker: {element: face}
    like: {element: face, index: 0}
  default_kind: ""
ids:
  unknown_users: import
sync:
  default: 5
  realtime_after: 2026-11-01
load:
  rates: {importmsg: 150.5}
checkpoint: {postgres: "postgres://cp"}
output: /var/out
`
	f, err := Parse([]byte(doc), "conf/m.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"absolute dir kept", f.Source.CSV.Dir, "/data/export"},
		{"tab", f.Source.CSV.Delimiter, '\t'},
		{"temp dir resolved", f.Source.CSV.TempDir, filepath.Join("conf", "tmp")},
		{"size", f.Source.CSV.SortMemoryBytes, 2 << 30},
		{"loopback http endpoint", f.Target.Endpoint, "http://127.0.0.1:8080"},
		{"free edition limit", f.Target.AccountLimit, FreeAccountLimit},
		{"timeout", f.Target.Timeout, time.Minute},
		{"layout", f.Entities[extract.Users].Time, extract.TimeFormat("2006-01-02 15:04:05")},
		{"sorted", f.Entities[extract.Users].Sorted, true},
		{"column", f.Entities[extract.Users].Columns["id"], "user_id"},
		{"face from payload", f.Messages.Kinds["sticker"].HasIndex, false},
		{"fixed face index", f.Messages.Kinds["like"], Kind{Element: ElemFace, Index: 0, HasIndex: true}},
		{"explicit empty default kind", f.Messages.DefaultKind, ""},
		{"unknown users imported", f.IDs.UnknownUsers, UnknownUsersImport},
		{"invalid ids still default with ids present", f.IDs.Invalid, IDsReject},
		{"sync", f.Sync.Default, 5},
		{"realtime after", f.Sync.RealtimeAfter, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{"rate", f.Load.Rate(vocab.CmdImportMsg), 150.5},
		{"other rates default", f.Load.Rate(vocab.CmdImportGroupMsg), 190.0},
		{"checkpoint postgres", f.Checkpoint.Postgres.Reveal(), "postgres://cp"},
		{"no sqlite when postgres", f.Checkpoint.SQLite, ""},
		{"absolute output", f.Output, "/var/out"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
}

func TestSizes(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"1048576", 1 << 20, true},
		{"64MiB", 64 << 20, true},
		{"64 mib", 64 << 20, true},
		{"10MB", 10_000_000, true},
		{"1KiB", 1024, true},
		{"3GB", 3_000_000_000, true},
		{"2TiB", 0, false},
		{"MiB", 0, false},
		{"-5MiB", 0, false},
		{"1.5GiB", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("parseSize(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestExamplesLoadAndValidate(t *testing.T) {
	env := map[string]string{
		"IMMIGRATE_SOURCE_PG_URL":     "postgres://reader:pw@db.internal:5432/chat",
		"TIM_SDKAPPID":                "1400000001",
		"TIM_SECRET_KEY":              "0123456789abcdef",
		"IMMIGRATE_CHECKPOINT_PG_URL": "postgres://immigrate@ops.internal/immigrate",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	t.Run("csv", func(t *testing.T) {
		f, err := Load(filepath.Join("examples", "csv.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		cfg, ok := f.CSVConfig()
		if !ok {
			t.Fatal("CSVConfig: not a CSV source")
		}
		if want := filepath.Join("..", "testdata", "demo"); cfg.Dir != want {
			t.Errorf("dir = %q, want %q (relative to the example file)", cfg.Dir, want)
		}
		if len(cfg.Entities) != 6 {
			t.Errorf("entities = %d, want all 6", len(cfg.Entities))
		}
		if _, ok := f.PostgresConfig(); ok {
			t.Error("PostgresConfig of a CSV source reported ok")
		}
		if f.Target.Sandbox != SandboxEmbedded {
			t.Errorf("target = %+v, want the embedded sandbox", f.Target)
		}
		if k, _ := f.Messages.Kind("voice"); k.Element != ElemSound || k.Element.GroupAllowed() {
			t.Errorf("voice → %+v", k)
		}
		if r, _ := f.Role("moderator"); r != vocab.RoleAdmin {
			t.Errorf("moderator → %q", r)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		f, err := Load(filepath.Join("examples", "postgres.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		cfg, ok := f.PostgresConfig()
		if !ok {
			t.Fatal("PostgresConfig: not a PostgreSQL source")
		}
		if cfg.URL != env["IMMIGRATE_SOURCE_PG_URL"] {
			t.Errorf("url not expanded: %q", cfg.URL)
		}
		if len(cfg.Entities) != 6 {
			t.Errorf("entities = %d, want all 6", len(cfg.Entities))
		}
		for e, src := range cfg.Entities {
			if !strings.Contains(src.Query, "FROM legacy.") {
				t.Errorf("%s query = %q", e, src.Query)
			}
		}
		if f.Target.SecretKey.Reveal() != env["TIM_SECRET_KEY"] || f.Target.SDKAppID != 1400000001 {
			t.Errorf("target not expanded: %+v", f.Target)
		}
		if got := f.Sync.For(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)); got != vocab.SyncRealtime {
			t.Errorf("recent message sync = %d, want 5", got)
		}
		if got := f.Sync.For(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)); got != vocab.SyncHistorical {
			t.Errorf("old message sync = %d, want 2", got)
		}
		if tg := f.Target; tg.Region != "singapore" || tg.SDKAppID != 1400000001 || tg.Admin != "administrator" || f.Load.Concurrency != 128 {
			t.Errorf("target = %+v, concurrency %d", tg, f.Load.Concurrency)
		}
	})
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of a missing file = %v, want fs.ErrNotExist", err)
	}
}

func TestLoadDoesNotNeedDataFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(path, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatalf("Load with absent data files: %v", err)
	}
	if want := filepath.Join(dir, "data"); f.Source.CSV.Dir != want {
		t.Errorf("dir = %q, want %q", f.Source.CSV.Dir, want)
	}
}

func TestLookups(t *testing.T) {
	doc := minimal + `group_types: {pub: Public}
default_group_type: Private
roles: {mod: Admin}
messages:
  kinds: {t: {element: text}, img: {element: image}}
  default_kind: t
`
	f, err := Parse([]byte(doc), "m.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	type res struct {
		v  string
		ok bool
	}
	tests := []struct {
		name string
		got  res
		want res
	}{
		{"mapped type", pair(f.GroupType("pub")), res{"Public", true}},
		{"empty type takes the default", pair(f.GroupType("")), res{"Private", true}},
		{"unmapped type", pair(f.GroupType("Public")), res{"", false}},
		{"mapped role", pair(f.Role("mod")), res{"Admin", true}},
		{"empty role takes the default", pair(f.Role("")), res{"Member", true}},
		{"unmapped role", pair(f.Role("owner")), res{"", false}},
		{"kind", kindPair(f.Messages.Kind("img")), res{"image", true}},
		{"empty kind takes the default", kindPair(f.Messages.Kind("")), res{"text", true}},
		{"unknown kind", kindPair(f.Messages.Kind("gif")), res{"", false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %+v, want %+v", tt.got, tt.want)
			}
		})
	}
	f.DefaultGroupType = ""
	if _, ok := f.GroupType(""); ok {
		t.Error("empty type without a default reported ok")
	}
}

func pair(v string, ok bool) struct {
	v  string
	ok bool
} {
	return struct {
		v  string
		ok bool
	}{v, ok}
}

func kindPair(k Kind, ok bool) struct {
	v  string
	ok bool
} {
	return pair(string(k.Element), ok)
}

func TestElements(t *testing.T) {
	tests := []struct {
		e       Element
		msgType string
		inGroup bool
	}{
		{ElemText, vocab.MsgText, true},
		{ElemFace, vocab.MsgFace, true},
		{ElemLocation, vocab.MsgLocation, true},
		{ElemCustom, vocab.MsgCustom, true},
		{ElemImage, vocab.MsgImage, false},
		{ElemFile, vocab.MsgFile, false},
		{ElemSound, vocab.MsgSound, false},
		{ElemVideo, vocab.MsgVideo, false},
		{Element("gif"), "", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.e), func(t *testing.T) {
			if got := tt.e.MsgType(); got != tt.msgType {
				t.Errorf("MsgType = %q, want %q", got, tt.msgType)
			}
			if got := tt.e.GroupAllowed(); got != tt.inGroup {
				t.Errorf("GroupAllowed = %v, want %v", got, tt.inGroup)
			}
		})
	}
}

func TestConfigsAreCopies(t *testing.T) {
	doc := strings.Replace(minimal, "{file: users.csv}", "{file: users.csv, columns: {id: uid}}", 1)
	f, err := Parse([]byte(doc), "m.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := f.CSVConfig()
	cfg.Entities[extract.Users].Columns["id"] = "changed"
	delete(cfg.Entities, extract.Users)
	if got := f.Entities[extract.Users].Columns["id"]; got != "uid" {
		t.Errorf("changing the CSVConfig changed the File: %q", got)
	}
}

func TestValidateFileBuiltInCode(t *testing.T) {
	var f File
	err := f.Validate()
	want := []string{"version", "source", "target", "target.sdkappid", "entities", "messages.kinds", "checkpoint", "output"}
	got := map[string]*Error{}
	for _, e := range Errors(err) {
		got[e.Path] = e
	}
	for _, p := range want {
		t.Run(p, func(t *testing.T) {
			e := got[p]
			if e == nil {
				t.Fatalf("no error for %s in %v", p, err)
			}
			if e.Line != 0 || strings.Contains(e.Error(), "line") {
				t.Errorf("a File built in code has no lines, got %v", e)
			}
		})
	}
}

func TestPaths(t *testing.T) {
	tests := []struct{ parent, key, joined, back string }{
		{"", "version", "version", ""},
		{"target", "sdkappid", "target.sdkappid", "target"},
		{"roles", "a.b", `roles["a.b"]`, "roles"},
		{"group_types", "", `group_types[""]`, "group_types"},
		{"messages.kinds", "voice-note", "messages.kinds.voice-note", "messages.kinds"},
	}
	for _, tt := range tests {
		t.Run(tt.joined, func(t *testing.T) {
			got := joinPath(tt.parent, tt.key)
			if got != tt.joined {
				t.Fatalf("joinPath(%q, %q) = %q, want %q", tt.parent, tt.key, got, tt.joined)
			}
			if back := parentPath(got); back != tt.back {
				t.Errorf("parentPath(%q) = %q, want %q", got, back, tt.back)
			}
		})
	}
}

func TestDecodeErrorKeepsLines(t *testing.T) {
	err := decodeError("m.yaml", &yaml.TypeError{Errors: []string{
		"line 3: field foo not found in type mappings.rawFile",
		"cannot unmarshal something",
	}})
	errs := Errors(err)
	if len(errs) != 2 {
		t.Fatalf("got %d errors: %v", len(errs), err)
	}
	if errs[0].Line != 3 || errs[0].Msg != "field foo not found in type mappings.rawFile" {
		t.Errorf("first = %+v", errs[0])
	}
	if errs[1].Line != 0 || errs[1].Msg != "cannot unmarshal something" {
		t.Errorf("second = %+v", errs[1])
	}
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://adminapisgp.im.qcloud.com", true},
		{"https://adminapisgp.im.qcloud.com/", true},
		{"http://127.0.0.1:8080", true},
		{"http://127.9.9.9", true},
		{"http://localhost:1234", true},
		{"http://[::1]:8080", true},
		{"http://10.0.0.1:8080", false},
		{"http://example.com", false},
		{"ftp://example.com", false},
		{"adminapisgp.im.qcloud.com", false},
		{"https://user:pw@example.com", false},
		{"https://example.com/?x=1", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if msg := checkEndpoint(tt.url); (msg == "") != tt.ok {
				t.Errorf("checkEndpoint(%q) = %q, want ok=%v", tt.url, msg, tt.ok)
			}
		})
	}
}

func TestSourceChecks(t *testing.T) {
	pg := strings.Replace(minimal, "  csv: {dir: data}", "  postgres: {url: pg, page_size: PAGE}", 1)
	pg = strings.Replace(pg, "{file: users.csv}", "{query: SELECT 1}", 1)
	tests := []struct {
		name, doc, path, msg string
	}{
		{"page size zero", strings.Replace(pg, "PAGE", "0", 1), "source.postgres.page_size", "out of range"},
		{"url missing", strings.Replace(strings.Replace(pg, "url: pg, ", "", 1), "PAGE", "10", 1), "source.postgres.url", "required"},
		{"file for postgres", strings.Replace(strings.Replace(pg, "{query: SELECT 1}", "{query: SELECT 1, file: u.csv}", 1), "PAGE", "10", 1), "entities.users.file", "use query"},
		{"sorted for postgres", strings.Replace(strings.Replace(pg, "{query: SELECT 1}", "{query: SELECT 1, sorted: true}", 1), "PAGE", "10", 1), "entities.users.sorted", "only a CSV source"},
		{"query missing", strings.Replace(strings.Replace(pg, "{query: SELECT 1}", "{time: unix}", 1), "PAGE", "10", 1), "entities.users", "query: required"},
		{"quote as delimiter", strings.Replace(minimal, "{dir: data}", `{dir: data, delimiter: '"'}`, 1), "source.csv.delimiter", "cannot separate"},
		{"tiny sort memory", strings.Replace(minimal, "{dir: data}", "{dir: data, sort_memory: 1KiB}", 1), "source.csv.sort_memory", "too small"},
		{"no source", strings.Replace(minimal, "source:\n  csv: {dir: data}\n", "", 1), "source", "required"},
		{"no target", strings.Replace(minimal, "target:\n  sandbox: embedded\n", "", 1), "target", "required"},
		{"no entities", strings.Replace(minimal, "entities:\n  users: {file: users.csv}\n", "", 1), "entities", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "m.yaml", nil)
			for _, e := range Errors(err) {
				if e.Path == tt.path && strings.Contains(e.Msg, tt.msg) {
					return
				}
			}
			t.Errorf("no %s error %q in %v", tt.path, tt.msg, err)
		})
	}
}

func TestFoldedBlockEnvLine(t *testing.T) {
	doc := minimal + "output: >\n  ${NOPE}\n"
	_, err := Parse([]byte(doc), "m.yaml", nil)
	errs := Errors(err)
	if len(errs) != 1 || errs[0].Line != 9 || errs[0].Path != "output" {
		t.Fatalf("got %v, want one error at line 9 on output", err)
	}
}

func TestAccountLimits(t *testing.T) {
	tests := []struct {
		target  string
		edition string
		limit   int
	}{
		{"", EditionPro, 0},
		{"  edition: free\n", EditionFree, FreeAccountLimit},
		{"  edition: ultimate\n", EditionUltimate, 0},
		{"  account_limit: 500\n", "", 500},
		{"  edition: free\n  account_limit: 20\n", EditionFree, 20},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSpace(tt.target), func(t *testing.T) {
			doc := strings.Replace(minimal, "  sandbox: embedded\n", "  sandbox: embedded\n"+tt.target, 1)
			f, err := Parse([]byte(doc), "m.yaml", nil)
			if err != nil {
				t.Fatal(err)
			}
			if f.Target.Edition != tt.edition || f.Target.AccountLimit != tt.limit {
				t.Errorf("edition, limit = %q, %d; want %q, %d", f.Target.Edition, f.Target.AccountLimit, tt.edition, tt.limit)
			}
		})
	}
}

func TestRoamingDays(t *testing.T) {
	tests := []struct {
		target string
		want   int
		err    string
	}{
		{"", DefaultRoamingDays, ""},
		{"  roaming_days: 30\n", 30, ""},
		{"  roaming_days: 0\n", 0, ""},
		{"  roaming_days: -1\n", 0, "target.roaming_days: must not be negative"},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSpace(tt.target), func(t *testing.T) {
			doc := strings.Replace(minimal, "  sandbox: embedded\n", "  sandbox: embedded\n"+tt.target, 1)
			f, err := Parse([]byte(doc), "m.yaml", nil)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Target.RoamingDays != tt.want {
				t.Errorf("roaming days = %d, want %d", f.Target.RoamingDays, tt.want)
			}
		})
	}
}

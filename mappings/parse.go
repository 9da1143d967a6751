package mappings

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim/vocab"
)

// The raw form of the file: every leaf is a scalar, converted after expansion.
// Pointers tell an absent section from an empty one.
type rawFile struct {
	Version          scalar            `yaml:"version"`
	Source           *rawSource        `yaml:"source"`
	Target           *rawTarget        `yaml:"target"`
	Entities         *rawEntities      `yaml:"entities"`
	GroupTypes       map[string]scalar `yaml:"group_types"`
	DefaultGroupType scalar            `yaml:"default_group_type"`
	Roles            map[string]scalar `yaml:"roles"`
	DefaultRole      scalar            `yaml:"default_role"`
	Messages         *rawMessages      `yaml:"messages"`
	IDs              *rawIDs           `yaml:"ids"`
	Policies         *rawPolicies      `yaml:"policies"`
	Sync             *rawSync          `yaml:"sync"`
	Load             *rawLoad          `yaml:"load"`
	Checkpoint       *rawCheckpoint    `yaml:"checkpoint"`
	Output           scalar            `yaml:"output"`
}

type rawSource struct {
	CSV      *rawCSV      `yaml:"csv"`
	Postgres *rawPostgres `yaml:"postgres"`
}

type rawCSV struct {
	Dir        scalar `yaml:"dir"`
	Delimiter  scalar `yaml:"delimiter"`
	TempDir    scalar `yaml:"temp_dir"`
	SortMemory scalar `yaml:"sort_memory"`
}

type rawPostgres struct {
	URL      scalar `yaml:"url"`
	PageSize scalar `yaml:"page_size"`
}

type rawTarget struct {
	Sandbox      scalar `yaml:"sandbox"`
	Region       scalar `yaml:"region"`
	Endpoint     scalar `yaml:"endpoint"`
	SDKAppID     scalar `yaml:"sdkappid"`
	SecretKey    scalar `yaml:"secret_key"`
	Admin        scalar `yaml:"admin"`
	Edition      scalar `yaml:"edition"`
	AccountLimit scalar `yaml:"account_limit"`
	Timeout      scalar `yaml:"timeout"`
}

// rawEntities has one field per extract.Entity, so a misspelt entity is an
// unknown key like any other.
type rawEntities struct {
	Users          *rawEntity `yaml:"users"`
	Groups         *rawEntity `yaml:"groups"`
	Members        *rawEntity `yaml:"group_members"`
	GroupMessages  *rawEntity `yaml:"group_messages"`
	DirectMessages *rawEntity `yaml:"direct_messages"`
	Friends        *rawEntity `yaml:"friends"`
}

func (r *rawEntities) byEntity() map[extract.Entity]*rawEntity {
	return map[extract.Entity]*rawEntity{
		extract.Users:          r.Users,
		extract.Groups:         r.Groups,
		extract.Members:        r.Members,
		extract.GroupMessages:  r.GroupMessages,
		extract.DirectMessages: r.DirectMessages,
		extract.Friends:        r.Friends,
	}
}

type rawEntity struct {
	File    scalar            `yaml:"file"`
	Query   scalar            `yaml:"query"`
	Columns map[string]scalar `yaml:"columns"`
	Time    scalar            `yaml:"time"`
	Sorted  scalar            `yaml:"sorted"`
}

type rawMessages struct {
	Kinds          map[string]*rawKind `yaml:"kinds"`
	DefaultKind    scalar              `yaml:"default_kind"`
	UnknownKind    scalar              `yaml:"unknown_kind"`
	GroupRichMedia scalar              `yaml:"group_rich_media"`
}

type rawKind struct {
	Element scalar `yaml:"element"`
	Index   scalar `yaml:"index"`
}

type rawIDs struct {
	Invalid       scalar `yaml:"invalid"`
	UnknownUsers  scalar `yaml:"unknown_users"`
	GroupIDPrefix scalar `yaml:"group_id_prefix"`
}

type rawPolicies struct {
	LongNames       scalar `yaml:"long_names"`
	GroupCreateTime scalar `yaml:"group_create_time"`
}

type rawSync struct {
	Default       scalar `yaml:"default"`
	RealtimeAfter scalar `yaml:"realtime_after"`
}

type rawLoad struct {
	Rates         map[string]scalar `yaml:"rates"`
	Concurrency   scalar            `yaml:"concurrency"`
	GroupMsgBatch scalar            `yaml:"group_msg_batch"`
	Retries       scalar            `yaml:"retries"`
}

type rawCheckpoint struct {
	SQLite   scalar `yaml:"sqlite"`
	Postgres scalar `yaml:"postgres"`
}

// Defaults applied by Parse.
const (
	DefaultAdmin  = "administrator"
	DefaultOutput = "immigrate-out"
	// CheckpointFile is the SQLite file's name inside Output when no checkpoint
	// is configured.
	CheckpointFile = "checkpoint.db"
)

// Load reads the mapping file at path, expands ${ENV} references from the
// process environment, and returns the validated effective configuration (see
// Parse). It does not require the files the mapping refers to to exist: the
// extractor checks them.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mappings: %w", err)
	}
	return Parse(data, path, os.LookupEnv)
}

// Parse reads a mapping file's content. name is used in error messages and its
// directory resolves relative paths; env looks up ${NAME} references (nil: any
// reference is an error). It parses strictly — unknown keys, repeated keys and
// values of the wrong type are errors naming their line — applies the defaults,
// then runs Validate. Every problem found is returned, joined; each is an *Error.
func Parse(data []byte, name string, env func(string) (string, bool)) (*File, error) {
	root, err := parseDocument(data, name)
	if err != nil {
		return nil, err
	}
	lines := make(map[string]int)
	structural := &errorList{file: name, lines: lines}
	checkTree(root, reflect.TypeOf(rawFile{}), "", structural, lines)
	// The walk above is the strict check with good messages; KnownFields is the
	// backstop, so that nothing the walk might miss is silently ignored. After
	// structural problems the values are still decoded and converted, leniently
	// (the walk has already reported every key and shape the decoder would
	// refuse), so that one run reports wrong values along with wrong keys.
	var raw rawFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(structural.err() == nil)
	if err := dec.Decode(&raw); err != nil && structural.err() == nil {
		return nil, decodeError(name, err)
	}
	dir := "."
	if name != "" {
		dir = filepath.Dir(name)
	}
	c := &converter{errorList: errorList{file: name, lines: lines}, env: env, dir: dir}
	f := c.file(&raw)
	if err := errors.Join(structural.err(), c.err()); err != nil {
		return nil, err
	}
	f.name, f.lines = name, lines
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// parseDocument returns the root mapping node of the single YAML document.
func parseDocument(data []byte, name string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Msg: "the mapping file is empty"}
		}
		return nil, syntaxError(name, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(name, err)
	default:
		return nil, &Error{File: name, Line: extra.Line, Msg: "only one YAML document is allowed (remove the second ---)"}
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, &Error{File: name, Msg: "the mapping file is empty"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: root.Line, Msg: "the mapping file must be a mapping of keys, got " + kindName(root)}
	}
	return root, nil
}

// decodeError turns the decoder's error, whose messages already carry
// "line N", into *Error values.
func decodeError(name string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return syntaxError(name, err)
	}
	errs := make([]error, 0, len(te.Errors))
	for _, m := range te.Errors {
		e := &Error{File: name, Msg: m}
		if rest, ok := strings.CutPrefix(m, "line "); ok {
			if n, msg, ok := strings.Cut(rest, ": "); ok {
				if ln, err := strconv.Atoi(n); err == nil {
					e.Line, e.Msg = ln, msg
				}
			}
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

// converter turns scalars into typed values, expanding references first.
type converter struct {
	errorList
	env func(string) (string, bool)
	dir string
}

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

// file converts the raw form and applies every default.
func (c *converter) file(r *rawFile) *File {
	f := &File{}
	if r.Version.Set {
		f.Version = c.intValue(r.Version, "version", 0)
	}
	c.source(r.Source, f)
	c.target(r.Target, f)
	c.entities(r.Entities, f)

	f.GroupTypes = c.stringMap(r.GroupTypes, "group_types", defaultGroupTypes())
	f.DefaultGroupType = c.text(r.DefaultGroupType, "default_group_type")
	f.Roles = c.stringMap(r.Roles, "roles", defaultRoles())
	f.DefaultRole = vocab.RoleMember
	if r.DefaultRole.Set {
		f.DefaultRole = c.text(r.DefaultRole, "default_role")
	}

	c.messages(r.Messages, f)

	f.IDs = IDs{Invalid: IDsReject, UnknownUsers: UnknownUsersReject}
	if r.IDs != nil {
		f.IDs.Invalid = c.enum(r.IDs.Invalid, "ids.invalid", IDsReject)
		f.IDs.UnknownUsers = c.enum(r.IDs.UnknownUsers, "ids.unknown_users", UnknownUsersReject)
		f.IDs.GroupIDPrefix = c.text(r.IDs.GroupIDPrefix, "ids.group_id_prefix")
	}
	f.Policies = Policies{LongNames: LongNamesTruncate, GroupCreateTime: CreateTimeClamp}
	if r.Policies != nil {
		f.Policies.LongNames = c.enum(r.Policies.LongNames, "policies.long_names", LongNamesTruncate)
		f.Policies.GroupCreateTime = c.enum(r.Policies.GroupCreateTime, "policies.group_create_time", CreateTimeClamp)
	}
	f.Sync = Sync{Default: vocab.SyncHistorical}
	if r.Sync != nil {
		f.Sync.Default = c.intValue(r.Sync.Default, "sync.default", vocab.SyncHistorical)
		if r.Sync.RealtimeAfter.Set {
			f.Sync.RealtimeAfter = c.timestamp(r.Sync.RealtimeAfter, "sync.realtime_after")
		}
	}
	c.load(r.Load, f)

	f.Output = c.path(r.Output, "output", DefaultOutput)
	if r.Checkpoint != nil && (r.Checkpoint.SQLite.Set || r.Checkpoint.Postgres.Set) {
		f.Checkpoint.SQLite = c.path(r.Checkpoint.SQLite, "checkpoint.sqlite", "")
		if r.Checkpoint.Postgres.Set {
			f.Checkpoint.Postgres = secret.New(c.text(r.Checkpoint.Postgres, "checkpoint.postgres"))
		}
	} else if f.Output != "" {
		f.Checkpoint.SQLite = filepath.Join(f.Output, CheckpointFile)
	}
	return f
}

func (c *converter) enum(s scalar, path, def string) string {
	if !s.Set {
		return def
	}
	return c.text(s, path)
}

// present reports whether the file has the key, even with a null value: "csv:"
// alone asks for a CSV source with every default.
func (c *converter) present(path string) bool {
	_, ok := c.lines[path]
	return ok
}

func (c *converter) source(r *rawSource, f *File) {
	if r == nil {
		return
	}
	if r.CSV == nil && c.present("source.csv") {
		r.CSV = &rawCSV{}
	}
	if r.Postgres == nil && c.present("source.postgres") {
		r.Postgres = &rawPostgres{}
	}
	if r.CSV != nil {
		cs := &CSVSource{Delimiter: extract.DefaultDelimiter, SortMemoryBytes: extract.DefaultSortMemoryBytes}
		cs.Dir = c.path(r.CSV.Dir, "source.csv.dir", ".")
		cs.TempDir = c.path(r.CSV.TempDir, "source.csv.temp_dir", "")
		if r.CSV.Delimiter.Set {
			cs.Delimiter = c.delimiter(r.CSV.Delimiter, "source.csv.delimiter")
		}
		cs.SortMemoryBytes = c.size(r.CSV.SortMemory, "source.csv.sort_memory", extract.DefaultSortMemoryBytes)
		f.Source.CSV = cs
	}
	if r.Postgres != nil {
		ps := &PostgresSource{}
		ps.URL = secret.New(c.text(r.Postgres.URL, "source.postgres.url"))
		ps.PageSize = c.intValue(r.Postgres.PageSize, "source.postgres.page_size", extract.DefaultPageSize)
		f.Source.Postgres = ps
	}
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

func (c *converter) target(r *rawTarget, f *File) {
	t := &f.Target
	t.Admin = DefaultAdmin
	t.Timeout = DefaultTimeout
	t.Edition = EditionPro
	if r == nil {
		return
	}
	t.Sandbox = c.text(r.Sandbox, "target.sandbox")
	t.Region = c.text(r.Region, "target.region")
	// The canonical name keeps the hash the same for "SGP" and "singapore".
	if reg, err := vocab.LookupRegion(t.Region); t.Region != "" && err == nil {
		t.Region = reg.Name
	}
	t.Endpoint = c.text(r.Endpoint, "target.endpoint")
	if t.Sandbox != "" && !r.SDKAppID.Set {
		t.SDKAppID = DefaultSandboxSDKAppID
	}
	if r.SDKAppID.Set {
		t.SDKAppID = c.integer(r.SDKAppID, "target.sdkappid", 0)
	}
	// The key's value is never echoed in an error: only expansion can fail here,
	// and its messages name the variable, not the value.
	t.SecretKey = secret.New(c.text(r.SecretKey, "target.secret_key"))
	if r.Admin.Set {
		t.Admin = c.text(r.Admin, "target.admin")
	}
	if r.Edition.Set {
		t.Edition = c.text(r.Edition, "target.edition")
	}
	if r.AccountLimit.Set {
		t.AccountLimit = c.intValue(r.AccountLimit, "target.account_limit", 0)
		if !r.Edition.Set {
			t.Edition = ""
		}
	} else if t.Edition == EditionFree {
		t.AccountLimit = FreeAccountLimit
	}
	t.Timeout = c.duration(r.Timeout, "target.timeout", DefaultTimeout)
}

func (c *converter) entities(r *rawEntities, f *File) {
	f.Entities = make(map[extract.Entity]extract.EntitySource)
	if r == nil {
		return
	}
	for e, re := range r.byEntity() {
		base := "entities." + string(e)
		if re == nil && c.present(base) {
			// "friends:" alone maps the entity with no settings; Validate then
			// says what it lacks instead of the entity being silently skipped.
			re = &rawEntity{}
		}
		if re == nil {
			continue
		}
		src := extract.EntitySource{
			File:  c.text(re.File, base+".file"),
			Query: c.text(re.Query, base+".query"),
			Time:  extract.TimeFormat(c.text(re.Time, base+".time")),
		}
		if src.Time == "" {
			src.Time = extract.DefaultTimeFormat
		}
		src.Sorted = c.boolean(re.Sorted, base+".sorted")
		if len(re.Columns) > 0 {
			src.Columns = make(map[string]string, len(re.Columns))
			for field, col := range re.Columns {
				src.Columns[field] = c.text(col, joinPath(base+".columns", field))
			}
		}
		f.Entities[e] = src
	}
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

// defaultGroupTypes maps TIM's own type names to themselves, for a legacy system
// that already spells them so.
func defaultGroupTypes() map[string]string {
	m := make(map[string]string, len(groupTypes))
	for _, t := range groupTypes {
		m[t] = t
	}
	return m
}

func defaultRoles() map[string]string {
	return map[string]string{
		vocab.RoleOwner:  vocab.RoleOwner,
		vocab.RoleAdmin:  vocab.RoleAdmin,
		vocab.RoleMember: vocab.RoleMember,
	}
}

func (c *converter) messages(r *rawMessages, f *File) {
	m := &f.Messages
	m.UnknownKind = UnknownKindReject
	m.GroupRichMedia = RichMediaCustom
	if r != nil && r.Kinds != nil {
		m.Kinds = make(map[string]Kind, len(r.Kinds))
		for legacy, rk := range r.Kinds {
			path := joinPath("messages.kinds", legacy)
			var k Kind
			if rk != nil {
				k.Element = Element(c.text(rk.Element, path+".element"))
				if rk.Index.Set {
					k.Index = c.intValue(rk.Index, path+".index", 0)
					k.HasIndex = true
				}
			}
			m.Kinds[legacy] = k
		}
	} else {
		// Without a kinds table, a legacy kind spelled like an element maps to it.
		m.Kinds = make(map[string]Kind, len(elementMsgType))
		for _, e := range Elements() {
			m.Kinds[string(e)] = Kind{Element: e}
		}
	}
	if _, ok := m.Kinds[string(ElemText)]; ok {
		m.DefaultKind = string(ElemText)
	}
	if r == nil {
		return
	}
	if r.DefaultKind.Set {
		m.DefaultKind = c.text(r.DefaultKind, "messages.default_kind")
	}
	m.UnknownKind = c.enum(r.UnknownKind, "messages.unknown_kind", UnknownKindReject)
	m.GroupRichMedia = c.enum(r.GroupRichMedia, "messages.group_rich_media", RichMediaCustom)
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

func (c *converter) load(r *rawLoad, f *File) {
	l := &f.Load
	l.Concurrency = DefaultConcurrency
	l.GroupMsgBatch = DefaultGroupMsgBatch
	l.Retries = DefaultRetries
	l.Rates = make(map[vocab.Command]float64, len(vocab.DocumentedRate))
	for cmd, r := range vocab.DocumentedRate {
		l.Rates[cmd] = DefaultRateFraction * r
	}
	if r == nil {
		return
	}
	for name, v := range r.Rates {
		path := joinPath("load.rates", name)
		cmd, ok := commandByName(name)
		if !ok {
			msg := fmt.Sprintf("unknown API %q", name)
			names := commandNames()
			if s := closest(name, names); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			c.add(path, msg+" (valid: "+strings.Join(names, ", ")+")")
			continue
		}
		if x, ok := c.number(v, path); ok {
			l.Rates[cmd] = x
		}
		// Validate names rates by their bare command name.
		if bare := joinPath("load.rates", cmd.Name); bare != path {
			c.lines[bare] = c.lines[path]
		}
	}
	l.Concurrency = c.intValue(r.Concurrency, "load.concurrency", DefaultConcurrency)
	l.GroupMsgBatch = c.intValue(r.GroupMsgBatch, "load.group_msg_batch", DefaultGroupMsgBatch)
	l.Retries = c.intValue(r.Retries, "load.retries", DefaultRetries)
}

// commandByName finds a command by its bare name ("importmsg") or its
// service/name form ("openim/importmsg").
func commandByName(name string) (vocab.Command, bool) {
	for cmd := range vocab.DocumentedRate {
		if cmd.Name == name || cmd.String() == name {
			return cmd, true
		}
	}
	return vocab.Command{}, false
}

func commandNames() []string {
	names := make([]string, 0, len(vocab.DocumentedRate))
	for cmd := range vocab.DocumentedRate {
		names = append(names, cmd.Name)
	}
	sort.Strings(names)
	return names
}

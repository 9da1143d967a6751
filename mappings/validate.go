package mappings

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim/vocab"
)

// groupTypes are the Type strings import_group and create_group accept (spec §8.1;
// design follows the A11 recommendation: legacy names plus Work and Meeting).
var groupTypes = []string{
	vocab.GroupPrivate, vocab.GroupPublic, vocab.GroupChatRoom, vocab.GroupAVChatRoom,
	vocab.GroupCommunity, vocab.GroupWork, vocab.GroupMeeting,
}

var roles = []string{vocab.RoleOwner, vocab.RoleAdmin, vocab.RoleMember}

// Validate checks the effective configuration as a whole. It returns every
// problem joined (errors.Join); each is an *Error naming the key path and, for a
// File read by Parse, its line.
func (f *File) Validate() error {
	l := &errorList{file: f.name, lines: f.lines}
	if f.Version != Version {
		if f.Version == 0 {
			l.add("version", fmt.Sprintf("required: write \"version: %d\" at the top", Version))
		} else {
			l.add("version", fmt.Sprintf("version %d is not supported; this program reads version %d", f.Version, Version))
		}
	}
	f.validateSource(l)
	f.validateTarget(l)
	f.validateEntities(l)
	f.validateMaps(l)
	f.validateMessages(l)
	f.validatePolicies(l)
	f.validateGroupDMs(l)
	f.validateLoad(l)
	return l.err()
}

func (f *File) validateSource(l *errorList) {
	s := f.Source
	switch {
	case s.CSV == nil && s.Postgres == nil:
		l.add("source", "required: set source.csv or source.postgres")
	case s.CSV != nil && s.Postgres != nil:
		l.add("source", "set exactly one of source.csv and source.postgres")
	}
	if c := s.CSV; c != nil {
		if c.Dir == "" {
			l.add("source.csv.dir", "must not be empty")
		}
		if !validDelimiter(c.Delimiter) {
			l.add("source.csv.delimiter", fmt.Sprintf("%q cannot separate CSV fields", c.Delimiter))
		}
		if c.SortMemoryBytes < 1<<20 {
			l.add("source.csv.sort_memory", fmt.Sprintf("%d bytes is too small; give at least 1MiB", c.SortMemoryBytes))
		}
	}
	if p := s.Postgres; p != nil {
		if p.URL.IsZero() {
			l.add("source.postgres.url", `required, e.g. "${IMMIGRATE_SOURCE_PG_URL}"`)
		}
		if p.PageSize < 1 || p.PageSize > 1_000_000 {
			l.add("source.postgres.page_size", fmt.Sprintf("%d is out of range 1..1000000", p.PageSize))
		}
	}
}

// validDelimiter mirrors encoding/csv's rule for Comma.
func validDelimiter(r rune) bool {
	return r != 0 && r != '"' && r != '\r' && r != '\n' && r != 0xFFFD && r <= 0x10FFFF
}

func (f *File) validateTarget(l *errorList) {
	t := f.Target
	n := 0
	for _, v := range []string{t.Sandbox, t.Region, t.Endpoint} {
		if v != "" {
			n++
		}
	}
	switch n {
	case 0:
		l.add("target", "required: set one of target.sandbox, target.region and target.endpoint")
	case 1:
	default:
		l.add("target", "set exactly one of target.sandbox, target.region and target.endpoint")
	}
	if t.Sandbox != "" && t.Sandbox != SandboxEmbedded {
		l.add("target.sandbox", fmt.Sprintf("%q is not supported; the only value is %q (a remote sandbox is an endpoint)", t.Sandbox, SandboxEmbedded))
	}
	if t.Region != "" {
		if _, err := vocab.LookupRegion(t.Region); err != nil {
			l.add("target.region", err.Error())
		}
	}
	if t.Endpoint != "" {
		if msg := checkEndpoint(t.Endpoint); msg != "" {
			l.add("target.endpoint", msg)
		}
	}
	if t.SDKAppID <= 0 || t.SDKAppID > 1<<32-1 {
		l.add("target.sdkappid", "required: the application's SDKAppID, a positive 32-bit number")
	}
	if t.SecretKey.IsZero() && t.Sandbox == "" {
		l.add("target.secret_key", `required, e.g. "${TIM_SECRET_KEY}"`)
	}
	if msg := checkUserID(t.Admin); msg != "" {
		l.add("target.admin", msg)
	}
	switch t.Edition {
	case EditionFree, EditionPro, EditionUltimate:
	case "":
		if t.AccountLimit == 0 {
			l.add("target.edition", "required: free, pro or ultimate (or target.account_limit)")
		}
	default:
		l.add("target.edition", fmt.Sprintf("%q is not one of free, pro, ultimate", t.Edition))
	}
	if t.AccountLimit < 0 {
		l.add("target.account_limit", "must not be negative (0 means no limit)")
	}
	if t.RoamingDays < 0 {
		l.add("target.roaming_days", "must not be negative (0 means unlimited)")
	}
	// The backend gives up after 3 s, so a shorter client timeout would abandon
	// calls the target may still complete (spec §1.5).
	if t.Timeout <= 3e9 || t.Timeout > 600e9 {
		l.add("target.timeout", fmt.Sprintf("%s is out of range: must be more than 3s (spec §1.5) and at most 10m", t.Timeout))
	}
}

// checkEndpoint returns what is wrong with a base URL, or "". Any non-loopback
// endpoint must be HTTPS (design §5).
func checkEndpoint(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Sprintf("%q is not a base URL such as https://adminapisgp.im.qcloud.com", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "a base URL has no credentials, query or fragment"
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		return "endpoint must be https unless it is a loopback address"
	}
	return ""
}

func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// checkUserID applies the UserID rule of design §7 A23: 1-32 bytes of printable
// ASCII (0x21-0x7e).
func checkUserID(id string) string {
	if id == "" {
		return "must not be empty"
	}
	if len(id) > vocab.MaxUserIDBytes {
		return fmt.Sprintf("%q is longer than %d bytes (spec §3.1)", id, vocab.MaxUserIDBytes)
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return fmt.Sprintf("%q is not printable ASCII without spaces (design §7 A23)", id)
		}
	}
	return ""
}

func (f *File) validateEntities(l *errorList) {
	if len(f.Entities) == 0 {
		l.add("entities", "required: map at least one of "+strings.Join(entityNames(), ", "))
		return
	}
	csv, pg := f.Source.CSV != nil, f.Source.Postgres != nil
	for _, e := range extract.Entities() {
		src, ok := f.Entities[e]
		if !ok {
			continue
		}
		base := "entities." + string(e)
		if csv && !pg {
			if src.File == "" {
				l.add(base, "file: required for a CSV source")
			}
			if src.Query != "" {
				l.add(base+".query", "a CSV source reads files; use file")
			}
		}
		if pg && !csv {
			if strings.TrimSpace(src.Query) == "" {
				l.add(base, "query: required for a PostgreSQL source")
			}
			if src.File != "" {
				l.add(base+".file", "a PostgreSQL source runs queries; use query")
			}
			if src.Sorted {
				l.add(base+".sorted", "only a CSV source can be declared sorted")
			}
		}
		if msg := checkTimeFormat(src.Time); msg != "" {
			l.add(base+".time", msg)
		}
		f.validateCustom(l, e, base, src)
		fields := extract.Fields(e)
		for _, field := range sortedKeys(src.Columns) {
			path := joinPath(base+".columns", field)
			if !contains(fields, field) {
				l.add(path, fmt.Sprintf("unknown field %q of %s (fields: %s)", field, e, strings.Join(fields, ", ")))
			}
			if strings.TrimSpace(src.Columns[field]) == "" {
				l.add(path, "the source column name must not be empty")
			}
		}
	}
	for e := range f.Entities {
		if !e.Valid() {
			l.add("entities", fmt.Sprintf("unknown entity %q", e))
		}
	}
	// Members and group messages are imported into groups; without the groups
	// entity every one of them would be rejected.
	if _, ok := f.Entities[extract.Groups]; !ok {
		for _, e := range []extract.Entity{extract.Members, extract.GroupMessages, extract.Topics} {
			if _, dms := f.Entities[extract.GroupDMs]; dms && e == extract.GroupMessages {
				continue // the messages of group DMs
			}
			if _, ok := f.Entities[e]; ok {
				l.add("entities."+string(e), "needs entities.groups as well")
			}
		}
	}
}

// checkTimeFormat accepts the named formats and any Go layout. A layout is
// recognised by formatting a time whose every field differs from the layout's
// reference time (Mon Jan 2 15:04:05 MST 2006): only a string with layout elements
// changes, and it must parse back what it wrote.
func checkTimeFormat(f extract.TimeFormat) string {
	switch f {
	case "", extract.TimeUnix, extract.TimeUnixMS, extract.TimeTimestamptz, extract.TimeRFC3339:
		return ""
	}
	ref := time.Date(2001, 11, 28, 17, 38, 49, 0, time.UTC)
	s := ref.Format(string(f))
	if s == string(f) {
		return fmt.Sprintf("%q is neither unix, unix_ms, timestamptz, rfc3339 nor a Go time layout such as \"2006-01-02 15:04:05\"", string(f))
	}
	if _, err := time.Parse(string(f), s); err != nil {
		return fmt.Sprintf("%q is not a usable Go time layout: %v", string(f), err)
	}
	return ""
}

func (f *File) validateMaps(l *errorList) {
	for _, legacy := range sortedKeys(f.GroupTypes) {
		path := joinPath("group_types", legacy)
		if legacy == "" {
			l.add(path, "an empty legacy type is mapped by default_group_type")
		}
		if msg := checkChoice(f.GroupTypes[legacy], groupTypes, "group type"); msg != "" {
			l.add(path, msg)
		}
	}
	if f.DefaultGroupType != "" {
		if msg := checkChoice(f.DefaultGroupType, groupTypes, "group type"); msg != "" {
			l.add("default_group_type", msg)
		}
	}
	for _, legacy := range sortedKeys(f.Roles) {
		path := joinPath("roles", legacy)
		if legacy == "" {
			l.add(path, "an empty legacy role is mapped by default_role")
		}
		if msg := checkChoice(f.Roles[legacy], roles, "role"); msg != "" {
			l.add(path, msg)
		}
	}
	if msg := checkChoice(f.DefaultRole, roles, "role"); msg != "" {
		l.add("default_role", msg)
	}
}

// checkChoice checks an exact TIM spelling, suggesting the right case.
func checkChoice(v string, valid []string, what string) string {
	if contains(valid, v) {
		return ""
	}
	for _, s := range valid {
		if strings.EqualFold(s, v) {
			return fmt.Sprintf("%s %q must be spelt %q", what, v, s)
		}
	}
	return fmt.Sprintf("%q is not a TIM %s (valid: %s)", v, what, strings.Join(valid, ", "))
}

func (f *File) validateMessages(l *errorList) {
	m := f.Messages
	if len(m.Kinds) == 0 {
		l.add("messages.kinds", "map at least one legacy kind")
	}
	for _, legacy := range sortedKeys(m.Kinds) {
		k := m.Kinds[legacy]
		path := joinPath("messages.kinds", legacy)
		if legacy == "" {
			l.add(path, "an empty legacy kind is mapped by default_kind")
		}
		if !k.Element.Valid() {
			if k.Element == "" {
				l.add(path, "element: required")
			} else {
				l.add(path+".element", fmt.Sprintf("%q is not an element (valid: %s)", k.Element, elementList()))
			}
		}
		if k.HasIndex {
			if k.Element != ElemFace {
				l.add(path+".index", "only a face element has an index")
			} else if k.Index < 0 {
				l.add(path+".index", "must not be negative")
			}
		}
	}
	if m.DefaultKind != "" {
		if _, ok := m.Kinds[m.DefaultKind]; !ok {
			l.add("messages.default_kind", fmt.Sprintf("%q is not a key of messages.kinds", m.DefaultKind))
		}
	}
	if msg := checkEnum(m.UnknownKind, UnknownKindReject, UnknownKindText); msg != "" {
		l.add("messages.unknown_kind", msg)
	}
	if msg := checkEnum(m.GroupRichMedia, RichMediaCustom, RichMediaText, RichMediaReject); msg != "" {
		l.add("messages.group_rich_media", msg)
	}
	if m.URLTemplate != "" {
		if msg := checkURLTemplate(m.URLTemplate); msg != "" {
			l.add("messages.url_template", msg)
		}
	}
}

func (f *File) validatePolicies(l *errorList) {
	if msg := checkEnum(f.IDs.Invalid, IDsReject, IDsRewrite); msg != "" {
		l.add("ids.invalid", msg)
	}
	if msg := checkEnum(f.IDs.UnknownUsers, UnknownUsersReject, UnknownUsersImport); msg != "" {
		l.add("ids.unknown_users", msg)
	}
	if p := f.IDs.GroupIDPrefix; p != "" {
		// Custom GroupIds are printable ASCII, ≤ 48 bytes and do not start with
		// @TGS# (design §7 A36); the prefix must leave room for the legacy id.
		switch {
		case len(p) >= vocab.MaxGroupIDBytes:
			l.add("ids.group_id_prefix", fmt.Sprintf("must be shorter than %d bytes", vocab.MaxGroupIDBytes))
		case strings.HasPrefix(p, "@TGS#"):
			l.add("ids.group_id_prefix", `must not start with "@TGS#" (reserved; Community groups get "@TGS#_" automatically)`)
		}
		for i := 0; i < len(p); i++ {
			if p[i] < 0x20 || p[i] > 0x7e {
				l.add("ids.group_id_prefix", "must be printable ASCII (design §7 A36)")
				break
			}
		}
	}
	if msg := checkEnum(f.Policies.LongNames, LongNamesTruncate, LongNamesReject); msg != "" {
		l.add("policies.long_names", msg)
	}
	if msg := checkEnum(f.Policies.GroupCreateTime, CreateTimeClamp, CreateTimeReject); msg != "" {
		l.add("policies.group_create_time", msg)
	}
	if msg := checkEnum(f.Policies.Friends, FriendsSkip, FriendsImport); msg != "" {
		l.add("policies.friends", msg)
	}
	if msg := checkEnum(f.Policies.OptionalFields, OptionalFieldsRepair, OptionalFieldsReject); msg != "" {
		l.add("policies.optional_fields", msg)
	}
	if msg := checkEnum(f.Policies.Oversize, OversizeReject, OversizeTruncate, OversizeSplit); msg != "" {
		l.add("policies.oversize", msg)
	}
	if msg := checkEnum(f.Policies.SelfMessages, SelfMessagesReject, SelfMessagesToGroup); msg != "" {
		l.add("policies.self_messages", msg)
	}
	if d := f.Sync.Default; d != vocab.SyncHistorical && d != vocab.SyncRealtime {
		l.add("sync.default", fmt.Sprintf("%d is not a SyncFromOldSystem value: 2 (historical) or 5 (real-time) (spec §7.1)", d))
	}
	switch {
	case f.Checkpoint.SQLite == "" && f.Checkpoint.Postgres.IsZero():
		l.add("checkpoint", "set checkpoint.sqlite or checkpoint.postgres")
	case f.Checkpoint.SQLite != "" && !f.Checkpoint.Postgres.IsZero():
		l.add("checkpoint", "set exactly one of checkpoint.sqlite and checkpoint.postgres")
	}
	if f.Output == "" {
		l.add("output", "must not be empty")
	}
}

func (f *File) validateLoad(l *errorList) {
	ld := f.Load
	for _, cmd := range sortedCommands(ld.Rates) {
		if r := ld.Rates[cmd]; !(r > 0) {
			l.add(joinPath("load.rates", cmd.Name), fmt.Sprintf("%g calls/s: a rate must be positive", r))
		}
	}
	if ld.Concurrency < 1 || ld.Concurrency > 100_000 {
		l.add("load.concurrency", fmt.Sprintf("%d is out of range 1..100000", ld.Concurrency))
	}
	if ld.GroupMsgBatch < 1 || ld.GroupMsgBatch > vocab.MaxGroupMsgBatch {
		l.add("load.group_msg_batch", fmt.Sprintf("%d is out of range 1..%d (spec §8.9, design §7 A1)", ld.GroupMsgBatch, vocab.MaxGroupMsgBatch))
	}
	if ld.Retries < 0 || ld.Retries > 100 {
		l.add("load.retries", fmt.Sprintf("%d is out of range 0..100", ld.Retries))
	}
}

func checkEnum(v string, valid ...string) string {
	if contains(valid, v) {
		return ""
	}
	return fmt.Sprintf("%q is not one of %s", v, strings.Join(valid, ", "))
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedCommands(m map[vocab.Command]float64) []vocab.Command {
	cmds := make([]vocab.Command, 0, len(m))
	for c := range m {
		cmds = append(cmds, c)
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].String() < cmds[j].String() })
	return cmds
}

func entityNames() []string {
	var names []string
	for _, e := range extract.Entities() {
		names = append(names, string(e))
	}
	return names
}

func elementList() string {
	var names []string
	for _, e := range Elements() {
		names = append(names, string(e))
	}
	return strings.Join(names, ", ")
}

// urlPlaceholders are the placeholders of messages.url_template; transform
// expands them (transform.URLTemplate).
var urlPlaceholders = []string{"url", "scheme", "host", "path", "query", "file_name", "message_id"}

// checkURLTemplate returns why t is not a usable URL template, or "".
func checkURLTemplate(t string) string {
	rest := t
	for {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			return ""
		}
		if rest[i] == '}' {
			return "a '}' without its '{'"
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return "a '{' without its '}'"
		}
		name := rest[i+1 : i+j]
		if !slices.Contains(urlPlaceholders, name) {
			return fmt.Sprintf("unknown placeholder {%s} (valid: {%s})", name, strings.Join(urlPlaceholders, "}, {"))
		}
		rest = rest[i+j+1:]
	}
}

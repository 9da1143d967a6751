package mappings

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim/vocab"
)

// converter turns scalars into typed values, expanding references first.
type converter struct {
	errorList
	env func(string) (string, bool)
	dir string
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
	c.groupDMs(r.GroupDMs, f)

	f.IDs = IDs{Invalid: IDsReject, UnknownUsers: UnknownUsersReject}
	if r.IDs != nil {
		f.IDs.Invalid = c.enum(r.IDs.Invalid, "ids.invalid", IDsReject)
		f.IDs.UnknownUsers = c.enum(r.IDs.UnknownUsers, "ids.unknown_users", UnknownUsersReject)
		f.IDs.GroupIDPrefix = c.text(r.IDs.GroupIDPrefix, "ids.group_id_prefix")
	}
	f.Policies = Policies{LongNames: LongNamesTruncate, GroupCreateTime: CreateTimeClamp, OptionalFields: OptionalFieldsRepair,
		Friends: FriendsSkip, Oversize: OversizeReject, SelfMessages: SelfMessagesReject}
	if r.Policies != nil {
		f.Policies.LongNames = c.enum(r.Policies.LongNames, "policies.long_names", LongNamesTruncate)
		f.Policies.GroupCreateTime = c.enum(r.Policies.GroupCreateTime, "policies.group_create_time", CreateTimeClamp)
		f.Policies.OptionalFields = c.enum(r.Policies.OptionalFields, "policies.optional_fields", OptionalFieldsRepair)
		f.Policies.Friends = c.enum(r.Policies.Friends, "policies.friends", FriendsSkip)
		f.Policies.Oversize = c.enum(r.Policies.Oversize, "policies.oversize", OversizeReject)
		f.Policies.SelfMessages = c.enum(r.Policies.SelfMessages, "policies.self_messages", SelfMessagesReject)
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

func (c *converter) target(r *rawTarget, f *File) {
	t := &f.Target
	t.Admin = DefaultAdmin
	t.Timeout = DefaultTimeout
	t.Edition = EditionPro
	t.RoamingDays = DefaultRoamingDays
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
	t.RoamingDays = c.intValue(r.RoamingDays, "target.roaming_days", DefaultRoamingDays)
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
		if len(re.Custom) > 0 {
			// A key may be the custom tag's name or the whole tag (spec §4.1).
			src.Custom = make(map[string]string, len(re.Custom))
			for name, col := range re.Custom {
				src.Custom[strings.TrimPrefix(name, vocab.CustomTagPrefix)] = c.text(col, joinPath(base+".custom", name))
			}
		}
		f.Entities[e] = src
	}
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
	m.URLTemplate = c.text(r.URLTemplate, "messages.url_template")
	m.KeepLegacyID = c.boolean(r.KeepLegacyID, "messages.keep_legacy_id")
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

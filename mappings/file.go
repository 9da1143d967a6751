package mappings

import (
	"encoding/json"
	"maps"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim/vocab"
)

// Version is the only mapping file version this package reads.
const Version = 1

// File is a parsed, expanded mapping file with every default applied: the
// effective configuration. Paths are already resolved against the mapping file's
// directory. Secrets (the TIM secret key, database URLs) are secret.Secret, so
// printing a File or marshalling it to JSON never shows them.
type File struct {
	Version    int
	Source     Source
	Target     Target
	Entities   map[extract.Entity]extract.EntitySource
	GroupTypes map[string]string // legacy group type → TIM type (vocab.Group*)
	// DefaultGroupType is the TIM type of a group whose legacy type is empty; empty
	// means such a group is rejected.
	DefaultGroupType string
	Roles            map[string]string // legacy role → TIM role (vocab.Role*)
	// DefaultRole is the TIM role of a member whose legacy role is empty.
	DefaultRole string
	Messages    Messages
	IDs         IDs
	Policies    Policies
	Sync        Sync
	Load        LoadSettings
	Checkpoint  Checkpoint
	// Output is the directory for reports, rejects and the default checkpoint.
	Output string
	// GroupDMs maps the group_dms entity to TIM groups.
	GroupDMs GroupDMs

	// name is the file name used in error messages; lines maps key paths to the
	// line that set them, so Validate can name lines. Both are empty for a File
	// built in code.
	name  string
	lines map[string]int
}

// Source is where legacy data is read from: exactly one of CSV and Postgres is set.
type Source struct {
	CSV      *CSVSource
	Postgres *PostgresSource
}

// CSVSource reads CSV exports from a directory.
type CSVSource struct {
	Dir             string // resolved; entity files are relative to it
	Delimiter       rune
	TempDir         string // resolved; empty means the OS temp directory
	SortMemoryBytes int
}

// PostgresSource reads a PostgreSQL database with the user's SQL per entity.
type PostgresSource struct {
	URL      secret.Secret // a connection string may hold a password
	PageSize int
}

// Sandbox values of Target.Sandbox.
const SandboxEmbedded = "embedded"

// Editions and their account limits (spec §3.3: 70398 beyond 100 accounts on the
// free edition; the paid editions have no account cap visible in the contract).
const (
	EditionFree     = "free"
	EditionPro      = "pro"
	EditionUltimate = "ultimate"

	FreeAccountLimit = 100
)

// DefaultSandboxSDKAppID is the SDKAppID of the embedded sandbox when none is given.
const DefaultSandboxSDKAppID = 1400000000

// Target is the Tencent Cloud Chat application to import into: exactly one of
// Sandbox, Region and Endpoint is set.
type Target struct {
	Sandbox   string // SandboxEmbedded: an in-process emulator
	Region    string // a region name of spec §1.2, e.g. "singapore"
	Endpoint  string // an explicit base URL
	SDKAppID  int64
	SecretKey secret.Secret // may be empty for the embedded sandbox: cmd generates one
	Admin     string
	// Edition is free, pro or ultimate; empty when AccountLimit was given explicitly.
	Edition string
	// AccountLimit is the plan's account cap; 0 means none.
	AccountLimit int
	Timeout      time.Duration
	// RoamingDays is the application's C2C roaming retention (spec §7.2, §11 item
	// 10): admin_getroammsg and clients read back only that many days of one-to-one
	// history. 0 means unlimited. It only tunes warnings and verify, never the import.
	RoamingDays int
}

// Element is a TIM message element a legacy kind maps to.
type Element string

// The elements a legacy kind can map to (spec §6.1, §6.2).
const (
	ElemText     Element = "text"
	ElemFace     Element = "face"
	ElemLocation Element = "location"
	ElemCustom   Element = "custom"
	ElemImage    Element = "image"
	ElemFile     Element = "file"
	ElemSound    Element = "sound"
	ElemVideo    Element = "video"
)

var elementMsgType = map[Element]string{
	ElemText:     vocab.MsgText,
	ElemFace:     vocab.MsgFace,
	ElemLocation: vocab.MsgLocation,
	ElemCustom:   vocab.MsgCustom,
	ElemImage:    vocab.MsgImage,
	ElemFile:     vocab.MsgFile,
	ElemSound:    vocab.MsgSound,
	ElemVideo:    vocab.MsgVideo,
}

// Elements lists every element, in documentation order.
func Elements() []Element {
	return []Element{ElemText, ElemFace, ElemLocation, ElemCustom, ElemImage, ElemFile, ElemSound, ElemVideo}
}

// Valid reports whether e is a known element.
func (e Element) Valid() bool { _, ok := elementMsgType[e]; return ok }

// MsgType is the element's TIM MsgType, e.g. "TIMTextElem"; "" if e is invalid.
func (e Element) MsgType() string { return elementMsgType[e] }

// GroupAllowed reports whether import_group_msg accepts the element: only text,
// face, location and custom (spec §6.1, §8.9); the others are converted by
// Messages.GroupRichMedia.
func (e Element) GroupAllowed() bool {
	switch e {
	case ElemText, ElemFace, ElemLocation, ElemCustom:
		return true
	}
	return false
}

// Kind says how one legacy message kind becomes a TIM element.
type Kind struct {
	Element Element
	// Index is a fixed TIMFaceElem index, used when HasIndex; otherwise the index
	// is read from the message's payload column (face only).
	Index    int
	HasIndex bool
}

// UnknownKind policies.
const (
	UnknownKindReject = "reject" // a message of an unmapped kind is rejected
	UnknownKindText   = "text"   // it becomes a TIMTextElem with the payload (or text)
)

// Rich media rules for groups, which accept only text, face, location and custom
// elements (spec §6.1).
const (
	RichMediaCustom = "custom" // TIMCustomElem with Data = JSON {"type","url",...}
	RichMediaText   = "text"   // TIMTextElem "[image] <url>"
	RichMediaReject = "reject" // the message is rejected
)

// Messages maps legacy message kinds to TIM elements.
type Messages struct {
	Kinds map[string]Kind // legacy kind → element
	// DefaultKind is the legacy kind assumed for a message whose kind is empty; it
	// is a key of Kinds, or empty (then an empty kind is an unknown kind).
	DefaultKind    string
	UnknownKind    string // UnknownKindReject | UnknownKindText
	GroupRichMedia string // RichMediaCustom | RichMediaText | RichMediaReject
	// URLTemplate, when set, rewrites every media URL (a message's url, its
	// attachments' and video thumbnails'): placeholders {url}, {scheme}, {host},
	// {path}, {query}, {file_name}, {message_id}. The result must be an absolute
	// http(s) URL, else the message is rejected.
	URLTemplate string
	// KeepLegacyID puts the legacy message id into CloudCustomData.
	KeepLegacyID bool
}

// Kind returns the mapping of a legacy kind, applying DefaultKind to the empty
// kind. ok is false for a kind that is not mapped (see UnknownKind).
func (m Messages) Kind(legacy string) (k Kind, ok bool) {
	if legacy == "" {
		legacy = m.DefaultKind
		if legacy == "" {
			return Kind{}, false
		}
	}
	k, ok = m.Kinds[legacy]
	return k, ok
}

// ID policies for legacy IDs the target would reject.
const (
	IDsReject  = "reject"  // the record (and what depends on it) is rejected
	IDsRewrite = "rewrite" // a deterministic rewrite, recorded in the id map
)

// Unknown-user policies: what happens to a reference (group owner, member,
// sender, recipient) to a user absent from the users entity.
const (
	UnknownUsersReject = "reject" // the referencing record is rejected
	// UnknownUsersImport imports the user as a bare account (no nick, no avatar),
	// so the messages of deleted users are kept (design §3 phase 1).
	UnknownUsersImport = "import"
)

// IDs says how legacy IDs become target IDs.
type IDs struct {
	Invalid      string // IDsReject | IDsRewrite
	UnknownUsers string // UnknownUsersReject | UnknownUsersImport
	// GroupIDPrefix is prepended to legacy group IDs to form custom GroupIds;
	// Community groups additionally get "@TGS#_" (design §7 A36).
	GroupIDPrefix string
}

// Repair policies.
const (
	LongNamesTruncate = "truncate" // cut on a UTF-8 boundary at the byte limit
	LongNamesReject   = "reject"

	CreateTimeClamp  = "clamp" // move CreateTime before the first join and message
	CreateTimeReject = "reject"

	// OptionalFieldsRepair reads a record without an optional field that cannot
	// be read (extract.Optional), reported as a repair.
	OptionalFieldsRepair = "repair"
	// OptionalFieldsReject skips the record, and what references it fails.
	OptionalFieldsReject = "reject"

	// Friend policies. A friends row user_id → friend_id is one direction: it
	// puts friend_id in user_id's friend list, as a TIM friend is one-way (spec
	// §5.1). A mutual friendship is two rows, one per direction; a source that
	// keeps one row per friendship maps a query that selects both directions
	// (mappings/README.md), so that each user's list stays one ordered stream.
	FriendsSkip   = "skip" // read and counted, not imported
	FriendsImport = "import"
	// A message whose MsgBody and CloudCustomData exceed 12,000 bytes (spec
	// §6.3, design §7 A5): OversizeReject rejects it; OversizeTruncate cuts its
	// longest text at a UTF-8 boundary, with a marker, as a repair.
	OversizeReject   = "reject"
	OversizeTruncate = "truncate"
	// OversizeSplit cuts it into consecutive messages (transform/split.go).
	OversizeSplit = "split"
	// A direct message whose sender is its recipient (notes to self):
	// SelfMessagesReject rejects it; SelfMessagesToGroup imports a user's
	// self-messages into a private group of theirs (transform/selfgroups.go).
	SelfMessagesReject  = "reject"
	SelfMessagesToGroup = "to_group"
)

// Policies are the repairs extract and transform may make.
type Policies struct {
	LongNames       string // LongNamesTruncate | LongNamesReject
	GroupCreateTime string // CreateTimeClamp | CreateTimeReject
	OptionalFields  string // OptionalFieldsRepair | OptionalFieldsReject
	Friends         string // FriendsSkip | FriendsImport
	Oversize        string // OversizeReject | OversizeTruncate | OversizeSplit
	SelfMessages    string // SelfMessagesReject | SelfMessagesToGroup
}

// Sync chooses importmsg's SyncFromOldSystem (spec §7.1).
type Sync struct {
	Default int // vocab.SyncHistorical (2) or vocab.SyncRealtime (5)
	// RealtimeAfter, when not zero, makes messages sent at or after it use
	// vocab.SyncRealtime (unread, pushed).
	RealtimeAfter time.Time
}

// For returns the SyncFromOldSystem value of a C2C message sent at sentAt.
func (s Sync) For(sentAt time.Time) int {
	if !s.RealtimeAfter.IsZero() && !sentAt.Before(s.RealtimeAfter) {
		return vocab.SyncRealtime
	}
	return s.Default
}

// Load defaults.
const (
	DefaultRateFraction = 0.95 // of each API's documented rate (spec §1.10)
	DefaultConcurrency  = 1024 // an upper bound: the engine sizes each phase by rate × round trip
	DefaultRetries      = 8
	DefaultTimeout      = 10 * time.Second
	// DefaultRoamingDays is the vendor's default C2C roaming retention (spec §7.2).
	DefaultRoamingDays   = 7
	DefaultGroupMsgBatch = vocab.MaxGroupMsgBatch
)

// LoadSettings are the engine's knobs.
type LoadSettings struct {
	// Rates holds every known command's rate in calls/s: the configured value, or
	// DefaultRateFraction of the documented rate.
	Rates         map[vocab.Command]float64
	Concurrency   int // calls in flight per phase at most
	GroupMsgBatch int // messages per import_group_msg call, ≤ 7 (design §7 A1)
	Retries       int // attempts after the first for a retryable failure
}

// MarshalJSON writes Rates keyed by "service/command", since a Command is not a
// JSON object key.
func (l LoadSettings) MarshalJSON() ([]byte, error) {
	rates := make(map[string]float64, len(l.Rates))
	for cmd, r := range l.Rates {
		rates[cmd.String()] = r
	}
	return json.Marshal(struct {
		Rates         map[string]float64
		Concurrency   int
		GroupMsgBatch int
		Retries       int
	}{rates, l.Concurrency, l.GroupMsgBatch, l.Retries})
}

// Rate returns the configured rate of cmd in calls/s (the default for a command
// the file does not name).
func (l LoadSettings) Rate(cmd vocab.Command) float64 {
	if r, ok := l.Rates[cmd]; ok {
		return r
	}
	return DefaultRateFraction * vocab.DocumentedRate[cmd]
}

// Checkpoint says where progress is stored: exactly one of SQLite and Postgres.
type Checkpoint struct {
	SQLite   string        // resolved path of the SQLite file
	Postgres secret.Secret // connection string
}

// GroupType maps a legacy group type to a TIM type, applying DefaultGroupType to
// the empty type. ok is false for an unmapped type (transform rejects the group).
func (f *File) GroupType(legacy string) (string, bool) {
	if legacy == "" {
		return f.DefaultGroupType, f.DefaultGroupType != ""
	}
	t, ok := f.GroupTypes[legacy]
	return t, ok
}

// Role maps a legacy member role to a TIM role, applying DefaultRole to the empty
// role. ok is false for an unmapped role.
func (f *File) Role(legacy string) (string, bool) {
	if legacy == "" {
		return f.DefaultRole, f.DefaultRole != ""
	}
	r, ok := f.Roles[legacy]
	return r, ok
}

// CSVConfig returns the extract configuration of a CSV source; ok is false when
// the source is PostgreSQL. Entity files stay relative to Dir, which is resolved
// against the mapping file's directory.
func (f *File) CSVConfig() (extract.CSVConfig, bool) {
	c := f.Source.CSV
	if c == nil {
		return extract.CSVConfig{}, false
	}
	return extract.CSVConfig{
		Dir:             c.Dir,
		Delimiter:       c.Delimiter,
		Entities:        cloneEntities(f.Entities),
		TempDir:         c.TempDir,
		SortMemoryBytes: c.SortMemoryBytes,
	}, true
}

// PostgresConfig returns the extract configuration of a PostgreSQL source; ok is
// false when the source is CSV. The URL is revealed here because pgx needs it;
// extract must not log it.
func (f *File) PostgresConfig() (extract.PostgresConfig, bool) {
	p := f.Source.Postgres
	if p == nil {
		return extract.PostgresConfig{}, false
	}
	return extract.PostgresConfig{
		URL:      p.URL.Reveal(),
		Entities: cloneEntities(f.Entities),
		PageSize: p.PageSize,
	}, true
}

// cloneEntities copies the entity map so a reader cannot change the File.
func cloneEntities(in map[extract.Entity]extract.EntitySource) map[extract.Entity]extract.EntitySource {
	out := make(map[extract.Entity]extract.EntitySource, len(in))
	for e, src := range in {
		if src.Columns != nil {
			cols := make(map[string]string, len(src.Columns))
			for k, v := range src.Columns {
				cols[k] = v
			}
			src.Columns = cols
		}
		if src.Custom != nil {
			src.Custom = maps.Clone(src.Custom)
		}
		out[e] = src
	}
	return out
}

package mappings

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// hashFormat versions the canonical form: changing what the hash covers must
// change this string, so old checkpoints are refused rather than misread.
const hashFormat = "immigrate-mapping-hash/3"

// Hash returns the SHA-256 (hex) of the effective mapping's canonical form: the
// parts that decide what is imported and where. A resume under a different hash is
// refused (design §2), so the hash covers exactly what would make a resumed run
// import different data, and nothing operational:
//
// Included: version; the source kind (csv or postgres) and the CSV delimiter; per
// entity its file (as written, relative to the CSV dir), query, column mapping and
// time format; the target kind, region, endpoint and SDKAppID; group types, roles
// and their defaults; message kinds and rules; ID policies (invalid IDs, unknown
// users) and group ID prefix; repair policies; sync settings.
//
// Excluded: the secret key (rotating it does not change the target; it never
// enters the hash input in any form), the admin, edition and account limit
// (upgrading the plan mid-migration is legitimate), the timeout, database URLs,
// the CSV directory, temp dir, sort memory and "sorted" flags (moving or
// re-reading the same export), page size, all of load (rates, concurrency, batch
// size, retries: tuning a run must not block its resume), the checkpoint location
// and the output directory. Key order, whitespace, comments and how a default is
// spelt (absent or written out) do not change the hash, because it is computed
// from the effective File, not from the text.
func (f *File) Hash() string {
	sum := sha256.Sum256(f.hashInput())
	return hex.EncodeToString(sum[:])
}

type hashEntity struct {
	File    string            `json:"file,omitempty"`
	Query   string            `json:"query,omitempty"`
	Columns map[string]string `json:"columns,omitempty"`
	// Custom is left out when empty, so a mapping without custom profile fields
	// hashes as before the key existed.
	Custom map[string]string `json:"custom,omitempty"`
	Time   string            `json:"time"`
}

type hashKind struct {
	Element string `json:"element"`
	Index   *int   `json:"index,omitempty"`
}

type hashView struct {
	Format    string `json:"format"`
	Version   int    `json:"version"`
	Source    string `json:"source"`
	Delimiter string `json:"delimiter,omitempty"`
	Target    struct {
		Sandbox  string `json:"sandbox,omitempty"`
		Region   string `json:"region,omitempty"`
		Endpoint string `json:"endpoint,omitempty"`
		SDKAppID int64  `json:"sdkappid"`
	} `json:"target"`
	Entities         map[string]hashEntity `json:"entities"`
	GroupTypes       map[string]string     `json:"group_types"`
	DefaultGroupType string                `json:"default_group_type"`
	Roles            map[string]string     `json:"roles"`
	DefaultRole      string                `json:"default_role"`
	Messages         struct {
		Kinds          map[string]hashKind `json:"kinds"`
		DefaultKind    string              `json:"default_kind"`
		UnknownKind    string              `json:"unknown_kind"`
		GroupRichMedia string              `json:"group_rich_media"`
		// Keys added after format 3 are left out when unused, so that the hash
		// of a mapping that does not use them stays what it was.
		URLTemplate  string `json:"url_template,omitempty"`
		KeepLegacyID bool   `json:"keep_legacy_id,omitempty"`
	} `json:"messages"`
	IDs struct {
		Invalid       string `json:"invalid"`
		UnknownUsers  string `json:"unknown_users"`
		GroupIDPrefix string `json:"group_id_prefix"`
	} `json:"ids"`
	Policies struct {
		LongNames       string `json:"long_names"`
		GroupCreateTime string `json:"group_create_time"`
		OptionalFields  string `json:"optional_fields"`
		// Friends is empty for the default (skip), so a mapping without the key
		// hashes as before it existed.
		Friends  string `json:"friends,omitempty"`
		Oversize string `json:"oversize,omitempty"` // omitted when reject, the default
		// SelfMessages is omitted when reject, the default.
		SelfMessages string `json:"self_messages,omitempty"`
	} `json:"policies"`
	Sync struct {
		Default       int    `json:"default"`
		RealtimeAfter string `json:"realtime_after,omitempty"`
	} `json:"sync"`
	// GroupDMs is nil at its defaults (hashGroupDMs).
	GroupDMs *GroupDMs `json:"group_dms,omitempty"`
}

// hashInput is the canonical form: JSON of hashView, whose struct fields have a
// fixed order and whose maps encoding/json writes with sorted keys.
func (f *File) hashInput() []byte {
	var v hashView
	v.Format = hashFormat
	v.Version = f.Version
	switch {
	case f.Source.CSV != nil:
		v.Source = "csv"
		v.Delimiter = string(f.Source.CSV.Delimiter)
	case f.Source.Postgres != nil:
		v.Source = "postgres"
	}
	v.Target.Sandbox = f.Target.Sandbox
	v.Target.Region = f.Target.Region
	v.Target.Endpoint = strings.TrimRight(f.Target.Endpoint, "/")
	v.Target.SDKAppID = f.Target.SDKAppID

	v.Entities = make(map[string]hashEntity, len(f.Entities))
	for e, src := range f.Entities {
		// A field mapped to its own name reads what an unmapped one reads.
		var cols map[string]string
		for field, col := range src.Columns {
			if field == col {
				continue
			}
			if cols == nil {
				cols = make(map[string]string, len(src.Columns))
			}
			cols[field] = col
		}
		v.Entities[string(e)] = hashEntity{
			File:    src.File,
			Query:   strings.TrimSpace(src.Query),
			Columns: cols,
			Custom:  src.Custom,
			Time:    string(src.Time),
		}
	}
	v.GroupTypes = f.GroupTypes
	v.DefaultGroupType = f.DefaultGroupType
	v.Roles = f.Roles
	v.DefaultRole = f.DefaultRole

	v.Messages.Kinds = make(map[string]hashKind, len(f.Messages.Kinds))
	for legacy, k := range f.Messages.Kinds {
		hk := hashKind{Element: string(k.Element)}
		if k.HasIndex {
			idx := k.Index
			hk.Index = &idx
		}
		v.Messages.Kinds[legacy] = hk
	}
	v.Messages.DefaultKind = f.Messages.DefaultKind
	v.Messages.UnknownKind = f.Messages.UnknownKind
	v.Messages.GroupRichMedia = f.Messages.GroupRichMedia
	v.Messages.URLTemplate = f.Messages.URLTemplate
	v.Messages.KeepLegacyID = f.Messages.KeepLegacyID
	v.IDs.Invalid = f.IDs.Invalid
	v.IDs.UnknownUsers = f.IDs.UnknownUsers
	v.IDs.GroupIDPrefix = f.IDs.GroupIDPrefix
	v.Policies.LongNames = f.Policies.LongNames
	v.Policies.GroupCreateTime = f.Policies.GroupCreateTime
	v.Policies.OptionalFields = f.Policies.OptionalFields
	if f.Policies.Friends != FriendsSkip {
		v.Policies.Friends = f.Policies.Friends
	}
	if f.Policies.Oversize != OversizeReject {
		v.Policies.Oversize = f.Policies.Oversize
	}
	if f.Policies.SelfMessages != SelfMessagesReject {
		v.Policies.SelfMessages = f.Policies.SelfMessages
	}
	v.Sync.Default = f.Sync.Default
	if !f.Sync.RealtimeAfter.IsZero() {
		v.Sync.RealtimeAfter = f.Sync.RealtimeAfter.UTC().Format(time.RFC3339Nano)
	}
	v.GroupDMs = f.hashGroupDMs()
	b, err := json.Marshal(v)
	if err != nil {
		// Only strings, ints and maps of them: Marshal cannot fail.
		panic("mappings: hash input: " + err.Error())
	}
	return b
}

package mappings

import "github.com/immigrate/immigrate/extract"

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
	GroupDMs         *rawGroupDMs      `yaml:"group_dms"`
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
	RoamingDays  scalar `yaml:"roaming_days"`
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
	Topics         *rawEntity `yaml:"topics"`
	GroupDMs       *rawEntity `yaml:"group_dms"`
}

func (r *rawEntities) byEntity() map[extract.Entity]*rawEntity {
	return map[extract.Entity]*rawEntity{
		extract.Users:          r.Users,
		extract.Groups:         r.Groups,
		extract.Members:        r.Members,
		extract.GroupMessages:  r.GroupMessages,
		extract.DirectMessages: r.DirectMessages,
		extract.Friends:        r.Friends,
		extract.Topics:         r.Topics,
		extract.GroupDMs:       r.GroupDMs,
	}
}

type rawEntity struct {
	File    scalar            `yaml:"file"`
	Query   scalar            `yaml:"query"`
	Columns map[string]scalar `yaml:"columns"`
	Custom  map[string]scalar `yaml:"custom"` // users: custom profile field → column
	Time    scalar            `yaml:"time"`
	Sorted  scalar            `yaml:"sorted"`
}

type rawMessages struct {
	Kinds          map[string]*rawKind `yaml:"kinds"`
	DefaultKind    scalar              `yaml:"default_kind"`
	UnknownKind    scalar              `yaml:"unknown_kind"`
	GroupRichMedia scalar              `yaml:"group_rich_media"`
	URLTemplate    scalar              `yaml:"url_template"`
	KeepLegacyID   scalar              `yaml:"keep_legacy_id"`
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
	OptionalFields  scalar `yaml:"optional_fields"`
	Friends         scalar `yaml:"friends"`
	Oversize        scalar `yaml:"oversize"`
	SelfMessages    scalar `yaml:"self_messages"`
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

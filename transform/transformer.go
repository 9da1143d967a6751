package transform

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

// Transformer maps legacy records to TIM payloads, pass by pass, keeping the compact
// cross-record state the rules need.
//
// The validate and run pipelines call it in passes, each pass streaming one entity
// in the extract.Reader's order: User (pass 1), Group (2), Member (3), GroupMessage
// (4), DirectMessage (5); then Groups for the final group payloads. DirectMessage
// needs only pass 1. The same records in the same order always give the same
// payloads. A Transformer is not safe for concurrent use.
//
// Outcomes the pipeline must account for (design §4 rule 6):
//   - A MemberResult with OK=false whose only issue is the Warning
//     RuleMemberOwnerRow is "skipped by policy", not rejected: the owner is added
//     by import_group's Owner_Account (spec §8.7).
//   - Under GroupCreateTime "reject", the first member or message dated at or
//     before its group's CreateTime rejects the group: that record and every later
//     member and message of the group come back OK=false with
//     RuleGroupCreateTimeConflict, and Groups returns the group with OK=false. The
//     GroupFinal's Members and Messages count the records of that group returned
//     OK before the conflict was found (members, when a message found it); the
//     pipeline must move them from valid to rejected.
//
// Memory: users and message ids are kept as 64-bit fingerprints in open-addressing
// sets (the message ids in a SeenSet of the caller's, see UseSeenSets); per group a small struct with the group's payload; per stream (the current
// group, the current conversation) a few counters and the group's 300-second
// Random window. Rewrites and implied accounts are kept as strings: they are
// outputs.
type Transformer struct {
	// Canonical configuration.
	now            int64
	groupTypes     map[string]string // lower-case legacy type → wire type
	defaultType    string
	roles          map[string]string // lower-case legacy role → Owner/Admin/Member
	kinds          map[string]KindRule
	defaultKind    KindRule
	hasDefaultKind bool
	unknownKind    string
	groupRichMedia string
	invalidIDs     string
	groupIDPrefix  string
	longNames      string
	createTime     string
	unknownUsers   string
	syncDefault    int
	realtimeAfter  time.Time
	accountLimit   int
	urlTemplate    string
	keepLegacyID   bool
	oversize       string
	dmType         string // wire type of group DMs
	dmIDPrefix     string
	selfMessages   string

	// Users.
	usersSeen     fpSet // legacy ids of every user record
	usersOK       fpSet // target ids of accepted users
	usersRejected fpSet // legacy ids of users never accepted
	implied       fpSet // target ids of implied accounts
	impliedIDs    []string
	accounts      int // accepted + implied, against accountLimit
	rewrites      []Rewrite

	// Groups.
	groupIndex   map[string]int32 // legacy id → index in groups
	groups       []groupState
	topicIndex   map[string]int32 // topicKey(group, topic) → index in topics
	topics       []topicState
	groupTargets fpSet
	lastGroup    int // index of the last group looked up, -1 = none

	// Group DMs: the legacy ids of the users they list, and the nicks of those
	// users (by legacy-id fingerprint) for the generated names.
	dmUsers fpSet
	nicks   map[uint64]string

	// Friend stream: the current user's friends (the reader gives them in
	// (user_id, friend_id) order), counted against MaxFriendsPerUser.
	friendUser, friendLast string
	friendCount            int
	friendLists            map[string]struct{} // the current user's friend lists (GroupName)

	// Member stream: the current group's members.
	memGroup string
	memUsers fpSet

	// Group message stream.
	groupMsgSeen SeenSet
	gmGroup      string
	gmTopic      string
	window       randomWindow

	// Direct message stream.
	directMsgSeen SeenSet
	dmLo, dmHi    string
	dmStarted     bool
	dmSec         int64
	dmRank        int

	// Self-messages under policies.self_messages: to_group (selfgroups.go):
	// accepted users' nicks by UserID, the groups met, the current one's window.
	selfNicks  map[string]string
	selfGroups []selfGroup
	selfWindow randomWindow
}

// groupState is what the later passes need to know about one group.
type groupState struct {
	legacyID string
	origin   extract.Origin
	ok       bool // passed pass 2
	conflict bool // GroupCreateTime "reject" and a member or message predates it
	// req is the import_group payload; req.CreateTime is the legacy CreateTime
	// (0 when the source had none) until Groups finalises it.
	req        tencentim.ImportGroupRequest
	maxSet     bool  // the legacy MaxMemberCount was used
	maxMembers int   // the member cap that member.group_full applies, owner included
	firstJoin  int64 // earliest accepted JoinTime, 0 = none
	firstMsg   int64 // earliest accepted SendTime, 0 = none
	lastMsg    int64 // latest accepted SendTime
	members    int
	messages   int
	conflictBy string // what found the conflict, for the group's issue
	// dm is set for a group DM (groupdms.go); dmRejected marks the placeholder
	// of a rejected one.
	dm         *dmState
	dmRejected bool
}

// New validates cfg, applies its defaults and returns a Transformer.
func New(cfg Config) (*Transformer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Transformer{
		now:            cfg.Now.Unix(),
		groupTypes:     make(map[string]string, len(cfg.GroupTypes)),
		roles:          make(map[string]string, len(cfg.Roles)),
		kinds:          make(map[string]KindRule, len(cfg.Kinds)),
		unknownKind:    policy(cfg.UnknownKind, PolicyReject),
		groupRichMedia: policy(cfg.GroupRichMedia, PolicyCustom),
		invalidIDs:     policy(cfg.InvalidIDs, PolicyReject),
		groupIDPrefix:  cfg.GroupIDPrefix,
		longNames:      policy(cfg.LongNames, PolicyTruncate),
		createTime:     policy(cfg.GroupCreateTime, PolicyClamp),
		unknownUsers:   policy(cfg.UnknownUsers, PolicyReject),
		syncDefault:    cmp.Or(cfg.SyncDefault, tencentim.SyncHistorical),
		realtimeAfter:  cfg.RealtimeAfter,
		accountLimit:   cfg.AccountLimit,
		urlTemplate:    cfg.URLTemplate,
		keepLegacyID:   cfg.KeepLegacyID,
		oversize:       policy(cfg.Oversize, PolicyReject),
		dmType:         timTypes[strings.ToLower(cmp.Or(cfg.GroupDMType, tencentim.GroupPrivate))],
		dmIDPrefix:     cfg.GroupDMIDPrefix,
		selfMessages:   policy(cfg.SelfMessages, PolicyReject),
		groupIndex:     make(map[string]int32),
		lastGroup:      -1,
		friendLists:    map[string]struct{}{},
		groupMsgSeen:   &fpSet{},
		directMsgSeen:  &fpSet{},
	}
	for k, v := range cfg.GroupTypes {
		t.groupTypes[strings.ToLower(k)] = timTypes[strings.ToLower(v)]
	}
	if cfg.DefaultGroupType != "" {
		t.defaultType = timTypes[strings.ToLower(cfg.DefaultGroupType)]
	}
	for k, v := range cfg.Roles {
		t.roles[strings.ToLower(k)] = timRoles[strings.ToLower(v)]
	}
	for k, r := range cfg.Kinds {
		r.Element = strings.ToLower(r.Element)
		t.kinds[strings.ToLower(k)] = r
	}
	if cfg.DefaultKind != "" {
		t.defaultKind, t.hasDefaultKind = t.kinds[strings.ToLower(cfg.DefaultKind)]
	}
	return t, nil
}

// Rewrite is one legacy id that was rewritten to a different target id.
type Rewrite struct {
	Entity         extract.Entity
	Legacy, Target string
}

// limitText applies a byte limit to a text field under LongNames: truncate on a
// UTF-8 boundary (repair) or reject.
func (t *Transformer) limitText(is *issueList, v string, limit int, field, spec, tooLong, truncated string) string {
	if len(v) <= limit {
		return v
	}
	if t.longNames == PolicyReject {
		is.add(tooLong, "%s %s is %d bytes; TIM allows %d (%s)", field, shown(v), len(v), limit, spec)
		return v
	}
	cut := truncateUTF8(v, limit)
	is.add(truncated, "%s %s is %d bytes; TIM allows %d (%s); truncated to %d bytes", field, shown(v), len(v), limit, spec, len(cut))
	return cut
}

// ImpliedAccounts returns the UserIDs of users referenced but absent from users,
// imported as bare accounts under UnknownUsers "import", sorted.
func (t *Transformer) ImpliedAccounts() []string {
	out := slices.Clone(t.impliedIDs)
	slices.Sort(out)
	return out
}

// Rewrites returns every user and group id that was rewritten to a different
// target id, in the order they were met.
func (t *Transformer) Rewrites() []Rewrite { return slices.Clone(t.rewrites) }

func fmtTime(at time.Time) string { return at.UTC().Format(time.RFC3339) }

func fmtUnix(sec int64) string { return fmtTime(time.Unix(sec, 0)) }

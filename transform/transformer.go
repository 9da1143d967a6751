package transform

import (
	"cmp"
	"slices"
	"strconv"
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
// sets; per group a small struct with the group's payload; per stream (the current
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
	groupTargets fpSet
	lastGroup    int // index of the last group looked up, -1 = none

	// Member stream: the current group's members.
	memGroup string
	memUsers fpSet

	// Group message stream.
	groupMsgSeen fpSet
	gmGroup      string
	window       randomWindow

	// Direct message stream.
	directMsgSeen fpSet
	dmLo, dmHi    string
	dmStarted     bool
	dmSec         int64
	dmRank        int
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
		groupIndex:     make(map[string]int32),
		lastGroup:      -1,
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

// UserResult is the outcome of one user. In every result type, the payload is the
// zero value when OK is false, and Issues lists repairs and warnings of OK records
// too.
type UserResult struct {
	Account tencentim.AccountImportRequest
	OK      bool
	Issues  []Issue
}

// GroupResult is the outcome of one group's profile checks. The final payload, with
// its CreateTime, comes from Groups after pass 4.
type GroupResult struct {
	GroupID string
	OK      bool
	Issues  []Issue
}

// MemberResult is the outcome of one member row.
type MemberResult struct {
	GroupID string
	Member  tencentim.ImportMember
	OK      bool
	Issues  []Issue
}

// GroupMessageResult is the outcome of one group message.
type GroupMessageResult struct {
	GroupID string
	Msg     tencentim.GroupMsg
	OK      bool
	Issues  []Issue
}

// DirectMessageResult is the outcome of one direct (C2C) message.
type DirectMessageResult struct {
	Msg    tencentim.ImportMsgRequest
	OK     bool
	Issues []Issue
}

// GroupFinal is one group's final import_group payload.
type GroupFinal struct {
	Legacy   extract.Origin
	LegacyID string
	Group    tencentim.ImportGroupRequest
	OK       bool
	Issues   []Issue
	// Members and Messages count the member rows and group messages returned OK
	// for this group (the owner, added by import_group, is not a member row).
	Members  int
	Messages int
}

// Rewrite is one legacy id that was rewritten to a different target id.
type Rewrite struct {
	Entity         extract.Entity
	Legacy, Target string
}

// User checks one legacy user (pass 1) and returns its account payload.
func (t *Transformer) User(u extract.User) UserResult {
	is := newIssues(extract.Users, u.Origin, u.ID, "")
	target := u.ID
	idOK := true
	if problem := userIDProblem(u.ID); problem != "" {
		if rewritten, ok := UserID(u.ID, t.invalidIDs); ok {
			target = rewritten
			is.add(RuleUserIDRewritten, "user id %s %s; rewritten to %q (ids.invalid: rewrite)", shown(u.ID), userIDReason(problem, u.ID), target)
		} else {
			idOK = false
			is.add(problem, "user id %s %s", shown(u.ID), userIDReason(problem, u.ID))
		}
	} else if unusualUserID(u.ID) {
		is.add(RuleUserIDUnusualChars, "user id %s has characters outside [A-Za-z0-9_-]; TIM accepts printable ASCII but some vendor documents do not (design §7 A23)", shown(u.ID))
	}

	// A repeated legacy id stays whatever its first record made it; a rewrite that
	// lands on an earlier user's UserID is a rejection of this legacy id, so that
	// references to it do not resolve to the other user.
	repeated := !t.usersSeen.add(fingerprint(u.ID))
	if repeated {
		is.add(RuleUserIDDuplicate, "user id %s appears more than once; only its first record can be imported", shown(u.ID))
	} else if idOK && t.usersOK.has(fingerprint(target)) {
		is.add(RuleUserIDDuplicate, "user id %s maps to UserID %q, already taken by an earlier user", shown(u.ID), target)
	}

	acct := tencentim.AccountImportRequest{UserID: target}
	acct.Nick = t.limitText(&is, u.Nick, tencentim.MaxProfileValueBytes, "nick", "spec §3.4 (40601)", RuleUserNickTooLong, RuleUserNickTruncated)
	acct.FaceURL = t.limitText(&is, u.FaceURL, tencentim.MaxProfileValueBytes, "face URL", "spec §3.4 (40601)", RuleUserFaceURLTooLong, RuleUserFaceURLTruncated)

	if !is.rejected && t.accountLimit > 0 && t.accounts >= t.accountLimit {
		is.add(RuleAccountEditionLimit, "user %s would be account %d; the edition allows %d (spec §3.3, 70398)", shown(u.ID), t.accounts+1, t.accountLimit)
	}
	if is.rejected {
		if !repeated {
			t.usersRejected.add(fingerprint(u.ID))
		}
		return UserResult{Issues: is.list}
	}
	t.usersOK.add(fingerprint(target))
	t.accounts++
	if target != u.ID {
		t.rewrites = append(t.rewrites, Rewrite{Entity: extract.Users, Legacy: u.ID, Target: target})
	}
	return UserResult{Account: acct, OK: true, Issues: is.list}
}

func userIDReason(rule, id string) string {
	switch rule {
	case RuleUserIDEmpty:
		return "is empty; TIM needs 1-32 bytes (spec §3.1)"
	case RuleUserIDTooLong:
		return "is " + strconv.Itoa(len(id)) + " bytes; TIM allows 32 (spec §3.1)"
	case RuleUserIDInvalidChars:
		return "has characters outside printable ASCII 0x21-0x7e (spec §3.1, design §7 A23)"
	default:
		return "starts with " + reservedUserPrefix + ", reserved for chatbot accounts (spec §3.1)"
	}
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

// userRef is the outcome of resolving a reference to a user.
type userRef int

const (
	refKnown    userRef = iota // an accepted or already implied account
	refImplied                 // to be imported as a bare account if the record is accepted
	refRejected                // the user was rejected in pass 1
	refUnknown                 // absent, and UnknownUsers is reject (or the id is invalid)
	refLimit                   // absent and implying it would pass the edition limit
)

// resolveUser resolves a reference to the legacy user id ref. pending holds the
// accounts the current record would imply, so that two references of one record
// count against the edition limit together.
func (t *Transformer) resolveUser(ref string, pending []string) (target string, r userRef) {
	// Rejected first: a legacy id in usersRejected was never accepted, and its
	// rewrite may equal another user's UserID.
	if t.usersRejected.has(fingerprint(ref)) {
		return "", refRejected
	}
	target, ok := UserID(ref, t.invalidIDs)
	if ok && t.usersOK.has(fingerprint(target)) {
		return target, refKnown
	}
	if t.unknownUsers != PolicyImport || !ok {
		return target, refUnknown
	}
	if t.implied.has(fingerprint(target)) || slices.Contains(pending, target) {
		return target, refKnown
	}
	if t.accountLimit > 0 && t.accounts+len(pending) >= t.accountLimit {
		return target, refLimit
	}
	return target, refImplied
}

// userRefIssue raises the issue of a failed reference; role names it ("sender").
func (t *Transformer) userRefIssue(is *issueList, r userRef, ref, role, unknownRule, rejectedRule, spec string) {
	switch r {
	case refRejected:
		is.add(rejectedRule, "%s %s was rejected in the users pass (%s)", role, shown(ref), spec)
	case refUnknown:
		if t.unknownUsers == PolicyImport {
			is.add(unknownRule, "%s %s is not in users and is not a valid UserID to import (%s)", role, shown(ref), spec)
		} else {
			is.add(unknownRule, "%s %s is not in users; accounts must be imported before use (%s; unknown_users: reject)", role, shown(ref), spec)
		}
	case refLimit:
		is.add(RuleAccountEditionLimit, "%s %s is not in users and importing it would pass the edition's %d accounts (spec §3.3, 70398)", role, shown(ref), t.accountLimit)
	}
}

// commitImplied records the accounts an accepted record implies.
func (t *Transformer) commitImplied(is *issueList, legacy, target []string) {
	for i, tg := range target {
		if !t.implied.add(fingerprint(tg)) {
			continue
		}
		t.impliedIDs = append(t.impliedIDs, tg)
		t.accounts++
		if tg != legacy[i] {
			t.rewrites = append(t.rewrites, Rewrite{Entity: extract.Users, Legacy: legacy[i], Target: tg})
		}
		is.add(RuleAccountImplied, "user %s is not in users; imported as a bare account %q (unknown_users: import)", shown(legacy[i]), tg)
	}
}

// Group checks one legacy group's profile (pass 2). Its CreateTime is final only
// after pass 4 (see Groups).
func (t *Transformer) Group(g extract.Group) GroupResult {
	is := newIssues(extract.Groups, g.Origin, g.ID, "")
	if _, dup := t.groupIndex[g.ID]; dup {
		is.add(RuleGroupIDDuplicate, "group id %s appears more than once; only its first record can be imported", shown(g.ID))
		return GroupResult{Issues: is.list}
	}

	st := groupState{legacyID: g.ID, origin: g.Origin}
	req := &st.req

	typ := ""
	if g.Type == "" {
		if t.defaultType == "" {
			is.add(RuleGroupTypeMissing, "group has no type and default_group_type is not set (spec §8.1)")
		}
		typ = t.defaultType
	} else if tt, ok := t.groupTypes[strings.ToLower(g.Type)]; ok {
		typ = tt
	} else {
		is.add(RuleGroupTypeUnmapped, "group type %s is not mapped in group_types (spec §8.1)", shown(g.Type))
	}
	if typ == tencentim.GroupAVChatRoom {
		is.add(RuleGroupTypeAVChatRoom, "group type %s maps to AVChatRoom, which import_group refuses (10007, spec §8.2); create it with create_group instead", shown(g.Type))
	}
	req.Type = typ

	plain := t.groupIDPrefix + g.ID
	community := typ == tencentim.GroupCommunity
	if community {
		plain = communityGroupPrefix + plain
	}
	if target, ok := GroupID(g.ID, t.groupIDPrefix, typ, t.invalidIDs); !ok {
		is.add(RuleGroupIDInvalid, "GroupId %s %s (spec §8.3, design §7 A36; ids.invalid: reject)", shown(plain), groupIDReason(plain, community))
	} else {
		req.GroupID = target
		if target != plain {
			is.add(RuleGroupIDRewritten, "GroupId %s %s; rewritten to %q (ids.invalid: rewrite)", shown(plain), groupIDReason(plain, community), target)
		}
		if t.groupTargets.has(fingerprint(target)) {
			is.add(RuleGroupIDDuplicate, "group id %s maps to GroupId %q, already taken by an earlier group", shown(g.ID), target)
		}
	}

	var pendingLegacy, pendingTarget []string
	if g.OwnerID != "" {
		owner, r := t.resolveUser(g.OwnerID, nil)
		t.userRefIssue(&is, r, g.OwnerID, "owner", RuleGroupOwnerUnknown, RuleGroupOwnerRejected, "spec §8.7")
		if r == refImplied {
			pendingLegacy, pendingTarget = []string{g.OwnerID}, []string{owner}
		}
		req.OwnerAccount = owner
	}

	if g.Name == "" {
		is.add(RuleGroupNameEmpty, "group name is empty; import_group requires Name (spec §8.4)")
	}
	req.Name = t.limitText(&is, g.Name, tencentim.MaxGroupNameBytes, "group name", "spec §8.4", RuleGroupNameTooLong, RuleGroupNameTruncated)
	req.Introduction = t.limitText(&is, g.Introduction, tencentim.MaxGroupIntroBytes, "group introduction", "spec §8.4", RuleGroupIntroductionTooLong, RuleGroupIntroductionTruncated)
	req.Notification = t.limitText(&is, g.Notification, tencentim.MaxGroupNotifBytes, "group notification", "spec §8.4", RuleGroupNotificationTooLong, RuleGroupNotificationTruncated)
	req.FaceURL = t.limitText(&is, g.FaceURL, tencentim.MaxGroupFaceURLBytes, "group face URL", "spec §8.4", RuleGroupFaceURLTooLong, RuleGroupFaceURLTruncated)

	// MaxMemberCount (spec §8.4, A10): a value above the type's cap would fail the
	// whole group with 10004, so it is lowered to the cap — a repair, since the
	// legacy limit cannot be kept anyway. Unset, the server default (2,000) applies
	// unless Groups raises it for a bigger group; member.group_full then checks
	// against the type's cap.
	capacity := tencentim.MaxMemberCount
	if community {
		capacity = tencentim.MaxCommunityMemberCount
	}
	st.maxMembers = capacity
	switch {
	case g.MaxMembers < 0:
		is.add(RuleGroupMaxMembersInvalid, "MaxMemberCount %d is negative; omitted so that the server default applies (spec §8.4)", g.MaxMembers)
	case g.MaxMembers > capacity:
		is.add(RuleGroupMaxMembersCapped, "MaxMemberCount %d is above the %s cap of %d; lowered to %d (spec §8.4, A10)", g.MaxMembers, typ, capacity, capacity)
		req.MaxMemberCount, st.maxSet = capacity, true
	case g.MaxMembers > 0:
		req.MaxMemberCount, st.maxMembers, st.maxSet = g.MaxMembers, g.MaxMembers, true
	}

	if !g.CreatedAt.IsZero() {
		switch sec := g.CreatedAt.Unix(); {
		case sec <= 0:
			is.add(RuleGroupCreateTimeInvalid, "group CreateTime %s is not after 1970-01-01 (spec §8.7)", fmtTime(g.CreatedAt))
		case sec > t.now:
			is.add(RuleGroupCreateTimeFuture, "group CreateTime %s is after now (%s) (spec §8.7, A33)", fmtTime(g.CreatedAt), fmtUnix(t.now))
		default:
			req.CreateTime = sec
		}
	}

	st.ok = !is.rejected
	t.groupIndex[g.ID] = int32(len(t.groups))
	if !st.ok {
		// Keep only what later passes need to say "rejected".
		t.groups = append(t.groups, groupState{legacyID: g.ID, origin: g.Origin})
		return GroupResult{Issues: is.list}
	}
	t.groups = append(t.groups, st)
	t.groupTargets.add(fingerprint(req.GroupID))
	if req.GroupID != plain {
		t.rewrites = append(t.rewrites, Rewrite{Entity: extract.Groups, Legacy: g.ID, Target: req.GroupID})
	}
	t.commitImplied(&is, pendingLegacy, pendingTarget)
	return GroupResult{GroupID: req.GroupID, OK: true, Issues: is.list}
}

func groupIDReason(target string, community bool) string {
	if r := groupIDProblem(target, community); r != "" {
		return r
	}
	return "is empty" // the only other reason GroupID refuses a valid frame
}

// group finds the state of a referenced legacy group (nil if absent). The last
// answer is cached: records come in streams of one group.
func (t *Transformer) group(id string) *groupState {
	if t.lastGroup >= 0 && t.groups[t.lastGroup].legacyID == id {
		return &t.groups[t.lastGroup]
	}
	i, ok := t.groupIndex[id]
	if !ok {
		return nil
	}
	t.lastGroup = int(i)
	return &t.groups[i]
}

// groupRefIssue raises the issue of a record whose group is not importable, and
// reports whether there was one.
func (t *Transformer) groupRefIssue(is *issueList, gs *groupState, id, unknownRule, rejectedRule, spec string) bool {
	switch {
	case gs == nil:
		is.add(unknownRule, "group %s is not in groups (%s)", shown(id), spec)
	case !gs.ok:
		is.add(rejectedRule, "group %s was rejected in the groups pass (%s)", shown(id), spec)
	case gs.conflict:
		is.add(RuleGroupCreateTimeConflict, "group %s was rejected: its CreateTime %s is not before %s (group_create_time: reject; spec §8.8, §8.9)", shown(id), fmtUnix(gs.req.CreateTime), gs.conflictBy)
	default:
		return false
	}
	return true
}

// Member checks one member row (pass 3, in (group_id, joined_at, user_id) order).
func (t *Transformer) Member(m extract.Member) MemberResult {
	is := newIssues(extract.Members, m.Origin, m.GroupID, m.UserID)
	gs := t.group(m.GroupID)
	if t.groupRefIssue(&is, gs, m.GroupID, RuleMemberGroupUnknown, RuleMemberGroupRejected, "spec §8.8") {
		return MemberResult{Issues: is.list}
	}
	if m.GroupID != t.memGroup {
		t.memGroup = m.GroupID
		t.memUsers.reset()
	}
	res := MemberResult{GroupID: gs.req.GroupID}

	user, r := t.resolveUser(m.UserID, nil)
	t.userRefIssue(&is, r, m.UserID, "member", RuleMemberUserUnknown, RuleMemberUserRejected, "spec §8.8")
	if !is.rejected && gs.req.OwnerAccount != "" && user == gs.req.OwnerAccount {
		is.add(RuleMemberOwnerRow, "member %s is the group's owner, whom import_group adds as Owner_Account; the row is skipped by policy (spec §8.7)", shown(m.UserID))
		return MemberResult{GroupID: res.GroupID, Issues: is.list}
	}
	res.Member.MemberAccount = user

	role := tencentim.RoleMember
	if m.Role != "" {
		var ok bool
		if role, ok = t.roles[strings.ToLower(m.Role)]; !ok {
			is.add(RuleMemberRoleUnmapped, "member role %s is not mapped in roles (spec §8.5)", shown(m.Role))
		}
	}
	switch role {
	case tencentim.RoleOwner:
		// A second owner cannot be imported: import_group_member takes Admin only
		// (spec §8.5, A13). Admin keeps the user's privileges as closely as TIM
		// allows.
		owner := "has no owner"
		if gs.req.OwnerAccount != "" {
			owner = "is owned by " + shown(gs.req.OwnerAccount)
		}
		is.add(RuleMemberRoleExtraOwner, "member %s has role %s (Owner) but the group %s; imported as Admin (spec §8.5)", shown(m.UserID), shown(m.Role), owner)
		res.Member.Role = tencentim.RoleAdmin
	case tencentim.RoleAdmin:
		res.Member.Role = tencentim.RoleAdmin
	}

	if r == refKnown || r == refImplied {
		if !t.memUsers.add(fingerprint(user)) {
			is.add(RuleMemberDuplicate, "user %s is listed more than once in group %s; only its first row can be imported", shown(m.UserID), shown(m.GroupID))
		}
	}

	var join int64
	if m.JoinedAt.IsZero() {
		is.add(RuleMemberJoinTimeMissing, "member has no join time; the server will use the import time (spec §8.8, A12)")
	} else {
		switch join = m.JoinedAt.Unix(); {
		case join <= 0:
			is.add(RuleMemberJoinTimeInvalid, "JoinTime %s is not after 1970-01-01 (spec §8.8)", fmtTime(m.JoinedAt))
		case join >= t.now:
			is.add(RuleMemberJoinTimeFuture, "JoinTime %s is not before now (%s) (spec §8.8)", fmtTime(m.JoinedAt), fmtUnix(t.now))
		}
		res.Member.JoinTime = join
	}

	if m.HasUnread {
		if m.Unread < 0 {
			is.add(RuleMemberUnreadInvalid, "unread count %d is negative; not restored", m.Unread)
		} else {
			res.Member.UnreadMsgNum = m.Unread
		}
	}

	if !is.rejected {
		owners := 0
		if gs.req.OwnerAccount != "" {
			owners = 1
		}
		if gs.members+owners >= gs.maxMembers {
			is.add(RuleMemberGroupFull, "group %s already has %d members (owner included), its MaxMemberCount (spec §8.4, A10)", shown(m.GroupID), gs.members+owners)
		}
	}
	if !is.rejected && join > 0 && gs.req.CreateTime != 0 && join <= gs.req.CreateTime && t.createTime == PolicyReject {
		// import_group_member needs JoinTime after the group's CreateTime (spec
		// §8.8); the policy refuses to move CreateTime, so the group falls.
		gs.conflict = true
		gs.conflictBy = "the join of member " + shown(m.UserID) + " at " + fmtUnix(join)
		t.groupRefIssue(&is, gs, m.GroupID, "", "", "")
	}
	if is.rejected {
		return MemberResult{GroupID: res.GroupID, Issues: is.list}
	}
	gs.members++
	if join > 0 && (gs.firstJoin == 0 || join < gs.firstJoin) {
		gs.firstJoin = join
	}
	if r == refImplied {
		t.commitImplied(&is, []string{m.UserID}, []string{user})
	}
	res.OK, res.Issues = true, is.list
	return res
}

// GroupMessage checks one group message (pass 4, in (group_id, sent_at, id) order).
func (t *Transformer) GroupMessage(m extract.Message) GroupMessageResult {
	is := newIssues(extract.GroupMessages, m.Origin, m.ID, "")
	gs := t.group(m.GroupID)
	if t.groupRefIssue(&is, gs, m.GroupID, RuleGroupMessageGroupUnknown, RuleGroupMessageGroupRejected, "spec §8.9") {
		return GroupMessageResult{Issues: is.list}
	}
	if m.GroupID != t.gmGroup {
		t.gmGroup = m.GroupID
		t.window.reset()
	}
	res := GroupMessageResult{GroupID: gs.req.GroupID}

	if !t.groupMsgSeen.add(fingerprint(m.ID)) {
		is.add(RuleMessageIDDuplicate, "group message id %s appears more than once; only its first record can be imported", shown(m.ID))
	}
	sender, r := t.resolveUser(m.SenderID, nil)
	t.userRefIssue(&is, r, m.SenderID, "sender", RuleGroupMessageSenderUnknown, RuleGroupMessageSenderRejected, "spec §8.9, design §7 A14")

	sec := t.sendTime(&is, m.SentAt)
	if sec > 0 && sec < gs.lastMsg {
		is.add(RuleGroupMessageOutOfOrder, "send time %s is before the group's previous message at %s; import_group_msg needs ascending times (spec §8.9, design §7 A2)", fmtTime(m.SentAt), fmtUnix(gs.lastMsg))
	}

	body := t.msgBody(&m, true, &is)
	if body != nil {
		if n := bodySize(body); n > tencentim.MaxMsgBodyBytes {
			is.add(RuleMessageBodyTooLarge, "MsgBody is %d bytes serialized; TIM allows %d (spec §6.3, design §7 A5)", n, tencentim.MaxMsgBodyBytes)
		}
	}

	if !is.rejected && gs.req.CreateTime != 0 && sec <= gs.req.CreateTime && t.createTime == PolicyReject {
		// import_group_msg needs SendTime after the group's CreateTime (spec §8.9,
		// design §7 A2); the policy refuses to move CreateTime, so the group falls.
		gs.conflict = true
		gs.conflictBy = "message " + shown(m.ID) + " sent at " + fmtUnix(sec)
		t.groupRefIssue(&is, gs, m.GroupID, "", "", "")
	}
	if is.rejected {
		return GroupMessageResult{GroupID: res.GroupID, Issues: is.list}
	}

	random, salted := t.window.pick(m.ID, sec)
	if salted {
		is.add(RuleGroupMessageRandomRehashed, "Random %d of message %s repeats within 300 s in group %s, which would make the server drop it (design §7 A4); used %d", GroupRandom(m.ID), shown(m.ID), shown(m.GroupID), random)
	}
	res.Msg = tencentim.GroupMsg{FromAccount: sender, SendTime: sec, Random: random, MsgBody: body}
	gs.messages++
	if gs.firstMsg == 0 {
		gs.firstMsg = sec
	}
	gs.lastMsg = max(gs.lastMsg, sec)
	if r == refImplied {
		t.commitImplied(&is, []string{m.SenderID}, []string{sender})
	}
	res.OK, res.Issues = true, is.list
	return res
}

// sendTime checks a message time: after 1970 and before now (spec §7.1 A32, §8.9).
// It returns the Unix seconds, or 0 with a Reject issue.
func (t *Transformer) sendTime(is *issueList, at time.Time) int64 {
	sec := at.Unix()
	switch {
	case at.IsZero() || sec <= 0:
		is.add(RuleMessageTimeInvalid, "send time %s is not after 1970-01-01", fmtTime(at))
		return 0
	case sec >= t.now:
		is.add(RuleMessageTimeFuture, "send time %s is not before now (%s) (spec §7.1 A32, §8.9)", fmtTime(at), fmtUnix(t.now))
		return 0
	}
	return sec
}

// DirectMessage checks one direct message (pass 5, in (conversation, sent_at, id)
// order).
func (t *Transformer) DirectMessage(m extract.Message) DirectMessageResult {
	is := newIssues(extract.DirectMessages, m.Origin, m.ID, "")

	// The rank counts every record of the conversation's second, accepted or not,
	// so that it depends on the legacy data alone.
	lo, hi := extract.ConversationKey(m.SenderID, m.RecipientID)
	sec := m.SentAt.Unix()
	if !t.dmStarted || lo != t.dmLo || hi != t.dmHi {
		t.dmStarted, t.dmLo, t.dmHi, t.dmSec, t.dmRank = true, lo, hi, sec, 0
	} else if sec == t.dmSec {
		t.dmRank++
	} else {
		t.dmSec, t.dmRank = sec, 0
	}
	rank := t.dmRank

	if !t.directMsgSeen.add(fingerprint(m.ID)) {
		is.add(RuleMessageIDDuplicate, "direct message id %s appears more than once; only its first record can be imported", shown(m.ID))
	}
	var pending [2]string
	pendingLegacy := [2]string{m.SenderID, m.RecipientID}
	np := 0
	if m.SenderID == m.RecipientID {
		is.add(RuleDirectMessageSelf, "sender and recipient are both %s; TIM has no conversation with oneself", shown(m.SenderID))
	}
	from, r := t.resolveUser(m.SenderID, nil)
	t.userRefIssue(&is, r, m.SenderID, "sender", RuleDirectMessageSenderUnknown, RuleDirectMessageSenderRejected, "spec §7.1 (90008)")
	if r == refImplied {
		pending[np] = from
		np++
	}
	to, r2 := t.resolveUser(m.RecipientID, pending[:np])
	t.userRefIssue(&is, r2, m.RecipientID, "recipient", RuleDirectMessageRecipientUnknown, RuleDirectMessageRecipientRejected, "spec §7.1 (90012)")

	sec = t.sendTime(&is, m.SentAt)
	body := t.msgBody(&m, false, &is)
	if body != nil {
		// importmsg carries one message; with UserIDs of at most 32 bytes the rest
		// of the request stays under 300 bytes, so a body within 12,000 keeps the
		// request under the 12,288 of 93000 (design §7 A5).
		if n := bodySize(body); n > tencentim.MaxMsgBodyBytes {
			is.add(RuleMessageBodyTooLarge, "MsgBody is %d bytes serialized; TIM allows %d (spec §6.3, design §7 A5)", n, tencentim.MaxMsgBodyBytes)
		}
	}
	if is.rejected {
		return DirectMessageResult{Issues: is.list}
	}

	seq, random := C2CIdentity(m.ID, rank)
	sync := t.syncDefault
	if !t.realtimeAfter.IsZero() && !m.SentAt.Before(t.realtimeAfter) {
		sync = tencentim.SyncRealtime
	}
	res := DirectMessageResult{OK: true, Msg: tencentim.ImportMsgRequest{
		SyncFromOldSystem: sync,
		FromAccount:       from,
		ToAccount:         to,
		MsgSeq:            seq,
		MsgRandom:         random,
		MsgTimeStamp:      sec,
		MsgBody:           body,
	}}
	if r == refImplied || r2 == refImplied {
		var legacy, target []string
		if r == refImplied {
			legacy, target = append(legacy, pendingLegacy[0]), append(target, from)
		}
		if r2 == refImplied {
			legacy, target = append(legacy, pendingLegacy[1]), append(target, to)
		}
		t.commitImplied(&is, legacy, target)
	}
	res.Issues = is.list
	return res
}

// Groups returns the final payload of every group that passed pass 2, in legacy-id
// order (bytewise), with CreateTime clamped before its first member join and first
// message (design §3 phase 2; spec §8.8, §8.9) and the issues that caused. It may
// be called more than once; it does not change the Transformer.
func (t *Transformer) Groups() []GroupFinal {
	idx := make([]int, 0, len(t.groups))
	for i := range t.groups {
		if t.groups[i].ok {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(t.groups[a].legacyID, t.groups[b].legacyID) })

	out := make([]GroupFinal, 0, len(idx))
	for _, i := range idx {
		gs := &t.groups[i]
		is := newIssues(extract.Groups, gs.origin, gs.legacyID, "")
		f := GroupFinal{Legacy: gs.origin, LegacyID: gs.legacyID, Group: gs.req, Members: gs.members, Messages: gs.messages}
		if gs.conflict {
			is.add(RuleGroupCreateTimeConflict, "group CreateTime %s is not before %s; group_create_time is reject, so the group, its members and its messages are rejected (spec §8.8, §8.9)", fmtUnix(gs.req.CreateTime), gs.conflictBy)
			f.Issues = is.list
			out = append(out, f)
			continue
		}
		earliest := gs.firstJoin
		if gs.firstMsg != 0 && (earliest == 0 || gs.firstMsg < earliest) {
			earliest = gs.firstMsg
		}
		legacy := gs.req.CreateTime
		switch {
		case legacy == 0 && earliest != 0:
			f.Group.CreateTime = earliest - 1
			is.add(RuleGroupCreateTimeDerived, "group has no CreateTime; set to %s, one second before its first member join or message (spec §8.8, §8.9)", fmtUnix(earliest-1))
		case legacy != 0 && earliest != 0 && earliest <= legacy:
			f.Group.CreateTime = earliest - 1
			is.add(RuleGroupCreateTimeClamped, "group CreateTime %s is not before its first member join or message at %s; clamped to %s (spec §8.8, §8.9; group_create_time: clamp)", fmtUnix(legacy), fmtUnix(earliest), fmtUnix(earliest-1))
		}
		owners := 0
		if gs.req.OwnerAccount != "" {
			owners = 1
		}
		if n := gs.members + owners; !gs.maxSet && n > tencentim.DefaultMaxMemberCount {
			f.Group.MaxMemberCount = n
			is.add(RuleGroupMaxMembersRaised, "group has %d members (owner included) and no MaxMemberCount; set to %d, above the server default of %d (spec §8.4, A10)", n, n, tencentim.DefaultMaxMemberCount)
		}
		f.OK, f.Issues = true, is.list
		out = append(out, f)
	}
	return out
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

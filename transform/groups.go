package transform

import (
	"slices"
	"strings"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

// GroupResult is the outcome of one group's profile checks. The final payload, with
// its CreateTime, comes from Groups after pass 4.
type GroupResult struct {
	GroupID string
	OK      bool
	Issues  []Issue
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

// Group checks one legacy group's profile (pass 2). Its CreateTime is final only
// after pass 4 (see Groups).
func (t *Transformer) Group(g extract.Group) GroupResult {
	is := newIssues(extract.Groups, g.Origin, g.ID, "")
	is.dropped(g.Dropped)
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

	if g.SupportTopic {
		if !community {
			is.add(RuleGroupTopicsNotCommunity, "group has support_topic but its type %s is not Community; import_group takes SupportTopic for Community only (spec §8.7)", shown(typ))
		}
		req.SupportTopic = 1
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

// Groups returns the final payload of every group that passed pass 2, in legacy-id
// order (bytewise), with CreateTime clamped before its first member join and first
// message (design §3 phase 2; spec §8.8, §8.9) and the issues that caused. It may
// be called more than once; it does not change the Transformer.
func (t *Transformer) Groups() []GroupFinal {
	idx := make([]int, 0, len(t.groups))
	for i := range t.groups {
		if t.groups[i].ok && t.groups[i].dm == nil { // group DMs: GroupDMs
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

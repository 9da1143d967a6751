package transform

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

// Group DMs: a conversation of three or more people without a group in the
// source becomes a TIM group of the mapping's GroupDMType. Its messages are
// group messages whose group_id is the DM's id, checked by GroupMessage like any
// group's; the DM itself is final only after them (GroupDMs), when its
// CreateTime and its members' JoinTime are known.
//
// Passes: NoteGroupDM for every DM before the users pass (so that the users pass
// keeps the nicks the generated names need, and only those), GroupDM after the
// groups pass (so that a DM id equal to a group id is found), then GroupDMs after
// the group messages.

// MinGroupDMMembers is the fewest distinct participants of a group DM: two people
// are a one-to-one conversation (direct_messages), one is a self-conversation.
const MinGroupDMMembers = 3

// dmState is what a group DM adds to its groupState.
type dmState struct {
	// members are the participants' UserIDs, bytewise sorted, the owner
	// included; senders who were not listed are appended (see dmSender).
	members []string
	listed  int // how many of members the source listed
}

// GroupDMResult is the outcome of one group DM's checks. The final payloads come
// from GroupDMs after the group messages.
type GroupDMResult struct {
	GroupID string
	OK      bool
	Issues  []Issue
}

// GroupDMFinal is one group DM's final import_group payload and the
// import_group_member list of its members other than the owner (whom
// import_group adds, spec §8.7).
type GroupDMFinal struct {
	Legacy   extract.Origin
	LegacyID string
	Group    tencentim.ImportGroupRequest
	Members  []tencentim.ImportMember
	OK       bool
	Issues   []Issue
	// Messages counts the group messages returned OK for this DM.
	Messages int
}

// NoteGroupDM notes the members of a group DM before the users pass, whose
// nicks GroupDM needs for the generated name.
func (t *Transformer) NoteGroupDM(d extract.GroupDM) {
	for _, m := range d.Members {
		t.dmUsers.add(fingerprint(m))
	}
	if d.CreatorID != "" {
		t.dmUsers.add(fingerprint(d.CreatorID))
	}
}

// noteNick keeps the nick of an accepted user that a group DM lists.
func (t *Transformer) noteNick(legacy, nick string) {
	if nick == "" || !t.dmUsers.has(fingerprint(legacy)) {
		return
	}
	if t.nicks == nil {
		t.nicks = map[uint64]string{}
	}
	t.nicks[fingerprint(legacy)] = nick
}

// GroupDM checks one group DM (after the groups pass). A DM that passes is
// registered as a group, so that its messages find it.
func (t *Transformer) GroupDM(d extract.GroupDM) GroupDMResult {
	is := newIssues(extract.GroupDMs, d.Origin, d.ID, "")
	is.dropped(d.Dropped)
	if i, taken := t.groupIndex[d.ID]; taken {
		// group_messages.group_id names a group or a group DM: the same legacy id
		// cannot be both.
		if prev := t.groups[i]; prev.dm != nil || prev.dmRejected {
			is.add(RuleGroupDMIDDuplicate, "group DM id %s appears more than once (first at %s); only its first record can be imported", shown(d.ID), prev.origin)
		} else {
			is.add(RuleGroupDMIDGroupClash, "group DM id %s is also the id of group %s at %s: group_messages.group_id could name either; the group keeps the id, make the ids distinct in the source or its query", shown(d.ID), shown(d.ID), prev.origin)
		}
		return GroupDMResult{Issues: is.list}
	}

	st := groupState{legacyID: d.ID, origin: d.Origin, dm: &dmState{}}
	req := &st.req
	req.Type = t.dmType
	community := req.Type == tencentim.GroupCommunity
	prefix := t.groupIDPrefix + t.dmIDPrefix
	plain := prefix + d.ID
	if community {
		plain = communityGroupPrefix + plain
	}
	if target, ok := GroupID(d.ID, prefix, req.Type, t.invalidIDs); !ok {
		is.add(RuleGroupDMIDInvalid, "GroupId %s %s (spec §8.3, design §7 A36; ids.invalid: reject)", shown(plain), groupIDReason(plain, community))
	} else {
		req.GroupID = target
		if target != plain {
			is.add(RuleGroupDMIDRewritten, "GroupId %s %s; rewritten to %q (ids.invalid: rewrite)", shown(plain), groupIDReason(plain, community), target)
		}
		if t.groupTargets.has(fingerprint(target)) {
			is.add(RuleGroupDMIDTaken, "group DM id %s maps to GroupId %q, already taken by %s; set group_dms.id_prefix to keep group DMs apart", shown(d.ID), target, t.groupOfTarget(target))
		}
	}

	// Members: distinct, known, sorted by UserID (the documented order).
	var pendingLegacy, pendingTarget []string
	members := make([]string, 0, len(d.Members))
	legacyOf := make(map[string]string, len(d.Members))
	for _, m := range d.Members {
		user, r := t.resolveUser(m, pendingTarget)
		t.userRefIssue(&is, r, m, "member", RuleGroupDMMemberUnknown, RuleGroupDMMemberRejected, "spec §8.8")
		if r != refKnown && r != refImplied {
			continue
		}
		if _, dup := legacyOf[user]; dup {
			is.add(RuleGroupDMMemberDuplicate, "member %s is listed more than once; imported once", shown(m))
			continue
		}
		legacyOf[user] = m
		members = append(members, user)
		if r == refImplied {
			pendingLegacy, pendingTarget = append(pendingLegacy, m), append(pendingTarget, user)
		}
	}
	slices.Sort(members)
	capacity := tencentim.MaxMemberCount
	if community {
		capacity = tencentim.MaxCommunityMemberCount
	}
	switch n := len(legacyOf); {
	case is.rejected:
	case n < MinGroupDMMembers:
		what := "a one-to-one conversation: import its messages as direct_messages"
		if n < 2 {
			what = "not a conversation between people: TIM has no conversation with oneself"
		}
		is.add(RuleGroupDMMembersTooFew, "group DM has %d distinct members; a group DM needs at least %d, and %d is %s", n, MinGroupDMMembers, n, what)
	case n > capacity:
		is.add(RuleGroupDMMembersTooMany, "group DM has %d members; a %s group holds at most %d (spec §8.4, A10)", n, req.Type, capacity)
	}

	// The owner: the creator when it is mapped and a member, else the first
	// member by UserID.
	if len(members) > 0 {
		req.OwnerAccount = members[0]
	}
	if d.CreatorID != "" {
		// resolveUser only looks: nothing is committed for the creator, who must
		// be one of the members resolved above to own the group.
		if creator, _ := t.resolveUser(d.CreatorID, pendingTarget); legacyOf[creator] != "" {
			req.OwnerAccount = creator
		} else if req.OwnerAccount != "" {
			is.add(RuleGroupDMCreatorNotMember, "creator %s is not among the group DM's known members; the first member by UserID, %s, owns the group instead (spec §8.7)", shown(d.CreatorID), shown(req.OwnerAccount))
		}
	}

	if d.Name != "" {
		req.Name = t.limitText(&is, d.Name, tencentim.MaxGroupNameBytes, "group DM name", "spec §8.4", RuleGroupDMNameTooLong, RuleGroupDMNameTruncated)
	} else {
		nicks := make([]string, 0, len(members))
		for _, u := range members {
			nicks = append(nicks, cmp.Or(t.nicks[fingerprint(legacyOf[u])], u))
		}
		req.Name = GroupDMName(nicks, tencentim.MaxGroupNameBytes)
	}
	if n := len(members); n > tencentim.DefaultMaxMemberCount {
		req.MaxMemberCount = n // spec §8.4, A10: above the server default
	}

	if !d.CreatedAt.IsZero() {
		switch sec := d.CreatedAt.Unix(); {
		case sec <= 0:
			is.add(RuleGroupDMCreateTimeInvalid, "group DM CreateTime %s is not after 1970-01-01 (spec §8.7)", fmtTime(d.CreatedAt))
		case sec >= t.now:
			is.add(RuleGroupDMCreateTimeFuture, "group DM CreateTime %s is not before now (%s) (spec §8.7, §8.8)", fmtTime(d.CreatedAt), fmtUnix(t.now))
		default:
			req.CreateTime = sec
		}
	}

	t.groupIndex[d.ID] = int32(len(t.groups))
	if is.rejected {
		t.groups = append(t.groups, groupState{legacyID: d.ID, origin: d.Origin, dmRejected: true})
		return GroupDMResult{Issues: is.list}
	}
	st.ok = true
	st.dm.members, st.dm.listed = members, len(members)
	st.maxMembers = capacity
	st.members = len(members) - 1 // the owner is not a member row
	t.groups = append(t.groups, st)
	t.groupTargets.add(fingerprint(req.GroupID))
	if req.GroupID != plain {
		t.rewrites = append(t.rewrites, Rewrite{Entity: extract.GroupDMs, Legacy: d.ID, Target: req.GroupID})
	}
	t.commitImplied(&is, pendingLegacy, pendingTarget)
	return GroupDMResult{GroupID: req.GroupID, OK: true, Issues: is.list}
}

// groupOfTarget names the group or group DM whose GroupId is target.
func (t *Transformer) groupOfTarget(target string) string {
	for i := range t.groups {
		if g := &t.groups[i]; g.ok && g.req.GroupID == target {
			if g.dm != nil {
				return "group DM " + shown(g.legacyID) + " at " + g.origin.String()
			}
			return "group " + shown(g.legacyID) + " at " + g.origin.String()
		}
	}
	return "an earlier group"
}

// dmSender checks the sender of an accepted message of a group DM. A sender the
// DM does not list was a participant all the same (the conversation is its
// participants): it is added as a member, with a warning, rather than its
// message lost; past the group type's capacity the message is rejected instead.
// It reports whether the message stays accepted.
func (t *Transformer) dmSender(is *issueList, gs *groupState, sender, legacy string) bool {
	listed := gs.dm.members[:gs.dm.listed] // sorted
	if _, ok := slices.BinarySearch(listed, sender); ok || slices.Contains(gs.dm.members[gs.dm.listed:], sender) {
		return true
	}
	if len(gs.dm.members) >= gs.maxMembers {
		is.add(RuleGroupDMSenderNotMember, "sender %s is not a member of group DM %s, which is full at %d members (spec §8.4, A10)", shown(legacy), shown(gs.legacyID), gs.maxMembers)
		return false
	}
	is.add(RuleGroupDMSenderAdded, "sender %s is not listed among the members of group DM %s; added as a member so that the message is kept", shown(legacy), shown(gs.legacyID))
	gs.dm.members = append(gs.dm.members, sender)
	gs.members++
	return true
}

// GroupDMName is a group DM's generated name: the members' nicks in
// case-insensitive order, joined by ", ", as many as fit in limit bytes, the
// others counted in a " +N" suffix ("Alice, Bob +3"). When not even the first
// nick fits with the suffix, it is cut on a UTF-8 boundary. The result is valid
// UTF-8 and at most limit bytes.
func GroupDMName(nicks []string, limit int) string {
	nicks = slices.Clone(nicks)
	for i, n := range nicks {
		nicks[i] = strings.ToValidUTF8(strings.TrimSpace(n), "")
	}
	slices.SortStableFunc(nicks, func(a, b string) int {
		return cmp.Or(strings.Compare(strings.ToLower(a), strings.ToLower(b)), strings.Compare(a, b))
	})
	// The longest prefix of k nicks that fits with its suffix, by length alone:
	// one join at the end, whatever the number of members.
	fit, length := 0, 0
	for k := 1; k <= len(nicks); k++ {
		if k > 1 {
			length += len(", ")
		}
		length += len(nicks[k-1])
		if length+dmNameSuffixLen(len(nicks)-k) <= limit {
			fit = k
		}
		if length > limit {
			break // longer prefixes only grow
		}
	}
	if fit > 0 {
		name := strings.Join(nicks[:fit], ", ")
		if fit < len(nicks) {
			name += " +" + strconv.Itoa(len(nicks)-fit)
		}
		return name
	}
	if len(nicks) == 0 {
		return ""
	}
	suffix := ""
	if len(nicks) > 1 {
		suffix = " +" + strconv.Itoa(len(nicks)-1)
	}
	return truncateUTF8(nicks[0], max(limit-len(suffix), 0)) + suffix
}

// dmNameSuffixLen is the length of the " +N" suffix counting n members left out.
func dmNameSuffixLen(n int) int {
	if n == 0 {
		return 0
	}
	return len(" +") + len(strconv.Itoa(n))
}

// GroupDMs returns the final payloads of every group DM that passed GroupDM, in
// legacy-id order (bytewise). CreateTime is kept before the first message
// (clamped under group_create_time: clamp, or derived when the source has
// none), and every member joins one second after it, so that each sees the whole
// history (spec §8.8: a JoinTime later than CreateTime, earlier than now; §8.9).
// It may be called more than once; it does not change the Transformer.
func (t *Transformer) GroupDMs() []GroupDMFinal {
	idx := make([]int, 0)
	for i := range t.groups {
		if t.groups[i].ok && t.groups[i].dm != nil {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(t.groups[a].legacyID, t.groups[b].legacyID) })

	out := make([]GroupDMFinal, 0, len(idx))
	for _, i := range idx {
		gs := &t.groups[i]
		is := newIssues(extract.GroupDMs, gs.origin, gs.legacyID, "")
		f := GroupDMFinal{Legacy: gs.origin, LegacyID: gs.legacyID, Group: gs.req, Messages: gs.messages}
		if gs.conflict {
			is.add(RuleGroupDMCreateTimeConflict, "group DM CreateTime %s is not before %s; group_create_time is reject, so the group DM and its messages are rejected (spec §8.9)", fmtUnix(gs.req.CreateTime), gs.conflictBy)
			f.Issues = is.list
			out = append(out, f)
			continue
		}
		legacy := gs.req.CreateTime
		switch first := gs.firstMsg; {
		case legacy == 0 && first != 0:
			f.Group.CreateTime = first - 1
		case legacy != 0 && first != 0 && first <= legacy:
			f.Group.CreateTime = first - 1
			is.add(RuleGroupDMCreateTimeClamped, "group DM CreateTime %s is not before its first message at %s; clamped to %s (spec §8.9; group_create_time: clamp)", fmtUnix(legacy), fmtUnix(first), fmtUnix(first-1))
		}
		var join int64
		if ct := f.Group.CreateTime; ct != 0 && ct+1 < t.now {
			join = ct + 1
		}
		if n := len(gs.dm.members); n > tencentim.DefaultMaxMemberCount {
			f.Group.MaxMemberCount = n
		}
		for _, u := range gs.dm.members {
			if u == f.Group.OwnerAccount {
				continue
			}
			f.Members = append(f.Members, tencentim.ImportMember{MemberAccount: u, JoinTime: join})
		}
		f.OK, f.Issues = true, is.list
		out = append(out, f)
	}
	return out
}

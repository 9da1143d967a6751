package transform

import (
	"strings"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

// MemberResult is the outcome of one member row.
type MemberResult struct {
	GroupID string
	Member  tencentim.ImportMember
	OK      bool
	Issues  []Issue
	// Owner and OwnerUnread are the account and unread count of the owner's own
	// row, which is skipped (import_group adds the owner) but whose count
	// set_unread_msg_num restores after the group's messages (spec §8.10); zero
	// for other rows.
	Owner       string `json:",omitempty"`
	OwnerUnread int    `json:",omitempty"`
}

// Member checks one member row (pass 3, in (group_id, joined_at, user_id) order).
func (t *Transformer) Member(m extract.Member) MemberResult {
	is := newIssues(extract.Members, m.Origin, m.GroupID, m.UserID)
	is.dropped(m.Dropped)
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
		out := MemberResult{GroupID: res.GroupID, Issues: is.list}
		if m.HasUnread && m.Unread > 0 {
			out.Owner, out.OwnerUnread = user, m.Unread
		}
		return out
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

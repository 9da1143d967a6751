package sandbox

import (
	"fmt"

	"github.com/immigrate/immigrate/tencentim"
)

// handleImportGroupMember serves import_group_member (spec §8.8, §14 items
// 67-75). Request-level problems (group, list size, a malformed item) fail the
// whole request before any member is added; per-member problems give that
// member Result 0 in an OK response.
func handleImportGroupMember(s *Server, c *call) (any, *apiError) {
	gr, err := s.groups.liveArg(c.fields)
	if err != nil {
		return nil, err
	}
	if gr.typ == tencentim.GroupAVChatRoom {
		// Unreachable through import_group, but create_group makes AVChatRooms.
		return nil, errf(codeGroupNoPermission, "import_group_member does not serve AVChatRoom groups") // item 72
	}
	bad := codeGroupBadParam
	list, err := c.objects("MemberList", true, bad, bad)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errf(bad, "MemberList is empty")
	}
	if len(list) > tencentim.MaxGroupMemberBatch {
		return nil, errf(codeGroupTooMany, fmt.Sprintf("MemberList holds more than %d members", tencentim.MaxGroupMemberBatch)) // item 68
	}
	type item struct {
		account, role    string
		joinTime, unread int64
	}
	items := make([]item, len(list))
	for i, f := range list {
		it := &items[i]
		if it.account, err = f.str("Member_Account", true, bad, codeAccountType); err != nil {
			return nil, err
		}
		if it.role, err = f.str("Role", false, bad, bad); err != nil {
			return nil, err
		}
		if it.joinTime, err = f.int64("JoinTime", false, bad, bad); err != nil {
			return nil, err
		}
		if it.unread, err = f.int64("UnreadMsgNum", false, bad, bad); err != nil {
			return nil, err
		}
		if it.unread < 0 {
			return nil, errf(bad, "UnreadMsgNum must not be negative")
		}
	}
	now := c.now.Unix()
	resp := &tencentim.ImportGroupMemberResponse{MemberList: make([]tencentim.MemberResult, len(items))}
	for i, it := range items {
		result := tencentim.MemberImported
		switch {
		case gr.members[it.account] != nil:
			result = tencentim.MemberAlreadyMember // item 67: a repeat is idempotent
		case !s.users.exists(it.account):
			result = tencentim.MemberFailed // item 73 (REC)
		case it.role != "" && it.role != tencentim.RoleAdmin:
			// A13: the vendor supports Admin only (default Member); anything else,
			// Owner included, fails that member rather than the whole batch, like
			// the other per-member rules of this API.
			result = tencentim.MemberFailed
		case it.joinTime != 0 && (it.joinTime <= gr.createTime || it.joinTime >= now):
			// item 69, A12: "later than the group creation time and earlier than
			// the current time", both strict; an omitted JoinTime means now.
			result = tencentim.MemberFailed
		case len(gr.members) >= gr.maxMembers:
			result = tencentim.MemberFailed // item 75 (REC)
		}
		resp.MemberList[i] = tencentim.MemberResult{MemberAccount: it.account, Result: result}
		if result != tencentim.MemberImported {
			continue
		}
		m := &member{role: tencentim.RoleMember, joinTime: it.joinTime}
		if it.role != "" {
			m.role = it.role
		}
		if m.joinTime == 0 {
			m.joinTime = now
		}
		gr.setUnread(m, int(min(it.unread, int64(gr.msgs.lastSeq())))) // item 70: capped
		s.groups.join(gr, it.account, m)
	}
	return resp, nil
}

// handleSetUnreadMsgNum serves set_unread_msg_num (spec §8.10, §14 item 74).
func handleSetUnreadMsgNum(s *Server, c *call) (any, *apiError) {
	gr, err := s.groups.liveArg(c.fields)
	if err != nil {
		return nil, err
	}
	bad := codeGroupBadParam
	account, err := c.str("Member_Account", true, bad, codeAccountType)
	if err != nil {
		return nil, err
	}
	n, err := c.int64("UnreadMsgNum", true, bad, bad)
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, errf(bad, "UnreadMsgNum must not be negative")
	}
	if gr.typ == tencentim.GroupChatRoom || gr.typ == tencentim.GroupAVChatRoom {
		// A19 (REC): these types keep no unread counts, and the vendor says the
		// call "returns no error" on them.
		return &tencentim.SetUnreadMsgNumResponse{}, nil
	}
	m := gr.members[account]
	if m == nil {
		// spec §8.10 leaves a non-member open (INFERRED 10004 or 10007): it is a
		// bad parameter of this request, not a permission problem, so 10004.
		return nil, errf(bad, "Member_Account "+account+" is not a member of the group")
	}
	gr.setUnread(m, int(min(n, int64(gr.msgs.lastSeq()))))
	return &tencentim.SetUnreadMsgNumResponse{}, nil
}

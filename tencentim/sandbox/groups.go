package sandbox

import (
	"cmp"
	"fmt"

	"github.com/immigrate/immigrate/tencentim"
)

// The group half of the emulator (spec §8): groups, members, group messages and
// topics. This file holds the routes, the error codes and the group-level
// handlers; groupstore.go holds the state model and groupstate.go its dump and
// restore; members.go, groupmsg.go, groupread.go and topics.go hold the rest. Every
// handler runs with Server.mu held, so nothing here locks.

// groupRoutes are the group commands; Server.routes merges them with userRoutes.
var groupRoutes = map[tencentim.Command]handler{
	tencentim.CmdImportGroup:        handleImportGroup,
	tencentim.CmdCreateGroup:        handleCreateGroup,
	tencentim.CmdImportGroupMember:  handleImportGroupMember,
	tencentim.CmdImportGroupMsg:     handleImportGroupMsg,
	tencentim.CmdSetUnreadMsgNum:    handleSetUnreadMsgNum,
	tencentim.CmdGetGroupInfo:       handleGetGroupInfo,
	tencentim.CmdGetGroupMemberInfo: handleGetGroupMemberInfo,
	tencentim.CmdGroupMsgGetSimple:  handleGroupMsgGetSimple,
	tencentim.CmdGetAppIDGroupList:  handleGetAppIDGroupList,
	tencentim.CmdDestroyGroup:       handleDestroyGroup,
	tencentim.CmdChangeGroupOwner:   handleChangeGroupOwner,
	tencentim.CmdImportTopic:        handleImportTopic,
}

// Error codes of the group APIs (spec §1.7, Appendix A).
const (
	codeGroupBadParam     = 10004 // invalid parameter
	codeGroupTooMany      = 10005 // too many accounts in the request
	codeGroupNoPermission = 10007 // no permission, including a group type the API does not serve
	codeGroupNotFound     = 10010 // group missing or disbanded
	codeGroupBadID        = 10015 // invalid group ID
	codeGroupTooBig       = 10018 // response over 1 MB
	codeGroupIDTaken      = 10021 // group (or topic) ID already in use
	codeGroupIDUsed       = 10025 // group ID used before (create_group)
	codeGroupMemberLimit  = 10038 // member count over the limit (create_group)
	codeGroupNoTopics     = 11000 // group does not support topics
	codeGroupMsgTooLarge  = 80002 // one message's content over 12,000 bytes
)

// maxGroupResponseBytes is the emulated response cap behind 10018 (spec §12: "any
// group read response ≤ 1 MB").
const maxGroupResponseBytes = 1 << 20

// ---- import_group / create_group ----

type createMember struct {
	account string
	role    string
}

// parseGroupProfile validates the fields import_group and create_group share
// (spec §8.4, §8.6, §8.7, §14 items 43-46). The caller has checked Type.
func (s *Server) parseGroupProfile(f fields, typ string, now int64) (*group, *apiError) {
	gr := &group{typ: typ}
	var err *apiError
	bad := codeGroupBadParam
	if gr.owner, err = f.str("Owner_Account", false, bad, codeAccountType); err != nil {
		return nil, err
	}
	if gr.owner != "" && !s.users.exists(gr.owner) {
		// spec §14 item 19 (REC): an owner that was never imported is 10004.
		return nil, errf(bad, "Owner_Account "+gr.owner+" is not an imported account")
	}
	if gr.id, err = f.str("GroupId", false, bad, bad); err != nil {
		return nil, err
	}
	if gr.id != "" {
		if err := checkCustomGroupID(gr.id, typ); err != nil {
			return nil, err
		}
	}
	if gr.name, err = f.str("Name", true, bad, bad); err != nil {
		return nil, err
	}
	if gr.name == "" {
		return nil, errf(bad, "Name is empty")
	}
	// Byte limits of spec §8.4 (item 43).
	for _, lim := range []struct {
		field string
		dst   *string
		max   int
	}{
		{"Name", &gr.name, tencentim.MaxGroupNameBytes},
		{"Introduction", &gr.intro, tencentim.MaxGroupIntroBytes},
		{"Notification", &gr.notif, tencentim.MaxGroupNotifBytes},
		{"FaceUrl", &gr.faceURL, tencentim.MaxGroupFaceURLBytes},
	} {
		if lim.field != "Name" {
			if *lim.dst, err = f.str(lim.field, false, bad, bad); err != nil {
				return nil, err
			}
		}
		if len(*lim.dst) > lim.max {
			return nil, errf(bad, fmt.Sprintf("%s is longer than %d bytes", lim.field, lim.max))
		}
	}
	// MaxMemberCount, A10 REC: default the edition cap (Config, 2000), at most
	// 6000, or 100,000 for a Community.
	maxCount, err := f.int64("MaxMemberCount", false, bad, bad)
	if err != nil {
		return nil, err
	}
	limit := int64(tencentim.MaxMemberCount)
	if typ == tencentim.GroupCommunity {
		limit = tencentim.MaxCommunityMemberCount
	}
	switch {
	case maxCount < 0 || maxCount > limit:
		return nil, errf(bad, fmt.Sprintf("MaxMemberCount must be at most %d", limit))
	case maxCount == 0:
		gr.maxMembers = s.cfg.DefaultMaxMemberCount
		if gr.maxMembers <= 0 {
			gr.maxMembers = tencentim.DefaultMaxMemberCount
		}
	default:
		gr.maxMembers = int(maxCount)
	}
	if gr.applyJoin, err = f.str("ApplyJoinOption", false, bad, bad); err != nil {
		return nil, err
	}
	switch {
	case typ == tencentim.GroupCommunity && f.has("ApplyJoinOption"):
		// spec §14 item 46 (REC): Community does not support it.
		return nil, errf(bad, "ApplyJoinOption is not supported by Community groups")
	case typ == tencentim.GroupCommunity:
	case gr.applyJoin == "":
		gr.applyJoin = "NeedPermission" // the documented default (spec §8.4)
	case gr.applyJoin != "FreeAccess" && gr.applyJoin != "NeedPermission" && gr.applyJoin != "DisableApply":
		return nil, errf(bad, "ApplyJoinOption must be FreeAccess, NeedPermission or DisableApply")
	}
	data, err := f.objects("AppDefinedData", false, bad, bad)
	if err != nil {
		return nil, err
	}
	for _, d := range data {
		key, err := d.str("Key", true, bad, bad)
		if err != nil {
			return nil, err
		}
		value, err := d.str("Value", true, bad, bad)
		if err != nil {
			return nil, err
		}
		gr.appData = append(gr.appData, tencentim.AppDefinedData{Key: key, Value: value})
	}
	topics, err := f.int64("SupportTopic", false, bad, bad)
	if err != nil {
		return nil, err
	}
	switch {
	case topics != 0 && topics != 1:
		return nil, errf(bad, "SupportTopic must be 0 or 1")
	case topics == 1 && typ != tencentim.GroupCommunity:
		return nil, errf(bad, "SupportTopic is for Community groups only")
	}
	gr.supportTopic = topics == 1
	gr.createTime = now
	return gr, nil
}

// groupType reads and checks Type (spec §14 item 44, A11).
func groupType(f fields) (string, *apiError) {
	raw, err := f.str("Type", true, codeGroupBadParam, codeGroupBadParam)
	if err != nil {
		return "", err
	}
	typ, ok := canonicalGroupType(raw)
	if !ok {
		return "", errf(codeGroupBadParam, "unknown group Type "+raw)
	}
	return typ, nil
}

// handleImportGroup serves import_group (spec §8.7, §14 items 39-48).
func handleImportGroup(s *Server, c *call) (any, *apiError) {
	typ, err := groupType(c.fields)
	if err != nil {
		return nil, err
	}
	if typ == tencentim.GroupAVChatRoom {
		return nil, errf(codeGroupNoPermission, "AVChatRoom groups cannot be imported") // item 41
	}
	now := c.now.Unix()
	gr, err := s.parseGroupProfile(c.fields, typ, now)
	if err != nil {
		return nil, err
	}
	// CreateTime, A33: defaults to now (INFERRED); a time in the future would make
	// every later member and message import impossible, so it is 10004.
	ct, err := c.int64("CreateTime", false, codeGroupBadParam, codeGroupBadParam)
	if err != nil {
		return nil, err
	}
	switch {
	case ct < 0 || ct > now:
		return nil, errf(codeGroupBadParam, "CreateTime must not be in the future")
	case ct > 0:
		gr.createTime = ct
	}
	if gr.id != "" {
		if _, used := s.groups.groups[gr.id]; used {
			// item 42: import_group lists 10021 only, also for a destroyed ID.
			return nil, errf(codeGroupIDTaken, "group ID "+gr.id+" is already in use")
		}
	} else {
		gr.id = s.newGroupID(c, typ)
	}
	s.groups.add(gr)
	return &tencentim.ImportGroupResponse{GroupID: gr.id}, nil
}

// handleCreateGroup serves create_group (spec §8.6, §14 items 49-50). Unlike
// import_group it takes AVChatRoom, an initial MemberList, and no CreateTime.
func handleCreateGroup(s *Server, c *call) (any, *apiError) {
	typ, err := groupType(c.fields)
	if err != nil {
		return nil, err
	}
	bad := codeGroupBadParam
	list, err := c.objects("MemberList", false, bad, bad)
	if err != nil {
		return nil, err
	}
	if typ == tencentim.GroupAVChatRoom && len(list) > 0 {
		// item 49: members of an AVChatRoom must join through the SDK.
		return nil, errf(codeGroupNoPermission, "AVChatRoom groups take no MemberList")
	}
	if len(list) > 100 {
		return nil, errf(codeGroupTooMany, "MemberList holds more than 100 members") // item 50
	}
	now := c.now.Unix()
	gr, err := s.parseGroupProfile(c.fields, typ, now)
	if err != nil {
		return nil, err
	}
	var members []createMember
	seen := map[string]bool{gr.owner: gr.owner != ""}
	for _, item := range list {
		account, err := item.str("Member_Account", true, bad, codeAccountType)
		if err != nil {
			return nil, err
		}
		role, err := item.str("Role", false, bad, bad)
		if err != nil {
			return nil, err
		}
		if role != "" && role != tencentim.RoleAdmin {
			return nil, errf(bad, "Role must be Admin or omitted") // spec §8.5, A13
		}
		if !s.users.exists(account) {
			return nil, errf(bad, "Member_Account "+account+" is not an imported account")
		}
		if seen[account] {
			continue
		}
		seen[account] = true
		members = append(members, createMember{account, cmp.Or(role, tencentim.RoleMember)})
	}
	if len(seen) > gr.maxMembers {
		return nil, errf(codeGroupMemberLimit, "more members than MaxMemberCount")
	}
	if gr.id != "" {
		if old, used := s.groups.groups[gr.id]; used {
			// spec §8.3: 10021 for an ID in use, 10025 for one this app used
			// before and disbanded (line 12027).
			if old.destroyed {
				return nil, errf(codeGroupIDUsed, "group ID "+gr.id+" was used before")
			}
			return nil, errf(codeGroupIDTaken, "group ID "+gr.id+" is already in use")
		}
	} else {
		gr.id = s.newGroupID(c, typ)
	}
	s.groups.add(gr)
	for _, m := range members {
		s.groups.join(gr, m.account, &member{role: m.role, joinTime: now})
	}
	return &tencentim.CreateGroupResponse{GroupID: gr.id}, nil
}

// ---- destroy_group / change_group_owner ----

// handleDestroyGroup serves destroy_group (spec §8.16, §14 item 83): every type.
func handleDestroyGroup(s *Server, c *call) (any, *apiError) {
	gr, err := s.groups.liveArg(c.fields)
	if err != nil {
		return nil, err
	}
	s.groups.destroy(gr)
	return &tencentim.DestroyGroupResponse{}, nil
}

// handleChangeGroupOwner serves change_group_owner (spec §8.17, §14 item 84).
func handleChangeGroupOwner(s *Server, c *call) (any, *apiError) {
	gr, err := s.groups.liveArg(c.fields)
	if err != nil {
		return nil, err
	}
	if gr.typ == tencentim.GroupAVChatRoom {
		return nil, errf(codeGroupNoPermission, "change_group_owner does not serve AVChatRoom groups")
	}
	account, err := c.str("NewOwner_Account", true, codeGroupBadParam, codeAccountType)
	if err != nil {
		return nil, err
	}
	m := gr.members[account]
	if m == nil {
		// item 84 (REC): "the new owner must already be a member".
		return nil, errf(codeGroupBadParam, "NewOwner_Account "+account+" is not a member")
	}
	if old := gr.members[gr.owner]; old != nil && gr.owner != account {
		old.role = tencentim.RoleMember // INFERRED: the old owner stays as a plain member
	}
	m.role = tencentim.RoleOwner
	gr.owner = account
	return &tencentim.ChangeGroupOwnerResponse{}, nil
}

// ---- get_appid_group_list ----

// handleGetAppIDGroupList serves get_appid_group_list (spec §8.15, §14 item 82).
// Next is an integer cursor (A18): the creation rank of the next group to list.
func handleGetAppIDGroupList(s *Server, c *call) (any, *apiError) {
	bad := codeGroupBadParam
	limit, err := c.int64("Limit", false, bad, bad)
	if err != nil {
		return nil, err
	}
	if limit < 0 {
		return nil, errf(bad, "Limit must not be negative")
	}
	if limit == 0 || limit > 10000 {
		limit = 10000 // the documented default and maximum
	}
	next, err := c.uint64("Next", false, bad, bad)
	if err != nil {
		return nil, err
	}
	rawType, err := c.str("GroupType", false, bad, bad)
	if err != nil {
		return nil, err
	}
	var typ string
	if rawType != "" {
		if rawType == "BChatRoom" {
			typ = rawType // a valid filter; the sandbox has no such groups
		} else if typ, _ = canonicalGroupType(rawType); typ == "" {
			return nil, errf(bad, "unknown GroupType "+rawType)
		}
	}
	resp := &tencentim.GetAppIDGroupListResponse{GroupIDList: []tencentim.GroupIDItem{}}
	start := max(next, 1) - 1
	for _, gr := range s.groups.order {
		if gr.destroyed || (typ != "" && gr.typ != typ) {
			continue
		}
		resp.TotalCount++
		if gr.ord <= start {
			continue
		}
		if len(resp.GroupIDList) == int(limit) {
			if resp.Next == 0 {
				resp.Next = gr.ord
			}
			continue
		}
		resp.GroupIDList = append(resp.GroupIDList, tencentim.GroupIDItem{GroupID: gr.id})
	}
	return resp, nil
}

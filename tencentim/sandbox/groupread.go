package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/immigrate/immigrate/tencentim"
)

// The read-back APIs of the group half (spec §8.12-§8.14): what a migration's
// verify step and the tests use to see the group state through the vendor
// contract.

// fieldSet is a response filter: the field names asked for. nil asks for all.
type fieldSet map[string]bool

func (fs fieldSet) has(name string) bool { return fs == nil || fs[name] }

func newFieldSet(names []string) fieldSet {
	fs := make(fieldSet, len(names))
	for _, n := range names {
		fs[n] = true
	}
	return fs
}

// memberInfo renders one member with the fields want asks for; Member_Account is
// always there (spec §8.13). UnreadMsgNum is the sandbox's own addition, so tests
// can observe unread counts (tencentim.GroupMemberInfo).
func (gr *group) memberInfo(account string, m *member, want fieldSet) tencentim.GroupMemberInfo {
	info := tencentim.GroupMemberInfo{MemberAccount: account}
	if want.has("Role") {
		info.Role = m.role
	}
	if want.has("JoinTime") {
		info.JoinTime = m.joinTime
	}
	if want.has("MsgSeq") {
		info.MsgSeq = gr.readSeqOf(m)
	}
	if want.has("MsgFlag") {
		info.MsgFlag = "AcceptAndNotify" // import APIs cannot set another (spec §8.5)
	}
	if want.has("LastSendMsgTime") {
		info.LastSendMsgTime = m.lastSend
	}
	if want.has("UnreadMsgNum") {
		n := gr.unread(m)
		info.UnreadMsgNum = &n
	}
	// MuteUntil and NameCard stay empty: no import API sets them.
	return info
}

// overResponseCap reports whether v, encoded, exceeds the emulated 1 MB response
// limit behind 10018 (spec §8.12, §8.13, §12).
func overResponseCap(v any) bool {
	b, err := json.Marshal(v)
	return err != nil || len(b) > maxGroupResponseBytes
}

// ---- get_group_info ----

// groupInfoFilter is a parsed ResponseFilter (spec §8.12). Without a
// ResponseFilter everything is returned; with one, only what it lists: base
// fields (all when GroupBaseInfoFilter is absent), members only when
// MemberInfoFilter is given, AppDefinedData when asked for by either filter.
type groupInfoFilter struct {
	base     fieldSet // nil: every base field
	members  fieldSet // nil: every member field
	noMember bool     // MemberList left out
	appData  fieldSet // keys of AppDefinedData; nil: all
	noData   bool     // AppDefinedData left out
}

func parseGroupInfoFilter(c *call) (groupInfoFilter, *apiError) {
	bad := codeGroupBadParam
	rf, err := c.object("ResponseFilter", false, bad, bad)
	if err != nil || rf == nil {
		return groupInfoFilter{}, err
	}
	var gf groupInfoFilter
	base, err := rf.strings("GroupBaseInfoFilter", false, bad, bad)
	if err != nil {
		return gf, err
	}
	if base != nil {
		gf.base = newFieldSet(base)
	}
	members, err := rf.strings("MemberInfoFilter", false, bad, bad)
	if err != nil {
		return gf, err
	}
	if members == nil {
		gf.noMember = true
	} else {
		gf.members = newFieldSet(members)
	}
	keys, err := rf.strings("AppDefinedDataFilter_Group", false, bad, bad)
	if err != nil {
		return gf, err
	}
	switch {
	case keys != nil:
		gf.appData = newFieldSet(keys)
	case !gf.base.has("AppDefinedData"):
		gf.noData = true
	}
	// Member custom fields are not stored (no import API sets them); the filter is
	// only checked for its type.
	if _, err := rf.strings("AppDefinedDataFilter_GroupMember", false, bad, bad); err != nil {
		return gf, err
	}
	return gf, nil
}

// handleGetGroupInfo serves get_group_info (spec §8.12, §14 items 76-77, 83).
func handleGetGroupInfo(s *Server, c *call) (any, *apiError) {
	bad := codeGroupBadParam
	ids, err := c.strings("GroupIdList", true, bad, bad)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, errf(bad, "GroupIdList is empty")
	}
	if len(ids) > tencentim.MaxGetGroupInfo {
		return nil, errf(bad, fmt.Sprintf("GroupIdList holds more than %d groups", tencentim.MaxGetGroupInfo)) // item 76
	}
	filter, err := parseGroupInfoFilter(c)
	if err != nil {
		return nil, err
	}
	resp := &tencentim.GetGroupInfoResponse{GroupInfo: make([]tencentim.GroupInfo, len(ids))}
	budget := maxGroupResponseBytes
	for i, id := range ids {
		gr, err := s.groups.live(id)
		if err != nil {
			// INFERRED (spec §8.12): the top level stays OK, the entry carries
			// 10010 (or 10015 for a malformed ID).
			resp.GroupInfo[i] = tencentim.GroupInfo{GroupID: id, ErrorCode: err.Code, ErrorInfo: err.Info}
			continue
		}
		var over bool
		if resp.GroupInfo[i], over = s.groupInfo(gr, filter, &budget); over {
			// Fifty communities of 100,000 members would otherwise be rendered
			// in full (hundreds of MB) only to be refused.
			return nil, errf(codeGroupTooBig, "the response would exceed 1 MB")
		}
	}
	if overResponseCap(resp) {
		return nil, errf(codeGroupTooBig, "the response would exceed 1 MB")
	}
	return resp, nil
}

// memberEntryMinBytes is the shortest JSON a member entry can have,
// {"Member_Account":""} and a separating comma, before the account itself.
const memberEntryMinBytes = len(`{"Member_Account":""},`)

// groupInfo renders one group. budget is what is left of the 1 MB response cap
// (10018); each member entry takes at least memberEntryMinBytes plus its account
// from it, and over is true as soon as it runs out: the answer is then certainly
// over the cap, so the rest is not rendered and memory per request stays bounded.
func (s *Server) groupInfo(gr *group, f groupInfoFilter, budget *int) (info tencentim.GroupInfo, over bool) {
	info = tencentim.GroupInfo{GroupID: gr.id}
	b := f.base
	if b.has("Type") {
		info.Type = gr.typ
	}
	if b.has("Name") {
		info.Name = gr.name
	}
	if b.has("Appid") {
		info.Appid = s.cfg.SDKAppID
	}
	if b.has("Introduction") {
		info.Introduction = gr.intro
	}
	if b.has("Notification") {
		info.Notification = gr.notif
	}
	if b.has("FaceUrl") {
		info.FaceURL = gr.faceURL
	}
	if b.has("Owner_Account") {
		info.OwnerAccount = gr.owner
	}
	if b.has("CreateTime") {
		info.CreateTime = gr.createTime
	}
	if b.has("LastInfoTime") {
		info.LastInfoTime = gr.createTime // no API here modifies the profile
	}
	// item 77 (INFERRED): the latest message's time and the next seq to assign.
	if b.has("LastMsgTime") {
		info.LastMsgTime = gr.msgs.lastTime()
	}
	if b.has("NextMsgSeq") {
		info.NextMsgSeq = gr.msgs.lastSeq() + 1
	}
	if b.has("MemberNum") {
		info.MemberNum = len(gr.members)
	}
	if b.has("MaxMemberNum") {
		info.MaxMemberNum = gr.maxMembers
	}
	if b.has("ApplyJoinOption") {
		info.ApplyJoinOption = gr.applyJoin
	}
	if b.has("MuteAllMember") {
		info.MuteAllMember = "Off"
	}
	if !f.noData {
		for _, d := range gr.appData {
			if f.appData.has(d.Key) {
				info.AppDefinedData = append(info.AppDefinedData, d)
			}
		}
	}
	if !f.noMember {
		for _, id := range gr.sortedMembers() {
			if *budget -= memberEntryMinBytes + len(id); *budget < 0 {
				return tencentim.GroupInfo{}, true
			}
			info.MemberList = append(info.MemberList, gr.memberInfo(id, gr.members[id], f.members))
		}
	}
	return info, false
}

// ---- get_group_member_info ----

// Page size caps, A9 (REC): 6000 for non-community groups, 100 for communities.
const (
	maxMemberPage          = tencentim.MaxMemberCount
	maxCommunityMemberPage = 100
)

// handleGetGroupMemberInfo serves get_group_member_info (spec §8.13, §14 items
// 78-81). Members are listed in account order, so that Offset pages and Next
// cursors are stable while members are added: a Next cursor is the last account
// returned, and the next page starts after it.
func handleGetGroupMemberInfo(s *Server, c *call) (any, *apiError) {
	gr, err := s.groups.liveArg(c.fields)
	if err != nil {
		return nil, err
	}
	if gr.typ == tencentim.GroupAVChatRoom {
		return nil, errf(codeGroupNoPermission, "get_group_member_info does not serve AVChatRoom groups") // item 81, A25
	}
	bad := codeGroupBadParam
	infoFilter, err := c.strings("MemberInfoFilter", false, bad, bad)
	if err != nil {
		return nil, err
	}
	var want fieldSet
	if infoFilter != nil {
		want = newFieldSet(infoFilter)
	}
	roleFilter, err := c.strings("MemberRoleFilter", false, bad, bad)
	if err != nil {
		return nil, err
	}
	for _, r := range roleFilter {
		if r != tencentim.RoleOwner && r != tencentim.RoleAdmin && r != tencentim.RoleMember {
			return nil, errf(bad, "unknown role "+r+" in MemberRoleFilter")
		}
	}
	if _, err := c.strings("AppDefinedDataFilter_GroupMember", false, bad, bad); err != nil {
		return nil, err
	}
	limit, err := c.int64("Limit", false, bad, bad)
	if err != nil {
		return nil, err
	}
	offset, err := c.int64("Offset", false, bad, bad)
	if err != nil {
		return nil, err
	}
	if limit < 0 || offset < 0 {
		return nil, errf(bad, "Limit and Offset must not be negative")
	}

	accounts := gr.sortedMembers()
	if roleFilter != nil {
		accounts = slices.DeleteFunc(slices.Clone(accounts), func(id string) bool {
			return !slices.Contains(roleFilter, gr.members[id].role)
		})
	}
	resp := &tencentim.GetGroupMemberInfoResponse{MemberNum: len(gr.members), MemberList: []tencentim.GroupMemberInfo{}}
	var page []string
	if gr.typ == tencentim.GroupCommunity {
		// item 79: a Community pages by Next only; Offset is 10004 (REC).
		if offset != 0 {
			return nil, errf(bad, "Community groups do not support Offset; page with Next")
		}
		cursor, err := c.str("Next", true, bad, bad)
		if err != nil {
			return nil, err
		}
		after, ok := decodeMemberCursor(cursor)
		if !ok {
			return nil, errf(bad, "invalid Next cursor")
		}
		if limit == 0 || limit > maxCommunityMemberPage {
			limit = maxCommunityMemberPage
		}
		start, _ := slices.BinarySearch(accounts, after)
		if cursor != "" && start < len(accounts) && accounts[start] == after {
			start++
		}
		end := min(start+int(limit), len(accounts))
		page = accounts[start:end]
		next := ""
		if end < len(accounts) {
			next = encodeMemberCursor(page[len(page)-1])
		}
		resp.Next = &next
	} else {
		// item 78: Limit/Offset; no Limit means every member (A9).
		if limit == 0 || limit > maxMemberPage {
			limit = maxMemberPage
		}
		start := min(int(min(offset, int64(len(accounts)))), len(accounts))
		page = accounts[start:min(start+int(limit), len(accounts))]
	}
	for _, id := range page {
		resp.MemberList = append(resp.MemberList, gr.memberInfo(id, gr.members[id], want))
	}
	if overResponseCap(resp) {
		return nil, errf(codeGroupTooBig, "the response would exceed 1 MB; page with Limit")
	}
	return resp, nil
}

// Member cursors are opaque to the caller: the last account returned, base64url
// encoded. "" is the first page.
func encodeMemberCursor(account string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(account))
}

func decodeMemberCursor(cursor string) (string, bool) {
	if cursor == "" {
		return "", true
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) == 0 {
		return "", false
	}
	return string(b), true
}

// ---- group_msg_get_simple ----

// simpleGroupMsg is tencentim.SimpleGroupMsg with the stored MsgBody passed
// through as raw JSON, so the answer carries it exactly as imported (item 63).
type simpleGroupMsg struct {
	FromAccount  string          `json:"From_Account"`
	IsPlaceMsg   int             `json:"IsPlaceMsg"`
	IsSystemMsg  int             `json:"IsSystemMsg"`
	MsgPriority  int             `json:"MsgPriority"`
	MsgRandom    uint32          `json:"MsgRandom"`
	MsgSeq       uint64          `json:"MsgSeq"`
	MsgTimeStamp int64           `json:"MsgTimeStamp"`
	MsgBody      json.RawMessage `json:"MsgBody"`
}

type groupMsgGetSimpleResponse struct {
	tencentim.Envelope
	GroupID    string           `json:"GroupId"`
	IsFinished int              `json:"IsFinished"`
	RspMsgList []simpleGroupMsg `json:"RspMsgList"`
}

// msgPriorityNormal is MsgPriority 2, "normal" (spec §8.14): imports carry none.
const msgPriorityNormal = 2

// handleGroupMsgGetSimple serves group_msg_get_simple (spec §8.14, §14 items 63-66):
// up to 20 messages with seq ≤ ReqMsgSeq (the latest when absent), newest first,
// in RspMsgList (A16). IsFinished is 0 only when more than 20 were asked for and
// more than 20 were there (item 64).
func handleGroupMsgGetSimple(s *Server, c *call) (any, *apiError) {
	gr, err := s.groups.liveArg(c.fields)
	if err != nil {
		return nil, err
	}
	if gr.typ == tencentim.GroupAVChatRoom {
		return nil, errf(codeGroupNoPermission, "AVChatRoom groups keep no history") // item 65
	}
	bad := codeGroupBadParam
	n, err := c.int64("ReqMsgNumber", true, bad, bad)
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, errf(bad, "ReqMsgNumber must be positive")
	}
	top, err := c.uint64("ReqMsgSeq", false, bad, bad)
	if err != nil {
		return nil, err
	}
	if _, err := c.int64("WithRecalledMsg", false, bad, bad); err != nil {
		return nil, err
	}
	stream, _, err := gr.stream(c.fields)
	if err != nil {
		return nil, err
	}
	if top == 0 || top > stream.lastSeq() {
		top = stream.lastSeq()
	}
	count := min(uint64(n), tencentim.MaxGroupMsgGetSimple, top)
	resp := &groupMsgGetSimpleResponse{GroupID: gr.id, IsFinished: 1, RspMsgList: make([]simpleGroupMsg, 0, count)}
	if uint64(n) > tencentim.MaxGroupMsgGetSimple && top > tencentim.MaxGroupMsgGetSimple {
		resp.IsFinished = 0
	}
	for seq := top; seq > top-count; seq-- {
		m := stream.at(seq)
		resp.RspMsgList = append(resp.RspMsgList, simpleGroupMsg{
			FromAccount:  m.from,
			MsgPriority:  msgPriorityNormal,
			MsgRandom:    m.random,
			MsgSeq:       seq,
			MsgTimeStamp: m.sendTime,
			MsgBody:      m.body,
		})
	}
	return resp, nil
}

package tencentim

// ---- groups (spec §8) ----

// AppDefinedData is a group or member custom field.
type AppDefinedData struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// ImportGroupRequest is v4/group_open_http_svc/import_group (spec §8.7).
type ImportGroupRequest struct {
	OwnerAccount    string           `json:"Owner_Account,omitempty"`
	Type            string           `json:"Type"`
	GroupID         string           `json:"GroupId,omitempty"`
	Name            string           `json:"Name"`
	Introduction    string           `json:"Introduction,omitempty"`
	Notification    string           `json:"Notification,omitempty"`
	FaceURL         string           `json:"FaceUrl,omitempty"`
	MaxMemberCount  int              `json:"MaxMemberCount,omitempty"`
	ApplyJoinOption string           `json:"ApplyJoinOption,omitempty"`
	AppDefinedData  []AppDefinedData `json:"AppDefinedData,omitempty"`
	CreateTime      int64            `json:"CreateTime,omitempty"`
	SupportTopic    int              `json:"SupportTopic,omitempty"`
}

// ImportGroupResponse carries the group's ID, custom or assigned.
type ImportGroupResponse struct {
	Envelope
	GroupID string `json:"GroupId"`
}

// ImportMember is one member of import_group_member.
type ImportMember struct {
	MemberAccount string `json:"Member_Account"`
	Role          string `json:"Role,omitempty"`
	JoinTime      int64  `json:"JoinTime,omitempty"`
	UnreadMsgNum  int    `json:"UnreadMsgNum,omitempty"`
}

// ImportGroupMemberRequest is v4/group_open_http_svc/import_group_member (spec §8.8).
type ImportGroupMemberRequest struct {
	GroupID    string         `json:"GroupId"`
	MemberList []ImportMember `json:"MemberList"`
}

// Per-member results of import_group_member (spec §8.8).
const (
	MemberFailed        = 0
	MemberImported      = 1
	MemberAlreadyMember = 2
)

// MemberResult is one member's result.
type MemberResult struct {
	MemberAccount string `json:"Member_Account"`
	Result        int    `json:"Result"`
}

// ImportGroupMemberResponse is the answer of import_group_member.
type ImportGroupMemberResponse struct {
	Envelope
	MemberList []MemberResult `json:"MemberList"`
}

// GroupMsg is one message of import_group_msg.
type GroupMsg struct {
	FromAccount string    `json:"From_Account"`
	SendTime    int64     `json:"SendTime"`
	Random      uint32    `json:"Random,omitempty"`
	MsgBody     []MsgElem `json:"MsgBody"`
}

// ImportGroupMsgRequest is v4/group_open_http_svc/import_group_msg (spec §8.9).
type ImportGroupMsgRequest struct {
	GroupID           string     `json:"GroupId"`
	RecentContactFlag int        `json:"RecentContactFlag,omitempty"`
	MsgList           []GroupMsg `json:"MsgList"`
	TopicID           string     `json:"TopicId,omitempty"`
}

// ImportMsgResult is one message's result; Result is 0, 10004 or 80002 (spec §8.9).
type ImportMsgResult struct {
	MsgSeq  uint64 `json:"MsgSeq"`
	MsgTime int64  `json:"MsgTime"`
	Result  int    `json:"Result"`
}

// ImportGroupMsgResponse is the answer of import_group_msg, one result per message
// in request order.
type ImportGroupMsgResponse struct {
	Envelope
	ImportMsgResult []ImportMsgResult `json:"ImportMsgResult"`
}

// SetUnreadMsgNumRequest is v4/group_open_http_svc/set_unread_msg_num (spec §8.10).
type SetUnreadMsgNumRequest struct {
	GroupID       string `json:"GroupId"`
	MemberAccount string `json:"Member_Account"`
	UnreadMsgNum  int    `json:"UnreadMsgNum"`
}

// SetUnreadMsgNumResponse is the envelope only.
type SetUnreadMsgNumResponse struct {
	Envelope
}

// GroupResponseFilter narrows get_group_info's answer.
type GroupResponseFilter struct {
	GroupBaseInfoFilter             []string `json:"GroupBaseInfoFilter,omitempty"`
	MemberInfoFilter                []string `json:"MemberInfoFilter,omitempty"`
	AppDefinedDataFilterGroup       []string `json:"AppDefinedDataFilter_Group,omitempty"`
	AppDefinedDataFilterGroupMember []string `json:"AppDefinedDataFilter_GroupMember,omitempty"`
}

// GetGroupInfoRequest is v4/group_open_http_svc/get_group_info (spec §8.12).
type GetGroupInfoRequest struct {
	GroupIDList    []string             `json:"GroupIdList"`
	ResponseFilter *GroupResponseFilter `json:"ResponseFilter,omitempty"`
}

// GroupMemberInfo is a member as get_group_info and get_group_member_info return it
// (spec §8.5).
type GroupMemberInfo struct {
	MemberAccount   string `json:"Member_Account"`
	Role            string `json:"Role,omitempty"`
	JoinTime        int64  `json:"JoinTime,omitempty"`
	MsgSeq          uint64 `json:"MsgSeq,omitempty"`
	MsgFlag         string `json:"MsgFlag,omitempty"`
	LastSendMsgTime int64  `json:"LastSendMsgTime,omitempty"`
	MuteUntil       int64  `json:"MuteUntil,omitempty"`
	NameCard        string `json:"NameCard,omitempty"`
	// UnreadMsgNum is not a vendor field; the sandbox adds it so tests can observe
	// the unread counts that import_group_msg and set_unread_msg_num change.
	UnreadMsgNum *int `json:"UnreadMsgNum,omitempty"`
}

// GroupInfo is one group of get_group_info, with its own ErrorCode (spec §8.12).
type GroupInfo struct {
	GroupID         string            `json:"GroupId"`
	ErrorCode       int               `json:"ErrorCode"`
	ErrorInfo       string            `json:"ErrorInfo"`
	Type            string            `json:"Type,omitempty"`
	Name            string            `json:"Name,omitempty"`
	Appid           int64             `json:"Appid,omitempty"`
	Introduction    string            `json:"Introduction,omitempty"`
	Notification    string            `json:"Notification,omitempty"`
	FaceURL         string            `json:"FaceUrl,omitempty"`
	OwnerAccount    string            `json:"Owner_Account,omitempty"`
	CreateTime      int64             `json:"CreateTime,omitempty"`
	LastInfoTime    int64             `json:"LastInfoTime,omitempty"`
	LastMsgTime     int64             `json:"LastMsgTime,omitempty"`
	NextMsgSeq      uint64            `json:"NextMsgSeq,omitempty"`
	MemberNum       int               `json:"MemberNum,omitempty"`
	MaxMemberNum    int               `json:"MaxMemberNum,omitempty"`
	ApplyJoinOption string            `json:"ApplyJoinOption,omitempty"`
	MuteAllMember   string            `json:"MuteAllMember,omitempty"`
	AppDefinedData  []AppDefinedData  `json:"AppDefinedData,omitempty"`
	MemberList      []GroupMemberInfo `json:"MemberList,omitempty"`
}

// GetGroupInfoResponse is the answer of get_group_info. Its top-level ErrorCode is
// meaningless; check each GroupInfo's (spec §1.4).
type GetGroupInfoResponse struct {
	Envelope
	GroupInfo []GroupInfo `json:"GroupInfo"`
}

// GetGroupMemberInfoRequest is v4/group_open_http_svc/get_group_member_info
// (spec §8.13). Non-community groups page by Limit/Offset, communities by Next.
type GetGroupMemberInfoRequest struct {
	GroupID          string   `json:"GroupId"`
	MemberInfoFilter []string `json:"MemberInfoFilter,omitempty"`
	MemberRoleFilter []string `json:"MemberRoleFilter,omitempty"`
	Limit            int      `json:"Limit,omitempty"`
	Offset           int      `json:"Offset,omitempty"`
	Next             *string  `json:"Next,omitempty"`
}

// GetGroupMemberInfoResponse is one page of members.
type GetGroupMemberInfoResponse struct {
	Envelope
	MemberNum  int               `json:"MemberNum"`
	MemberList []GroupMemberInfo `json:"MemberList"`
	Next       *string           `json:"Next,omitempty"`
}

// GroupMsgGetSimpleRequest is v4/group_open_http_svc/group_msg_get_simple (spec §8.14).
type GroupMsgGetSimpleRequest struct {
	GroupID         string `json:"GroupId"`
	ReqMsgNumber    int    `json:"ReqMsgNumber"`
	ReqMsgSeq       uint64 `json:"ReqMsgSeq,omitempty"`
	WithRecalledMsg int    `json:"WithRecalledMsg,omitempty"`
	TopicID         string `json:"TopicId,omitempty"`
}

// SimpleGroupMsg is one message of group_msg_get_simple.
type SimpleGroupMsg struct {
	FromAccount  string    `json:"From_Account"`
	IsPlaceMsg   int       `json:"IsPlaceMsg"`
	IsSystemMsg  int       `json:"IsSystemMsg"`
	MsgPriority  int       `json:"MsgPriority"`
	MsgRandom    uint32    `json:"MsgRandom"`
	MsgSeq       uint64    `json:"MsgSeq"`
	MsgTimeStamp int64     `json:"MsgTimeStamp"`
	MsgBody      []MsgElem `json:"MsgBody"`
}

// GroupMsgGetSimpleResponse lists messages newest first. The vendor names the list
// RspMsgList in its sample and MsgList in its table (A16); the client reads both.
type GroupMsgGetSimpleResponse struct {
	Envelope
	GroupID    string           `json:"GroupId"`
	IsFinished int              `json:"IsFinished"`
	RspMsgList []SimpleGroupMsg `json:"RspMsgList"`
	MsgList    []SimpleGroupMsg `json:"MsgList,omitempty"`
}

// Messages returns the message list whichever name the server used (A16).
func (r *GroupMsgGetSimpleResponse) Messages() []SimpleGroupMsg {
	if len(r.RspMsgList) > 0 {
		return r.RspMsgList
	}
	return r.MsgList
}

// GetAppIDGroupListRequest is v4/group_open_http_svc/get_appid_group_list (spec §8.15).
type GetAppIDGroupListRequest struct {
	Limit     int    `json:"Limit,omitempty"`
	Next      uint64 `json:"Next,omitempty"`
	GroupType string `json:"GroupType,omitempty"`
}

// GroupIDItem is one entry of GroupIdList.
type GroupIDItem struct {
	GroupID string `json:"GroupId"`
}

// GetAppIDGroupListResponse is one page of the app's groups; Next 0 means done.
type GetAppIDGroupListResponse struct {
	Envelope
	TotalCount  int           `json:"TotalCount"`
	GroupIDList []GroupIDItem `json:"GroupIdList"`
	Next        uint64        `json:"Next"`
}

// DestroyGroupRequest is v4/group_open_http_svc/destroy_group (spec §8.16).
type DestroyGroupRequest struct {
	GroupID string `json:"GroupId"`
}

// DestroyGroupResponse is the envelope only.
type DestroyGroupResponse struct {
	Envelope
}

package tencentim

import "encoding/json"

// This file holds the wire types of every API immigrate uses, field names exactly as
// the vendor spells them (spec digest §3-§8). Requests use omitempty only where the
// field is optional; responses embed Envelope.

// Envelope is the common response envelope (spec §1.4). HTTP status is 200 whatever
// ErrorCode says.
type Envelope struct {
	ActionStatus string `json:"ActionStatus"`
	ErrorInfo    string `json:"ErrorInfo"`
	ErrorCode    int    `json:"ErrorCode"`
	// ErrorDisplay is returned by the profile and relationship-chain APIs (spec §1.4).
	ErrorDisplay string `json:"ErrorDisplay,omitempty"`
}

// envelope lets the client read the envelope of any response type.
func (e *Envelope) envelope() *Envelope { return e }

// Action status values (spec §1.4).
const (
	ActionOK   = "OK"
	ActionFail = "FAIL"
)

// MsgElem is one element of a MsgBody (spec §6.1). MsgContent stays raw so that a
// message round-trips byte for byte; use the *Content types below to build it.
type MsgElem struct {
	MsgType    string          `json:"MsgType"`
	MsgContent json.RawMessage `json:"MsgContent"`
}

// TextContent is the MsgContent of TIMTextElem.
type TextContent struct {
	Text string `json:"Text"`
}

// LocationContent is the MsgContent of TIMLocationElem.
type LocationContent struct {
	Desc      string  `json:"Desc"`
	Latitude  float64 `json:"Latitude"`
	Longitude float64 `json:"Longitude"`
}

// FaceContent is the MsgContent of TIMFaceElem.
type FaceContent struct {
	Index int    `json:"Index"`
	Data  string `json:"Data"`
}

// CustomContent is the MsgContent of TIMCustomElem.
type CustomContent struct {
	Data  string `json:"Data"`
	Desc  string `json:"Desc,omitempty"`
	Ext   string `json:"Ext,omitempty"`
	Sound string `json:"Sound,omitempty"`
}

// SoundContent is the MsgContent of TIMSoundElem (spec §6.2).
type SoundContent struct {
	URL          string `json:"Url"`
	UUID         string `json:"UUID"`
	Size         int64  `json:"Size,omitempty"`
	Second       int    `json:"Second,omitempty"`
	DownloadFlag int    `json:"Download_Flag"`
}

// ImageInfo is one entry of ImageContent.ImageInfoArray.
type ImageInfo struct {
	Type   int    `json:"Type"` // 1 original, 2 large, 3 thumbnail
	Size   int64  `json:"Size"`
	Width  int    `json:"Width"`
	Height int    `json:"Height"`
	URL    string `json:"URL"`
}

// ImageContent is the MsgContent of TIMImageElem (spec §6.2).
type ImageContent struct {
	UUID           string      `json:"UUID"`
	ImageFormat    int         `json:"ImageFormat"`
	ImageInfoArray []ImageInfo `json:"ImageInfoArray"`
}

// FileContent is the MsgContent of TIMFileElem (spec §6.2).
type FileContent struct {
	URL          string `json:"Url"`
	UUID         string `json:"UUID"`
	FileSize     int64  `json:"FileSize,omitempty"`
	FileName     string `json:"FileName,omitempty"`
	DownloadFlag int    `json:"Download_Flag"`
}

// VideoContent is the MsgContent of TIMVideoFileElem (spec §6.2).
type VideoContent struct {
	VideoURL          string `json:"VideoUrl"`
	VideoUUID         string `json:"VideoUUID"`
	VideoSize         int64  `json:"VideoSize,omitempty"`
	VideoSecond       int    `json:"VideoSecond,omitempty"`
	VideoFormat       string `json:"VideoFormat,omitempty"`
	VideoDownloadFlag int    `json:"VideoDownloadFlag"`
	ThumbURL          string `json:"ThumbUrl"`
	ThumbUUID         string `json:"ThumbUUID"`
	ThumbSize         int64  `json:"ThumbSize,omitempty"`
	ThumbWidth        int    `json:"ThumbWidth"`
	ThumbHeight       int    `json:"ThumbHeight"`
	ThumbFormat       string `json:"ThumbFormat,omitempty"`
	ThumbDownloadFlag int    `json:"ThumbDownloadFlag"`
}

// NewElem builds a MsgElem from one of the *Content types.
func NewElem(msgType string, content any) (MsgElem, error) {
	raw, err := json.Marshal(content)
	if err != nil {
		return MsgElem{}, err
	}
	return MsgElem{MsgType: msgType, MsgContent: raw}, nil
}

// ---- accounts (spec §3) ----

// AccountImportRequest is v4/im_open_login_svc/account_import (spec §3.4).
type AccountImportRequest struct {
	UserID  string `json:"UserID"`
	Nick    string `json:"Nick,omitempty"`
	FaceURL string `json:"FaceUrl,omitempty"`
}

// AccountImportResponse is the envelope only.
type AccountImportResponse struct {
	Envelope
}

// MultiAccountImportRequest is v4/im_open_login_svc/multiaccount_import (spec §3.5).
type MultiAccountImportRequest struct {
	Accounts []string `json:"Accounts"`
}

// MultiAccountImportResponse lists the accounts that failed.
type MultiAccountImportResponse struct {
	Envelope
	FailAccounts []string `json:"FailAccounts"`
}

// AccountCheckItem names one account in account_check.
type AccountCheckItem struct {
	UserID string `json:"UserID"`
}

// AccountCheckRequest is v4/im_open_login_svc/account_check (spec §3.6).
type AccountCheckRequest struct {
	CheckItem []AccountCheckItem `json:"CheckItem"`
}

// Account status values of account_check.
const (
	AccountImported    = "Imported"
	AccountNotImported = "NotImported"
)

// AccountCheckResult is one ResultItem of account_check.
type AccountCheckResult struct {
	UserID        string `json:"UserID"`
	ResultCode    int    `json:"ResultCode"`
	ResultInfo    string `json:"ResultInfo"`
	AccountStatus string `json:"AccountStatus"`
}

// AccountCheckResponse is the answer of account_check.
type AccountCheckResponse struct {
	Envelope
	ResultItem []AccountCheckResult `json:"ResultItem"`
}

// AccountDeleteRequest is v4/im_open_login_svc/account_delete (spec §3.7).
type AccountDeleteRequest struct {
	DeleteItem []AccountCheckItem `json:"DeleteItem"`
}

// AccountDeleteResult is one ResultItem of account_delete.
type AccountDeleteResult struct {
	UserID     string `json:"UserID"`
	ResultCode int    `json:"ResultCode"`
	ResultInfo string `json:"ResultInfo"`
}

// AccountDeleteResponse is the answer of account_delete.
type AccountDeleteResponse struct {
	Envelope
	ResultItem []AccountDeleteResult `json:"ResultItem"`
}

// ---- profiles (spec §4) ----

// Standard profile tags (spec §4.2).
const (
	TagNick      = "Tag_Profile_IM_Nick"
	TagImage     = "Tag_Profile_IM_Image"
	TagAllowType = "Tag_Profile_IM_AllowType"
)

// ProfileItem is one {Tag, Value} pair. Value is a string or a number depending on
// the tag, so it stays raw.
type ProfileItem struct {
	Tag   string          `json:"Tag"`
	Value json.RawMessage `json:"Value"`
}

// PortraitSetRequest is v4/profile/portrait_set (spec §4.1).
type PortraitSetRequest struct {
	FromAccount string        `json:"From_Account"`
	ProfileItem []ProfileItem `json:"ProfileItem"`
}

// PortraitSetResponse is the envelope only.
type PortraitSetResponse struct {
	Envelope
}

// PortraitGetRequest is v4/profile/portrait_get (spec §4.3).
type PortraitGetRequest struct {
	ToAccount []string `json:"To_Account"`
	TagList   []string `json:"TagList"`
}

// UserProfileItem is one user of portrait_get.
type UserProfileItem struct {
	ToAccount   string        `json:"To_Account"`
	ProfileItem []ProfileItem `json:"ProfileItem,omitempty"`
	ResultCode  int           `json:"ResultCode"`
	ResultInfo  string        `json:"ResultInfo"`
}

// PortraitGetResponse is the answer of portrait_get.
type PortraitGetResponse struct {
	Envelope
	UserProfileItem []UserProfileItem `json:"UserProfileItem"`
	FailAccount     []string          `json:"Fail_Account,omitempty"`
}

// ---- friends (spec §5) ----

// CustomItem is a custom friend field.
type CustomItem struct {
	Tag   string          `json:"Tag"`
	Value json.RawMessage `json:"Value"`
}

// AddFriendItem is one friend of friend_import.
type AddFriendItem struct {
	ToAccount  string       `json:"To_Account"`
	Remark     string       `json:"Remark,omitempty"`
	RemarkTime int64        `json:"RemarkTime,omitempty"`
	GroupName  []string     `json:"GroupName,omitempty"`
	AddSource  string       `json:"AddSource"`
	AddWording string       `json:"AddWording,omitempty"`
	AddTime    int64        `json:"AddTime,omitempty"`
	CustomItem []CustomItem `json:"CustomItem,omitempty"`
}

// FriendImportRequest is v4/sns/friend_import (spec §5.1).
type FriendImportRequest struct {
	FromAccount   string          `json:"From_Account"`
	AddFriendItem []AddFriendItem `json:"AddFriendItem"`
}

// FriendResult is one ResultItem of friend_import.
type FriendResult struct {
	ToAccount  string `json:"To_Account"`
	ResultCode int    `json:"ResultCode"`
	ResultInfo string `json:"ResultInfo"`
}

// FriendImportResponse is the answer of friend_import.
type FriendImportResponse struct {
	Envelope
	ResultItem  []FriendResult `json:"ResultItem"`
	FailAccount []string       `json:"Fail_Account,omitempty"`
}

// FriendGetRequest is v4/sns/friend_get (spec §5.3).
type FriendGetRequest struct {
	FromAccount      string `json:"From_Account"`
	StartIndex       int    `json:"StartIndex"`
	StandardSequence int    `json:"StandardSequence,omitempty"`
	CustomSequence   int    `json:"CustomSequence,omitempty"`
}

// Standard friend tags returned by friend_get (spec §5.3).
const (
	TagSNSAddSource = "Tag_SNS_IM_AddSource"
	TagSNSRemark    = "Tag_SNS_IM_Remark"
	TagSNSGroup     = "Tag_SNS_IM_Group"
	TagSNSAddTime   = "Tag_SNS_IM_AddTime"
)

// FriendValueItem is one {Tag, Value} of a friend.
type FriendValueItem struct {
	Tag   string          `json:"Tag"`
	Value json.RawMessage `json:"Value"`
}

// UserDataItem is one friend of friend_get.
type UserDataItem struct {
	ToAccount string            `json:"To_Account"`
	ValueItem []FriendValueItem `json:"ValueItem"`
}

// FriendGetResponse is one page of friend_get.
type FriendGetResponse struct {
	Envelope
	UserDataItem     []UserDataItem `json:"UserDataItem"`
	StandardSequence int            `json:"StandardSequence"`
	CustomSequence   int            `json:"CustomSequence"`
	FriendNum        int            `json:"FriendNum"`
	CompleteFlag     int            `json:"CompleteFlag"`
	NextStartIndex   int            `json:"NextStartIndex"`
}

// ---- one-to-one messages (spec §7) ----

// ImportMsgRequest is v4/openim/importmsg (spec §7.1).
type ImportMsgRequest struct {
	SyncFromOldSystem int       `json:"SyncFromOldSystem"`
	FromAccount       string    `json:"From_Account"`
	ToAccount         string    `json:"To_Account"`
	MsgSeq            uint32    `json:"MsgSeq"`
	MsgRandom         uint32    `json:"MsgRandom"`
	MsgTimeStamp      int64     `json:"MsgTimeStamp"`
	MsgBody           []MsgElem `json:"MsgBody"`
	CloudCustomData   string    `json:"CloudCustomData,omitempty"`
}

// ImportMsgResponse is the envelope only.
type ImportMsgResponse struct {
	Envelope
}

// AdminGetRoamMsgRequest is v4/openim/admin_getroammsg (spec §7.2).
type AdminGetRoamMsgRequest struct {
	OperatorAccount string `json:"Operator_Account"`
	PeerAccount     string `json:"Peer_Account"`
	MaxCnt          int    `json:"MaxCnt"`
	MinTime         int64  `json:"MinTime"`
	MaxTime         int64  `json:"MaxTime"`
	LastMsgKey      string `json:"LastMsgKey,omitempty"`
}

// RoamMsg is one message of admin_getroammsg.
type RoamMsg struct {
	FromAccount     string    `json:"From_Account"`
	ToAccount       string    `json:"To_Account"`
	MsgSeq          uint32    `json:"MsgSeq"`
	MsgRandom       uint32    `json:"MsgRandom"`
	MsgTimeStamp    int64     `json:"MsgTimeStamp"`
	MsgFlagBits     int       `json:"MsgFlagBits"`
	IsPeerRead      int       `json:"IsPeerRead"`
	MsgKey          string    `json:"MsgKey"`
	MsgBody         []MsgElem `json:"MsgBody"`
	CloudCustomData string    `json:"CloudCustomData"`
}

// AdminGetRoamMsgResponse is one page of admin_getroammsg.
type AdminGetRoamMsgResponse struct {
	Envelope
	Complete    int       `json:"Complete"`
	MsgCnt      int       `json:"MsgCnt"`
	LastMsgTime int64     `json:"LastMsgTime"`
	LastMsgKey  string    `json:"LastMsgKey"`
	MsgList     []RoamMsg `json:"MsgList"`
}

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

// ---- checklist-only APIs (spec §14): not used by the migration itself, but part of
// the contract the sandbox emulates and tests read back through. ----

// CreateGroupMember is one member of create_group's MemberList.
type CreateGroupMember struct {
	MemberAccount string `json:"Member_Account"`
	Role          string `json:"Role,omitempty"`
}

// CreateGroupRequest is v4/group_open_http_svc/create_group (spec §8.6).
type CreateGroupRequest struct {
	OwnerAccount    string              `json:"Owner_Account,omitempty"`
	Type            string              `json:"Type"`
	GroupID         string              `json:"GroupId,omitempty"`
	Name            string              `json:"Name"`
	Introduction    string              `json:"Introduction,omitempty"`
	Notification    string              `json:"Notification,omitempty"`
	FaceURL         string              `json:"FaceUrl,omitempty"`
	MaxMemberCount  int                 `json:"MaxMemberCount,omitempty"`
	ApplyJoinOption string              `json:"ApplyJoinOption,omitempty"`
	MemberList      []CreateGroupMember `json:"MemberList,omitempty"`
	SupportTopic    int                 `json:"SupportTopic,omitempty"`
}

// CreateGroupResponse carries the new group's ID.
type CreateGroupResponse struct {
	Envelope
	GroupID string `json:"GroupId"`
}

// ChangeGroupOwnerRequest is v4/group_open_http_svc/change_group_owner (spec §8.17).
type ChangeGroupOwnerRequest struct {
	GroupID         string `json:"GroupId"`
	NewOwnerAccount string `json:"NewOwner_Account"`
}

// ChangeGroupOwnerResponse is the envelope only.
type ChangeGroupOwnerResponse struct {
	Envelope
}

// ImportTopicRequest is v4/group_open_http_svc/import_topic (spec §8.11).
type ImportTopicRequest struct {
	GroupID      string `json:"GroupId"`
	TopicID      string `json:"TopicId,omitempty"`
	TopicName    string `json:"TopicName"`
	FromAccount  string `json:"From_Account,omitempty"`
	CustomString string `json:"CustomString,omitempty"`
	FaceURL      string `json:"FaceUrl,omitempty"`
	Notification string `json:"Notification,omitempty"`
	Introduction string `json:"Introduction,omitempty"`
	CreateTime   int64  `json:"CreateTime,omitempty"`
}

// ImportTopicResponse carries the topic's ID.
type ImportTopicResponse struct {
	Envelope
	TopicID string `json:"TopicId"`
}

// GetC2CUnreadMsgNumRequest is v4/openim/get_c2c_unread_msg_num (spec §7.3).
type GetC2CUnreadMsgNumRequest struct {
	ToAccount   string   `json:"To_Account"`
	PeerAccount []string `json:"Peer_Account,omitempty"`
}

// C2CUnreadMsgNum is one conversation's unread count.
type C2CUnreadMsgNum struct {
	PeerAccount     string `json:"Peer_Account"`
	C2CUnreadMsgNum int    `json:"C2CUnreadMsgNum"`
}

// PeerError is one failed peer of get_c2c_unread_msg_num.
type PeerError struct {
	PeerAccount string `json:"Peer_Account"`
	ErrorCode   int    `json:"ErrorCode"`
}

// GetC2CUnreadMsgNumResponse is the answer of get_c2c_unread_msg_num.
type GetC2CUnreadMsgNumResponse struct {
	Envelope
	AllC2CUnreadMsgNum  int               `json:"AllC2CUnreadMsgNum"`
	C2CUnreadMsgNumList []C2CUnreadMsgNum `json:"C2CUnreadMsgNumList,omitempty"`
	ErrorList           []PeerError       `json:"ErrorList,omitempty"`
}

// RecentContactListRequest is v4/recentcontact/get_list (spec §9).
type RecentContactListRequest struct {
	FromAccount   string `json:"From_Account"`
	TimeStamp     int64  `json:"TimeStamp"`
	StartIndex    int    `json:"StartIndex"`
	TopTimeStamp  int64  `json:"TopTimeStamp"`
	TopStartIndex int    `json:"TopStartIndex"`
	AssistFlags   int    `json:"AssistFlags"`
}

// SessionItem is one conversation of recentcontact/get_list: Type 1 C2C, 2 group.
type SessionItem struct {
	Type      int    `json:"Type"`
	ToAccount string `json:"To_Account,omitempty"`
	GroupID   string `json:"GroupId,omitempty"`
	MsgTime   int64  `json:"MsgTime"`
	TopFlag   int    `json:"TopFlag"`
}

// RecentContactListResponse is one page of conversations.
type RecentContactListResponse struct {
	Envelope
	SessionItem   []SessionItem `json:"SessionItem"`
	CompleteFlag  int           `json:"CompleteFlag"`
	TimeStamp     int64         `json:"TimeStamp"`
	StartIndex    int           `json:"StartIndex"`
	TopTimeStamp  int64         `json:"TopTimeStamp"`
	TopStartIndex int           `json:"TopStartIndex"`
}

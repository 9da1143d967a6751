package tencentim

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

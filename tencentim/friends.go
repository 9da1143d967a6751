package tencentim

import "encoding/json"

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

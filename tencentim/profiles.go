package tencentim

import "encoding/json"

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

package tencentim

import (
	"encoding/json"

	"github.com/immigrate/immigrate/tencentim/vocab"
)

// ---- profiles (spec §4) ----

// Standard profile tags (spec §4.2).
const (
	TagNick      = "Tag_Profile_IM_Nick"
	TagImage     = "Tag_Profile_IM_Image"
	TagAllowType = "Tag_Profile_IM_AllowType"
)

// The other standard profile tags. Spec §4.2 has Gender and SelfSignature from the
// vendor's samples; the vendor's Profile Fields page is NOT IN SEED (spec §0.3), so
// the rest, and the value rules that transform and the sandbox apply, follow that
// public page: strings for Gender, Location, SelfSignature and AdminForbidType,
// uint32 for BirthDay (yyyymmdd), Language, Level, Role and MsgSettings.
const (
	TagGender          = "Tag_Profile_IM_Gender"
	TagBirthDay        = "Tag_Profile_IM_BirthDay"
	TagLocation        = "Tag_Profile_IM_Location"
	TagSelfSignature   = "Tag_Profile_IM_SelfSignature"
	TagLanguage        = "Tag_Profile_IM_Language"
	TagLevel           = "Tag_Profile_IM_Level"
	TagRole            = "Tag_Profile_IM_Role"
	TagMsgSettings     = "Tag_Profile_IM_MsgSettings"
	TagAdminForbidType = "Tag_Profile_IM_AdminForbidType"

	CustomTagPrefix  = vocab.CustomTagPrefix
	MaxCustomTagName = vocab.MaxCustomTagName
	// MaxLocationBytes is the length limit of Tag_Profile_IM_Location (vendor
	// Profile Fields page: 16 bytes, four uint32 codes of country, province,
	// city and district).
	MaxLocationBytes = 16
)

// Values of Tag_Profile_IM_Gender (spec §4.2 sample; vendor Profile Fields page)
// and Tag_Profile_IM_AllowType (spec §4.2).
const (
	GenderUnknown          = "Gender_Type_Unknown"
	GenderFemale           = "Gender_Type_Female"
	GenderMale             = "Gender_Type_Male"
	AllowTypeNeedConfirm   = "AllowType_Type_NeedConfirm"
	AllowTypeAllowAny      = "AllowType_Type_AllowAny"
	AllowTypeDenyAny       = "AllowType_Type_DenyAny"
	AdminForbidTypeNone    = "AdminForbid_Type_None"
	AdminForbidTypeSendOut = "AdminForbid_Type_SendOut"
)

// ValidCustomTagName reports whether name (without CustomTagPrefix) can be a
// custom profile field (vocab.ValidCustomTagName).
func ValidCustomTagName(name string) bool { return vocab.ValidCustomTagName(name) }

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

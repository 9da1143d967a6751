package sandbox

import (
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/immigrate/immigrate/tencentim"
)

// Profile codes (spec §4.1, §4.3).
const (
	codeProfileParam     = 40001
	codeProfileNoTo      = 40002
	codeProfileNoAccount = 40003
	codeProfileNoTag     = 40009
	codeProfileBadValue  = 40605
	codeProfileValueType = 40610
)

// profileTagRE is the tag rule of spec §4.2: standard Tag_Profile_IM_* or custom
// Tag_Profile_Custom_* names; anything else is 40009.
var profileTagRE = regexp.MustCompile(`^Tag_Profile_(IM|Custom)_[A-Za-z0-9_]+$`)

type valueKind int

const (
	kindStringOrInt valueKind = iota // unknown standard tags and custom tags
	kindString
	kindUint32
)

// standardTags gives the value type of the standard profile tags: those of the
// vendor's samples (spec §4.2) and the rest of the vendor's Profile Fields page
// (NOT IN SEED; tencentim's Tag* constants). A value of another JSON type is
// 40610.
var standardTags = map[string]valueKind{
	tencentim.TagNick:            kindString,
	tencentim.TagImage:           kindString,
	tencentim.TagAllowType:       kindString,
	tencentim.TagGender:          kindString,
	tencentim.TagSelfSignature:   kindString,
	tencentim.TagLocation:        kindString,
	tencentim.TagAdminForbidType: kindString,
	tencentim.TagBirthDay:        kindUint32,
	tencentim.TagLanguage:        kindUint32,
	tencentim.TagLevel:           kindUint32,
	tencentim.TagRole:            kindUint32,
	tencentim.TagMsgSettings:     kindUint32,
}

// enumTags are standard tags with a closed set of values (40605 otherwise):
// AllowType per spec §4.2; Gender per the values the vendor's samples use;
// AdminForbidType per the vendor's Profile Fields page.
var enumTags = map[string][]string{
	tencentim.TagAllowType:       {tencentim.AllowTypeNeedConfirm, tencentim.AllowTypeDenyAny, tencentim.AllowTypeAllowAny},
	tencentim.TagGender:          {tencentim.GenderUnknown, tencentim.GenderFemale, tencentim.GenderMale},
	tencentim.TagAdminForbidType: {tencentim.AdminForbidTypeNone, tencentim.AdminForbidTypeSendOut},
}

// maxTagBytes are standard string tags shorter than the 500 bytes of every value:
// Location is at most 16 bytes (vendor Profile Fields page). A longer value is an
// incorrect standard-field value, 40605 (spec §4.1).
var maxTagBytes = map[string]int{tencentim.TagLocation: tencentim.MaxLocationBytes}

// profileValue validates one {Tag, Value} and returns the value in canonical JSON.
func profileValue(tag string, v json.RawMessage) (json.RawMessage, *apiError) {
	if !profileTagRE.MatchString(tag) {
		return nil, errf(codeProfileNoTag, "profile tag "+tag+" does not exist")
	}
	if name, ok := strings.CutPrefix(tag, tencentim.CustomTagPrefix); ok && !tencentim.ValidCustomTagName(name) {
		// A custom field's name is at most 8 letters (spec §4.2 supplement): no
		// app can have declared this one.
		return nil, errf(codeProfileNoTag, "custom profile tag "+tag+" does not exist (names are 1-8 letters)")
	}
	kind := standardTags[tag]
	if s, ok := asString(v); ok {
		if kind == kindUint32 {
			return nil, errf(codeProfileValueType, tag+" must be an integer")
		}
		if len(s) > tencentim.MaxProfileValueBytes {
			return nil, errf(codeValueTooLong, tag+" exceeds 500 bytes")
		}
		if n, ok := maxTagBytes[tag]; ok && len(s) > n {
			return nil, errf(codeProfileBadValue, tag+" exceeds "+strconv.Itoa(n)+" bytes")
		}
		if allowed, ok := enumTags[tag]; ok && !slices.Contains(allowed, s) {
			return nil, errf(codeProfileBadValue, "invalid value for "+tag)
		}
		return jsonString(s), nil
	}
	if n, ok := asUint64(v); ok {
		if kind == kindString {
			return nil, errf(codeProfileValueType, tag+" must be a string")
		}
		if kind == kindUint32 && n > math.MaxUint32 {
			return nil, errf(codeProfileBadValue, tag+" exceeds the uint32 range")
		}
		return json.RawMessage(strconv.FormatUint(n, 10)), nil
	}
	// The vendor types values as uint64_t, string or bytes (spec §4.1).
	return nil, errf(codeProfileValueType, tag+" must be a string or an unsigned integer")
}

// handlePortraitSet is v4/profile/portrait_set (spec §4.1; items 20, 21). The
// request is validated whole before anything is written.
func handlePortraitSet(s *Server, c *call) (any, *apiError) {
	from, aerr := c.str("From_Account", true, codeProfileParam, codeAccountType)
	if aerr != nil {
		return nil, aerr
	}
	items, aerr := c.objects("ProfileItem", true, codeProfileParam, codeProfileParam)
	if aerr != nil {
		return nil, aerr
	}
	if len(items) == 0 {
		return nil, errf(codeProfileParam, "ProfileItem is empty")
	}
	a := s.users.accounts[from]
	if a == nil {
		return nil, errf(codeProfileNoAccount, "account "+from+" does not exist")
	}
	type kv struct {
		tag string
		v   json.RawMessage
	}
	set := make([]kv, 0, len(items))
	for _, it := range items {
		tag, aerr := it.str("Tag", true, codeProfileParam, codeProfileParam)
		if aerr != nil {
			return nil, aerr
		}
		raw, ok := it.value("Value")
		if !ok {
			return nil, errf(codeProfileParam, "Value of "+tag+" is missing")
		}
		v, aerr := profileValue(tag, raw)
		if aerr != nil {
			return nil, aerr
		}
		set = append(set, kv{tag, v})
	}
	for _, p := range set {
		a.profile[p.tag] = p.v
	}
	return &tencentim.PortraitSetResponse{}, nil
}

// handlePortraitGet is v4/profile/portrait_get (spec §4.3; items 20, 22). An
// unknown account is a per-user failure with ResultCode 40003 listed in
// Fail_Account; the request stays OK. Tags that were never set are left out of a
// user's ProfileItem.
func handlePortraitGet(s *Server, c *call) (any, *apiError) {
	raw, aerr := c.array("To_Account", true, codeProfileNoTo, codeProfileParam)
	if aerr != nil {
		return nil, aerr
	}
	if len(raw) == 0 {
		return nil, errf(codeProfileNoTo, "To_Account is empty")
	}
	if len(raw) > tencentim.MaxPortraitGet {
		return nil, errf(codeProfileParam, "more than 100 accounts in To_Account")
	}
	ids, aerr := accountStrings("To_Account", raw)
	if aerr != nil {
		return nil, aerr
	}
	tags, aerr := c.strings("TagList", true, codeProfileParam, codeProfileParam)
	if aerr != nil {
		return nil, aerr
	}
	if len(tags) == 0 {
		return nil, errf(codeProfileParam, "TagList is empty")
	}
	for _, t := range tags {
		if !profileTagRE.MatchString(t) {
			return nil, errf(codeProfileNoTag, "profile tag "+t+" does not exist")
		}
	}
	resp := &tencentim.PortraitGetResponse{UserProfileItem: make([]tencentim.UserProfileItem, 0, len(ids))}
	for _, id := range ids {
		a := s.users.accounts[id]
		if a == nil {
			resp.UserProfileItem = append(resp.UserProfileItem, tencentim.UserProfileItem{
				ToAccount: id, ResultCode: codeProfileNoAccount, ResultInfo: "Err_Profile_Account_Not_Exist",
			})
			resp.FailAccount = append(resp.FailAccount, id)
			continue
		}
		item := tencentim.UserProfileItem{ToAccount: id}
		for _, t := range tags {
			if v, ok := a.profile[t]; ok {
				item.ProfileItem = append(item.ProfileItem, tencentim.ProfileItem{Tag: t, Value: v})
			}
		}
		resp.UserProfileItem = append(resp.UserProfileItem, item)
	}
	return resp, nil
}

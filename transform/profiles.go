package transform

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

// ProfileResult is the outcome of one user's profile fields: the portrait_set
// request that sets them (spec §4.1; one call sets one account's profile).
type ProfileResult struct {
	Req    tencentim.PortraitSetRequest
	OK     bool
	Issues []Issue
}

// HasProfile reports whether u has a profile field beyond the Nick and FaceUrl
// account_import already sets (spec §3.4): only those users need portrait_set.
func HasProfile(u extract.User) bool {
	return u.Gender != "" || u.Birthday != "" || u.Location != "" || u.Signature != "" || u.AllowType != "" ||
		u.Language != "" || u.Level != "" || u.Role != "" || len(u.Custom) > 0
}

// Profile checks the profile fields of user u, accepted by User as userID, and
// returns the portrait_set request (call it only when HasProfile). A bad value
// rejects the profile, never the account: its issues are the profiles entity's.
//
// Conversions (mappings/README.md): gender m/male/1, f/female/2, u/unknown/0 or a
// Gender_Type_* value; birthday a date (yyyy-mm-dd, also the date of a timestamp)
// or yyyymmdd, sent as the uint32 yyyymmdd; allow_type need_confirm, allow_any,
// deny_any or an AllowType_Type_* value; language, level and role unsigned 32-bit
// integers; location, signature and custom fields as they are, within their
// lengths.
func (t *Transformer) Profile(u extract.User, userID string) ProfileResult {
	is := newIssues(extract.Profiles, u.Origin, u.ID, "")
	req := tencentim.PortraitSetRequest{FromAccount: userID}
	str := func(tag, v string) {
		req.ProfileItem = append(req.ProfileItem, tencentim.ProfileItem{Tag: tag, Value: jsonString(v)})
	}
	num := func(tag string, n uint64) {
		req.ProfileItem = append(req.ProfileItem, tencentim.ProfileItem{Tag: tag, Value: json.RawMessage(strconv.FormatUint(n, 10))})
	}
	if u.Gender != "" {
		if g, ok := profileGender(u.Gender); ok {
			str(tencentim.TagGender, g)
		} else {
			is.add(RuleProfileGenderInvalid, "gender %s is none of m, male, 1, f, female, 2, u, unknown, 0 or Gender_Type_* (spec §4.2)", shown(u.Gender))
		}
	}
	if u.Birthday != "" {
		if d, ok := profileBirthday(u.Birthday, t.now); ok {
			num(tencentim.TagBirthDay, d)
		} else {
			is.add(RuleProfileBirthdayInvalid, "birthday %s is not a date (yyyy-mm-dd or yyyymmdd) before now; Tag_Profile_IM_BirthDay is the uint32 yyyymmdd (spec §4.2)", shown(u.Birthday))
		}
	}
	if u.Location != "" {
		if len(u.Location) > tencentim.MaxLocationBytes {
			// A location is a code (four uint32s in the vendor's use): a cut one
			// would be another place, so it is never truncated.
			is.add(RuleProfileLocationTooLong, "location %s is %d bytes; Tag_Profile_IM_Location allows %d (spec §4.2, 40605)", shown(u.Location), len(u.Location), tencentim.MaxLocationBytes)
		} else {
			str(tencentim.TagLocation, u.Location)
		}
	}
	if u.Signature != "" {
		str(tencentim.TagSelfSignature, t.limitText(&is, u.Signature, tencentim.MaxProfileValueBytes, "signature", "spec §4.1 (40601)",
			RuleProfileSignatureTooLong, RuleProfileSignatureTruncated))
	}
	if u.AllowType != "" {
		if a, ok := profileAllowType(u.AllowType); ok {
			str(tencentim.TagAllowType, a)
		} else {
			is.add(RuleProfileAllowTypeInvalid, "allow_type %s is none of need_confirm, allow_any, deny_any or AllowType_Type_* (spec §4.2, 40605)", shown(u.AllowType))
		}
	}
	for _, f := range []struct {
		tag, name, v, rule string
	}{
		{tencentim.TagLanguage, "language", u.Language, RuleProfileLanguageInvalid},
		{tencentim.TagLevel, "level", u.Level, RuleProfileLevelInvalid},
		{tencentim.TagRole, "role", u.Role, RuleProfileRoleInvalid},
	} {
		if f.v == "" {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(f.v), 10, 32)
		if err != nil {
			is.add(f.rule, "%s %s is not an integer from 0 to 4294967295; %s is a uint32 (spec §4.2, 40610)", f.name, shown(f.v), f.tag)
			continue
		}
		num(f.tag, n)
	}
	for _, c := range u.Custom {
		tag := tencentim.CustomTagPrefix + c.Name
		str(tag, t.limitText(&is, c.Value, tencentim.MaxProfileValueBytes, "custom field "+c.Name, "spec §4.1 (40601)",
			RuleProfileCustomTooLong, RuleProfileCustomTruncated))
	}
	if is.rejected {
		return ProfileResult{Issues: is.list}
	}
	return ProfileResult{Req: req, OK: true, Issues: is.list}
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

// profileGender maps the usual spellings of a gender to Tag_Profile_IM_Gender.
func profileGender(v string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "m", "male", "man", "1", strings.ToLower(tencentim.GenderMale):
		return tencentim.GenderMale, true
	case "f", "female", "woman", "2", strings.ToLower(tencentim.GenderFemale):
		return tencentim.GenderFemale, true
	case "u", "unknown", "0", strings.ToLower(tencentim.GenderUnknown):
		return tencentim.GenderUnknown, true
	}
	return "", false
}

// profileAllowType maps need_confirm, allow_any, deny_any (any case, with or
// without separators, with or without the AllowType_Type_ prefix) to
// Tag_Profile_IM_AllowType (spec §4.2).
func profileAllowType(v string) (string, bool) {
	k := strings.ToLower(strings.TrimSpace(v))
	k = strings.TrimPrefix(k, "allowtype_type_")
	k = strings.NewReplacer("_", "", "-", "", " ", "").Replace(k)
	switch k {
	case "needconfirm":
		return tencentim.AllowTypeNeedConfirm, true
	case "allowany":
		return tencentim.AllowTypeAllowAny, true
	case "denyany":
		return tencentim.AllowTypeDenyAny, true
	}
	return "", false
}

// profileBirthday reads a birthday as yyyymmdd: from "yyyymmdd", or from a date
// "yyyy-mm-dd" alone or at the start of a timestamp (PostgreSQL prints a date
// column so). The date must exist and not be after now.
func profileBirthday(v string, now int64) (uint64, bool) {
	v = strings.TrimSpace(v)
	var d time.Time
	var err error
	switch {
	case len(v) == 8:
		d, err = time.Parse("20060102", v)
	case len(v) >= 10 && (len(v) == 10 || v[10] == 'T' || v[10] == ' '):
		d, err = time.Parse(time.DateOnly, v[:10])
	default:
		return 0, false
	}
	if err != nil || d.Unix() > now {
		return 0, false
	}
	return uint64(d.Year()*10000 + int(d.Month())*100 + d.Day()), true
}

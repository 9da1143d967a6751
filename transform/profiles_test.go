package transform

import (
	"encoding/json"
	"testing"

	"github.com/immigrate/immigrate/extract"
)

// TestProfileConversions: the documented spellings of each profile field become
// the portrait_set items, byte for byte, in a fixed order (standard tags, then
// custom ones as the reader gives them).
func TestProfileConversions(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*extract.User)
		want string // the ProfileItem array
	}{
		{"gender m", func(u *extract.User) { u.Gender = "m" }, `[{"Tag":"Tag_Profile_IM_Gender","Value":"Gender_Type_Male"}]`},
		{"gender Female", func(u *extract.User) { u.Gender = "Female" }, `[{"Tag":"Tag_Profile_IM_Gender","Value":"Gender_Type_Female"}]`},
		{"gender 2", func(u *extract.User) { u.Gender = "2" }, `[{"Tag":"Tag_Profile_IM_Gender","Value":"Gender_Type_Female"}]`},
		{"gender 0", func(u *extract.User) { u.Gender = "0" }, `[{"Tag":"Tag_Profile_IM_Gender","Value":"Gender_Type_Unknown"}]`},
		{"gender as TIM spells it", func(u *extract.User) { u.Gender = "Gender_Type_Male" }, `[{"Tag":"Tag_Profile_IM_Gender","Value":"Gender_Type_Male"}]`},
		{"birthday date", func(u *extract.User) { u.Birthday = "1990-04-19" }, `[{"Tag":"Tag_Profile_IM_BirthDay","Value":19900419}]`},
		{"birthday timestamp", func(u *extract.User) { u.Birthday = "1990-04-19 00:00:00+00" }, `[{"Tag":"Tag_Profile_IM_BirthDay","Value":19900419}]`},
		{"birthday yyyymmdd", func(u *extract.User) { u.Birthday = "20000229" }, `[{"Tag":"Tag_Profile_IM_BirthDay","Value":20000229}]`},
		{"allow type", func(u *extract.User) { u.AllowType = "Deny-Any" }, `[{"Tag":"Tag_Profile_IM_AllowType","Value":"AllowType_Type_DenyAny"}]`},
		{"allow type as TIM spells it", func(u *extract.User) { u.AllowType = "AllowType_Type_NeedConfirm" }, `[{"Tag":"Tag_Profile_IM_AllowType","Value":"AllowType_Type_NeedConfirm"}]`},
		{"numbers", func(u *extract.User) { u.Language, u.Level, u.Role = "1", " 42 ", "4294967295" },
			`[{"Tag":"Tag_Profile_IM_Language","Value":1},{"Tag":"Tag_Profile_IM_Level","Value":42},{"Tag":"Tag_Profile_IM_Role","Value":4294967295}]`},
		{"all, custom last", func(u *extract.User) {
			u.Gender, u.Birthday, u.Location, u.Signature, u.AllowType = "f", "19851231", "CN-44-03", "ça va \"?\"", "allow_any"
			u.Custom = []extract.CustomField{{Name: "Active", Value: "0"}, {Name: "Kind", Value: "bot"}}
		}, `[{"Tag":"Tag_Profile_IM_Gender","Value":"Gender_Type_Female"},{"Tag":"Tag_Profile_IM_BirthDay","Value":19851231},` +
			`{"Tag":"Tag_Profile_IM_Location","Value":"CN-44-03"},{"Tag":"Tag_Profile_IM_SelfSignature","Value":"ça va \"?\""},` +
			`{"Tag":"Tag_Profile_IM_AllowType","Value":"AllowType_Type_AllowAny"},` +
			`{"Tag":"Tag_Profile_Custom_Active","Value":"0"},{"Tag":"Tag_Profile_Custom_Kind","Value":"bot"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := user("u9")
			tt.mod(&u)
			if !HasProfile(u) {
				t.Fatal("HasProfile = false")
			}
			tr := newTestTransformer(t, nil)
			res := tr.Profile(u, "u9")
			if !res.OK {
				t.Fatalf("not OK: %v", rules(res.Issues))
			}
			got, err := json.Marshal(res.Req.ProfileItem)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want || res.Req.FromAccount != "u9" {
				t.Errorf("From_Account %q, items\n got %s\nwant %s", res.Req.FromAccount, got, tt.want)
			}
		})
	}
	if HasProfile(extract.User{ID: "u1", Nick: "n", FaceURL: "https://x"}) {
		t.Error("HasProfile of a user with only nick and face URL (account_import sets them)")
	}
}

// TestProfileRejectKeepsAccount: a bad profile value rejects the profile, and the
// account is imported all the same.
func TestProfileRejectKeepsAccount(t *testing.T) {
	res := run(t, nil, base(mark(profile("u9", func(u *extract.User) { u.Gender, u.Level = "x", "7" }))))
	var acct, prof *outcome
	for i := range res.outcomes {
		if o := &res.outcomes[i]; o.id == "u9" {
			switch o.entity {
			case extract.Users:
				acct = o
			case extract.Profiles:
				prof = o
			}
		}
	}
	if acct == nil || !acct.ok {
		t.Fatalf("account outcome %+v, want OK", acct)
	}
	if prof == nil || prof.ok || !hasRule(prof.issues, RuleProfileGenderInvalid) {
		t.Fatalf("profile outcome %+v, want rejected by %s", prof, RuleProfileGenderInvalid)
	}
}

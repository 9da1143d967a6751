package sandbox

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/tencentim"
)

func profileItem(tag string, value any) tencentim.ProfileItem {
	v, err := json.Marshal(value)
	if err != nil {
		panic(err)
	}
	return tencentim.ProfileItem{Tag: tag, Value: v}
}

// spec §14 item 20: portrait_set then portrait_get returns the values, strings and
// integers, standard and custom.
func TestPortraitSetGet(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "u1")
	set := []tencentim.ProfileItem{
		profileItem(tencentim.TagNick, "MyNickName"),
		profileItem(tencentim.TagAllowType, "AllowType_Type_DenyAny"),
		profileItem("Tag_Profile_IM_Level", 7),
		profileItem("Tag_Profile_Custom_Test", "c"),
	}
	if _, err := e.client.PortraitSet(t.Context(), &tencentim.PortraitSetRequest{FromAccount: "u1", ProfileItem: set}); err != nil {
		t.Fatal(err)
	}
	resp, err := e.client.PortraitGet(t.Context(), &tencentim.PortraitGetRequest{
		ToAccount: []string{"u1"},
		TagList:   []string{tencentim.TagNick, "Tag_Profile_IM_Level", "Tag_Profile_Custom_Test", tencentim.TagAllowType, tencentim.TagImage},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.UserProfileItem) != 1 || resp.UserProfileItem[0].ResultCode != 0 || resp.FailAccount != nil {
		t.Fatalf("answer %+v", resp)
	}
	var got []string
	for _, it := range resp.UserProfileItem[0].ProfileItem {
		got = append(got, it.Tag+"="+string(it.Value))
	}
	// In TagList order; the never-set image is left out.
	want := []string{`Tag_Profile_IM_Nick="MyNickName"`, `Tag_Profile_IM_Level=7`, `Tag_Profile_Custom_Test="c"`, `Tag_Profile_IM_AllowType="AllowType_Type_DenyAny"`}
	if !slices.Equal(got, want) {
		t.Errorf("profile = %v, want %v", got, want)
	}
}

// spec §14 item 21: unknown tag 40009, value over 500 bytes 40601, bad AllowType
// 40605, wrong value type 40610; a failed request writes nothing.
func TestPortraitSetValidation(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "u1")
	tests := []struct {
		name  string
		items []tencentim.ProfileItem
		want  int
	}{
		{"unknown tag", []tencentim.ProfileItem{profileItem("Tag_Foo", "x")}, 40009},
		{"lowercase prefix", []tencentim.ProfileItem{profileItem("tag_profile_im_nick", "x")}, 40009},
		{"500 bytes", []tencentim.ProfileItem{profileItem("Tag_Profile_Custom_Big", strings.Repeat("v", 500))}, 0},
		{"501 bytes", []tencentim.ProfileItem{profileItem("Tag_Profile_Custom_Big", strings.Repeat("v", 501))}, 40601},
		{"AllowType value", []tencentim.ProfileItem{profileItem(tencentim.TagAllowType, "AllowType_Type_Maybe")}, 40605},
		{"Gender value", []tencentim.ProfileItem{profileItem("Tag_Profile_IM_Gender", "Gender_Type_Other")}, 40605},
		{"Nick as number", []tencentim.ProfileItem{profileItem(tencentim.TagNick, 5)}, 40610},
		{"Level as string", []tencentim.ProfileItem{profileItem("Tag_Profile_IM_Level", "5")}, 40610},
		{"object value", []tencentim.ProfileItem{profileItem("Tag_Profile_Custom_X", map[string]int{"a": 1})}, 40610},
		{"negative integer", []tencentim.ProfileItem{profileItem("Tag_Profile_Custom_X", -1)}, 40610},
		{"good then bad", []tencentim.ProfileItem{profileItem(tencentim.TagNick, "written?"), profileItem("Tag_Foo", "x")}, 40009},
		{"missing value", []tencentim.ProfileItem{{Tag: tencentim.TagNick}}, 40001},
		// Vendor Profile Fields page (NOT IN SEED; tencentim.Tag*): Location ≤ 16
		// bytes, uint32 tags, AdminForbidType's two values; custom names of 1-8
		// letters (spec §4.2 supplement).
		{"Location 16 bytes", []tencentim.ProfileItem{profileItem(tencentim.TagLocation, strings.Repeat("l", 16))}, 0},
		{"Location 17 bytes", []tencentim.ProfileItem{profileItem(tencentim.TagLocation, strings.Repeat("l", 17))}, 40605},
		{"BirthDay uint32", []tencentim.ProfileItem{profileItem(tencentim.TagBirthDay, 19900419)}, 0},
		{"BirthDay past uint32", []tencentim.ProfileItem{profileItem(tencentim.TagBirthDay, uint64(1)<<32)}, 40605},
		{"Role as string", []tencentim.ProfileItem{profileItem(tencentim.TagRole, "admin")}, 40610},
		{"AdminForbidType value", []tencentim.ProfileItem{profileItem(tencentim.TagAdminForbidType, "AdminForbid_Type_All")}, 40605},
		{"custom name of 8 letters", []tencentim.ProfileItem{profileItem("Tag_Profile_Custom_Abcdefgh", "x")}, 0},
		{"custom name of 9 letters", []tencentim.ProfileItem{profileItem("Tag_Profile_Custom_Abcdefghi", "x")}, 40009},
		{"custom name with a digit", []tencentim.ProfileItem{profileItem("Tag_Profile_Custom_Kind2", "x")}, 40009},
		{"empty list", []tencentim.ProfileItem{}, 40001},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.PortraitSet(t.Context(), &tencentim.PortraitSetRequest{FromAccount: "u1", ProfileItem: tc.items})
			if got := codeOf(err); got != tc.want {
				t.Errorf("code = %d (%v), want %d", got, err, tc.want)
			}
		})
	}
	if st := e.srv.State(); st.Accounts[0].Nick != "" {
		t.Errorf("a failed request wrote the nick %q", st.Accounts[0].Nick)
	}
	for body, want := range map[string]int{
		`{"ProfileItem":[{"Tag":"Tag_Profile_IM_Nick","Value":"x"}]}`: 40001,
		`{"From_Account":"u1"}`:                                                            40001,
		`{"From_Account":"u1","ProfileItem":{}}`:                                           40001,
		`{"From_Account":"u1","ProfileItem":["x"]}`:                                        40001,
		`{"From_Account":"u1","ProfileItem":[{"Tag":5,"Value":"x"}]}`:                      40001,
		`{"From_Account":"u1","ProfileItem":[{"Tag":"Tag_Profile_IM_Nick","Value":true}]}`: 40610,
	} {
		if got := codeOf(e.client.CallRaw(t.Context(), tencentim.CmdPortraitSet, []byte(body), nil)); got != want {
			t.Errorf("%s: code %d, want %d", body, got, want)
		}
	}
}

// spec §14 item 22 (REC): an unknown account in portrait_get is a per-user 40003
// listed in Fail_Account; the request stays OK.
func TestPortraitGetUnknownAccount(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "u1")
	resp, err := e.client.PortraitGet(t.Context(), &tencentim.PortraitGetRequest{ToAccount: []string{"u1", "ghost"}, TagList: []string{tencentim.TagNick}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.UserProfileItem) != 2 || resp.UserProfileItem[0].ResultCode != 0 || resp.UserProfileItem[1].ResultCode != 40003 {
		t.Errorf("UserProfileItem = %+v", resp.UserProfileItem)
	}
	if !slices.Equal(resp.FailAccount, []string{"ghost"}) {
		t.Errorf("Fail_Account = %v, want [ghost]", resp.FailAccount)
	}
	ids := make([]string, 101)
	for i := range ids {
		ids[i] = "u1"
	}
	tests := []struct {
		name string
		req  tencentim.PortraitGetRequest
		want int
	}{
		{"101 accounts", tencentim.PortraitGetRequest{ToAccount: ids, TagList: []string{tencentim.TagNick}}, 40001},
		{"100 accounts", tencentim.PortraitGetRequest{ToAccount: ids[:100], TagList: []string{tencentim.TagNick}}, 0},
		{"no accounts", tencentim.PortraitGetRequest{TagList: []string{tencentim.TagNick}}, 40002},
		{"no tags", tencentim.PortraitGetRequest{ToAccount: []string{"u1"}}, 40001},
		{"unknown tag", tencentim.PortraitGetRequest{ToAccount: []string{"u1"}, TagList: []string{"Tag_Foo"}}, 40009},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.PortraitGet(t.Context(), &tc.req)
			if got := codeOf(err); got != tc.want {
				t.Errorf("code = %d (%v), want %d", got, err, tc.want)
			}
		})
	}
}

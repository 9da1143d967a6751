package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/tencentim"
)

func accountIDs(st State) []string {
	var ids []string
	for _, a := range st.Accounts {
		ids = append(ids, a.UserID)
	}
	return ids
}

// spec §14 item 12: account_import is idempotent.
func TestAccountImportIdempotent(t *testing.T) {
	e := newTestEnv(t)
	for i := range 3 {
		if _, err := e.client.AccountImport(t.Context(), &tencentim.AccountImportRequest{UserID: "u1"}); err != nil {
			t.Fatalf("import %d: %v", i+1, err)
		}
	}
	if got := accountIDs(e.srv.State()); !slices.Equal(got, []string{"u1"}) {
		t.Errorf("accounts = %v, want [u1]", got)
	}
}

// spec §14 items 13, 14 and design §7 A23: UserID 1-32 bytes of printable ASCII
// 0x21-0x7e, not the chatbot prefix; Nick/FaceUrl at most 500 bytes.
func TestAccountImportValidation(t *testing.T) {
	e := newTestEnv(t)
	tests := []struct {
		name string
		req  tencentim.AccountImportRequest
		want int
	}{
		{"32 bytes", tencentim.AccountImportRequest{UserID: strings.Repeat("a", 32)}, 0},
		{"printable punctuation", tencentim.AccountImportRequest{UserID: "a!~#.@_-"}, 0},
		{"33 bytes (item 13)", tencentim.AccountImportRequest{UserID: strings.Repeat("a", 33)}, 70402},
		{"empty (item 13)", tencentim.AccountImportRequest{UserID: ""}, 70402},
		{"space", tencentim.AccountImportRequest{UserID: "a b"}, 70402},
		{"control char", tencentim.AccountImportRequest{UserID: "a\tb"}, 70402},
		{"DEL", tencentim.AccountImportRequest{UserID: "a\x7f"}, 70402},
		{"non-ASCII", tencentim.AccountImportRequest{UserID: "é"}, 70402},
		{"chatbot prefix", tencentim.AccountImportRequest{UserID: "@RBT#bot"}, 70402},
		{"nick 500 bytes", tencentim.AccountImportRequest{UserID: "n1", Nick: strings.Repeat("n", 500)}, 0},
		{"nick 501 bytes (item 14)", tencentim.AccountImportRequest{UserID: "n2", Nick: strings.Repeat("n", 501)}, 40601},
		{"face 501 bytes", tencentim.AccountImportRequest{UserID: "n3", FaceURL: strings.Repeat("f", 501)}, 40601},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.AccountImport(t.Context(), &tc.req)
			if got := codeOf(err); got != tc.want {
				t.Errorf("code = %d (%v), want %d", got, err, tc.want)
			}
			e.srv.mu.Lock()
			exists := e.srv.users.exists(tc.req.UserID)
			e.srv.mu.Unlock()
			if exists != (tc.want == 0) {
				t.Errorf("account exists = %v after code %d", exists, tc.want)
			}
		})
	}
	t.Run("wrong types", func(t *testing.T) {
		for body, want := range map[string]int{
			`{}`:                            70402,
			`{"UserID":null}`:               70402,
			`{"UserID":"x1","Nick":5}`:      70402,
			`{"UserID":"x1","FaceUrl":[1]}`: 70402,
		} {
			if got := codeOf(e.client.CallRaw(t.Context(), tencentim.CmdAccountImport, []byte(body), nil)); got != want {
				t.Errorf("%s: code %d, want %d", body, got, want)
			}
		}
	})
}

// account_import's Nick and FaceUrl set the profile, so portrait_get reads them
// back; a later import with a new Nick updates it.
func TestAccountImportSetsProfile(t *testing.T) {
	e := newTestEnv(t)
	if _, err := e.client.AccountImport(t.Context(), &tencentim.AccountImportRequest{UserID: "u1", Nick: "Ann <&>", FaceURL: "https://x/a.png"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.AccountImport(t.Context(), &tencentim.AccountImportRequest{UserID: "u1", Nick: "Anne"}); err != nil {
		t.Fatal(err)
	}
	resp, err := e.client.PortraitGet(t.Context(), &tencentim.PortraitGetRequest{
		ToAccount: []string{"u1"}, TagList: []string{tencentim.TagNick, tencentim.TagImage},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range resp.UserProfileItem[0].ProfileItem {
		s, _ := asString(it.Value)
		got[it.Tag] = s
	}
	want := map[string]string{tencentim.TagNick: "Anne", tencentim.TagImage: "https://x/a.png"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("profile = %v, want %v", got, want)
	}
	if st := e.srv.State(); st.Accounts[0].Nick != "Anne" || st.Accounts[0].FaceURL != "https://x/a.png" {
		t.Errorf("state account = %+v", st.Accounts[0])
	}
}

// spec §14 item 15: the account limit answers 70398 for account N+1; re-importing
// an existing account still works at the limit.
func TestAccountLimit(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.AccountLimit = 3 })
	e.importUsers(t, "u1", "u2")
	steps := []struct {
		name string
		call func() error
		want int
	}{
		{"third account", func() error {
			_, err := e.client.AccountImport(t.Context(), &tencentim.AccountImportRequest{UserID: "u3"})
			return err
		}, 0},
		{"fourth account", func() error {
			_, err := e.client.AccountImport(t.Context(), &tencentim.AccountImportRequest{UserID: "u4"})
			return err
		}, 70398},
		{"re-import at the limit", func() error {
			_, err := e.client.AccountImport(t.Context(), &tencentim.AccountImportRequest{UserID: "u1", Nick: "n"})
			return err
		}, 0},
		{"batch with one new account", func() error {
			_, err := e.client.MultiAccountImport(t.Context(), &tencentim.MultiAccountImportRequest{Accounts: []string{"u1", "u5"}})
			return err
		}, 70398},
		{"batch of existing accounts", func() error {
			_, err := e.client.MultiAccountImport(t.Context(), &tencentim.MultiAccountImportRequest{Accounts: []string{"u1", "u2", "u3", "u1"}})
			return err
		}, 0},
	}
	for _, st := range steps {
		if got := codeOf(st.call()); got != st.want {
			t.Errorf("%s: code %d, want %d", st.name, got, st.want)
		}
	}
	if got := accountIDs(e.srv.State()); !slices.Equal(got, []string{"u1", "u2", "u3"}) {
		t.Errorf("accounts = %v, want u1-u3 (a refused batch creates nothing)", got)
	}
	// Deleting makes room again.
	if _, err := e.client.AccountDelete(t.Context(), &tencentim.AccountDeleteRequest{DeleteItem: []tencentim.AccountCheckItem{{UserID: "u3"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.AccountImport(t.Context(), &tencentim.AccountImportRequest{UserID: "u4"}); err != nil {
		t.Errorf("after a delete: %v", err)
	}
}

// spec §14 item 16 (A35 REC): > 100 accounts → 70402; existing accounts are not
// failures; invalid names are listed in FailAccounts with the request OK.
func TestMultiAccountImport(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "old1", "old2")
	hundred := make([]string, 100)
	for i := range hundred {
		hundred[i] = fmt.Sprintf("m%03d", i)
	}
	hundred[0], hundred[1] = "old1", "old2"
	tests := []struct {
		name     string
		accounts []string
		wantCode int
		wantFail []string
	}{
		{"100 with existing", hundred, 0, []string{}},
		{"101", append(slices.Clone(hundred), "x101"), 70402, nil},
		{"invalid names", []string{"ok1", strings.Repeat("z", 33), "", "ok2", "@RBT#x"}, 0, []string{strings.Repeat("z", 33), "", "@RBT#x"}},
		{"duplicates", []string{"d1", "d1"}, 0, []string{}},
		{"empty", []string{}, 0, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := e.client.MultiAccountImport(t.Context(), &tencentim.MultiAccountImportRequest{Accounts: tc.accounts})
			if got := codeOf(err); got != tc.wantCode {
				t.Fatalf("code = %d (%v), want %d", got, err, tc.wantCode)
			}
			if tc.wantCode != 0 {
				return
			}
			if resp.FailAccounts == nil || !slices.Equal(resp.FailAccounts, tc.wantFail) {
				t.Errorf("FailAccounts = %#v, want %#v", resp.FailAccounts, tc.wantFail)
			}
		})
	}
	st := e.srv.State()
	if n := len(st.Accounts); n != 100+3 { // 100 incl. old1/old2, ok1, ok2, d1
		t.Errorf("%d accounts, want 103", n)
	}
	if slices.Contains(accountIDs(st), "x101") {
		t.Error("the refused 101-account batch created x101")
	}
	for body, want := range map[string]int{
		`{}`:                   70402,
		`{"Accounts":"u1"}`:    70402,
		`{"Accounts":[1]}`:     60015,
		`{"Accounts":null}`:    70402,
		`{"Accounts":{"a":1}}`: 70402,
	} {
		if got := codeOf(e.client.CallRaw(t.Context(), tencentim.CmdMultiAccountImport, []byte(body), nil)); got != want {
			t.Errorf("%s: code %d, want %d", body, got, want)
		}
	}
}

// spec §14 item 17: account_check reports Imported / NotImported per item; more
// than 100 items → 70402.
func TestAccountCheck(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "u1")
	resp, err := e.client.AccountCheck(t.Context(), &tencentim.AccountCheckRequest{CheckItem: []tencentim.AccountCheckItem{{UserID: "u1"}, {UserID: "u9"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []tencentim.AccountCheckResult{
		{UserID: "u1", ResultCode: 0, AccountStatus: tencentim.AccountImported},
		{UserID: "u9", ResultCode: 0, AccountStatus: tencentim.AccountNotImported},
	}
	if !slices.Equal(resp.ResultItem, want) {
		t.Errorf("ResultItem = %+v, want %+v", resp.ResultItem, want)
	}
	items := make([]tencentim.AccountCheckItem, 101)
	for i := range items {
		items[i].UserID = fmt.Sprint("c", i)
	}
	if _, err := e.client.AccountCheck(t.Context(), &tencentim.AccountCheckRequest{CheckItem: items}); codeOf(err) != 70402 {
		t.Errorf("101 items: %v, want 70402", err)
	}
	if _, err := e.client.AccountCheck(t.Context(), &tencentim.AccountCheckRequest{CheckItem: items[:100]}); err != nil {
		t.Errorf("100 items: %v", err)
	}
	for body, want := range map[string]int{
		`{}`:                           70402,
		`{"CheckItem":[{}]}`:           70402,
		`{"CheckItem":["u1"]}`:         70402,
		`{"CheckItem":[{"UserID":1}]}`: 60015,
	} {
		if got := codeOf(e.client.CallRaw(t.Context(), tencentim.CmdAccountCheck, []byte(body), nil)); got != want {
			t.Errorf("%s: code %d, want %d", body, got, want)
		}
	}
}

// spec §14 item 18: deleting an unknown user is a per-item 70107; a deleted user
// is NotImported and loses its profile, friends (both ways), conversations and
// group memberships; the UserID can be imported again.
func TestAccountDelete(t *testing.T) {
	e := newTestEnv(t)
	ctx := t.Context()
	e.importUsers(t, "u1", "u2", "u3")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.client.PortraitSet(ctx, &tencentim.PortraitSetRequest{FromAccount: "u1", ProfileItem: []tencentim.ProfileItem{{Tag: tencentim.TagNick, Value: jsonString("one")}}})
	must(err)
	for _, pair := range [][2]string{{"u1", "u2"}, {"u2", "u1"}, {"u3", "u1"}} {
		_, err = e.client.FriendImport(ctx, &tencentim.FriendImportRequest{FromAccount: pair[0], AddFriendItem: []tencentim.AddFriendItem{{ToAccount: pair[1], AddSource: "AddSource_Type_Test"}}})
		must(err)
	}
	_, err = e.client.ImportMsg(ctx, &tencentim.ImportMsgRequest{SyncFromOldSystem: 5, FromAccount: "u2", ToAccount: "u1", MsgRandom: 1, MsgSeq: 1, MsgTimeStamp: 100, MsgBody: textBody("x")})
	must(err)
	g, err := e.client.ImportGroup(ctx, &tencentim.ImportGroupRequest{Type: tencentim.GroupPublic, Name: "G", GroupID: "grp1", CreateTime: 10})
	must(err)
	_, err = e.client.ImportGroupMember(ctx, &tencentim.ImportGroupMemberRequest{GroupID: g.GroupID, MemberList: []tencentim.ImportMember{{MemberAccount: "u1", JoinTime: 20}, {MemberAccount: "u2", JoinTime: 20}}})
	must(err)

	resp, err := e.client.AccountDelete(ctx, &tencentim.AccountDeleteRequest{DeleteItem: []tencentim.AccountCheckItem{{UserID: "u1"}, {UserID: "nobody"}}})
	must(err)
	want := []tencentim.AccountDeleteResult{
		{UserID: "u1"},
		{UserID: "nobody", ResultCode: 70107, ResultInfo: "Err_TLS_PT_Open_Login_Account_Not_Exist"},
	}
	if !slices.Equal(resp.ResultItem, want) {
		t.Errorf("ResultItem = %+v, want %+v", resp.ResultItem, want)
	}
	check, err := e.client.AccountCheck(ctx, &tencentim.AccountCheckRequest{CheckItem: []tencentim.AccountCheckItem{{UserID: "u1"}}})
	must(err)
	if s := check.ResultItem[0].AccountStatus; s != tencentim.AccountNotImported {
		t.Errorf("deleted account status %q", s)
	}
	st := e.srv.State()
	for _, f := range st.Friends {
		if f.FromAccount == "u1" || f.ToAccount == "u1" {
			t.Errorf("friend %s→%s survived the delete", f.FromAccount, f.ToAccount)
		}
	}
	for _, rc := range st.RecentContacts {
		if rc.UserID == "u1" {
			t.Errorf("u1's recent contact %+v survived", rc)
		}
	}
	for _, u := range st.C2CUnread {
		if u.UserID == "u1" {
			t.Errorf("u1's unread count %+v survived", u)
		}
	}
	members, err := e.client.GetGroupMemberInfo(ctx, &tencentim.GetGroupMemberInfoRequest{GroupID: g.GroupID})
	must(err)
	for _, m := range members.MemberList {
		if m.MemberAccount == "u1" {
			t.Error("u1 is still a group member")
		}
	}
	if members.MemberNum != 1 {
		t.Errorf("MemberNum = %d, want 1", members.MemberNum)
	}

	// Re-import: a fresh account without the old profile.
	_, err = e.client.AccountImport(ctx, &tencentim.AccountImportRequest{UserID: "u1"})
	must(err)
	pg, err := e.client.PortraitGet(ctx, &tencentim.PortraitGetRequest{ToAccount: []string{"u1"}, TagList: []string{tencentim.TagNick}})
	must(err)
	if len(pg.UserProfileItem[0].ProfileItem) != 0 {
		t.Errorf("re-imported account kept its profile: %+v", pg.UserProfileItem[0])
	}
	items := make([]tencentim.AccountCheckItem, 101)
	for i := range items {
		items[i].UserID = fmt.Sprint("d", i)
	}
	if _, err := e.client.AccountDelete(ctx, &tencentim.AccountDeleteRequest{DeleteItem: items}); codeOf(err) != 70402 {
		t.Errorf("101 items: %v, want 70402", err)
	}
}

// spec §14 item 19: every API that references a never-imported account answers
// its own "account missing" code.
func TestNeverImportedAccount(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "u1")
	ctx := t.Context()
	tests := []struct {
		name string
		call func() error
		want int
	}{
		{"importmsg To_Account", func() error {
			_, err := e.client.ImportMsg(ctx, &tencentim.ImportMsgRequest{SyncFromOldSystem: 2, FromAccount: "u1", ToAccount: "ghost", MsgRandom: 1, MsgTimeStamp: 100, MsgBody: textBody("x")})
			return err
		}, 90012},
		{"importmsg From_Account (A32)", func() error {
			_, err := e.client.ImportMsg(ctx, &tencentim.ImportMsgRequest{SyncFromOldSystem: 2, FromAccount: "ghost", ToAccount: "u1", MsgRandom: 1, MsgTimeStamp: 100, MsgBody: textBody("x")})
			return err
		}, 90008},
		{"portrait_set", func() error {
			_, err := e.client.PortraitSet(ctx, &tencentim.PortraitSetRequest{FromAccount: "ghost", ProfileItem: []tencentim.ProfileItem{{Tag: tencentim.TagNick, Value: jsonString("x")}}})
			return err
		}, 40003},
		{"friend_import From_Account", func() error {
			_, err := e.client.FriendImport(ctx, &tencentim.FriendImportRequest{FromAccount: "ghost", AddFriendItem: []tencentim.AddFriendItem{{ToAccount: "u1", AddSource: "AddSource_Type_X"}}})
			return err
		}, 30003},
		{"friend_get", func() error {
			_, err := e.client.FriendGet(ctx, &tencentim.FriendGetRequest{FromAccount: "ghost"})
			return err
		}, 30003},
		{"recentcontact get_list", func() error {
			_, err := e.client.RecentContactList(ctx, &tencentim.RecentContactListRequest{FromAccount: "ghost"})
			return err
		}, 50001},
		{"admin_getroammsg Operator_Account", func() error {
			_, err := e.client.AdminGetRoamMsg(ctx, &tencentim.AdminGetRoamMsgRequest{OperatorAccount: "ghost", PeerAccount: "u1", MaxCnt: 10, MaxTime: 1 << 40})
			return err
		}, 90008},
		{"get_c2c_unread_msg_num To_Account", func() error {
			_, err := e.client.GetC2CUnreadMsgNum(ctx, &tencentim.GetC2CUnreadMsgNumRequest{ToAccount: "ghost"})
			return err
		}, 90003},
		{"import_group Owner_Account", func() error {
			_, err := e.client.ImportGroup(ctx, &tencentim.ImportGroupRequest{Type: tencentim.GroupPublic, Name: "G", OwnerAccount: "ghost"})
			return err
		}, 10004},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := codeOf(tc.call()); got != tc.want {
				t.Errorf("code = %d, want %d", got, tc.want)
			}
		})
	}
}

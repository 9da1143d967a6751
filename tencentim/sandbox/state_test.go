package sandbox

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim"
)

// populate fills a sandbox through the API with one of everything this half and
// the group half hold.
func populate(t *testing.T, e *testEnv) {
	t.Helper()
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	e.importUsers(t, "u1", "u2", "u3")
	_, err := e.client.AccountImport(ctx, &tencentim.AccountImportRequest{UserID: "u4", Nick: "Four", FaceURL: "https://x/4.png"})
	must(err)
	_, err = e.client.PortraitSet(ctx, &tencentim.PortraitSetRequest{FromAccount: "u1", ProfileItem: []tencentim.ProfileItem{
		profileItem("Tag_Profile_IM_Level", 3), profileItem("Tag_Profile_Custom_Bio", "hi"),
	}})
	must(err)
	_, err = e.client.FriendImport(ctx, &tencentim.FriendImportRequest{FromAccount: "u1", AddFriendItem: []tencentim.AddFriendItem{
		{ToAccount: "u2", AddSource: "AddSource_Type_X", Remark: "two", GroupName: []string{"b", "a"}, AddTime: 5,
			CustomItem: []tencentim.CustomItem{{Tag: "Tag_SNS_Custom_K", Value: []byte(`"v"`)}}},
		{ToAccount: "u3", AddSource: "AddSource_Type_X", AddTime: 6},
	}})
	must(err)
	for _, req := range []*tencentim.ImportMsgRequest{
		c2cReq("u2", "u1", 2, 9, 200, "b"),
		c2cReq("u1", "u2", 1, 9, 200, "a"),
		c2cReq("u3", "u1", 1, 1, 100, "c"),
	} {
		_, err := e.client.ImportMsg(ctx, req)
		must(err)
	}
	rt := c2cReq("u1", "u3", 7, 7, 300, "rt")
	rt.SyncFromOldSystem = tencentim.SyncRealtime
	rt.CloudCustomData = "ccd"
	_, err = e.client.ImportMsg(ctx, rt)
	must(err)
	g, err := e.client.ImportGroup(ctx, &tencentim.ImportGroupRequest{Type: tencentim.GroupPublic, Name: "G", GroupID: "g1", OwnerAccount: "u1", CreateTime: 50})
	must(err)
	_, err = e.client.ImportGroupMember(ctx, &tencentim.ImportGroupMemberRequest{GroupID: g.GroupID, MemberList: []tencentim.ImportMember{{MemberAccount: "u2", JoinTime: 60}}})
	must(err)
	_, err = e.client.ImportGroupMsg(ctx, &tencentim.ImportGroupMsgRequest{GroupID: g.GroupID, RecentContactFlag: 1, MsgList: []tencentim.GroupMsg{
		{FromAccount: "u1", SendTime: 70, Random: 1, MsgBody: textBody("g")},
	}})
	must(err)
}

// The dump lists everything, sorted, so two dumps compare equal.
func TestStateDump(t *testing.T) {
	e := newTestEnv(t)
	populate(t, e)
	st := e.srv.State()
	if got := accountIDs(st); !reflect.DeepEqual(got, []string{"u1", "u2", "u3", "u4"}) {
		t.Errorf("accounts %v", got)
	}
	if a := st.Accounts[3]; a.Nick != "Four" || a.FaceURL != "https://x/4.png" || len(a.Profile) != 2 {
		t.Errorf("u4 = %+v", a)
	}
	if len(st.Friends) != 2 || st.Friends[0].ToAccount != "u2" || !reflect.DeepEqual(st.Friends[0].GroupName, []string{"a", "b"}) {
		t.Errorf("friends %+v", st.Friends)
	}
	if len(st.C2C) != 2 || st.C2C[0].A != "u1" || st.C2C[0].B != "u2" || st.C2C[1].B != "u3" {
		t.Fatalf("conversations %+v", st.C2C)
	}
	first := st.C2C[0].Messages
	if len(first) != 2 || first[0].MsgSeq != 1 || first[1].MsgSeq != 2 || first[1].FromAccount != "u2" {
		t.Errorf("u1/u2 messages not in (time, MsgSeq) order: %+v", first)
	}
	if m := st.C2C[1].Messages[1]; m.SyncFromOldSystem != 5 || m.CloudCustomData != "ccd" || string(m.MsgBody) != `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"rt"}}]` {
		t.Errorf("realtime message %+v (%s)", m, m.MsgBody)
	}
	if !reflect.DeepEqual(st.C2CUnread, []UnreadState{{UserID: "u3", PeerAccount: "u1", Count: 1}}) {
		t.Errorf("unread %+v", st.C2CUnread)
	}
	var groupSessions int
	for _, rc := range st.RecentContacts {
		if rc.Type == 2 {
			groupSessions++
		}
	}
	if len(st.RecentContacts) != 4+groupSessions || groupSessions == 0 {
		t.Errorf("recent contacts %+v", st.RecentContacts)
	}
	if len(st.Groups) != 1 || st.Groups[0].GroupID != "g1" {
		t.Errorf("groups %+v", st.Groups)
	}
	a, _ := json.Marshal(st)
	b, _ := json.Marshal(e.srv.State())
	if !bytes.Equal(a, b) {
		t.Error("two dumps of the same state differ")
	}
}

// The same calls in another order give the same dump (the crash-test comparison
// of design §9 relies on it).
func TestStateDumpIndependentOfOrder(t *testing.T) {
	reqs := []*tencentim.ImportMsgRequest{
		c2cReq("a", "b", 1, 1, 10, "x"), c2cReq("b", "a", 2, 1, 10, "y"), c2cReq("a", "c", 1, 1, 5, "z"), c2cReq("c", "b", 3, 3, 1, "w"),
	}
	dump := func(order []int) []byte {
		e := newTestEnv(t)
		e.importUsers(t, "c", "a", "b")
		for _, i := range order {
			if _, err := e.client.ImportMsg(t.Context(), reqs[i]); err != nil {
				t.Fatal(err)
			}
		}
		b, err := json.Marshal(e.srv.State())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if a, b := dump([]int{0, 1, 2, 3}), dump([]int{3, 1, 2, 0, 1}); !bytes.Equal(a, b) {
		t.Errorf("dumps differ:\n%s\n%s", a, b)
	}
}

// Save then Load (and Config.StateFile on New) reproduce the state exactly, and
// the restored sandbox keeps working: dedup, unread counts and friends survive.
func TestSaveLoadRoundTrip(t *testing.T) {
	e := newTestEnv(t)
	populate(t, e)
	path := filepath.Join(t.TempDir(), "state.json")
	if err := e.srv.Save(path); err != nil {
		t.Fatal(err)
	}
	want := e.srv.State()

	e2 := newTestEnv(t, func(c *Config) { c.StateFile = path })
	if got := e2.srv.State(); !reflect.DeepEqual(got, want) {
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		t.Fatalf("state after New with StateFile:\n%s\nwant\n%s", gj, wj)
	}
	// A resent message is still a duplicate; a new one is added.
	if _, err := e2.client.ImportMsg(t.Context(), c2cReq("u1", "u2", 1, 9, 200, "again")); err != nil {
		t.Fatal(err)
	}
	if n := len(e2.srv.State().C2C[0].Messages); n != 2 {
		t.Errorf("after a resend: %d messages, want 2", n)
	}
	unread, err := e2.client.GetC2CUnreadMsgNum(t.Context(), &tencentim.GetC2CUnreadMsgNumRequest{ToAccount: "u3"})
	if err != nil || unread.AllC2CUnreadMsgNum != 1 {
		t.Errorf("unread after restore: %+v, %v", unread, err)
	}
	fg, err := e2.client.FriendGet(t.Context(), &tencentim.FriendGetRequest{FromAccount: "u1"})
	if err != nil || fg.FriendNum != 2 {
		t.Errorf("friends after restore: %+v, %v", fg, err)
	}

	// Load into a running server replaces what it had.
	e3 := newTestEnv(t)
	e3.importUsers(t, "stale")
	if err := e3.srv.Load(path); err != nil {
		t.Fatal(err)
	}
	if got := e3.srv.State(); !reflect.DeepEqual(got, want) {
		t.Error("Load did not replace the state")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("Save left %d files behind, want only the state file", len(entries))
	}
}

// A bad or inconsistent state file is an error, and leaves the state unchanged.
func TestLoadRejectsBadState(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string
		wantErr string
	}{
		{"not JSON", "{", "load"},
		{"bad UserID", `{"Accounts":[{"UserID":""}]}`, "invalid UserID"},
		{"duplicate account", `{"Accounts":[{"UserID":"a"},{"UserID":"a"}]}`, "twice"},
		{"friend of nobody", `{"Accounts":[{"UserID":"a"}],"Friends":[{"From_Account":"a","To_Account":"b","AddSource":"x"}]}`, "unknown account"},
		{"message outside its conversation", `{"Accounts":[{"UserID":"a"},{"UserID":"b"},{"UserID":"c"}],"C2C":[{"A":"a","B":"b","Messages":[{"From_Account":"a","To_Account":"c","MsgTimeStamp":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}]}]}`, "does not belong"},
		{"bad body", `{"Accounts":[{"UserID":"a"},{"UserID":"b"}],"C2C":[{"A":"a","B":"b","Messages":[{"From_Account":"a","To_Account":"b","MsgTimeStamp":1,"MsgBody":[]}]}]}`, "empty"},
		{"bad profile", `{"Accounts":[{"UserID":"a","Profile":[{"Tag":"Tag_Foo","Value":"x"}]}]}`, "profile"},
		{"unknown session type", `{"Accounts":[{"UserID":"a"}],"RecentContacts":[{"UserID":"a","Type":3,"MsgTime":1}]}`, "type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.importUsers(t, "keep")
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".json")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			err := e.srv.Load(path)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
			if got := accountIDs(e.srv.State()); !reflect.DeepEqual(got, []string{"keep"}) {
				t.Errorf("state changed to %v", got)
			}
			if _, err := New(Config{SDKAppID: 1, SecretKey: secret.New("k"), Admins: []string{"a"}, StateFile: path}); err == nil {
				t.Error("New accepted the bad state file")
			}
		})
	}
	t.Run("missing StateFile starts empty", func(t *testing.T) {
		e := newTestEnv(t, func(c *Config) { c.StateFile = filepath.Join(dir, "does-not-exist.json") })
		if n := len(e.srv.State().Accounts); n != 0 {
			t.Errorf("%d accounts", n)
		}
	})
}

func TestNewValidatesConfig(t *testing.T) {
	ok := Config{SDKAppID: 1, SecretKey: secret.New("k"), Admins: []string{"admin"}}
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"no sdkappid", func(c *Config) { c.SDKAppID = 0 }},
		{"no key", func(c *Config) { c.SecretKey = secret.Secret{} }},
		{"no admin", func(c *Config) { c.Admins = nil }},
		{"bad admin", func(c *Config) { c.Admins = []string{"has space"} }},
		{"zero rate", func(c *Config) { c.RateLimits = map[tencentim.Command]float64{tencentim.CmdImportMsg: 0} }},
		{"negative latency", func(c *Config) { c.Latency = -1 }},
		{"negative limit", func(c *Config) { c.AccountLimit = -1 }},
	}
	if _, err := New(ok); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mod(&c)
			if _, err := New(c); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

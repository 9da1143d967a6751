package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/immigrate/immigrate/tencentim"
)

// Helpers of the group tests. Times are relative to the fake clock: groups are
// created a day before now, messages an hour before.

const (
	dayAgo  = -86400
	hourAgo = -3600
)

func (e *testEnv) unix(offset int64) int64 { return e.clock.Now().Unix() + offset }

// mustImportGroup imports a group and returns its ID.
func (e *testEnv) mustImportGroup(t *testing.T, req *tencentim.ImportGroupRequest) string {
	t.Helper()
	resp, err := e.client.ImportGroup(t.Context(), req)
	if err != nil {
		t.Fatalf("import_group %+v: %v", req, err)
	}
	return resp.GroupID
}

// publicGroup imports a Public group with this custom ID and owner, created a day ago.
func (e *testEnv) publicGroup(t *testing.T, id, owner string) string {
	t.Helper()
	return e.mustImportGroup(t, &tencentim.ImportGroupRequest{
		Type: tencentim.GroupPublic, GroupID: id, Name: "G " + id, OwnerAccount: owner, CreateTime: e.unix(dayAgo),
	})
}

func (e *testEnv) mustImportMembers(t *testing.T, groupID string, accounts ...string) {
	t.Helper()
	req := &tencentim.ImportGroupMemberRequest{GroupID: groupID}
	for _, a := range accounts {
		req.MemberList = append(req.MemberList, tencentim.ImportMember{MemberAccount: a, JoinTime: e.unix(dayAgo + 60)})
	}
	resp, err := e.client.ImportGroupMember(t.Context(), req)
	if err != nil {
		t.Fatalf("import_group_member: %v", err)
	}
	for _, r := range resp.MemberList {
		if r.Result != tencentim.MemberImported {
			t.Fatalf("import_group_member %s: Result %d", r.MemberAccount, r.Result)
		}
	}
}

// textGroupMsg is a text message.
func textGroupMsg(from string, sendTime int64, random uint32, text string) tencentim.GroupMsg {
	return tencentim.GroupMsg{FromAccount: from, SendTime: sendTime, Random: random, MsgBody: textBody(text)}
}

// mustImportMsgs imports msgs and requires every Result to be 0; it returns the seqs.
func (e *testEnv) mustImportMsgs(t *testing.T, groupID string, msgs ...tencentim.GroupMsg) []uint64 {
	t.Helper()
	resp, err := e.client.ImportGroupMsg(t.Context(), &tencentim.ImportGroupMsgRequest{GroupID: groupID, MsgList: msgs})
	if err != nil {
		t.Fatalf("import_group_msg: %v", err)
	}
	var seqs []uint64
	for i, r := range resp.ImportMsgResult {
		if r.Result != 0 {
			t.Fatalf("import_group_msg message %d: Result %d", i, r.Result)
		}
		seqs = append(seqs, r.MsgSeq)
	}
	return seqs
}

// groupInfo reads one group with get_group_info and no filter.
func (e *testEnv) groupInfo(t *testing.T, id string) tencentim.GroupInfo {
	t.Helper()
	resp, err := e.client.GetGroupInfo(t.Context(), &tencentim.GetGroupInfoRequest{GroupIDList: []string{id}})
	if err != nil {
		t.Fatalf("get_group_info: %v", err)
	}
	if len(resp.GroupInfo) != 1 {
		t.Fatalf("get_group_info: %d entries, want 1", len(resp.GroupInfo))
	}
	return resp.GroupInfo[0]
}

// members reads every member of a group by account, following Next cursors for
// a community.
func (e *testEnv) members(t *testing.T, groupID string) map[string]tencentim.GroupMemberInfo {
	t.Helper()
	out := map[string]tencentim.GroupMemberInfo{}
	req := &tencentim.GetGroupMemberInfoRequest{GroupID: groupID}
	if strings.HasPrefix(groupID, communityIDPrefix) {
		req.Next = new(string)
	}
	for {
		resp, err := e.client.GetGroupMemberInfo(t.Context(), req)
		if err != nil {
			t.Fatalf("get_group_member_info: %v", err)
		}
		for _, m := range resp.MemberList {
			out[m.MemberAccount] = m
		}
		if resp.Next == nil || *resp.Next == "" {
			return out
		}
		req.Next = resp.Next
	}
}

func unreadOf(t *testing.T, m tencentim.GroupMemberInfo) int {
	t.Helper()
	if m.UnreadMsgNum == nil {
		t.Fatalf("member %s: no UnreadMsgNum", m.MemberAccount)
	}
	return *m.UnreadMsgNum
}

// callRaw sends body as-is and returns the error code (0 for OK) and the answer.
func (e *testEnv) callRaw(t *testing.T, cmd tencentim.Command, body string) (int, map[string]any) {
	t.Helper()
	var resp map[string]any
	err := e.client.CallRaw(t.Context(), cmd, []byte(body), &resp)
	return codeOf(err), resp
}

func accounts(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	return ids
}

// spec §14 items 39 and 40: assigned IDs in the vendor's shapes; SupportTopic
// makes a community topic-enabled.
func TestImportGroupAssignedID(t *testing.T) {
	e := newTestEnv(t)
	tests := []struct {
		name      string
		req       tencentim.ImportGroupRequest
		pattern   string
		wantTopic bool
	}{
		{"item 39 public", tencentim.ImportGroupRequest{Type: "Public", Name: "G"}, `^@TGS#[0-9A-Za-z]+$`, false},
		{"private", tencentim.ImportGroupRequest{Type: "Private", Name: "G"}, `^@TGS#[0-9A-Za-z]+$`, false},
		{"work alias", tencentim.ImportGroupRequest{Type: "Work", Name: "G"}, `^@TGS#[0-9A-Za-z]+$`, false},
		{"item 40 community", tencentim.ImportGroupRequest{Type: "Community", Name: "G"}, `^@TGS#_@TGS#[0-9A-Za-z]+$`, false},
		{"item 40 topic-enabled community", tencentim.ImportGroupRequest{Type: "Community", Name: "G", SupportTopic: 1}, `^@TGS#_@TGS#[0-9A-Za-z]+$`, true},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := e.mustImportGroup(t, &tt.req)
			if !regexp.MustCompile(tt.pattern).MatchString(id) {
				t.Errorf("GroupId %q does not match %s", id, tt.pattern)
			}
			if seen[id] {
				t.Errorf("GroupId %q assigned twice", id)
			}
			seen[id] = true
			_, err := e.client.ImportTopic(t.Context(), &tencentim.ImportTopicRequest{GroupID: id, TopicName: "T"})
			if got := err == nil; got != tt.wantTopic {
				t.Errorf("import_topic succeeded = %v, want %v (err %v)", got, tt.wantTopic, err)
			}
		})
	}
}

// The same seed and calls assign the same IDs (Config.Seed), a different seed others.
func TestAssignedGroupIDsAreSeeded(t *testing.T) {
	ids := func(seed int64) []string {
		e := newTestEnv(t, func(c *Config) { c.Seed = seed })
		var out []string
		for range 3 {
			out = append(out, e.mustImportGroup(t, &tencentim.ImportGroupRequest{Type: "Public", Name: "G"}))
		}
		return out
	}
	a, b, c := ids(7), ids(7), ids(8)
	if !slices.Equal(a, b) {
		t.Errorf("seed 7 gave %v then %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 7 and 8 both gave %v", a)
	}
}

// spec §14 items 41, 43-46, 19 (owner), and design §7 A36, A33: request-level
// rejections of import_group.
func TestImportGroupRejects(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "owner")
	future := e.unix(10)
	tests := []struct {
		name string
		body string
		want int
	}{
		{"item 41 AVChatRoom", `{"Type":"AVChatRoom","Name":"G"}`, 10007},
		{"item 43 Name 31 bytes", `{"Type":"Public","Name":"` + strings.Repeat("n", 31) + `"}`, 10004},
		{"item 43 Name 33 bytes of CJK", `{"Type":"Public","Name":"` + strings.Repeat("群", 11) + `"}`, 10004},
		{"item 43 Introduction 241 bytes", `{"Type":"Public","Name":"G","Introduction":"` + strings.Repeat("i", 241) + `"}`, 10004},
		{"item 43 Notification 301 bytes", `{"Type":"Public","Name":"G","Notification":"` + strings.Repeat("n", 301) + `"}`, 10004},
		{"item 43 FaceUrl 101 bytes", `{"Type":"Public","Name":"G","FaceUrl":"` + strings.Repeat("f", 101) + `"}`, 10004},
		{"item 44 no Name", `{"Type":"Public"}`, 10004},
		{"item 44 empty Name", `{"Type":"Public","Name":""}`, 10004},
		{"item 44 no Type", `{"Name":"G"}`, 10004},
		{"unknown Type", `{"Type":"Secret","Name":"G"}`, 10004},
		{"Name not a string", `{"Type":"Public","Name":5}`, 10004},
		{"item 45 MaxMemberCount 6001", `{"Type":"Public","Name":"G","MaxMemberCount":6001}`, 10004},
		{"item 45 Community MaxMemberCount 100001", `{"Type":"Community","Name":"G","MaxMemberCount":100001}`, 10004},
		{"negative MaxMemberCount", `{"Type":"Public","Name":"G","MaxMemberCount":-1}`, 10004},
		{"item 46 ApplyJoinOption on Community", `{"Type":"Community","Name":"G","ApplyJoinOption":"FreeAccess"}`, 10004},
		{"unknown ApplyJoinOption", `{"Type":"Public","Name":"G","ApplyJoinOption":"Maybe"}`, 10004},
		{"item 19 unknown owner", `{"Type":"Public","Name":"G","Owner_Account":"ghost"}`, 10004},
		{"item 9 owner not a string", `{"Type":"Public","Name":"G","Owner_Account":7}`, 60015},
		{"A36 custom ID with @TGS#", `{"Type":"Public","Name":"G","GroupId":"@TGS#mine"}`, 10004},
		{"A36 custom ID 49 bytes", `{"Type":"Public","Name":"G","GroupId":"` + strings.Repeat("g", 49) + `"}`, 10004},
		{"A36 custom ID control byte", `{"Type":"Public","Name":"G","GroupId":"a\u0001b"}`, 10004},
		{"A36 custom ID non-ASCII", `{"Type":"Public","Name":"G","GroupId":"grüppe"}`, 10004},
		{"A36 community custom ID without @TGS#_", `{"Type":"Community","Name":"G","GroupId":"mine"}`, 10004},
		{"A36 community custom ID only the prefix", `{"Type":"Community","Name":"G","GroupId":"@TGS#_"}`, 10004},
		{"A33 CreateTime in the future", fmt.Sprintf(`{"Type":"Public","Name":"G","CreateTime":%d}`, future), 10004},
		{"SupportTopic on Public", `{"Type":"Public","Name":"G","SupportTopic":1}`, 10004},
		{"SupportTopic 2", `{"Type":"Community","Name":"G","SupportTopic":2}`, 10004},
		{"AppDefinedData without Value", `{"Type":"Public","Name":"G","AppDefinedData":[{"Key":"k"}]}`, 10004},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := e.callRaw(t, tencentim.CmdImportGroup, tt.body); got != tt.want {
				t.Errorf("code %d, want %d", got, tt.want)
			}
		})
	}
	if n := len(e.srv.State().Groups); n != 0 {
		t.Errorf("rejected imports left %d groups", n)
	}
}

// Bodies that are valid at the limits.
func TestImportGroupAcceptsLimits(t *testing.T) {
	e := newTestEnv(t)
	tests := []struct {
		name string
		body string
	}{
		{"Name 30 bytes", `{"Type":"Public","Name":"` + strings.Repeat("n", 30) + `"}`},
		{"Name 10 CJK = 30 bytes", `{"Type":"Public","Name":"` + strings.Repeat("群", 10) + `"}`},
		{"MaxMemberCount 6000", `{"Type":"Public","Name":"G","MaxMemberCount":6000}`},
		{"Community MaxMemberCount 100000", `{"Type":"Community","Name":"G","MaxMemberCount":100000}`},
		{"custom ID 48 bytes", `{"Type":"Public","Name":"G","GroupId":"` + strings.Repeat("g", 48) + `"}`},
		{"custom ID with a space", `{"Type":"Public","Name":"G","GroupId":"a b"}`},
		{"community custom ID", `{"Type":"Community","Name":"G","GroupId":"@TGS#_mine"}`},
		{"meeting alias", `{"Type":"Meeting","Name":"G"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, resp := e.callRaw(t, tencentim.CmdImportGroup, tt.body); got != 0 {
				t.Errorf("code %d, want 0 (%v)", got, resp)
			}
		})
	}
}

// spec §14 item 42 and §8.16: a custom ID is echoed, and stays taken — also after
// destroy_group (10021 on import, 10025 on create).
func TestImportGroupCustomID(t *testing.T) {
	e := newTestEnv(t)
	if id := e.mustImportGroup(t, &tencentim.ImportGroupRequest{Type: "Public", Name: "G", GroupID: "MyFirstGroup"}); id != "MyFirstGroup" {
		t.Fatalf("GroupId %q, want MyFirstGroup", id)
	}
	steps := []struct {
		name string
		do   func() error
		want int
	}{
		{"item 42 import again", func() error {
			_, err := e.client.ImportGroup(t.Context(), &tencentim.ImportGroupRequest{Type: "Private", Name: "H", GroupID: "MyFirstGroup"})
			return err
		}, 10021},
		{"create while live", func() error {
			_, err := e.client.CreateGroup(t.Context(), &tencentim.CreateGroupRequest{Type: "Public", Name: "H", GroupID: "MyFirstGroup"})
			return err
		}, 10021},
		{"destroy", func() error {
			_, err := e.client.DestroyGroup(t.Context(), &tencentim.DestroyGroupRequest{GroupID: "MyFirstGroup"})
			return err
		}, 0},
		{"import after destroy", func() error {
			_, err := e.client.ImportGroup(t.Context(), &tencentim.ImportGroupRequest{Type: "Public", Name: "H", GroupID: "MyFirstGroup"})
			return err
		}, 10021},
		{"create after destroy", func() error {
			_, err := e.client.CreateGroup(t.Context(), &tencentim.CreateGroupRequest{Type: "Public", Name: "H", GroupID: "MyFirstGroup"})
			return err
		}, 10025},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if got := codeOf(st.do()); got != st.want {
				t.Errorf("code %d, want %d", got, st.want)
			}
		})
	}
}

// spec §14 items 45, 47, 48 and A10: profile fields read back through get_group_info.
func TestImportGroupProfileReadBack(t *testing.T) {
	tests := []struct {
		name        string
		defaultMax  int
		req         tencentim.ImportGroupRequest
		wantMax     int
		wantApply   string
		wantMembers int
	}{
		{"item 45 default MaxMemberNum 2000", 0, tencentim.ImportGroupRequest{Type: "Public", Name: "G"}, 2000, "NeedPermission", 0},
		{"A10 configured default", 500, tencentim.ImportGroupRequest{Type: "Public", Name: "G"}, 500, "NeedPermission", 0},
		{"explicit MaxMemberCount", 0, tencentim.ImportGroupRequest{Type: "Private", Name: "G", MaxMemberCount: 42, ApplyJoinOption: "FreeAccess"}, 42, "FreeAccess", 0},
		{"item 47 owner", 0, tencentim.ImportGroupRequest{Type: "Public", Name: "G", OwnerAccount: "boss"}, 2000, "NeedPermission", 1},
		{"community has no ApplyJoinOption", 0, tencentim.ImportGroupRequest{Type: "Community", Name: "G", OwnerAccount: "boss"}, 2000, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, func(c *Config) { c.DefaultMaxMemberCount = tt.defaultMax })
			e.importUsers(t, "boss")
			created := e.unix(-12345) // item 48
			req := tt.req
			req.CreateTime = created
			req.Introduction, req.Notification, req.FaceURL = "intro", "notice", "https://x/face.png"
			req.AppDefinedData = []tencentim.AppDefinedData{{Key: "k", Value: "abc\u0000\u0001"}}
			id := e.mustImportGroup(t, &req)
			got := e.groupInfo(t, id)
			want := tencentim.GroupInfo{
				GroupID: id, Type: tt.req.Type, Name: "G", Appid: testSDKAppID, Introduction: "intro",
				Notification: "notice", FaceURL: "https://x/face.png", OwnerAccount: tt.req.OwnerAccount,
				CreateTime: created, LastInfoTime: created, NextMsgSeq: 1, MemberNum: tt.wantMembers,
				MaxMemberNum: tt.wantMax, ApplyJoinOption: tt.wantApply, MuteAllMember: "Off",
				AppDefinedData: req.AppDefinedData,
			}
			if tt.req.OwnerAccount != "" {
				zero := 0
				want.MemberList = []tencentim.GroupMemberInfo{{
					MemberAccount: "boss", Role: "Owner", JoinTime: created, MsgFlag: "AcceptAndNotify", UnreadMsgNum: &zero,
				}}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("get_group_info\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// spec §14 items 49 and 50: create_group.
func TestCreateGroup(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, accounts("m", 101)...)
	e.importUsers(t, "boss")
	hundredOne := make([]tencentim.CreateGroupMember, 101)
	for i, a := range accounts("m", 101) {
		hundredOne[i] = tencentim.CreateGroupMember{MemberAccount: a}
	}
	tests := []struct {
		name        string
		req         tencentim.CreateGroupRequest
		want        int
		wantMembers int
	}{
		{"item 49 AVChatRoom with members", tencentim.CreateGroupRequest{Type: "AVChatRoom", Name: "G", MemberList: hundredOne[:1]}, 10007, 0},
		{"AVChatRoom without members", tencentim.CreateGroupRequest{Type: "AVChatRoom", Name: "G", OwnerAccount: "boss"}, 0, 1},
		{"item 50 101 members", tencentim.CreateGroupRequest{Type: "Public", Name: "G", MemberList: hundredOne}, 10005, 0},
		{"100 members and owner", tencentim.CreateGroupRequest{Type: "Public", Name: "G", OwnerAccount: "boss", MemberList: hundredOne[:100]}, 0, 101},
		{"admin role", tencentim.CreateGroupRequest{Type: "Private", Name: "G", MemberList: []tencentim.CreateGroupMember{{MemberAccount: "m0000", Role: "Admin"}}}, 0, 1},
		{"owner role in MemberList", tencentim.CreateGroupRequest{Type: "Private", Name: "G", MemberList: []tencentim.CreateGroupMember{{MemberAccount: "m0000", Role: "Owner"}}}, 10004, 0},
		{"unknown member", tencentim.CreateGroupRequest{Type: "Private", Name: "G", MemberList: []tencentim.CreateGroupMember{{MemberAccount: "ghost"}}}, 10004, 0},
		{"members over MaxMemberCount", tencentim.CreateGroupRequest{Type: "Private", Name: "G", MaxMemberCount: 2, OwnerAccount: "boss", MemberList: hundredOne[:2]}, 10038, 0},
		{"community custom ID", tencentim.CreateGroupRequest{Type: "Community", Name: "G", GroupID: "@TGS#_c1"}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.client.CreateGroup(t.Context(), &tt.req)
			if got := codeOf(err); got != tt.want {
				t.Fatalf("code %d, want %d", got, tt.want)
			}
			if err != nil {
				return
			}
			if got := e.groupInfo(t, resp.GroupID); got.MemberNum != tt.wantMembers || got.Type != tt.req.Type {
				t.Errorf("MemberNum %d Type %s, want %d %s", got.MemberNum, got.Type, tt.wantMembers, tt.req.Type)
			}
		})
	}
}

// spec §14 item 83: a destroyed group is gone for every API.
func TestDestroyGroup(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "u1")
	id := e.publicGroup(t, "doomed", "u1")
	e.mustImportMsgs(t, id, textGroupMsg("u1", e.unix(hourAgo), 1, "hi"))
	if _, err := e.client.DestroyGroup(t.Context(), &tencentim.DestroyGroupRequest{GroupID: id}); err != nil {
		t.Fatalf("destroy_group: %v", err)
	}
	tests := []struct {
		name string
		do   func() error
		want int
	}{
		{"get_group_info entry", func() error {
			if info := e.groupInfo(t, id); info.ErrorCode != 0 {
				return &tencentim.Error{Code: info.ErrorCode}
			}
			return nil
		}, 10010},
		{"import_group_msg", func() error {
			_, err := e.client.ImportGroupMsg(t.Context(), &tencentim.ImportGroupMsgRequest{GroupID: id, MsgList: []tencentim.GroupMsg{textGroupMsg("u1", e.unix(-60), 2, "x")}})
			return err
		}, 10010},
		{"import_group_member", func() error {
			_, err := e.client.ImportGroupMember(t.Context(), &tencentim.ImportGroupMemberRequest{GroupID: id, MemberList: []tencentim.ImportMember{{MemberAccount: "u1"}}})
			return err
		}, 10010},
		{"group_msg_get_simple", func() error {
			_, err := e.client.GroupMsgGetSimple(t.Context(), &tencentim.GroupMsgGetSimpleRequest{GroupID: id, ReqMsgNumber: 1})
			return err
		}, 10010},
		{"destroy again", func() error {
			_, err := e.client.DestroyGroup(t.Context(), &tencentim.DestroyGroupRequest{GroupID: id})
			return err
		}, 10010},
		{"malformed ID", func() error {
			_, err := e.client.DestroyGroup(t.Context(), &tencentim.DestroyGroupRequest{GroupID: ""})
			return err
		}, 10015},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := codeOf(tt.do()); got != tt.want {
				t.Errorf("code %d, want %d", got, tt.want)
			}
		})
	}
	list, err := e.client.GetAppIDGroupList(t.Context(), &tencentim.GetAppIDGroupListRequest{})
	if err != nil || list.TotalCount != 0 {
		t.Errorf("get_appid_group_list after destroy: TotalCount %d, err %v", list.TotalCount, err)
	}
	st := e.srv.State().Groups
	if len(st) != 1 || !st[0].Destroyed || len(st[0].Messages) != 0 {
		t.Errorf("state %+v, want one destroyed group without messages", st)
	}
}

// spec §14 item 84: change_group_owner.
func TestChangeGroupOwner(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "old", "new", "outsider")
	id := e.publicGroup(t, "g", "old")
	e.mustImportMembers(t, id, "new")
	av, err := e.client.CreateGroup(t.Context(), &tencentim.CreateGroupRequest{Type: "AVChatRoom", Name: "AV", OwnerAccount: "old"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, group, to string
		want            int
	}{
		{"item 84 non-member", id, "outsider", 10004},
		{"unknown account", id, "ghost", 10004},
		{"item 84 AVChatRoom", av.GroupID, "old", 10007},
		{"unknown group", "nope", "new", 10010},
		{"item 84 member", id, "new", 0},
		{"already the owner", id, "new", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.client.ChangeGroupOwner(t.Context(), &tencentim.ChangeGroupOwnerRequest{GroupID: tt.group, NewOwnerAccount: tt.to})
			if got := codeOf(err); got != tt.want {
				t.Errorf("code %d, want %d", got, tt.want)
			}
		})
	}
	if info := e.groupInfo(t, id); info.OwnerAccount != "new" {
		t.Errorf("Owner_Account %q, want new", info.OwnerAccount)
	}
	m := e.members(t, id)
	if m["new"].Role != "Owner" || m["old"].Role != "Member" {
		t.Errorf("roles new=%q old=%q, want Owner and Member", m["new"].Role, m["old"].Role)
	}
}

// spec §14 item 82: get_appid_group_list pages with an integer cursor.
func TestGetAppIDGroupList(t *testing.T) {
	e := newTestEnv(t)
	want := map[string][]string{}
	for i, typ := range []string{"Public", "Private", "Public", "Community", "Public", "ChatRoom", "Private"} {
		req := &tencentim.ImportGroupRequest{Type: typ, Name: "G", GroupID: fmt.Sprintf("g%d", i)}
		if typ == "Community" {
			req.GroupID = "@TGS#_g"
		}
		id := e.mustImportGroup(t, req)
		want[typ] = append(want[typ], id)
		want[""] = append(want[""], id)
	}
	if _, err := e.client.DestroyGroup(t.Context(), &tencentim.DestroyGroupRequest{GroupID: "g2"}); err != nil {
		t.Fatal(err)
	}
	want["Public"] = slices.DeleteFunc(want["Public"], func(s string) bool { return s == "g2" })
	want[""] = slices.DeleteFunc(want[""], func(s string) bool { return s == "g2" })
	want["Work"] = want["Private"]
	for _, tc := range []struct {
		groupType string
		limit     int
	}{{"", 2}, {"", 0}, {"", 100}, {"Public", 1}, {"Private", 2}, {"Work", 1}, {"Community", 5}, {"AVChatRoom", 3}, {"BChatRoom", 3}} {
		t.Run(fmt.Sprintf("type %q limit %d", tc.groupType, tc.limit), func(t *testing.T) {
			var got []string
			next := uint64(0)
			for page := 0; ; page++ {
				if page > 20 {
					t.Fatal("paging does not end")
				}
				resp, err := e.client.GetAppIDGroupList(t.Context(), &tencentim.GetAppIDGroupListRequest{Limit: tc.limit, Next: next, GroupType: tc.groupType})
				if err != nil {
					t.Fatal(err)
				}
				if resp.TotalCount != len(want[tc.groupType]) {
					t.Errorf("page %d TotalCount %d, want %d", page, resp.TotalCount, len(want[tc.groupType]))
				}
				if tc.limit > 0 && len(resp.GroupIDList) > tc.limit {
					t.Errorf("page %d holds %d > Limit %d", page, len(resp.GroupIDList), tc.limit)
				}
				for _, g := range resp.GroupIDList {
					got = append(got, g.GroupID)
				}
				if resp.Next == 0 {
					break
				}
				next = resp.Next
			}
			if !slices.Equal(got, want[tc.groupType]) {
				t.Errorf("listed %v, want %v", got, want[tc.groupType])
			}
		})
	}
	for _, body := range []string{`{"GroupType":"Secret"}`, `{"Limit":-1}`, `{"Next":"x"}`} {
		if code, _ := e.callRaw(t, tencentim.CmdGetAppIDGroupList, body); code != 10004 {
			t.Errorf("%s: code %d, want 10004", body, code)
		}
	}
}

// spec §14 item 18: account_delete removes the user's memberships; a deleted owner
// leaves the group ownerless.
func TestAccountDeleteRemovesMemberships(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "owner", "stay", "leave")
	g1 := e.publicGroup(t, "g1", "owner")
	g2 := e.publicGroup(t, "g2", "leave")
	e.mustImportMembers(t, g1, "stay", "leave")
	e.mustImportMembers(t, g2, "stay")
	if _, err := e.client.AccountDelete(t.Context(), &tencentim.AccountDeleteRequest{DeleteItem: []tencentim.AccountCheckItem{{UserID: "leave"}}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		group     string
		wantOwner string
		want      []string
	}{
		{g1, "owner", []string{"owner", "stay"}},
		{g2, "", []string{"stay"}},
	}
	for _, tt := range tests {
		t.Run(tt.group, func(t *testing.T) {
			info := e.groupInfo(t, tt.group)
			var got []string
			for _, m := range info.MemberList {
				got = append(got, m.MemberAccount)
			}
			if info.OwnerAccount != tt.wantOwner || !slices.Equal(got, tt.want) || info.MemberNum != len(tt.want) {
				t.Errorf("owner %q members %v (MemberNum %d), want %q %v", info.OwnerAccount, got, info.MemberNum, tt.wantOwner, tt.want)
			}
		})
	}
	// Re-imported, the account is a stranger to its old groups.
	e.importUsers(t, "leave")
	resp, err := e.client.ImportGroupMember(t.Context(), &tencentim.ImportGroupMemberRequest{GroupID: g1, MemberList: []tencentim.ImportMember{{MemberAccount: "leave"}}})
	if err != nil || resp.MemberList[0].Result != tencentim.MemberImported {
		t.Errorf("re-import member: %+v, %v; want Result 1", resp, err)
	}
}

// populateGroups builds a store with every kind of group state.
func populateGroups(t *testing.T, e *testEnv) {
	t.Helper()
	e.importUsers(t, "alice", "bob", "carol")
	g := e.publicGroup(t, "pub", "alice")
	e.mustImportMembers(t, g, "bob", "carol")
	e.mustImportMsgs(t, g,
		textGroupMsg("alice", e.unix(hourAgo), 11, "one"),
		textGroupMsg("bob", e.unix(hourAgo+1), 12, "two"),
		textGroupMsg("carol", e.unix(hourAgo+1), 0, "three"))
	if _, err := e.client.SetUnreadMsgNum(t.Context(), &tencentim.SetUnreadMsgNumRequest{GroupID: g, MemberAccount: "bob", UnreadMsgNum: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.ImportGroupMember(t.Context(), &tencentim.ImportGroupMemberRequest{GroupID: g, MemberList: []tencentim.ImportMember{}}); codeOf(err) != 10004 {
		t.Fatalf("empty MemberList: %v", err)
	}
	c := e.mustImportGroup(t, &tencentim.ImportGroupRequest{
		Type: "Community", GroupID: "@TGS#_comm", Name: "C", SupportTopic: 1, OwnerAccount: "bob", CreateTime: e.unix(dayAgo),
		AppDefinedData: []tencentim.AppDefinedData{{Key: "k", Value: "v"}},
	})
	tp, err := e.client.ImportTopic(t.Context(), &tencentim.ImportTopicRequest{GroupID: c, TopicID: c + "@TOPIC#_t1", TopicName: "T1", FromAccount: "bob", CustomString: "cs"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.ImportGroupMsg(t.Context(), &tencentim.ImportGroupMsgRequest{GroupID: c, TopicID: tp.TopicID, MsgList: []tencentim.GroupMsg{textGroupMsg("bob", e.unix(-30), 5, "in topic")}}); err != nil {
		t.Fatal(err)
	}
	e.mustImportMsgs(t, c, textGroupMsg("bob", e.unix(-20), 6, "in community"))
	gone := e.publicGroup(t, "gone", "")
	if _, err := e.client.DestroyGroup(t.Context(), &tencentim.DestroyGroupRequest{GroupID: gone}); err != nil {
		t.Fatal(err)
	}
}

// The state dump of the group half survives Restore (and Save/Load) unchanged,
// and the restored store behaves like the original.
func TestGroupStateRoundTrip(t *testing.T) {
	e := newTestEnv(t)
	populateGroups(t, e)
	before := e.srv.State()
	if got := len(before.Groups); got != 3 {
		t.Fatalf("%d groups in the dump, want 3", got)
	}
	pub := before.Groups[slices.IndexFunc(before.Groups, func(g GroupState) bool { return g.GroupID == "pub" })]
	if len(pub.Messages) != 3 || pub.Messages[2].MsgSeq != 3 || string(pub.Messages[0].MsgBody) != `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"one"}}]` {
		t.Errorf("pub messages %+v", pub.Messages)
	}
	if bob := pub.Members[slices.IndexFunc(pub.Members, func(m GroupMemberState) bool { return m.Account == "bob" })]; bob.UnreadMsgNum != 2 || bob.LastReadSeq != 1 || bob.LastSendMsgTime != e.unix(hourAgo+1) {
		t.Errorf("bob %+v, want unread 2 at read seq 1", bob)
	}

	path := t.TempDir() + "/state.json"
	if err := e.srv.Save(path); err != nil {
		t.Fatal(err)
	}
	r := newTestEnv(t)
	if err := r.srv.Load(path); err != nil {
		t.Fatalf("load: %v", err)
	}
	after := r.srv.State()
	if !reflect.DeepEqual(before.Groups, after.Groups) {
		t.Fatalf("groups differ after save/load\nbefore %+v\nafter  %+v", before.Groups, after.Groups)
	}
	b1, _ := json.Marshal(before.Groups)
	b2, _ := json.Marshal(after.Groups)
	if !bytes.Equal(b1, b2) {
		t.Errorf("dumps differ byte-wise")
	}

	// Behaviour continues where it stopped.
	if _, err := r.client.ImportGroup(t.Context(), &tencentim.ImportGroupRequest{Type: "Public", Name: "G", GroupID: "gone"}); codeOf(err) != 10021 {
		t.Errorf("destroyed ID after restore: %v, want 10021", err)
	}
	res, err := r.client.ImportGroupMsg(t.Context(), &tencentim.ImportGroupMsgRequest{GroupID: "pub", MsgList: []tencentim.GroupMsg{
		textGroupMsg("alice", r.unix(hourAgo+2), 11, "dup of one"), // A4: same Random within 300 s
		textGroupMsg("alice", r.unix(hourAgo+3), 99, "four"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := []uint64{res.ImportMsgResult[0].MsgSeq, res.ImportMsgResult[1].MsgSeq}; !slices.Equal(got, []uint64{1, 4}) {
		t.Errorf("seqs after restore %v, want [1 4]", got)
	}
	if info := r.groupInfo(t, "@TGS#_comm"); info.NextMsgSeq != 2 || info.OwnerAccount != "bob" {
		t.Errorf("community after restore: %+v", info)
	}
}

// restore refuses inconsistent dumps and leaves the store as it was.
func TestGroupRestoreRejects(t *testing.T) {
	body := json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]`)
	valid := func() GroupState {
		return GroupState{
			GroupID: "g", Type: "Public", Name: "G", CreateTime: 10, MaxMemberNum: 10, Owner: "a",
			Members:  []GroupMemberState{{Account: "a", Role: "Owner", JoinTime: 10, LastReadSeq: 1}},
			Messages: []GroupMsgState{{MsgSeq: 1, FromAccount: "a", SendTime: 20, MsgBody: body}},
		}
	}
	tests := []struct {
		name string
		edit func(gs []GroupState) []GroupState
	}{
		{"duplicate group", func(gs []GroupState) []GroupState { return append(gs, valid()) }},
		{"unknown type", func(gs []GroupState) []GroupState { gs[0].Type = "Secret"; return gs }},
		{"malformed ID", func(gs []GroupState) []GroupState { gs[0].GroupID = ""; return gs }},
		{"seq gap", func(gs []GroupState) []GroupState { gs[0].Messages[0].MsgSeq = 2; return gs }},
		{"time goes back", func(gs []GroupState) []GroupState {
			gs[0].Messages = append(gs[0].Messages, GroupMsgState{MsgSeq: 2, FromAccount: "a", SendTime: 19, MsgBody: body})
			return gs
		}},
		{"body not JSON", func(gs []GroupState) []GroupState { gs[0].Messages[0].MsgBody = json.RawMessage(`[`); return gs }},
		{"owner not a member", func(gs []GroupState) []GroupState { gs[0].Members[0].Role = "Member"; return gs }},
		{"two owners", func(gs []GroupState) []GroupState {
			gs[0].Members = append(gs[0].Members, GroupMemberState{Account: "b", Role: "Owner"})
			return gs
		}},
		{"read seq beyond", func(gs []GroupState) []GroupState { gs[0].Members[0].LastReadSeq = 2; return gs }},
		{"unknown role", func(gs []GroupState) []GroupState { gs[0].Members[0].Role = "King"; return gs }},
		{"topic without SupportTopic", func(gs []GroupState) []GroupState {
			gs[0].Topics = []GroupTopicState{{TopicID: "g@TOPIC#_t", TopicName: "T"}}
			return gs
		}},
		{"message in unknown topic", func(gs []GroupState) []GroupState { gs[0].Messages[0].TopicID = "g@TOPIC#_t"; return gs }},
	}
	var g groupStore
	g.init()
	if err := g.restore([]GroupState{valid()}); err != nil {
		t.Fatalf("valid dump: %v", err)
	}
	want := g.dump()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := g.restore(tt.edit([]GroupState{valid()})); err == nil {
				t.Errorf("restore accepted it")
			}
			if got := g.dump(); !reflect.DeepEqual(got, want) {
				t.Errorf("a failed restore changed the store: %+v", got)
			}
		})
	}
}

// Many goroutines import into their own groups and into shared ones at once:
// every group's MsgSeq runs 1..N without gaps and nothing is lost (-race clean).
func TestGroupConcurrentImports(t *testing.T) {
	const (
		workers   = 12
		batches   = 15
		perBatch  = 3
		sharedNum = 3
	)
	e := newTestEnv(t)
	senders := accounts("w", workers)
	e.importUsers(t, senders...)
	for i := range sharedNum {
		e.publicGroup(t, fmt.Sprintf("shared%d", i), "")
	}
	own := make([]string, workers)
	for i := range own {
		own[i] = e.publicGroup(t, fmt.Sprintf("own%d", i), senders[i])
	}
	// Shared groups get every message at the same second (A2: equal allowed), so
	// arrival order cannot fail the time rule; own groups get ascending times.
	sharedTime := e.unix(hourAgo)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				var msgs []tencentim.GroupMsg
				for k := range perBatch {
					n := b*perBatch + k
					msgs = append(msgs, textGroupMsg(senders[w], sharedTime+int64(n), uint32(1+n), fmt.Sprintf("own %d", n)))
				}
				if _, err := e.client.ImportGroupMsg(t.Context(), &tencentim.ImportGroupMsgRequest{GroupID: own[w], MsgList: msgs}); err != nil {
					errs <- err
					return
				}
				shared := fmt.Sprintf("shared%d", (w+b)%sharedNum)
				resp, err := e.client.ImportGroupMsg(t.Context(), &tencentim.ImportGroupMsgRequest{GroupID: shared, MsgList: []tencentim.GroupMsg{
					textGroupMsg(senders[w], sharedTime, 0, fmt.Sprintf("%d/%d", w, b)),
				}})
				if err != nil {
					errs <- err
					return
				}
				if r := resp.ImportMsgResult[0]; r.Result != 0 {
					errs <- fmt.Errorf("shared message Result %d", r.Result)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	for _, g := range e.srv.State().Groups {
		want := batches * perBatch
		if strings.HasPrefix(g.GroupID, "shared") {
			want = -1 // checked in sum below
		}
		for i, m := range g.Messages {
			if m.MsgSeq != uint64(i+1) {
				t.Fatalf("group %s: message %d has MsgSeq %d", g.GroupID, i, m.MsgSeq)
			}
		}
		if want >= 0 && len(g.Messages) != want {
			t.Errorf("group %s: %d messages, want %d", g.GroupID, len(g.Messages), want)
		}
		if want < 0 {
			total += len(g.Messages)
		}
	}
	if total != workers*batches {
		t.Errorf("shared groups hold %d messages, want %d", total, workers*batches)
	}
}

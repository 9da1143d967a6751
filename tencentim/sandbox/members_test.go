package sandbox

import (
	"slices"
	"testing"

	"github.com/immigrate/immigrate/tencentim"
)

// spec §14 items 67 and 71: Result 1 then 2 on repeat; roles read back.
func TestImportGroupMember(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "owner", "admin1", "plain")
	id := e.publicGroup(t, "g", "owner")
	req := &tencentim.ImportGroupMemberRequest{GroupID: id, MemberList: []tencentim.ImportMember{
		{MemberAccount: "admin1", Role: "Admin", JoinTime: e.unix(dayAgo + 1)},
		{MemberAccount: "plain"},
	}}
	for _, step := range []struct {
		name string
		want []int
	}{
		{"item 67 first import", []int{1, 1}},
		{"item 67 repeat", []int{2, 2}},
	} {
		t.Run(step.name, func(t *testing.T) {
			resp, err := e.client.ImportGroupMember(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for i, r := range resp.MemberList {
				got = append(got, r.Result)
				if r.MemberAccount != req.MemberList[i].MemberAccount {
					t.Errorf("entry %d is %s, want %s", i, r.MemberAccount, req.MemberList[i].MemberAccount)
				}
			}
			if !slices.Equal(got, step.want) {
				t.Errorf("Results %v, want %v", got, step.want)
			}
		})
	}
	members := e.members(t, id)
	tests := []struct {
		account, role string
		joinTime      int64
	}{
		{"owner", "Owner", e.unix(dayAgo)},
		{"admin1", "Admin", e.unix(dayAgo + 1)}, // item 71
		{"plain", "Member", e.unix(0)},          // item 71: no role → Member; A12: no JoinTime → now
	}
	for _, tt := range tests {
		t.Run("item 71 "+tt.account, func(t *testing.T) {
			m := members[tt.account]
			if m.Role != tt.role || m.JoinTime != tt.joinTime {
				t.Errorf("role %q join %d, want %q %d", m.Role, m.JoinTime, tt.role, tt.joinTime)
			}
		})
	}
}

// spec §14 items 68, 72 and request-level rejections of import_group_member.
func TestImportGroupMemberRejects(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, accounts("u", 301)...)
	id := e.publicGroup(t, "g", "")
	av, err := e.client.CreateGroup(t.Context(), &tencentim.CreateGroupRequest{Type: "AVChatRoom", Name: "AV"})
	if err != nil {
		t.Fatal(err)
	}
	list := func(n int) []tencentim.ImportMember {
		out := make([]tencentim.ImportMember, n)
		for i, a := range accounts("u", n) {
			out[i] = tencentim.ImportMember{MemberAccount: a}
		}
		return out
	}
	tests := []struct {
		name string
		req  tencentim.ImportGroupMemberRequest
		want int
	}{
		{"item 68 301 members", tencentim.ImportGroupMemberRequest{GroupID: id, MemberList: list(301)}, 10005},
		{"item 72 AVChatRoom", tencentim.ImportGroupMemberRequest{GroupID: av.GroupID, MemberList: list(1)}, 10007},
		{"unknown group", tencentim.ImportGroupMemberRequest{GroupID: "nope", MemberList: list(1)}, 10010},
		{"malformed group ID", tencentim.ImportGroupMemberRequest{GroupID: "", MemberList: list(1)}, 10015},
		{"empty MemberList", tencentim.ImportGroupMemberRequest{GroupID: id, MemberList: []tencentim.ImportMember{}}, 10004},
		{"missing MemberList", tencentim.ImportGroupMemberRequest{GroupID: id}, 10004},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.client.ImportGroupMember(t.Context(), &tt.req); codeOf(err) != tt.want {
				t.Errorf("code %d, want %d", codeOf(err), tt.want)
			}
		})
	}
	raw := []struct {
		name, body string
		want       int
	}{
		{"item 9 account not a string", `{"GroupId":"g","MemberList":[{"Member_Account":5}]}`, 60015},
		{"JoinTime not an integer", `{"GroupId":"g","MemberList":[{"Member_Account":"u0000","JoinTime":"yesterday"}]}`, 10004},
		{"negative UnreadMsgNum", `{"GroupId":"g","MemberList":[{"Member_Account":"u0000","UnreadMsgNum":-1}]}`, 10004},
		{"item not an object", `{"GroupId":"g","MemberList":["u0000"]}`, 10004},
	}
	for _, tt := range raw {
		t.Run(tt.name, func(t *testing.T) {
			if code, _ := e.callRaw(t, tencentim.CmdImportGroupMember, tt.body); code != tt.want {
				t.Errorf("code %d, want %d", code, tt.want)
			}
		})
	}
	if got := e.groupInfo(t, id).MemberNum; got != 0 {
		t.Errorf("rejected requests added %d members", got)
	}
	// 300 is the limit, not over it.
	resp, err := e.client.ImportGroupMember(t.Context(), &tencentim.ImportGroupMemberRequest{GroupID: id, MemberList: list(300)})
	if err != nil || len(resp.MemberList) != 300 {
		t.Errorf("300 members: %v", err)
	}
}

// spec §14 items 69, 73, 75 and A12/A13: per-member Result 0, in request order,
// while the others are imported.
func TestImportGroupMemberPerMemberResults(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, accounts("u", 12)...)
	created := e.unix(dayAgo)
	id := e.mustImportGroup(t, &tencentim.ImportGroupRequest{Type: "Private", Name: "G", GroupID: "g", CreateTime: created, MaxMemberCount: 5})
	now := e.unix(0)
	members := []struct {
		name   string
		member tencentim.ImportMember
		want   int
	}{
		{"valid", tencentim.ImportMember{MemberAccount: "u0000", JoinTime: created + 1}, 1},
		{"item 69 JoinTime before CreateTime", tencentim.ImportMember{MemberAccount: "u0001", JoinTime: created - 1}, 0},
		{"A12 JoinTime equal to CreateTime", tencentim.ImportMember{MemberAccount: "u0002", JoinTime: created}, 0},
		{"item 69 JoinTime in the future", tencentim.ImportMember{MemberAccount: "u0003", JoinTime: now + 1}, 0},
		{"A12 JoinTime equal to now", tencentim.ImportMember{MemberAccount: "u0004", JoinTime: now}, 0},
		{"item 73 never-imported account", tencentim.ImportMember{MemberAccount: "ghost"}, 0},
		{"A13 Role Owner", tencentim.ImportMember{MemberAccount: "u0005", Role: "Owner"}, 0},
		{"A13 Role Member spelled out", tencentim.ImportMember{MemberAccount: "u0006", Role: "Member"}, 0},
		{"admin", tencentim.ImportMember{MemberAccount: "u0007", Role: "Admin"}, 1},
		{"duplicate in the same request", tencentim.ImportMember{MemberAccount: "u0000"}, 2},
		{"third", tencentim.ImportMember{MemberAccount: "u0008"}, 1},
		{"fourth", tencentim.ImportMember{MemberAccount: "u0009"}, 1},
		{"fifth", tencentim.ImportMember{MemberAccount: "u0010"}, 1},
		{"item 75 over MaxMemberNum", tencentim.ImportMember{MemberAccount: "u0011"}, 0},
	}
	req := &tencentim.ImportGroupMemberRequest{GroupID: id}
	for _, m := range members {
		req.MemberList = append(req.MemberList, m.member)
	}
	resp, err := e.client.ImportGroupMember(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.MemberList) != len(members) {
		t.Fatalf("%d results, want %d", len(resp.MemberList), len(members))
	}
	for i, m := range members {
		t.Run(m.name, func(t *testing.T) {
			r := resp.MemberList[i]
			if r.MemberAccount != m.member.MemberAccount || r.Result != m.want {
				t.Errorf("%s Result %d, want %s %d", r.MemberAccount, r.Result, m.member.MemberAccount, m.want)
			}
		})
	}
	got := e.members(t, id)
	if len(got) != 5 {
		t.Errorf("%d members, want 5 (MaxMemberNum)", len(got))
	}
	for _, absent := range []string{"u0001", "u0002", "u0003", "u0004", "ghost", "u0005", "u0006", "u0011"} {
		if _, ok := got[absent]; ok {
			t.Errorf("%s was added", absent)
		}
	}
}

// spec §14 item 70 and item 60: UnreadMsgNum capped at the group's message count;
// members imported after messages keep it.
func TestImportGroupMemberUnread(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "s", "a", "b", "c", "d")
	id := e.publicGroup(t, "g", "s")
	e.mustImportMsgs(t, id,
		textGroupMsg("s", e.unix(hourAgo), 1, "1"),
		textGroupMsg("s", e.unix(hourAgo+1), 2, "2"),
		textGroupMsg("s", e.unix(hourAgo+2), 3, "3"))
	tests := []struct {
		account     string
		unread      int
		want        int
		wantReadSeq uint64
	}{
		{"a", 5, 3, 0}, // item 70: capped at 3
		{"b", 2, 2, 1},
		{"c", 0, 0, 3},
		{"d", 3, 3, 0},
	}
	req := &tencentim.ImportGroupMemberRequest{GroupID: id}
	for _, tt := range tests {
		req.MemberList = append(req.MemberList, tencentim.ImportMember{MemberAccount: tt.account, UnreadMsgNum: tt.unread})
	}
	if _, err := e.client.ImportGroupMember(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	members := e.members(t, id)
	for _, tt := range tests {
		t.Run(tt.account, func(t *testing.T) {
			m := members[tt.account]
			if got := unreadOf(t, m); got != tt.want || m.MsgSeq != tt.wantReadSeq {
				t.Errorf("unread %d read seq %d, want %d %d", got, m.MsgSeq, tt.want, tt.wantReadSeq)
			}
		})
	}
}

// spec §14 item 74 and A19: set_unread_msg_num.
func TestSetUnreadMsgNum(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "s", "m", "outsider")
	groups := map[string]string{}
	for _, typ := range []string{"Public", "Private", "ChatRoom", "Community"} {
		id := typ
		if typ == "Community" {
			id = "@TGS#_c"
		}
		groups[typ] = e.mustImportGroup(t, &tencentim.ImportGroupRequest{Type: typ, Name: "G", GroupID: id, OwnerAccount: "s", CreateTime: e.unix(dayAgo)})
		e.mustImportMembers(t, groups[typ], "m")
		e.mustImportMsgs(t, groups[typ],
			textGroupMsg("s", e.unix(hourAgo), 1, "1"),
			textGroupMsg("s", e.unix(hourAgo+1), 2, "2"),
			textGroupMsg("s", e.unix(hourAgo+2), 3, "3"))
	}
	av, err := e.client.CreateGroup(t.Context(), &tencentim.CreateGroupRequest{Type: "AVChatRoom", Name: "AV", OwnerAccount: "s"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		group      string
		account    string
		unread     int
		wantCode   int
		wantUnread int // of m afterwards, -1 not checked
	}{
		{"item 74 public", groups["Public"], "m", 2, 0, 2},
		{"item 74 capped", groups["Public"], "m", 10, 0, 3},
		{"back to zero", groups["Public"], "m", 0, 0, 0},
		{"private", groups["Private"], "m", 1, 0, 1},
		{"community", groups["Community"], "m", 3, 0, 3},
		{"A19 ChatRoom: OK, no effect", groups["ChatRoom"], "m", 2, 0, 0},
		{"A19 AVChatRoom: OK", av.GroupID, "m", 2, 0, -1},
		{"item 74 unknown group", "nope", "m", 1, 10010, -1},
		{"non-member", groups["Public"], "outsider", 1, 10004, -1},
		{"unknown account", groups["Public"], "ghost", 1, 10004, -1},
		{"negative", groups["Public"], "m", -1, 10004, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.client.SetUnreadMsgNum(t.Context(), &tencentim.SetUnreadMsgNumRequest{GroupID: tt.group, MemberAccount: tt.account, UnreadMsgNum: tt.unread})
			if codeOf(err) != tt.wantCode {
				t.Fatalf("code %d, want %d", codeOf(err), tt.wantCode)
			}
			if tt.wantUnread >= 0 {
				if got := unreadOf(t, e.members(t, tt.group)["m"]); got != tt.wantUnread {
					t.Errorf("unread %d, want %d", got, tt.wantUnread)
				}
			}
		})
	}
	for _, body := range []string{`{"GroupId":"Public","Member_Account":"m"}`, `{"GroupId":"Public","Member_Account":"m","UnreadMsgNum":"2"}`} {
		if code, _ := e.callRaw(t, tencentim.CmdSetUnreadMsgNum, body); code != 10004 {
			t.Errorf("%s: code %d, want 10004", body, code)
		}
	}
	if code, _ := e.callRaw(t, tencentim.CmdSetUnreadMsgNum, `{"GroupId":"Public","Member_Account":1,"UnreadMsgNum":1}`); code != 60015 {
		t.Errorf("account not a string: code %d, want 60015", code)
	}
}

package sandbox

import (
	"encoding/json"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/tencentim"
)

// keysOf lists a JSON object's member names, sorted.
func keysOf(t *testing.T, v any) []string {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%v is not an object", v)
	}
	return slices.Sorted(maps.Keys(m))
}

// spec §14 item 63: messages come back newest first, as imported.
func TestGroupMsgGetSimple(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "a", "b")
	id := e.publicGroup(t, "g", "a")
	at := e.unix(hourAgo)
	face := elem(t, tencentim.MsgFace, tencentim.FaceContent{Index: 15, Data: "abc\u0000\u0001"})
	sent := []tencentim.GroupMsg{
		textGroupMsg("a", at, 11, "first"),
		textGroupMsg("b", at+1, 12, "second"),
		{FromAccount: "a", SendTime: at + 1, Random: 13, MsgBody: append(textBody("third"), face)},
	}
	e.mustImportMsgs(t, id, sent...)
	resp, err := e.client.GroupMsgGetSimple(t.Context(), &tencentim.GroupMsgGetSimpleRequest{GroupID: id, ReqMsgNumber: 10})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GroupID != id || resp.IsFinished != 1 {
		t.Errorf("GroupId %q IsFinished %d, want %q 1", resp.GroupID, resp.IsFinished, id)
	}
	got := resp.Messages()
	if len(got) != len(sent) {
		t.Fatalf("%d messages, want %d", len(got), len(sent))
	}
	for i, m := range got {
		want := sent[len(sent)-1-i]
		t.Run(fmt.Sprintf("seq %d", m.MsgSeq), func(t *testing.T) {
			wantBody, _ := json.Marshal(want.MsgBody)
			gotBody, _ := json.Marshal(m.MsgBody)
			if m.MsgSeq != uint64(len(sent)-i) || m.FromAccount != want.FromAccount || m.MsgTimeStamp != want.SendTime ||
				m.MsgRandom != want.Random || m.IsPlaceMsg != 0 || string(gotBody) != string(wantBody) {
				t.Errorf("got %+v body %s, want seq %d %+v body %s", m, gotBody, len(sent)-i, want, wantBody)
			}
		})
	}
}

// spec §14 items 64 and 65: at most 20 per call, ReqMsgSeq walks back to seq 1.
func TestGroupMsgGetSimplePaging(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "s")
	id := e.publicGroup(t, "g", "s")
	empty := e.publicGroup(t, "empty", "s")
	const total = 45
	at := e.unix(hourAgo)
	for start := 0; start < total; start += 7 {
		var msgs []tencentim.GroupMsg
		for i := start; i < min(start+7, total); i++ {
			msgs = append(msgs, textGroupMsg("s", at+int64(i), uint32(i+1), fmt.Sprint(i+1)))
		}
		e.mustImportMsgs(t, id, msgs...)
	}
	av, err := e.client.CreateGroup(t.Context(), &tencentim.CreateGroupRequest{Type: "AVChatRoom", Name: "AV"})
	if err != nil {
		t.Fatal(err)
	}
	seqs := func(resp *tencentim.GroupMsgGetSimpleResponse) []uint64 {
		var out []uint64
		for _, m := range resp.Messages() {
			out = append(out, m.MsgSeq)
		}
		return out
	}
	span := func(hi, lo uint64) []uint64 {
		var out []uint64
		for s := hi; s >= lo && s > 0; s-- {
			out = append(out, s)
		}
		return out
	}
	tests := []struct {
		name         string
		req          tencentim.GroupMsgGetSimpleRequest
		wantCode     int
		wantSeqs     []uint64
		wantFinished int
	}{
		{"item 64 21 asked, 20 given", tencentim.GroupMsgGetSimpleRequest{GroupID: id, ReqMsgNumber: 21}, 0, span(45, 26), 0},
		{"20 asked", tencentim.GroupMsgGetSimpleRequest{GroupID: id, ReqMsgNumber: 20}, 0, span(45, 26), 1},
		{"item 64 ReqMsgSeq", tencentim.GroupMsgGetSimpleRequest{GroupID: id, ReqMsgNumber: 3, ReqMsgSeq: 10}, 0, []uint64{10, 9, 8}, 1},
		{"ReqMsgSeq beyond the latest", tencentim.GroupMsgGetSimpleRequest{GroupID: id, ReqMsgNumber: 2, ReqMsgSeq: 1000}, 0, []uint64{45, 44}, 1},
		{"21 asked, fewer left", tencentim.GroupMsgGetSimpleRequest{GroupID: id, ReqMsgNumber: 21, ReqMsgSeq: 5}, 0, span(5, 1), 1},
		{"empty group", tencentim.GroupMsgGetSimpleRequest{GroupID: empty, ReqMsgNumber: 5}, 0, nil, 1},
		{"item 65 AVChatRoom", tencentim.GroupMsgGetSimpleRequest{GroupID: av.GroupID, ReqMsgNumber: 5}, 10007, nil, 0},
		{"unknown group", tencentim.GroupMsgGetSimpleRequest{GroupID: "nope", ReqMsgNumber: 5}, 10010, nil, 0},
		{"ReqMsgNumber missing", tencentim.GroupMsgGetSimpleRequest{GroupID: id}, 10004, nil, 0},
		{"unknown topic", tencentim.GroupMsgGetSimpleRequest{GroupID: id, ReqMsgNumber: 1, TopicID: "g@TOPIC#_x"}, 10004, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.client.GroupMsgGetSimple(t.Context(), &tt.req)
			if codeOf(err) != tt.wantCode {
				t.Fatalf("code %d, want %d", codeOf(err), tt.wantCode)
			}
			if err != nil {
				return
			}
			if got := seqs(resp); !slices.Equal(got, tt.wantSeqs) || resp.IsFinished != tt.wantFinished {
				t.Errorf("seqs %v IsFinished %d, want %v %d", got, resp.IsFinished, tt.wantSeqs, tt.wantFinished)
			}
		})
	}
	t.Run("item 64 walk back to seq 1", func(t *testing.T) {
		var all []uint64
		req := &tencentim.GroupMsgGetSimpleRequest{GroupID: id, ReqMsgNumber: 21}
		var last *tencentim.GroupMsgGetSimpleResponse
		for len(all) == 0 || all[len(all)-1] > 1 {
			resp, err := e.client.GroupMsgGetSimple(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			page := seqs(resp)
			if len(page) == 0 {
				t.Fatal("empty page before seq 1")
			}
			all = append(all, page...)
			req.ReqMsgSeq = page[len(page)-1] - 1
			last = resp
		}
		if !slices.Equal(all, span(total, 1)) || last.IsFinished != 1 {
			t.Errorf("walked %v (final IsFinished %d), want %d..1 and 1", all, last.IsFinished, total)
		}
	})
}

// spec §14 items 76 and 77: get_group_info entries, limits and filters.
func TestGetGroupInfo(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "o", "m")
	created := e.unix(dayAgo)
	id := e.mustImportGroup(t, &tencentim.ImportGroupRequest{
		Type: "Public", Name: "G", GroupID: "g", OwnerAccount: "o", CreateTime: created, MaxMemberCount: 50,
		AppDefinedData: []tencentim.AppDefinedData{{Key: "k1", Value: "v1"}, {Key: "k2", Value: "v2"}},
	})
	e.mustImportMembers(t, id, "m")
	at := e.unix(hourAgo)
	e.mustImportMsgs(t, id, textGroupMsg("m", at, 1, "1"), textGroupMsg("o", at+5, 2, "2"), textGroupMsg("m", at+9, 3, "3"))

	t.Run("item 77 counters", func(t *testing.T) {
		info := e.groupInfo(t, id)
		if info.NextMsgSeq != 4 || info.MemberNum != 2 || info.MaxMemberNum != 50 || info.LastMsgTime != at+9 || info.CreateTime != created {
			t.Errorf("NextMsgSeq %d MemberNum %d MaxMemberNum %d LastMsgTime %d CreateTime %d", info.NextMsgSeq, info.MemberNum, info.MaxMemberNum, info.LastMsgTime, info.CreateTime)
		}
	})
	t.Run("item 76 unknown and malformed among known", func(t *testing.T) {
		resp, err := e.client.GetGroupInfo(t.Context(), &tencentim.GetGroupInfoRequest{GroupIDList: []string{"nope", id, "a\x01b"}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range resp.GroupInfo {
			got = append(got, fmt.Sprintf("%s:%d", g.GroupID, g.ErrorCode))
		}
		if want := []string{"nope:10010", "g:0", "a\x01b:10015"}; !slices.Equal(got, want) {
			t.Errorf("entries %q, want %q", got, want)
		}
	})
	fifty := slices.Repeat([]string{id}, 50)
	tests := []struct {
		name string
		body string
		want int
	}{
		{"item 76 51 IDs", `{"GroupIdList":` + mustJSON(t, append(fifty, id)) + `}`, 10004},
		{"50 IDs", `{"GroupIdList":` + mustJSON(t, fifty) + `}`, 0},
		{"empty list", `{"GroupIdList":[]}`, 10004},
		{"no list", `{}`, 10004},
		{"ID not a string", `{"GroupIdList":[5]}`, 10004},
		{"filter not an object", `{"GroupIdList":["g"],"ResponseFilter":[]}`, 10004},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, _ := e.callRaw(t, tencentim.CmdGetGroupInfo, tt.body); code != tt.want {
				t.Errorf("code %d, want %d", code, tt.want)
			}
		})
	}
	filters := []struct {
		name        string
		filter      string
		wantKeys    []string
		wantMember  []string // keys of each member; nil: no MemberList
		wantAppData []string
	}{
		{"base fields only", `{"GroupBaseInfoFilter":["Name","NextMsgSeq"]}`,
			[]string{"ErrorCode", "ErrorInfo", "GroupId", "Name", "NextMsgSeq"}, nil, nil},
		{"members with Account and Role", `{"GroupBaseInfoFilter":["Type"],"MemberInfoFilter":["Account","Role"]}`,
			[]string{"ErrorCode", "ErrorInfo", "GroupId", "MemberList", "Type"}, []string{"Member_Account", "Role"}, nil},
		{"one custom key", `{"GroupBaseInfoFilter":["Name"],"AppDefinedDataFilter_Group":["k2"]}`,
			[]string{"AppDefinedData", "ErrorCode", "ErrorInfo", "GroupId", "Name"}, nil, []string{"k2"}},
		{"no filter", `null`,
			[]string{"AppDefinedData", "Appid", "ApplyJoinOption", "CreateTime", "ErrorCode", "ErrorInfo", "GroupId", "LastInfoTime", "LastMsgTime", "MaxMemberNum", "MemberList", "MemberNum", "MuteAllMember", "Name", "NextMsgSeq", "Owner_Account", "Type"},
			[]string{"JoinTime", "LastSendMsgTime", "Member_Account", "MsgFlag", "MsgSeq", "Role", "UnreadMsgNum"}, []string{"k1", "k2"}},
	}
	for _, tt := range filters {
		t.Run("filter "+tt.name, func(t *testing.T) {
			code, resp := e.callRaw(t, tencentim.CmdGetGroupInfo, `{"GroupIdList":["g"],"ResponseFilter":`+tt.filter+`}`)
			if code != 0 {
				t.Fatalf("code %d", code)
			}
			info := resp["GroupInfo"].([]any)[0]
			if got := keysOf(t, info); !slices.Equal(got, tt.wantKeys) {
				t.Errorf("keys %v, want %v", got, tt.wantKeys)
			}
			fields := info.(map[string]any)
			if tt.wantMember != nil {
				for _, m := range fields["MemberList"].([]any) {
					if got := keysOf(t, m); !slices.Equal(got, tt.wantMember) {
						t.Errorf("member keys %v, want %v", got, tt.wantMember)
					}
				}
			}
			if tt.wantAppData != nil {
				var keys []string
				for _, d := range fields["AppDefinedData"].([]any) {
					keys = append(keys, d.(map[string]any)["Key"].(string))
				}
				if !slices.Equal(keys, tt.wantAppData) {
					t.Errorf("AppDefinedData keys %v, want %v", keys, tt.wantAppData)
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// spec §14 item 78: Limit/Offset pages of a non-community group, in account order.
func TestGetGroupMemberInfoOffset(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "a1", "a2", "a3", "a4", "a5")
	id := e.publicGroup(t, "g", "a3")
	e.mustImportMembers(t, id, "a5", "a1", "a4", "a2")
	tests := []struct {
		name          string
		limit, offset int
		want          []string
	}{
		{"item 78 Limit 2 Offset 2", 2, 2, []string{"a3", "a4"}},
		{"first page", 2, 0, []string{"a1", "a2"}},
		{"last partial page", 2, 4, []string{"a5"}},
		{"beyond the end", 2, 9, []string{}},
		{"no Limit: everyone", 0, 0, []string{"a1", "a2", "a3", "a4", "a5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.client.GetGroupMemberInfo(t.Context(), &tencentim.GetGroupMemberInfoRequest{GroupID: id, Limit: tt.limit, Offset: tt.offset})
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, m := range resp.MemberList {
				got = append(got, m.MemberAccount)
			}
			if !slices.Equal(got, tt.want) || resp.MemberNum != 5 || resp.Next != nil {
				t.Errorf("members %v MemberNum %d Next %v, want %v 5 nil", got, resp.MemberNum, resp.Next, tt.want)
			}
		})
	}
	if code, _ := e.callRaw(t, tencentim.CmdGetGroupMemberInfo, `{"GroupId":"g","Offset":-1}`); code != 10004 {
		t.Errorf("negative Offset: code %d, want 10004", code)
	}
}

// spec §14 item 79 and A9: a Community pages by Next cursor, ≤ 100 per page.
func TestGetGroupMemberInfoCommunity(t *testing.T) {
	e := newTestEnv(t)
	users := accounts("c", 250)
	e.importUsers(t, users...)
	id := e.mustImportGroup(t, &tencentim.ImportGroupRequest{Type: "Community", Name: "C", GroupID: "@TGS#_big", CreateTime: e.unix(dayAgo)})
	e.mustImportMembers(t, id, users...)
	for _, limit := range []int{0, 7, 100, 500} {
		t.Run(fmt.Sprintf("item 79 Limit %d", limit), func(t *testing.T) {
			var got []string
			next := ""
			pages := 0
			for {
				resp, err := e.client.GetGroupMemberInfo(t.Context(), &tencentim.GetGroupMemberInfoRequest{GroupID: id, Limit: limit, Next: &next})
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if n := len(resp.MemberList); n > 100 || (limit > 0 && n > limit) {
					t.Errorf("page of %d with Limit %d", n, limit)
				}
				if resp.Next == nil || resp.MemberNum != 250 {
					t.Fatalf("Next %v MemberNum %d, want a cursor and 250", resp.Next, resp.MemberNum)
				}
				for _, m := range resp.MemberList {
					got = append(got, m.MemberAccount)
				}
				if next = *resp.Next; next == "" {
					break
				}
			}
			if !slices.Equal(got, users) {
				t.Errorf("%d members in %d pages, want each of %d exactly once", len(got), pages, len(users))
			}
		})
	}
	tests := []struct {
		name, body string
		want       int
	}{
		{"item 79 Offset on Community", `{"GroupId":"@TGS#_big","Next":"","Offset":2}`, 10004},
		{"no Next on Community", `{"GroupId":"@TGS#_big"}`, 10004},
		{"garbage cursor", `{"GroupId":"@TGS#_big","Next":"!!"}`, 10004},
		{"Next not a string", `{"GroupId":"@TGS#_big","Next":3}`, 10004},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, _ := e.callRaw(t, tencentim.CmdGetGroupMemberInfo, tt.body); code != tt.want {
				t.Errorf("code %d, want %d", code, tt.want)
			}
		})
	}
}

// spec §14 items 80 and 81: role and field filters; AVChatRoom refused.
func TestGetGroupMemberInfoFilters(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "boss", "adm", "m1", "m2")
	id := e.publicGroup(t, "g", "boss")
	if _, err := e.client.ImportGroupMember(t.Context(), &tencentim.ImportGroupMemberRequest{GroupID: id, MemberList: []tencentim.ImportMember{
		{MemberAccount: "adm", Role: "Admin"}, {MemberAccount: "m1"}, {MemberAccount: "m2"},
	}}); err != nil {
		t.Fatal(err)
	}
	av, err := e.client.CreateGroup(t.Context(), &tencentim.CreateGroupRequest{Type: "AVChatRoom", Name: "AV"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		body        string
		wantCode    int
		wantMembers []string
		wantKeys    []string
	}{
		{"item 80 Owner only", `{"GroupId":"g","MemberRoleFilter":["Owner"]}`, 0, []string{"boss"}, nil},
		{"admins and members", `{"GroupId":"g","MemberRoleFilter":["Admin","Member"]}`, 0, []string{"adm", "m1", "m2"}, nil},
		{"item 80 Role field only", `{"GroupId":"g","MemberInfoFilter":["Role"]}`, 0, []string{"adm", "boss", "m1", "m2"}, []string{"Member_Account", "Role"}},
		{"unread count on request", `{"GroupId":"g","MemberInfoFilter":["UnreadMsgNum"],"MemberRoleFilter":["Admin"]}`, 0, []string{"adm"}, []string{"Member_Account", "UnreadMsgNum"}},
		{"unknown role", `{"GroupId":"g","MemberRoleFilter":["King"]}`, 10004, nil, nil},
		{"item 81 AVChatRoom", `{"GroupId":"` + av.GroupID + `"}`, 10007, nil, nil},
		{"unknown group", `{"GroupId":"nope"}`, 10010, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, resp := e.callRaw(t, tencentim.CmdGetGroupMemberInfo, tt.body)
			if code != tt.wantCode {
				t.Fatalf("code %d, want %d", code, tt.wantCode)
			}
			if code != 0 {
				return
			}
			var got []string
			for _, m := range resp["MemberList"].([]any) {
				got = append(got, m.(map[string]any)["Member_Account"].(string))
				if tt.wantKeys != nil {
					if keys := keysOf(t, m); !slices.Equal(keys, tt.wantKeys) {
						t.Errorf("keys %v, want %v", keys, tt.wantKeys)
					}
				}
			}
			if !slices.Equal(got, tt.wantMembers) {
				t.Errorf("members %v, want %v", got, tt.wantMembers)
			}
			if n := resp["MemberNum"].(float64); n != 4 {
				t.Errorf("MemberNum %v, want 4", n)
			}
		})
	}
}

// spec §8.12, §12 and A9: an answer over 1 MB is 10018.
func TestGroupReadResponseCap(t *testing.T) {
	e := newTestEnv(t)
	// 32-byte accounts make a member entry ~140 bytes: one full group of 6000 fits
	// in 1 MB, two do not.
	users := accounts(strings.Repeat("u", 28), tencentim.MaxMemberCount)
	e.importUsers(t, users...)
	for _, id := range []string{"g1", "g2"} {
		e.mustImportGroup(t, &tencentim.ImportGroupRequest{Type: "Public", Name: "G", GroupID: id, CreateTime: e.unix(dayAgo), MaxMemberCount: tencentim.MaxMemberCount})
		for start := 0; start < len(users); start += tencentim.MaxGroupMemberBatch {
			e.mustImportMembers(t, id, users[start:start+tencentim.MaxGroupMemberBatch]...)
		}
	}
	tests := []struct {
		name string
		cmd  tencentim.Command
		body string
		want int
	}{
		{"one full group", tencentim.CmdGetGroupInfo, `{"GroupIdList":["g1"]}`, 0},
		{"two full groups", tencentim.CmdGetGroupInfo, `{"GroupIdList":["g1","g2"]}`, 10018},
		{"two groups without members", tencentim.CmdGetGroupInfo, `{"GroupIdList":["g1","g2"],"ResponseFilter":{}}`, 0},
		{"all 6000 members", tencentim.CmdGetGroupMemberInfo, `{"GroupId":"g1"}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, _ := e.callRaw(t, tt.cmd, tt.body); code != tt.want {
				t.Errorf("code %d, want %d", code, tt.want)
			}
		})
	}
}

// spec §12 (10018): an answer certainly over 1 MB is refused before it is built,
// so one request cannot make the sandbox render fifty huge member lists in memory.
func TestGetGroupInfoOverCapBoundedMemory(t *testing.T) {
	e := newTestEnv(t)
	// Twenty groups share one 50,000-member list (built directly: importing it
	// through the API would take minutes). Rendered in full the answer is about
	// 1,000,000 member entries, a few hundred MB before encoding.
	const groups, members = 20, 50000
	shared := make(map[string]*member, members)
	for i := range members {
		shared[fmt.Sprintf("user%07d", i)] = &member{role: tencentim.RoleMember, joinTime: 1}
	}
	ids := make([]string, groups)
	for i := range ids {
		gr := &group{id: fmt.Sprintf("big%02d", i), typ: tencentim.GroupCommunity, name: "G", createTime: 1, maxMembers: members}
		e.srv.groups.add(gr)
		gr.members = shared
		ids[i] = gr.id
	}
	body, err := json.Marshal(map[string]any{"GroupIdList": ids})
	if err != nil {
		t.Fatal(err)
	}
	f, ok := parseObject(body)
	if !ok {
		t.Fatal("request body does not parse")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e.srv.mu.Lock()
	_, aerr := handleGetGroupInfo(e.srv, &call{cmd: tencentim.CmdGetGroupInfo, raw: body, fields: f, now: e.clock.Now()})
	e.srv.mu.Unlock()
	runtime.ReadMemStats(&after)
	if aerr == nil || aerr.Code != codeGroupTooBig {
		t.Fatalf("error %v, want %d", aerr, codeGroupTooBig)
	}
	// The cap is 1 MB of JSON; rendering up to it costs a few MB of structs.
	const limit = 64 << 20
	if got := after.TotalAlloc - before.TotalAlloc; got > limit {
		t.Errorf("one get_group_info allocated %d MB, want at most %d MB", got>>20, limit>>20)
	}
}

package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/tencentim"
)

type wantResult struct {
	result int
	seq    uint64
}

func resultsOf(resp *tencentim.ImportGroupMsgResponse) []wantResult {
	var out []wantResult
	for _, r := range resp.ImportMsgResult {
		out = append(out, wantResult{r.Result, r.MsgSeq})
	}
	return out
}

// spec §14 item 51: two ascending messages get MsgSeq 1 and 2 and MsgTime = SendTime.
func TestImportGroupMsg(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "s")
	id := e.publicGroup(t, "g", "s")
	t1, t2 := e.unix(hourAgo), e.unix(hourAgo+60)
	resp, err := e.client.ImportGroupMsg(t.Context(), &tencentim.ImportGroupMsgRequest{GroupID: id, MsgList: []tencentim.GroupMsg{
		textGroupMsg("s", t1, 1, "a"), textGroupMsg("s", t2, 2, "b"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []tencentim.ImportMsgResult{{MsgSeq: 1, MsgTime: t1}, {MsgSeq: 2, MsgTime: t2}}
	if !slices.Equal(resp.ImportMsgResult, want) {
		t.Errorf("ImportMsgResult %+v, want %+v", resp.ImportMsgResult, want)
	}
	if info := e.groupInfo(t, id); info.NextMsgSeq != 3 || info.LastMsgTime != t2 {
		t.Errorf("NextMsgSeq %d LastMsgTime %d, want 3 %d", info.NextMsgSeq, info.LastMsgTime, t2)
	}
}

// spec §14 items 52-55 and design §7 A2/A3: per-message time rules, in request
// order, each message checked against the last one actually stored.
func TestImportGroupMsgTimeRules(t *testing.T) {
	tests := []struct {
		name    string
		strict  bool
		preload []int64 // offsets from an hour ago
		batch   []int64 // offsets from an hour ago; "now" and CreateTime via the markers below
		want    []wantResult
	}{
		{"item 51 ascending", false, nil, []int64{0, 1}, []wantResult{{0, 1}, {0, 2}}},
		{"item 52 before CreateTime", false, nil, []int64{beforeCreate}, []wantResult{{10004, 0}}},
		{"A2 equal to CreateTime", false, nil, []int64{atCreate}, []wantResult{{10004, 0}}},
		{"just after CreateTime", false, nil, []int64{atCreate + 1}, []wantResult{{0, 1}}},
		{"item 54 in the future", false, nil, []int64{atNow + 1}, []wantResult{{10004, 0}}},
		{"item 54 equal to now", false, nil, []int64{atNow}, []wantResult{{10004, 0}}},
		{"just before now", false, nil, []int64{atNow - 1}, []wantResult{{0, 1}}},
		{"item 53 earlier than the latest", false, []int64{10}, []int64{5}, []wantResult{{10004, 0}}},
		{"A2 equal to the latest allowed", false, []int64{10}, []int64{10}, []wantResult{{0, 2}}},
		{"A2 equal seconds in one batch allowed", false, nil, []int64{3, 3, 3}, []wantResult{{0, 1}, {0, 2}, {0, 3}}},
		{"item 53 StrictTime: equal to the latest", true, []int64{10}, []int64{10}, []wantResult{{10004, 0}}},
		{"StrictTime: equal seconds in one batch", true, nil, []int64{3, 3, 4}, []wantResult{{0, 1}, {10004, 0}, {0, 2}}},
		{"StrictTime: later is fine", true, []int64{10}, []int64{11}, []wantResult{{0, 2}}},
		{"item 55 out of order", false, nil, []int64{0, 5, 3, 6}, []wantResult{{0, 1}, {0, 2}, {10004, 0}, {0, 3}}},
		{"A3 a failed message does not move the bar", false, nil, []int64{atNow + 100, 0, atNow + 5, 1}, []wantResult{{10004, 0}, {0, 1}, {10004, 0}, {0, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, func(c *Config) { c.StrictTime = tt.strict })
			e.importUsers(t, "s")
			created := e.unix(dayAgo)
			id := e.mustImportGroup(t, &tencentim.ImportGroupRequest{Type: "Public", Name: "G", GroupID: "g", CreateTime: created})
			at := func(off int64) int64 {
				switch {
				case off >= atNow-1000:
					return e.unix(0) + off - atNow
				case off <= atCreate+1000:
					return created + off - atCreate
				}
				return e.unix(hourAgo) + off
			}
			for i, off := range tt.preload {
				e.mustImportMsgs(t, id, textGroupMsg("s", at(off), uint32(1000+i), "pre"))
			}
			var msgs []tencentim.GroupMsg
			for i, off := range tt.batch {
				msgs = append(msgs, textGroupMsg("s", at(off), uint32(1+i), fmt.Sprint(i)))
			}
			resp, err := e.client.ImportGroupMsg(t.Context(), &tencentim.ImportGroupMsgRequest{GroupID: id, MsgList: msgs})
			if err != nil {
				t.Fatal(err)
			}
			if got := resultsOf(resp); !slices.Equal(got, tt.want) {
				t.Errorf("results %v, want %v", got, tt.want)
			}
			for i, r := range resp.ImportMsgResult {
				if r.MsgTime != msgs[i].SendTime {
					t.Errorf("message %d MsgTime %d, want SendTime %d", i, r.MsgTime, msgs[i].SendTime)
				}
			}
			// Equal seconds keep the call order (A2).
			stored := e.srv.State().Groups[0].Messages
			var texts []string
			for _, m := range stored[len(tt.preload):] {
				texts = append(texts, string(m.MsgBody))
			}
			if !slices.IsSortedFunc(texts, strings.Compare) {
				t.Errorf("stored out of call order: %v", texts)
			}
		})
	}
}

// Markers for TestImportGroupMsgTimeRules: offsets around now and CreateTime.
const (
	atNow        = 1_000_000_000
	atCreate     = -1_000_000_000
	beforeCreate = atCreate - 1
)

// spec §14 item 56 and A1: the batch cap, default 7, configurable.
func TestImportGroupMsgBatchCap(t *testing.T) {
	tests := []struct {
		name     string
		cap      int
		n        int
		wantCode int
	}{
		{"item 56 eight", 0, 8, 10004},
		{"seven", 0, 7, 0},
		{"configured 20 takes 8", 20, 8, 0},
		{"configured 20 takes 20", 20, 20, 0},
		{"configured 20 refuses 21", 20, 21, 10004},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, func(c *Config) { c.MaxGroupMsgBatch = tt.cap })
			e.importUsers(t, "s")
			id := e.publicGroup(t, "g", "s")
			var msgs []tencentim.GroupMsg
			for i := range tt.n {
				msgs = append(msgs, textGroupMsg("s", e.unix(hourAgo+int64(i)), uint32(i+1), "m"))
			}
			_, err := e.client.ImportGroupMsg(t.Context(), &tencentim.ImportGroupMsgRequest{GroupID: id, MsgList: msgs})
			if codeOf(err) != tt.wantCode {
				t.Fatalf("code %d, want %d", codeOf(err), tt.wantCode)
			}
			want := tt.n
			if tt.wantCode != 0 {
				want = 0
			}
			if got := len(e.srv.State().Groups[0].Messages); got != want {
				t.Errorf("%d messages stored, want %d", got, want)
			}
		})
	}
}

func elem(t *testing.T, typ string, content any) tencentim.MsgElem {
	t.Helper()
	el, err := tencentim.NewElem(typ, content)
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// spec §14 item 57 and §6.2: only text, face, location and custom elements, each
// well formed; anything else fails the whole request with 10004.
func TestImportGroupMsgElements(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "s")
	id := e.publicGroup(t, "g", "s")
	image := elem(t, tencentim.MsgImage, tencentim.ImageContent{UUID: "u", ImageFormat: 1, ImageInfoArray: []tencentim.ImageInfo{{Type: 1, Width: 1, Height: 1, URL: "https://x/i.png"}}})
	sound := elem(t, tencentim.MsgSound, tencentim.SoundContent{URL: "https://x/s", UUID: "u", DownloadFlag: 2})
	file := elem(t, tencentim.MsgFile, tencentim.FileContent{URL: "https://x/f", UUID: "u", DownloadFlag: 2})
	video := elem(t, tencentim.MsgVideo, tencentim.VideoContent{VideoURL: "https://x/v", VideoUUID: "u", VideoDownloadFlag: 2, ThumbURL: "https://x/t", ThumbUUID: "t", ThumbWidth: 1, ThumbHeight: 1, ThumbDownloadFlag: 2})
	text := elem(t, tencentim.MsgText, tencentim.TextContent{Text: "hi"})
	face := elem(t, tencentim.MsgFace, tencentim.FaceContent{Index: 6, Data: "abc\u0000\u0001"})
	loc := elem(t, tencentim.MsgLocation, tencentim.LocationContent{Desc: "here", Latitude: 22.5, Longitude: 113.9})
	custom := elem(t, tencentim.MsgCustom, tencentim.CustomContent{Data: `{"k":1}`, Desc: "d"})
	raw := func(typ, content string) tencentim.MsgElem {
		return tencentim.MsgElem{MsgType: typ, MsgContent: []byte(content)}
	}
	tests := []struct {
		name string
		body []tencentim.MsgElem
		want int
	}{
		{"item 57 image", []tencentim.MsgElem{text, image}, 10004},
		{"item 57 sound", []tencentim.MsgElem{sound}, 10004},
		{"item 57 file", []tencentim.MsgElem{file}, 10004},
		{"item 57 video", []tencentim.MsgElem{video}, 10004},
		{"unknown MsgType", []tencentim.MsgElem{raw("TIMRelayElem", `{}`)}, 10004},
		{"two custom elements", []tencentim.MsgElem{custom, custom}, 10004},
		{"text without Text", []tencentim.MsgElem{raw(tencentim.MsgText, `{}`)}, 10004},
		{"text with a number", []tencentim.MsgElem{raw(tencentim.MsgText, `{"Text":5}`)}, 10004},
		{"face without Index", []tencentim.MsgElem{raw(tencentim.MsgFace, `{"Data":""}`)}, 10004},
		{"location without Latitude", []tencentim.MsgElem{raw(tencentim.MsgLocation, `{"Desc":"x","Longitude":1}`)}, 10004},
		{"content not an object", []tencentim.MsgElem{raw(tencentim.MsgText, `"hi"`)}, 10004},
		{"empty body", []tencentim.MsgElem{}, 10004},
		{"text", []tencentim.MsgElem{text}, 0},
		{"face", []tencentim.MsgElem{face}, 0},
		{"location", []tencentim.MsgElem{loc}, 0},
		{"custom", []tencentim.MsgElem{custom}, 0},
		{"all four kinds", []tencentim.MsgElem{text, face, loc, custom}, 0},
	}
	sendTime := e.unix(hourAgo)
	stored := 0
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A valid message first: a bad element must fail the whole request.
			msgs := []tencentim.GroupMsg{
				textGroupMsg("s", sendTime+int64(2*i), uint32(2*i+1), "ok"),
				{FromAccount: "s", SendTime: sendTime + int64(2*i+1), Random: uint32(2*i + 2), MsgBody: tt.body},
			}
			_, err := e.client.ImportGroupMsg(t.Context(), &tencentim.ImportGroupMsgRequest{GroupID: id, MsgList: msgs})
			if codeOf(err) != tt.want {
				t.Fatalf("code %d, want %d (%v)", codeOf(err), tt.want, err)
			}
			if err == nil {
				stored += 2
			}
			if got := len(e.srv.State().Groups[0].Messages); got != stored {
				t.Errorf("%d messages stored, want %d", got, stored)
			}
		})
	}
}

// spec §14 item 58 and A5: a MsgBody over 12,000 bytes is Result 80002; a request
// body over 12,288 bytes is 10020.
func TestImportGroupMsgSize(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "s")
	id := e.publicGroup(t, "g", "s")
	// The serialized body is the text plus 50 bytes of envelope:
	// [{"MsgType":"TIMTextElem","MsgContent":{"Text":"..."}}]
	envelope := len(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":""}}]`)
	at := e.unix(hourAgo)
	tests := []struct {
		name string
		text int
		want wantResult
	}{
		{"item 58 one byte over 12,000", 12000 - envelope + 1, wantResult{80002, 0}},
		{"exactly 12,000", 12000 - envelope, wantResult{0, 1}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.client.ImportGroupMsg(t.Context(), &tencentim.ImportGroupMsgRequest{GroupID: id, MsgList: []tencentim.GroupMsg{
				textGroupMsg("s", at+int64(i), uint32(i+1), strings.Repeat("x", tt.text)),
			}})
			if err != nil {
				t.Fatal(err)
			}
			if got := resultsOf(resp); !slices.Equal(got, []wantResult{tt.want}) {
				t.Errorf("results %v, want %v", got, tt.want)
			}
		})
	}
	var err error
	_, err = e.client.ImportGroupMsg(t.Context(), &tencentim.ImportGroupMsgRequest{GroupID: id, MsgList: []tencentim.GroupMsg{
		textGroupMsg("s", at+2, 3, strings.Repeat("a", 6200)),
		textGroupMsg("s", at+3, 4, strings.Repeat("b", 6200)),
	}})
	if codeOf(err) != 10020 {
		t.Errorf("request over 12,288 bytes: code %d, want 10020", codeOf(err))
	}
}

// spec §14 item 59 and request-level rejections of import_group_msg.
func TestImportGroupMsgRejects(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "s")
	e.publicGroup(t, "g", "s")
	av, err := e.client.CreateGroup(t.Context(), &tencentim.CreateGroupRequest{Type: "AVChatRoom", Name: "AV", OwnerAccount: "s"})
	if err != nil {
		t.Fatal(err)
	}
	at := e.unix(hourAgo)
	msg := fmt.Sprintf(`{"From_Account":"s","SendTime":%d,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}`, at)
	tests := []struct {
		name, body string
		want       int
	}{
		{"item 59 AVChatRoom", `{"GroupId":"` + av.GroupID + `","MsgList":[` + msg + `]}`, 10007},
		{"item 59 unknown group", `{"GroupId":"nope","MsgList":[` + msg + `]}`, 10010},
		{"item 59 empty GroupId", `{"GroupId":"","MsgList":[` + msg + `]}`, 10015},
		{"GroupId too long", `{"GroupId":"` + strings.Repeat("g", 49) + `","MsgList":[` + msg + `]}`, 10015},
		{"no GroupId", `{"MsgList":[` + msg + `]}`, 10004},
		{"no MsgList", `{"GroupId":"g"}`, 10004},
		{"A22 MsgList an object", `{"GroupId":"g","MsgList":` + msg + `}`, 10004},
		{"empty MsgList", `{"GroupId":"g","MsgList":[]}`, 10004},
		{"no From_Account", fmt.Sprintf(`{"GroupId":"g","MsgList":[{"SendTime":%d,"MsgBody":[]}]}`, at), 10004},
		{"item 9 From_Account a number", fmt.Sprintf(`{"GroupId":"g","MsgList":[{"From_Account":1,"SendTime":%d,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}]}`, at), 60015},
		{"no SendTime", `{"GroupId":"g","MsgList":[{"From_Account":"s","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}]}`, 10004},
		{"SendTime a string", `{"GroupId":"g","MsgList":[{"From_Account":"s","SendTime":"now","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}]}`, 10004},
		{"Random negative", fmt.Sprintf(`{"GroupId":"g","MsgList":[{"From_Account":"s","SendTime":%d,"Random":-1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}]}`, at), 10004},
		{"Random over 32 bits", fmt.Sprintf(`{"GroupId":"g","MsgList":[{"From_Account":"s","SendTime":%d,"Random":4294967296,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}]}`, at), 10004},
		{"MsgBody an object", fmt.Sprintf(`{"GroupId":"g","MsgList":[{"From_Account":"s","SendTime":%d,"MsgBody":{"MsgType":"TIMTextElem"}}]}`, at), 10004},
		{"RecentContactFlag 2", `{"GroupId":"g","RecentContactFlag":2,"MsgList":[` + msg + `]}`, 10004},
		{"TopicId on a group without topics", `{"GroupId":"g","TopicId":"g@TOPIC#_t","MsgList":[` + msg + `]}`, 10004},
		{"unknown fields are ignored", `{"GroupId":"g","CloudCustomData":"x","MsgList":[` + msg + `]}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, resp := e.callRaw(t, tencentim.CmdImportGroupMsg, tt.body); code != tt.want {
				t.Errorf("code %d, want %d (%v)", code, tt.want, resp)
			}
		})
	}
}

// spec §14 item 61 and design §7 A4: Random dedup within 300 s of SendTime.
func TestImportGroupMsgDedup(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "s")
	id := e.publicGroup(t, "g", "s")
	t0 := e.unix(hourAgo)
	e.mustImportMsgs(t, id, textGroupMsg("s", t0, 7, "original"))
	steps := []struct {
		name     string
		msgs     []tencentim.GroupMsg
		want     []wantResult
		wantTime []int64
		total    int // messages stored afterwards
	}{
		{"item 61 same Random 100 s later", []tencentim.GroupMsg{textGroupMsg("s", t0+100, 7, "dup")}, []wantResult{{0, 1}}, []int64{t0}, 1},
		{"same Random exactly 300 s later", []tencentim.GroupMsg{textGroupMsg("s", t0+300, 7, "dup")}, []wantResult{{0, 1}}, []int64{t0}, 1},
		{"same Random 301 s later is new", []tencentim.GroupMsg{textGroupMsg("s", t0+301, 7, "new")}, []wantResult{{0, 2}}, []int64{t0 + 301}, 2},
		{"it dedups against the newest copy", []tencentim.GroupMsg{textGroupMsg("s", t0+400, 7, "dup")}, []wantResult{{0, 2}}, []int64{t0 + 301}, 2},
		{"other Random is new", []tencentim.GroupMsg{textGroupMsg("s", t0+401, 8, "new")}, []wantResult{{0, 3}}, []int64{t0 + 401}, 3},
		{"Random 0 never dedups", []tencentim.GroupMsg{textGroupMsg("s", t0+402, 0, "a"), textGroupMsg("s", t0+402, 0, "b")}, []wantResult{{0, 4}, {0, 5}}, []int64{t0 + 402, t0 + 402}, 5},
		{"duplicate inside one batch", []tencentim.GroupMsg{textGroupMsg("s", t0+403, 9, "x"), textGroupMsg("s", t0+404, 9, "y")}, []wantResult{{0, 6}, {0, 6}}, []int64{t0 + 403, t0 + 403}, 6},
		{"design §4.3 a resent older batch fails the time rule", []tencentim.GroupMsg{textGroupMsg("s", t0+401, 8, "again")}, []wantResult{{10004, 0}}, []int64{t0 + 401}, 6},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			resp, err := e.client.ImportGroupMsg(t.Context(), &tencentim.ImportGroupMsgRequest{GroupID: id, MsgList: st.msgs})
			if err != nil {
				t.Fatal(err)
			}
			if got := resultsOf(resp); !slices.Equal(got, st.want) {
				t.Errorf("results %v, want %v", got, st.want)
			}
			for i, r := range resp.ImportMsgResult {
				if r.MsgTime != st.wantTime[i] {
					t.Errorf("message %d MsgTime %d, want %d", i, r.MsgTime, st.wantTime[i])
				}
			}
			msgs := e.srv.State().Groups[0].Messages
			if len(msgs) != st.total {
				t.Errorf("%d messages stored, want %d", len(msgs), st.total)
			}
			if string(msgs[0].MsgBody) != `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"original"}}]` {
				t.Errorf("the original was overwritten: %s", msgs[0].MsgBody)
			}
		})
	}
}

// design §7 A14/A15: the sender must be an account but need not be a member; an
// unknown sender fails only its message. Results come in request order.
func TestImportGroupMsgSenders(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "member", "stranger")
	id := e.publicGroup(t, "g", "member")
	at := e.unix(hourAgo)
	resp, err := e.client.ImportGroupMsg(t.Context(), &tencentim.ImportGroupMsgRequest{GroupID: id, MsgList: []tencentim.GroupMsg{
		textGroupMsg("ghost", at, 1, "a"),
		textGroupMsg("member", at+1, 2, "b"),
		textGroupMsg("stranger", at+2, 3, "c"),
		textGroupMsg("ghost", at+3, 4, "d"),
		textGroupMsg("member", at+4, 5, "e"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resultsOf(resp), []wantResult{{10004, 0}, {0, 1}, {0, 2}, {10004, 0}, {0, 3}}; !slices.Equal(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
	var from []string
	for _, m := range e.srv.State().Groups[0].Messages {
		from = append(from, m.FromAccount)
	}
	if want := []string{"member", "stranger", "member"}; !slices.Equal(from, want) {
		t.Errorf("stored senders %v, want %v", from, want)
	}
	if m := e.members(t, id)["member"]; m.LastSendMsgTime != at+4 {
		t.Errorf("LastSendMsgTime %d, want %d", m.LastSendMsgTime, at+4)
	}
}

// spec §14 item 60: an import sets every member's unread count to 0 — only when
// something was stored.
func TestImportGroupMsgResetsUnread(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "s", "a", "b")
	id := e.publicGroup(t, "g", "s")
	e.mustImportMembers(t, id, "a", "b")
	at := e.unix(hourAgo)
	e.mustImportMsgs(t, id, textGroupMsg("s", at, 1, "1"), textGroupMsg("s", at+1, 2, "2"))
	setUnread := func(account string, n int) {
		t.Helper()
		if _, err := e.client.SetUnreadMsgNum(t.Context(), &tencentim.SetUnreadMsgNumRequest{GroupID: id, MemberAccount: account, UnreadMsgNum: n}); err != nil {
			t.Fatal(err)
		}
	}
	setUnread("a", 2)
	setUnread("b", 1)
	steps := []struct {
		name string
		msgs []tencentim.GroupMsg
		want map[string]int
	}{
		{"a duplicate stores nothing", []tencentim.GroupMsg{textGroupMsg("s", at+1, 2, "2")}, map[string]int{"s": 0, "a": 2, "b": 1}},
		{"a failed message stores nothing", []tencentim.GroupMsg{textGroupMsg("s", at, 3, "old")}, map[string]int{"s": 0, "a": 2, "b": 1}},
		{"item 60 a new message", []tencentim.GroupMsg{textGroupMsg("s", at+2, 3, "3")}, map[string]int{"s": 0, "a": 0, "b": 0}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if _, err := e.client.ImportGroupMsg(t.Context(), &tencentim.ImportGroupMsgRequest{GroupID: id, MsgList: st.msgs}); err != nil {
				t.Fatal(err)
			}
			members := e.members(t, id)
			for account, want := range st.want {
				if got := unreadOf(t, members[account]); got != want {
					t.Errorf("%s unread %d, want %d", account, got, want)
				}
				if members[account].MsgSeq+uint64(want) != e.groupInfo(t, id).NextMsgSeq-1 {
					t.Errorf("%s read seq %d inconsistent with unread %d", account, members[account].MsgSeq, want)
				}
			}
		})
	}
}

// spec §14 item 62 and A21: RecentContactFlag 1 puts the group in every member's
// conversations; without it, or in a Community, nothing changes.
func TestImportGroupMsgRecentContact(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "a", "b", "outsider")
	at := e.unix(hourAgo)
	tests := []struct {
		name, typ, id string
		flag          int
		wantListed    bool
	}{
		{"item 62 flag 1", "Public", "flagged", 1, true},
		{"no flag", "Public", "quiet", 0, false},
		{"A21 community ignores it", "Community", "@TGS#_c", 1, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.mustImportGroup(t, &tencentim.ImportGroupRequest{Type: tt.typ, Name: "G", GroupID: tt.id, OwnerAccount: "a", CreateTime: e.unix(dayAgo)})
			e.mustImportMembers(t, tt.id, "b")
			sent := at + int64(i)
			if _, err := e.client.ImportGroupMsg(t.Context(), &tencentim.ImportGroupMsgRequest{
				GroupID: tt.id, RecentContactFlag: tt.flag, MsgList: []tencentim.GroupMsg{textGroupMsg("outsider", sent, 1, "x")},
			}); err != nil {
				t.Fatal(err)
			}
			for _, user := range []string{"a", "b", "outsider"} {
				resp, err := e.client.RecentContactList(t.Context(), &tencentim.RecentContactListRequest{FromAccount: user, AssistFlags: 7})
				if err != nil {
					t.Fatal(err)
				}
				i := slices.IndexFunc(resp.SessionItem, func(s tencentim.SessionItem) bool { return s.GroupID == tt.id })
				want := tt.wantListed && user != "outsider" // members only
				if (i >= 0) != want {
					t.Errorf("%s lists %s: %v, want %v", user, tt.id, i >= 0, want)
				}
				if i >= 0 && (resp.SessionItem[i].Type != 2 || resp.SessionItem[i].MsgTime != sent) {
					t.Errorf("%s session %+v, want Type 2 MsgTime %d", user, resp.SessionItem[i], sent)
				}
			}
		})
	}
}

// BenchmarkImportGroupMsg measures import_group_msg through HTTP, batches of 7,
// in groups of growing size: the cost per call must not grow with the members.
func BenchmarkImportGroupMsg(b *testing.B) {
	for _, size := range []int{1, 3000} {
		b.Run(fmt.Sprintf("members=%d", size), func(b *testing.B) {
			e := newTestEnvTB(b)
			users := accounts("b", size)
			for start := 0; start < size; start += tencentim.MaxMultiAccountImport {
				if _, err := e.client.MultiAccountImport(b.Context(), &tencentim.MultiAccountImportRequest{Accounts: users[start:min(start+tencentim.MaxMultiAccountImport, size)]}); err != nil {
					b.Fatal(err)
				}
			}
			created := e.clock.Now().Unix() - 300_000_000
			if _, err := e.client.ImportGroup(b.Context(), &tencentim.ImportGroupRequest{Type: "Community", Name: "B", GroupID: "@TGS#_bench", CreateTime: created}); err != nil {
				b.Fatal(err)
			}
			for start := 0; start < size; start += tencentim.MaxGroupMemberBatch {
				req := &tencentim.ImportGroupMemberRequest{GroupID: "@TGS#_bench"}
				for _, u := range users[start:min(start+tencentim.MaxGroupMemberBatch, size)] {
					req.MemberList = append(req.MemberList, tencentim.ImportMember{MemberAccount: u})
				}
				if _, err := e.client.ImportGroupMember(b.Context(), req); err != nil {
					b.Fatal(err)
				}
			}
			at := created
			b.ReportAllocs()
			for b.Loop() {
				msgs := make([]tencentim.GroupMsg, tencentim.MaxGroupMsgBatch)
				for i := range msgs {
					at++
					msgs[i] = textGroupMsg(users[0], at, uint32(at), "benchmark message")
				}
				if _, err := e.client.ImportGroupMsg(b.Context(), &tencentim.ImportGroupMsgRequest{GroupID: "@TGS#_bench", MsgList: msgs}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

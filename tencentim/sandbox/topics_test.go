package sandbox

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/tencentim"
)

// spec §14 items 85-87: import_topic.
func TestImportTopic(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "u")
	const c = "@TGS#_topics"
	e.mustImportGroup(t, &tencentim.ImportGroupRequest{Type: "Community", Name: "C", GroupID: c, SupportTopic: 1, CreateTime: e.unix(dayAgo)})
	e.mustImportGroup(t, &tencentim.ImportGroupRequest{Type: "Community", Name: "C", GroupID: "@TGS#_plain"})
	e.publicGroup(t, "pub", "")
	tests := []struct {
		name    string
		req     tencentim.ImportTopicRequest
		want    int
		wantID  string // exact ID, or
		pattern string // a pattern for an assigned one
	}{
		{"item 85 Public group", tencentim.ImportTopicRequest{GroupID: "pub", TopicName: "T"}, 11000, "", ""},
		{"item 85 Community without SupportTopic", tencentim.ImportTopicRequest{GroupID: "@TGS#_plain", TopicName: "T"}, 11000, "", ""},
		{"unknown group", tencentim.ImportTopicRequest{GroupID: "nope", TopicName: "T"}, 10010, "", ""},
		{"item 86 custom ID", tencentim.ImportTopicRequest{GroupID: c, TopicID: c + "@TOPIC#_T1", TopicName: "T1", FromAccount: "u"}, 0, c + "@TOPIC#_T1", ""},
		{"item 86 same custom ID again", tencentim.ImportTopicRequest{GroupID: c, TopicID: c + "@TOPIC#_T1", TopicName: "again"}, 10021, "", ""},
		{"item 86 assigned ID", tencentim.ImportTopicRequest{GroupID: c, TopicName: "T2"}, 0, "", `^` + regexp.QuoteMeta(c+"@TOPIC#_@TOPIC#") + `[0-9A-Za-z]+$`},
		{"custom ID of another group", tencentim.ImportTopicRequest{GroupID: c, TopicID: "@TGS#_plain@TOPIC#_T", TopicName: "T"}, 10004, "", ""},
		{"custom ID without a custom part", tencentim.ImportTopicRequest{GroupID: c, TopicID: c + "@TOPIC#_", TopicName: "T"}, 10004, "", ""},
		{"item 87 TopicName 31 bytes", tencentim.ImportTopicRequest{GroupID: c, TopicName: strings.Repeat("t", 31)}, 10004, "", ""},
		{"TopicName 30 bytes", tencentim.ImportTopicRequest{GroupID: c, TopicName: strings.Repeat("t", 30)}, 0, "", `.`},
		{"item 87 CustomString 3001 bytes", tencentim.ImportTopicRequest{GroupID: c, TopicName: "T", CustomString: strings.Repeat("c", 3001)}, 10004, "", ""},
		{"CustomString 3000 bytes", tencentim.ImportTopicRequest{GroupID: c, TopicName: "T", CustomString: strings.Repeat("c", 3000)}, 0, "", `.`},
		{"A20 TopicName missing", tencentim.ImportTopicRequest{GroupID: c}, 10004, "", ""},
		{"FaceUrl 101 bytes", tencentim.ImportTopicRequest{GroupID: c, TopicName: "T", FaceURL: strings.Repeat("f", 101)}, 10004, "", ""},
		{"unknown creator", tencentim.ImportTopicRequest{GroupID: c, TopicName: "T", FromAccount: "ghost"}, 10004, "", ""},
		{"CreateTime before the group", tencentim.ImportTopicRequest{GroupID: c, TopicName: "T", CreateTime: e.unix(dayAgo - 1)}, 10004, "", ""},
		{"CreateTime in the future", tencentim.ImportTopicRequest{GroupID: c, TopicName: "T", CreateTime: e.unix(1)}, 10004, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.client.ImportTopic(t.Context(), &tt.req)
			if codeOf(err) != tt.want {
				t.Fatalf("code %d, want %d (%v)", codeOf(err), tt.want, err)
			}
			if err != nil {
				return
			}
			if tt.wantID != "" && resp.TopicID != tt.wantID {
				t.Errorf("TopicId %q, want %q", resp.TopicID, tt.wantID)
			}
			if tt.pattern != "" && !regexp.MustCompile(tt.pattern).MatchString(resp.TopicID) {
				t.Errorf("TopicId %q does not match %s", resp.TopicID, tt.pattern)
			}
		})
	}
	raw := []struct {
		name, body string
		want       int
	}{
		{"Type other than Community", `{"GroupId":"` + c + `","TopicName":"T","Type":"Public"}`, 10004},
		{"A20 From_Account a number", `{"GroupId":"` + c + `","TopicName":"T","From_Account":12}`, 60015},
	}
	for _, tt := range raw {
		t.Run(tt.name, func(t *testing.T) {
			if code, _ := e.callRaw(t, tencentim.CmdImportTopic, tt.body); code != tt.want {
				t.Errorf("code %d, want %d", code, tt.want)
			}
		})
	}
}

// spec §14 item 66: a topic has its own message sequence, read back with TopicId.
func TestTopicMessages(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "u")
	const c = "@TGS#_talk"
	e.mustImportGroup(t, &tencentim.ImportGroupRequest{Type: "Community", Name: "C", GroupID: c, SupportTopic: 1, CreateTime: e.unix(dayAgo), OwnerAccount: "u"})
	topicCreated := e.unix(hourAgo)
	tp, err := e.client.ImportTopic(t.Context(), &tencentim.ImportTopicRequest{GroupID: c, TopicID: c + "@TOPIC#_news", TopicName: "News", CreateTime: topicCreated})
	if err != nil {
		t.Fatal(err)
	}
	importInto := func(topicID string, msgs ...tencentim.GroupMsg) (*tencentim.ImportGroupMsgResponse, error) {
		return e.client.ImportGroupMsg(t.Context(), &tencentim.ImportGroupMsgRequest{GroupID: c, TopicID: topicID, MsgList: msgs})
	}
	resp, err := importInto(tp.TopicID,
		textGroupMsg("u", topicCreated, 1, "before the topic"),
		textGroupMsg("u", topicCreated+1, 2, "t1"),
		textGroupMsg("u", topicCreated+2, 3, "t2"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resultsOf(resp), []wantResult{{10004, 0}, {0, 1}, {0, 2}}; !slices.Equal(got, want) {
		t.Errorf("topic results %v, want %v", got, want)
	}
	// The group's own sequence is separate and starts at 1 too.
	if seqs := e.mustImportMsgs(t, c, textGroupMsg("u", topicCreated-10, 4, "g1")); !slices.Equal(seqs, []uint64{1}) {
		t.Errorf("group seqs %v, want [1]", seqs)
	}
	if _, err := importInto(c+"@TOPIC#_nope", textGroupMsg("u", topicCreated+3, 5, "x")); codeOf(err) != 10010 {
		t.Errorf("unknown topic: code %d, want 10010", codeOf(err))
	}
	tests := []struct {
		name     string
		topicID  string
		wantText []string
	}{
		{"item 66 with TopicId", tp.TopicID, []string{"t2", "t1"}},
		{"item 66 without TopicId", "", []string{"g1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.client.GroupMsgGetSimple(t.Context(), &tencentim.GroupMsgGetSimpleRequest{GroupID: c, ReqMsgNumber: 20, TopicID: tt.topicID})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range resp.Messages() {
				var text tencentim.TextContent
				if err := json.Unmarshal(m.MsgBody[0].MsgContent, &text); err != nil {
					t.Fatal(err)
				}
				got = append(got, text.Text)
			}
			if !slices.Equal(got, tt.wantText) {
				t.Errorf("texts %v, want %v", got, tt.wantText)
			}
		})
	}
	// Topic messages do not count for the group's unread or NextMsgSeq.
	if info := e.groupInfo(t, c); info.NextMsgSeq != 2 {
		t.Errorf("NextMsgSeq %d, want 2", info.NextMsgSeq)
	}
	st := e.srv.State().Groups[0]
	var where []string
	for _, m := range st.Messages {
		where = append(where, m.TopicID)
	}
	if want := []string{"", tp.TopicID, tp.TopicID}; !slices.Equal(where, want) || len(st.Topics) != 1 || st.Topics[0].TopicName != "News" {
		t.Errorf("dump messages in %q topics %+v, want %q and News", where, st.Topics, want)
	}
}

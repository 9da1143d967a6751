package sandbox

import (
	"fmt"
	"slices"
	"testing"

	"github.com/immigrate/immigrate/tencentim"
)

func sessions(t *testing.T, e *testEnv, user string) []tencentim.SessionItem {
	t.Helper()
	resp, err := e.client.RecentContactList(t.Context(), &tencentim.RecentContactListRequest{FromAccount: user, AssistFlags: 7})
	if err != nil {
		t.Fatal(err)
	}
	if resp.CompleteFlag != 1 {
		t.Fatalf("%s: CompleteFlag %d", user, resp.CompleteFlag)
	}
	return resp.SessionItem
}

// spec §14 items 34, 88: importmsg puts the conversation in both parties' recent
// contacts with the time of the latest message, historical (2) messages included;
// an older message imported later does not move it back.
func TestRecentContactsFromC2C(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "u", "p", "q", "lonely")
	for _, req := range []*tencentim.ImportMsgRequest{
		c2cReq("p", "u", 1, 1, 500, "a"),
		c2cReq("u", "q", 2, 1, 700, "b"),
		c2cReq("p", "u", 3, 1, 300, "older, imported later"),
	} {
		if _, err := e.client.ImportMsg(t.Context(), req); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		user string
		want []tencentim.SessionItem
	}{
		{"u", []tencentim.SessionItem{{Type: 1, ToAccount: "q", MsgTime: 700}, {Type: 1, ToAccount: "p", MsgTime: 500}}},
		{"p", []tencentim.SessionItem{{Type: 1, ToAccount: "u", MsgTime: 500}}},
		{"q", []tencentim.SessionItem{{Type: 1, ToAccount: "u", MsgTime: 700}}},
		{"lonely", []tencentim.SessionItem{}},
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			if got := sessions(t, e, tc.user); !slices.Equal(got, tc.want) {
				t.Errorf("SessionItem = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// spec §14 item 62, the user side: import_group_msg with RecentContactFlag 1 adds
// the group (Type 2) to each member's recent contacts through touchGroupSession.
func TestRecentContactsFromGroup(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "m1", "m2", "outsider")
	ctx := t.Context()
	g, err := e.client.ImportGroup(ctx, &tencentim.ImportGroupRequest{Type: tencentim.GroupPublic, Name: "G", GroupID: "g1", CreateTime: 100})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.ImportGroupMember(ctx, &tencentim.ImportGroupMemberRequest{GroupID: g.GroupID, MemberList: []tencentim.ImportMember{{MemberAccount: "m1", JoinTime: 150}, {MemberAccount: "m2", JoinTime: 150}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.ImportMsg(ctx, c2cReq("m1", "m2", 1, 1, 300, "dm")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.ImportGroupMsg(ctx, &tencentim.ImportGroupMsgRequest{GroupID: g.GroupID, RecentContactFlag: 1, MsgList: []tencentim.GroupMsg{{FromAccount: "m1", SendTime: 400, Random: 1, MsgBody: textBody("hi all")}}}); err != nil {
		t.Fatal(err)
	}
	want := []tencentim.SessionItem{{Type: 2, GroupID: "g1", MsgTime: 400}, {Type: 1, ToAccount: "m1", MsgTime: 300}}
	if got := sessions(t, e, "m2"); !slices.Equal(got, want) {
		t.Errorf("m2 SessionItem = %+v, want %+v", got, want)
	}
	if got := sessions(t, e, "outsider"); len(got) != 0 {
		t.Errorf("a non-member got %+v", got)
	}
	e.srv.mu.Lock()
	e.srv.users.touchGroupSession("ghost", "g1", 1) // unknown users are ignored
	e.srv.mu.Unlock()
	for _, rc := range e.srv.State().RecentContacts {
		if rc.UserID == "ghost" {
			t.Error("a session was created for an unknown user")
		}
	}
}

// Paging by StartIndex (INFERRED cursor), and MaxRecentContacts keeping the newest.
func TestRecentContactPagingAndLimit(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.MaxRecentContacts = 150 })
	peers := make([]string, 160)
	for i := range peers {
		peers[i] = fmt.Sprintf("p%03d", i)
	}
	e.importUsers(t, append([]string{"u"}, peers...)...)
	for i, p := range peers {
		if _, err := e.client.ImportMsg(t.Context(), c2cReq(p, "u", 1, 1, int64(1000+i), "m")); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	req := &tencentim.RecentContactListRequest{FromAccount: "u"}
	pages := 0
	for {
		resp, err := e.client.RecentContactList(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range resp.SessionItem {
			got = append(got, it.ToAccount)
		}
		if resp.CompleteFlag == 1 {
			break
		}
		if pages > 10 {
			t.Fatal("no end")
		}
		req.StartIndex, req.TimeStamp = resp.StartIndex, resp.TimeStamp
	}
	// Newest first; the 10 oldest were dropped by the limit of 150.
	want := slices.Clone(peers[10:])
	slices.Reverse(want)
	if pages != 2 || !slices.Equal(got, want) {
		t.Errorf("%d pages, %d sessions (first %v); want 2 pages of the 150 newest", pages, len(got), got[:min(3, len(got))])
	}
	for body, want := range map[string]int{
		`{"From_Account":"u"}`: 50002,
		`{"From_Account":"u","TimeStamp":0,"StartIndex":"0","TopTimeStamp":0,"TopStartIndex":0,"AssistFlags":0}`: 50002,
		`{"From_Account":"u","TimeStamp":0,"StartIndex":-1,"TopTimeStamp":0,"TopStartIndex":0,"AssistFlags":0}`:  50002,
		`{"TimeStamp":0,"StartIndex":0,"TopTimeStamp":0,"TopStartIndex":0,"AssistFlags":0}`:                      50002,
	} {
		if got := codeOf(e.client.CallRaw(t.Context(), tencentim.CmdRecentContactList, []byte(body), nil)); got != want {
			t.Errorf("%s: code %d, want %d", body, got, want)
		}
	}
}

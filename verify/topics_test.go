package verify

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/tencentim"
)

// TestRunReadsTopicHistories: a topic's messages are a stream of their own, keyed
// by the TopicId, and verify reads each back with its TopicId (spec §8.11,
// §8.14): present in their topic, missing when only the group itself or another
// topic holds them.
func TestRunReadsTopicHistories(t *testing.T) {
	ctx := t.Context()
	c := newCaller(t)
	src := memSource{}
	a := tencentim.AccountImportRequest{UserID: "u1"}
	if _, err := c.AccountImport(ctx, &a); err != nil {
		t.Fatal(err)
	}
	src.add(t, load.PhaseAccounts, "", "u1", a)
	const gid = "@TGS#_c1"
	g := tencentim.ImportGroupRequest{GroupID: gid, Type: tencentim.GroupCommunity, Name: "C", OwnerAccount: "u1", CreateTime: t0, SupportTopic: 1}
	if _, err := c.ImportGroup(ctx, &g); err != nil {
		t.Fatal(err)
	}
	src.add(t, load.PhaseGroups, gid, gid, g)
	topic := func(part string) string { return gid + load.TopicInfix + part }
	for _, part := range []string{"t1", "t2"} {
		if _, err := c.ImportTopic(ctx, &tencentim.ImportTopicRequest{GroupID: gid, TopicID: topic(part), TopicName: part, CreateTime: t0 + 1}); err != nil {
			t.Fatal(err)
		}
	}
	msg := func(n int) tencentim.GroupMsg {
		return tencentim.GroupMsg{FromAccount: "u1", SendTime: t0 + 10 + int64(n), Random: uint32(n), MsgBody: text(fmt.Sprint("m", n))}
	}
	// The target holds 1 in the group itself, 2 and 3 in t1, 4 in t2.
	for _, imp := range []struct {
		topic string
		msgs  []int
	}{{"", []int{1}}, {topic("t1"), []int{2, 3}}, {topic("t2"), []int{4}}} {
		req := tencentim.ImportGroupMsgRequest{GroupID: gid, TopicID: imp.topic}
		for _, n := range imp.msgs {
			req.MsgList = append(req.MsgList, msg(n))
		}
		if _, err := c.ImportGroupMsg(ctx, &req); err != nil {
			t.Fatal(err)
		}
	}
	// The plan sends 1 to the group, 2 and 3 to t1, 4 to t2, and 5 to t1, which
	// the target holds nowhere, and 1 to t2 as well, which only the group has.
	for _, p := range []struct {
		stream string
		msgs   []int
	}{{gid, []int{1}}, {topic("t1"), []int{2, 3, 5}}, {topic("t2"), []int{1, 4}}} {
		for _, n := range p.msgs {
			src.add(t, load.PhaseGroupMessages, p.stream, fmt.Sprintf("%s#%d", p.stream, n), msg(n))
		}
	}
	caller := load.NewCaller(c, map[tencentim.Command]float64{
		tencentim.CmdAccountCheck: math.Inf(1), tencentim.CmdPortraitGet: math.Inf(1), tencentim.CmdGetGroupInfo: math.Inf(1),
		tencentim.CmdGetGroupMemberInfo: math.Inf(1), tencentim.CmdGroupMsgGetSimple: math.Inf(1), tencentim.CmdAdminGetRoamMsg: math.Inf(1),
	}, 2)
	res, err := Run(ctx, caller, src, Config{Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, fmt.Sprintf("%s %s %s", f.Entity, f.LegacyID, f.Kind))
	}
	want := []string{
		"group_messages " + topic("t1") + "#5 missing",
		"group_messages " + topic("t2") + "#1 missing",
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("findings\n  %q\nwant\n  %q", got, want)
	}
	for _, n := range res.Entities {
		if n.Entity == extract.GroupMessages && (n.Expected != 6 || n.Present != 4 || n.Missing != 2) {
			t.Errorf("group messages %+v, want 6 expected, 4 present, 2 missing", n)
		}
	}
}

package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// The package's own tests run against a sandbox over HTTP with the real client,
// through load.Caller; the plan is an in-memory load.Source. The end-to-end tests
// (a migrated dataset, a tampered target) are in cmd/immigrate/verify_test.go.

const (
	testSDKAppID = 1400054321
	testAdmin    = "admin"
	testKey      = "verify-test-secret-key"
	t0           = 1_700_000_000
)

func newCaller(t *testing.T) *tencentim.Client {
	t.Helper()
	srv, err := sandbox.New(sandbox.Config{SDKAppID: testSDKAppID, SecretKey: secret.New(testKey), Admins: []string{testAdmin}, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := tencentim.NewClient(tencentim.Config{SDKAppID: testSDKAppID, SecretKey: secret.New(testKey), Admin: testAdmin, Endpoint: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// memSource is a plan in memory.
type memSource map[load.Phase][]load.Record

func (m memSource) Records(ctx context.Context, ph load.Phase, fn func(load.Record) error) error {
	for _, r := range m[ph] {
		if err := fn(r); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (m memSource) add(t *testing.T, ph load.Phase, stream, legacyID string, payload any) {
	t.Helper()
	raw, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	m[ph] = append(m[ph], load.Record{Item: load.Item{Origin: fmt.Sprintf("%s.csv:%d", ph, len(m[ph])+2), LegacyID: legacyID}, Stream: stream, Payload: raw})
}

func text(s string) []tencentim.MsgElem {
	e, _ := tencentim.NewElem(tencentim.MsgText, tencentim.TextContent{Text: s})
	return []tencentim.MsgElem{e}
}

// TestRunFindsOrderAndAbsentGroups: messages imported in another order than the
// plan's are "different: order"; a group the target does not hold is missing with
// its members and messages; everything else is present.
func TestRunFindsOrderAndAbsentGroups(t *testing.T) {
	ctx := t.Context()
	c := newCaller(t)
	src := memSource{}
	for _, u := range []string{"u1", "u2", "u3"} {
		a := tencentim.AccountImportRequest{UserID: u, Nick: "N" + u}
		if _, err := c.AccountImport(ctx, &a); err != nil {
			t.Fatal(err)
		}
		src.add(t, load.PhaseAccounts, "", u, a)
	}
	for _, g := range []tencentim.ImportGroupRequest{
		{GroupID: "g1", Type: tencentim.GroupPublic, Name: "One", OwnerAccount: "u1", CreateTime: t0},
		{GroupID: "g2", Type: tencentim.GroupPublic, Name: "Two", OwnerAccount: "u1", CreateTime: t0},
	} {
		if g.GroupID == "g1" {
			if _, err := c.ImportGroup(ctx, &g); err != nil {
				t.Fatal(err)
			}
		}
		src.add(t, load.PhaseGroups, g.GroupID, g.GroupID, g)
		m := tencentim.ImportMember{MemberAccount: "u2", JoinTime: t0 + 1} // no Role: Member (spec §8.8)
		if g.GroupID == "g1" {
			resp, err := c.ImportGroupMember(ctx, &tencentim.ImportGroupMemberRequest{GroupID: "g1", MemberList: []tencentim.ImportMember{m}})
			if err != nil || resp.MemberList[0].Result != tencentim.MemberImported {
				t.Fatalf("import_group_member: %v %+v", err, resp)
			}
		}
		src.add(t, load.PhaseMembers, g.GroupID, g.GroupID+"/u2", m)
	}
	// The plan sends a, b, c, d (a and b in the same second); the target got b
	// before a.
	msgs := map[string]tencentim.GroupMsg{
		"a": {FromAccount: "u1", SendTime: t0 + 10, Random: 1, MsgBody: text("a")},
		"b": {FromAccount: "u2", SendTime: t0 + 10, Random: 2, MsgBody: text("b")},
		"c": {FromAccount: "u1", SendTime: t0 + 11, Random: 3, MsgBody: text("c")},
		"d": {FromAccount: "u2", SendTime: t0 + 12, Random: 4, MsgBody: text("d")},
	}
	var sent []tencentim.GroupMsg
	for _, id := range []string{"b", "a", "c", "d"} {
		sent = append(sent, msgs[id])
	}
	if _, err := c.ImportGroupMsg(ctx, &tencentim.ImportGroupMsgRequest{GroupID: "g1", MsgList: sent}); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"g1", "g2"} {
		for _, id := range []string{"a", "b", "c", "d"} {
			src.add(t, load.PhaseGroupMessages, g, g+"-"+id, msgs[id])
		}
	}
	dm := tencentim.ImportMsgRequest{SyncFromOldSystem: 2, FromAccount: "u1", ToAccount: "u3", MsgSeq: 7, MsgRandom: 8, MsgTimeStamp: t0 + 5, MsgBody: text("hi")}
	if _, err := c.ImportMsg(ctx, &dm); err != nil {
		t.Fatal(err)
	}
	src.add(t, load.PhaseDirectMessages, load.ConversationStream("u1", "u3"), "dm1", dm)
	lost := dm
	lost.MsgSeq, lost.MsgTimeStamp = 9, t0+6
	src.add(t, load.PhaseDirectMessages, load.ConversationStream("u1", "u3"), "dm2", lost)

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
		got = append(got, fmt.Sprintf("%s %s %s %v", f.Entity, f.LegacyID, f.Kind, f.Fields))
	}
	want := []string{
		"groups g2 missing []",
		"group_members g2/u2 missing []",
		"group_messages g1-b different [order]",
		"group_messages g2-a missing []", "group_messages g2-b missing []", "group_messages g2-c missing []", "group_messages g2-d missing []",
		"direct_messages dm2 missing []",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings\n  %q\nwant\n  %q", got, want)
	}
	wantCounts := []Counts{
		{Entity: extract.Users, Expected: 3, Present: 3},
		{Entity: extract.Groups, Expected: 2, Present: 1, Missing: 1},
		{Entity: extract.Members, Expected: 2, Present: 1, Missing: 1},
		{Entity: extract.GroupMessages, Expected: 8, Present: 3, Missing: 4, Different: 1},
		{Entity: extract.DirectMessages, Expected: 2, Present: 1, Missing: 1},
	}
	if !slices.Equal(res.Entities, wantCounts) {
		t.Errorf("counts\n  %+v\nwant\n  %+v", res.Entities, wantCounts)
	}
	if res.OK() {
		t.Error("OK with findings")
	}
}

// TestSampleIsDeterministic: a sample keeps about its share of keys, the same
// ones every time, and a larger sample contains a smaller one.
func TestSampleIsDeterministic(t *testing.T) {
	pick := func(pct float64) []string {
		v := &verifier{cfg: Config{Sample: pct}}
		var out []string
		for i := range 2000 {
			if k := fmt.Sprint("user", i); v.sampled(k) {
				out = append(out, k)
			}
		}
		return out
	}
	ten, again, half, all := pick(10), pick(10), pick(50), pick(100)
	if !slices.Equal(ten, again) {
		t.Error("the same sample differs between two draws")
	}
	if len(ten) < 120 || len(ten) > 280 || len(half) < 850 || len(half) > 1150 || len(all) != 2000 {
		t.Errorf("sizes %d, %d, %d of 2000 for 10 %%, 50 %%, 100 %%", len(ten), len(half), len(all))
	}
	for _, k := range ten {
		if !slices.Contains(half, k) {
			t.Errorf("%s is in the 10 %% sample but not in the 50 %% one", k)
		}
	}
}

package load

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// TestCallerRetriesAndPaces: a Caller's read survives the target's transient
// failures, counts every attempt, returns a refusal of the request as the vendor
// error, and spaces its calls at the configured rate.
func TestCallerRetriesAndPaces(t *testing.T) {
	tg := newTarget(t, func(c *sandbox.Config) {
		c.Faults = []sandbox.Fault{
			{Command: tencentim.CmdAccountCheck, Nth: 2, Kind: sandbox.FaultHTTP502},
			{Command: tencentim.CmdAccountCheck, Nth: 3, Kind: sandbox.FaultCode, Code: 60007},
		}
	})
	ctx := t.Context()
	if _, err := tg.client.AccountImport(ctx, &tencentim.AccountImportRequest{UserID: "u1"}); err != nil {
		t.Fatal(err)
	}
	c := NewCaller(tg.client, map[tencentim.Command]float64{
		tencentim.CmdAccountCheck:      math.Inf(1),
		tencentim.CmdGetGroupInfo:      20,
		tencentim.CmdGroupMsgGetSimple: math.Inf(1),
	}, 5)
	for range 4 {
		var resp tencentim.AccountCheckResponse
		err := c.Call(ctx, tencentim.CmdAccountCheck, &tencentim.AccountCheckRequest{CheckItem: []tencentim.AccountCheckItem{{UserID: "u1"}}}, &resp)
		if err != nil {
			t.Fatalf("account_check: %v", err)
		}
		if len(resp.ResultItem) != 1 || resp.ResultItem[0].AccountStatus != tencentim.AccountImported {
			t.Fatalf("account_check answered %+v", resp.ResultItem)
		}
	}
	// Every second and third attempt at account_check fails (Nth counts every
	// call of the command): the four reads take attempts 1, 5, 7 and 11.
	if got := c.Calls()[tencentim.CmdAccountCheck.String()]; got != 11 {
		t.Errorf("account_check attempts = %d, want 11, the failed ones counted too", got)
	}

	var gm tencentim.GroupMsgGetSimpleResponse
	err := c.Call(ctx, tencentim.CmdGroupMsgGetSimple, &tencentim.GroupMsgGetSimpleRequest{GroupID: "nope", ReqMsgNumber: 20}, &gm)
	var te *tencentim.Error
	if !errors.As(err, &te) || te.Code != 10010 {
		t.Errorf("group_msg_get_simple of a missing group: %v, want the vendor error 10010", err)
	}

	start := time.Now()
	for range 5 {
		var gi tencentim.GetGroupInfoResponse
		if err := c.Call(ctx, tencentim.CmdGetGroupInfo, &tencentim.GetGroupInfoRequest{GroupIDList: []string{"nope"}}, &gi); err != nil {
			t.Fatal(err)
		}
	}
	// Burst 1 at 20/s: five calls span at least four intervals of 50 ms.
	if d := time.Since(start); d < 190*time.Millisecond {
		t.Errorf("5 calls at 20/s took %v, want ≥ 200 ms", d)
	}
}

package load

import (
	"fmt"
	"slices"
	"testing"

	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// friendsSource has 260 accounts and friend lists of three users: u000 with 250
// friends (three friend_import calls of ≤ 100), u001 with u000 (the other
// direction of a mutual friendship), and u002 with a friend that was never
// imported and itself, which the target refuses per item (30003, 30001).
func friendsSource() *memSource {
	src := &memSource{}
	for i := range 260 {
		id := userID(i)
		src.accounts = append(src.accounts, Account{Item: Item{Origin: "users.csv", LegacyID: id}, Req: tencentim.AccountImportRequest{UserID: id}})
	}
	add := func(from, to string, at int64) {
		src.friends = append(src.friends, Friend{Item: Item{Origin: "friends.csv", LegacyID: from + "/" + to}, From: from,
			Req: tencentim.AddFriendItem{ToAccount: to, AddSource: "AddSource_Type_Import", Remark: "r " + to, AddTime: at}})
	}
	for i := 1; i <= 250; i++ {
		add("u000", userID(i), 1700000000+int64(i))
	}
	add("u001", "u000", 1700000000)
	add("u002", "ghost", 0)
	add("u002", "u002", 0)
	add("u002", "u003", 1700000001)
	return src
}

func TestEngineFriends(t *testing.T) {
	for _, tt := range []struct {
		name   string
		faults []sandbox.Fault
	}{
		{"clean", nil},
		// Lost answers and transient failures: the resent batches land on the
		// same friends (friend_import replaces a friend), so the state is the same.
		{"faults", faults10()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := friendsSource()
			tg := newTarget(t, func(c *sandbox.Config) { c.Faults = tt.faults })
			sink := &memSink{}
			sum, err := runEngine(t, tg, src, Config{Rates: highRates(), UseMultiAccount: true, Rejects: sink, Streams: 8, Workers: 4})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			st := sum.Phases[PhaseFriends]
			if st.Imported != 252 || st.Rejected != 2 || st.Present != 0 || st.Read != 254 {
				t.Errorf("friends: read %d imported %d present %d rejected %d, want 254/252/0/2", st.Read, st.Imported, st.Present, st.Rejected)
			}
			var rules []string
			for _, r := range sink.rejects {
				rules = append(rules, r.LegacyID+" "+r.Rule)
			}
			slices.Sort(rules)
			if want := []string{"u002/ghost target.30003", "u002/u002 target.30001"}; fmt.Sprint(rules) != fmt.Sprint(want) {
				t.Errorf("rejects %v, want %v", rules, want)
			}
			if tt.faults == nil {
				// One user's list per stream, in batches of 100.
				if got := sum.APIs[tencentim.CmdFriendImport.String()].Calls; got != 5 {
					t.Errorf("friend_import calls = %d, want 5 (3 for u000, 1 each for u001 and u002)", got)
				}
			}
			state := tg.srv.State()
			got := map[string]tencentim.AddFriendItem{}
			for _, f := range state.Friends {
				got[f.FromAccount+"/"+f.ToAccount] = tencentim.AddFriendItem{ToAccount: f.ToAccount, AddSource: f.AddSource, Remark: f.Remark, AddTime: f.AddTime}
			}
			if len(got) != 252 {
				t.Errorf("target holds %d friends, want 252", len(got))
			}
			for _, f := range src.friends {
				if f.Req.ToAccount == "ghost" || f.From == f.Req.ToAccount {
					continue
				}
				g, ok := got[f.From+"/"+f.Req.ToAccount]
				want := f.Req
				if !ok || g.Remark != want.Remark || g.AddSource != want.AddSource || (want.AddTime != 0 && g.AddTime != want.AddTime) {
					t.Errorf("friend %s→%s = %+v (present %v), want %+v", f.From, f.Req.ToAccount, g, ok, want)
				}
			}
			// One-way: u003 did not get u002.
			if _, ok := got["u003/u002"]; ok {
				t.Errorf("u003 lists u002: friend_import is one-way")
			}
		})
	}
}

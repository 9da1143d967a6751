package plan

import (
	"fmt"
	"testing"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/transform"
)

// TestValidateFriends: under policies.friends: import each friends row is counted
// by the friend rules, and the plan has one friend_import call per 100 friends of
// one user; under skip the rows are read and skipped, with no friends row in the
// plan.
func TestValidateFriends(t *testing.T) {
	data := func() *memReader {
		r := testDataset()
		r.friends = nil
		for i := range 250 {
			id := fmt.Sprintf("f%03d", i)
			r.users = append(r.users, extract.User{ID: id, Origin: origin("users.csv", 100+i)})
			r.friends = append(r.friends, extract.Friend{UserID: "u1", FriendID: id, Origin: origin("friends.csv", 2+i)})
		}
		r.friends = append(r.friends,
			extract.Friend{UserID: "u2", FriendID: "u1", Origin: origin("friends.csv", 300)},
			extract.Friend{UserID: "u2", FriendID: "u2", Origin: origin("friends.csv", 301)},    // self
			extract.Friend{UserID: "u3", FriendID: "ghost", Origin: origin("friends.csv", 302)}, // unknown
		)
		return r
	}
	t.Run("import", func(t *testing.T) {
		var rejects rejectList
		res, err := runValidate(t, data(), newTestTransformer(t, nil), ValidateOptions{Rejects: &rejects, Now: testNow, Friends: true})
		if err != nil {
			t.Fatal(err)
		}
		c := res.Counts(extract.Friends)
		if c.Read != 253 || c.Valid != 251 || c.Rejected != 2 || c.Skipped != 0 {
			t.Errorf("friends counts %+v, want read 253, valid 251, rejected 2", c)
		}
		got := map[string]bool{}
		for _, r := range rejects {
			if r.Entity == string(extract.Friends) {
				got[r.LegacyID+" "+r.Rule] = true
			}
		}
		for _, want := range []string{"u2/u2 " + transform.RuleFriendSelf, "u3/ghost " + transform.RuleFriendFriendUnknown} {
			if !got[want] {
				t.Errorf("no reject %s among %v", want, got)
			}
		}
		var row *PhasePlan
		for i := range res.Plan.Phases {
			if res.Plan.Phases[i].Phase == planFriends {
				row = &res.Plan.Phases[i]
			}
		}
		if row == nil {
			t.Fatal("no friends row in the plan")
		}
		if row.Command != tencentim.CmdFriendImport.String() || row.Items != 251 || row.Calls != 4 {
			t.Errorf("friends plan %s: %d items in %d calls, want friend_import, 251 in 4 (3 for u1, 1 for u2)", row.Command, row.Items, row.Calls)
		}
		if s := row.LongestStream; s == nil || s.User != "u1" || s.Calls != 3 || s.Records != 250 {
			t.Errorf("longest friends stream %+v, want u1 with 3 calls for 250", s)
		}
	})
	t.Run("skip", func(t *testing.T) {
		res, err := runValidate(t, data(), newTestTransformer(t, nil), ValidateOptions{Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		if c := res.Counts(extract.Friends); c.Read != 253 || c.Skipped != 253 {
			t.Errorf("friends counts %+v, want 253 read and skipped", c)
		}
		for _, p := range res.Plan.Phases {
			if p.Phase == planFriends {
				t.Errorf("plan has a friends row under skip: %+v", p)
			}
		}
	})
}

package plan

import (
	"testing"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/transform"
)

// TestValidateProfiles: the users with profile fields beyond nick and face URL
// are counted under the profiles entity, one portrait_set call each; a bad
// profile value rejects the profile and leaves the account accepted; a user
// rejected as an account has no profile.
func TestValidateProfiles(t *testing.T) {
	r := testDataset()
	r.users[0].Gender = "male"                                                // u1
	r.users[1].Custom = []extract.CustomField{{Name: "Kind", Value: "guest"}} // u2
	r.users[2].Level = "high"                                                 // u3: bad level
	r.users[6].Gender = "f"                                                   // "bad user": no account, no profile
	var rejects rejectList
	res, err := runValidate(t, r, newTestTransformer(t, nil), ValidateOptions{Rejects: &rejects, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Counts(extract.Profiles); c.Read != 3 || c.Valid != 2 || c.Rejected != 1 {
		t.Errorf("profiles counts %+v, want read 3, valid 2, rejected 1", c)
	}
	base, err := runValidate(t, testDataset(), newTestTransformer(t, nil), ValidateOptions{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Counts(extract.Users), base.Counts(extract.Users); got != want {
		t.Errorf("users counts %+v, want %+v as without profiles", got, want)
	}
	var got []string
	for _, rj := range rejects {
		if rj.Entity == string(extract.Profiles) {
			got = append(got, rj.LegacyID+" "+rj.Rule)
		}
	}
	if want := "u3 " + transform.RuleProfileLevelInvalid; len(got) != 1 || got[0] != want {
		t.Errorf("profile rejects %q, want [%s]", got, want)
	}
	var row *PhasePlan
	for i := range res.Plan.Phases {
		if res.Plan.Phases[i].Phase == planProfiles {
			row = &res.Plan.Phases[i]
		}
	}
	if row == nil || row.Command != tencentim.CmdPortraitSet.String() || row.Items != 2 || row.Calls != 2 {
		t.Errorf("profiles plan row %+v, want portrait_set, 2 items in 2 calls", row)
	}
	for _, p := range base.Plan.Phases {
		if p.Phase == planProfiles {
			t.Errorf("plan without profile fields has a profiles row: %+v", p)
		}
	}
	if c := base.Counts(extract.Profiles); c.Read != 0 {
		t.Errorf("profiles counted without profile fields: %+v", c)
	}
}

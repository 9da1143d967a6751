package plan

import (
	"testing"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/transform"
)

// TestValidateGroupDMs: group DMs are their own line of the counts and their own
// phase of the plan (import_group per group DM, import_group_member per 300
// members), their messages count with the group messages, and one that falls at
// the end takes its messages along.
func TestValidateGroupDMs(t *testing.T) {
	tests := []struct {
		name                 string
		mod                  func(*transform.Config)
		dms, msgs            EntityCounts
		groupCalls, members  int64
		memberCalls, dmMsgs  int64
		rejectRule, rejected string
	}{
		{"clamped", nil,
			EntityCounts{Entity: extract.GroupDMs, Read: 3, Valid: 2, Repaired: 1, Rejected: 1},
			EntityCounts{}, 2, 4, 2, 4, transform.RuleGroupDMMembersTooFew, "d2"},
		{"refused at the end", func(c *transform.Config) { c.GroupCreateTime = transform.PolicyReject },
			EntityCounts{Entity: extract.GroupDMs, Read: 3, Valid: 1, Rejected: 2},
			EntityCounts{}, 1, 2, 1, 2, transform.RuleGroupDMCreateTimeConflict, "d3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rejects rejectList
			res, err := runValidate(t, spoolDataset(), newTestTransformer(t, tt.mod), ValidateOptions{Rejects: &rejects, Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Counts(extract.GroupDMs); got != tt.dms {
				t.Errorf("group_dms counts = %+v, want %+v", got, tt.dms)
			}
			found := false
			for _, r := range rejects {
				found = found || (r.Entity == string(extract.GroupDMs) && r.Rule == tt.rejectRule && r.LegacyID == tt.rejected)
			}
			if !found {
				t.Errorf("no reject %s of group DM %s in %+v", tt.rejectRule, tt.rejected, rejects)
			}
			var rows []PhasePlan
			var gm PhasePlan
			for _, p := range res.Plan.Phases {
				switch p.Phase {
				case planGroupDMs:
					rows = append(rows, p)
				case planGroupMessages:
					gm = p
				}
			}
			if len(rows) != 2 || rows[0].Command != "group_open_http_svc/import_group" || rows[0].Calls != tt.groupCalls ||
				rows[1].Command != "group_open_http_svc/import_group_member" || rows[1].Items != tt.members || rows[1].Calls != tt.memberCalls {
				t.Errorf("group_dms rows = %+v, want import_group %d calls, import_group_member %d members in %d calls", rows, tt.groupCalls, tt.members, tt.memberCalls)
			}

			if got := res.Plan.Items()[planGroupDMs]; got != tt.groupCalls {
				t.Errorf("Items()[group_dms] = %d, want the %d group DM records (members ride on them)", got, tt.groupCalls)
			}

			// The group messages row counts the group DMs' accepted messages too.
			base, err := runValidate(t, withoutGroupDMs(spoolDataset()), newTestTransformer(t, tt.mod), ValidateOptions{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			var baseGM PhasePlan
			for _, p := range base.Plan.Phases {
				if p.Phase == planGroupMessages {
					baseGM = p
				}
				if p.Phase == planGroupDMs {
					t.Errorf("a plan without group DMs has a group_dms row: %+v", p)
				}
			}
			if gm.Items-baseGM.Items != tt.dmMsgs {
				t.Errorf("group message items %d, %d without group DMs; want %d more", gm.Items, baseGM.Items, tt.dmMsgs)
			}
			if len(base.Entities) != len(res.Entities)-1 {
				t.Errorf("entities without group DMs: %d lines, with: %d", len(base.Entities), len(res.Entities))
			}
		})
	}
}

// withoutGroupDMs drops the group DMs and their messages.
func withoutGroupDMs(r *memReader) *memReader {
	ids := map[string]bool{}
	for _, d := range r.dms {
		ids[d.ID] = true
	}
	r.dms = nil
	var kept []extract.Message
	for _, m := range r.gmsgs {
		if !ids[m.GroupID] {
			kept = append(kept, m)
		}
	}
	r.gmsgs = kept
	return r
}

package plan

import (
	"slices"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/transform"
)

// Group DMs in the validate pass: read before the users (the transformer keeps
// the nicks their names need, transform.NoteGroupDM) and held until the groups
// are known, checked then (checkGroupDMs), and counted and spooled from their
// final payloads after the group messages (finalGroupDMs). They are the one
// entity held whole between passes: one small record per conversation, as the
// transformer holds the groups.

// groupDMState is the validator's state for group DMs.
type groupDMState struct {
	dms      []extract.GroupDM // read, not yet checked
	repaired map[string]bool   // legacy ids repaired by GroupDM
	finals   []transform.GroupDMFinal
	// The accepted group DMs and the import_group_member calls and items of their
	// members (batches never span group DMs).
	accepted, memberItems, memberCalls int64
}

// noteGroupDM keeps a group DM read ahead of the users.
func (v *validator) noteGroupDM(d extract.GroupDM) error {
	if v.sinkErr != nil {
		return v.sinkErr
	}
	v.gdm.dms = append(v.gdm.dms, d)
	v.t.NoteGroupDM(d)
	return nil
}

// checkGroupDMs checks the group DMs read, once the groups are known: rejected
// or skipped here, accepted when GroupDMs gives their final payloads, like a
// group.
func (v *validator) checkGroupDMs() error {
	c := v.counts[extract.GroupDMs]
	v.gdm.repaired = map[string]bool{}
	for _, d := range v.gdm.dms {
		res := v.t.GroupDM(d)
		c.Read++
		for i := range res.Issues {
			is := &res.Issues[i]
			v.issue(is.Entity, is.Rule, is.Severity.String(), is.Origin.String(), is.LegacyID, is.Message)
		}
		switch classify(res.OK, res.Issues) {
		case outcomeRepaired:
			v.gdm.repaired[d.ID] = true
			v.seen(extract.GroupDMs, d.CreatedAt)
		case outcomeValid:
			v.seen(extract.GroupDMs, d.CreatedAt)
		case outcomeSkipped:
			c.Skipped++
		case outcomeRejected:
			c.Rejected++
			if err := v.reject(extract.GroupDMs, d.Origin.String(), d.ID, res.Issues); err != nil {
				return err
			}
		}
	}
	v.gdm.dms = nil
	return nil
}

// finalGroupDMs counts and spools the group DMs from their final payloads. One
// rejected here (group_create_time: reject) takes the messages counted valid for
// it along, like a group (finalGroups).
func (v *validator) finalGroupDMs() error {
	c := v.counts[extract.GroupDMs]
	v.gdm.finals = v.t.GroupDMs()
	for _, f := range v.gdm.finals {
		for i := range f.Issues {
			is := &f.Issues[i]
			v.issue(is.Entity, is.Rule, is.Severity.String(), is.Origin.String(), is.LegacyID, is.Message)
		}
		switch o := classify(f.OK, f.Issues); {
		case o == outcomeRejected:
			c.Rejected++
			ec := v.counts[extract.GroupMessages]
			ec.Valid -= int64(f.Messages)
			ec.Rejected += int64(f.Messages)
			if err := v.reject(extract.GroupDMs, f.Legacy.String(), f.LegacyID, f.Issues); err != nil {
				return err
			}
			v.dropped = append(v.dropped, f.Group.GroupID) // its messages are in the spool
			continue
		case o == outcomeRepaired || v.gdm.repaired[f.LegacyID]:
			c.Valid++
			c.Repaired++
		default:
			c.Valid++
		}
		v.gdm.accepted++
		v.gdm.memberItems += int64(len(f.Members))
		v.gdm.memberCalls += ceilDiv(int64(len(f.Members)), tencentim.MaxGroupMemberBatch)
		p := load.GroupDM{Group: f.Group, Members: f.Members}
		if err := v.spool(load.PhaseGroupDMs, f.Group.GroupID, f.Legacy.String(), f.LegacyID, p); err != nil {
			return err
		}
		if v.opt.Payloads != nil {
			if err := v.payload(extract.GroupDMs, f.LegacyID, p); err != nil {
				return err
			}
		}
	}
	v.gdm.repaired = nil
	return nil
}

// groupDMPlan adds the group DMs to the plan: their own phase's rows (none
// without group DMs, so that such a plan reads as before), and their messages
// to the group messages' counts and longest stream.
func (v *validator) groupDMPlan(phaseRow func(name string, cmd tencentim.Command, items, calls int64) PhasePlan,
	msgs, msgCalls *int64, longest **Stream) []PhasePlan {
	for _, f := range v.gdm.finals {
		if !f.OK {
			continue
		}
		calls := v.msgCalls[f.Group.GroupID]
		*msgs += int64(f.Messages)
		*msgCalls += calls
		if s := (Stream{GroupID: f.Group.GroupID, LegacyID: f.LegacyID, Origin: f.Legacy.String(),
			Calls: calls, Records: int64(f.Messages)}); s.longer(*longest) {
			*longest = &s
		}
	}
	if v.gdm.accepted == 0 {
		return nil
	}
	// One record per group DM: its import_group, then its members in ≤ 300s
	// (spec §8.7, §8.8); the two APIs have their own limiters.
	return slices.Clip([]PhasePlan{
		phaseRow(planGroupDMs, tencentim.CmdImportGroup, v.gdm.accepted, v.gdm.accepted),
		phaseRow(planGroupDMs, tencentim.CmdImportGroupMember, v.gdm.memberItems, v.gdm.memberCalls),
	})
}

package load

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/immigrate/immigrate/tencentim"
)

// PhaseGroupDMs imports group DMs (conversations of three or more people without
// a group in the source): each record is one group DM, its import_group and its
// members' import_group_member together, so that a group DM is one record of the
// accounting and of resume. Its messages are group messages (Stream: GroupId).
const PhaseGroupDMs Phase = "group_dms"

// GroupDM is the payload of a PhaseGroupDMs record: the group and its members
// other than the owner, whom import_group adds (spec §8.7).
type GroupDM struct {
	Group   tencentim.ImportGroupRequest `json:"group"`
	Members []tencentim.ImportMember     `json:"members,omitempty"`
}

// importGroupDM imports one group DM. Both calls are idempotent under our
// deterministic GroupId (design §4 rule 1): a resend finds the group (10021) and
// its members (Result 2), so a group DM interrupted between the two is finished
// by the next run. The record is Imported when this run created the group,
// Present when the group was there before (its members are topped up all the
// same), like a group: its messages are then read back before they are sent
// (firstcontact.go). A refused import_group rejects it and
// marks the group failed, so that its messages are rejected without a call; a
// member refused (Result 0, or a request error) rejects the record naming the
// members, but the group and its messages stay: senders need not be members
// (design §7 A14).
func (e *Engine) importGroupDM(ctx context.Context, r Record) error {
	dm, err := decode[GroupDM](PhaseGroupDMs, r)
	if err != nil {
		return err
	}
	req := dm.Group
	var amb ambiguityTracker
	err = e.call(ctx, PhaseGroupDMs, tencentim.CmdImportGroup, func(ctx context.Context) error {
		_, err := exchange[tencentim.ImportGroupResponse](ctx, e.client, tencentim.CmdImportGroup, &req)
		return err
	}, amb.beforeRetry)
	var te *tencentim.Error
	outcome := OutcomeImported
	switch {
	case err == nil:
	case stops(ctx, err):
		return err
	case errors.As(err, &te) && te.Code == 10021 && req.GroupID != "":
		if outcome = amb.present(); outcome == OutcomePresent {
			e.fc.markGroup(req.GroupID)
		}
	default:
		e.markGroupFailed(req.GroupID)
		return e.rejectErr(PhaseGroupDMs, req.GroupID, r.Item, err)
	}

	var refused []string
	for list := dm.Members; len(list) > 0; {
		n := min(len(list), tencentim.MaxGroupMemberBatch) // spec §8.8
		batch := list[:n]
		list = list[n:]
		var resp *tencentim.ImportGroupMemberResponse
		err := e.call(ctx, PhaseGroupDMs, tencentim.CmdImportGroupMember, func(ctx context.Context) error {
			var err error
			resp, err = exchange[tencentim.ImportGroupMemberResponse](ctx, e.client, tencentim.CmdImportGroupMember,
				&tencentim.ImportGroupMemberRequest{GroupID: req.GroupID, MemberList: batch})
			return err
		}, nil)
		switch {
		case err == nil:
		case stops(ctx, err):
			return err
		default:
			rule, msg := describe(err)
			// Stream "": the group is in the target, so this reject must not
			// mark it failed (Checkpoint.confirmed).
			return e.reject(PhaseGroupDMs, "", r.Item, rule, "members of group DM "+req.GroupID+": "+msg)
		}
		results := make(map[string]int, len(resp.MemberList))
		for _, m := range resp.MemberList {
			results[m.MemberAccount] = m.Result
		}
		for _, m := range batch {
			switch res, ok := results[m.MemberAccount]; {
			case !ok:
				refused = append(refused, m.MemberAccount+" (no result)")
			case res == tencentim.MemberImported, res == tencentim.MemberAlreadyMember:
			default:
				refused = append(refused, fmt.Sprintf("%s (Result %d)", m.MemberAccount, res))
			}
		}
	}
	if len(refused) > 0 {
		return e.reject(PhaseGroupDMs, "", r.Item, RuleMemberFailed,
			fmt.Sprintf("import_group_member did not import %d members of group DM %s: %s", len(refused), req.GroupID, strings.Join(refused, ", ")))
	}
	e.confirm(PhaseGroupDMs, req.GroupID, r.Item, outcome)
	return nil
}

package verify

import (
	"context"
	"fmt"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/tencentim"
)

// groups checks every group with get_group_info (spec §8.12) in 50s: missing when
// the target answers 10010 for it, different when a field the import set differs.
func (v *verifier) groups(ctx context.Context, src load.Source) error {
	key := func(r load.Record) (string, error) { return r.Stream, nil }
	return v.eachBatch(ctx, src, load.PhaseGroups, tencentim.MaxGetGroupInfo, key, func(ctx context.Context, batch []record) error {
		want := make([]tencentim.ImportGroupRequest, len(batch))
		req := &tencentim.GetGroupInfoRequest{ResponseFilter: &tencentim.GroupResponseFilter{
			GroupBaseInfoFilter: []string{"Type", "Name", "Introduction", "Notification", "FaceUrl", "Owner_Account", "CreateTime", "MaxMemberNum"},
		}}
		for i, r := range batch {
			g, err := decode[tencentim.ImportGroupRequest](load.PhaseGroups, r.Record)
			if err != nil {
				return err
			}
			want[i] = g
			req.GroupIDList = append(req.GroupIDList, g.GroupID)
			v.setGroupType(g.GroupID, g.Type)
		}
		var resp tencentim.GetGroupInfoResponse
		if err := v.c.Call(ctx, tencentim.CmdGetGroupInfo, req, &resp); err != nil {
			return fmt.Errorf("get_group_info: %w", err)
		}
		got := map[string]tencentim.GroupInfo{}
		for _, gi := range resp.GroupInfo {
			got[gi.GroupID] = gi
		}
		for i, g := range want {
			gi, ok := got[g.GroupID]
			switch {
			case !ok:
				v.tally.find(extract.Groups, batch[i], g.GroupID, KindMissing, "get_group_info: not listed")
			case gi.ErrorCode != 0:
				v.tally.find(extract.Groups, batch[i], g.GroupID, KindMissing, fmt.Sprintf("get_group_info: %d", gi.ErrorCode))
			default:
				if detail, fields := groupDiff(g, gi); detail != "" {
					v.tally.find(extract.Groups, batch[i], g.GroupID, KindDifferent, detail, fields...)
				} else {
					v.tally.present(extract.Groups)
				}
			}
		}
		return nil
	})
}

// groupDiff describes the fields of the import the target does not hold as sent.
func groupDiff(want tencentim.ImportGroupRequest, got tencentim.GroupInfo) (string, []string) {
	var detail string
	var fields []string
	add := func(field, name string, w, g any) {
		detail = joinDetail(detail, fmt.Sprintf("%s %v, target %v", name, quote(w), quote(g)))
		if len(fields) == 0 || fields[len(fields)-1] != field {
			fields = append(fields, field)
		}
	}
	if want.Name != got.Name {
		add(FieldText, "Name", want.Name, got.Name)
	}
	if want.Introduction != got.Introduction {
		add(FieldText, "Introduction", want.Introduction, got.Introduction)
	}
	if want.Notification != got.Notification {
		add(FieldText, "Notification", want.Notification, got.Notification)
	}
	if want.FaceURL != got.FaceURL {
		add(FieldText, "FaceUrl", want.FaceURL, got.FaceURL)
	}
	if want.Type != got.Type {
		add(FieldText, "Type", want.Type, got.Type)
	}
	if want.MaxMemberCount != 0 && want.MaxMemberCount != got.MaxMemberNum {
		add(FieldText, "MaxMemberNum", want.MaxMemberCount, got.MaxMemberNum)
	}
	if want.OwnerAccount != got.OwnerAccount {
		add(FieldSender, "Owner_Account", want.OwnerAccount, got.OwnerAccount)
	}
	if want.CreateTime != 0 && want.CreateTime != got.CreateTime {
		add(FieldTime, "CreateTime", want.CreateTime, got.CreateTime)
	}
	return detail, fields
}

func (v *verifier) setGroupType(groupID, typ string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.types == nil {
		v.types = map[string]string{}
	}
	v.types[groupID] = typ
}

func (v *verifier) groupType(groupID string) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.types[groupID]
}

func quote(v any) any {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return v
}

// members reads each sampled group's members back with get_group_member_info
// (spec §8.13), paged by Limit/Offset, or by Next for a Community, and checks
// every member the import sends: present with its role and join time. Members the
// target holds beyond those (the owner, whose row the import skips) are not
// findings.
func (v *verifier) members(ctx context.Context, src load.Source) error {
	return v.eachStream(ctx, src, load.PhaseMembers, func(ctx context.Context, groupID string, recs []record) error {
		got, err := v.readMembers(ctx, groupID)
		if err != nil {
			return err
		}
		for _, r := range recs {
			m, err := decode[tencentim.ImportMember](load.PhaseMembers, r.Record)
			if err != nil {
				return err
			}
			target := groupID + "/" + m.MemberAccount
			g, ok := got[m.MemberAccount]
			if !ok {
				v.tally.find(extract.Members, r, target, KindMissing, "not a member")
				continue
			}
			role := m.Role
			if role == "" {
				role = tencentim.RoleMember
			}
			var detail string
			var fields []string
			if g.Role != role {
				detail, fields = fmt.Sprintf("Role %s, target %s", role, g.Role), append(fields, FieldText)
			}
			if m.JoinTime != 0 && g.JoinTime != m.JoinTime {
				detail, fields = joinDetail(detail, fmt.Sprintf("JoinTime %d, target %d", m.JoinTime, g.JoinTime)), append(fields, FieldTime)
			}
			if detail != "" {
				v.tally.find(extract.Members, r, target, KindDifferent, detail, fields...)
				continue
			}
			v.tally.present(extract.Members)
		}
		return nil
	})
}

// memberPage is the page size of get_group_member_info: the documented maximum
// of a Community page (spec §8.13), also well within the others' 200.
const memberPage = 100

// readMembers returns every member of groupID by account; none when the group
// does not exist.
func (v *verifier) readMembers(ctx context.Context, groupID string) (map[string]tencentim.GroupMemberInfo, error) {
	out := map[string]tencentim.GroupMemberInfo{}
	req := &tencentim.GetGroupMemberInfoRequest{GroupID: groupID, MemberInfoFilter: []string{"Role", "JoinTime"}, Limit: memberPage}
	if v.groupType(groupID) == tencentim.GroupCommunity {
		first := "" // a Community pages by Next only, "" first (spec §8.13)
		req.Next = &first
	}
	for {
		var resp tencentim.GetGroupMemberInfoResponse
		err := v.c.Call(ctx, tencentim.CmdGetGroupMemberInfo, req, &resp)
		if _, ok := refused(err); ok {
			return out, nil // no such group: every member is missing
		}
		if err != nil {
			return nil, fmt.Errorf("get_group_member_info %s: %w", groupID, err)
		}
		for _, m := range resp.MemberList {
			out[m.MemberAccount] = m
		}
		switch {
		case resp.Next != nil: // a Community pages by cursor
			if *resp.Next == "" {
				return out, nil
			}
			req.Next = resp.Next
		case len(resp.MemberList) < memberPage:
			return out, nil
		default:
			req.Offset += len(resp.MemberList)
		}
	}
}

package verify

import (
	"context"
	"fmt"
	"strings"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/tencentim"
)

// groupDMs checks every group DM, one record of the plan each: its group with
// get_group_info (spec §8.12) in 50s, as groups checks a group, then its members
// with get_group_member_info (spec §8.13). A group DM is present when the group
// holds what import_group sent and every member is in it with the JoinTime sent;
// its messages are checked with the other group messages.
func (v *verifier) groupDMs(ctx context.Context, src load.Source) error {
	key := func(r load.Record) (string, error) { return r.Stream, nil }
	return v.eachBatch(ctx, src, load.PhaseGroupDMs, tencentim.MaxGetGroupInfo, key, func(ctx context.Context, batch []record) error {
		want := make([]load.GroupDM, len(batch))
		req := &tencentim.GetGroupInfoRequest{ResponseFilter: &tencentim.GroupResponseFilter{
			GroupBaseInfoFilter: []string{"Type", "Name", "Introduction", "Notification", "FaceUrl", "Owner_Account", "CreateTime", "MaxMemberNum"},
		}}
		for i, r := range batch {
			d, err := decode[load.GroupDM](load.PhaseGroupDMs, r.Record)
			if err != nil {
				return err
			}
			want[i] = d
			req.GroupIDList = append(req.GroupIDList, d.Group.GroupID)
			v.setGroupType(d.Group.GroupID, d.Group.Type)
		}
		var resp tencentim.GetGroupInfoResponse
		if err := v.c.Call(ctx, tencentim.CmdGetGroupInfo, req, &resp); err != nil {
			return fmt.Errorf("get_group_info: %w", err)
		}
		got := map[string]tencentim.GroupInfo{}
		for _, gi := range resp.GroupInfo {
			got[gi.GroupID] = gi
		}
		for i, d := range want {
			id := d.Group.GroupID
			gi, ok := got[id]
			switch {
			case !ok:
				v.tally.find(extract.GroupDMs, batch[i], id, KindMissing, "get_group_info: not listed")
				continue
			case gi.ErrorCode != 0:
				v.tally.find(extract.GroupDMs, batch[i], id, KindMissing, fmt.Sprintf("get_group_info: %d", gi.ErrorCode))
				continue
			}
			detail, fields := groupDiff(d.Group, gi)
			members, err := v.readMembers(ctx, id)
			if err != nil {
				return err
			}
			var absent []string
			for _, m := range d.Members {
				g, ok := members[m.MemberAccount]
				switch {
				case !ok:
					absent = append(absent, m.MemberAccount)
				case m.JoinTime != 0 && g.JoinTime != m.JoinTime:
					detail = joinDetail(detail, fmt.Sprintf("member %s JoinTime %d, target %d", m.MemberAccount, m.JoinTime, g.JoinTime))
					fields = append(fields, FieldTime)
				}
			}
			if len(absent) > 0 {
				detail = joinDetail(detail, "not members: "+strings.Join(absent, ", "))
				fields = append(fields, FieldSender)
			}
			if detail != "" {
				v.tally.find(extract.GroupDMs, batch[i], id, KindDifferent, detail, fields...)
				continue
			}
			v.tally.present(extract.GroupDMs)
		}
		return nil
	})
}

package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/tencentim"
)

// friends reads each sampled user's friend list back with friend_get (spec §5.3),
// page by page, and finds each friend the import sends by To_Account; a found
// friend is compared by remark, friend groups and add source (the tags friend_get
// returns for what friend_import set).
func (v *verifier) friends(ctx context.Context, src load.Source) error {
	return v.eachStream(ctx, src, load.PhaseFriends, func(ctx context.Context, from string, recs []record) error {
		got, err := v.readFriends(ctx, from)
		if err != nil {
			return err
		}
		for _, r := range recs {
			want, err := decode[tencentim.AddFriendItem](load.PhaseFriends, r.Record)
			if err != nil {
				return err
			}
			label := from + " → " + want.ToAccount
			tags, ok := got[want.ToAccount]
			if !ok {
				v.tally.find(extract.Friends, r, label, KindMissing, "friend_get: not a friend")
				continue
			}
			d := diff{}
			if g := tagText(tags[tencentim.TagSNSRemark]); g != want.Remark {
				d.add(FieldText, fmt.Sprintf("remark %q, the target has %q", want.Remark, g))
			}
			if g := tagText(tags[tencentim.TagSNSAddSource]); g != want.AddSource {
				d.add(FieldText, fmt.Sprintf("add source %q, the target has %q", want.AddSource, g))
			}
			var groups []string
			if raw := tags[tencentim.TagSNSGroup]; raw != nil {
				_ = json.Unmarshal(raw, &groups)
			}
			if !slices.Equal(groups, want.GroupName) && (len(groups) > 0 || len(want.GroupName) > 0) {
				d.add(FieldText, fmt.Sprintf("friend groups %q, the target has %q", want.GroupName, groups))
			}
			v.report(extract.Friends, r, label, d)
		}
		return nil
	})
}

// readFriends returns from's friends by To_Account, each with its tags; none when
// the account does not exist.
func (v *verifier) readFriends(ctx context.Context, from string) (map[string]map[string]json.RawMessage, error) {
	out := map[string]map[string]json.RawMessage{}
	req := &tencentim.FriendGetRequest{FromAccount: from}
	for {
		var resp tencentim.FriendGetResponse
		err := v.c.Call(ctx, tencentim.CmdFriendGet, req, &resp)
		if _, ok := refused(err); ok {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("friend_get %s: %w", from, err)
		}
		for _, u := range resp.UserDataItem {
			tags := map[string]json.RawMessage{}
			for _, t := range u.ValueItem {
				tags[t.Tag] = t.Value
			}
			out[u.ToAccount] = tags
		}
		if resp.CompleteFlag != 0 || len(resp.UserDataItem) == 0 || resp.NextStartIndex <= req.StartIndex {
			return out, nil
		}
		req.StartIndex = resp.NextStartIndex
	}
}

// tagText is a string tag's value ("" when absent or not a string).
func tagText(raw json.RawMessage) string {
	var s string
	if raw != nil {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/tencentim"
)

// userProfiles compares the profile fields the profiles phase sets (spec §4.1)
// with portrait_get (spec §4.3), up to 100 users a call: every tag a request sets
// must hold the value it sent.
func (v *verifier) userProfiles(ctx context.Context, src load.Source) error {
	key := func(r load.Record) (string, error) {
		p, err := decode[tencentim.PortraitSetRequest](load.PhaseProfiles, r)
		return p.FromAccount, err
	}
	return v.eachBatch(ctx, src, load.PhaseProfiles, tencentim.MaxPortraitGet, key, func(ctx context.Context, batch []record) error {
		want := make([]tencentim.PortraitSetRequest, len(batch))
		tags := map[string]bool{}
		req := &tencentim.PortraitGetRequest{}
		for i, r := range batch {
			p, err := decode[tencentim.PortraitSetRequest](load.PhaseProfiles, r.Record)
			if err != nil {
				return err
			}
			want[i] = p
			req.ToAccount = append(req.ToAccount, p.FromAccount)
			for _, it := range p.ProfileItem {
				tags[it.Tag] = true
			}
		}
		req.TagList = slices.Sorted(maps.Keys(tags))
		var resp tencentim.PortraitGetResponse
		if err := v.c.Call(ctx, tencentim.CmdPortraitGet, req, &resp); err != nil {
			return fmt.Errorf("portrait_get: %w", err)
		}
		got := map[string]tencentim.UserProfileItem{}
		for _, u := range resp.UserProfileItem {
			got[u.ToAccount] = u
		}
		for i, p := range want {
			u, ok := got[p.FromAccount]
			if !ok || u.ResultCode != 0 {
				v.tally.find(extract.Profiles, batch[i], p.FromAccount, KindMissing, fmt.Sprintf("portrait_get: no profile (ResultCode %d)", u.ResultCode))
				continue
			}
			held := map[string]json.RawMessage{}
			for _, it := range u.ProfileItem {
				held[it.Tag] = it.Value
			}
			var detail string
			for _, it := range p.ProfileItem {
				if h, ok := held[it.Tag]; !ok || !sameValue(h, it.Value) {
					detail = joinDetail(detail, fmt.Sprintf("%s %s, target %s", it.Tag, it.Value, orNone(h)))
				}
			}
			if detail != "" {
				v.tally.find(extract.Profiles, batch[i], p.FromAccount, KindDifferent, detail, FieldText)
				continue
			}
			v.tally.present(extract.Profiles)
		}
		return nil
	})
}

// sameValue compares two JSON values as values (the target may spell a string's
// escapes its own way).
func sameValue(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	return reflect.DeepEqual(x, y)
}

func orNone(v json.RawMessage) string {
	if v == nil {
		return "none"
	}
	return string(v)
}

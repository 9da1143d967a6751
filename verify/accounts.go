package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/tencentim"
)

// refused returns the vendor error of an answer that refuses the request itself
// (ClassRejected): the thing asked about does not exist, for a read.
func refused(err error) (*tencentim.Error, bool) {
	var te *tencentim.Error
	if errors.As(err, &te) && tencentim.Classify(err) == tencentim.ClassRejected {
		return te, true
	}
	return nil, false
}

// decode unmarshals a record's payload; a payload that does not decode is a
// defect of the plan and stops the verification.
func decode[T any](ph load.Phase, r load.Record) (T, error) {
	var v T
	if err := json.Unmarshal(r.Payload, &v); err != nil {
		return v, fmt.Errorf("verify %s: payload of %s (%s): %w", ph, r.LegacyID, r.Origin, err)
	}
	return v, nil
}

// users checks every account with account_check (spec §3.6) in 100s, then the
// Nick and FaceUrl of those that have one with portrait_get (spec §4.3).
func (v *verifier) users(ctx context.Context, src load.Source) error {
	key := func(r load.Record) (string, error) {
		a, err := decode[tencentim.AccountImportRequest](load.PhaseAccounts, r)
		return a.UserID, err
	}
	return v.eachBatch(ctx, src, load.PhaseAccounts, tencentim.MaxAccountCheck, key, func(ctx context.Context, batch []record) error {
		want := make([]tencentim.AccountImportRequest, len(batch))
		req := &tencentim.AccountCheckRequest{}
		for i, r := range batch {
			a, err := decode[tencentim.AccountImportRequest](load.PhaseAccounts, r.Record)
			if err != nil {
				return err
			}
			want[i] = a
			req.CheckItem = append(req.CheckItem, tencentim.AccountCheckItem{UserID: a.UserID})
		}
		var resp tencentim.AccountCheckResponse
		if err := v.c.Call(ctx, tencentim.CmdAccountCheck, req, &resp); err != nil {
			return fmt.Errorf("account_check: %w", err)
		}
		imported := map[string]bool{}
		for _, it := range resp.ResultItem {
			imported[it.UserID] = it.ResultCode == 0 && it.AccountStatus == tencentim.AccountImported
		}
		var profiled []int
		for i, a := range want {
			switch {
			case !imported[a.UserID]:
				v.tally.find(extract.Users, batch[i], a.UserID, KindMissing, "account_check: not imported")
			case a.Nick != "" || a.FaceURL != "":
				profiled = append(profiled, i)
			default:
				v.tally.present(extract.Users)
			}
		}
		if len(profiled) == 0 {
			return nil
		}
		return v.profiles(ctx, batch, want, profiled)
	})
}

// profiles compares the Nick and FaceUrl of the accounts want[i] for i in idx.
func (v *verifier) profiles(ctx context.Context, batch []record, want []tencentim.AccountImportRequest, idx []int) error {
	req := &tencentim.PortraitGetRequest{TagList: []string{tencentim.TagNick, tencentim.TagImage}}
	for _, i := range idx {
		req.ToAccount = append(req.ToAccount, want[i].UserID)
	}
	var resp tencentim.PortraitGetResponse
	if err := v.c.Call(ctx, tencentim.CmdPortraitGet, req, &resp); err != nil {
		return fmt.Errorf("portrait_get: %w", err)
	}
	got := map[string]tencentim.UserProfileItem{}
	for _, u := range resp.UserProfileItem {
		got[u.ToAccount] = u
	}
	for _, i := range idx {
		a, r := want[i], batch[i]
		u, ok := got[a.UserID]
		if !ok || u.ResultCode != 0 {
			v.tally.find(extract.Users, r, a.UserID, KindDifferent, fmt.Sprintf("portrait_get: no profile (ResultCode %d)", u.ResultCode), FieldText)
			continue
		}
		nick, face := tagString(u.ProfileItem, tencentim.TagNick), tagString(u.ProfileItem, tencentim.TagImage)
		var detail string
		if nick != a.Nick {
			detail = fmt.Sprintf("Nick %q, target %q", a.Nick, nick)
		}
		if face != a.FaceURL {
			detail = joinDetail(detail, fmt.Sprintf("FaceUrl %q, target %q", a.FaceURL, face))
		}
		if detail != "" {
			v.tally.find(extract.Users, r, a.UserID, KindDifferent, detail, FieldText)
			continue
		}
		v.tally.present(extract.Users)
	}
	return nil
}

// tagString is the string value of tag, "" when absent or not a string.
func tagString(items []tencentim.ProfileItem, tag string) string {
	for _, it := range items {
		if it.Tag == tag {
			var s string
			if json.Unmarshal(it.Value, &s) == nil {
				return s
			}
		}
	}
	return ""
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

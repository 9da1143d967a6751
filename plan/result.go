package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/transform"
)

// The end of the validate pass: what the counters, the examples and the
// transformer's final state add up to (ValidateResult).

// endConversation offers the finished conversation to the bounded top list.
func (v *validator) endConversation() {
	if v.convStream.longer(&v.longestConv) {
		v.longestConv = v.convStream
	}
	v.convStream = Stream{}
	if !v.convOpen || v.conv.Messages == 0 {
		v.convOpen = false
		return
	}
	v.convOpen = false
	v.topConvs = append(v.topConvs, v.conv)
	if len(v.topConvs) > 4*v.opt.Top {
		v.trimConversations()
	}
}

func (v *validator) trimConversations() {
	slices.SortFunc(v.topConvs, func(a, b ConversationSize) int {
		return cmp.Or(cmp.Compare(b.Messages, a.Messages), strings.Compare(a.A, b.A), strings.Compare(a.B, b.B))
	})
	if len(v.topConvs) > v.opt.Top {
		v.topConvs = v.topConvs[:v.opt.Top]
	}
}

func (v *validator) result() (*ValidateResult, error) {
	res := &ValidateResult{}
	for _, e := range validateEntities() {
		c := *v.counts[e]
		if (e == extract.Friends || e == extract.Topics || e == extract.GroupDMs || e == extract.Profiles) && c.Read == 0 {
			continue
		}
		if c.Read != c.Valid+c.Rejected+c.Skipped || c.Repaired > c.Valid {
			return nil, fmt.Errorf("%w: %s read %d, valid %d (repaired %d), rejected %d, skipped %d",
				ErrAccounting, e, c.Read, c.Valid, c.Repaired, c.Rejected, c.Skipped)
		}
		res.Entities = append(res.Entities, c)
	}
	if v.opt.BadRows != nil && v.opt.BadRows.early > 0 {
		return nil, fmt.Errorf("%w: %d bad rows reported outside a read", ErrAccounting, v.opt.BadRows.early)
	}

	for _, rs := range v.rules {
		res.Issues = append(res.Issues, *rs)
	}
	slices.SortFunc(res.Issues, func(a, b RuleSummary) int {
		return cmp.Or(cmp.Compare(entityIndex(a.Entity), entityIndex(b.Entity)), strings.Compare(a.Rule, b.Rule))
	})
	for _, e := range extract.Entities() {
		if tr := v.ranges[e]; tr != nil {
			res.TimeRanges = append(res.TimeRanges, *tr)
		}
	}

	implied := v.t.ImpliedAccounts()
	users := v.counts[extract.Users].Valid
	res.Accounts = AccountSummary{Users: users, Implied: int64(len(implied)), Total: users + int64(len(implied)),
		Limit: v.opt.AccountLimit, OverLimit: v.editionWanted}
	for _, rw := range v.t.Rewrites() {
		res.Rewrites = append(res.Rewrites, Rewrite{Entity: rw.Entity, Legacy: rw.Legacy, Target: rw.Target})
	}
	res.Split = v.splitResult()
	res.SelfGroups = v.selfGroupResult()

	res.LargestGroups = v.largestGroups(func(g GroupSize) int { return g.Messages })
	res.LargestGroupsByMembers = v.largestGroups(func(g GroupSize) int { return g.Members })
	v.trimConversations()
	res.LargestConversations = v.topConvs

	res.Plan = v.plan(res.Accounts.Total)
	res.Warnings = v.warnings(res)
	return res, nil
}

// validateEntities are the entities the pass counts, in report order: the
// profiles (of users) after the users.
func validateEntities() []extract.Entity {
	es := extract.Entities()
	return slices.Insert(es, slices.Index(es, extract.Users)+1, extract.Profiles)
}

func entityIndex(e extract.Entity) int {
	if i := slices.Index(validateEntities(), e); i >= 0 {
		return i
	}
	return len(validateEntities())
}

func (v *validator) largestGroups(size func(GroupSize) int) []GroupSize {
	var out []GroupSize
	for _, f := range v.finals {
		if f.OK {
			out = append(out, GroupSize{LegacyID: f.LegacyID, GroupID: f.Group.GroupID, Type: f.Group.Type,
				Members: f.Members, Messages: f.Messages})
		}
	}
	slices.SortFunc(out, func(a, b GroupSize) int {
		return cmp.Or(cmp.Compare(size(b), size(a)), strings.Compare(a.LegacyID, b.LegacyID))
	})
	if len(out) > v.opt.Top {
		out = out[:v.opt.Top]
	}
	return out
}

// extractRules describes the rules of extract.BadRow, which transform's catalog
// does not hold.
var extractRules = map[string][2]string{
	extract.RuleRaggedRow:   {"CSV row with a different number of fields than the header", "RFC 4180"},
	extract.RuleInvalidUTF8: {"CSV field that is not valid UTF-8", "§1.3"},
	extract.RuleParse:       {"CSV record that does not parse", "RFC 4180"},
	extract.RuleMissing:     {"required field empty or NULL", "mapping"},
	extract.RuleTimestamp:   {"timestamp that does not parse in the configured format", "mapping"},
	extract.RuleNumber:      {"number field that does not parse", "mapping"},
	extract.RuleList:        {"list of ids that is neither a JSON array nor a PostgreSQL array", "mapping"},
}

var transformRules = func() map[string]transform.RuleInfo {
	m := map[string]transform.RuleInfo{}
	for _, r := range transform.Rules() {
		m[r.Code] = r
	}
	return m
}()

func ruleInfo(rule string) (summary, spec string) {
	if r, ok := transformRules[rule]; ok {
		return r.Summary, r.Spec
	}
	if r, ok := extractRules[rule]; ok {
		return r[0], r[1]
	}
	return "", ""
}

package load

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/transform"
)

// Validate is the dry run (design §2 "validate"): it reads every entity, runs the
// transformer's passes over it, and counts what would be imported, repaired,
// rejected or skipped, without contacting the target. Memory stays bounded: besides
// the transformer's compact state it keeps counters, the first examples of each
// rule, the largest conversations seen and, per group, what Transformer.Groups
// returns anyway.

// RejectSink receives the records that will not be imported, one call per record,
// in the order they are met, from the goroutine running Validate (or the engine's
// reject path, which serialises its calls). An error stops the caller: a reject that
// is not written is lost.
type RejectSink interface {
	Reject(r Reject) error
}

// Reject is one record that will not be imported: a line of rejects.jsonl.
type Reject struct {
	Entity   string `json:"entity"`
	Origin   string `json:"origin"`
	LegacyID string `json:"legacy_id"`
	Rule     string `json:"rule"`
	// Severity is "reject" for every record of rejects.jsonl; it is not written.
	Severity string `json:"-"`
	Message  string `json:"message"`
}

// PayloadSink receives every payload Validate accepts, in pass order: users
// (tencentim.AccountImportRequest), members (MemberPayload), group messages
// (GroupMessagePayload), the final groups (tencentim.ImportGroupRequest, after the
// group messages) and direct messages (tencentim.ImportMsgRequest). Tests compare
// sources with it.
type PayloadSink interface {
	Payload(e extract.Entity, legacyID string, payload any) error
}

// MemberPayload is an accepted member row.
type MemberPayload struct {
	GroupID string
	Member  tencentim.ImportMember
}

// GroupMessagePayload is an accepted group message.
type GroupMessagePayload struct {
	GroupID string
	Msg     tencentim.GroupMsg
}

// BadRows routes an extract reader's skipped rows to Validate, which counts them as
// read and rejected. Pass its Report method as extract.Options.OnBadRow when opening
// the reader, and the BadRows itself in ValidateOptions. Readers call OnBadRow on the
// goroutine of the read, which is Validate's; BadRows is not safe for concurrent use.
type BadRows struct {
	fn func(extract.BadRow)
	// early counts rows reported while no Validate was listening.
	early int
}

// Report hands one skipped row to the running Validate.
func (b *BadRows) Report(row extract.BadRow) {
	if b.fn == nil {
		b.early++
		return
	}
	b.fn(row)
}

// Defaults of ValidateOptions.
const (
	DefaultExamples = 5
	DefaultTop      = 10
	// DefaultRateShare of each API's documented rate (spec §1.10) is the rate the
	// plan assumes when none is configured: the engine aims at 95 % of its limit.
	DefaultRateShare = 0.95
)

// ValidateOptions tunes Validate.
type ValidateOptions struct {
	Rejects  RejectSink  // nil: rejects are only counted
	Payloads PayloadSink // nil: payloads are dropped
	BadRows  *BadRows    // the reader's bad-row hook; nil if the reader was opened without one
	Examples int         // examples kept per rule; 0 = DefaultExamples
	Top      int         // largest groups and conversations listed; 0 = DefaultTop
	// Rates are the configured calls/s per API; a missing API gets
	// DefaultRateShare of tencentim.DocumentedRate.
	Rates map[tencentim.Command]float64
	// UseAccountImport sends every account through account_import, one per call.
	// Otherwise, as the engine does with Config.UseMultiAccount, accounts with a
	// Nick or FaceUrl go through account_import (the only API that sets them) and
	// the others through multiaccount_import in 100s (design §3 phase 1, spec
	// §3.4-§3.5).
	UseAccountImport bool
	// GroupMsgBatch is the messages per import_group_msg call; 0 =
	// tencentim.MaxGroupMsgBatch (design §7 A1).
	GroupMsgBatch int
	// RecentContactFlag is the run's Config.RecentContactFlag: the plan cuts
	// import_group_msg batches by request size as the engine does, and the flag
	// is part of each request.
	RecentContactFlag bool
	// AccountLimit is the edition's account cap (0 = none), for the edition
	// warning; the transformer enforces it.
	AccountLimit int
	// Now is the transformer's clock, for the retention warning; zero = no warning.
	Now time.Time
}

// ErrAccounting means that the counts of an entity do not add up: read ≠ valid +
// rejected + skipped (design §4 rule 6). It is a bug, never a data problem.
var ErrAccounting = errors.New("validate: accounting identity does not hold")

// Validate runs the dry run over r with t (a fresh Transformer) and returns what
// would happen. Rejected records go to opt.Rejects as they are met. It honours ctx
// between and within the passes (through the reader).
func Validate(ctx context.Context, r extract.Reader, t *transform.Transformer, opt ValidateOptions) (*ValidateResult, error) {
	v := newValidator(t, opt)
	if opt.BadRows != nil {
		opt.BadRows.fn = v.badRow
		defer func() { opt.BadRows.fn = nil }()
	}
	passes := []struct {
		entity extract.Entity
		run    func() error
	}{
		{extract.Users, func() error { return r.Users(ctx, v.user) }},
		{extract.Groups, func() error { return r.Groups(ctx, v.group) }},
		{extract.Members, func() error { return r.Members(ctx, v.member) }},
		{extract.GroupMessages, func() error { return r.GroupMessages(ctx, v.groupMessage) }},
		{extract.Groups, v.finalGroups},
		{extract.DirectMessages, func() error {
			err := r.DirectMessages(ctx, v.directMessage)
			v.endConversation()
			return err
		}},
		{extract.Friends, func() error { return r.Friends(ctx, v.friend) }},
	}
	for _, p := range passes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v.entity = p.entity
		if err := p.run(); err != nil {
			if v.sinkErr != nil {
				return nil, v.sinkErr
			}
			return nil, fmt.Errorf("validate %s: %w", p.entity, err)
		}
		if v.sinkErr != nil {
			return nil, v.sinkErr
		}
	}
	return v.result()
}

// validator is the state of one Validate.
type validator struct {
	t      *transform.Transformer
	opt    ValidateOptions
	entity extract.Entity // of the running pass, for bad rows

	counts  map[extract.Entity]*EntityCounts
	rules   map[ruleKey]*RuleSummary
	ranges  map[extract.Entity]*TimeRange
	sinkErr error

	// Groups that pass 2 repaired, by legacy id: a group is counted repaired once,
	// when Groups confirms it.
	repairedGroups map[string]bool
	finals         []transform.GroupFinal
	// Accepted members with an unread count to restore, by target GroupId: a
	// group rejected by finalGroups takes its members along, and the run restores
	// none of their counts.
	unread        map[string]int64
	profiles      int64 // accepted users with a Nick or FaceUrl (account_import)
	editionWanted int64 // accounts refused by the edition limit

	// The import_group_msg calls of each group's accepted messages, cut as the
	// engine cuts them (groupMsgBatcher) while they are read: the open batch of
	// the group being read, and the calls by target GroupId.
	msgGroup     string
	msgBatch     batcher
	msgBatchOpen bool
	msgCalls     map[string]int64

	conv     ConversationSize // the direct-message stream being read
	convOpen bool
	topConvs []ConversationSize
}

type ruleKey struct {
	entity extract.Entity
	rule   string
}

func newValidator(t *transform.Transformer, opt ValidateOptions) *validator {
	if opt.Examples <= 0 {
		opt.Examples = DefaultExamples
	}
	if opt.Top <= 0 {
		opt.Top = DefaultTop
	}
	if opt.GroupMsgBatch <= 0 {
		opt.GroupMsgBatch = tencentim.MaxGroupMsgBatch
	}
	v := &validator{
		t:              t,
		opt:            opt,
		counts:         map[extract.Entity]*EntityCounts{},
		rules:          map[ruleKey]*RuleSummary{},
		ranges:         map[extract.Entity]*TimeRange{},
		repairedGroups: map[string]bool{},
		msgCalls:       map[string]int64{},
		unread:         map[string]int64{},
	}
	for _, e := range extract.Entities() {
		v.counts[e] = &EntityCounts{Entity: e}
	}
	return v
}

// outcome classifies a transformer result (design §4 rule 6): OK records are valid
// (and repaired when a Repair issue came with them); the others are rejected when
// an issue rejects them, else skipped by policy (the owner's member row).
type outcome int

const (
	outcomeValid outcome = iota
	outcomeRepaired
	outcomeRejected
	outcomeSkipped
)

func classify(ok bool, issues []transform.Issue) outcome {
	repaired, rejected := false, false
	for _, is := range issues {
		switch is.Severity {
		case transform.Repair:
			repaired = true
		case transform.Reject:
			rejected = true
		}
	}
	switch {
	case ok && repaired:
		return outcomeRepaired
	case ok:
		return outcomeValid
	case rejected:
		return outcomeRejected
	}
	return outcomeSkipped
}

// record counts one record of e and its issues, and writes its reject. It returns
// the outcome, and the sink's error (which stops the read).
func (v *validator) record(e extract.Entity, ok bool, issues []transform.Issue, origin extract.Origin, legacyID string) (outcome, error) {
	c := v.counts[e]
	c.Read++
	for i := range issues {
		v.issue(issues[i].Entity, issues[i].Rule, issues[i].Severity.String(), issues[i].Origin.String(), issues[i].LegacyID, issues[i].Message)
	}
	o := classify(ok, issues)
	switch o {
	case outcomeValid:
		c.Valid++
	case outcomeRepaired:
		c.Valid++
		c.Repaired++
	case outcomeSkipped:
		c.Skipped++
	case outcomeRejected:
		c.Rejected++
		return o, v.reject(e, origin.String(), legacyID, issues)
	}
	return o, nil
}

// reject writes one reject line: the record's first rejecting rule, with the
// others named in the message.
func (v *validator) reject(e extract.Entity, origin, legacyID string, issues []transform.Issue) error {
	if v.opt.Rejects == nil {
		return nil
	}
	var first *transform.Issue
	var others []string
	for i := range issues {
		if issues[i].Severity != transform.Reject {
			continue
		}
		if first == nil {
			first = &issues[i]
		} else {
			others = append(others, issues[i].Rule)
		}
	}
	if first == nil {
		return nil
	}
	msg := first.Message
	if len(others) > 0 {
		msg += " (also: " + strings.Join(others, ", ") + ")"
	}
	if err := v.opt.Rejects.Reject(Reject{Entity: string(e), Origin: origin, LegacyID: legacyID,
		Rule: first.Rule, Severity: transform.Reject.String(), Message: msg}); err != nil {
		v.sinkErr = fmt.Errorf("validate: write reject: %w", err)
		return v.sinkErr
	}
	return nil
}

// issue counts one issue under its rule and keeps it as an example if there is room.
func (v *validator) issue(e extract.Entity, rule, severity, origin, legacyID, message string) {
	k := ruleKey{e, rule}
	rs := v.rules[k]
	if rs == nil {
		rs = &RuleSummary{Entity: e, Rule: rule, Severity: severity}
		rs.Summary, rs.Spec = ruleInfo(rule)
		v.rules[k] = rs
	}
	rs.Count++
	if len(rs.Examples) < v.opt.Examples {
		rs.Examples = append(rs.Examples, Example{Origin: origin, LegacyID: legacyID, Message: message})
	}
}

func (v *validator) payload(e extract.Entity, legacyID string, p any) error {
	if v.opt.Payloads == nil {
		return nil
	}
	if err := v.opt.Payloads.Payload(e, legacyID, p); err != nil {
		v.sinkErr = fmt.Errorf("validate: payload sink: %w", err)
		return v.sinkErr
	}
	return nil
}

func (v *validator) seen(e extract.Entity, at time.Time) {
	if at.IsZero() {
		return
	}
	tr := v.ranges[e]
	if tr == nil {
		v.ranges[e] = &TimeRange{Entity: e, First: at.UTC(), Last: at.UTC()}
		return
	}
	if at.Before(tr.First) {
		tr.First = at.UTC()
	}
	if at.After(tr.Last) {
		tr.Last = at.UTC()
	}
}

// badRow counts a row the reader skipped as read and rejected (design §4 rule 6).
func (v *validator) badRow(b extract.BadRow) {
	e := b.Entity
	if e == "" {
		e = v.entity
	}
	c := v.counts[e]
	if c == nil {
		return
	}
	c.Read++
	c.Rejected++
	v.issue(e, b.Rule, transform.Reject.String(), b.Origin.String(), "", b.Message)
	if v.opt.Rejects != nil && v.sinkErr == nil {
		if err := v.opt.Rejects.Reject(Reject{Entity: string(e), Origin: b.Origin.String(), Rule: b.Rule,
			Severity: transform.Reject.String(), Message: b.Message}); err != nil {
			// The reader's hook cannot fail: the next record's callback returns it.
			v.sinkErr = fmt.Errorf("validate: write reject: %w", err)
		}
	}
}

func (v *validator) user(u extract.User) error {
	if v.sinkErr != nil {
		return v.sinkErr
	}
	res := v.t.User(u)
	o, err := v.record(extract.Users, res.OK, res.Issues, u.Origin, u.ID)
	if err != nil {
		return err
	}
	for _, is := range res.Issues {
		if is.Rule == transform.RuleAccountEditionLimit {
			v.editionWanted++
		}
	}
	if o == outcomeValid || o == outcomeRepaired {
		v.seen(extract.Users, u.CreatedAt)
		if res.Account.Nick != "" || res.Account.FaceURL != "" {
			v.profiles++
		}
		if v.opt.Payloads != nil {
			return v.payload(extract.Users, u.ID, res.Account)
		}
	}
	return nil
}

func (v *validator) group(g extract.Group) error {
	if v.sinkErr != nil {
		return v.sinkErr
	}
	res := v.t.Group(g)
	c := v.counts[extract.Groups]
	c.Read++
	for i := range res.Issues {
		is := &res.Issues[i]
		v.issue(is.Entity, is.Rule, is.Severity.String(), is.Origin.String(), is.LegacyID, is.Message)
	}
	// An accepted group is counted when Groups gives its final payload: a clamp
	// refused by policy can still reject it.
	switch classify(res.OK, res.Issues) {
	case outcomeRepaired:
		v.repairedGroups[g.ID] = true
		v.seen(extract.Groups, g.CreatedAt)
	case outcomeValid:
		v.seen(extract.Groups, g.CreatedAt)
	case outcomeSkipped:
		c.Skipped++
	case outcomeRejected:
		c.Rejected++
		return v.reject(extract.Groups, g.Origin.String(), g.ID, res.Issues)
	}
	return nil
}

func (v *validator) member(m extract.Member) error {
	if v.sinkErr != nil {
		return v.sinkErr
	}
	res := v.t.Member(m)
	id := m.GroupID + "/" + m.UserID
	o, err := v.record(extract.Members, res.OK, res.Issues, m.Origin, id)
	if err != nil || (o != outcomeValid && o != outcomeRepaired) {
		return err
	}
	v.seen(extract.Members, m.JoinedAt)
	if res.Member.UnreadMsgNum > 0 {
		// import_group_msg resets every unread count to 0, so only counts above 0
		// need set_unread_msg_num afterwards (spec §8.10, §11 item 6).
		v.unread[res.GroupID]++
	}
	if v.opt.Payloads == nil {
		return nil
	}
	return v.payload(extract.Members, id, MemberPayload{GroupID: res.GroupID, Member: res.Member})
}

func (v *validator) groupMessage(m extract.Message) error {
	if v.sinkErr != nil {
		return v.sinkErr
	}
	res := v.t.GroupMessage(m)
	o, err := v.record(extract.GroupMessages, res.OK, res.Issues, m.Origin, m.ID)
	if err != nil || (o != outcomeValid && o != outcomeRepaired) {
		return err
	}
	v.seen(extract.GroupMessages, m.SentAt)
	v.planGroupMessage(res.GroupID, res.Msg)
	if v.opt.Payloads == nil {
		// Boxing the payload into an interface would allocate for nothing.
		return nil
	}
	return v.payload(extract.GroupMessages, m.ID, GroupMessagePayload{GroupID: res.GroupID, Msg: res.Msg})
}

// planGroupMessage counts the import_group_msg call that an accepted message of
// group groupID opens, if any. The engine sends each run of consecutive messages
// of one group as one stream (engine_stream.go), so a batch never spans groups,
// nor a group's messages that other groups' interrupt.
func (v *validator) planGroupMessage(groupID string, msg tencentim.GroupMsg) {
	if !v.msgBatchOpen || groupID != v.msgGroup {
		v.msgGroup, v.msgBatchOpen = groupID, true
		v.msgBatch = groupMsgBatcher(groupID, v.opt.GroupMsgBatch, v.opt.RecentContactFlag)
	}
	if v.msgBatch.add(groupMsgBytes(msg)) {
		v.msgCalls[groupID]++
	}
}

// finalGroups counts the groups from their final payloads. A group rejected here
// (group_create_time: reject) takes the members and messages counted valid for it
// along: they move to rejected, and its reject line says how many.
func (v *validator) finalGroups() error {
	v.finals = v.t.Groups()
	c := v.counts[extract.Groups]
	for _, f := range v.finals {
		for i := range f.Issues {
			is := &f.Issues[i]
			v.issue(is.Entity, is.Rule, is.Severity.String(), is.Origin.String(), is.LegacyID, is.Message)
		}
		switch o := classify(f.OK, f.Issues); {
		case o == outcomeRejected:
			c.Rejected++
			for _, e := range []struct {
				entity extract.Entity
				n      int
			}{{extract.Members, f.Members}, {extract.GroupMessages, f.Messages}} {
				ec := v.counts[e.entity]
				ec.Valid -= int64(e.n)
				ec.Rejected += int64(e.n)
			}
			issues := f.Issues
			if f.Members+f.Messages > 0 {
				issues = slices.Clone(f.Issues)
				for i := range issues {
					if issues[i].Severity == transform.Reject {
						issues[i].Message += fmt.Sprintf("; its %d members and %d messages counted valid before are rejected with it", f.Members, f.Messages)
						break
					}
				}
			}
			if err := v.reject(extract.Groups, f.Legacy.String(), f.LegacyID, issues); err != nil {
				return err
			}
			continue
		case o == outcomeRepaired || v.repairedGroups[f.LegacyID]:
			c.Valid++
			c.Repaired++
		default:
			c.Valid++
		}
		if v.opt.Payloads != nil {
			if err := v.payload(extract.Groups, f.LegacyID, f.Group); err != nil {
				return err
			}
		}
	}
	v.repairedGroups = nil
	return nil
}

func (v *validator) directMessage(m extract.Message) error {
	if v.sinkErr != nil {
		return v.sinkErr
	}
	lo, hi := extract.ConversationKey(m.SenderID, m.RecipientID)
	if !v.convOpen || lo != v.conv.A || hi != v.conv.B {
		v.endConversation()
		v.conv, v.convOpen = ConversationSize{A: lo, B: hi}, true
	}
	res := v.t.DirectMessage(m)
	o, err := v.record(extract.DirectMessages, res.OK, res.Issues, m.Origin, m.ID)
	if err != nil || (o != outcomeValid && o != outcomeRepaired) {
		return err
	}
	v.conv.Messages++
	v.seen(extract.DirectMessages, m.SentAt)
	if v.opt.Payloads == nil {
		return nil
	}
	return v.payload(extract.DirectMessages, m.ID, res.Msg)
}

// endConversation offers the finished conversation to the bounded top list.
func (v *validator) endConversation() {
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

// friend counts a friendship: read, and skipped, since the migration has no
// friends phase (design §3).
func (v *validator) friend(f extract.Friend) error {
	c := v.counts[extract.Friends]
	c.Read++
	c.Skipped++
	v.seen(extract.Friends, f.AddedAt)
	return nil
}

func (v *validator) result() (*ValidateResult, error) {
	res := &ValidateResult{}
	for _, e := range extract.Entities() {
		c := *v.counts[e]
		if e == extract.Friends && c.Read == 0 {
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

	res.LargestGroups = v.largestGroups(func(g GroupSize) int { return g.Messages })
	res.LargestGroupsByMembers = v.largestGroups(func(g GroupSize) int { return g.Members })
	v.trimConversations()
	res.LargestConversations = v.topConvs

	res.Plan = v.plan(res.Accounts.Total)
	res.Warnings = v.warnings(res)
	return res, nil
}

func entityIndex(e extract.Entity) int {
	if i := slices.Index(extract.Entities(), e); i >= 0 {
		return i
	}
	return len(extract.Entities())
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

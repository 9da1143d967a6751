package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/internal/seenset"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/transform"
)

// Validate is the dry run (design §2 "validate"): it reads every entity, runs the
// transformer's passes over it, and counts what would be imported, repaired,
// rejected or skipped, without contacting the target. Memory stays bounded: besides
// the transformer's compact state (with the message ids it met in sets that
// spill to disk) it keeps counters, the first examples of each
// rule, the largest conversations seen and, per group, what Transformer.Groups
// returns anyway.

// ErrAccounting means that the counts of an entity do not add up: read ≠ valid +
// rejected + skipped (design §4 rule 6). It is a bug, never a data problem.
var ErrAccounting = errors.New("validate: accounting identity does not hold")

// Validate runs the dry run over r with t (a fresh Transformer) and returns what
// would happen. Rejected records go to opt.Rejects as they are met. It honours ctx
// between and within the passes (through the reader).
func Validate(ctx context.Context, r extract.Reader, t *transform.Transformer, opt ValidateOptions) (*ValidateResult, error) {
	res, _, err := validate(ctx, r, t, opt)
	return res, err
}

// validate is Validate, also returning the groups that fell at the end of the pass
// (see Meta.DroppedGroups).
func validate(ctx context.Context, r extract.Reader, t *transform.Transformer, opt ValidateOptions) (*ValidateResult, []string, error) {
	v := newValidator(t, opt)
	defer v.closeSeen()
	if opt.BadRows != nil {
		opt.BadRows.fn = v.badRow
		defer func() { opt.BadRows.fn = nil }()
	}
	passes := []struct {
		entity extract.Entity
		run    func() error
	}{
		{extract.GroupDMs, func() error { return r.GroupDMs(ctx, v.noteGroupDM) }},
		{extract.Users, func() error { return r.Users(ctx, v.user) }},
		{extract.Groups, func() error { return r.Groups(ctx, v.group) }},
		{extract.Topics, func() error { return r.Topics(ctx, v.topic) }},
		{extract.GroupDMs, v.checkGroupDMs},
		{extract.Members, func() error { return r.Members(ctx, v.member) }},
		{extract.GroupMessages, func() error {
			err := r.GroupMessages(ctx, v.groupMessage)
			if cerr := v.groupSeen.Close(); err == nil && v.sinkErr == nil && cerr != nil {
				v.sinkErr = fmt.Errorf("validate: %w", cerr)
			}
			return err
		}},
		{extract.Groups, v.finalGroups},
		{extract.Topics, v.finalTopics},
		{extract.GroupDMs, v.finalGroupDMs},
		{extract.DirectMessages, func() error {
			err := r.DirectMessages(ctx, v.directMessage)
			v.endConversation()
			if err == nil {
				err = v.endSelfGroups()
			}
			return err
		}},
		{extract.Friends, func() error {
			err := r.Friends(ctx, v.friend)
			v.endFriends()
			return err
		}},
		{extract.Users, v.impliedAccounts},
	}
	for _, p := range passes {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		v.entity = p.entity
		if err := p.run(); err != nil {
			if v.sinkErr != nil {
				return nil, nil, v.sinkErr
			}
			return nil, nil, fmt.Errorf("validate %s: %w", p.entity, err)
		}
		if v.sinkErr != nil {
			return nil, nil, v.sinkErr
		}
	}
	res, err := v.result()
	return res, v.dropped, err
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
	repairedTopics map[string]bool // likewise for topics, by "group/topic"
	topics         int64           // accepted topics: import_topic calls
	finals         []transform.GroupFinal
	// Accepted members with an unread count to restore, by target GroupId: a
	// group rejected by finalGroups takes its members along, and the run restores
	// none of their counts.
	unread        map[string]int64
	profiles      int64 // accepted users with a Nick or FaceUrl (account_import)
	portraits     int64 // accepted profiles: portrait_set calls
	editionWanted int64 // accounts refused by the edition limit

	// The import_group_msg calls of each group's accepted messages, cut as the
	// engine cuts them (groupMsgBatcher) while they are read: the open batch of
	// the group being read, and the calls by target GroupId.
	msgGroup     string
	msgBatch     load.Batcher
	msgBatchOpen bool
	msgCalls     map[string]int64

	dropped []string // GroupIds rejected by finalGroups (see Meta.DroppedGroups)

	// Messages policies.oversize: split cut (split.go): by entity, and the group
	// messages' by target GroupId, for the plan's items and a dropped group.
	split       map[extract.Entity]*SplitCount
	splitGroups map[string]SplitCount

	// Self-messages under policies.self_messages: to_group (selfgroups.go).
	selfMessages int64
	selfFinals   []transform.SelfGroupFinal

	conv     ConversationSize // the direct-message stream being read
	convOpen bool
	topConvs []ConversationSize
	// The stream of conv as the engine sends it (target ids, calls), and the
	// longest so far: the reader gives a conversation's messages together
	// (extract.Reader), so the plan names the longest without a map of them all.
	convStream  Stream
	longestConv Stream

	// The friend stream being read and the friends phase's
	// items, calls and longest stream so far.
	friendStream             Stream
	friendItems, friendCalls int64
	longestFriends           *Stream

	// The message ids each message pass met (transform.UseSeenSets).
	groupSeen, directSeen *seenset.Set

	gdm groupDMState // plan/groupdms.go
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
		repairedTopics: map[string]bool{},
		msgCalls:       map[string]int64{},
		unread:         map[string]int64{},
	}
	for _, e := range append(extract.Entities(), extract.Profiles) {
		v.counts[e] = &EntityCounts{Entity: e}
	}
	v.groupSeen, v.directSeen = seenset.New(opt.Seen), seenset.New(opt.Seen)
	t.UseSeenSets(v.groupSeen, v.directSeen)
	return v
}

// closeSeen removes what the sets of message ids spilled.
func (v *validator) closeSeen() {
	// An error here can only leave a temporary file behind (it is unlinked at
	// once where the system allows); the result stands.
	_ = v.groupSeen.Close()
	_ = v.directSeen.Close()
}

// seenErr stops the read when a set of message ids failed: its answers, and so
// the duplicate-id rule, can no longer be trusted.
func (v *validator) seenErr(s *seenset.Set) error {
	if err := s.Err(); err != nil {
		v.sinkErr = fmt.Errorf("validate: message ids: %w", err)
		return v.sinkErr
	}
	return nil
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
	if err := v.opt.Rejects.Reject(load.Reject{Entity: string(e), Origin: origin, LegacyID: legacyID,
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
	v.issue(e, b.Rule, transform.Reject.String(), b.Origin.String(), b.LegacyID, b.Message)
	if v.opt.Rejects != nil && v.sinkErr == nil {
		if err := v.opt.Rejects.Reject(load.Reject{Entity: string(e), Origin: b.Origin.String(), LegacyID: b.LegacyID, Rule: b.Rule,
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
		if err := v.spool(load.PhaseAccounts, "", u.Origin.String(), u.ID, res.Account); err != nil {
			return err
		}
		if v.opt.Payloads != nil {
			if err := v.payload(extract.Users, u.ID, res.Account); err != nil {
				return err
			}
		}
		if transform.HasProfile(u) {
			return v.profile(u, res.Account.UserID)
		}
	}
	return nil
}

// profile checks the profile fields of an accepted user and spools its
// portrait_set request (the profiles phase, after the accounts). A rejected
// profile is counted under the profiles entity; the account stays accepted.
func (v *validator) profile(u extract.User, userID string) error {
	res := v.t.Profile(u, userID)
	o, err := v.record(extract.Profiles, res.OK, res.Issues, u.Origin, u.ID)
	if err != nil || (o != outcomeValid && o != outcomeRepaired) {
		return err
	}
	v.portraits++
	if err := v.spool(load.PhaseProfiles, "", u.Origin.String(), u.ID, res.Req); err != nil {
		return err
	}
	return v.payload(extract.Profiles, u.ID, res.Req)
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

// unreadFor plans the restore of an unread count that no member payload carries
// (the owner's), and hands it to the payload sink.
func (v *validator) unreadFor(m extract.Member, id string, req tencentim.SetUnreadMsgNumRequest) error {
	if err := v.spool(load.PhaseUnread, req.GroupID, m.Origin.String(), id, req); err != nil {
		return err
	}
	v.unread[req.GroupID]++
	if v.opt.Payloads == nil {
		return nil
	}
	return v.payload(extract.Members, id, req)
}

func (v *validator) member(m extract.Member) error {
	if v.sinkErr != nil {
		return v.sinkErr
	}
	res := v.t.Member(m)
	id := m.GroupID + "/" + m.UserID
	o, err := v.record(extract.Members, res.OK, res.Issues, m.Origin, id)
	if err == nil && o == outcomeSkipped && res.OwnerUnread > 0 {
		// The owner's row is skipped, not its unread count (issue 9).
		err = v.unreadFor(m, id, tencentim.SetUnreadMsgNumRequest{
			GroupID: res.GroupID, MemberAccount: res.Owner, UnreadMsgNum: res.OwnerUnread})
	}
	if err != nil || (o != outcomeValid && o != outcomeRepaired) {
		return err
	}
	v.seen(extract.Members, m.JoinedAt)
	if res.Member.UnreadMsgNum > 0 {
		// import_group_msg resets every unread count to 0, so only counts above 0
		// need set_unread_msg_num afterwards (spec §8.10, §11 item 6).
		if err := v.spool(load.PhaseUnread, res.GroupID, m.Origin.String(), id, tencentim.SetUnreadMsgNumRequest{
			GroupID: res.GroupID, MemberAccount: res.Member.MemberAccount, UnreadMsgNum: res.Member.UnreadMsgNum,
		}); err != nil {
			return err
		}
		v.unread[res.GroupID]++
	}
	if err := v.spool(load.PhaseMembers, res.GroupID, m.Origin.String(), id, res.Member); err != nil {
		return err
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
	if err := v.seenErr(v.groupSeen); err != nil {
		return err
	}
	o, err := v.record(extract.GroupMessages, res.OK, res.Issues, m.Origin, m.ID)
	if err != nil || (o != outcomeValid && o != outcomeRepaired) {
		return err
	}
	v.seen(extract.GroupMessages, m.SentAt)
	if res.Parts != nil {
		return v.groupMessageParts(m, res)
	}
	raw, err := json.Marshal(res.Msg)
	if err != nil {
		return fmt.Errorf("group message %s: encode: %w", m.ID, err)
	}
	v.mediaURLs(extract.GroupMessages, m, res.Msg.MsgBody)
	v.planGroupMessage(res.Stream, load.GroupMsgSize(raw))
	if err := v.spoolRaw(load.PhaseGroupMessages, res.Stream, m.Origin.String(), m.ID, raw); err != nil {
		return err
	}
	if v.opt.Payloads == nil {
		// Boxing the payload into an interface would allocate for nothing.
		return nil
	}
	return v.payload(extract.GroupMessages, m.ID, GroupMessagePayload{GroupID: res.GroupID, Msg: res.Msg})
}

// topic counts a topic read: rejected or skipped here, accepted when Topics
// gives its final payload (finalTopics), like a group.
func (v *validator) topic(tp extract.Topic) error {
	if v.sinkErr != nil {
		return v.sinkErr
	}
	res := v.t.Topic(tp)
	c := v.counts[extract.Topics]
	c.Read++
	for i := range res.Issues {
		is := &res.Issues[i]
		v.issue(is.Entity, is.Rule, is.Severity.String(), is.Origin.String(), is.LegacyID, is.Message)
	}
	id := tp.GroupID + "/" + tp.ID
	switch classify(res.OK, res.Issues) {
	case outcomeRepaired:
		v.repairedTopics[id] = true
		v.seen(extract.Topics, tp.CreatedAt)
	case outcomeValid:
		v.seen(extract.Topics, tp.CreatedAt)
	case outcomeSkipped:
		c.Skipped++
	case outcomeRejected:
		c.Rejected++
		return v.reject(extract.Topics, tp.Origin.String(), id, res.Issues)
	}
	return nil
}

// finalTopics counts and spools the topics from their final payloads, after the
// groups': a topic of a group rejected there is rejected with it (its messages
// went with the group's count).
func (v *validator) finalTopics() error {
	c := v.counts[extract.Topics]
	for _, f := range v.t.Topics(v.finals) {
		for i := range f.Issues {
			is := &f.Issues[i]
			v.issue(is.Entity, is.Rule, is.Severity.String(), is.Origin.String(), is.LegacyID, is.Message)
		}
		switch o := classify(f.OK, f.Issues); {
		case o == outcomeRejected:
			c.Rejected++
			if err := v.reject(extract.Topics, f.Legacy.String(), f.LegacyID, f.Issues); err != nil {
				return err
			}
			continue
		case o == outcomeRepaired || v.repairedTopics[f.LegacyID]:
			c.Valid++
			c.Repaired++
		default:
			c.Valid++
		}
		v.topics++
		// The stream is the TopicId: a refused topic's messages are rejected
		// without a call (load.SplitTopicStream).
		if err := v.spool(load.PhaseTopics, f.Topic.TopicID, f.Legacy.String(), f.LegacyID, f.Topic); err != nil {
			return err
		}
		if v.opt.Payloads != nil {
			if err := v.payload(extract.Topics, f.LegacyID, f.Topic); err != nil {
				return err
			}
		}
	}
	v.repairedTopics = nil
	return nil
}

// planGroupMessage counts the import_group_msg call that an accepted message of
// group groupID opens, if any. The engine sends each run of consecutive messages
// of one group as one stream (engine_stream.go), so a batch never spans groups,
// nor a group's messages that other groups' interrupt.
func (v *validator) planGroupMessage(stream string, size int) {
	if !v.msgBatchOpen || stream != v.msgGroup {
		v.msgGroup, v.msgBatchOpen = stream, true
		v.msgBatch = load.GroupMsgBatcher(stream, v.opt.GroupMsgBatch, v.opt.RecentContactFlag)
	}
	if v.msgBatch.Add(size) {
		// A topic's calls count for its group: the group's streams together
		// bound the estimate from above.
		group, _ := load.SplitTopicStream(stream)
		v.msgCalls[group]++
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
			if f.Group.GroupID != "" {
				// Its members and messages may be in the spool already.
				v.dropped = append(v.dropped, f.Group.GroupID)
				v.dropSplit(f.Group.GroupID)
			}
			continue
		case o == outcomeRepaired || v.repairedGroups[f.LegacyID]:
			c.Valid++
			c.Repaired++
		default:
			c.Valid++
		}
		if err := v.spool(load.PhaseGroups, f.Group.GroupID, f.Legacy.String(), f.LegacyID, f.Group); err != nil {
			return err
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

// impliedAccounts spools the accounts that other records imply, after the users
// (design §3 phase 1: every user any other record references).
func (v *validator) impliedAccounts() error {
	for _, id := range v.t.ImpliedAccounts() {
		if err := v.spool(load.PhaseAccounts, "", ImpliedOrigin, id, tencentim.AccountImportRequest{UserID: id}); err != nil {
			return err
		}
	}
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
	if err := v.seenErr(v.directSeen); err != nil {
		return err
	}
	o, err := v.record(extract.DirectMessages, res.OK, res.Issues, m.Origin, m.ID)
	if err != nil || (o != outcomeValid && o != outcomeRepaired) {
		return err
	}
	if res.ToGroup != nil {
		return v.selfGroupMessage(m, res)
	}
	v.conv.Messages++
	if v.convStream.Calls == 0 {
		a, b := extract.ConversationKey(res.Msg.FromAccount, res.Msg.ToAccount)
		v.convStream = Stream{A: a, B: b, Origin: m.Origin.String()}
	}
	if res.Parts != nil {
		return v.directMessageParts(m, res)
	}
	// One message is one importmsg call.
	v.convStream.Calls++
	v.convStream.Records++
	v.seen(extract.DirectMessages, m.SentAt)
	v.mediaURLs(extract.DirectMessages, m, res.Msg.MsgBody)
	if err := v.spool(load.PhaseDirectMessages, load.ConversationStream(res.Msg.FromAccount, res.Msg.ToAccount), m.Origin.String(), m.ID, res.Msg); err != nil {
		return err
	}
	if v.opt.Payloads == nil {
		return nil
	}
	return v.payload(extract.DirectMessages, m.ID, res.Msg)
}

// friend checks one friends row and spools its friend_import item in the stream
// of its user (policies.friends: import), or counts it as skipped by policy. The
// reader gives one user's friends together (extract.Reader), so the calls of each
// stream are counted as the engine cuts them without a map of the users.
func (v *validator) friend(f extract.Friend) error {
	if v.sinkErr != nil {
		return v.sinkErr
	}
	if !v.opt.Friends {
		return v.skipFriend(f)
	}
	res := v.t.Friend(f)
	id := f.UserID + "/" + f.FriendID
	o, err := v.record(extract.Friends, res.OK, res.Issues, f.Origin, id)
	if err != nil || (o != outcomeValid && o != outcomeRepaired) {
		return err
	}
	v.seen(extract.Friends, f.AddedAt)
	if res.From != v.friendStream.User || v.friendStream.Records == 0 {
		v.endFriends()
		v.friendStream = Stream{User: res.From, Origin: f.Origin.String()}
	}
	v.friendStream.Records++
	v.friendStream.Calls = ceilDiv(v.friendStream.Records, load.MaxFriendImportBatch)
	if err := v.spool(load.PhaseFriends, res.From, f.Origin.String(), id, res.Item); err != nil {
		return err
	}
	if v.opt.Payloads == nil {
		return nil
	}
	return v.payload(extract.Friends, id, FriendPayload{From: res.From, Item: res.Item})
}

// endFriends adds the friend stream just read to the plan's counts.
func (v *validator) endFriends() {
	s := v.friendStream
	if s.Records == 0 {
		return
	}
	v.friendItems += s.Records
	v.friendCalls += s.Calls
	if s.longer(v.longestFriends) {
		v.longestFriends = &s
	}
	v.friendStream = Stream{}
}

// skipFriend counts a friendship read and skipped by policy (policies.friends:
// skip). Its dropped fields are still reported.
func (v *validator) skipFriend(f extract.Friend) error {
	c := v.counts[extract.Friends]
	c.Read++
	c.Skipped++
	for _, is := range transform.Dropped(extract.Friends, f.Origin, f.UserID+"/"+f.FriendID, f.Dropped) {
		v.issue(is.Entity, is.Rule, is.Severity.String(), is.Origin.String(), is.LegacyID, is.Message)
	}
	v.seen(extract.Friends, f.AddedAt)
	return nil
}

// mediaURLs hands the media URLs of an accepted message's body to
// opt.OnMediaURL: the Url fields of the rich-media elements (spec §6.2) and the
// url and thumb_url of a media description in a custom element
// (transform.MediaExt), each once per message.
func (v *validator) mediaURLs(e extract.Entity, m extract.Message, body []tencentim.MsgElem) {
	if v.opt.OnMediaURL == nil {
		return
	}
	var urls []string
	add := func(u string) {
		if u != "" && !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
	}
	for _, el := range body {
		var c struct {
			URL, Url, VideoUrl, ThumbUrl string
			ImageInfoArray               []struct{ URL string }
			Data, Ext                    string
		}
		if json.Unmarshal(el.MsgContent, &c) != nil {
			continue
		}
		add(c.URL)
		add(c.Url)
		add(c.VideoUrl)
		add(c.ThumbUrl)
		for _, i := range c.ImageInfoArray {
			add(i.URL)
		}
		if c.Ext == transform.MediaExt {
			var one transform.MediaDescription
			var many []transform.MediaDescription
			if json.Unmarshal([]byte(c.Data), &many) != nil {
				many = nil
				if json.Unmarshal([]byte(c.Data), &one) == nil {
					many = append(many, one)
				}
			}
			for _, d := range many {
				add(d.URL)
				add(d.ThumbURL)
			}
		}
	}
	for _, u := range urls {
		v.opt.OnMediaURL(e, m.Origin.String(), m.ID, u)
	}
}

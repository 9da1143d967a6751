package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/immigrate/immigrate/tencentim"
)

// The send functions of the batch phases and of one-to-one messages; group
// messages are in engine_groupmsg.go.

// ---- accounts (spec §3.4, §3.5) ----

// cutAccounts sends accounts with a Nick or FaceUrl through account_import one by
// one, since multiaccount_import cannot set them (spec §3.5), and the others
// through multiaccount_import in 100s (Config.UseMultiAccount).
func cutAccounts(cfg *Config, r Record) (string, batcher, error) {
	a, err := decode[tencentim.AccountImportRequest](PhaseAccounts, r)
	if err != nil {
		return "", batcher{}, err
	}
	if !cfg.UseMultiAccount || a.Nick != "" || a.FaceURL != "" {
		return "profile", counted(1), nil
	}
	return "bare", counted(tencentim.MaxMultiAccountImport), nil
}

// sendAccounts imports a batch: one account through account_import, several
// through multiaccount_import.
func (e *Engine) sendAccounts(ctx context.Context, _ string, batch []Record) error {
	if len(batch) == 1 {
		return e.importAccount(ctx, batch[0])
	}
	return e.importAccounts(ctx, batch)
}

func (e *Engine) importAccount(ctx context.Context, r Record) error {
	req, err := decode[tencentim.AccountImportRequest](PhaseAccounts, r)
	if err != nil {
		return err
	}
	held, err := e.accountsHeld(ctx, []string{req.UserID})
	if err != nil {
		return err
	}
	err = e.call(ctx, PhaseAccounts, tencentim.CmdAccountImport, func(ctx context.Context) error {
		_, err := exchange[tencentim.AccountImportResponse](ctx, e.client, tencentim.CmdAccountImport, &req)
		return err
	}, nil)
	switch {
	case err == nil:
		// account_import is idempotent (spec §3.4): an existing account answers OK
		// too; account_check told which were there (firstcontact.go).
		e.confirm(PhaseAccounts, "", r.Item, heldOutcome(held[req.UserID]))
		return nil
	case stops(ctx, err):
		return err
	}
	return e.rejectErr(PhaseAccounts, "", r.Item, err)
}

func (e *Engine) importAccounts(ctx context.Context, batch []Record) error {
	ids := make([]string, len(batch))
	for i, r := range batch {
		a, err := decode[tencentim.AccountImportRequest](PhaseAccounts, r)
		if err != nil {
			return err
		}
		ids[i] = a.UserID
	}
	held, err := e.accountsHeld(ctx, ids)
	if err != nil {
		return err
	}
	var resp *tencentim.MultiAccountImportResponse
	err = e.call(ctx, PhaseAccounts, tencentim.CmdMultiAccountImport, func(ctx context.Context) error {
		var err error
		resp, err = exchange[tencentim.MultiAccountImportResponse](ctx, e.client, tencentim.CmdMultiAccountImport, &tencentim.MultiAccountImportRequest{Accounts: ids})
		return err
	}, nil)
	switch {
	case err == nil:
		failed := make(map[string]bool, len(resp.FailAccounts))
		for _, id := range resp.FailAccounts {
			failed[id] = true
		}
		for i, r := range batch {
			if failed[ids[i]] {
				// Design §4 rule 5: FailAccounts carries no code.
				if err := e.reject(PhaseAccounts, "", r.Item, RuleAccountFailed, "account import failed"); err != nil {
					return err
				}
				continue
			}
			e.confirm(PhaseAccounts, "", r.Item, heldOutcome(held[ids[i]]))
		}
		return nil
	case stops(ctx, err):
		return err
	case bisectable(err):
		// A request-level refusal names no account: split the batch to find the
		// ones at fault, so the others still go in.
		return bisect(ctx, batch, func(ctx context.Context, b []Record) error { return e.sendAccounts(ctx, "", b) })
	}
	return e.rejectAll(PhaseAccounts, "", batch, err)
}

// bisectable reports whether a batch refused as a whole with err may contain good
// records: a record-level refusal that is not about the whole group.
func bisectable(err error) bool {
	var te *tencentim.Error
	if !errors.As(err, &te) || te.Code == 0 || tencentim.ClassifyCode(te.Code) != tencentim.ClassRejected {
		return false
	}
	switch te.Code {
	case 10007, 10010, 10015: // wrong group type, group missing, bad group id: every record fails alike
		return false
	}
	return true
}

// bisect sends the two halves of batch one after the other (so a stream's order
// holds) through send; send bisects again if a half is refused as a whole.
func bisect[T any](ctx context.Context, batch []T, send func(context.Context, []T) error) error {
	mid := len(batch) / 2
	if err := send(ctx, batch[:mid]); err != nil {
		return err
	}
	return send(ctx, batch[mid:])
}

// rejectAll rejects every record of a failed call.
func (e *Engine) rejectAll(ph Phase, stream string, batch []Record, err error) error {
	for _, r := range batch {
		if err := e.rejectErr(ph, stream, r.Item, err); err != nil {
			return err
		}
	}
	return nil
}

// ---- groups (spec §8.7) ----

func (e *Engine) importGroup(ctx context.Context, r Record) error {
	req, err := decode[tencentim.ImportGroupRequest](PhaseGroups, r)
	if err != nil {
		return err
	}
	var amb ambiguityTracker
	err = e.call(ctx, PhaseGroups, tencentim.CmdImportGroup, func(ctx context.Context) error {
		_, err := exchange[tencentim.ImportGroupResponse](ctx, e.client, tencentim.CmdImportGroup, &req)
		return err
	}, amb.beforeRetry)
	var te *tencentim.Error
	switch {
	case err == nil:
		e.confirm(PhaseGroups, req.GroupID, r.Item, OutcomeImported)
		return nil
	case stops(ctx, err):
		return err
	case errors.As(err, &te) && te.Code == 10021 && req.GroupID != "":
		// Our GroupId is derived from the legacy id (design §4 rule 1): 10021 means
		// an earlier run imported it.
		o := amb.present()
		if o == OutcomePresent {
			e.fc.markGroup(req.GroupID)
		}
		e.confirm(PhaseGroups, req.GroupID, r.Item, o)
		return nil
	}
	e.markGroupFailed(req.GroupID)
	return e.rejectErr(PhaseGroups, req.GroupID, r.Item, err)
}

// ---- topics (spec §8.11) ----

// importTopic imports one topic under its custom TopicId (spec §8.3), derived from
// the legacy id like a GroupId (design §4 rule 1). A refused topic is marked
// failed, so that its messages are rejected without a call.
func (e *Engine) importTopic(ctx context.Context, r Record) error {
	req, err := decode[tencentim.ImportTopicRequest](PhaseTopics, r)
	if err != nil {
		return err
	}
	var amb ambiguityTracker
	err = e.call(ctx, PhaseTopics, tencentim.CmdImportTopic, func(ctx context.Context) error {
		_, err := exchange[tencentim.ImportTopicResponse](ctx, e.client, tencentim.CmdImportTopic, &req)
		return err
	}, amb.beforeRetry)
	var te *tencentim.Error
	switch {
	case err == nil:
		e.confirm(PhaseTopics, req.TopicID, r.Item, OutcomeImported)
		return nil
	case stops(ctx, err):
		return err
	case errors.As(err, &te) && te.Code == 10021 && req.TopicID != "":
		// spec §8.11: 10021 "topic ID is already in use": an earlier run imported it.
		o := amb.present()
		if o == OutcomePresent {
			e.fc.markGroup(req.TopicID)
		}
		e.confirm(PhaseTopics, req.TopicID, r.Item, o)
		return nil
	}
	e.markGroupFailed(req.TopicID)
	return e.rejectErr(PhaseTopics, req.TopicID, r.Item, err)
}

// ---- members (spec §8.8) ----

func (e *Engine) importMembers(ctx context.Context, groupID string, batch []Record) error {
	list := make([]tencentim.ImportMember, len(batch))
	for i, r := range batch {
		m, err := decode[tencentim.ImportMember](PhaseMembers, r)
		if err != nil {
			return err
		}
		list[i] = m
	}
	var resp *tencentim.ImportGroupMemberResponse
	var amb ambiguityTracker
	err := e.call(ctx, PhaseMembers, tencentim.CmdImportGroupMember, func(ctx context.Context) error {
		var err error
		resp, err = exchange[tencentim.ImportGroupMemberResponse](ctx, e.client, tencentim.CmdImportGroupMember, &tencentim.ImportGroupMemberRequest{GroupID: groupID, MemberList: list})
		return err
	}, amb.beforeRetry)
	switch {
	case err == nil:
		results := make(map[string]int, len(resp.MemberList))
		for _, r := range resp.MemberList {
			results[r.MemberAccount] = r.Result
		}
		for i, m := range batch {
			r, ok := results[list[i].MemberAccount]
			var err error
			switch {
			case !ok:
				err = e.reject(PhaseMembers, groupID, m.Item, RuleNoResult, "import_group_member did not return a result for this member")
			case r == tencentim.MemberImported:
				e.confirm(PhaseMembers, groupID, m.Item, OutcomeImported)
			case r == tencentim.MemberAlreadyMember:
				// Design §4 rule 1: an earlier run imported the member.
				e.confirm(PhaseMembers, groupID, m.Item, amb.present())
			case r == tencentim.MemberFailed:
				err = e.reject(PhaseMembers, groupID, m.Item, RuleMemberFailed, "import_group_member answered Result 0 (member not imported)")
			default:
				err = e.reject(PhaseMembers, groupID, m.Item, codeRule(r),
					fmt.Sprintf("import_group_member answered Result %d (%s)", r, tencentim.CodeText(r)))
			}
			if err != nil {
				return err
			}
		}
		return nil
	case stops(ctx, err):
		return err
	case bisectable(err) && len(batch) > 1:
		return bisect(ctx, batch, func(ctx context.Context, b []Record) error { return e.importMembers(ctx, groupID, b) })
	}
	return e.rejectAll(PhaseMembers, groupID, batch, err)
}

// ---- unread counts (spec §8.10) ----

func (e *Engine) setUnread(ctx context.Context, r Record) error {
	req, err := decode[tencentim.SetUnreadMsgNumRequest](PhaseUnread, r)
	if err != nil {
		return err
	}
	err = e.call(ctx, PhaseUnread, tencentim.CmdSetUnreadMsgNum, func(ctx context.Context) error {
		_, err := exchange[tencentim.SetUnreadMsgNumResponse](ctx, e.client, tencentim.CmdSetUnreadMsgNum, &req)
		return err
	}, nil)
	switch {
	case err == nil:
		e.confirm(PhaseUnread, req.GroupID, r.Item, OutcomeImported)
		return nil
	case stops(ctx, err):
		return err
	}
	return e.rejectErr(PhaseUnread, req.GroupID, r.Item, err)
}

// ---- friends (spec §5.1) ----

// MaxFriendImportBatch is the most friends of one user per friend_import call. The
// vendor states no limit (spec §5.1, A30); 100 matches the batch size of the other
// account APIs (spec §3.5, §3.6).
const MaxFriendImportBatch = 100

// importFriends puts a batch of friends into the list of fromAccount (the stream).
// A resend after a lost answer is harmless: friend_import of an existing friend
// replaces its fields with the same ones (spec §5.1, one-way and idempotent).
// Every item is judged by its ResultItem; a code other than 0 rejects that friend
// with target.<code> (30003 friend not imported, 30010 friend limit, 30011
// friend-list limit, …).
func (e *Engine) importFriends(ctx context.Context, from string, batch []Record) error {
	items := make([]tencentim.AddFriendItem, len(batch))
	for i, r := range batch {
		it, err := decode[tencentim.AddFriendItem](PhaseFriends, r)
		if err != nil {
			return err
		}
		items[i] = it
	}
	held, err := e.friendsHeld(ctx, from)
	if err != nil {
		return err
	}
	var resp *tencentim.FriendImportResponse
	err = e.call(ctx, PhaseFriends, tencentim.CmdFriendImport, func(ctx context.Context) error {
		var err error
		resp, err = exchange[tencentim.FriendImportResponse](ctx, e.client, tencentim.CmdFriendImport,
			&tencentim.FriendImportRequest{FromAccount: from, AddFriendItem: items})
		return err
	}, nil)
	switch {
	case err == nil:
		results := make(map[string]tencentim.FriendResult, len(resp.ResultItem))
		for _, r := range resp.ResultItem {
			results[r.ToAccount] = r
		}
		for i, f := range batch {
			r, ok := results[items[i].ToAccount]
			var err error
			switch {
			case !ok:
				err = e.reject(PhaseFriends, from, f.Item, RuleNoResult, "friend_import did not return a result for this friend")
			case r.ResultCode == 0:
				// The vendor documents no "already a friend" answer: an import
				// replaces the friend, so an existing one is imported again,
				// and counts as present when friend_get listed it first
				// (firstcontact.go).
				e.confirm(PhaseFriends, from, f.Item, heldOutcome(held[items[i].ToAccount]))
			default:
				err = e.reject(PhaseFriends, from, f.Item, codeRule(r.ResultCode), codeMessage(tencentim.CmdFriendImport, r.ResultCode, r.ResultInfo))
			}
			if err != nil {
				return err
			}
		}
		return nil
	case stops(ctx, err):
		return err
	case bisectable(err) && len(batch) > 1 && !friendOwnerRefused(err):
		return bisect(ctx, batch, func(ctx context.Context, b []Record) error { return e.importFriends(ctx, from, b) })
	}
	return e.rejectAll(PhaseFriends, from, batch, err)
}

// friendOwnerRefused reports whether friend_import refused the list's owner
// (30003: From_Account not imported), which fails every friend alike.
func friendOwnerRefused(err error) bool {
	var te *tencentim.Error
	return errors.As(err, &te) && te.Code == 30003
}

// ---- one-to-one messages (spec §7.1) ----

// importDirect sends one message. A resend after a lost answer is harmless: the
// target drops a message whose (MsgSeq, MsgRandom, MsgTimeStamp) it already has
// (spec §7.1, design §4 rule 2).
//
// The payload is the request itself (an ImportMsgRequest's JSON): it is sent as it
// is, without a decode and a re-encode per message, the phase with most calls.
func (e *Engine) importDirect(ctx context.Context, key string, r Record) error {
	switch held, err := e.directHeld(ctx, key, r.Payload); {
	case err != nil:
		return err
	case held:
		e.confirm(PhaseDirectMessages, key, r.Item, OutcomePresent)
		return nil
	}
	req := json.RawMessage(r.Payload)
	err := e.call(ctx, PhaseDirectMessages, tencentim.CmdImportMsg, func(ctx context.Context) error {
		_, err := exchange[tencentim.ImportMsgResponse](ctx, e.client, tencentim.CmdImportMsg, req)
		return err
	}, nil)
	switch {
	case err == nil:
		e.confirm(PhaseDirectMessages, key, r.Item, OutcomeImported)
		return nil
	case stops(ctx, err):
		return err
	}
	return e.rejectErr(PhaseDirectMessages, key, r.Item, err)
}

// heldOutcome is the outcome of a record sent to the target: present when the
// target held it before (firstcontact.go).
func heldOutcome(held bool) Outcome {
	if held {
		return OutcomePresent
	}
	return OutcomeImported
}

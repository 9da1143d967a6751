package load

import (
	"context"
	"errors"
	"fmt"

	"github.com/immigrate/immigrate/tencentim"
)

// ---- accounts (spec §3.4, §3.5) ----

func (e *Engine) runAccounts(ctx context.Context, src Source) error {
	p := pool[Account]{workers: e.cfg.Workers, send: e.sendAccounts}
	return p.run(ctx, func(ctx context.Context, emit func([]Account) error) error {
		multi := batchByKey[Account]{max: tencentim.MaxMultiAccountImport, emit: emit}
		err := e.drained(PhaseAccounts, src.Accounts(ctx, func(a Account) error {
			if ok, err := e.admit(ctx, PhaseAccounts, "", &a.Item); !ok {
				return err
			}
			if !e.cfg.UseMultiAccount || a.Req.Nick != "" || a.Req.FaceURL != "" {
				return emit([]Account{a})
			}
			return multi.add("", a)
		}))
		if err != nil {
			return err
		}
		return multi.flush()
	})
}

// sendAccounts imports a batch: one account through account_import, several
// through multiaccount_import.
func (e *Engine) sendAccounts(ctx context.Context, batch []Account) error {
	if len(batch) == 1 {
		return e.importAccount(ctx, batch[0])
	}
	return e.importAccounts(ctx, batch)
}

func (e *Engine) importAccount(ctx context.Context, a Account) error {
	err := e.call(ctx, PhaseAccounts, tencentim.CmdAccountImport, func(ctx context.Context) error {
		_, err := e.client.AccountImport(ctx, &a.Req)
		return err
	}, nil)
	switch {
	case err == nil:
		// account_import is idempotent (spec §3.4): an existing account answers OK
		// too, so "imported" here includes accounts that were already there.
		e.confirm(PhaseAccounts, "", a.Item, OutcomeImported)
		return nil
	case stops(ctx, err):
		return err
	}
	return e.rejectErr(PhaseAccounts, "", a.Item, err)
}

func (e *Engine) importAccounts(ctx context.Context, batch []Account) error {
	var resp *tencentim.MultiAccountImportResponse
	err := e.call(ctx, PhaseAccounts, tencentim.CmdMultiAccountImport, func(ctx context.Context) error {
		ids := make([]string, len(batch))
		for i, a := range batch {
			ids[i] = a.Req.UserID
		}
		var err error
		resp, err = e.client.MultiAccountImport(ctx, &tencentim.MultiAccountImportRequest{Accounts: ids})
		return err
	}, nil)
	switch {
	case err == nil:
		failed := make(map[string]bool, len(resp.FailAccounts))
		for _, id := range resp.FailAccounts {
			failed[id] = true
		}
		for _, a := range batch {
			if failed[a.Req.UserID] {
				// Design §4 rule 5: FailAccounts carries no code.
				if err := e.reject(PhaseAccounts, "", a.Item, RuleAccountFailed, "account import failed"); err != nil {
					return err
				}
				continue
			}
			e.confirm(PhaseAccounts, "", a.Item, OutcomeImported)
		}
		return nil
	case stops(ctx, err):
		return err
	case bisectable(err):
		// A request-level refusal names no account: split the batch to find the
		// ones at fault, so the others still go in.
		return bisect(ctx, batch, e.sendAccounts)
	}
	return e.rejectAll(PhaseAccounts, "", items(batch, func(a Account) Item { return a.Item }), err)
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

func items[T any](batch []T, item func(T) Item) []Item {
	out := make([]Item, len(batch))
	for i, t := range batch {
		out[i] = item(t)
	}
	return out
}

// rejectAll rejects every record of a failed call.
func (e *Engine) rejectAll(ph Phase, stream string, its []Item, err error) error {
	for _, it := range its {
		if err := e.rejectErr(ph, stream, it, err); err != nil {
			return err
		}
	}
	return nil
}

// ---- groups (spec §8.7) ----

func (e *Engine) runGroups(ctx context.Context, src Source) error {
	p := pool[Group]{workers: e.cfg.Workers, send: func(ctx context.Context, b []Group) error {
		return e.importGroup(ctx, b[0])
	}}
	return p.run(ctx, func(ctx context.Context, emit func([]Group) error) error {
		return e.drained(PhaseGroups, src.Groups(ctx, func(g Group) error {
			if ok, err := e.admit(ctx, PhaseGroups, "", &g.Item); !ok {
				return err
			}
			return emit([]Group{g})
		}))
	})
}

func (e *Engine) importGroup(ctx context.Context, g Group) error {
	var amb ambiguityTracker
	err := e.call(ctx, PhaseGroups, tencentim.CmdImportGroup, func(ctx context.Context) error {
		_, err := e.client.ImportGroup(ctx, &g.Req)
		return err
	}, amb.beforeRetry)
	var te *tencentim.Error
	switch {
	case err == nil:
		e.confirm(PhaseGroups, g.Req.GroupID, g.Item, OutcomeImported)
		return nil
	case stops(ctx, err):
		return err
	case errors.As(err, &te) && te.Code == 10021 && g.Req.GroupID != "":
		// Our GroupId is derived from the legacy id (design §4 rule 1): 10021 means
		// an earlier run imported it.
		e.confirm(PhaseGroups, g.Req.GroupID, g.Item, amb.present())
		return nil
	}
	e.markGroupFailed(g.Req.GroupID)
	return e.rejectErr(PhaseGroups, g.Req.GroupID, g.Item, err)
}

// ---- members (spec §8.8) ----

func (e *Engine) runMembers(ctx context.Context, src Source) error {
	p := pool[Member]{workers: e.cfg.Workers, send: e.importMembers}
	return p.run(ctx, func(ctx context.Context, emit func([]Member) error) error {
		b := batchByKey[Member]{max: tencentim.MaxGroupMemberBatch, emit: emit}
		err := e.drained(PhaseMembers, src.Members(ctx, func(m Member) error {
			if ok, err := e.admit(ctx, PhaseMembers, "", &m.Item); !ok {
				return err
			}
			if e.groupFailed(m.GroupID) {
				return e.rejectAbsentGroup(PhaseMembers, m.GroupID, m.Item)
			}
			return b.add(m.GroupID, m)
		}))
		if err != nil {
			return err
		}
		return b.flush()
	})
}

func (e *Engine) importMembers(ctx context.Context, batch []Member) error {
	groupID := batch[0].GroupID
	var resp *tencentim.ImportGroupMemberResponse
	var amb ambiguityTracker
	err := e.call(ctx, PhaseMembers, tencentim.CmdImportGroupMember, func(ctx context.Context) error {
		req := tencentim.ImportGroupMemberRequest{GroupID: groupID, MemberList: make([]tencentim.ImportMember, len(batch))}
		for i, m := range batch {
			req.MemberList[i] = m.M
		}
		var err error
		resp, err = e.client.ImportGroupMember(ctx, &req)
		return err
	}, amb.beforeRetry)
	switch {
	case err == nil:
		results := make(map[string]int, len(resp.MemberList))
		for _, r := range resp.MemberList {
			results[r.MemberAccount] = r.Result
		}
		for _, m := range batch {
			r, ok := results[m.M.MemberAccount]
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
		return bisect(ctx, batch, e.importMembers)
	}
	return e.rejectAll(PhaseMembers, groupID, items(batch, func(m Member) Item { return m.Item }), err)
}

// ---- unread counts (spec §8.10) ----

func (e *Engine) runUnread(ctx context.Context, src Source) error {
	p := pool[Unread]{workers: e.cfg.Workers, send: func(ctx context.Context, b []Unread) error {
		return e.setUnread(ctx, b[0])
	}}
	return p.run(ctx, func(ctx context.Context, emit func([]Unread) error) error {
		return e.drained(PhaseUnread, src.Unread(ctx, func(u Unread) error {
			if ok, err := e.admit(ctx, PhaseUnread, "", &u.Item); !ok {
				return err
			}
			if e.groupFailed(u.Req.GroupID) {
				return e.rejectAbsentGroup(PhaseUnread, u.Req.GroupID, u.Item)
			}
			return emit([]Unread{u})
		}))
	})
}

func (e *Engine) setUnread(ctx context.Context, u Unread) error {
	err := e.call(ctx, PhaseUnread, tencentim.CmdSetUnreadMsgNum, func(ctx context.Context) error {
		_, err := e.client.SetUnreadMsgNum(ctx, &u.Req)
		return err
	}, nil)
	switch {
	case err == nil:
		e.confirm(PhaseUnread, u.Req.GroupID, u.Item, OutcomeImported)
		return nil
	case stops(ctx, err):
		return err
	}
	return e.rejectErr(PhaseUnread, u.Req.GroupID, u.Item, err)
}

// ---- one-to-one messages (spec §7.1) ----

func (e *Engine) runDirectMessages(ctx context.Context, src Source) error {
	s := streamer[DirectMessage]{
		streams: e.cfg.Streams,
		budget:  e.cfg.Streams * 64,
		batch:   1,
		key:     func(m DirectMessage) string { return conversationKey(m.Req.FromAccount, m.Req.ToAccount) },
		send: func(ctx context.Context, key string, b []DirectMessage) error {
			return e.importDirect(ctx, key, b[0])
		},
	}
	return s.run(ctx, func(ctx context.Context, fn func(DirectMessage) error) error {
		return e.drained(PhaseDirectMessages, src.DirectMessages(ctx, func(m DirectMessage) error {
			if ok, err := e.admit(ctx, PhaseDirectMessages, conversationKey(m.Req.FromAccount, m.Req.ToAccount), &m.Item); !ok {
				return err
			}
			return fn(m)
		}))
	})
}

// importDirect sends one message. A resend after a lost answer is harmless: the
// target drops a message whose (MsgSeq, MsgRandom, MsgTimeStamp) it already has
// (spec §7.1, design §4 rule 2).
func (e *Engine) importDirect(ctx context.Context, key string, m DirectMessage) error {
	err := e.call(ctx, PhaseDirectMessages, tencentim.CmdImportMsg, func(ctx context.Context) error {
		_, err := e.client.ImportMsg(ctx, &m.Req)
		return err
	}, nil)
	switch {
	case err == nil:
		e.confirm(PhaseDirectMessages, key, m.Item, OutcomeImported)
		return nil
	case stops(ctx, err):
		return err
	}
	return e.rejectErr(PhaseDirectMessages, key, m.Item, err)
}

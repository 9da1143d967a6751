package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/immigrate/immigrate/tencentim"
)

// Group messages (spec §8.9): per group, batches of at most GroupMsgBatch messages
// in the source's (send time, legacy id) order, one call in flight per group, many
// groups in parallel. A batch also closes before the message that would take its
// request body over groupMsgRequestBytes, which the target would refuse whole
// (10020); a message too large on its own goes alone and gets its own result.
//
// Resending a batch is not always harmless: a message whose SendTime is earlier
// than the group's latest fails with 10004 (design §4 rule 3), and the 300 s Random
// dedup (design §7 A4) only covers a resend of the same seconds. So before retrying
// a batch whose previous attempt may have been applied (any failure but an
// over-rate answer), the engine reads the group's latest messages back with
// group_msg_get_simple and resends only the messages that are not there. When the
// read-back is refused, it falls back to a plain resend, which the dedup covers
// for the batch it just sent; when it keeps failing until its retries run out,
// the run stops like any call would.

// errShortAnswer marks an import_group_msg answer without one result per message:
// the call cannot be trusted, so it is retried (and reconciled) like a lost answer.
var errShortAnswer = errors.New("answer has fewer results than messages")

// errReconciled ends a retry loop whose messages all turned out to be stored.
var errReconciled = errors.New("every message of the batch is already stored")

// groupMsgRequestBytes is the most bytes an import_group_msg request body may have.
// The vendor refuses a larger one whole with 10020 ("12 KB", spec §8.9 line 3348;
// the sandbox counts 12,288 bytes, design §7 A5). Batches keep to the stricter
// reading, 12,000 bytes, as spec §6.3 recommends for importmsg bodies: the
// headroom covers a target that counts 12 KB as 12,000 bytes.
const groupMsgRequestBytes = 12000

// communityPrefix starts every Community GroupId (design §7 A36); RecentContactFlag
// is not supported for them (spec §8.9).
const communityPrefix = "@TGS#_"

// groupMessage is one message of a batch, decoded.
type groupMessage struct {
	Item
	Msg tencentim.GroupMsg
}

// msgResult is the outcome of one message of a batch.
type msgResult struct {
	outcome Outcome
	rule    string // for rejects
	msg     string
}

// GroupMsgBatcher cuts group groupID's messages into import_group_msg calls of at
// most batch messages and groupMsgRequestBytes: the engine sends these batches and
// the plan counts them, with the sizes GroupMsgSize gives.
func GroupMsgBatcher(groupID string, batch int, recentContactFlag bool) Batcher {
	return batcher{max: batch, capacity: groupMsgCapacity(groupID, recentContactFlag)}
}

// GroupMsgSize is a message's share of an import_group_msg request body: its
// compact JSON as the client encodes it (json.Marshal, like the whole request,
// which is what Record.Payload holds) and the comma before the next one.
func GroupMsgSize(payload []byte) int { return len(payload) + 1 }

// groupMsgCapacity is how many bytes of messages (as groupMsgBytes counts them)
// one import_group_msg call of group groupID may carry: the request limit minus
// the envelope around MsgList, plus the comma the last message does not have.
func groupMsgCapacity(stream string, recentContactFlag bool) int {
	groupID, topicID := SplitTopicStream(stream)
	raw, err := json.Marshal(tencentim.ImportGroupMsgRequest{
		GroupID: groupID, TopicID: topicID, RecentContactFlag: contactFlag(groupID, recentContactFlag), MsgList: []tencentim.GroupMsg{},
	})
	if err != nil {
		return 0 // every message goes alone; the call reports the failure
	}
	return groupMsgRequestBytes - len(raw) + 1
}

// contactFlag is import_group_msg's RecentContactFlag for groupID when the run
// sets it (Config.RecentContactFlag): never for a Community group (spec §8.9).
func contactFlag(groupID string, enabled bool) int {
	if enabled && !strings.HasPrefix(groupID, communityPrefix) {
		return 1
	}
	return 0
}

// TopicInfix joins a topic's custom part to its community's GroupId: a custom
// TopicId is GroupId + "@TOPIC#_" + custom part (spec §8.3).
const TopicInfix = "@TOPIC#_"

// SplitTopicStream splits a group message stream into the GroupId and the TopicId
// ("" for the group's own messages). A topic's messages are a stream of their own
// keyed by the TopicId, which begins with its GroupId (spec §8.3, §8.9): each topic
// has its own order, resume mark and intents.
func SplitTopicStream(stream string) (groupID, topicID string) {
	if i := strings.Index(stream, TopicInfix); i > 0 {
		return stream[:i], stream
	}
	return stream, ""
}

// importGroupMsgs imports one batch of one group (or topic) and records every
// message's outcome, in order.
func (e *Engine) importGroupMsgs(ctx context.Context, groupID string, records []Record) error {
	batch := make([]groupMessage, len(records))
	for i, r := range records {
		msg, err := decode[tencentim.GroupMsg](PhaseGroupMessages, r)
		if err != nil {
			return err
		}
		batch[i] = groupMessage{Item: r.Item, Msg: msg}
	}
	if e.groupFailed(groupID) {
		for _, m := range batch {
			if err := e.rejectAbsentGroup(PhaseGroupMessages, groupID, m.Item); err != nil {
				return err
			}
		}
		return nil
	}
	// A batch an interrupted run may have sent is reconciled by reading the group
	// back before anything is sent (design §4 rule 3), never blindly resent.
	inDoubt := e.cfg.Checkpoint.inDoubt(groupID, batch[0].Ordinal)
	// A group that was in the target before the migration may hold some of the
	// batch already (firstcontact.go): those are present, the rest is sent.
	var held []bool
	if !inDoubt {
		var err error
		if held, err = e.groupHeld(ctx, groupID, batch); err != nil {
			return err
		}
	}
	all := batch
	if held != nil {
		batch = nil
		for i, m := range all {
			if !held[i] {
				batch = append(batch, m)
			}
		}
		if len(batch) == 0 {
			for _, m := range all {
				e.confirm(PhaseGroupMessages, groupID, m.Item, OutcomePresent)
			}
			return nil
		}
	}
	its := make([]Item, len(batch))
	for i, m := range batch {
		its[i] = m.Item
	}
	if err := e.cfg.Checkpoint.intent(ctx, PhaseGroupMessages, groupID, its); err != nil {
		return err
	}
	if e.cfg.Hooks.OnIntent != nil {
		if err := e.cfg.Hooks.OnIntent(ctx, PhaseGroupMessages, groupID, its); err != nil {
			return err
		}
	}
	results, err := e.sendGroupMsgs(ctx, groupID, batch, inDoubt)
	if err != nil {
		return err
	}
	if held != nil {
		// The outcomes in the stream's order, the present ones in between.
		sent := results
		results = make([]msgResult, len(all))
		for i := range all {
			if held[i] {
				results[i] = msgResult{outcome: OutcomePresent}
				continue
			}
			results[i], sent = sent[0], sent[1:]
		}
		batch = all
	}
	for i, m := range batch {
		r := results[i]
		if r.outcome == OutcomeRejected {
			if err := e.reject(PhaseGroupMessages, groupID, m.Item, r.rule, r.msg); err != nil {
				return err
			}
			continue
		}
		e.confirm(PhaseGroupMessages, groupID, m.Item, r.outcome)
	}
	return nil
}

// sendGroupMsgs makes the call(s) for msgs and returns one result per message. Its
// error ends the run. inDoubt says that an interrupted run may have sent some of
// msgs: they are read back before the first attempt.
func (e *Engine) sendGroupMsgs(ctx context.Context, stream string, msgs []groupMessage, inDoubt bool) ([]msgResult, error) {
	results := make([]msgResult, len(msgs))
	pending := make([]int, len(msgs)) // indexes into msgs not yet settled
	for i := range pending {
		pending[i] = i
	}
	groupID, topicID := SplitTopicStream(stream)
	flag := contactFlag(groupID, e.cfg.RecentContactFlag)
	var resp *tencentim.ImportGroupMsgResponse
	attempt := func(ctx context.Context) error {
		req := tencentim.ImportGroupMsgRequest{GroupID: groupID, TopicID: topicID, RecentContactFlag: flag, MsgList: make([]tencentim.GroupMsg, len(pending))}
		for j, i := range pending {
			req.MsgList[j] = msgs[i].Msg
		}
		var err error
		resp, err = exchange[tencentim.ImportGroupMsgResponse](ctx, e.client, tencentim.CmdImportGroupMsg, &req)
		if err == nil && len(resp.ImportMsgResult) != len(pending) {
			return &tencentim.Error{API: tencentim.CmdImportGroupMsg, Err: errShortAnswer}
		}
		return err
	}
	// reconcile drops from pending the messages the group already holds;
	// errReconciled when none is left.
	reconcile := func(stored []bool) error {
		kept := pending[:0]
		for j, i := range pending {
			if stored[j] {
				results[i] = msgResult{outcome: OutcomeImported}
				continue
			}
			kept = append(kept, i)
		}
		pending = kept
		if len(pending) == 0 {
			return errReconciled
		}
		return nil
	}
	beforeRetry := func(ctx context.Context, prev error) error {
		if !ambiguous(prev) {
			return nil
		}
		stored, err := e.readBack(ctx, stream, msgs, pending, len(pending))
		if err != nil {
			if stops(ctx, err) {
				return err
			}
			return nil // resend; the Random dedup covers it (design §7 A4)
		}
		return reconcile(stored)
	}

	var err error
	if inDoubt {
		// After a crash the batch that was in flight may have had another size
		// (group_msg_batch may change between runs): read back as far as the API
		// allows, which covers any batch (≤ 7, design §7 A1). A failed read-back
		// stops the run rather than risk a blind resend; the next run retries it.
		stored, rerr := e.readBack(ctx, stream, msgs, pending, tencentim.MaxGroupMsgGetSimple)
		if rerr != nil {
			if stops(ctx, rerr) {
				return nil, rerr
			}
			return nil, fmt.Errorf("reconcile group %s after an interrupted run: %w", stream, rerr)
		}
		err = reconcile(stored)
	}
	if err == nil {
		err = e.call(ctx, PhaseGroupMessages, tencentim.CmdImportGroupMsg, attempt, beforeRetry)
	}
	var te *tencentim.Error
	switch {
	case errors.Is(err, errReconciled):
		return results, nil
	case err == nil:
		// Per-message results in request order (spec §8.9, design §4 rule 5).
		for j, r := range resp.ImportMsgResult {
			i := pending[j]
			if r.Result == 0 {
				results[i] = msgResult{outcome: OutcomeImported}
				continue
			}
			results[i] = msgResult{outcome: OutcomeRejected, rule: codeRule(r.Result),
				msg: fmt.Sprintf("import_group_msg answered Result %d (%s) for this message", r.Result, tencentim.CodeText(r.Result))}
		}
		return results, nil
	case stops(ctx, err):
		return nil, err
	case errors.As(err, &te) && (te.Code == 10007 || te.Code == 10010 || te.Code == 10015):
		// The group (or the topic) itself is refused: the rest of its stream would
		// be too.
		e.markGroupFailed(stream)
	case bisectable(err) && len(pending) > 1:
		// A request-level refusal (e.g. 10004 for an element type) names no
		// message: send the halves in order to find the ones at fault.
		sub := make([]groupMessage, len(pending))
		for j, i := range pending {
			sub[j] = msgs[i]
		}
		mid := len(sub) / 2
		first, err := e.sendGroupMsgs(ctx, stream, sub[:mid], false)
		if err != nil {
			return nil, err
		}
		second, err := e.sendGroupMsgs(ctx, stream, sub[mid:], false)
		if err != nil {
			return nil, err
		}
		for j, r := range append(first, second...) {
			results[pending[j]] = r
		}
		return results, nil
	}
	rule, msg := describe(err)
	for _, i := range pending {
		results[i] = msgResult{outcome: OutcomeRejected, rule: rule, msg: msg}
	}
	return results, nil
}

// readBack reports which of msgs[pending] are among the group's latest n messages
// (at most MaxGroupMsgGetSimple). The engine is the only writer of its groups and
// sends one batch per group at a time, so a batch that was applied sits at the end
// of the group's history.
func (e *Engine) readBack(ctx context.Context, stream string, msgs []groupMessage, pending []int, n int) ([]bool, error) {
	groupID, topicID := SplitTopicStream(stream)
	var resp *tencentim.GroupMsgGetSimpleResponse
	err := e.call(ctx, PhaseGroupMessages, tencentim.CmdGroupMsgGetSimple, func(ctx context.Context) error {
		var err error
		resp, err = exchange[tencentim.GroupMsgGetSimpleResponse](ctx, e.client, tencentim.CmdGroupMsgGetSimple, &tencentim.GroupMsgGetSimpleRequest{
			GroupID:      groupID,
			TopicID:      topicID, // a topic's history is its own (spec §8.14, §14 item 66)
			ReqMsgNumber: min(n, tencentim.MaxGroupMsgGetSimple),
		})
		return err
	}, nil)
	if err != nil {
		return nil, err
	}
	stored := make([]bool, len(pending))
	latest := resp.Messages()
	used := make([]bool, len(latest))
	for j, i := range pending {
		for k, s := range latest {
			if !used[k] && sameGroupMsg(msgs[i].Msg, s) {
				stored[j], used[k] = true, true
				break
			}
		}
	}
	return stored, nil
}

// sameGroupMsg reports whether stored is the message m: same sender, second and
// Random (derived from the legacy id, design §4 rule 2); the body decides when
// there is no Random.
func sameGroupMsg(m tencentim.GroupMsg, stored tencentim.SimpleGroupMsg) bool {
	if stored.IsPlaceMsg != 0 || m.FromAccount != stored.FromAccount || m.SendTime != stored.MsgTimeStamp || m.Random != stored.MsgRandom {
		return false
	}
	if m.Random != 0 {
		return true
	}
	a, err1 := json.Marshal(m.MsgBody)
	b, err2 := json.Marshal(stored.MsgBody)
	if err1 != nil || err2 != nil {
		return false
	}
	var ca, cb bytes.Buffer
	return json.Compact(&ca, a) == nil && json.Compact(&cb, b) == nil && bytes.Equal(ca.Bytes(), cb.Bytes())
}

package load

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/tencentim"
)

// First contact with a populated target (issue 9 item 2, design §4). A new
// checkpoint says nothing of what the target already holds: a migration whose
// checkpoint was lost, or an earlier tool, may have imported the data. The engine
// learns it where the API can tell, and counts what it finds as already present,
// never as imported or rejected:
//
//   - Accounts. Before the first batch of an accounts phase that starts from
//     scratch, account_check (spec §3.6) probes the batch. When an account is
//     already imported, the target is populated (recorded: PhasePopulated), and
//     every batch is checked: its imported accounts count as present. They are
//     still sent, as account_import is idempotent (spec §3.4) and carries the
//     nick and face URL.
//   - Groups and topics. 10021 (the GroupId or TopicId is taken, spec §8.7,
//     §8.11) on a first attempt says the group was there before this run: it is
//     recorded (PhasePresentGroups), and before the first batch of each of its
//     message streams in a run that was not interrupted mid-batch, its history is
//     read back (group_msg_get_simple, spec §8.14) as far as the stream's next
//     message: a message the group holds (same sender, second and Random, design
//     §4 rule 2) counts as present and is not sent. What remains is sent as
//     usual: a message not later than the group's history is then refused with
//     10004 (spec §8.9) and reported, never silently dropped.
//   - Members. Result 2, already a member (spec §8.8), counts as present.
//   - One-to-one messages, on a populated target: each conversation is read back
//     (admin_getroammsg, spec §7.2) over its messages' times within the roaming
//     retention (Config.RoamingDays); a message found by (MsgSeq, MsgRandom) and
//     time counts as present and is not sent. An older one cannot be read back:
//     it is sent, and the target's dedup (spec §7.1) drops it if it is there;
//     Summary.SentPastRetention counts them, as "imported or deduplicated".
//   - Friends, on a populated target: each user's list is read back (friend_get,
//     spec §5.3); the friends it lists count as present (still sent: friend_import
//     replaces a friend, spec §5.1).

// PhasePresentGroups is the checkpoint pseudo-phase recording the groups and
// topics that were in the target before the migration imported them: one mark per
// GroupId (or TopicId), with no counts.
const PhasePresentGroups = "groups.present"

// PhasePopulated is the checkpoint pseudo-phase whose one mark records that the
// accounts probe found the target populated.
const PhasePopulated = "target.populated"

// firstContact is what the engine learned of a populated target in this run.
type firstContact struct {
	probe     sync.Once
	populated atomic.Bool
	pastRet   atomic.Int64 // one-to-one messages sent past the retention to a populated target

	mu     sync.Mutex
	groups map[string]bool            // groups and topics present before the migration
	held   map[string]map[string]bool // stream → the keys of the messages the target holds
}

func newFirstContact() *firstContact {
	return &firstContact{groups: map[string]bool{}, held: map[string]map[string]bool{}}
}

func (fc *firstContact) markGroup(id string) {
	fc.mu.Lock()
	fc.groups[id] = true
	fc.mu.Unlock()
}

// groupPresent reports whether the stream's group (or topic) was in the target
// before the migration imported it.
func (fc *firstContact) groupPresent(stream string) bool {
	group, _ := SplitTopicStream(stream)
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.groups[stream] || fc.groups[group]
}

// heldSet returns the stream's keys read back in this run, and whether they were.
func (fc *firstContact) heldSet(stream string) (map[string]bool, bool) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	h, ok := fc.held[stream]
	return h, ok
}

func (fc *firstContact) setHeld(stream string, h map[string]bool) {
	fc.mu.Lock()
	fc.held[stream] = h
	fc.mu.Unlock()
}

// ---- accounts ----

// accountsHeld returns which of ids the target holds already, when the target is
// populated (nil otherwise, or when account_check is refused: the accounts then
// count as imported). Its error ends the run.
func (e *Engine) accountsHeld(ctx context.Context, ids []string) (map[string]bool, error) {
	fc := e.fc
	var probed map[string]bool
	var perr error
	fc.probe.Do(func() {
		cp := e.cfg.Checkpoint
		if cp.populatedTarget() {
			fc.populated.Store(true)
			return
		}
		if !cp.startsFresh(PhaseAccounts) {
			return // this migration imported accounts already: they are its own
		}
		probed, perr = e.accountCheck(ctx, ids)
		if len(probed) > 0 {
			fc.populated.Store(true)
			cp.recordPopulated()
		}
	})
	switch {
	case perr != nil:
		return nil, perr
	case probed != nil:
		return probed, nil
	case !fc.populated.Load():
		return nil, nil
	}
	return e.accountCheck(ctx, ids)
}

// accountCheck asks account_check which of ids are imported (spec §3.6: at most
// 100 per request, as the accounts batches are).
func (e *Engine) accountCheck(ctx context.Context, ids []string) (map[string]bool, error) {
	req := tencentim.AccountCheckRequest{CheckItem: make([]tencentim.AccountCheckItem, len(ids))}
	for i, id := range ids {
		req.CheckItem[i] = tencentim.AccountCheckItem{UserID: id}
	}
	resp, err := readCall[tencentim.AccountCheckResponse](ctx, e, PhaseAccounts, tencentim.CmdAccountCheck, &req)
	switch {
	case stops(ctx, err):
		return nil, err
	case err != nil:
		return nil, nil // unknown: the accounts count as imported
	}
	held := map[string]bool{}
	for _, r := range resp.ResultItem {
		if r.ResultCode == 0 && r.AccountStatus == tencentim.AccountImported {
			held[r.UserID] = true
		}
	}
	return held, nil
}

// ---- group messages ----

func groupMsgKey(from string, t int64, random uint32) string {
	return fmt.Sprintf("%s\x00%d\x00%d", from, t, random)
}

// groupHeld returns which of msgs the group (or topic) of stream held before this
// run, when it was in the target before the migration; nil otherwise. The history
// is read once per stream and run, back to the first message asked about.
func (e *Engine) groupHeld(ctx context.Context, stream string, msgs []groupMessage) ([]bool, error) {
	if !e.fc.groupPresent(stream) {
		return nil, nil
	}
	held, ok := e.fc.heldSet(stream)
	if !ok {
		since := msgs[0].Msg.SendTime
		held = map[string]bool{}
		groupID, topicID := SplitTopicStream(stream)
		err := tencentim.WalkGroupHistory(ctx, tencentim.GroupMsgGetSimpleRequest{GroupID: groupID, TopicID: topicID},
			func(ctx context.Context, req *tencentim.GroupMsgGetSimpleRequest) (*tencentim.GroupMsgGetSimpleResponse, error) {
				return readCall[tencentim.GroupMsgGetSimpleResponse](ctx, e, PhaseGroupMessages, tencentim.CmdGroupMsgGetSimple, req)
			},
			func(page []tencentim.SimpleGroupMsg) bool {
				older := false
				for _, m := range page {
					held[groupMsgKey(m.FromAccount, m.MsgTimeStamp, m.MsgRandom)] = true
					older = older || m.MsgTimeStamp < since
				}
				return !older
			})
		if err != nil {
			if stops(ctx, err) {
				return nil, err
			}
			return nil, fmt.Errorf("read back group %s, which was in the target before this migration: %w", stream, err)
		}
		e.fc.setHeld(stream, held)
	}
	out := make([]bool, len(msgs))
	for i, m := range msgs {
		out[i] = held[groupMsgKey(m.Msg.FromAccount, m.Msg.SendTime, m.Msg.Random)]
	}
	return out, nil
}

// ---- one-to-one messages ----

func directMsgKey(seq, random uint32, t int64) string {
	return fmt.Sprintf("%d\x00%d\x00%d", seq, random, t)
}

// directHeld reports whether the target held the one-to-one message m of stream
// before this run, when the target is populated. The conversation is read back
// once per run, from m's time (the stream's first in this run) to its end.
func (e *Engine) directHeld(ctx context.Context, stream string, payload []byte) (bool, error) {
	if !e.fc.populated.Load() {
		return false, nil
	}
	var m tencentim.ImportMsgRequest
	if err := json.Unmarshal(payload, &m); err != nil {
		return false, fmt.Errorf("%s: decode a record of stream %s: %w", PhaseDirectMessages, stream, err)
	}
	var cutoff int64
	if d := e.cfg.RoamingDays; d > 0 {
		cutoff = e.now().AddDate(0, 0, -d).Unix()
	}
	if m.MsgTimeStamp < cutoff {
		e.fc.pastRet.Add(1)
		return false, nil
	}
	held, ok := e.fc.heldSet(stream)
	if !ok {
		held = map[string]bool{}
		a, b, _ := strings.Cut(stream, "\x00")
		err := tencentim.WalkRoam(ctx, tencentim.AdminGetRoamMsgRequest{OperatorAccount: a, PeerAccount: b, MinTime: m.MsgTimeStamp, MaxTime: e.now().Unix()},
			func(ctx context.Context, req *tencentim.AdminGetRoamMsgRequest) (*tencentim.AdminGetRoamMsgResponse, error) {
				return readCall[tencentim.AdminGetRoamMsgResponse](ctx, e, PhaseDirectMessages, tencentim.CmdAdminGetRoamMsg, req)
			},
			func(page []tencentim.RoamMsg) bool {
				for _, r := range page {
					held[directMsgKey(r.MsgSeq, r.MsgRandom, r.MsgTimeStamp)] = true
				}
				return true
			})
		switch {
		case stops(ctx, err):
			return false, err
		case err != nil:
			// A refused read (an account the target does not have): nothing of
			// the conversation is there.
		}
		e.fc.setHeld(stream, held)
	}
	return held[directMsgKey(m.MsgSeq, m.MsgRandom, m.MsgTimeStamp)], nil
}

// ---- friends ----

// friendsHeld returns from's friends in the target before this run, when the
// target is populated (nil otherwise): friend_get (spec §5.3) pages the list once
// per user and run. friend_import replaces a friend (spec §5.1), so they are still
// sent; they count as present.
func (e *Engine) friendsHeld(ctx context.Context, from string) (map[string]bool, error) {
	if !e.fc.populated.Load() {
		return nil, nil
	}
	if held, ok := e.fc.heldSet(friendsKey + from); ok {
		return held, nil
	}
	held := map[string]bool{}
	req := tencentim.FriendGetRequest{FromAccount: from}
	for {
		resp, err := readCall[tencentim.FriendGetResponse](ctx, e, PhaseFriends, tencentim.CmdFriendGet, &req)
		if stops(ctx, err) {
			return nil, err
		}
		if err != nil {
			break // refused (the account has no list): nothing is there
		}
		for _, u := range resp.UserDataItem {
			held[u.ToAccount] = true
		}
		if resp.CompleteFlag != 0 || len(resp.UserDataItem) == 0 || resp.NextStartIndex <= req.StartIndex {
			break
		}
		req.StartIndex = resp.NextStartIndex
	}
	e.fc.setHeld(friendsKey+from, held)
	return held, nil
}

// friendsKey prefixes a user's friend list among the read-back streams.
const friendsKey = "friends\x00"

// readCall makes one read call of the first contact, paced and retried like the
// phase's own calls.
func readCall[T any](ctx context.Context, e *Engine, ph Phase, cmd tencentim.Command, req any) (*T, error) {
	var resp *T
	err := e.call(ctx, ph, cmd, func(ctx context.Context) error {
		var err error
		resp, err = exchange[T](ctx, e.client, cmd, req)
		return err
	}, nil)
	return resp, err
}

// ---- the checkpoint's side ----

// startsFresh reports whether ph has no progress in the checkpoint (true without
// one).
func (cp *Checkpoint) startsFresh(ph Phase) bool {
	if cp == nil {
		return true
	}
	_, marked := cp.batch[ph]
	return !cp.done[ph] && !cp.marked[ph] && !marked && cp.base[ph] == (checkpoint.Counts{})
}

func (cp *Checkpoint) populatedTarget() bool { return cp != nil && cp.populated }

func (cp *Checkpoint) recordPopulated() {
	if cp == nil {
		return
	}
	cp.w.Confirm(checkpoint.Mark{Phase: PhasePopulated}, checkpoint.Counts{})
}

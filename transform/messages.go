package transform

import (
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

// GroupMessageResult is the outcome of one group message.
type GroupMessageResult struct {
	GroupID string
	// Stream is the message's stream: the GroupId, or the TopicId of a topic's
	// message (load.SplitTopicStream).
	Stream string
	Msg    tencentim.GroupMsg
	// Parts are the messages a split made (policies.oversize: split), in
	// order, Msg being Parts[0]; nil when the message was not split.
	Parts  []tencentim.GroupMsg `json:",omitempty"`
	OK     bool
	Issues []Issue
}

// DirectMessageResult is the outcome of one direct (C2C) message.
type DirectMessageResult struct {
	Msg tencentim.ImportMsgRequest
	// Parts are the messages a split made (policies.oversize: split), in
	// order, Msg being Parts[0]; nil when the message was not split.
	Parts []tencentim.ImportMsgRequest `json:",omitempty"`
	// ToGroup is set, instead of Msg, for a self-message under
	// policies.self_messages: to_group: the message of its user's group.
	ToGroup *SelfGroupResult `json:",omitempty"`
	OK      bool
	Issues  []Issue
}

// GroupMessage checks one group message (pass 4, in (group_id, sent_at, id) order).
func (t *Transformer) GroupMessage(m extract.Message) GroupMessageResult {
	is := newIssues(extract.GroupMessages, m.Origin, m.ID, "")
	gs := t.group(m.GroupID)
	if t.groupRefIssue(&is, gs, m.GroupID, RuleGroupMessageGroupUnknown, RuleGroupMessageGroupRejected, "spec §8.9") {
		return GroupMessageResult{Issues: is.list}
	}
	var ts *topicState
	if m.TopicID != "" {
		if ts = t.topicOf(&is, &m); ts == nil {
			return GroupMessageResult{Issues: is.list}
		}
	}
	if m.GroupID != t.gmGroup || m.TopicID != t.gmTopic {
		// A topic is a message sequence of its own (spec §8.9, §14 item 66).
		t.gmGroup, t.gmTopic = m.GroupID, m.TopicID
		t.window.reset()
	}
	res := GroupMessageResult{GroupID: gs.req.GroupID, Stream: gs.req.GroupID}
	last := gs.lastMsg
	if ts != nil {
		res.Stream, last = ts.req.TopicID, ts.lastMsg
	}

	if !t.groupMsgSeen.Add(fingerprint(m.ID)) {
		is.add(RuleMessageIDDuplicate, "group message id %s appears more than once; only its first record can be imported", shown(m.ID))
	}
	sender, r := t.resolveUser(m.SenderID, nil)
	t.userRefIssue(&is, r, m.SenderID, "sender", RuleGroupMessageSenderUnknown, RuleGroupMessageSenderRejected, "spec §8.9, design §7 A14")

	sec := t.sendTime(&is, m.SentAt)
	if sec > 0 && sec < last {
		is.add(RuleGroupMessageOutOfOrder, "send time %s is before the group's previous message at %s; import_group_msg needs ascending times (spec §8.9, design §7 A2)", fmtTime(m.SentAt), fmtUnix(last))
	}

	body := t.richBody(&m, true, &is)
	var parts [][]tencentim.MsgElem
	if body != nil {
		// import_group_msg does not document CloudCustomData (spec §8.9): it is
		// not sent, and said so, rather than trusted to a field TIM may drop.
		if cloud, ok := t.cloudData(&m, &is); ok && cloud != "" {
			is.add(RuleGroupMessageCloudDropped, "CloudCustomData %s left out: import_group_msg does not document it (spec §8.9)", shown(cloud))
		}
		body, parts = t.fitOrSplit(body, "", &is)
	}

	if !is.rejected && gs.req.CreateTime != 0 && sec <= gs.req.CreateTime && t.createTime == PolicyReject {
		// import_group_msg needs SendTime after the group's CreateTime (spec §8.9,
		// design §7 A2); the policy refuses to move CreateTime, so the group falls.
		gs.conflict = true
		gs.conflictBy = "message " + shown(m.ID) + " sent at " + fmtUnix(sec)
		t.groupRefIssue(&is, gs, m.GroupID, "", "", "")
	}
	if is.rejected {
		return GroupMessageResult{GroupID: res.GroupID, Issues: is.list}
	}
	if gs.dm != nil && !t.dmSender(&is, gs, sender, m.SenderID) {
		return GroupMessageResult{GroupID: res.GroupID, Issues: is.list}
	}

	random, salted := t.window.pick(m.ID, sec)
	if salted {
		is.add(RuleGroupMessageRandomRehashed, "Random %d of message %s repeats within 300 s in group %s, which would make the server drop it (design §7 A4); used %d", GroupRandom(m.ID), shown(m.ID), shown(m.GroupID), random)
	}
	res.Msg = tencentim.GroupMsg{FromAccount: sender, SendTime: sec, Random: random, MsgBody: body}
	if len(parts) > 1 {
		res.Parts = t.groupParts(m.ID, res.Msg, parts)
	}
	gs.messages++
	if gs.firstMsg == 0 || sec < gs.firstMsg {
		// A topic's messages come after the group's own, and may be earlier.
		gs.firstMsg = sec
	}
	if ts != nil {
		ts.messages++
		if ts.firstMsg == 0 {
			ts.firstMsg = sec
		}
		ts.lastMsg = max(ts.lastMsg, sec)
	} else {
		gs.lastMsg = max(gs.lastMsg, sec)
	}
	if r == refImplied {
		t.commitImplied(&is, []string{m.SenderID}, []string{sender})
	}
	res.OK, res.Issues = true, is.list
	return res
}

// sendTime checks a message time: after 1970 and before now (spec §7.1 A32, §8.9).
// It returns the Unix seconds, or 0 with a Reject issue.
func (t *Transformer) sendTime(is *issueList, at time.Time) int64 {
	sec := at.Unix()
	switch {
	case at.IsZero() || sec <= 0:
		is.add(RuleMessageTimeInvalid, "send time %s is not after 1970-01-01", fmtTime(at))
		return 0
	case sec >= t.now:
		is.add(RuleMessageTimeFuture, "send time %s is not before now (%s) (spec §7.1 A32, §8.9)", fmtTime(at), fmtUnix(t.now))
		return 0
	}
	return sec
}

// DirectMessage checks one direct message (pass 5, in (conversation, sent_at, id)
// order).
func (t *Transformer) DirectMessage(m extract.Message) DirectMessageResult {
	is := newIssues(extract.DirectMessages, m.Origin, m.ID, "")

	// The rank counts every record of the conversation's second, accepted or not,
	// so that it depends on the legacy data alone.
	lo, hi := extract.ConversationKey(m.SenderID, m.RecipientID)
	sec := m.SentAt.Unix()
	if !t.dmStarted || lo != t.dmLo || hi != t.dmHi {
		t.dmStarted, t.dmLo, t.dmHi, t.dmSec, t.dmRank = true, lo, hi, sec, 0
	} else if sec == t.dmSec {
		t.dmRank++
	} else {
		t.dmSec, t.dmRank = sec, 0
	}
	rank := t.dmRank

	if !t.directMsgSeen.Add(fingerprint(m.ID)) {
		is.add(RuleMessageIDDuplicate, "direct message id %s appears more than once; only its first record can be imported", shown(m.ID))
	}
	var pending [2]string
	pendingLegacy := [2]string{m.SenderID, m.RecipientID}
	np := 0
	if m.SenderID == m.RecipientID {
		if t.selfMessages == PolicyToGroup {
			return t.selfMessage(m, is)
		}
		is.add(RuleDirectMessageSelf, "sender and recipient are both %s; TIM has no conversation with oneself", shown(m.SenderID))
	}
	from, r := t.resolveUser(m.SenderID, nil)
	t.userRefIssue(&is, r, m.SenderID, "sender", RuleDirectMessageSenderUnknown, RuleDirectMessageSenderRejected, "spec §7.1 (90008)")
	if r == refImplied {
		pending[np] = from
		np++
	}
	to, r2 := t.resolveUser(m.RecipientID, pending[:np])
	t.userRefIssue(&is, r2, m.RecipientID, "recipient", RuleDirectMessageRecipientUnknown, RuleDirectMessageRecipientRejected, "spec §7.1 (90012)")

	sec = t.sendTime(&is, m.SentAt)
	body := t.richBody(&m, false, &is)
	var cloud string
	var parts [][]tencentim.MsgElem
	var clouds []string
	if body != nil {
		var ok bool
		if cloud, ok = t.cloudData(&m, &is); ok {
			// importmsg carries one message; with UserIDs of at most 32 bytes the
			// rest of the request stays under 300 bytes, so a body and
			// CloudCustomData within 12,000 keep the request under the 12,288 of
			// 93000 (design §7 A5).
			if t.oversize == PolicySplit && bodySize(body)+len(cloud) > tencentim.MaxMsgBodyBytes {
				parts, clouds = t.splitBody(body, func(p, n int) string {
					c, _ := t.cloudDataPart(&m, p, n, &is) // reactions are valid: cloudData checked them
					return c
				}, &is)
				body = nil
				if parts != nil {
					body, cloud = parts[0], clouds[0]
				}
			} else {
				body = t.fitSize(body, cloud, &is)
			}
		}
	}
	if is.rejected {
		return DirectMessageResult{Issues: is.list}
	}

	seq, random := C2CIdentity(m.ID, rank)
	sync := t.syncDefault
	if !t.realtimeAfter.IsZero() && !m.SentAt.Before(t.realtimeAfter) {
		sync = tencentim.SyncRealtime
	}
	res := DirectMessageResult{OK: true, Msg: tencentim.ImportMsgRequest{
		SyncFromOldSystem: sync,
		FromAccount:       from,
		ToAccount:         to,
		MsgSeq:            seq,
		MsgRandom:         random,
		MsgTimeStamp:      sec,
		MsgBody:           body,
		CloudCustomData:   cloud,
	}}
	if len(parts) > 1 {
		res.Parts = directParts(m.ID, rank, res.Msg, parts, clouds)
		res.Msg = res.Parts[0]
		// The parts took ranks rank..rank+n-1 of the second (split.go).
		t.dmRank += len(parts) - 1
	}
	if r == refImplied || r2 == refImplied {
		var legacy, target []string
		if r == refImplied {
			legacy, target = append(legacy, pendingLegacy[0]), append(target, from)
		}
		if r2 == refImplied {
			legacy, target = append(legacy, pendingLegacy[1]), append(target, to)
		}
		t.commitImplied(&is, legacy, target)
	}
	res.Issues = is.list
	return res
}

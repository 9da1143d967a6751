package sandbox

import (
	"fmt"

	"github.com/immigrate/immigrate/tencentim"
)

// maxGroupMsgBatch is the most messages import_group_msg takes (A1, default 7).
func (s *Server) maxGroupMsgBatch() int {
	if s.cfg.MaxGroupMsgBatch > 0 {
		return s.cfg.MaxGroupMsgBatch
	}
	return tencentim.MaxGroupMsgBatch
}

// incomingGroupMsg is one validated message of an import_group_msg request.
type incomingGroupMsg struct {
	from     string
	sendTime int64
	random   uint32
	body     []byte // compacted MsgBody
}

// handleImportGroupMsg serves import_group_msg (spec §8.9, §14 items 51-62, 66).
//
// The whole request is validated before anything is stored, so a request-level
// error (10004, 10007, 10010, 10015; 10020 comes from the gateway's body cap)
// changes nothing. Each message then gets its own Result, in request order:
//   - 10004 when From_Account is not an imported account (A14/A15: the sender must
//     exist but need not be a member; failing the message rather than the batch
//     keeps the other messages of a batch importable);
//   - 80002 when the serialized MsgBody exceeds 12,000 bytes (A5, item 58);
//   - 10004 when SendTime is not after the group's (or topic's) CreateTime, not
//     before now, or earlier than the latest stored message — equal is allowed
//     unless Config.StrictTime (design §7 A2, A3; items 52-55). Later messages are
//     checked against the last message actually stored;
//   - 0 with the stored MsgSeq and MsgTime when a message with the same non-zero
//     Random was stored within the previous 300 s of SendTime (A4, item 61): the
//     duplicate is dropped. The time rule is checked first, so a resent batch older
//     than the group's latest message fails with 10004, as design §4.3 expects;
//   - 0 with a new MsgSeq otherwise.
func handleImportGroupMsg(s *Server, c *call) (any, *apiError) {
	gr, err := s.groups.liveArg(c.fields)
	if err != nil {
		return nil, err
	}
	if gr.typ == tencentim.GroupAVChatRoom {
		return nil, errf(codeGroupNoPermission, "import_group_msg does not serve AVChatRoom groups") // item 59
	}
	bad := codeGroupBadParam
	flag, err := c.int64("RecentContactFlag", false, bad, bad)
	if err != nil {
		return nil, err
	}
	if flag != 0 && flag != 1 {
		return nil, errf(bad, "RecentContactFlag must be 0 or 1")
	}
	stream, floor, err := gr.stream(c.fields)
	if err != nil {
		return nil, err
	}
	list, err := c.objects("MsgList", true, bad, bad)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errf(bad, "MsgList is empty")
	}
	if n := s.maxGroupMsgBatch(); len(list) > n {
		return nil, errf(bad, fmt.Sprintf("MsgList holds more than %d messages", n)) // item 56, A1
	}
	msgs := make([]incomingGroupMsg, len(list))
	for i, f := range list {
		if msgs[i], err = parseGroupMsg(f); err != nil {
			err.Info = fmt.Sprintf("MsgList[%d]: %s", i, err.Info)
			return nil, err
		}
	}

	now := c.now.Unix()
	resp := &tencentim.ImportGroupMsgResponse{ImportMsgResult: make([]tencentim.ImportMsgResult, len(msgs))}
	stored := false
	for i, m := range msgs {
		res := &resp.ImportMsgResult[i]
		res.MsgTime = m.sendTime
		last := stream.lastTime()
		switch {
		case !s.users.exists(m.from):
			res.Result = codeGroupBadParam
		case len(m.body) > tencentim.MaxMsgBodyBytes:
			res.Result = codeGroupMsgTooLarge
		case m.sendTime <= floor || m.sendTime >= now || m.sendTime < last ||
			(s.cfg.StrictTime && m.sendTime == last):
			res.Result = codeGroupBadParam
		default:
			if seq, dup := stream.duplicate(m.random, m.sendTime); dup {
				res.MsgSeq, res.MsgTime = seq, stream.at(seq).sendTime
				continue
			}
			res.MsgSeq = stream.append(groupMsg{random: m.random, from: m.from, sendTime: m.sendTime, body: m.body})
			stored = true
			if mem := gr.members[m.from]; mem != nil {
				mem.lastSend = max(mem.lastSend, m.sendTime)
			}
		}
	}
	if stored && stream == &gr.msgs {
		// item 60: after an import every member's unread count is 0 (spec §8.9).
		// Only a request that stored something moves the read marks, so resending
		// an already imported batch does not undo a later set_unread_msg_num.
		gr.markAllRead()
	}
	if stored && flag == 1 && gr.typ != tencentim.GroupCommunity {
		// item 62; A21 (REC): ignored for Community.
		for id := range gr.members {
			s.users.touchGroupSession(id, gr.id, stream.lastTime())
		}
	}
	return resp, nil
}

// stream returns the message sequence a request's TopicId names (the group's own
// when absent) and the time every message must come after. Spec §8.9: TopicId is
// only for topic-enabled communities (A28: top-level).
func (gr *group) stream(f fields) (*msgStream, int64, *apiError) {
	id, err := f.str("TopicId", false, codeGroupBadParam, codeGroupBadParam)
	if err != nil {
		return nil, 0, err
	}
	if id == "" {
		return &gr.msgs, gr.createTime, nil
	}
	if !gr.supportTopic {
		return nil, 0, errf(codeGroupBadParam, "TopicId needs a topic-enabled Community group")
	}
	tp := gr.topics[id]
	if tp == nil {
		return nil, 0, errf(codeGroupNotFound, "topic "+id+" does not exist")
	}
	return &tp.msgs, max(gr.createTime, tp.createTime), nil
}

// parseGroupMsg validates one MsgList entry: the structure is a request-level
// matter (10004); account, size and time rules are per message.
func parseGroupMsg(f fields) (incomingGroupMsg, *apiError) {
	bad := codeGroupBadParam
	var m incomingGroupMsg
	var err *apiError
	if m.from, err = f.str("From_Account", true, bad, codeAccountType); err != nil {
		return m, err
	}
	if m.sendTime, err = f.int64("SendTime", true, bad, bad); err != nil {
		return m, err
	}
	if m.random, err = f.uint32("Random", false, bad, bad); err != nil {
		return m, err
	}
	elems, err := f.array("MsgBody", true, bad, bad)
	if err != nil {
		return m, err
	}
	// Element rules shared with importmsg (c2c.go): the MsgContent schemas of spec
	// §6.2 and at most one TIMCustomElem. Any violation, a disallowed type
	// included, fails the request (item 57 REC: request-level 10004).
	if be := checkMsgBody(elems, groupElemTypes); be != nil {
		return m, errf(bad, be.reason)
	}
	raw, _ := f.value("MsgBody")
	m.body = compactJSON(raw)
	return m, nil
}

// groupElemTypes are the only MsgTypes import_group_msg accepts (spec §6.1,
// seed lines 3250-3255).
var groupElemTypes = []string{tencentim.MsgText, tencentim.MsgFace, tencentim.MsgLocation, tencentim.MsgCustom}

package transform

import (
	"slices"
	"strings"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

// Topics of topic-enabled Community groups (spec §8.11): import_group with
// SupportTopic 1, then import_topic under a custom TopicId derived from the legacy
// ids (GroupId + "@TOPIC#_" + legacy topic id, spec §8.3; design §4 rule 1), then
// import_group_msg with TopicId. A topic's messages are a stream of their own.

// topicInfix joins a community's GroupId and a topic's custom part (spec §8.3).
const topicInfix = "@TOPIC#_"

// maxTopicPartBytes bounds the custom part of a TopicId: the seeds give no rule
// of their own, so the custom GroupId's applies (design §7 A36), as in the sandbox.
const maxTopicPartBytes = tencentim.MaxGroupIDBytes

// maxTopicNameBytes is import_topic's TopicName limit (spec §8.4, §8.11).
const maxTopicNameBytes = 30

// topicState is what the later passes need of one accepted topic.
type topicState struct {
	legacyID string
	origin   extract.Origin
	group    int32 // index in Transformer.groups
	ok       bool
	req      tencentim.ImportTopicRequest
	firstMsg int64 // earliest accepted SendTime, 0 = none
	lastMsg  int64
	messages int
}

// TopicResult is the outcome of one topic's checks; the final payload, with its
// CreateTime, comes from Topics.
type TopicResult struct {
	TopicID string
	OK      bool
	Issues  []Issue
}

// TopicFinal is one topic's final import_topic payload.
type TopicFinal struct {
	Legacy   extract.Origin
	LegacyID string
	Topic    tencentim.ImportTopicRequest
	OK       bool
	Issues   []Issue
	Messages int
}

func topicKey(groupID, topicID string) string { return groupID + "\x00" + topicID }

// Topic checks one legacy topic (after the groups, before the messages).
func (t *Transformer) Topic(tp extract.Topic) TopicResult {
	is := newIssues(extract.Topics, tp.Origin, tp.GroupID+"/"+tp.ID, "")
	is.dropped(tp.Dropped)
	key := topicKey(tp.GroupID, tp.ID)
	if _, dup := t.topicIndex[key]; dup {
		is.add(RuleTopicIDDuplicate, "topic %s of group %s appears more than once; only its first record can be imported", shown(tp.ID), shown(tp.GroupID))
		return TopicResult{Issues: is.list}
	}
	st := topicState{legacyID: tp.ID, origin: tp.Origin, group: -1}
	gs := t.group(tp.GroupID)
	if !t.groupRefIssue(&is, gs, tp.GroupID, RuleTopicGroupUnknown, RuleTopicGroupRejected, "spec §8.11") {
		st.group = t.groupIndex[tp.GroupID]
		if gs.req.SupportTopic != 1 {
			is.add(RuleTopicGroupNoTopics, "group %s is not a topic-enabled Community (type Community and support_topic); import_topic would answer 11000 (spec §8.11)", shown(tp.GroupID))
		}
		part := tp.ID
		if len(part) > maxTopicPartBytes || !printableASCII(part) {
			is.add(RuleTopicIDInvalid, "topic id %s cannot form a custom TopicId: its custom part must be 1-%d bytes of printable ASCII (spec §8.3, design §7 A36)", shown(tp.ID), maxTopicPartBytes)
		}
		st.req.GroupID = gs.req.GroupID
		st.req.TopicID = gs.req.GroupID + topicInfix + part
	}
	req := &st.req
	if tp.Name == "" {
		is.add(RuleTopicNameEmpty, "topic name is empty; import_topic requires TopicName (spec §8.11, A20)")
	}
	req.TopicName = t.limitText(&is, tp.Name, maxTopicNameBytes, "topic name", "spec §8.4", RuleTopicNameTooLong, RuleTopicNameTruncated)
	req.Introduction = t.limitText(&is, tp.Introduction, tencentim.MaxGroupIntroBytes, "topic introduction", "spec §8.4", RuleTopicTextTooLong, RuleTopicTextTruncated)
	req.Notification = t.limitText(&is, tp.Notification, tencentim.MaxGroupNotifBytes, "topic notification", "spec §8.4", RuleTopicTextTooLong, RuleTopicTextTruncated)
	req.FaceURL = t.limitText(&is, tp.FaceURL, tencentim.MaxGroupFaceURLBytes, "topic face URL", "spec §8.4", RuleTopicTextTooLong, RuleTopicTextTruncated)
	var pendingLegacy, pendingTarget []string
	if tp.CreatorID != "" {
		creator, r := t.resolveUser(tp.CreatorID, nil)
		t.userRefIssue(&is, r, tp.CreatorID, "creator", RuleTopicCreatorUnknown, RuleTopicCreatorRejected, "spec §8.11")
		if r == refImplied {
			pendingLegacy, pendingTarget = []string{tp.CreatorID}, []string{creator}
		}
		req.FromAccount = creator
	}
	if !tp.CreatedAt.IsZero() {
		switch sec := tp.CreatedAt.Unix(); {
		case sec <= 0 || sec > t.now:
			is.add(RuleTopicCreateTimeInvalid, "topic CreateTime %s is not between 1970 and now (%s) (spec §8.11)", fmtTime(tp.CreatedAt), fmtUnix(t.now))
		default:
			req.CreateTime = sec
		}
	}
	if t.topicIndex == nil {
		t.topicIndex = make(map[string]int32)
	}
	t.topicIndex[key] = int32(len(t.topics))
	st.ok = !is.rejected
	t.topics = append(t.topics, st)
	if !st.ok {
		return TopicResult{Issues: is.list}
	}
	t.commitImplied(&is, pendingLegacy, pendingTarget)
	return TopicResult{TopicID: req.TopicID, OK: true, Issues: is.list}
}

func printableASCII(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// topicOf resolves the topic of a group message into the state of the topic, or
// raises the message's issue and returns nil.
func (t *Transformer) topicOf(is *issueList, m *extract.Message) *topicState {
	i, ok := t.topicIndex[topicKey(m.GroupID, m.TopicID)]
	switch {
	case !ok:
		is.add(RuleGroupMessageTopicUnknown, "topic %s of group %s is not in topics (spec §8.9, §8.11: 10010)", shown(m.TopicID), shown(m.GroupID))
		return nil
	case !t.topics[i].ok:
		is.add(RuleGroupMessageTopicRejected, "topic %s of group %s was rejected in the topics pass (spec §8.11)", shown(m.TopicID), shown(m.GroupID))
		return nil
	}
	return &t.topics[i]
}

// Topics returns the final payload of every topic that passed its checks, in
// (group, topic) legacy-id order, given the groups' final payloads (Groups): a
// topic of a group that fell there falls with it, and its CreateTime lies at or
// after its group's and before its first message (spec §8.9: a message's
// SendTime must be after both).
func (t *Transformer) Topics(groups []GroupFinal) []TopicFinal {
	final := make(map[string]*GroupFinal, len(groups))
	for i := range groups {
		final[groups[i].LegacyID] = &groups[i]
	}
	idx := make([]int, 0, len(t.topics))
	for i := range t.topics {
		if t.topics[i].ok {
			idx = append(idx, i)
		}
	}
	group := func(i int) string { return t.groups[t.topics[i].group].legacyID }
	slices.SortFunc(idx, func(a, b int) int {
		if c := strings.Compare(group(a), group(b)); c != 0 {
			return c
		}
		return strings.Compare(t.topics[a].legacyID, t.topics[b].legacyID)
	})
	out := make([]TopicFinal, 0, len(idx))
	for _, i := range idx {
		ts := &t.topics[i]
		gid := group(i)
		is := newIssues(extract.Topics, ts.origin, gid+"/"+ts.legacyID, "")
		f := TopicFinal{Legacy: ts.origin, LegacyID: gid + "/" + ts.legacyID, Topic: ts.req, Messages: ts.messages}
		g := final[gid]
		if g == nil || !g.OK {
			is.add(RuleTopicGroupRejected, "group %s was rejected at the end of the pass, so its topic is (spec §8.11)", shown(gid))
			f.Issues = is.list
			out = append(out, f)
			continue
		}
		ct := ts.req.CreateTime
		switch {
		case ct == 0 && ts.firstMsg != 0:
			ct = ts.firstMsg - 1
			is.add(RuleTopicCreateTimeDerived, "topic has no CreateTime; set to %s, one second before its first message (spec §8.9, §8.11)", fmtUnix(ct))
		case ct != 0 && ts.firstMsg != 0 && ts.firstMsg <= ct:
			is.add(RuleTopicCreateTimeClamped, "topic CreateTime %s is not before its first message at %s; clamped to %s (spec §8.9, §8.11)", fmtUnix(ct), fmtUnix(ts.firstMsg), fmtUnix(ts.firstMsg-1))
			ct = ts.firstMsg - 1
		}
		if ct != 0 && ct < g.Group.CreateTime {
			// The sandbox refuses a topic older than its community (10004); the
			// group's CreateTime is already before every message.
			is.add(RuleTopicCreateTimeClamped, "topic CreateTime %s is before its group's CreateTime %s; raised to it (spec §8.11)", fmtUnix(ct), fmtUnix(g.Group.CreateTime))
			ct = g.Group.CreateTime
		}
		f.Topic.CreateTime = ct
		f.OK, f.Issues = true, is.list
		out = append(out, f)
	}
	return out
}

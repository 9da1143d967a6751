package sandbox

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/immigrate/immigrate/tencentim"
)

// ---- state dump ----

// GroupState is one group as the state dump (GET /_sandbox/state, Server.State)
// shows it. A destroyed group appears with Destroyed set and only GroupId and
// Type, so that its ID stays reserved across a save and load.
type GroupState struct {
	GroupID         string                     `json:"GroupId"`
	Type            string                     `json:"Type"`
	Destroyed       bool                       `json:"Destroyed,omitempty"`
	Name            string                     `json:"Name,omitempty"`
	Introduction    string                     `json:"Introduction,omitempty"`
	Notification    string                     `json:"Notification,omitempty"`
	FaceURL         string                     `json:"FaceUrl,omitempty"`
	Owner           string                     `json:"Owner_Account,omitempty"`
	CreateTime      int64                      `json:"CreateTime,omitempty"`
	MaxMemberNum    int                        `json:"MaxMemberNum,omitempty"`
	ApplyJoinOption string                     `json:"ApplyJoinOption,omitempty"`
	SupportTopic    bool                       `json:"SupportTopic,omitempty"`
	AppDefinedData  []tencentim.AppDefinedData `json:"AppDefinedData,omitempty"`
	// Members are sorted by account.
	Members []GroupMemberState `json:"Members,omitempty"`
	// Messages are the group's own messages in MsgSeq order, then each topic's
	// (topics by TopicId), each in MsgSeq order.
	Messages []GroupMsgState   `json:"Messages,omitempty"`
	Topics   []GroupTopicState `json:"Topics,omitempty"`
}

// GroupMemberState is one member of a GroupState.
type GroupMemberState struct {
	Account string `json:"Member_Account"`
	Role    string `json:"Role"`
	// JoinTime is Unix seconds.
	JoinTime int64 `json:"JoinTime"`
	// LastReadSeq is the MsgSeq of the member's last read message (the vendor's
	// member MsgSeq); UnreadMsgNum is the group's latest MsgSeq minus it.
	LastReadSeq     uint64 `json:"MsgSeq"`
	UnreadMsgNum    int    `json:"UnreadMsgNum"`
	LastSendMsgTime int64  `json:"LastSendMsgTime,omitempty"`
}

// GroupMsgState is one stored group message. TopicID is empty for the group's
// own messages.
type GroupMsgState struct {
	TopicID     string          `json:"TopicId,omitempty"`
	MsgSeq      uint64          `json:"MsgSeq"`
	Random      uint32          `json:"Random"`
	FromAccount string          `json:"From_Account"`
	SendTime    int64           `json:"SendTime"`
	MsgBody     json.RawMessage `json:"MsgBody"`
}

// GroupTopicState is one topic of a topic-enabled community.
type GroupTopicState struct {
	TopicID      string `json:"TopicId"`
	TopicName    string `json:"TopicName"`
	FromAccount  string `json:"From_Account,omitempty"`
	CustomString string `json:"CustomString,omitempty"`
	FaceURL      string `json:"FaceUrl,omitempty"`
	Notification string `json:"Notification,omitempty"`
	Introduction string `json:"Introduction,omitempty"`
	CreateTime   int64  `json:"CreateTime"`
}

// dump returns every group sorted by GroupId, deterministic so that two dumps
// compare with reflect.DeepEqual or byte for byte.
func (g *groupStore) dump() []GroupState {
	out := make([]GroupState, 0, len(g.groups))
	for _, gr := range g.groups {
		out = append(out, gr.state())
	}
	slices.SortFunc(out, func(a, b GroupState) int { return strings.Compare(a.GroupID, b.GroupID) })
	return out
}

func (gr *group) state() GroupState {
	if gr.destroyed {
		return GroupState{GroupID: gr.id, Type: gr.typ, Destroyed: true}
	}
	st := GroupState{
		GroupID:         gr.id,
		Type:            gr.typ,
		Name:            gr.name,
		Introduction:    gr.intro,
		Notification:    gr.notif,
		FaceURL:         gr.faceURL,
		Owner:           gr.owner,
		CreateTime:      gr.createTime,
		MaxMemberNum:    gr.maxMembers,
		ApplyJoinOption: gr.applyJoin,
		SupportTopic:    gr.supportTopic,
		AppDefinedData:  slices.Clone(gr.appData),
	}
	for _, id := range gr.sortedMembers() {
		m := gr.members[id]
		st.Members = append(st.Members, GroupMemberState{
			Account:         id,
			Role:            m.role,
			JoinTime:        m.joinTime,
			LastReadSeq:     gr.readSeqOf(m),
			UnreadMsgNum:    gr.unread(m),
			LastSendMsgTime: m.lastSend,
		})
	}
	st.Messages = gr.msgs.state("", st.Messages)
	topicIDs := make([]string, 0, len(gr.topics))
	for id := range gr.topics {
		topicIDs = append(topicIDs, id)
	}
	slices.Sort(topicIDs)
	for _, id := range topicIDs {
		tp := gr.topics[id]
		st.Topics = append(st.Topics, GroupTopicState{
			TopicID:      tp.id,
			TopicName:    tp.name,
			FromAccount:  tp.from,
			CustomString: tp.custom,
			FaceURL:      tp.faceURL,
			Notification: tp.notif,
			Introduction: tp.intro,
			CreateTime:   tp.createTime,
		})
		st.Messages = tp.msgs.state(id, st.Messages)
	}
	return st
}

func (st *msgStream) state(topicID string, out []GroupMsgState) []GroupMsgState {
	for i, m := range st.msgs {
		out = append(out, GroupMsgState{
			TopicID:     topicID,
			MsgSeq:      uint64(i + 1),
			Random:      m.random,
			FromAccount: m.from,
			SendTime:    m.sendTime,
			MsgBody:     slices.Clone(m.body),
		})
	}
	return out
}

// restore replaces the store's content with a dump. It checks what the handlers
// rely on (unique IDs, a known type, each message sequence 1..N without gaps and
// with non-decreasing times, read seqs within range, topics only in topic-enabled
// communities) and leaves the store unchanged on error. UnreadMsgNum is derived
// from MsgSeq and not read.
func (g *groupStore) restore(gs []GroupState) error {
	var fresh groupStore
	fresh.init()
	fresh.rng = g.rng
	// Creation order is not part of the dump (it would make the dumps of two
	// equivalent runs differ); restored groups list in GroupId order.
	sorted := slices.Clone(gs)
	slices.SortStableFunc(sorted, func(a, b GroupState) int { return cmp.Compare(a.GroupID, b.GroupID) })
	for _, s := range sorted {
		if err := fresh.restoreGroup(s); err != nil {
			return fmt.Errorf("restore group %q: %w", s.GroupID, err)
		}
	}
	*g = fresh
	return nil
}

func (g *groupStore) restoreGroup(s GroupState) error {
	if !printableGroupID(s.GroupID) {
		return fmt.Errorf("invalid group id")
	}
	if _, dup := g.groups[s.GroupID]; dup {
		return fmt.Errorf("duplicate group id")
	}
	typ, ok := canonicalGroupType(s.Type)
	if !ok {
		return fmt.Errorf("unknown group type %q", s.Type)
	}
	gr := &group{id: s.GroupID, typ: typ}
	if s.Destroyed {
		g.add(gr)
		g.destroy(gr)
		return nil
	}
	gr.name, gr.intro, gr.notif, gr.faceURL = s.Name, s.Introduction, s.Notification, s.FaceURL
	gr.createTime, gr.maxMembers, gr.applyJoin = s.CreateTime, s.MaxMemberNum, s.ApplyJoinOption
	gr.supportTopic = s.SupportTopic
	gr.appData = slices.Clone(s.AppDefinedData)
	if gr.supportTopic && typ != tencentim.GroupCommunity {
		return fmt.Errorf("SupportTopic on a %s group", typ)
	}
	g.add(gr) // no owner yet: members come from the dump, the owner among them
	gr.owner = s.Owner
	if len(s.Topics) > 0 {
		if !gr.supportTopic {
			return fmt.Errorf("topics in a group without SupportTopic")
		}
		gr.topics = make(map[string]*topic, len(s.Topics))
	}
	for _, t := range s.Topics {
		if !strings.HasPrefix(t.TopicID, gr.id+topicIDInfix) {
			return fmt.Errorf("topic id %q does not belong to the group", t.TopicID)
		}
		if _, dup := gr.topics[t.TopicID]; dup {
			return fmt.Errorf("duplicate topic id %q", t.TopicID)
		}
		gr.topics[t.TopicID] = &topic{
			id: t.TopicID, name: t.TopicName, from: t.FromAccount, custom: t.CustomString,
			faceURL: t.FaceURL, notif: t.Notification, intro: t.Introduction, createTime: t.CreateTime,
		}
	}
	for _, m := range s.Messages {
		st := &gr.msgs
		if m.TopicID != "" {
			tp := gr.topics[m.TopicID]
			if tp == nil {
				return fmt.Errorf("message in unknown topic %q", m.TopicID)
			}
			st = &tp.msgs
		}
		if m.MsgSeq != st.lastSeq()+1 {
			return fmt.Errorf("message seq %d out of sequence (want %d)", m.MsgSeq, st.lastSeq()+1)
		}
		if m.SendTime < st.lastTime() {
			return fmt.Errorf("message seq %d earlier than its predecessor", m.MsgSeq)
		}
		if !json.Valid(m.MsgBody) {
			return fmt.Errorf("message seq %d: MsgBody is not valid JSON", m.MsgSeq)
		}
		st.append(groupMsg{random: m.Random, from: m.FromAccount, sendTime: m.SendTime, body: compactJSON(m.MsgBody)})
	}
	owners := 0
	for _, m := range s.Members {
		if m.Account == "" {
			return fmt.Errorf("member without account")
		}
		if _, dup := gr.members[m.Account]; dup {
			return fmt.Errorf("duplicate member %q", m.Account)
		}
		switch m.Role {
		case tencentim.RoleOwner:
			owners++
			if m.Account != gr.owner {
				return fmt.Errorf("member %q has role Owner but the owner is %q", m.Account, gr.owner)
			}
		case tencentim.RoleAdmin, tencentim.RoleMember:
		default:
			return fmt.Errorf("member %q has unknown role %q", m.Account, m.Role)
		}
		if m.LastReadSeq > gr.msgs.lastSeq() {
			return fmt.Errorf("member %q read seq %d beyond the latest message", m.Account, m.LastReadSeq)
		}
		g.join(gr, m.Account, &member{role: m.Role, joinTime: m.JoinTime, readSeq: m.LastReadSeq, lastSend: m.LastSendMsgTime})
	}
	if gr.owner != "" && owners == 0 {
		return fmt.Errorf("owner %q is not a member", gr.owner)
	}
	return nil
}

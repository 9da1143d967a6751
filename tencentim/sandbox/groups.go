package sandbox

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/immigrate/immigrate/tencentim"
)

// The group half of the emulator (spec §8): groups, members, group messages and
// topics. This file holds the state model, its dump and restore, and the
// group-level handlers; members.go, groupmsg.go and topics.go hold the rest. Every
// handler runs with Server.mu held, so nothing here locks.

// groupRoutes are the group commands; Server.routes merges them with userRoutes.
var groupRoutes = map[tencentim.Command]handler{
	tencentim.CmdImportGroup:        handleImportGroup,
	tencentim.CmdCreateGroup:        handleCreateGroup,
	tencentim.CmdImportGroupMember:  handleImportGroupMember,
	tencentim.CmdImportGroupMsg:     handleImportGroupMsg,
	tencentim.CmdSetUnreadMsgNum:    handleSetUnreadMsgNum,
	tencentim.CmdGetGroupInfo:       handleGetGroupInfo,
	tencentim.CmdGetGroupMemberInfo: handleGetGroupMemberInfo,
	tencentim.CmdGroupMsgGetSimple:  handleGroupMsgGetSimple,
	tencentim.CmdGetAppIDGroupList:  handleGetAppIDGroupList,
	tencentim.CmdDestroyGroup:       handleDestroyGroup,
	tencentim.CmdChangeGroupOwner:   handleChangeGroupOwner,
	tencentim.CmdImportTopic:        handleImportTopic,
}

// Error codes of the group APIs (spec §1.7, Appendix A).
const (
	codeGroupBadParam     = 10004 // invalid parameter
	codeGroupTooMany      = 10005 // too many accounts in the request
	codeGroupNoPermission = 10007 // no permission, including a group type the API does not serve
	codeGroupNotFound     = 10010 // group missing or disbanded
	codeGroupBadID        = 10015 // invalid group ID
	codeGroupTooBig       = 10018 // response over 1 MB
	codeGroupIDTaken      = 10021 // group (or topic) ID already in use
	codeGroupIDUsed       = 10025 // group ID used before (create_group)
	codeGroupMemberLimit  = 10038 // member count over the limit (create_group)
	codeGroupNoTopics     = 11000 // group does not support topics
	codeGroupMsgTooLarge  = 80002 // one message's content over 12,000 bytes
)

// maxGroupResponseBytes is the emulated response cap behind 10018 (spec §12: "any
// group read response ≤ 1 MB").
const maxGroupResponseBytes = 1 << 20

// groupStore holds groups, members, group messages and topics.
type groupStore struct {
	// groups holds every group ever created, destroyed ones included: a used
	// custom ID stays reserved after destroy_group (spec §8.16, 10025/10021).
	groups map[string]*group
	// order lists the groups by creation, for get_appid_group_list's integer
	// cursor (spec §8.15, A18); order[i].ord == i+1.
	order []*group
	// byUser indexes live memberships: account → group IDs, so that
	// account_delete (removeUser) does not scan every group.
	byUser map[string]map[string]struct{}
	// rng draws assigned group and topic IDs. It is seeded from Config.Seed on
	// first use (see Server.groupRNG), so the same calls yield the same IDs.
	rng *rand.Rand
}

// group is one group. A destroyed group keeps only its ID, type and order.
type group struct {
	id           string
	typ          string // canonical legacy name (spec §8.1, A11)
	name         string
	intro        string
	notif        string
	faceURL      string
	owner        string // "" for an ownerless group
	createTime   int64
	maxMembers   int
	applyJoin    string // "" for Community, which does not support it
	supportTopic bool
	appData      []tencentim.AppDefinedData
	destroyed    bool
	ord          uint64

	members map[string]*member
	msgs    msgStream         // the group's own messages
	topics  map[string]*topic // topic-enabled Community only

	// readGen and allRead make "every member has read everything" O(1) (item 60):
	// a member whose gen differs from readGen has read up to allRead.
	readGen uint64
	allRead uint64
	// sorted caches the member accounts in ascending order; nil when stale.
	sorted []string
}

// member is one membership. The unread count is derived: the group's latest
// MsgSeq minus the member's read seq (spec §8.5, INFERRED), so importing a message
// leaves every unread count unchanged unless the read seq moves, and
// import_group_msg moves it (spec §8.9: "the unread count of all members becomes
// 0"). See group.readSeqOf.
type member struct {
	role     string
	joinTime int64
	readSeq  uint64 // valid while gen == the group's readGen
	gen      uint64
	lastSend int64 // LastSendMsgTime: the latest SendTime of a message this member sent
}

// topic is one topic of a topic-enabled community (spec §8.11), with its own
// message sequence.
type topic struct {
	id         string
	name       string
	from       string
	custom     string
	faceURL    string
	notif      string
	intro      string
	createTime int64
	msgs       msgStream
}

// msgStream is one message sequence (a group's or a topic's). Spec §6.4: MsgSeq
// is assigned by the backend and increases strictly from 1, so msgs[i] has MsgSeq
// i+1 and the latest seq is len(msgs).
type msgStream struct {
	msgs     []groupMsg
	byRandom map[uint32][]uint64 // Random → seqs carrying it, for the A4 dedup
}

// groupMsg is one stored group message.
type groupMsg struct {
	random   uint32
	from     string
	sendTime int64
	body     json.RawMessage // compacted MsgBody as received
}

func (st *msgStream) lastSeq() uint64 { return uint64(len(st.msgs)) }

func (st *msgStream) lastTime() int64 {
	if len(st.msgs) == 0 {
		return 0
	}
	return st.msgs[len(st.msgs)-1].sendTime
}

// at returns the message with MsgSeq seq (1-based).
func (st *msgStream) at(seq uint64) *groupMsg { return &st.msgs[seq-1] }

func (st *msgStream) append(m groupMsg) uint64 {
	st.msgs = append(st.msgs, m)
	seq := st.lastSeq()
	if m.random != 0 {
		if st.byRandom == nil {
			st.byRandom = make(map[uint32][]uint64)
		}
		st.byRandom[m.random] = append(st.byRandom[m.random], seq)
	}
	return seq
}

// duplicate returns the seq of a stored message that a new message with this
// Random and SendTime duplicates: design §7 A4, the same non-zero Random stored
// within the previous 300 s of SendTime. Stored times never decrease with seq, so
// the scan walks back from the newest and stops at the window's start.
func (st *msgStream) duplicate(random uint32, sendTime int64) (uint64, bool) {
	if random == 0 {
		return 0, false
	}
	seqs := st.byRandom[random]
	for i := len(seqs) - 1; i >= 0; i-- {
		t := st.at(seqs[i]).sendTime
		if t > sendTime {
			continue
		}
		if t < sendTime-tencentim.GroupDedupWindowSeconds {
			break
		}
		return seqs[i], true
	}
	return 0, false
}

func (g *groupStore) init() {
	g.groups = make(map[string]*group)
	g.order = nil
	g.byUser = make(map[string]map[string]struct{})
	g.rng = nil
}

// groupRNG returns the generator of assigned IDs, seeded from Config.Seed so that
// a rehearsal is reproducible; it is separate from the gateway's generator, whose
// draws (faults, jitter) happen outside the state lock in no fixed order.
func (s *Server) groupRNG() *rand.Rand {
	if s.groups.rng == nil {
		s.groups.rng = rand.New(rand.NewPCG(uint64(s.cfg.Seed), 0x67726f757073))
	}
	return s.groups.rng
}

// live returns the group with this ID, or the API's error: 10015 for a malformed
// ID, 10010 for an unknown or destroyed group (spec §8.9, §14 item 59, item 83).
func (g *groupStore) live(id string) (*group, *apiError) {
	if !printableGroupID(id) {
		return nil, errf(codeGroupBadID, "invalid GroupId")
	}
	gr := g.groups[id]
	if gr == nil || gr.destroyed {
		return nil, errf(codeGroupNotFound, "group "+id+" does not exist or has been destroyed")
	}
	return gr, nil
}

// liveArg reads the request's GroupId and returns that live group.
func (g *groupStore) liveArg(f fields) (*group, *apiError) {
	id, err := f.str("GroupId", true, codeGroupBadParam, codeGroupBadParam)
	if err != nil {
		return nil, err
	}
	return g.live(id)
}

// printableGroupID is the syntax rule for group IDs, design §7 A36 after the
// vendor SDK reference (spec §8.3 SUPPLEMENT): 1-48 bytes of printable ASCII
// 0x20-0x7e. Assigned IDs satisfy it too, so it also tells a malformed ID (10015)
// from an unknown one (10010).
func printableGroupID(id string) bool {
	if id == "" || len(id) > tencentim.MaxGroupIDBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// Prefixes of backend-assigned IDs (spec §8.3).
const (
	groupIDPrefix     = "@TGS#"
	communityIDPrefix = "@TGS#_"
	topicIDInfix      = "@TOPIC#_"
)

// checkCustomGroupID applies design §7 A36 to a caller-chosen GroupId: printable
// ASCII, ≤ 48 bytes, not starting with @TGS# (so it cannot pass for an assigned
// ID) — except that a Community's custom ID must start with @TGS#_.
func checkCustomGroupID(id, typ string) *apiError {
	if !printableGroupID(id) {
		return errf(codeGroupBadParam, "GroupId must be 1-48 bytes of printable ASCII")
	}
	if typ == tencentim.GroupCommunity {
		if !strings.HasPrefix(id, communityIDPrefix) || len(id) == len(communityIDPrefix) {
			return errf(codeGroupBadParam, "a Community GroupId must start with "+communityIDPrefix)
		}
		return nil
	}
	if strings.HasPrefix(id, groupIDPrefix) {
		return errf(codeGroupBadParam, "a custom GroupId must not start with "+groupIDPrefix)
	}
	return nil
}

const groupIDAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

func randomGroupIDPart(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = groupIDAlphabet[r.IntN(len(groupIDAlphabet))]
	}
	return string(b)
}

// newGroupID assigns an unused ID in the vendor's shapes (spec §8.3, §14 items
// 39-40): @TGS#XXXXXXXXXX, and @TGS#_@TGS#cXXXXXXXXXXXX for communities.
func (s *Server) newGroupID(typ string) string {
	r := s.groupRNG()
	for {
		var id string
		if typ == tencentim.GroupCommunity {
			id = communityIDPrefix + groupIDPrefix + "c" + randomGroupIDPart(r, 12)
		} else {
			id = groupIDPrefix + randomGroupIDPart(r, 10)
		}
		if _, used := s.groups.groups[id]; !used {
			return id
		}
	}
}

// newTopicID assigns {GroupId}@TOPIC#_@TOPIC#cXXXXXXXXXXXX (spec §8.3, item 86).
func (s *Server) newTopicID(gr *group) string {
	r := s.groupRNG()
	for {
		id := gr.id + topicIDInfix + "@TOPIC#c" + randomGroupIDPart(r, 12)
		if _, used := gr.topics[id]; !used {
			return id
		}
	}
}

// canonicalGroupType maps the Type strings the import APIs accept to the legacy
// names get_group_info echoes (spec §8.1, A11 REC: Work ≡ Private, Meeting ≡
// ChatRoom).
func canonicalGroupType(t string) (string, bool) {
	switch t {
	case tencentim.GroupPrivate, tencentim.GroupWork:
		return tencentim.GroupPrivate, true
	case tencentim.GroupPublic:
		return tencentim.GroupPublic, true
	case tencentim.GroupChatRoom, tencentim.GroupMeeting:
		return tencentim.GroupChatRoom, true
	case tencentim.GroupAVChatRoom:
		return tencentim.GroupAVChatRoom, true
	case tencentim.GroupCommunity:
		return tencentim.GroupCommunity, true
	}
	return "", false
}

// add stores a new group with ID id (already checked unused) and its owner, if
// any, as a member with role Owner joined at CreateTime (spec §8.7 Owner_Account:
// "automatically added as a member").
func (g *groupStore) add(gr *group) {
	gr.members = make(map[string]*member)
	g.groups[gr.id] = gr
	g.order = append(g.order, gr)
	gr.ord = uint64(len(g.order))
	if gr.owner != "" {
		g.join(gr, gr.owner, &member{role: tencentim.RoleOwner, joinTime: gr.createTime})
	}
}

// join adds a member whose readSeq the caller has set.
func (g *groupStore) join(gr *group, account string, m *member) {
	m.gen = gr.readGen
	gr.members[account] = m
	gr.sorted = nil
	set := g.byUser[account]
	if set == nil {
		set = make(map[string]struct{})
		g.byUser[account] = set
	}
	set[gr.id] = struct{}{}
}

// removeUser drops every membership of a deleted account (account_delete, spec
// §14 item 18). A group it owned becomes ownerless, which the vendor allows
// (spec §8.7: "if absent the group has no owner").
func (g *groupStore) removeUser(userID string) {
	for id := range g.byUser[userID] {
		gr := g.groups[id]
		delete(gr.members, userID)
		gr.sorted = nil
		if gr.owner == userID {
			gr.owner = ""
		}
	}
	delete(g.byUser, userID)
}

// destroy disbands a group; only its ID, type and order survive.
func (g *groupStore) destroy(gr *group) {
	for account := range gr.members {
		if set := g.byUser[account]; set != nil {
			delete(set, gr.id)
			if len(set) == 0 {
				delete(g.byUser, account)
			}
		}
	}
	*gr = group{id: gr.id, typ: gr.typ, ord: gr.ord, destroyed: true}
}

// readSeqOf is the MsgSeq of a member's last read message (the vendor's member
// MsgSeq).
func (gr *group) readSeqOf(m *member) uint64 {
	if m.gen != gr.readGen {
		return gr.allRead
	}
	return m.readSeq
}

// unread is a member's unread count (spec §8.5).
func (gr *group) unread(m *member) int { return int(gr.msgs.lastSeq() - gr.readSeqOf(m)) }

// setUnread sets a member's unread count, capped at the group's number of
// messages (spec §8.8, §8.10: "set to the current number of messages").
func (gr *group) setUnread(m *member, n int) {
	last := gr.msgs.lastSeq()
	m.readSeq = last - min(uint64(n), last)
	m.gen = gr.readGen
}

// markAllRead sets every member's unread count to 0 (spec §8.9, item 60) without
// visiting them: a community may have 100,000 members.
func (gr *group) markAllRead() {
	gr.readGen++
	gr.allRead = gr.msgs.lastSeq()
}

// sortedMembers returns the member accounts in ascending order: the order of
// get_group_member_info pages and of the dump. The slice is shared; callers must
// not modify it.
func (gr *group) sortedMembers() []string {
	if gr.sorted == nil {
		gr.sorted = make([]string, 0, len(gr.members))
		for id := range gr.members {
			gr.sorted = append(gr.sorted, id)
		}
		slices.Sort(gr.sorted)
	}
	return gr.sorted
}

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

// ---- import_group / create_group ----

type createMember struct {
	account string
	role    string
}

// parseGroupProfile validates the fields import_group and create_group share
// (spec §8.4, §8.6, §8.7, §14 items 43-46). The caller has checked Type.
func (s *Server) parseGroupProfile(f fields, typ string, now int64) (*group, *apiError) {
	gr := &group{typ: typ}
	var err *apiError
	bad := codeGroupBadParam
	if gr.owner, err = f.str("Owner_Account", false, bad, codeAccountType); err != nil {
		return nil, err
	}
	if gr.owner != "" && !s.users.exists(gr.owner) {
		// spec §14 item 19 (REC): an owner that was never imported is 10004.
		return nil, errf(bad, "Owner_Account "+gr.owner+" is not an imported account")
	}
	if gr.id, err = f.str("GroupId", false, bad, bad); err != nil {
		return nil, err
	}
	if gr.id != "" {
		if err := checkCustomGroupID(gr.id, typ); err != nil {
			return nil, err
		}
	}
	if gr.name, err = f.str("Name", true, bad, bad); err != nil {
		return nil, err
	}
	if gr.name == "" {
		return nil, errf(bad, "Name is empty")
	}
	// Byte limits of spec §8.4 (item 43).
	for _, lim := range []struct {
		field string
		dst   *string
		max   int
	}{
		{"Name", &gr.name, tencentim.MaxGroupNameBytes},
		{"Introduction", &gr.intro, tencentim.MaxGroupIntroBytes},
		{"Notification", &gr.notif, tencentim.MaxGroupNotifBytes},
		{"FaceUrl", &gr.faceURL, tencentim.MaxGroupFaceURLBytes},
	} {
		if lim.field != "Name" {
			if *lim.dst, err = f.str(lim.field, false, bad, bad); err != nil {
				return nil, err
			}
		}
		if len(*lim.dst) > lim.max {
			return nil, errf(bad, fmt.Sprintf("%s is longer than %d bytes", lim.field, lim.max))
		}
	}
	// MaxMemberCount, A10 REC: default the edition cap (Config, 2000), at most
	// 6000, or 100,000 for a Community.
	maxCount, err := f.int64("MaxMemberCount", false, bad, bad)
	if err != nil {
		return nil, err
	}
	limit := int64(tencentim.MaxMemberCount)
	if typ == tencentim.GroupCommunity {
		limit = tencentim.MaxCommunityMemberCount
	}
	switch {
	case maxCount < 0 || maxCount > limit:
		return nil, errf(bad, fmt.Sprintf("MaxMemberCount must be at most %d", limit))
	case maxCount == 0:
		gr.maxMembers = s.cfg.DefaultMaxMemberCount
		if gr.maxMembers <= 0 {
			gr.maxMembers = tencentim.DefaultMaxMemberCount
		}
	default:
		gr.maxMembers = int(maxCount)
	}
	if gr.applyJoin, err = f.str("ApplyJoinOption", false, bad, bad); err != nil {
		return nil, err
	}
	switch {
	case typ == tencentim.GroupCommunity && f.has("ApplyJoinOption"):
		// spec §14 item 46 (REC): Community does not support it.
		return nil, errf(bad, "ApplyJoinOption is not supported by Community groups")
	case typ == tencentim.GroupCommunity:
	case gr.applyJoin == "":
		gr.applyJoin = "NeedPermission" // the documented default (spec §8.4)
	case gr.applyJoin != "FreeAccess" && gr.applyJoin != "NeedPermission" && gr.applyJoin != "DisableApply":
		return nil, errf(bad, "ApplyJoinOption must be FreeAccess, NeedPermission or DisableApply")
	}
	data, err := f.objects("AppDefinedData", false, bad, bad)
	if err != nil {
		return nil, err
	}
	for _, d := range data {
		key, err := d.str("Key", true, bad, bad)
		if err != nil {
			return nil, err
		}
		value, err := d.str("Value", true, bad, bad)
		if err != nil {
			return nil, err
		}
		gr.appData = append(gr.appData, tencentim.AppDefinedData{Key: key, Value: value})
	}
	topics, err := f.int64("SupportTopic", false, bad, bad)
	if err != nil {
		return nil, err
	}
	switch {
	case topics != 0 && topics != 1:
		return nil, errf(bad, "SupportTopic must be 0 or 1")
	case topics == 1 && typ != tencentim.GroupCommunity:
		return nil, errf(bad, "SupportTopic is for Community groups only")
	}
	gr.supportTopic = topics == 1
	gr.createTime = now
	return gr, nil
}

// groupType reads and checks Type (spec §14 item 44, A11).
func groupType(f fields) (string, *apiError) {
	raw, err := f.str("Type", true, codeGroupBadParam, codeGroupBadParam)
	if err != nil {
		return "", err
	}
	typ, ok := canonicalGroupType(raw)
	if !ok {
		return "", errf(codeGroupBadParam, "unknown group Type "+raw)
	}
	return typ, nil
}

// handleImportGroup serves import_group (spec §8.7, §14 items 39-48).
func handleImportGroup(s *Server, c *call) (any, *apiError) {
	typ, err := groupType(c.fields)
	if err != nil {
		return nil, err
	}
	if typ == tencentim.GroupAVChatRoom {
		return nil, errf(codeGroupNoPermission, "AVChatRoom groups cannot be imported") // item 41
	}
	now := c.now.Unix()
	gr, err := s.parseGroupProfile(c.fields, typ, now)
	if err != nil {
		return nil, err
	}
	// CreateTime, A33: defaults to now (INFERRED); a time in the future would make
	// every later member and message import impossible, so it is 10004.
	ct, err := c.int64("CreateTime", false, codeGroupBadParam, codeGroupBadParam)
	if err != nil {
		return nil, err
	}
	switch {
	case ct < 0 || ct > now:
		return nil, errf(codeGroupBadParam, "CreateTime must not be in the future")
	case ct > 0:
		gr.createTime = ct
	}
	if gr.id != "" {
		if _, used := s.groups.groups[gr.id]; used {
			// item 42: import_group lists 10021 only, also for a destroyed ID.
			return nil, errf(codeGroupIDTaken, "group ID "+gr.id+" is already in use")
		}
	} else {
		gr.id = s.newGroupID(typ)
	}
	s.groups.add(gr)
	return &tencentim.ImportGroupResponse{GroupID: gr.id}, nil
}

// handleCreateGroup serves create_group (spec §8.6, §14 items 49-50). Unlike
// import_group it takes AVChatRoom, an initial MemberList, and no CreateTime.
func handleCreateGroup(s *Server, c *call) (any, *apiError) {
	typ, err := groupType(c.fields)
	if err != nil {
		return nil, err
	}
	bad := codeGroupBadParam
	list, err := c.objects("MemberList", false, bad, bad)
	if err != nil {
		return nil, err
	}
	if typ == tencentim.GroupAVChatRoom && len(list) > 0 {
		// item 49: members of an AVChatRoom must join through the SDK.
		return nil, errf(codeGroupNoPermission, "AVChatRoom groups take no MemberList")
	}
	if len(list) > 100 {
		return nil, errf(codeGroupTooMany, "MemberList holds more than 100 members") // item 50
	}
	now := c.now.Unix()
	gr, err := s.parseGroupProfile(c.fields, typ, now)
	if err != nil {
		return nil, err
	}
	var members []createMember
	seen := map[string]bool{gr.owner: gr.owner != ""}
	for _, item := range list {
		account, err := item.str("Member_Account", true, bad, codeAccountType)
		if err != nil {
			return nil, err
		}
		role, err := item.str("Role", false, bad, bad)
		if err != nil {
			return nil, err
		}
		if role != "" && role != tencentim.RoleAdmin {
			return nil, errf(bad, "Role must be Admin or omitted") // spec §8.5, A13
		}
		if !s.users.exists(account) {
			return nil, errf(bad, "Member_Account "+account+" is not an imported account")
		}
		if seen[account] {
			continue
		}
		seen[account] = true
		members = append(members, createMember{account, cmp.Or(role, tencentim.RoleMember)})
	}
	if len(seen) > gr.maxMembers {
		return nil, errf(codeGroupMemberLimit, "more members than MaxMemberCount")
	}
	if gr.id != "" {
		if old, used := s.groups.groups[gr.id]; used {
			// spec §8.3: 10021 for an ID in use, 10025 for one this app used
			// before and disbanded (line 12027).
			if old.destroyed {
				return nil, errf(codeGroupIDUsed, "group ID "+gr.id+" was used before")
			}
			return nil, errf(codeGroupIDTaken, "group ID "+gr.id+" is already in use")
		}
	} else {
		gr.id = s.newGroupID(typ)
	}
	s.groups.add(gr)
	for _, m := range members {
		s.groups.join(gr, m.account, &member{role: m.role, joinTime: now})
	}
	return &tencentim.CreateGroupResponse{GroupID: gr.id}, nil
}

// ---- destroy_group / change_group_owner ----

// handleDestroyGroup serves destroy_group (spec §8.16, §14 item 83): every type.
func handleDestroyGroup(s *Server, c *call) (any, *apiError) {
	gr, err := s.groups.liveArg(c.fields)
	if err != nil {
		return nil, err
	}
	s.groups.destroy(gr)
	return &tencentim.DestroyGroupResponse{}, nil
}

// handleChangeGroupOwner serves change_group_owner (spec §8.17, §14 item 84).
func handleChangeGroupOwner(s *Server, c *call) (any, *apiError) {
	gr, err := s.groups.liveArg(c.fields)
	if err != nil {
		return nil, err
	}
	if gr.typ == tencentim.GroupAVChatRoom {
		return nil, errf(codeGroupNoPermission, "change_group_owner does not serve AVChatRoom groups")
	}
	account, err := c.str("NewOwner_Account", true, codeGroupBadParam, codeAccountType)
	if err != nil {
		return nil, err
	}
	m := gr.members[account]
	if m == nil {
		// item 84 (REC): "the new owner must already be a member".
		return nil, errf(codeGroupBadParam, "NewOwner_Account "+account+" is not a member")
	}
	if old := gr.members[gr.owner]; old != nil && gr.owner != account {
		old.role = tencentim.RoleMember // INFERRED: the old owner stays as a plain member
	}
	m.role = tencentim.RoleOwner
	gr.owner = account
	return &tencentim.ChangeGroupOwnerResponse{}, nil
}

// ---- get_appid_group_list ----

// handleGetAppIDGroupList serves get_appid_group_list (spec §8.15, §14 item 82).
// Next is an integer cursor (A18): the creation rank of the next group to list.
func handleGetAppIDGroupList(s *Server, c *call) (any, *apiError) {
	bad := codeGroupBadParam
	limit, err := c.int64("Limit", false, bad, bad)
	if err != nil {
		return nil, err
	}
	if limit < 0 {
		return nil, errf(bad, "Limit must not be negative")
	}
	if limit == 0 || limit > 10000 {
		limit = 10000 // the documented default and maximum
	}
	next, err := c.uint64("Next", false, bad, bad)
	if err != nil {
		return nil, err
	}
	rawType, err := c.str("GroupType", false, bad, bad)
	if err != nil {
		return nil, err
	}
	var typ string
	if rawType != "" {
		if rawType == "BChatRoom" {
			typ = rawType // a valid filter; the sandbox has no such groups
		} else if typ, _ = canonicalGroupType(rawType); typ == "" {
			return nil, errf(bad, "unknown GroupType "+rawType)
		}
	}
	resp := &tencentim.GetAppIDGroupListResponse{GroupIDList: []tencentim.GroupIDItem{}}
	start := max(next, 1) - 1
	for _, gr := range s.groups.order {
		if gr.destroyed || (typ != "" && gr.typ != typ) {
			continue
		}
		resp.TotalCount++
		if gr.ord <= start {
			continue
		}
		if len(resp.GroupIDList) == int(limit) {
			if resp.Next == 0 {
				resp.Next = gr.ord
			}
			continue
		}
		resp.GroupIDList = append(resp.GroupIDList, tencentim.GroupIDItem{GroupID: gr.id})
	}
	return resp, nil
}

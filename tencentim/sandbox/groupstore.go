package sandbox

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/immigrate/immigrate/tencentim"
)

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
	rng *rand.PCG
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

// groupRNG returns the generator of assigned IDs for call c, seeded from
// Config.Seed so that a rehearsal is reproducible; it is separate from the
// gateway's generator, whose draws (faults, jitter) happen outside the state lock
// in no fixed order. Its draws go through c, for the journal.
func (s *Server) groupRNG(c *call) *rand.Rand {
	if s.groups.rng == nil {
		s.groups.rng = rand.NewPCG(uint64(s.cfg.Seed), 0x67726f757073)
	}
	return rand.New(callSource{c: c, src: s.groups.rng.Uint64})
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
func (s *Server) newGroupID(c *call, typ string) string {
	r := s.groupRNG(c)
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
func (s *Server) newTopicID(c *call, gr *group) string {
	r := s.groupRNG(c)
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

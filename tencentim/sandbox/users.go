package sandbox

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"

	"github.com/immigrate/immigrate/tencentim"
)

// userStore holds accounts, profiles, friends, C2C messages and conversations. Its
// methods run with Server.mu held.
type userStore struct {
	accounts map[string]*account
	// friends is each owner's one-way friend list (spec §5.1): owner → friend → item.
	friends map[string]map[string]*friend
	// friendSeq is the version of each owner's friend list (friend_get's
	// StandardSequence/CustomSequence), bumped on every change.
	friendSeq map[string]int
	// convs holds C2C history per unordered pair of accounts.
	convs map[pairKey]*conversation
	// unread counts SyncFromOldSystem 5 messages per recipient and peer (item 33).
	unread map[string]map[string]int
	// sessions is each user's recent-contact list (spec §9).
	sessions map[string]map[sessionKey]int64
	// maxSessions is Config.MaxRecentContacts: 0 keeps every conversation.
	maxSessions int
}

// userRoutes are the commands of this half of the API; server.go merges them with
// groupRoutes.
var userRoutes = map[tencentim.Command]handler{
	tencentim.CmdAccountImport:      handleAccountImport,
	tencentim.CmdMultiAccountImport: handleMultiAccountImport,
	tencentim.CmdAccountCheck:       handleAccountCheck,
	tencentim.CmdAccountDelete:      handleAccountDelete,
	tencentim.CmdPortraitSet:        handlePortraitSet,
	tencentim.CmdPortraitGet:        handlePortraitGet,
	tencentim.CmdFriendImport:       handleFriendImport,
	tencentim.CmdFriendGet:          handleFriendGet,
	tencentim.CmdImportMsg:          handleImportMsg,
	tencentim.CmdAdminGetRoamMsg:    handleAdminGetRoamMsg,
	tencentim.CmdGetC2CUnreadMsgNum: handleGetC2CUnreadMsgNum,
	tencentim.CmdRecentContactList:  handleRecentContactList,
}

// account is one imported UserID and its profile.
type account struct {
	id string
	// profile maps a Tag_Profile_* tag to its compact JSON value (string or number).
	profile map[string]json.RawMessage
}

// friend is one one-way friend item of friend_import (spec §5.1).
type friend struct {
	to         string
	remark     string
	remarkTime int64
	groups     []string
	addSource  string
	addWording string
	addTime    int64
	custom     map[string]json.RawMessage // Tag_SNS_Custom_* → string or number
}

// pairKey names a C2C conversation whatever the direction: a <= b.
type pairKey struct{ a, b string }

func pairOf(x, y string) pairKey {
	if x > y {
		x, y = y, x
	}
	return pairKey{x, y}
}

// msgKey is the dedup identity of a C2C message inside its conversation (spec §7.1:
// MsgSeq, MsgRandom and MsgTimeStamp all equal, in either direction). It is also a
// strict total order of the conversation: (time, MsgSeq) as the vendor sorts
// history (spec §6.4, item 35), then MsgRandom to break the remaining ties
// deterministically.
type msgKey struct {
	ts     int64
	seq    uint32
	random uint32
}

func (k msgKey) compare(o msgKey) int {
	if c := cmp.Compare(k.ts, o.ts); c != 0 {
		return c
	}
	if c := cmp.Compare(k.seq, o.seq); c != 0 {
		return c
	}
	return cmp.Compare(k.random, o.random)
}

// c2cMsg is one imported C2C message.
type c2cMsg struct {
	key   msgKey
	from  string
	to    string
	body  json.RawMessage // the MsgBody array, compacted
	cloud string
	sync  int
}

// conversation is the history between two accounts, kept sorted by key.
type conversation struct {
	msgs []*c2cMsg
	seen map[msgKey]bool
}

// sessionKey is one recent contact: Type 1 with a peer UserID, Type 2 with a GroupId.
type sessionKey struct {
	typ  int
	peer string
}

const (
	sessionC2C   = 1
	sessionGroup = 2
)

func (u *userStore) init(maxSessions int) {
	*u = userStore{
		maxSessions: maxSessions,
		accounts:    map[string]*account{},
		friends:     map[string]map[string]*friend{},
		friendSeq:   map[string]int{},
		convs:       map[pairKey]*conversation{},
		unread:      map[string]map[string]int{},
		sessions:    map[string]map[sessionKey]int64{},
	}
}

// exists reports whether id is an imported account.
func (u *userStore) exists(id string) bool {
	_, ok := u.accounts[id]
	return ok
}

// touchGroupSession records that groupID had a message at msgTime in userID's
// recent contacts (import_group_msg with RecentContactFlag 1, item 62). Unknown
// users are ignored: a conversation needs an account.
func (u *userStore) touchGroupSession(userID, groupID string, msgTime int64) {
	u.touchSession(userID, sessionKey{sessionGroup, groupID}, msgTime)
}

// touchSession moves a conversation's time forward (never back: an older message
// imported later does not make the conversation older, spec §7.1 A7).
func (u *userStore) touchSession(userID string, k sessionKey, msgTime int64) {
	if !u.exists(userID) {
		return
	}
	m := u.sessions[userID]
	if m == nil {
		m = map[sessionKey]int64{}
		u.sessions[userID] = m
	}
	if t, ok := m[k]; !ok || msgTime > t {
		m[k] = msgTime
	}
	// Keep the newest maxSessions conversations (spec §9 supplement).
	if u.maxSessions > 0 && len(m) > u.maxSessions {
		for _, it := range sortedSessions(m)[u.maxSessions:] {
			delete(m, it.key)
		}
	}
}

type sessionEntry struct {
	key  sessionKey
	time int64
}

// sortedSessions lists conversations newest first, then by type and peer so that
// the order is total and stable.
func sortedSessions(m map[sessionKey]int64) []sessionEntry {
	out := make([]sessionEntry, 0, len(m))
	for k, t := range m {
		out = append(out, sessionEntry{k, t})
	}
	slices.SortFunc(out, func(x, y sessionEntry) int {
		switch {
		case x.time != y.time:
			return cmp.Compare(y.time, x.time)
		case x.key.typ != y.key.typ:
			return x.key.typ - y.key.typ
		default:
			return strings.Compare(x.key.peer, y.key.peer)
		}
	})
	return out
}

// deleteAccount removes id and everything that belongs to it (spec §3.7 line
// 21218: relationship chain, profile, sessions): its profile, its friend list, its
// entries in other users' friend lists, its recent contacts and unread counts. C2C
// history stays, because it is also the peer's history. The caller removes group
// memberships.
func (u *userStore) deleteAccount(id string) {
	delete(u.accounts, id)
	delete(u.friends, id)
	delete(u.friendSeq, id)
	for owner, list := range u.friends {
		if _, ok := list[id]; ok {
			delete(list, id)
			u.friendSeq[owner]++
		}
	}
	delete(u.sessions, id)
	delete(u.unread, id)
	for _, peers := range u.unread {
		delete(peers, id)
	}
}

// conversation returns the history of the pair, creating it when create is set.
func (u *userStore) conversation(x, y string, create bool) *conversation {
	k := pairOf(x, y)
	c := u.convs[k]
	if c == nil && create {
		c = &conversation{seen: map[msgKey]bool{}}
		u.convs[k] = c
	}
	return c
}

// insert adds m in key order; it reports false, storing nothing, when a message
// with the same key is already there (the first import wins, spec §7.1).
func (c *conversation) insert(m *c2cMsg) bool {
	if c.seen[m.key] {
		return false
	}
	c.seen[m.key] = true
	i, _ := slices.BinarySearchFunc(c.msgs, m.key, func(e *c2cMsg, k msgKey) int {
		return e.key.compare(k)
	})
	c.msgs = slices.Insert(c.msgs, i, m)
	return true
}

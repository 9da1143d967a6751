package sandbox

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/immigrate/immigrate/tencentim"
)

// State is a snapshot of everything the sandbox holds, in a deterministic order
// (every list sorted), so that two dumps of the same data are equal with
// reflect.DeepEqual and byte for byte as JSON. It is what GET /_sandbox/state
// serves and what Save writes.
type State struct {
	Accounts       []AccountState       `json:"Accounts"`
	Friends        []FriendState        `json:"Friends"`
	C2C            []ConversationState  `json:"C2C"`
	RecentContacts []RecentContactState `json:"RecentContacts"`
	C2CUnread      []UnreadState        `json:"C2CUnread"`
	Groups         []GroupState         `json:"Groups"`
}

// AccountState is one account, sorted by UserID. Profile holds every profile tag,
// sorted by tag; Nick and FaceUrl repeat Tag_Profile_IM_Nick and
// Tag_Profile_IM_Image for readers.
type AccountState struct {
	UserID  string                  `json:"UserID"`
	Nick    string                  `json:"Nick,omitempty"`
	FaceURL string                  `json:"FaceUrl,omitempty"`
	Profile []tencentim.ProfileItem `json:"Profile"`
}

// FriendState is one one-way friend, sorted by (From_Account, To_Account).
type FriendState struct {
	FromAccount string                 `json:"From_Account"`
	ToAccount   string                 `json:"To_Account"`
	AddSource   string                 `json:"AddSource"`
	Remark      string                 `json:"Remark,omitempty"`
	RemarkTime  int64                  `json:"RemarkTime,omitempty"`
	GroupName   []string               `json:"GroupName,omitempty"`
	AddWording  string                 `json:"AddWording,omitempty"`
	AddTime     int64                  `json:"AddTime"`
	CustomItem  []tencentim.CustomItem `json:"CustomItem,omitempty"`
}

// ConversationState is the C2C history of two accounts (A < B), sorted by (A, B),
// messages in (MsgTimeStamp, MsgSeq, MsgRandom) order.
type ConversationState struct {
	A        string            `json:"A"`
	B        string            `json:"B"`
	Messages []C2CMessageState `json:"Messages"`
}

// C2CMessageState is one imported C2C message; MsgBody is the compacted JSON array
// as imported.
type C2CMessageState struct {
	FromAccount       string          `json:"From_Account"`
	ToAccount         string          `json:"To_Account"`
	MsgSeq            uint32          `json:"MsgSeq"`
	MsgRandom         uint32          `json:"MsgRandom"`
	MsgTimeStamp      int64           `json:"MsgTimeStamp"`
	MsgBody           json.RawMessage `json:"MsgBody"`
	CloudCustomData   string          `json:"CloudCustomData,omitempty"`
	SyncFromOldSystem int             `json:"SyncFromOldSystem"`
}

// RecentContactState is one conversation in a user's recent contacts (Type 1 C2C
// with To_Account, Type 2 group with GroupId), sorted by (UserID, Type, peer).
type RecentContactState struct {
	UserID    string `json:"UserID"`
	Type      int    `json:"Type"`
	ToAccount string `json:"To_Account,omitempty"`
	GroupID   string `json:"GroupId,omitempty"`
	MsgTime   int64  `json:"MsgTime"`
}

// UnreadState is the number of unread C2C messages UserID has from Peer_Account,
// sorted by (UserID, Peer_Account); zero counts are left out.
type UnreadState struct {
	UserID      string `json:"UserID"`
	PeerAccount string `json:"Peer_Account"`
	Count       int    `json:"Count"`
}

// State returns a snapshot of the whole emulator.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stateLocked()
}

// stateLocked is State for a caller that holds s.mu.
func (s *Server) stateLocked() State {
	st := s.users.dump()
	st.Groups = s.groups.dump()
	if st.Groups == nil {
		st.Groups = []GroupState{}
	}
	return st
}

func (u *userStore) dump() State {
	st := State{
		Accounts:       []AccountState{},
		Friends:        []FriendState{},
		C2C:            []ConversationState{},
		RecentContacts: []RecentContactState{},
		C2CUnread:      []UnreadState{},
	}
	for _, id := range slices.Sorted(maps.Keys(u.accounts)) {
		a := u.accounts[id]
		as := AccountState{UserID: id, Profile: []tencentim.ProfileItem{}}
		for _, tag := range slices.Sorted(maps.Keys(a.profile)) {
			as.Profile = append(as.Profile, tencentim.ProfileItem{Tag: tag, Value: a.profile[tag]})
		}
		as.Nick, _ = asString(a.profile[tencentim.TagNick])
		as.FaceURL, _ = asString(a.profile[tencentim.TagImage])
		st.Accounts = append(st.Accounts, as)
	}
	for _, owner := range slices.Sorted(maps.Keys(u.friends)) {
		list := u.friends[owner]
		for _, to := range slices.Sorted(maps.Keys(list)) {
			f := list[to]
			fs := FriendState{
				FromAccount: owner, ToAccount: to, AddSource: f.addSource, Remark: f.remark,
				RemarkTime: f.remarkTime, GroupName: slices.Clone(f.groups), AddWording: f.addWording, AddTime: f.addTime,
			}
			for _, tag := range slices.Sorted(maps.Keys(f.custom)) {
				fs.CustomItem = append(fs.CustomItem, tencentim.CustomItem{Tag: tag, Value: f.custom[tag]})
			}
			st.Friends = append(st.Friends, fs)
		}
	}
	pairs := slices.SortedFunc(maps.Keys(u.convs), func(x, y pairKey) int {
		return cmp.Or(strings.Compare(x.a, y.a), strings.Compare(x.b, y.b))
	})
	for _, p := range pairs {
		cs := ConversationState{A: p.a, B: p.b, Messages: []C2CMessageState{}}
		for _, m := range u.convs[p].msgs {
			cs.Messages = append(cs.Messages, C2CMessageState{
				FromAccount: m.from, ToAccount: m.to, MsgSeq: m.key.seq, MsgRandom: m.key.random,
				MsgTimeStamp: m.key.ts, MsgBody: m.body, CloudCustomData: m.cloud, SyncFromOldSystem: m.sync,
			})
		}
		st.C2C = append(st.C2C, cs)
	}
	for _, id := range slices.Sorted(maps.Keys(u.sessions)) {
		keys := slices.SortedFunc(maps.Keys(u.sessions[id]), func(x, y sessionKey) int {
			return cmp.Or(cmp.Compare(x.typ, y.typ), strings.Compare(x.peer, y.peer))
		})
		for _, k := range keys {
			rc := RecentContactState{UserID: id, Type: k.typ, MsgTime: u.sessions[id][k]}
			if k.typ == sessionC2C {
				rc.ToAccount = k.peer
			} else {
				rc.GroupID = k.peer
			}
			st.RecentContacts = append(st.RecentContacts, rc)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(u.unread)) {
		for _, peer := range slices.Sorted(maps.Keys(u.unread[id])) {
			if n := u.unread[id][peer]; n > 0 {
				st.C2CUnread = append(st.C2CUnread, UnreadState{UserID: id, PeerAccount: peer, Count: n})
			}
		}
	}
	return st
}

// restore rebuilds the store from st, checking that it is consistent.
func (u *userStore) restore(st State) error {
	for _, a := range st.Accounts {
		if !validUserID(a.UserID) {
			return fmt.Errorf("account %q: invalid UserID", a.UserID)
		}
		if u.exists(a.UserID) {
			return fmt.Errorf("account %q: listed twice", a.UserID)
		}
		acc := u.create(a.UserID)
		for _, p := range a.Profile {
			v, aerr := profileValue(p.Tag, p.Value)
			if aerr != nil {
				return fmt.Errorf("account %q: profile: %s", a.UserID, aerr.Info)
			}
			acc.profile[p.Tag] = v
		}
	}
	for _, f := range st.Friends {
		if !u.exists(f.FromAccount) || !u.exists(f.ToAccount) {
			return fmt.Errorf("friend %s→%s: unknown account", f.FromAccount, f.ToAccount)
		}
		fr := &friend{
			to: f.ToAccount, remark: f.Remark, remarkTime: f.RemarkTime, groups: slices.Clone(f.GroupName),
			addSource: f.AddSource, addWording: f.AddWording, addTime: f.AddTime,
		}
		for _, ci := range f.CustomItem {
			if fr.custom == nil {
				fr.custom = map[string]json.RawMessage{}
			}
			fr.custom[ci.Tag] = ci.Value
		}
		if u.friends[f.FromAccount] == nil {
			u.friends[f.FromAccount] = map[string]*friend{}
		}
		u.friends[f.FromAccount][f.ToAccount] = fr
		u.friendSeq[f.FromAccount] = 1
	}
	for _, cs := range st.C2C {
		for _, m := range cs.Messages {
			if pairOf(m.FromAccount, m.ToAccount) != pairOf(cs.A, cs.B) {
				return fmt.Errorf("conversation %s/%s: message from %s to %s does not belong to it", cs.A, cs.B, m.FromAccount, m.ToAccount)
			}
			elems, ok := asArray(m.MsgBody)
			if !ok {
				return fmt.Errorf("conversation %s/%s: MsgBody is not an array", cs.A, cs.B)
			}
			if be := checkMsgBody(elems, c2cElemTypes); be != nil {
				return fmt.Errorf("conversation %s/%s: %s", cs.A, cs.B, be.reason)
			}
			msg := &c2cMsg{
				key:  msgKey{ts: m.MsgTimeStamp, seq: m.MsgSeq, random: m.MsgRandom},
				from: m.FromAccount, to: m.ToAccount, body: compactJSON(m.MsgBody),
				cloud: m.CloudCustomData, sync: m.SyncFromOldSystem,
			}
			if !u.conversation(m.FromAccount, m.ToAccount, true).insert(msg) {
				return fmt.Errorf("conversation %s/%s: message %s listed twice", cs.A, cs.B, msgKeyString(msg.key))
			}
		}
	}
	for _, rc := range st.RecentContacts {
		if !u.exists(rc.UserID) {
			return fmt.Errorf("recent contact of %q: unknown account", rc.UserID)
		}
		k := sessionKey{typ: rc.Type, peer: rc.ToAccount}
		switch rc.Type {
		case sessionC2C:
		case sessionGroup:
			k.peer = rc.GroupID
		default:
			return fmt.Errorf("recent contact of %q: unknown type %d", rc.UserID, rc.Type)
		}
		if u.sessions[rc.UserID] == nil {
			u.sessions[rc.UserID] = map[sessionKey]int64{}
		}
		u.sessions[rc.UserID][k] = rc.MsgTime
	}
	for _, un := range st.C2CUnread {
		if !u.exists(un.UserID) {
			return fmt.Errorf("unread count of %q: unknown account", un.UserID)
		}
		if u.unread[un.UserID] == nil {
			u.unread[un.UserID] = map[string]int{}
		}
		u.unread[un.UserID][un.PeerAccount] = un.Count
	}
	return nil
}

// Restore replaces the whole state with st. On error the state is unchanged. A
// durable Server journals the new state before Restore returns.
func (s *Server) Restore(st State) error {
	var body []byte
	if s.journal != nil {
		var err error
		if body, err = json.Marshal(snapshot{State: st}); err != nil {
			return fmt.Errorf("sandbox: restore: %w", err)
		}
	}
	s.mu.Lock()
	if s.journal != nil {
		if err := s.journal.failed(); err != nil {
			s.mu.Unlock()
			return fmt.Errorf("sandbox: restore: %w", err)
		}
	}
	if err := s.restoreLocked(st); err != nil {
		s.mu.Unlock()
		return err
	}
	var seq uint64
	var err error
	if s.journal != nil {
		seq, err = s.journal.append(recRestore, time.Time{}, tencentim.Command{}, nil, body)
	}
	s.mu.Unlock()
	if err == nil {
		err = s.durable(seq)
	}
	if err != nil {
		return fmt.Errorf("sandbox: restore: %w", err)
	}
	return nil
}

// restoreLocked is Restore without the journal, for a caller that holds s.mu.
func (s *Server) restoreLocked(st State) error {
	var u userStore
	u.init(s.cfg.MaxRecentContacts)
	if err := u.restore(st); err != nil {
		return fmt.Errorf("sandbox: restore: %w", err)
	}
	var g groupStore
	g.init()
	if err := g.restore(st.Groups); err != nil {
		return fmt.Errorf("sandbox: restore groups: %w", err)
	}
	s.users, s.groups = u, g
	return nil
}

// snapshot is the state file: the State, and for a durable Server the number of
// the last journal record it includes, so that a restart replays only the
// records after it.
type snapshot struct {
	JournalSeq uint64 `json:"JournalSeq,omitempty"`
	State
}

// Save writes the state to path as indented JSON, atomically: a temporary file in
// the same directory, synced, then renamed over path.
func (s *Server) Save(path string) error {
	s.mu.Lock()
	st := s.stateLocked()
	var seq uint64
	if s.journal != nil {
		seq = s.journal.last()
	}
	s.mu.Unlock()
	return writeSnapshot(path, st, seq)
}

// writeSnapshot writes a state file atomically and durably: a temporary file in
// the same directory, synced, renamed over path, and the directory synced.
func writeSnapshot(path string, st State, seq uint64) error {
	b, err := json.MarshalIndent(snapshot{JournalSeq: seq, State: st}, "", "  ")
	if err != nil {
		return fmt.Errorf("sandbox: save: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("sandbox: save: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("sandbox: save: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sandbox: save: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("sandbox: save: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("sandbox: save: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("sandbox: save: %w", err)
	}
	return nil
}

// Load replaces the state with the one saved at path.
func (s *Server) Load(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("sandbox: load: %w", err)
	}
	st, _, err := decodeSnapshot(b)
	if err != nil {
		return fmt.Errorf("sandbox: load %s: %w", path, err)
	}
	return s.Restore(st)
}

// load replaces the state with the one saved at path without journaling it, and
// returns the journal record number the file covers; New uses it.
func (s *Server) load(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("sandbox: load: %w", err)
	}
	st, seq, err := decodeSnapshot(b)
	if err != nil {
		return 0, fmt.Errorf("sandbox: load %s: %w", path, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return seq, s.restoreLocked(st)
}

func decodeSnapshot(b []byte) (State, uint64, error) {
	var sn snapshot
	if err := json.Unmarshal(b, &sn); err != nil {
		return State{}, 0, err
	}
	return sn.State, sn.JournalSeq, nil
}

// serveState answers GET /_sandbox/state with State as JSON.
func (s *Server) serveState(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	writeJSON(w, http.StatusOK, s.State())
}

// serveReset answers POST /_sandbox/reset by emptying the state (rate limiters
// and fault counters keep running).
func (s *Server) serveReset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	s.resetState()
	var seq uint64
	var err error
	if s.journal != nil {
		seq, err = s.journal.append(recReset, time.Time{}, tencentim.Command{}, nil, nil)
	}
	s.mu.Unlock()
	if err == nil {
		err = s.durable(seq)
	}
	if err != nil {
		writeEnvelope(w, tencentim.Command{}, errf(codeInternalServer, "sandbox: "+err.Error()))
		return
	}
	writeResponse(w, tencentim.Command{}, &tencentim.Envelope{})
}

package load

import (
	"encoding/json"

	"github.com/immigrate/immigrate/tencentim"
)

// Typed records for the tests' in-memory sources: each becomes the Record the
// plan would spool (Record.Payload = json.Marshal of the phase's payload type).

type recorder interface{ record() (Record, error) }

func newRecord(it Item, stream string, payload any) (Record, error) {
	raw, err := json.Marshal(payload)
	return Record{Item: it, Stream: stream, Payload: raw}, err
}

// Account is one account to import.
type Account struct {
	Item
	Req tencentim.AccountImportRequest
}

func (a Account) record() (Record, error) { return newRecord(a.Item, "", a.Req) }

// Group is one group to import.
type Group struct {
	Item
	Req tencentim.ImportGroupRequest
}

func (g Group) record() (Record, error) { return newRecord(g.Item, g.Req.GroupID, g.Req) }

// Member is one member of GroupID.
type Member struct {
	Item
	GroupID string
	M       tencentim.ImportMember
}

func (m Member) record() (Record, error) { return newRecord(m.Item, m.GroupID, m.M) }

// GroupMessage is one message of GroupID.
type GroupMessage struct {
	Item
	GroupID string
	Msg     tencentim.GroupMsg
}

func (m GroupMessage) record() (Record, error) { return newRecord(m.Item, m.GroupID, m.Msg) }

// DirectMessage is one one-to-one message.
type DirectMessage struct {
	Item
	Req tencentim.ImportMsgRequest
}

func (m DirectMessage) record() (Record, error) {
	return newRecord(m.Item, ConversationStream(m.Req.FromAccount, m.Req.ToAccount), m.Req)
}

// Unread restores one member's unread count.
type Unread struct {
	Item
	Req tencentim.SetUnreadMsgNumRequest
}

func (u Unread) record() (Record, error) { return newRecord(u.Item, u.Req.GroupID, u.Req) }

// Friend is one friend_import item in the list of From.
type Friend struct {
	Item
	From string
	Req  tencentim.AddFriendItem
}

func (f Friend) record() (Record, error) { return newRecord(f.Item, f.From, f.Req) }

// Profile is one portrait_set request.
type Profile struct {
	Item
	Req tencentim.PortraitSetRequest
}

func (p Profile) record() (Record, error) { return newRecord(p.Item, "", p.Req) }

// conversationKey is ConversationStream, under the name the tests use.
func conversationKey(from, to string) string { return ConversationStream(from, to) }

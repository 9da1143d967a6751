package extract

import (
	"strconv"
	"time"
)

// Entity names a kind of legacy record. Its value is the key used in the mapping file.
type Entity string

// The legacy entities, in the order a migration needs them.
const (
	Users          Entity = "users"
	Groups         Entity = "groups"
	Members        Entity = "group_members"
	GroupMessages  Entity = "group_messages"
	DirectMessages Entity = "direct_messages"
	Friends        Entity = "friends"
)

// Entities returns every entity, in migration order.
func Entities() []Entity {
	return []Entity{Users, Groups, Members, GroupMessages, DirectMessages, Friends}
}

// Valid reports whether e is one of the known entities.
func (e Entity) Valid() bool {
	_, ok := entityFields[e]
	return ok
}

// entityFields holds the canonical field names of each entity, in the order the
// readers project them. The mapping file maps source columns onto these names.
var entityFields = map[Entity][]string{
	Users:   {"id", "nick", "face_url", "created_at"},
	Groups:  {"id", "owner_id", "type", "name", "introduction", "notification", "face_url", "max_members", "created_at"},
	Members: {"group_id", "user_id", "role", "joined_at", "unread"},
	GroupMessages: {"id", "group_id", "sender_id", "sent_at", "kind", "text", "payload", "url", "file_name",
		"size", "width", "height", "duration"},
	DirectMessages: {"id", "sender_id", "recipient_id", "sent_at", "kind", "text", "payload", "url", "file_name",
		"size", "width", "height", "duration"},
	Friends: {"user_id", "friend_id", "remark", "added_at"},
}

// entityRequired holds the fields without which a record is skipped as a BadRow.
var entityRequired = map[Entity][]string{
	Users:          {"id"},
	Groups:         {"id"},
	Members:        {"group_id", "user_id"},
	GroupMessages:  {"id", "group_id", "sender_id", "sent_at"},
	DirectMessages: {"id", "sender_id", "recipient_id", "sent_at"},
	Friends:        {"user_id", "friend_id"},
}

// Fields returns the canonical field names of e (nil for an unknown entity). The
// caller must not modify the slice.
func Fields(e Entity) []string { return entityFields[e] }

// Required returns the canonical fields of e that must be non-empty (nil for an
// unknown entity). The caller must not modify the slice.
func Required(e Entity) []string { return entityRequired[e] }

// Origin says where a record came from, for reports and rejects.
//
// CSV: Source is the file name as configured and Line the 1-based physical line where
// the record starts (quoted fields may span lines). PostgreSQL: Source is the entity
// label, Line is 0 and Key is the record's key, e.g. "id=42" or
// "group_id=g1,user_id=u2".
type Origin struct {
	Source string
	Line   int64
	Key    string
}

// String renders the origin as "users.csv:12" or "users[id=42]".
func (o Origin) String() string {
	if o.Line > 0 {
		return o.Source + ":" + strconv.FormatInt(o.Line, 10)
	}
	if o.Key != "" {
		return o.Source + "[" + o.Key + "]"
	}
	return o.Source
}

// User is a legacy account.
type User struct {
	ID        string
	Nick      string
	FaceURL   string
	CreatedAt time.Time
	Origin    Origin
}

// Group is a legacy group.
type Group struct {
	ID           string
	OwnerID      string
	Type         string
	Name         string
	Introduction string
	Notification string
	FaceURL      string
	MaxMembers   int
	CreatedAt    time.Time
	Origin       Origin
}

// Member is one user's membership of one group.
type Member struct {
	GroupID  string
	UserID   string
	Role     string
	JoinedAt time.Time
	// Unread is the member's unread message count; HasUnread says whether the source
	// had a value at all (an empty cell is "unknown", not zero).
	Unread    int
	HasUnread bool
	Origin    Origin
}

// Message is a legacy message. GroupID is set for group messages, RecipientID for
// direct (one-to-one) messages. Kind is the legacy kind as the source spells it;
// transform maps it to TIM elements.
type Message struct {
	ID          string
	GroupID     string
	SenderID    string
	RecipientID string
	SentAt      time.Time
	Kind        string
	Text        string
	Payload     string
	URL         string
	FileName    string
	Size        int64
	Width       int
	Height      int
	Duration    int
	Origin      Origin
}

// Friend is one direction of a legacy friendship.
type Friend struct {
	UserID   string
	FriendID string
	Remark   string
	AddedAt  time.Time
	Origin   Origin
}

// ConversationKey returns the ordered pair identifying the one-to-one conversation
// between a and b: the same for (a, b) and (b, a). Strings compare bytewise.
func ConversationKey(a, b string) (lo, hi string) {
	if b < a {
		return b, a
	}
	return a, b
}

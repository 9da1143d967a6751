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
	// Topics are the topics of topic-enabled Community groups (spec §8.11).
	Topics Entity = "topics"
	// GroupDMs are conversations of three or more people that have no group in
	// the source (a Slack mpim, a Mattermost G channel, a Zulip huddle); each is
	// imported as a group of the mapping's group_dms.type.
	GroupDMs Entity = "group_dms"
	// Profiles is no source entity of its own: it names the profile fields of
	// users (imported by portrait_set, spec §4) in counts, issues and rejects, so
	// that a bad profile value rejects the profile and never the account. It is
	// not among Entities, and a mapping cannot name it.
	Profiles Entity = "profiles"
)

// Entities returns every entity, in migration order.
func Entities() []Entity {
	return []Entity{Users, Groups, Topics, GroupDMs, Members, GroupMessages, DirectMessages, Friends}
}

// Valid reports whether e is one of the known entities.
func (e Entity) Valid() bool {
	_, ok := entityFields[e]
	return ok
}

// entityFields holds the canonical field names of each entity, in the order the
// readers project them. The mapping file maps source columns onto these names.
var entityFields = map[Entity][]string{
	Users: {"id", "nick", "face_url", "created_at",
		"gender", "birthday", "location", "signature", "allow_type", "language", "level", "role"},
	Groups: {"id", "owner_id", "type", "name", "introduction", "notification", "face_url", "max_members", "created_at",
		"support_topic"},
	Members: {"group_id", "user_id", "role", "joined_at", "unread"},
	GroupMessages: {"id", "group_id", "sender_id", "sent_at", "kind", "text", "payload", "url", "file_name",
		"size", "width", "height", "duration", "attachments", "reply_to", "thread_id", "edited_at", "reactions", "topic_id"},
	DirectMessages: {"id", "sender_id", "recipient_id", "sent_at", "kind", "text", "payload", "url", "file_name",
		"size", "width", "height", "duration", "attachments", "reply_to", "thread_id", "edited_at", "reactions"},
	Friends: {"user_id", "friend_id", "remark", "added_at", "group"},
	Topics:  {"id", "group_id", "name", "creator_id", "introduction", "notification", "face_url", "created_at"},

	// members is a list of user ids (see GroupDM.Members).
	GroupDMs: {"id", "members", "created_at", "name", "creator_id"},
}

// entityRequired holds the fields without which a record is skipped as a BadRow.
var entityRequired = map[Entity][]string{
	Users:          {"id"},
	Groups:         {"id"},
	Members:        {"group_id", "user_id"},
	GroupMessages:  {"id", "group_id", "sender_id", "sent_at"},
	DirectMessages: {"id", "sender_id", "recipient_id", "sent_at"},
	Friends:        {"user_id", "friend_id"},
	Topics:         {"id", "group_id"},
	GroupDMs:       {"id", "members"},
}

// entityOptional holds the fields a record can lose: when one of them cannot be
// read (invalid UTF-8, a bad number or timestamp), the record is read without it
// unless Options.RejectUnreadable. They are the fields that neither identify,
// order nor link a record and that the target can do without: profile and group
// attributes (which can also be set after the import), a member's role and unread
// count, a friend's remark and time. A member's join time orders its stream, so it
// is not one of them. Messages have none: an imported
// message cannot be changed, and one without its text, kind or media metadata is
// a different message, so a message field that cannot be read skips the message.
var entityOptional = map[Entity][]string{
	Users: {"nick", "face_url", "created_at",
		"gender", "birthday", "location", "signature", "allow_type", "language", "level", "role"},
	Groups:  {"introduction", "notification", "face_url", "max_members", "created_at"},
	Members: {"role", "unread"},
	Friends: {"remark", "added_at", "group"},
	Topics:  {"introduction", "notification", "face_url"},

	GroupDMs: {"name"}, // an unreadable name is generated instead
}

// Fields returns the canonical field names of e (nil for an unknown entity). The
// caller must not modify the slice.
func Fields(e Entity) []string { return entityFields[e] }

// Required returns the canonical fields of e that must be non-empty (nil for an
// unknown entity). The caller must not modify the slice.
func Required(e Entity) []string { return entityRequired[e] }

// Optional returns the canonical fields of e that a record can lose when they
// cannot be read (nil for an entity without such fields). The caller must not
// modify the slice.
func Optional(e Entity) []string { return entityOptional[e] }

// DroppedField is an optional field that could not be read and was left out of
// its record (see Optional and Options.RejectUnreadable).
type DroppedField struct {
	// Field is the canonical field name.
	Field string
	// Rule is why it could not be read: RuleInvalidUTF8, RuleNumber or
	// RuleTimestamp.
	Rule string
	// Message names the field, its source column and the problem, like a
	// BadRow's.
	Message string
}

func (d DroppedField) String() string { return d.Field + ": " + d.Rule + ": " + d.Message }

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
	// The profile fields, as the source spells them (transform normalizes them
	// into portrait_set tags, spec §4): gender, birthday (a date or yyyymmdd),
	// location, self-signature, friend-request policy, and the numbers language,
	// level and role.
	Gender, Birthday, Location, Signature, AllowType string
	Language, Level, Role                            string
	// Custom holds the non-empty custom profile fields (EntitySource.Custom), in
	// the order of their names.
	Custom []CustomField
	Origin Origin
	// Dropped lists the optional fields that could not be read; nil for most
	// records.
	Dropped []DroppedField
}

// CustomField is one custom profile field of a user: Name is the custom tag's
// name without Tag_Profile_Custom_ (EntitySource.Custom).
type CustomField struct {
	Name, Value string
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
	// SupportTopic marks a Community group whose messages live in topics (spec
	// §8.7, §8.11): the support_topic field is true, t, yes, y or 1.
	SupportTopic bool
	Origin       Origin
	Dropped      []DroppedField // see User.Dropped
}

// Topic is one topic of a topic-enabled Community group (spec §8.11).
type Topic struct {
	ID           string
	GroupID      string
	Name         string
	CreatorID    string
	Introduction string
	Notification string
	FaceURL      string
	CreatedAt    time.Time
	Origin       Origin
	Dropped      []DroppedField // see User.Dropped
}

// GroupDM is a conversation of three or more people without a group of its own
// in the source. Its messages are group_messages rows whose group_id is its ID.
type GroupDM struct {
	ID string
	// Members are the participants' legacy user ids as the source lists them
	// (the members field: a JSON array of ids, or a PostgreSQL array), duplicates
	// and all; transform checks them.
	Members   []string
	CreatedAt time.Time
	// Name is the source's name for the conversation, "" for most: transform
	// generates one from the members' nicks.
	Name      string
	CreatorID string
	Origin    Origin
	Dropped   []DroppedField // see User.Dropped
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
	Dropped   []DroppedField // see User.Dropped
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
	// Attachments is a JSON array of media objects ({kind, url, file_name, size,
	// width, height, duration, thumb_url}) that follow the message's own element
	// in its MsgBody: a post with a caption and files is one record, so that
	// stream order, ids and resume positions stay one per legacy message. The
	// reader passes it through; transform parses and validates it.
	Attachments string
	// ReplyTo and ThreadID are the legacy ids of the message this one answers and
	// of its thread's root; EditedAt is its last edit; Reactions is JSON as the
	// source holds it. They go into CloudCustomData (transform).
	ReplyTo   string
	ThreadID  string
	EditedAt  time.Time
	Reactions string
	// TopicID is the legacy topic of a group message ("" for the group's own):
	// each topic is a stream of its own, after the group's own messages.
	TopicID string
	Origin  Origin
}

// Friend is one direction of a legacy friendship.
type Friend struct {
	UserID   string
	FriendID string
	Remark   string
	AddedAt  time.Time
	// Group names the friend lists the friend is in (spec §5.1 GroupName): one
	// name, or a JSON array of names.
	Group   string
	Origin  Origin
	Dropped []DroppedField // see User.Dropped
}

// ConversationKey returns the ordered pair identifying the one-to-one conversation
// between a and b: the same for (a, b) and (b, a). Strings compare bytewise.
func ConversationKey(a, b string) (lo, hi string) {
	if b < a {
		return b, a
	}
	return a, b
}

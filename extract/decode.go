package extract

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Canonical field positions, matching entityFields. Decoders index a row of values in
// canonical order with these.
const (
	fUserID, fUserNick, fUserFaceURL, fUserCreatedAt          = 0, 1, 2, 3
	fUserGender, fUserBirthday, fUserLocation, fUserSignature = 4, 5, 6, 7
	fUserAllowType, fUserLanguage, fUserLevel, fUserRole      = 8, 9, 10, 11
	fUserCustom                                               = 12 // the first custom field (sourceFields)

	fGroupID, fGroupOwnerID, fGroupType, fGroupName, fGroupIntroduction  = 0, 1, 2, 3, 4
	fGroupNotification, fGroupFaceURL, fGroupMaxMembers, fGroupCreatedAt = 5, 6, 7, 8
	fGroupSupportTopic                                                   = 9

	fTopicID, fTopicGroupID, fTopicName, fTopicCreatorID, fTopicIntroduction = 0, 1, 2, 3, 4
	fTopicNotification, fTopicFaceURL, fTopicCreatedAt                       = 5, 6, 7

	fMemberGroupID, fMemberUserID, fMemberRole, fMemberJoinedAt, fMemberUnread = 0, 1, 2, 3, 4

	// Messages of both kinds share id, sent_at and the content fields; positions 1
	// and 2 are group_id, sender_id (group) or sender_id, recipient_id (direct).
	fMsgID, fMsgSentAt, fMsgKind, fMsgText, fMsgPayload, fMsgURL, fMsgFileName = 0, 3, 4, 5, 6, 7, 8
	fMsgSize, fMsgWidth, fMsgHeight, fMsgDuration                              = 9, 10, 11, 12
	fMsgAttachments, fMsgReplyTo, fMsgThreadID, fMsgEditedAt, fMsgReactions    = 13, 14, 15, 16, 17
	fMsgTopicID                                                                = 18 // group messages only

	fFriendUserID, fFriendFriendID, fFriendRemark, fFriendAddedAt = 0, 1, 2, 3
	fFriendGroup                                                  = 4
)

// maxFields is the largest number of canonical fields of any entity.
const maxFields = 19

// maxRowFields is the most fields of one source row: the canonical ones and the
// custom profile fields of users.
const maxRowFields = maxFields + MaxCustomFields

// timeField is the canonical position of each entity's one time field.
var timeField = map[Entity]int{
	Users: fUserCreatedAt, Groups: fGroupCreatedAt, Members: fMemberJoinedAt,
	GroupMessages: fMsgSentAt, DirectMessages: fMsgSentAt, Friends: fFriendAddedAt, Topics: fTopicCreatedAt,
	GroupDMs: fDMCreatedAt,
}

// decoder turns one source row, as values in canonical field order ("" for an empty,
// NULL or absent value), into a record, or reports why it cannot.
type decoder struct {
	entity   Entity
	fields   []string // canonical names
	columns  []string // source column of each field, "" if absent
	required []int
	// droppable marks, per canonical field, an optional field that is dropped
	// rather than skipping the record when it cannot be read; all false under
	// Options.RejectUnreadable.
	droppable [maxRowFields]bool
	// custom names the custom profile fields after the canonical ones (users).
	custom []string
	// dropped collects the current row's dropped fields; reset starts a row and
	// takeDropped hands them to its record.
	dropped []DroppedField
	time    timeParser
	// anyTime reads a message's edited_at when the entity's format does not:
	// PostgreSQL prints a native timestamptz column in that form whatever the
	// entity's time format (which the send time's column decides).
	anyTime timeParser
	onBad   func(BadRow)
}

func newDecoder(e Entity, columns, custom []string, tf TimeFormat, opt Options) *decoder {
	fields := entityFields[e]
	if len(custom) > 0 {
		fields = slices.Clone(fields)
		for _, name := range custom {
			fields = append(fields, customPrefix+name)
		}
	}
	d := &decoder{entity: e, fields: fields, columns: columns, custom: custom, time: newTimeParser(tf),
		anyTime: newTimeParser(TimeTimestamptz), onBad: opt.OnBadRow}
	for _, name := range entityRequired[e] {
		for i, f := range d.fields {
			if f == name {
				d.required = append(d.required, i)
			}
		}
	}
	if !opt.RejectUnreadable {
		for _, name := range entityOptional[e] {
			for i, f := range d.fields {
				if f == name {
					d.droppable[i] = true
				}
			}
		}
		// Custom profile fields are profile attributes like the others.
		for i := len(entityFields[e]); i < len(d.fields); i++ {
			d.droppable[i] = true
		}
	}
	return d
}

// reset starts a row: the dropped fields of the previous one are forgotten.
func (d *decoder) reset() { d.dropped = nil }

// drop leaves optional field i out of the current row's record.
func (d *decoder) drop(v []string, i int, rule, format string, args ...any) {
	v[i] = ""
	d.dropped = append(d.dropped, DroppedField{Field: d.fields[i], Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// takeDropped returns the current row's dropped fields for its record.
func (d *decoder) takeDropped() []DroppedField {
	out := d.dropped
	d.dropped = nil
	return out
}

// bad reports a skipped row; v is its values in canonical order, nil when the row
// could not be split into fields. It is off the hot path, so it may allocate.
func (d *decoder) bad(v []string, o Origin, rule, format string, args ...any) {
	d.dropped = nil
	if d.onBad != nil {
		d.onBad(BadRow{Entity: d.entity, Origin: o, LegacyID: d.legacyID(v), Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
}

// legacyID is the legacy id of a row as transform spells it, or "" when a part of
// it is empty or not valid UTF-8.
func (d *decoder) legacyID(v []string) string {
	if v == nil {
		return ""
	}
	parts := 1
	if d.entity == Members || d.entity == Friends {
		parts = 2 // group_id/user_id, user_id/friend_id: the first two fields
	}
	for _, p := range v[:parts] {
		if p == "" || !utf8.ValidString(p) {
			return ""
		}
	}
	if parts == 2 {
		return v[0] + "/" + v[1]
	}
	return v[0]
}

// describe names field i and, when it differs, the source column it came from.
func (d *decoder) describe(i int) string {
	if c := d.columns[i]; c != "" && c != d.fields[i] {
		return strconv.Quote(d.fields[i]) + " (column " + strconv.Quote(c) + ")"
	}
	return strconv.Quote(d.fields[i])
}

func (d *decoder) checkRequired(v []string, o Origin) bool {
	for _, i := range d.required {
		if v[i] == "" {
			d.bad(v, o, RuleMissing, "required field %s is empty", d.describe(i))
			return false
		}
	}
	return true
}

func (d *decoder) timeAt(v []string, i int, o Origin) (time.Time, bool) {
	if v[i] == "" {
		return time.Time{}, true
	}
	t, err := d.time.parse(v[i])
	if err != nil {
		if d.droppable[i] {
			d.drop(v, i, RuleTimestamp, "field %s: %v", d.describe(i), err)
			return time.Time{}, true
		}
		d.bad(v, o, RuleTimestamp, "field %s: %v", d.describe(i), err)
		return time.Time{}, false
	}
	return t, true
}

func (d *decoder) intAt(v []string, i int, o Origin) (int, bool) {
	n, ok := d.int64At(v, i, o)
	return int(n), ok
}

func (d *decoder) int64At(v []string, i int, o Origin) (int64, bool) {
	if v[i] == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v[i], 10, 64)
	if err != nil {
		if d.droppable[i] {
			d.drop(v, i, RuleNumber, "field %s: %q is not an integer", d.describe(i), v[i])
			return 0, true
		}
		d.bad(v, o, RuleNumber, "field %s: %q is not an integer", d.describe(i), v[i])
		return 0, false
	}
	return n, true
}

func (d *decoder) user(v []string, o Origin) (User, bool) {
	if !d.checkRequired(v, o) {
		return User{}, false
	}
	t, ok := d.timeAt(v, fUserCreatedAt, o)
	if !ok {
		return User{}, false
	}
	u := User{ID: v[fUserID], Nick: v[fUserNick], FaceURL: v[fUserFaceURL], CreatedAt: t,
		Gender: v[fUserGender], Birthday: v[fUserBirthday], Location: v[fUserLocation], Signature: v[fUserSignature],
		AllowType: v[fUserAllowType], Language: v[fUserLanguage], Level: v[fUserLevel], Role: v[fUserRole],
		Origin: o}
	for i, name := range d.custom {
		if c := v[fUserCustom+i]; c != "" {
			u.Custom = append(u.Custom, CustomField{Name: name, Value: c})
		}
	}
	u.Dropped = d.takeDropped()
	return u, true
}

func (d *decoder) group(v []string, o Origin) (Group, bool) {
	if !d.checkRequired(v, o) {
		return Group{}, false
	}
	t, ok := d.timeAt(v, fGroupCreatedAt, o)
	if !ok {
		return Group{}, false
	}
	maxMembers, ok := d.intAt(v, fGroupMaxMembers, o)
	if !ok {
		return Group{}, false
	}
	return Group{
		ID: v[fGroupID], OwnerID: v[fGroupOwnerID], Type: v[fGroupType], Name: v[fGroupName],
		Introduction: v[fGroupIntroduction], Notification: v[fGroupNotification], FaceURL: v[fGroupFaceURL],
		MaxMembers: maxMembers, CreatedAt: t, SupportTopic: truthy(v[fGroupSupportTopic]), Origin: o,
		Dropped: d.takeDropped(),
	}, true
}

// truthy reads a boolean flag column as PostgreSQL prints booleans (t/f) or as
// exports spell them.
func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "y", "yes":
		return true
	}
	return false
}

func (d *decoder) topic(v []string, o Origin) (Topic, bool) {
	if !d.checkRequired(v, o) {
		return Topic{}, false
	}
	t, ok := d.timeAt(v, fTopicCreatedAt, o)
	if !ok {
		return Topic{}, false
	}
	return Topic{
		ID: v[fTopicID], GroupID: v[fTopicGroupID], Name: v[fTopicName], CreatorID: v[fTopicCreatorID],
		Introduction: v[fTopicIntroduction], Notification: v[fTopicNotification], FaceURL: v[fTopicFaceURL],
		CreatedAt: t, Origin: o, Dropped: d.takeDropped(),
	}, true
}

func (d *decoder) member(v []string, o Origin) (Member, bool) {
	if !d.checkRequired(v, o) {
		return Member{}, false
	}
	t, ok := d.timeAt(v, fMemberJoinedAt, o)
	if !ok {
		return Member{}, false
	}
	unread, ok := d.intAt(v, fMemberUnread, o)
	if !ok {
		return Member{}, false
	}
	return Member{
		GroupID: v[fMemberGroupID], UserID: v[fMemberUserID], Role: v[fMemberRole], JoinedAt: t,
		Unread: unread, HasUnread: v[fMemberUnread] != "", Origin: o, Dropped: d.takeDropped(),
	}, true
}

func (d *decoder) message(v []string, o Origin) (Message, bool) {
	if !d.checkRequired(v, o) {
		return Message{}, false
	}
	t, ok := d.timeAt(v, fMsgSentAt, o)
	if !ok {
		return Message{}, false
	}
	m := Message{
		ID: v[fMsgID], SentAt: t, Kind: v[fMsgKind], Text: v[fMsgText], Payload: v[fMsgPayload],
		URL: v[fMsgURL], FileName: v[fMsgFileName], Attachments: v[fMsgAttachments],
		ReplyTo: v[fMsgReplyTo], ThreadID: v[fMsgThreadID], Reactions: v[fMsgReactions], Origin: o,
	}
	if s := v[fMsgEditedAt]; s != "" {
		at, err := d.time.parse(s)
		if err != nil {
			if at, err = d.anyTime.parse(s); err != nil {
				d.bad(v, o, RuleTimestamp, "field %s: %v", d.describe(fMsgEditedAt), err)
				return Message{}, false
			}
		}
		m.EditedAt = at
	}
	if d.entity == GroupMessages {
		m.GroupID, m.SenderID, m.TopicID = v[1], v[2], v[fMsgTopicID]
	} else {
		m.SenderID, m.RecipientID = v[1], v[2]
	}
	if m.Size, ok = d.int64At(v, fMsgSize, o); !ok {
		return Message{}, false
	}
	if m.Width, ok = d.intAt(v, fMsgWidth, o); !ok {
		return Message{}, false
	}
	if m.Height, ok = d.intAt(v, fMsgHeight, o); !ok {
		return Message{}, false
	}
	if m.Duration, ok = d.intAt(v, fMsgDuration, o); !ok {
		return Message{}, false
	}
	return m, true
}

func (d *decoder) friend(v []string, o Origin) (Friend, bool) {
	if !d.checkRequired(v, o) {
		return Friend{}, false
	}
	t, ok := d.timeAt(v, fFriendAddedAt, o)
	if !ok {
		return Friend{}, false
	}
	return Friend{UserID: v[fFriendUserID], FriendID: v[fFriendFriendID], Remark: v[fFriendRemark], AddedAt: t, Group: v[fFriendGroup],
		Origin: o, Dropped: d.takeDropped()}, true
}

// compareIDs orders legacy message ids shortlex: by length, then bytewise, which is
// numeric order for integer ids ("9" < "10").
func compareIDs(a, b string) int {
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// compareGroupMessages is the GroupMessages stream order: group, topic (the
// group's own messages first), time, id.
func compareGroupMessages(a, b *Message) int {
	if c := strings.Compare(a.GroupID, b.GroupID); c != 0 {
		return c
	}
	if c := strings.Compare(a.TopicID, b.TopicID); c != 0 {
		return c
	}
	if c := a.SentAt.Compare(b.SentAt); c != 0 {
		return c
	}
	return compareIDs(a.ID, b.ID)
}

// compareDirectMessages is the DirectMessages stream order: conversation, time, id.
func compareDirectMessages(a, b *Message) int {
	alo, ahi := ConversationKey(a.SenderID, a.RecipientID)
	blo, bhi := ConversationKey(b.SenderID, b.RecipientID)
	if c := strings.Compare(alo, blo); c != 0 {
		return c
	}
	if c := strings.Compare(ahi, bhi); c != 0 {
		return c
	}
	if c := a.SentAt.Compare(b.SentAt); c != 0 {
		return c
	}
	return compareIDs(a.ID, b.ID)
}

// compareMembers is the Members order: group, join time, user.
func compareMembers(a, b *Member) int {
	if c := strings.Compare(a.GroupID, b.GroupID); c != 0 {
		return c
	}
	if c := a.JoinedAt.Compare(b.JoinedAt); c != 0 {
		return c
	}
	return strings.Compare(a.UserID, b.UserID)
}

// compareFriends is the Friends order: user, then friend.
func compareFriends(a, b *Friend) int {
	if c := strings.Compare(a.UserID, b.UserID); c != 0 {
		return c
	}
	return strings.Compare(a.FriendID, b.FriendID)
}

package transform

import (
	"fmt"
	"slices"
	"strings"

	"github.com/immigrate/immigrate/extract"
)

// Severity says what an issue does to its record.
type Severity int

// Severities. A record is rejected (OK=false) only with at least one Reject issue,
// except the documented skip-by-policy outcome of RuleMemberOwnerRow (a Warning
// with OK=false).
const (
	// Reject: the record is not imported.
	Reject Severity = iota + 1
	// Repair: the record is imported with a changed value (truncation, rewrite,
	// clamp, conversion).
	Repair
	// Warning: the record is imported as is, but something deserves attention.
	Warning
)

func (s Severity) String() string {
	switch s {
	case Reject:
		return "reject"
	case Repair:
		return "repair"
	case Warning:
		return "warning"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText renders the severity as "reject", "repair" or "warning" in JSON and
// YAML.
func (s Severity) MarshalText() ([]byte, error) {
	switch s {
	case Reject, Repair, Warning:
		return []byte(s.String()), nil
	}
	return nil, fmt.Errorf("invalid severity %d", int(s))
}

// UnmarshalText parses what MarshalText writes.
func (s *Severity) UnmarshalText(b []byte) error {
	for _, v := range []Severity{Reject, Repair, Warning} {
		if strings.EqualFold(string(b), v.String()) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("invalid severity %q", b)
}

// Issue is one finding about one legacy record.
type Issue struct {
	Entity extract.Entity
	Origin extract.Origin
	// LegacyID is the record's legacy id: the user, group or message id, or
	// "group/user" for a member.
	LegacyID string
	// Rule is a stable code from Rules(), e.g. "user.id.too_long".
	Rule     string
	Severity Severity
	// Message is a human sentence naming the value and the limit. It never holds a
	// secret.
	Message string
}

// RuleInfo describes one rule of the catalog.
type RuleInfo struct {
	Code     string
	Severity Severity
	Summary  string
	Spec     string // the spec digest or design section, e.g. "§8.4" or "design §7 A4"
}

// The rule codes. They are stable: reports, rejects.jsonl and tests key on them.
const (
	RuleUserIDEmpty          = "user.id.empty"
	RuleUserIDTooLong        = "user.id.too_long"
	RuleUserIDInvalidChars   = "user.id.invalid_chars"
	RuleUserIDReservedPrefix = "user.id.reserved_prefix"
	RuleUserIDRewritten      = "user.id.rewritten"
	RuleUserIDUnusualChars   = "user.id.unusual_chars"
	RuleUserIDDuplicate      = "user.id.duplicate"
	RuleUserNickTooLong      = "user.nick.too_long"
	RuleUserNickTruncated    = "user.nick.truncated"
	RuleUserFaceURLTooLong   = "user.face_url.too_long"
	RuleUserFaceURLTruncated = "user.face_url.truncated"
	RuleAccountEditionLimit  = "account.edition_limit"
	RuleAccountImplied       = "account.implied"

	RuleGroupIDInvalid             = "group.id.invalid"
	RuleGroupIDRewritten           = "group.id.rewritten"
	RuleGroupIDDuplicate           = "group.id.duplicate"
	RuleGroupTypeMissing           = "group.type.missing"
	RuleGroupTypeUnmapped          = "group.type.unmapped"
	RuleGroupTypeAVChatRoom        = "group.type.avchatroom"
	RuleGroupOwnerUnknown          = "group.owner.unknown"
	RuleGroupOwnerRejected         = "group.owner.rejected"
	RuleGroupNameEmpty             = "group.name.empty"
	RuleGroupNameTooLong           = "group.name.too_long"
	RuleGroupNameTruncated         = "group.name.truncated"
	RuleGroupIntroductionTooLong   = "group.introduction.too_long"
	RuleGroupIntroductionTruncated = "group.introduction.truncated"
	RuleGroupNotificationTooLong   = "group.notification.too_long"
	RuleGroupNotificationTruncated = "group.notification.truncated"
	RuleGroupFaceURLTooLong        = "group.face_url.too_long"
	RuleGroupFaceURLTruncated      = "group.face_url.truncated"
	RuleGroupMaxMembersCapped      = "group.max_members.capped"
	RuleGroupMaxMembersInvalid     = "group.max_members.invalid"
	RuleGroupMaxMembersRaised      = "group.max_members.raised"
	RuleGroupCreateTimeFuture      = "group.create_time.future"
	RuleGroupCreateTimeInvalid     = "group.create_time.invalid"
	RuleGroupCreateTimeDerived     = "group.create_time.derived"
	RuleGroupCreateTimeClamped     = "group.create_time.clamped"
	RuleGroupCreateTimeConflict    = "group.create_time.conflict"

	RuleMemberGroupUnknown    = "member.group.unknown"
	RuleMemberGroupRejected   = "member.group.rejected"
	RuleMemberUserUnknown     = "member.user.unknown"
	RuleMemberUserRejected    = "member.user.rejected"
	RuleMemberOwnerRow        = "member.owner_row"
	RuleMemberRoleUnmapped    = "member.role.unmapped"
	RuleMemberRoleExtraOwner  = "member.role.extra_owner"
	RuleMemberDuplicate       = "member.duplicate"
	RuleMemberJoinTimeFuture  = "member.join_time.future"
	RuleMemberJoinTimeInvalid = "member.join_time.invalid"
	RuleMemberJoinTimeMissing = "member.join_time.missing"
	RuleMemberGroupFull       = "member.group_full"
	RuleMemberUnreadInvalid   = "member.unread.invalid"

	RuleGroupMessageGroupUnknown   = "group_message.group.unknown"
	RuleGroupMessageGroupRejected  = "group_message.group.rejected"
	RuleGroupMessageSenderUnknown  = "group_message.sender.unknown"
	RuleGroupMessageSenderRejected = "group_message.sender.rejected"
	RuleGroupMessageMediaConverted = "group_message.media_converted"
	RuleGroupMessageMediaRejected  = "group_message.media_rejected"
	RuleGroupMessageOutOfOrder     = "group_message.time.out_of_order"
	RuleGroupMessageRandomRehashed = "group_message.random.rehashed"
	RuleGroupMessageTopicUnknown   = "group_message.topic.unknown"
	RuleGroupMessageTopicRejected  = "group_message.topic.rejected"

	RuleGroupTopicsNotCommunity = "group.support_topic.not_community"

	RuleTopicIDDuplicate       = "topic.id.duplicate"
	RuleTopicIDInvalid         = "topic.id.invalid"
	RuleTopicGroupUnknown      = "topic.group.unknown"
	RuleTopicGroupRejected     = "topic.group.rejected"
	RuleTopicGroupNoTopics     = "topic.group.no_topics"
	RuleTopicNameEmpty         = "topic.name.empty"
	RuleTopicNameTooLong       = "topic.name.too_long"
	RuleTopicNameTruncated     = "topic.name.truncated"
	RuleTopicTextTooLong       = "topic.text.too_long"
	RuleTopicTextTruncated     = "topic.text.truncated"
	RuleTopicCreatorUnknown    = "topic.creator.unknown"
	RuleTopicCreatorRejected   = "topic.creator.rejected"
	RuleTopicCreateTimeInvalid = "topic.create_time.invalid"
	RuleTopicCreateTimeDerived = "topic.create_time.derived"
	RuleTopicCreateTimeClamped = "topic.create_time.clamped"

	RuleGroupDMIDDuplicate        = "group_dm.id.duplicate"
	RuleGroupDMIDGroupClash       = "group_dm.id.group_clash"
	RuleGroupDMIDInvalid          = "group_dm.id.invalid"
	RuleGroupDMIDRewritten        = "group_dm.id.rewritten"
	RuleGroupDMIDTaken            = "group_dm.id.taken"
	RuleGroupDMMemberUnknown      = "group_dm.member.unknown"
	RuleGroupDMMemberRejected     = "group_dm.member.rejected"
	RuleGroupDMMemberDuplicate    = "group_dm.member.duplicate"
	RuleGroupDMMembersTooFew      = "group_dm.members.too_few"
	RuleGroupDMMembersTooMany     = "group_dm.members.too_many"
	RuleGroupDMCreatorNotMember   = "group_dm.creator.not_member"
	RuleGroupDMNameTooLong        = "group_dm.name.too_long"
	RuleGroupDMNameTruncated      = "group_dm.name.truncated"
	RuleGroupDMCreateTimeInvalid  = "group_dm.create_time.invalid"
	RuleGroupDMCreateTimeFuture   = "group_dm.create_time.future"
	RuleGroupDMCreateTimeClamped  = "group_dm.create_time.clamped"
	RuleGroupDMCreateTimeConflict = "group_dm.create_time.conflict"
	RuleGroupDMSenderAdded        = "group_message.dm_sender.added"
	RuleGroupDMSenderNotMember    = "group_message.dm_sender.not_member"

	RuleDirectMessageSenderUnknown     = "direct_message.sender.unknown"
	RuleDirectMessageSenderRejected    = "direct_message.sender.rejected"
	RuleDirectMessageRecipientUnknown  = "direct_message.recipient.unknown"
	RuleDirectMessageRecipientRejected = "direct_message.recipient.rejected"
	RuleDirectMessageSelf              = "direct_message.self"

	RuleMessageIDDuplicate  = "message.id.duplicate"
	RuleMessageTimeFuture   = "message.time.future"
	RuleMessageTimeInvalid  = "message.time.invalid"
	RuleMessageKindUnmapped = "message.kind.unmapped"
	RuleMessageKindAsText   = "message.kind.as_text"
	RuleMessageTextEmpty    = "message.text.empty"
	RuleMessageCustomEmpty  = "message.custom.empty"
	RuleMessageLocationBad  = "message.location.invalid"
	RuleMessageImageMissing = "message.image.missing"
	RuleMessageFileMissing  = "message.file.missing"
	RuleMessageSoundMissing = "message.sound.missing"
	RuleMessageVideoMissing = "message.video.missing"
	RuleMessageBodyTooLarge = "message.body.too_large"

	// Profile fields (spec §4): they reject the profile, never the account.
	RuleProfileGenderInvalid      = "profile.gender.invalid"
	RuleProfileBirthdayInvalid    = "profile.birthday.invalid"
	RuleProfileLocationTooLong    = "profile.location.too_long"
	RuleProfileSignatureTooLong   = "profile.signature.too_long"
	RuleProfileSignatureTruncated = "profile.signature.truncated"
	RuleProfileAllowTypeInvalid   = "profile.allow_type.invalid"
	RuleProfileLanguageInvalid    = "profile.language.invalid"
	RuleProfileLevelInvalid       = "profile.level.invalid"
	RuleProfileRoleInvalid        = "profile.role.invalid"
	RuleProfileCustomTooLong      = "profile.custom.too_long"
	RuleProfileCustomTruncated    = "profile.custom.truncated"

	RuleFriendUserUnknown         = "friend.user.unknown"
	RuleFriendUserRejected        = "friend.user.rejected"
	RuleFriendFriendUnknown       = "friend.friend.unknown"
	RuleFriendFriendRejected      = "friend.friend.rejected"
	RuleFriendSelf                = "friend.self"
	RuleFriendDuplicate           = "friend.duplicate"
	RuleFriendLimit               = "friend.limit"
	RuleFriendRemarkTooLong       = "friend.remark.too_long"
	RuleFriendRemarkTruncated     = "friend.remark.truncated"
	RuleFriendAddTimeInvalid      = "friend.add_time.invalid"
	RuleFriendAddTimeFuture       = "friend.add_time.future"
	RuleFriendGroupInvalid        = "friend.group.invalid"
	RuleFriendGroupTooLong        = "friend.group.too_long"
	RuleFriendGroupTruncated      = "friend.group.truncated"
	RuleFriendGroupLimit          = "friend.group.limit"
	RuleMessageBodyTruncated      = "message.body.truncated"
	RuleMessageAttachmentsInvalid = "message.attachments.invalid"
	RuleMessageCustomMultiple     = "message.custom.multiple"
	RuleMessageURLInvalid         = "message.url.invalid"
	RuleMessageReactionsInvalid   = "message.reactions.invalid"
	RuleGroupMessageCloudDropped  = "group_message.cloud_data.dropped"
	RuleMessageBodySplit          = "message.body.split"

	RuleDirectMessageSelfGroupClash = "direct_message.self.group_clash"

	// RuleFieldDropped is raised for each optional field the reader could not read
	// and left out (extract.Record Dropped, policies.optional_fields: repair).
	RuleFieldDropped = "field.dropped"
)

// catalog is the source of Rules(); ruleSeverity indexes it.
var catalog = []RuleInfo{
	{RuleUserIDEmpty, Reject, "user id is empty", "§3.1"},
	{RuleUserIDTooLong, Reject, "user id is longer than 32 bytes", "§3.1"},
	{RuleUserIDInvalidChars, Reject, "user id has characters outside printable ASCII 0x21-0x7e", "§3.1, design §7 A23"},
	{RuleUserIDReservedPrefix, Reject, "user id starts with @RBT#, reserved for chatbots", "§3.1"},
	{RuleUserIDRewritten, Repair, "invalid user id rewritten to a deterministic valid id (ids.invalid: rewrite)", "§3.1, design §6"},
	{RuleUserIDUnusualChars, Warning, "user id has characters outside [A-Za-z0-9_-]", "design §7 A23"},
	{RuleUserIDDuplicate, Reject, "user id seen before (or rewritten onto an existing id)", "§3.4"},
	{RuleUserNickTooLong, Reject, "nick is longer than 500 bytes (long_names: reject)", "§3.4 (40601)"},
	{RuleUserNickTruncated, Repair, "nick truncated to 500 bytes on a UTF-8 boundary", "§3.4 (40601)"},
	{RuleUserFaceURLTooLong, Reject, "face URL is longer than 500 bytes (long_names: reject)", "§3.4 (40601)"},
	{RuleUserFaceURLTruncated, Repair, "face URL truncated to 500 bytes", "§3.4 (40601)"},
	{RuleAccountEditionLimit, Reject, "account past the edition's account limit", "§3.3 (70398)"},
	{RuleAccountImplied, Warning, "user absent from users, imported as a bare account (unknown_users: import)", "§3.1"},

	{RuleGroupIDInvalid, Reject, "legacy group id cannot form a valid custom GroupId", "§8.3, design §7 A36"},
	{RuleGroupIDRewritten, Repair, "invalid custom GroupId rewritten to a deterministic valid id (ids.invalid: rewrite)", "§8.3, design §7 A36"},
	{RuleGroupIDDuplicate, Reject, "group id seen before (or mapped onto an existing GroupId)", "§8.3 (10021)"},
	{RuleGroupTypeMissing, Reject, "group has no type and there is no default_group_type", "§8.1"},
	{RuleGroupTypeUnmapped, Reject, "legacy group type not in group_types", "§8.1"},
	{RuleGroupTypeAVChatRoom, Reject, "AVChatRoom groups cannot be imported; create them with create_group", "§8.2 (10007)"},
	{RuleGroupOwnerUnknown, Reject, "group owner is not a known user", "§8.7"},
	{RuleGroupOwnerRejected, Reject, "group owner was rejected", "§8.7"},
	{RuleGroupNameEmpty, Reject, "group name is empty", "§8.4"},
	{RuleGroupNameTooLong, Reject, "group name is longer than 30 bytes (long_names: reject)", "§8.4"},
	{RuleGroupNameTruncated, Repair, "group name truncated to 30 bytes on a UTF-8 boundary", "§8.4"},
	{RuleGroupIntroductionTooLong, Reject, "group introduction is longer than 240 bytes (long_names: reject)", "§8.4"},
	{RuleGroupIntroductionTruncated, Repair, "group introduction truncated to 240 bytes on a UTF-8 boundary", "§8.4"},
	{RuleGroupNotificationTooLong, Reject, "group notification is longer than 300 bytes (long_names: reject)", "§8.4"},
	{RuleGroupNotificationTruncated, Repair, "group notification truncated to 300 bytes on a UTF-8 boundary", "§8.4"},
	{RuleGroupFaceURLTooLong, Reject, "group face URL is longer than 100 bytes (long_names: reject)", "§8.4"},
	{RuleGroupFaceURLTruncated, Repair, "group face URL truncated to 100 bytes", "§8.4"},
	{RuleGroupMaxMembersCapped, Repair, "MaxMemberCount above 6,000 (Community 100,000) lowered to the cap", "§8.4, A10"},
	{RuleGroupMaxMembersInvalid, Repair, "negative MaxMemberCount omitted (server default)", "§8.4, A10"},
	{RuleGroupMaxMembersRaised, Repair, "MaxMemberCount unset but more members than the 2,000 default: set to the member count", "§8.4, A10"},
	{RuleGroupCreateTimeFuture, Reject, "group CreateTime is in the future", "§8.7, A33"},
	{RuleGroupCreateTimeInvalid, Reject, "group CreateTime is before 1970", "§8.7"},
	{RuleGroupCreateTimeDerived, Repair, "group has no CreateTime: one second before its first member join or message", "§8.8, §8.9"},
	{RuleGroupCreateTimeClamped, Repair, "group CreateTime moved before its first member join and first message", "§8.8, §8.9, design §3"},
	{RuleGroupCreateTimeConflict, Reject, "group CreateTime not before a member join or message (group_create_time: reject)", "§8.8, §8.9"},

	{RuleMemberGroupUnknown, Reject, "member of a group absent from groups", "§8.8 (10010)"},
	{RuleMemberGroupRejected, Reject, "member of a rejected group", "§8.8"},
	{RuleMemberUserUnknown, Reject, "member is not a known user", "§8.8"},
	{RuleMemberUserRejected, Reject, "member is a rejected user", "§8.8"},
	{RuleMemberOwnerRow, Warning, "member row of the group owner, who is added by import_group: skipped by policy", "§8.7"},
	{RuleMemberRoleUnmapped, Reject, "legacy member role not in roles", "§8.5, A13"},
	{RuleMemberRoleExtraOwner, Repair, "Owner role for a user who is not the group's owner: imported as Admin", "§8.5, A13"},
	{RuleMemberDuplicate, Reject, "the same user listed twice in one group", "§8.8"},
	{RuleMemberJoinTimeFuture, Reject, "JoinTime is not before now", "§8.8"},
	{RuleMemberJoinTimeInvalid, Reject, "JoinTime is before 1970", "§8.8"},
	{RuleMemberJoinTimeMissing, Warning, "no JoinTime: the server uses the import time", "§8.8, A12"},
	{RuleMemberGroupFull, Reject, "more members than the group's MaxMemberCount", "§8.4, A10"},
	{RuleMemberUnreadInvalid, Warning, "negative unread count ignored", "§8.8"},

	{RuleGroupMessageGroupUnknown, Reject, "message of a group absent from groups", "§8.9 (10010)"},
	{RuleGroupMessageGroupRejected, Reject, "message of a rejected group", "§8.9"},
	{RuleGroupMessageSenderUnknown, Reject, "sender is not a known user", "§8.9, design §7 A14"},
	{RuleGroupMessageSenderRejected, Reject, "sender is a rejected user", "§8.9, design §7 A14"},
	{RuleGroupMessageMediaConverted, Repair, "image/file/sound/video converted for a group (group_rich_media)", "§6.1, §8.9"},
	{RuleGroupMessageMediaRejected, Reject, "image/file/sound/video in a group (group_rich_media: reject)", "§6.1, §8.9"},
	{RuleGroupMessageOutOfOrder, Reject, "message earlier than the group's previous message", "§8.9, design §7 A2"},
	{RuleGroupMessageRandomRehashed, Warning, "Random would repeat within 300 s in the group: derived another", "§8.9, design §7 A4"},
	{RuleGroupMessageTopicUnknown, Reject, "message of a topic absent from topics", "§8.9, §8.11 (10010)"},
	{RuleGroupMessageTopicRejected, Reject, "message of a rejected topic", "§8.9, §8.11"},

	{RuleGroupTopicsNotCommunity, Reject, "support_topic on a group whose type is not Community", "§8.7"},

	{RuleTopicIDDuplicate, Reject, "topic id seen before in its group", "§8.3 (10021)"},
	{RuleTopicIDInvalid, Reject, "legacy topic id cannot form a custom TopicId", "§8.3, design §7 A36"},
	{RuleTopicGroupUnknown, Reject, "topic of a group absent from groups", "§8.11 (10010)"},
	{RuleTopicGroupRejected, Reject, "topic of a rejected group", "§8.11"},
	{RuleTopicGroupNoTopics, Reject, "topic of a group that is not a topic-enabled Community", "§8.11 (11000)"},
	{RuleTopicNameEmpty, Reject, "topic name is empty", "§8.11, A20"},
	{RuleTopicNameTooLong, Reject, "topic name is longer than 30 bytes (long_names: reject)", "§8.4"},
	{RuleTopicNameTruncated, Repair, "topic name truncated to 30 bytes on a UTF-8 boundary", "§8.4"},
	{RuleTopicTextTooLong, Reject, "topic introduction, notification or face URL over its limit (long_names: reject)", "§8.4"},
	{RuleTopicTextTruncated, Repair, "topic introduction, notification or face URL truncated to its limit", "§8.4"},
	{RuleTopicCreatorUnknown, Reject, "topic creator is not a known user", "§8.11"},
	{RuleTopicCreatorRejected, Reject, "topic creator was rejected", "§8.11"},
	{RuleTopicCreateTimeInvalid, Reject, "topic CreateTime before 1970 or after now", "§8.11"},
	{RuleTopicCreateTimeDerived, Repair, "topic without CreateTime: set before its first message", "§8.9, §8.11"},
	{RuleTopicCreateTimeClamped, Repair, "topic CreateTime moved between its group's CreateTime and its first message", "§8.9, §8.11"},

	{RuleGroupDMIDDuplicate, Reject, "group DM id seen before", "§8.3 (10021)"},
	{RuleGroupDMIDGroupClash, Reject, "group DM id equal to a group id: group_messages.group_id cannot tell them apart", "§8.3"},
	{RuleGroupDMIDInvalid, Reject, "legacy group DM id cannot form a valid custom GroupId", "§8.3, design §7 A36"},
	{RuleGroupDMIDRewritten, Repair, "GroupId of a group DM rewritten (ids.invalid: rewrite)", "§8.3, design §7 A36"},
	{RuleGroupDMIDTaken, Reject, "group DM GroupId already taken by a group (set group_dms.id_prefix)", "§8.3 (10021)"},
	{RuleGroupDMMemberUnknown, Reject, "group DM member is not a known user", "§8.8"},
	{RuleGroupDMMemberRejected, Reject, "group DM member is a rejected user", "§8.8"},
	{RuleGroupDMMemberDuplicate, Repair, "the same user listed twice in one group DM: imported once", "§8.8"},
	{RuleGroupDMMembersTooFew, Reject, "group DM with fewer than 3 distinct members (2 people: direct_messages)", "§8.8, §7.1"},
	{RuleGroupDMMembersTooMany, Reject, "group DM with more members than its group type holds", "§8.4, A10"},
	{RuleGroupDMCreatorNotMember, Warning, "group DM creator not among its members: the first member owns it", "§8.7"},
	{RuleGroupDMNameTooLong, Reject, "group DM name longer than 30 bytes (long_names: reject)", "§8.4"},
	{RuleGroupDMNameTruncated, Repair, "group DM name truncated to 30 bytes on a UTF-8 boundary", "§8.4"},
	{RuleGroupDMCreateTimeInvalid, Reject, "group DM CreateTime before 1970", "§8.7"},
	{RuleGroupDMCreateTimeFuture, Reject, "group DM CreateTime is not before now", "§8.7, §8.8"},
	{RuleGroupDMCreateTimeClamped, Repair, "group DM CreateTime moved before its first message", "§8.9"},
	{RuleGroupDMCreateTimeConflict, Reject, "group DM CreateTime not before its first message (group_create_time: reject)", "§8.9"},
	{RuleGroupDMSenderAdded, Warning, "sender of a group DM message not listed among its members: added as a member", "§8.8, §8.9"},
	{RuleGroupDMSenderNotMember, Reject, "sender of a group DM message not a member, and the group is full", "§8.4, A10"},

	{RuleDirectMessageSenderUnknown, Reject, "sender is not a known user", "§7.1 (90008)"},
	{RuleDirectMessageSenderRejected, Reject, "sender is a rejected user", "§7.1"},
	{RuleDirectMessageRecipientUnknown, Reject, "recipient is not a known user", "§7.1 (90012)"},
	{RuleDirectMessageRecipientRejected, Reject, "recipient is a rejected user", "§7.1"},
	{RuleDirectMessageSelf, Reject, "sender and recipient are the same user", "§7.1"},
	{RuleDirectMessageSelfGroupClash, Reject, "self-messages group's GroupId is taken by a group of the source (policies.self_messages: to_group)", "§8.3, design §7 A36"},

	{RuleMessageIDDuplicate, Reject, "message id seen before", "design §4"},
	{RuleMessageTimeFuture, Reject, "send time is not before now", "§7.1 (A32), §8.9"},
	{RuleMessageTimeInvalid, Reject, "send time is before 1970", "§7.1, §8.9"},
	{RuleMessageKindUnmapped, Reject, "legacy message kind not in kinds (unknown_kind: reject)", "§6.1"},
	{RuleMessageKindAsText, Repair, "unmapped legacy kind imported as text (unknown_kind: text)", "§6.1"},
	{RuleMessageTextEmpty, Reject, "text message without text", "§6.2"},
	{RuleMessageCustomEmpty, Reject, "custom message without payload or text", "§6.2"},
	{RuleMessageLocationBad, Reject, "location payload without valid latitude and longitude", "§6.2"},
	{RuleMessageImageMissing, Reject, "image without URL, width or height", "§6.2"},
	{RuleMessageFileMissing, Reject, "file without URL", "§6.2"},
	{RuleMessageSoundMissing, Reject, "sound without URL", "§6.2"},
	{RuleMessageVideoMissing, Reject, "video without URL, thumbnail URL or thumbnail size", "§6.2"},
	{RuleMessageBodyTooLarge, Reject, "serialized MsgBody larger than 12,000 bytes", "§6.3, design §7 A5"},
	{RuleMessageBodyTruncated, Repair, "text cut at a UTF-8 boundary to fit 12,000 bytes (policies.oversize: truncate)", "§6.3, design §7 A5"},
	{RuleMessageBodySplit, Repair, "message over 12,000 bytes split into consecutive messages (policies.oversize: split)", "§6.3, §6.4, §7.1, §8.9, design §7 A2 A4 A5"},
	{RuleMessageAttachmentsInvalid, Reject, "attachments is not a JSON array of media objects, or one of them is not media", "§6.1, §6.2"},
	{RuleMessageCustomMultiple, Reject, "more than one TIMCustomElem in one message", "§6.2"},
	{RuleMessageURLInvalid, Reject, "rewritten media URL (messages.url_template) is not an absolute http(s) URL", "§6.2"},
	{RuleMessageReactionsInvalid, Reject, "reactions is not JSON", "§6.2 (CloudCustomData)"},
	{RuleGroupMessageCloudDropped, Warning, "CloudCustomData left out: import_group_msg does not document it", "§8.9"},

	{RuleProfileGenderInvalid, Reject, "gender that is not m/male/1, f/female/2, u/unknown/0 or Gender_Type_*", "§4.2"},
	{RuleProfileBirthdayInvalid, Reject, "birthday that is not a date (yyyy-mm-dd, yyyymmdd) before now", "§4.2 (uint32 yyyymmdd)"},
	{RuleProfileLocationTooLong, Reject, "location longer than 16 bytes", "§4.2 (40605)"},
	{RuleProfileSignatureTooLong, Reject, "signature longer than 500 bytes (long_names: reject)", "§4.1 (40601)"},
	{RuleProfileSignatureTruncated, Repair, "signature truncated to 500 bytes", "§4.1 (40601)"},
	{RuleProfileAllowTypeInvalid, Reject, "allow_type that is not need_confirm, allow_any, deny_any or AllowType_Type_*", "§4.2 (40605)"},
	{RuleProfileLanguageInvalid, Reject, "language that is not an unsigned 32-bit integer", "§4.2 (40610)"},
	{RuleProfileLevelInvalid, Reject, "level that is not an unsigned 32-bit integer", "§4.2 (40610)"},
	{RuleProfileRoleInvalid, Reject, "role that is not an unsigned 32-bit integer", "§4.2 (40610)"},
	{RuleProfileCustomTooLong, Reject, "custom profile field longer than 500 bytes (long_names: reject)", "§4.1 (40601)"},
	{RuleProfileCustomTruncated, Repair, "custom profile field truncated to 500 bytes", "§4.1 (40601)"},

	{RuleFriendUserUnknown, Reject, "friend list owner is not a known user", "§5.1 (30003)"},
	{RuleFriendUserRejected, Reject, "friend list owner is a rejected user", "§5.1"},
	{RuleFriendFriendUnknown, Reject, "friend is not a known user", "§5.1 (30003)"},
	{RuleFriendFriendRejected, Reject, "friend is a rejected user", "§5.1"},
	{RuleFriendSelf, Reject, "user lists itself as a friend", "§5.1 (30001)"},
	{RuleFriendDuplicate, Reject, "the same friend listed twice for one user", "§5.1"},
	{RuleFriendLimit, Reject, "more than 3,000 friends for one user", "§5.1 supplement (30010)"},
	{RuleFriendRemarkTooLong, Reject, "remark longer than 96 characters (long_names: reject)", "§5.1 supplement"},
	{RuleFriendRemarkTruncated, Repair, "remark truncated to 96 characters", "§5.1 supplement"},
	{RuleFriendAddTimeInvalid, Repair, "add time before 1970 left out (the server uses the import time)", "§5.1"},
	{RuleFriendAddTimeFuture, Reject, "add time is not before now", "§5.1"},
	{RuleFriendGroupInvalid, Reject, "group is not a friend list name or a JSON array of names", "§5.1 GroupName"},
	{RuleFriendGroupTooLong, Reject, "friend list name longer than 30 characters (long_names: reject)", "§5.1 supplement"},
	{RuleFriendGroupTruncated, Repair, "friend list name truncated to 30 characters", "§5.1 supplement"},
	{RuleFriendGroupLimit, Repair, "friend lists beyond the user's 32nd left out", "§5.1 supplement (30011)"},

	{RuleFieldDropped, Repair, "optional field that could not be read (not UTF-8, not a number or time) left out (policies.optional_fields: repair)", "design §6"},
}

// Rules returns the catalog of every rule the package can emit, sorted by code.
func Rules() []RuleInfo {
	out := slices.Clone(catalog)
	slices.SortFunc(out, func(a, b RuleInfo) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// ruleSeverity maps a code to its catalog severity; issues take their severity from
// it so that a code never appears with two severities.
var ruleSeverity = func() map[string]Severity {
	m := make(map[string]Severity, len(catalog))
	for _, r := range catalog {
		m[r.Code] = r.Severity
	}
	return m
}()

package synth

import (
	"fmt"
	"slices"

	"github.com/immigrate/immigrate/extract"
)

// Kind is one kind of bad record the generator can plant. Rule and Severity are what
// the validate pipeline must report for it: the transform rule code (package
// transform's catalog) or, for records the extractor cannot read, the extract
// BadRow rule. The codes are plain strings here so that synth depends on extract
// only; a test checks them against both catalogs.
type Kind struct {
	Name     string
	Entity   extract.Entity
	Rule     string
	Severity string // "reject", "repair" or "warning"
	// CSVOnly kinds cannot exist in a typed PostgreSQL table (ragged rows, invalid
	// UTF-8, unparsable timestamps and numbers): the PostgreSQL loader leaves those
	// records out, which reads the same as a CSV reader skipping them.
	CSVOnly bool
	Help    string
}

// Severities of Kind.
const (
	SeverityReject  = "reject"
	SeverityRepair  = "repair"
	SeverityWarning = "warning"
)

// The kinds, grouped by entity. Bad users, groups and the records of unknown
// groups or conversations are extra records nobody else references, so a planted
// reject never cascades into rejects of other records; bad members and messages are
// extra records inside real groups and conversations.
var kinds = []Kind{
	{"user_id_too_long", extract.Users, "user.id.too_long", SeverityReject, false, "user id longer than 32 bytes"},
	{"user_id_invalid_chars", extract.Users, "user.id.invalid_chars", SeverityReject, false, "user id with a space"},
	{"user_id_reserved", extract.Users, "user.id.reserved_prefix", SeverityReject, false, "user id starting with @RBT#"},
	{"user_duplicate", extract.Users, "user.id.duplicate", SeverityReject, false, "a user row repeated"},
	{"user_nick_long", extract.Users, "user.nick.truncated", SeverityRepair, false, "nick longer than 500 bytes"},
	{"user_id_unusual", extract.Users, "user.id.unusual_chars", SeverityWarning, false, "user id with a dot"},

	{"group_avchatroom", extract.Groups, "group.type.avchatroom", SeverityReject, false, "a live (AVChatRoom) group"},
	{"group_type_unmapped", extract.Groups, "group.type.unmapped", SeverityReject, false, "a group type absent from group_types"},
	{"group_name_empty", extract.Groups, "group.name.empty", SeverityReject, false, "a group without a name"},
	{"group_owner_unknown", extract.Groups, "group.owner.unknown", SeverityReject, false, "a group whose owner is not a user"},
	{"group_duplicate", extract.Groups, "group.id.duplicate", SeverityReject, false, "a group row repeated"},
	{"group_id_invalid", extract.Groups, "group.id.invalid", SeverityReject, false, "a group id longer than 48 bytes"},
	{"group_create_future", extract.Groups, "group.create_time.future", SeverityReject, false, "a group created in the future"},
	{"group_name_long", extract.Groups, "group.name.truncated", SeverityRepair, false, "a group name longer than 30 bytes"},
	{"group_create_late", extract.Groups, "group.create_time.clamped", SeverityRepair, false, "a group created after its first members joined"},

	{"member_user_unknown", extract.Members, "member.user.unknown", SeverityReject, false, "a member who is not a user"},
	{"member_group_unknown", extract.Members, "member.group.unknown", SeverityReject, false, "a member of a group that does not exist"},
	{"member_role_unmapped", extract.Members, "member.role.unmapped", SeverityReject, false, "a role absent from roles"},
	{"member_duplicate", extract.Members, "member.duplicate", SeverityReject, false, "a membership row repeated"},
	{"member_join_future", extract.Members, "member.join_time.future", SeverityReject, false, "a member joining in the future"},
	{"member_ragged", extract.Members, extract.RuleRaggedRow, SeverityReject, true, "a CSV row with too few fields"},

	{"group_message_sender_unknown", extract.GroupMessages, "group_message.sender.unknown", SeverityReject, false, "a sender who is not a user"},
	{"group_message_group_unknown", extract.GroupMessages, "group_message.group.unknown", SeverityReject, false, "a message of a group that does not exist"},
	{"group_message_future", extract.GroupMessages, "message.time.future", SeverityReject, false, "a message sent in the future"},
	{"group_message_oversize", extract.GroupMessages, "message.body.too_large", SeverityReject, false, "a text over 12,000 bytes"},
	{"group_message_kind_unmapped", extract.GroupMessages, "message.kind.unmapped", SeverityReject, false, "a kind absent from messages.kinds"},
	{"group_message_duplicate", extract.GroupMessages, "message.id.duplicate", SeverityReject, false, "a message id repeated"},
	{"group_message_missing_sender", extract.GroupMessages, extract.RuleMissing, SeverityReject, false, "a message without a sender"},
	{"group_message_rich_media", extract.GroupMessages, "group_message.media_converted", SeverityRepair, false, "an image sent to a group"},
	{"group_message_bad_time", extract.GroupMessages, extract.RuleTimestamp, SeverityReject, true, "an unparsable send time"},
	{"group_message_ragged", extract.GroupMessages, extract.RuleRaggedRow, SeverityReject, true, "a CSV row with too few fields"},

	{"direct_message_self", extract.DirectMessages, "direct_message.self", SeverityReject, false, "a message to oneself"},
	{"direct_message_recipient_unknown", extract.DirectMessages, "direct_message.recipient.unknown", SeverityReject, false, "a recipient who is not a user"},
	{"direct_message_future", extract.DirectMessages, "message.time.future", SeverityReject, false, "a message sent in the future"},
	{"direct_message_oversize", extract.DirectMessages, "message.body.too_large", SeverityReject, false, "a text over 12,000 bytes"},
	{"direct_message_kind_unmapped", extract.DirectMessages, "message.kind.unmapped", SeverityReject, false, "a kind absent from messages.kinds"},
	{"direct_message_image_no_url", extract.DirectMessages, "message.image.missing", SeverityReject, false, "an image without a URL"},
	{"direct_message_duplicate", extract.DirectMessages, "message.id.duplicate", SeverityReject, false, "a message id repeated"},
	{"direct_message_invalid_utf8", extract.DirectMessages, extract.RuleInvalidUTF8, SeverityReject, true, "a text that is not UTF-8"},
	{"direct_message_bad_number", extract.DirectMessages, extract.RuleNumber, SeverityReject, true, "an unparsable image width"},

	// Planted by planGroupDMs (groupdms.go), from the group DMs' own stream.
	{"group_dm_two_members", extract.GroupDMs, "group_dm.members.too_few", SeverityReject, false, "a group DM of two people"},
	{"group_dm_member_unknown", extract.GroupDMs, "group_dm.member.unknown", SeverityReject, false, "a group DM with a member who is not a user"},
}

// Kinds returns the catalog of plantable bad records, in generation order.
func Kinds() []Kind { return slices.Clone(kinds) }

func kindByName(name string) (Kind, bool) {
	for _, k := range kinds {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// Planted is one bad record the generator wrote: a line of planted.jsonl.
type Planted struct {
	Entity   extract.Entity `json:"entity"`
	LegacyID string         `json:"legacy_id"`
	Kind     string         `json:"kind"`
	Rule     string         `json:"rule"`
	Severity string         `json:"severity"`
	// Origin is where the CSV writer put the record ("group_messages.csv:12"),
	// empty when no CSV was written.
	Origin  string `json:"origin,omitempty"`
	CSVOnly bool   `json:"csv_only,omitempty"`
}

func (p Planted) String() string {
	return fmt.Sprintf("%s %s %q at %s: %s", p.Entity, p.Kind, p.LegacyID, p.Origin, p.Rule)
}

package transform

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/immigrate/immigrate/tencentim"
)

// Policy values of Config. The empty string always means the documented default.
const (
	PolicyReject   = "reject"   // UnknownKind, GroupRichMedia, InvalidIDs, LongNames, GroupCreateTime, UnknownUsers
	PolicyText     = "text"     // UnknownKind, GroupRichMedia
	PolicyCustom   = "custom"   // GroupRichMedia
	PolicyRewrite  = "rewrite"  // InvalidIDs
	PolicyTruncate = "truncate" // LongNames
	PolicyClamp    = "clamp"    // GroupCreateTime
	PolicyImport   = "import"   // UnknownUsers
	PolicySplit    = "split"    // Oversize
	PolicyToGroup  = "to_group" // SelfMessages
)

// Element names of KindRule.Element.
const (
	ElemText     = "text"
	ElemFace     = "face"
	ElemLocation = "location"
	ElemCustom   = "custom"
	ElemImage    = "image"
	ElemFile     = "file"
	ElemSound    = "sound"
	ElemVideo    = "video"
)

// Config is everything the mapping file says about turning legacy records into TIM
// payloads. cmd builds it from the mapping; New validates it and applies defaults.
// Map keys (legacy types, roles, kinds) match case-insensitively; map values and
// policies are the spellings documented on each field (values match
// case-insensitively too and are canonicalised).
type Config struct {
	// Now is the migration's "now": join and send times must be before it, group
	// CreateTime must not be after it (spec §8.8, §8.9). Passed in so that
	// transform stays pure. Required.
	Now time.Time
	// GroupTypes maps a legacy group type to a TIM type: Private, Public, ChatRoom,
	// AVChatRoom, Community, Work or Meeting. Work is sent as Private and Meeting as
	// ChatRoom (spec §8.1, A11). AVChatRoom groups are rejected (spec §8.2).
	GroupTypes map[string]string
	// DefaultGroupType is the TIM type of a group whose legacy type is empty; ""
	// rejects such groups.
	DefaultGroupType string
	// Roles maps a legacy member role to Owner, Admin or Member. An empty legacy
	// role is Member.
	Roles map[string]string
	// Kinds maps a legacy message kind to the TIM element it becomes.
	Kinds map[string]KindRule
	// DefaultKind is the legacy kind assumed for a message whose kind is empty; it
	// must be a key of Kinds. "" treats an empty kind as unmapped.
	DefaultKind string
	// UnknownKind says what happens to a message whose kind is not in Kinds:
	// "reject" (default) or "text" (a TIMTextElem with the text, or the payload when
	// there is no text; reported as a repair).
	UnknownKind string
	// GroupRichMedia says what happens to image/file/sound/video messages in groups,
	// which accept only text/face/location/custom (spec §6.1, §8.9): "custom"
	// (default: a TIMCustomElem whose Data is a JSON description of the media),
	// "text" (a TIMTextElem "[image] <url>") or "reject".
	GroupRichMedia string
	// InvalidIDs says what happens to a legacy user or group id TIM would refuse:
	// "reject" (default) or "rewrite" (a deterministic valid id, listed by
	// Transformer.Rewrites).
	InvalidIDs string
	// GroupIDPrefix is prepended to legacy group ids to form custom GroupIds.
	// Community ids also get "@TGS#_" in front of it (design §7 A36).
	GroupIDPrefix string
	// LongNames says what happens to a name or URL over its byte limit: "truncate"
	// (default; on a UTF-8 boundary, reported as a repair) or "reject".
	LongNames string
	// GroupCreateTime says what happens when a group's CreateTime is not before its
	// first member join or first message (spec §8.8, §8.9): "clamp" (default; the
	// CreateTime moves to one second before the earliest of them) or "reject" (the
	// group, its members and its messages are rejected).
	GroupCreateTime string
	// UnknownUsers says what happens to a reference (owner, member, sender,
	// recipient) to a user absent from the users entity: "reject" (default) or
	// "import" (the user is imported as a bare account; see ImpliedAccounts).
	UnknownUsers string
	// SyncDefault is importmsg's SyncFromOldSystem: 2 (default; historical, read,
	// not pushed) or 5 (real time, unread, pushed) (spec §7.1).
	SyncDefault int
	// RealtimeAfter: C2C messages sent at or after it use SyncFromOldSystem 5. The
	// zero time means never.
	RealtimeAfter time.Time
	// URLTemplate rewrites every media URL (see rewriteURL); "" keeps them.
	URLTemplate string
	// KeepLegacyID puts the legacy message id into CloudCustomData.
	KeepLegacyID bool
	// Oversize says what happens to a message whose MsgBody and CloudCustomData
	// exceed 12,000 bytes (spec §6.3, design §7 A5): "reject" (default) or
	// "truncate" (its longest text is cut, with a marker; a repair) or "split"
	// (consecutive messages, see split.go; a repair).
	Oversize string
	// GroupDMType is the TIM type of group DMs (Private, the default; Work,
	// Public, ChatRoom, Meeting or Community; spec §8.1). AVChatRoom is refused:
	// import_group cannot create one (spec §8.2).
	GroupDMType string
	// GroupDMIDPrefix goes after GroupIDPrefix in front of a group DM's legacy
	// id to form its GroupId.
	GroupDMIDPrefix string
	// SelfMessages says what happens to a direct message whose sender is its
	// recipient: "reject" (default) or "to_group" (selfgroups.go).
	SelfMessages string
	// AccountLimit is the edition's account limit (100 for the free edition, spec
	// §3.3 70398); valid accounts past it are rejected. 0 means unlimited.
	AccountLimit int
}

// KindRule says which TIM element a legacy message kind becomes.
type KindRule struct {
	// Element is one of text, face, location, custom, image, file, sound, video.
	Element string
	// FaceIndex is the TIMFaceElem Index used when the payload carries none.
	FaceIndex int
}

// timTypes maps the accepted TIM group type spellings (lower case) to the type sent
// on the wire: the legacy names, as spec §8.1 recommends (A11).
var timTypes = map[string]string{
	"private":    tencentim.GroupPrivate,
	"work":       tencentim.GroupPrivate,
	"public":     tencentim.GroupPublic,
	"chatroom":   tencentim.GroupChatRoom,
	"meeting":    tencentim.GroupChatRoom,
	"avchatroom": tencentim.GroupAVChatRoom,
	"community":  tencentim.GroupCommunity,
}

var timRoles = map[string]string{
	"owner":  tencentim.RoleOwner,
	"admin":  tencentim.RoleAdmin,
	"member": tencentim.RoleMember,
}

var elements = map[string]bool{
	ElemText: true, ElemFace: true, ElemLocation: true, ElemCustom: true,
	ElemImage: true, ElemFile: true, ElemSound: true, ElemVideo: true,
}

// maxGroupIDPrefixBytes leaves room in the 48-byte GroupId (design §7 A36) for
// "@TGS#_" and a rewritten id with its hash suffix.
const maxGroupIDPrefixBytes = 16

// Validate reports every problem of c at once (errors.Join), each naming the field.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.Now.IsZero() {
		bad("now is required")
	}
	checkMap(c.GroupTypes, "group_types", timTypes, "Private, Public, ChatRoom, AVChatRoom, Community, Work, Meeting", bad)
	if c.DefaultGroupType != "" {
		if _, ok := timTypes[strings.ToLower(c.DefaultGroupType)]; !ok {
			bad("default_group_type %q is not a TIM group type (Private, Public, ChatRoom, AVChatRoom, Community, Work, Meeting)", c.DefaultGroupType)
		}
	}
	checkMap(c.Roles, "roles", timRoles, "Owner, Admin, Member", bad)

	kinds := make(map[string]KindRule, len(c.Kinds))
	for _, k := range slices.Sorted(maps.Keys(c.Kinds)) {
		r := c.Kinds[k]
		if !elements[strings.ToLower(r.Element)] {
			bad("kinds[%q]: element %q is not one of text, face, location, custom, image, file, sound, video", k, r.Element)
		}
		lk := strings.ToLower(k)
		if prev, dup := kinds[lk]; dup && !strings.EqualFold(prev.Element, r.Element) {
			bad("kinds: %q is mapped twice (keys match case-insensitively) to different elements", k)
		}
		kinds[lk] = r
	}
	if c.DefaultKind != "" {
		if _, ok := kinds[strings.ToLower(c.DefaultKind)]; !ok {
			bad("default_kind %q is not a key of kinds", c.DefaultKind)
		}
	}
	checkPolicy("unknown_kind", c.UnknownKind, bad, PolicyReject, PolicyText)
	checkPolicy("group_rich_media", c.GroupRichMedia, bad, PolicyCustom, PolicyText, PolicyReject)
	checkPolicy("ids.invalid", c.InvalidIDs, bad, PolicyReject, PolicyRewrite)
	checkPolicy("long_names", c.LongNames, bad, PolicyTruncate, PolicyReject)
	checkPolicy("group_create_time", c.GroupCreateTime, bad, PolicyClamp, PolicyReject)
	checkPolicy("unknown_users", c.UnknownUsers, bad, PolicyReject, PolicyImport)
	checkPolicy("oversize", c.Oversize, bad, PolicyReject, PolicyTruncate, PolicySplit)
	checkPolicy("self_messages", c.SelfMessages, bad, PolicyReject, PolicyToGroup)

	if p := c.GroupIDPrefix; p != "" {
		switch {
		case len(p) > maxGroupIDPrefixBytes:
			bad("group_id_prefix %q is %d bytes; at most %d leave room in the 48-byte GroupId (design §7 A36)", p, len(p), maxGroupIDPrefixBytes)
		case !printableGroupIDBytes(p):
			bad("group_id_prefix %q must be printable ASCII (design §7 A36)", p)
		case strings.HasPrefix(p, reservedGroupPrefix):
			bad("group_id_prefix %q must not start with %s, reserved for server-assigned ids (design §7 A36)", p, reservedGroupPrefix)
		}
	}
	if v := c.GroupDMType; v != "" {
		if tt := timTypes[strings.ToLower(v)]; tt == "" || tt == tencentim.GroupAVChatRoom {
			bad("group DM type %q is not a TIM group type import_group takes (Private, Work, Public, ChatRoom, Meeting, Community; spec §8.1, §8.2)", v)
		}
	}
	if p := c.GroupIDPrefix + c.GroupDMIDPrefix; c.GroupDMIDPrefix != "" {
		switch {
		case len(p) > maxGroupIDPrefixBytes:
			bad("group_id_prefix and group_dms.id_prefix %q are %d bytes; at most %d leave room in the 48-byte GroupId (design §7 A36)", p, len(p), maxGroupIDPrefixBytes)
		case !printableGroupIDBytes(p):
			bad("group_dms.id_prefix %q must be printable ASCII (design §7 A36)", c.GroupDMIDPrefix)
		case strings.HasPrefix(p, reservedGroupPrefix):
			bad("group_dms.id_prefix %q must not start with %s, reserved for server-assigned ids (design §7 A36)", p, reservedGroupPrefix)
		}
	}
	switch c.SyncDefault {
	case 0, tencentim.SyncHistorical, tencentim.SyncRealtime:
	default:
		bad("sync default %d must be 2 or 5 (spec §7.1)", c.SyncDefault)
	}
	if c.AccountLimit < 0 {
		bad("account limit %d must not be negative", c.AccountLimit)
	}
	return errors.Join(errs...)
}

// checkMap reports map values that are not among allowed (lower-case keys) and keys
// that collide case-insensitively with different values.
func checkMap(m map[string]string, field string, allowed map[string]string, allowedText string, bad func(string, ...any)) {
	seen := make(map[string]string, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		canon, ok := allowed[strings.ToLower(v)]
		if !ok {
			bad("%s[%q]: %q is not one of %s", field, k, v, allowedText)
			continue
		}
		lk := strings.ToLower(k)
		if prev, dup := seen[lk]; dup && prev != canon {
			bad("%s: %q is mapped twice (keys match case-insensitively) to different values", field, k)
		}
		seen[lk] = canon
	}
}

func checkPolicy(field, value string, bad func(string, ...any), allowed ...string) {
	if value == "" {
		return
	}
	for _, a := range allowed {
		if strings.EqualFold(value, a) {
			return
		}
	}
	bad("%s %q is not one of %s", field, value, strings.Join(allowed, ", "))
}

// policy returns the canonical lower-case value of a policy field, or def when empty.
func policy(v, def string) string {
	if v == "" {
		return def
	}
	return strings.ToLower(v)
}

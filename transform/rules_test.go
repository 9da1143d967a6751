package transform

import (
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
)

// ruleCase triggers one rule: the marked record (or, with final, the GroupFinal of
// that legacy group) must carry rule and have OK == ok.
type ruleCase struct {
	name  string
	rule  string
	mod   func(*Config)
	recs  []any
	final string
	ok    bool
}

func rewriteIDs(c *Config)    { c.InvalidIDs = PolicyRewrite }
func rejectLong(c *Config)    { c.LongNames = PolicyReject }
func importUnknown(c *Config) { c.UnknownUsers = PolicyImport }
func rejectClamp(c *Config)   { c.GroupCreateTime = PolicyReject }

func base(more ...any) []any { return append(baseRecords(), more...) }

var (
	hour    = time.Hour
	later   = t0.Add(hour)
	future  = testNow.Add(hour)
	ancient = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)
)

func ruleCases() []ruleCase {
	long := func(n int) string { return strings.Repeat("x", n) }
	manyUsers := func(n int) []any {
		recs := base()
		for i := 0; i < n; i++ {
			id := "m" + itoa(i)
			recs = append(recs, user(id), member("g1", id, later))
		}
		return recs
	}
	return []ruleCase{
		// Users.
		{name: "empty user id", rule: RuleUserIDEmpty, recs: base(mark(user("")))},
		{name: "user id over 32 bytes", rule: RuleUserIDTooLong, recs: base(mark(user(long(33))))},
		{name: "user id with a space", rule: RuleUserIDInvalidChars, recs: base(mark(user("a b")))},
		{name: "user id with a control byte", rule: RuleUserIDInvalidChars, recs: base(mark(user("a\x01")))},
		{name: "user id non-ASCII", rule: RuleUserIDInvalidChars, recs: base(mark(user("josé")))},
		{name: "chatbot prefix", rule: RuleUserIDReservedPrefix, recs: base(mark(user("@RBT#bot")))},
		{name: "user id rewritten", rule: RuleUserIDRewritten, mod: rewriteIDs, recs: base(mark(user("a b"))), ok: true},
		{name: "long user id rewritten", rule: RuleUserIDRewritten, mod: rewriteIDs, recs: base(mark(user(long(40)))), ok: true},
		{name: "user id with a dot", rule: RuleUserIDUnusualChars, recs: base(mark(user("a.b"))), ok: true},
		{name: "duplicate user", rule: RuleUserIDDuplicate, recs: base(mark(user("u1")))},
		{name: "rewrite collides with an existing id", rule: RuleUserIDDuplicate, mod: rewriteIDs,
			recs: base(user(mustUserID("a b")), mark(user("a b")))},
		{name: "reference to a user whose rewrite collided", rule: RuleDirectMessageSenderRejected, mod: rewriteIDs,
			recs: base(user(mustUserID("a b")), user("a b"), mark(dmsg("1", "a b", "u1", later)))},
		{name: "nick over 500 bytes rejected", rule: RuleUserNickTooLong, mod: rejectLong,
			recs: base(mark(with(user("u9"), func(u *extract.User) { u.Nick = long(501) })))},
		{name: "nick truncated", rule: RuleUserNickTruncated,
			recs: base(mark(with(user("u9"), func(u *extract.User) { u.Nick = long(501) }))), ok: true},
		{name: "face URL over 500 bytes rejected", rule: RuleUserFaceURLTooLong, mod: rejectLong,
			recs: base(mark(with(user("u9"), func(u *extract.User) { u.FaceURL = "https://x/" + long(500) })))},
		{name: "face URL truncated", rule: RuleUserFaceURLTruncated,
			recs: base(mark(with(user("u9"), func(u *extract.User) { u.FaceURL = "https://x/" + long(500) }))), ok: true},
		{name: "edition limit", rule: RuleAccountEditionLimit, mod: func(c *Config) { c.AccountLimit = 3 },
			recs: base(mark(user("u4")))},
		{name: "edition limit for an implied account", rule: RuleAccountEditionLimit,
			mod:  func(c *Config) { c.AccountLimit = 3; importUnknown(c) },
			recs: base(mark(dmsg("d1", "u1", "ghost", later)))},
		{name: "implied account", rule: RuleAccountImplied, mod: importUnknown,
			recs: base(mark(dmsg("d1", "u1", "ghost", later))), ok: true},

		{name: "unreadable nick dropped", rule: RuleFieldDropped,
			recs: base(mark(with(user("u9"), func(u *extract.User) {
				u.Dropped = []extract.DroppedField{{Field: "nick", Rule: extract.RuleInvalidUTF8, Message: `field "nick" is not valid UTF-8`}}
			}))), ok: true},
		{name: "unreadable max_members dropped", rule: RuleFieldDropped,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) {
				g.Dropped = []extract.DroppedField{{Field: "max_members", Rule: extract.RuleNumber, Message: `field "max_members": "lots" is not an integer`}}
			}))), ok: true},
		{name: "unreadable unread count dropped", rule: RuleFieldDropped,
			recs: base(mark(with(member("g1", "u2", later), func(m *extract.Member) {
				m.Dropped = []extract.DroppedField{{Field: "unread", Rule: extract.RuleNumber, Message: `field "unread": "x" is not an integer`}}
			}))), ok: true},

		// Groups.
		{name: "group id over 48 bytes", rule: RuleGroupIDInvalid, recs: base(mark(grp(long(49), "u1")))},
		{name: "group id with a reserved prefix", rule: RuleGroupIDInvalid, recs: base(mark(grp("@TGS#abc", "u1")))},
		{name: "community id over 48 bytes with @TGS#_", rule: RuleGroupIDInvalid,
			recs: base(mark(with(grp(long(43), "u1"), func(g *extract.Group) { g.Type = "community" })))},
		{name: "group id rewritten", rule: RuleGroupIDRewritten, mod: rewriteIDs,
			recs: base(mark(grp("grüppe", "u1"))), ok: true},
		{name: "duplicate group", rule: RuleGroupIDDuplicate, recs: base(mark(grp("g1", "u2")))},
		{name: "group prefix makes ids collide", rule: RuleGroupIDDuplicate, mod: rewriteIDs,
			recs: base(grp(mustGroupID("@TGS#x"), "u1"), mark(grp("@TGS#x", "u1")))},
		{name: "group without type", rule: RuleGroupTypeMissing,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.Type = "" })))},
		{name: "unmapped group type", rule: RuleGroupTypeUnmapped,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.Type = "guild" })))},
		{name: "AVChatRoom group", rule: RuleGroupTypeAVChatRoom,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.Type = "Live" })))},
		{name: "unknown owner", rule: RuleGroupOwnerUnknown, recs: base(mark(grp("g2", "ghost")))},
		{name: "rejected owner", rule: RuleGroupOwnerRejected, recs: base(user("a b"), mark(grp("g2", "a b")))},
		{name: "empty name", rule: RuleGroupNameEmpty,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.Name = "" })))},
		{name: "name over 30 bytes rejected", rule: RuleGroupNameTooLong, mod: rejectLong,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.Name = long(31) })))},
		{name: "name truncated", rule: RuleGroupNameTruncated,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.Name = strings.Repeat("群", 11) }))), ok: true},
		{name: "introduction rejected", rule: RuleGroupIntroductionTooLong, mod: rejectLong,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.Introduction = long(241) })))},
		{name: "introduction truncated", rule: RuleGroupIntroductionTruncated,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.Introduction = long(241) }))), ok: true},
		{name: "notification rejected", rule: RuleGroupNotificationTooLong, mod: rejectLong,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.Notification = long(301) })))},
		{name: "notification truncated", rule: RuleGroupNotificationTruncated,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.Notification = long(301) }))), ok: true},
		{name: "group face URL rejected", rule: RuleGroupFaceURLTooLong, mod: rejectLong,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.FaceURL = long(101) })))},
		{name: "group face URL truncated", rule: RuleGroupFaceURLTruncated,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.FaceURL = long(101) }))), ok: true},
		{name: "MaxMemberCount above 6000", rule: RuleGroupMaxMembersCapped,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.MaxMembers = 6001 }))), ok: true},
		{name: "MaxMemberCount above 100000 for a community", rule: RuleGroupMaxMembersCapped,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.Type = "community"; g.MaxMembers = 100001 }))), ok: true},
		{name: "negative MaxMemberCount", rule: RuleGroupMaxMembersInvalid,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.MaxMembers = -1 }))), ok: true},
		{name: "MaxMemberCount raised for a big group", rule: RuleGroupMaxMembersRaised,
			recs: manyUsers(2000), final: "g1", ok: true},
		{name: "CreateTime in the future", rule: RuleGroupCreateTimeFuture,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.CreatedAt = future })))},
		{name: "CreateTime before 1970", rule: RuleGroupCreateTimeInvalid,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.CreatedAt = ancient })))},
		{name: "CreateTime derived", rule: RuleGroupCreateTimeDerived,
			recs:  base(with(grp("g2", "u1"), func(g *extract.Group) { g.CreatedAt = time.Time{} }), member("g2", "u2", later)),
			final: "g2", ok: true},
		{name: "CreateTime clamped by a member", rule: RuleGroupCreateTimeClamped,
			recs: base(member("g1", "u2", t0.Add(-hour))), final: "g1", ok: true},
		{name: "CreateTime clamped by a message", rule: RuleGroupCreateTimeClamped,
			recs: base(gmsg("1", "g1", "u2", t0)), final: "g1", ok: true},
		{name: "CreateTime conflict on a member", rule: RuleGroupCreateTimeConflict, mod: rejectClamp,
			recs: base(mark(member("g1", "u2", t0)))},
		{name: "CreateTime conflict on the group", rule: RuleGroupCreateTimeConflict, mod: rejectClamp,
			recs: base(member("g1", "u2", later), gmsg("1", "g1", "u2", t0.Add(-hour))), final: "g1"},

		// Members.
		{name: "member of an unknown group", rule: RuleMemberGroupUnknown, recs: base(mark(member("nog", "u2", later)))},
		{name: "member of a rejected group", rule: RuleMemberGroupRejected,
			recs: base(with(grp("g2", "u1"), func(g *extract.Group) { g.Type = "live" }), mark(member("g2", "u2", later)))},
		{name: "unknown member", rule: RuleMemberUserUnknown, recs: base(mark(member("g1", "ghost", later)))},
		{name: "rejected member", rule: RuleMemberUserRejected, recs: base(user("a b"), mark(member("g1", "a b", later)))},
		{name: "owner row", rule: RuleMemberOwnerRow, recs: base(mark(member("g1", "u1", later)))},
		{name: "unmapped role", rule: RuleMemberRoleUnmapped,
			recs: base(mark(with(member("g1", "u2", later), func(m *extract.Member) { m.Role = "boss" })))},
		{name: "second owner", rule: RuleMemberRoleExtraOwner,
			recs: base(mark(with(member("g1", "u2", later), func(m *extract.Member) { m.Role = "OWNER" }))), ok: true},
		{name: "duplicate member", rule: RuleMemberDuplicate,
			recs: base(member("g1", "u2", later), mark(member("g1", "u2", later.Add(hour))))},
		{name: "join in the future", rule: RuleMemberJoinTimeFuture, recs: base(mark(member("g1", "u2", testNow)))},
		{name: "join before 1970", rule: RuleMemberJoinTimeInvalid, recs: base(mark(member("g1", "u2", ancient)))},
		{name: "join time missing", rule: RuleMemberJoinTimeMissing, recs: base(mark(member("g1", "u2", time.Time{}))), ok: true},
		{name: "group full", rule: RuleMemberGroupFull,
			recs: base(with(grp("g2", "u1"), func(g *extract.Group) { g.MaxMembers = 2 }),
				member("g2", "u2", later), mark(member("g2", "u3", later)))},
		{name: "negative unread", rule: RuleMemberUnreadInvalid,
			recs: base(mark(with(member("g1", "u2", later), func(m *extract.Member) { m.Unread, m.HasUnread = -1, true }))), ok: true},

		// Group messages.
		{name: "message of an unknown group", rule: RuleGroupMessageGroupUnknown, recs: base(mark(gmsg("1", "nog", "u1", later)))},
		{name: "message of a rejected group", rule: RuleGroupMessageGroupRejected,
			recs: base(with(grp("g2", "u1"), func(g *extract.Group) { g.Name = "" }), mark(gmsg("1", "g2", "u1", later)))},
		{name: "unknown group sender", rule: RuleGroupMessageSenderUnknown, recs: base(mark(gmsg("1", "g1", "ghost", later)))},
		{name: "rejected group sender", rule: RuleGroupMessageSenderRejected, recs: base(user("a b"), mark(gmsg("1", "g1", "a b", later)))},
		{name: "image in a group converted", rule: RuleGroupMessageMediaConverted,
			recs: base(mark(with(gmsg("1", "g1", "u1", later), func(m *extract.Message) { m.Kind, m.URL = "image", "https://x/a.png" }))), ok: true},
		{name: "file in a group as text", rule: RuleGroupMessageMediaConverted, mod: func(c *Config) { c.GroupRichMedia = PolicyText },
			recs: base(mark(with(gmsg("1", "g1", "u1", later), func(m *extract.Message) { m.Kind, m.URL = "file", "https://x/a.pdf" }))), ok: true},
		{name: "media in a group rejected", rule: RuleGroupMessageMediaRejected, mod: func(c *Config) { c.GroupRichMedia = PolicyReject },
			recs: base(mark(with(gmsg("1", "g1", "u1", later), func(m *extract.Message) { m.Kind, m.URL = "voice", "https://x/a.mp3" })))},
		{name: "group message out of order", rule: RuleGroupMessageOutOfOrder,
			recs: base(gmsg("1", "g1", "u1", later.Add(hour)), mark(gmsg("2", "g1", "u1", later)))},
		{name: "Random repeats within 300 s", rule: RuleGroupMessageRandomRehashed,
			recs: base(gmsg(collidingIDs[0], "g1", "u1", later), mark(gmsg(collidingIDs[1], "g1", "u2", later.Add(300*time.Second)))), ok: true},

		// Direct messages.
		{name: "unknown sender", rule: RuleDirectMessageSenderUnknown, recs: base(mark(dmsg("1", "ghost", "u1", later)))},
		{name: "rejected sender", rule: RuleDirectMessageSenderRejected, recs: base(user("a b"), mark(dmsg("1", "a b", "u1", later)))},
		{name: "unknown recipient", rule: RuleDirectMessageRecipientUnknown, recs: base(mark(dmsg("1", "u1", "ghost", later)))},
		{name: "rejected recipient", rule: RuleDirectMessageRecipientRejected, recs: base(user("a b"), mark(dmsg("1", "u1", "a b", later)))},
		{name: "message to oneself", rule: RuleDirectMessageSelf, recs: base(mark(dmsg("1", "u1", "u1", later)))},

		// Profiles: each rejects the profile only (TestProfileRejectKeepsAccount).
		{name: "gender not understood", rule: RuleProfileGenderInvalid, recs: base(mark(profile("u9", func(u *extract.User) { u.Gender = "x" })))},
		{name: "birthday not a date", rule: RuleProfileBirthdayInvalid, recs: base(mark(profile("u9", func(u *extract.User) { u.Birthday = "1990-02-30" })))},
		{name: "birthday in the future", rule: RuleProfileBirthdayInvalid, recs: base(mark(profile("u9", func(u *extract.User) { u.Birthday = "29990101" })))},
		{name: "location over 16 bytes", rule: RuleProfileLocationTooLong, recs: base(mark(profile("u9", func(u *extract.User) { u.Location = long(17) })))},
		{name: "signature over 500 bytes rejected", rule: RuleProfileSignatureTooLong, mod: rejectLong,
			recs: base(mark(profile("u9", func(u *extract.User) { u.Signature = long(501) })))},
		{name: "signature truncated", rule: RuleProfileSignatureTruncated,
			recs: base(mark(profile("u9", func(u *extract.User) { u.Signature = long(501) }))), ok: true},
		{name: "allow type not understood", rule: RuleProfileAllowTypeInvalid, recs: base(mark(profile("u9", func(u *extract.User) { u.AllowType = "friends_only" })))},
		{name: "language not a number", rule: RuleProfileLanguageInvalid, recs: base(mark(profile("u9", func(u *extract.User) { u.Language = "en" })))},
		{name: "level negative", rule: RuleProfileLevelInvalid, recs: base(mark(profile("u9", func(u *extract.User) { u.Level = "-1" })))},
		{name: "role past uint32", rule: RuleProfileRoleInvalid, recs: base(mark(profile("u9", func(u *extract.User) { u.Role = "4294967296" })))},
		{name: "custom field over 500 bytes rejected", rule: RuleProfileCustomTooLong, mod: rejectLong,
			recs: base(mark(profile("u9", func(u *extract.User) { u.Custom = []extract.CustomField{{Name: "Bio", Value: long(501)}} })))},
		{name: "custom field truncated", rule: RuleProfileCustomTruncated,
			recs: base(mark(profile("u9", func(u *extract.User) { u.Custom = []extract.CustomField{{Name: "Bio", Value: long(501)}} }))), ok: true},

		// Friends.
		{name: "friend of an unknown user", rule: RuleFriendUserUnknown, recs: base(mark(friend("ghost", "u1", later)))},
		{name: "friend of a rejected user", rule: RuleFriendUserRejected, recs: base(user("a b"), mark(friend("a b", "u1", later)))},
		{name: "unknown friend", rule: RuleFriendFriendUnknown, recs: base(mark(friend("u1", "ghost", later)))},
		{name: "rejected friend", rule: RuleFriendFriendRejected, recs: base(user("a b"), mark(friend("u1", "a b", later)))},
		{name: "friend of oneself", rule: RuleFriendSelf, recs: base(mark(friend("u1", "u1", later)))},
		{name: "duplicate friend", rule: RuleFriendDuplicate, recs: base(friend("u1", "u2", later), mark(friend("u1", "u2", later)))},
		{name: "friend past the limit", rule: RuleFriendLimit, recs: func() []any {
			recs := base()
			for i := range MaxFriendsPerUser {
				id := "f" + itoa(i)
				recs = append(recs, user(id), friend("u1", id, later))
			}
			return append(recs, user("zz"), mark(friend("u1", "zz", later)))
		}()},
		{name: "long remark rejected", rule: RuleFriendRemarkTooLong, mod: rejectLong,
			recs: base(mark(with(friend("u1", "u2", later), func(f *extract.Friend) { f.Remark = strings.Repeat("é", 97) })))},
		{name: "long remark truncated", rule: RuleFriendRemarkTruncated,
			recs: base(mark(with(friend("u1", "u2", later), func(f *extract.Friend) { f.Remark = strings.Repeat("é", 97) }))), ok: true},
		{name: "friend added before 1970", rule: RuleFriendAddTimeInvalid, recs: base(mark(friend("u1", "u2", ancient))), ok: true},
		{name: "friend added in the future", rule: RuleFriendAddTimeFuture, recs: base(mark(friend("u1", "u2", future)))},
		{name: "self-messages group taken by a source group", rule: RuleDirectMessageSelfGroupClash,
			mod:  func(c *Config) { c.SelfMessages = PolicyToGroup },
			recs: base(grp(SelfGroupID("u1"), "u2"), mark(dmsg("1", "u1", "u1", later)))},
		{name: "self-message of an unknown user", rule: RuleDirectMessageSenderUnknown,
			mod:  func(c *Config) { c.SelfMessages = PolicyToGroup },
			recs: base(mark(dmsg("1", "ghost", "ghost", later)))},
		{name: "friend group not a JSON array", rule: RuleFriendGroupInvalid,
			recs: base(mark(with(friend("u1", "u2", later), func(f *extract.Friend) { f.Group = `["work",` })))},
		{name: "long friend group rejected", rule: RuleFriendGroupTooLong, mod: rejectLong,
			recs: base(mark(with(friend("u1", "u2", later), func(f *extract.Friend) { f.Group = strings.Repeat("名", 31) })))},
		{name: "long friend group truncated", rule: RuleFriendGroupTruncated, ok: true,
			recs: base(mark(with(friend("u1", "u2", later), func(f *extract.Friend) { f.Group = strings.Repeat("名", 31) })))},
		{name: "more than 32 friend lists", rule: RuleFriendGroupLimit, ok: true, recs: func() []any {
			var lists []string
			for i := range MaxFriendLists {
				lists = append(lists, `"l`+itoa(i)+`"`)
			}
			return base(with(friend("u1", "u2", later), func(f *extract.Friend) { f.Group = "[" + strings.Join(lists, ",") + "]" }),
				mark(with(friend("u1", "u3", later), func(f *extract.Friend) { f.Group = `["l0","one too many"]` })))
		}()},

		// Both kinds of message.
		{name: "duplicate direct message", rule: RuleMessageIDDuplicate,
			recs: base(dmsg("1", "u1", "u2", later), mark(dmsg("1", "u2", "u3", later)))},
		{name: "duplicate group message", rule: RuleMessageIDDuplicate,
			recs: base(gmsg("1", "g1", "u1", later), mark(gmsg("1", "g1", "u2", later)))},
		{name: "direct message from the future", rule: RuleMessageTimeFuture, recs: base(mark(dmsg("1", "u1", "u2", future)))},
		{name: "group message at now", rule: RuleMessageTimeFuture, recs: base(mark(gmsg("1", "g1", "u2", testNow)))},
		{name: "message before 1970", rule: RuleMessageTimeInvalid, recs: base(mark(dmsg("1", "u1", "u2", ancient)))},
		{name: "unmapped kind", rule: RuleMessageKindUnmapped,
			recs: base(mark(with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Kind = "poll" })))},
		{name: "empty kind without default", rule: RuleMessageKindUnmapped, mod: func(c *Config) { c.DefaultKind = "" },
			recs: base(mark(with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Kind = "" })))},
		{name: "unmapped kind as text", rule: RuleMessageKindAsText, mod: func(c *Config) { c.UnknownKind = PolicyText },
			recs: base(mark(with(gmsg("1", "g1", "u2", later), func(m *extract.Message) { m.Kind = "poll" }))), ok: true},
		{name: "unmapped kind as text without text", rule: RuleMessageTextEmpty, mod: func(c *Config) { c.UnknownKind = PolicyText },
			recs: base(mark(with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Kind, m.Text = "poll", "" })))},
		{name: "empty text", rule: RuleMessageTextEmpty,
			recs: base(mark(with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Text = "" })))},
		{name: "empty custom", rule: RuleMessageCustomEmpty,
			recs: base(mark(with(gmsg("1", "g1", "u2", later), func(m *extract.Message) { m.Kind, m.Text = "card", "" })))},
		{name: "location without coordinates", rule: RuleMessageLocationBad,
			recs: base(mark(with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Kind, m.Payload = "location", `{"desc":"x"}` })))},
		{name: "location out of range", rule: RuleMessageLocationBad,
			recs: base(mark(with(gmsg("1", "g1", "u2", later), func(m *extract.Message) { m.Kind, m.Payload = "location", "91,0" })))},
		{name: "location NaN", rule: RuleMessageLocationBad,
			recs: base(mark(with(gmsg("1", "g1", "u2", later), func(m *extract.Message) { m.Kind, m.Payload = "location", "NaN,1" })))},
		{name: "image without size", rule: RuleMessageImageMissing,
			recs: base(mark(with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Kind, m.URL = "image", "https://x/a.png" })))},
		{name: "image in a group without URL", rule: RuleMessageImageMissing,
			recs: base(mark(with(gmsg("1", "g1", "u2", later), func(m *extract.Message) { m.Kind = "image" })))},
		{name: "file without URL", rule: RuleMessageFileMissing,
			recs: base(mark(with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Kind = "file" })))},
		{name: "sound without URL", rule: RuleMessageSoundMissing,
			recs: base(mark(with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Kind = "VOICE" })))},
		{name: "video without thumbnail", rule: RuleMessageVideoMissing,
			recs: base(mark(with(dmsg("1", "u1", "u2", later), func(m *extract.Message) {
				m.Kind, m.URL, m.Width, m.Height = "video", "https://x/v.mp4", 640, 360
			})))},
		{name: "body over 12000 bytes", rule: RuleMessageBodyTooLarge,
			recs: base(mark(with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Text = long(11980) })))},
		// Topics (spec §8.11).
		{name: "support_topic on a public group", rule: RuleGroupTopicsNotCommunity,
			recs: base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.SupportTopic = true })))},
		{name: "duplicate topic", rule: RuleTopicIDDuplicate, recs: base(community("c1"), topic("t1", "c1"), mark(topic("t1", "c1")))},
		{name: "topic id with a space", rule: RuleTopicIDInvalid, recs: base(community("c1"), mark(topic("t 1", "c1")))},
		{name: "topic id over 48 bytes", rule: RuleTopicIDInvalid, recs: base(community("c1"), mark(topic(long(49), "c1")))},
		{name: "topic of an unknown group", rule: RuleTopicGroupUnknown, recs: base(mark(topic("t1", "nope")))},
		{name: "topic of a rejected group", rule: RuleTopicGroupRejected,
			recs: base(with(community("c1"), func(g *extract.Group) { g.Name = "" }), mark(topic("t1", "c1")))},
		{name: "topic of a group rejected at the end", rule: RuleTopicGroupRejected, mod: rejectClamp, final: "topic:c1/t1",
			recs: base(community("c1"), topic("t1", "c1"), tmsg("1", "c1", "t1", "u2", t0.Add(-hour)))},
		{name: "topic of a group without topics", rule: RuleTopicGroupNoTopics, recs: base(mark(topic("t1", "g1")))},
		{name: "topic without name", rule: RuleTopicNameEmpty,
			recs: base(community("c1"), mark(with(topic("t1", "c1"), func(tp *extract.Topic) { tp.Name = "" })))},
		{name: "topic name too long", rule: RuleTopicNameTooLong, mod: rejectLong,
			recs: base(community("c1"), mark(with(topic("t1", "c1"), func(tp *extract.Topic) { tp.Name = long(31) })))},
		{name: "topic name truncated", rule: RuleTopicNameTruncated, ok: true,
			recs: base(community("c1"), mark(with(topic("t1", "c1"), func(tp *extract.Topic) { tp.Name = long(31) })))},
		{name: "topic introduction too long", rule: RuleTopicTextTooLong, mod: rejectLong,
			recs: base(community("c1"), mark(with(topic("t1", "c1"), func(tp *extract.Topic) { tp.Introduction = long(241) })))},
		{name: "topic face URL truncated", rule: RuleTopicTextTruncated, ok: true,
			recs: base(community("c1"), mark(with(topic("t1", "c1"), func(tp *extract.Topic) { tp.FaceURL = long(101) })))},
		{name: "topic creator unknown", rule: RuleTopicCreatorUnknown,
			recs: base(community("c1"), mark(with(topic("t1", "c1"), func(tp *extract.Topic) { tp.CreatorID = "nobody" })))},
		{name: "topic creator rejected", rule: RuleTopicCreatorRejected,
			recs: base(user("a b"), community("c1"), mark(with(topic("t1", "c1"), func(tp *extract.Topic) { tp.CreatorID = "a b" })))},
		{name: "topic from the future", rule: RuleTopicCreateTimeInvalid,
			recs: base(community("c1"), mark(with(topic("t1", "c1"), func(tp *extract.Topic) { tp.CreatedAt = future })))},
		{name: "topic without CreateTime", rule: RuleTopicCreateTimeDerived, ok: true, final: "topic:c1/t1",
			recs: base(community("c1"), with(topic("t1", "c1"), func(tp *extract.Topic) { tp.CreatedAt = time.Time{} }),
				tmsg("1", "c1", "t1", "u2", later))},
		{name: "topic created after its first message", rule: RuleTopicCreateTimeClamped, ok: true, final: "topic:c1/t1",
			recs: base(community("c1"), with(topic("t1", "c1"), func(tp *extract.Topic) { tp.CreatedAt = later.Add(hour) }),
				tmsg("1", "c1", "t1", "u2", later))},
		{name: "message of an unknown topic", rule: RuleGroupMessageTopicUnknown,
			recs: base(community("c1"), mark(tmsg("1", "c1", "t9", "u2", later)))},
		{name: "message of a rejected topic", rule: RuleGroupMessageTopicRejected,
			recs: base(community("c1"), with(topic("t1", "c1"), func(tp *extract.Topic) { tp.Name = "" }), mark(tmsg("1", "c1", "t1", "u2", later)))},
		{name: "group body over 12000 bytes by escaping", rule: RuleMessageBodyTooLarge,
			recs: base(mark(with(gmsg("1", "g1", "u2", later), func(m *extract.Message) { m.Text = strings.Repeat("<", 2000) })))},
		{name: "body over 12000 bytes truncated", rule: RuleMessageBodyTruncated, mod: func(c *Config) { c.Oversize = PolicyTruncate },
			recs: base(mark(with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Text = long(13000) }))), ok: true},
		{name: "direct body over 12000 bytes split", rule: RuleMessageBodySplit, mod: splitPolicy,
			recs: base(mark(with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Text = long(30000) }))), ok: true},
		{name: "group body over 12000 bytes split", rule: RuleMessageBodySplit, mod: splitPolicy,
			recs: base(mark(with(gmsg("1", "g1", "u2", later), func(m *extract.Message) { m.Text = strings.Repeat("<", 2000) }))), ok: true},
		{name: "body over 12000 bytes without text to split", rule: RuleMessageBodyTooLarge, mod: splitPolicy,
			recs: base(mark(with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Kind, m.Payload = "card", `{"x":"`+long(13000)+`"}` })))},
		{name: "attachments not JSON", rule: RuleMessageAttachmentsInvalid,
			recs: base(mark(with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Attachments = "[{" })))},
		{name: "attachment of a text kind", rule: RuleMessageAttachmentsInvalid,
			recs: base(mark(with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Attachments = `[{"kind":"text","url":"https://x/a"}]` })))},
		{name: "custom message with group attachments", rule: RuleMessageCustomMultiple,
			recs: base(mark(with(gmsg("1", "g1", "u1", later), func(m *extract.Message) {
				m.Kind, m.Payload, m.Attachments = "card", "{}", `[{"kind":"file","url":"https://x/a.pdf"}]`
			})))},
		{name: "rewritten URL not absolute", rule: RuleMessageURLInvalid, mod: func(c *Config) { c.URLTemplate = "/cdn/{path}" },
			recs: base(mark(with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Kind, m.URL = "file", "https://x/a.pdf" })))},
		{name: "reactions not JSON", rule: RuleMessageReactionsInvalid,
			recs: base(mark(with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Reactions = "+1 alice" })))},
		{name: "group CloudCustomData dropped", rule: RuleGroupMessageCloudDropped,
			recs: base(mark(with(gmsg("1", "g1", "u1", later), func(m *extract.Message) { m.ReplyTo = "0" }))), ok: true},

		// Group DMs.
		{name: "duplicate group DM", rule: RuleGroupDMIDDuplicate,
			recs: base(gdm("d1", "u1", "u2", "u3"), mark(gdm("d1", "u1", "u2", "u3")))},
		{name: "group DM id of a group", rule: RuleGroupDMIDGroupClash, recs: base(mark(gdm("g1", "u1", "u2", "u3")))},
		{name: "group DM id over 48 bytes", rule: RuleGroupDMIDInvalid, recs: base(mark(gdm(long(49), "u1", "u2", "u3")))},
		{name: "group DM id rewritten", rule: RuleGroupDMIDRewritten, mod: rewriteIDs, ok: true,
			recs: base(mark(gdm(long(49), "u1", "u2", "u3")))},
		{name: "group DM GroupId of a group", rule: RuleGroupDMIDTaken, mod: func(c *Config) { c.GroupDMIDPrefix = "g" },
			recs: base(mark(gdm("1", "u1", "u2", "u3")))},
		{name: "group DM member unknown", rule: RuleGroupDMMemberUnknown, recs: base(mark(gdm("d1", "u1", "u2", "nobody")))},
		{name: "group DM member rejected", rule: RuleGroupDMMemberRejected,
			recs: base(user("a b"), mark(gdm("d1", "u1", "u2", "u3", "a b")))},
		{name: "group DM member listed twice", rule: RuleGroupDMMemberDuplicate, ok: true,
			recs: base(mark(gdm("d1", "u1", "u2", "u3", "u2")))},
		{name: "group DM of two", rule: RuleGroupDMMembersTooFew, recs: base(mark(gdm("d1", "u1", "u2", "u2")))},
		{name: "group DM of one", rule: RuleGroupDMMembersTooFew, recs: base(mark(gdm("d1", "u1")))},
		{name: "group DM over the type's capacity", rule: RuleGroupDMMembersTooMany, recs: dmOf(6001, false)},
		{name: "group DM creator not a member", rule: RuleGroupDMCreatorNotMember, ok: true,
			recs: base(user("u4"), mark(with(gdm("d1", "u1", "u2", "u3"), func(d *extract.GroupDM) { d.CreatorID = "u4" })))},
		{name: "group DM name too long", rule: RuleGroupDMNameTooLong, mod: rejectLong,
			recs: base(mark(with(gdm("d1", "u1", "u2", "u3"), func(d *extract.GroupDM) { d.Name = long(31) })))},
		{name: "group DM name truncated", rule: RuleGroupDMNameTruncated, ok: true,
			recs: base(mark(with(gdm("d1", "u1", "u2", "u3"), func(d *extract.GroupDM) { d.Name = long(31) })))},
		{name: "group DM before 1970", rule: RuleGroupDMCreateTimeInvalid,
			recs: base(mark(with(gdm("d1", "u1", "u2", "u3"), func(d *extract.GroupDM) { d.CreatedAt = ancient })))},
		{name: "group DM from the future", rule: RuleGroupDMCreateTimeFuture,
			recs: base(mark(with(gdm("d1", "u1", "u2", "u3"), func(d *extract.GroupDM) { d.CreatedAt = future })))},
		{name: "group DM created after its first message", rule: RuleGroupDMCreateTimeClamped, ok: true, final: "dm:d1",
			recs: base(with(gdm("d1", "u1", "u2", "u3"), func(d *extract.GroupDM) { d.CreatedAt = later.Add(hour) }), gmsg("1", "d1", "u1", later))},
		{name: "group DM created with its first message", rule: RuleGroupDMCreateTimeConflict, mod: rejectClamp, final: "dm:d1",
			recs: base(with(gdm("d1", "u1", "u2", "u3"), func(d *extract.GroupDM) { d.CreatedAt = later }), gmsg("1", "d1", "u1", later))},
		{name: "group DM sender not listed", rule: RuleGroupDMSenderAdded, ok: true,
			recs: base(user("u4"), gdm("d1", "u1", "u2", "u3"), mark(gmsg("1", "d1", "u4", later)))},
		{name: "group DM sender past the capacity", rule: RuleGroupDMSenderNotMember, recs: dmOf(6000, true)},
	}
}

// dmOf is a group DM of n users, marked; with sender, a message of one more user,
// marked instead.
func dmOf(n int, sender bool) []any {
	recs := base(user("extra"))
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "m" + itoa(i)
		recs = append(recs, user(ids[i]))
	}
	d := gdm("d1", ids...)
	if !sender {
		return append(recs, mark(d))
	}
	return append(recs, d, mark(gmsg("1", "d1", "extra", later)))
}

func TestRules(t *testing.T) {
	for _, tc := range ruleCases() {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, tc.mod, tc.recs)
			var entity extract.Entity
			var ok bool
			var issues []Issue
			if id, isDM := strings.CutPrefix(tc.final, "dm:"); isDM {
				f := res.finalDM(t, id)
				entity, ok, issues = extract.GroupDMs, f.OK, f.Issues
			} else if id, isTopic := strings.CutPrefix(tc.final, "topic:"); isTopic {
				f := res.finalTopic(t, id)
				entity, ok, issues = extract.Topics, f.OK, f.Issues
			} else if tc.final != "" {
				f := res.final(t, tc.final)
				entity, ok, issues = extract.Groups, f.OK, f.Issues
			} else {
				o := res.marked(t)
				entity, ok, issues = o.entity, o.ok, o.issues
			}
			if !hasRule(issues, tc.rule) {
				t.Fatalf("issues %v, want rule %s", rules(issues), tc.rule)
			}
			if ok != tc.ok {
				t.Errorf("OK = %v, want %v (issues %v)", ok, tc.ok, rules(issues))
			}
			for _, is := range issues {
				if is.Rule != tc.rule {
					continue
				}
				if is.Severity != ruleSeverity[tc.rule] {
					t.Errorf("severity %v, catalog says %v", is.Severity, ruleSeverity[tc.rule])
				}
				if is.Entity != entity {
					t.Errorf("issue entity %q, want %q", is.Entity, entity)
				}
				if is.Message == "" || is.Origin.Source == "" {
					t.Errorf("issue lacks message or origin: %+v", is)
				}
			}
		})
	}
}

// TestRulesCovered fails when a catalog rule has no case in ruleCases, and when a
// case names a rule the catalog does not have.
func TestRulesCovered(t *testing.T) {
	tested := map[string]bool{}
	for _, tc := range ruleCases() {
		tested[tc.rule] = true
	}
	catalogued := map[string]bool{}
	for _, r := range Rules() {
		catalogued[r.Code] = true
		if !tested[r.Code] {
			t.Errorf("rule %s has no case in ruleCases", r.Code)
		}
	}
	for code := range tested {
		if !catalogued[code] {
			t.Errorf("ruleCases tests %s, which is not in Rules()", code)
		}
	}
}

// TestOKMeansNoReject checks, over every outcome of every rule case, that a record
// is OK exactly when it has no Reject issue — except the owner-row skip.
func TestOKMeansNoReject(t *testing.T) {
	for _, tc := range ruleCases() {
		res := run(t, tc.mod, tc.recs)
		check := func(what string, ok bool, issues []Issue) {
			rejected := false
			for _, is := range issues {
				rejected = rejected || is.Severity == Reject
			}
			skipped := len(issues) == 1 && issues[0].Rule == RuleMemberOwnerRow
			if skipped && ok || !skipped && ok == rejected {
				t.Errorf("%s: %s: OK=%v with issues %v", tc.name, what, ok, rules(issues))
			}
		}
		for _, o := range res.outcomes {
			check(string(o.entity)+" "+o.origin.String(), o.ok, o.issues)
		}
		for _, g := range res.groups {
			check("final group "+g.LegacyID, g.OK, g.Issues)
		}
		for _, d := range res.dms {
			check("final group DM "+d.LegacyID, d.OK, d.Issues)
		}
	}
}

func TestRulesCatalog(t *testing.T) {
	rs := Rules()
	seen := map[string]bool{}
	for i, r := range rs {
		if i > 0 && rs[i-1].Code >= r.Code {
			t.Errorf("Rules not sorted or duplicated at %s", r.Code)
		}
		if seen[r.Code] {
			t.Errorf("duplicate code %s", r.Code)
		}
		seen[r.Code] = true
		if r.Summary == "" || r.Spec == "" {
			t.Errorf("rule %s lacks summary or spec", r.Code)
		}
		switch r.Severity {
		case Reject, Repair, Warning:
		default:
			t.Errorf("rule %s has severity %v", r.Code, r.Severity)
		}
	}
	rs[0].Code = "changed"
	if Rules()[0].Code == "changed" {
		t.Errorf("Rules returns the package's own slice")
	}
}

// finalTopic returns the TopicFinal of "group/topic".
func (r runResult) finalTopic(t testing.TB, id string) TopicFinal {
	t.Helper()
	for _, f := range r.topics {
		if f.LegacyID == id {
			return f
		}
	}
	t.Fatalf("no final topic %q", id)
	return TopicFinal{}
}

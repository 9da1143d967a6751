package transform

import (
	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

// policies.self_messages: to_group. TIM has no conversation with oneself
// (importmsg needs a To_Account other than From_Account, spec §7.1), so a
// user's notes to self become the messages of a private group of one: created
// in the groups phase with the user as its owner (import_group's
// Owner_Account, spec §8.7), named after the user ("Alice's notes"), with a
// GroupId derived from the UserID under a prefix of its own, and the
// self-messages imported in order as that group's messages (import_group_msg,
// spec §8.9: group message rules apply, CloudCustomData is not sent, the
// oversize policy applies). Memory: under this policy the nick of every
// accepted user is kept, to name the groups.

// SelfGroupIDPrefix starts the GroupId of every self-messages group: the
// UserID follows (at most 32 bytes, so the GroupId stays within 48, design §7
// A36). A real group whose GroupId is the same rejects the self-messages
// (direct_message.self.group_clash) rather than merge into it.
const SelfGroupIDPrefix = "@self#"

// selfGroupSuffix ends a self-messages group's name.
const selfGroupSuffix = "'s notes"

// SelfGroupID is the GroupId of user's self-messages group.
func SelfGroupID(user string) string { return SelfGroupIDPrefix + user }

// selfGroup is one user's self-messages group, met in the direct message pass.
type selfGroup struct {
	origin   extract.Origin // of its first message
	legacy   string         // the user's legacy id
	req      tencentim.ImportGroupRequest
	first    int64 // SendTime of its first message
	last     int64 // and of its latest
	messages int
}

// SelfGroupResult is a self-message imported into its user's group.
type SelfGroupResult struct {
	GroupID string
	Msg     tencentim.GroupMsg
	// Parts as in GroupMessageResult.
	Parts []tencentim.GroupMsg `json:",omitempty"`
}

// selfMessage maps a self-message under to_group (DirectMessage's is holds the
// checks made so far).
func (t *Transformer) selfMessage(m extract.Message, is issueList) DirectMessageResult {
	from, r := t.resolveUser(m.SenderID, nil)
	t.userRefIssue(&is, r, m.SenderID, "sender", RuleDirectMessageSenderUnknown, RuleDirectMessageSenderRejected, "spec §7.1 (90008), §8.7")
	gid := SelfGroupID(from)
	if from != "" && t.groupTargets.has(fingerprint(gid)) {
		is.add(RuleDirectMessageSelfGroupClash, "the self-messages group of %s would be %q, the GroupId of a group of the source (policies.self_messages: to_group)", shown(m.SenderID), gid)
	}
	sec := t.sendTime(&is, m.SentAt)
	var g *selfGroup
	if n := len(t.selfGroups); n > 0 && t.selfGroups[n-1].req.GroupID == gid {
		g = &t.selfGroups[n-1]
	}
	if g != nil && sec > 0 && sec < g.last {
		is.add(RuleGroupMessageOutOfOrder, "send time %s is before the previous self-message; import_group_msg needs ascending times (spec §8.9, design §7 A2)", fmtTime(m.SentAt))
	}
	body := t.richBody(&m, true, &is)
	var parts [][]tencentim.MsgElem
	if body != nil {
		if cloud, ok := t.cloudData(&m, &is); ok && cloud != "" {
			is.add(RuleGroupMessageCloudDropped, "CloudCustomData %s left out: import_group_msg does not document it (spec §8.9)", shown(cloud))
		}
		body, parts = t.fitOrSplit(body, "", &is)
	}
	if is.rejected {
		return DirectMessageResult{Issues: is.list}
	}
	if g == nil {
		t.selfGroups = append(t.selfGroups, selfGroup{origin: m.Origin, legacy: m.SenderID, first: sec, req: tencentim.ImportGroupRequest{
			OwnerAccount: from, Type: tencentim.GroupPrivate, GroupID: gid, Name: t.selfGroupName(from),
			// Before its first message (spec §8.9, design §7 A2).
			CreateTime: sec - 1,
		}})
		g = &t.selfGroups[len(t.selfGroups)-1]
		t.selfWindow.reset()
	}
	g.messages++
	g.last = max(g.last, sec)
	random, _ := t.selfWindow.pick(m.ID, sec)
	msg := tencentim.GroupMsg{FromAccount: from, SendTime: sec, Random: random, MsgBody: body}
	res := &SelfGroupResult{GroupID: gid, Msg: msg}
	if len(parts) > 1 {
		w := t.window
		t.window = t.selfWindow
		res.Parts = t.groupParts(m.ID, msg, parts)
		t.selfWindow, t.window = t.window, w
	}
	if r == refImplied {
		t.commitImplied(&is, []string{m.SenderID}, []string{from})
	}
	return DirectMessageResult{OK: true, ToGroup: res, Issues: is.list}
}

// selfGroupName is "<nick>'s notes" within the 30 bytes of a group name (spec
// §8.4), the nick cut on a UTF-8 boundary; the UserID stands in for a missing
// nick.
func (t *Transformer) selfGroupName(user string) string {
	nick := t.selfNicks[user]
	if nick == "" {
		nick = user
	}
	return truncateUTF8(nick, tencentim.MaxGroupNameBytes-len(selfGroupSuffix)) + selfGroupSuffix
}

// SelfGroupFinal is one self-messages group's import_group payload.
type SelfGroupFinal struct {
	// Origin is that of the group's first message; LegacyID the user's.
	Origin   extract.Origin
	LegacyID string
	Group    tencentim.ImportGroupRequest
	Messages int
}

// SelfGroups returns the self-messages groups of the direct message pass, in
// the order their users' self-conversations came.
func (t *Transformer) SelfGroups() []SelfGroupFinal {
	out := make([]SelfGroupFinal, len(t.selfGroups))
	for i, g := range t.selfGroups {
		out[i] = SelfGroupFinal{Origin: g.origin, LegacyID: g.legacy, Group: g.req, Messages: g.messages}
	}
	return out
}

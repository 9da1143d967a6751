package mappings

import (
	"fmt"
	"strings"

	"github.com/immigrate/immigrate/tencentim/vocab"
)

// GroupDMs says how group DMs (the group_dms entity: conversations of three or
// more people without a group in the source) become TIM groups.
type GroupDMs struct {
	// Type is the TIM group type of every group DM (spec §8.1): Private (the
	// default, = Work), Public, ChatRoom (= Meeting) or Community. AVChatRoom
	// cannot be imported (spec §8.2).
	Type string
	// IDPrefix is put in front of a group DM's legacy id, after
	// ids.group_id_prefix, to form its GroupId, so that group DM ids and group
	// ids never meet on the target.
	IDPrefix string
}

// DefaultGroupDMType is the TIM type of group DMs when group_dms.type is absent:
// a private (work) group, invitation only, like the conversation it was.
const DefaultGroupDMType = vocab.GroupPrivate

type rawGroupDMs struct {
	Type     scalar `yaml:"type"`
	IDPrefix scalar `yaml:"id_prefix"`
}

func (c *converter) groupDMs(r *rawGroupDMs, f *File) {
	f.GroupDMs = GroupDMs{Type: DefaultGroupDMType}
	if r == nil {
		return
	}
	f.GroupDMs.Type = c.enum(r.Type, "group_dms.type", DefaultGroupDMType)
	f.GroupDMs.IDPrefix = c.text(r.IDPrefix, "group_dms.id_prefix")
}

// groupDMTypes are the types a group DM can have: those import_group takes (spec
// §8.2: not AVChatRoom).
var groupDMTypes = []string{
	vocab.GroupPrivate, vocab.GroupPublic, vocab.GroupChatRoom, vocab.GroupCommunity, vocab.GroupWork, vocab.GroupMeeting,
}

func (f *File) validateGroupDMs(l *errorList) {
	switch typ := f.GroupDMs.Type; {
	case typ == "": // a File built in code: the default
	case typ == vocab.GroupAVChatRoom:
		l.add("group_dms.type", "AVChatRoom groups cannot be imported (import_group answers 10007, spec §8.2); choose Private, Public, ChatRoom or Community")
	default:
		if msg := checkChoice(typ, groupDMTypes, "group type"); msg != "" {
			l.add("group_dms.type", msg)
		}
	}
	p := f.GroupDMs.IDPrefix
	if p == "" {
		return
	}
	// The GroupId rules of design §7 A36 apply to the whole prefix.
	whole := f.IDs.GroupIDPrefix + p
	switch {
	case len(whole) >= vocab.MaxGroupIDBytes:
		l.add("group_dms.id_prefix", fmt.Sprintf("with ids.group_id_prefix it must be shorter than %d bytes", vocab.MaxGroupIDBytes))
	case strings.HasPrefix(whole, "@TGS#"):
		l.add("group_dms.id_prefix", `must not start with "@TGS#" (reserved; Community groups get "@TGS#_" automatically)`)
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] > 0x7e {
			l.add("group_dms.id_prefix", "must be printable ASCII (design §7 A36)")
			break
		}
	}
}

// hashGroupDMs is the group_dms section in the hash: nil, and so left out, at
// its defaults, so that the hash of a mapping without the section is unchanged.
func (f *File) hashGroupDMs() *GroupDMs {
	if (f.GroupDMs.Type == DefaultGroupDMType || f.GroupDMs.Type == "") && f.GroupDMs.IDPrefix == "" {
		return nil
	}
	g := f.GroupDMs
	return &g
}

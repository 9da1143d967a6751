package plan

import (
	"encoding/json"
	"fmt"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/transform"
)

// SelfGroupCount says what policies.self_messages: to_group made of the
// self-messages: Messages direct messages (read as direct_messages) imported
// as the messages of Groups private groups, one per user (groups and
// group_messages phases; split parts are counted in Split as group_messages).
type SelfGroupCount struct {
	Groups   int64 `json:"groups"`
	Messages int64 `json:"messages"`
}

// selfGroupMessage plans and spools a self-message as its group's message(s).
func (v *validator) selfGroupMessage(m extract.Message, res transform.DirectMessageResult) error {
	g := res.ToGroup
	msgs := g.Parts
	if msgs == nil {
		msgs = []tencentim.GroupMsg{g.Msg}
	}
	v.selfMessages++
	v.seen(extract.DirectMessages, m.SentAt)
	var all []tencentim.MsgElem
	for _, p := range msgs {
		all = append(all, p.MsgBody...)
	}
	v.mediaURLs(extract.DirectMessages, m, all)
	n := len(msgs)
	v.splitMessage(extract.GroupMessages, g.GroupID, n)
	for i, msg := range msgs {
		raw, err := json.Marshal(msg)
		if err != nil {
			return fmt.Errorf("direct message %s: encode: %w", m.ID, err)
		}
		id := m.ID
		if n > 1 {
			id = transform.PartID(m.ID, i+1, n)
		}
		v.planGroupMessage(g.GroupID, load.GroupMsgSize(raw))
		if err := v.spoolRaw(load.PhaseGroupMessages, g.GroupID, m.Origin.String(), id, raw); err != nil {
			return err
		}
		if err := v.payload(extract.DirectMessages, id, GroupMessagePayload{GroupID: g.GroupID, Msg: msg}); err != nil {
			return err
		}
	}
	return nil
}

// endSelfGroups spools the self-messages groups for the groups phase, after
// the direct message pass that found them.
func (v *validator) endSelfGroups() error {
	v.selfFinals = v.t.SelfGroups()
	for _, f := range v.selfFinals {
		if err := v.spool(load.PhaseGroups, f.Group.GroupID, f.Origin.String(), f.LegacyID, f.Group); err != nil {
			return err
		}
		if err := v.payload(extract.Groups, f.Group.GroupID, f.Group); err != nil {
			return err
		}
	}
	return nil
}

// selfGroupPlan adds the self-messages groups to the plan's groups and group
// messages phases: groups, messages (parts) and import_group_msg calls.
func (v *validator) selfGroupPlan() (groups, msgs, calls int64) {
	for _, f := range v.selfFinals {
		groups++
		msgs += int64(f.Messages) + v.splitGroups[f.Group.GroupID].Extra()
		calls += v.msgCalls[f.Group.GroupID]
	}
	return groups, msgs, calls
}

func (v *validator) selfGroupResult() *SelfGroupCount {
	if len(v.selfFinals) == 0 {
		return nil
	}
	return &SelfGroupCount{Groups: int64(len(v.selfFinals)), Messages: v.selfMessages}
}

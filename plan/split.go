package plan

import (
	"encoding/json"
	"fmt"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/transform"
)

// SplitCount says how many messages of an entity policies.oversize: split cut,
// and into how many parts in all (spec §6.3): each part is one record of the
// plan and one message on the target.
type SplitCount struct {
	Entity   extract.Entity `json:"entity"`
	Messages int64          `json:"messages"`
	Parts    int64          `json:"parts"`
}

// Extra is how many more messages the target receives than the source had.
func (s SplitCount) Extra() int64 { return s.Parts - s.Messages }

// SplitOf returns the split counts of entity e (zero when none was split).
func (r *ValidateResult) SplitOf(e extract.Entity) SplitCount {
	for _, s := range r.Split {
		if s.Entity == e {
			return s
		}
	}
	return SplitCount{Entity: e}
}

// splitMessage counts an accepted message that became n parts (n > 1), of the
// group stream group ("" for a direct message).
func (v *validator) splitMessage(e extract.Entity, group string, n int) {
	if n < 2 {
		return
	}
	if v.split == nil {
		v.split = map[extract.Entity]*SplitCount{}
		v.splitGroups = map[string]SplitCount{}
	}
	s := v.split[e]
	if s == nil {
		s = &SplitCount{Entity: e}
		v.split[e] = s
	}
	s.Messages++
	s.Parts += int64(n)
	if group != "" {
		g := v.splitGroups[group]
		g.Messages++
		g.Parts += int64(n)
		v.splitGroups[group] = g
	}
}

// dropSplit uncounts the split messages of group, rejected at the end of the
// pass with its messages (finalGroups).
func (v *validator) dropSplit(group string) {
	g, ok := v.splitGroups[group]
	if !ok {
		return
	}
	s := v.split[extract.GroupMessages]
	s.Messages -= g.Messages
	s.Parts -= g.Parts
	delete(v.splitGroups, group)
}

// splitResult lists the split counts for the result, in entity order.
func (v *validator) splitResult() []SplitCount {
	var out []SplitCount
	for _, e := range extract.Entities() {
		if s := v.split[e]; s != nil && s.Messages > 0 {
			out = append(out, *s)
		}
	}
	return out
}

// groupMessageParts plans and spools the parts of a split group message, each a
// record of its own named transform.PartID.
func (v *validator) groupMessageParts(m extract.Message, res transform.GroupMessageResult) error {
	var all []tencentim.MsgElem
	for _, p := range res.Parts {
		all = append(all, p.MsgBody...)
	}
	v.mediaURLs(extract.GroupMessages, m, all)
	n := len(res.Parts)
	v.splitMessage(extract.GroupMessages, res.GroupID, n)
	for i, msg := range res.Parts {
		raw, err := json.Marshal(msg)
		if err != nil {
			return fmt.Errorf("group message %s: encode: %w", m.ID, err)
		}
		id := transform.PartID(m.ID, i+1, n)
		v.planGroupMessage(res.Stream, load.GroupMsgSize(raw))
		if err := v.spoolRaw(load.PhaseGroupMessages, res.Stream, m.Origin.String(), id, raw); err != nil {
			return err
		}
		if err := v.payload(extract.GroupMessages, id, GroupMessagePayload{GroupID: res.GroupID, Msg: msg}); err != nil {
			return err
		}
	}
	return nil
}

// directMessageParts plans and spools the parts of a split direct message, each
// an importmsg call and a record of its own named transform.PartID.
func (v *validator) directMessageParts(m extract.Message, res transform.DirectMessageResult) error {
	n := len(res.Parts)
	v.convStream.Calls += int64(n)
	v.convStream.Records += int64(n)
	v.seen(extract.DirectMessages, m.SentAt)
	var all []tencentim.MsgElem
	for _, p := range res.Parts {
		all = append(all, p.MsgBody...)
	}
	v.mediaURLs(extract.DirectMessages, m, all)
	v.splitMessage(extract.DirectMessages, "", n)
	stream := load.ConversationStream(res.Msg.FromAccount, res.Msg.ToAccount)
	for i, msg := range res.Parts {
		id := transform.PartID(m.ID, i+1, n)
		if err := v.spool(load.PhaseDirectMessages, stream, m.Origin.String(), id, msg); err != nil {
			return err
		}
		if err := v.payload(extract.DirectMessages, id, msg); err != nil {
			return err
		}
	}
	return nil
}

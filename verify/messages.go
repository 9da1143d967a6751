package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/tencentim"
)

// groupMessages reads each sampled group's history back with group_msg_get_simple
// (spec §8.14) and finds every message the import sends by its Random (derived
// from the legacy id, design §4 rule 2): missing when absent, different when its
// sender, time or body differ, or when it comes before a message the plan sends
// earlier (order: the target's MsgSeq is the import order).
func (v *verifier) groupMessages(ctx context.Context, src load.Source) error {
	return v.eachStream(ctx, src, load.PhaseGroupMessages, func(ctx context.Context, groupID string, recs []record) error {
		got, err := v.readGroupHistory(ctx, groupID)
		if err != nil {
			return err
		}
		byRandom := map[uint32][]int{}
		for i, m := range got {
			byRandom[m.MsgRandom] = append(byRandom[m.MsgRandom], i)
		}
		var lastSeq uint64
		for _, r := range recs {
			m, err := decode[tencentim.GroupMsg](load.PhaseGroupMessages, r.Record)
			if err != nil {
				return err
			}
			cands := byRandom[m.Random]
			if len(cands) == 0 {
				v.tally.find(extract.GroupMessages, r, groupID, KindMissing, fmt.Sprintf("no message with Random %d", m.Random))
				continue
			}
			// Randoms may repeat in a group's history; take the first not yet
			// matched.
			g := got[cands[0]]
			byRandom[m.Random] = cands[1:]
			d := diff{}
			d.sender(m.FromAccount, g.FromAccount)
			d.time(m.SendTime, g.MsgTimeStamp)
			d.body(m.MsgBody, "", g.MsgBody, "")
			if g.MsgSeq < lastSeq {
				d.add(FieldOrder, fmt.Sprintf("MsgSeq %d comes before MsgSeq %d of a message sent earlier", g.MsgSeq, lastSeq))
			}
			lastSeq = max(lastSeq, g.MsgSeq)
			v.report(extract.GroupMessages, r, fmt.Sprintf("%s MsgSeq %d", groupID, g.MsgSeq), d)
		}
		return nil
	})
}

// report counts a record as present, or as different when d found something.
func (v *verifier) report(e extract.Entity, r record, target string, d diff) {
	if len(d.fields) == 0 {
		v.tally.present(e)
		return
	}
	v.tally.find(e, r, target, KindDifferent, d.detail, d.fields...)
}

// readGroupHistory returns a group's stored messages, newest first, without the
// placeholders of deleted or expired ones (IsPlaceMsg 1); none when the group does
// not exist. Pages walk back from the latest: each asks for the seqs below the
// smallest seen (spec §8.14).
func (v *verifier) readGroupHistory(ctx context.Context, stream string) ([]tencentim.SimpleGroupMsg, error) {
	var out []tencentim.SimpleGroupMsg
	// A topic's messages are a stream of their own with their own history
	// (spec §8.14).
	groupID, topicID := load.SplitTopicStream(stream)
	err := tencentim.WalkGroupHistory(ctx, tencentim.GroupMsgGetSimpleRequest{GroupID: groupID, TopicID: topicID},
		func(ctx context.Context, req *tencentim.GroupMsgGetSimpleRequest) (*tencentim.GroupMsgGetSimpleResponse, error) {
			var resp tencentim.GroupMsgGetSimpleResponse
			return &resp, v.c.Call(ctx, tencentim.CmdGroupMsgGetSimple, req, &resp)
		},
		func(page []tencentim.SimpleGroupMsg) bool { out = append(out, page...); return true })
	if _, ok := refused(err); ok {
		return nil, nil // no such group: every message is missing
	}
	if err != nil {
		return nil, fmt.Errorf("group_msg_get_simple %s: %w", stream, err)
	}
	return out, nil
}

// directMessages reads each sampled conversation back with admin_getroammsg
// (spec §7.2) over the time range of its messages, and finds each message the
// import sends by (MsgSeq, MsgRandom), both derived from the legacy id (design §4
// rule 2). A message the target does not return is missing, unless it is older
// than the roaming retention. The target orders a conversation by time, so a
// message out of order has a different time too.
func (v *verifier) directMessages(ctx context.Context, src load.Source) error {
	var cutoff int64
	if v.cfg.RoamingDays > 0 {
		cutoff = v.cfg.Now.AddDate(0, 0, -v.cfg.RoamingDays).Unix()
	}
	return v.eachStream(ctx, src, load.PhaseDirectMessages, func(ctx context.Context, stream string, recs []record) error {
		want := make([]tencentim.ImportMsgRequest, len(recs))
		for i, r := range recs {
			m, err := decode[tencentim.ImportMsgRequest](load.PhaseDirectMessages, r.Record)
			if err != nil {
				return err
			}
			want[i] = m
		}
		a, b, _ := strings.Cut(stream, "\x00")
		first, last := want[0].MsgTimeStamp, want[0].MsgTimeStamp
		for _, m := range want {
			first, last = min(first, m.MsgTimeStamp), max(last, m.MsgTimeStamp)
		}
		got, err := v.readRoam(ctx, a, b, first, last)
		if err != nil {
			return err
		}
		label := a + " ↔ " + b
		for i, m := range want {
			r := recs[i]
			k := [2]uint32{m.MsgSeq, m.MsgRandom}
			g, ok := got[k]
			if !ok {
				if m.MsgTimeStamp < cutoff {
					v.beyondRetention(m.MsgTimeStamp)
					continue
				}
				v.tally.find(extract.DirectMessages, r, label, KindMissing, fmt.Sprintf("no message with MsgSeq %d, MsgRandom %d", m.MsgSeq, m.MsgRandom))
				continue
			}
			delete(got, k)
			d := diff{}
			d.sender(m.FromAccount, g.FromAccount)
			d.time(m.MsgTimeStamp, g.MsgTimeStamp)
			d.body(m.MsgBody, m.CloudCustomData, g.MsgBody, g.CloudCustomData)
			v.report(extract.DirectMessages, r, label, d)
		}
		return nil
	})
}

func (v *verifier) beyondRetention(ts int64) {
	v.tally.beyondRetention(extract.DirectMessages)
	v.mu.Lock()
	defer v.mu.Unlock()
	t := time.Unix(ts, 0)
	if v.beyond == 0 || t.Before(v.oldest) {
		v.oldest = t
	}
	v.beyond++
}

// readRoam returns the messages of the conversation of a and b within [minTime,
// maxTime] by (MsgSeq, MsgRandom); none when an account does not exist.
func (v *verifier) readRoam(ctx context.Context, a, b string, minTime, maxTime int64) (map[[2]uint32]tencentim.RoamMsg, error) {
	out := map[[2]uint32]tencentim.RoamMsg{}
	err := tencentim.WalkRoam(ctx, tencentim.AdminGetRoamMsgRequest{OperatorAccount: a, PeerAccount: b, MinTime: minTime, MaxTime: maxTime},
		func(ctx context.Context, req *tencentim.AdminGetRoamMsgRequest) (*tencentim.AdminGetRoamMsgResponse, error) {
			var resp tencentim.AdminGetRoamMsgResponse
			return &resp, v.c.Call(ctx, tencentim.CmdAdminGetRoamMsg, req, &resp)
		},
		func(page []tencentim.RoamMsg) bool {
			for _, m := range page {
				out[[2]uint32{m.MsgSeq, m.MsgRandom}] = m
			}
			return true
		})
	if _, ok := refused(err); ok {
		return out, nil // an account does not exist: every message is missing
	}
	if err != nil {
		return nil, fmt.Errorf("admin_getroammsg %s %s: %w", a, b, err)
	}
	return out, nil
}

// diff collects what differs in one record.
type diff struct {
	fields []string
	detail string
}

func (d *diff) add(field, detail string) {
	d.fields = append(d.fields, field)
	d.detail = joinDetail(d.detail, detail)
}

func (d *diff) sender(want, got string) {
	if want != got {
		d.add(FieldSender, fmt.Sprintf("sender %q, target %q", want, got))
	}
}

func (d *diff) time(want, got int64) {
	if want != got {
		d.add(FieldTime, fmt.Sprintf("time %s, target %s", unix(want), unix(got)))
	}
}

func (d *diff) body(want []tencentim.MsgElem, wantCloud string, got []tencentim.MsgElem, gotCloud string) {
	w, g := canonical(want), canonical(got)
	switch {
	case w != g:
		d.add(FieldText, fmt.Sprintf("body %s, target %s", excerpt(want, w), excerpt(got, g)))
	case wantCloud != gotCloud:
		d.add(FieldText, fmt.Sprintf("CloudCustomData %q, target %q", clip(wantCloud), clip(gotCloud)))
	}
}

func unix(ts int64) string { return time.Unix(ts, 0).UTC().Format(time.RFC3339) }

// canonical is a message body as JSON with object keys sorted and no spaces, so
// that a target that re-encodes the body compares equal.
func canonical(body []tencentim.MsgElem) string {
	raw, err := json.Marshal(body)
	if err != nil {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// excerpt shows a body by its first text, else by its JSON, cut short.
func excerpt(body []tencentim.MsgElem, canon string) string {
	for _, e := range body {
		if e.MsgType == tencentim.MsgText {
			var c tencentim.TextContent
			if json.Unmarshal(e.MsgContent, &c) == nil {
				return fmt.Sprintf("%q", clip(c.Text))
			}
		}
	}
	return clip(canon)
}

const maxExcerpt = 80

func clip(s string) string {
	if r := []rune(s); len(r) > maxExcerpt {
		return string(r[:maxExcerpt-1]) + "…"
	}
	return s
}

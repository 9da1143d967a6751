package tencentim

import "context"

// Reading history back, page by page: the import engine (what a populated target
// already holds) and verify (what it holds after the import) walk it the same way.

// WalkGroupHistory pages a group's history (a topic's, when req.TopicID is set)
// back from its latest message (spec §8.14): get makes one group_msg_get_simple
// call; page receives each page's messages that are not placeholders of deleted or
// expired ones (IsPlaceMsg 1), and returns false to stop. Each page asks for the
// seqs below the smallest seen. req.GroupID and req.TopicID name the history;
// ReqMsgNumber defaults to MaxGroupMsgGetSimple.
func WalkGroupHistory(ctx context.Context, req GroupMsgGetSimpleRequest,
	get func(context.Context, *GroupMsgGetSimpleRequest) (*GroupMsgGetSimpleResponse, error),
	page func([]SimpleGroupMsg) bool) error {
	if req.ReqMsgNumber == 0 {
		req.ReqMsgNumber = MaxGroupMsgGetSimple
	}
	req.ReqMsgSeq = 0
	for {
		resp, err := get(ctx, &req)
		if err != nil {
			return err
		}
		msgs := resp.Messages()
		if len(msgs) == 0 {
			return nil
		}
		low := msgs[0].MsgSeq
		kept := make([]SimpleGroupMsg, 0, len(msgs))
		for _, m := range msgs {
			low = min(low, m.MsgSeq)
			if m.IsPlaceMsg != 1 {
				kept = append(kept, m)
			}
		}
		if !page(kept) || low <= 1 || (req.ReqMsgSeq != 0 && low >= req.ReqMsgSeq+1) {
			return nil
		}
		req.ReqMsgSeq = low - 1
	}
}

// RoamPage is the MaxCnt the walkers ask admin_getroammsg for; the target cuts
// pages at 13 KB anyway (spec §7.2).
const RoamPage = 100

// WalkRoam pages one conversation's history within [req.MinTime, req.MaxTime]
// back in time (spec §7.2): get makes one admin_getroammsg call, page receives
// each page's messages and returns false to stop. Each page starts from the
// previous page's LastMsgTime and LastMsgKey; MaxCnt defaults to RoamPage.
func WalkRoam(ctx context.Context, req AdminGetRoamMsgRequest,
	get func(context.Context, *AdminGetRoamMsgRequest) (*AdminGetRoamMsgResponse, error),
	page func([]RoamMsg) bool) error {
	if req.MaxCnt == 0 {
		req.MaxCnt = RoamPage
	}
	for {
		resp, err := get(ctx, &req)
		if err != nil {
			return err
		}
		if !page(resp.MsgList) || resp.Complete == 1 || len(resp.MsgList) == 0 || resp.LastMsgKey == req.LastMsgKey {
			return nil
		}
		req.MaxTime, req.LastMsgKey = resp.LastMsgTime, resp.LastMsgKey
	}
}

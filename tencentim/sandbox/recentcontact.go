package sandbox

import "github.com/immigrate/immigrate/tencentim"

// recentcontact codes (spec §9).
const (
	codeRecentNoAccount = 50001
	codeRecentParam     = 50002
	recentPageSize      = 100
)

// handleRecentContactList is v4/recentcontact/get_list (spec §9; items 34, 62,
// 88): the user's conversations, newest first, C2C (Type 1) and group (Type 2).
// The vendor's cursor semantics are not documented (INFERRED): StartIndex is the
// offset of the page in that order and TimeStamp echoes the MsgTime of the page's
// last conversation; the sandbox has no pinned conversations, so the Top* cursors
// stay 0.
func handleRecentContactList(s *Server, c *call) (any, *apiError) {
	from, aerr := c.str("From_Account", true, codeRecentParam, codeAccountType)
	if aerr != nil {
		return nil, aerr
	}
	var start int64
	for _, name := range []string{"TimeStamp", "StartIndex", "TopTimeStamp", "TopStartIndex", "AssistFlags"} {
		n, aerr := c.int64(name, true, codeRecentParam, codeRecentParam)
		if aerr != nil {
			return nil, aerr
		}
		if n < 0 {
			return nil, errf(codeRecentParam, name+" is negative")
		}
		if name == "StartIndex" {
			start = n
		}
	}
	if !s.users.exists(from) {
		return nil, errf(codeRecentNoAccount, "account "+from+" is not imported")
	}
	all := sortedSessions(s.users.sessions[from])
	lo := int(min(start, int64(len(all))))
	hi := min(len(all), lo+recentPageSize)
	resp := &tencentim.RecentContactListResponse{SessionItem: make([]tencentim.SessionItem, 0, hi-lo)}
	for _, e := range all[lo:hi] {
		it := tencentim.SessionItem{Type: e.key.typ, MsgTime: e.time}
		if e.key.typ == sessionC2C {
			it.ToAccount = e.key.peer
		} else {
			it.GroupID = e.key.peer
		}
		resp.SessionItem = append(resp.SessionItem, it)
	}
	if hi >= len(all) {
		resp.CompleteFlag = 1
	}
	resp.StartIndex = hi
	if hi > lo {
		resp.TimeStamp = all[hi-1].time
	}
	return resp, nil
}

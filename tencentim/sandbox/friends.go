package sandbox

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/immigrate/immigrate/tencentim"
)

// Relationship-chain codes (spec §5.1, §5.3).
const (
	codeSNSParam      = 30001
	codeSNSNoAccount  = 30003
	codeSNSFriendMax  = 30010
	codeSNSListMax    = 30011
	friendGetPageSize = 100 // not stated by the vendor (spec §5.3, INFERRED)
)

// Relationship-chain limits from the vendor's usage-limits page (spec §5.1
// supplement).
const (
	maxFriendLists     = 32
	maxFriendListChars = 30
	maxRemarkChars     = 96
)

const snsCustomPrefix = "Tag_SNS_Custom_"

// itemError is a per-item failure of a batch API.
type itemError struct {
	code int
	info string
}

// parseFriendItem validates one AddFriendItem (spec §5.1 table). AddSource is
// required (item 24); its format is not stated (A30), so any non-empty string is
// accepted.
func parseFriendItem(it fields, now int64) (*friend, *itemError) {
	bad := func(info string) (*friend, *itemError) {
		return nil, &itemError{codeSNSParam, info}
	}
	f := &friend{}
	var aerr *apiError
	if f.to, aerr = it.str("To_Account", true, codeSNSParam, codeSNSParam); aerr != nil {
		return bad(aerr.Info)
	}
	if f.addSource, aerr = it.str("AddSource", true, codeSNSParam, codeSNSParam); aerr != nil {
		return bad(aerr.Info)
	}
	if f.addSource == "" {
		return bad("AddSource is empty")
	}
	if f.remark, aerr = it.str("Remark", false, codeSNSParam, codeSNSParam); aerr != nil {
		return bad(aerr.Info)
	}
	if utf8.RuneCountInString(f.remark) > maxRemarkChars {
		return bad("Remark is longer than 96 characters")
	}
	if f.remarkTime, aerr = it.int64("RemarkTime", false, codeSNSParam, codeSNSParam); aerr != nil {
		return bad(aerr.Info)
	}
	if f.addWording, aerr = it.str("AddWording", false, codeSNSParam, codeSNSParam); aerr != nil {
		return bad(aerr.Info)
	}
	if f.addTime, aerr = it.int64("AddTime", false, codeSNSParam, codeSNSParam); aerr != nil {
		return bad(aerr.Info)
	}
	if !it.has("AddTime") {
		f.addTime = now
	}
	if f.groups, aerr = it.strings("GroupName", false, codeSNSParam, codeSNSParam); aerr != nil {
		return bad(aerr.Info)
	}
	for _, g := range f.groups {
		if g == "" || utf8.RuneCountInString(g) > maxFriendListChars {
			return bad("a GroupName must be 1-30 characters")
		}
	}
	f.groups = slices.Compact(slices.Sorted(slices.Values(f.groups)))
	custom, aerr := it.objects("CustomItem", false, codeSNSParam, codeSNSParam)
	if aerr != nil {
		return bad(aerr.Info)
	}
	for _, ci := range custom {
		tag, aerr := ci.str("Tag", true, codeSNSParam, codeSNSParam)
		if aerr != nil {
			return bad(aerr.Info)
		}
		if !strings.HasPrefix(tag, snsCustomPrefix) || len(tag) == len(snsCustomPrefix) {
			return bad("custom friend tag " + tag + " must start with " + snsCustomPrefix)
		}
		raw, _ := ci.value("Value")
		var v json.RawMessage
		if s, ok := asString(raw); ok {
			v = jsonString(s)
		} else if n, ok := asInt64(raw); ok {
			v = json.RawMessage(strconv.FormatInt(n, 10))
		} else {
			return bad("the Value of " + tag + " must be a string or an integer")
		}
		if f.custom == nil {
			f.custom = map[string]json.RawMessage{}
		}
		f.custom[tag] = v
	}
	return f, nil
}

// listCount is the number of distinct friend lists of owner with extra added.
func (u *userStore) listCount(owner string, extra []string) int {
	set := map[string]bool{}
	for _, f := range u.friends[owner] {
		for _, g := range f.groups {
			set[g] = true
		}
	}
	for _, g := range extra {
		set[g] = true
	}
	return len(set)
}

// handleFriendImport is v4/sns/friend_import (spec §5.1; items 23-25). Friends are
// one-way. Importing an existing friend again replaces its fields (an import is
// idempotent). Per-item failures are ResultItem codes listed in Fail_Account: 30001
// bad item, 30003 To_Account not imported, 30010 the friend limit, 30011 the
// friend-list limit.
func handleFriendImport(s *Server, c *call) (any, *apiError) {
	from, aerr := c.str("From_Account", true, codeSNSParam, codeAccountType)
	if aerr != nil {
		return nil, aerr
	}
	items, aerr := c.objects("AddFriendItem", true, codeSNSParam, codeSNSParam)
	if aerr != nil {
		return nil, aerr
	}
	if len(items) == 0 {
		return nil, errf(codeSNSParam, "AddFriendItem is empty")
	}
	for i, it := range items {
		// A friend's UserID is an account: a non-string is 60015 (item 9).
		if v, ok := it.value("To_Account"); ok {
			if _, ok := asString(v); !ok {
				return nil, wrongType(codeAccountType, "AddFriendItem["+strconv.Itoa(i)+"].To_Account", "a string")
			}
		}
	}
	if !s.users.exists(from) {
		return nil, errf(codeSNSNoAccount, "account "+from+" does not exist")
	}
	resp := &tencentim.FriendImportResponse{ResultItem: make([]tencentim.FriendResult, 0, len(items))}
	now := c.now.Unix()
	for _, it := range items {
		f, ierr := parseFriendItem(it, now)
		if ierr == nil {
			ierr = s.users.addFriend(from, f, s.friendLimit())
		}
		to := ""
		if f != nil {
			to = f.to
		} else {
			to, _ = it.str("To_Account", false, 0, 0)
		}
		r := tencentim.FriendResult{ToAccount: to}
		if ierr != nil {
			r.ResultCode, r.ResultInfo = ierr.code, ierr.info
			resp.FailAccount = append(resp.FailAccount, to)
		}
		resp.ResultItem = append(resp.ResultItem, r)
	}
	return resp, nil
}

// addFriend stores f in owner's list, checking the account and the limits.
func (u *userStore) addFriend(owner string, f *friend, limit int) *itemError {
	switch {
	case f.to == owner:
		return &itemError{codeSNSParam, "cannot add oneself as a friend"}
	case !u.exists(f.to):
		return &itemError{codeSNSNoAccount, "account " + f.to + " does not exist"}
	}
	list := u.friends[owner]
	if _, ok := list[f.to]; !ok && len(list) >= limit {
		return &itemError{codeSNSFriendMax, "Err_SNS_FriendImport_My_Friend_Num_Exceed_Threshold"}
	}
	if u.listCount(owner, f.groups) > maxFriendLists {
		return &itemError{codeSNSListMax, "Err_SNS_FriendImport_Group_Num_Exceed_Threshold"}
	}
	if list == nil {
		list = map[string]*friend{}
		u.friends[owner] = list
	}
	list[f.to] = f
	u.friendSeq[owner]++
	return nil
}

// friendValues is the ValueItem list of one friend: the standard tags of spec
// §5.3 (INFERRED mapping from friend_import's fields), then the custom tags in
// name order.
func friendValues(f *friend, standard, custom bool) []tencentim.FriendValueItem {
	var out []tencentim.FriendValueItem
	if standard {
		groups := f.groups
		if groups == nil {
			groups = []string{}
		}
		g, _ := json.Marshal(groups)
		out = append(out,
			tencentim.FriendValueItem{Tag: tencentim.TagSNSAddSource, Value: jsonString(f.addSource)},
			tencentim.FriendValueItem{Tag: tencentim.TagSNSRemark, Value: jsonString(f.remark)},
			tencentim.FriendValueItem{Tag: tencentim.TagSNSGroup, Value: g},
			tencentim.FriendValueItem{Tag: tencentim.TagSNSAddTime, Value: json.RawMessage(strconv.FormatInt(f.addTime, 10))},
		)
	}
	if custom {
		for _, tag := range slices.Sorted(maps.Keys(f.custom)) {
			out = append(out, tencentim.FriendValueItem{Tag: tag, Value: f.custom[tag]})
		}
	}
	if out == nil {
		out = []tencentim.FriendValueItem{}
	}
	return out
}

// handleFriendGet is v4/sns/friend_get (spec §5.3; items 23, 26): pages of 100
// friends in UserID order. StandardSequence and CustomSequence are the version of
// the user's friend list; a request that already has the current version of a
// part does not get that part again.
func handleFriendGet(s *Server, c *call) (any, *apiError) {
	from, aerr := c.str("From_Account", true, codeSNSParam, codeAccountType)
	if aerr != nil {
		return nil, aerr
	}
	start, aerr := c.int64("StartIndex", true, codeSNSParam, codeSNSParam)
	if aerr != nil {
		return nil, aerr
	}
	if start < 0 {
		return nil, errf(codeSNSParam, "StartIndex is negative")
	}
	stdSeq, aerr := c.int64("StandardSequence", false, codeSNSParam, codeSNSParam)
	if aerr != nil {
		return nil, aerr
	}
	customSeq, aerr := c.int64("CustomSequence", false, codeSNSParam, codeSNSParam)
	if aerr != nil {
		return nil, aerr
	}
	if !s.users.exists(from) {
		return nil, errf(codeSNSNoAccount, "account "+from+" does not exist")
	}
	list := s.users.friends[from]
	seq := s.users.friendSeq[from]
	ids := slices.Sorted(maps.Keys(list))
	resp := &tencentim.FriendGetResponse{
		UserDataItem:     []tencentim.UserDataItem{},
		StandardSequence: seq,
		CustomSequence:   seq,
		FriendNum:        len(ids),
	}
	wantStd := stdSeq == 0 || int(stdSeq) != seq
	wantCustom := customSeq == 0 || int(customSeq) != seq
	end := min(len(ids), int(min(start, int64(len(ids))))+friendGetPageSize)
	for _, id := range ids[min(start, int64(len(ids))):end] {
		resp.UserDataItem = append(resp.UserDataItem, tencentim.UserDataItem{
			ToAccount: id, ValueItem: friendValues(list[id], wantStd, wantCustom),
		})
	}
	if end >= len(ids) {
		resp.CompleteFlag = 1
	}
	resp.NextStartIndex = end
	return resp, nil
}

package transform

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

// Friend limits of the vendor's usage-limits page (spec §5.1 supplement): a
// remark of at most 96 characters, at most 3,000 friends per user (30010).
const (
	MaxFriendRemarkChars = 96
	MaxFriendsPerUser    = 3000
)

// FriendAddSource is the AddSource of every imported friend: friend_import
// requires one (spec §5.1, checklist item 24) and states no format beyond the
// samples' AddSource_Type_ prefix (A30).
const FriendAddSource = "AddSource_Type_Import"

// FriendResult is the outcome of one friends row: the friend_import item that puts
// FriendID in the list of From (spec §5.1).
type FriendResult struct {
	From   string
	Item   tencentim.AddFriendItem
	OK     bool
	Issues []Issue
}

// Friend checks one friends row (in (user_id, friend_id) order, extract.Reader). A
// row is one direction of a friendship: TIM friends are one-way (spec §5.1), so
// a mutual friendship is two rows and imports as two items, one in each user's
// list.
func (t *Transformer) Friend(f extract.Friend) FriendResult {
	is := newIssues(extract.Friends, f.Origin, f.UserID, f.FriendID)
	is.dropped(f.Dropped)
	from, r := t.resolveUser(f.UserID, nil)
	t.userRefIssue(&is, r, f.UserID, "user", RuleFriendUserUnknown, RuleFriendUserRejected, "spec §5.1 (30003)")
	var pending []string
	if r == refImplied {
		pending = []string{from}
	}
	to, r2 := t.resolveUser(f.FriendID, pending)
	t.userRefIssue(&is, r2, f.FriendID, "friend", RuleFriendFriendUnknown, RuleFriendFriendRejected, "spec §5.1 (30003)")
	if f.UserID == f.FriendID || (from != "" && from == to) {
		is.add(RuleFriendSelf, "user %s lists itself as a friend; TIM refuses it (spec §5.1, 30001)", shown(f.UserID))
	}
	if from != t.friendUser {
		t.friendUser, t.friendCount, t.friendLast = from, 0, ""
		clear(t.friendLists)
	} else if !is.rejected && to == t.friendLast {
		is.add(RuleFriendDuplicate, "friend %s is listed twice for user %s; only the first row is imported", shown(f.FriendID), shown(f.UserID))
	}
	if !is.rejected && t.friendCount >= MaxFriendsPerUser {
		is.add(RuleFriendLimit, "user %s already has %d friends, the most TIM keeps (spec §5.1 supplement, 30010)", shown(f.UserID), MaxFriendsPerUser)
	}
	item := tencentim.AddFriendItem{ToAccount: to, AddSource: FriendAddSource, Remark: f.Remark}
	if n := utf8.RuneCountInString(f.Remark); n > MaxFriendRemarkChars {
		if t.longNames == PolicyReject {
			is.add(RuleFriendRemarkTooLong, "remark %s is %d characters; TIM allows %d (spec §5.1 supplement)", shown(f.Remark), n, MaxFriendRemarkChars)
		} else {
			item.Remark = truncateRunes(f.Remark, MaxFriendRemarkChars)
			is.add(RuleFriendRemarkTruncated, "remark %s is %d characters; TIM allows %d (spec §5.1 supplement); truncated", shown(f.Remark), n, MaxFriendRemarkChars)
		}
	}
	item.GroupName = t.friendGroups(f, &is)
	if !f.AddedAt.IsZero() {
		switch at := f.AddedAt.Unix(); {
		case at <= 0:
			is.add(RuleFriendAddTimeInvalid, "added_at %s is not after 1970-01-01; AddTime left to the server", fmtTime(f.AddedAt))
		case at >= t.now:
			is.add(RuleFriendAddTimeFuture, "added_at %s is not before now (%s)", fmtTime(f.AddedAt), fmtUnix(t.now))
		default:
			item.AddTime = at
		}
	}
	if is.rejected {
		return FriendResult{Issues: is.list}
	}
	var legacy, target []string
	for _, c := range []struct {
		r         userRef
		legacy, t string
	}{{r, f.UserID, from}, {r2, f.FriendID, to}} {
		if c.r == refImplied {
			legacy, target = append(legacy, c.legacy), append(target, c.t)
		}
	}
	t.commitImplied(&is, legacy, target)
	t.friendCount++
	t.friendLast = to
	for _, g := range item.GroupName {
		t.friendLists[g] = struct{}{}
	}
	return FriendResult{From: from, Item: item, OK: true, Issues: is.list}
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// Friend list limits of the usage-limits page (spec §5.1 supplement): a list
// name of at most 30 characters, at most 32 lists per user (30011).
const (
	MaxFriendListChars = 30
	MaxFriendLists     = 32
)

// friendGroups maps a friends row's group field to friend_import's GroupName
// (spec §5.1): one list name, or a JSON array of names; blank names are left
// out and repeats kept once. A name over 30 characters is truncated or, under
// long_names: reject, rejects the row; lists that would take the user past 32
// are left out, reported as a repair.
func (t *Transformer) friendGroups(f extract.Friend, is *issueList) []string {
	raw := strings.TrimSpace(f.Group)
	if raw == "" {
		return nil
	}
	names := []string{raw}
	if strings.HasPrefix(raw, "[") {
		names = nil
		if err := json.Unmarshal([]byte(raw), &names); err != nil {
			is.add(RuleFriendGroupInvalid, "group %s is not a JSON array of friend list names: %v (spec §5.1 GroupName)", shown(f.Group), err)
			return nil
		}
	}
	var out, dropped []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if c := utf8.RuneCountInString(n); c > MaxFriendListChars {
			if t.longNames == PolicyReject {
				is.add(RuleFriendGroupTooLong, "friend list %s is %d characters; TIM allows %d (spec §5.1 supplement)", shown(n), c, MaxFriendListChars)
				return nil
			}
			is.add(RuleFriendGroupTruncated, "friend list %s is %d characters; TIM allows %d (spec §5.1 supplement); truncated", shown(n), c, MaxFriendListChars)
			n = truncateRunes(n, MaxFriendListChars)
		}
		if slices.Contains(out, n) {
			continue
		}
		if _, known := t.friendLists[n]; !known && len(t.friendLists)+len(out)-t.knownLists(out) >= MaxFriendLists {
			dropped = append(dropped, n)
			continue
		}
		out = append(out, n)
	}
	if len(dropped) > 0 {
		is.add(RuleFriendGroupLimit, "user %s already has %d friend lists, the most TIM keeps (spec §5.1 supplement, 30011); %s left out of GroupName", shown(f.UserID), MaxFriendLists, shown(strings.Join(dropped, ", ")))
	}
	return out
}

// knownLists counts the names of out that the current user already has.
func (t *Transformer) knownLists(out []string) int {
	n := 0
	for _, g := range out {
		if _, ok := t.friendLists[g]; ok {
			n++
		}
	}
	return n
}

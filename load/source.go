package load

import (
	"context"

	"github.com/immigrate/immigrate/tencentim"
)

// Source yields ready-to-send payloads for each phase, in the order the target needs
// them. The run command implements it on top of the extract readers and the
// transformer; tests implement it in memory.
//
// Contract:
//   - The engine calls each method at most once per Run, each from its own goroutine.
//     Accounts, Groups, Members, GroupMessages and Unread are called one after the
//     other, in that order, each after the previous phase finished. DirectMessages is
//     called once the accounts phase finished and runs concurrently with the group
//     phases, so an implementation must not share unsynchronised state between
//     DirectMessages and the other methods.
//   - fn is called sequentially from the method's goroutine. When fn returns an error
//     the method must stop and return that error (wrapped or not): it is how the
//     engine stops a source when the run is cancelled or failed.
//   - Members yields all of a group's members consecutively. GroupMessages yields a
//     group's messages consecutively, in (send time, legacy id) order. DirectMessages
//     yields a conversation's messages consecutively, in (time, legacy id) order. A
//     group or conversation that comes back after another one started is a separate
//     stream: the engine finishes the earlier one first, so order still holds, but
//     the two runs do not overlap. A run with a Checkpoint needs each stream once:
//     positions count within a stream (see Checkpoint).
//   - Every Run over the same data yields the same records in the same order, so
//     that a resumed run finds them at the positions its checkpoint recorded.
//   - Unread is optional: a source without unread counts returns nil at once.
//   - A method returns ctx.Err() when ctx is cancelled.
type Source interface {
	Accounts(ctx context.Context, fn func(Account) error) error
	Groups(ctx context.Context, fn func(Group) error) error
	Members(ctx context.Context, fn func(Member) error) error
	GroupMessages(ctx context.Context, fn func(GroupMessage) error) error
	DirectMessages(ctx context.Context, fn func(DirectMessage) error) error
	Unread(ctx context.Context, fn func(Unread) error) error
}

// Item identifies the legacy record behind a payload, for rejects and checkpoints.
type Item struct {
	Origin   string // where the record came from: "file.csv:12" or "table id=42"
	LegacyID string // the record's legacy id ("group/user" for members)
	// Ordinal is the record's position, from 0, in its stream (group and direct
	// messages) or its phase (the others), as the source yields it. The engine
	// sets it; a checkpoint keys its marks by it.
	Ordinal int64
}

// Account is one account to import.
type Account struct {
	Item
	Req tencentim.AccountImportRequest
}

// Group is one group to import. Req.GroupID must be the deterministic custom id
// (design §4 rule 1): the engine reads 10021 on it as "already imported".
type Group struct {
	Item
	Req tencentim.ImportGroupRequest
}

// Member is one member of GroupID.
type Member struct {
	Item
	GroupID string
	M       tencentim.ImportMember
}

// GroupMessage is one message of GroupID.
type GroupMessage struct {
	Item
	GroupID string
	Msg     tencentim.GroupMsg
}

// DirectMessage is one one-to-one message.
type DirectMessage struct {
	Item
	Req tencentim.ImportMsgRequest
}

// Unread restores one member's unread count after the group messages phase.
type Unread struct {
	Item
	Req tencentim.SetUnreadMsgNumRequest
}

// conversationKey names the stream of a one-to-one message: both directions of a
// conversation are one stream, as the target stores them as one history.
func conversationKey(from, to string) string {
	if to < from {
		from, to = to, from
	}
	return from + "\x00" + to
}

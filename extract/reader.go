package extract

import "context"

// Reader streams the legacy records of one source. CSVReader and PostgresReader
// implement it; extracttest.Run is the suite every implementation must pass.
//
// Each method reads its entity from the start, calling fn once per record in the
// order below, synchronously on the caller's goroutine; it may be called any number of
// times, each call re-reading the source, and different methods (or the same one) may
// run concurrently. A source without the entity yields no records and a nil error.
// Records are UTC-normalized and share no mutable memory with the reader: fn may keep
// them.
//
// Each call that reads the source calls Options.OnRead(entity) exactly once, on the
// caller's goroutine, before its first record: when the CSV file is opened (the
// read feeding an unsorted file's sort included; its spill files do not count) or
// when the PostgreSQL query starts (once per call, not per page). A call for an
// entity the source does not configure reads nothing and does not call it. Callers
// count it to prove how often the source is read.
//
// Records that cannot be read (a missing required field, an unparsable timestamp or
// number, a broken CSV line) are skipped and reported to Options.OnBadRow on the
// caller's goroutine; they never stop the read. A BadRow may be reported ahead of the
// records around it (a sort or a page reads ahead), never after the method returns.
//
// A non-nil error from fn stops the read and is returned as is, so errors.Is and
// errors.As see it. Cancelling ctx stops the read before the next record with an
// error wrapping ctx.Err(). Other errors (I/O, SQL) are wrapped with the entity or
// file:line.
//
// Order, identical in every implementation: strings (group ids, user ids, conversation
// ids) compare bytewise; times compare at full precision; a legacy message id compares
// shortlex — by length, then bytewise — which is numeric order for integer ids.
//
//   - Members: by group_id, then joined_at (an empty one first), then user_id.
//   - GroupMessages: by group_id, then topic_id (the group's own messages, with an
//     empty one, first), then sent_at, then id. One group's own messages are one
//     stream, and each topic's another.
//   - DirectMessages: by conversation (ConversationKey(sender, recipient)), then
//     sent_at, then id. One conversation is one stream.
//   - Friends: by user_id, then friend_id. One user's friend list is one stream
//     (friend_import writes one user's list at a time, spec §5.1).
//   - Users, Groups, Topics, GroupDMs: CSV gives file order; PostgreSQL gives key order (id,
//     bytewise).
//
// A stream ends where its key changes: the caller sees a new group_id or a new
// ConversationKey on the next record, or the method returns. Every stream's records
// are contiguous.
//
// Memory stays bounded whatever the source size: a Reader never holds an entity
// whole. Close releases its resources (spill files, connections) and must be called
// once the Reader is no longer needed; reads that start after it fail with
// ErrClosed.
//
// Both implementations are also Fingerprinters, so a caller can tell whether the
// source changed since an earlier read without reading it again.
type Reader interface {
	Users(ctx context.Context, fn func(User) error) error
	Groups(ctx context.Context, fn func(Group) error) error
	Members(ctx context.Context, fn func(Member) error) error
	GroupMessages(ctx context.Context, fn func(Message) error) error
	DirectMessages(ctx context.Context, fn func(Message) error) error
	Friends(ctx context.Context, fn func(Friend) error) error
	Topics(ctx context.Context, fn func(Topic) error) error
	GroupDMs(ctx context.Context, fn func(GroupDM) error) error
	Close() error
}

package load

import (
	"context"
	"encoding/json"
	"fmt"
)

// Source yields the records of each phase of the plan, in the order the target
// needs them. The plan package implements it over the spool the validate pass
// wrote; tests implement it in memory.
//
// Contract:
//   - The engine calls Records at most once per phase per Run, each phase from its
//     own goroutine, and phases run concurrently (see the phase table: direct
//     messages run alongside the group phases), so an implementation must be safe
//     for concurrent calls for different phases.
//   - fn is called sequentially from the calling goroutine. When fn returns an
//     error, Records must stop and return that error (wrapped or not): it is how
//     the engine stops a source when the run is cancelled or failed.
//   - A stream's records are consecutive: a group's members, a group's messages in
//     (send time, legacy id) order, a conversation's messages in (time, legacy id)
//     order. A stream that comes back after another one started is a separate
//     stream: the engine finishes the earlier one first, so order still holds, but
//     positions (Item.Ordinal) restart, which a checkpoint refuses.
//   - Every Run over the same plan yields the same records in the same order, so
//     that a resumed run finds them at the positions its checkpoint recorded.
//   - Records returns ctx.Err() when ctx is cancelled.
type Source interface {
	Records(ctx context.Context, ph Phase, fn func(Record) error) error
}

// StreamSource is a Source that can also read the large streams of a message
// phase one by one. The engine then starts those first, largest first, each read
// by the worker that sends it, and reads the rest of the phase in order alongside
// them (RecordsBesides); so a huge stream never waits behind smaller ones, nor
// makes the streams after it wait until it is read (design §3, head-of-line
// blocking), and the run ends on the rate-bound tail rather than a single
// stream's. The plan's spool implements it with its index of the largest streams.
//
// Contract, beside Source's: LargeStreams is the same list in every Run over the
// same plan; ReadStream yields exactly the records Records yields for that stream
// run, in the same order; RecordsBesides yields Records' records less those, in
// Records' order; all three are safe for concurrent calls.
type StreamSource interface {
	Source
	// LargeStreams lists the phase's large streams, largest first.
	LargeStreams(ph Phase) []StreamRef
	ReadStream(ctx context.Context, ph Phase, s StreamRef, fn func(Record) error) error
	RecordsBesides(ctx context.Context, ph Phase, fn func(Record) error) error
}

// StreamRef names one large stream of a StreamSource.
type StreamRef struct {
	Key     string // the stream (Record.Stream)
	Records int64
	// Pos is the source's own locator of the stream (a spool offset).
	Pos int64
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

// Record is one record of a phase: the legacy item, its stream and its payload.
type Record struct {
	Item
	// Stream is the target GroupId for the group phases (groups, members, group
	// messages, unread), the ConversationStream for direct messages, "" for
	// accounts.
	Stream string
	// Payload is the compact JSON (json.Marshal) of the phase's payload type, as
	// the phase table lists it; its length is the record's share of a request.
	Payload []byte
}

// ConversationStream names the stream of a one-to-one message: both directions
// of a conversation are one stream, as the target stores them as one history.
func ConversationStream(from, to string) string {
	if to < from {
		from, to = to, from
	}
	return from + "\x00" + to
}

// decode unmarshals a record's payload as T. A payload that does not decode is a
// defect of the plan, not of the record: it stops the run.
func decode[T any](ph Phase, r Record) (T, error) {
	var v T
	if err := json.Unmarshal(r.Payload, &v); err != nil {
		return v, fmt.Errorf("%s: payload of %s (%s): %w", ph, r.LegacyID, r.Origin, err)
	}
	return v, nil
}

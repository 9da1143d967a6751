package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store is a migration's durable progress. Two implementations exist, SQLiteStore
// and PostgresStore; both pass the shared suite in checkpointtest.
//
// # Using a Store
//
// A run calls Begin once, before anything else writes, to record its Manifest or to
// check it against the one of the run it resumes. It then records progress through a
// Writer (NewWriter), which batches records and hands them to Apply; reads are for
// resume and for `immigrate status`, which may read while a run writes.
//
// The checkpoint never runs ahead of the target (design §4 rule 4): callers record a
// mark only after the target confirmed the records it covers, and an Intent before
// each call whose outcome cannot be learned by resending (group messages, design §4
// rule 3). A crash loses at most the records not yet applied; they describe work the
// target already did, which the idempotency rules of design §4 make harmless to redo.
//
// # Concurrency
//
// All methods may be called from any goroutine. Apply calls are serialised inside the
// store (one writer); reads run concurrently with each other and with Apply, and the
// callback of an iterating read may call other methods of the same Store. Only one
// process may run (Begin) on a checkpoint at a time: the second Begin fails with
// ErrLocked until the first Store is closed or its process dies. Reads need no lock.
//
// # Durability
//
// When Apply or Begin returns nil the batch is committed: it survives the death of
// the process. SQLiteStore (WAL, synchronous=NORMAL) may lose its last transactions to
// a power loss or kernel crash, never its consistency: what remains is every batch up
// to some point, in order. PostgresStore is as durable as the server's
// synchronous_commit setting (on by default: a committed batch survives power loss).
//
// # Implementing a Store
//
// Strings are stored byte for byte: any bytes, including NUL and invalid UTF-8, must
// round-trip, and ordered reads order them as bytes (memcmp). Times round-trip to the
// nanosecond and come back in UTC; the zero time stays zero. Begin and Apply are each
// one transaction. Apply is the whole write path; its rules are on Batch. An
// implementation runs checkpointtest.Run from its tests, which also needs a
// TestHelperProcess hook for the crash tests (see checkpointtest).
type Store interface {
	// Begin records the manifest of the run that is starting and takes the run lock
	// (ErrLocked if another Store holds it). On an empty store, or with Fresh, it
	// writes m as a new manifest; Fresh first drops all progress. Otherwise it resumes:
	// if the stored mapping hash or target differ from m's it refuses with
	// ErrConfigChanged and/or ErrTargetChanged (a *MismatchError each, joined),
	// changing nothing, unless Force; on success it keeps the stored Started time,
	// takes m's other fields, sets Resumed to m.Started and counts the run.
	// Begin is not idempotent (it counts runs) and must precede the Writer.
	Begin(ctx context.Context, m Manifest, opt BeginOptions) (Resume, error)
	// Manifest returns the stored manifest, or ErrNoManifest before the first Begin.
	Manifest(ctx context.Context) (Manifest, error)
	// Apply commits b in one transaction; see Batch for the rules. Retrying a batch
	// whose commit outcome is unknown is safe when it carries an ID.
	Apply(ctx context.Context, b *Batch) error

	// PhaseDone reports whether phase was recorded as done, and when.
	PhaseDone(ctx context.Context, phase string) (at time.Time, done bool, err error)
	// Mark returns the high-water mark of one stream of a phase.
	Mark(ctx context.Context, phase, stream string) (m Mark, ok bool, err error)
	// Marks calls fn for each mark of phase whose stream starts with prefix ("":
	// all), in stream byte order, streaming: memory does not grow with the number of
	// streams. An error from fn stops the iteration and is returned as is.
	Marks(ctx context.Context, phase, prefix string, fn func(Mark) error) error
	// Intents calls fn for each unconfirmed intent, by phase then stream.
	Intents(ctx context.Context, fn func(Intent) error) error
	// LookupID returns the target ID recorded for a legacy ID of kind.
	LookupID(ctx context.Context, kind, legacyID string) (targetID string, ok bool, err error)
	// IDMap calls fn for each recorded ID mapping, by kind then legacy ID.
	IDMap(ctx context.Context, fn func(IDMapping) error) error
	// Rejects calls fn for each reject in the order they were first recorded.
	Rejects(ctx context.Context, fn func(Reject) error) error
	// Counters returns, per phase that has any record, its counts, how many streams
	// have a mark, how many intents are open and whether it is done; by phase name.
	Counters(ctx context.Context) ([]PhaseCounters, error)

	// Rebase starts generation g.Number of the checkpoint, in one transaction: the
	// marks (but those of the phases in g.Keep), the intents and the done phases
	// are dropped, g.Intents are recorded, and the counters, rejects, ID map and
	// manifest are kept. A delta run rebases the checkpoint onto the plan of what
	// the source gained (design §4): the kept counts cover what earlier
	// generations imported, the new marks positions in the new plan. The caller
	// holds the run lock (Begin).
	Rebase(ctx context.Context, g Generation) error
	// Generation returns the current generation; number 0, with a zero clock,
	// before the first Rebase.
	Generation(ctx context.Context) (Generation, error)

	// Close releases the run lock and the connection. It does not flush: the Writer
	// must be closed first.
	Close() error
}

// Manifest identifies a run: what it imports (the mapping), from where and into
// where. Source and Target are identities for humans and for the resume check, so
// they must never contain a secret (no password, no key): e.g. "csv:/data/export"
// and "sdkappid 1400000000 at adminapisgp.im.qcloud.com".
type Manifest struct {
	MappingHash string // the effective mapping's hash; a change refuses the resume
	Source      string // source identity; may change between runs (a moved export)
	Target      string // target identity; a change refuses the resume
	ToolVersion string // version of the tool that ran last
	// Started is when the first run began. In a Begin argument it is the current
	// run's start (time.Now when zero).
	Started time.Time
	Resumed time.Time // when the latest resumed run began; zero before any resume
	Runs    int       // runs recorded since the checkpoint was created (or made Fresh)
}

// BeginOptions say what Begin does with an existing manifest.
type BeginOptions struct {
	// Force resumes even if the mapping hash or the target changed; the manifest
	// takes the new values.
	Force bool
	// Fresh drops all progress and starts a new manifest. It does not touch the
	// target. Fresh wins over Force.
	Fresh bool
}

// Resume is what Begin found and did.
type Resume struct {
	Manifest Manifest  // as stored now
	Previous *Manifest // the manifest found, nil on an empty store
	Resumed  bool      // progress from earlier runs is kept
}

// Mark is a stream's high-water mark: the last item the target confirmed, every item
// before it in the stream's order being confirmed too. A stream is one group's or one
// conversation's messages, or one batch phase's sequence (e.g. phase "accounts",
// stream "": accounts up to Ordinal; phase "members", stream G: members of group G up
// to Ordinal). A mark never goes backwards: the store keeps the highest Ordinal it was
// given, so marks may be written out of order by concurrent goroutines. With several
// calls of one stream in flight at once, the caller advances the mark only over the
// contiguous confirmed prefix.
type Mark struct {
	Phase    string
	Stream   string
	Ordinal  int64  // position of the item in the stream's order
	LegacyID string // the item's legacy ID
	// TargetSeq is target-side position information for the item, e.g. the MsgSeq
	// the target gave a group message; 0 when there is none.
	TargetSeq int64
}

// Intent announces a call whose outcome cannot be learned by resending it: a batch
// of a stream's items, from ordinal First to Last, is about to be sent (design §4
// rule 3). A stream has at most one open intent: a new one supersedes the old. It is
// closed by a mark of the same phase and stream whose Ordinal reaches Last, or by
// Writer.ClearIntent. After a crash, Intents lists the open ones: the target may or
// may not hold their items, so the caller reads the target back before going on.
type Intent struct {
	Phase   string
	Stream  string
	First   int64 // ordinal of the first item of the call
	Last    int64 // ordinal of the last item of the call
	FirstID string
	LastID  string
}

// IDMapping records a legacy ID the run rewrote because the target rejects it.
type IDMapping struct {
	Kind     string // what the ID names, e.g. "user" or "group"
	LegacyID string
	TargetID string
}

// Reject is a record the run refused or the target rejected. Rejects are
// de-duplicated by (Entity, LegacyID, Rule): a resumed run that meets the same record
// again does not record it twice; the first one recorded is kept.
type Reject struct {
	Entity   string
	Origin   string // where the record came from: "users.csv:12", "users id=42"
	LegacyID string
	Rule     string // the rule or vendor code that refused it
	Message  string
}

// Generation is one plan's share of a migration: generation 0 is the first plan
// (the bulk import), each delta run starts the next.
type Generation struct {
	Number int64
	// Clock is the clock the generation's plan was validated with: a plan
	// written again for a resume must use it (as generation 0 uses
	// Manifest.Started).
	Clock time.Time
	// Keep are the phases whose marks outlive the rebase (on Rebase only).
	Keep []string
	// Intents are the open intents, in the new plan's positions, of calls an
	// earlier generation may have made (on Rebase only).
	Intents []Intent
	// Rejects are recorded with the new generation, and Counts added: the
	// records its plan left out because they can no longer be placed (on Rebase
	// only).
	Rejects []Reject
	Counts  []PhaseCount
}

// Counts are a phase's record outcomes.
type Counts struct {
	Imported int64
	Present  int64 // already in the target
	Rejected int64
}

func (c *Counts) add(d Counts) {
	c.Imported += d.Imported
	c.Present += d.Present
	c.Rejected += d.Rejected
}

func (c Counts) isZero() bool { return c == Counts{} }

// PhaseCounters is one phase's progress as stored.
type PhaseCounters struct {
	Phase string
	Counts
	Streams int64     // streams with a mark
	Intents int64     // open intents
	Done    bool      // the phase was recorded as done
	DoneAt  time.Time // when; zero unless Done
}

// Batch is one transaction of records. The Writer builds batches; a Store applies
// them with these rules:
//
//  1. If ID is not empty and equals the ID of the last batch the store applied, the
//     batch is skipped: it is a retry whose first commit succeeded.
//  2. ClearIntents are deleted, then Intents are upserted (replacing the stream's
//     open intent), then Marks are upserted keeping the highest Ordinal: a mark whose
//     Ordinal is not above the stored one changes nothing. Then every intent of a
//     stream named in Marks or Intents whose Last is ≤ that stream's mark is deleted.
//  3. Done records a phase as done; the first time recorded is kept.
//  4. IDs are upserted (the last mapping of a legacy ID wins).
//  5. Rejects are appended in order, skipping any whose (Entity, LegacyID, Rule) is
//     already stored.
//  6. Counts are added to the phases' counters.
//
// Within Marks, Intents, ClearIntents, Done and IDs a key appears at most once, and
// Counts holds one entry per phase; the Writer guarantees it and stores may rely on it.
type Batch struct {
	ID           string
	ClearIntents []StreamKey
	Intents      []Intent
	Marks        []Mark
	Done         []PhaseDone
	IDs          []IDMapping
	Rejects      []Reject
	Counts       []PhaseCount
}

// StreamKey names one stream of one phase.
type StreamKey struct{ Phase, Stream string }

// PhaseDone records that a phase finished.
type PhaseDone struct {
	Phase string
	At    time.Time
}

// PhaseCount is a delta to add to a phase's counters.
type PhaseCount struct {
	Phase string
	Counts
}

// Len is the number of records in b.
func (b *Batch) Len() int {
	return len(b.ClearIntents) + len(b.Intents) + len(b.Marks) + len(b.Done) +
		len(b.IDs) + len(b.Rejects) + len(b.Counts)
}

// intentStreams returns the streams whose intents step 2 of Apply re-checks.
func (b *Batch) intentStreams() []StreamKey {
	seen := make(map[StreamKey]struct{}, len(b.Marks)+len(b.Intents))
	keys := make([]StreamKey, 0, len(b.Marks)+len(b.Intents))
	for _, m := range b.Marks {
		k := StreamKey{m.Phase, m.Stream}
		if _, ok := seen[k]; !ok {
			seen[k] = struct{}{}
			keys = append(keys, k)
		}
	}
	for _, in := range b.Intents {
		k := StreamKey{in.Phase, in.Stream}
		if _, ok := seen[k]; !ok {
			seen[k] = struct{}{}
			keys = append(keys, k)
		}
	}
	return keys
}

var (
	// ErrNoManifest: the store has no manifest yet (no run began).
	ErrNoManifest = errors.New("checkpoint has no manifest")
	// ErrConfigChanged: the mapping hash differs from the checkpoint's.
	ErrConfigChanged = errors.New("mapping changed since the checkpoint was written")
	// ErrTargetChanged: the target differs from the checkpoint's.
	ErrTargetChanged = errors.New("target changed since the checkpoint was written")
	// ErrLocked: another process (or Store) is running on this checkpoint.
	ErrLocked = errors.New("checkpoint is in use by another run")
	// ErrClosed: the Store or Writer was closed.
	ErrClosed = errors.New("checkpoint closed")
	// ErrFormat: the database is not a checkpoint this version can read.
	ErrFormat = errors.New("unsupported checkpoint format")
)

// MismatchError says which manifest field refused a resume, with both values.
// It matches ErrConfigChanged or ErrTargetChanged with errors.Is.
type MismatchError struct {
	Field   string // "mapping hash" or "target"
	Stored  string // the checkpoint's value
	Current string // this run's value
	err     error
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("resume refused: %v (checkpoint %s %q, this run %q)", e.err, e.Field, e.Stored, e.Current)
}

func (e *MismatchError) Unwrap() error { return e.err }

// checkResume compares a stored manifest with a new run's.
func checkResume(stored, current Manifest) error {
	var errs []error
	if stored.MappingHash != current.MappingHash {
		errs = append(errs, &MismatchError{Field: "mapping hash", Stored: stored.MappingHash, Current: current.MappingHash, err: ErrConfigChanged})
	}
	if stored.Target != current.Target {
		errs = append(errs, &MismatchError{Field: "target", Stored: stored.Target, Current: current.Target, err: ErrTargetChanged})
	}
	return errors.Join(errs...)
}

// begin decides what Begin writes: the manifest to store, whether progress is
// dropped, and the Resume to report. prev is nil on an empty store.
func begin(prev *Manifest, m Manifest, opt BeginOptions) (next Manifest, drop bool, r Resume, err error) {
	if m.MappingHash == "" {
		return Manifest{}, false, Resume{}, errors.New("begin: manifest has no mapping hash")
	}
	if m.Target == "" {
		return Manifest{}, false, Resume{}, errors.New("begin: manifest has no target")
	}
	if m.Started.IsZero() {
		m.Started = time.Now()
	}
	m.Started = m.Started.UTC()
	r.Previous = prev
	if prev == nil || opt.Fresh {
		m.Resumed, m.Runs = time.Time{}, 1
		r.Manifest = m
		return m, prev != nil, r, nil
	}
	if !opt.Force {
		if err := checkResume(*prev, m); err != nil {
			return Manifest{}, false, Resume{}, err
		}
	}
	m.Resumed, m.Started, m.Runs = m.Started, prev.Started, prev.Runs+1
	r.Manifest, r.Resumed = m, true
	return m, false, r, nil
}

// nanos and fromNanos store times as Unix nanoseconds, the same in both stores;
// the zero time is 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// prefixEnd returns the smallest string greater than every string starting with
// prefix, or ok=false when there is none (prefix empty or all 0xff).
func prefixEnd(prefix string) (end string, ok bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] != 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// schemaVersion is the layout both stores write; a store refuses a newer one.
const (
	schemaVersion = 1
	formatName    = "immigrate-checkpoint"
)

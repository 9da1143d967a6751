package load

import (
	"sync"
	"sync/atomic"
	"time"
)

// Phase names a step of the migration (design §3).
type Phase string

// The phases, in the order the target needs them.
const (
	PhaseAccounts       Phase = "accounts"
	PhaseGroups         Phase = "groups"
	PhaseTopics         Phase = "topics"
	PhaseMembers        Phase = "members"
	PhaseGroupMessages  Phase = "group_messages"
	PhaseUnread         Phase = "unread"
	PhaseDirectMessages Phase = "direct_messages"
	PhaseFriends        Phase = "friends"
	PhaseProfiles       Phase = "profiles"
)

// Phases returns every phase in display order.
func Phases() []Phase { return append([]Phase(nil), phaseOrder...) }

func (p Phase) index() int {
	for i, q := range phaseOrder {
		if q == p {
			return i
		}
	}
	return -1
}

// PhaseState says where a phase is.
type PhaseState int32

const (
	PhasePending PhaseState = iota // waiting for the phases it depends on
	PhaseRunning
	PhaseFinished
)

func (s PhaseState) String() string {
	switch s {
	case PhasePending:
		return "pending"
	case PhaseRunning:
		return "running"
	case PhaseFinished:
		return "finished"
	}
	return "unknown"
}

// MarshalText writes the state by name in JSON reports.
func (s PhaseState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Progress holds live counters per phase. The engine updates them with atomic
// operations from its workers; the run command polls Snapshot on a ticker to draw
// bars (style.md habit 11), so neither side waits for the other. Build it with
// NewProgress.
type Progress struct {
	phases []phaseCounters
}

type phaseCounters struct {
	state                               atomic.Int32
	total                               atomic.Int64
	read, imported, present, rejected   atomic.Int64
	calls, retries, rateLimited, failed atomic.Int64
	inflight                            atomic.Int64 // the phase's in-flight level, once started
	started, finished                   atomic.Int64 // unix nanoseconds; 0 = not yet
	readDone, callsAtReadDone           atomic.Int64
}

// NewProgress returns empty counters.
func NewProgress() *Progress { return &Progress{phases: make([]phaseCounters, len(phaseOrder))} }

func (p *Progress) counters(ph Phase) *phaseCounters {
	i := ph.index()
	if i < 0 {
		panic("load: unknown phase " + string(ph))
	}
	return &p.phases[i]
}

// SetTotal sets the number of records a phase expects (typically the validate
// plan's count), so that bars can show done/total and an ETA. The engine does not
// need it.
func (p *Progress) SetTotal(ph Phase, n int64) { p.counters(ph).total.Store(n) }

// PhaseStats is a snapshot of one phase's counters.
type PhaseStats struct {
	Phase    Phase
	State    PhaseState
	Total    int64 // as set by SetTotal; 0 when unknown
	Read     int64 // offered by the source
	Imported int64
	Present  int64 // already in the target (design §4 rule 1)
	Rejected int64
	Calls    int64 // API calls made for the phase, retries included
	Retries  int64
	// RateLimited counts over-rate answers (throttled); Failed counts the other
	// failed attempts.
	RateLimited int64
	Failed      int64
	Started     time.Time // zero until the phase starts
	Finished    time.Time // zero until the phase finishes
	// ReadDone is when the source had yielded the phase's last record, and
	// CallsAtReadDone the calls made by then. Until ReadDone the phase always had
	// work queued; after it, only the streams still open can send, so the tail
	// of a message phase runs below the rate whatever the engine does.
	// CallsAtReadDone / (ReadDone - Started) is the phase's call rate while it had
	// work queued (design §8).
	ReadDone        time.Time
	CallsAtReadDone int64
	// InFlight is the calls the phase kept in flight at most (streams or
	// workers), as sized when it started.
	InFlight int64
}

// Done is the number of records whose outcome is known.
func (pp PhaseStats) Done() int64 { return pp.Imported + pp.Present + pp.Rejected }

// Snapshot returns every phase's counters, in phase order. Counters are read one by
// one, so a snapshot taken while the engine runs may be off by the items of the
// calls completing meanwhile; Done never exceeds Read.
func (p *Progress) Snapshot() []PhaseStats {
	out := make([]PhaseStats, len(phaseOrder))
	for i, ph := range phaseOrder {
		c := &p.phases[i]
		// Outcomes first, reads last: an item is read before it is done, so this
		// order keeps Done <= Read in a snapshot.
		pp := PhaseStats{
			Phase:       ph,
			State:       PhaseState(c.state.Load()),
			Imported:    c.imported.Load(),
			Present:     c.present.Load(),
			Rejected:    c.rejected.Load(),
			Calls:       c.calls.Load(),
			Retries:     c.retries.Load(),
			RateLimited: c.rateLimited.Load(),
			InFlight:    c.inflight.Load(),
			Failed:      c.failed.Load(),
			Total:       c.total.Load(),
			Started:     unixTime(c.started.Load()),
			Finished:    unixTime(c.finished.Load()),
			ReadDone:    unixTime(c.readDone.Load()),

			CallsAtReadDone: c.callsAtReadDone.Load(),
		}
		pp.Read = c.read.Load()
		out[i] = pp
	}
	return out
}

// Phase returns one phase's snapshot.
func (p *Progress) Phase(ph Phase) PhaseStats { return p.Snapshot()[ph.index()] }

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

func (p *Progress) start(ph Phase, now time.Time) {
	c := p.counters(ph)
	c.started.Store(now.UnixNano())
	c.state.Store(int32(PhaseRunning))
}

func (p *Progress) readAll(ph Phase, now time.Time) {
	c := p.counters(ph)
	c.callsAtReadDone.Store(c.calls.Load())
	c.readDone.Store(now.UnixNano())
}

func (p *Progress) finish(ph Phase, now time.Time) {
	c := p.counters(ph)
	c.finished.Store(now.UnixNano())
	c.state.Store(int32(PhaseFinished))
}

// reset clears the counters of a new run, keeping the totals cmd set.
func (p *Progress) reset() {
	for i := range p.phases {
		c := &p.phases[i]
		for _, a := range []*atomic.Int64{&c.read, &c.imported, &c.present, &c.rejected,
			&c.calls, &c.retries, &c.rateLimited, &c.failed, &c.started, &c.finished,
			&c.readDone, &c.callsAtReadDone, &c.inflight} {
			a.Store(0)
		}
		c.state.Store(int32(PhasePending))
	}
}

// timeline counts calls and failures per API in fixed-width time buckets, for the
// run report's chart of calls/s. It keeps at most maxBuckets buckets: when a run
// outlasts them, adjacent buckets merge and the width doubles, so a 30-hour run
// costs the same memory as a 10-minute one.
type timeline struct {
	start time.Time
	apis  int // number of API slots per bucket

	mu      sync.Mutex
	width   time.Duration
	buckets []bucket
}

type bucket struct {
	calls, errors, throttled []int64 // indexed by API slot
}

// An attempt's outcome, as the timeline counts it.
type attemptOutcome int

const (
	attemptOK attemptOutcome = iota
	attemptFailed
	attemptThrottled // an over-rate answer
)

const timelineMaxBuckets = 3600

func newTimeline(start time.Time, apis int) *timeline {
	return &timeline{start: start, apis: apis, width: time.Second}
}

// add records one attempt at API slot api at time now.
func (t *timeline) add(api int, outcome attemptOutcome, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := now.Sub(t.start)
	if d < 0 {
		d = 0
	}
	i := int(d / t.width)
	for i >= timelineMaxBuckets {
		t.mergeLocked()
		i = int(d / t.width)
	}
	for len(t.buckets) <= i {
		t.buckets = append(t.buckets, bucket{calls: make([]int64, t.apis), errors: make([]int64, t.apis),
			throttled: make([]int64, t.apis)})
	}
	b := &t.buckets[i]
	b.calls[api]++
	switch outcome {
	case attemptFailed:
		b.errors[api]++
	case attemptThrottled:
		b.throttled[api]++
	}
}

// mergeLocked halves the number of buckets by summing pairs.
func (t *timeline) mergeLocked() {
	n := (len(t.buckets) + 1) / 2
	for i := 0; i < n; i++ {
		dst := &t.buckets[i]
		*dst = t.buckets[2*i]
		if 2*i+1 < len(t.buckets) {
			src := t.buckets[2*i+1]
			for a := range dst.calls {
				dst.calls[a] += src.calls[a]
				dst.errors[a] += src.errors[a]
				dst.throttled[a] += src.throttled[a]
			}
		}
	}
	t.buckets = t.buckets[:n]
	t.width *= 2
}

// Sample is one bucket of the timeline: the calls, failed attempts and over-rate
// answers per API during [Offset, Offset+Width) after the run started. Calls/s is
// Calls[api] / Width.Seconds(); Calls counts all three.
type Sample struct {
	Offset    time.Duration    `json:"offset"`
	Width     time.Duration    `json:"width"`
	Calls     map[string]int64 `json:"calls"`
	Errors    map[string]int64 `json:"errors,omitempty"`
	Throttled map[string]int64 `json:"throttled,omitempty"`
}

// samples renders the buckets, naming API slots with names. Empty API entries are
// left out.
func (t *timeline) samples(names []string) []Sample {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Sample, len(t.buckets))
	for i, b := range t.buckets {
		s := Sample{Offset: time.Duration(i) * t.width, Width: t.width, Calls: map[string]int64{}}
		for a, n := range b.calls {
			if n > 0 {
				s.Calls[names[a]] = n
			}
			if b.errors[a] > 0 {
				if s.Errors == nil {
					s.Errors = map[string]int64{}
				}
				s.Errors[names[a]] = b.errors[a]
			}
			if b.throttled[a] > 0 {
				if s.Throttled == nil {
					s.Throttled = map[string]int64{}
				}
				s.Throttled[names[a]] = b.throttled[a]
			}
		}
		out[i] = s
	}
	return out
}

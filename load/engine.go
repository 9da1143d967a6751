package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/immigrate/immigrate/tencentim"
)

// Config configures an Engine. The zero value of every field is a sensible default.
type Config struct {
	// Rates is each API's rate in calls/s; an API missing here runs at 95 % of
	// tencentim.DocumentedRate (spec §1.10). math.Inf(1) means no limit (benchmarks
	// against an unthrottled sandbox). Other values must be positive.
	Rates map[tencentim.Command]float64
	// Streams is how many group or conversation streams each message phase keeps
	// in flight, and Workers how many calls each batch phase (accounts, groups,
	// members, unread) does. Zero sizes them when the phase starts by Little's
	// law: the phase's rate × the round trip measured so far (assumedRTT before
	// any answer) × 1.5 headroom, plus a few, at most MaxInFlight (inflightFor).
	Streams int
	Workers int
	// MaxInFlight bounds the automatic Streams and Workers (load.concurrency);
	// default DefaultMaxInFlight.
	MaxInFlight int
	// UseMultiAccount imports accounts with multiaccount_import in 100s; accounts
	// with a Nick or FaceUrl still go through account_import one by one, since
	// multiaccount_import cannot set them (spec §3.5). When false, every account
	// goes through account_import.
	UseMultiAccount bool
	// GroupMsgBatch is the most messages per import_group_msg call; default
	// tencentim.MaxGroupMsgBatch (design §7 A1).
	GroupMsgBatch int
	// MaxAttempts is the most attempts per call; default 8. Backoff between them is
	// exponential from 200 ms, capped at 10 s, with full jitter. A call still
	// failing after them stops the run (a *FatalError wrapping an
	// *ExhaustedError); its records are not rejected.
	MaxAttempts int
	// RecentContactFlag sets RecentContactFlag 1 on import_group_msg for groups other
	// than Community (spec §8.9: Community does not support it), so that members'
	// conversation lists show the group.
	RecentContactFlag bool
	// Rejects receives one Reject per record the target refused. Nil: rejects are
	// only counted. Calls are serialised by the engine.
	Rejects RejectSink
	// Progress receives live counters; nil: the engine keeps its own (see
	// Engine.Progress).
	Progress *Progress
	// RoamingDays is the app's one-to-one roaming retention in days (spec §7.2):
	// on a populated target, messages older than that cannot be read back before
	// they are sent (firstcontact.go). 0 means unlimited.
	RoamingDays int
	// Hooks are optional callbacks observing the run.
	Hooks Hooks
	// Checkpoint, when set, makes the run resumable: the engine skips what an
	// earlier run confirmed and records what this one confirms (design §4; see
	// Checkpoint). A Checkpoint serves one Run.
	Checkpoint *Checkpoint
}

// Hooks let an observer follow the engine (design §4 rules 3-4). Both are called
// from the engine's workers, concurrently for different streams; for one stream,
// in the stream's order.
type Hooks struct {
	// OnIntent is called before each import_group_msg call with the records the
	// call carries (design §4 rule 3), stream being the GroupId. It may block; an
	// error stops the run before the call is made.
	OnIntent func(ctx context.Context, phase Phase, stream string, items []Item) error
	// OnConfirmed is called once per record after the target confirmed its
	// outcome. stream is the GroupId (groups, members, group messages, unread), the
	// conversation key (direct messages: the two UserIDs in byte order joined by
	// NUL) or "" (accounts). It must be quick and must not block.
	OnConfirmed func(phase Phase, stream string, item Item, outcome Outcome)
}

// Outcome is what became of a record.
type Outcome int

const (
	OutcomeImported Outcome = iota + 1
	OutcomePresent          // already in the target before this run
	OutcomeRejected
)

func (o Outcome) String() string {
	switch o {
	case OutcomeImported:
		return "imported"
	case OutcomePresent:
		return "present"
	case OutcomeRejected:
		return "rejected"
	}
	return "unknown"
}

// Rules of the rejects the engine writes; vendor codes give "target.<code>".
const (
	RuleAccountFailed    = "target.account_failed" // listed in multiaccount_import's FailAccounts
	RuleMemberFailed     = "target.member_failed"  // import_group_member Result 0
	RuleGroupNotImported = "target.group_not_imported"
	RuleNoResult         = "target.no_result" // the answer did not mention the record
)

// usedAPIs are the commands the engine calls, in the order of the report.
var usedAPIs = []tencentim.Command{
	tencentim.CmdAccountImport, tencentim.CmdMultiAccountImport, tencentim.CmdImportGroup,
	tencentim.CmdImportGroupMember, tencentim.CmdImportGroupMsg, tencentim.CmdGroupMsgGetSimple,
	tencentim.CmdSetUnreadMsgNum, tencentim.CmdImportMsg, tencentim.CmdFriendImport, tencentim.CmdPortraitSet, tencentim.CmdImportTopic,
	tencentim.CmdAccountCheck, tencentim.CmdAdminGetRoamMsg, tencentim.CmdFriendGet, // first contact with a populated target (firstcontact.go)
}

// Engine imports a Source into the target (design §3-§5): the phases in the order
// the target needs, each API behind its own AIMD rate limiter, streams in parallel
// with order kept inside each, retries with backoff, per-record rejects. Its call
// path is layered as pacer → retrier → client → transport (style.md habit 7).
//
// An Engine runs one Run at a time; its limiters carry over from one Run to the
// next.
type Engine struct {
	client   Client
	cfg      Config
	cfgErr   error
	now      func() time.Time
	retry    retrier
	progress *Progress
	apis     map[tencentim.Command]*apiState

	// Per run. runMu guards started and timeline against Summary.
	running    atomic.Bool
	runMu      sync.Mutex
	started    time.Time
	timeline   *timeline
	rejectMu   sync.Mutex
	groupsMu   sync.RWMutex
	failedGrps map[string]struct{} // groups not in the target: their records are rejected without calls
	fc         *firstContact       // what the run learned of a populated target
	cursors    []*cursor
}

// apiState is one API's limiter and counters.
type apiState struct {
	cmd    tencentim.Command
	slot   int // index in the timeline
	pacer  *pacer
	rate   float64 // configured
	calls  atomic.Int64
	retry  atomic.Int64
	limits atomic.Int64
	failed atomic.Int64
	first  atomic.Int64 // unix ns of the run's first attempt
	last   atomic.Int64 // unix ns of the run's last attempt
	// answered attempts and the sum of their round trips (ns); busy is the sum of
	// every attempt's duration (ns), inflight the attempts under way and
	// maxInflight the most at once.
	answered, rttSum, busy atomic.Int64
	inflight, maxInflight  atomic.Int64
}

// Client is the target as the engine calls it: one HTTP exchange per call and no
// retry of its own, so that every attempt — the credential-refresh resend of spec
// §1.9 included — goes through the engine's pacer and retrier first
// (*tencentim.Client implements it with Exchange).
type Client interface {
	Exchange(ctx context.Context, cmd tencentim.Command, req, resp any) error
}

// exchange makes one attempt of cmd with req and returns its decoded answer.
func exchange[R any](ctx context.Context, c Client, cmd tencentim.Command, req any) (*R, error) {
	resp := new(R)
	err := c.Exchange(ctx, cmd, req, resp)
	return resp, err
}

// NewEngine returns an engine calling the target through client. Configuration
// errors (e.g. a non-positive rate) are reported by Run.
func NewEngine(client Client, cfg Config) *Engine {
	if c, ok := client.(*tencentim.Client); ok && c == nil {
		client = nil
	}
	e := &Engine{client: client, now: time.Now}
	e.cfg, e.cfgErr = withDefaults(cfg)
	e.progress = e.cfg.Progress
	if e.progress == nil {
		e.progress = NewProgress()
	}
	e.retry = retrier{maxAttempts: e.cfg.MaxAttempts, backoff: defaultBackoff(), sleep: sleepCtx}
	e.apis = make(map[tencentim.Command]*apiState, len(usedAPIs))
	for i, cmd := range usedAPIs {
		r := e.cfg.Rates[cmd]
		e.apis[cmd] = &apiState{cmd: cmd, slot: i, rate: r, pacer: newPacer(r, e.now)}
	}
	return e
}

// In-flight sizing (Little's law: calls in flight = rate × round trip).
const (
	// DefaultMaxInFlight bounds the automatic in-flight level: 2,000 calls/s at
	// a 300 ms round trip with the headroom.
	DefaultMaxInFlight = 1024
	// assumedRTT is the round trip assumed before any call was answered: a far
	// region's, so that the first phase is not starved (extra calls in flight
	// only wait for the pacer).
	assumedRTT = 200 * time.Millisecond
	// inflightHeadroom covers the round trip's spread and a stream's time between
	// an answer and its next call.
	inflightHeadroom = 1.5
	// inflightMinRTT is the least round trip a phase is sized for: a stream's
	// call cycle is longer than the attempt's round trip measured (a group
	// message call first writes its durable intent, design §4 rule 3), and at
	// 2,000 calls/s and 50 ms a level sized for 100 ms kept import_group_msg
	// at 91 % of its rate, one sized for 200 ms at 99 %. Calls in flight
	// beyond the need only wait for the pacer.
	inflightMinRTT = assumedRTT
	// inflightMin calls in flight at least: a phase with few calls per second
	// still overlaps its calls.
	inflightMin = 8
)

// InflightFor is the in-flight level a phase at rate calls/s gets at round trip
// rtt, at most most (load.concurrency): the plan's estimate uses it.
func InflightFor(rate float64, rtt time.Duration, most int) int { return inflightFor(rate, rtt, most) }

// inflightFor is the in-flight level that reaches rate calls/s at round trip rtt
// with the headroom, within [inflightMin, most]; most for an unlimited rate.
func inflightFor(rate float64, rtt time.Duration, most int) int {
	if math.IsInf(rate, 1) {
		return most
	}
	n := int(math.Ceil(rate*rtt.Seconds()*inflightHeadroom)) + 4
	return min(most, max(inflightMin, n))
}

// phaseInflight is the in-flight level of phase d as it starts: Streams or
// Workers when set, else sized from its APIs' rates and the round trip measured
// so far.
func (e *Engine) phaseInflight(d *phaseDef) int {
	fixed := e.cfg.Workers
	if d.streams {
		fixed = e.cfg.Streams
	}
	if fixed > 0 {
		return fixed
	}
	rtt := e.measuredRTT()
	switch {
	case rtt <= 0:
		rtt = assumedRTT
	case rtt < inflightMinRTT:
		// The round trip so far is other APIs' (this phase has not called
		// yet), and the level is not resized later: too few calls in flight
		// cap the rate, too many only wait for the pacer.
		rtt = inflightMinRTT
	}
	n := 0
	for _, cmd := range d.apis {
		n = max(n, inflightFor(e.cfg.Rates[cmd], rtt, e.cfg.MaxInFlight))
	}
	return n
}

// measuredRTT is the mean round trip of every answered attempt so far; 0 before
// the first answer.
func (e *Engine) measuredRTT() time.Duration {
	var n, sum int64
	for _, a := range e.apis {
		n += a.answered.Load()
		sum += a.rttSum.Load()
	}
	if n == 0 {
		return 0
	}
	return time.Duration(sum / n)
}

func withDefaults(cfg Config) (Config, error) {
	rates := make(map[tencentim.Command]float64, len(usedAPIs))
	for _, cmd := range usedAPIs {
		rates[cmd] = 0.95 * tencentim.DocumentedRate[cmd]
	}
	var err error
	for cmd, r := range cfg.Rates {
		if !(r > 0) {
			err = fmt.Errorf("rate of %s must be positive, got %v", cmd, r)
			continue
		}
		rates[cmd] = r
	}
	cfg.Rates = rates
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	cfg.Streams, cfg.Workers = max(cfg.Streams, 0), max(cfg.Workers, 0)
	if cfg.GroupMsgBatch <= 0 {
		cfg.GroupMsgBatch = tencentim.MaxGroupMsgBatch
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = defaultMaxAttempts
	}
	return cfg, err
}

// Progress returns the live counters the engine updates (Config.Progress when set).
func (e *Engine) Progress() *Progress { return e.progress }

// Summary is the outcome of a Run.
type Summary struct {
	Started time.Time
	Elapsed time.Duration
	// Phases holds every phase's counters; for a finished run, Read = Imported +
	// Present + Rejected in each (design §4 rule 6).
	Phases map[Phase]*PhaseStats
	// APIs holds each called API's counters, keyed by "service/command".
	APIs map[string]*APIStats
	// Timeline is calls and failures per API over time, for the run report's chart.
	Timeline []Sample
	// RTT is the mean round trip of every attempt the target answered, over all
	// APIs (the one the in-flight sizing uses); 0 when none was answered.
	RTT time.Duration
	// SentPastRetention counts the one-to-one messages sent to a populated target
	// that were older than its roaming retention, so could not be read back
	// first: the target's dedup dropped those it held (firstcontact.go), so they
	// count as imported but may have been present.
	SentPastRetention int64
}

// APIStats are one API's counters over a run.
type APIStats struct {
	// Rate is the configured rate in calls/s; 0 when unlimited.
	Rate        float64
	Calls       int64 // attempts, retries included
	Retries     int64
	RateLimited int64 // over-rate answers (60007): throttled, not failed
	Failed      int64 // failed attempts other than over-rate answers
	RateCuts    int64 // pacer decreases, over the engine's life
	// RTT is the mean round trip of the attempts the target answered; InFlight
	// the mean number of attempts under way between First and Last (Little's
	// law: rate × RTT), MaxInFlight the most at once.
	RTT         time.Duration
	InFlight    float64
	MaxInFlight int64
	// First and Last are the times of the first and last attempt. AchievedRate
	// spans them, the tail of the streams included; PhaseStats.CallsAtReadDone
	// gives the rate while the phase had work queued.
	First, Last time.Time
}

// AchievedRate is the API's calls per second between its first and last attempt.
func (a *APIStats) AchievedRate() float64 {
	d := a.Last.Sub(a.First).Seconds()
	if a.Calls < 2 || d <= 0 {
		return 0
	}
	// n calls span n-1 intervals.
	return float64(a.Calls-1) / d
}

// Balanced reports whether the accounting identity holds in every phase.
func (s *Summary) Balanced() bool {
	for _, p := range s.Phases {
		if p.Read != p.Done() {
			return false
		}
	}
	return true
}

func (e *Engine) startRun() {
	e.runMu.Lock()
	e.started = e.now()
	e.timeline = newTimeline(e.started, len(usedAPIs))
	e.runMu.Unlock()
	e.failedGrps = map[string]struct{}{}
	e.fc = newFirstContact()
	e.progress.reset()
	for _, a := range e.apis {
		for _, c := range []*atomic.Int64{&a.calls, &a.retry, &a.limits, &a.failed, &a.first, &a.last,
			&a.answered, &a.rttSum, &a.busy, &a.maxInflight} {
			c.Store(0)
		}
	}
}

// Summary is the outcome of the current (or last) Run so far, nil before the
// first: safe to call while Run runs, e.g. to save a running migration's figures.
func (e *Engine) Summary() *Summary {
	e.runMu.Lock()
	started := e.timeline != nil
	e.runMu.Unlock()
	if !started {
		return nil
	}
	return e.summary()
}

func (e *Engine) summary() *Summary {
	e.runMu.Lock()
	start, tl := e.started, e.timeline
	e.runMu.Unlock()
	s := &Summary{
		Started:  start,
		Elapsed:  e.now().Sub(start),
		Phases:   make(map[Phase]*PhaseStats, len(phaseOrder)),
		APIs:     make(map[string]*APIStats, len(e.apis)),
		Timeline: tl.samples(apiNames()),
		RTT:      e.measuredRTT(),
	}
	if e.fc != nil {
		s.SentPastRetention = e.fc.pastRet.Load()
	}
	for _, p := range e.progress.Snapshot() {
		s.Phases[p.Phase] = &p
	}
	for cmd, a := range e.apis {
		if a.calls.Load() == 0 {
			continue
		}
		st := &APIStats{
			Calls:       a.calls.Load(),
			Retries:     a.retry.Load(),
			RateLimited: a.limits.Load(),
			Failed:      a.failed.Load(),
			RateCuts:    a.pacer.decreases(),
			First:       unixTime(a.first.Load()),
			Last:        unixTime(a.last.Load()),
			MaxInFlight: a.maxInflight.Load(),
		}
		if n := a.answered.Load(); n > 0 {
			st.RTT = time.Duration(a.rttSum.Load() / n)
		}
		if span := st.Last.Sub(st.First); span > 0 {
			st.InFlight = float64(a.busy.Load()) / float64(span)
		}
		if !math.IsInf(a.rate, 1) {
			st.Rate = a.rate
		}
		s.APIs[cmd.String()] = st
	}
	return s
}

func apiNames() []string {
	names := make([]string, len(usedAPIs))
	for i, c := range usedAPIs {
		names[i] = c.String()
	}
	return names
}

// APINames lists the APIs the engine may call, "service/command", in report order.
func APINames() []string { return apiNames() }

// ---- the call path: pacer → retrier → client ----

// callObserver counts one call's attempts for its phase and API.
type callObserver struct {
	e   *Engine
	ph  *phaseCounters
	api *apiState
}

func (o callObserver) attempted(err error, retry bool, rtt time.Duration) {
	at := o.e.now()
	now := at.UnixNano()
	o.api.first.CompareAndSwap(0, now)
	o.api.last.Store(now)
	o.api.calls.Add(1)
	o.ph.calls.Add(1)
	if retry {
		o.api.retry.Add(1)
		o.ph.retries.Add(1)
	}
	if rtt > 0 {
		o.api.answered.Add(1)
		o.api.rttSum.Add(int64(rtt))
	}
	outcome := attemptOK
	switch {
	case tencentim.IsRateLimit(err):
		o.api.limits.Add(1)
		o.ph.rateLimited.Add(1)
		outcome = attemptThrottled
	case err != nil:
		o.api.failed.Add(1)
		o.ph.failed.Add(1)
		outcome = attemptFailed
	}
	o.e.timeline.add(o.api.slot, outcome, at)
}

// call makes one logical call of cmd for phase ph with retries. See retrier.do for
// what it returns.
func (e *Engine) call(ctx context.Context, ph Phase, cmd tencentim.Command, attempt attemptFunc, beforeRetry beforeRetryFunc) error {
	api := e.apis[cmd]
	obs := callObserver{e: e, ph: e.progress.counters(ph), api: api}
	measured := func(ctx context.Context) error {
		n := api.inflight.Add(1)
		for m := api.maxInflight.Load(); n > m && !api.maxInflight.CompareAndSwap(m, n); m = api.maxInflight.Load() {
		}
		t0 := e.now()
		err := attempt(ctx)
		api.busy.Add(int64(e.now().Sub(t0)))
		api.inflight.Add(-1)
		return err
	}
	return e.retry.do(ctx, cmd, api.pacer, obs, measured, beforeRetry)
}

// stops reports whether a call's error ends the run (fatal, retries run out, or
// the run is cancelled) rather than rejecting the records the call carried.
func stops(ctx context.Context, err error) bool {
	var fe *FatalError
	return errors.As(err, &fe) || ctx.Err() != nil
}

// ---- outcomes and rejects ----

func (e *Engine) confirm(ph Phase, stream string, it Item, o Outcome) {
	c := e.progress.counters(ph)
	switch o {
	case OutcomeImported:
		c.imported.Add(1)
	case OutcomePresent:
		c.present.Add(1)
	case OutcomeRejected:
		c.rejected.Add(1)
	}
	e.cfg.Checkpoint.confirmed(ph, stream, it, o)
	if e.cfg.Hooks.OnConfirmed != nil {
		e.cfg.Hooks.OnConfirmed(ph, stream, it, o)
	}
}

func (e *Engine) read(ph Phase) { e.progress.counters(ph).read.Add(1) }

// drained notes that the source yielded a phase's last record (when err is nil)
// and passes err on.
func (e *Engine) drained(ph Phase, err error) error {
	if err == nil {
		err = e.cursors[ph.index()].end()
	}
	if err == nil {
		e.progress.readAll(ph, e.now())
	}
	return err
}

// reject records a record the target refused and counts it. An error means the
// sink failed, which stops the run: a reject that is not written is lost.
func (e *Engine) reject(ph Phase, stream string, it Item, rule, msg string) error {
	r := Reject{
		Entity:   def(ph).entity,
		Origin:   it.Origin,
		LegacyID: it.LegacyID,
		Rule:     rule,
		Severity: "reject",
		Message:  msg,
	}
	// Before the confirmation: the checkpoint records a reject no later than the
	// mark that covers its record.
	e.cfg.Checkpoint.rejected(ph, it, r)
	if e.cfg.Rejects != nil {
		e.rejectMu.Lock()
		err := e.cfg.Rejects.Reject(r)
		e.rejectMu.Unlock()
		if err != nil {
			return fmt.Errorf("record reject of %s %s: %w", def(ph).entity, it.LegacyID, err)
		}
	}
	e.confirm(ph, stream, it, OutcomeRejected)
	return nil
}

// rejectErr rejects it for the call error err.
func (e *Engine) rejectErr(ph Phase, stream string, it Item, err error) error {
	rule, msg := describe(err)
	return e.reject(ph, stream, it, rule, msg)
}

// describe gives the rule and message of a reject caused by err.
func describe(err error) (rule, msg string) {
	var te *tencentim.Error
	if errors.As(err, &te) && te.Code != 0 {
		return codeRule(te.Code), codeMessage(te.API, te.Code, te.Info)
	}
	return "target.error", err.Error()
}

func codeRule(code int) string { return fmt.Sprintf("target.%d", code) }

func codeMessage(api tencentim.Command, code int, info string) string {
	msg := fmt.Sprintf("%s answered %d (%s)", api.Name, code, tencentim.CodeText(code))
	if info != "" {
		msg += ": " + info
	}
	return msg
}

func (e *Engine) markGroupFailed(id string) {
	e.groupsMu.Lock()
	e.failedGrps[id] = struct{}{}
	e.groupsMu.Unlock()
}

// groupFailed reports whether the target refused group id, or, for a topic
// stream (SplitTopicStream), the topic or its group.
func (e *Engine) groupFailed(id string) bool {
	group, _ := SplitTopicStream(id)
	e.groupsMu.RLock()
	_, ok := e.failedGrps[id]
	if !ok && group != id {
		_, ok = e.failedGrps[group]
	}
	e.groupsMu.RUnlock()
	return ok
}

// rejectAbsentGroup rejects a record of a group that is not in the target.
func (e *Engine) rejectAbsentGroup(ph Phase, groupID string, it Item) error {
	return e.reject(ph, groupID, it, RuleGroupNotImported,
		fmt.Sprintf("group %s was not imported, so its %s cannot be", groupID, def(ph).noun))
}

// ambiguityTracker remembers whether an earlier attempt of a call may have been
// applied, so that an "already there" answer to the retry (10021, member Result 2)
// is read as this run's own import rather than as a record present before the run.
type ambiguityTracker struct{ seen bool }

func (a *ambiguityTracker) beforeRetry(_ context.Context, prev error) error {
	if ambiguous(prev) {
		a.seen = true
	}
	return nil
}

func (a *ambiguityTracker) present() Outcome {
	if a.seen {
		return OutcomeImported
	}
	return OutcomePresent
}

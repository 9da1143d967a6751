package load

import (
	"container/heap"
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// The pacer of one API (design §5): a token bucket whose rate follows the share of
// rate-limit answers (60007, spec §1.10) the target gives.
//
// Why not halve on every rate-limit answer (TCP Reno's AIMD, this pacer's first
// version): TIM's limit is the application's, shared with its live traffic, so a
// busy service answers a small share of calls with 60007 whatever our own rate is.
// Under random "loss" at probability p, AIMD settles near 1.2/√p windows (Mathis et
// al., 1997): with 5 % sporadic 60007 and a cut per second the measured importmsg
// rate was 15 % of the configured one (and 11–17 % in this package's simulation).
// rclone's pacer shows the other half of the cure: it backs off on a retryable
// answer but decays its sleep time by a quarter on every success, so a lone
// failure costs almost nothing. This pacer:
//
//   - judges windows, not answers: it counts answers and rate-limit answers over an
//     observation window (at least pacerWindow and pacerMinAnswers answers, at most
//     pacerMaxWindow), and only answers to calls sent since the last decrease;
//     calls in flight when the rate changed were paced at the old rate and say
//     nothing about the new one;
//   - tolerates a share: a window with at most pacerTolerance of its answers
//     throttled is good. The target's limit is a token bucket (spec §10): sending
//     ε above it costs ε/(1+ε) of the calls and none of the accepted ones, so a
//     share up to the tolerance is cheaper to absorb than to avoid;
//   - decreases in proportion: over the limit L by a factor k, a share s = 1 - 1/k
//     of the answers is throttled, so current × (1 - s) is L, the rate the target
//     accepts; a decrease lands there in one step instead of halving repeatedly;
//   - learns the background: when the window after a decrease is throttled about
//     as much as the window that caused it, the share did not come from our rate
//     (the target answers that share of calls over-rate whatever we send). The
//     decrease is undone and that share becomes the background, added to the
//     tolerance; it fades by pacerBackgroundFade per good window, so a quieter
//     target is judged strictly again. Without it a target throttling 15 % of
//     calls at random would be cut every window (12 % of the rate in simulation);
//   - recovers fast to the last good rate: after a decrease it climbs back half the
//     gap to the rate it left per good window (CUBIC's concave approach to the last
//     maximum, RFC 8312), and above that rate it probes slowly, pacerProbeShare of
//     the configured rate per second (the previous linear recovery), up to the
//     configured rate.
const (
	// pacerWindow is the least span of an observation window: the target counts
	// calls per second (spec §10), so a shorter window judges its bucket's phase,
	// not its rate.
	pacerWindow = time.Second
	// pacerMinAnswers is the least number of answers a window judges, unless it
	// ran pacerMaxWindow. At 5 % sporadic 60007 a window of 50 answers exceeds the
	// 10 % tolerance (6 or more) with probability ≈ 4 %, and then cuts by ~12 %,
	// recovered within two windows: an expected loss under 1 % of the rate.
	pacerMinAnswers = 50
	// pacerMaxWindow bounds a window of a slow API (a few calls per second), so
	// that it still reacts within seconds.
	pacerMaxWindow = 10 * time.Second
	// pacerMinThrottled is the least number of rate-limit answers that make a
	// window bad: in a long window of a slow API, one or two sporadic answers are
	// a large share of a small count.
	pacerMinThrottled = 3
	// pacerTolerance is the share of throttled answers a good window may hold.
	pacerTolerance = 0.10
	// pacerSameShare: the window after a decrease whose share is at least this
	// fraction of the share that caused it shows the decrease did not help. A
	// decrease lands the rate at (1 - b) × the limit for a background share b, so
	// the over-rate part of the next window's share is near 0 after a decrease
	// that the rate caused.
	pacerSameShare = 0.8
	// pacerMaxBackground is the largest share learned as background: a target
	// throttling more than that is overloaded, and the pacer stays down.
	pacerMaxBackground = 0.3
	// pacerBackgroundFade multiplies the learned background per good window: it
	// halves in about 70 windows (a minute or so at 1-s windows).
	pacerBackgroundFade = 0.99
	// pacerProbeShare of the configured rate per second is added above the last
	// good rate: from half the rate, 10 s back to full, as before.
	pacerProbeShare = 0.05
	// pacerBurst is the time whose slots the token bucket holds: 5 ms, a
	// scheduler's late wake-up on a loaded machine; at 2,000 calls/s 10 calls,
	// far inside the target's one-second bucket (spec §10).
	pacerBurst = 5 * time.Millisecond
	// pacerFloor is the lowest rate, in calls/s: below it a migration would stall
	// for hours on a transient overload.
	pacerFloor = 1.0
)

// pacer is the rate limiter of one API: a token bucket (golang.org/x/time/rate)
// whose rate follows the windows described above. Every attempt at a call, retries
// included, waits on it (style.md habit 7, rclone's pacer), and reports its answer
// with answered. Safe for concurrent use.
//
// Waiting calls get their slots by priority, highest first, in arrival order
// among equals. The streamer gives a large stream's calls its remaining records
// as priority (withPriority): the longest stream bounds the run at its calls ×
// round trip only if its calls do not queue behind the other streams' for a
// slot — with 64 streams waiting at 190 calls/s a call would wait about 0.3 s,
// six round trips of 50 ms.
type pacer struct {
	now func() time.Time

	// The waiting calls, a heap by priority; dispatching is true while a
	// goroutine hands out slots.
	qmu         sync.Mutex
	queue       waitHeap
	seq         int64
	dispatching bool

	mu         sync.Mutex
	lim        *rate.Limiter
	configured float64 // calls/s; +Inf = unlimited
	current    float64
	// last is the rate before the last decrease: recovery returns to it fast.
	last float64
	// epoch is the time of the last decrease (zero before): answers to calls
	// sent before it are not evidence about the current rate.
	epoch time.Time
	// The open window: since start, answers of which throttled were rate-limit
	// answers; zero start = no window open.
	start              time.Time
	answers, throttled int64
	cuts               int64
	// cutShare is the share of the window that caused the last decrease while the
	// window after it is judged (0 otherwise); background is the share learned
	// from decreases that did not help.
	cutShare, background float64
}

// newPacer returns a pacer at the configured rate (calls/s; math.Inf(1) for no
// limit). now is the clock (time.Now when nil).
func newPacer(configured float64, now func() time.Time) *pacer {
	if now == nil {
		now = time.Now
	}
	p := &pacer{now: now, configured: configured, current: configured, last: configured}
	if math.IsInf(configured, 1) {
		p.lim = rate.NewLimiter(rate.Inf, 0)
	} else {
		// Calls are spaced evenly, so that a server counting calls in one-second
		// windows never sees more than the rate in any window; the burst holds
		// pacerBurst of slots (1 at the documented rates), so that the one
		// dispatcher waking late on a busy machine does not lose the slots that
		// passed meanwhile.
		p.lim = rate.NewLimiter(rate.Limit(configured), burstFor(configured))
	}
	return p
}

// wait blocks until the next call may start, or ctx is done. It returns the time
// the call starts, which answered takes back. ctx's priority (withPriority) orders
// the waiting calls.
func (p *pacer) wait(ctx context.Context) (time.Time, error) {
	if p.unlimited() {
		return p.now(), ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	w := &waiter{prio: priority(ctx), granted: make(chan struct{})}
	p.qmu.Lock()
	w.seq = p.seq
	p.seq++
	heap.Push(&p.queue, w)
	if !p.dispatching {
		p.dispatching = true
		go p.dispatch()
	}
	p.qmu.Unlock()
	select {
	case <-w.granted:
		return p.now(), nil
	case <-ctx.Done():
		p.qmu.Lock()
		if w.index >= 0 {
			heap.Remove(&p.queue, w.index)
		}
		p.qmu.Unlock()
		return time.Time{}, ctx.Err()
	}
}

// dispatch hands out the token bucket's slots to the waiting calls, highest
// priority first, until none waits. A slot taken while the last waiter gave up
// is lost, which happens only when the API falls idle.
func (p *pacer) dispatch() {
	for {
		p.qmu.Lock()
		if len(p.queue) == 0 {
			p.dispatching = false
			p.qmu.Unlock()
			return
		}
		p.qmu.Unlock()
		if err := p.lim.Wait(context.Background()); err != nil {
			// Unreachable with a positive rate and burst 1; never grant a slot
			// without pacing.
			time.Sleep(time.Second)
			continue
		}
		p.qmu.Lock()
		if len(p.queue) > 0 {
			w := heap.Pop(&p.queue).(*waiter)
			close(w.granted)
		}
		p.qmu.Unlock()
	}
}

// waiter is a call waiting for a slot.
type waiter struct {
	prio, seq int64
	index     int // in the heap; -1 once popped or removed
	granted   chan struct{}
}

type waitHeap []*waiter

func (h waitHeap) Len() int { return len(h) }
func (h waitHeap) Less(i, j int) bool {
	if h[i].prio != h[j].prio {
		return h[i].prio > h[j].prio
	}
	return h[i].seq < h[j].seq
}
func (h waitHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *waitHeap) Push(x any) {
	w := x.(*waiter)
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *waitHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	w.index = -1
	*h = old[:len(old)-1]
	return w
}

type priorityKey struct{}

// withPriority returns ctx whose calls wait for their pacer slot with priority
// prio (higher first; 0 without).
func withPriority(ctx context.Context, prio int64) context.Context {
	return context.WithValue(ctx, priorityKey{}, prio)
}

func priority(ctx context.Context) int64 {
	p, _ := ctx.Value(priorityKey{}).(int64)
	return p
}

func (p *pacer) unlimited() bool { return math.IsInf(p.configured, 1) }

// answered records the answer to a call started at sent: throttled when the target
// answered over-rate. Attempts without an answer (a reset, a timeout) are not
// reported: they say nothing about the rate.
func (p *pacer) answered(sent time.Time, throttled bool) {
	if p.unlimited() {
		return
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if sent.Before(p.epoch) {
		return
	}
	if p.start.IsZero() {
		p.start = sent
	}
	p.answers++
	if throttled {
		p.throttled++
	}
	span := now.Sub(p.start)
	if span < pacerWindow || (p.answers < pacerMinAnswers && span < pacerMaxWindow) {
		return
	}
	p.judgeLocked(float64(p.throttled)/float64(p.answers), span, now)
	p.start, p.answers, p.throttled = time.Time{}, 0, 0
	p.lim.SetLimitAt(now, rate.Limit(p.current))
	p.lim.SetBurstAt(now, burstFor(p.current))
}

// judgeLocked sets the rate after a window of span whose answers were share
// throttled.
func (p *pacer) judgeLocked(share float64, span time.Duration, now time.Time) {
	after := p.cutShare
	p.cutShare = 0
	switch {
	case after > 0 && share >= pacerSameShare*after && share < pacerMaxBackground:
		// The decrease did not lower the share: it is the target's background.
		// A target refusing most calls whatever the rate (an overload, a spike of
		// the app's traffic) is not a background to run at full rate into.
		p.background = math.Max(p.background, share)
		p.current = p.last
	case share > pacerTolerance+p.background && p.throttled >= pacerMinThrottled:
		p.last = p.current
		p.current = math.Max(math.Min(pacerFloor, p.configured), p.current*(1-share))
		p.epoch = now
		p.cuts++
		p.cutShare = share
	default:
		p.background *= pacerBackgroundFade
		if p.current >= p.configured {
			return
		}
		gain := pacerProbeShare * p.configured * span.Seconds()
		if p.current < p.last {
			gain = math.Max(gain, (p.last-p.current)/2)
		}
		p.current = math.Min(p.configured, p.current+gain)
	}
}

// burstFor is the token bucket's burst at rate: pacerBurst of slots, at least 1.
func burstFor(rate float64) int {
	return max(1, int(rate*pacerBurst.Seconds()))
}

// rate returns the current rate in calls/s.
func (p *pacer) rate() float64 {
	if p.unlimited() {
		return p.configured
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.current
}

// decreases returns how many times the rate was cut.
func (p *pacer) decreases() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts
}

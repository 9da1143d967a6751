package load

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// AIMD parameters of a pacer (design §5): a rate-limit answer halves the API's rate,
// and the rate then climbs back linearly to the configured one.
const (
	// aimdDecrease multiplies the current rate on a rate-limit answer.
	aimdDecrease = 0.5
	// aimdFloor is the lowest rate a pacer goes down to, in calls per second: below
	// it a migration would stall for hours on a transient overload.
	aimdFloor = 1.0
	// aimdRecoverShare of the configured rate is added back per second without a
	// rate-limit answer: from half the rate, the full rate is back after 10 s.
	aimdRecoverShare = 0.05
	// aimdCooldown is the least time between two decreases. The calls already in
	// flight when the first over-rate answer arrives were paced at the old rate and
	// answer 60007 too; cutting once per cooldown keeps one overload from being
	// counted several times and collapsing the rate to the floor.
	aimdCooldown = time.Second
)

// pacer is the rate limiter of one API: a token bucket (golang.org/x/time/rate) whose
// rate follows AIMD. Every attempt at a call, retries included, waits on it
// (style.md habit 7, rclone's pacer). Safe for concurrent use.
type pacer struct {
	now func() time.Time

	mu         sync.Mutex
	lim        *rate.Limiter
	configured float64 // calls/s; +Inf = unlimited
	current    float64
	lastCut    time.Time // time of the last decrease; zero before the first
	lastGain   time.Time // recovery has been applied up to here
	cuts       int64
}

// newPacer returns a pacer at the configured rate (calls/s; math.Inf(1) for no
// limit). now is the clock (time.Now when nil).
func newPacer(configured float64, now func() time.Time) *pacer {
	if now == nil {
		now = time.Now
	}
	p := &pacer{now: now, configured: configured, current: configured}
	if math.IsInf(configured, 1) {
		p.lim = rate.NewLimiter(rate.Inf, 0)
	} else {
		// Burst 1: calls are spaced evenly, so that a server counting calls in
		// one-second windows never sees more than the rate in any window. Waiters
		// reserve their slot in advance, so a late goroutine wake-up does not lose
		// throughput while calls are queued.
		p.lim = rate.NewLimiter(rate.Limit(configured), 1)
	}
	return p
}

// wait blocks until the next call may start, or ctx is done.
func (p *pacer) wait(ctx context.Context) error {
	if p.unlimited() {
		return ctx.Err()
	}
	p.mu.Lock()
	p.recoverLocked(p.now())
	p.mu.Unlock()
	return p.lim.Wait(ctx)
}

func (p *pacer) unlimited() bool { return math.IsInf(p.configured, 1) }

// onRateLimit records a rate-limit answer: the rate is halved (not below the floor)
// unless it was already cut within the cooldown, in which case the answer belongs
// to the overload already acted on.
func (p *pacer) onRateLimit() {
	if p.unlimited() {
		return
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recoverLocked(now)
	if !p.lastCut.IsZero() && now.Sub(p.lastCut) < aimdCooldown {
		return
	}
	p.lastCut = now
	p.cuts++
	p.current = math.Max(math.Min(aimdFloor, p.configured), p.current*aimdDecrease)
	p.lastGain = now
	p.lim.SetLimitAt(now, rate.Limit(p.current))
}

// recoverLocked adds back aimdRecoverShare of the configured rate per second elapsed
// since the last decrease or gain, up to the configured rate.
func (p *pacer) recoverLocked(now time.Time) {
	if p.current >= p.configured {
		return
	}
	dt := now.Sub(p.lastGain)
	if dt <= 0 {
		return
	}
	p.current = math.Min(p.configured, p.current+aimdRecoverShare*p.configured*dt.Seconds())
	p.lastGain = now
	p.lim.SetLimitAt(now, rate.Limit(p.current))
}

// rate returns the current rate in calls/s, with recovery applied up to now.
func (p *pacer) rate() float64 {
	if p.unlimited() {
		return p.configured
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recoverLocked(p.now())
	return p.current
}

// decreases returns how many times the rate was cut.
func (p *pacer) decreases() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts
}

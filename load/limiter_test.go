package load

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// fakeClock is a settable clock for the pacer's arithmetic.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// window feeds p n answers to calls sent at the clock's time, answered evenly
// over the next span, the first throttled of them over-rate.
func window(p *pacer, clk *fakeClock, n, throttled int, span time.Duration) {
	sent := clk.now()
	for i := range n {
		clk.t = sent.Add(span * time.Duration(i+1) / time.Duration(n))
		p.answered(sent, i < throttled)
	}
}

func TestPacerWindows(t *testing.T) {
	type step struct {
		n, throttled int
		span         time.Duration
		want         float64 // rate after the step
	}
	tests := []struct {
		name       string
		configured float64
		steps      []step
		wantCuts   int64
	}{
		{"starts at the configured rate", 190, []step{{0, 0, 0, 190}}, 0},
		{"sporadic answers under the tolerance do not cut", 190, []step{
			{190, 9, time.Second, 190}, {190, 19, time.Second, 190}, {190, 5, time.Second, 190},
		}, 0},
		{"a burst cuts in proportion to its share", 200, []step{{200, 100, time.Second, 100}}, 1},
		{"recovery closes half the gap to the rate it left per good window, then probes", 200, []step{
			{200, 100, time.Second, 100},
			{100, 0, time.Second, 150},
			{150, 0, time.Second, 175},
			{175, 0, time.Second, 187.5},
			{190, 0, time.Second, 197.5}, // half the gap is 6.25 < the probe, 5 % of 200 per second
			{200, 0, time.Second, 200},
		}, 1},
		{"a decrease that does not lower the share is undone, and the share tolerated", 200, []step{
			{200, 30, time.Second, 170}, // 15 %: over the tolerance
			{170, 26, time.Second, 200}, // still 15 %: background, back to 200
			{200, 30, time.Second, 200}, // 15 % is now within 10 % + the background
			{200, 60, time.Second, 140}, // 30 % is not
		}, 2},
		{"a window needs 50 answers", 200, []step{
			{40, 20, time.Second, 200},           // 40 answers over 1 s: still open
			{10, 0, 100 * time.Millisecond, 120}, // 50 answers, 20 throttled: × (1 - 0.4)
		}, 1},
		{"a slow API's window closes after 10 s", 5, []step{
			{20, 8, 4 * time.Second, 5},
			{20, 0, 6 * time.Second, 4}, // 40 answers, 8 throttled over 10 s: × (1 - 0.2)
		}, 1},
		{"two throttled answers never cut", 5, []step{
			{10, 2, 10 * time.Second, 5},
		}, 0},
		{"never below the floor of 1/s", 3, []step{
			{60, 59, time.Second, 1},
		}, 1},
		{"a rate under the floor stays at its configured value", 0.5, []step{
			{60, 59, time.Second, 0.5},
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
			p := newPacer(tt.configured, clk.now)
			for i, s := range tt.steps {
				window(p, clk, s.n, s.throttled, s.span)
				if got := p.rate(); !approx(got, s.want) {
					t.Fatalf("step %d: rate = %v, want %v", i, got, s.want)
				}
				if got := float64(p.lim.Limit()); !approx(got, s.want) {
					t.Fatalf("step %d: token bucket limit = %v, want %v", i, got, s.want)
				}
			}
			if got := p.decreases(); got != tt.wantCuts {
				t.Fatalf("decreases = %d, want %d", got, tt.wantCuts)
			}
		})
	}
}

func TestPacerIgnoresAnswersToCallsSentBeforeACut(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	p := newPacer(200, clk.now)
	before := clk.now()
	window(p, clk, 200, 100, time.Second) // cut to 100
	// The calls in flight when the rate was cut answer over-rate too: they were
	// paced at 200/s and must not cut again.
	for range 200 {
		clk.advance(5 * time.Millisecond)
		p.answered(before, true)
	}
	if got, cuts := p.rate(), p.decreases(); got != 100 || cuts != 1 {
		t.Fatalf("rate %v after %d cuts, want 100 after 1", got, cuts)
	}
}

func TestPacerUnlimited(t *testing.T) {
	p := newPacer(math.Inf(1), nil)
	for range 100 {
		p.answered(time.Now(), true)
	}
	if got := p.rate(); !math.IsInf(got, 1) {
		t.Fatalf("rate = %v, want +Inf", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := p.wait(ctx); err != nil {
		t.Fatalf("wait: %v", err)
	}
	cancel()
	if _, err := p.wait(ctx); err == nil {
		t.Fatal("wait after cancel: no error")
	}
}

func TestPacerWaitHonoursContext(t *testing.T) {
	p := newPacer(0.001, nil) // one call per 1000 s: the second wait must block
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := p.wait(ctx); err != nil {
		t.Fatalf("first wait: %v", err)
	}
	cancel()
	if _, err := p.wait(ctx); err == nil {
		t.Fatal("second wait returned without error after cancel")
	}
}

// simulate drives a pacer configured at configured calls/s against a simulated
// target for d: calls go out back to back at the pacer's current rate, each is
// answered rtt later, over-rate (60007) when the target's token bucket (enforced
// calls/s, burst = rate, spec §10) has no token or, independently, with
// probability sporadic. It returns the attempts/s and the accepted calls/s.
func simulate(configured, enforced, sporadic float64, rtt, d time.Duration, seed uint64) (attempts, accepted float64) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	p := newPacer(configured, clk.now)
	target := rate.NewLimiter(rate.Limit(enforced), int(math.Ceil(enforced)))
	rng := rand.New(rand.NewPCG(seed, 1))
	type call struct {
		sent, answer time.Time
		throttled    bool
	}
	var flight []call // answers come back in send order: the round trip is constant
	start := clk.now()
	next := start
	var sent, ok int
	for clk.now().Sub(start) < d {
		if len(flight) > 0 && !flight[0].answer.After(next) {
			c := flight[0]
			flight = flight[1:]
			clk.t = c.answer
			p.answered(c.sent, c.throttled)
			continue
		}
		clk.t = next
		throttled := !target.AllowN(clk.now(), 1) || rng.Float64() < sporadic
		if !throttled {
			ok++
		}
		sent++
		flight = append(flight, call{sent: clk.now(), answer: clk.now().Add(rtt), throttled: throttled})
		next = clk.now().Add(time.Duration(float64(time.Second) / p.rate()))
	}
	secs := d.Seconds()
	return float64(sent) / secs, float64(ok) / secs
}

// TestPacerUnderSporadicThrottling is issue 11's case in simulation: a target
// whose limit is above the configured rate but which answers 5 % of all calls
// over-rate (its quota is shared with live traffic), and busier ones at 15 % and
// 25 %. The pacer must keep ≥ 90 % of the configured rate; the first version
// (halve per answer, once a second, +5 %/s) kept 15 % of it in the measured run,
// and a pacer without tolerance keeps 11–17 % here.
func TestPacerUnderSporadicThrottling(t *testing.T) {
	for _, tc := range []struct {
		name       string
		configured float64
		rtt        time.Duration
		sporadic   float64
	}{
		{"importmsg 190/s at 50 ms", 190, 50 * time.Millisecond, 0.05},
		{"importmsg 190/s at 200 ms", 190, 200 * time.Millisecond, 0.05},
		{"import_group_msg 19/s at 200 ms", 19, 200 * time.Millisecond, 0.05},
		{"account_import 95/s at 50 ms", 95, 50 * time.Millisecond, 0.05},
		{"importmsg 190/s at 50 ms, 15 %", 190, 50 * time.Millisecond, 0.15},
		{"importmsg 190/s at 200 ms, 25 %", 190, 200 * time.Millisecond, 0.25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(5) {
				attempts, _ := simulate(tc.configured, tc.configured/0.95, tc.sporadic, tc.rtt, 10*time.Minute, seed)
				if attempts < 0.9*tc.configured {
					t.Errorf("seed %d: %.1f attempts/s, %.1f %% of the configured %.0f/s", seed, attempts, 100*attempts/tc.configured, tc.configured)
				}
			}
		})
	}
}

// TestPacerFindsALowerLimit: configured at twice what the target accepts, the
// pacer must settle at the target's limit: accepted calls at ≥ 90 % of it, and
// attempts not far above it (the tolerance lets them exceed it by up to ~11 %).
func TestPacerFindsALowerLimit(t *testing.T) {
	for _, sporadic := range []float64{0, 0.05, 0.15} {
		for seed := range uint64(3) {
			attempts, accepted := simulate(200, 100, sporadic, 50*time.Millisecond, 10*time.Minute, seed)
			if accepted < 0.9*100*(1-sporadic) || attempts > 1.2*100 {
				t.Errorf("sporadic %.2f, seed %d: %.1f attempts/s, %.1f accepted/s against a 100/s limit", sporadic, seed, attempts, accepted)
			}
		}
	}
}

// TestPacerServesHigherPriorityFirst: calls waiting for a slot get it highest
// priority first, in arrival order among equals; a waiter that gives up leaves.
func TestPacerServesHigherPriorityFirst(t *testing.T) {
	p := newPacer(4, nil) // a slot every 250 ms
	if _, err := p.wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		order []int64
		wg    sync.WaitGroup
	)
	gone, cancel := context.WithCancel(t.Context())
	start := func(ctx context.Context, prio int64) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.wait(withPriority(ctx, prio)); err != nil {
				return
			}
			mu.Lock()
			order = append(order, prio)
			mu.Unlock()
		}()
	}
	for _, prio := range []int64{1, 5, 3, 0, 5} {
		start(t.Context(), prio)
	}
	start(gone, 9)
	// Let every waiter queue (well inside the 250 ms until the next slot), then
	// drop the priority-9 one.
	for {
		p.qmu.Lock()
		n := len(p.queue)
		p.qmu.Unlock()
		if n == 6 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
	if want := []int64{5, 5, 3, 1, 0}; !slices.Equal(order, want) {
		t.Fatalf("slots went to priorities %v, want %v", order, want)
	}
}

// TestPacerStaysDownWhenTheTargetRefusesMostCalls: a target answering 60007 to
// most calls whatever the rate is overloaded, not a background to learn.
func TestPacerStaysDownWhenTheTargetRefusesMostCalls(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	p := newPacer(200, clk.now)
	window(p, clk, 200, 200, time.Second) // everything throttled: to the floor
	for range 5 {
		window(p, clk, 50, 50, time.Second)
	}
	if got := p.rate(); got != pacerFloor {
		t.Fatalf("rate %v after windows of only rate-limit answers, want the floor %v", got, pacerFloor)
	}
}

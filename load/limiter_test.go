package load

import (
	"context"
	"math"
	"testing"
	"time"
)

// fakeClock is a settable clock for the pacer's AIMD arithmetic.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestPacerAIMD(t *testing.T) {
	type step struct {
		advance   time.Duration
		rateLimit bool    // an over-rate answer arrives after advancing
		want      float64 // rate after the step
	}
	tests := []struct {
		name       string
		configured float64
		steps      []step
	}{
		{"starts at the configured rate", 190, []step{{0, false, 190}}},
		{"halves on a rate-limit answer", 190, []step{{0, true, 95}}},
		{"recovers 5 % of the configured rate per second", 200, []step{
			{0, true, 100},
			{time.Second, false, 110},
			{2 * time.Second, false, 130},
			{500 * time.Millisecond, false, 135},
		}},
		{"recovery stops at the configured rate", 200, []step{
			{0, true, 100},
			{time.Minute, false, 200},
			{time.Minute, false, 200},
		}},
		{"answers within the cooldown do not cut again", 200, []step{
			{0, true, 100},
			{300 * time.Millisecond, true, 103},
			{600 * time.Millisecond, true, 109},
			{time.Second, false, 119},
		}},
		{"answers after the cooldown cut again", 200, []step{
			{0, true, 100},
			{time.Second, true, 55}, // recovered to 110 first, then halved
			{time.Second, true, 32.5},
		}},
		{"never below the floor of 1/s", 3, []step{
			{0, true, 1.5},
			{time.Second, true, 1}, // 1.5+0.15 = 1.65, halved = 0.825 -> floor
			{time.Second, true, 1}, // 1+0.15 = 1.15 -> 0.575 -> floor
		}},
		{"a rate under the floor stays at its configured value", 0.5, []step{
			{0, true, 0.5},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
			p := newPacer(tt.configured, clk.now)
			for i, s := range tt.steps {
				clk.advance(s.advance)
				if s.rateLimit {
					p.onRateLimit()
				}
				if got := p.rate(); !approx(got, s.want) {
					t.Fatalf("step %d: rate = %v, want %v", i, got, s.want)
				}
				if got := float64(p.lim.Limit()); !approx(got, s.want) {
					t.Fatalf("step %d: token bucket limit = %v, want %v", i, got, s.want)
				}
			}
		})
	}
}

func TestPacerCountsDecreases(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	p := newPacer(100, clk.now)
	for range 5 {
		p.onRateLimit()
		clk.advance(400 * time.Millisecond)
	}
	// Answers at 0, 0.4, 0.8, 1.2, 1.6 s: cuts at 0 and 1.2 s (the others are
	// within a second of the last cut).
	if got := p.decreases(); got != 2 {
		t.Fatalf("decreases = %d, want 2", got)
	}
}

func TestPacerUnlimited(t *testing.T) {
	p := newPacer(math.Inf(1), nil)
	p.onRateLimit()
	if got := p.rate(); !math.IsInf(got, 1) {
		t.Fatalf("rate = %v, want +Inf", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.wait(ctx); err != nil {
		t.Fatalf("wait: %v", err)
	}
	cancel()
	if err := p.wait(ctx); err == nil {
		t.Fatal("wait after cancel: no error")
	}
}

func TestPacerWaitHonoursContext(t *testing.T) {
	p := newPacer(0.001, nil) // one call per 1000 s: the second wait must block
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.wait(ctx); err != nil {
		t.Fatalf("first wait: %v", err)
	}
	cancel()
	if err := p.wait(ctx); err == nil {
		t.Fatal("second wait returned without error after cancel")
	}
}

package load

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/immigrate/immigrate/tencentim"
)

// Caller makes single calls outside the engine — verify's read-backs — on the
// engine's call path: each API behind its own AIMD pacer, every attempt waiting on
// it, retryable failures retried with the engine's backoff (style.md habit 7). It
// is safe for concurrent use.
type Caller struct {
	client Client
	rates  map[tencentim.Command]float64
	retry  retrier

	mu     sync.Mutex
	pacers map[tencentim.Command]*pacer
	calls  map[tencentim.Command]*atomic.Int64
}

// NewCaller returns a Caller over client. rates are calls/s per API (an API
// missing from it runs at 95 % of tencentim.DocumentedRate, math.Inf(1) means no
// limit); maxAttempts ≤ 0 means the engine's default.
func NewCaller(client Client, rates map[tencentim.Command]float64, maxAttempts int) *Caller {
	if maxAttempts <= 0 {
		maxAttempts = defaultMaxAttempts
	}
	return &Caller{
		client: client,
		rates:  rates,
		retry:  retrier{maxAttempts: maxAttempts, backoff: defaultBackoff(), sleep: sleepCtx},
		pacers: map[tencentim.Command]*pacer{},
		calls:  map[tencentim.Command]*atomic.Int64{},
	}
}

// Call sends req as cmd and decodes the answer into resp (a pointer to the
// command's response type), retrying as the engine does. It returns nil; ctx.Err();
// a *FatalError for a fatal answer or when the attempts ran out; or the
// *tencentim.Error of an answer that refuses the request itself (ClassRejected),
// e.g. 10010 for a group that does not exist.
func (c *Caller) Call(ctx context.Context, cmd tencentim.Command, req, resp any) error {
	p, n := c.api(cmd)
	return c.retry.do(ctx, cmd, p, nil, func(ctx context.Context) error {
		n.Add(1)
		return c.client.Exchange(ctx, cmd, req, resp)
	}, nil)
}

// Calls returns the attempts made per API, retries included, keyed by
// "service/command".
func (c *Caller) Calls() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.calls))
	for cmd, n := range c.calls {
		out[cmd.String()] = n.Load()
	}
	return out
}

func (c *Caller) api(cmd tencentim.Command) (*pacer, *atomic.Int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pacers[cmd]
	if p == nil {
		r, ok := c.rates[cmd]
		if !ok || !(r > 0) {
			r = 0.95 * tencentim.DocumentedRate[cmd]
		}
		p = newPacer(r, nil)
		c.pacers[cmd] = p
		c.calls[cmd] = new(atomic.Int64)
	}
	return p, c.calls[cmd]
}

package urlcheck

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Link is one URL and the record it came from.
type Link struct {
	Entity   string `json:"entity"`
	Origin   string `json:"origin"`
	LegacyID string `json:"legacy_id"`
	URL      string `json:"url"`
}

// Dead is a link that did not answer 2xx or 3xx: its status (0 when there was no
// answer) or the error.
type Dead struct {
	Link
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Result is what a Checker found.
type Result struct {
	Checked int64  `json:"checked"`
	Live    int64  `json:"live"`
	Dead    []Dead `json:"dead"`
}

// Config sizes a Checker.
type Config struct {
	Concurrency int           // requests in flight; ≤ 0 means 8
	Timeout     time.Duration // per request; ≤ 0 means 10 s
	Client      *http.Client  // nil: a client of its own
}

// Checker checks links as they are added, Concurrency at a time. Add blocks
// while every worker is busy, so memory stays bounded whatever the number of
// links; Wait returns the result once the added links are checked. Add and
// Wait are called from one goroutine.
type Checker struct {
	cfg  Config
	in   chan Link
	wg   sync.WaitGroup
	mu   sync.Mutex
	res  Result
	ctx  context.Context
	stop context.CancelFunc
}

// New starts a Checker's workers; ctx ends them (Wait then returns what was
// checked).
func New(ctx context.Context, cfg Config) *Checker {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Client == nil {
		// Redirects are followed (a CDN's 301 to the object is alive).
		cfg.Client = &http.Client{}
	}
	c := &Checker{cfg: cfg, in: make(chan Link)}
	c.ctx, c.stop = context.WithCancel(ctx)
	for range cfg.Concurrency {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			for l := range c.in {
				c.check(l)
			}
		}()
	}
	return c
}

// Add queues a link, waiting for a free worker. It drops the link once ctx is
// done.
func (c *Checker) Add(l Link) {
	select {
	case c.in <- l:
	case <-c.ctx.Done():
	}
}

// Wait waits for the links added so far and returns the result, dead links in
// (origin, URL) order.
func (c *Checker) Wait() Result {
	close(c.in)
	c.wg.Wait()
	c.stop()
	sort.Slice(c.res.Dead, func(i, j int) bool {
		a, b := c.res.Dead[i], c.res.Dead[j]
		if a.Origin != b.Origin {
			return a.Origin < b.Origin
		}
		return a.URL < b.URL
	})
	if c.res.Dead == nil {
		c.res.Dead = []Dead{}
	}
	return c.res
}

func (c *Checker) check(l Link) {
	status, err := c.head(l.URL, http.MethodHead)
	if err == nil && (status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented) {
		// Some servers refuse HEAD; a GET of the first byte asks the same.
		status, err = c.head(l.URL, http.MethodGet)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.res.Checked++
	switch {
	case err != nil:
		c.res.Dead = append(c.res.Dead, Dead{Link: l, Error: err.Error()})
	case status >= 200 && status < 400:
		c.res.Live++
	default:
		c.res.Dead = append(c.res.Dead, Dead{Link: l, Status: status})
	}
}

func (c *Checker) head(url, method string) (int, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, err
	}
	if method == http.MethodGet {
		req.Header.Set("Range", "bytes=0-0")
	}
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

package sandbox

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/immigrate/immigrate/tencentim"
)

// DocumentedRateLimits returns the vendor's per-command maximum call frequency in
// calls per second (spec §1.10), e.g. 200 for importmsg and 1 for
// get_appid_group_list.
func DocumentedRateLimits() map[tencentim.Command]float64 {
	return maps.Clone(tencentim.DocumentedRate)
}

// ParseRateLimits parses the --rate-limits syntax of `immigrate sandbox`:
//
//	off                      no limits (also "")
//	documented               the vendor's limits, DocumentedRateLimits
//	importmsg=200,import_group_msg=50
//	                         only these commands, in calls per second; a command
//	                         is a bare name or service/command
//	documented,importmsg=50  the vendor's limits with overrides
func ParseRateLimits(spec string) (map[tencentim.Command]float64, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "off" {
		return nil, nil
	}
	out := map[tencentim.Command]float64{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "documented" {
			maps.Copy(out, tencentim.DocumentedRate)
			continue
		}
		name, val, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("rate limit %q is not command=rate", item)
		}
		cmd, err := resolveCommand(name)
		if err != nil {
			return nil, fmt.Errorf("rate limit %q: %w", item, err)
		}
		qps, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || !(qps > 0) || math.IsInf(qps, 0) {
			return nil, fmt.Errorf("rate limit %q: want a positive number of calls per second", item)
		}
		out[cmd] = qps
	}
	return out, nil
}

// rateLimiter enforces per-command QPS with a token bucket whose burst is the rate
// (at least 1): at most about QPS calls in any 1-second window, as spec §10
// recommends. It reads the server clock, so tests drive it with a fake clock.
type rateLimiter struct {
	lims map[tencentim.Command]*rate.Limiter // read-only after construction
}

func newRateLimiter(qps map[tencentim.Command]float64) *rateLimiter {
	r := &rateLimiter{lims: map[tencentim.Command]*rate.Limiter{}}
	for cmd, q := range qps {
		burst := int(math.Ceil(q))
		if burst < 1 {
			burst = 1
		}
		r.lims[cmd] = rate.NewLimiter(rate.Limit(q), burst)
	}
	return r
}

// allow reports whether a call of cmd at now is within its limit, consuming a
// token if so.
func (r *rateLimiter) allow(cmd tencentim.Command, now time.Time) bool {
	l := r.lims[cmd]
	return l == nil || l.AllowN(now, 1)
}

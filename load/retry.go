package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"syscall"
	"time"

	"github.com/immigrate/immigrate/tencentim"
)

// Retry defaults (design §5).
const (
	defaultMaxAttempts = 8
	backoffBase        = 200 * time.Millisecond
	backoffCap         = 10 * time.Second
)

// backoff computes retry delays: exponential with full jitter, i.e. a uniform draw in
// [0, min(cap, base·2^(retry-1))). Full jitter spreads the retries of the many
// streams that failed together (a 502 burst) instead of resending them in lockstep.
type backoff struct {
	base, cap time.Duration
	rand      func() float64 // uniform in [0, 1); safe for concurrent use
}

func defaultBackoff() backoff {
	return backoff{base: backoffBase, cap: backoffCap, rand: rand.Float64}
}

// ceiling is the upper bound of the delay before retry number retry (1-based).
func (b backoff) ceiling(retry int) time.Duration {
	if retry < 1 {
		retry = 1
	}
	d := b.base
	for i := 1; i < retry; i++ {
		d *= 2
		if d >= b.cap || d <= 0 {
			return b.cap
		}
	}
	return min(d, b.cap)
}

// delay draws the wait before retry number retry (1-based).
func (b backoff) delay(retry int) time.Duration {
	return time.Duration(b.rand() * float64(b.ceiling(retry)))
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ExhaustedError is why a call that kept failing with retryable errors until its
// attempts ran out stopped the run: it is the Err of that run's *FatalError. A
// target that fails that long is down or not the right one (an outage, a wrong
// endpoint), not refusing the call's records, so rejecting them would turn an
// outage into mass rejects; stopping keeps them for the resumed run, which the
// checkpoint makes safe (design §4, §5).
type ExhaustedError struct {
	Attempts int
	Err      error // the last attempt's error
}

func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("gave up after %d attempts: %v", e.Attempts, e.Err)
}

func (e *ExhaustedError) Unwrap() error { return e.Err }

// FatalError stops a run: the target refused the credentials or the configuration,
// so every further call would fail the same way (design §5), or it kept failing
// until a call's attempts ran out (Err is then an *ExhaustedError). Its message is
// one sentence saying what to fix or do.
type FatalError struct {
	API  tencentim.Command
	Code int    // vendor code (the last attempt's when retries ran out); 0 when the failure was not a vendor answer
	Hint string // what to fix
	Err  error
}

func (e *FatalError) Error() string { return e.Hint }

func (e *FatalError) Unwrap() error { return e.Err }

// newFatal builds the FatalError of a fatal answer to api.
func newFatal(api tencentim.Command, err error) *FatalError {
	code := 0
	var te *tencentim.Error
	if errors.As(err, &te) {
		code = te.Code
	}
	return &FatalError{API: api, Code: code, Hint: fatalHint(api, code), Err: err}
}

// newExhausted builds the FatalError of a call to api whose attempts ran out, last
// failing with err.
func newExhausted(api tencentim.Command, attempts int, err error) *FatalError {
	code := 0
	var te *tencentim.Error
	if errors.As(err, &te) {
		code = te.Code
	}
	fix := "check the network and the target's endpoint"
	if tencentim.IsRateLimit(err) {
		// Over-rate answers despite the AIMD cuts: the application's limit is
		// lower than the configured rate.
		fix = "lower load.rates." + api.Name
	}
	return &FatalError{
		API:  api,
		Code: code,
		Hint: fmt.Sprintf("the target kept failing on %s (last: %s) through %d attempts: %s, then run the same command again to resume",
			api, failureClass(err), attempts, fix),
		Err: &ExhaustedError{Attempts: attempts, Err: err},
	}
}

// failureClass names a retryable failure by its code, HTTP status or kind, never
// by its text, which may quote a URL.
func failureClass(err error) string {
	var te *tencentim.Error
	if errors.As(err, &te) {
		switch {
		case te.Code != 0:
			return fmt.Sprintf("%d, %s", te.Code, tencentim.CodeText(te.Code))
		case te.HTTPStatus != 0:
			return fmt.Sprintf("HTTP status %d", te.HTTPStatus)
		}
	}
	var ne net.Error
	switch {
	case errors.Is(err, errShortAnswer):
		return "an answer without a result per message"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "a timeout"
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return "a connection error"
	}
	return "an answer that is not a TIM response"
}

// fatalHint says in one sentence what to fix after a fatal answer (design §5). It
// names codes, never secrets.
func fatalHint(api tencentim.Command, code int) string {
	switch code {
	case 70009, 70016, 70003, 70002:
		return fmt.Sprintf("the target refused the admin UserSig (%d): check sdkappid and secret_key", code)
	case 70001, 60004, 60005, 20002:
		return fmt.Sprintf("the target says the admin UserSig expired (%d): check this machine's clock and the secret_key", code)
	case 70013:
		return "the target says the UserSig does not match the identifier (70013): check the admin identifier and secret_key"
	case 70014, 70020, 60006, 60012:
		return fmt.Sprintf("the target does not know this application (%d): check sdkappid and the region or endpoint", code)
	case 60010, 70403, 90009, 40004, 30004, 50003, 10001:
		return fmt.Sprintf("the target says the configured identifier is not an app administrator (%d): check the admin identifier in the target settings", code)
	case 70398:
		return "the application's edition reached its account limit (70398): upgrade the edition or import fewer accounts"
	case 10058:
		return "the application's edition reached its group limit (10058): upgrade the edition or import fewer groups"
	case 60016, 60017, 60020:
		return fmt.Sprintf("the target disabled this application or request (%d): check the application's status in the console", code)
	case 60021:
		return "the target does not accept REST calls from this machine's IP address (60021): add it to the console's IP allow list"
	case 60009:
		return fmt.Sprintf("the target does not serve %s (60009): check the region or endpoint", api)
	case 70051:
		return "the target blacklisted the admin identifier (70051): use another admin identifier"
	case 0:
		return fmt.Sprintf("calling %s failed fatally: check the target settings", api)
	}
	return fmt.Sprintf("the target refused %s with %d (%s): fix the configuration and run again", api, code, tencentim.CodeText(code))
}

// ambiguous reports whether a failed attempt may still have been applied by the
// target: a rate-limit answer was refused before any work, every other retryable
// failure (a reset, a lost answer, a 502 from a proxy, a server timeout) may have
// happened after the target stored the request.
func ambiguous(err error) bool {
	return !tencentim.IsRateLimit(err)
}

// retrier runs one logical call with retries (design §5): every attempt waits on the
// API's pacer; a retryable failure is retried after a backoff, up to maxAttempts;
// every answer is reported to the pacer, whose rate follows the share of
// rate-limit answers.
type retrier struct {
	maxAttempts int
	backoff     backoff
	sleep       func(ctx context.Context, d time.Duration) error
}

// attemptFunc makes one attempt at a call.
type attemptFunc func(ctx context.Context) error

// beforeRetryFunc runs before a retry with the previous attempt's error; the
// engine uses it to reconcile a group batch that may have been applied (design §4
// rule 3). Its error ends the call, as an attempt's error would.
type beforeRetryFunc func(ctx context.Context, prev error) error

// observer is told about each attempt's outcome, for statistics: its error, whether
// it was a retry, and how long it took when the target answered it (0 when not).
type observer interface {
	attempted(err error, retry bool, rtt time.Duration)
}

// answer reports whether err (an attempt's outcome) is the target's answer: a
// success or a vendor error code. Resets, timeouts and proxy errors are not.
func answer(err error) bool {
	var te *tencentim.Error
	return err == nil || errors.As(err, &te) && te.Code != 0
}

// do runs attempt until it succeeds or fails for good. It returns nil; ctx.Err() when
// ctx ends; a *FatalError, for a fatal answer or when the attempts ran out on
// retryable failures (wrapping an *ExhaustedError); or the rejected error as is (a
// *tencentim.Error whose class is ClassRejected, or any error from attempt that is
// not a vendor error).
func (r *retrier) do(ctx context.Context, api tencentim.Command, p *pacer, obs observer, attempt attemptFunc, beforeRetry beforeRetryFunc) error {
	var (
		last error
		// refreshed: the target asked for fresh credentials once already. The
		// client dropped the stale UserSig, so the resend signs a new one; it
		// waits for the pacer like any attempt, but without a backoff (spec
		// §1.9). A second such answer is fatal, as its class says.
		refreshed, resend bool
		// throttled counts the rate-limit answers in a row.
		throttled int
	)
	for n := 1; ; n++ {
		if n > 1 && !resend {
			// A lone rate-limit answer is retried without a backoff: the pacer is
			// its backoff (it lowers the rate when such answers are not
			// sporadic), and a sleep would add ~100 ms to the stream of every
			// sporadic 60007 — 15 % on the longest stream at 50 ms round trips
			// with 5 % of them. From the second in a row the call backs off as
			// any retry does (spec §1.9), so that a burst of them (a spike of
			// the app's live traffic) is ridden out, not burnt through in a few
			// round trips.
			if !tencentim.IsRateLimit(last) || throttled > 1 {
				if err := r.sleep(ctx, r.backoff.delay(n-1)); err != nil {
					return err
				}
			}
			if beforeRetry != nil {
				if err := beforeRetry(ctx, last); err != nil {
					return r.settle(ctx, api, err, n)
				}
			}
		}
		resend = false
		sent, err := p.wait(ctx)
		if err != nil {
			return err
		}
		err = attempt(ctx)
		var rtt time.Duration
		if answer(err) {
			rtt = p.now().Sub(sent)
			p.answered(sent, tencentim.IsRateLimit(err))
		}
		if obs != nil {
			obs.attempted(err, n > 1, rtt)
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		last = err
		if tencentim.IsRateLimit(err) {
			throttled++
		} else {
			throttled = 0
		}
		if tencentim.NeedsRefresh(err) && !refreshed {
			refreshed, resend = true, true
			continue
		}
		if tencentim.Classify(err) != tencentim.ClassRetryable {
			return r.settle(ctx, api, err, n)
		}
		if n >= r.maxAttempts {
			return newExhausted(api, n, err)
		}
	}
}

// settle turns a non-retryable failure into do's result.
func (r *retrier) settle(ctx context.Context, api tencentim.Command, err error, n int) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var fe *FatalError
	switch {
	case errors.As(err, &fe):
		return err
	case errors.Is(err, context.Canceled):
		return err
	}
	switch tencentim.Classify(err) {
	case tencentim.ClassFatal:
		return newFatal(api, err)
	case tencentim.ClassRetryable:
		// Only reachable from beforeRetry, whose own calls retried already.
		return newExhausted(api, n, err)
	}
	return err
}

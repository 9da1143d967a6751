package load

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

func TestBackoffBounds(t *testing.T) {
	tests := []struct {
		retry   int
		draw    float64
		want    time.Duration
		ceiling time.Duration
	}{
		{1, 0, 0, 200 * time.Millisecond},
		{1, 0.5, 100 * time.Millisecond, 200 * time.Millisecond},
		{2, 0.5, 200 * time.Millisecond, 400 * time.Millisecond},
		{3, 0.25, 200 * time.Millisecond, 800 * time.Millisecond},
		{6, 0.5, 3200 * time.Millisecond, 6400 * time.Millisecond},
		{7, 0.5, 5 * time.Second, 10 * time.Second}, // 12.8 s capped at 10 s
		{8, 0.999, 9990 * time.Millisecond, 10 * time.Second},
		{70, 0.5, 5 * time.Second, 10 * time.Second}, // no overflow far out
		{0, 1, 200 * time.Millisecond, 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(time.Duration(tt.retry).String(), func(t *testing.T) {
			b := backoff{base: backoffBase, cap: backoffCap, rand: func() float64 { return tt.draw }}
			if got := b.ceiling(tt.retry); got != tt.ceiling {
				t.Errorf("ceiling(%d) = %v, want %v", tt.retry, got, tt.ceiling)
			}
			if got := b.delay(tt.retry); got != tt.want {
				t.Errorf("delay(%d) with draw %v = %v, want %v", tt.retry, tt.draw, got, tt.want)
			}
		})
	}
}

func TestBackoffJitterStaysInBounds(t *testing.T) {
	b := defaultBackoff()
	for retry := 1; retry <= 12; retry++ {
		c := b.ceiling(retry)
		for range 200 {
			if d := b.delay(retry); d < 0 || d >= c {
				t.Fatalf("delay(%d) = %v, outside [0, %v)", retry, d, c)
			}
		}
	}
}

// recordingObserver records each attempt as (failed, retry).
type recordingObserver struct{ attempts []string }

func (o *recordingObserver) attempted(err error, retry bool, _ time.Duration) {
	s := "ok"
	if err != nil {
		s = "fail"
	}
	if retry {
		s += "/retry"
	}
	o.attempts = append(o.attempts, s)
}

func vendorErr(code int) error {
	return &tencentim.Error{API: tencentim.CmdImportMsg, Code: code, Info: "test"}
}

func TestRetrierOutcomes(t *testing.T) {
	transport := &tencentim.Error{API: tencentim.CmdImportMsg, Err: io.ErrUnexpectedEOF}
	tests := []struct {
		name       string
		errs       []error // attempt i returns errs[i]; nil after the end
		max        int
		wantCalls  int
		wantSleeps int
		// wantAnswers and wantThrottled are what the pacer was told: answers
		// (success or a vendor code; not transport errors or proxy statuses) and
		// rate-limit answers among them.
		wantAnswers, wantThrottled int64
		// skipSleeps is how many retries went without a backoff before the
		// first sleep (the first rate-limit answer's).
		skipSleeps int
		check      func(t *testing.T, err error)
	}{
		{
			name: "success first time", errs: nil, max: 8, wantCalls: 1, wantAnswers: 1,
			check: func(t *testing.T, err error) { mustNil(t, err) },
		},
		{
			name: "retryable then success", errs: []error{vendorErr(91000), transport, &tencentim.Error{API: tencentim.CmdImportMsg, HTTPStatus: 502}},
			max: 8, wantCalls: 4, wantSleeps: 3, wantAnswers: 2, // 91000 and the success
			check: func(t *testing.T, err error) { mustNil(t, err) },
		},
		{
			name: "rejected is returned at once", errs: []error{vendorErr(90010)}, max: 8, wantCalls: 1, wantAnswers: 1,
			check: func(t *testing.T, err error) {
				var te *tencentim.Error
				if !errors.As(err, &te) || te.Code != 90010 {
					t.Fatalf("err = %v, want the 90010 error", err)
				}
			},
		},
		{
			name: "fatal becomes a FatalError with a hint", errs: []error{vendorErr(70009)}, max: 8, wantCalls: 1, wantAnswers: 1,
			check: func(t *testing.T, err error) {
				var fe *FatalError
				if !errors.As(err, &fe) || fe.Code != 70009 {
					t.Fatalf("err = %v, want a FatalError 70009", err)
				}
				if !strings.Contains(err.Error(), "secret_key") || strings.Contains(err.Error(), "\n") {
					t.Fatalf("message %q does not say what to fix in one sentence", err.Error())
				}
			},
		},
		{
			name: "exhausted after max attempts stops the run", errs: []error{vendorErr(70169), vendorErr(70169), vendorErr(70169), vendorErr(70169)},
			max: 3, wantCalls: 3, wantSleeps: 2, wantAnswers: 3,
			check: func(t *testing.T, err error) {
				var fe *FatalError
				if !errors.As(err, &fe) || fe.Code != 70169 || fe.API != tencentim.CmdImportMsg {
					t.Fatalf("err = %v, want a FatalError of importmsg with code 70169", err)
				}
				var ee *ExhaustedError
				if !errors.As(err, &ee) || ee.Attempts != 3 {
					t.Fatalf("err = %v, want ExhaustedError after 3", err)
				}
				var te *tencentim.Error
				if !errors.As(err, &te) || te.Code != 70169 {
					t.Fatalf("exhausted error does not wrap the last error: %v", err)
				}
			},
		},
		{
			// The first is retried at once (the pacer paces it), the second in a
			// row after the backoff of retry 2.
			name: "rate limit answers reach the pacer", errs: []error{vendorErr(60007), vendorErr(60007)},
			max: 8, wantCalls: 3, wantSleeps: 1, wantAnswers: 3, wantThrottled: 2, skipSleeps: 1,
			check: func(t *testing.T, err error) { mustNil(t, err) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sleeps []time.Duration
			r := retrier{
				maxAttempts: tt.max,
				backoff:     backoff{base: backoffBase, cap: backoffCap, rand: func() float64 { return 0.5 }},
				sleep: func(ctx context.Context, d time.Duration) error {
					sleeps = append(sleeps, d)
					return ctx.Err()
				},
			}
			clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
			// Limited, so that the pacer counts answers, but it never waits; the
			// clock stands still, so the window stays open.
			p := newPacer(1e9, clk.now)
			calls := 0
			obs := &recordingObserver{}
			err := r.do(context.Background(), tencentim.CmdImportMsg, p, obs, func(context.Context) error {
				calls++
				if calls <= len(tt.errs) {
					return tt.errs[calls-1]
				}
				return nil
			}, nil)
			tt.check(t, err)
			if calls != tt.wantCalls {
				t.Errorf("attempts = %d, want %d", calls, tt.wantCalls)
			}
			if len(sleeps) != tt.wantSleeps {
				t.Errorf("sleeps = %v, want %d of them", sleeps, tt.wantSleeps)
			}
			for i, d := range sleeps {
				if want := backoffBase << (i + tt.skipSleeps) / 2; d != want {
					t.Errorf("sleep %d = %v, want %v", i, d, want)
				}
			}
			if p.answers != tt.wantAnswers || p.throttled != tt.wantThrottled {
				t.Errorf("pacer saw %d answers, %d throttled; want %d, %d", p.answers, p.throttled, tt.wantAnswers, tt.wantThrottled)
			}
			if len(obs.attempts) != calls || (calls > 1 && !strings.HasSuffix(obs.attempts[1], "/retry")) || strings.HasSuffix(obs.attempts[0], "/retry") {
				t.Errorf("observer saw %v", obs.attempts)
			}
		})
	}
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("err = %v, want nil", err)
	}
}

func TestRetrierBeforeRetry(t *testing.T) {
	errDone := errors.New("nothing left to send")
	tests := []struct {
		name      string
		first     error
		hook      error // what beforeRetry returns
		wantHook  int   // calls of the hook
		wantCalls int
		wantErr   error
	}{
		{"called after an ambiguous failure", &tencentim.Error{API: tencentim.CmdImportGroupMsg, Err: io.EOF}, nil, 1, 2, nil},
		{"its sentinel ends the call", vendorErr(70169), errDone, 1, 1, errDone},
		{"not called without a retry", nil, nil, 0, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := retrier{maxAttempts: 8, backoff: defaultBackoff(), sleep: func(context.Context, time.Duration) error { return nil }}
			var prevs []error
			calls := 0
			err := r.do(context.Background(), tencentim.CmdImportGroupMsg, newPacer(math.Inf(1), nil), nil,
				func(context.Context) error {
					calls++
					if calls == 1 {
						return tt.first
					}
					return nil
				},
				func(_ context.Context, prev error) error {
					prevs = append(prevs, prev)
					return tt.hook
				})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if len(prevs) != tt.wantHook || calls != tt.wantCalls {
				t.Fatalf("hook calls = %d, attempts = %d; want %d, %d", len(prevs), calls, tt.wantHook, tt.wantCalls)
			}
			if tt.wantHook > 0 && prevs[0] != tt.first {
				t.Fatalf("hook got %v, want the first attempt's error", prevs[0])
			}
		})
	}
}

func TestRetrierStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := retrier{maxAttempts: 8, backoff: defaultBackoff(), sleep: sleepCtx}
	calls := 0
	err := r.do(ctx, tencentim.CmdImportMsg, newPacer(math.Inf(1), nil), nil, func(context.Context) error {
		calls++
		cancel()
		return vendorErr(91000)
	}, nil)
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("err = %v after %d attempts, want context.Canceled after 1", err, calls)
	}
}

func TestAmbiguous(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{vendorErr(60007), false},
		{vendorErr(10006), false},
		{vendorErr(70169), true},
		{vendorErr(91000), true},
		{&tencentim.Error{API: tencentim.CmdImportMsg, HTTPStatus: 502}, true},
		{&tencentim.Error{API: tencentim.CmdImportMsg, Err: io.EOF}, true},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			if got := ambiguous(tt.err); got != tt.want {
				t.Fatalf("ambiguous = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFatalHintsAreOneSentenceWithoutSecrets(t *testing.T) {
	for _, code := range []int{0, 70001, 70003, 70009, 70013, 70014, 60006, 60009, 60010, 70398, 10058, 60016, 60021, 70051, 12345} {
		h := fatalHint(tencentim.CmdImportMsg, code)
		t.Run(h, func(t *testing.T) {
			if h == "" || strings.Count(h, ". ") > 0 || strings.Contains(h, "\n") || strings.HasSuffix(h, ".") {
				t.Fatalf("hint %q is not one sentence", h)
			}
			if !strings.Contains(h, ":") {
				t.Fatalf("hint %q does not say what to fix after a colon", h)
			}
		})
	}
}

// TestExhaustedMessage: the FatalError of a call whose attempts ran out names the
// API and the last failure by code, status or kind — never the URL, which carries
// the UserSig — and says to run the same command again, in one sentence.
func TestExhaustedMessage(t *testing.T) {
	const sig = "eJwSECRETSIG"
	withURL := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://adminapisgp.im.qcloud.com/v4/openim/importmsg?usersig=" + sig + "&identifier=admin", Err: err}
	}
	tests := []struct {
		name string
		err  error
		code int
		want string
	}{
		{"vendor code", vendorErr(70169), 70169, "(last: 70169, server timeout) through 8 attempts: check the network and the target's endpoint, then"},
		{"over rate", vendorErr(60007), 60007, "(last: 60007, api call frequency limit exceeded) through 8 attempts: lower load.rates.importmsg, then"},
		{"http status", &tencentim.Error{API: tencentim.CmdImportMsg, HTTPStatus: 503}, 0, "(last: HTTP status 503)"},
		{"connection refused", &tencentim.Error{API: tencentim.CmdImportMsg, Err: withURL(syscall.ECONNREFUSED)}, 0, "(last: a connection error)"},
		{"connection reset", &tencentim.Error{API: tencentim.CmdImportMsg, Err: withURL(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET})}, 0, "(last: a connection error)"},
		{"timeout", &tencentim.Error{API: tencentim.CmdImportMsg, Err: withURL(context.DeadlineExceeded)}, 0, "(last: a timeout)"},
		{"not an answer", &tencentim.Error{API: tencentim.CmdImportMsg, Err: errors.New("decode response: no ActionStatus in the answer")}, 0, "(last: an answer that is not a TIM response)"},
		{"short answer", &tencentim.Error{API: tencentim.CmdImportGroupMsg, Err: errShortAnswer}, 0, "(last: an answer without a result per message)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := error(newExhausted(tencentim.CmdImportMsg, 8, tt.err))
			msg := err.Error()
			for _, w := range []string{"the target kept failing on openim/importmsg ", tt.want, " through 8 attempts: ", "run the same command again to resume"} {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, sig) || strings.Contains(msg, "http") || strings.Contains(msg, "\n") || strings.HasSuffix(msg, ".") {
				t.Errorf("message %q is not one sentence free of URLs and secrets", msg)
			}
			var fe *FatalError
			var ee *ExhaustedError
			if !errors.As(err, &fe) || fe.Code != tt.code || !errors.As(err, &ee) || ee.Attempts != 8 || !errors.Is(err, tt.err) {
				t.Errorf("err %#v: want a FatalError with code %d wrapping the ExhaustedError of the last error", err, tt.code)
			}
		})
	}
}

// TestCredentialRefreshGoesThroughThePacer: an answer asking for fresh
// credentials (spec §1.9) is resent once with a new UserSig — through the engine's
// pacer and retrier, counted as an attempt, not inside the client — and the run
// completes; a target that keeps asking stops the run with the fatal hint.
func TestCredentialRefreshGoesThroughThePacer(t *testing.T) {
	src := buildDataset(t, dataSpec{users: 12, convs: 6, convMsgs: 5})
	tg := newTarget(t, func(c *sandbox.Config) {
		c.Faults = []sandbox.Fault{{Command: tencentim.CmdImportMsg, Nth: 4, Kind: sandbox.FaultCode, Code: 70001}}
	})
	// One call at a time, so that a resend is the call after the refused one and
	// never another 4th.
	sum, err := runEngine(t, tg, src, Config{Rates: highRates(), UseMultiAccount: true, Streams: 1, Workers: 1})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkState(t, tg.srv.State(), src, nil)
	api := sum.APIs[tencentim.CmdImportMsg.String()]
	n := int64(len(src.direct))
	// Every 4th call is answered 70001: n messages take n + n/3 attempts.
	if want := n + n/3; api.Calls != want || api.Retries != n/3 || api.Failed != n/3 {
		t.Errorf("importmsg: %d calls, %d retries, %d failed; want %d, %d, %d", api.Calls, api.Retries, api.Failed, want, n/3, n/3)
	}

	always := newTarget(t, func(c *sandbox.Config) {
		c.Faults = []sandbox.Fault{{Command: tencentim.CmdAccountImport, Nth: 1, Kind: sandbox.FaultCode, Code: 70001}}
	})
	sum, err = runEngine(t, always, buildDataset(t, dataSpec{users: 3, nicks: 3}), Config{Rates: highRates(), UseMultiAccount: true})
	var fe *FatalError
	if !errors.As(err, &fe) || fe.Code != 70001 {
		t.Fatalf("Run against a target that always answers 70001: %v, want a fatal 70001", err)
	}
	if a := sum.APIs[tencentim.CmdAccountImport.String()]; a == nil || a.Calls < 2 {
		t.Errorf("account_import attempts: %+v, want the first and its one refreshed resend", a)
	}
}

package tencentim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"
)

// wantClass lists every documented code (spec §1.6, §1.7, §1.8, Appendix A) with
// the class design §5 and spec §1.9 give it. It is written out here, not derived from
// the table in errors.go, so that a change there must be made twice.
var wantClass = map[int]Class{
	// §1.6 common codes.
	60002: ClassRejected, 60003: ClassRejected,
	60004: ClassFatal, 60005: ClassFatal, 60006: ClassFatal,
	60007: ClassRetryable, 60008: ClassRetryable,
	60009: ClassFatal, 60010: ClassFatal,
	60011: ClassRetryable, 60012: ClassFatal,
	60013: ClassRetryable, 60014: ClassRetryable,
	60015: ClassRejected, 60016: ClassFatal, 60017: ClassFatal,
	60018: ClassRetryable, 60019: ClassRetryable,
	60020: ClassFatal, 60021: ClassFatal,
	// §1.8 UserSig and account codes.
	70001: ClassFatal, 70002: ClassFatal, 70003: ClassFatal, 70009: ClassFatal,
	70013: ClassFatal, 70014: ClassFatal, 70016: ClassFatal, 70020: ClassFatal,
	70050: ClassRetryable, 70051: ClassFatal,
	70107: ClassRejected, 70169: ClassRetryable, 70202: ClassRetryable,
	70398: ClassFatal, 70402: ClassRejected, 70403: ClassFatal,
	70500: ClassRetryable, 71000: ClassRejected,
	// Group codes.
	10001: ClassFatal, 10002: ClassRetryable, 10003: ClassRejected, 10004: ClassRejected,
	10005: ClassRejected, 10006: ClassRetryable, 10007: ClassRejected, 10008: ClassFatal,
	10010: ClassRejected, 10014: ClassRejected, 10015: ClassRejected, 10016: ClassRejected,
	10018: ClassRejected, 10019: ClassRejected, 10020: ClassRejected, 10021: ClassRejected,
	10023: ClassRetryable, 10025: ClassRejected, 10036: ClassRejected, 10037: ClassRejected,
	10038: ClassRejected, 10058: ClassFatal, 11000: ClassRejected,
	// C2C 20xxx.
	20001: ClassRejected, 20002: ClassFatal, 20003: ClassRejected,
	20004: ClassRetryable, 20005: ClassRetryable, 20006: ClassRejected,
	// Friends.
	30001: ClassRejected, 30002: ClassRejected, 30003: ClassRejected, 30004: ClassFatal,
	30006: ClassRetryable, 30007: ClassRetryable, 30008: ClassRetryable,
	30010: ClassRejected, 30011: ClassRejected,
	// Profiles.
	40001: ClassRejected, 40002: ClassRejected, 40003: ClassRejected, 40004: ClassFatal,
	40006: ClassRetryable, 40007: ClassRejected, 40008: ClassRejected, 40009: ClassRejected,
	40601: ClassRejected, 40605: ClassRejected, 40610: ClassRejected,
	// Recent contacts.
	50001: ClassRejected, 50002: ClassRejected, 50003: ClassFatal,
	50004: ClassRetryable, 50005: ClassRetryable,
	// Content security.
	80001: ClassRejected, 80002: ClassRejected, 80005: ClassRetryable,
	// C2C import.
	90001: ClassRejected, 90002: ClassRejected, 90003: ClassRejected, 90005: ClassRejected,
	90006: ClassRejected, 90007: ClassRejected, 90008: ClassRejected, 90009: ClassFatal,
	90010: ClassRejected, 90011: ClassRejected, 90012: ClassRejected, 90026: ClassRejected,
	90030: ClassRejected, 90048: ClassRejected, 90992: ClassRetryable, 91000: ClassRetryable,
	93000: ClassRejected,
}

var rateLimitCodes = map[int]bool{60007: true, 60011: true, 60018: true, 60019: true, 10006: true, 70050: true, 10023: true}

func TestClassifyCode(t *testing.T) {
	for code, want := range wantClass {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			if got := ClassifyCode(code); got != want {
				t.Errorf("ClassifyCode(%d) = %v, want %v", code, got, want)
			}
			err := &Error{API: CmdImportMsg, Code: code, Info: "x"}
			if got := Classify(err); got != want {
				t.Errorf("Classify(*Error{%d}) = %v, want %v", code, got, want)
			}
			if got := Classify(fmt.Errorf("import: %w", err)); got != want {
				t.Errorf("Classify(wrapped %d) = %v, want %v", code, got, want)
			}
			if got := IsRetryable(err); got != (want == ClassRetryable) {
				t.Errorf("IsRetryable(%d) = %v", code, got)
			}
			if got := IsRateLimit(err); got != rateLimitCodes[code] {
				t.Errorf("IsRateLimit(%d) = %v, want %v", code, got, rateLimitCodes[code])
			}
			if text := CodeText(code); text == "" || text == "undocumented error code" {
				t.Errorf("CodeText(%d) = %q", code, text)
			}
		})
	}
}

// Every code the classification table knows is in the test table above, so that
// no classification goes untested.
func TestClassificationTableCovered(t *testing.T) {
	for code := range codes {
		if _, ok := wantClass[code]; !ok {
			t.Errorf("code %d is classified in errors.go but not tested", code)
		}
	}
	for code := range rateLimitCodes {
		if ClassifyCode(code) != ClassRetryable {
			t.Errorf("rate-limit code %d is not retryable", code)
		}
	}
}

func TestClassifyCodeUndocumented(t *testing.T) {
	tests := []struct {
		code int
		want Class
	}{
		{0, ClassNone},
		{12345, ClassRejected}, // spec §1.9: everything else is do-not-retry
		{-1, ClassRejected},
		{99999, ClassRejected},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			if got := ClassifyCode(tt.code); got != tt.want {
				t.Errorf("ClassifyCode(%d) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
	if got := CodeText(12345); got != "undocumented error code" {
		t.Errorf("CodeText(12345) = %q", got)
	}
	if got := CodeText(0); got != "ok" {
		t.Errorf("CodeText(0) = %q", got)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassifyNonCodeErrors(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, ClassNone},
		{"http 502", &Error{API: CmdImportGroup, HTTPStatus: 502}, ClassRetryable},
		{"http 404", &Error{API: CmdImportGroup, HTTPStatus: 404}, ClassRetryable},
		{"connection refused", &Error{API: CmdImportGroup, Err: &url.Error{Op: "Post", URL: "x", Err: refused}}, ClassRetryable},
		{"timeout", &Error{API: CmdImportGroup, Err: &url.Error{Op: "Post", URL: "x", Err: timeoutErr{}}}, ClassRetryable},
		{"deadline", &Error{API: CmdImportGroup, Err: context.DeadlineExceeded}, ClassRetryable},
		{"reset while reading", &Error{API: CmdImportGroup, Err: fmt.Errorf("read response: %w", syscall.ECONNRESET)}, ClassRetryable},
		{"undecodable body", &Error{API: CmdImportGroup, Err: fmt.Errorf("decode response: %w", io.ErrUnexpectedEOF)}, ClassRetryable},
		{"cancelled by caller", &Error{API: CmdImportGroup, Err: &url.Error{Op: "Post", URL: "x", Err: context.Canceled}}, ClassFatal},
		{"bare cancel", context.Canceled, ClassFatal},
		{"request cannot be encoded", &Error{API: CmdImportMsg, Err: fmt.Errorf("%w: %w", errEncodeRequest, &json.UnsupportedValueError{Str: "NaN"})}, ClassRejected},
		{"bare net error", refused, ClassRetryable},
		{"bare unexpected eof", fmt.Errorf("x: %w", io.ErrUnexpectedEOF), ClassRetryable},
		{"unrelated error", errors.New("something else"), ClassRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
			if IsRateLimit(tt.err) {
				t.Errorf("IsRateLimit(%v) = true", tt.err)
			}
		})
	}
}

func TestClassString(t *testing.T) {
	tests := []struct {
		c    Class
		want string
	}{
		{ClassNone, "none"}, {ClassRetryable, "retryable"}, {ClassRejected, "rejected"}, {ClassFatal, "fatal"}, {Class(42), "Class(42)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.c.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	const sig = "eJyrVkrxCdYrSy1SslIyUtIBAA__"
	leaky := &url.Error{
		Op:  "Post",
		URL: "https://console.tim.qq.com/v4/openim/importmsg?sdkappid=1&identifier=admin&usersig=" + sig + "&random=1&contenttype=json",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED},
	}
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{
			name: "vendor code",
			err:  &Error{API: CmdImportGroup, Code: 10004, Info: "GroupId is invalid"},
			want: "tencentim: group_open_http_svc/import_group: 10004 (invalid parameter): GroupId is invalid",
		},
		{
			name: "vendor code without info",
			err:  &Error{API: CmdImportMsg, Code: 91000},
			want: "tencentim: openim/importmsg: 91000 (internal server error)",
		},
		{
			name: "http status",
			err:  &Error{API: CmdImportMsg, HTTPStatus: 502},
			want: "tencentim: openim/importmsg: http status 502",
		},
		{
			name: "redacted url error",
			err:  &Error{API: CmdImportMsg, Err: redactURLError(leaky)},
			want: `tencentim: openim/importmsg: Post "https://console.tim.qq.com/v4/openim/importmsg": dial tcp: connection refused`,
		},
		{
			name: "url error that was not redacted is still scrubbed",
			err:  &Error{API: CmdImportMsg, Err: leaky},
		},
		{
			name: "server echoing the query",
			err:  &Error{API: CmdImportMsg, Code: 60002, Info: "bad url ?usersig=" + sig + "&random=3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.err.Error()
			if tt.want != "" && got != tt.want {
				t.Errorf("Error() = %q\nwant      %q", got, tt.want)
			}
			if strings.Contains(got, sig) || strings.Contains(strings.ToLower(got), "usersig=") {
				t.Errorf("Error() leaks the usersig: %q", got)
			}
		})
	}
}

func TestErrorUnwrap(t *testing.T) {
	inner := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	err := error(&Error{API: CmdImportMsg, Err: redactURLError(&url.Error{Op: "Post", URL: "http://h/p?usersig=s", Err: inner})})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Error("errors.Is does not reach the syscall error")
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Fatal("errors.As does not find the *url.Error")
	}
	if ue.URL != "http://h/p" {
		t.Errorf("URL = %q, want the query stripped", ue.URL)
	}
	var e *Error
	if !errors.As(fmt.Errorf("outer: %w", err), &e) || e.API != CmdImportMsg {
		t.Errorf("errors.As(*Error) = %v", e)
	}
}

package tencentim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"syscall"
)

// Error is a failed call: either the vendor answered with a non-zero ErrorCode, or
// the call did not produce a usable answer (HTTP status other than 200, connection
// or timeout error, undecodable body).
//
// Its message never contains the secret key, a UserSig or the request URL's query:
// the client strips the query from *url.Error before wrapping it, and Error scrubs
// anything that still looks like a usersig parameter.
type Error struct {
	API        Command
	Code       int    // vendor ErrorCode; 0 for transport errors
	Info       string // vendor ErrorInfo
	HTTPStatus int    // non-200 status, 0 otherwise
	Err        error  // underlying transport/decoding error, if any
}

func (e *Error) Error() string {
	var msg string
	switch {
	case e.Code != 0:
		msg = fmt.Sprintf("tencentim: %s: %d (%s)", e.API, e.Code, CodeText(e.Code))
		if e.Info != "" {
			msg += ": " + e.Info
		}
	case e.HTTPStatus != 0:
		msg = fmt.Sprintf("tencentim: %s: http status %d", e.API, e.HTTPStatus)
		if e.Err != nil {
			msg += ": " + e.Err.Error()
		}
	case e.Err != nil:
		msg = fmt.Sprintf("tencentim: %s: %v", e.API, e.Err)
	default:
		msg = fmt.Sprintf("tencentim: %s: failed", e.API)
	}
	return scrub(msg)
}

func (e *Error) Unwrap() error { return e.Err }

// usersigParam matches a usersig query parameter and its value wherever it might
// appear: a URL that slipped into a transport error, or a server echoing the request.
var usersigParam = regexp.MustCompile(`(?i)usersig=[^&\s"']*`)

func scrub(s string) string { return usersigParam.ReplaceAllString(s, "[redacted]") }

// redactURLError replaces the URL inside a *url.Error (which carries the usersig in
// its query) with scheme://host/path, keeping the error's type so that errors.As and
// Timeout() still work for callers.
func redactURLError(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	safe := ue.URL
	if u, perr := url.Parse(ue.URL); perr == nil {
		u.RawQuery, u.ForceQuery, u.Fragment, u.User = "", false, "", nil
		safe = u.String()
	} else {
		safe = "[redacted url]"
	}
	return &url.Error{Op: ue.Op, URL: safe, Err: ue.Err}
}

// Class is what a caller should do about a failed call (design §5).
type Class int

const (
	// ClassNone is the class of a nil error and of ErrorCode 0.
	ClassNone Class = iota
	// ClassRetryable: try the same request again later, with backoff.
	ClassRetryable
	// ClassRejected: the request (usually one record) is wrong; reject it and go on.
	ClassRejected
	// ClassFatal: authentication, permission or configuration; stop the run.
	ClassFatal
)

func (c Class) String() string {
	switch c {
	case ClassNone:
		return "none"
	case ClassRetryable:
		return "retryable"
	case ClassRejected:
		return "rejected"
	case ClassFatal:
		return "fatal"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

type codeInfo struct {
	class     Class
	rateLimit bool
	text      string
}

// codes classifies every error code the spec digest documents (Appendix A, §1.6,
// §1.7, §1.8). Design §5 is authoritative, then spec §1.9. Codes not listed here are
// rejected: spec §1.9 "do not retry (fix input or configuration): everything else".
var codes = map[int]codeInfo{
	// RESTful common codes (spec §1.6).
	60002: {ClassRejected, false, "http parse error in the request url"},    // malformed request: fix it, do not resend it
	60003: {ClassRejected, false, "json parse error in the request body"},   // the body of this request is bad
	60004: {ClassFatal, false, "account or signature error"},                // §1.9: refresh the UserSig and retry once (client), then stop
	60005: {ClassFatal, false, "account or signature error"},                // as 60004
	60006: {ClassFatal, false, "invalid sdkappid"},                          // configuration
	60007: {ClassRetryable, true, "api call frequency limit exceeded"},      // design §7 A24
	60008: {ClassRetryable, false, "service request timeout"},               // "check and try again"
	60009: {ClassFatal, false, "request resource error; check the url"},     // wrong endpoint: every call would fail
	60010: {ClassFatal, false, "request requires app admin permission"},     // the configured admin is not an app admin
	60011: {ClassRetryable, true, "sdkappid request frequency exceeded"},    // design §7 A24
	60012: {ClassFatal, false, "sdkappid missing from the url"},             // configuration
	60013: {ClassRetryable, false, "json parse error in the response body"}, // server-side, transient
	60014: {ClassRetryable, false, "account switching timeout"},             // transient
	60015: {ClassRejected, false, "invalid account type in the request"},    // accounts must be strings: a record problem
	60016: {ClassFatal, false, "sdkappid is disabled"},
	60017: {ClassFatal, false, "request is disabled"},
	60018: {ClassRetryable, true, "too many requests"}, // design §7 A24
	60019: {ClassRetryable, true, "too many requests"}, // design §7 A24
	60020: {ClassFatal, false, "standard edition expired and disabled"},
	60021: {ClassFatal, false, "source ip of the rest call is not allowed"},

	// Account and UserSig codes (spec §1.7 7xxxx, §1.8 supplement).
	70001: {ClassFatal, false, "usersig expired"}, // §1.9: refresh and retry once (client), then stop
	70002: {ClassFatal, false, "usersig is empty"},
	70003: {ClassFatal, false, "usersig cannot be parsed"},
	70009: {ClassFatal, false, "usersig verification failed; check the secret key"},
	70013: {ClassFatal, false, "identifier does not match the usersig"},
	70014: {ClassFatal, false, "sdkappid does not match the usersig"},
	70016: {ClassFatal, false, "secret key does not exist"},
	70020: {ClassFatal, false, "sdkappid does not exist"},
	70050: {ClassRetryable, true, "usersig verification failed and frequency limit exceeded"}, // "re-verify after 1 minute"; design §7 A24
	70051: {ClassFatal, false, "account is blacklisted"},                                      // the admin identifier itself is barred
	70107: {ClassRejected, false, "account not imported"},
	70169: {ClassRetryable, false, "server timeout"},
	70202: {ClassRetryable, false, "server timeout"},
	70398: {ClassFatal, false, "account count limit of the edition reached"}, // every further import fails: upgrade the plan
	70402: {ClassRejected, false, "invalid parameters"},
	70403: {ClassFatal, false, "request requires app admin permission"},
	70500: {ClassRetryable, false, "internal server error"},
	71000: {ClassRejected, false, "account deletion not allowed for this plan"},

	// Group codes (spec §1.7 10xxx, §8).
	10001: {ClassFatal, false, "not logged in; check the admin account and usersig"},
	10002: {ClassRetryable, false, "internal server error"},
	10003: {ClassRejected, false, "invalid command word"}, // spec §1.9 do-not-retry list
	10004: {ClassRejected, false, "invalid parameter"},
	10005: {ClassRejected, false, "too many accounts in the request"},
	10006: {ClassRetryable, true, "operation frequency limit"}, // design §7 A24
	// 10007 means "no permission" but also "wrong group type" (e.g. AVChatRoom for
	// import APIs), which is a record problem; the admin case shows up as 60010.
	10007: {ClassRejected, false, "no permission or wrong group type"},
	// 10008 is "signature verification failed" on create_group and "not a Premium
	// edition request" elsewhere: configuration either way.
	10008: {ClassFatal, false, "signature verification failed or edition does not allow the request"},
	10010: {ClassRejected, false, "group does not exist or was disbanded"},
	10014: {ClassRejected, false, "group is full"},
	10015: {ClassRejected, false, "invalid group id"},
	10016: {ClassRejected, false, "rejected by the app backend webhook"},
	// 10018 answers the same request the same way: the caller must page smaller
	// (spec §1.9 "retry after changing the batching"), so resending is useless.
	10018: {ClassRejected, false, "response over 1 MB; request a smaller page"},
	10019: {ClassRejected, false, "user id does not exist"},
	10020: {ClassRejected, false, "message too long"},
	10021: {ClassRejected, false, "group id already used"},         // the engine treats it as "already present" for its own groups (design §4)
	10023: {ClassRetryable, true, "group message frequency limit"}, // spec §1.9 rate-limit list
	10025: {ClassRejected, false, "group id already used by you"},
	10036: {ClassRejected, false, "audio-video group count limit reached"}, // only AVChatRoom groups are affected
	10037: {ClassRejected, false, "user joined too many groups or topic quota exceeded"},
	10038: {ClassRejected, false, "member count over the limit"},
	10058: {ClassFatal, false, "developer edition group quota exceeded"}, // every further group fails: upgrade the plan
	11000: {ClassRejected, false, "group does not support topics"},

	// One-to-one message codes (spec §1.7 20xxx, §7).
	20001: {ClassRejected, false, "invalid request"},
	20002: {ClassFatal, false, "usersig expired"}, // §1.9: refresh and retry once (client), then stop
	20003: {ClassRejected, false, "invalid or not imported user id"},
	20004: {ClassRetryable, false, "network error"},
	20005: {ClassRetryable, false, "internal server error"},
	20006: {ClassRejected, false, "blocked by the pre-send webhook"},

	// Relationship-chain codes (spec §1.7 30xxx, §5).
	30001: {ClassRejected, false, "invalid parameter"},
	30002: {ClassRejected, false, "sdkappid mismatch"},
	30003: {ClassRejected, false, "account does not exist"},
	30004: {ClassFatal, false, "request requires app admin permission"},
	30006: {ClassRetryable, false, "internal server error"},
	30007: {ClassRetryable, false, "server timeout"},
	// A write conflict between concurrent writes to one user's friend list; resending
	// later succeeds (spec §1.9 "retry after changing batching").
	30008: {ClassRetryable, false, "write conflict from concurrent writes"},
	30010: {ClassRejected, false, "friend list is full"},
	30011: {ClassRejected, false, "friend list group limit reached"},

	// Profile codes (spec §1.7 40xxx, §4).
	40001: {ClassRejected, false, "invalid parameter"},
	40002: {ClassRejected, false, "to_account not given"},
	40003: {ClassRejected, false, "account does not exist"},
	40004: {ClassFatal, false, "request requires app admin permission"},
	40006: {ClassRetryable, false, "internal server error"},
	40007: {ClassRejected, false, "no permission to read the field"},
	40008: {ClassRejected, false, "no permission to write the field"},
	40009: {ClassRejected, false, "profile tag does not exist"},
	40601: {ClassRejected, false, "profile value over 500 bytes"},
	40605: {ClassRejected, false, "invalid standard profile field value"},
	40610: {ClassRejected, false, "invalid standard profile field value type"},

	// Recent-contact codes (spec §1.7 50xxx, §9).
	50001: {ClassRejected, false, "user id not imported"},
	50002: {ClassRejected, false, "invalid parameter"},
	50003: {ClassFatal, false, "request requires app admin permission"},
	50004: {ClassRetryable, false, "internal server error"},
	50005: {ClassRetryable, false, "server timeout"},

	// Content-security codes (spec §1.7 80xxx).
	80001: {ClassRejected, false, "content security check failed"},
	80002: {ClassRejected, false, "message content too long"},
	// A timeout of the content check, not a verdict on the content: try again.
	80005: {ClassRetryable, false, "content security check timed out"},

	// C2C import codes (spec §1.7 90xxx, §7.1).
	90001: {ClassRejected, false, "json parse error"},
	90002: {ClassRejected, false, "invalid msgbody"},
	90003: {ClassRejected, false, "to_account missing or not a string"},
	90005: {ClassRejected, false, "msgrandom missing or not an integer"},
	90006: {ClassRejected, false, "msgtimestamp missing or not an integer"},
	90007: {ClassRejected, false, "msgbody is not an array"},
	90008: {ClassRejected, false, "from_account missing or does not exist"},
	90009: {ClassFatal, false, "request requires app admin permission"},
	90010: {ClassRejected, false, "invalid message format"},
	90011: {ClassRejected, false, "more than 500 recipients"},
	90012: {ClassRejected, false, "to_account does not exist"},
	90026: {ClassRejected, false, "offline retention over 7 days"},
	90030: {ClassRejected, false, "syncfromoldsystem missing or not an integer"},
	90048: {ClassRejected, false, "account does not exist"},
	90992: {ClassRetryable, false, "internal server error"},
	91000: {ClassRetryable, false, "internal server error"},
	93000: {ClassRejected, false, "json packet over 12 KB"},
}

// CodeText is a short human meaning of a vendor error code.
func CodeText(code int) string {
	if code == 0 {
		return "ok"
	}
	if ci, ok := codes[code]; ok {
		return ci.text
	}
	return "undocumented error code"
}

// ClassifyCode classifies a vendor ErrorCode (also usable for per-item codes such as
// ImportMsgResult.Result). Undocumented codes are rejected (spec §1.9).
func ClassifyCode(code int) Class {
	if code == 0 {
		return ClassNone
	}
	if ci, ok := codes[code]; ok {
		return ci.class
	}
	return ClassRejected
}

// Classify is the one classification point of the project (design §5). Vendor codes
// go through ClassifyCode; an HTTP status other than 200, a timeout, a connection
// error or an undecodable answer is retryable; a cancelled context is fatal (the
// caller is stopping); any other error that did not come from a call (e.g. a request
// that cannot be encoded) is rejected.
func Classify(err error) Class {
	if err == nil {
		return ClassNone
	}
	if errors.Is(err, context.Canceled) {
		return ClassFatal
	}
	var e *Error
	if errors.As(err, &e) {
		switch {
		case e.Code != 0:
			return ClassifyCode(e.Code)
		case errors.Is(e.Err, errEncodeRequest):
			return ClassRejected
		default:
			// HTTP status, transport or decoding failure: all transient (design §5).
			return ClassRetryable
		}
	}
	if isTransportError(err) {
		return ClassRetryable
	}
	return ClassRejected
}

func isTransportError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE)
}

// IsRetryable reports whether err is worth retrying with backoff.
func IsRetryable(err error) bool { return Classify(err) == ClassRetryable }

// IsRateLimit reports whether err is an over-rate answer, so that the caller lowers
// its rate as well as backing off (design §7 A24; 10023 from spec §1.9).
func IsRateLimit(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return codes[e.Code].rateLimit
}

// refreshCodes are the answers after which the client regenerates its UserSig and
// retries the call once (spec §1.9 "refresh credentials, then retry once").
func isRefreshCode(code int) bool {
	switch code {
	case 70001, 60004, 60005, 20002:
		return true
	}
	return false
}

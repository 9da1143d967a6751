package tencentim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/immigrate/immigrate/secret"
)

// These are transport-level tests of the client: URL building, UserSig caching,
// error mapping and failover. The sandbox tests the client end to end.

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: testSignTime} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type recorded struct {
	Method      string
	Path        string
	Query       url.Values
	RawQuery    string
	Body        string
	ContentType string
	Host        string
	Ctx         context.Context // done when the client gives up on the request
}

// recorder is an httptest server that records every request and answers with
// respond (default: an OK envelope).
type recorder struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []recorded
	respond func(n int, r recorded, w http.ResponseWriter)
}

func newRecorder(t *testing.T, respond func(n int, r recorded, w http.ResponseWriter)) *recorder {
	t.Helper()
	rec := &recorder{respond: respond}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r := recorded{
			Method: req.Method, Path: req.URL.Path, Query: req.URL.Query(), RawQuery: req.URL.RawQuery,
			Body: string(body), ContentType: req.Header.Get("Content-Type"), Host: req.Host,
			Ctx: req.Context(),
		}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, r)
		n := len(rec.reqs)
		rec.mu.Unlock()
		if rec.respond != nil {
			rec.respond(n, r, w)
			return
		}
		io.WriteString(w, `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

func newTestClient(t *testing.T, endpoint string, clock *fakeClock, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		SDKAppID:  testAppID,
		SecretKey: secret.New(testKey),
		Admin:     testAdmin,
		Endpoint:  endpoint,
	}
	if clock != nil {
		cfg.Now = clock.Now
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// assertNoSecrets fails if err's message carries the key, a UserSig or a usersig
// parameter.
func assertNoSecrets(t *testing.T, err error, sigs ...string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if strings.Contains(msg, testKey) {
		t.Errorf("error leaks the secret key: %q", msg)
	}
	if strings.Contains(strings.ToLower(msg), "usersig=") {
		t.Errorf("error contains usersig=: %q", msg)
	}
	for _, s := range sigs {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error leaks a usersig: %q", msg)
		}
	}
}

func TestCallRequestShape(t *testing.T) {
	rec := newRecorder(t, nil)
	clock := newFakeClock()
	c := newTestClient(t, rec.URL, clock, nil)
	ctx := context.Background()

	tests := []struct {
		name     string
		call     func() error
		wantPath string
		wantBody string
	}{
		{"nil request", func() error { return c.Call(ctx, CmdGetAppIDGroupList, nil, nil) }, "/v4/group_open_http_svc/get_appid_group_list", "{}"},
		{"typed nil request", func() error {
			_, err := c.GetAppIDGroupList(ctx, nil)
			return err
		}, "/v4/group_open_http_svc/get_appid_group_list", "{}"},
		{"request fields", func() error {
			_, err := c.AccountImport(ctx, &AccountImportRequest{UserID: "u1", Nick: "N"})
			return err
		}, "/v4/im_open_login_svc/account_import", `{"UserID":"u1","Nick":"N"}`},
		{"raw body", func() error { return c.CallRaw(ctx, CmdImportMsg, []byte(`{"x":`), nil) }, "/v4/openim/importmsg", `{"x":`},
		{"raw empty body", func() error { return c.CallRaw(ctx, CmdImportMsg, nil, nil) }, "/v4/openim/importmsg", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err != nil {
				t.Fatalf("call: %v", err)
			}
			reqs := rec.requests()
			if len(reqs) != i+1 {
				t.Fatalf("%d requests recorded, want %d", len(reqs), i+1)
			}
			r := reqs[i]
			if r.Method != http.MethodPost {
				t.Errorf("method = %s, want POST", r.Method)
			}
			if r.Path != tt.wantPath {
				t.Errorf("path = %s, want %s", r.Path, tt.wantPath)
			}
			if r.Body != tt.wantBody {
				t.Errorf("body = %q, want %q", r.Body, tt.wantBody)
			}
			if r.ContentType != "application/json" {
				t.Errorf("Content-Type = %q", r.ContentType)
			}
			checkQuery(t, r.Query, clock.Now())
		})
	}
}

// checkQuery checks the query parameters of spec §1.1.
func checkQuery(t *testing.T, q url.Values, now time.Time) {
	t.Helper()
	wantKeys := []string{"contenttype", "identifier", "random", "sdkappid", "usersig"}
	if len(q) != len(wantKeys) {
		t.Errorf("query has %d parameters, want %v", len(q), wantKeys)
	}
	for _, k := range wantKeys {
		if len(q[k]) != 1 {
			t.Errorf("query parameter %s appears %d times, want once", k, len(q[k]))
		}
	}
	if got := q.Get("sdkappid"); got != strconv.FormatInt(testAppID, 10) {
		t.Errorf("sdkappid = %q", got)
	}
	if got := q.Get("identifier"); got != testAdmin {
		t.Errorf("identifier = %q", got)
	}
	if got := q.Get("contenttype"); got != "json" {
		t.Errorf("contenttype = %q", got)
	}
	if _, err := strconv.ParseUint(q.Get("random"), 10, 32); err != nil {
		t.Errorf("random %q is not a uint32: %v", q.Get("random"), err)
	}
	if err := VerifyUserSig(testAppID, secret.New(testKey), testAdmin, q.Get("usersig"), now); err != nil {
		t.Errorf("usersig does not verify: %v", err)
	}
}

func TestRandomDiffersBetweenCalls(t *testing.T) {
	rec := newRecorder(t, nil)
	c := newTestClient(t, rec.URL, newFakeClock(), nil)
	const calls = 50
	for range calls {
		if err := c.Call(context.Background(), CmdImportMsg, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, r := range rec.requests() {
		seen[r.Query.Get("random")] = true
	}
	if len(seen) != calls {
		t.Errorf("%d distinct random values over %d calls", len(seen), calls)
	}
}

func TestURL(t *testing.T) {
	clock := newFakeClock()
	c := newTestClient(t, "https://console.tim.qq.com/", clock, func(cfg *Config) { cfg.Admin = "admin x&y" })
	raw := c.URL(CmdImportGroupMsg)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" || u.Host != "console.tim.qq.com" || u.Path != "/v4/group_open_http_svc/import_group_msg" {
		t.Errorf("URL = %s", raw)
	}
	q := u.Query()
	if q.Get("identifier") != "admin x&y" {
		t.Errorf("identifier not escaped: %s", raw)
	}
	if err := VerifyUserSig(testAppID, secret.New(testKey), "admin x&y", q.Get("usersig"), clock.Now()); err != nil {
		t.Errorf("usersig: %v", err)
	}
	// The order of spec §1.1, for people comparing with the vendor's examples.
	var order []string
	for _, kv := range strings.Split(u.RawQuery, "&") {
		order = append(order, strings.SplitN(kv, "=", 2)[0])
	}
	if got, want := strings.Join(order, ","), "sdkappid,identifier,usersig,random,contenttype"; got != want {
		t.Errorf("parameter order = %s, want %s", got, want)
	}
	if c.BaseURL() != "https://console.tim.qq.com" {
		t.Errorf("BaseURL = %s", c.BaseURL())
	}
}

func TestUserSigCachedAndRenewed(t *testing.T) {
	tests := []struct {
		name    string
		ttl     time.Duration
		renewAt time.Duration // elapsed time from which a new UserSig is due
	}{
		{"default 24h renews an hour before expiry", 0, 23 * time.Hour},
		{"2h renews at a quarter before expiry", 2 * time.Hour, 90 * time.Minute},
		{"8h renews an hour before expiry", 8 * time.Hour, 7 * time.Hour},
		{"1m renews 15s before expiry", time.Minute, 45 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, nil)
			clock := newFakeClock()
			c := newTestClient(t, rec.URL, clock, func(cfg *Config) { cfg.UserSigTTL = tt.ttl })
			ttl := tt.ttl
			if ttl == 0 {
				ttl = DefaultUserSigTTL
			}
			call := func() string {
				t.Helper()
				if err := c.Call(context.Background(), CmdImportMsg, nil, nil); err != nil {
					t.Fatal(err)
				}
				reqs := rec.requests()
				sig := reqs[len(reqs)-1].Query.Get("usersig")
				if err := VerifyUserSig(testAppID, secret.New(testKey), testAdmin, sig, clock.Now()); err != nil {
					t.Fatalf("usersig sent at +%v does not verify: %v", clock.Now().Sub(testSignTime), err)
				}
				return sig
			}

			first := call()
			claims, _, err := DecodeUserSig(first)
			if err != nil {
				t.Fatal(err)
			}
			if claims.Expire != ttl || !claims.Time.Equal(testSignTime) {
				t.Errorf("claims = %+v, want time %v and expiry %v", claims, testSignTime, ttl)
			}
			if again := call(); again != first {
				t.Error("usersig regenerated at the same instant; want it cached")
			}
			clock.Advance(tt.renewAt - time.Second)
			if again := call(); again != first {
				t.Errorf("usersig regenerated at +%v, before the renewal point", tt.renewAt-time.Second)
			}
			clock.Advance(time.Second)
			renewed := call()
			if renewed == first {
				t.Fatalf("usersig not renewed at +%v", tt.renewAt)
			}
			rc, _, err := DecodeUserSig(renewed)
			if err != nil {
				t.Fatal(err)
			}
			if !rc.Time.Equal(testSignTime.Add(tt.renewAt)) {
				t.Errorf("renewed usersig signed at %v, want %v", rc.Time, testSignTime.Add(tt.renewAt))
			}
		})
	}
}

// The server of this test verifies each UserSig at the moment it arrives while the
// clock moves; run with -race.
//
// The clock moves 50 minutes in all: past the renewal point of a 1-hour UserSig
// (45 minutes), so renewals race with calls, but never past the validity of any
// UserSig signed during the test, whatever the scheduling. (A longer total let a
// burst of clock moves expire a call's UserSig and then its refreshed one while
// both were in flight: one call in three failed under -race on a busy machine.)
func TestConcurrentCalls(t *testing.T) {
	clock := newFakeClock()
	key := secret.New(testKey)
	var bad atomic.Int64
	rec := newRecorder(t, func(_ int, r recorded, w http.ResponseWriter) {
		if err := VerifyUserSig(testAppID, key, testAdmin, r.Query.Get("usersig"), clock.Now()); err != nil {
			bad.Add(1)
			io.WriteString(w, `{"ActionStatus":"FAIL","ErrorCode":70001,"ErrorInfo":"expired"}`)
			return
		}
		io.WriteString(w, `{"ActionStatus":"OK","ErrorCode":0,"FailAccounts":["`+r.Query.Get("random")+`"]}`)
	})
	c := newTestClient(t, rec.URL, clock, func(cfg *Config) { cfg.UserSigTTL = time.Hour })

	const workers, perWorker = 100, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				if w%50 == 0 && i%2 == 0 {
					// Two workers move the clock, 10 × 5 minutes in all.
					clock.Advance(5 * time.Minute)
				}
				resp, err := c.MultiAccountImport(context.Background(), &MultiAccountImportRequest{Accounts: []string{"u"}})
				if err != nil {
					errs <- err
					continue
				}
				if len(resp.FailAccounts) != 1 {
					errs <- fmt.Errorf("response not decoded: %+v", resp)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := bad.Load(); n != 0 {
		t.Errorf("the server refused %d UserSigs; none signed here can expire within 50 minutes", n)
	}
	if got, want := len(rec.requests()), workers*perWorker; got != want {
		t.Errorf("%d requests, want %d: one per call", got, want)
	}
	sigs := map[string]bool{}
	for _, r := range rec.requests() {
		sigs[r.Query.Get("usersig")] = true
	}
	if len(sigs) < 2 {
		t.Errorf("%d distinct UserSigs, want a renewal past 45 minutes", len(sigs))
	}
	if now := clock.Now(); !now.Equal(testSignTime.Add(50 * time.Minute)) {
		t.Errorf("clock moved to %v, want 50 minutes after %v", now, testSignTime)
	}
}

func TestVendorErrorCode(t *testing.T) {
	rec := newRecorder(t, func(_ int, _ recorded, w http.ResponseWriter) {
		io.WriteString(w, `{"ActionStatus":"FAIL","ErrorInfo":"GroupId already used","ErrorCode":10021,"GroupId":"g1"}`)
	})
	c := newTestClient(t, rec.URL, newFakeClock(), nil)
	resp, err := c.ImportGroup(context.Background(), &ImportGroupRequest{Type: GroupPublic, GroupID: "g1", Name: "n"})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if e.Code != 10021 || e.Info != "GroupId already used" || e.API != CmdImportGroup || e.HTTPStatus != 0 {
		t.Errorf("error = %+v", e)
	}
	if resp == nil {
		t.Fatal("response is nil; want it decoded with the error")
	}
	if resp.ErrorCode != 10021 || resp.ActionStatus != ActionFail || resp.GroupID != "g1" {
		t.Errorf("response = %+v", resp)
	}
	if Classify(err) != ClassRejected {
		t.Errorf("class = %v", Classify(err))
	}
	if len(rec.requests()) != 1 {
		t.Errorf("%d requests; a rejected answer must not be retried", len(rec.requests()))
	}
	assertNoSecrets(t, err, rec.requests()[0].Query.Get("usersig"))
}

// A get_group_info refused as a whole (no GroupInfo entries) is still an error:
// only a top-level code next to per-group entries is meaningless (spec §1.4).
func TestGetGroupInfoRequestLevelError(t *testing.T) {
	rec := newRecorder(t, func(_ int, _ recorded, w http.ResponseWriter) {
		io.WriteString(w, `{"ActionStatus":"FAIL","ErrorInfo":"too many groups","ErrorCode":10004}`)
	})
	c := newTestClient(t, rec.URL, newFakeClock(), nil)
	_, err := c.GetGroupInfo(context.Background(), &GetGroupInfoRequest{GroupIDList: []string{"g1"}})
	var e *Error
	if !errors.As(err, &e) || e.Code != 10004 {
		t.Errorf("err = %v, want the 10004 *Error", err)
	}
}

func TestPerItemFailuresAreNotErrors(t *testing.T) {
	rec := newRecorder(t, func(_ int, r recorded, w http.ResponseWriter) {
		switch r.Path {
		case CmdMultiAccountImport.Path():
			io.WriteString(w, `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","FailAccounts":["bad id"]}`)
		case CmdImportGroupMsg.Path():
			io.WriteString(w, `{"ActionStatus":"OK","ErrorCode":0,"ImportMsgResult":[{"MsgSeq":1,"MsgTime":5,"Result":0},{"MsgSeq":0,"MsgTime":6,"Result":10004}]}`)
		case CmdImportGroupMember.Path():
			io.WriteString(w, `{"ActionStatus":"OK","ErrorCode":0,"MemberList":[{"Member_Account":"a","Result":0},{"Member_Account":"b","Result":2}]}`)
		case CmdAccountCheck.Path():
			io.WriteString(w, `{"ActionStatus":"OK","ErrorCode":0,"ResultItem":[{"UserID":"x","ResultCode":70107,"AccountStatus":"NotImported"}]}`)
		case CmdGetGroupInfo.Path():
			// Spec §1.4: get_group_info's top-level code is meaningless; each
			// group carries its own.
			io.WriteString(w, `{"ActionStatus":"FAIL","ErrorCode":10010,"ErrorInfo":"some group missing","GroupInfo":[{"GroupId":"g1","ErrorCode":0,"ErrorInfo":"","Name":"G"},{"GroupId":"gx","ErrorCode":10010,"ErrorInfo":"missing"}]}`)
		}
	})
	c := newTestClient(t, rec.URL, newFakeClock(), nil)
	ctx := context.Background()

	tests := []struct {
		name  string
		check func() error
	}{
		{"FailAccounts", func() error {
			resp, err := c.MultiAccountImport(ctx, &MultiAccountImportRequest{Accounts: []string{"bad id"}})
			if err == nil && (len(resp.FailAccounts) != 1 || resp.FailAccounts[0] != "bad id") {
				return fmt.Errorf("FailAccounts = %v", resp.FailAccounts)
			}
			return err
		}},
		{"ImportMsgResult", func() error {
			resp, err := c.ImportGroupMsg(ctx, &ImportGroupMsgRequest{GroupID: "g"})
			if err == nil && (len(resp.ImportMsgResult) != 2 || resp.ImportMsgResult[1].Result != 10004) {
				return fmt.Errorf("ImportMsgResult = %+v", resp.ImportMsgResult)
			}
			return err
		}},
		{"MemberList", func() error {
			resp, err := c.ImportGroupMember(ctx, &ImportGroupMemberRequest{GroupID: "g"})
			if err == nil && (len(resp.MemberList) != 2 || resp.MemberList[1].Result != MemberAlreadyMember) {
				return fmt.Errorf("MemberList = %+v", resp.MemberList)
			}
			return err
		}},
		{"GroupInfo", func() error {
			resp, err := c.GetGroupInfo(ctx, &GetGroupInfoRequest{GroupIDList: []string{"g1", "gx"}})
			if err == nil && (len(resp.GroupInfo) != 2 || resp.GroupInfo[0].Name != "G" || resp.GroupInfo[1].ErrorCode != 10010) {
				return fmt.Errorf("GroupInfo = %+v", resp.GroupInfo)
			}
			return err
		}},
		{"ResultItem", func() error {
			resp, err := c.AccountCheck(ctx, &AccountCheckRequest{CheckItem: []AccountCheckItem{{UserID: "x"}}})
			if err == nil && (len(resp.ResultItem) != 1 || resp.ResultItem[0].ResultCode != 70107) {
				return fmt.Errorf("ResultItem = %+v", resp.ResultItem)
			}
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.check(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestTransportFailures(t *testing.T) {
	// A closed listener's port refuses connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedURL := "http://" + ln.Addr().String()
	ln.Close()

	release := make(chan struct{})
	t.Cleanup(func() { close(release) })

	tests := []struct {
		name       string
		respond    func(n int, r recorded, w http.ResponseWriter)
		endpoint   string
		timeout    time.Duration
		wantStatus int
		wantIs     error
	}{
		{name: "http 502", respond: func(_ int, _ recorded, w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, `<html>bad gateway</html>`)
		}, wantStatus: 502},
		{name: "http 500 with a TIM body", respond: func(_ int, _ recorded, w http.ResponseWriter) {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"ActionStatus":"OK","ErrorCode":0}`)
		}, wantStatus: 500},
		{name: "redirect is not followed", respond: func(_ int, _ recorded, w http.ResponseWriter) {
			w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
			w.WriteHeader(http.StatusFound)
		}, wantStatus: 302},
		{name: "not json", respond: func(_ int, _ recorded, w http.ResponseWriter) { io.WriteString(w, "hello") }},
		{name: "empty body", respond: func(_ int, _ recorded, w http.ResponseWriter) {}},
		{name: "json null", respond: func(_ int, _ recorded, w http.ResponseWriter) { io.WriteString(w, "null") }},
		{name: "json without envelope", respond: func(_ int, _ recorded, w http.ResponseWriter) { io.WriteString(w, `{"GroupId":"x"}`) }},
		{name: "truncated json", respond: func(_ int, _ recorded, w http.ResponseWriter) {
			io.WriteString(w, `{"ActionStatus":"OK","ErrorCode":0,"GroupId":"x`)
		}},
		{name: "wrong field type", respond: func(_ int, _ recorded, w http.ResponseWriter) {
			io.WriteString(w, `{"ActionStatus":"OK","ErrorCode":"zero"}`)
		}},
		{name: "connection reset", respond: func(_ int, _ recorded, w http.ResponseWriter) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			}
		}},
		{name: "connection refused", endpoint: refusedURL, wantIs: syscall.ECONNREFUSED},
		{name: "timeout", timeout: 50 * time.Millisecond, respond: func(_ int, r recorded, w http.ResponseWriter) {
			select {
			case <-r.Ctx.Done():
			case <-release:
			}
		}, wantIs: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			endpoint := tt.endpoint
			var rec *recorder
			if endpoint == "" {
				rec = newRecorder(t, tt.respond)
				endpoint = rec.URL
			}
			c := newTestClient(t, endpoint, newFakeClock(), func(cfg *Config) { cfg.Timeout = tt.timeout })
			resp, err := c.ImportGroup(context.Background(), &ImportGroupRequest{Type: GroupPublic, Name: "n"})
			if resp != nil {
				t.Errorf("response = %+v, want nil when nothing was decoded", resp)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Code != 0 || e.HTTPStatus != tt.wantStatus || e.API != CmdImportGroup {
				t.Errorf("error = %+v, want code 0 and status %d", e, tt.wantStatus)
			}
			if !IsRetryable(err) {
				t.Errorf("%v is not retryable", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			// A caller reaching the *url.Error with errors.As must not find the query.
			if ue := (*url.Error)(nil); errors.As(err, &ue) && strings.Contains(ue.URL, "?") {
				t.Errorf("url.Error keeps the query: %s", ue.URL)
			}
			var sig string
			if rec != nil && len(rec.requests()) > 0 {
				sig = rec.requests()[0].Query.Get("usersig")
				if n := len(rec.requests()); n != 1 {
					t.Errorf("%d requests; the client must not retry transport failures itself", n)
				}
			}
			assertNoSecrets(t, err, sig, c.URL(CmdImportGroup))
		})
	}
}

func TestCallerCancel(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	rec := newRecorder(t, func(_ int, r recorded, w http.ResponseWriter) {
		close(started)
		select {
		case <-r.Ctx.Done():
		case <-release:
		}
	})
	c := newTestClient(t, rec.URL, newFakeClock(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	err := c.Call(ctx, CmdImportMsg, nil, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if Classify(err) != ClassFatal || IsRetryable(err) {
		t.Errorf("class = %v; a cancelled call is not to be retried", Classify(err))
	}
	assertNoSecrets(t, err)
}

func TestCredentialRefreshRetriesOnce(t *testing.T) {
	tests := []struct {
		name         string
		answers      []int // ErrorCode per request; the last repeats
		wantRequests int
		wantCode     int
	}{
		{"70001 then ok", []int{70001, 0}, 2, 0},
		{"70001 twice", []int{70001}, 2, 70001},
		{"60004 twice", []int{60004}, 2, 60004},
		{"60005 then ok", []int{60005, 0}, 2, 0},
		{"20002 twice", []int{20002}, 2, 20002},
		{"70003 is not refreshed", []int{70003}, 1, 70003},
		{"70009 is not refreshed", []int{70009}, 1, 70009},
		{"rate limit is not retried", []int{60007}, 1, 60007},
		{"internal error is not retried", []int{91000}, 1, 91000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, func(n int, _ recorded, w http.ResponseWriter) {
				code := tt.answers[min(n, len(tt.answers))-1]
				if code == 0 {
					io.WriteString(w, `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`)
					return
				}
				// The stale answer carries a GroupId that must not survive the retry.
				fmt.Fprintf(w, `{"ActionStatus":"FAIL","ErrorCode":%d,"ErrorInfo":"sig","GroupId":"stale"}`, code)
			})
			clock := newFakeClock()
			// Each clock read moves a second on, so that a regenerated UserSig is
			// distinguishable from the cached one.
			c := newTestClient(t, rec.URL, nil, func(cfg *Config) {
				cfg.Now = func() time.Time { clock.Advance(time.Second); return clock.Now() }
			})
			resp, err := c.ImportGroup(context.Background(), &ImportGroupRequest{Type: GroupPublic, Name: "n"})
			reqs := rec.requests()
			if len(reqs) != tt.wantRequests {
				t.Fatalf("%d requests, want %d", len(reqs), tt.wantRequests)
			}
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if resp.GroupID != "" {
					t.Errorf("GroupID = %q left over from the failed answer", resp.GroupID)
				}
			} else {
				var e *Error
				if !errors.As(err, &e) || e.Code != tt.wantCode {
					t.Fatalf("err = %v, want code %d", err, tt.wantCode)
				}
				if resp == nil || resp.ErrorCode != tt.wantCode {
					t.Errorf("response = %+v, want the decoded failure", resp)
				}
				assertNoSecrets(t, err, reqs[0].Query.Get("usersig"))
			}
			if tt.wantRequests == 2 {
				first, _, err1 := DecodeUserSig(reqs[0].Query.Get("usersig"))
				second, _, err2 := DecodeUserSig(reqs[1].Query.Get("usersig"))
				if err1 != nil || err2 != nil {
					t.Fatal(err1, err2)
				}
				if !second.Time.After(first.Time) {
					t.Errorf("retry used a UserSig signed at %v, not newer than %v: not regenerated", second.Time, first.Time)
				}
			}
		})
	}
}

func TestNewClientValidation(t *testing.T) {
	valid := Config{SDKAppID: testAppID, SecretKey: secret.New(testKey), Admin: testAdmin, Region: "singapore"}
	tests := []struct {
		name     string
		mod      func(*Config)
		wantErr  string // substring; empty means success
		wantBase string
	}{
		{name: "region", mod: func(*Config) {}, wantBase: "https://adminapisgp.im.qcloud.com"},
		{name: "no sdkappid", mod: func(c *Config) { c.SDKAppID = 0 }, wantErr: "sdkappid"},
		{name: "negative sdkappid", mod: func(c *Config) { c.SDKAppID = -4 }, wantErr: "sdkappid"},
		{name: "no key", mod: func(c *Config) { c.SecretKey = secret.Secret{} }, wantErr: "secret key"},
		{name: "no admin", mod: func(c *Config) { c.Admin = "" }, wantErr: "admin"},
		{name: "neither region nor endpoint", mod: func(c *Config) { c.Region = "" }, wantErr: "region or an endpoint"},
		{name: "unknown region", mod: func(c *Config) { c.Region = "atlantis" }, wantErr: "unknown region"},
		{name: "unknown region with endpoint", mod: func(c *Config) { c.Region = "atlantis"; c.Endpoint = "https://x.example" }, wantErr: "unknown region"},
		{name: "endpoint overrides region", mod: func(c *Config) { c.Endpoint = "https://tim.example.com:8443/" }, wantBase: "https://tim.example.com:8443"},
		{name: "endpoint with path prefix", mod: func(c *Config) { c.Region = ""; c.Endpoint = "https://gw.example.com/tim/" }, wantBase: "https://gw.example.com/tim"},
		{name: "http to 127.0.0.1", mod: func(c *Config) { c.Region = ""; c.Endpoint = "http://127.0.0.1:8080" }, wantBase: "http://127.0.0.1:8080"},
		{name: "http to 127.1.2.3", mod: func(c *Config) { c.Region = ""; c.Endpoint = "http://127.1.2.3" }, wantBase: "http://127.1.2.3"},
		{name: "http to localhost", mod: func(c *Config) { c.Region = ""; c.Endpoint = "http://LocalHost:9000" }, wantBase: "http://LocalHost:9000"},
		{name: "http to ::1", mod: func(c *Config) { c.Region = ""; c.Endpoint = "http://[::1]:9000" }, wantBase: "http://[::1]:9000"},
		{name: "http to a remote host", mod: func(c *Config) { c.Region = ""; c.Endpoint = "http://console.tim.qq.com" }, wantErr: "endpoint must be https"},
		{name: "http to a private address", mod: func(c *Config) { c.Region = ""; c.Endpoint = "http://10.0.0.5:8080" }, wantErr: "endpoint must be https"},
		{name: "http to a localhost lookalike", mod: func(c *Config) { c.Region = ""; c.Endpoint = "http://localhost.evil.com" }, wantErr: "endpoint must be https"},
		{name: "other scheme", mod: func(c *Config) { c.Region = ""; c.Endpoint = "ftp://127.0.0.1" }, wantErr: "endpoint must be https"},
		{name: "no host", mod: func(c *Config) { c.Region = ""; c.Endpoint = "https://" }, wantErr: "no host"},
		{name: "not a url", mod: func(c *Config) { c.Region = ""; c.Endpoint = "://x" }, wantErr: "not a valid url"},
		{name: "endpoint with query", mod: func(c *Config) { c.Region = ""; c.Endpoint = "https://x.example?usersig=abc" }, wantErr: "query"},
		{name: "endpoint with credentials", mod: func(c *Config) { c.Region = ""; c.Endpoint = "https://u:pw@x.example" }, wantErr: "credentials"},
		{name: "short timeout to the vendor", mod: func(c *Config) { c.Timeout = 3 * time.Second }, wantErr: "longer than"},
		{name: "short timeout to loopback", mod: func(c *Config) { c.Region = ""; c.Endpoint = "http://127.0.0.1:1"; c.Timeout = time.Millisecond }, wantBase: "http://127.0.0.1:1"},
		{name: "negative timeout", mod: func(c *Config) { c.Timeout = -time.Second }, wantErr: "negative"},
		{name: "negative max conns", mod: func(c *Config) { c.MaxConns = -1 }, wantErr: "negative"},
		{name: "sub-second ttl", mod: func(c *Config) { c.UserSigTTL = time.Millisecond }, wantErr: "shorter than a second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.mod(&cfg)
			c, err := NewClient(cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				assertNoSecrets(t, err, "abc", "pw")
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if c.BaseURL() != tt.wantBase {
				t.Errorf("BaseURL = %s, want %s", c.BaseURL(), tt.wantBase)
			}
		})
	}
}

// fakeTransport answers per host: a connection error for hosts in down, an OK
// envelope otherwise, and records the host of every request.
type fakeTransport struct {
	mu    sync.Mutex
	down  map[string]bool
	hosts []string
}

func (f *fakeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.hosts = append(f.hosts, req.URL.Host)
	down := f.down[req.URL.Host]
	f.mu.Unlock()
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	if down {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Body:       io.NopCloser(strings.NewReader(`{"ActionStatus":"OK","ErrorCode":0}`)),
		Header:     http.Header{},
		Request:    req,
	}, nil
}

func (f *fakeTransport) setDown(host string, down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down[host] = down
}

func (f *fakeTransport) lastHost() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hosts[len(f.hosts)-1]
}

func TestFailoverToBackupDomain(t *testing.T) {
	const primary, backup = "adminapisgp.im.qcloud.com", "adminapisgp.my-imcloud.com"
	ft := &fakeTransport{down: map[string]bool{primary: true}}
	c, err := NewClient(Config{
		SDKAppID: testAppID, SecretKey: secret.New(testKey), Admin: testAdmin,
		Region: "singapore", Transport: ft,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	steps := []struct {
		name     string
		down     map[string]bool
		wantHost string
		wantErr  bool
		nextBase string
	}{
		{"primary down: error, switch", map[string]bool{primary: true}, primary, true, "https://" + backup},
		{"backup answers", map[string]bool{primary: true}, backup, false, "https://" + backup},
		{"stays on backup", map[string]bool{}, backup, false, "https://" + backup},
		{"backup down: error, switch back", map[string]bool{backup: true}, backup, true, "https://" + primary},
		{"primary answers again", map[string]bool{backup: true}, primary, false, "https://" + primary},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			for _, h := range []string{primary, backup} {
				ft.setDown(h, st.down[h])
			}
			err := c.Call(ctx, CmdImportMsg, nil, nil)
			if got := ft.lastHost(); got != st.wantHost {
				t.Errorf("request went to %s, want %s", got, st.wantHost)
			}
			if (err != nil) != st.wantErr {
				t.Fatalf("err = %v, want error %v", err, st.wantErr)
			}
			if err != nil {
				if !IsRetryable(err) || !errors.Is(err, syscall.ECONNREFUSED) {
					t.Errorf("err = %v, want a retryable connection error", err)
				}
				assertNoSecrets(t, err)
			}
			if c.BaseURL() != st.nextBase {
				t.Errorf("BaseURL = %s, want %s", c.BaseURL(), st.nextBase)
			}
		})
	}

	t.Run("a cancelled call does not switch", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		before := c.BaseURL()
		if err := c.Call(cctx, CmdImportMsg, nil, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		if c.BaseURL() != before {
			t.Errorf("BaseURL moved to %s", c.BaseURL())
		}
	})
}

func TestNoFailoverWithExplicitEndpoint(t *testing.T) {
	ft := &fakeTransport{down: map[string]bool{"tim.example.com": true}}
	c, err := NewClient(Config{
		SDKAppID: testAppID, SecretKey: secret.New(testKey), Admin: testAdmin,
		Endpoint: "https://tim.example.com", Transport: ft,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := c.Call(context.Background(), CmdImportMsg, nil, nil); err == nil {
			t.Fatalf("call %d succeeded against a down host", i)
		}
		if got := ft.lastHost(); got != "tim.example.com" {
			t.Errorf("call %d went to %s", i, got)
		}
	}
}

func TestNoFailoverOnHTTPStatus(t *testing.T) {
	rt := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 502, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}, Request: req}, nil
	})
	c, err := NewClient(Config{SDKAppID: testAppID, SecretKey: secret.New(testKey), Admin: testAdmin, Region: "china", Transport: rt})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Call(context.Background(), CmdImportMsg, nil, nil)
	var e *Error
	if !errors.As(err, &e) || e.HTTPStatus != 502 {
		t.Fatalf("err = %v", err)
	}
	if c.BaseURL() != "https://console.tim.qq.com" {
		t.Errorf("BaseURL = %s; an HTTP answer proves the domain is reachable", c.BaseURL())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestCallArguments(t *testing.T) {
	rec := newRecorder(t, nil)
	c := newTestClient(t, rec.URL, newFakeClock(), nil)
	ctx := context.Background()
	var notPtr ImportMsgResponse
	var nilPtr *ImportMsgResponse
	tests := []struct {
		name    string
		req     any
		resp    any
		wantErr bool
		class   Class
	}{
		{name: "response by value", resp: notPtr, wantErr: true},
		{name: "nil response pointer", resp: nilPtr, wantErr: true},
		{name: "unencodable request", req: map[string]any{"f": func() {}}, wantErr: true, class: ClassRejected},
		{name: "envelope only", resp: nil},
		{name: "plain envelope", resp: &Envelope{}},
		{name: "map response", resp: &map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.requests())
			err := c.Call(ctx, CmdImportMsg, tt.req, tt.resp)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr && len(rec.requests()) != before {
				t.Error("a request was sent despite the bad arguments")
			}
			if tt.class != ClassNone && Classify(err) != tt.class {
				t.Errorf("class = %v, want %v", Classify(err), tt.class)
			}
		})
	}
}

// Every typed method posts to its command's path and decodes into its response.
func TestTypedMethodPaths(t *testing.T) {
	rec := newRecorder(t, nil)
	c := newTestClient(t, rec.URL, newFakeClock(), nil)
	ctx := context.Background()
	calls := map[Command]func() (any, error){
		CmdAccountImport:      func() (any, error) { return c.AccountImport(ctx, &AccountImportRequest{}) },
		CmdMultiAccountImport: func() (any, error) { return c.MultiAccountImport(ctx, &MultiAccountImportRequest{}) },
		CmdAccountCheck:       func() (any, error) { return c.AccountCheck(ctx, &AccountCheckRequest{}) },
		CmdAccountDelete:      func() (any, error) { return c.AccountDelete(ctx, &AccountDeleteRequest{}) },
		CmdPortraitSet:        func() (any, error) { return c.PortraitSet(ctx, &PortraitSetRequest{}) },
		CmdPortraitGet:        func() (any, error) { return c.PortraitGet(ctx, &PortraitGetRequest{}) },
		CmdFriendImport:       func() (any, error) { return c.FriendImport(ctx, &FriendImportRequest{}) },
		CmdFriendGet:          func() (any, error) { return c.FriendGet(ctx, &FriendGetRequest{}) },
		CmdImportMsg:          func() (any, error) { return c.ImportMsg(ctx, &ImportMsgRequest{}) },
		CmdAdminGetRoamMsg:    func() (any, error) { return c.AdminGetRoamMsg(ctx, &AdminGetRoamMsgRequest{}) },
		CmdImportGroup:        func() (any, error) { return c.ImportGroup(ctx, &ImportGroupRequest{}) },
		CmdImportGroupMember:  func() (any, error) { return c.ImportGroupMember(ctx, &ImportGroupMemberRequest{}) },
		CmdImportGroupMsg:     func() (any, error) { return c.ImportGroupMsg(ctx, &ImportGroupMsgRequest{}) },
		CmdSetUnreadMsgNum:    func() (any, error) { return c.SetUnreadMsgNum(ctx, &SetUnreadMsgNumRequest{}) },
		CmdGetGroupInfo:       func() (any, error) { return c.GetGroupInfo(ctx, &GetGroupInfoRequest{}) },
		CmdGetGroupMemberInfo: func() (any, error) { return c.GetGroupMemberInfo(ctx, &GetGroupMemberInfoRequest{}) },
		CmdGroupMsgGetSimple:  func() (any, error) { return c.GroupMsgGetSimple(ctx, &GroupMsgGetSimpleRequest{}) },
		CmdGetAppIDGroupList:  func() (any, error) { return c.GetAppIDGroupList(ctx, &GetAppIDGroupListRequest{}) },
		CmdDestroyGroup:       func() (any, error) { return c.DestroyGroup(ctx, &DestroyGroupRequest{}) },
		CmdCreateGroup:        func() (any, error) { return c.CreateGroup(ctx, &CreateGroupRequest{}) },
		CmdChangeGroupOwner:   func() (any, error) { return c.ChangeGroupOwner(ctx, &ChangeGroupOwnerRequest{}) },
		CmdImportTopic:        func() (any, error) { return c.ImportTopic(ctx, &ImportTopicRequest{}) },
		CmdGetC2CUnreadMsgNum: func() (any, error) { return c.GetC2CUnreadMsgNum(ctx, &GetC2CUnreadMsgNumRequest{}) },
		CmdRecentContactList:  func() (any, error) { return c.RecentContactList(ctx, &RecentContactListRequest{}) },
	}
	for cmd := range DocumentedRate {
		if _, ok := calls[cmd]; !ok {
			t.Errorf("no typed method tested for %s", cmd)
		}
	}
	for cmd, call := range calls {
		t.Run(cmd.String(), func(t *testing.T) {
			resp, err := call()
			if err != nil {
				t.Fatal(err)
			}
			if e, ok := resp.(interface{ envelope() *Envelope }); !ok || e.envelope().ActionStatus != ActionOK {
				t.Errorf("response %T not decoded", resp)
			}
			reqs := rec.requests()
			if got := reqs[len(reqs)-1].Path; got != cmd.Path() {
				t.Errorf("path = %s, want %s", got, cmd.Path())
			}
		})
	}
}

func BenchmarkCall(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`)
	}))
	defer srv.Close()
	c, err := NewClient(Config{SDKAppID: testAppID, SecretKey: secret.New(testKey), Admin: testAdmin, Endpoint: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(&ImportMsgRequest{SyncFromOldSystem: 2, FromAccount: "a", ToAccount: "b", MsgBody: []MsgElem{{MsgType: MsgText, MsgContent: json.RawMessage(`{"Text":"hi"}`)}}})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := c.CallRaw(context.Background(), CmdImportMsg, body, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestExchangeDoesNotRetry: Exchange makes one request whatever the answer; after
// a refresh code it reports NeedsRefresh and the next exchange signs a new UserSig,
// so that a caller can retry through its own rate limiter (spec §1.9).
func TestExchangeDoesNotRetry(t *testing.T) {
	for _, code := range []int{70001, 60004, 60005, 20002, 70009, 60007} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			rec := newRecorder(t, func(n int, _ recorded, w http.ResponseWriter) {
				if n == 1 {
					fmt.Fprintf(w, `{"ActionStatus":"FAIL","ErrorCode":%d,"ErrorInfo":"x"}`, code)
					return
				}
				io.WriteString(w, `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`)
			})
			clock := newFakeClock()
			c := newTestClient(t, rec.URL, nil, func(cfg *Config) {
				cfg.Now = func() time.Time { clock.Advance(time.Second); return clock.Now() }
			})
			var resp ImportGroupResponse
			err := c.Exchange(context.Background(), CmdImportGroup, &ImportGroupRequest{Type: GroupPublic, Name: "n"}, &resp)
			var e *Error
			if !errors.As(err, &e) || e.Code != code || len(rec.requests()) != 1 {
				t.Fatalf("err = %v after %d requests, want code %d after 1", err, len(rec.requests()), code)
			}
			if got, want := NeedsRefresh(err), isRefreshCode(code); got != want {
				t.Errorf("NeedsRefresh = %v, want %v", got, want)
			}
			if err := c.Exchange(context.Background(), CmdImportGroup, &ImportGroupRequest{Type: GroupPublic, Name: "n"}, &resp); err != nil {
				t.Fatalf("second exchange: %v", err)
			}
			reqs := rec.requests()
			first, _, err1 := DecodeUserSig(reqs[0].Query.Get("usersig"))
			second, _, err2 := DecodeUserSig(reqs[1].Query.Get("usersig"))
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if renewed := second.Time.After(first.Time); renewed != isRefreshCode(code) {
				t.Errorf("second exchange renewed the UserSig: %v, want %v", renewed, isRefreshCode(code))
			}
		})
	}
}

package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim"
)

// This file is the shared test harness of the sandbox package: a Server behind
// httptest, the real tencentim client pointed at it, and a settable clock that
// both use.

const (
	testSDKAppID = 1400012345
	testAdmin    = "admin"
	testKey      = "sandbox-test-key"
)

// testEpoch is the fake clock's start: far enough from the Unix epoch that
// "before now" and roaming-period rules have room on both sides.
var testEpoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testEnv is a running sandbox and a client of it.
type testEnv struct {
	srv    *Server
	hs     *httptest.Server
	client *tencentim.Client
	clock  *fakeClock
	cfg    Config
}

// newTestEnv starts a sandbox with the test credentials, the fake clock and seed
// 1; mod adjusts the Config before New.
func newTestEnv(t *testing.T, mod ...func(*Config)) *testEnv {
	t.Helper()
	return newTestEnvTB(t, mod...)
}

// newTestEnvTB is newTestEnv for benchmarks and fuzz targets.
func newTestEnvTB(t testing.TB, mod ...func(*Config)) *testEnv {
	t.Helper()
	clock := &fakeClock{t: testEpoch}
	cfg := Config{
		SDKAppID:  testSDKAppID,
		SecretKey: secret.New(testKey),
		Admins:    []string{testAdmin},
		Now:       clock.Now,
		Seed:      1,
	}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	client, err := tencentim.NewClient(tencentim.Config{
		SDKAppID:  testSDKAppID,
		SecretKey: secret.New(testKey),
		Admin:     testAdmin,
		Endpoint:  hs.URL,
		Now:       clock.Now,
	})
	if err != nil {
		t.Fatalf("tencentim.NewClient: %v", err)
	}
	return &testEnv{srv: srv, hs: hs, client: client, clock: clock, cfg: cfg}
}

// importUsers imports the accounts through multiaccount_import, in batches of 100,
// and fails the test if any is refused.
func (e *testEnv) importUsers(t *testing.T, ids ...string) {
	t.Helper()
	for len(ids) > 0 {
		n := min(len(ids), tencentim.MaxMultiAccountImport)
		resp, err := e.client.MultiAccountImport(t.Context(), &tencentim.MultiAccountImportRequest{Accounts: ids[:n]})
		if err != nil {
			t.Fatalf("importUsers: %v", err)
		}
		if len(resp.FailAccounts) > 0 {
			t.Fatalf("importUsers: FailAccounts %v", resp.FailAccounts)
		}
		ids = ids[n:]
	}
}

// rawEnvelope is a decoded answer of a raw request.
type rawEnvelope struct {
	ActionStatus string  `json:"ActionStatus"`
	ErrorInfo    string  `json:"ErrorInfo"`
	ErrorCode    int     `json:"ErrorCode"`
	ErrorDisplay *string `json:"ErrorDisplay"`
}

// post sends body to url (a full URL with query) with method, and returns the HTTP
// status and the raw answer. For the cases the client cannot express: other
// methods, bad query parameters, bad UserSigs.
func (e *testEnv) post(t *testing.T, method, url string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.hs.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

// postEnvelope is post that requires HTTP 200 and a JSON envelope.
func (e *testEnv) postEnvelope(t *testing.T, method, url string, body []byte) rawEnvelope {
	t.Helper()
	status, b := e.post(t, method, url, body)
	if status != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d, want 200 (body %q)", method, url, status, b)
	}
	var env rawEnvelope
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %v (%q)", method, url, err, b)
	}
	return env
}

// codeOf is the vendor ErrorCode of a client error: 0 for nil, -1 for an error
// that carries no code.
func codeOf(err error) int {
	if err == nil {
		return 0
	}
	var e *tencentim.Error
	if errors.As(err, &e) && e.Code != 0 {
		return e.Code
	}
	return -1
}

// textBody is a MsgBody of one TIMTextElem.
func textBody(text string) []tencentim.MsgElem {
	el, err := tencentim.NewElem(tencentim.MsgText, tencentim.TextContent{Text: text})
	if err != nil {
		panic(err)
	}
	return []tencentim.MsgElem{el}
}

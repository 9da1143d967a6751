package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim"
)

// urlWith is the client's URL for cmd with its query edited.
func (e *testEnv) urlWith(t *testing.T, cmd tencentim.Command, edit func(q url.Values)) string {
	t.Helper()
	u, err := url.Parse(e.client.URL(cmd))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	edit(q)
	u.RawQuery = q.Encode()
	return u.String()
}

// spec §14 item 1: success and failure alike are HTTP 200 with the three envelope
// fields; success is exactly OK / "" / 0.
func TestEnvelopeOnSuccessAndFailure(t *testing.T) {
	e := newTestEnv(t)
	tests := []struct {
		name     string
		cmd      tencentim.Command
		body     string
		wantCode int
		display  bool // ErrorDisplay present (profile, sns, recentcontact; spec §1.4)
	}{
		{"account ok", tencentim.CmdAccountImport, `{"UserID":"u1"}`, 0, false},
		{"account fail", tencentim.CmdAccountImport, `{"UserID":""}`, 70402, false},
		{"profile fail", tencentim.CmdPortraitSet, `{"From_Account":"nobody","ProfileItem":[{"Tag":"Tag_Profile_IM_Nick","Value":"x"}]}`, 40003, true},
		{"sns fail", tencentim.CmdFriendGet, `{"From_Account":"nobody","StartIndex":0}`, 30003, true},
		{"recentcontact fail", tencentim.CmdRecentContactList, `{"From_Account":"nobody","TimeStamp":0,"StartIndex":0,"TopTimeStamp":0,"TopStartIndex":0,"AssistFlags":7}`, 50001, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, b := e.post(t, http.MethodPost, e.client.URL(tc.cmd), []byte(tc.body))
			if status != http.StatusOK {
				t.Fatalf("HTTP %d, want 200", status)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("answer is not JSON: %v", err)
			}
			for _, k := range []string{"ActionStatus", "ErrorInfo", "ErrorCode"} {
				if _, ok := m[k]; !ok {
					t.Errorf("answer %s lacks %s", b, k)
				}
			}
			if got := int(m["ErrorCode"].(float64)); got != tc.wantCode {
				t.Fatalf("ErrorCode = %d, want %d (%s)", got, tc.wantCode, b)
			}
			if tc.wantCode == 0 {
				if m["ActionStatus"] != "OK" || m["ErrorInfo"] != "" {
					t.Errorf("success envelope = %s, want OK with empty ErrorInfo", b)
				}
			} else if m["ActionStatus"] != "FAIL" || m["ErrorInfo"] == "" {
				t.Errorf("failure envelope = %s, want FAIL with an ErrorInfo", b)
			}
			if _, ok := m["ErrorDisplay"]; ok != tc.display {
				t.Errorf("ErrorDisplay present = %v, want %v (%s)", ok, tc.display, b)
			}
		})
	}
}

// spec §14 items 2, 3: POST only (60002); unknown paths are 60009.
func TestMethodAndPath(t *testing.T) {
	e := newTestEnv(t)
	good := e.client.URL(tencentim.CmdAccountCheck)
	withPath := func(p string) string {
		u, _ := url.Parse(good)
		u.Path = p
		return u.String()
	}
	tests := []struct {
		name   string
		method string
		url    string
		want   int
	}{
		{"GET", http.MethodGet, good, 60002},
		{"PUT", http.MethodPut, good, 60002},
		{"DELETE", http.MethodDelete, good, 60002},
		{"unknown command", http.MethodPost, withPath("/v4/im_open_login_svc/no_such_command"), 60009},
		{"unknown service", http.MethodPost, withPath("/v4/no_such_svc/account_check"), 60009},
		{"wrong version", http.MethodPost, withPath("/v3/im_open_login_svc/account_check"), 60009},
		{"too deep", http.MethodPost, withPath("/v4/im_open_login_svc/account_check/x"), 60009},
		{"root", http.MethodPost, withPath("/"), 60009},
		{"case matters", http.MethodPost, withPath("/v4/IM_OPEN_LOGIN_SVC/account_check"), 60009},
		{"sandbox tool under v4", http.MethodPost, withPath("/v4/_sandbox/state"), 60009},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := e.postEnvelope(t, tc.method, tc.url, []byte(`{"CheckItem":[]}`))
			if env.ErrorCode != tc.want || env.ActionStatus != "FAIL" {
				t.Errorf("got %+v, want FAIL %d", env, tc.want)
			}
		})
	}
}

// spec §14 items 4, 6, 7, 8 and design §7 "UserSig": query parameters are checked
// case-sensitively, the identifier must be an admin and the UserSig must verify.
func TestQueryAndUserSig(t *testing.T) {
	e := newTestEnv(t)
	now := e.clock.Now()
	sig := func(appID int64, key, id string, at time.Time, ttl time.Duration) string {
		s, err := tencentim.GenUserSig(appID, secret.New(key), id, at, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cmd := tencentim.CmdAccountCheck
	tests := []struct {
		name string
		edit func(q url.Values)
		want int
	}{
		{"valid", func(q url.Values) {}, 0},
		{"sdkappid missing (item 4)", func(q url.Values) { q.Del("sdkappid") }, 60012},
		{"sdkappid empty", func(q url.Values) { q.Set("sdkappid", "") }, 60012},
		{"sdkappid unknown (item 4)", func(q url.Values) { q.Set("sdkappid", "1400099999") }, 60006},
		{"sdkappid not a number", func(q url.Values) { q.Set("sdkappid", "abc") }, 60006},
		{"SdkAppId spelled differently (item 8)", func(q url.Values) {
			q.Set("SdkAppId", q.Get("sdkappid"))
			q.Del("sdkappid")
		}, 60012},
		{"Identifier spelled differently (item 8)", func(q url.Values) {
			q.Set("Identifier", q.Get("identifier"))
			q.Del("identifier")
		}, 60010},
		{"identifier not an admin (item 6)", func(q url.Values) {
			q.Set("identifier", "u1")
			q.Set("usersig", sig(testSDKAppID, testKey, "u1", now, time.Hour))
		}, 60010},
		{"identifier in other case", func(q url.Values) { q.Set("identifier", "ADMIN") }, 60010},
		{"usersig missing (item 7)", func(q url.Values) { q.Del("usersig") }, 70003},
		{"usersig garbage", func(q url.Values) { q.Set("usersig", "!!!not-a-sig") }, 70003},
		{"usersig truncated", func(q url.Values) { s := q.Get("usersig"); q.Set("usersig", s[:len(s)/2]) }, 70003},
		{"usersig expired", func(q url.Values) {
			q.Set("usersig", sig(testSDKAppID, testKey, testAdmin, now.Add(-48*time.Hour), 24*time.Hour))
		}, 70001},
		{"usersig other key", func(q url.Values) {
			q.Set("usersig", sig(testSDKAppID, "another-key", testAdmin, now, time.Hour))
		}, 70009},
		{"usersig other identifier", func(q url.Values) {
			q.Set("usersig", sig(testSDKAppID, testKey, "someone", now, time.Hour))
		}, 70013},
		{"usersig other sdkappid", func(q url.Values) {
			q.Set("usersig", sig(1400000001, testKey, testAdmin, now, time.Hour))
		}, 70014},
		{"random and contenttype are not required", func(q url.Values) {
			q.Del("random")
			q.Del("contenttype")
		}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := e.postEnvelope(t, http.MethodPost, e.urlWith(t, cmd, tc.edit), []byte(`{"CheckItem":[]}`))
			if env.ErrorCode != tc.want {
				t.Errorf("ErrorCode = %d (%s), want %d", env.ErrorCode, env.ErrorInfo, tc.want)
			}
		})
	}

	// Spec §1.1: the order of the parameters does not matter.
	t.Run("parameter order", func(t *testing.T) {
		u, _ := url.Parse(e.client.URL(cmd))
		q := u.Query()
		u.RawQuery = "usersig=" + url.QueryEscape(q.Get("usersig")) + "&contenttype=json&identifier=" + testAdmin +
			"&random=42&sdkappid=" + q.Get("sdkappid")
		if env := e.postEnvelope(t, http.MethodPost, u.String(), []byte(`{"CheckItem":[]}`)); env.ErrorCode != 0 {
			t.Errorf("reordered query: %+v", env)
		}
	})

	// A UserSig that expired on the server clock is refused; the client regenerates
	// its own and retries once (spec §1.9), so calls keep working.
	t.Run("client renews after expiry", func(t *testing.T) {
		e.clock.Advance(30 * 24 * time.Hour)
		if _, err := e.client.AccountCheck(t.Context(), &tencentim.AccountCheckRequest{CheckItem: []tencentim.AccountCheckItem{}}); err != nil {
			t.Fatalf("call after 30 days: %v", err)
		}
	})
}

// spec §14 item 5: empty and malformed bodies are 60003, or 90001 for openim.
func TestMalformedBodies(t *testing.T) {
	e := newTestEnv(t)
	bodies := []struct {
		name string
		body string
	}{
		{"empty", ""},
		{"whitespace", " \n\t "},
		{"truncated", `{"UserID":"u1"`},
		{"not JSON", `UserID=u1`},
		{"array", `[{"UserID":"u1"}]`},
		{"null", `null`},
		{"number", `42`},
		{"string", `"u1"`},
		{"trailing garbage", `{"UserID":"u1"} x`},
		{"two objects", `{} {}`},
	}
	cmds := []struct {
		cmd  tencentim.Command
		want int
	}{
		{tencentim.CmdAccountImport, 60003},
		{tencentim.CmdPortraitSet, 60003},
		{tencentim.CmdFriendImport, 60003},
		{tencentim.CmdRecentContactList, 60003},
		{tencentim.CmdImportMsg, 90001},
		{tencentim.CmdAdminGetRoamMsg, 90001},
		{tencentim.CmdGetC2CUnreadMsgNum, 90001},
	}
	for _, c := range cmds {
		for _, b := range bodies {
			t.Run(c.cmd.Name+"/"+b.name, func(t *testing.T) {
				err := e.client.CallRaw(t.Context(), c.cmd, []byte(b.body), nil)
				if got := codeOf(err); got != c.want {
					t.Errorf("code = %d (%v), want %d", got, err, c.want)
				}
			})
		}
	}
	t.Run("over 1 MiB", func(t *testing.T) {
		big := `{"UserID":"u1","Nick":"` + strings.Repeat("x", maxBodyBytes) + `"}`
		err := e.client.CallRaw(t.Context(), tencentim.CmdAccountImport, []byte(big), nil)
		if got := codeOf(err); got != 60003 {
			t.Errorf("code = %d, want 60003", got)
		}
	})
	t.Run("unknown fields are ignored", func(t *testing.T) {
		err := e.client.CallRaw(t.Context(), tencentim.CmdAccountImport, []byte(`{"UserID":"u1","Extra":{"a":[1,2]},"More":null}`), nil)
		if err != nil {
			t.Fatal(err)
		}
	})
}

// spec §14 item 9: an account that is not a JSON string is 60015, unless the API
// has its own code for the field (importmsg: 90003 / 90008).
func TestAccountFieldTypes(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "u1", "u2")
	tests := []struct {
		name string
		cmd  tencentim.Command
		body string
		want int
	}{
		{"account_import UserID number", tencentim.CmdAccountImport, `{"UserID":123}`, 60015},
		{"account_import UserID array", tencentim.CmdAccountImport, `{"UserID":["u1"]}`, 60015},
		{"multiaccount_import element", tencentim.CmdMultiAccountImport, `{"Accounts":["u3",4]}`, 60015},
		{"account_check UserID", tencentim.CmdAccountCheck, `{"CheckItem":[{"UserID":1}]}`, 60015},
		{"account_delete UserID", tencentim.CmdAccountDelete, `{"DeleteItem":[{"UserID":true}]}`, 60015},
		{"portrait_set From_Account", tencentim.CmdPortraitSet, `{"From_Account":1,"ProfileItem":[{"Tag":"Tag_Profile_IM_Nick","Value":"x"}]}`, 60015},
		{"portrait_get To_Account element", tencentim.CmdPortraitGet, `{"To_Account":["u1",2],"TagList":["Tag_Profile_IM_Nick"]}`, 60015},
		{"friend_import From_Account", tencentim.CmdFriendImport, `{"From_Account":{},"AddFriendItem":[{"To_Account":"u2","AddSource":"AddSource_Type_X"}]}`, 60015},
		{"friend_import To_Account", tencentim.CmdFriendImport, `{"From_Account":"u1","AddFriendItem":[{"To_Account":2,"AddSource":"AddSource_Type_X"}]}`, 60015},
		{"friend_get From_Account", tencentim.CmdFriendGet, `{"From_Account":1,"StartIndex":0}`, 60015},
		{"get_list From_Account", tencentim.CmdRecentContactList, `{"From_Account":1,"TimeStamp":0,"StartIndex":0,"TopTimeStamp":0,"TopStartIndex":0,"AssistFlags":0}`, 60015},
		{"importmsg To_Account", tencentim.CmdImportMsg, `{"SyncFromOldSystem":2,"From_Account":"u1","To_Account":2,"MsgRandom":1,"MsgTimeStamp":1,"MsgBody":[]}`, 90003},
		{"importmsg From_Account", tencentim.CmdImportMsg, `{"SyncFromOldSystem":2,"From_Account":1,"To_Account":"u2","MsgRandom":1,"MsgTimeStamp":1,"MsgBody":[]}`, 90008},
		{"get_c2c_unread Peer_Account element", tencentim.CmdGetC2CUnreadMsgNum, `{"To_Account":"u1","Peer_Account":[2]}`, 60015},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.client.CallRaw(t.Context(), tc.cmd, []byte(tc.body), nil)
			if got := codeOf(err); got != tc.want {
				t.Errorf("code = %d (%v), want %d", got, err, tc.want)
			}
		})
	}
}

// The loopback tool endpoints live outside /v4 and need no UserSig.
func TestSandboxEndpoints(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "u1", "u2")

	status, b := e.post(t, http.MethodGet, e.hs.URL+statePath, nil)
	if status != http.StatusOK {
		t.Fatalf("GET state: HTTP %d", status)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("state is not JSON: %v", err)
	}
	if got := len(st.Accounts); got != 2 {
		t.Errorf("state has %d accounts, want 2", got)
	}
	if status, _ := e.post(t, http.MethodPost, e.hs.URL+statePath, nil); status != http.StatusMethodNotAllowed {
		t.Errorf("POST state: HTTP %d, want 405", status)
	}
	if status, _ := e.post(t, http.MethodGet, e.hs.URL+resetPath, nil); status != http.StatusMethodNotAllowed {
		t.Errorf("GET reset: HTTP %d, want 405", status)
	}
	if env := e.postEnvelope(t, http.MethodPost, e.hs.URL+resetPath, nil); env.ErrorCode != 0 || env.ActionStatus != "OK" {
		t.Errorf("reset: %+v", env)
	}
	if got := len(e.srv.State().Accounts); got != 0 {
		t.Errorf("after reset: %d accounts, want 0", got)
	}
}

// fuzzFields are the top-level member names of every API, so that random bodies
// hit the decoding of real fields and not only unknown ones.
var fuzzFields = []string{
	"UserID", "Nick", "FaceUrl", "Accounts", "CheckItem", "DeleteItem",
	"From_Account", "To_Account", "ProfileItem", "TagList", "Tag", "Value",
	"AddFriendItem", "AddSource", "Remark", "GroupName", "CustomItem", "AddTime", "StartIndex",
	"StandardSequence", "CustomSequence",
	"SyncFromOldSystem", "MsgSeq", "MsgRandom", "MsgTimeStamp", "MsgBody", "MsgType", "MsgContent",
	"Text", "CloudCustomData", "Operator_Account", "Peer_Account", "MaxCnt", "MinTime", "MaxTime", "LastMsgKey",
	"TimeStamp", "TopTimeStamp", "TopStartIndex", "AssistFlags",
	"GroupId", "Type", "Name", "Owner_Account", "MemberList", "Member_Account", "Role", "JoinTime", "UnreadMsgNum",
	"MsgList", "SendTime", "Random", "RecentContactFlag", "TopicId", "TopicName", "GroupIdList", "ResponseFilter",
	"Limit", "Offset", "Next", "ReqMsgSeq", "ReqMsgNumber", "GroupType", "NewOwner_Account", "CreateTime",
	"MaxMemberCount", "ApplyJoinOption", "SupportTopic", "Introduction", "Notification", "AppDefinedData",
	"MemberInfoFilter", "MemberRoleFilter",
}

// randomJSON builds a random JSON value of depth at most depth: strings that look
// like UserIDs or tags, integers at the edges of every range, floats, booleans,
// null, arrays and objects over fuzzFields.
func randomJSON(r *rand.Rand, depth int) any {
	k := r.IntN(10)
	if depth <= 0 && k >= 7 {
		k = r.IntN(7)
	}
	switch k {
	case 0:
		return []any{"u1", "u2", "", "Tag_Profile_IM_Nick", "TIMTextElem", "TIMCustomElem", "Public",
			"AddSource_Type_X", strings.Repeat("x", 600), "@TGS#1", "\x00\u2028"}[r.IntN(11)]
	case 1:
		return []any{0, 1, 2, 5, -1, 4294967295, 4294967296, 1 << 53, -(1 << 62)}[r.IntN(9)]
	case 2:
		return []any{0.5, 1e300, -2.25, 1e-9}[r.IntN(4)]
	case 3:
		return r.IntN(2) == 0
	case 4:
		return nil
	case 5:
		return fmt.Sprintf("u%d", r.IntN(4))
	case 6:
		return json.RawMessage(`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]`)
	case 7, 8:
		a := make([]any, r.IntN(4))
		for i := range a {
			a[i] = randomJSON(r, depth-1)
		}
		return a
	default:
		return randomObject(r, depth-1)
	}
}

func randomObject(r *rand.Rand, depth int) map[string]any {
	m := map[string]any{}
	for range r.IntN(6) {
		m[fuzzFields[r.IntN(len(fuzzFields))]] = randomJSON(r, depth)
	}
	return m
}

// A fuzz-ish sweep: malformed bodies and random members of random types thrown at
// every command must all answer HTTP 200 with a valid envelope; a failure carries a
// documented, non-zero code; nothing panics (no 70500 from the last-resort
// recover).
func TestEveryCommandSurvivesGarbage(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "u1", "u2", "u3")
	r := rand.New(rand.NewPCG(7, 7))
	fixed := []string{"", "{", "[]", "null", "0", `"x"`, "{}", `{"a":}`, "\xff\xfe", `{"UserID":"u1"}`}
	perCommand := 120
	if testing.Short() {
		perCommand = 20
	}
	for _, cmd := range knownCommands() {
		t.Run(cmd.String(), func(t *testing.T) {
			target := e.client.URL(cmd)
			bodies := slices.Clone(fixed)
			for range perCommand {
				b, err := json.Marshal(randomObject(r, 3))
				if err != nil {
					t.Fatal(err)
				}
				bodies = append(bodies, string(b))
			}
			for _, body := range bodies {
				req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
				rec := httptest.NewRecorder()
				e.srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					t.Fatalf("body %q: HTTP %d", body, rec.Code)
				}
				var env rawEnvelope
				dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
				if err := dec.Decode(&env); err != nil {
					t.Fatalf("body %q: answer is not JSON: %v", body, err)
				}
				switch {
				case env.ErrorCode == 0 && env.ActionStatus != "OK":
					t.Errorf("body %q: code 0 with ActionStatus %q", body, env.ActionStatus)
				case env.ErrorCode != 0 && env.ActionStatus != "FAIL":
					t.Errorf("body %q: code %d with ActionStatus %q", body, env.ErrorCode, env.ActionStatus)
				case env.ErrorCode == codeInternalServer:
					t.Errorf("body %q: 70500, a handler panicked: %s", body, env.ErrorInfo)
				case env.ErrorCode != 0 && tencentim.CodeText(env.ErrorCode) == "undocumented error code":
					t.Errorf("body %q: undocumented code %d", body, env.ErrorCode)
				}
			}
		})
	}
}

// FuzzImportMsg feeds arbitrary bodies to importmsg (run with -fuzz to explore;
// the seeds run as a normal test).
func FuzzImportMsg(f *testing.F) {
	f.Add([]byte(`{"SyncFromOldSystem":2,"From_Account":"u1","To_Account":"u2","MsgRandom":1,"MsgTimeStamp":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"a"}}]}`))
	f.Add([]byte(`{"SyncFromOldSystem":5,"From_Account":"u1","To_Account":"u2","MsgRandom":-1,"MsgTimeStamp":1e3,"MsgBody":[{"MsgType":"TIMImageElem","MsgContent":{"ImageInfoArray":[{}]}}]}`))
	f.Add([]byte(`{"MsgBody":[null,1,"x",{"MsgType":null}]}`))
	f.Add([]byte(``))
	e := newTestEnvTB(f)
	e.srv.mu.Lock()
	e.srv.users.create("u1")
	e.srv.users.create("u2")
	e.srv.mu.Unlock()
	target := e.client.URL(tencentim.CmdImportMsg)
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body)))
		var env rawEnvelope
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &env) != nil || env.ActionStatus == "" {
			t.Fatalf("body %q: HTTP %d %q", body, rec.Code, rec.Body.Bytes())
		}
		if env.ErrorCode == codeInternalServer {
			t.Fatalf("body %q: handler panicked", body)
		}
	})
}

// The gateway caches verified UserSigs (verifySig): the answers must be exactly
// those of an uncached VerifyUserSig, whatever was cached before, and the cache
// must stay bounded.
func TestUserSigCache(t *testing.T) {
	sig := func(t *testing.T, key, id string, at time.Time, ttl time.Duration) string {
		t.Helper()
		s, err := tencentim.GenUserSig(testSDKAppID, secret.New(key), id, at, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	call := func(t *testing.T, e *testEnv, id, usersig string) int {
		t.Helper()
		u := e.urlWith(t, tencentim.CmdAccountCheck, func(q url.Values) {
			q.Set("identifier", id)
			q.Set("usersig", usersig)
		})
		return e.postEnvelope(t, http.MethodPost, u, []byte(`{"CheckItem":[]}`)).ErrorCode
	}

	t.Run("hit answers as a fresh verification until the server clock passes expiry", func(t *testing.T) {
		e := newTestEnv(t)
		s := sig(t, testKey, testAdmin, e.clock.Now(), time.Hour)
		for i := range 3 {
			if got := call(t, e, testAdmin, s); got != 0 {
				t.Fatalf("call %d: ErrorCode %d, want 0", i, got)
			}
		}
		if n := e.srv.sigs.len(); n != 1 {
			t.Fatalf("cache holds %d signatures after three calls with one, want 1", n)
		}
		// VerifyUserSig accepts up to and including TLS.time+TLS.expire.
		e.clock.Advance(time.Hour)
		if got := call(t, e, testAdmin, s); got != 0 {
			t.Fatalf("at the expiry second: ErrorCode %d, want 0", got)
		}
		e.clock.Advance(time.Second)
		for i := range 2 {
			if got := call(t, e, testAdmin, s); got != codeSigExpired {
				t.Fatalf("after expiry, call %d: ErrorCode %d, want %d", i, got, codeSigExpired)
			}
		}
		if n := e.srv.sigs.len(); n != 0 {
			t.Fatalf("expired signature still cached (%d entries)", n)
		}
	})

	t.Run("failures are not cached", func(t *testing.T) {
		e := newTestEnv(t)
		now := e.clock.Now()
		tests := []struct {
			name    string
			id      string
			usersig string
			want    int
		}{
			{"other key", testAdmin, sig(t, "another-key", testAdmin, now, time.Hour), codeSigMismatch},
			{"other identifier", testAdmin, sig(t, testKey, "someone", now, time.Hour), codeSigIdentifier},
			{"expired", testAdmin, sig(t, testKey, testAdmin, now.Add(-2*time.Hour), time.Hour), codeSigExpired},
			{"garbage", testAdmin, "not-a-usersig", codeSigMalformed},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				for i := range 2 {
					if got := call(t, e, tc.id, tc.usersig); got != tc.want {
						t.Fatalf("call %d: ErrorCode %d, want %d", i, got, tc.want)
					}
				}
			})
		}
		if n := e.srv.sigs.len(); n != 0 {
			t.Fatalf("cache holds %d entries after failed verifications only", n)
		}
	})

	t.Run("a signature cached for one admin does not authenticate another", func(t *testing.T) {
		e := newTestEnv(t, func(c *Config) { c.Admins = []string{testAdmin, "admin2"} })
		s := sig(t, testKey, testAdmin, e.clock.Now(), time.Hour)
		if got := call(t, e, testAdmin, s); got != 0 {
			t.Fatalf("own identifier: ErrorCode %d, want 0", got)
		}
		if got := call(t, e, "admin2", s); got != codeSigIdentifier {
			t.Fatalf("other admin with the cached signature: ErrorCode %d, want %d", got, codeSigIdentifier)
		}
	})

	t.Run("bounded", func(t *testing.T) {
		e := newTestEnv(t)
		start := e.clock.Now()
		var last string
		for i := range sigCacheMax + 20 {
			// Signing times one second apart make every signature distinct.
			last = sig(t, testKey, testAdmin, start.Add(-time.Duration(i)*time.Second), time.Hour)
			if got := call(t, e, testAdmin, last); got != 0 {
				t.Fatalf("signature %d: ErrorCode %d, want 0", i, got)
			}
		}
		if n := e.srv.sigs.len(); n > sigCacheMax {
			t.Fatalf("cache holds %d entries, bound %d", n, sigCacheMax)
		}
		if _, ok := e.srv.sigs.lookup(testAdmin, last); !ok {
			t.Fatal("the signature just verified is not cached")
		}
	})

	t.Run("concurrent callers", func(t *testing.T) {
		e := newTestEnv(t)
		sigs := make([]string, 8)
		for i := range sigs {
			sigs[i] = sig(t, testKey, testAdmin, e.clock.Now().Add(-time.Duration(i)*time.Second), time.Hour)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for g := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 20 {
					s := sigs[(g+i)%len(sigs)]
					if err := e.srv.verifySig(testAdmin, s, e.clock.Now()); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("verifySig: %v", err)
		}
		if n := e.srv.sigs.len(); n != len(sigs) {
			t.Errorf("cache holds %d entries, want %d", n, len(sigs))
		}
	})
}

// BenchmarkAuthenticate measures the gateway's query and UserSig check with the
// client's one cached admin UserSig, the case of every call of a migration.
func BenchmarkAuthenticate(b *testing.B) {
	e := newTestEnvTB(b)
	u, err := url.Parse(e.client.URL(tencentim.CmdAccountCheck))
	if err != nil {
		b.Fatal(err)
	}
	raw := u.RawQuery
	b.ReportAllocs()
	for b.Loop() {
		if aerr := e.srv.authenticate(raw); aerr != nil {
			b.Fatalf("authenticate: %d %s", aerr.Code, aerr.Info)
		}
	}
}

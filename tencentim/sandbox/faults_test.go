package sandbox

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim"
)

func TestParseFaults(t *testing.T) {
	tests := []struct {
		spec    string
		want    []Fault
		wantErr string
	}{
		{spec: "", want: nil},
		{spec: "off", want: nil},
		{spec: "code=60007:p=0.1", want: []Fault{{Kind: FaultCode, Code: 60007, Probability: 0.1}}},
		{
			spec: "code=60007:p=0.1,http502:p=0.05,reset:cmd=openim/importmsg:nth=50,drop:p=0.02",
			want: []Fault{
				{Kind: FaultCode, Code: 60007, Probability: 0.1},
				{Kind: FaultHTTP502, Probability: 0.05},
				{Kind: FaultReset, Command: tencentim.CmdImportMsg, Nth: 50},
				{Kind: FaultDropResponse, Probability: 0.02},
			},
		},
		{spec: " 502:nth=3 , code=91000:cmd=importmsg:p=1", want: []Fault{
			{Kind: FaultHTTP502, Nth: 3},
			{Kind: FaultCode, Code: 91000, Command: tencentim.CmdImportMsg, Probability: 1},
		}},
		{spec: "drop:cmd=import_group_msg:nth=1", want: []Fault{{Kind: FaultDropResponse, Command: tencentim.CmdImportGroupMsg, Nth: 1}}},
		{spec: "code=10002:cmd=v4/group_open_http_svc/import_group:nth=2", want: []Fault{{Kind: FaultCode, Code: 10002, Command: tencentim.CmdImportGroup, Nth: 2}}},
		{spec: "explode:p=0.1", wantErr: "unknown kind"},
		{spec: "code=abc:p=0.1", wantErr: "bad code"},
		{spec: "code=0:p=0.1", wantErr: "bad code"},
		{spec: "code:p=0.1", wantErr: "unknown kind"},
		{spec: "reset=5:p=0.1", wantErr: "takes no value"},
		{spec: "reset", wantErr: "exactly one of"},
		{spec: "reset:p=0.1:nth=2", wantErr: "exactly one of"},
		{spec: "reset:p=1.5", wantErr: "bad probability"},
		{spec: "reset:p=0", wantErr: "bad probability"},
		{spec: "reset:nth=0", wantErr: "bad nth"},
		{spec: "reset:nth=-1", wantErr: "bad nth"},
		{spec: "reset:nth=2:cmd=no_such_command", wantErr: "unknown command"},
		{spec: "reset:nth=2:when=later", wantErr: "unknown option"},
		{spec: "reset:nth", wantErr: "not key=value"},
		{spec: "reset:nth=2,", wantErr: "unknown kind"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ParseFaults(tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestNewRejectsBadFaults(t *testing.T) {
	tests := []Fault{
		{Kind: FaultCode, Nth: 1},                  // no code
		{Kind: FaultReset, Nth: 1, Code: 5},        // code on a non-code fault
		{Kind: 0, Nth: 1},                          // no kind
		{Kind: FaultReset},                         // neither p nor nth
		{Kind: FaultReset, Probability: -0.5},      // bad probability
		{Kind: FaultReset, Nth: 1, Probability: 1}, // both
		{Kind: FaultReset, Nth: 1, Command: tencentim.Command{Service: "x", Name: "y"}},
	}
	for _, f := range tests {
		t.Run(f.Kind.String(), func(t *testing.T) {
			_, err := New(Config{SDKAppID: 1, SecretKey: secret.New("k"), Admins: []string{"a"}, Faults: []Fault{f}})
			if err == nil {
				t.Errorf("New accepted fault %+v", f)
			}
		})
	}
}

// spec §14 item 11: every fault kind, as the client sees it, and what it does to
// the state.
func TestFaultKinds(t *testing.T) {
	tests := []struct {
		name       string
		fault      Fault
		wantCode   int  // vendor code, or 0 for a transport-level failure
		wantStatus int  // HTTP status of the *tencentim.Error, 0 if none
		applied    bool // the account exists afterwards
	}{
		{"code 60008", Fault{Kind: FaultCode, Code: 60008, Nth: 1}, 60008, 0, false},
		{"code 70169", Fault{Kind: FaultCode, Code: 70169, Nth: 1}, 70169, 0, false},
		{"code 91000", Fault{Kind: FaultCode, Code: 91000, Nth: 1}, 91000, 0, false},
		{"code 10002", Fault{Kind: FaultCode, Code: 10002, Nth: 1}, 10002, 0, false},
		{"code 60007", Fault{Kind: FaultCode, Code: 60007, Nth: 1}, 60007, 0, false},
		{"http 502", Fault{Kind: FaultHTTP502, Nth: 1}, 0, http.StatusBadGateway, false},
		{"reset", Fault{Kind: FaultReset, Nth: 1}, 0, 0, false},
		// The state changed although the client saw an error: resume logic must
		// survive this.
		{"drop response", Fault{Kind: FaultDropResponse, Nth: 1}, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.fault
			f.Command = tencentim.CmdAccountImport
			e := newTestEnv(t, func(c *Config) { c.Faults = []Fault{f} })
			_, err := e.client.AccountImport(t.Context(), &tencentim.AccountImportRequest{UserID: "u1"})
			if err == nil {
				t.Fatal("call succeeded, want the injected failure")
			}
			var te *tencentim.Error
			if !errors.As(err, &te) {
				t.Fatalf("error %v is not a *tencentim.Error", err)
			}
			if te.Code != tc.wantCode || te.HTTPStatus != tc.wantStatus {
				t.Errorf("Code %d HTTPStatus %d, want %d %d (%v)", te.Code, te.HTTPStatus, tc.wantCode, tc.wantStatus, err)
			}
			if !tencentim.IsRetryable(err) {
				t.Errorf("%v is not retryable; every injected fault must be", err)
			}
			e.srv.mu.Lock()
			applied := e.srv.users.exists("u1")
			e.srv.mu.Unlock()
			if applied != tc.applied {
				t.Errorf("account applied = %v, want %v", applied, tc.applied)
			}
			// Faults apply only to their command.
			if _, err := e.client.AccountCheck(t.Context(), &tencentim.AccountCheckRequest{CheckItem: []tencentim.AccountCheckItem{{UserID: "u1"}}}); err != nil {
				t.Errorf("other command failed: %v", err)
			}
		})
	}
}

// A dropped importmsg answer followed by the resend the client would do leaves one
// message and one unread count: the dedup rule (spec §7.1) makes the resend safe.
func TestDropResponseThenResend(t *testing.T) {
	e := newTestEnv(t, func(c *Config) {
		c.Faults = []Fault{{Command: tencentim.CmdImportMsg, Nth: 2, Kind: FaultDropResponse}}
	})
	e.importUsers(t, "a", "b")
	msg := func(seq uint32) *tencentim.ImportMsgRequest {
		return &tencentim.ImportMsgRequest{SyncFromOldSystem: 5, FromAccount: "a", ToAccount: "b", MsgSeq: seq, MsgRandom: 7, MsgTimeStamp: 1000, MsgBody: textBody("hi")}
	}
	if _, err := e.client.ImportMsg(t.Context(), msg(1)); err != nil {
		t.Fatalf("call 1: %v", err)
	}
	if _, err := e.client.ImportMsg(t.Context(), msg(2)); err == nil {
		t.Fatal("call 2 succeeded, want a dropped answer")
	}
	// The resume resends message 2 (call 3: the rule fires on 2, 4, ...).
	if _, err := e.client.ImportMsg(t.Context(), msg(2)); err != nil {
		t.Fatalf("resend: %v", err)
	}
	st := e.srv.State()
	if len(st.C2C) != 1 || len(st.C2C[0].Messages) != 2 {
		t.Fatalf("C2C = %+v, want two messages", st.C2C)
	}
	unread, err := e.client.GetC2CUnreadMsgNum(t.Context(), &tencentim.GetC2CUnreadMsgNumRequest{ToAccount: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if unread.AllC2CUnreadMsgNum != 2 {
		t.Errorf("unread = %d, want 2 (the resend must not count again)", unread.AllC2CUnreadMsgNum)
	}
}

// An answer later than the client's timeout is the other way to lose an answer:
// the request is applied, the client times out (retryable).
func TestLatencyBeyondClientTimeout(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.Latency = time.Hour })
	client, err := tencentim.NewClient(tencentim.Config{
		SDKAppID: testSDKAppID, SecretKey: secret.New(testKey), Admin: testAdmin,
		Endpoint: e.hs.URL, Now: e.clock.Now, Timeout: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.AccountImport(t.Context(), &tencentim.AccountImportRequest{UserID: "slow"})
	if err == nil || !tencentim.IsRetryable(err) {
		t.Fatalf("err = %v, want a retryable timeout", err)
	}
	// The handler ran (and released the lock) before the wait.
	if got := e.srv.State().Accounts; len(got) != 1 || got[0].UserID != "slow" {
		t.Errorf("accounts = %+v, want [slow]", got)
	}
}

// Nth counts the calls of its command (1-based); the zero Command counts every
// command together; the first rule that fires wins, but every rule counts.
func TestFaultSchedule(t *testing.T) {
	check := &tencentim.AccountCheckRequest{CheckItem: []tencentim.AccountCheckItem{}}
	tests := []struct {
		name   string
		faults []Fault
		calls  []tencentim.Command
		want   []int // code per call
	}{
		{
			name:   "every third account_check",
			faults: []Fault{{Command: tencentim.CmdAccountCheck, Nth: 3, Kind: FaultCode, Code: 91000}},
			calls:  slices.Repeat([]tencentim.Command{tencentim.CmdAccountCheck}, 7),
			want:   []int{0, 0, 91000, 0, 0, 91000, 0},
		},
		{
			name:   "other commands do not count",
			faults: []Fault{{Command: tencentim.CmdAccountCheck, Nth: 2, Kind: FaultCode, Code: 91000}},
			calls:  []tencentim.Command{tencentim.CmdAccountCheck, tencentim.CmdRecentContactList, tencentim.CmdAccountCheck, tencentim.CmdRecentContactList},
			want:   []int{0, 50001, 91000, 50001},
		},
		{
			name:   "zero command counts all",
			faults: []Fault{{Nth: 2, Kind: FaultCode, Code: 60008}},
			calls:  []tencentim.Command{tencentim.CmdAccountCheck, tencentim.CmdRecentContactList, tencentim.CmdAccountCheck, tencentim.CmdRecentContactList},
			want:   []int{0, 60008, 0, 60008},
		},
		{
			name: "first rule wins, both count",
			faults: []Fault{
				{Nth: 2, Kind: FaultCode, Code: 60008},
				{Nth: 3, Kind: FaultCode, Code: 91000},
			},
			calls: slices.Repeat([]tencentim.Command{tencentim.CmdAccountCheck}, 6),
			want:  []int{0, 60008, 91000, 60008, 0, 60008},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, func(c *Config) { c.Faults = tc.faults })
			var got []int
			for _, cmd := range tc.calls {
				var err error
				if cmd == tencentim.CmdAccountCheck {
					_, err = e.client.AccountCheck(t.Context(), check)
				} else {
					_, err = e.client.RecentContactList(t.Context(), &tencentim.RecentContactListRequest{FromAccount: "nobody"})
				}
				got = append(got, codeOf(err))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("codes = %v, want %v", got, tc.want)
			}
		})
	}
}

// Calls that fail authentication are not counted by fault rules.
func TestFaultsCountOnlyAuthenticatedCalls(t *testing.T) {
	e := newTestEnv(t, func(c *Config) {
		c.Faults = []Fault{{Command: tencentim.CmdAccountCheck, Nth: 2, Kind: FaultCode, Code: 91000}}
	})
	bad := e.urlWith(t, tencentim.CmdAccountCheck, func(q url.Values) { q.Set("usersig", "garbage") })
	if env := e.postEnvelope(t, http.MethodPost, bad, []byte(`{"CheckItem":[]}`)); env.ErrorCode != 70003 {
		t.Fatalf("bad sig: %+v", env)
	}
	check := &tencentim.AccountCheckRequest{CheckItem: []tencentim.AccountCheckItem{}}
	if _, err := e.client.AccountCheck(t.Context(), check); err != nil {
		t.Fatalf("first authenticated call: %v", err)
	}
	if _, err := e.client.AccountCheck(t.Context(), check); codeOf(err) != 91000 {
		t.Fatalf("second authenticated call: %v, want 91000", err)
	}
}

// Probabilistic faults are reproducible for a seed and vary across seeds.
func TestFaultProbabilityIsSeeded(t *testing.T) {
	run := func(seed int64) []int {
		e := newTestEnv(t, func(c *Config) {
			c.Seed = seed
			c.Faults = []Fault{{Command: tencentim.CmdAccountCheck, Probability: 0.3, Kind: FaultCode, Code: 60007}}
		})
		var codes []int
		for range 60 {
			_, err := e.client.AccountCheck(t.Context(), &tencentim.AccountCheckRequest{CheckItem: []tencentim.AccountCheckItem{}})
			codes = append(codes, codeOf(err))
		}
		return codes
	}
	a, b, c := run(1), run(1), run(2)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different faults:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 1 and 2 gave the same 60 draws")
	}
	n := 0
	for _, code := range a {
		if code == 60007 {
			n++
		}
	}
	if n == 0 || n == len(a) {
		t.Errorf("p=0.3 fired %d times out of %d", n, len(a))
	}
}

package sandbox

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/tencentim"
)

func TestParseRateLimits(t *testing.T) {
	documentedWith := func(cmd tencentim.Command, qps float64) map[tencentim.Command]float64 {
		m := DocumentedRateLimits()
		m[cmd] = qps
		return m
	}
	tests := []struct {
		spec    string
		want    map[tencentim.Command]float64
		wantErr string
	}{
		{spec: "", want: nil},
		{spec: "off", want: nil},
		{spec: "documented", want: DocumentedRateLimits()},
		{spec: "importmsg=200,import_group_msg=50", want: map[tencentim.Command]float64{
			tencentim.CmdImportMsg: 200, tencentim.CmdImportGroupMsg: 50,
		}},
		{spec: "openim/importmsg=0.5", want: map[tencentim.Command]float64{tencentim.CmdImportMsg: 0.5}},
		{spec: "documented, importmsg=50", want: documentedWith(tencentim.CmdImportMsg, 50)},
		{spec: "importmsg", wantErr: "not command=rate"},
		{spec: "importmsg=0", wantErr: "positive"},
		{spec: "importmsg=-3", wantErr: "positive"},
		{spec: "importmsg=fast", wantErr: "positive"},
		{spec: "importmsg=+Inf", wantErr: "positive"},
		{spec: "no_such=5", wantErr: "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ParseRateLimits(tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// spec §1.10: the documented table is the vendor's, e.g. importmsg 200/s,
// multiaccount_import 100/s, get_appid_group_list 1/s.
func TestDocumentedRateLimits(t *testing.T) {
	m := DocumentedRateLimits()
	for cmd, want := range map[tencentim.Command]float64{
		tencentim.CmdImportMsg: 200, tencentim.CmdMultiAccountImport: 100, tencentim.CmdGetAppIDGroupList: 1,
		tencentim.CmdAccountImport: 200, tencentim.CmdImportGroupMsg: 200,
	} {
		if m[cmd] != want {
			t.Errorf("%s = %v, want %v", cmd, m[cmd], want)
		}
	}
	m[tencentim.CmdImportMsg] = 1
	if tencentim.DocumentedRate[tencentim.CmdImportMsg] != 200 {
		t.Error("DocumentedRateLimits returned the shared table, not a copy")
	}
}

// spec §14 item 10: over a command's QPS the answer is 60007 (design §7 A24). The
// fake clock stands still, so the counts are exact: a full bucket of 5, then
// refusals, then one token per 200 ms.
func TestRateLimitCounts(t *testing.T) {
	e := newTestEnv(t, func(c *Config) {
		c.RateLimits = map[tencentim.Command]float64{tencentim.CmdAccountCheck: 5}
	})
	check := func(n int) (ok, limited int) {
		for range n {
			_, err := e.client.AccountCheck(t.Context(), &tencentim.AccountCheckRequest{CheckItem: []tencentim.AccountCheckItem{}})
			switch {
			case err == nil:
				ok++
			case codeOf(err) == 60007:
				if !tencentim.IsRateLimit(err) {
					t.Errorf("60007 is not a rate limit for the client: %v", err)
				}
				limited++
			default:
				t.Fatalf("unexpected error %v", err)
			}
		}
		return ok, limited
	}
	steps := []struct {
		name        string
		advance     time.Duration
		calls       int
		wantOK      int
		wantLimited int
	}{
		{"burst", 0, 8, 5, 3},
		{"still the same second", 0, 3, 0, 3},
		{"one token after 200ms", 200 * time.Millisecond, 2, 1, 1},
		{"full bucket after a second", time.Second, 7, 5, 2},
		{"never more than the burst", time.Hour, 6, 5, 1},
	}
	for _, st := range steps {
		e.clock.Advance(st.advance)
		ok, limited := check(st.calls)
		if ok != st.wantOK || limited != st.wantLimited {
			t.Errorf("%s: %d ok, %d limited; want %d, %d", st.name, ok, limited, st.wantOK, st.wantLimited)
		}
	}
	// Other commands have no limit.
	for range 20 {
		if _, err := e.client.MultiAccountImport(t.Context(), &tencentim.MultiAccountImportRequest{Accounts: []string{"u1"}}); err != nil {
			t.Fatalf("unlimited command: %v", err)
		}
	}
}

// The documented limits include get_appid_group_list's 1 call/s (item 10).
func TestDocumentedLimitOnePerSecond(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.RateLimits = DocumentedRateLimits() })
	var codes []int
	for range 3 {
		_, err := e.client.GetAppIDGroupList(t.Context(), &tencentim.GetAppIDGroupListRequest{})
		codes = append(codes, codeOf(err))
	}
	e.clock.Advance(time.Second)
	_, err := e.client.GetAppIDGroupList(t.Context(), &tencentim.GetAppIDGroupListRequest{})
	codes = append(codes, codeOf(err))
	if want := []int{0, 60007, 60007, 0}; !slices.Equal(codes, want) {
		t.Errorf("codes = %v, want %v", codes, want)
	}
}

// Rate limiting comes after authentication: refused calls do not use tokens.
func TestRateLimitAfterAuth(t *testing.T) {
	e := newTestEnv(t, func(c *Config) {
		c.RateLimits = map[tencentim.Command]float64{tencentim.CmdAccountCheck: 1}
	})
	bad := e.urlWith(t, tencentim.CmdAccountCheck, func(q url.Values) { q.Del("sdkappid") })
	for range 3 {
		if env := e.postEnvelope(t, "POST", bad, []byte(`{"CheckItem":[]}`)); env.ErrorCode != 60012 {
			t.Fatalf("unauthenticated call: %+v", env)
		}
	}
	if _, err := e.client.AccountCheck(t.Context(), &tencentim.AccountCheckRequest{CheckItem: []tencentim.AccountCheckItem{}}); err != nil {
		t.Fatalf("first authenticated call: %v", err)
	}
}

// BenchmarkImportMsg measures the sandbox's own throughput for importmsg over
// HTTP, unthrottled (design §8: the tool must never be bottlenecked by it).
func BenchmarkImportMsg(b *testing.B) {
	e := newTestEnvTB(b)
	e.srv.mu.Lock()
	e.srv.users.create("a")
	e.srv.users.create("b")
	e.srv.mu.Unlock()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := &tencentim.ImportMsgRequest{
				SyncFromOldSystem: 2, FromAccount: "a", ToAccount: "b",
				MsgSeq: e.srv.randUint32(), MsgRandom: e.srv.randUint32(), MsgTimeStamp: 1_600_000_000, MsgBody: textBody("hello"),
			}
			if _, err := e.client.ImportMsg(b.Context(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLatency shows that the configured latency is paid outside the state
// lock: with 1 ms of latency, parallel callers still overlap.
func BenchmarkLatency(b *testing.B) {
	e := newTestEnvTB(b, func(c *Config) { c.Latency = time.Millisecond })
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.client.AccountCheck(b.Context(), &tencentim.AccountCheckRequest{CheckItem: []tencentim.AccountCheckItem{}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

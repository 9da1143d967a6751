package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/plan"
	"github.com/immigrate/immigrate/report"
)

// skewedConversations writes a CSV source of 20 users and their one-to-one
// messages: u03 and u07 exchange big messages, each other pair of neighbours
// small ones. It returns the mapping's path and the line of the big
// conversation's first message.
func skewedConversations(t *testing.T, big, small int) (string, int) {
	t.Helper()
	dir := t.TempDir()
	var users, msgs strings.Builder
	users.WriteString("id\n")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&users, "u%02d\n", i)
	}
	msgs.WriteString("id,sender_id,recipient_id,sent_at,text\n")
	id, line, bigLine := 0, 1, 0
	conv := func(a, b string, n int) {
		for k := range n {
			id++
			line++
			from, to := a, b
			if k%2 == 1 {
				from, to = b, a
			}
			fmt.Fprintf(&msgs, "%d,%s,%s,2025-01-01T00:%02d:%02dZ,hello %d\n", id, from, to, k/60%60, k%60, k)
		}
	}
	// In stream order: by conversation, then time.
	for i := 1; i < 20; i++ {
		a, b := fmt.Sprintf("u%02d", i), fmt.Sprintf("u%02d", i+1)
		if i == 3 {
			bigLine = line + 1
			conv("u03", "u07", big)
		}
		conv(a, b, small)
	}
	mapping := "version: 1\nsource: {csv: {dir: .}}\n\ntarget:\n  sandbox: embedded\n\n" +
		"entities:\n  users: {file: users.csv}\n" +
		"  direct_messages: {file: direct_messages.csv, time: rfc3339}\n" +
		"messages: {default_kind: text, kinds: {text: {element: text}}}\n"
	for name, data := range map[string]string{
		"users.csv": users.String(), "direct_messages.csv": msgs.String(), "skewed.yaml": mapping,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "skewed.yaml"), bigLine
}

// TestValidateNamesTheStreamThatBoundsTheRun: one conversation of 300 messages
// among 19 of 5 is 395 importmsg calls, 2 s at 190/s, but the big one's 300
// calls go one after the other: 60 s at a 200 ms round trip. validate --rtt 200ms
// must say so and name it; at --rtt 0 the rate bounds the run.
func TestValidateNamesTheStreamThatBoundsTheRun(t *testing.T) {
	const big, small = 300, 5
	mapping, bigLine := skewedConversations(t, big, small)
	tests := []struct {
		rtt   string
		bound string
		say   string
	}{
		{"200ms", plan.BoundStream, "bounded by a single stream: conversation u03 ↔ u07, 300 calls one after the other × 200ms"},
		{"0s", plan.BoundRate, "bounded by the rate of openim/importmsg (395 calls at 190/s)"},
	}
	for _, tt := range tests {
		t.Run(tt.rtt, func(t *testing.T) {
			out := t.TempDir()
			code, stdout, stderr := runCLI(t, context.Background(), "validate", "-c", mapping, "--out", out, "--rtt", tt.rtt)
			if code != exitOK {
				t.Fatalf("exit %d; stderr %s\n%s", code, stderr, stdout)
			}
			if !strings.Contains(stdout, tt.say) {
				t.Errorf("the summary does not say %q:\n%s", tt.say, stdout)
			}
			data, err := os.ReadFile(filepath.Join(out, report.ValidateJSONFile))
			if err != nil {
				t.Fatal(err)
			}
			var doc struct{ Result plan.ValidateResult }
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			pl := doc.Result.Plan
			cp := pl.Critical
			// Accounts first: the 20 bare users in one multiaccount_import call at
			// 95/s, its answer a round trip later; then importmsg.
			calls := int64(big + 19*small)
			rttS := pl.RTTSeconds
			acct, acctPredicted := 1.0/95, 1.0/95+rttS
			rateBound := float64(calls) / 190
			if cp.Bound != tt.bound || cp.Dominant != "direct_messages" || cp.Branch != "direct" {
				t.Errorf("critical path %+v: want %s-bound direct_messages", cp, tt.bound)
			}
			switch tt.bound {
			case plan.BoundStream:
				s := cp.Stream
				wantOrigin := fmt.Sprintf("direct_messages.csv:%d", bigLine)
				if s == nil || s.A != "u03" || s.B != "u07" || s.Calls != big || s.Records != big || s.Origin != wantOrigin {
					t.Fatalf("bounding stream %+v, want u03/u07 with %d calls from %s", s, big, wantOrigin)
				}
				// The stream's 300 round trips include its last answer.
				if rttS != 0.2 || !near(cp.DirectSeconds, big*rttS) || !near(cp.Seconds, acct+big*rttS) || !near(cp.PredictedSeconds, acctPredicted+big*rttS) {
					t.Errorf("at %v s: %+v; want %v s of C2C after %v s of accounts", rttS, cp, big*rttS, acct)
				}
			case plan.BoundRate:
				if rttS != 0 || cp.Stream != nil || !near(cp.Seconds, acct+rateBound) || !near(cp.PredictedSeconds, cp.Seconds) {
					t.Errorf("at no round trip: %+v; want %v s by the rates", cp, acct+rateBound)
				}
			}
		})
	}
}

// TestRunEstimatesAtItsRTT: a run that reuses its plan estimates it again at
// its own --rtt, in report.json and in the run report, which sets the wall time
// beside the estimate.
func TestRunEstimatesAtItsRTT(t *testing.T) {
	t.Parallel()
	const big, small = 300, 5
	mapping, _ := skewedConversations(t, big, small)
	_, url := e2eSandbox(t, nil)
	mapping = pointAt(t, mapping, url, nil)
	out := t.TempDir()
	for _, tt := range []struct {
		rtt   string
		reuse bool
		bound string
	}{
		{"0s", false, plan.BoundRate},
		{"200ms", true, plan.BoundStream},
	} {
		code, stdout, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out, "--rtt", tt.rtt)
		if code != exitOK {
			t.Fatalf("run --rtt %s: exit %d\nstdout:\n%s\nstderr:\n%s", tt.rtt, code, stdout, stderr)
		}
		if reused := strings.Contains(stderr, "not read again"); reused != tt.reuse {
			t.Fatalf("run --rtt %s: plan reused %v, want %v:\n%s", tt.rtt, reused, tt.reuse, stderr)
		}
		var validated struct{ Result plan.ValidateResult }
		var run struct {
			Estimate   plan.CriticalPath `json:"estimate"`
			RTTSeconds float64           `json:"rtt_seconds"`
		}
		for name, doc := range map[string]any{report.ValidateJSONFile: &validated, "run-report.json": &run} {
			data, err := os.ReadFile(filepath.Join(out, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, doc); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		pl := validated.Result.Plan
		want, _ := time.ParseDuration(tt.rtt)
		if pl.RTTSeconds != want.Seconds() || pl.Critical.Bound != tt.bound {
			t.Errorf("run --rtt %s: report.json's plan at %v s bound by %q, want %v s by %q", tt.rtt, pl.RTTSeconds, pl.Critical.Bound, want.Seconds(), tt.bound)
		}
		if run.RTTSeconds != pl.RTTSeconds || !near(run.Estimate.Seconds, pl.Critical.Seconds) || run.Estimate.PredictedSeconds < run.Estimate.Seconds {
			t.Errorf("run --rtt %s: run report's estimate %+v at %v s, want the plan's %+v", tt.rtt, run.Estimate, run.RTTSeconds, pl.Critical)
		}
		// The first invocation sets its time beside the plan's estimate; the
		// second (over the same checkpoint) is one invocation of the migration,
		// whose whole time the run report sets beside the plan.
		summary := "(the plan: at least "
		if tt.reuse {
			summary = "(this invocation, the migration's 2nd; run-report.md"
		}
		if !strings.Contains(stdout, summary) {
			t.Errorf("run --rtt %s: the summary does not say %q beside the elapsed time:\n%s", tt.rtt, summary, stdout)
		}
		// At an assumed round trip of 0 the sandbox's measured one is far from
		// it: the summary gives the bound again at the engine's measured RTT.
		if measured := strings.Contains(stdout, " round trips measured: at least "); measured != (tt.rtt == "0s") {
			t.Errorf("run --rtt %s: the bound at the measured round trip shown %v, want %v:\n%s", tt.rtt, measured, tt.rtt == "0s", stdout)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

func TestRTTFlagRefusesNegative(t *testing.T) {
	for _, cmd := range []string{"validate", "run"} {
		code, _, stderr := runCLI(t, context.Background(), cmd, "-c", "../../testdata/demo/csv.yaml", "--out", t.TempDir(), "--rtt", "-1s")
		if code != exitUsage || !strings.Contains(stderr, "--rtt") {
			t.Errorf("%s --rtt -1s: exit %d, stderr %q; want a usage error", cmd, code, stderr)
		}
	}
}

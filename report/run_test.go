package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/plan"
)

func TestAccounting(t *testing.T) {
	res := &plan.ValidateResult{
		Entities: []plan.EntityCounts{
			{Entity: extract.Users, Read: 12, Valid: 10, Rejected: 2},
			{Entity: extract.Groups, Read: 3, Valid: 3},
			{Entity: extract.Members, Read: 9, Valid: 6, Rejected: 1, Skipped: 2},
			{Entity: extract.GroupMessages},
			{Entity: extract.DirectMessages, Read: 100, Valid: 98, Rejected: 2},
			{Entity: extract.Friends, Read: 4, Skipped: 4},
		},
		Accounts: plan.AccountSummary{Users: 10, Implied: 2, Total: 12},
	}
	finished := &load.Summary{Phases: map[load.Phase]*load.PhaseStats{
		load.PhaseAccounts:       {Read: 12, Imported: 11, Present: 1},
		load.PhaseGroups:         {Read: 3, Imported: 2, Rejected: 1},
		load.PhaseMembers:        {Read: 6, Imported: 6},
		load.PhaseGroupMessages:  {},
		load.PhaseDirectMessages: {Read: 98, Imported: 98},
	}}
	stopped := &load.Summary{Phases: map[load.Phase]*load.PhaseStats{
		load.PhaseAccounts:       {Read: 12, Imported: 12},
		load.PhaseGroups:         {Read: 3, Imported: 3},
		load.PhaseMembers:        {Read: 6, Imported: 6},
		load.PhaseDirectMessages: {Read: 60, Imported: 50, Rejected: 3},
	}}
	tests := []struct {
		name string
		sum  *load.Summary
		want []EntityAccounting
	}{
		{"finished run", finished, []EntityAccounting{
			{Entity: extract.Users, Read: 14, Imported: 11, Present: 1, Rejected: 2, Balanced: true},
			{Entity: extract.Groups, Read: 3, Imported: 2, Rejected: 1, Balanced: true},
			{Entity: extract.Members, Read: 9, Imported: 6, Rejected: 1, Skipped: 2, Balanced: true},
			{Entity: extract.GroupMessages, Balanced: true},
			{Entity: extract.DirectMessages, Read: 100, Imported: 98, Rejected: 2, Balanced: true},
			{Entity: extract.Friends, Read: 4, Skipped: 4, Balanced: true},
		}},
		{"stopped run: unsent records and records in flight break the identity", stopped, []EntityAccounting{
			{Entity: extract.Users, Read: 14, Imported: 12, Rejected: 2, Balanced: true},
			{Entity: extract.Groups, Read: 3, Imported: 3, Balanced: true},
			{Entity: extract.Members, Read: 9, Imported: 6, Rejected: 1, Skipped: 2, Balanced: true},
			{Entity: extract.GroupMessages, Balanced: true},
			{Entity: extract.DirectMessages, Read: 100, Imported: 50, Rejected: 5, InFlight: 7},
			{Entity: extract.Friends, Read: 4, Skipped: 4, Balanced: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Accounting(res, tt.sum)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d lines, want %d: %+v", len(got), len(tt.want), got)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("line %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}

	t.Run("in the reports", func(t *testing.T) {
		rr := NewRunReport(res, stopped, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		var js bytes.Buffer
		if err := rr.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		var back struct {
			Accounting []EntityAccounting `json:"accounting"`
		}
		if err := json.Unmarshal(js.Bytes(), &back); err != nil {
			t.Fatal(err)
		}
		if len(back.Accounting) != 6 || back.Accounting[4].Balanced || back.Accounting[4].InFlight != 7 {
			t.Errorf("run-report.json accounting = %+v", back.Accounting)
		}
		var md bytes.Buffer
		if err := rr.WriteMarkdown(&md); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"| users | 14 | 12 | 0 | 2 | 0 | holds |", "| direct_messages | 100 | 50 | 0 | 5 | 0 | does not hold: the run stopped before 45 records had an outcome (7 of them in flight) |"} {
			if !strings.Contains(md.String(), want) {
				t.Errorf("run-report.md lacks %q:\n%s", want, md.String())
			}
		}
	})
}

// TestRunSummaryAtMeasuredRTT: the summary gives the plan's bound again at the
// round trip the run measured when it is far from the one the plan assumed, and
// not when it is close.
func TestRunSummaryAtMeasuredRTT(t *testing.T) {
	res := sampleResult()
	// One conversation of 300 calls: stream-bound at 50 ms (15 s), rate-bound at 1 ms.
	res.Plan = plan.Plan{Phases: []plan.PhasePlan{
		{Phase: "direct_messages", Command: "openim/importmsg", Items: 300, Calls: 300, Rate: 190, DocumentedRate: 200, InFlight: 64,
			LongestStream: &plan.Stream{A: "u01", B: "u02", Origin: "direct.csv:2", Calls: 300, Records: 300}},
	}}.At(50 * time.Millisecond)
	for _, tt := range []struct {
		rtt      time.Duration
		measured bool
	}{
		{time.Millisecond, true},
		{40 * time.Millisecond, false},
		{60 * time.Millisecond, false},
		{150 * time.Millisecond, true},
	} {
		sum := &load.Summary{Elapsed: time.Minute, RTT: tt.rtt}
		var b bytes.Buffer
		WriteRunSummary(&b, res, sum, 1)
		out := b.String()
		if !strings.Contains(out, "(the plan: at least ") {
			t.Fatalf("rtt %v: no estimate beside the elapsed time:\n%s", tt.rtt, out)
		}
		at := res.Plan.At(tt.rtt).Critical
		want := fmt.Sprintf("; at the %s round trips measured: at least %s, about %s)", rtt(tt.rtt.Seconds()), dur(at.Seconds), dur(at.PredictedSeconds))
		if got := strings.Contains(out, want); got != tt.measured {
			t.Errorf("rtt %v: measured estimate shown %v, want %v (%q):\n%s", tt.rtt, got, tt.measured, want, out)
		}
		if at.Seconds == res.Plan.Critical.Seconds {
			t.Errorf("rtt %v: the estimate at the measured round trip equals the plan's (%v s): the test shows nothing", tt.rtt, at.Seconds)
		}
	}
}

func TestOrdinal(t *testing.T) {
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 22: "22nd", 101: "101st", 111: "111th", 112: "112th"} {
		if got := ordinal(n); got != want {
			t.Errorf("ordinal(%d) = %q, want %q", n, got, want)
		}
	}
}

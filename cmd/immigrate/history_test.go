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

	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/report"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// TestRunReportCoversEveryInvocation: a migration interrupted and resumed gets a
// run report over both invocations (issue 9): calls summed per API and per phase,
// time summed, each invocation listed with its outcome.
func TestRunReportCoversEveryInvocation(t *testing.T) {
	t.Parallel()
	srv, url := e2eSandbox(t, func(c *sandbox.Config) { c.Latency = 10 * time.Millisecond })
	dir := t.TempDir()
	var dms strings.Builder
	dms.WriteString("id,sender_id,recipient_id,sent_at,kind,text\n")
	for i := range 300 {
		fmt.Fprintf(&dms, "%d,alice,bob,%d,text,message %d\n", i+1, 1700000400000+int64(i)*1000, i)
	}
	files := map[string]string{
		"users.csv":           "id,nick,created_at\nalice,Alice,1700000000\nbob,Bob,1700000000\n",
		"groups.csv":          "id,owner_id,type,name,created_at\n",
		"group_members.csv":   "group_id,user_id,role,joined_at\n",
		"group_messages.csv":  "id,group_id,sender_id,sent_at,kind,text\n",
		"direct_messages.csv": dms.String(),
		"m.yaml":              fmt.Sprintf(optionalFieldsMapping, ""),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mapping := pointAt(t, filepath.Join(dir, "m.yaml"), url, nil)
	out := filepath.Join(dir, "out")

	// One conversation, one call in flight, 10 ms each: ~3 s. Stop the first
	// invocation, as Ctrl-C does, once the target holds 30 of the messages
	// (not after a fixed time: on a loaded machine the validation alone may
	// take a second).
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for ctx.Err() == nil {
			n := 0
			for _, c := range srv.State().C2C {
				n += len(c.Messages)
			}
			if n >= 30 {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	code, _, stderr := runCLIParallel(t, ctx, "run", "-c", mapping, "--out", out)
	cancel()
	if code != exitInterrupted {
		t.Fatalf("first run: exit %d, want %d (interrupted)\n%s", code, exitInterrupted, stderr)
	}
	first := readRunReport(t, out)
	code, stdout, stderr := runCLIParallel(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitOK {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
	}
	// The plan's estimate is the whole migration's: the resume's own elapsed
	// time is not set beside it (it would read as beating the lower bound).
	if strings.Contains(stdout, "(the plan: at least ") || !strings.Contains(stdout, "(this invocation, the migration's 2nd; run-report.md") {
		t.Errorf("second run's summary does not say its elapsed time is one invocation's:\n%s", stdout)
	}
	rr := readRunReport(t, out)
	if len(rr.Invocations) != 2 || rr.Invocations[0].Outcome != "interrupted" || rr.Invocations[1].Outcome != "finished" {
		t.Fatalf("invocations %+v, want the interrupted one and the finished one", rr.Invocations)
	}
	imp := tencentim.CmdImportMsg.String()
	firstCalls := first.APIs[imp].Calls
	if firstCalls == 0 || firstCalls >= 300 {
		t.Fatalf("the first invocation made %d importmsg calls, want some of the 300", firstCalls)
	}
	// Each invocation's own importmsg calls, from the history it left.
	runs, err := filepath.Glob(filepath.Join(out, report.HistoryDir, "*.json"))
	if err != nil || len(runs) != 2 {
		t.Fatalf("history files %v (%v), want 2", runs, err)
	}
	var own int64
	for _, f := range runs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var inv report.Invocation
		if err := json.Unmarshal(b, &inv); err != nil {
			t.Fatal(err)
		}
		if a := inv.APIs[imp]; a != nil {
			own += a.Calls
		}
	}
	total := rr.APIs[imp].Calls
	if total < 300 || total != own {
		t.Fatalf("importmsg calls over both invocations %d, the invocations' own %d (first %d)", total, own, firstCalls)
	}
	if sum := rr.Invocations[0].Calls + rr.Invocations[1].Calls; sumCalls(rr) != sum {
		t.Fatalf("report's calls %d, its invocations' %d", sumCalls(rr), sum)
	}
	var phase int64
	for _, p := range rr.Phases {
		if p.Phase == load.PhaseDirectMessages {
			phase = p.Calls
		}
	}
	if phase != total {
		t.Fatalf("direct_messages phase calls %d, importmsg calls %d", phase, total)
	}
	if want := rr.Invocations[0].Elapsed + rr.Invocations[1].Elapsed; rr.Elapsed != want || rr.Elapsed <= first.Elapsed {
		t.Fatalf("elapsed %v, want the invocations' sum %v (first alone %v)", rr.Elapsed, want, first.Elapsed)
	}
	md, err := os.ReadFile(filepath.Join(out, "run-report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "over 2 invocations") || !strings.Contains(string(md), "## Invocations") {
		t.Fatalf("run-report.md does not list the invocations:\n%s", md)
	}
}

type runReportJSON struct {
	Elapsed time.Duration `json:"elapsed_ns"`
	Phases  []struct {
		Phase load.Phase
		Calls int64
	} `json:"phases"`
	APIs        map[string]*load.APIStats `json:"apis"`
	Invocations []struct {
		Outcome string        `json:"outcome"`
		Calls   int64         `json:"calls"`
		Elapsed time.Duration `json:"elapsed_ns"`
	} `json:"invocations"`
}

func readRunReport(t *testing.T, out string) runReportJSON {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "run-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rr runReportJSON
	if err := json.Unmarshal(b, &rr); err != nil {
		t.Fatal(err)
	}
	return rr
}

func sumCalls(rr runReportJSON) int64 {
	var n int64
	for _, a := range rr.APIs {
		n += a.Calls
	}
	return n
}

package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update if the change is intended):\n--- got\n%s", name, got)
	}
}

var (
	when = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	meta = ValidateMeta{Mapping: "testdata/demo/csv.yaml", Source: "csv", Now: when, Rejects: "out/rejects.jsonl"}
)

func sampleResult() *plan.ValidateResult {
	return &plan.ValidateResult{
		Entities: []plan.EntityCounts{
			{Entity: extract.Users, Read: 1204, Valid: 1200, Repaired: 3, Rejected: 4},
			{Entity: extract.Groups, Read: 12, Valid: 10, Repaired: 1, Rejected: 2},
			{Entity: extract.Members, Read: 300, Valid: 288, Rejected: 2, Skipped: 10},
			{Entity: extract.GroupMessages, Read: 1_234_567, Valid: 1_234_560, Repaired: 2, Rejected: 7},
			{Entity: extract.DirectMessages, Read: 20_000_001, Valid: 20_000_000, Rejected: 1},
		},
		Accounts: plan.AccountSummary{Users: 1200, Implied: 2, Total: 1202},
		Issues: []plan.RuleSummary{
			{Entity: extract.Users, Rule: "user.id.too_long", Severity: "reject", Count: 3, Summary: "user id is longer than 32 bytes", Spec: "§3.1",
				Examples: []plan.Example{{Origin: "users.csv:25", LegacyID: "u20-llllllllllllllllllllllllllllllll3", Message: `user id "u20-llllllllllllllllllllllllllllllll3" is 37 bytes; TIM allows 32 (spec §3.1)`}}},
			{Entity: extract.Users, Rule: "csv.ragged_row", Severity: "reject", Count: 1, Summary: "CSV row with a different number of fields than the header", Spec: "RFC 4180",
				Examples: []plan.Example{{Origin: "users.csv:99", Message: "record has 2 fields,\nheader has 4 | pipe"}}},
			{Entity: extract.Groups, Rule: "group.name.truncated", Severity: "repair", Count: 1, Summary: "group name truncated to 30 bytes on a UTF-8 boundary", Spec: "§8.4",
				Examples: []plan.Example{{Origin: "groups.csv:7", LegacyID: "g3", Message: `group name "读书会 very long" is 41 bytes; truncated to 30 bytes`}}},
		},
		// The plan's times are the estimate's (plan.Plan.At), from the calls and streams.
		Plan: plan.Plan{Phases: []plan.PhasePlan{
			{Phase: "accounts", Command: "im_open_login_svc/multiaccount_import", Items: 1202, Calls: 13, Rate: 95, DocumentedRate: 100, InFlight: 64},
			{Phase: "groups", Command: "group_open_http_svc/import_group", Items: 10, Calls: 10, Rate: 190, DocumentedRate: 200, InFlight: 64},
			{Phase: "members", Command: "group_open_http_svc/import_group_member", Items: 288, Calls: 10, Rate: 190, DocumentedRate: 200, InFlight: 64},
			{Phase: "group_messages", Command: "group_open_http_svc/import_group_msg", Items: 1_234_560, Calls: 176_370, Rate: 190, DocumentedRate: 200, InFlight: 64,
				LongestStream: &plan.Stream{GroupID: "@TGS#_g2", LegacyID: "g2", Origin: "groups.csv:3", Calls: 142_858, Records: 1_000_000}},
			{Phase: "unread", Command: "group_open_http_svc/set_unread_msg_num", Items: 40, Calls: 40, Rate: 190, DocumentedRate: 200, InFlight: 64},
			{Phase: "direct_messages", Command: "openim/importmsg", Items: 20_000_000, Calls: 20_000_000, Rate: 190, DocumentedRate: 200, InFlight: 64,
				LongestStream: &plan.Stream{A: "u01", B: "u02", Origin: "direct.csv:2", Calls: 12_345, Records: 12_345}},
		}}.At(50 * time.Millisecond),
		TimeRanges: []plan.TimeRange{
			{Entity: extract.Users, First: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC), Last: time.Date(2022, 12, 31, 0, 0, 0, 0, time.UTC)},
			{Entity: extract.DirectMessages, First: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), Last: time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC)},
		},
		LargestGroups:          []plan.GroupSize{{LegacyID: "g2", GroupID: "@TGS#_g2", Type: "Community", Members: 20, Messages: 1_000_000}},
		LargestGroupsByMembers: []plan.GroupSize{{LegacyID: "g9", GroupID: "g9", Type: "Public", Members: 200, Messages: 3}},
		LargestConversations:   []plan.ConversationSize{{A: "u01", B: "u02", Messages: 12_345}},
		Warnings:               []string{"one-to-one history reaches back to 2023-01-01; extend the app's roaming retention before migrating."},
		Rewrites:               []plan.Rewrite{{Entity: extract.Users, Legacy: "bad user", Target: "bad_user_1a2b3c"}},
	}
}

func TestValidateGolden(t *testing.T) {
	tests := []struct {
		name  string
		res   *plan.ValidateResult
		write func(*bytes.Buffer, *plan.ValidateResult) error
	}{
		{"validate.md", sampleResult(), func(b *bytes.Buffer, r *plan.ValidateResult) error { return WriteValidateMarkdown(b, r, meta) }},
		{"validate.json", sampleResult(), func(b *bytes.Buffer, r *plan.ValidateResult) error { return WriteValidateJSON(b, r, meta) }},
		{"validate-summary.md", sampleResult(), func(b *bytes.Buffer, r *plan.ValidateResult) error { return WriteValidateSummary(b, r, meta) }},
		{"validate-empty.md", &plan.ValidateResult{}, func(b *bytes.Buffer, r *plan.ValidateResult) error {
			return WriteValidateMarkdown(b, r, ValidateMeta{})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b, tt.res); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, b.Bytes())
		})
	}
}

func TestValidateJSONFields(t *testing.T) {
	at := when.Add(time.Hour)
	m := meta
	m.GeneratedAt = at
	var b bytes.Buffer
	if err := WriteValidateJSON(&b, sampleResult(), m); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version     int       `json:"version"`
		Kind        string    `json:"kind"`
		GeneratedAt time.Time `json:"generated_at"`
		Rejected    int64     `json:"rejected"`
		Result      struct {
			Entities []map[string]any `json:"entities"`
			Plan     struct {
				Critical map[string]any `json:"critical"`
			} `json:"plan"`
		} `json:"result"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != 1 || doc.Kind != "validate" || !doc.GeneratedAt.Equal(at) || doc.Rejected != 16 {
		t.Errorf("header %+v", doc)
	}
	for _, key := range []string{"entity", "read", "valid", "repaired", "rejected", "skipped"} {
		if _, ok := doc.Result.Entities[0][key]; !ok {
			t.Errorf("entities lack %q: %v", key, doc.Result.Entities[0])
		}
	}
	if doc.Result.Plan.Critical["dominant"] != "direct_messages" {
		t.Errorf("critical %v", doc.Result.Plan.Critical)
	}
}

// TestValidateSummaryNamesTheBound: the summary says what bounds the run: the
// API's rate, the single stream it waits for, or the calls in flight.
func TestValidateSummaryNamesTheBound(t *testing.T) {
	tests := []struct {
		name string
		edit func(ph []plan.PhasePlan) // of the sample's rows
		rtt  time.Duration
		say  string
	}{
		{"rate", func([]plan.PhasePlan) {}, 50 * time.Millisecond,
			"direct_messages dominates (100%), bounded by the rate of openim/importmsg (20,000,000 calls at 190/s)"},
		{"stream", func(ph []plan.PhasePlan) { ph[len(ph)-1].Calls = 200_000 }, 50 * time.Millisecond,
			"group_messages dominates (100%), bounded by a single stream: group @TGS#_g2 (legacy g2), 142,858 calls one after the other × 50ms"},
		{"calls in flight", func(ph []plan.PhasePlan) {
			for i := range ph {
				ph[i].InFlight = 1
			}
		}, time.Second, "direct_messages dominates (100%), bounded by the calls in flight: 20,000,000 calls × 1s ÷ 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := sampleResult()
			tt.edit(res.Plan.Phases)
			res.Plan = res.Plan.At(tt.rtt)
			var b bytes.Buffer
			if err := WriteValidateSummary(&b, res, meta); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), tt.say) {
				t.Errorf("summary does not say %q:\n%s", tt.say, b.String())
			}
		})
	}
}

func TestTableAlignment(t *testing.T) {
	tb := newTable("name", "count ")
	tb.add("读书会", "1")
	tb.add("a|b", "1,000")
	var b bytes.Buffer
	if err := tb.write(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := []string{
		"| name   | count |",
		"|--------|------:|",
		"| 读书会 |     1 |",
		`| a\|b   | 1,000 |`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), strings.Join(want, "\n"))
	}
}

func TestFormats(t *testing.T) {
	nums := []struct {
		in   int64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {-1234567, "-1,234,567"}, {20_000_000, "20,000,000"}}
	for _, tt := range nums {
		if got := num(tt.in); got != tt.want {
			t.Errorf("num(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
	durs := []struct {
		in   float64
		want string
	}{{0, "0s"}, {0.051, "0.05s"}, {42, "42s"}, {61, "1m01s"}, {3600*3 + 25*60 + 10, "3h25m10s"}, {100_000, "1d 3h46m"}}
	for _, tt := range durs {
		if got := dur(tt.in); got != tt.want {
			t.Errorf("dur(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRejectsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), RejectsFileName)
	rf, err := CreateRejects(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []load.Reject{
		{Entity: "users", Origin: "users.csv:3", LegacyID: "a<b>&c", Rule: "user.id.invalid_chars", Message: "user id \"a<b>&c\" has…"},
		{Entity: "group_messages", Origin: "group_messages.csv:9", Rule: "csv.ragged_row", Message: "2 fields"},
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := rf.Reject(want[1]); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := rf.Reject(want[0]); err != nil {
		t.Fatal(err)
	}
	if err := rf.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rf.Reject(want[0]); err == nil {
		t.Error("Reject after Close succeeded")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"legacy_id":"a<b>&c"`) || strings.Contains(string(data), "severity") {
		t.Errorf("rejects.jsonl escapes HTML or writes severity:\n%s", data)
	}
	got, err := ReadRejects(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 51 || rf.Count() != 51 || got[50] != want[0] {
		t.Errorf("read back %d lines (count %d), last %+v", len(got), rf.Count(), got[len(got)-1])
	}
}

// TestRejectsFileReplacesWhole: until Close the previous rejects.jsonl stays as it
// was, Abort keeps it, and neither leaves a temporary file (issue 13).
func TestRejectsFileReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, RejectsFileName)
	old := `{"entity":"users","origin":"users.csv:2","legacy_id":"u1","rule":"old","message":"m"}` + "\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(when, want string) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Errorf("%s: the file holds %q, want %q", when, b, want)
		}
	}
	rj := load.Reject{Entity: "users", Origin: "users.csv:3", LegacyID: "u2", Rule: "new", Message: "m"}
	for _, commit := range []bool{false, true} {
		rf, err := CreateRejects(path)
		if err != nil {
			t.Fatal(err)
		}
		for range 2000 { // more than the buffer holds
			if err := rf.Reject(rj); err != nil {
				t.Fatal(err)
			}
		}
		check("before Close", old)
		if commit {
			if err := rf.Close(); err != nil {
				t.Fatal(err)
			}
			rf.Abort() // a no-op after Close
			b, _ := os.ReadFile(path)
			if got, err := ReadRejects(bytes.NewReader(b)); err != nil || len(got) != 2000 || got[0] != rj {
				t.Errorf("after Close: %d lines, %v", len(got), err)
			}
		} else {
			rf.Abort()
			if err := rf.Close(); err == nil {
				t.Error("Close after Abort succeeded")
			}
			check("after Abort", old)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Errorf("the directory holds %d files, want only %s", len(ents), RejectsFileName)
		}
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/report"
	"github.com/immigrate/immigrate/transform"
)

// unknownUsersMapping validates a direct-message export whose one message comes
// from "ghost", a user absent from users.csv (a deleted account); %s is the
// ids.unknown_users policy.
const unknownUsersMapping = `version: 1
source:
  csv: {dir: .}
target:
  sandbox: embedded
entities:
  users: {file: users.csv, time: unix}
  direct_messages: {file: direct_messages.csv, time: unix_ms}
ids:
  unknown_users: %s
`

// TestValidateUnknownUsers checks that ids.unknown_users reaches transform through
// wiring.go: under import the unknown sender is counted as an implied account and
// its message is kept; under reject the message is rejected (design §3 phase 1).
func TestValidateUnknownUsers(t *testing.T) {
	tests := []struct {
		policy       string
		wantCode     int
		wantImplied  int64
		wantRejected int64
		wantRule     string // of the one reject, if any
	}{
		{policy: "import", wantCode: exitOK, wantImplied: 1},
		{policy: "reject", wantCode: exitRejected, wantRejected: 1, wantRule: transform.RuleDirectMessageSenderUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{
				"users.csv":           "id,nick,created_at\nalice,Alice,1700000000\n",
				"direct_messages.csv": "id,sender_id,recipient_id,sent_at,kind,text\nm1,ghost,alice,1700000001000,text,hello\n",
				"m.yaml":              fmt.Sprintf(unknownUsersMapping, tt.policy),
			}
			for name, body := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(dir, "out")
			code, stdout, stderr := runCLI(t, context.Background(), "validate", "-c", filepath.Join(dir, "m.yaml"), "--out", out, "--now", demoNow)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s\n%s", code, tt.wantCode, stderr, stdout)
			}

			var rep reportJSON
			data, err := os.ReadFile(filepath.Join(out, report.ValidateJSONFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &rep); err != nil {
				t.Fatal(err)
			}
			if a := rep.Result.Accounts; a.Implied != tt.wantImplied || a.Users != 1 || a.Total != 1+tt.wantImplied {
				t.Errorf("accounts = %+v, want 1 user and %d implied", a, tt.wantImplied)
			}
			dm := rep.Result.Counts(extract.DirectMessages)
			if dm.Read != 1 || dm.Rejected != tt.wantRejected || dm.Valid != 1-tt.wantRejected {
				t.Errorf("direct messages = %+v, want 1 read, %d rejected", dm, tt.wantRejected)
			}
			if rep.Rejected != tt.wantRejected {
				t.Errorf("report.json says %d rejected, want %d", rep.Rejected, tt.wantRejected)
			}

			rejects := readJSONL[load.Reject](t, filepath.Join(out, report.RejectsFileName))
			if int64(len(rejects)) != tt.wantRejected {
				t.Fatalf("rejects.jsonl = %+v, want %d rejects", rejects, tt.wantRejected)
			}
			for _, rj := range rejects {
				if rj.Rule != tt.wantRule || rj.LegacyID != "m1" {
					t.Errorf("reject %+v, want message m1 under %s", rj, tt.wantRule)
				}
			}
		})
	}
}

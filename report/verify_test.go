package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/verify"
)

// TestVerifyFiles: the three reports name each finding with its origin, say
// whether everything matched, and are written without leaving temporary files.
func TestVerifyFiles(t *testing.T) {
	res := &verify.Result{
		Sample: 100,
		Entities: []verify.Counts{
			{Entity: extract.Users, Expected: 3, Present: 3},
			{Entity: extract.GroupMessages, Expected: 5, Present: 3, Missing: 1, Different: 1},
		},
		Findings: []verify.Finding{
			{Entity: extract.GroupMessages, Kind: verify.KindMissing, Origin: "group_messages.csv:7", LegacyID: "m6", Target: "g1", Detail: "no message with Random 9"},
			{Entity: extract.GroupMessages, Kind: verify.KindDifferent, Fields: []string{verify.FieldText}, Origin: "group_messages.csv:9",
				LegacyID: "m8", Target: "g1 MsgSeq 4", Detail: `body "<b>hi</b>", target "tampered"`},
		},
		Warnings: []string{"12 one-to-one messages are beyond retention"},
	}
	dir := t.TempDir()
	meta := VerifyMeta{Mapping: "m.yaml", Target: "http://127.0.0.1:1", Plan: "out/plan", Started: time.Unix(1_700_000_000, 0), Elapsed: time.Second}
	if err := WriteVerifyFiles(dir, res, meta); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("%d files in the output directory, want the 3 reports only", len(entries))
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	md, page := read(VerifyMarkdownFile), read(VerifyHTMLFile)
	for _, want := range []string{"1 missing, 1 different", "group_messages.csv:7", "different: text", "beyond retention", "| group_messages |"} {
		if !strings.Contains(md, want) {
			t.Errorf("verify.md lacks %q:\n%s", want, md)
		}
	}
	for _, want := range []string{"group_messages.csv:9", "&lt;b&gt;hi&lt;/b&gt;", "<svg", "class=\"bad\""} {
		if !strings.Contains(page, want) {
			t.Errorf("verify.html lacks %q", want)
		}
	}
	var doc struct {
		OK     bool          `json:"ok"`
		Result verify.Result `json:"result"`
	}
	if err := json.Unmarshal([]byte(read(VerifyJSONFile)), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OK || len(doc.Result.Findings) != 2 || doc.Result.Findings[1].Origin != "group_messages.csv:9" {
		t.Errorf("verify.json: %+v", doc)
	}
	var b bytes.Buffer
	ok := &verify.Result{Sample: 5, Entities: []verify.Counts{{Entity: extract.Users, Expected: 2, Present: 2}}}
	if err := WriteVerifyMarkdown(&b, ok, meta); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Everything matches") || !strings.Contains(b.String(), "5 % sample") {
		t.Errorf("verify.md of a clean sample:\n%s", b.String())
	}
}

package main

import (
	"bytes"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/immigrate/immigrate/urlcheck"
)

// writeCSV writes rows (the first the header) as a CSV file, quoting as needed.
func writeCSV(t *testing.T, path string, rows ...[]string) {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunRichMessages imports posts with captions and files, replies, edits and
// reactions, an over-long text and an attachment that is not media into a sandbox over HTTP, and reads the bodies back byte for byte.
func TestRunRichMessages(t *testing.T) {
	t.Parallel()
	srv, url := e2eSandbox(t, nil)
	dir := t.TempDir()
	cols := []string{"id", "sender_id", "recipient_id", "sent_at", "kind", "text", "url", "file_name", "size", "width", "height",
		"attachments", "reply_to", "thread_id", "edited_at", "reactions"}
	gcols := append([]string{"id", "group_id"}, cols[1:]...)
	gcols = append(gcols[:3], gcols[4:]...) // no recipient_id
	files := `[{"kind":"image","url":"https://old.example/up/a.png","size":10,"width":4,"height":3},{"url":"/files/b.pdf","file_name":"b.pdf","size":20}]`
	long := strings.Repeat("é", 7000) // 14,000 bytes
	writeCSV(t, filepath.Join(dir, "users.csv"), []string{"id", "nick", "created_at"},
		[]string{"alice", "Alice", "1700000000"}, []string{"bob", "Bob", "1700000000"})
	writeCSV(t, filepath.Join(dir, "groups.csv"), []string{"id", "owner_id", "type", "name", "created_at"},
		[]string{"g1", "alice", "Public", "Team", "1700000100"})
	writeCSV(t, filepath.Join(dir, "group_members.csv"), []string{"group_id", "user_id", "role", "joined_at"},
		[]string{"g1", "bob", "Member", "1700000200"})
	writeCSV(t, filepath.Join(dir, "group_messages.csv"), gcols,
		[]string{"g1m1", "g1", "bob", "1700000300000", "text", "see files", "", "", "", "", "", files, "", "", "", ""},
		[]string{"g1m2", "g1", "alice", "1700000301000", "text", "thanks", "", "", "", "", "", "", "g1m1", "g1m1", "", `{"+1":["bob"]}`})
	writeCSV(t, filepath.Join(dir, "direct_messages.csv"), cols,
		[]string{"d1", "alice", "bob", "1700000400000", "text", "caption", "", "", "", "", "", files, "", "", "", ""},
		[]string{"d2", "bob", "alice", "1700000401000", "text", "reply", "", "", "", "", "", "", "d1", "d1", "1700000402000", `{"heart":["alice"]}`},
		[]string{"d3", "bob", "alice", "1700000403000", "text", long, "", "", "", "", "", "", "", "", "", ""},
		[]string{"d4", "bob", "alice", "1700000404000", "text", "bad file", "", "", "", "", "", `[{"kind":"text","url":"/c.zip"}]`, "", "", "", ""})
	rest := `
messages:
  url_template: "https://cdn.example.com/{path}"
  keep_legacy_id: true
policies: {oversize: truncate}
`
	if err := os.WriteFile(filepath.Join(dir, "m.yaml"), []byte(fmt.Sprintf(optionalFieldsMapping, rest)), 0o644); err != nil {
		t.Fatal(err)
	}
	mapping := pointAt(t, filepath.Join(dir, "m.yaml"), url, nil)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCLIParallel(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitRejected {
		t.Fatalf("immigrate run: exit %d, want %d (d4 rejected)\nstdout:\n%s\nstderr:\n%s", code, exitRejected, stdout, stderr)
	}
	rejects, err := os.ReadFile(filepath.Join(out, "rejects.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(rejects, []byte(`"message.attachments.invalid"`)) || !bytes.Contains(rejects, []byte(`direct_messages.csv:5`)) ||
		bytes.Count(rejects, []byte("\n")) != 1 {
		t.Errorf("rejects.jsonl, want one message.attachments.invalid naming direct_messages.csv:5:\n%s", rejects)
	}

	img := "https://cdn.example.com/up/a.png"
	pdf := "https://cdn.example.com/files/b.pdf"
	st := srv.State()
	if len(st.Groups) != 1 || len(st.Groups[0].Messages) != 2 {
		t.Fatalf("sandbox groups %+v, want g1 with 2 messages", st.Groups)
	}
	wantGroup := `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"see files"}},{"MsgType":"TIMCustomElem","MsgContent":{"Data":"[{\"type\":\"image\",\"url\":\"` +
		img + `\",\"size\":10,\"width\":4,\"height\":3},{\"type\":\"file\",\"url\":\"` + pdf + `\",\"name\":\"b.pdf\",\"size\":20}]","Desc":"[2 files]","Ext":"immigrate.media"}}]`
	if got := string(st.Groups[0].Messages[0].MsgBody); got != wantGroup {
		t.Errorf("group post body\n got %s\nwant %s", got, wantGroup)
	}
	if len(st.C2C) != 1 || len(st.C2C[0].Messages) != 3 {
		t.Fatalf("sandbox C2C %+v, want alice-bob with 3 messages", st.C2C)
	}
	msgs := st.C2C[0].Messages
	wantDM := `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"caption"}},` +
		`{"MsgType":"TIMImageElem","MsgContent":{"UUID":"` + md5hex(img) + `","ImageFormat":3,"ImageInfoArray":[` +
		`{"Type":1,"Size":10,"Width":4,"Height":3,"URL":"` + img + `"},{"Type":2,"Size":10,"Width":4,"Height":3,"URL":"` + img + `"},` +
		`{"Type":3,"Size":10,"Width":4,"Height":3,"URL":"` + img + `"}]}},` +
		`{"MsgType":"TIMFileElem","MsgContent":{"Url":"` + pdf + `","UUID":"` + md5hex(pdf) + `","FileSize":20,"FileName":"b.pdf","Download_Flag":2}}]`
	if got := string(msgs[0].MsgBody); got != wantDM {
		t.Errorf("direct post body\n got %s\nwant %s", got, wantDM)
	}
	if got, want := msgs[0].CloudCustomData, `{"legacy_id":"d1"}`; got != want {
		t.Errorf("d1 CloudCustomData %s, want %s", got, want)
	}
	if got, want := msgs[1].CloudCustomData, `{"legacy_id":"d2","reply_to":"d1","thread_id":"d1","edited_at":1700000402,"reactions":{"heart":["alice"]}}`; got != want {
		t.Errorf("d2 CloudCustomData %s, want %s", got, want)
	}
	body := string(msgs[2].MsgBody)
	if n := len(body) + len(msgs[2].CloudCustomData); n > 12000 || !strings.Contains(body, `…[truncated]"}}]`) || !utf8.ValidString(body) {
		t.Errorf("d3: body + CloudCustomData %d bytes, want ≤ 12,000, valid UTF-8 and ending with the marker", n)
	}
	report, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, rule := range []string{"message.body.truncated", "group_message.cloud_data.dropped", "message.attachments.invalid"} {
		if !bytes.Contains(report, []byte(rule)) {
			t.Errorf("report.md does not mention %s", rule)
		}
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestValidateCheckURLs: validate --check-urls HEADs the rewritten media URLs
// on a loopback server and lists the dead one with its record in report.md and
// report.json; the rest validates as usual (exit 0).
func TestValidateCheckURLs(t *testing.T) {
	t.Parallel()
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/up/a.png" {
			http.NotFound(w, r)
		}
	}))
	defer cdn.Close()
	dir := t.TempDir()
	cols := []string{"id", "sender_id", "recipient_id", "sent_at", "kind", "text", "attachments"}
	writeCSV(t, filepath.Join(dir, "users.csv"), []string{"id", "nick", "created_at"},
		[]string{"alice", "Alice", "1700000000"}, []string{"bob", "Bob", "1700000000"})
	writeCSV(t, filepath.Join(dir, "direct_messages.csv"), cols,
		[]string{"d1", "alice", "bob", "1700000400000", "text", "files",
			`[{"kind":"image","url":"/up/a.png","width":4,"height":3},{"url":"/gone.pdf"}]`})
	mapping := fmt.Sprintf(`version: 1
source:
  csv: {dir: .}
target:
  sandbox: embedded
entities:
  users: {file: users.csv, time: unix}
  direct_messages: {file: direct_messages.csv, time: unix_ms}
messages:
  url_template: "%s/{path}"
`, cdn.URL)
	if err := os.WriteFile(filepath.Join(dir, "m.yaml"), []byte(mapping), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCLIParallel(t, t.Context(), "validate", "-c", filepath.Join(dir, "m.yaml"), "--out", out,
		"--check-urls", "--check-urls-concurrency", "2")
	if code != exitOK {
		t.Fatalf("validate: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if !bytes.Contains(md, []byte("2 checked (HEAD), 1 live, 1 dead.")) ||
		!regexp.MustCompile(`\| direct_messages +\| direct_messages\.csv:2 +\| d1 +\| `+regexp.QuoteMeta(cdn.URL)+`/gone\.pdf +\| 404 `).Match(md) {
		t.Errorf("report.md media links:\n%s", md)
	}
	js, _ := os.ReadFile(filepath.Join(out, "report.json"))
	var doc struct {
		Result struct {
			Links urlcheck.Result `json:"links"`
		} `json:"result"`
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	want := urlcheck.Result{Checked: 2, Live: 1, Dead: []urlcheck.Dead{{Link: urlcheck.Link{Entity: "direct_messages",
		Origin: "direct_messages.csv:2", LegacyID: "d1", URL: cdn.URL + "/gone.pdf"}, Status: 404}}}
	if fmt.Sprint(doc.Result.Links) != fmt.Sprint(want) {
		t.Errorf("report.json links %+v, want %+v", doc.Result.Links, want)
	}
}

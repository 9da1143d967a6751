package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/immigrate/immigrate/plan"
	"github.com/immigrate/immigrate/report"
	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// splitPost is a post of about n bytes in lines, with characters JSON escapes.
func splitPost(tag string, n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%s line %d: \"quoted\" <b>bold</b> & 李白 静夜思 🌙 %s\n", tag, i, strings.Repeat("word ", i%9))
	}
	return b.String()
}

// writeSplitExport writes an export whose group g1 and conversation alice-bob
// each hold a message over 12,000 bytes between short ones, and a mapping that
// splits them; it returns the mapping's path.
func writeSplitExport(t *testing.T, groupText, directText string) string {
	t.Helper()
	dir := t.TempDir()
	cols := []string{"id", "sender_id", "recipient_id", "sent_at", "kind", "text", "attachments", "reply_to"}
	gcols := []string{"id", "group_id", "sender_id", "sent_at", "kind", "text", "attachments", "reply_to"}
	files := `[{"url":"/files/b.pdf","file_name":"b.pdf","size":20}]`
	writeCSV(t, filepath.Join(dir, "users.csv"), []string{"id", "nick", "created_at"},
		[]string{"alice", "Alice", "1700000000"}, []string{"bob", "Bob", "1700000000"})
	writeCSV(t, filepath.Join(dir, "groups.csv"), []string{"id", "owner_id", "type", "name", "created_at"},
		[]string{"g1", "alice", "Public", "Team", "1700000100"})
	writeCSV(t, filepath.Join(dir, "group_members.csv"), []string{"group_id", "user_id", "role", "joined_at"},
		[]string{"g1", "bob", "Member", "1700000200"})
	writeCSV(t, filepath.Join(dir, "group_messages.csv"), gcols,
		[]string{"g1m0", "g1", "alice", "1700000300000", "text", "before", "", ""},
		[]string{"g1m1", "g1", "bob", "1700000301000", "text", groupText, "", ""},
		[]string{"g1m2", "g1", "alice", "1700000301500", "text", "same second", "", "g1m1"},
		[]string{"g1m3", "g1", "alice", "1700000302000", "text", "after", "", ""})
	writeCSV(t, filepath.Join(dir, "direct_messages.csv"), cols,
		[]string{"d0", "alice", "bob", "1700000400000", "text", "before", "", ""},
		[]string{"d1", "bob", "alice", "1700000401000", "text", directText, files, "d0"},
		[]string{"d2", "alice", "bob", "1700000401500", "text", "same second", "", "d1"},
		[]string{"d3", "alice", "bob", "1700000402000", "text", "after", "", ""})
	rest := `
messages:
  url_template: "https://cdn.example.com/{path}"
  keep_legacy_id: true
policies: {oversize: split}
`
	path := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(optionalFieldsMapping, rest)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// textElem is the serialized TIMTextElem of s, as TIM stores it.
func textElem(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return `{"MsgType":"TIMTextElem","MsgContent":{"Text":` + string(b) + `}}`
}

// partTexts returns the text of each of bodies' first element.
func partTexts(t *testing.T, bodies []json.RawMessage) []string {
	t.Helper()
	var out []string
	for _, raw := range bodies {
		var body []tencentim.MsgElem
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatal(err)
		}
		var c tencentim.TextContent
		if len(body) == 0 || body[0].MsgType != tencentim.MsgText || json.Unmarshal(body[0].MsgContent, &c) != nil {
			t.Fatalf("part body %s does not start with a text", raw)
		}
		out = append(out, c.Text)
	}
	return out
}

// TestRunSplitMessages imports a group message and a direct message over 12,000
// bytes with policies.oversize: split into a sandbox over HTTP: each arrives as
// consecutive messages within the limit, between its neighbours, in order, its
// texts adding up to the original and the file in the last part, read back byte
// for byte; the reports count the split.
func TestRunSplitMessages(t *testing.T) {
	t.Parallel()
	groupText, directText := splitPost("g", 30000), splitPost("d", 40000)
	srv, url := e2eSandbox(t, nil)
	mapping := pointAt(t, writeSplitExport(t, groupText, directText), url, nil)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLIParallel(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitOK {
		t.Fatalf("immigrate run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	st := srv.State()

	if len(st.Groups) != 1 {
		t.Fatalf("sandbox groups %+v, want g1", st.Groups)
	}
	gm := st.Groups[0].Messages
	if len(gm) < 6 {
		t.Fatalf("group holds %d messages, want g1m0, the parts of g1m1 (at least 3), g1m2, g1m3", len(gm))
	}
	gparts := gm[1 : len(gm)-2]
	var gbodies []json.RawMessage
	for i, m := range gparts {
		gbodies = append(gbodies, m.MsgBody)
		if m.FromAccount != "bob" || m.SendTime != 1700000301 {
			t.Errorf("group part %d: %s at %d, want bob at g1m1's time", i+1, m.FromAccount, m.SendTime)
		}
		if len(m.MsgBody) > tencentim.MaxMsgBodyBytes {
			t.Errorf("group part %d is %d bytes", i+1, len(m.MsgBody))
		}
	}
	texts := partTexts(t, gbodies)
	if strings.Join(texts, "") != groupText {
		t.Errorf("the group parts' texts do not add up to g1m1's text")
	}
	for i, s := range texts {
		if got, want := string(gbodies[i]), "["+textElem(t, s)+"]"; got != want {
			t.Errorf("group part %d body\n got %.200s…\nwant %.200s…", i+1, got, want)
		}
		if i < len(texts)-1 && !strings.HasSuffix(s, "\n") {
			t.Errorf("group part %d is not cut after a line break: …%q", i+1, s[max(0, len(s)-20):])
		}
	}
	for i, want := range map[int]string{0: "before", len(gm) - 2: "same second", len(gm) - 1: "after"} {
		if got := string(gm[i].MsgBody); got != "["+textElem(t, want)+"]" {
			t.Errorf("group message %d: %s, want %q", i, got, want)
		}
	}

	if len(st.C2C) != 1 {
		t.Fatalf("sandbox C2C %+v, want alice-bob", st.C2C)
	}
	dm := st.C2C[0].Messages
	if len(dm) < 7 {
		t.Fatalf("conversation holds %d messages, want d0, the parts of d1 (at least 4), d2, d3", len(dm))
	}
	dparts := dm[1 : len(dm)-2]
	n := len(dparts)
	var dbodies []json.RawMessage
	for _, m := range dparts {
		dbodies = append(dbodies, m.MsgBody)
	}
	texts = partTexts(t, dbodies)
	if strings.Join(texts, "") != directText {
		t.Errorf("the direct parts' texts do not add up to d1's text")
	}
	pdf := "https://cdn.example.com/files/b.pdf"
	file := `{"MsgType":"TIMFileElem","MsgContent":{"Url":"` + pdf + `","UUID":"` + md5hex(pdf) + `","FileSize":20,"FileName":"b.pdf","Download_Flag":2}}`
	for i, m := range dparts {
		want := "[" + textElem(t, texts[i]) + "]"
		if i == n-1 {
			want = "[" + textElem(t, texts[i]) + "," + file + "]"
		}
		if got := string(m.MsgBody); got != want {
			t.Errorf("direct part %d body\n got …%s\nwant …%s", i+1, got[max(0, len(got)-300):], want[max(0, len(want)-300):])
		}
		if got, want := m.CloudCustomData, fmt.Sprintf(`{"legacy_id":"d1","reply_to":"d0","part":%d,"parts":%d}`, i+1, n); got != want {
			t.Errorf("direct part %d CloudCustomData %s, want %s", i+1, got, want)
		}
		if size := len(m.MsgBody) + len(m.CloudCustomData); size > tencentim.MaxMsgBodyBytes {
			t.Errorf("direct part %d: body + CloudCustomData %d bytes", i+1, size)
		}
		if m.FromAccount != "bob" || m.ToAccount != "alice" || m.MsgTimeStamp != 1700000401 {
			t.Errorf("direct part %d: %s→%s at %d, want bob→alice at d1's time", i+1, m.FromAccount, m.ToAccount, m.MsgTimeStamp)
		}
	}
	if got := dm[len(dm)-2]; got.CloudCustomData != `{"legacy_id":"d2","reply_to":"d1"}` || string(got.MsgBody) != "["+textElem(t, "same second")+"]" {
		t.Errorf("the message after the parts is %s %s, want d2", got.MsgBody, got.CloudCustomData)
	}

	// The reports count the split, and the accounting holds with the parts.
	var validated struct{ Result plan.ValidateResult }
	if b, err := os.ReadFile(filepath.Join(out, report.ValidateJSONFile)); err != nil || json.Unmarshal(b, &validated) != nil {
		t.Fatalf("read %s: %v", report.ValidateJSONFile, err)
	}
	wantSplit := []plan.SplitCount{{Entity: "group_messages", Messages: 1, Parts: int64(len(gparts))}, {Entity: "direct_messages", Messages: 1, Parts: int64(n)}}
	if !reflect.DeepEqual(validated.Result.Split, wantSplit) {
		t.Errorf("report.json split %+v, want %+v", validated.Result.Split, wantSplit)
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if want := fmt.Sprintf("1 direct_messages over 12,000 bytes become %d messages", n); !bytes.Contains(md, []byte(want)) || !bytes.Contains(md, []byte("message.body.split")) {
		t.Errorf("report.md lacks %q or the rule", want)
	}
	if strings.Contains(stdout, "imported+present+rejected+skipped") {
		t.Errorf("the run's accounting does not hold:\n%s", stdout)
	}
	// verify finds every part by its identity.
	if code, stdout, stderr := runCLIParallel(t, t.Context(), "verify", "-c", mapping, "--out", out); code != exitOK {
		t.Errorf("verify: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// TestRunSplitResume interrupts a run in the middle of a split message's parts:
// the target applies the call carrying a middle part but its answer is lost and
// the run stops. The same command then finishes the migration, and the target
// holds exactly what an uninterrupted run leaves: no part twice, none missing.
func TestRunSplitResume(t *testing.T) {
	t.Parallel()
	groupText, directText := splitPost("g", 30000), splitPost("d", 40000)
	export := writeSplitExport(t, groupText, directText)

	wantSrv, wantURL := e2eSandbox(t, nil)
	if code, stdout, stderr := runCLIParallel(t, t.Context(), "run", "-c", pointAt(t, export, wantURL, nil), "--out", t.TempDir()); code != exitOK {
		t.Fatalf("uninterrupted run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	want := wantSrv.State()

	for _, tc := range []struct {
		name string
		// at reports whether the call (its command and body) is the one to
		// interrupt: it is applied, its answer is lost and the run stopped.
		at func(cmd string, body []byte) bool
	}{
		{"direct part", func(cmd string, body []byte) bool {
			return cmd == tencentim.CmdImportMsg.String() && bytes.Contains(body, []byte(`\"part\":2,`))
		}},
		{"group batch", func(cmd string, body []byte) bool {
			// The first call with a later part of g1m1 than its first (parts
			// start at a line, and each is near the request limit, so alone).
			return cmd == tencentim.CmdImportGroupMsg.String() && bytes.Contains(body, []byte(`"Text":"g line `)) && !bytes.Contains(body, []byte(`"g line 0:`))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, err := sandbox.New(sandbox.Config{SDKAppID: e2eSDKAppID, SecretKey: secret.New(e2eKey), Admins: []string{e2eAdmin}, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var fired atomic.Bool
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, err := io.ReadAll(r.Body)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
				cmd := strings.TrimPrefix(r.URL.Path, "/v4/")
				if !tc.at(cmd, body) || !fired.CompareAndSwap(false, true) {
					srv.ServeHTTP(w, r)
					return
				}
				srv.ServeHTTP(httptest.NewRecorder(), r) // applied, answer lost
				cancel()
				if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
					conn.Close()
				}
			}))
			defer hs.Close()
			mapping := pointAt(t, export, hs.URL, nil)
			out := t.TempDir()
			code, stdout, stderr := runCLIParallel(t, ctx, "run", "-c", mapping, "--out", out)
			if !fired.Load() || code != exitInterrupted {
				t.Fatalf("first run: interrupted %v, exit %d, want an interrupt (%d)\nstdout:\n%s\nstderr:\n%s", fired.Load(), code, exitInterrupted, stdout, stderr)
			}
			code, stdout, stderr = runCLIParallel(t, t.Context(), "run", "-c", mapping, "--out", out)
			if code != exitOK {
				t.Fatalf("resumed run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			got := srv.State()
			if !reflect.DeepEqual(got.C2C, want.C2C) {
				t.Errorf("conversations after the resume differ from an uninterrupted run's: %d messages, want %d", messagesOf(got.C2C), messagesOf(want.C2C))
			}
			if len(got.Groups) != 1 || len(want.Groups) != 1 || !reflect.DeepEqual(got.Groups[0].Messages, want.Groups[0].Messages) {
				t.Errorf("group messages after the resume differ from an uninterrupted run's")
			}
		})
	}
}

func messagesOf(cs []sandbox.ConversationState) int {
	n := 0
	for _, c := range cs {
		n += len(c.Messages)
	}
	return n
}

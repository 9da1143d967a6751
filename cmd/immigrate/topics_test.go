package main

import (
	"fmt"
	"github.com/immigrate/immigrate/extract"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestRunTopics migrates a topic-enabled community over real HTTP into a sandbox:
// the group with SupportTopic, its topics through import_topic, each topic's
// messages in its own stream (spec §8.11, §14 item 66), a message of an unknown
// topic and a topic of a non-topic group rejected; a second run changes nothing.
func TestRunTopics(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"users.csv": "id,nick\nu1,One\nu2,Two\n",
		"groups.csv": "id,owner_id,type,name,created_at,support_topic\n" +
			"c1,u1,Community,Community one,2024-01-01T00:00:00Z,true\n" +
			"p1,u1,Public,Plain,2024-01-01T00:00:00Z,\n",
		"topics.csv": "id,group_id,name,creator_id,created_at\n" +
			"general,c1,General,u1,2024-01-02T00:00:00Z\n" +
			"random,c1,Random,u2,\n" +
			"nope,p1,Not a topic group,u1,\n",
		"group_messages.csv": "id,group_id,sender_id,sent_at,text,topic_id\n" +
			"1,c1,u1,2024-02-01T00:00:00Z,own message,\n" +
			"2,c1,u2,2024-01-03T00:00:00Z,general one,general\n" +
			"3,c1,u1,2024-01-04T00:00:00Z,general two,general\n" +
			"4,c1,u2,2024-01-05T00:00:00Z,random one,random\n" +
			"5,c1,u2,2024-01-06T00:00:00Z,lost,missing\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv, url := e2eSandbox(t, nil)
	mapping := filepath.Join(dir, "m.yaml")
	m := fmt.Sprintf(`version: 1
source:
  csv: {dir: .}
target:
  endpoint: %s
  sdkappid: %d
  secret_key: %s
  admin: %s
entities:
  users: {file: users.csv}
  groups: {file: groups.csv}
  topics: {file: topics.csv}
  group_messages: {file: group_messages.csv}
`, url, e2eSDKAppID, e2eKey, e2eAdmin) + e2eLoad
	if err := os.WriteFile(mapping, []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitRejected {
		t.Fatalf("run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rejects, err := os.ReadFile(filepath.Join(out, "rejects.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, rule := range []string{"topic.group.no_topics", "group_message.topic.unknown"} {
		if !strings.Contains(string(rejects), rule) {
			t.Errorf("rejects.jsonl lacks %s:\n%s", rule, rejects)
		}
	}
	st := srv.State()
	var topics []string
	got := map[string][]string{} // topic → texts in MsgSeq order
	for _, g := range st.Groups {
		if g.GroupID != "@TGS#_c1" {
			continue
		}
		if !g.SupportTopic {
			t.Errorf("group %s without SupportTopic", g.GroupID)
		}
		for _, tp := range g.Topics {
			topics = append(topics, tp.TopicID+" "+tp.TopicName)
		}
		for _, msg := range g.Messages {
			got[msg.TopicID] = append(got[msg.TopicID], string(msg.MsgBody))
		}
	}
	wantTopics := []string{"@TGS#_c1@TOPIC#_general General", "@TGS#_c1@TOPIC#_random Random"}
	if !reflect.DeepEqual(topics, wantTopics) {
		t.Errorf("topics %q, want %q", topics, wantTopics)
	}
	text := func(s string) string { return `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"` + s + `"}}]` }
	want := map[string][]string{
		"":                        {text("own message")},
		"@TGS#_c1@TOPIC#_general": {text("general one"), text("general two")},
		"@TGS#_c1@TOPIC#_random":  {text("random one")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("messages by topic:\n got %q\nwant %q", got, want)
	}

	// The same command again resumes a finished migration: nothing changes.
	if code, stdout, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out); code != exitRejected {
		t.Fatalf("second run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if again := srv.State(); !reflect.DeepEqual(again.Groups, st.Groups) {
		t.Errorf("second run changed the groups")
	}

	// Verify reads each topic's own history (spec §8.14): every message present.
	code, doc, log := verifyCLI(t, mapping, out)
	if c := doc.Result.Counts(extract.GroupMessages); code != exitOK || c.Present != 4 || c.Expected != 4 {
		t.Errorf("verify: exit %d, group messages %+v; want the 4 of the group and its topics present\n%s", code, c, log)
	}
}

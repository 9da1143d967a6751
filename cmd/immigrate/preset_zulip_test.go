package main

import (
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/immigrate/immigrate/internal/pgtest"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// TestPresetZulip runs mappings/presets/zulip.yaml, its target swapped for a
// sandbox served over HTTP, against a database in Zulip's schema
// (testdata/presets/zulip: schema.sql as Django creates it, seed.sql an awkward
// organization). It checks validate's counts and rejects, then the sandbox after
// the run against what the database holds, counted by queries of its own rather
// than the preset's: every user an account, every stream a topic-enabled
// Community with one topic per case-insensitive topic name, every group DM a
// Private group, the subscriptions as members with Zulip's admins as Admin, the
// messages per topic and per conversation with their text as in the database,
// and a few payloads byte for byte.
func TestPresetZulip(t *testing.T) {
	url, conn := zulipDatabase(t, "")
	db := zulipTruth(t, conn)

	preset, err := os.ReadFile(filepath.Join("..", "..", "mappings", "presets", "zulip.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	loadSection := regexp.MustCompile(`(?m)^load:\n(  .*\n)+`)
	if !loadSection.Match(preset) {
		t.Fatal("preset has no load section")
	}
	dir := t.TempDir()
	stripped := filepath.Join(dir, "zulip.yaml")
	if err := os.WriteFile(stripped, loadSection.ReplaceAll(preset, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, endpoint := e2eSandbox(t, nil)
	// roaming_days 0: verify reads back the whole one-to-one history.
	cfg := pointAt(t, stripped, endpoint, func(s string) string {
		return strings.Replace(s, "  edition: pro\n", "  edition: pro\n  roaming_days: 0\n", 1)
	})
	t.Setenv("IMMIGRATE_SOURCE_PG_URL", url)

	// validate: counts per entity and the planted issues.
	vout := filepath.Join(dir, "validate")
	code, stdout, stderr := runCLI(t, t.Context(), "validate", "-c", cfg, "--out", vout)
	if code != exitRejected {
		t.Fatalf("validate: exit %d, want %d (the self-message)\nstdout:\n%s\nstderr:\n%s", code, exitRejected, stdout, stderr)
	}
	var report struct {
		Result struct {
			Entities []struct {
				Entity                         string
				Read, Valid, Rejected, Skipped int
				Repaired                       int
			}
			Issues []struct {
				Entity, Rule, Severity string
				Count                  int
			}
			Plan struct {
				Phases []struct {
					Phase string
					Items int
				}
			}
		}
	}
	readJSON(t, filepath.Join(vout, "report.json"), &report)
	counts := map[string][3]int{} // entity → read, valid, rejected
	for _, e := range report.Result.Entities {
		counts[e.Entity] = [3]int{e.Read, e.Valid, e.Rejected}
	}
	wantCounts := map[string][3]int{
		"users":           {db.users, db.users, 0},
		"groups":          {db.streams + db.dmGroups, db.streams + db.dmGroups, 0},
		"topics":          {db.topics, db.topics, 0},
		"group_members":   {db.subscriptions, db.subscriptions - db.streams - db.dmGroups, 0}, // owners' rows skipped
		"group_messages":  {db.groupMessages, db.groupMessages, 0},
		"direct_messages": {db.personal, db.personal - db.self, db.self},
	}
	for e, want := range wantCounts {
		if got := counts[e]; got != want {
			t.Errorf("validate %s: read, valid, rejected = %v, want %v", e, got, want)
		}
	}
	phases := map[string]int{}
	for _, p := range report.Result.Plan.Phases {
		phases[p.Phase] += p.Items
	}
	wantPhases := map[string]int{
		"accounts":        db.users,
		"groups":          db.streams + db.dmGroups,
		"topics":          db.topics,
		"members":         db.subscriptions - db.streams - db.dmGroups,
		"group_messages":  db.groupMessages,
		"unread":          db.dmUnread,
		"direct_messages": db.personal - db.self,
		"profiles":        db.users, // every user's Kind and Active marks
	}
	if fmt.Sprint(phases) != fmt.Sprint(wantPhases) {
		t.Errorf("plan: records per phase %v, want %v", phases, wantPhases)
	}
	issues := map[string]int{}
	for _, is := range report.Result.Issues {
		issues[is.Entity+" "+is.Rule+" "+is.Severity] = is.Count
	}
	for rule, want := range map[string]int{
		"direct_messages direct_message.self reject":              db.self,
		"group_messages message.body.truncated repair":            1, // message 1009, 13,015 bytes of text
		"group_messages group_message.media_converted repair":     1, // message 1008, a PDF and a PNG
		"topics topic.name.truncated repair":                      1, // the 59-byte topic name
		"groups group.name.truncated repair":                      1, // the group DM named after 4 members
		"groups group.create_time.clamped repair":                 1, // #general's welcome message at its creation
		"groups group.create_time.derived repair":                 0, // a group DM is dated by its first message
		"topics topic.create_time.clamped repair":                 0, // a topic is dated by its first message
		"group_members member.owner_row warning":                  db.streams + db.dmGroups,
		"group_messages group_message.cloud_data.dropped warning": 4, // 1002, 1003, 2004, 4003: edits, reactions
	} {
		if got := issues[rule]; got != want {
			t.Errorf("validate: %s: %d, want %d (all: %v)", rule, got, want, issues)
		}
	}
	for is := range issues {
		if strings.HasSuffix(is, " reject") && !strings.HasPrefix(is, "direct_messages direct_message.self ") {
			t.Errorf("validate: unexpected reject %s", is)
		}
	}

	// run into the sandbox.
	rout := filepath.Join(dir, "run")
	code, stdout, stderr = runCLI(t, t.Context(), "run", "-c", cfg, "--out", rout)
	if code != exitRejected {
		t.Fatalf("run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rejects, err := os.ReadFile(filepath.Join(rout, "rejects.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(rejects), "\n"); n != db.self || !strings.Contains(string(rejects), `"origin":"direct_messages[id=5003]","legacy_id":"5003","rule":"direct_message.self"`) {
		t.Errorf("rejects.jsonl (%d lines), want only message 5003 as direct_message.self:\n%s", n, rejects)
	}
	st := srv.State()

	// Accounts: every Zulip user, bots, guests and deactivated users included.
	var accounts []string
	for _, a := range st.Accounts {
		accounts = append(accounts, a.UserID)
		if want, ok := db.names[a.UserID]; !ok || a.Nick != want {
			t.Errorf("account %s: nick %q, want %q (known %v)", a.UserID, a.Nick, want, ok)
		}
	}
	if len(accounts) != db.users {
		t.Errorf("%d accounts, want %d: %v", len(accounts), db.users, accounts)
	}
	// Bots, guests and deactivated users are marked in their profiles, as the
	// database's own columns say.
	marks := map[string]string{}
	for _, a := range st.Accounts {
		var kind, active string
		for _, p := range a.Profile {
			switch p.Tag {
			case "Tag_Profile_Custom_Kind":
				kind = string(p.Value)
			case "Tag_Profile_Custom_Active":
				active = string(p.Value)
			}
		}
		marks[a.UserID] = kind + " " + active
	}
	rows, err := conn.Query(t.Context(), `SELECT id::text, is_bot, role, is_active FROM zerver_userprofile`)
	if err != nil {
		t.Fatal(err)
	}
	wantMarks := map[string]string{}
	kinds := map[string]int{}
	for rows.Next() {
		var id string
		var bot, active bool
		var role int
		if err := rows.Scan(&id, &bot, &role, &active); err != nil {
			t.Fatal(err)
		}
		kind := "human"
		switch {
		case bot:
			kind = "bot"
		case role == 600:
			kind = "guest"
		}
		kinds[kind]++
		a := "1"
		if !active {
			a, kinds["inactive"] = "0", kinds["inactive"]+1
		}
		wantMarks[id] = `"` + kind + `" "` + a + `"`
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if !maps.Equal(marks, wantMarks) || kinds["bot"] == 0 || kinds["guest"] == 0 || kinds["inactive"] == 0 {
		t.Errorf("profile marks %v, want %v (the seed has bots, guests and deactivated users: %v)", marks, wantMarks, kinds)
	}

	// Groups, topics, members and group messages.
	groups := map[string]sandbox.GroupState{}
	for _, g := range st.Groups {
		groups[g.GroupID] = g
	}
	if len(groups) != db.streams+db.dmGroups {
		t.Errorf("%d groups, want %d streams and %d group DMs", len(groups), db.streams, db.dmGroups)
	}
	for sid, topics := range db.topicMsgs {
		gid := "@TGS#_zulip_s" + sid
		g, ok := groups[gid]
		if !ok {
			t.Errorf("stream %s: no group %s", sid, gid)
			continue
		}
		if g.Type != "Community" || !g.SupportTopic {
			t.Errorf("group %s: type %s, SupportTopic %v; want a topic-enabled Community", gid, g.Type, g.SupportTopic)
		}
		gotTopics := map[string]string{}
		for _, tp := range g.Topics {
			gotTopics[tp.TopicID] = tp.TopicName
		}
		gotMsgs := map[string][]int64{}
		for _, m := range g.Messages {
			gotMsgs[m.TopicID] = append(gotMsgs[m.TopicID], m.SendTime)
		}
		if n := len(gotMsgs[""]); n != 0 {
			t.Errorf("group %s: %d messages outside any topic", gid, n)
		}
		for lower, want := range topics {
			sum := md5.Sum([]byte(lower))
			tid := gid + "@TOPIC#_" + hex.EncodeToString(sum[:])
			name, ok := gotTopics[tid]
			switch {
			case !ok:
				t.Errorf("stream %s topic %q: no topic %s (have %v)", sid, lower, tid, gotTopics)
				continue
			case lower == "" && name != "general chat":
				t.Errorf("stream %s: the empty topic is named %q, want Zulip's \"general chat\"", sid, name)
			case lower != "" && (len(name) > 30 || !strings.HasPrefix(strings.ToLower(want.name), strings.ToLower(name))):
				t.Errorf("stream %s topic %q: named %q, want %q within 30 bytes", sid, lower, name, want.name)
			}
			if got := gotMsgs[tid]; len(got) != want.messages || !slices.IsSorted(got) {
				t.Errorf("stream %s topic %q: send times %v, want %d messages in time order", sid, lower, got, want.messages)
			}
		}
		if len(gotTopics) != len(topics) {
			t.Errorf("group %s: %d topics, want %d", gid, len(gotTopics), len(topics))
		}
	}
	for hid, want := range db.dmGroupMsgs {
		g, ok := groups["zulip_dm"+hid]
		if !ok || g.Type != "Private" || len(g.Messages) != want || len(g.Topics) != 0 || !utf8.ValidString(g.Name) || len(g.Name) > 30 {
			t.Errorf("group DM %s: %+v, want a Private group of %d messages with a name of at most 30 bytes", hid, g, want)
		}
	}
	wantRoles := map[string]map[string]string{ // the seed's planted roles (README.md)
		"@TGS#_zulip_s1": {"10": "Owner", "11": "Admin", "12": "Admin", "14": "Admin", "13": "Member", "15": "Member", "16": "Member", "17": "Member", "18": "Member"},
		"@TGS#_zulip_s2": {"11": "Owner", "10": "Admin", "13": "Member", "15": "Member", "17": "Member"},
		"@TGS#_zulip_s3": {"16": "Owner", "13": "Member", "14": "Member"},
		"@TGS#_zulip_s4": {"10": "Owner", "11": "Admin", "13": "Member"}, // no creator: the first owner
		"zulip_dm1":      {"10": "Owner", "13": "Member", "14": "Member", "17": "Member"},
	}
	for gid, want := range wantRoles {
		got := map[string]string{}
		for _, m := range groups[gid].Members {
			got[m.Account] = m.Role
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("group %s members %v, want %v", gid, got, want)
		}
		for _, m := range groups[gid].Members {
			// A stream's messages are all in topics, which set_unread_msg_num
			// cannot reach (spec §8.10): only group DMs keep their unread counts.
			want := db.subscribers[gid][m.Account]
			if strings.HasPrefix(gid, "@TGS#_") {
				want = 0
			}
			if m.UnreadMsgNum != want {
				t.Errorf("group %s member %s: %d unread, want %d", gid, m.Account, m.UnreadMsgNum, want)
			}
		}
	}

	// One-to-one messages: every personal message but the self-message.
	c2c := map[string]sandbox.C2CMessageState{} // by From_Account and time
	n := 0
	for _, c := range st.C2C {
		for _, m := range c.Messages {
			c2c[m.FromAccount+"@"+strconv.FormatInt(m.MsgTimeStamp, 10)] = m
			n++
		}
	}
	if n != db.personal-db.self {
		t.Errorf("%d one-to-one messages, want %d", n, db.personal-db.self)
	}

	// Every imported message's text is the Zulip markdown as stored, but 1009,
	// which is cut to fit.
	bodies := map[string]json.RawMessage{}
	for _, g := range st.Groups {
		for _, m := range g.Messages {
			bodies[m.FromAccount+"@"+strconv.FormatInt(m.SendTime, 10)] = m.MsgBody
		}
	}
	for k, m := range c2c {
		bodies[k] = m.MsgBody
	}
	for id, msg := range db.content {
		body, ok := bodies[msg.key]
		if id == "5003" {
			if ok {
				t.Errorf("the self-message 5003 was imported: %s", body)
			}
			continue
		}
		if !ok {
			t.Errorf("message %s (%s) not in the sandbox", id, msg.key)
			continue
		}
		var elems []struct {
			MsgType    string
			MsgContent struct{ Text string }
		}
		if err := json.Unmarshal(body, &elems); err != nil || len(elems) == 0 || elems[0].MsgType != "TIMTextElem" {
			t.Errorf("message %s: body %s (%v)", id, body, err)
			continue
		}
		text := elems[0].MsgContent.Text
		if id == "1009" {
			cut, ok := strings.CutSuffix(text, "…[truncated]")
			if !ok || !strings.HasPrefix(msg.text, cut) || len(body) > 12000 || !utf8.ValidString(text) {
				t.Errorf("message 1009: %d bytes of body, text %.40q…; want the original cut on a UTF-8 boundary within 12,000 bytes", len(body), text)
			}
			continue
		}
		if text != msg.text {
			t.Errorf("message %s: text %q, want %q", id, text, msg.text)
		}
	}

	// A few payloads byte for byte.
	upload := func(path string) string { return "https://zulip.example.com/user_uploads/" + path }
	uuid := func(path string) string { s := md5.Sum([]byte(upload(path))); return hex.EncodeToString(s[:]) }
	for _, tc := range []struct{ id, got, want string }{
		{"1005 (unicode in a topic with an emoji)", string(bodies[db.content["1005"].key]),
			`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"What if every build had a 🦄 mascot? Ünïcödé: 日本語テキスト"}}]`},
		{"2003 (general chat, a stream link)", string(bodies[db.content["2003"].key]),
			`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"Welcome to #**design \u0026 ux**!"}}]`},
		{"1008 (two uploads in a stream)", string(bodies[db.content["1008"].key]),
			`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"Here is the runbook: [runbook.pdf](/user_uploads/1/4e/AbCdEf/runbook.pdf) and the graph [graph.png](/user_uploads/1/9a/XyZ/graph.png)"}},` +
				`{"MsgType":"TIMCustomElem","MsgContent":{"Data":"[{\"type\":\"file\",\"url\":\"` + upload("1/4e/AbCdEf/runbook.pdf") + `\",\"name\":\"runbook.pdf\",\"size\":52000},` +
				`{\"type\":\"image\",\"url\":\"` + upload("1/9a/XyZ/graph.png") + `\",\"size\":20480,\"width\":800,\"height\":600}]","Desc":"[2 files]","Ext":"immigrate.media"}}]`},
		{"5005 (an upload in a direct message)", string(bodies[db.content["5005"].key]),
			`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"The signed contract: [contract.docx](/user_uploads/1/aa/Qq/contract.docx)"}},` +
				`{"MsgType":"TIMFileElem","MsgContent":{"Url":"` + upload("1/aa/Qq/contract.docx") + `","UUID":"` + uuid("1/aa/Qq/contract.docx") + `","FileSize":31337,"FileName":"contract.docx","Download_Flag":2}}]`},
		{"5005 CloudCustomData (a unicode and a realm emoji reaction)", c2c[db.content["5005"].key].CloudCustomData,
			`{"reactions":{"heart":["10"],"shipit":["15"]}}`},
		{"5002 CloudCustomData (edited)", c2c[db.content["5002"].key].CloudCustomData,
			`{"edited_at":` + strconv.FormatInt(db.content["5002"].edited, 10) + `}`},
	} {
		if tc.got != tc.want {
			t.Errorf("message %s:\n got %s\nwant %s", tc.id, tc.got, tc.want)
		}
	}

	// verify reads everything back and finds it all.
	code, stdout, stderr = runCLI(t, t.Context(), "verify", "-c", cfg, "--out", filepath.Join(dir, "verify"))
	if code != exitOK {
		t.Errorf("verify: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	// The same command again resumes a finished migration: nothing changes.
	if code, stdout, stderr := runCLI(t, t.Context(), "run", "-c", cfg, "--out", rout); code != exitRejected {
		t.Fatalf("second run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if again := srv.State(); fmt.Sprint(again) != fmt.Sprint(st) {
		t.Error("the second run changed the sandbox")
	}
}

// zulipDatabase creates a schema of its own on the test server with
// testdata/presets/zulip's schema.sql and seed.sql, then the SQL more, and
// returns its URL and a connection to it (closed when tb ends).
func zulipDatabase(tb testing.TB, more string) (string, *pgx.Conn) {
	tb.Helper()
	url, schema := pgtest.Schema(tb)
	var ddl []byte
	for _, name := range []string{"schema.sql", "seed.sql"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "presets", "zulip", name))
		if err != nil {
			tb.Fatal(err)
		}
		ddl = append(append(ddl, b...), '\n')
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()+"; SET search_path = "+pgx.Identifier{schema}.Sanitize()+";\n"+string(ddl)+more); err != nil {
		tb.Fatal(err)
	}
	return url, conn
}

// BenchmarkPresetZulipValidate validates mappings/presets/zulip.yaml over the seed
// grown by 100,000 stream messages (2 streams, 500 topics) and 100,000 one-to-one
// messages, at the preset's page size and at 100,000 rows a page, and reports
// messages/s. Each page re-sorts the entity's rows (the reader's keys are
// expressions, so no index serves them), so the page size bounds the passes.
func BenchmarkPresetZulipValidate(b *testing.B) {
	url, _ := zulipDatabase(b, `
INSERT INTO zerver_message (id, type, subject, content, date_sent, has_attachment, has_image, has_link,
    sender_id, sending_client_id, realm_id, recipient_id, is_channel_message)
SELECT 100000 + g, 1, 'topic ' || (g % 500), 'synthetic **stream** message ' || g,
       timestamptz '2024-04-01' + g * interval '1 second', false, false, false, 10 + g % 8, 1, 1, 201 + g % 2, true
FROM generate_series(1, 100000) AS g;
INSERT INTO zerver_message (id, type, subject, content, date_sent, has_attachment, has_image, has_link,
    sender_id, sending_client_id, realm_id, recipient_id, is_channel_message)
SELECT 300000 + g, 1, E'\x07', 'synthetic direct message ' || g,
       timestamptz '2024-04-01' + g * interval '1 second', false, false, false, 10 + g % 8, 1, 1, 110 + (g + 1) % 8, false
FROM generate_series(1, 100000) AS g;
ANALYZE;`)
	preset, err := os.ReadFile(filepath.Join("..", "..", "mappings", "presets", "zulip.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.Setenv("IMMIGRATE_SOURCE_PG_URL", url)
	b.Setenv("TIM_SDKAPPID", "1400000001")
	b.Setenv("TIM_SECRET_KEY", "bench-secret-key")
	pageSize := regexp.MustCompile(`(?m)^    page_size: \d+$`)
	for _, size := range []string{"", "100000"} {
		name, m := "preset", preset
		if size != "" {
			name, m = "page_size="+size, pageSize.ReplaceAll(preset, []byte("    page_size: "+size))
		}
		b.Run(name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "zulip.yaml")
			if err := os.WriteFile(path, m, 0o600); err != nil {
				b.Fatal(err)
			}
			benchValidate(b, path)
		})
	}
}

// zulipDB is what the seeded Zulip database holds, counted with the database's
// own notions (recipient types, message types, subscriptions), not the preset's.
type zulipDB struct {
	users, streams, dmGroups, topics, subscriptions, groupMessages, personal, self int
	dmUnread                                                                       int                              // group DM members with unread messages
	names                                                                          map[string]string                // user id → full_name
	topicMsgs                                                                      map[string]map[string]zulipTopic // stream id → lower(topic) → …
	dmGroupMsgs                                                                    map[string]int                   // huddle id → messages
	subscribers                                                                    map[string]map[string]int        // GroupId → user → unread
	content                                                                        map[string]zulipMessage          // message id → …
}

type zulipTopic struct {
	name     string // as first written
	messages int
}

type zulipMessage struct {
	key    string // sender@unix seconds: how the test finds it in the sandbox
	text   string
	edited int64
}

func zulipTruth(t *testing.T, conn *pgx.Conn) zulipDB {
	t.Helper()
	ctx := t.Context()
	db := zulipDB{
		names: map[string]string{}, topicMsgs: map[string]map[string]zulipTopic{},
		dmGroupMsgs: map[string]int{}, subscribers: map[string]map[string]int{}, content: map[string]zulipMessage{},
	}
	count := func(q string) int {
		var n int
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	db.users = count(`SELECT count(*) FROM zerver_userprofile`)
	db.streams = count(`SELECT count(*) FROM zerver_stream`)
	db.dmGroups = count(`SELECT count(*) FROM zerver_huddle`)
	db.subscriptions = count(`SELECT count(*) FROM zerver_subscription s JOIN zerver_recipient r ON r.id = s.recipient_id WHERE r.type IN (2, 3) AND s.active`)
	db.personal = count(`SELECT count(*) FROM zerver_message m JOIN zerver_recipient r ON r.id = m.recipient_id WHERE r.type = 1 AND m.type = 1`)
	db.self = count(`SELECT count(*) FROM zerver_message m JOIN zerver_recipient r ON r.id = m.recipient_id WHERE r.type = 1 AND m.type = 1 AND r.type_id = m.sender_id`)
	db.groupMessages = count(`SELECT count(*) FROM zerver_message m JOIN zerver_recipient r ON r.id = m.recipient_id WHERE r.type IN (2, 3) AND m.type = 1`)

	rows, err := conn.Query(ctx, `SELECT id::text, full_name FROM zerver_userprofile`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		db.names[id] = name
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}

	rows, err = conn.Query(ctx, `SELECT m.id::text, r.type, r.type_id::text, m.subject, m.sender_id::text,
	        extract(epoch FROM m.date_sent)::bigint, m.content, coalesce(extract(epoch FROM m.last_edit_time)::bigint, 0)
	    FROM zerver_message m JOIN zerver_recipient r ON r.id = m.recipient_id
	    WHERE m.type = 1 ORDER BY m.date_sent, m.id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, typeID, subject, sender, content string
		var typ int16
		var sent, edited int64
		if err := rows.Scan(&id, &typ, &typeID, &subject, &sender, &sent, &content, &edited); err != nil {
			t.Fatal(err)
		}
		db.content[id] = zulipMessage{key: sender + "@" + strconv.FormatInt(sent, 10), text: content, edited: edited}
		switch typ {
		case 2:
			topics := db.topicMsgs[typeID]
			if topics == nil {
				topics = map[string]zulipTopic{}
				db.topicMsgs[typeID] = topics
			}
			lower := strings.ToLower(subject)
			tp := topics[lower]
			tp.name = cmp.Or(tp.name, subject)
			tp.messages++
			topics[lower] = tp
		case 3:
			db.dmGroupMsgs[typeID]++
		}
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	for _, topics := range db.topicMsgs {
		db.topics += len(topics)
	}

	rows, err = conn.Query(ctx, `SELECT CASE r.type WHEN 2 THEN '@TGS#_zulip_s' ELSE 'zulip_dm' END || r.type_id, s.user_profile_id::text,
	        (SELECT count(*) FROM zerver_usermessage um JOIN zerver_message m ON m.id = um.message_id
	         WHERE um.user_profile_id = s.user_profile_id AND m.recipient_id = r.id AND m.type = 1 AND um.flags & 1 = 0)
	    FROM zerver_subscription s JOIN zerver_recipient r ON r.id = s.recipient_id
	    WHERE r.type IN (2, 3) AND s.active`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var gid, user string
		var unread int
		if err := rows.Scan(&gid, &user, &unread); err != nil {
			t.Fatal(err)
		}
		if db.subscribers[gid] == nil {
			db.subscribers[gid] = map[string]int{}
		}
		db.subscribers[gid][user] = unread
		if unread > 0 && strings.HasPrefix(gid, "zulip_dm") {
			db.dmUnread++
		}
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	return db
}

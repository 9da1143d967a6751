package main

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/internal/pgtest"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/report"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// mattermostDir holds the upstream migrations and the seed of the Mattermost
// preset's test database (testdata/presets/mattermost/README.md).
var mattermostDir = filepath.Join("..", "..", "testdata", "presets", "mattermost")

// mattermostDB builds a Mattermost database in a fresh schema of the test
// server: Mattermost's own migrations (migrations/*.up.sql, vendored verbatim,
// applied in upstream order), then the awkward seed. It returns the schema's URL.
func mattermostDB(t *testing.T) string {
	t.Helper()
	url, schema := pgtest.Schema(t)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	id := pgx.Identifier{schema}.Sanitize()
	if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+id+"; SET search_path = "+id); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(mattermostDir, "migrations", "*.up.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations in %s (%v)", mattermostDir, err)
	}
	slices.Sort(files) // upstream order: the six-digit prefix
	for _, f := range append(files, filepath.Join(mattermostDir, "seed.sql")) {
		sql, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(t.Context(), string(sql)); err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
	}
	return url
}

// mmID is an id of the seed: Mattermost ids are 26 characters, the seed's
// a readable name padded with z.
func mmID(name string) string { return name + strings.Repeat("z", 26-len(name)) }

// TestPresetMattermost runs mappings/presets/mattermost.yaml, its target
// swapped for a sandbox over HTTP, against a database in Mattermost's real
// schema holding awkward data (bots, guests, a deactivated user, two
// town-squares, O/P/G/D channels, threads, edits with their history rows,
// deleted and system posts, files, reactions, long and non-ASCII text, a
// self-DM, which becomes a group), and checks the plan's counts, the rejects by rule, and the
// sandbox's state, a few messages byte for byte.
func TestPresetMattermost(t *testing.T) {
	url := mattermostDB(t)
	srv, endpoint := e2eSandbox(t, nil)
	preset, err := os.ReadFile(filepath.Join("..", "..", "mappings", "presets", "mattermost.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	target := regexp.MustCompile(`(?m)^target:\n(  .*\n)+`)
	if !target.Match(preset) {
		t.Fatal("preset has no target block")
	}
	m := target.ReplaceAllString(string(preset), "target:\n  endpoint: "+endpoint+"\n  sdkappid: "+
		strconv.Itoa(e2eSDKAppID)+"\n  secret_key: "+e2eKey+"\n  admin: "+e2eAdmin+"\n  edition: ultimate\n")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "mattermost.yaml")
	if err := os.WriteFile(cfg, []byte(m), 0o600); err != nil {
		t.Fatal(err)
	}
	const files = "https://files.example.com/mm"
	t.Setenv("IMMIGRATE_SOURCE_PG_URL", url)
	t.Setenv("MATTERMOST_FILES_URL", files)

	// validate: the counts per entity and the plan per phase.
	vout := filepath.Join(dir, "validate")
	if code, stdout, stderr := runCLI(t, t.Context(), "validate", "-c", cfg, "--out", vout); code != exitRejected {
		t.Fatalf("validate: exit %d, want %d (the planted empty post)\nstdout:\n%s\nstderr:\n%s", code, exitRejected, stdout, stderr)
	}
	rep := readValidateReport(t, vout)
	for _, want := range []struct {
		entity                         extract.Entity
		read, valid, rejected, skipped int64
	}{
		// 6 users: alice, bob, a guest, a deactivated user, erin, a bot.
		{extract.Users, 6, 6, 0, 0},
		// Every user has a Kind and an Active mark.
		{extract.Profiles, 6, 6, 0, 0},
		// 2 town-squares, a P channel, an O channel, the self-DM; not the archived channel nor the D and G channels.
		{extract.Groups, 5, 5, 0, 0},
		// The G channel, of 4 users.
		{extract.GroupDMs, 1, 1, 0, 0},
		// 12 memberships of the O and P channels; each owner's own row is skipped.
		{extract.Members, 12, 8, 0, 4},
		// 18 current posts (no system posts, deleted posts, edit history or archived channel), the self-DM's one; one empty.
		{extract.GroupMessages, 18, 17, 1, 0},
		// 5 posts of the two D channels between two users.
		{extract.DirectMessages, 5, 5, 0, 0},
	} {
		got := rep.Result.Counts(want.entity)
		if got.Read != want.read || got.Valid != want.valid || got.Rejected != want.rejected || got.Skipped != want.skipped {
			t.Errorf("%s: read %d valid %d rejected %d skipped %d, want %d %d %d %d", want.entity,
				got.Read, got.Valid, got.Rejected, got.Skipped, want.read, want.valid, want.rejected, want.skipped)
		}
	}
	items := map[string]int64{}
	for _, p := range rep.Result.Plan.Phases {
		items[p.Phase] += p.Items
	}
	for phase, want := range map[string]int64{"accounts": 6, "groups": 5, "group_dms": 4, "members": 8, // group_dms: the group DM (import_group) and its 3 members besides the owner (import_group_member)
		"group_messages": 17, "direct_messages": 5} {
		if items[phase] != want {
			t.Errorf("plan: phase %s carries %d records, want %d", phase, items[phase], want)
		}
	}

	// run: the same rejects, and the sandbox holds what the plan said.
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCLI(t, t.Context(), "run", "-c", cfg, "--out", out)
	if code != exitRejected {
		t.Fatalf("run: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitRejected, stdout, stderr)
	}
	var rejects []string
	for _, r := range readJSONL[load.Reject](t, filepath.Join(out, report.RejectsFileName)) {
		rejects = append(rejects, r.Origin+" "+r.Rule)
	}
	slices.Sort(rejects)
	wantRejects := []string{
		"group_messages[id=" + mmID("pempty") + "] message.text.empty",
	}
	if !slices.Equal(rejects, wantRejects) {
		t.Errorf("rejects\n got %q\nwant %q", rejects, wantRejects)
	}

	st := srv.State()
	nicks := map[string]string{}
	for _, a := range st.Accounts {
		nicks[a.UserID] = a.Nick
	}
	wantNicks := map[string]string{
		mmID("aliceu"): "Alice Ängström", mmID("bobu"): "Bob 🐱", mmID("carolu"): "Carol Guest",
		mmID("daveu"): "Dave Gone", mmID("erinu"): "erin", mmID("deploybotu"): "Deploy Bot",
	}
	if !maps.Equal(nicks, wantNicks) {
		t.Errorf("accounts %v, want %v", nicks, wantNicks)
	}
	// Bots, guests and deactivated users are marked in their profiles.
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
	wantMarks := map[string]string{
		mmID("aliceu"): `"human" "1"`, mmID("bobu"): `"human" "1"`, mmID("carolu"): `"guest" "1"`,
		mmID("daveu"): `"human" "0"`, mmID("erinu"): `"human" "1"`, mmID("deploybotu"): `"bot" "1"`,
	}
	if !maps.Equal(marks, wantMarks) {
		t.Errorf("profile marks %v, want %v", marks, wantMarks)
	}

	groups := map[string]sandbox.GroupState{}
	for _, g := range st.Groups {
		groups[g.GroupID] = g
	}
	type wantGroup struct {
		channel, typ, name, owner string
		members                   map[string]string // account → role, the owner included
		messages                  int
	}
	alice, bob, carol, dave, erin, bot := mmID("aliceu"), mmID("bobu"), mmID("carolu"), mmID("daveu"), mmID("erinu"), mmID("deploybotu")
	for _, w := range []wantGroup{
		{"chtownsqeng", "Public", "Engineering / Town Square", alice,
			map[string]string{alice: "Owner", bob: "Admin", carol: "Member", dave: "Member", bot: "Member"}, 9},
		{"chtownsqsales", "Public", "Sales / Town Square", erin,
			map[string]string{erin: "Owner", alice: "Member", carol: "Member"}, 2},
		{"chsecret", "Private", "Engineering / Secret Plans", bob,
			map[string]string{bob: "Owner", alice: "Admin"}, 1},
		{"chdesign", "Public", "Sales / Design 🎨", alice,
			map[string]string{alice: "Owner", erin: "Member"}, 1},
		// A group DM, named after its members' nicks in 30 bytes (spec §8.4).
		{"chgm", "Private", "Alice Ängström, Bob 🐱 +2", alice,
			map[string]string{alice: "Owner", bob: "Member", carol: "Member", erin: "Member"}, 3},
		{"chdmerinself", "Private", "erin (you)", erin, map[string]string{erin: "Owner"}, 1},
	} {
		g, ok := groups["mm_"+mmID(w.channel)]
		if !ok {
			t.Errorf("group mm_%s missing", mmID(w.channel))
			continue
		}
		members := map[string]string{}
		for _, m := range g.Members {
			members[m.Account] = m.Role
		}
		if g.Type != w.typ || g.Name != w.name || g.Owner != w.owner || !maps.Equal(members, w.members) || len(g.Messages) != w.messages {
			t.Errorf("group %s: type %s name %q owner %s members %v, %d messages; want %s %q %s %v, %d",
				g.GroupID, g.Type, g.Name, g.Owner, members, len(g.Messages), w.typ, w.name, w.owner, w.members, w.messages)
		}
	}
	if len(groups) != 6 {
		t.Errorf("sandbox holds %d groups, want 6", len(groups))
	}

	// Group posts byte for byte: text, and text + files as one custom element.
	path := func(channel, file, name string) string {
		return files + "/20231114/teams/noteam/channels/" + mmID(channel) + "/users/" + alice + "/" + mmID(file) + "/" + name
	}
	ts := groups["mm_"+mmID("chtownsqeng")].Messages
	byText := func(msgs []sandbox.GroupMsgState, from string, contains string) string {
		for _, m := range msgs {
			if m.FromAccount == from && bytes.Contains(m.MsgBody, []byte(contains)) {
				return string(m.MsgBody)
			}
		}
		return ""
	}
	png, pdf := path("chtownsqeng", "fpng", "diagram.png"), path("chtownsqeng", "fpdf", "spec%20v2.pdf")
	for _, w := range []struct{ from, find, body string }{
		{alice, "Hello", `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"Hello 👋 — ünïcödé ✓"}}]`},
		{carol, "漢字", `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"` + strings.Repeat("漢字", 1500) + `"}}]`},
		{alice, "Spec attached", `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"Spec attached"}},` +
			`{"MsgType":"TIMCustomElem","MsgContent":{"Data":"[{\"type\":\"image\",\"url\":\"` + png + `\",\"size\":48213,\"width\":800,\"height\":600},` +
			`{\"type\":\"file\",\"url\":\"` + pdf + `\",\"name\":\"spec v2.pdf\",\"size\":120000}]","Desc":"[2 files]","Ext":"immigrate.media"}}]`},
		{dave, "logs.zip", `[{"MsgType":"TIMCustomElem","MsgContent":{"Data":"{\"type\":\"file\",\"url\":\"` +
			path("chtownsqeng", "fzip", "logs.zip") + `\",\"name\":\"logs.zip\",\"size\":5000000}","Desc":"[1 files]","Ext":"immigrate.media"}}]`},
	} {
		if got := byText(ts, w.from, w.find); got != w.body {
			t.Errorf("town-square post of %s with %q\n got %s\nwant %s", w.from, w.find, got, w.body)
		}
	}
	if self := groups["mm_"+mmID("chdmerinself")].Messages; len(self) != 1 ||
		string(self[0].MsgBody) != `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"note to self"}}]` || self[0].FromAccount != erin {
		t.Errorf("the self-DM group holds %+v, want erin's note to self", self)
	}
	for _, m := range ts {
		if bytes.Contains(m.MsgBody, []byte("10:00")) || bytes.Contains(m.MsgBody, []byte("wrong channel")) || bytes.Contains(m.MsgBody, []byte("joined the channel")) {
			t.Errorf("town-square holds an edit-history, deleted or system post: %s", m.MsgBody)
		}
	}
	if long := byText(ts, bob, "Long incident report"); len(long) > 12000 || !strings.HasSuffix(long, `…[truncated]"}}]`) {
		t.Errorf("the 13,000-byte post: %d bytes, want ≤ 12,000 ending with the truncation marker", len(long))
	}

	// One-to-one posts: bodies and CloudCustomData (thread, edit, reactions, legacy id).
	if len(st.C2C) != 2 {
		t.Fatalf("sandbox holds %d conversations, want 2 (alice–bob, alice–bot)", len(st.C2C))
	}
	var ab []sandbox.C2CMessageState
	for _, c := range st.C2C {
		if (c.A == alice && c.B == bob) || (c.A == bob && c.B == alice) {
			ab = c.Messages
		}
	}
	if len(ab) != 4 {
		t.Fatalf("alice–bob holds %d messages, want 4 (not the deleted post nor the edit history)", len(ab))
	}
	editat := mattermostInt(t, url, "SELECT editat FROM posts WHERE id = $1", mmID("pdm4"))
	img := path("chdmalicebob", "fdmpng", "photo.png")
	for i, w := range []struct{ body, cloud string }{
		{`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi bob"}}]`, `{"legacy_id":"` + mmID("pdm1") + `"}`},
		{`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi! 😀"}}]`,
			`{"legacy_id":"` + mmID("pdm2") + `","reply_to":"` + mmID("pdm1") + `","thread_id":"` + mmID("pdm1") + `","reactions":{"+1":["` + alice + `"]}}`},
		{`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"see attached"}},` +
			`{"MsgType":"TIMImageElem","MsgContent":{"UUID":"` + md5hex(img) + `","ImageFormat":3,"ImageInfoArray":[` +
			`{"Type":1,"Size":1024,"Width":64,"Height":48,"URL":"` + img + `"},{"Type":2,"Size":1024,"Width":64,"Height":48,"URL":"` + img + `"},` +
			`{"Type":3,"Size":1024,"Width":64,"Height":48,"URL":"` + img + `"}]}}]`, `{"legacy_id":"` + mmID("pdm3") + `"}`},
		{`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"meet at 5"}}]`,
			`{"legacy_id":"` + mmID("pdm4") + `","edited_at":` + strconv.FormatInt(editat/1000, 10) + `}`},
	} {
		if got := string(ab[i].MsgBody); got != w.body {
			t.Errorf("alice–bob message %d body\n got %s\nwant %s", i+1, got, w.body)
		}
		if got := ab[i].CloudCustomData; got != w.cloud {
			t.Errorf("alice–bob message %d CloudCustomData\n got %s\nwant %s", i+1, got, w.cloud)
		}
	}

	// verify reads everything back and finds all the run's plan sent (one-to-one
	// history older than the roaming retention would be counted apart).
	if code, stdout, stderr := runCLI(t, t.Context(), "verify", "-c", cfg, "--out", out); code != exitOK {
		t.Errorf("verify: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitOK, stdout, stderr)
	}

	// The preset never reads users.password: its hash is nowhere in the output
	// (reports, plan, checkpoint).
	hash := mattermostString(t, url, "SELECT password FROM users WHERE id = $1", alice)
	if len(hash) < 20 {
		t.Fatalf("seed password hash %q too short to search for", hash)
	}
	for _, d := range []string{vout, out} {
		_ = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(hash)) {
				t.Errorf("%s holds a user's password hash", p)
			}
			return nil
		})
	}
}

func mattermostInt(t *testing.T, url, query string, args ...any) int64 {
	t.Helper()
	var n int64
	mattermostScan(t, url, query, args, &n)
	return n
}

func mattermostString(t *testing.T, url, query string, args ...any) string {
	t.Helper()
	var s string
	mattermostScan(t, url, query, args, &s)
	return s
}

func mattermostScan(t *testing.T, url, query string, args []any, dst any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if err := conn.QueryRow(t.Context(), query, args...).Scan(dst); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

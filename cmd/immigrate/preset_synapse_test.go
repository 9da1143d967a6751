package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/internal/pgtest"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/report"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// synapseEventID is the event id seed.sql gives the event of key: "$" and the
// unpadded URL-safe base64 of its SHA-256 (the shape of room version 4+ ids).
func synapseEventID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "$" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// synapseMedia is where the preset's url_template sends mxc://server/media.
func synapseMedia(server, media string) string {
	return "https://matrix.example.org/_matrix/media/v3/download/" + server + "/" + media
}

// loadSynapse creates a schema of its own in the test server and loads
// Synapse's schema (testdata/presets/synapse/schema.sql, vendored from
// upstream) and the seed into it. It returns the URL that reads it and a
// connection to it. extra runs after the seed, in the same session (so it may
// call the seed's pg_temp functions).
func loadSynapse(t testing.TB, extra string) (string, *pgx.Conn) {
	t.Helper()
	url, schema := pgtest.Schema(t)
	var sql strings.Builder
	ident := pgx.Identifier{schema}.Sanitize()
	sql.WriteString("CREATE SCHEMA " + ident + "; SET search_path = " + ident + ";\n")
	for _, f := range []string{"schema.sql", "seed.sql"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "presets", "synapse", f))
		if err != nil {
			t.Fatal(err)
		}
		sql.Write(b)
		sql.WriteString("\n")
	}
	sql.WriteString(extra)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(t.Context()) })
	if _, err := conn.Exec(t.Context(), sql.String()); err != nil {
		t.Fatalf("load schema.sql and seed.sql: %v", err)
	}
	return url, conn
}

// TestPresetSynapse runs mappings/presets/synapse.yaml, its region swapped for
// a sandbox served over HTTP, against a database in Synapse's own schema with
// the awkward data of testdata/presets/synapse/seed.sql (README.md there says
// what each record plants): validate's counts and rejects, the import's result
// in the sandbox, a few messages byte for byte, and a second run that imports
// nothing twice.
func TestPresetSynapse(t *testing.T) {
	url, db := loadSynapse(t, "")
	srv, endpoint := e2eSandbox(t, nil)

	preset, err := os.ReadFile(filepath.Join("..", "..", "mappings", "presets", "synapse.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const region = "\n  region: singapore\n"
	if !strings.Contains(string(preset), region) {
		t.Fatalf("preset has no %q", region)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "synapse.yaml")
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(preset), region, "\n  endpoint: "+endpoint+"\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("IMMIGRATE_SOURCE_PG_URL", url)
	t.Setenv("TIM_SDKAPPID", strconv.Itoa(e2eSDKAppID))
	t.Setenv("TIM_SECRET_KEY", e2eKey)

	// validate: the counts and the planted rejects.
	vout := filepath.Join(dir, "validate")
	code, stdout, stderr := runCLI(t, t.Context(), "validate", "-c", cfg, "--out", vout)
	if code != exitRejected {
		t.Fatalf("validate: exit %d, want %d (planted rejects)\nstdout:\n%s\nstderr:\n%s", code, exitRejected, stdout, stderr)
	}
	rep := readValidateReport(t, vout)
	for _, want := range []struct {
		entity                                   extract.Entity
		read, valid, repaired, rejected, skipped int64
	}{
		// 7 local users (a deactivated one, a guest, two appservice users, one
		// whose id is over 32 bytes) and 2 of other homeservers.
		{extract.Users, 9, 9, 1, 0, 0},
		// 10 rooms: 2 DMs, a space and an invite-only outlier are no groups; two
		// names over 30 bytes are truncated.
		{extract.Groups, 7, 7, 2, 0, 0},
		// joined members only; each group's owner row is skipped (import_group
		// makes the owner a member).
		{extract.Members, 21, 14, 0, 0, 7},
		// redacted, encrypted, edit and reaction events are not read; a message
		// from a server clock in the future and an empty one are rejected.
		{extract.GroupMessages, 24, 22, -1, 2, 0},
		// an image without its url is rejected.
		{extract.DirectMessages, 9, 8, -1, 1, 0},
	} {
		got := rep.Result.Counts(want.entity)
		if got.Read != want.read || got.Valid != want.valid || got.Rejected != want.rejected || got.Skipped != want.skipped ||
			(want.repaired >= 0 && got.Repaired != want.repaired) {
			t.Errorf("%s: %+v, want read %d valid %d repaired %d rejected %d skipped %d", want.entity, got,
				want.read, want.valid, want.repaired, want.rejected, want.skipped)
		}
	}
	type key struct{ entity, id, rule string }
	wantRejects := []key{
		{string(extract.GroupMessages), synapseEventID("gen_future"), "message.time.future"},
		{string(extract.GroupMessages), synapseEventID("gen_empty"), "message.text.empty"},
		{string(extract.DirectMessages), synapseEventID("dm_broken_image"), "message.image.missing"},
	}
	var gotRejects []key
	for _, r := range readJSONL[load.Reject](t, filepath.Join(vout, report.RejectsFileName)) {
		gotRejects = append(gotRejects, key{r.Entity, r.LegacyID, r.Rule})
	}
	sortKeys := func(k []key) {
		slices.SortFunc(k, func(a, b key) int { return strings.Compare(a.entity+a.id, b.entity+b.id) })
	}
	sortKeys(wantRejects)
	sortKeys(gotRejects)
	if !slices.Equal(gotRejects, wantRejects) {
		t.Errorf("rejects.jsonl %v, want %v", gotRejects, wantRejects)
	}
	issues := map[string]int64{}
	for _, is := range rep.Result.Issues {
		issues[string(is.Entity)+" "+is.Rule] += is.Count
	}
	for rule, n := range map[string]int64{
		"users user.id.rewritten":               1,
		"groups group.name.truncated":           2,
		"group_messages message.body.truncated": 1,
		"group_members member.owner_row":        7,
		"group_messages message.time.future":    1,
		"direct_messages message.image.missing": 1,
	} {
		if issues[rule] != n {
			t.Errorf("issue %s: %d, want %d", rule, issues[rule], n)
		}
	}
	const longID = "averyveryverylongusername.with.dots:example.org"
	if len(rep.Result.Rewrites) != 1 || rep.Result.Rewrites[0].Legacy != longID || len(rep.Result.Rewrites[0].Target) > 32 {
		t.Fatalf("rewrites %+v, want %s rewritten to at most 32 bytes", rep.Result.Rewrites, longID)
	}
	longTarget := rep.Result.Rewrites[0].Target

	// run: into the sandbox.
	rout := filepath.Join(dir, "run")
	code, stdout, stderr = runCLI(t, t.Context(), "run", "-c", cfg, "--out", rout)
	if code != exitRejected {
		t.Fatalf("run: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitRejected, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, e2eKey) {
		t.Error("the secret key is in the output")
	}
	st := srv.State()
	checkSynapseState(t, st, longTarget)
	checkSynapseMessages(t, st, db)

	// The plan holds what validate accepted; verify reads the target back and
	// finds all of it there.
	planned := planCounts(t, rout)
	vcode, doc, voutput := verifyCLI(t, cfg, rout)
	if vcode != exitOK {
		t.Errorf("verify: exit %d, want %d\n%s", vcode, exitOK, voutput)
	}
	for e, n := range map[extract.Entity]int64{extract.Users: 9, extract.Groups: 7, extract.Members: 14,
		extract.GroupMessages: 22, extract.DirectMessages: 8} {
		c := doc.Result.Counts(e)
		if planned[e] != n || c.Expected != n || c.Present != n {
			t.Errorf("%s: %d in the plan, verify %+v; want %d planned, expected and present", e, planned[e], c, n)
		}
	}

	// A second run resumes from the checkpoint: nothing is imported twice.
	code, stdout, stderr = runCLI(t, t.Context(), "run", "-c", cfg, "--out", rout)
	if code != exitRejected {
		t.Fatalf("second run: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitRejected, stdout, stderr)
	}
	again, _ := json.Marshal(srv.State())
	first, _ := json.Marshal(st)
	if string(again) != string(first) {
		t.Errorf("the second run changed the sandbox: %s", firstDiff(first, again))
	}

	// The key came from the environment; no report, plan or checkpoint holds it.
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), e2eKey) {
			t.Errorf("%s holds the secret key", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkSynapseState checks the accounts, groups and members the seed implies.
func checkSynapseState(t *testing.T, st sandbox.State, longTarget string) {
	t.Helper()
	accounts := map[string]sandbox.AccountState{}
	for _, a := range st.Accounts {
		accounts[a.UserID] = a
	}
	wantAccounts := map[string]string{ // UserID → nick
		"alice:example.org":        "Alice 🌸",
		"bob:example.org":          "Bob",
		"dave:example.org":         "dave", // deactivated: profile cleared
		"1337:example.org":         "1337", // a guest without a profile
		"hookshot:example.org":     "GitHub 🤖",
		"telegram_777:example.org": "Иван Петров (Telegram)",
		longTarget:                 "Long Name",
		"carol:matrix.org":         "Carol", // other homeservers: the display name of a membership
		"erin:chat.other.net:8448": "Erin ✨",
	}
	if len(accounts) != len(wantAccounts) {
		t.Errorf("sandbox has %d accounts, want %d: %v", len(accounts), len(wantAccounts), st.Accounts)
	}
	// The profiles phase marks bots, appservice users, guests, deactivated and
	// remote users, as the seed's users rows say.
	wantMarks := map[string]string{ // UserID → Kind Active
		"alice:example.org": `"human" "1"`, "bob:example.org": `"human" "1"`, "dave:example.org": `"human" "0"`,
		"1337:example.org": `"guest" "1"`, "hookshot:example.org": `"bot" "1"`, "telegram_777:example.org": `"appservice" "1"`,
		longTarget: `"human" "1"`, "carol:matrix.org": `"remote" "1"`, "erin:chat.other.net:8448": `"remote" "1"`,
	}
	for id, want := range wantMarks {
		var kind, active string
		for _, p := range accounts[id].Profile {
			switch p.Tag {
			case "Tag_Profile_Custom_Kind":
				kind = string(p.Value)
			case "Tag_Profile_Custom_Active":
				active = string(p.Value)
			}
		}
		if got := kind + " " + active; got != want {
			t.Errorf("account %s: profile marks %s, want %s", id, got, want)
		}
	}
	for id, nick := range wantAccounts {
		if a, ok := accounts[id]; !ok || a.Nick != nick {
			t.Errorf("account %s: %+v (present %v), want nick %q", id, a, ok, nick)
		}
	}
	if got, want := accounts["alice:example.org"].FaceURL, synapseMedia("example.org", "AliceAvatar01"); got != want {
		t.Errorf("alice's FaceUrl %q, want %q", got, want)
	}

	type group struct {
		typ, owner string
		members    map[string]string // non-owner member → role
		messages   int
	}
	want := map[string]group{
		"!GeneralRoomAbcdef:example.org": {"Public", "alice:example.org", map[string]string{
			"bob:example.org": "Admin", "carol:matrix.org": "Member", "hookshot:example.org": "Member",
			"telegram_777:example.org": "Member", longTarget: "Member"}, 11},
		// the creator left: the joined member with the highest power level ("100", a string) owns it
		"!DevTeamRoomXyz:example.org":    {"Private", "bob:example.org", map[string]string{"hookshot:example.org": "Admin", "carol:matrix.org": "Member"}, 6},
		"!UnnamedRoomQwerty:example.org": {"Private", "bob:example.org", map[string]string{"alice:example.org": "Member", "1337:example.org": "Member"}, 2},
		"!AliasOnlyRoom:example.org":     {"Public", "bob:example.org", map[string]string{"telegram_777:example.org": "Member"}, 1},
		"!TrioRoom:example.org":          {"Private", "bob:example.org", map[string]string{"alice:example.org": "Member", "telegram_777:example.org": "Member"}, 1},
		"!SecretRoom:example.org":        {"Private", "alice:example.org", map[string]string{"bob:example.org": "Member"}, 0},
		"!PairRoom:example.org":          {"Private", "alice:example.org", map[string]string{"bob:example.org": "Member"}, 1},
	}
	if len(st.Groups) != len(want) {
		t.Errorf("sandbox has %d groups, want %d", len(st.Groups), len(want))
	}
	names := map[string]string{}
	members, messages := 0, 0
	for _, g := range st.Groups {
		names[g.GroupID] = g.Name
		w, ok := want[g.GroupID]
		if !ok {
			t.Errorf("unexpected group %s (%s)", g.GroupID, g.Name)
			continue
		}
		got := map[string]string{}
		for _, m := range g.Members {
			if m.Account == g.Owner {
				continue
			}
			got[m.Account] = m.Role
		}
		members += len(got)
		messages += len(g.Messages)
		if g.Type != w.typ || g.Owner != w.owner || fmt.Sprint(got) != fmt.Sprint(w.members) || len(g.Messages) != w.messages {
			t.Errorf("group %s: type %s owner %s members %v, %d messages; want %s %s %v, %d",
				g.GroupID, g.Type, g.Owner, got, len(g.Messages), w.typ, w.owner, w.members, w.messages)
		}
	}
	if members != 14 || messages != 22 {
		t.Errorf("sandbox: %d members (owners aside), %d group messages; want 14, 22", members, messages)
	}
	for id, name := range map[string]string{
		"!GeneralRoomAbcdef:example.org": "General 💬",           // m.room.name
		"!AliasOnlyRoom:example.org":     "#random:example.org", // no name: the canonical alias
		"!UnnamedRoomQwerty:example.org": "1337, Alice 🌸, Bob",  // neither: the joined members
	} {
		if names[id] != name {
			t.Errorf("group %s named %q, want %q", id, names[id], name)
		}
	}
	for id, long := range map[string]string{
		"!DevTeamRoomXyz:example.org": "Dev team — backend, infra & everything else",
		"!TrioRoom:example.org":       "Alice 🌸, Bob, Иван Петров (Telegram)",
	} {
		if n := names[id]; len(n) > 30 || len(n) < 20 || !utf8.ValidString(n) || !strings.HasPrefix(long, n) {
			t.Errorf("group %s named %q, want %q truncated to at most 30 bytes", id, n, long)
		}
	}

	c2c := map[string]int{}
	for _, c := range st.C2C {
		c2c[c.A+" "+c.B] = len(c.Messages)
	}
	if want := map[string]int{"alice:example.org bob:example.org": 6, "alice:example.org carol:matrix.org": 2}; fmt.Sprint(c2c) != fmt.Sprint(want) {
		t.Errorf("sandbox one-to-one conversations %v, want %v", c2c, want)
	}
}

// checkSynapseMessages reads a few messages back byte for byte: an edit's
// final text with its edit time and reactions, an image's rewritten URL, a
// reply's CloudCustomData, a group post's file, an emote.
func checkSynapseMessages(t *testing.T, st sandbox.State, db *pgx.Conn) {
	t.Helper()
	ts := func(key string) int64 {
		var ms int64
		if err := db.QueryRow(t.Context(), "SELECT origin_server_ts FROM events WHERE event_id = $1", synapseEventID(key)).Scan(&ms); err != nil {
			t.Fatalf("event %s: %v", key, err)
		}
		return ms / 1000
	}
	type msg struct {
		from, body, cloud string
		time              int64
	}
	dm := map[string]msg{} // by CloudCustomData legacy_id
	for _, c := range st.C2C {
		for _, m := range c.Messages {
			var cd struct {
				LegacyID string `json:"legacy_id"`
			}
			if err := json.Unmarshal([]byte(m.CloudCustomData), &cd); err != nil {
				t.Errorf("C2C message without a legacy id: %+v", m)
				continue
			}
			dm[cd.LegacyID] = msg{m.FromAccount, string(m.MsgBody), m.CloudCustomData, m.MsgTimeStamp}
		}
	}
	text := func(s string) string {
		b, _ := json.Marshal(s)
		return `[{"MsgType":"TIMTextElem","MsgContent":{"Text":` + string(b) + `}}]`
	}
	lunch, view, reply := synapseEventID("dm_lunch"), synapseEventID("dm_view"), synapseEventID("dm_reply")
	img := synapseMedia("example.org", "ViewJpg789")
	for _, tc := range []struct {
		name, id string
		want     msg
	}{
		{"edited, with a reaction", lunch, msg{"bob:example.org", text("lunch at 1pm? 🍜"),
			`{"legacy_id":"` + lunch + `","edited_at":` + strconv.FormatInt(ts("dm_lunch_edit"), 10) + `,"reactions":{"👍":["alice:example.org"]}}`, ts("dm_lunch")}},
		{"image with a caption", view, msg{"bob:example.org",
			`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"look at this view"}},` +
				`{"MsgType":"TIMImageElem","MsgContent":{"UUID":"` + md5hex(img) + `","ImageFormat":255,"ImageInfoArray":[` +
				`{"Type":1,"Size":204800,"Width":1024,"Height":768,"URL":"` + img + `"},{"Type":2,"Size":204800,"Width":1024,"Height":768,"URL":"` + img + `"},` +
				`{"Type":3,"Size":204800,"Width":1024,"Height":768,"URL":"` + img + `"}]}}]`,
			`{"legacy_id":"` + view + `"}`, ts("dm_view")}},
		{"reply, its fallback quote cut", reply, msg{"alice:example.org", text("wow 😍"),
			`{"legacy_id":"` + reply + `","reply_to":"` + view + `"}`, ts("dm_reply")}},
	} {
		if got := dm[tc.id]; got != tc.want {
			t.Errorf("%s %s:\n got %+v\nwant %+v", tc.name, tc.id, got, tc.want)
		}
	}
	for _, key := range []string{"dm_secret", "dm_lunch_edit", "dm_lunch_react", "dm_broken_image"} {
		if _, ok := dm[synapseEventID(key)]; ok {
			t.Errorf("%s was imported", key)
		}
	}

	group := map[string]map[int64][]string{} // GroupId → SendTime → bodies
	for _, g := range st.Groups {
		group[g.GroupID] = map[int64][]string{}
		for _, m := range g.Messages {
			group[g.GroupID][m.SendTime] = append(group[g.GroupID][m.SendTime], m.FromAccount+" "+string(m.MsgBody))
		}
	}
	spec := synapseMedia("example.org", "SpecPdf456")
	for _, tc := range []struct {
		name, room, key, want string
	}{
		{"edited twice, the latest edit by its sender", "!DevTeamRoomXyz:example.org", "dev_standup", "bob:example.org " + text("standup in 15 ⏰")},
		{"a reply in a group", "!DevTeamRoomXyz:example.org", "dev_omw", "carol:matrix.org " + text("omw")},
		{"a file with a caption", "!DevTeamRoomXyz:example.org", "dev_spec", "alice:example.org " +
			`[{"MsgType":"TIMTextElem","MsgContent":{"Text":"Here is the spec"}},{"MsgType":"TIMCustomElem","MsgContent":{"Data":"{\"type\":\"file\",\"url\":\"` +
			spec + `\",\"name\":\"spec.pdf\",\"size\":52000}","Desc":"[1 files]","Ext":"immigrate.media"}}]`},
		{"an emote", "!GeneralRoomAbcdef:example.org", "gen_emote", "telegram_777:example.org " + text("* Иван Петров (Telegram) машет рукой")},
		{"a thread reply", "!GeneralRoomAbcdef:example.org", "gen_thread_reply", "alice:example.org " + text("Friday 🚀")},
		{"a NUL, which jsonb cannot hold", "!GeneralRoomAbcdef:example.org", "gen_nul", "telegram_777:example.org " + text("bridged \ufffd text")},
	} {
		if got := group[tc.room][ts(tc.key)]; len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s (%s):\n got %q\nwant %q", tc.name, tc.key, got, tc.want)
		}
	}
}

// BenchmarkPresetSynapseValidate validates the preset against the seed plus
// 20,000 messages (half in General, half in the alice–bob DM; every 10th
// edited, every 5th with a reaction) and reports messages/s: the cost of the
// preset's queries (event_json, relations, edits, reactions per message) on
// top of the reader's paging.
func BenchmarkPresetSynapseValidate(b *testing.B) {
	const n = 10_000 // per room
	url, _ := loadSynapse(b, fmt.Sprintf(`
DO $$
BEGIN
  FOR i IN 1..%d LOOP
    PERFORM pg_temp.text('bulk_g' || i, '!GeneralRoomAbcdef:example.org', '@bob:example.org', 'group message ' || i);
    PERFORM pg_temp.text('bulk_d' || i, '!DmAliceBobRoom:example.org', '@alice:example.org', 'direct message ' || i);
    IF i %% 10 = 0 THEN
      PERFORM pg_temp.ev('bulk_e' || i, '!DmAliceBobRoom:example.org', 'm.room.message', '@alice:example.org',
        '{"msgtype": "m.text", "body": "* edited", "m.new_content": {"msgtype": "m.text", "body": "edited ' || i ||
        '"}, "m.relates_to": {"rel_type": "m.replace", "event_id": "<<bulk_d' || i || '>>"}}');
    END IF;
    IF i %% 5 = 0 THEN
      PERFORM pg_temp.ev('bulk_r' || i, '!GeneralRoomAbcdef:example.org', 'm.reaction', '@alice:example.org',
        '{"m.relates_to": {"rel_type": "m.annotation", "event_id": "<<bulk_g' || i || '>>", "key": "👍"}}');
    END IF;
  END LOOP;
END $$;
ANALYZE;
`, n))
	preset, err := os.ReadFile(filepath.Join("..", "..", "mappings", "presets", "synapse.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	const pageSize = "    page_size: 10000\n"
	if !strings.Contains(string(preset), pageSize) {
		b.Fatalf("preset has no %q", pageSize)
	}
	b.Setenv("IMMIGRATE_SOURCE_PG_URL", url)
	b.Setenv("TIM_SDKAPPID", strconv.Itoa(e2eSDKAppID))
	b.Setenv("TIM_SECRET_KEY", e2eKey)
	// Every page runs the query again: smaller pages show what that costs.
	for _, size := range []int{10_000, 1_000} {
		b.Run(fmt.Sprintf("page_size=%d", size), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "synapse.yaml")
			m := strings.Replace(string(preset), pageSize, fmt.Sprintf("    page_size: %d\n", size), 1)
			if err := os.WriteFile(path, []byte(m), 0o600); err != nil {
				b.Fatal(err)
			}
			benchValidate(b, path)
		})
	}
}

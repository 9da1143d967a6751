package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim"
)

// TestRunProfiles migrates users with profile fields over real HTTP into a
// sandbox: the standard tags from their documented spellings, custom tags that
// mark bots, guests and deactivated users, read back with portrait_get byte for
// byte; a bad value rejects the profile (profile.*) and never the account; a user
// with only a nick gets no portrait_set; a second run changes nothing.
func TestRunProfiles(t *testing.T) {
	dir := t.TempDir()
	users := "id,nick,sex,born,location,signature,allow_type,language,level,role,kind,active\n" +
		"alice,Alice,f,1990-04-19,CN-44,\"hello \"\"world\"\"\",allow_any,1,7,2,human,1\n" +
		"bot1,Bot,,,,,deny_any,,,,bot,1\n" +
		"guest,,m,,,,,,,,guest,1\n" +
		"gone,Gone,,,,,,,,,human,0\n" +
		"plain,Plain,,,,,,,,,,\n" +
		"badg,Bad gender,x,,,,,,,,human,1\n" +
		"badb,Bad birthday,,1990-02-30,,,,,,,,\n"
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte(users), 0o644); err != nil {
		t.Fatal(err)
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
  users:
    file: users.csv
    columns: {gender: sex, birthday: born}
    custom: {Kind: kind, Tag_Profile_Custom_Active: active}
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
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(rejects)), "\n") {
		var r struct {
			Entity   string `json:"entity"`
			LegacyID string `json:"legacy_id"`
			Rule     string `json:"rule"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("rejects.jsonl: %v: %s", err, line)
		}
		got = append(got, r.Entity+" "+r.LegacyID+" "+r.Rule)
	}
	if want := []string{"profiles badg profile.gender.invalid", "profiles badb profile.birthday.invalid"}; !reflect.DeepEqual(got, want) {
		t.Errorf("rejects %q, want %q", got, want)
	}

	// Every account is imported, the rejected profiles' too.
	st := srv.State()
	var ids []string
	for _, a := range st.Accounts {
		ids = append(ids, a.UserID)
	}
	if want := []string{"alice", "badb", "badg", "bot1", "gone", "guest", "plain"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("accounts %q, want %q", ids, want)
	}

	// Read back through the API, as verify and an operator would.
	c, err := tencentim.NewClient(tencentim.Config{SDKAppID: e2eSDKAppID, SecretKey: secret.New(e2eKey), Admin: e2eAdmin, Endpoint: url})
	if err != nil {
		t.Fatal(err)
	}
	tags := []string{tencentim.TagNick, tencentim.TagGender, tencentim.TagBirthDay, tencentim.TagLocation, tencentim.TagSelfSignature,
		tencentim.TagAllowType, tencentim.TagLanguage, tencentim.TagLevel, tencentim.TagRole, "Tag_Profile_Custom_Kind", "Tag_Profile_Custom_Active"}
	resp, err := c.PortraitGet(t.Context(), &tencentim.PortraitGetRequest{ToAccount: ids, TagList: tags})
	if err != nil {
		t.Fatal(err)
	}
	profiles := map[string]string{}
	for _, u := range resp.UserProfileItem {
		b, err := json.Marshal(u.ProfileItem)
		if err != nil {
			t.Fatal(err)
		}
		profiles[u.ToAccount] = string(b)
	}
	item := func(tag, raw string) string { return `{"Tag":"` + tag + `","Value":` + raw + `}` }
	nick := func(n string) string { return item(tencentim.TagNick, `"`+n+`"`) }
	kind := func(k, active string) string {
		return item("Tag_Profile_Custom_Kind", `"`+k+`"`) + "," + item("Tag_Profile_Custom_Active", `"`+active+`"`)
	}
	want := map[string]string{
		"alice": "[" + nick("Alice") + "," + item(tencentim.TagGender, `"Gender_Type_Female"`) + "," + item(tencentim.TagBirthDay, "19900419") + "," +
			item(tencentim.TagLocation, `"CN-44"`) + "," + item(tencentim.TagSelfSignature, `"hello \"world\""`) + "," +
			item(tencentim.TagAllowType, `"AllowType_Type_AllowAny"`) + "," + item(tencentim.TagLanguage, "1") + "," +
			item(tencentim.TagLevel, "7") + "," + item(tencentim.TagRole, "2") + "," + kind("human", "1") + "]",
		"bot1":  "[" + nick("Bot") + "," + item(tencentim.TagAllowType, `"AllowType_Type_DenyAny"`) + "," + kind("bot", "1") + "]",
		"guest": "[" + item(tencentim.TagGender, `"Gender_Type_Male"`) + "," + kind("guest", "1") + "]",
		"gone":  "[" + nick("Gone") + "," + kind("human", "0") + "]",
		"plain": "[" + nick("Plain") + "]",
		"badg":  "[" + nick("Bad gender") + "]",
		"badb":  "[" + nick("Bad birthday") + "]",
	}
	if !reflect.DeepEqual(profiles, want) {
		for id := range want {
			if profiles[id] != want[id] {
				t.Errorf("profile of %s:\n got %s\nwant %s", id, profiles[id], want[id])
			}
		}
	}

	// The report counts the profiles as an entity of their own.
	rr, err := os.ReadFile(filepath.Join(out, "run-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rr), `"profiles"`) {
		t.Errorf("run-report.json has no profiles")
	}
	var report struct {
		APIs map[string]struct{ Calls int64 } `json:"apis"`
	}
	if err := json.Unmarshal(rr, &report); err != nil {
		t.Fatal(err)
	}
	// alice, bot1, guest, gone: plain has only a nick, badg and badb were rejected.
	if n := report.APIs[tencentim.CmdPortraitSet.String()].Calls; n != 4 {
		t.Errorf("portrait_set calls = %d, want 4", n)
	}

	// The same command again resumes a finished migration: nothing changes.
	if code, stdout, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out); code != exitRejected {
		t.Fatalf("second run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if again := srv.State(); !reflect.DeepEqual(again.Accounts, st.Accounts) {
		t.Errorf("second run changed the accounts")
	}
}

// TestDeltaProfiles: after the bulk run a user's profile changes and a user is
// added; the delta run sets the changed profile again (portrait_set is
// idempotent, so a profile is covered only with the same values) and the new
// user's account and profile, and nothing else.
func TestDeltaProfiles(t *testing.T) {
	dir := t.TempDir()
	write := func(users string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte("id,nick,gender,kind\n"+users), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("u1,One,f,human\nu2,Two,m,human\n")
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
  users: {file: users.csv, custom: {Kind: kind}}
`, url, e2eSDKAppID, e2eKey, e2eAdmin) + e2eLoad
	if err := os.WriteFile(mapping, []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if code, _, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out); code != exitOK {
		t.Fatalf("bulk run: exit %d\n%s", code, stderr)
	}
	// u2 is deactivated as a guest in the legacy system during the cutover; u3 joins.
	write("u1,One,f,human\nu2,Two,m,guest\nu3,Three,,bot\n")
	code, stdout, stderr := runCLI(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitOK || !strings.Contains(stderr, "delta (generation 1): 3 new records to import") {
		t.Fatalf("delta run: exit %d, want 3 new records (u3's account, u2's and u3's profiles)\n%s\n%s", code, stdout, stderr)
	}
	got := map[string]string{}
	for _, a := range srv.State().Accounts {
		got[a.UserID] = profileTags(a.Profile)
	}
	want := map[string]string{
		"u1": `Tag_Profile_Custom_Kind="human" Tag_Profile_IM_Gender="Gender_Type_Female"`,
		"u2": `Tag_Profile_Custom_Kind="guest" Tag_Profile_IM_Gender="Gender_Type_Male"`,
		"u3": `Tag_Profile_Custom_Kind="bot"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("profiles after the delta run:\n got %q\nwant %q", got, want)
	}
}

package plan

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/transform"
)

// accountLog keeps the account payloads Validate accepts, by legacy id.
type accountLog map[string]tencentim.AccountImportRequest

func (l accountLog) Payload(e extract.Entity, legacyID string, p any) error {
	if a, ok := p.(tencentim.AccountImportRequest); ok && e == extract.Users {
		l[legacyID] = a
	}
	return nil
}

// unreadableExport writes a CSV export whose user u2 has a nick that is not
// UTF-8, whose user u3 has a creation time that does not parse and whose group
// g1 has a max_members that is not a number, with members and messages of all
// three users.
func unreadableExport(t *testing.T) extract.CSVConfig {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"users.csv": "id,nick,created_at\n" +
			"u1,One,2024-01-01T00:00:00Z\n" +
			"u2,Tw\xffo,2024-01-01T00:00:00Z\n" +
			"u3,Three,yesterday\n",
		"groups.csv": "id,owner_id,type,name,max_members,created_at\n" +
			"g1,u1,public,First,lots,2024-01-01T00:00:00Z\n",
		"members.csv": "group_id,user_id,role,joined_at,unread\n" +
			"g1,u2,member,2024-01-02T00:00:00Z,x\n" +
			"g1,u3,member,2024-01-02T00:00:00Z,\n",
		"group.csv": "id,group_id,sender_id,sent_at,text\n" +
			"1,g1,u2,2024-01-03T00:00:00Z,hello\n" +
			"2,g1,u3,2024-01-03T00:01:00Z,hi\n",
		"direct.csv": "id,sender_id,recipient_id,sent_at,text\n" +
			"10,u2,u1,2024-01-03T00:00:00Z,hey\n" +
			"11,u1,u2,2024-01-03T00:01:00Z,hey you\n" +
			"12,u3,u1,2024-01-03T00:02:00Z,yo\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return extract.CSVConfig{Dir: dir, Entities: map[extract.Entity]extract.EntitySource{
		extract.Users:          {File: "users.csv"},
		extract.Groups:         {File: "groups.csv"},
		extract.Members:        {File: "members.csv"},
		extract.GroupMessages:  {File: "group.csv"},
		extract.DirectMessages: {File: "direct.csv"},
	}}
}

func validateCSV(t *testing.T, cfg extract.CSVConfig, strict bool) (*ValidateResult, []load.Reject, accountLog) {
	t.Helper()
	br := &BadRows{}
	r, err := extract.NewCSVReader(cfg, extract.Options{OnBadRow: br.Report, RejectUnreadable: strict})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var rejects rejectList
	accounts := accountLog{}
	res, err := Validate(context.Background(), r, newTestTransformer(t, nil),
		ValidateOptions{Rejects: &rejects, Payloads: accounts, BadRows: br, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	return res, rejects, accounts
}

func countsOf(res *ValidateResult) map[extract.Entity]EntityCounts {
	m := map[extract.Entity]EntityCounts{}
	for _, c := range res.Entities {
		m[c.Entity] = c
	}
	return m
}

// TestValidateDropsUnreadableOptionalFields: under the default policy an
// optional field that cannot be read is left out with a repair naming the record
// and the field, and nothing that references the record falls with it.
func TestValidateDropsUnreadableOptionalFields(t *testing.T) {
	res, rejects, accounts := validateCSV(t, unreadableExport(t), false)
	if len(rejects) > 0 {
		t.Errorf("rejects: %+v, want none", rejects)
	}
	want := map[extract.Entity]EntityCounts{
		extract.Users:          {Entity: extract.Users, Read: 3, Valid: 3, Repaired: 2},
		extract.Groups:         {Entity: extract.Groups, Read: 1, Valid: 1, Repaired: 1},
		extract.Members:        {Entity: extract.Members, Read: 2, Valid: 2, Repaired: 1},
		extract.GroupMessages:  {Entity: extract.GroupMessages, Read: 2, Valid: 2},
		extract.DirectMessages: {Entity: extract.DirectMessages, Read: 3, Valid: 3},
	}
	got := countsOf(res)
	for e, w := range want {
		if got[e] != w {
			t.Errorf("%s: got %+v, want %+v", e, got[e], w)
		}
	}
	if a, ok := accounts["u2"]; !ok || a.Nick != "" {
		t.Errorf("account u2 = %+v (accepted %v), want accepted without a nick", a, ok)
	}
	if a := accounts["u3"]; a.Nick != "Three" {
		t.Errorf("account u3 = %+v, want its nick kept", a)
	}

	// One repair per dropped field, each naming its origin, legacy id and field.
	var examples []string
	for _, rs := range res.Issues {
		if rs.Rule != transform.RuleFieldDropped {
			continue
		}
		if rs.Severity != "repair" || rs.Summary == "" {
			t.Errorf("%s %s: severity %q, summary %q", rs.Entity, rs.Rule, rs.Severity, rs.Summary)
		}
		for _, ex := range rs.Examples {
			field := ex.Message[:strings.IndexByte(ex.Message[len(`field "`):], '"')+len(`field "`)+1]
			examples = append(examples, string(rs.Entity)+" "+ex.Origin+" "+ex.LegacyID+" "+field)
		}
	}
	slices.Sort(examples)
	wantEx := []string{
		`group_members members.csv:2 g1/u2 field "unread"`,
		`groups groups.csv:2 g1 field "max_members"`,
		`users users.csv:3 u2 field "nick"`,
		`users users.csv:4 u3 field "created_at"`,
	}
	if !slices.Equal(examples, wantEx) {
		t.Errorf("field.dropped examples:\n got %q\nwant %q", examples, wantEx)
	}
}

// TestValidateRejectsUnreadableOptionalFields: under optional_fields: reject the
// records are skipped as before, their references fall with them, and every
// reject names the legacy id that could be read.
func TestValidateRejectsUnreadableOptionalFields(t *testing.T) {
	res, rejects, accounts := validateCSV(t, unreadableExport(t), true)
	if _, ok := accounts["u2"]; ok {
		t.Error("u2 accepted under RejectUnreadable")
	}
	got := countsOf(res)
	want := map[extract.Entity]EntityCounts{
		extract.Users:          {Entity: extract.Users, Read: 3, Valid: 1, Rejected: 2},
		extract.Groups:         {Entity: extract.Groups, Read: 1, Rejected: 1},
		extract.Members:        {Entity: extract.Members, Read: 2, Rejected: 2},
		extract.GroupMessages:  {Entity: extract.GroupMessages, Read: 2, Rejected: 2},
		extract.DirectMessages: {Entity: extract.DirectMessages, Read: 3, Rejected: 3},
	}
	for e, w := range want {
		if got[e] != w {
			t.Errorf("%s: got %+v, want %+v", e, got[e], w)
		}
	}
	var lines []string
	for _, rj := range rejects {
		if rj.Entity == string(extract.Users) || rj.Entity == string(extract.Groups) {
			lines = append(lines, rj.Origin+" "+rj.Rule+" "+rj.LegacyID)
		}
	}
	slices.Sort(lines)
	wantLines := []string{
		"groups.csv:2 field.number g1",
		"users.csv:3 csv.invalid_utf8 u2",
		"users.csv:4 field.timestamp u3",
	}
	if !slices.Equal(lines, wantLines) {
		t.Errorf("rejects:\n got %q\nwant %q", lines, wantLines)
	}
}

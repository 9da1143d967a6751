package transform

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

func TestGroupDMName(t *testing.T) {
	tests := []struct {
		name  string
		nicks []string
		limit int
		want  string
	}{
		{"all fit, sorted case-insensitively", []string{"carol", "Alice", "Bob"}, 30, "Alice, Bob, carol"},
		{"exactly the limit", []string{"Alice", "Bob", "Carol", "Dave", "Eve"}, 28, "Alice, Bob, Carol, Dave, Eve"},
		{"the rest counted", []string{"Alice", "Bob", "Carol", "Dave", "Eve", "Frank"}, 30, "Alice, Bob, Carol, Dave +2"},
		{"one name and the count", []string{"Bartholomew-the-Magnificent", "Zed", "Zoe"}, 30, "Bartholomew-the-Magnificent +2"},
		{"the first name cut", []string{strings.Repeat("x", 40), "y", "z"}, 30, strings.Repeat("x", 27) + " +2"},
		{"few fit", []string{"李李李李李李李李李李李李", "张", "王"}, 30, "张 +2"},
		{"cut on a UTF-8 boundary", []string{"李李李李李李李李李李李李", "王", "赵"}, 29, "李李李李李李李李 +2"},
		{"blank nicks trimmed", []string{" Ann ", "bo", "Cy"}, 30, "Ann, bo, Cy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := GroupDMName(tt.nicks, tt.limit)
			if got != tt.want {
				t.Errorf("GroupDMName(%q, %d) = %q, want %q", tt.nicks, tt.limit, got, tt.want)
			}
			if len(got) > tt.limit || !utf8.ValidString(got) {
				t.Errorf("%q: %d bytes (limit %d), valid UTF-8 %v", got, len(got), tt.limit, utf8.ValidString(got))
			}
		})
	}
}

// TestGroupDMFinal checks a group DM's payloads: the generated name from the
// nicks, the owner (the creator, else the first member by UserID), the members
// without the owner, the CreateTime before the first message and the members'
// JoinTime after it, and a sender who was not listed added as a member.
func TestGroupDMFinal(t *testing.T) {
	nick := func(id, n string) extract.User {
		return with(user(id), func(u *extract.User) { u.Nick = n })
	}
	recs := []any{
		nick("u3", "Carol"), nick("u1", "alice"), user("u2"), nick("u4", "Dan"), nick("u5", "Eve"),
		with(gdm("d1", "u3", "u1", "u2"), func(d *extract.GroupDM) { d.CreatedAt = later.Add(hour) }),
		with(gdm("d2", "u5", "u4", "u3"), func(d *extract.GroupDM) { d.CreatorID, d.Name = "u4", "Ops" }),
		gmsg("1", "d1", "u2", later), gmsg("2", "d1", "u4", later.Add(hour)),
	}
	res := run(t, func(c *Config) { c.GroupDMType = "Public"; c.GroupDMIDPrefix = "dm_" }, recs)
	for _, o := range res.outcomes {
		if !o.ok {
			t.Fatalf("%s %s rejected: %v", o.entity, o.id, rules(o.issues))
		}
	}

	d1 := res.finalDM(t, "d1")
	ct := later.Unix() - 1
	want := tencentim.ImportGroupRequest{Type: "Public", GroupID: "dm_d1", Name: "alice, Carol, nick u2", OwnerAccount: "u1", CreateTime: ct}
	if !reflect.DeepEqual(d1.Group, want) || !d1.OK {
		t.Errorf("d1 group = %+v (OK %v), want %+v", d1.Group, d1.OK, want)
	}
	wantMembers := []tencentim.ImportMember{{MemberAccount: "u2", JoinTime: ct + 1}, {MemberAccount: "u3", JoinTime: ct + 1}, {MemberAccount: "u4", JoinTime: ct + 1}}
	if !equalMembers(d1.Members, wantMembers) {
		t.Errorf("d1 members = %+v, want %+v", d1.Members, wantMembers)
	}
	if d1.Messages != 2 || !hasRule(d1.Issues, RuleGroupDMCreateTimeClamped) {
		t.Errorf("d1: %d messages, issues %v; want 2 and the clamp", d1.Messages, rules(d1.Issues))
	}

	d2 := res.finalDM(t, "d2")
	if d2.Group.Name != "Ops" || d2.Group.OwnerAccount != "u4" || d2.Group.CreateTime != t0.Unix() {
		t.Errorf("d2 group = %+v, want name Ops, owner u4, CreateTime t0", d2.Group)
	}
	if !equalMembers(d2.Members, []tencentim.ImportMember{{MemberAccount: "u3", JoinTime: t0.Unix() + 1}, {MemberAccount: "u5", JoinTime: t0.Unix() + 1}}) {
		t.Errorf("d2 members = %+v", d2.Members)
	}
	if len(res.groups) != 0 {
		t.Errorf("Groups returned group DMs: %+v", res.groups)
	}
}

func equalMembers(a, b []tencentim.ImportMember) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

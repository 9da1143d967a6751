package transform

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

// TestSelfMessagesToGroup: under to_group a user's self-messages become the
// messages of a private group of theirs, named after their nick, owned by
// them, created before the first message, with distinct Randoms (spec §8.9);
// a long one is split like any group message; other conversations are
// untouched; under the default they are rejected.
func TestSelfMessagesToGroup(t *testing.T) {
	tr := newTestTransformer(t, func(c *Config) { c.SelfMessages = PolicyToGroup; c.Oversize = PolicySplit })
	tr.User(with(user("u1"), func(u *extract.User) { u.Nick = "Alice Wonderland-Liddell" }))
	tr.User(user("u2"))
	var results []DirectMessageResult
	for i, text := range []string{"buy milk", strings.Repeat("long note\n", 2000), "call bob"} {
		results = append(results, tr.DirectMessage(with(dmsg("n"+itoa(i), "u1", "u1", later.Add(time.Duration(i)*hour)), func(m *extract.Message) {
			m.Text, m.ReplyTo = text, "n0"
		})))
	}
	other := tr.DirectMessage(dmsg("d1", "u1", "u2", later))
	randoms := map[uint32]bool{}
	msgs := 0
	for i, res := range results {
		if !res.OK || res.ToGroup == nil || res.ToGroup.GroupID != "@self#u1" {
			t.Fatalf("self-message %d: ok %v, %+v (%v); want a message of @self#u1", i, res.OK, res.ToGroup, rules(res.Issues))
		}
		if !hasRule(res.Issues, RuleGroupMessageCloudDropped) {
			t.Errorf("self-message %d: no %s warning for its reply_to", i, RuleGroupMessageCloudDropped)
		}
		parts := res.ToGroup.Parts
		if parts == nil {
			parts = []tencentim.GroupMsg{res.ToGroup.Msg}
		}
		if (i == 1) != (len(parts) > 1) {
			t.Errorf("self-message %d: %d parts", i, len(parts))
		}
		for _, p := range parts {
			msgs++
			randoms[p.Random] = true
			if p.FromAccount != "u1" || p.SendTime != later.Add(time.Duration(i)*hour).Unix() {
				t.Errorf("self-message %d: from %s at %d", i, p.FromAccount, p.SendTime)
			}
		}
	}
	if len(randoms) != msgs {
		t.Errorf("%d distinct Randoms for %d messages", len(randoms), msgs)
	}
	if !other.OK || other.ToGroup != nil || other.Msg.ToAccount != "u2" {
		t.Errorf("the u1-u2 message: %+v", other)
	}
	gs := tr.SelfGroups()
	want := tencentim.ImportGroupRequest{OwnerAccount: "u1", Type: tencentim.GroupPrivate, GroupID: "@self#u1",
		Name: "Alice Wonderland-Lidde's notes", CreateTime: later.Unix() - 1}
	if len(gs) != 1 || !reflect.DeepEqual(gs[0].Group, want) || gs[0].Messages != 3 || gs[0].LegacyID != "u1" {
		t.Errorf("SelfGroups %+v, want one %+v with 3 messages", gs, want)
	}
	if n := len(gs[0].Group.Name); n > tencentim.MaxGroupNameBytes {
		t.Errorf("name %d bytes", n)
	}

	def := newTestTransformer(t, nil)
	def.User(user("u1"))
	if res := def.DirectMessage(dmsg("n0", "u1", "u1", later)); res.OK || !hasRule(res.Issues, RuleDirectMessageSelf) {
		t.Errorf("default policy: ok %v, %v; want direct_message.self", res.OK, rules(res.Issues))
	}
}

package mappings

import (
	"strings"
	"testing"
)

// TestGroupDMsHash: the group_dms section enters the hash only when it differs
// from its defaults, so that checkpoints of mappings without it stay valid.
func TestGroupDMsHash(t *testing.T) {
	base := hashOf(t, hashBase, nil)
	same := []string{
		"group_dms: {type: Private}\n",
		"group_dms: {type: Private, id_prefix: \"\"}\n",
		"group_dms:\n",
	}
	for _, extra := range same {
		if h := hashOf(t, hashBase+extra, nil); h != base {
			t.Errorf("%q changed the hash", extra)
		}
	}
	seen := map[string]string{base: "base"}
	for _, extra := range []string{
		"group_dms: {type: Public}\n",
		"group_dms: {type: Community}\n",
		"group_dms: {id_prefix: dm_}\n",
		"group_dms: {type: Public, id_prefix: dm_}\n",
	} {
		h := hashOf(t, hashBase+extra, nil)
		if prev, dup := seen[h]; dup {
			t.Errorf("%q hashes like %s", extra, prev)
		}
		seen[h] = extra
	}
	withEntity := edit(t, hashBase, "  groups: {file: groups.csv}\n", "  groups: {file: groups.csv}\n  group_dms: {file: group_dms.csv}\n")
	if hashOf(t, withEntity, nil) == base {
		t.Errorf("entities.group_dms did not change the hash")
	}
}

func TestGroupDMsValidate(t *testing.T) {
	doc := func(section string) string {
		return "version: 1\nsource: {csv: {dir: .}}\ntarget: {sandbox: embedded}\nentities:\n  users: {file: u.csv}\n" +
			"  group_dms: {file: d.csv}\n  group_messages: {file: m.csv}\n" + section
	}
	f, err := Parse([]byte(doc("")), "m.yaml", envOf(nil))
	if err != nil {
		t.Fatalf("group_dms and group_messages without groups: %v", err)
	}
	if f.GroupDMs.Type != DefaultGroupDMType || f.GroupDMs.IDPrefix != "" {
		t.Errorf("defaults = %+v", f.GroupDMs)
	}
	for _, tc := range []struct{ section, want string }{
		{"group_dms: {type: AVChatRoom}\n", "group_dms.type: AVChatRoom groups cannot be imported"},
		{"group_dms: {type: private}\n", `group type "private" must be spelt "Private"`},
		{"group_dms: {type: Huddle}\n", `group_dms.type`},
		{"group_dms: {id_prefix: \"@TGS#x\"}\n", `group_dms.id_prefix: must not start with "@TGS#"`},
		{"group_dms: {id_prefix: \"d\u00e9\"}\n", "group_dms.id_prefix: must be printable ASCII"},
		{"group_dms: {id_prefix: " + strings.Repeat("p", 48) + "}\n", "group_dms.id_prefix: with ids.group_id_prefix it must be shorter than 48 bytes"},
		{"group_dms: {kind: x}\n", `unknown key "kind"`},
	} {
		_, err := Parse([]byte(doc(tc.section)), "m.yaml", envOf(nil))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.section, err, tc.want)
		}
	}
}

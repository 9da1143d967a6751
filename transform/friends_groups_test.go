package transform

import (
	"reflect"
	"testing"

	"github.com/immigrate/immigrate/extract"
)

// TestFriendGroups: the group field becomes GroupName, as one name or a JSON
// array, blank and repeated names left out, and a user's lists capped at 32.
func TestFriendGroups(t *testing.T) {
	tr := newTestTransformer(t, nil)
	for _, u := range []string{"u1", "u2", "u3", "u4"} {
		tr.User(user(u))
	}
	for _, tc := range []struct {
		friend, group string
		want          []string
	}{
		{"u2", " Colleagues ", []string{"Colleagues"}},
		{"u3", `["Friends", "", "Colleagues", "Friends"]`, []string{"Friends", "Colleagues"}},
		{"u4", "", nil},
	} {
		res := tr.Friend(with(friend("u1", tc.friend, later), func(f *extract.Friend) { f.Group = tc.group }))
		if !res.OK || !reflect.DeepEqual(res.Item.GroupName, tc.want) {
			t.Errorf("group %q: ok %v, GroupName %q (%v), want %q", tc.group, res.OK, res.Item.GroupName, rules(res.Issues), tc.want)
		}
	}
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// TestRunFriendGroups imports friends with remarks, add times and friend lists
// (a group column: one name or a JSON array) into a sandbox over HTTP and reads
// the friend items back (spec §5.1 AddFriendItem).
func TestRunFriendGroups(t *testing.T) {
	t.Parallel()
	srv, url := e2eSandbox(t, nil)
	dir := t.TempDir()
	writeCSV(t, filepath.Join(dir, "users.csv"), []string{"id", "nick"},
		[]string{"alice", "Alice"}, []string{"bob", "Bob"}, []string{"carol", "Carol"})
	writeCSV(t, filepath.Join(dir, "friends.csv"), []string{"user_id", "friend_id", "remark", "added_at", "list"},
		[]string{"alice", "bob", "Bobby", "1700000000", "Colleagues"},
		[]string{"alice", "carol", "", "1700000100", `["Friends","Colleagues","Friends"]`},
		[]string{"bob", "alice", "", "", ""})
	mapping := fmt.Sprintf(`version: 1
source:
  csv: {dir: .}
target:
  endpoint: %s
  sdkappid: %d
  secret_key: %s
  admin: %s
entities:
  users: {file: users.csv}
  friends: {file: friends.csv, columns: {group: list}, time: unix}
policies:
  friends: import
`, url, e2eSDKAppID, e2eKey, e2eAdmin) + e2eLoad
	path := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(path, []byte(mapping), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLIParallel(t, t.Context(), "run", "-c", path, "--out", t.TempDir())
	if code != exitOK {
		t.Fatalf("immigrate run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	type item struct {
		from, to, remark string
		groups           []string
		added            int64
	}
	var got []item
	for _, f := range srv.State().Friends {
		got = append(got, item{f.FromAccount, f.ToAccount, f.Remark, f.GroupName, f.AddTime})
	}
	st := srv.State()
	want := []item{
		{"alice", "bob", "Bobby", []string{"Colleagues"}, 1700000000},
		{"alice", "carol", "", []string{"Colleagues", "Friends"}, 1700000100}, // the sandbox keeps them sorted
		{"bob", "alice", "", nil, friendAddTime(st, "bob", "alice")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("friends\n got %+v\nwant %+v", got, want)
	}
}

// friendAddTime is the AddTime the target gave a friend imported without one.
func friendAddTime(st sandbox.State, from, to string) int64 {
	for _, f := range st.Friends {
		if f.FromAccount == from && f.ToAccount == to {
			return f.AddTime
		}
	}
	return -1
}

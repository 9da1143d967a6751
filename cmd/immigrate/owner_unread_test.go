package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestRunRestoresTheOwnersUnread: the owner's own member row is skipped
// (import_group adds the owner, spec §8.7) but its unread count is restored with
// set_unread_msg_num after the group's messages (spec §8.10), like any member's
// (issue 9: it used to end at 0 with exit 0).
func TestRunRestoresTheOwnersUnread(t *testing.T) {
	t.Parallel()
	srv, url := e2eSandbox(t, nil)
	dir := t.TempDir()
	var msgs string
	for i := range 5 {
		msgs += fmt.Sprintf("%d,g1,bob,%d,text,message %d\n", i+1, 1700000300000+int64(i)*1000, i)
	}
	files := map[string]string{
		"users.csv":           "id,nick,created_at\nalice,Alice,1700000000\nbob,Bob,1700000000\n",
		"groups.csv":          "id,owner_id,type,name,created_at\ng1,alice,Private,Team,1700000100\n",
		"group_members.csv":   "group_id,user_id,role,joined_at,unread\ng1,alice,Owner,1700000150,3\ng1,bob,Member,1700000200,1\n",
		"group_messages.csv":  "id,group_id,sender_id,sent_at,kind,text\n" + msgs,
		"direct_messages.csv": "id,sender_id,recipient_id,sent_at,kind,text\n",
		"m.yaml":              fmt.Sprintf(optionalFieldsMapping, ""),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mapping := pointAt(t, filepath.Join(dir, "m.yaml"), url, nil)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCLIParallel(t, t.Context(), "run", "-c", mapping, "--out", out)
	if code != exitOK {
		t.Fatalf("immigrate run: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitOK, stdout, stderr)
	}
	st := srv.State()
	if len(st.Groups) != 1 || len(st.Groups[0].Messages) != 5 {
		t.Fatalf("sandbox groups %+v, want g1 with 5 messages", st.Groups)
	}
	unread := map[string]int{}
	for _, m := range st.Groups[0].Members {
		unread[m.Account] = m.UnreadMsgNum
	}
	if unread["alice"] != 3 || unread["bob"] != 1 {
		t.Fatalf("unread counts %v, want alice (the owner) 3 and bob 1", unread)
	}
}

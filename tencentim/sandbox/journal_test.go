package sandbox

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/immigrate/immigrate/tencentim"
)

// durableEnv starts a durable sandbox whose state file is dir/state.json.
func durableEnv(t testing.TB, dir string) *testEnv {
	t.Helper()
	return newTestEnvTB(t, func(c *Config) {
		c.StateFile = filepath.Join(dir, "state.json")
		c.Durable = true
	})
}

// kill stops serving without Close, as a SIGKILL would: nothing is written after
// the last answer.
func (e *testEnv) kill() { e.hs.Close() }

// stateJSON is the state as GET /_sandbox/state serves it, read over HTTP.
func (e *testEnv) stateJSON(t *testing.T) string {
	t.Helper()
	status, b := e.post(t, "GET", e.hs.URL+statePath, nil)
	if status != 200 {
		t.Fatalf("GET state: HTTP %d", status)
	}
	return string(b)
}

// mustCall sends a raw request and requires the answer code want.
func (e *testEnv) mustCall(t *testing.T, want int, cmd tencentim.Command, body string) map[string]any {
	t.Helper()
	code, resp := e.callRaw(t, cmd, body)
	if code != want {
		t.Fatalf("%s %s: code %d, want %d", cmd, body, code, want)
	}
	return resp
}

// workload makes calls of every state-changing command, round r of them, with
// the clock moving between calls. Some of them are not idempotent (a C2C message
// without MsgSeq, group messages with Random 0, groups and topics with assigned
// IDs), so that a record applied twice, or replayed with other random numbers or
// another clock, shows in the state.
func (e *testEnv) workload(t *testing.T, r int) {
	t.Helper()
	tick := func() { e.clock.Advance(7 * time.Second) }
	u := func(i int) string { return fmt.Sprintf("r%du%d", r, i) }
	e.mustCall(t, 0, tencentim.CmdMultiAccountImport, fmt.Sprintf(`{"Accounts":[%q,%q,%q,%q]}`, u(0), u(1), u(2), u(3)))
	tick()
	e.mustCall(t, 0, tencentim.CmdAccountImport, fmt.Sprintf(`{"UserID":%q,"Nick":"Nick %d"}`, u(4), r))
	e.mustCall(t, 0, tencentim.CmdPortraitSet, fmt.Sprintf(`{"From_Account":%q,"ProfileItem":[{"Tag":"Tag_Profile_IM_Nick","Value":"n%d"}]}`, u(1), r))
	tick()
	e.mustCall(t, 0, tencentim.CmdFriendImport, fmt.Sprintf(`{"From_Account":%q,"AddFriendItem":[{"To_Account":%q,"AddSource":"AddSource_Type_X"}]}`, u(0), u(1)))
	ts := e.unix(hourAgo)
	for i := range 3 {
		tick()
		e.mustCall(t, 0, tencentim.CmdImportMsg, fmt.Sprintf(`{"SyncFromOldSystem":5,"From_Account":%q,"To_Account":%q,"MsgRandom":%d,"MsgTimeStamp":%d,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]}`, u(0), u(1), i, ts+int64(i)))
		e.mustCall(t, 0, tencentim.CmdImportMsg, fmt.Sprintf(`{"SyncFromOldSystem":2,"From_Account":%q,"To_Account":%q,"MsgSeq":%d,"MsgRandom":%d,"MsgTimeStamp":%d,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"yo"}}]}`, u(1), u(0), i+1, i, ts+int64(i)))
	}
	tick()
	g := fmt.Sprintf("g%d", r)
	e.mustCall(t, 0, tencentim.CmdImportGroup, fmt.Sprintf(`{"Type":"Public","GroupId":%q,"Name":"G","Owner_Account":%q,"CreateTime":%d}`, g, u(0), e.unix(dayAgo)))
	assigned := e.mustCall(t, 0, tencentim.CmdImportGroup, `{"Type":"Public","Name":"assigned"}`)["GroupId"].(string)
	tick()
	created := e.mustCall(t, 0, tencentim.CmdCreateGroup, fmt.Sprintf(`{"Type":"Public","Name":"created","Owner_Account":%q,"MemberList":[{"Member_Account":%q}]}`, u(0), u(2)))["GroupId"].(string)
	tick()
	e.mustCall(t, 0, tencentim.CmdImportGroupMember, fmt.Sprintf(`{"GroupId":%q,"MemberList":[{"Member_Account":%q,"JoinTime":%d},{"Member_Account":%q}]}`, g, u(1), e.unix(dayAgo+60), u(2)))
	tick()
	e.mustCall(t, 0, tencentim.CmdImportGroupMsg, fmt.Sprintf(`{"GroupId":%q,"MsgList":[{"From_Account":%q,"SendTime":%d,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"a"}}]},{"From_Account":%q,"SendTime":%d,"Random":9,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"b"}}]}]}`, g, u(1), ts, u(2), ts+1))
	e.mustCall(t, 0, tencentim.CmdSetUnreadMsgNum, fmt.Sprintf(`{"GroupId":%q,"Member_Account":%q,"UnreadMsgNum":1}`, g, u(1)))
	tick()
	e.mustCall(t, 0, tencentim.CmdChangeGroupOwner, fmt.Sprintf(`{"GroupId":%q,"NewOwner_Account":%q}`, created, u(2)))
	e.mustCall(t, 0, tencentim.CmdDestroyGroup, fmt.Sprintf(`{"GroupId":%q}`, assigned))
	c := fmt.Sprintf("@TGS#_c%d", r)
	e.mustCall(t, 0, tencentim.CmdImportGroup, fmt.Sprintf(`{"Type":"Community","GroupId":%q,"Name":"C","SupportTopic":1,"CreateTime":%d}`, c, e.unix(dayAgo)))
	tick()
	e.mustCall(t, 0, tencentim.CmdImportTopic, fmt.Sprintf(`{"GroupId":%q,"TopicName":"T"}`, c))
	e.mustCall(t, 0, tencentim.CmdAccountDelete, fmt.Sprintf(`{"DeleteItem":[{"UserID":%q}]}`, u(3)))
	// A failed call is journaled too, and must replay to the same nothing.
	e.mustCall(t, 10010, tencentim.CmdImportGroupMsg, `{"GroupId":"nope","MsgList":[{"From_Account":"x","SendTime":1,"MsgBody":[]}]}`)
	tick()
}

// segments lists the journal segments in dir.
func segments(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "state.json.journal.*"))
	slices.Sort(m)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func copyFiles(t *testing.T, from []string, toDir string) {
	t.Helper()
	for _, f := range from {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(toDir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A durable sandbox killed between answered requests restarts with every one of
// them, whether its state is all in the journal, partly in a snapshot, in a
// snapshot whose journal was not trimmed yet, or spread over several lives.
func TestDurableRestart(t *testing.T) {
	t.Run("journal only", func(t *testing.T) {
		dir := t.TempDir()
		e := durableEnv(t, dir)
		empty := e.stateJSON(t)
		e.workload(t, 0)
		want := e.stateJSON(t)
		if want == empty {
			t.Fatal("the workload changed nothing")
		}
		e.kill()
		if got := durableEnv(t, dir).stateJSON(t); got != want {
			t.Errorf("after the restart:\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("snapshot then journal", func(t *testing.T) {
		dir := t.TempDir()
		e := durableEnv(t, dir)
		e.workload(t, 0)
		if err := e.srv.Snapshot(); err != nil {
			t.Fatal(err)
		}
		if n := len(segments(t, dir)); n != 1 {
			t.Errorf("%d segments after the snapshot, want 1", n)
		}
		e.workload(t, 1)
		want := e.stateJSON(t)
		e.kill()
		if got := durableEnv(t, dir).stateJSON(t); got != want {
			t.Errorf("after the restart:\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("crash between snapshot and trim", func(t *testing.T) {
		dir, saved := t.TempDir(), t.TempDir()
		e := durableEnv(t, dir)
		e.workload(t, 0)
		old := segments(t, dir)
		copyFiles(t, old, saved)
		if err := e.srv.Snapshot(); err != nil {
			t.Fatal(err)
		}
		e.workload(t, 1)
		want := e.stateJSON(t)
		e.kill()
		// The segments the snapshot covers are back, as if the crash came
		// before their removal: their records must not apply twice.
		copyFiles(t, segments(t, saved), dir)
		if got := durableEnv(t, dir).stateJSON(t); got != want {
			t.Errorf("after the restart:\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("three lives", func(t *testing.T) {
		dir := t.TempDir()
		e := durableEnv(t, dir)
		for r := range 3 {
			e.workload(t, r)
			want := e.stateJSON(t)
			e.kill()
			e = durableEnv(t, dir)
			if got := e.stateJSON(t); got != want {
				t.Fatalf("life %d: after the restart:\n%s\nwant\n%s", r+1, got, want)
			}
		}
	})
	t.Run("reset and restore are journaled", func(t *testing.T) {
		dir := t.TempDir()
		e := durableEnv(t, dir)
		e.workload(t, 0)
		saved := e.srv.State()
		if status, _ := e.post(t, "POST", e.hs.URL+resetPath, nil); status != 200 {
			t.Fatalf("reset: HTTP %d", status)
		}
		e.workload(t, 1)
		if err := e.srv.Restore(saved); err != nil {
			t.Fatal(err)
		}
		e.workload(t, 2)
		want := e.stateJSON(t)
		e.kill()
		if got := durableEnv(t, dir).stateJSON(t); got != want {
			t.Errorf("after the restart:\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("Close leaves only the state file", func(t *testing.T) {
		dir := t.TempDir()
		e := durableEnv(t, dir)
		e.workload(t, 0)
		want := e.stateJSON(t)
		if err := e.srv.Close(); err != nil {
			t.Fatal(err)
		}
		if code, _ := e.callRaw(t, tencentim.CmdMultiAccountImport, `{"Accounts":["late"]}`); code != codeInternalServer {
			t.Errorf("a call after Close: code %d, want %d", code, codeInternalServer)
		}
		e.kill()
		if s := segments(t, dir); len(s) != 0 {
			t.Errorf("segments left after Close: %v", s)
		}
		if got := durableEnv(t, dir).stateJSON(t); got != want {
			t.Errorf("after the restart:\n%s\nwant\n%s", got, want)
		}
	})
}

// A record cut short or damaged at the end of the journal is the request a kill
// interrupted: it was never answered, and the restart ignores it (and only it).
func TestJournalTornTail(t *testing.T) {
	dir := t.TempDir()
	e := durableEnv(t, dir)
	e.workload(t, 0)
	before := e.stateJSON(t)
	seg := segments(t, dir)
	if len(seg) != 1 {
		t.Fatalf("segments %v, want one", seg)
	}
	info, err := os.Stat(seg[0])
	if err != nil {
		t.Fatal(err)
	}
	e.mustCall(t, 0, tencentim.CmdImportMsg, `{"SyncFromOldSystem":2,"From_Account":"r0u0","To_Account":"r0u1","MsgRandom":77,"MsgTimeStamp":1600000000,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"last"}}]}`)
	after := e.stateJSON(t)
	e.kill()
	full, err := os.ReadFile(seg[0])
	if err != nil {
		t.Fatal(err)
	}
	state, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	lastLen := len(full) - int(info.Size())
	if lastLen <= recHeader {
		t.Fatalf("the last record is %d bytes", lastLen)
	}
	tests := []struct {
		name   string
		damage func([]byte) []byte
		want   string
	}{
		{"whole", func(b []byte) []byte { return b }, after},
		{"last byte missing", func(b []byte) []byte { return b[:len(b)-1] }, before},
		{"half of it", func(b []byte) []byte { return b[:len(b)-lastLen/2] }, before},
		{"header only", func(b []byte) []byte { return b[:len(b)-lastLen+recHeader] }, before},
		{"part of the header", func(b []byte) []byte { return b[:len(b)-lastLen+3] }, before},
		{"a payload byte flipped", func(b []byte) []byte { b[len(b)-5] ^= 0x40; return b }, before},
		{"zeros after it", func(b []byte) []byte { return append(b, make([]byte, 100)...) }, after},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			if err := os.WriteFile(filepath.Join(d, "state.json"), state, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(d, filepath.Base(seg[0])), tt.damage(slices.Clone(full)), 0o644); err != nil {
				t.Fatal(err)
			}
			e := durableEnv(t, d)
			if got := e.stateJSON(t); got != tt.want {
				t.Fatalf("after the restart:\n%s\nwant\n%s", got, tt.want)
			}
			// The next life journals after the torn record, and keeps it all.
			e.workload(t, 1)
			want := e.stateJSON(t)
			e.kill()
			if got := durableEnv(t, d).stateJSON(t); got != want {
				t.Errorf("after a second restart:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// A gap in the journal is refused rather than replayed into a wrong state.
func TestJournalGap(t *testing.T) {
	dir := t.TempDir()
	e := durableEnv(t, dir)
	e.workload(t, 0)
	e.kill()
	seg := segments(t, dir)
	b, err := os.ReadFile(seg[0])
	if err != nil {
		t.Fatal(err)
	}
	recs, err := readRecords(b)
	if err != nil || len(recs) < 3 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	// Cut out the second record.
	p := b[len(journalMagic):]
	first := recHeader + int(uint32(p[0])|uint32(p[1])<<8|uint32(p[2])<<16|uint32(p[3])<<24)
	q := p[first:]
	second := recHeader + int(uint32(q[0])|uint32(q[1])<<8|uint32(q[2])<<16|uint32(q[3])<<24)
	cut := slices.Concat(b[:len(journalMagic)+first], b[len(journalMagic)+first+second:])
	if err := os.WriteFile(seg[0], cut, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(e.cfg); err == nil {
		t.Fatal("New replayed a journal with a record missing")
	}
}

// Every command is classified, and a read-only one really changes nothing: it
// is not journaled, so a change it made would be lost in a crash.
func TestJournalClassification(t *testing.T) {
	e := newTestEnv(t)
	for cmd := range readOnlyCommands {
		if _, ok := e.srv.routes[cmd]; !ok {
			t.Errorf("read-only command %s is not served", cmd)
		}
	}
	e.workload(t, 0)
	before, err := json.Marshal(e.srv.State())
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[tencentim.Command]string{
		tencentim.CmdAccountCheck:       `{"CheckItem":[{"UserID":"r0u0"},{"UserID":"ghost"}]}`,
		tencentim.CmdPortraitGet:        `{"To_Account":["r0u1"],"TagList":["Tag_Profile_IM_Nick"]}`,
		tencentim.CmdFriendGet:          `{"From_Account":"r0u0","StartIndex":0}`,
		tencentim.CmdAdminGetRoamMsg:    `{"Operator_Account":"r0u0","Peer_Account":"r0u1","MaxCnt":100,"MinTime":0,"MaxTime":4000000000}`,
		tencentim.CmdGetC2CUnreadMsgNum: `{"To_Account":"r0u1"}`,
		tencentim.CmdRecentContactList:  `{"From_Account":"r0u0","TimeStamp":0,"StartIndex":0,"TopTimeStamp":0,"TopStartIndex":0,"AssistFlags":7}`,
		tencentim.CmdGetGroupInfo:       `{"GroupIdList":["g0"]}`,
		tencentim.CmdGetGroupMemberInfo: `{"GroupId":"g0"}`,
		tencentim.CmdGroupMsgGetSimple:  `{"GroupId":"g0","ReqMsgNumber":20}`,
		tencentim.CmdGetAppIDGroupList:  `{"Limit":10}`,
	}
	for _, cmd := range slices.SortedFunc(maps.Keys(readOnlyCommands), func(a, b tencentim.Command) int {
		return compareStrings(a.String(), b.String())
	}) {
		body, ok := bodies[cmd]
		if !ok {
			t.Errorf("no test body for read-only command %s", cmd)
			continue
		}
		if code, _ := e.callRaw(t, cmd, body); code != 0 {
			t.Errorf("%s: code %d", cmd, code)
		}
		after, err := json.Marshal(e.srv.State())
		if err != nil {
			t.Fatal(err)
		}
		if string(after) != string(before) {
			t.Fatalf("read-only command %s changed the state", cmd)
		}
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// BenchmarkImportMsgDurable compares importmsg over HTTP on an in-memory and on
// a durable sandbox, with few and with many concurrent callers: every durable
// answer waits for its journal record to be synced, and concurrent ones share a
// sync (group commit).
func BenchmarkImportMsgDurable(b *testing.B) {
	for _, durable := range []bool{false, true} {
		for _, par := range []int{1, 16} {
			b.Run(fmt.Sprintf("durable=%v/callers=%dxGOMAXPROCS", durable, par), func(b *testing.B) {
				var e *testEnv
				if durable {
					e = durableEnv(b, b.TempDir())
					b.Cleanup(func() {
						if err := e.srv.Close(); err != nil {
							b.Error(err)
						}
					})
				} else {
					e = newTestEnvTB(b)
				}
				e.srv.mu.Lock()
				e.srv.users.create("a")
				e.srv.users.create("b")
				e.srv.mu.Unlock()
				b.SetParallelism(par)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						req := &tencentim.ImportMsgRequest{
							SyncFromOldSystem: 2, FromAccount: "a", ToAccount: "b",
							MsgSeq: e.srv.randUint32(), MsgRandom: e.srv.randUint32(), MsgTimeStamp: 1_600_000_000, MsgBody: textBody("hello"),
						}
						if _, err := e.client.ImportMsg(b.Context(), req); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
			})
		}
	}
}

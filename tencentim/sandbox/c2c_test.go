package sandbox

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/immigrate/immigrate/tencentim"
)

func c2cReq(from, to string, seq, random uint32, ts int64, text string) *tencentim.ImportMsgRequest {
	return &tencentim.ImportMsgRequest{
		SyncFromOldSystem: tencentim.SyncHistorical, FromAccount: from, ToAccount: to,
		MsgSeq: seq, MsgRandom: random, MsgTimeStamp: ts, MsgBody: textBody(text),
	}
}

// roamAll pulls a conversation from op's perspective with the continuation rule of
// spec §7.2, returning the messages oldest first and the pages' sizes.
func roamAll(t *testing.T, e *testEnv, op, peer string, maxCnt int, minTime, maxTime int64) ([]tencentim.RoamMsg, []int) {
	t.Helper()
	req := &tencentim.AdminGetRoamMsgRequest{OperatorAccount: op, PeerAccount: peer, MaxCnt: maxCnt, MinTime: minTime, MaxTime: maxTime}
	var pages [][]tencentim.RoamMsg
	var sizes []int
	for range 1000 {
		resp, err := e.client.AdminGetRoamMsg(t.Context(), req)
		if err != nil {
			t.Fatalf("admin_getroammsg: %v", err)
		}
		if resp.MsgCnt != len(resp.MsgList) {
			t.Fatalf("MsgCnt %d with %d messages", resp.MsgCnt, len(resp.MsgList))
		}
		pages = append(pages, resp.MsgList)
		sizes = append(sizes, len(resp.MsgList))
		if resp.Complete == 1 {
			var all []tencentim.RoamMsg
			for _, p := range slices.Backward(pages) {
				all = append(all, p...)
			}
			return all, sizes
		}
		if len(resp.MsgList) == 0 || resp.LastMsgKey != resp.MsgList[0].MsgKey || resp.LastMsgTime != resp.MsgList[0].MsgTimeStamp {
			t.Fatalf("incomplete page without a cursor on its oldest message: %+v", resp)
		}
		req.MaxTime, req.LastMsgKey = resp.LastMsgTime, resp.LastMsgKey
	}
	t.Fatal("admin_getroammsg never completed")
	return nil, nil
}

// spec §14 item 27: an imported message reads back from either party's
// perspective with the same identity and MsgKey "{MsgSeq}_{MsgRandom}_{MsgTimeStamp}".
func TestImportMsgReadBack(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "u1", "u2")
	face, _ := tencentim.NewElem(tencentim.MsgFace, tencentim.FaceContent{Index: 6, Data: "abc\u0000\u0001"})
	req := c2cReq("u1", "u2", 549396494, 2578554, 1584669680, "hello <world> & \u2028")
	req.MsgBody = append(req.MsgBody, face)
	req.CloudCustomData = `{"k":"v"}`
	if _, err := e.client.ImportMsg(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"u1", "u2"} {
		peer := map[string]string{"u1": "u2", "u2": "u1"}[op]
		resp, err := e.client.AdminGetRoamMsg(t.Context(), &tencentim.AdminGetRoamMsgRequest{OperatorAccount: op, PeerAccount: peer, MaxCnt: 10, MinTime: 0, MaxTime: 2_000_000_000})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Complete != 1 || resp.MsgCnt != 1 {
			t.Fatalf("%s: Complete %d MsgCnt %d", op, resp.Complete, resp.MsgCnt)
		}
		m := resp.MsgList[0]
		if m.FromAccount != "u1" || m.ToAccount != "u2" || m.MsgSeq != req.MsgSeq || m.MsgRandom != req.MsgRandom || m.MsgTimeStamp != req.MsgTimeStamp {
			t.Errorf("%s: message identity %+v", op, m)
		}
		if m.MsgKey != "549396494_2578554_1584669680" || resp.LastMsgKey != m.MsgKey || resp.LastMsgTime != 1584669680 {
			t.Errorf("%s: MsgKey %q LastMsgKey %q LastMsgTime %d", op, m.MsgKey, resp.LastMsgKey, resp.LastMsgTime)
		}
		if m.CloudCustomData != req.CloudCustomData {
			t.Errorf("%s: CloudCustomData %q", op, m.CloudCustomData)
		}
		got, _ := json.Marshal(m.MsgBody)
		want, _ := json.Marshal(req.MsgBody)
		if string(got) != string(want) {
			t.Errorf("%s: MsgBody\n got %s\nwant %s", op, got, want)
		}
	}
}

// spec §14 items 28, 29 and the element schemas of spec §6.2: each invalid field
// has its documented code.
func TestImportMsgValidation(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "u1", "u2")
	base := map[string]any{
		"SyncFromOldSystem": 2, "From_Account": "u1", "To_Account": "u2", "MsgSeq": 1, "MsgRandom": 1,
		"MsgTimeStamp": 1000, "MsgBody": []any{map[string]any{"MsgType": "TIMTextElem", "MsgContent": map[string]any{"Text": "x"}}},
	}
	elem := func(typ string, content any) []any {
		return []any{map[string]any{"MsgType": typ, "MsgContent": content}}
	}
	image := map[string]any{"UUID": "u", "ImageFormat": 1, "ImageInfoArray": []any{map[string]any{"Type": 1, "Size": 10, "Width": 1, "Height": 2, "URL": "https://x/i"}}}
	video := map[string]any{"VideoUrl": "https://x/v", "VideoUUID": "v", "VideoDownloadFlag": 2, "ThumbUrl": "https://x/t",
		"ThumbUUID": "t", "ThumbWidth": 10, "ThumbHeight": 10, "ThumbDownloadFlag": 2, "VideoFormat": "mp4"}
	without := func(m map[string]any, k string) map[string]any {
		c := map[string]any{}
		for kk, v := range m {
			if kk != k {
				c[kk] = v
			}
		}
		return c
	}
	with := func(m map[string]any, k string, v any) map[string]any {
		c := without(m, k)
		c[k] = v
		return c
	}
	tests := []struct {
		name string
		body map[string]any
		want int
	}{
		{"valid", base, 0},
		{"SyncFromOldSystem missing (item 28)", without(base, "SyncFromOldSystem"), 90030},
		{"SyncFromOldSystem 3 (item 29)", with(base, "SyncFromOldSystem", 3), 90030},
		{"SyncFromOldSystem 0", with(base, "SyncFromOldSystem", 0), 90030},
		{"SyncFromOldSystem string", with(base, "SyncFromOldSystem", "2"), 90030},
		{"SyncFromOldSystem 5", with(base, "SyncFromOldSystem", 5), 0},
		{"MsgRandom missing (item 28)", without(base, "MsgRandom"), 90005},
		{"MsgRandom negative", with(base, "MsgRandom", -1), 90005},
		{"MsgRandom over 32 bits", with(base, "MsgRandom", 4294967296), 90005},
		{"MsgRandom fraction", with(base, "MsgRandom", 1.5), 90005},
		{"MsgRandom max", with(with(base, "MsgRandom", 4294967295), "MsgSeq", 4294967295), 0},
		{"MsgTimeStamp missing (item 28)", without(base, "MsgTimeStamp"), 90006},
		{"MsgTimeStamp string", with(base, "MsgTimeStamp", "1000"), 90006},
		{"MsgTimeStamp zero", with(base, "MsgTimeStamp", 0), 90006},
		{"MsgTimeStamp in the future is accepted", with(base, "MsgTimeStamp", testEpoch.Add(24*time.Hour).Unix()), 0},
		{"To_Account missing (item 28)", without(base, "To_Account"), 90003},
		{"From_Account missing (item 28)", without(base, "From_Account"), 90008},
		{"MsgSeq string", with(base, "MsgSeq", "1"), 90001},
		{"MsgSeq omitted gets a random one", with(without(base, "MsgSeq"), "MsgRandom", 99), 0},
		{"CloudCustomData number", with(base, "CloudCustomData", 5), 90001},
		{"MsgBody missing", without(base, "MsgBody"), 90007},
		{"MsgBody not an array (item 28)", with(base, "MsgBody", map[string]any{"MsgType": "TIMTextElem"}), 90007},
		{"MsgBody empty", with(base, "MsgBody", []any{}), 90002},
		{"MsgBody element not an object", with(base, "MsgBody", []any{"TIMTextElem"}), 90002},
		{"unknown MsgType (item 28)", with(base, "MsgBody", elem("TIMFooElem", map[string]any{})), 90010},
		{"TIMRelayElem is not importable", with(base, "MsgBody", elem("TIMRelayElem", map[string]any{"Title": "t"})), 90010},
		{"MsgType missing", with(base, "MsgBody", []any{map[string]any{"MsgContent": map[string]any{"Text": "x"}}}), 90010},
		{"MsgContent missing", with(base, "MsgBody", []any{map[string]any{"MsgType": "TIMTextElem"}}), 90010},
		{"MsgContent not an object", with(base, "MsgBody", elem("TIMTextElem", "x")), 90010},
		{"text without Text", with(base, "MsgBody", elem("TIMTextElem", map[string]any{})), 90010},
		{"text with a number", with(base, "MsgBody", elem("TIMTextElem", map[string]any{"Text": 5})), 90010},
		{"location", with(base, "MsgBody", elem("TIMLocationElem", map[string]any{"Desc": "d", "Latitude": 22.5, "Longitude": 113.9})), 0},
		{"location without Latitude", with(base, "MsgBody", elem("TIMLocationElem", map[string]any{"Desc": "d", "Longitude": 113.9})), 90010},
		{"face", with(base, "MsgBody", elem("TIMFaceElem", map[string]any{"Index": 1, "Data": ""})), 0},
		{"face with a fractional Index", with(base, "MsgBody", elem("TIMFaceElem", map[string]any{"Index": 1.5})), 90010},
		{"custom", with(base, "MsgBody", elem("TIMCustomElem", map[string]any{"Data": "d", "Desc": "", "Ext": "e"})), 0},
		{"custom with a number", with(base, "MsgBody", elem("TIMCustomElem", map[string]any{"Data": 1})), 90010},
		{"two custom elements", with(base, "MsgBody", append(elem("TIMCustomElem", map[string]any{"Data": "a"}), elem("TIMCustomElem", map[string]any{"Data": "b"})...)), 90010},
		{"custom and text", with(base, "MsgBody", append(elem("TIMCustomElem", map[string]any{"Data": "a"}), elem("TIMTextElem", map[string]any{"Text": "b"})...)), 0},
		{"sound", with(base, "MsgBody", elem("TIMSoundElem", map[string]any{"Url": "https://x/s", "UUID": "s", "Size": 10, "Second": 2, "Download_Flag": 2})), 0},
		{"sound with Download_Flag 1", with(base, "MsgBody", elem("TIMSoundElem", map[string]any{"Url": "https://x/s", "UUID": "s", "Download_Flag": 1})), 90010},
		{"sound without Url", with(base, "MsgBody", elem("TIMSoundElem", map[string]any{"UUID": "s", "Download_Flag": 2})), 90010},
		{"image", with(base, "MsgBody", elem("TIMImageElem", image)), 0},
		{"image without UUID", with(base, "MsgBody", elem("TIMImageElem", without(image, "UUID"))), 90010},
		{"image with no infos", with(base, "MsgBody", elem("TIMImageElem", with(image, "ImageInfoArray", []any{}))), 90010},
		{"image info without URL", with(base, "MsgBody", elem("TIMImageElem", with(image, "ImageInfoArray", []any{map[string]any{"Width": 1, "Height": 1}}))), 90010},
		{"file", with(base, "MsgBody", elem("TIMFileElem", map[string]any{"Url": "https://x/f", "UUID": "f", "FileSize": 3, "FileName": "a.txt", "Download_Flag": 2})), 0},
		{"file without Download_Flag", with(base, "MsgBody", elem("TIMFileElem", map[string]any{"Url": "https://x/f", "UUID": "f"})), 90010},
		{"video", with(base, "MsgBody", elem("TIMVideoFileElem", video)), 0},
		{"video without ThumbUUID", with(base, "MsgBody", elem("TIMVideoFileElem", without(video, "ThumbUUID"))), 90010},
		{"video with a string ThumbWidth", with(base, "MsgBody", elem("TIMVideoFileElem", with(video, "ThumbWidth", "10"))), 90010},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if tc.want == 0 {
				// A fresh identity per accepted case, so that none is a duplicate.
				body = with(body, "MsgRandom", 1000+i)
			}
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			if got := codeOf(e.client.CallRaw(t.Context(), tencentim.CmdImportMsg, b, nil)); got != tc.want {
				t.Errorf("code = %d, want %d (body %s)", got, tc.want, b)
			}
		})
	}
}

// spec §14 items 30, 31: dedup on (MsgSeq, MsgRandom, MsgTimeStamp) within a
// conversation, whatever the content and the direction; the first import wins.
// The same triple in another conversation is another message.
func TestImportMsgDedup(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "a", "b", "c")
	calls := []*tencentim.ImportMsgRequest{
		c2cReq("a", "b", 1, 2, 100, "first"),
		c2cReq("a", "b", 1, 2, 100, "second text, same triple"), // item 30
		c2cReq("b", "a", 1, 2, 100, "swapped direction"),        // item 31
		c2cReq("a", "b", 1, 3, 100, "other random"),
		c2cReq("a", "b", 2, 2, 100, "other seq"),
		c2cReq("a", "b", 1, 2, 101, "other time"),
		c2cReq("a", "c", 1, 2, 100, "other conversation"),
	}
	for i, req := range calls {
		if _, err := e.client.ImportMsg(t.Context(), req); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	st := e.srv.State()
	var texts []string
	for _, c := range st.C2C {
		for _, m := range c.Messages {
			var body []tencentim.MsgElem
			_ = json.Unmarshal(m.MsgBody, &body)
			var tc tencentim.TextContent
			_ = json.Unmarshal(body[0].MsgContent, &tc)
			texts = append(texts, c.A+c.B+":"+tc.Text)
		}
	}
	// In (time, MsgSeq, MsgRandom) order.
	want := []string{"ab:first", "ab:other random", "ab:other seq", "ab:other time", "ac:other conversation"}
	if !slices.Equal(texts, want) {
		t.Errorf("stored %q\nwant %q", texts, want)
	}
}

// spec §14 item 32 (REC A5): a request body over 12,288 bytes is 93000; exactly
// 12,288 is accepted.
func TestImportMsgSizeLimit(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "a", "b")
	bodyOfSize := func(n int, random int) []byte {
		prefix := fmt.Sprintf(`{"SyncFromOldSystem":2,"From_Account":"a","To_Account":"b","MsgSeq":1,"MsgRandom":%d,"MsgTimeStamp":100,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"`, random)
		suffix := `"}}]}`
		return []byte(prefix + strings.Repeat("x", n-len(prefix)-len(suffix)) + suffix)
	}
	tests := []struct {
		size int
		want int
	}{
		{12288, 0},
		{12289, 93000},
		{20000, 93000},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprint(tc.size), func(t *testing.T) {
			b := bodyOfSize(tc.size, i)
			if len(b) != tc.size {
				t.Fatalf("built %d bytes", len(b))
			}
			if got := codeOf(e.client.CallRaw(t.Context(), tencentim.CmdImportMsg, b, nil)); got != tc.want {
				t.Errorf("code = %d, want %d", got, tc.want)
			}
		})
	}
	// 93000 is checked before parsing: an oversized malformed body is still 93000.
	if got := codeOf(e.client.CallRaw(t.Context(), tencentim.CmdImportMsg, []byte("{"+strings.Repeat(" ", 13000)), nil)); got != 93000 {
		t.Errorf("oversized malformed body: %d, want 93000", got)
	}
}

// spec §14 item 33: SyncFromOldSystem 5 increments the recipient's unread count for
// that peer; 2 does not; duplicates do not count twice.
func TestC2CUnread(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "r", "p1", "p2", "quiet")
	imports := []struct {
		from string
		sync int
		seq  uint32
	}{
		{"p1", 5, 1}, {"p1", 5, 2}, {"p1", 5, 2}, {"p1", 2, 3}, {"p2", 5, 4}, {"p2", 2, 5},
	}
	for _, im := range imports {
		req := c2cReq(im.from, "r", im.seq, 1, 100, "m")
		req.SyncFromOldSystem = im.sync
		if _, err := e.client.ImportMsg(t.Context(), req); err != nil {
			t.Fatal(err)
		}
	}
	all, err := e.client.GetC2CUnreadMsgNum(t.Context(), &tencentim.GetC2CUnreadMsgNumRequest{ToAccount: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if all.AllC2CUnreadMsgNum != 3 {
		t.Errorf("AllC2CUnreadMsgNum = %d, want 3", all.AllC2CUnreadMsgNum)
	}
	some, err := e.client.GetC2CUnreadMsgNum(t.Context(), &tencentim.GetC2CUnreadMsgNumRequest{ToAccount: "r", PeerAccount: []string{"p1", "p2", "quiet", "ghost"}})
	if err != nil {
		t.Fatal(err)
	}
	wantList := []tencentim.C2CUnreadMsgNum{{PeerAccount: "p1", C2CUnreadMsgNum: 2}, {PeerAccount: "p2", C2CUnreadMsgNum: 1}, {PeerAccount: "quiet", C2CUnreadMsgNum: 0}}
	if !slices.Equal(some.C2CUnreadMsgNumList, wantList) {
		t.Errorf("C2CUnreadMsgNumList = %+v, want %+v", some.C2CUnreadMsgNumList, wantList)
	}
	if !slices.Equal(some.ErrorList, []tencentim.PeerError{{PeerAccount: "ghost", ErrorCode: 70107}}) {
		t.Errorf("ErrorList = %+v", some.ErrorList)
	}
	// The sender's own count is untouched.
	sender, err := e.client.GetC2CUnreadMsgNum(t.Context(), &tencentim.GetC2CUnreadMsgNumRequest{ToAccount: "p1"})
	if err != nil || sender.AllC2CUnreadMsgNum != 0 {
		t.Errorf("sender unread = %+v, %v; want 0", sender, err)
	}
	eleven := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}
	if _, err := e.client.GetC2CUnreadMsgNum(t.Context(), &tencentim.GetC2CUnreadMsgNumRequest{ToAccount: "r", PeerAccount: eleven}); codeOf(err) != 90001 {
		t.Errorf("11 peers: %v, want 90001", err)
	}
}

// spec §14 item 35 and A7: messages are kept in (time, MsgSeq) order whatever the
// import order.
func TestC2COrder(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "a", "b")
	for _, req := range []*tencentim.ImportMsgRequest{
		c2cReq("a", "b", 9, 1, 200, "t200 s9"),
		c2cReq("b", "a", 5, 1, 100, "t100 s5"),
		c2cReq("a", "b", 3, 1, 100, "t100 s3"),
		c2cReq("a", "b", 1, 1, 150, "t150 s1"),
		c2cReq("b", "a", 4, 1, 100, "t100 s4"),
	} {
		if _, err := e.client.ImportMsg(t.Context(), req); err != nil {
			t.Fatal(err)
		}
	}
	msgs, _ := roamAll(t, e, "a", "b", 100, 0, 1000)
	var got []string
	for _, m := range msgs {
		got = append(got, m.MsgKey)
	}
	want := []string{"3_1_100", "4_1_100", "5_1_100", "1_1_150", "9_1_200"}
	if !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}

// spec §14 item 36 (A17 REC): pages walk back in time by MaxCnt, with the
// continuation cursor, without gaps or duplicates even when many messages share
// the boundary second; the last page has Complete 1.
func TestRoamMsgPaging(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "a", "b")
	var want []string
	for i := range 25 {
		ts := int64(1000 + i/4) // four messages per second
		from, to := "a", "b"
		if i%3 == 0 {
			from, to = to, from
		}
		req := c2cReq(from, to, uint32(100-i), uint32(i), ts, fmt.Sprint("m", i))
		if _, err := e.client.ImportMsg(t.Context(), req); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range e.srv.State().C2C {
		for _, m := range c.Messages {
			want = append(want, msgKeyString(msgKey{ts: m.MsgTimeStamp, seq: m.MsgSeq, random: m.MsgRandom}))
		}
	}
	tests := []struct {
		maxCnt    int
		wantPages []int
	}{
		{10, []int{10, 10, 5}},
		{3, []int{3, 3, 3, 3, 3, 3, 3, 3, 1}},
		{25, []int{25}},
		{100, []int{25}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint("MaxCnt ", tc.maxCnt), func(t *testing.T) {
			msgs, pages := roamAll(t, e, "b", "a", tc.maxCnt, 0, 5000)
			var got []string
			for _, m := range msgs {
				got = append(got, m.MsgKey)
			}
			if !slices.Equal(got, want) {
				t.Errorf("keys = %v\nwant %v", got, want)
			}
			if !slices.Equal(pages, tc.wantPages) {
				t.Errorf("pages = %v, want %v", pages, tc.wantPages)
			}
		})
	}
	t.Run("time range is inclusive", func(t *testing.T) {
		msgs, _ := roamAll(t, e, "a", "b", 100, 1001, 1002)
		if len(msgs) != 8 || msgs[0].MsgTimeStamp != 1001 || msgs[7].MsgTimeStamp != 1002 {
			t.Errorf("got %d messages from %d to %d, want 8 from 1001 to 1002", len(msgs), msgs[0].MsgTimeStamp, msgs[len(msgs)-1].MsgTimeStamp)
		}
	})
	t.Run("empty range", func(t *testing.T) {
		resp, err := e.client.AdminGetRoamMsg(t.Context(), &tencentim.AdminGetRoamMsgRequest{OperatorAccount: "a", PeerAccount: "b", MaxCnt: 5, MinTime: 1, MaxTime: 999})
		if err != nil || resp.Complete != 1 || resp.MsgCnt != 0 || resp.MsgList == nil {
			t.Errorf("resp %+v, %v; want Complete 1 with an empty list", resp, err)
		}
	})
}

// spec §14 item 36: a page also stops at 13 KB of messages.
func TestRoamMsgPageBytes(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "a", "b")
	for i := range 10 {
		if _, err := e.client.ImportMsg(t.Context(), c2cReq("a", "b", uint32(i), 1, int64(100+i), strings.Repeat("x", 3000))); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := e.client.AdminGetRoamMsg(t.Context(), &tencentim.AdminGetRoamMsgRequest{OperatorAccount: "a", PeerAccount: "b", MaxCnt: 100, MaxTime: 1000})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(resp.MsgList)
	if resp.Complete != 0 || resp.MsgCnt == 0 || resp.MsgCnt >= 10 || len(b) > maxRoamPageBytes {
		t.Errorf("Complete %d, %d messages, %d bytes; want an incomplete page under 13 KB", resp.Complete, resp.MsgCnt, len(b))
	}
	msgs, pages := roamAll(t, e, "a", "b", 100, 0, 1000)
	if len(msgs) != 10 || len(pages) < 3 {
		t.Errorf("%d messages in pages %v", len(msgs), pages)
	}
}

// spec §14 items 37, 38 and the request checks of admin_getroammsg.
func TestRoamMsgRequestAndRoamingPeriod(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.RoamingPeriod = 7 * 24 * time.Hour })
	e.importUsers(t, "a", "b")
	now := e.clock.Now().Unix()
	old := now - 8*24*3600
	recent := now - 6*24*3600
	for i, ts := range []int64{old, recent} {
		if _, err := e.client.ImportMsg(t.Context(), c2cReq("a", "b", uint32(i), 1, ts, "m")); err != nil {
			t.Fatal(err)
		}
	}
	msgs, _ := roamAll(t, e, "a", "b", 10, 0, now)
	if len(msgs) != 1 || msgs[0].MsgTimeStamp != recent {
		t.Errorf("got %+v, want only the message within 7 days (item 38)", msgs)
	}
	// The message is stored all the same; it is only hidden from read-back.
	if n := len(e.srv.State().C2C[0].Messages); n != 2 {
		t.Errorf("%d messages stored, want 2", n)
	}
	for body, want := range map[string]int{
		`{"Operator_Account":"ghost","Peer_Account":"b","MaxCnt":1,"MinTime":0,"MaxTime":1}`:                  90008, // item 37
		`{"Operator_Account":"a","Peer_Account":"ghost","MaxCnt":1,"MinTime":0,"MaxTime":1}`:                  90003,
		`{"Peer_Account":"b","MaxCnt":1,"MinTime":0,"MaxTime":1}`:                                             90008,
		`{"Operator_Account":"a","MaxCnt":1,"MinTime":0,"MaxTime":1}`:                                         90003,
		`{"Operator_Account":"a","Peer_Account":"b","MinTime":0,"MaxTime":1}`:                                 90001,
		`{"Operator_Account":"a","Peer_Account":"b","MaxCnt":0,"MinTime":0,"MaxTime":1}`:                      90001,
		`{"Operator_Account":"a","Peer_Account":"b","MaxCnt":1,"MaxTime":1}`:                                  90001,
		`{"Operator_Account":"a","Peer_Account":"b","MaxCnt":1,"MinTime":0}`:                                  90001,
		`{"Operator_Account":"a","Peer_Account":"b","MaxCnt":1,"MinTime":0,"MaxTime":1,"LastMsgKey":"x_y"}`:   90001,
		`{"Operator_Account":"a","Peer_Account":"b","MaxCnt":1,"MinTime":0,"MaxTime":1,"LastMsgKey":"1_2_3"}`: 0,
	} {
		if got := codeOf(e.client.CallRaw(t.Context(), tencentim.CmdAdminGetRoamMsg, []byte(body), nil)); got != want {
			t.Errorf("%s: code %d, want %d", body, got, want)
		}
	}
}

// Many goroutines import accounts and C2C messages at once, with resends; the
// final state is exact (run with -race).
func TestConcurrentImports(t *testing.T) {
	e := newTestEnv(t)
	const workers, perWorker = 8, 40
	e.importUsers(t, "hub")
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			me := fmt.Sprintf("w%d", w)
			ids := []string{me}
			for i := range perWorker {
				ids = append(ids, fmt.Sprintf("%s-%d", me, i))
			}
			for _, id := range ids {
				if _, err := e.client.AccountImport(t.Context(), &tencentim.AccountImportRequest{UserID: id, Nick: "n" + id}); err != nil {
					errs <- err
					return
				}
			}
			for i := range perWorker {
				// Own conversation, the shared conversation with hub (distinct
				// seqs per worker), and a resend of each.
				reqs := []*tencentim.ImportMsgRequest{
					c2cReq(me, ids[1+i], uint32(i), 1, int64(1000+i), "own"),
					c2cReq(me, "hub", uint32(w*1000+i), 2, int64(1000+i), "shared"),
				}
				reqs[1].SyncFromOldSystem = tencentim.SyncRealtime
				for _, r := range append(reqs, reqs...) {
					if _, err := e.client.ImportMsg(t.Context(), r); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := e.srv.State()
	if got, want := len(st.Accounts), 1+workers*(1+perWorker); got != want {
		t.Errorf("%d accounts, want %d", got, want)
	}
	total, hub := 0, 0
	for _, c := range st.C2C {
		total += len(c.Messages)
		if c.A == "hub" || c.B == "hub" {
			hub += len(c.Messages)
		}
	}
	if total != 2*workers*perWorker || hub != workers*perWorker {
		t.Errorf("%d messages (%d with hub), want %d (%d)", total, hub, 2*workers*perWorker, workers*perWorker)
	}
	unread, err := e.client.GetC2CUnreadMsgNum(t.Context(), &tencentim.GetC2CUnreadMsgNumRequest{ToAccount: "hub"})
	if err != nil {
		t.Fatal(err)
	}
	if unread.AllC2CUnreadMsgNum != workers*perWorker {
		t.Errorf("hub unread = %d, want %d", unread.AllC2CUnreadMsgNum, workers*perWorker)
	}
}

package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/tencentim"
)

func friendTags(items []tencentim.FriendValueItem) map[string]string {
	m := map[string]string{}
	for _, it := range items {
		m[it.Tag] = string(it.Value)
	}
	return m
}

// spec §14 item 23: friend_import is one-way, and friend_get reads back the
// standard tags (INFERRED mapping of spec §5.3) and custom tags.
func TestFriendImportOneWay(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "A", "B")
	resp, err := e.client.FriendImport(t.Context(), &tencentim.FriendImportRequest{
		FromAccount: "A",
		AddFriendItem: []tencentim.AddFriendItem{{
			ToAccount: "B", Remark: "bee", GroupName: []string{"Friends", "Colleagues"},
			AddSource: "AddSource_Type_Android", AddTime: 1420000001,
			CustomItem: []tencentim.CustomItem{{Tag: "Tag_SNS_Custom_Level", Value: []byte(`3`)}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(resp.ResultItem, []tencentim.FriendResult{{ToAccount: "B"}}) || resp.FailAccount != nil {
		t.Fatalf("answer %+v", resp)
	}
	got, err := e.client.FriendGet(t.Context(), &tencentim.FriendGetRequest{FromAccount: "A"})
	if err != nil {
		t.Fatal(err)
	}
	if got.FriendNum != 1 || got.CompleteFlag != 1 || len(got.UserDataItem) != 1 || got.UserDataItem[0].ToAccount != "B" {
		t.Fatalf("friend_get A = %+v", got)
	}
	want := map[string]string{
		tencentim.TagSNSAddSource: `"AddSource_Type_Android"`,
		tencentim.TagSNSRemark:    `"bee"`,
		tencentim.TagSNSGroup:     `["Colleagues","Friends"]`,
		tencentim.TagSNSAddTime:   `1420000001`,
		"Tag_SNS_Custom_Level":    `3`,
	}
	if tags := friendTags(got.UserDataItem[0].ValueItem); fmt.Sprint(tags) != fmt.Sprint(want) {
		t.Errorf("ValueItem = %v, want %v", tags, want)
	}
	back, err := e.client.FriendGet(t.Context(), &tencentim.FriendGetRequest{FromAccount: "B"})
	if err != nil {
		t.Fatal(err)
	}
	if back.FriendNum != 0 || len(back.UserDataItem) != 0 || back.CompleteFlag != 1 {
		t.Errorf("friend_get B = %+v, want no friends (one-way)", back)
	}
	// AddTime defaults to the server clock.
	if _, err := e.client.FriendImport(t.Context(), &tencentim.FriendImportRequest{FromAccount: "B", AddFriendItem: []tencentim.AddFriendItem{{ToAccount: "A", AddSource: "AddSource_Type_IOS"}}}); err != nil {
		t.Fatal(err)
	}
	for _, f := range e.srv.State().Friends {
		if f.FromAccount == "B" && f.AddTime != e.clock.Now().Unix() {
			t.Errorf("default AddTime = %d, want the server clock %d", f.AddTime, e.clock.Now().Unix())
		}
	}
}

// spec §14 items 24, 25 and the per-item rules of spec §5.1: each bad item fails
// alone (listed in Fail_Account), the rest are imported.
func TestFriendImportPerItemFailures(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.FriendLimit = 3 })
	e.importUsers(t, "A", "B", "C", "D", "E", "F")
	item := func(to string) tencentim.AddFriendItem {
		return tencentim.AddFriendItem{ToAccount: to, AddSource: "AddSource_Type_X"}
	}
	noSource := item("B")
	noSource.AddSource = ""
	longRemark := item("C")
	longRemark.Remark = strings.Repeat("r", 97)
	badGroup := item("C")
	badGroup.GroupName = []string{strings.Repeat("g", 31)}
	badCustom := item("C")
	badCustom.CustomItem = []tencentim.CustomItem{{Tag: "Tag_Custom_X", Value: []byte(`"v"`)}}
	resp, err := e.client.FriendImport(t.Context(), &tencentim.FriendImportRequest{
		FromAccount: "A",
		AddFriendItem: []tencentim.AddFriendItem{
			noSource,      // item 24: AddSource is required → 30001
			item("B"),     // ok (1)
			item("ghost"), // not imported → 30003
			item("A"),     // oneself → 30001
			longRemark,    // > 96 characters → 30001
			badGroup,      // list name > 30 characters → 30001
			badCustom,     // custom tag without Tag_SNS_Custom_ → 30001
			item("C"),     // ok (2)
			item("D"),     // ok (3)
			item("E"),     // item 25: over the limit of 3 → 30010
			item("B"),     // re-import of an existing friend is not over the limit
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var codes []int
	for _, r := range resp.ResultItem {
		codes = append(codes, r.ResultCode)
	}
	if want := []int{30001, 0, 30003, 30001, 30001, 30001, 30001, 0, 0, 30010, 0}; !slices.Equal(codes, want) {
		t.Errorf("codes = %v, want %v", codes, want)
	}
	if want := []string{"B", "ghost", "A", "C", "C", "C", "E"}; !slices.Equal(resp.FailAccount, want) {
		t.Errorf("Fail_Account = %v, want %v", resp.FailAccount, want)
	}
	if r := resp.ResultItem[9]; r.ResultInfo != "Err_SNS_FriendImport_My_Friend_Num_Exceed_Threshold" {
		t.Errorf("30010 info = %q", r.ResultInfo)
	}
	got, err := e.client.FriendGet(t.Context(), &tencentim.FriendGetRequest{FromAccount: "A"})
	if err != nil {
		t.Fatal(err)
	}
	if got.FriendNum != 3 {
		t.Errorf("FriendNum = %d, want 3", got.FriendNum)
	}
	for body, want := range map[string]int{
		`{"From_Account":"A"}`:                                   30001,
		`{"From_Account":"A","AddFriendItem":[]}`:                30001,
		`{"From_Account":"A","AddFriendItem":"B"}`:               30001,
		`{"From_Account":"A","AddFriendItem":["B"]}`:             30001,
		`{"AddFriendItem":[{"To_Account":"B","AddSource":"x"}]}`: 30001,
	} {
		if got := codeOf(e.client.CallRaw(t.Context(), tencentim.CmdFriendImport, []byte(body), nil)); got != want {
			t.Errorf("%s: code %d, want %d", body, got, want)
		}
	}
}

// The friend-list limit (32 lists, spec §5.1 supplement) is 30011 per item.
func TestFriendListLimit(t *testing.T) {
	e := newTestEnv(t)
	e.importUsers(t, "A", "B", "C")
	lists := make([]string, 32)
	for i := range lists {
		lists[i] = fmt.Sprint("list", i)
	}
	resp, err := e.client.FriendImport(t.Context(), &tencentim.FriendImportRequest{FromAccount: "A", AddFriendItem: []tencentim.AddFriendItem{
		{ToAccount: "B", AddSource: "AddSource_Type_X", GroupName: lists},
		{ToAccount: "C", AddSource: "AddSource_Type_X", GroupName: []string{"list0", "one-more"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.ResultItem[0].ResultCode != 0 || resp.ResultItem[1].ResultCode != 30011 {
		t.Errorf("ResultItem = %+v, want 0 then 30011", resp.ResultItem)
	}
}

// spec §14 item 26: friend_get pages of 100; CompleteFlag on the last page,
// NextStartIndex the next start, FriendNum the total; sequences let a caller skip
// parts it already has.
func TestFriendGetPaging(t *testing.T) {
	e := newTestEnv(t)
	ids := []string{"owner"}
	for i := range 250 {
		ids = append(ids, fmt.Sprintf("f%03d", i))
	}
	e.importUsers(t, ids...)
	for lo := 1; lo < len(ids); lo += 100 {
		var items []tencentim.AddFriendItem
		for _, id := range ids[lo:min(lo+100, len(ids))] {
			items = append(items, tencentim.AddFriendItem{ToAccount: id, AddSource: "AddSource_Type_X"})
		}
		if _, err := e.client.FriendImport(t.Context(), &tencentim.FriendImportRequest{FromAccount: "owner", AddFriendItem: items}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	start, pages := 0, 0
	for {
		resp, err := e.client.FriendGet(t.Context(), &tencentim.FriendGetRequest{FromAccount: "owner", StartIndex: start})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if resp.FriendNum != 250 {
			t.Errorf("FriendNum = %d, want 250", resp.FriendNum)
		}
		for _, it := range resp.UserDataItem {
			seen = append(seen, it.ToAccount)
		}
		if resp.CompleteFlag != 0 {
			break
		}
		if resp.NextStartIndex <= start {
			t.Fatalf("NextStartIndex %d does not advance from %d", resp.NextStartIndex, start)
		}
		start = resp.NextStartIndex
	}
	if pages != 3 || !slices.Equal(seen, ids[1:]) {
		t.Errorf("%d pages, %d friends; want 3 pages with every friend once in order", pages, len(seen))
	}

	first, err := e.client.FriendGet(t.Context(), &tencentim.FriendGetRequest{FromAccount: "owner"})
	if err != nil {
		t.Fatal(err)
	}
	cached, err := e.client.FriendGet(t.Context(), &tencentim.FriendGetRequest{FromAccount: "owner", StandardSequence: first.StandardSequence, CustomSequence: first.CustomSequence})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cached.UserDataItem[0].ValueItem); n != 0 {
		t.Errorf("with current sequences, %d tags came back; want none", n)
	}
	if _, err := e.client.FriendImport(t.Context(), &tencentim.FriendImportRequest{FromAccount: "owner", AddFriendItem: []tencentim.AddFriendItem{{ToAccount: "f000", AddSource: "AddSource_Type_Y"}}}); err != nil {
		t.Fatal(err)
	}
	after, err := e.client.FriendGet(t.Context(), &tencentim.FriendGetRequest{FromAccount: "owner", StandardSequence: first.StandardSequence})
	if err != nil {
		t.Fatal(err)
	}
	if after.StandardSequence == first.StandardSequence || len(after.UserDataItem[0].ValueItem) == 0 {
		t.Errorf("after a change: sequence %d (was %d), %d tags", after.StandardSequence, first.StandardSequence, len(after.UserDataItem[0].ValueItem))
	}
}

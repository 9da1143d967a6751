package plan

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/internal/seenset"
	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/transform"
)

// memReader is an in-memory extract.Reader; bad rows are reported through opt
// before the record at the same index of each entity.
type memReader struct {
	users    []extract.User
	groups   []extract.Group
	members  []extract.Member
	gmsgs    []extract.Message
	dmsgs    []extract.Message
	friends  []extract.Friend
	topics   []extract.Topic
	dms      []extract.GroupDM
	bad      map[extract.Entity][]extract.BadRow
	onBadRow func(extract.BadRow)
}

func each[T any](ctx context.Context, r *memReader, e extract.Entity, recs []T, fn func(T) error) error {
	for _, b := range r.bad[e] {
		if r.onBadRow != nil {
			r.onBadRow(b)
		}
	}
	for _, rec := range recs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

func (r *memReader) Users(ctx context.Context, fn func(extract.User) error) error {
	return each(ctx, r, extract.Users, r.users, fn)
}
func (r *memReader) Groups(ctx context.Context, fn func(extract.Group) error) error {
	return each(ctx, r, extract.Groups, r.groups, fn)
}
func (r *memReader) Members(ctx context.Context, fn func(extract.Member) error) error {
	return each(ctx, r, extract.Members, r.members, fn)
}
func (r *memReader) GroupMessages(ctx context.Context, fn func(extract.Message) error) error {
	return each(ctx, r, extract.GroupMessages, r.gmsgs, fn)
}
func (r *memReader) DirectMessages(ctx context.Context, fn func(extract.Message) error) error {
	return each(ctx, r, extract.DirectMessages, r.dmsgs, fn)
}
func (r *memReader) Friends(ctx context.Context, fn func(extract.Friend) error) error {
	return each(ctx, r, extract.Friends, r.friends, fn)
}
func (r *memReader) Topics(ctx context.Context, fn func(extract.Topic) error) error {
	return each(ctx, r, extract.Topics, r.topics, fn)
}
func (r *memReader) GroupDMs(ctx context.Context, fn func(extract.GroupDM) error) error {
	return each(ctx, r, extract.GroupDMs, r.dms, fn)
}
func (r *memReader) Close() error { return nil }

var (
	testNow = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	t0      = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func origin(file string, line int) extract.Origin {
	return extract.Origin{Source: file, Line: int64(line)}
}

func newTestTransformer(t *testing.T, mod func(*transform.Config)) *transform.Transformer {
	t.Helper()
	return newReplayTransformer(t, replayConfig(mod))
}

func text(id, group, from, to string, sent time.Time, line int) extract.Message {
	file := "direct.csv"
	if group != "" {
		file = "group.csv"
	}
	return extract.Message{ID: id, GroupID: group, SenderID: from, RecipientID: to, SentAt: sent, Kind: "text", Text: "hi " + id, Origin: origin(file, line)}
}

// testDataset has a bit of everything: valid, repaired, rejected and skipped
// records of every entity, and bad rows.
func testDataset() *memReader {
	r := &memReader{bad: map[extract.Entity][]extract.BadRow{}}
	for i := 1; i <= 5; i++ {
		u := extract.User{ID: fmt.Sprintf("u%d", i), CreatedAt: at(-1000 + i), Origin: origin("users.csv", i+1)}
		if i == 5 {
			u.Nick = "Five"
		}
		r.users = append(r.users, u)
	}
	r.users = append(r.users,
		extract.User{ID: "u6", Nick: strings.Repeat("x", 600), Origin: origin("users.csv", 7)}, // repaired
		extract.User{ID: "bad user", Origin: origin("users.csv", 8)},                           // rejected
		extract.User{ID: "u1", Origin: origin("users.csv", 9)},                                 // duplicate
	)
	r.bad[extract.Users] = []extract.BadRow{{Entity: extract.Users, Origin: origin("users.csv", 10), Rule: extract.RuleRaggedRow, Message: "3 fields, header has 4"}}
	r.groups = []extract.Group{
		{ID: "g1", OwnerID: "u1", Type: "public", Name: "One", CreatedAt: at(0), Origin: origin("groups.csv", 2)},
		{ID: "g2", OwnerID: "u2", Type: "live", Name: "Two", CreatedAt: at(0), Origin: origin("groups.csv", 3)},
		{ID: "g3", OwnerID: "u3", Type: "public", Name: "Three", CreatedAt: at(100), Origin: origin("groups.csv", 4)}, // clamped
	}
	r.members = []extract.Member{
		{GroupID: "g1", UserID: "u1", Role: "owner", JoinedAt: at(0), Origin: origin("members.csv", 2)}, // skipped
		{GroupID: "g1", UserID: "u2", Role: "admin", JoinedAt: at(1), Origin: origin("members.csv", 3)},
		{GroupID: "g1", UserID: "u3", Role: "member", JoinedAt: at(2), Unread: 4, HasUnread: true, Origin: origin("members.csv", 4)},
		{GroupID: "g3", UserID: "u4", JoinedAt: at(50), Origin: origin("members.csv", 5)}, // before g3's CreateTime
		{GroupID: "g9", UserID: "u4", JoinedAt: at(50), Origin: origin("members.csv", 6)}, // unknown group
	}
	for i := 0; i < 15; i++ {
		r.gmsgs = append(r.gmsgs, text(fmt.Sprint(100+i), "g1", "u2", "", at(10+i), i+2))
	}
	r.gmsgs = append(r.gmsgs,
		text("200", "g3", "ghost", "", at(60), 30), // unknown sender
		text("201", "g3", "u4", "", at(61), 31),
	)
	r.dmsgs = []extract.Message{
		text("1", "", "u1", "u2", at(1), 2),
		text("2", "", "u2", "u1", at(2), 3),
		text("3", "", "u1", "u2", at(3), 4),
		text("4", "", "u1", "u3", at(4), 5),
		text("5", "", "u1", "u3", testNow.Add(time.Hour), 6), // future
		text("6", "", "u4", "u4", at(5), 7),                  // self
	}
	r.friends = []extract.Friend{{UserID: "u1", FriendID: "u2"}, {UserID: "u2", FriendID: "u1"}}
	return r
}

func runValidate(t *testing.T, r *memReader, tr *transform.Transformer, opt ValidateOptions) (*ValidateResult, error) {
	t.Helper()
	br := &BadRows{}
	r.onBadRow = br.Report
	opt.BadRows = br
	return Validate(context.Background(), r, tr, opt)
}

func TestValidateCounts(t *testing.T) {
	var rejects rejectList
	res, err := runValidate(t, testDataset(), newTestTransformer(t, nil), ValidateOptions{Rejects: &rejects, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	want := map[extract.Entity]EntityCounts{
		extract.Users:          {Entity: extract.Users, Read: 9, Valid: 6, Repaired: 1, Rejected: 3},
		extract.Groups:         {Entity: extract.Groups, Read: 3, Valid: 2, Repaired: 1, Rejected: 1},
		extract.Members:        {Entity: extract.Members, Read: 5, Valid: 3, Rejected: 1, Skipped: 1},
		extract.GroupMessages:  {Entity: extract.GroupMessages, Read: 17, Valid: 16, Rejected: 1},
		extract.DirectMessages: {Entity: extract.DirectMessages, Read: 6, Valid: 4, Rejected: 2},
		extract.Friends:        {Entity: extract.Friends, Read: 2, Skipped: 2},
	}
	for e, w := range want {
		t.Run(string(e), func(t *testing.T) {
			got := res.Counts(e)
			if got != w {
				t.Errorf("counts = %+v, want %+v", got, w)
			}
			if got.Read != got.Valid+got.Rejected+got.Skipped {
				t.Errorf("read %d ≠ valid + rejected + skipped", got.Read)
			}
		})
	}
	if res.Rejected() != int64(len(rejects)) {
		t.Errorf("Rejected() = %d, %d reject lines", res.Rejected(), len(rejects))
	}
	wantRejects := map[string]string{ // origin → rule
		"users.csv:8":   transform.RuleUserIDInvalidChars,
		"users.csv:9":   transform.RuleUserIDDuplicate,
		"users.csv:10":  extract.RuleRaggedRow,
		"groups.csv:3":  transform.RuleGroupTypeUnmapped,
		"members.csv:6": transform.RuleMemberGroupUnknown,
		"group.csv:30":  transform.RuleGroupMessageSenderUnknown,
		"direct.csv:6":  transform.RuleMessageTimeFuture,
		"direct.csv:7":  transform.RuleDirectMessageSelf,
	}
	for _, rj := range rejects {
		rule, ok := wantRejects[rj.Origin]
		if !ok {
			t.Errorf("unexpected reject %+v", rj)
			continue
		}
		if rj.Rule != rule || rj.Message == "" || rj.Severity != "reject" {
			t.Errorf("reject at %s = %+v, want rule %s with a message", rj.Origin, rj, rule)
		}
		delete(wantRejects, rj.Origin)
	}
	for o, rule := range wantRejects {
		t.Errorf("no reject at %s (%s)", o, rule)
	}
	for _, rj := range rejects {
		if rj.Origin == "users.csv:8" && rj.LegacyID != "bad user" {
			t.Errorf("reject at users.csv:8 has legacy id %q", rj.LegacyID)
		}
	}
}

func TestValidateIssuesAndExamples(t *testing.T) {
	r := testDataset()
	res, err := runValidate(t, r, newTestTransformer(t, nil), ValidateOptions{Examples: 1})
	if err != nil {
		t.Fatal(err)
	}
	find := func(e extract.Entity, rule string) *RuleSummary {
		for i := range res.Issues {
			if res.Issues[i].Entity == e && res.Issues[i].Rule == rule {
				return &res.Issues[i]
			}
		}
		return nil
	}
	tests := []struct {
		entity   extract.Entity
		rule     string
		severity string
		count    int64
		origin   string
	}{
		{extract.Users, transform.RuleUserNickTruncated, "repair", 1, "users.csv:7"},
		{extract.Users, extract.RuleRaggedRow, "reject", 1, "users.csv:10"},
		{extract.Groups, transform.RuleGroupCreateTimeClamped, "repair", 1, "groups.csv:4"},
		{extract.Members, transform.RuleMemberOwnerRow, "warning", 1, "members.csv:2"},
		{extract.DirectMessages, transform.RuleDirectMessageSelf, "reject", 1, "direct.csv:7"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			rs := find(tt.entity, tt.rule)
			if rs == nil {
				t.Fatalf("no %s issue on %s", tt.rule, tt.entity)
			}
			if rs.Severity != tt.severity || rs.Count != tt.count || len(rs.Examples) != 1 || rs.Examples[0].Origin != tt.origin {
				t.Errorf("got %+v", *rs)
			}
			if rs.Summary == "" || rs.Spec == "" {
				t.Errorf("rule without summary or spec: %+v", *rs)
			}
		})
	}
	// Sorted by entity (migration order), then rule.
	for i := 1; i < len(res.Issues); i++ {
		a, b := res.Issues[i-1], res.Issues[i]
		if entityIndex(a.Entity) > entityIndex(b.Entity) || a.Entity == b.Entity && a.Rule >= b.Rule {
			t.Errorf("issues out of order: %s/%s before %s/%s", a.Entity, a.Rule, b.Entity, b.Rule)
		}
	}
}

func TestValidatePlan(t *testing.T) {
	var (
		single = tencentim.CmdAccountImport.String()
		multi  = tencentim.CmdMultiAccountImport.String()
		group  = tencentim.CmdImportGroup.String()
		member = tencentim.CmdImportGroupMember.String()
		gmsg   = tencentim.CmdImportGroupMsg.String()
		unread = tencentim.CmdSetUnreadMsgNum.String()
		c2c    = tencentim.CmdImportMsg.String()
	)
	tests := []struct {
		name     string
		opt      ValidateOptions
		calls    map[string]int64 // by command
		dominant string
		branch   string
	}{
		{
			name: "mixed accounts",
			opt:  ValidateOptions{},
			// u5 and u6 have a nick: account_import each; the 4 others in one
			// multiaccount_import. g1 has 2 members, g3 1: one call each; the 15
			// messages of g1 in 3 calls of ≤ 7, g3's one in 1; one unread count;
			// 4 direct messages.
			calls:    map[string]int64{single: 2, multi: 1, group: 2, member: 2, gmsg: 4, unread: 1, c2c: 4},
			dominant: planGroupMessages,
			branch:   "group",
		},
		{
			name:     "account_import, batches of 5, slow C2C",
			opt:      ValidateOptions{UseAccountImport: true, GroupMsgBatch: 5, Rates: map[tencentim.Command]float64{tencentim.CmdImportMsg: 0.5}},
			calls:    map[string]int64{single: 6, group: 2, member: 2, gmsg: 4, unread: 1, c2c: 4},
			dominant: planDirectMessages,
			branch:   "direct",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := runValidate(t, testDataset(), newTestTransformer(t, nil), tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			p := res.Plan
			if len(p.Phases) != len(tt.calls) {
				t.Errorf("%d plan rows, want %d: %+v", len(p.Phases), len(tt.calls), p.Phases)
			}
			var acct float64
			for _, ph := range p.Phases {
				if ph.Calls != tt.calls[ph.Command] {
					t.Errorf("%s %s: %d calls, want %d", ph.Phase, ph.Command, ph.Calls, tt.calls[ph.Command])
				}
				if ph.Rate <= 0 || ph.DocumentedRate < ph.Rate && tt.opt.Rates == nil {
					t.Errorf("%s: rate %v, documented %v", ph.Phase, ph.Rate, ph.DocumentedRate)
				}
				if math.Abs(ph.Seconds-float64(ph.Calls)/ph.Rate) > 1e-9 || math.Abs(ph.DocumentedSeconds-float64(ph.Calls)/ph.DocumentedRate) > 1e-9 {
					t.Errorf("%s: seconds %v/%v for %d calls at %v/%v", ph.Phase, ph.Seconds, ph.DocumentedSeconds, ph.Calls, ph.Rate, ph.DocumentedRate)
				}
				if ph.Phase == planAccounts {
					acct = math.Max(acct, ph.Seconds)
				}
			}
			c := p.Critical
			want := acct + math.Max(c.GroupChainSeconds, c.DirectSeconds)
			if math.Abs(c.Seconds-want) > 1e-9 || c.Dominant != tt.dominant || c.Branch != tt.branch || c.Share <= 0 || c.Share > 1 {
				t.Errorf("critical path %+v, want %v s dominated by %s on the %s branch", c, want, tt.dominant, tt.branch)
			}
			if c.DocumentedSeconds > c.Seconds && tt.opt.Rates == nil {
				t.Errorf("documented maxima slower than 95%% of them: %+v", c)
			}
		})
	}
}

func TestValidateLargestAndRanges(t *testing.T) {
	res, err := runValidate(t, testDataset(), newTestTransformer(t, nil), ValidateOptions{Top: 1, Now: testNow, RoamingDays: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.LargestGroups) != 1 || res.LargestGroups[0].LegacyID != "g1" || res.LargestGroups[0].Messages != 15 || res.LargestGroups[0].Members != 2 {
		t.Errorf("largest groups %+v", res.LargestGroups)
	}
	if len(res.LargestConversations) != 1 || res.LargestConversations[0] != (ConversationSize{A: "u1", B: "u2", Messages: 3}) {
		t.Errorf("largest conversations %+v", res.LargestConversations)
	}
	tr := rangeOf(res, extract.DirectMessages)
	if tr == nil || !tr.First.Equal(at(1)) || !tr.Last.Equal(at(4)) {
		t.Errorf("direct message range %+v, want %v..%v (the future message is rejected)", tr, at(1), at(4))
	}
	var retention, friends bool
	for _, w := range res.Warnings {
		retention = retention || strings.Contains(w, "roaming retention")
		friends = friends || strings.Contains(w, "2 friendships")
	}
	if !retention || !friends {
		t.Errorf("warnings %q lack the retention or friends warning", res.Warnings)
	}
}

func TestValidateEditionLimit(t *testing.T) {
	tr := newTestTransformer(t, func(c *transform.Config) { c.AccountLimit = 4 })
	res, err := runValidate(t, testDataset(), tr, ValidateOptions{AccountLimit: 4})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accounts.Total != 4 || res.Accounts.OverLimit != 2 {
		t.Errorf("accounts %+v, want 4 imported and 2 over the limit", res.Accounts)
	}
	if len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "70398") {
		t.Errorf("warnings %q lack the edition limit", res.Warnings)
	}
}

func TestValidateCreateTimeConflictCascade(t *testing.T) {
	tr := newTestTransformer(t, func(c *transform.Config) { c.GroupCreateTime = transform.PolicyReject })
	var rejects rejectList
	res, err := runValidate(t, testDataset(), tr, ValidateOptions{Rejects: &rejects})
	if err != nil {
		t.Fatal(err) // the accounting identity is checked inside
	}
	if g := res.Counts(extract.Groups); g.Valid != 1 || g.Rejected != 2 {
		t.Errorf("groups %+v: g3 must fall with its CreateTime", g)
	}
	found := false
	for _, rj := range rejects {
		found = found || rj.Origin == "groups.csv:4" && rj.Rule == transform.RuleGroupCreateTimeConflict
	}
	if !found {
		t.Errorf("no conflict reject for g3 in %+v", rejects)
	}
}

type failingSink struct{ after int }

func (f *failingSink) Reject(load.Reject) error {
	if f.after == 0 {
		return errors.New("disk full")
	}
	f.after--
	return nil
}

func TestValidateErrors(t *testing.T) {
	t.Run("sink", func(t *testing.T) {
		for _, after := range []int{0, 1, 3} {
			_, err := runValidate(t, testDataset(), newTestTransformer(t, nil), ValidateOptions{Rejects: &failingSink{after: after}})
			if err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Errorf("after %d: err = %v, want the sink's", after, err)
			}
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Validate(ctx, testDataset(), newTestTransformer(t, nil), ValidateOptions{})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}

type payloadCount map[extract.Entity]int

func (p payloadCount) Payload(e extract.Entity, _ string, v any) error {
	switch v.(type) {
	case tencentim.AccountImportRequest, tencentim.ImportGroupRequest, MemberPayload, GroupMessagePayload, tencentim.ImportMsgRequest,
		tencentim.SetUnreadMsgNumRequest:
	default:
		return fmt.Errorf("payload of type %T", v)
	}
	p[e]++
	return nil
}

func TestValidatePayloads(t *testing.T) {
	p := payloadCount{}
	res, err := runValidate(t, testDataset(), newTestTransformer(t, nil), ValidateOptions{Payloads: p})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Entities {
		if c.Entity == extract.Friends {
			continue
		}
		if int64(p[c.Entity]) != c.Valid {
			t.Errorf("%s: %d payloads, %d valid", c.Entity, p[c.Entity], c.Valid)
		}
	}
}

func TestClassify(t *testing.T) {
	iss := func(s ...transform.Severity) []transform.Issue {
		var out []transform.Issue
		for _, sv := range s {
			out = append(out, transform.Issue{Severity: sv})
		}
		return out
	}
	tests := []struct {
		name   string
		ok     bool
		issues []transform.Issue
		want   outcome
	}{
		{"clean", true, nil, outcomeValid},
		{"warning", true, iss(transform.Warning), outcomeValid},
		{"repair", true, iss(transform.Warning, transform.Repair), outcomeRepaired},
		{"reject", false, iss(transform.Repair, transform.Reject), outcomeRejected},
		{"owner row", false, iss(transform.Warning), outcomeSkipped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.ok, tt.issues); got != tt.want {
				t.Errorf("classify = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestValidateRetentionFollowsRoamingDays: the retention warning names the
// configured retention, and an unlimited one (0) gives none.
func TestValidateRetentionFollowsRoamingDays(t *testing.T) {
	for _, tt := range []struct {
		days int
		want string
	}{{7, "last 7 days"}, {90, ""}, {0, ""}} {
		res, err := runValidate(t, testDataset(), newTestTransformer(t, nil), ValidateOptions{Now: at(10 * 24 * 60), RoamingDays: tt.days})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, w := range res.Warnings {
			if strings.Contains(w, "roaming retention") {
				got = w
			}
		}
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("roaming_days %d: retention warning %q, want one containing %q", tt.days, got, tt.want)
		}
	}
}

// TestValidateSeenSetsSpill: with sets of message ids so small that they spill
// every few messages, the pass finds the same duplicate ids (and everything
// else) as with the in-memory defaults, and leaves nothing in the spill
// directory; a spill that fails stops the pass.
func TestValidateSeenSetsSpill(t *testing.T) {
	t.Parallel()
	dataset := func() *memReader {
		r := testDataset()
		for i := range 300 {
			id := fmt.Sprint(1000 + i)
			if i%37 == 5 {
				id = fmt.Sprint(1000 + i/2) // an id met before
			}
			r.gmsgs = append(r.gmsgs, text(id, "g1", "u2", "", at(30+i), 100+i))
		}
		for c := range 20 {
			for i := range 40 {
				n := c*40 + i
				id := fmt.Sprint(5000 + n)
				if n%29 == 7 {
					id = fmt.Sprint(5000 + n/3) // another conversation's, or this one's
				}
				r.dmsgs = append(r.dmsgs, text(id, "", "u1", fmt.Sprintf("u%d", 2+c%4), at(100+n), 200+n))
			}
		}
		return r
	}
	validate := func(seen ValidateOptions) (*ValidateResult, rejectList) {
		var rejects rejectList
		seen.Rejects = &rejects
		res, err := runValidate(t, dataset(), newTestTransformer(t, nil), seen)
		if err != nil {
			t.Fatal(err)
		}
		return res, rejects
	}
	want, wantRejects := validate(ValidateOptions{})
	dir := t.TempDir()
	got, gotRejects := validate(ValidateOptions{Seen: seenset.Config{Dir: dir, TableSlots: 16, BloomBits: 512}})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("result with spilled sets differs:\n got %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(gotRejects, wantRejects) {
		t.Errorf("rejects with spilled sets differ:\n got %v\nwant %v", gotRejects, wantRejects)
	}
	dups := 0
	for _, r := range wantRejects {
		if r.Rule == transform.RuleMessageIDDuplicate {
			dups++
		}
	}
	if dups < 20 {
		t.Errorf("%d duplicate-id rejects, want the dataset's 20 or more", dups)
	}
	if left, err := os.ReadDir(dir); err != nil || len(left) > 0 {
		t.Errorf("spill directory after the pass: %d files (%v), want none", len(left), err)
	}

	_, err := runValidate(t, dataset(), newTestTransformer(t, nil),
		ValidateOptions{Seen: seenset.Config{Dir: filepath.Join(dir, "missing"), TableSlots: 16}})
	if err == nil || !strings.Contains(err.Error(), "message ids") {
		t.Errorf("Validate with a spill directory that does not exist = %v, want a message ids error", err)
	}
}

package transform

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
)

// Fixed clock of every test: records are dated around t0, a year before now.
var (
	testNow = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	t0      = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
)

func testConfig() Config {
	return Config{
		Now: testNow,
		GroupTypes: map[string]string{
			"public": "Public", "private": "Work", "meeting": "Meeting",
			"community": "Community", "live": "AVChatRoom",
		},
		Roles: map[string]string{"owner": "Owner", "admin": "Admin", "moderator": "Admin", "member": "Member"},
		Kinds: map[string]KindRule{
			"text":     {Element: ElemText},
			"sticker":  {Element: ElemFace, FaceIndex: 3},
			"location": {Element: ElemLocation},
			"card":     {Element: ElemCustom},
			"image":    {Element: ElemImage},
			"file":     {Element: ElemFile},
			"voice":    {Element: ElemSound},
			"video":    {Element: ElemVideo},
		},
		DefaultKind: "text",
	}
}

func newTestTransformer(t testing.TB, mod func(*Config)) *Transformer {
	t.Helper()
	cfg := testConfig()
	if mod != nil {
		mod(&cfg)
	}
	tr, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return tr
}

func user(id string) extract.User {
	return extract.User{ID: id, Nick: "nick " + id, Origin: extract.Origin{Source: "users.csv"}}
}

func grp(id, owner string) extract.Group {
	return extract.Group{ID: id, OwnerID: owner, Type: "public", Name: "group " + id, CreatedAt: t0,
		Origin: extract.Origin{Source: "groups.csv"}}
}

func member(g, u string, join time.Time) extract.Member {
	return extract.Member{GroupID: g, UserID: u, Role: "member", JoinedAt: join,
		Origin: extract.Origin{Source: "members.csv"}}
}

func gmsg(id, g, sender string, at time.Time) extract.Message {
	return extract.Message{ID: id, GroupID: g, SenderID: sender, SentAt: at, Kind: "text", Text: "hello " + id,
		Origin: extract.Origin{Source: "group_messages.csv"}}
}

func friend(u, f string, at time.Time) extract.Friend {
	return extract.Friend{UserID: u, FriendID: f, Remark: "pal", AddedAt: at, Origin: extract.Origin{Source: "friends.csv"}}
}

func dmsg(id, from, to string, at time.Time) extract.Message {
	return extract.Message{ID: id, SenderID: from, RecipientID: to, SentAt: at, Kind: "text", Text: "hi " + id,
		Origin: extract.Origin{Source: "direct_messages.csv"}}
}

// with returns v changed by f, to build records inline.
func with[T any](v T, f func(*T)) T {
	f(&v)
	return v
}

// markSource tags the record whose outcome a rule case checks.
const markSource = "want"

func mark[T any](v T) T {
	switch r := any(&v).(type) {
	case *extract.User:
		r.Origin.Source = markSource
	case *extract.Group:
		r.Origin.Source = markSource
	case *extract.Member:
		r.Origin.Source = markSource
	case *extract.Message:
		r.Origin.Source = markSource
	case *extract.Friend:
		r.Origin.Source = markSource
	case *extract.Topic:
		r.Origin.Source = markSource
	case *extract.GroupDM:
		r.Origin.Source = markSource
	case *profileRec:
		r.Origin.Source = markSource
	default:
		panic(fmt.Sprintf("mark: unexpected record %T", v))
	}
	return v
}

func community(id string) extract.Group {
	return with(grp(id, "u1"), func(g *extract.Group) { g.Type, g.SupportTopic = "Community", true })
}

func topic(id, g string) extract.Topic {
	return extract.Topic{ID: id, GroupID: g, Name: "topic " + id, CreatorID: "u2", CreatedAt: t0.Add(time.Minute),
		Origin: extract.Origin{Source: "topics.csv"}}
}

func tmsg(id, g, tp, sender string, at time.Time) extract.Message {
	return with(gmsg(id, g, sender, at), func(m *extract.Message) { m.TopicID = tp })
}

// gdm is a group DM of members, created at t0.
func gdm(id string, members ...string) extract.GroupDM {
	return extract.GroupDM{ID: id, Members: members, CreatedAt: t0, Origin: extract.Origin{Source: "group_dms.csv"}}
}

// finalDM returns the GroupDMFinal of a legacy group DM id.
func (r runResult) finalDM(t testing.TB, id string) GroupDMFinal {
	t.Helper()
	for _, f := range r.dms {
		if f.LegacyID == id {
			return f
		}
	}
	t.Fatalf("no final group DM %q", id)
	return GroupDMFinal{}
}

// baseRecords are three users and a public group g1 owned by u1, created at t0.
func baseRecords() []any {
	return []any{user("u1"), user("u2"), user("u3"), grp("g1", "u1")}
}

// outcome is one record's result in a run.
type outcome struct {
	id      string // legacy id ("group/user" for members)
	entity  extract.Entity
	origin  extract.Origin
	ok      bool
	issues  []Issue
	payload any
}

// runResult is everything a run produced.
type runResult struct {
	outcomes []outcome
	groups   []GroupFinal
	topics   []TopicFinal
	dms      []GroupDMFinal
	tr       *Transformer
}

// run feeds recs to a new Transformer pass by pass (users, groups, members, group
// messages, direct messages), keeping each pass's records in the given order.
func run(t testing.TB, mod func(*Config), recs []any) runResult {
	t.Helper()
	tr := newTestTransformer(t, mod)
	var res runResult
	res.tr = tr
	for _, r := range recs {
		if d, ok := r.(extract.GroupDM); ok {
			tr.NoteGroupDM(d)
		}
	}
	for pass := 0; pass < 6; pass++ {
		for _, r := range recs {
			switch r := r.(type) {
			case profileRec:
				if pass == 0 {
					// The account first, as the validate pass does; its outcome is
					// not the marked one.
					u := r.User
					u.Origin.Source = "users.csv"
					o := tr.User(u)
					res.outcomes = append(res.outcomes, outcome{r.ID, extract.Users, u.Origin, o.OK, o.Issues, o.Account})
					if o.OK && HasProfile(r.User) {
						p := tr.Profile(r.User, o.Account.UserID)
						res.outcomes = append(res.outcomes, outcome{r.ID, extract.Profiles, r.Origin, p.OK, p.Issues, p.Req})
					}
				}
			case extract.User:
				if pass == 0 {
					o := tr.User(r)
					res.outcomes = append(res.outcomes, outcome{r.ID, extract.Users, r.Origin, o.OK, o.Issues, o.Account})
				}
			case extract.Group:
				if pass == 1 {
					o := tr.Group(r)
					res.outcomes = append(res.outcomes, outcome{r.ID, extract.Groups, r.Origin, o.OK, o.Issues, o.GroupID})
				}
			case extract.Topic:
				if pass == 1 { // after the groups listed before it
					o := tr.Topic(r)
					res.outcomes = append(res.outcomes, outcome{r.GroupID + "/" + r.ID, extract.Topics, r.Origin, o.OK, o.Issues, o.TopicID})
				}
			case extract.GroupDM:
				if pass == 2 { // after every group
					o := tr.GroupDM(r)
					res.outcomes = append(res.outcomes, outcome{r.ID, extract.GroupDMs, r.Origin, o.OK, o.Issues, o.GroupID})
				}
			case extract.Member:
				if pass == 2 {
					o := tr.Member(r)
					res.outcomes = append(res.outcomes, outcome{r.GroupID + "/" + r.UserID, extract.Members, r.Origin, o.OK, o.Issues, o.Member})
				}
			case extract.Message:
				if r.GroupID != "" && pass == 3 {
					o := tr.GroupMessage(r)
					res.outcomes = append(res.outcomes, outcome{r.ID, extract.GroupMessages, r.Origin, o.OK, o.Issues, o.Msg})
				}
				if r.GroupID == "" && pass == 4 {
					o := tr.DirectMessage(r)
					res.outcomes = append(res.outcomes, outcome{r.ID, extract.DirectMessages, r.Origin, o.OK, o.Issues, o.Msg})
				}
			case extract.Friend:
				if pass == 5 {
					o := tr.Friend(r)
					res.outcomes = append(res.outcomes, outcome{r.UserID + "/" + r.FriendID, extract.Friends, r.Origin, o.OK, o.Issues, o.Item})
				}
			default:
				t.Fatalf("run: unexpected record %T", r)
			}
		}
	}
	res.groups = tr.Groups()
	res.topics = tr.Topics(res.groups)
	res.dms = tr.GroupDMs()
	return res
}

// marked returns the outcome of the record tagged with mark.
func (r runResult) marked(t testing.TB) outcome {
	t.Helper()
	for _, o := range r.outcomes {
		if o.origin.Source == markSource {
			return o
		}
	}
	t.Fatalf("no marked record in the run")
	return outcome{}
}

// final returns the GroupFinal of a legacy group id.
func (r runResult) final(t testing.TB, id string) GroupFinal {
	t.Helper()
	for _, g := range r.groups {
		if g.LegacyID == id {
			return g
		}
	}
	t.Fatalf("no final group %q", id)
	return GroupFinal{}
}

func hasRule(issues []Issue, rule string) bool {
	for _, is := range issues {
		if is.Rule == rule {
			return true
		}
	}
	return false
}

func rules(issues []Issue) []string {
	var out []string
	for _, is := range issues {
		out = append(out, is.Rule)
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

func mustUserID(legacy string) string {
	id, ok := UserID(legacy, PolicyRewrite)
	if !ok {
		panic("mustUserID: " + legacy)
	}
	return id
}

func mustGroupID(legacy string) string {
	id, ok := GroupID(legacy, "", "Public", PolicyRewrite)
	if !ok {
		panic("mustGroupID: " + legacy)
	}
	return id
}

// collidingIDs are two message ids with the same GroupRandom, found by a birthday
// search (about 80,000 hashes).
var collidingIDs = func() [2]string {
	seen := make(map[uint32]string)
	for i := 0; ; i++ {
		id := "c" + strconv.Itoa(i)
		r := GroupRandom(id)
		if prev, ok := seen[r]; ok {
			return [2]string{prev, id}
		}
		seen[r] = id
	}
}()

// profileRec is a user whose profile fields are checked too (pass 0: User, then
// Profile of the accepted account).
type profileRec struct{ extract.User }

// profile is user id with the profile fields mod sets.
func profile(id string, mod func(*extract.User)) profileRec {
	u := user(id)
	mod(&u)
	return profileRec{u}
}

package transform

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenRecords cover every element type in C2C, every group-accepted element
// plus rich media converted in groups, the group types, a rewrite, a clamp and the
// member roles.
func goldenRecords() []any {
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	dm := func(id, kind string, f func(*extract.Message)) extract.Message {
		m := dmsg(id, "alice", "bob", at(100))
		m.Kind = kind
		if f != nil {
			f(&m)
		}
		return m
	}
	gm := func(id, g, kind string, min int, f func(*extract.Message)) extract.Message {
		m := gmsg(id, g, "alice", at(min))
		m.Kind = kind
		if f != nil {
			f(&m)
		}
		return m
	}
	return []any{
		extract.User{ID: "alice", Nick: "Alice", FaceURL: "https://cdn.example/alice.png"},
		extract.User{ID: "bob", Nick: "Bob <b>"},
		extract.User{ID: "carol"},
		extract.User{ID: "dave smith", Nick: "Dave"},

		extract.Group{ID: "team", OwnerID: "alice", Type: "private", Name: "Team", Introduction: "intro",
			Notification: "note", FaceURL: "https://cdn.example/t.png", MaxMembers: 50, CreatedAt: t0},
		extract.Group{ID: "town", OwnerID: "bob", Type: "community", Name: "Town square", CreatedAt: at(30)},
		extract.Group{ID: "room", Type: "Meeting", Name: "Room"},

		extract.Member{GroupID: "room", UserID: "carol", JoinedAt: at(5), HasUnread: true, Unread: 0},
		extract.Member{GroupID: "team", UserID: "bob", Role: "admin", JoinedAt: at(1), HasUnread: true, Unread: 4},
		extract.Member{GroupID: "team", UserID: "dave smith", Role: "moderator", JoinedAt: at(2)},
		extract.Member{GroupID: "town", UserID: "alice", Role: "member", JoinedAt: at(10)},
		extract.Member{GroupID: "town", UserID: "carol", JoinedAt: at(40)},

		gm("g1", "room", "text", 6, nil),
		gm("g2", "team", "text", 3, func(m *extract.Message) { m.Text = "line1\nline2 <b>&" }),
		gm("g3", "team", "sticker", 4, func(m *extract.Message) { m.Payload = "12"; m.Text = "[smile]" }),
		gm("g4", "team", "sticker", 4, func(m *extract.Message) { m.Payload = "" }),
		gm("g5", "team", "location", 5, func(m *extract.Message) { m.Payload = `{"lat":22.54,"lng":113.93,"desc":"Shenzhen"}` }),
		gm("g6", "team", "card", 6, func(m *extract.Message) { m.Payload = `{"card":"x"}`; m.Text = "a card" }),
		gm("g7", "team", "image", 7, func(m *extract.Message) {
			m.URL, m.Width, m.Height, m.Size, m.Text = "https://cdn.example/p.jpg", 800, 600, 12345, "look"
		}),
		gm("g8", "team", "file", 8, func(m *extract.Message) { m.URL, m.Size = "https://cdn.example/doc.pdf?v=2", 999 }),
		gm("g9", "town", "video", 50, func(m *extract.Message) {
			m.URL, m.Payload, m.Width, m.Height, m.Duration = "https://cdn.example/v.mp4", "https://cdn.example/v.jpg", 320, 240, 9
		}),

		dm("d1", "text", nil),
		dm("d2", "sticker", func(m *extract.Message) { m.Payload = "7" }),
		dm("d3", "location", func(m *extract.Message) { m.Payload = "48.85, 2.35"; m.Text = "Paris" }),
		dm("d4", "card", func(m *extract.Message) { m.Payload = `{"k":1}` }),
		dm("d5", "image", func(m *extract.Message) {
			m.URL, m.Width, m.Height, m.Size = "https://cdn.example/p.PNG", 100, 80, 2048
		}),
		dm("d6", "file", func(m *extract.Message) { m.URL, m.FileName, m.Size = "https://cdn.example/f", "report.xlsx", 4096 }),
		dm("d7", "voice", func(m *extract.Message) { m.URL, m.Size, m.Duration = "https://cdn.example/s.amr", 300, 4 }),
		dm("d8", "video", func(m *extract.Message) {
			m.URL, m.Payload, m.Width, m.Height, m.Size, m.Duration =
				"https://cdn.example/v.mp4", `{"thumb_url":"https://cdn.example/v.jpg"}`, 640, 360, 1<<20, 30
		}),
		// Same second as d1-d8 in the alice/bob conversation: ranks 8 and 9.
		dm("d9", "text", func(m *extract.Message) { m.SenderID, m.RecipientID = "bob", "alice" }),
		dm("d10", "text", func(m *extract.Message) { m.SenderID, m.RecipientID = "dave smith", "alice" }),
	}
}

// goldenOutput is the JSON written to the golden files: every result, in order.
type goldenOutput struct {
	Users          []UserResult
	Groups         []GroupResult
	Members        []MemberResult
	GroupMessages  []GroupMessageResult
	DirectMessages []DirectMessageResult
	Final          []GroupFinal
	Implied        []string
	Rewrites       []Rewrite
}

func transformAll(t testing.TB, mod func(*Config), recs []any) goldenOutput {
	t.Helper()
	tr := newTestTransformer(t, mod)
	var out goldenOutput
	for _, r := range recs {
		if u, ok := r.(extract.User); ok {
			out.Users = append(out.Users, tr.User(u))
		}
	}
	for _, r := range recs {
		if g, ok := r.(extract.Group); ok {
			out.Groups = append(out.Groups, tr.Group(g))
		}
	}
	for _, r := range recs {
		if m, ok := r.(extract.Member); ok {
			out.Members = append(out.Members, tr.Member(m))
		}
	}
	for _, r := range recs {
		if m, ok := r.(extract.Message); ok && m.GroupID != "" {
			out.GroupMessages = append(out.GroupMessages, tr.GroupMessage(m))
		}
	}
	for _, r := range recs {
		if m, ok := r.(extract.Message); ok && m.GroupID == "" {
			out.DirectMessages = append(out.DirectMessages, tr.DirectMessage(m))
		}
	}
	out.Final = tr.Groups()
	out.Implied = tr.ImpliedAccounts()
	out.Rewrites = tr.Rewrites()
	return out
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"payloads", func(c *Config) { c.InvalidIDs = PolicyRewrite; c.GroupIDPrefix = "acme_" }},
		{"group_media_text", func(c *Config) {
			c.InvalidIDs = PolicyRewrite
			c.GroupRichMedia = PolicyText
			c.RealtimeAfter = t0
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := transformAll(t, tc.mod, goldenRecords())
			got, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("payloads differ from %s (go test -update rewrites it); got:\n%s", path, got)
			}
		})
	}
}

// TestDeterministic runs the same records through two Transformers: identical
// payloads, issues and final groups (design §4 rules 1-2).
func TestDeterministic(t *testing.T) {
	mod := func(c *Config) { c.InvalidIDs = PolicyRewrite; c.UnknownUsers = PolicyImport }
	recs := append(goldenRecords(), dmsg("x1", "alice", "ghost one", t0), gmsg("x2", "team", "ghost two", t0.Add(time.Hour)))
	a := transformAll(t, mod, recs)
	b := transformAll(t, mod, recs)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("two runs over the same records differ")
	}
	if len(a.Implied) != 2 || len(a.Rewrites) < 2 {
		t.Errorf("implied %v, rewrites %v: the run did not exercise implied accounts and rewrites", a.Implied, a.Rewrites)
	}
}

package load

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/transform"
)

// countingReader is a memReader whose Close is counted, to check that ReplaySource
// closes every reader it opens.
type countingReader struct {
	*memReader
	closed *atomic.Int32
}

func (r countingReader) Close() error {
	r.closed.Add(1)
	return nil
}

// opener hands ReplaySource a fresh reader over the same records each time.
type opener struct {
	data           func() *memReader
	opened, closed atomic.Int32
	err            error // returned by open instead of a reader
}

func (o *opener) open(ctx context.Context) (extract.Reader, error) {
	if o.err != nil {
		return nil, o.err
	}
	o.opened.Add(1)
	return countingReader{o.data(), &o.closed}, nil
}

// payloadLog is the PayloadSink of the validate pass the replay is compared with.
type payloadLog struct {
	users   []Account
	groups  []Group
	members []Member
	gmsgs   []GroupMessage
	direct  []DirectMessage
}

func (l *payloadLog) Payload(e extract.Entity, legacyID string, p any) error {
	switch v := p.(type) {
	case tencentim.AccountImportRequest:
		l.users = append(l.users, Account{Item: Item{LegacyID: legacyID}, Req: v})
	case tencentim.ImportGroupRequest:
		l.groups = append(l.groups, Group{Item: Item{LegacyID: legacyID}, Req: v})
	case MemberPayload:
		l.members = append(l.members, Member{Item: Item{LegacyID: legacyID}, GroupID: v.GroupID, M: v.Member})
	case GroupMessagePayload:
		l.gmsgs = append(l.gmsgs, GroupMessage{Item: Item{LegacyID: legacyID}, GroupID: v.GroupID, Msg: v.Msg})
	case tencentim.ImportMsgRequest:
		l.direct = append(l.direct, DirectMessage{Item: Item{LegacyID: legacyID}, Req: v})
	default:
		return fmt.Errorf("unexpected payload %T of %s", p, e)
	}
	return nil
}

// replayed is everything a ReplaySource yielded, phase by phase, in the engine's
// call order.
type replayed struct {
	accounts []Account
	groups   []Group
	members  []Member
	gmsgs    []GroupMessage
	unread   []Unread
	direct   []DirectMessage
}

func collect[T any](dst *[]T) func(T) error {
	return func(v T) error { *dst = append(*dst, v); return nil }
}

func replayAll(t *testing.T, src *ReplaySource) replayed {
	t.Helper()
	var r replayed
	ctx := t.Context()
	steps := []struct {
		name string
		run  func() error
	}{
		{"Accounts", func() error { return src.Accounts(ctx, collect(&r.accounts)) }},
		{"DirectMessages", func() error { return src.DirectMessages(ctx, collect(&r.direct)) }},
		{"Groups", func() error { return src.Groups(ctx, collect(&r.groups)) }},
		{"Members", func() error { return src.Members(ctx, collect(&r.members)) }},
		{"GroupMessages", func() error { return src.GroupMessages(ctx, collect(&r.gmsgs)) }},
		{"Unread", func() error { return src.Unread(ctx, collect(&r.unread)) }},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	return r
}

// itemsByID keeps only the legacy id of each record's Item: the validate log
// knows no origins (nor the engine's ordinals).
func itemsByID[T any](xs []T, item func(*T) *Item) []T {
	out := make([]T, len(xs))
	for i := range xs {
		out[i] = xs[i]
		it := item(&out[i])
		*it = Item{LegacyID: it.LegacyID}
	}
	return out
}

// replayConfig is the transformer configuration of the replay tests (that of
// testDataset's tests); the validate pass and the replay must share it.
func replayConfig(mod func(*transform.Config)) transform.Config {
	cfg := transform.Config{
		Now:         testNow,
		GroupTypes:  map[string]string{"public": "Public"},
		Roles:       map[string]string{"owner": "Owner", "admin": "Admin", "member": "Member"},
		Kinds:       map[string]transform.KindRule{"text": {Element: "text"}},
		DefaultKind: "text",
	}
	if mod != nil {
		mod(&cfg)
	}
	return cfg
}

func newReplayTransformer(t *testing.T, cfg transform.Config) *transform.Transformer {
	t.Helper()
	tr, err := transform.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// replayDataset is testDataset with more streams: a second group whose messages
// interleave in time with the first's, members with unread counts, and several
// conversations.
func replayDataset() *memReader {
	r := testDataset()
	r.groups = append(r.groups, extract.Group{ID: "g4", OwnerID: "u4", Type: "public", Name: "Four", CreatedAt: at(-10), Origin: origin("groups.csv", 5)})
	r.members = append(r.members,
		extract.Member{GroupID: "g4", UserID: "u1", JoinedAt: at(1), Unread: 2, HasUnread: true, Origin: origin("members.csv", 7)},
		extract.Member{GroupID: "g4", UserID: "u5", JoinedAt: at(2), Unread: 0, HasUnread: true, Origin: origin("members.csv", 8)},
		extract.Member{GroupID: "g4", UserID: "ghost", JoinedAt: at(3), Origin: origin("members.csv", 9)},
	)
	for i := range 9 {
		r.gmsgs = append(r.gmsgs, text(fmt.Sprint(300+i), "g4", "u5", "", at(10+i), 40+i))
	}
	r.dmsgs = append(r.dmsgs,
		text("7", "", "u2", "u5", at(1), 8),
		text("8", "", "u5", "u2", at(1), 9),
		text("9", "", "ghost", "u2", at(2), 10),
	)
	return r
}

// TestReplayMatchesValidate: a run must send exactly what the validate pass
// accepted, in the same order, from a second read of the source (the replay holds
// no payloads), with the decisions that need the whole dataset — final groups,
// implied accounts — taken from the validate pass.
func TestReplayMatchesValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*transform.Config)
	}{
		{"defaults", nil},
		{"groups whose CreateTime cannot be clamped are refused with their records", func(c *transform.Config) {
			c.GroupCreateTime = transform.PolicyReject
		}},
		{"unknown users imported as bare accounts", func(c *transform.Config) {
			c.UnknownUsers = transform.PolicyImport
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := replayConfig(tt.mod)
			validated := newReplayTransformer(t, cfg)
			var log payloadLog
			if _, err := runValidate(t, replayDataset(), validated, ValidateOptions{Payloads: &log}); err != nil {
				t.Fatalf("validate: %v", err)
			}
			op := &opener{data: replayDataset}
			src := NewReplaySource(op.open, cfg, validated)
			got := replayAll(t, src)
			if err := src.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if o, c := op.opened.Load(), op.closed.Load(); o == 0 || o != c {
				t.Errorf("opened %d readers, closed %d", o, c)
			}

			groupOK := map[string]bool{}
			for _, g := range log.groups {
				groupOK[g.Req.GroupID] = true
			}
			want := replayed{accounts: log.users, groups: log.groups, direct: log.direct}
			for _, id := range validated.ImpliedAccounts() {
				want.accounts = append(want.accounts, Account{Item: Item{LegacyID: id}, Req: tencentim.AccountImportRequest{UserID: id}})
			}
			for _, m := range log.members {
				if !groupOK[m.GroupID] {
					continue
				}
				want.members = append(want.members, m)
				if m.M.UnreadMsgNum > 0 {
					want.unread = append(want.unread, Unread{Item: m.Item, Req: tencentim.SetUnreadMsgNumRequest{
						GroupID: m.GroupID, MemberAccount: m.M.MemberAccount, UnreadMsgNum: m.M.UnreadMsgNum}})
				}
			}
			for _, m := range log.gmsgs {
				if groupOK[m.GroupID] {
					want.gmsgs = append(want.gmsgs, m)
				}
			}

			check := func(name string, got, want any) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
				}
			}
			check("accounts", itemsByID(got.accounts, func(a *Account) *Item { return &a.Item }), want.accounts)
			check("groups", itemsByID(got.groups, func(g *Group) *Item { return &g.Item }), want.groups)
			check("members", itemsByID(got.members, func(m *Member) *Item { return &m.Item }), want.members)
			check("group messages", itemsByID(got.gmsgs, func(m *GroupMessage) *Item { return &m.Item }), want.gmsgs)
			check("unread", itemsByID(got.unread, func(u *Unread) *Item { return &u.Item }), want.unread)
			check("direct messages", itemsByID(got.direct, func(m *DirectMessage) *Item { return &m.Item }), want.direct)

			// Every record says where it came from, for rejects.
			for _, a := range got.accounts {
				if a.Origin == "" {
					t.Errorf("account %s has no origin", a.LegacyID)
				}
			}
			for _, m := range got.gmsgs {
				if !strings.HasPrefix(m.Origin, "group.csv:") {
					t.Errorf("group message %s has origin %q", m.LegacyID, m.Origin)
				}
			}
			if len(want.members) == 0 || len(want.gmsgs) == 0 || len(want.direct) == 0 || len(want.unread) == 0 {
				t.Fatalf("degenerate case: %d members, %d group messages, %d direct messages, %d unread",
					len(want.members), len(want.gmsgs), len(want.direct), len(want.unread))
			}
		})
	}
}

// TestReplayContract covers the Source contract's failure paths: errors from fn
// and from opening the source come back, cancellation stops a method, and the
// reader of every method is closed whatever happened.
func TestReplayContract(t *testing.T) {
	errStop := errors.New("stop")
	stop := func(any) error { return errStop }
	type method func(ctx context.Context, src *ReplaySource) error
	methods := map[string]method{
		"Accounts": func(ctx context.Context, s *ReplaySource) error {
			return s.Accounts(ctx, func(a Account) error { return stop(a) })
		},
		"Groups": func(ctx context.Context, s *ReplaySource) error {
			return s.Groups(ctx, func(g Group) error { return stop(g) })
		},
		"Members": func(ctx context.Context, s *ReplaySource) error {
			return s.Members(ctx, func(m Member) error { return stop(m) })
		},
		"GroupMessages": func(ctx context.Context, s *ReplaySource) error {
			if err := s.Members(ctx, func(Member) error { return nil }); err != nil {
				return fmt.Errorf("members: %w", err)
			}
			return s.GroupMessages(ctx, func(m GroupMessage) error { return stop(m) })
		},
		"Unread": func(ctx context.Context, s *ReplaySource) error {
			return s.Unread(ctx, func(u Unread) error { return stop(u) })
		},
		"DirectMessages": func(ctx context.Context, s *ReplaySource) error {
			return s.DirectMessages(ctx, func(m DirectMessage) error { return stop(m) })
		},
	}
	newSource := func(t *testing.T, op *opener) *ReplaySource {
		cfg := replayConfig(nil)
		validated := newReplayTransformer(t, cfg)
		if _, err := runValidate(t, replayDataset(), validated, ValidateOptions{}); err != nil {
			t.Fatal(err)
		}
		return NewReplaySource(op.open, cfg, validated)
	}
	for name, call := range methods {
		t.Run(name+" returns fn's error", func(t *testing.T) {
			op := &opener{data: replayDataset}
			src := newSource(t, op)
			if err := call(t.Context(), src); !errors.Is(err, errStop) {
				t.Fatalf("got %v, want fn's error", err)
			}
			if err := src.Close(); err != nil {
				t.Fatal(err)
			}
			if o, c := op.opened.Load(), op.closed.Load(); o != c {
				t.Errorf("opened %d readers, closed %d", o, c)
			}
		})
		t.Run(name+" stops when cancelled", func(t *testing.T) {
			op := &opener{data: replayDataset}
			src := newSource(t, op)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			err := call(ctx, src)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, want context.Canceled", err)
			}
			src.Close()
			if o, c := op.opened.Load(), op.closed.Load(); o != c {
				t.Errorf("opened %d readers, closed %d", o, c)
			}
		})
	}

	// A resumed run skips a members phase an earlier run finished: GroupMessages
	// then replays the members pass itself, and yields the same messages.
	t.Run("GroupMessages without Members", func(t *testing.T) {
		var want, got []GroupMessage
		full := newSource(t, &opener{data: replayDataset})
		if err := full.Members(t.Context(), func(Member) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if err := full.GroupMessages(t.Context(), collect(&want)); err != nil {
			t.Fatal(err)
		}
		op := &opener{data: replayDataset}
		src := newSource(t, op)
		if err := src.GroupMessages(t.Context(), collect(&got)); err != nil {
			t.Fatalf("GroupMessages alone: %v", err)
		}
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("GroupMessages alone yielded\n%+v\nwant\n%+v", got, want)
		}
		if o, c := op.opened.Load(), op.closed.Load(); o != c {
			t.Errorf("opened %d readers, closed %d", o, c)
		}
	})

	t.Run("open errors come back", func(t *testing.T) {
		errOpen := errors.New("database unreachable")
		src := newSource(t, &opener{data: replayDataset, err: errOpen})
		for name, call := range map[string]method{"Accounts": methods["Accounts"], "Members": methods["Members"],
			"Unread": methods["Unread"], "DirectMessages": methods["DirectMessages"]} {
			if err := call(t.Context(), src); !errors.Is(err, errOpen) {
				t.Errorf("%s: got %v, want the open error", name, err)
			}
		}
	})

	t.Run("Close twice", func(t *testing.T) {
		op := &opener{data: replayDataset}
		src := newSource(t, op)
		if err := src.Members(t.Context(), func(Member) error { return nil }); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := src.Close(); err != nil {
				t.Fatalf("Close %d: %v", i+1, err)
			}
		}
		if o, c := op.opened.Load(), op.closed.Load(); o != 1 || c != 1 {
			t.Errorf("opened %d readers, closed %d, want 1 and 1", o, c)
		}
	})
}

package extracttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
)

// Run runs the Reader contract suite. open must load ds into a fresh source (each
// table of ds.Tables, and nothing else) and return a Reader built with ds.Options; Run
// closes it. open is called more than once.
//
// The suite asserts every record of Legacy() and its order, the BadRows with their
// rules and origins, re-reading, concurrent reads, errors from fn, cancellation,
// reads after Close and absent entities. Origins are checked in the form of the implementation: file:line
// as WriteCSV lays the files out, or entity[key] as for PostgresEntities. It counts
// Options.OnRead: one call per method call that reads a configured entity, none
// otherwise. The Reader must also be an extract.Fingerprinter: the suite checks that
// Fingerprint gives one part per configured entity, in order, the same twice over an
// unchanged source, without reading it. Whether a change shows is source-specific
// and left to the implementation's own tests.
func Run(t *testing.T, open func(t *testing.T, ds Dataset) extract.Reader) {
	ds := Legacy()
	var (
		mu    sync.Mutex
		bad   []extract.BadRow
		reads = map[extract.Entity]int{}
	)
	ds.Options = extract.Options{
		OnBadRow: func(b extract.BadRow) {
			mu.Lock()
			bad = append(bad, b)
			mu.Unlock()
		},
		OnRead: func(e extract.Entity) {
			mu.Lock()
			reads[e]++
			mu.Unlock()
		},
	}
	takeBad := func() []extract.BadRow {
		mu.Lock()
		defer mu.Unlock()
		b := bad
		bad = nil
		return b
	}
	// takeReads returns the OnRead calls since the last call, as renderReads.
	takeReads := func() string {
		mu.Lock()
		defer mu.Unlock()
		s := renderReads(reads)
		clear(reads)
		return s
	}
	r := open(t, ds)
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	users := collect(t, r.Users)
	if len(users) == 0 {
		t.Fatal("Users returned no records")
	}
	takeBad()
	form := pgForm
	if users[0].Origin.Line > 0 {
		form = csvForm
	}
	exp := expectations(ds, form, false)

	for _, c := range exp {
		t.Run(string(c.entity), func(t *testing.T) {
			takeBad()
			got := mustRead(t, c, r)
			if !slices.Equal(got, c.records) {
				t.Errorf("records:\n%s", diff(got, c.records))
			}
			gotBad := renderBad(t, c.entity, takeBad())
			if !slices.Equal(gotBad, c.bad) {
				t.Errorf("bad rows:\n%s", diff(gotBad, c.bad))
			}
			// Each call re-reads from the start.
			if again := mustRead(t, c, r); !slices.Equal(again, got) {
				t.Errorf("second read differs:\n%s", diff(again, got))
			}
			takeBad()
		})
	}

	t.Run("RejectUnreadable skips records with an unreadable optional field", func(t *testing.T) {
		strict := ds
		strict.Options.RejectUnreadable = true
		r2 := open(t, strict)
		defer r2.Close()
		takeBad()
		for _, c := range expectations(ds, form, true) {
			got := mustRead(t, c, r2)
			if !slices.Equal(got, c.records) {
				t.Errorf("%s records:\n%s", c.entity, diff(got, c.records))
			}
			if gotBad := renderBad(t, c.entity, takeBad()); !slices.Equal(gotBad, c.bad) {
				t.Errorf("%s bad rows:\n%s", c.entity, diff(gotBad, c.bad))
			}
		}
		takeReads()
	})

	t.Run("OnRead counts reads of the source", func(t *testing.T) {
		takeReads()
		for range 2 {
			if _, err := collectErr(r.Users); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := takeReads(), renderReads(map[extract.Entity]int{extract.Users: 2}); got != want {
			t.Errorf("Users read twice: OnRead calls %s, want %s", got, want)
		}
		// Every method once: the sort of an unsorted file, its spill files and the
		// pages of a query are all one read.
		all := map[extract.Entity]int{}
		for _, m := range methods(r) {
			if err := m.read(context.Background(), func() error { return nil }); err != nil {
				t.Fatalf("%s: %v", m.entity, err)
			}
			all[m.entity] = 1
		}
		if got, want := takeReads(), renderReads(all); got != want {
			t.Errorf("every method once: OnRead calls %s, want %s", got, want)
		}
		// A read stopped by fn is still one read.
		stop := errors.New("stop")
		if err := r.GroupMessages(context.Background(), func(extract.Message) error { return stop }); !errors.Is(err, stop) {
			t.Fatalf("GroupMessages: err = %v, want %v", err, stop)
		}
		if got, want := takeReads(), renderReads(map[extract.Entity]int{extract.GroupMessages: 1}); got != want {
			t.Errorf("GroupMessages stopped by fn: OnRead calls %s, want %s", got, want)
		}
		takeBad()
	})

	t.Run("fingerprint", func(t *testing.T) {
		fr, ok := r.(extract.Fingerprinter)
		if !ok {
			t.Fatalf("%T is not an extract.Fingerprinter", r)
		}
		takeReads()
		first, err := fr.Fingerprint(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(first) != len(extract.Entities()) {
			t.Fatalf("Fingerprint = %v: %d parts, want one per entity (%d)", first, len(first), len(extract.Entities()))
		}
		for i, p := range first {
			if p.Name == "" || p.State == "" {
				t.Errorf("part %d = %+v: empty name or state", i, p)
			}
			if i > 0 && p.Name == first[i-1].Name {
				t.Errorf("parts %d and %d share the name %q", i-1, i, p.Name)
			}
			if e := extract.Entities()[i]; !strings.Contains(p.Name, string(e)) {
				t.Errorf("part %d = %+v does not name entity %s: parts must follow extract.Entities()", i, p, e)
			}
		}
		second, err := fr.Fingerprint(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(first, second) {
			t.Errorf("unchanged source: Fingerprint = %v, then %v", first, second)
		}
		if c := extract.Changed(first, second); c != nil {
			t.Errorf("Changed(unchanged) = %q, want nil", c)
		}
		if got, want := takeReads(), renderReads(nil); got != want {
			t.Errorf("Fingerprint called OnRead: %s", got)
		}
		if bad := takeBad(); len(bad) > 0 {
			t.Errorf("Fingerprint reported bad rows: %v", bad)
		}
	})

	t.Run("concurrent reads", func(t *testing.T) {
		got := make([][]string, len(exp))
		errs := make([]error, len(exp))
		var wg sync.WaitGroup
		for i, c := range exp {
			wg.Go(func() { got[i], errs[i] = c.read(r) })
		}
		wg.Wait()
		for i, c := range exp {
			if errs[i] != nil {
				t.Errorf("%s read concurrently: %v", c.entity, errs[i])
			} else if !slices.Equal(got[i], c.records) {
				t.Errorf("%s read concurrently:\n%s", c.entity, diff(got[i], c.records))
			}
		}
		takeBad()
	})

	t.Run("error from fn stops the read", func(t *testing.T) {
		stop := errors.New("stop here")
		for _, m := range methods(r) {
			calls := 0
			err := m.read(context.Background(), func() error {
				calls++
				return fmt.Errorf("caller: %w", stop)
			})
			if !errors.Is(err, stop) {
				t.Errorf("%s: err = %v, want one wrapping %v", m.entity, err, stop)
			}
			if calls != 1 {
				t.Errorf("%s: fn called %d times after returning an error, want 1", m.entity, calls)
			}
		}
		takeBad()
	})

	t.Run("cancellation stops the read", func(t *testing.T) {
		for _, m := range methods(r) {
			ctx, cancel := context.WithCancel(context.Background())
			calls := 0
			err := m.read(ctx, func() error {
				calls++
				cancel()
				return nil
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s: cancelled in fn: err = %v, want context.Canceled", m.entity, err)
			}
			if calls != 1 {
				t.Errorf("%s: fn called %d times after cancellation, want 1", m.entity, calls)
			}
			calls = 0
			err = m.read(ctx, func() error { calls++; return nil })
			if !errors.Is(err, context.Canceled) || calls != 0 {
				t.Errorf("%s: cancelled before: err = %v after %d records, want context.Canceled after 0", m.entity, err, calls)
			}
		}
		takeBad()
	})

	t.Run("reads after Close fail", func(t *testing.T) {
		r2 := open(t, ds)
		if err := r2.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		takeReads()
		for _, m := range methods(r2) {
			calls := 0
			if err := m.read(context.Background(), func() error { calls++; return nil }); !errors.Is(err, extract.ErrClosed) || calls != 0 {
				t.Errorf("%s: err = %v after %d records, want ErrClosed after 0", m.entity, err, calls)
			}
		}
		if got, want := takeReads(), renderReads(nil); got != want {
			t.Errorf("reads after Close: OnRead calls %s, want none", got)
		}
		if fr, ok := r2.(extract.Fingerprinter); ok {
			if fp, err := fr.Fingerprint(context.Background()); !errors.Is(err, extract.ErrClosed) {
				t.Errorf("Fingerprint after Close = %v, %v; want ErrClosed", fp, err)
			}
		}
		takeBad()
	})

	t.Run("absent entities are empty", func(t *testing.T) {
		only := Dataset{Time: ds.Time, Options: ds.Options, Tables: map[extract.Entity]Table{extract.Users: ds.Tables[extract.Users]}}
		r2 := open(t, only)
		defer r2.Close()
		takeReads()
		for _, m := range methods(r2) {
			if m.entity == extract.Users {
				continue
			}
			calls := 0
			if err := m.read(context.Background(), func() error { calls++; return nil }); err != nil || calls != 0 {
				t.Errorf("%s: err = %v after %d records, want nil after 0", m.entity, err, calls)
			}
		}
		if got, want := takeReads(), renderReads(nil); got != want {
			t.Errorf("absent entities: OnRead calls %s, want none", got)
		}
		if fr, ok := r2.(extract.Fingerprinter); ok {
			fp, err := fr.Fingerprint(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(fp) != 1 || !strings.Contains(fp[0].Name, string(extract.Users)) {
				t.Errorf("Fingerprint = %v, want the one part of users", fp)
			}
		}
		takeBad()
	})
}

// renderReads renders counts of reads per entity in entity order ("users=2
// groups=0 ..."), so that a mismatch reads at a glance.
func renderReads(n map[extract.Entity]int) string {
	var b strings.Builder
	for _, e := range extract.Entities() {
		fmt.Fprintf(&b, "%s=%d ", e, n[e])
	}
	return strings.TrimSpace(b.String())
}

type originForm int

const (
	csvForm originForm = iota
	pgForm
)

// entityCase is what one entity must read as, rendered to strings for comparison.
type entityCase struct {
	entity  extract.Entity
	read    func(r extract.Reader) ([]string, error)
	records []string
	bad     []string
}

func mustRead(t *testing.T, c entityCase, r extract.Reader) []string {
	t.Helper()
	got, err := c.read(r)
	if err != nil {
		t.Fatalf("%s: %v", c.entity, err)
	}
	return got
}

func collect[T any](t *testing.T, read func(context.Context, func(T) error) error) []T {
	t.Helper()
	out, err := collectErr(read)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return out
}

func collectErr[T any](read func(context.Context, func(T) error) error) ([]T, error) {
	var out []T
	err := read(context.Background(), func(rec T) error {
		out = append(out, rec)
		return nil
	})
	return out, err
}

func render[T any](recs []T) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = fmt.Sprintf("%+v", r)
	}
	return out
}

func reader[T any](method func(extract.Reader) func(context.Context, func(T) error) error) func(extract.Reader) ([]string, error) {
	return func(r extract.Reader) ([]string, error) {
		recs, err := collectErr(method(r))
		for i := range recs {
			if err := blankDropped(&recs[i]); err != nil {
				return nil, err
			}
		}
		return render(recs), err
	}
}

// blankDropped checks that every dropped field of a record has a message and
// blanks it, so that expectations name only the field and the rule.
func blankDropped(rec any) error {
	var dropped []extract.DroppedField
	switch r := rec.(type) {
	case *extract.User:
		dropped = r.Dropped
	case *extract.Group:
		dropped = r.Dropped
	case *extract.Member:
		dropped = r.Dropped
	case *extract.Friend:
		dropped = r.Dropped
	}
	for i := range dropped {
		if dropped[i].Message == "" {
			return fmt.Errorf("%+v: dropped field %s has no message", rec, dropped[i].Field)
		}
		dropped[i].Message = ""
	}
	return nil
}

func renderBad(t *testing.T, e extract.Entity, bad []extract.BadRow) []string {
	t.Helper()
	out := make([]string, len(bad))
	for i, b := range bad {
		if b.Entity != e {
			t.Errorf("bad row %v reported for entity %q, want %q", b, b.Entity, e)
		}
		if b.Message == "" {
			t.Errorf("bad row %v has no message", b)
		}
		out[i] = b.Origin.String() + " " + b.Rule + " id=" + b.LegacyID
	}
	slices.Sort(out)
	return out
}

func diff(got, want []string) string {
	var b strings.Builder
	for i := 0; i < max(len(got), len(want)); i++ {
		g, w := "<none>", "<none>"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		mark := "  "
		if g != w {
			mark = "! "
		}
		fmt.Fprintf(&b, "%s%d got  %s\n%s%d want %s\n", mark, i, g, mark, i, w)
	}
	return b.String()
}

// method is one Reader method with the record type erased.
type method struct {
	entity extract.Entity
	read   func(ctx context.Context, fn func() error) error
}

func methods(r extract.Reader) []method {
	return []method{
		{extract.Users, func(ctx context.Context, fn func() error) error {
			return r.Users(ctx, func(extract.User) error { return fn() })
		}},
		{extract.Groups, func(ctx context.Context, fn func() error) error {
			return r.Groups(ctx, func(extract.Group) error { return fn() })
		}},
		{extract.Members, func(ctx context.Context, fn func() error) error {
			return r.Members(ctx, func(extract.Member) error { return fn() })
		}},
		{extract.GroupMessages, func(ctx context.Context, fn func() error) error {
			return r.GroupMessages(ctx, func(extract.Message) error { return fn() })
		}},
		{extract.DirectMessages, func(ctx context.Context, fn func() error) error {
			return r.DirectMessages(ctx, func(extract.Message) error { return fn() })
		}},
		{extract.Friends, func(ctx context.Context, fn func() error) error {
			return r.Friends(ctx, func(extract.Friend) error { return fn() })
		}},
		{extract.Topics, func(ctx context.Context, fn func() error) error {
			return r.Topics(ctx, func(extract.Topic) error { return fn() })
		}},
		{extract.GroupDMs, func(ctx context.Context, fn func() error) error {
			return r.GroupDMs(ctx, func(extract.GroupDM) error { return fn() })
		}},
	}
}

// ts parses an RFC 3339 time of the expectations.
func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// origins computes where each row of each table comes from, in the given form.
type origins struct {
	ds   Dataset
	form originForm
}

func (o origins) of(e extract.Entity, row int) extract.Origin {
	tab := o.ds.Tables[e]
	if o.form == csvForm {
		_, lines := encodeCSV(tab, ',')
		return extract.Origin{Source: CSVName(e), Line: lines[row]}
	}
	cell := func(col string) string {
		return tab.Rows[row][slices.Index(tab.Columns, col)]
	}
	var key string
	switch e {
	case extract.Members:
		key = "group_id=" + cell("group_id") + ",user_id=" + cell("user_id")
	case extract.Friends:
		key = "user_id=" + cell("user_id") + ",friend_id=" + cell("friend_id")
	default:
		key = "id=" + cell("id")
	}
	return extract.Origin{Source: string(e), Key: key}
}

func (o origins) bad(e extract.Entity, rows map[int]string) []string {
	tab := o.ds.Tables[e]
	cell := func(row int, col string) string { return tab.Rows[row][slices.Index(tab.Columns, col)] }
	var out []string
	for row, rule := range rows {
		// The legacy id, when every part of it is there.
		var id string
		switch e {
		case extract.Members:
			if g, u := cell(row, "group_id"), cell(row, "user_id"); g != "" && u != "" {
				id = g + "/" + u
			}
		case extract.Friends:
			if u, f := cell(row, "user_id"), cell(row, "friend_id"); u != "" && f != "" {
				id = u + "/" + f
			}
		default:
			id = cell(row, "id")
		}
		out = append(out, o.of(e, row).String()+" "+rule+" id="+id)
	}
	slices.Sort(out)
	return out
}

// expectations lists, per entity, the exact records of Legacy() in Reader order,
// read with Options.RejectUnreadable set to strict.
func expectations(ds Dataset, form originForm, strict bool) []entityCase {
	o := origins{ds, form}
	// Under strict, a record with an unreadable optional field is a BadRow of the
	// field's rule; otherwise it is read without the field, which its Dropped
	// names.
	dropped := func(field, rule string) []extract.DroppedField {
		return []extract.DroppedField{{Field: field, Rule: rule}}
	}
	readable := func(recs []string, at int, rec string) []string {
		if strict {
			return recs
		}
		return slices.Insert(recs, at, rec)
	}
	badIfStrict := func(m map[int]string, row int, rule string) map[int]string {
		if strict {
			m[row] = rule
		}
		return m
	}
	u := func(row int, rec extract.User) extract.User { rec.Origin = o.of(extract.Users, row); return rec }
	g := func(row int, rec extract.Group) extract.Group { rec.Origin = o.of(extract.Groups, row); return rec }
	mb := func(row int, rec extract.Member) extract.Member { rec.Origin = o.of(extract.Members, row); return rec }
	gm := func(row int, rec extract.Message) extract.Message {
		rec.Origin = o.of(extract.GroupMessages, row)
		return rec
	}
	dm := func(row int, rec extract.Message) extract.Message {
		rec.Origin = o.of(extract.DirectMessages, row)
		return rec
	}
	f := func(row int, rec extract.Friend) extract.Friend { rec.Origin = o.of(extract.Friends, row); return rec }
	tp := func(row int, rec extract.Topic) extract.Topic { rec.Origin = o.of(extract.Topics, row); return rec }
	gdm := func(row int, rec extract.GroupDM) extract.GroupDM {
		rec.Origin = o.of(extract.GroupDMs, row)
		return rec
	}
	var zero time.Time
	return []entityCase{
		{
			entity: extract.Users,
			read:   reader(func(r extract.Reader) func(context.Context, func(extract.User) error) error { return r.Users }),
			records: readable(render([]extract.User{
				u(1, extract.User{ID: "10", Nick: "Ten", CreatedAt: ts("2023-01-01T00:00:10Z")}),
				u(2, extract.User{ID: "9", Nick: "Nine", FaceURL: "https://cdn.example/9.png", CreatedAt: ts("2023-01-01T00:00:09Z")}),
				u(3, extract.User{ID: "u1", Nick: `Alice "Al", Jr.`, CreatedAt: ts("2023-01-02T03:04:05.123456Z")}),
				u(4, extract.User{ID: "u2", Nick: "Zoë 李雷\nsecond line", CreatedAt: zero}),
				u(6, extract.User{ID: "u4", Nick: "😀 emoji; semicolon", CreatedAt: ts("2023-01-02T05:34:05.5Z")}),
			}), 4, render([]extract.User{
				u(5, extract.User{ID: "u3", Nick: "Bad Time", Dropped: dropped("created_at", extract.RuleTimestamp)}),
			})[0]),
			bad: o.bad(extract.Users, badIfStrict(map[int]string{0: extract.RuleMissing}, 5, extract.RuleTimestamp)),
		},
		{
			entity: extract.Groups,
			read:   reader(func(r extract.Reader) func(context.Context, func(extract.Group) error) error { return r.Groups }),
			records: readable(render([]extract.Group{
				g(0, extract.Group{ID: "g1", OwnerID: "u1", Type: "Public", Name: `Group, "one"`,
					Introduction: "intro\nwith newline", MaxMembers: 200, CreatedAt: ts("2023-01-01T00:00:00Z")}),
				g(1, extract.Group{ID: "g10", OwnerID: "u2", Type: "Private", Name: "十", Notification: "notice",
					FaceURL: "https://cdn.example/g10.png", CreatedAt: ts("2022-12-31T15:00:00Z")}),
				g(3, extract.Group{ID: "g9", Type: "ChatRoom"}),
			}), 2, render([]extract.Group{
				g(2, extract.Group{ID: "g2", OwnerID: "u1", Type: "Public", Name: "bad max", CreatedAt: ts("2023-01-01T00:00:00Z"),
					Dropped: dropped("max_members", extract.RuleNumber)}),
			})[0]),
			bad: o.bad(extract.Groups, badIfStrict(map[int]string{}, 2, extract.RuleNumber)),
		},
		{
			entity: extract.Members,
			read:   reader(func(r extract.Reader) func(context.Context, func(extract.Member) error) error { return r.Members }),
			records: readable(render([]extract.Member{
				mb(5, extract.Member{GroupID: "g1", UserID: "u4"}),
				mb(2, extract.Member{GroupID: "g1", UserID: "u1", Role: "Owner", JoinedAt: ts("2023-01-01T00:00:00Z"), HasUnread: true}),
				mb(10, extract.Member{GroupID: "g1", UserID: "10", Role: "Member", JoinedAt: ts("2023-01-02T00:00:00Z")}),
				mb(1, extract.Member{GroupID: "g1", UserID: "u2", Role: "Admin", JoinedAt: ts("2023-01-02T00:00:00Z"), Unread: 5, HasUnread: true}),
				mb(3, extract.Member{GroupID: "g1", UserID: "u3", Role: "Member", JoinedAt: ts("2023-01-02T00:00:00Z")}),
				mb(8, extract.Member{GroupID: "g1", UserID: "u9", JoinedAt: ts("2023-01-02T00:00:00Z")}),
				mb(9, extract.Member{GroupID: "g10", UserID: "u3", Role: "Member", JoinedAt: ts("2022-12-31T16:59:59.999999Z")}),
				mb(7, extract.Member{GroupID: "g10", UserID: "u2", Role: "Member", JoinedAt: ts("2022-12-31T17:00:00Z"), Unread: 1, HasUnread: true}),
				mb(0, extract.Member{GroupID: "g2", UserID: "u1", Role: "Member", JoinedAt: ts("2023-01-03T00:00:00Z")}),
			}), 6, render([]extract.Member{
				mb(6, extract.Member{GroupID: "g10", UserID: "u1", Role: "Member", JoinedAt: ts("2022-12-31T16:00:00Z"),
					Dropped: dropped("unread", extract.RuleNumber)}),
			})[0]),
			bad: o.bad(extract.Members, badIfStrict(map[int]string{4: extract.RuleMissing}, 6, extract.RuleNumber)),
		},
		{
			entity: extract.GroupMessages,
			read: reader(func(r extract.Reader) func(context.Context, func(extract.Message) error) error {
				return r.GroupMessages
			}),
			records: render([]extract.Message{
				gm(11, extract.Message{ID: "16", GroupID: "g1", SenderID: "u2", SentAt: ts("2023-02-01T09:00:00Z"), Kind: "text", Text: "zone"}),
				gm(2, extract.Message{ID: "11", GroupID: "g1", SenderID: "u1", SentAt: ts("2023-02-01T09:59:59.999Z"), Kind: "text", Text: "earlier"}),
				gm(1, extract.Message{ID: "9", GroupID: "g1", SenderID: "u2", SentAt: ts("2023-02-01T10:00:00Z"), Kind: "text", Text: "nine"}),
				gm(0, extract.Message{ID: "10", GroupID: "g1", SenderID: "u1", SentAt: ts("2023-02-01T10:00:00Z"), Kind: "text", Text: "ten"}),
				gm(10, extract.Message{ID: "100", GroupID: "g1", SenderID: "u1", SentAt: ts("2023-02-01T10:00:00Z"), Kind: "text", Text: "hundred"}),
				gm(3, extract.Message{ID: "12", GroupID: "g1", SenderID: "u1", SentAt: ts("2023-02-01T10:00:00.5Z"), Kind: "text",
					Text: "comma, \"quote\" and\nnewline"}),
				gm(9, extract.Message{ID: "1", GroupID: "g10", SenderID: "u2", SentAt: ts("2023-02-01T00:00:00Z"), Kind: "custom",
					Payload: `{"k":"v, w"}`}),
				gm(4, extract.Message{ID: "3", GroupID: "g10", SenderID: "u1", SentAt: ts("2023-02-01T00:00:00Z"), Kind: "image",
					URL: "https://cdn.example/a.png", FileName: "a.png", Size: 1024, Width: 640, Height: 480,
					Attachments: `[{"kind":"file","url":"https://cdn.example/b.pdf","file_name":"b, \"final\".pdf","size":9}]`,
					ReplyTo:     "1", ThreadID: "1", EditedAt: ts("2023-02-02T00:00:00Z"), Reactions: `{"+1":["u2"]}`}),
				gm(8, extract.Message{ID: "2", GroupID: "g2", SenderID: "u2", SentAt: ts("2023-01-31T23:59:59Z"), Kind: "text", Text: "émoji 😀"}),
			}),
			bad: o.bad(extract.GroupMessages, map[int]string{
				5: extract.RuleMissing, 6: extract.RuleTimestamp, 7: extract.RuleNumber, 12: extract.RuleMissing,
			}),
		},
		{
			entity: extract.DirectMessages,
			read: reader(func(r extract.Reader) func(context.Context, func(extract.Message) error) error {
				return r.DirectMessages
			}),
			records: render([]extract.Message{
				dm(11, extract.Message{ID: "12", SenderID: "u1", RecipientID: "u1", SentAt: ts("2023-01-01T00:00:00Z"), Kind: "text",
					Text: "note to self\twith a tab"}),
				dm(1, extract.Message{ID: "4", SenderID: "u1", RecipientID: "u2", SentAt: ts("2023-03-01T00:00:00Z"), Kind: "text", Text: "four",
					ReplyTo: "5", EditedAt: ts("2023-03-01T01:00:00Z")}),
				dm(0, extract.Message{ID: "5", SenderID: "u2", RecipientID: "u1", SentAt: ts("2023-03-01T00:00:00Z"), Kind: "text", Text: "five"}),
				dm(9, extract.Message{ID: "10", SenderID: "u1", RecipientID: "u2", SentAt: ts("2023-03-01T00:00:00Z"), Kind: "text",
					Text: "ten, same instant"}),
				dm(4, extract.Message{ID: "1", SenderID: "u1", RecipientID: "u2", SentAt: ts("2023-03-01T00:00:00.000001Z"), Kind: "text", Text: "one"}),
				dm(3, extract.Message{ID: "20", SenderID: "u3", RecipientID: "u1", SentAt: ts("2023-02-27T00:00:00Z"), Kind: "text", Text: "twenty"}),
				dm(2, extract.Message{ID: "3", SenderID: "u1", RecipientID: "u3", SentAt: ts("2023-02-28T00:00:00Z"), Kind: "text", Text: "three"}),
				dm(10, extract.Message{ID: "11", SenderID: "u9", RecipientID: "u10", SentAt: ts("2022-12-31T23:59:59Z"), Kind: "video",
					URL: "https://cdn.example/v.mp4", FileName: "v.mp4", Size: 4096, Width: 1920, Height: 1080, Duration: 60}),
				dm(5, extract.Message{ID: "6", SenderID: "u10", RecipientID: "u9", SentAt: ts("2023-01-01T00:00:00Z"), Kind: "sound",
					URL: "https://cdn.example/s.mp3", Size: 2048, Duration: 7}),
			}),
			bad: o.bad(extract.DirectMessages, map[int]string{
				6: extract.RuleMissing, 7: extract.RuleMissing, 8: extract.RuleNumber, 12: extract.RuleTimestamp,
			}),
		},
		{
			entity: extract.Friends,
			read:   reader(func(r extract.Reader) func(context.Context, func(extract.Friend) error) error { return r.Friends }),
			records: readable(render([]extract.Friend{
				f(0, extract.Friend{UserID: "u1", FriendID: "u2", Remark: "best friend", AddedAt: ts("2023-01-01T00:00:00Z")}),
				f(1, extract.Friend{UserID: "u1", FriendID: "u3"}),
				f(3, extract.Friend{UserID: "u2", FriendID: "u1", Remark: "remark, with comma", AddedAt: ts("2023-01-01T00:00:00Z")}),
			}), 3, render([]extract.Friend{
				f(4, extract.Friend{UserID: "u3", FriendID: "u1", Dropped: dropped("added_at", extract.RuleTimestamp)}),
			})[0]),
			bad: o.bad(extract.Friends, badIfStrict(map[int]string{2: extract.RuleMissing}, 4, extract.RuleTimestamp)),
		},
		{
			entity: extract.Topics,
			read:   reader(func(r extract.Reader) func(context.Context, func(extract.Topic) error) error { return r.Topics }),
			records: render([]extract.Topic{
				tp(0, extract.Topic{ID: "t1", GroupID: "g1", Name: "General, first", CreatorID: "u1", CreatedAt: ts("2023-01-01T00:00:00Z")}),
				tp(2, extract.Topic{ID: "t3", GroupID: "g1", Name: "话题 three", Introduction: "intro\nline"}),
			}),
			bad: o.bad(extract.Topics, map[int]string{1: extract.RuleMissing}),
		},
		{
			// members in both documented forms: a JSON array (strings or
			// integers) and a PostgreSQL array literal (quotes and escapes).
			entity: extract.GroupDMs,
			read:   reader(func(r extract.Reader) func(context.Context, func(extract.GroupDM) error) error { return r.GroupDMs }),
			records: render([]extract.GroupDM{
				gdm(0, extract.GroupDM{ID: "dm1", Members: []string{"u1", "u2", "u3"}, CreatedAt: ts("2023-01-01T00:00:00Z"), CreatorID: "u1"}),
				gdm(1, extract.GroupDM{ID: "dm2", Members: []string{"u2", "u3", "u 4", `a\"b`}, Name: `Ops, "team"`}),
				gdm(4, extract.GroupDM{ID: "dm5", Members: []string{"1", "2", "30"}}),
			}),
			bad: o.bad(extract.GroupDMs, map[int]string{2: extract.RuleMissing, 3: extract.RuleList, 5: extract.RuleList}),
		},
	}
}

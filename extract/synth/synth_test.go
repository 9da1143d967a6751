package synth

import (
	"bytes"
	"cmp"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/mappings"
	"github.com/immigrate/immigrate/transform"
)

// small is a dataset with every kind planted at least once.
var small = Config{Seed: 7, Users: 60, Groups: 8, MembersMin: 2, MembersMax: 12, GroupMessages: 3000,
	DirectMessages: 3000, Friends: 40, GroupDMs: 12, BadShare: 0.001}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr string
	}{
		{"ok", func(*Config) {}, ""},
		{"one user", func(c *Config) { c.Users = 1 }, "at least 2"},
		{"members range", func(c *Config) { c.MembersMin, c.MembersMax = 5, 3 }, "min ≤ max"},
		{"messages without groups", func(c *Config) { c.Groups = 0 }, "at least one group"},
		{"too many conversations", func(c *Config) { c.Conversations = 5000 }, "too many"},
		{"bad share", func(c *Config) { c.BadShare = 0.9 }, "bad share"},
		{"unknown kind", func(c *Config) { c.KindShare = map[string]float64{"nope": 0.1} }, `unknown bad-record kind "nope"`},
		{"range", func(c *Config) { c.Start, c.End = DefaultStart, DefaultStart }, "end must be"},
		{"negative", func(c *Config) { c.Friends = -1 }, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := small
			tt.mod(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestKindRules checks that every kind's rule is one the pipeline can emit, with the
// severity the catalog gives it.
func TestKindRules(t *testing.T) {
	catalog := map[string]string{}
	for _, r := range transform.Rules() {
		catalog[r.Code] = r.Severity.String()
	}
	for _, r := range []string{extract.RuleRaggedRow, extract.RuleInvalidUTF8, extract.RuleParse,
		extract.RuleMissing, extract.RuleTimestamp, extract.RuleNumber} {
		catalog[r] = SeverityReject
	}
	for _, k := range Kinds() {
		t.Run(k.Name, func(t *testing.T) {
			sev, ok := catalog[k.Rule]
			if !ok {
				t.Fatalf("rule %q is in neither the transform nor the extract catalog", k.Rule)
			}
			if sev != k.Severity {
				t.Errorf("severity %s, catalog says %s", k.Severity, sev)
			}
			if !k.Entity.Valid() {
				t.Errorf("entity %q", k.Entity)
			}
		})
	}
}

func TestWriteCSVDeterministic(t *testing.T) {
	ctx := context.Background()
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	if _, err := WriteCSV(ctx, small, a); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteCSV(ctx, small, b); err != nil {
		t.Fatal(err)
	}
	other := small
	other.Seed++
	if _, err := WriteCSV(ctx, other, c); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(a, "*"))
	if len(names) < 10 {
		t.Fatalf("wrote %d files: %v", len(names), names)
	}
	for _, name := range names {
		base := filepath.Base(name)
		t.Run(base, func(t *testing.T) {
			da, _ := os.ReadFile(name)
			db, _ := os.ReadFile(filepath.Join(b, base))
			if !bytes.Equal(da, db) {
				t.Errorf("%s differs between two runs with the same seed", base)
			}
			dc, _ := os.ReadFile(filepath.Join(c, base))
			if strings.HasSuffix(base, ".csv") && bytes.Equal(da, dc) {
				t.Errorf("%s is the same with another seed", base)
			}
		})
	}
}

// TestWriteCSVReadBack reads a generated dataset through its own mapping file and
// the CSV reader: files declared sorted are in stream order (the reader checks),
// the only bad rows are the planted ones, and every kind is planted as often as
// the share says.
func TestWriteCSVReadBack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sum, err := WriteCSV(ctx, small, dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := mappings.Load(filepath.Join(dir, "csv.yaml"))
	if err != nil {
		t.Fatalf("generated csv.yaml: %v", err)
	}
	cfg, ok := f.CSVConfig()
	if !ok {
		t.Fatal("csv.yaml has no CSV source")
	}
	var bad []extract.BadRow
	r, err := extract.NewCSVReader(cfg, extract.Options{OnBadRow: func(b extract.BadRow) { bad = append(bad, b) }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	planted := readPlanted(t, dir)
	if len(planted) != sum.Planted {
		t.Fatalf("planted.jsonl has %d lines, summary says %d", len(planted), sum.Planted)
	}
	perKind := map[string]int{}
	for _, p := range planted {
		perKind[p.Kind]++
	}
	members := 0
	g, _ := newGenerator(small)
	for _, gp := range g.groups {
		members += int(gp.members)
	}
	bases := map[extract.Entity]int{extract.Users: small.Users, extract.Groups: small.Groups, extract.Members: members,
		extract.GroupMessages: small.GroupMessages, extract.DirectMessages: small.DirectMessages, extract.GroupDMs: small.GroupDMs}
	for _, k := range Kinds() {
		if got, want := perKind[k.Name], small.count(k, bases[k.Entity]); got != want {
			t.Errorf("kind %s planted %d times, want %d", k.Name, got, want)
		}
	}

	read := map[extract.Entity]int{}
	var prevUser, prevGroup string
	var prevMember extract.Member
	var prevGM, prevDM extract.Message
	check := func(e extract.Entity, ok bool, what string) {
		if !ok {
			t.Errorf("%s out of order: %s", e, what)
		}
	}
	err = r.Users(ctx, func(u extract.User) error {
		read[extract.Users]++
		check(extract.Users, prevUser <= u.ID, prevUser+" then "+u.ID)
		prevUser = u.ID
		return nil
	})
	if err == nil {
		err = r.Groups(ctx, func(gr extract.Group) error {
			read[extract.Groups]++
			check(extract.Groups, prevGroup <= gr.ID, prevGroup+" then "+gr.ID)
			prevGroup = gr.ID
			return nil
		})
	}
	if err == nil {
		err = r.Members(ctx, func(m extract.Member) error {
			read[extract.Members]++
			check(extract.Members, cmp.Or(strings.Compare(prevMember.GroupID, m.GroupID), prevMember.JoinedAt.Compare(m.JoinedAt),
				strings.Compare(prevMember.UserID, m.UserID)) <= 0, m.Origin.String())
			prevMember = m
			return nil
		})
	}
	if err == nil {
		err = r.GroupMessages(ctx, func(m extract.Message) error {
			read[extract.GroupMessages]++
			check(extract.GroupMessages, cmp.Or(strings.Compare(prevGM.GroupID, m.GroupID), prevGM.SentAt.Compare(m.SentAt),
				shortlex(prevGM.ID, m.ID)) <= 0, m.Origin.String())
			prevGM = m
			return nil
		})
	}
	if err == nil {
		err = r.DirectMessages(ctx, func(m extract.Message) error {
			read[extract.DirectMessages]++
			plo, phi := extract.ConversationKey(prevDM.SenderID, prevDM.RecipientID)
			lo, hi := extract.ConversationKey(m.SenderID, m.RecipientID)
			check(extract.DirectMessages, cmp.Or(strings.Compare(plo, lo), strings.Compare(phi, hi), prevDM.SentAt.Compare(m.SentAt),
				shortlex(prevDM.ID, m.ID)) <= 0, m.Origin.String())
			prevDM = m
			return nil
		})
	}
	if err == nil {
		err = r.Friends(ctx, func(extract.Friend) error { read[extract.Friends]++; return nil })
	}
	if err == nil {
		err = r.GroupDMs(ctx, func(extract.GroupDM) error { read[extract.GroupDMs]++; return nil })
	}
	if err != nil {
		t.Fatalf("read back: %v", err)
	}

	// Every bad row is a planted one, at the planted origin, with the planted rule.
	var wantBad []string
	for _, p := range planted {
		if strings.HasPrefix(p.Rule, "csv.") || strings.HasPrefix(p.Rule, "field.") {
			wantBad = append(wantBad, p.Origin+" "+p.Rule)
		}
	}
	var gotBad []string
	for _, b := range bad {
		gotBad = append(gotBad, b.Origin.String()+" "+b.Rule)
	}
	slices.Sort(wantBad)
	slices.Sort(gotBad)
	if !slices.Equal(gotBad, wantBad) {
		t.Errorf("bad rows:\n got %q\nwant %q", gotBad, wantBad)
	}
	for e, n := range sum.Rows {
		if got := read[e] + countBad(bad, e); got != n {
			t.Errorf("%s: read %d records + bad rows = %d, wrote %d rows", e, read[e], got, n)
		}
	}
}

func countBad(bad []extract.BadRow, e extract.Entity) int {
	n := 0
	for _, b := range bad {
		if b.Entity == e {
			n++
		}
	}
	return n
}

func shortlex(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b)) }

func readPlanted(t *testing.T, dir string) []Planted {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, plantedFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := ReadPlanted(f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPlantedOrigins checks each planted origin against the file: the line it
// names starts a record holding the planted legacy id.
func TestPlantedOrigins(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteCSV(context.Background(), small, dir); err != nil {
		t.Fatal(err)
	}
	files := map[string][]string{}
	for _, p := range readPlanted(t, dir) {
		file, lineStr, ok := strings.Cut(p.Origin, ":")
		if !ok {
			t.Fatalf("origin %q", p.Origin)
		}
		if files[file] == nil {
			data, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			files[file] = strings.Split(string(data), "\n")
		}
		var line int
		for _, c := range lineStr {
			line = line*10 + int(c-'0')
		}
		text := files[file][line-1]
		id := p.LegacyID
		if p.Entity == extract.Members {
			g, u, _ := strings.Cut(id, "/")
			id = g + "," + u
		}
		if text != id && !strings.HasPrefix(text, id+",") && !strings.HasPrefix(text, `"`+id) {
			t.Errorf("%s: line %q does not start with %q", p, text, id)
		}
	}
}

func TestSkewed(t *testing.T) {
	tests := []struct{ n, k int }{{0, 3}, {10, 1}, {7, 10}, {100000, 37}}
	for _, tt := range tests {
		t.Run("", func(t *testing.T) {
			out := skewed(g0().rng(tagPlan, 0), tt.n, tt.k)
			sum := 0
			for _, v := range out {
				sum += v
			}
			if len(out) != tt.k || sum != tt.n {
				t.Fatalf("skewed(%d, %d) = %d buckets summing to %d", tt.n, tt.k, len(out), sum)
			}
			if tt.n >= 1000 && slices.Max(out) < 5*tt.n/tt.k {
				t.Errorf("largest bucket %d of %d: not skewed", slices.Max(out), tt.n)
			}
		})
	}
}

func g0() *generator { return &generator{cfg: Config{Seed: 1}} }

func TestStreamTimesOrdered(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(time.Hour)
	s := newStream(g0().rng(tagPlan, 1), start, end, 100000)
	prev := start
	same := 0
	for range 100000 {
		tm := s.next()
		if tm.Before(prev) || !tm.Before(end) {
			t.Fatalf("time %v after %v, end %v", tm, prev, end)
		}
		if tm.Equal(prev) {
			same++
		}
		prev = tm
	}
	if same == 0 {
		t.Error("no equal timestamps: ties by id are never exercised")
	}
}

func BenchmarkWriteCSV(b *testing.B) {
	cfg := Config{Seed: 1, Users: 10000, Groups: 200, MembersMin: 5, MembersMax: 50,
		GroupMessages: 50000, DirectMessages: 50000, BadShare: 0.001}
	dir := b.TempDir()
	for b.Loop() {
		if _, err := WriteCSV(context.Background(), cfg, dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cfg.GroupMessages+cfg.DirectMessages)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

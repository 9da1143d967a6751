package extract_test

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/extract/extracttest"
)

// csvSetup varies how the suite's dataset is laid out on disk.
type csvSetup struct {
	delimiter rune
	bom       bool
	tweak     func(*extract.CSVConfig)
}

func openCSV(t *testing.T, ds extracttest.Dataset, setup csvSetup) extract.Reader {
	t.Helper()
	delim := setup.delimiter
	if delim == 0 {
		delim = ','
	}
	cfg := extracttest.WriteCSV(t, t.TempDir(), ds, delim)
	cfg.TempDir = t.TempDir()
	if setup.bom {
		for _, src := range cfg.Entities {
			path := filepath.Join(cfg.Dir, src.File)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, append([]byte("\xEF\xBB\xBF"), data...), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if setup.tweak != nil {
		setup.tweak(&cfg)
	}
	r, err := extract.NewCSVReader(cfg, ds.Options)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCSVReaderSuite(t *testing.T) {
	cases := []struct {
		name  string
		setup csvSetup
	}{
		{"sorted in memory", csvSetup{}},
		// Every record spills on its own, and merges take three files at a time, so
		// the sort makes several merge passes.
		{"external sort", csvSetup{tweak: func(c *extract.CSVConfig) { c.SortMemoryBytes = 1 }}},
		{"semicolon delimiter", csvSetup{delimiter: ';'}},
		{"byte order marks", csvSetup{bom: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			extracttest.Run(t, func(t *testing.T, ds extracttest.Dataset) extract.Reader {
				return openCSV(t, ds, tc.setup)
			})
		})
	}
}

// writeFile writes content to dir/name.
func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCSVBadLines(t *testing.T) {
	cases := []struct {
		name    string
		content string
		strict  bool     // Options.RejectUnreadable
		want    []string // user ids read, each with " -field" per dropped field
		wantBad []string // origin, rule and legacy id
	}{
		{
			name:    "ragged rows",
			content: "id,nick\nu1,a\nu2\nu3,c,extra\nu4,d\n",
			want:    []string{"u1", "u4"},
			// The fields of a ragged row do not line up with the header, so its id
			// is not trusted.
			wantBad: []string{"users.csv:3 csv.ragged_row id=", "users.csv:4 csv.ragged_row id="},
		},
		{
			name:    "invalid UTF-8 in an optional column is dropped",
			content: "id,nick,face_url\nu1,a,\nu2,b\xff\xfe,https://x/\xff\nu3,c,\n",
			want:    []string{"u1", "u2 -nick -face_url", "u3"},
		},
		{
			name:    "invalid UTF-8 in an optional column under RejectUnreadable",
			content: "id,nick\nu1,a\nu2,b\xff\xfe\nu3,c\n",
			strict:  true,
			want:    []string{"u1", "u3"},
			wantBad: []string{"users.csv:3 csv.invalid_utf8 id=u2"},
		},
		{
			name:    "invalid UTF-8 in the id",
			content: "id,nick\nu1,a\nu\xff2,b\xff\nu3,c\n",
			want:    []string{"u1", "u3"},
			wantBad: []string{"users.csv:3 csv.invalid_utf8 id="},
		},
		{
			// Only columns the entity reads are checked.
			name:    "invalid UTF-8 in an unused column",
			content: "id,legacy_blob\nu1,\xff\n",
			want:    []string{"u1"},
		},
		{
			name:    "bad optional time is dropped, with the id",
			content: "id,created_at\nu1,2023-01-01T00:00:00Z\nu2,yesterday\n",
			want:    []string{"u1", "u2 -created_at"},
		},
		{
			name:    "bad optional time under RejectUnreadable names the id",
			content: "id,created_at\nu1,2023-01-01T00:00:00Z\nu2,yesterday\n",
			strict:  true,
			want:    []string{"u1"},
			wantBad: []string{"users.csv:3 field.timestamp id=u2"},
		},
		{
			name:    "bare quote, then reading goes on",
			content: "id,nick\nu1,a\"b\nu2,b\n",
			want:    []string{"u2"},
			wantBad: []string{"users.csv:2 csv.parse id="},
		},
		{
			name:    "text after a closing quote",
			content: "id,nick\nu1,\"a\"b\nu2,\"multi\nline\"\nu3,c\n",
			want:    []string{"u2", "u3"},
			wantBad: []string{"users.csv:2 csv.parse id="},
		},
		{
			name:    "unterminated quote at the end",
			content: "id,nick\nu1,a\nu2,\"never closed\n",
			want:    []string{"u1"},
			wantBad: []string{"users.csv:3 csv.parse id="},
		},
		{
			name:    "blank lines are skipped and counted",
			content: "id,nick\n\nu1,a\n\n\nu2,\n",
			want:    []string{"u1", "u2"},
		},
		{
			name:    "CRLF line ends",
			content: "id,nick\r\nu1,a\r\n,b\r\nu2,c\r\n",
			want:    []string{"u1", "u2"},
			wantBad: []string{"users.csv:3 field.missing id="},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "users.csv", tc.content)
			var bad []string
			r, err := extract.NewCSVReader(extract.CSVConfig{Dir: dir, Entities: map[extract.Entity]extract.EntitySource{
				extract.Users: {File: "users.csv"},
			}}, extract.Options{RejectUnreadable: tc.strict, OnBadRow: func(b extract.BadRow) {
				bad = append(bad, b.Origin.String()+" "+b.Rule+" id="+b.LegacyID)
			}})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got []string
			if err := r.Users(context.Background(), func(u extract.User) error {
				s := u.ID
				for _, d := range u.Dropped {
					s += " -" + d.Field
					if d.Field == "nick" && u.Nick != "" || d.Field == "face_url" && u.FaceURL != "" {
						t.Errorf("user %s: dropped %s still set", u.ID, d.Field)
					}
				}
				got = append(got, s)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("users = %q, want %q", got, tc.want)
			}
			if !slices.Equal(bad, tc.wantBad) {
				t.Errorf("bad rows = %q, want %q", bad, tc.wantBad)
			}
		})
	}
}

func TestCSVColumnMapping(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "dm.csv", "msg_id;from;to;ts;text;unused\n7;bob;alice;1700000000.5;hi;x\n")
	r, err := extract.NewCSVReader(extract.CSVConfig{Dir: dir, Delimiter: ';', Entities: map[extract.Entity]extract.EntitySource{
		extract.DirectMessages: {
			File:    "dm.csv",
			Columns: map[string]string{"id": "msg_id", "sender_id": "from", "recipient_id": "to", "sent_at": "ts"},
			Time:    extract.TimeUnix,
		},
	}}, extract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []extract.Message
	if err := r.DirectMessages(context.Background(), func(m extract.Message) error { got = append(got, m); return nil }); err != nil {
		t.Fatal(err)
	}
	want := extract.Message{ID: "7", SenderID: "bob", RecipientID: "alice", SentAt: time.Unix(1700000000, 5e8).UTC(), Text: "hi",
		Origin: extract.Origin{Source: "dm.csv", Line: 2}}
	if len(got) != 1 || got[0] != want {
		t.Errorf("got %+v, want [%+v]", got, want)
	}
}

func TestNewCSVReaderErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "users.csv", "id,nick\n")
	writeFile(t, dir, "dup.csv", "id,nick,nick\n")
	writeFile(t, dir, "empty.csv", "")
	writeFile(t, dir, "noid.csv", "nick\n")
	cases := []struct {
		name string
		cfg  extract.CSVConfig
		want string
	}{
		{"missing file", extract.CSVConfig{Entities: map[extract.Entity]extract.EntitySource{extract.Users: {File: "nope.csv"}}}, "nope.csv"},
		{"no file", extract.CSVConfig{Entities: map[extract.Entity]extract.EntitySource{extract.Users: {}}}, "no file"},
		{"unknown entity", extract.CSVConfig{Entities: map[extract.Entity]extract.EntitySource{"bots": {File: "users.csv"}}}, `unknown entity "bots"`},
		{"unknown field", extract.CSVConfig{Entities: map[extract.Entity]extract.EntitySource{
			extract.Users: {File: "users.csv", Columns: map[string]string{"avatar": "x"}}}}, `unknown field "avatar"`},
		{"mapped column absent", extract.CSVConfig{Entities: map[extract.Entity]extract.EntitySource{
			extract.Users: {File: "users.csv", Columns: map[string]string{"nick": "name"}}}}, `no column "name"`},
		{"required column absent", extract.CSVConfig{Entities: map[extract.Entity]extract.EntitySource{
			extract.Users: {File: "noid.csv"}}}, `required field "id"`},
		{"duplicate used column", extract.CSVConfig{Entities: map[extract.Entity]extract.EntitySource{
			extract.Users: {File: "dup.csv"}}}, `"nick" appears more than once`},
		{"empty file", extract.CSVConfig{Entities: map[extract.Entity]extract.EntitySource{
			extract.Users: {File: "empty.csv"}}}, "no header"},
		{"bad time format", extract.CSVConfig{Entities: map[extract.Entity]extract.EntitySource{
			extract.Users: {File: "users.csv", Time: "yesterday"}}}, "yesterday"},
		{"bad delimiter", extract.CSVConfig{Delimiter: '"', Entities: map[extract.Entity]extract.EntitySource{
			extract.Users: {File: "users.csv"}}}, "delimiter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Dir = dir
			_, err := extract.NewCSVReader(tc.cfg, extract.Options{})
			if !errors.Is(err, extract.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want an ErrConfig mentioning %q", err, tc.want)
			}
		})
	}
}

// randomMessages writes n direct messages in random order and returns the config.
func randomMessages(t *testing.T, dir string, n int, seed uint64) extract.CSVConfig {
	rng := mrand.New(mrand.NewPCG(seed, seed))
	var b strings.Builder
	b.WriteString("id,sender_id,recipient_id,sent_at,kind,text\n")
	for i := range n {
		a, c := fmt.Sprintf("u%d", rng.IntN(40)), fmt.Sprintf("u%d", rng.IntN(40))
		// Few distinct times, so many messages tie on time and order by id.
		fmt.Fprintf(&b, "%d,%s,%s,%d,text,\"message %d, with a comma\"\n", rng.IntN(n*10), a, c, 1700000000+rng.IntN(100), i)
	}
	writeFile(t, dir, "dm.csv", b.String())
	return extract.CSVConfig{Dir: dir, Entities: map[extract.Entity]extract.EntitySource{
		extract.DirectMessages: {File: "dm.csv", Time: extract.TimeUnix},
	}}
}

func readDirect(t *testing.T, r extract.Reader, during func()) []string {
	t.Helper()
	var out []string
	if err := r.DirectMessages(context.Background(), func(m extract.Message) error {
		if len(out) == 0 && during != nil {
			during()
		}
		out = append(out, fmt.Sprintf("%+v", m))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCSVExternalSort(t *testing.T) {
	dir := t.TempDir()
	cfg := randomMessages(t, dir, 5000, 7)
	inMemory, err := extract.NewCSVReader(cfg, extract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer inMemory.Close()
	want := readDirect(t, inMemory, nil)
	if len(want) != 5000 {
		t.Fatalf("read %d messages, want 5000", len(want))
	}

	for _, fanIn := range []int{2, 3, 64} {
		t.Run(fmt.Sprintf("fan-in %d", fanIn), func(t *testing.T) {
			cfg.TempDir = t.TempDir()
			cfg.SortMemoryBytes = 16 << 10
			reads := 0 // read by this goroutine only
			r, err := extract.NewCSVReader(cfg, extract.Options{OnRead: func(extract.Entity) { reads++ }})
			if err != nil {
				t.Fatal(err)
			}
			extract.SetMergeFanIn(r, fanIn)
			spilled := 0
			got := readDirect(t, r, func() { spilled = countFiles(t, cfg.TempDir) })
			// The final merge reads at most fanIn files plus the last chunk.
			if spilled < min(fanIn, 10) || spilled > fanIn {
				t.Errorf("%d spill files during the merge, want %d..%d", spilled, min(fanIn, 10), fanIn)
			}
			// The spill files and the merge passes over them are not reads of the
			// source: dm.csv was opened once.
			if reads != 1 {
				t.Errorf("OnRead called %d times for one sorted read, want 1", reads)
			}
			if !slices.Equal(got, want) {
				t.Errorf("external sort differs from the in-memory sort")
			}
			if n := countFiles(t, cfg.TempDir); n != 0 {
				t.Errorf("%d temporary files left after the read", n)
			}

			// An error from fn in the middle of a merge leaves nothing behind either.
			stop := errors.New("stop")
			err = r.DirectMessages(context.Background(), func(extract.Message) error { return stop })
			if !errors.Is(err, stop) {
				t.Errorf("err = %v, want %v", err, stop)
			}
			if n := countFiles(t, cfg.TempDir); n != 0 {
				t.Errorf("%d temporary files left after an error", n)
			}

			// Close removes the files of a sort still in progress.
			err = r.DirectMessages(context.Background(), func(extract.Message) error {
				if err := r.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
				if n := countFiles(t, cfg.TempDir); n != 0 {
					t.Errorf("%d temporary files left after Close", n)
				}
				return stop
			})
			if !errors.Is(err, stop) {
				t.Errorf("err = %v, want %v", err, stop)
			}
		})
	}
}

// countFiles counts the regular files under dir.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCSVDeclaredSorted(t *testing.T) {
	cases := []struct {
		name    string
		content string
		wantIDs []string
		wantErr bool
	}{
		{
			name:    "in order",
			content: "id,group_id,sender_id,sent_at\n9,g1,u,1\n10,g1,u,1\n1,g1,u,2\n5,g2,u,0\n",
			wantIDs: []string{"9", "10", "1", "5"},
		},
		{
			name:    "bad rows do not count",
			content: "id,group_id,sender_id,sent_at\n9,g1,u,1\n2,g1,u,x\n10,g1,u,1\n",
			wantIDs: []string{"9", "10"},
		},
		{
			name:    "out of order",
			content: "id,group_id,sender_id,sent_at\n9,g1,u,1\n1,g2,u,0\n2,g1,u,5\n",
			wantIDs: []string{"9", "1"},
			wantErr: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "gm.csv", tc.content)
			var reads []extract.Entity
			r, err := extract.NewCSVReader(extract.CSVConfig{Dir: dir, Entities: map[extract.Entity]extract.EntitySource{
				extract.GroupMessages: {File: "gm.csv", Time: extract.TimeUnix, Sorted: true},
			}}, extract.Options{OnRead: func(e extract.Entity) { reads = append(reads, e) }})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var ids []string
			err = r.GroupMessages(context.Background(), func(m extract.Message) error { ids = append(ids, m.ID); return nil })
			if tc.wantErr != errors.Is(err, extract.ErrUnsorted) {
				t.Errorf("err = %v, want ErrUnsorted: %v", err, tc.wantErr)
			}
			if tc.wantErr && !strings.Contains(err.Error(), "gm.csv:4") {
				t.Errorf("err = %v, want it to name gm.csv:4", err)
			}
			if !slices.Equal(ids, tc.wantIDs) {
				t.Errorf("ids = %q, want %q", ids, tc.wantIDs)
			}
			if want := []extract.Entity{extract.GroupMessages}; !slices.Equal(reads, want) {
				t.Errorf("OnRead calls = %q, want %q", reads, want)
			}
		})
	}
}

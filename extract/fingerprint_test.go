package extract_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/internal/pgtest"
)

func TestChanged(t *testing.T) {
	users := extract.SourcePart{Name: "users.csv", State: "10 bytes, modified 2026-12-03T09:25:18.123456789Z"}
	grown := extract.SourcePart{Name: "users.csv", State: "12 bytes, modified 2026-12-03T09:25:19Z"}
	groups := extract.SourcePart{Name: "groups.csv", State: "5 bytes, modified 2026-12-03T09:25:18Z"}
	cases := []struct {
		name          string
		before, after []extract.SourcePart
		want          []string
	}{
		{"same", []extract.SourcePart{users, groups}, []extract.SourcePart{users, groups}, nil},
		{"both empty", nil, nil, nil},
		{"state changed", []extract.SourcePart{users, groups}, []extract.SourcePart{grown, groups}, []string{
			"users.csv: was 10 bytes, modified 2026-12-03T09:25:18.123456789Z; now 12 bytes, modified 2026-12-03T09:25:19Z",
		}},
		{"disappeared", []extract.SourcePart{users, groups}, []extract.SourcePart{users}, []string{
			"groups.csv: no longer in the source (was 5 bytes, modified 2026-12-03T09:25:18Z)",
		}},
		{"appeared", []extract.SourcePart{users}, []extract.SourcePart{users, groups}, []string{
			"groups.csv: new in the source (now 5 bytes, modified 2026-12-03T09:25:18Z)",
		}},
		{"everything", []extract.SourcePart{users, groups}, []extract.SourcePart{{Name: "friends query", State: "3 rows"}, grown}, []string{
			"users.csv: was 10 bytes, modified 2026-12-03T09:25:18.123456789Z; now 12 bytes, modified 2026-12-03T09:25:19Z",
			"groups.csv: no longer in the source (was 5 bytes, modified 2026-12-03T09:25:18Z)",
			"friends query: new in the source (now 3 rows)",
		}},
		// A file configured for two entities is two parts of one name, matched in turn.
		{"repeated name", []extract.SourcePart{users, users}, []extract.SourcePart{users, grown}, []string{
			"users.csv: was 10 bytes, modified 2026-12-03T09:25:18.123456789Z; now 12 bytes, modified 2026-12-03T09:25:19Z",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := extract.Changed(tc.before, tc.after); !slices.Equal(got, tc.want) {
				t.Errorf("Changed =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

// fingerprint fingerprints r and fails the test on error.
func fingerprint(t *testing.T, r extract.Fingerprinter) []extract.SourcePart {
	t.Helper()
	fp, err := r.Fingerprint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

func TestCSVFingerprint(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "u.csv", "id,nick\nu1,One\nu2,Two\n")
	writeFile(t, dir, "f.csv", "user_id,friend_id\nu1,u2\n")
	reads := 0
	r, err := extract.NewCSVReader(extract.CSVConfig{Dir: dir, Entities: map[extract.Entity]extract.EntitySource{
		extract.Friends: {File: "f.csv"},
		extract.Users:   {File: "u.csv"},
	}}, extract.Options{OnRead: func(extract.Entity) { reads++ }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	users := filepath.Join(dir, "u.csv")
	// A modification time with nanoseconds, to see it kept at full precision.
	mtime := time.Date(2026, 12, 3, 9, 25, 18, 123456789, time.UTC)
	if err := os.Chtimes(users, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(users)
	if err != nil {
		t.Fatal(err)
	}

	before := fingerprint(t, r)
	wantUsers := extract.SourcePart{Name: "u.csv",
		State: fmt.Sprintf("22 bytes, modified %s", fi.ModTime().UTC().Format(time.RFC3339Nano))}
	if len(before) != 2 || before[0] != wantUsers || before[1].Name != "f.csv" {
		t.Fatalf("Fingerprint = %+v, want users (%+v) then friends (f.csv), in entity order", before, wantUsers)
	}
	if fi.ModTime().Nanosecond() == mtime.Nanosecond() && !strings.Contains(before[0].State, "2026-12-03T09:25:18.123456789Z") {
		t.Errorf("state %q does not hold the modification time at full precision", before[0].State)
	}
	if again := fingerprint(t, r); !slices.Equal(again, before) {
		t.Errorf("unchanged files: Fingerprint = %+v, then %+v", before, again)
	}

	// Appending a row changes the size (and, usually, the time).
	f, err := os.OpenFile(users, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("u3,Three\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	grown := fingerprint(t, r)
	changed := extract.Changed(before, grown)
	if len(changed) != 1 || !strings.HasPrefix(changed[0], "u.csv: was 22 bytes, modified ") ||
		!strings.Contains(changed[0], "; now 31 bytes, modified ") {
		t.Errorf("after appending a row: Changed = %q, want one sentence u.csv: was 22 bytes…; now 31 bytes…", changed)
	}

	// Touching only the time, the content the same, is a change too.
	later := mtime.Add(time.Second)
	if err := os.Chtimes(users, later, later); err != nil {
		t.Fatal(err)
	}
	touched := fingerprint(t, r)
	changed = extract.Changed(grown, touched)
	if len(changed) != 1 || !strings.HasPrefix(changed[0], "u.csv: was 31 bytes, modified ") ||
		!strings.HasSuffix(changed[0], "; now 31 bytes, modified 2026-12-03T09:25:19.123456789Z") {
		t.Errorf("after touching the time: Changed = %q", changed)
	}

	// A file gone after the reader was built is reported, not an error.
	if err := os.Remove(filepath.Join(dir, "f.csv")); err != nil {
		t.Fatal(err)
	}
	gone := fingerprint(t, r)
	if changed := extract.Changed(touched, gone); len(changed) != 1 || !strings.HasSuffix(changed[0], "; now missing") {
		t.Errorf("after removing f.csv: Changed = %q, want one sentence ending in now missing", changed)
	}
	if reads != 0 {
		t.Errorf("Fingerprint called OnRead %d times, want 0", reads)
	}
}

func TestPostgresFingerprint(t *testing.T) {
	conn, schema := pgSchema(t)
	exec(t, conn, fmt.Sprintf(`CREATE TABLE %[1]s.u (id text, nick text);
INSERT INTO %[1]s.u VALUES ('u1', 'One'), ('u2', 'Two'), ('u3', 'Three');
CREATE TABLE %[1]s.g (id text);`, schema))
	url := pgtest.URL(t)
	reads := 0
	r, err := extract.NewPostgresReader(context.Background(), extract.PostgresConfig{URL: url,
		Entities: map[extract.Entity]extract.EntitySource{
			// A trailing semicolon and a WHERE: the count must wrap the query as the pages do.
			extract.Users:  {Query: "SELECT * FROM " + schema + ".u WHERE id <> 'u3';"},
			extract.Groups: {Query: "SELECT * FROM " + schema + ".g"},
		}}, extract.Options{OnRead: func(extract.Entity) { reads++ }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	before := fingerprint(t, r)
	want := []extract.SourcePart{{Name: "users query", State: "2 rows"}, {Name: "groups query", State: "0 rows"}}
	if !slices.Equal(before, want) {
		t.Fatalf("Fingerprint = %+v, want %+v", before, want)
	}
	if again := fingerprint(t, r); !slices.Equal(again, before) {
		t.Errorf("unchanged tables: Fingerprint = %+v, then %+v", before, again)
	}

	exec(t, conn, fmt.Sprintf(`INSERT INTO %[1]s.u VALUES ('u4', 'Four'); INSERT INTO %[1]s.g VALUES ('g1');`, schema))
	after := fingerprint(t, r)
	wantChanged := []string{"users query: was 2 rows; now 3 rows", "groups query: was 0 rows; now 1 row"}
	if got := extract.Changed(before, after); !slices.Equal(got, wantChanged) {
		t.Errorf("after inserting rows: Changed = %q, want %q", got, wantChanged)
	}
	// A row the query filters out is no change of the source it reads.
	exec(t, conn, fmt.Sprintf(`INSERT INTO %[1]s.u VALUES ('u3', 'Another three');`, schema))
	if got := extract.Changed(after, fingerprint(t, r)); got != nil {
		t.Errorf("after inserting a row the query leaves out: Changed = %q, want nil", got)
	}

	for _, p := range after {
		for _, secret := range []string{url, "postgres://", "127.0.0.1", "password"} {
			if strings.Contains(p.Name, secret) || strings.Contains(p.State, secret) {
				t.Errorf("part %+v reveals %q of the connection", p, secret)
			}
		}
	}
	if reads != 0 {
		t.Errorf("Fingerprint called OnRead %d times, want 0", reads)
	}
}

package extract_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/internal/pgtest"
)

// profileUsers are what both readers must give for the profile tables below: the
// profile fields as the source spells them, and only the non-empty custom fields,
// by name.
func profileUsers(source string, keys bool) []extract.User {
	o := func(line int64, key string) extract.Origin {
		if keys {
			return extract.Origin{Source: source, Key: key}
		}
		return extract.Origin{Source: source, Line: line}
	}
	return []extract.User{
		{ID: "u1", Nick: "One", Gender: "f", Birthday: "1990-04-19", Location: "CN", Signature: "hi there",
			AllowType: "allow_any", Language: "2", Level: "7", Role: "1",
			Custom: []extract.CustomField{{Name: "Active", Value: "0"}, {Name: "Kind", Value: "bot"}}, Origin: o(2, "id=u1")},
		{ID: "u2", Custom: []extract.CustomField{{Name: "Kind", Value: "guest"}}, Origin: o(3, "id=u2")},
		{ID: "u3", Origin: o(4, "id=u3")},
	}
}

// TestProfileFields: the users' profile fields are canonical fields (mapped like
// the others), and the custom profile fields come from the columns named in
// EntitySource.Custom, in CSV and in PostgreSQL alike.
func TestProfileFields(t *testing.T) {
	src := extract.EntitySource{
		Columns: map[string]string{"gender": "sex", "birthday": "born"},
		Custom:  map[string]string{"Kind": "kind", "Active": "is_active"},
	}
	t.Run("csv", func(t *testing.T) {
		dir := t.TempDir()
		body := "id,nick,sex,born,location,signature,allow_type,language,level,role,kind,is_active\n" +
			"u1,One,f,1990-04-19,CN,hi there,allow_any,2,7,1,bot,0\n" +
			"u2,,,,,,,,,,guest,\n" +
			"u3,,,,,,,,,,,\n"
		if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		s := src
		s.File = "users.csv"
		r, err := extract.NewCSVReader(extract.CSVConfig{Dir: dir, Entities: map[extract.Entity]extract.EntitySource{extract.Users: s}}, extract.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		got := readUsers(t, r)
		if want := profileUsers("users.csv", false); !reflect.DeepEqual(got, want) {
			t.Errorf("users\n got %+v\nwant %+v", got, want)
		}

		// A custom column must exist, as a mapped column must.
		s.Custom = map[string]string{"Kind": "nope"}
		if _, err := extract.NewCSVReader(extract.CSVConfig{Dir: dir, Entities: map[extract.Entity]extract.EntitySource{extract.Users: s}}, extract.Options{}); !errors.Is(err, extract.ErrConfig) {
			t.Errorf("missing custom column: err = %v, want ErrConfig", err)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		conn, schema := pgSchema(t)
		exec(t, conn, "CREATE TABLE "+schema+`.users (id text, nick text, sex text, born date, location text, signature text,
			allow_type text, language int, level int, role smallint, kind text, is_active text);
			INSERT INTO `+schema+`.users VALUES
			('u1', 'One', 'f', '1990-04-19', 'CN', 'hi there', 'allow_any', 2, 7, 1, 'bot', '0'),
			('u2', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'guest', NULL),
			('u3', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '')`)
		s := src
		s.Query = "SELECT * FROM " + schema + ".users"
		r, err := extract.NewPostgresReader(context.Background(), extract.PostgresConfig{URL: pgtest.URL(t),
			Entities: map[extract.Entity]extract.EntitySource{extract.Users: s}}, extract.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		got := readUsers(t, r)
		if want := profileUsers("users", true); !reflect.DeepEqual(got, want) {
			t.Errorf("users\n got %+v\nwant %+v", got, want)
		}
	})
	t.Run("custom only for users", func(t *testing.T) {
		_, err := extract.NewCSVReader(extract.CSVConfig{Dir: t.TempDir(), Entities: map[extract.Entity]extract.EntitySource{
			extract.Groups: {File: "groups.csv", Custom: map[string]string{"Kind": "kind"}}}}, extract.Options{})
		if !errors.Is(err, extract.ErrConfig) {
			t.Errorf("custom fields on groups: err = %v, want ErrConfig", err)
		}
	})
}

func readUsers(t *testing.T, r extract.Reader) []extract.User {
	t.Helper()
	var got []extract.User
	if err := r.Users(t.Context(), func(u extract.User) error { got = append(got, u); return nil }); err != nil {
		t.Fatal(err)
	}
	return got
}

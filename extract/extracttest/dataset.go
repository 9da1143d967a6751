// Package extracttest holds the test suite every extract.Reader implementation must
// pass, and the small legacy dataset it runs on, with helpers that write the dataset
// as CSV files or as SQL for a PostgreSQL schema.
package extracttest

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/extract"
)

// Table is one entity's rows, cells as text. Columns are canonical field names.
type Table struct {
	Columns []string
	Rows    [][]string
}

// Dataset is a legacy dataset in memory.
type Dataset struct {
	// Time is the format of every time cell.
	Time extract.TimeFormat
	// Tables holds the entities; an absent one is not configured at all.
	Tables map[extract.Entity]Table
	// Options is what the suite needs from the reader: the open function passed to
	// Run must hand it to the reader's constructor.
	Options extract.Options
}

// CSVName is the file WriteCSV writes an entity to.
func CSVName(e extract.Entity) string { return string(e) + ".csv" }

// WriteCSV writes each table of ds to dir/CSVName(entity) with a header row, and
// returns the configuration that reads them back.
func WriteCSV(t testing.TB, dir string, ds Dataset, delimiter rune) extract.CSVConfig {
	t.Helper()
	cfg := extract.CSVConfig{Dir: dir, Delimiter: delimiter, Entities: map[extract.Entity]extract.EntitySource{}}
	for e, tab := range ds.Tables {
		data, _ := encodeCSV(tab, delimiter)
		if err := os.WriteFile(filepath.Join(dir, CSVName(e)), data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.Entities[e] = extract.EntitySource{File: CSVName(e), Time: ds.Time}
	}
	return cfg
}

// encodeCSV renders a table and the 1-based line on which each row starts.
func encodeCSV(tab Table, delimiter rune) ([]byte, []int64) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if delimiter != 0 {
		w.Comma = delimiter
	}
	_ = w.Write(tab.Columns)
	lines := make([]int64, len(tab.Rows))
	line := int64(2)
	for i, row := range tab.Rows {
		lines[i] = line
		_ = w.Write(row)
		for _, cell := range row {
			line += int64(strings.Count(cell, "\n"))
		}
		line++
	}
	w.Flush()
	return buf.Bytes(), lines
}

// SchemaSQL returns the statements creating one all-text table per entity of ds in
// schema (which must exist) and inserting its rows. An empty cell becomes NULL in
// even rows and ” in odd rows, so readers meet both.
func SchemaSQL(ds Dataset, schema string) string {
	var b strings.Builder
	for e, tab := range ds.Tables {
		table := quoteIdent(schema) + "." + quoteIdent(string(e))
		b.WriteString("CREATE TABLE " + table + " (")
		for i, c := range tab.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteIdent(c) + " text")
		}
		b.WriteString(");\n")
		for r, row := range tab.Rows {
			b.WriteString("INSERT INTO " + table + " VALUES (")
			for i, cell := range row {
				if i > 0 {
					b.WriteString(", ")
				}
				if cell == "" && r%2 == 0 {
					b.WriteString("NULL")
				} else {
					b.WriteString("'" + strings.ReplaceAll(cell, "'", "''") + "'")
				}
			}
			b.WriteString(");\n")
		}
	}
	return b.String()
}

// PostgresEntities returns the sources reading the tables SchemaSQL created.
func PostgresEntities(ds Dataset, schema string) map[extract.Entity]extract.EntitySource {
	m := map[extract.Entity]extract.EntitySource{}
	for e := range ds.Tables {
		m[e] = extract.EntitySource{
			Query: "SELECT * FROM " + quoteIdent(schema) + "." + quoteIdent(string(e)),
			Time:  ds.Time,
		}
	}
	return m
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Legacy returns the suite's dataset: unicode, quotes, delimiters and newlines inside
// fields, equal timestamps, numeric ids 9 and 10, times in several zones whose text
// order is not their time order, rows out of stream order, several groups and
// conversations, and one bad row of each field rule per entity.
func Legacy() Dataset {
	msgCols := func(second string) []string {
		return []string{"id", second, "", "sent_at", "kind", "text", "payload", "url", "file_name", "size", "width", "height", "duration",
			"attachments", "reply_to", "thread_id", "edited_at", "reactions"}
	}
	// rich appends the rich-message fields (attachments, reply_to, thread_id,
	// edited_at, reactions) to a message row.
	rich := func(row []string, extra ...string) []string {
		return append(row, append(extra, make([]string, 5-len(extra))...)...)
	}
	gm := msgCols("group_id")
	gm[2] = "sender_id"
	dm := msgCols("sender_id")
	dm[2] = "recipient_id"
	return Dataset{
		Time: extract.TimeTimestamptz,
		Tables: map[extract.Entity]Table{
			extract.Users: {
				Columns: []string{"id", "nick", "face_url", "created_at"},
				Rows: [][]string{
					{"", "No ID", "", "2023-01-01T00:00:00Z"},
					{"10", "Ten", "", "2023-01-01T00:00:10Z"},
					{"9", "Nine", "https://cdn.example/9.png", "2023-01-01 08:00:09+08"},
					{"u1", `Alice "Al", Jr.`, "", "2023-01-02T03:04:05.123456Z"},
					{"u2", "Zoë 李雷\nsecond line", "", ""},
					{"u3", "Bad Time", "", "2023-02-30T00:00:00Z"},
					{"u4", "😀 emoji; semicolon", "", "2023-01-02T03:04:05.5-02:30"},
				},
			},
			extract.Groups: {
				Columns: []string{"id", "owner_id", "type", "name", "introduction", "notification", "face_url", "max_members", "created_at"},
				Rows: [][]string{
					{"g1", "u1", "Public", `Group, "one"`, "intro\nwith newline", "", "", "200", "2023-01-01T00:00:00Z"},
					{"g10", "u2", "Private", "十", "", "notice", "https://cdn.example/g10.png", "", "2023-01-01T00:00:00+09:00"},
					{"g2", "u1", "Public", "bad max", "", "", "", "lots", "2023-01-01T00:00:00Z"},
					{"g9", "", "ChatRoom", "", "", "", "", "0", ""},
				},
			},
			extract.Members: {
				Columns: []string{"group_id", "user_id", "role", "joined_at", "unread"},
				Rows: [][]string{
					{"g2", "u1", "Member", "2023-01-03T00:00:00Z", ""},
					{"g1", "u2", "Admin", "2023-01-02T00:00:00Z", "5"},
					{"g1", "u1", "Owner", "2023-01-01T00:00:00Z", "0"},
					{"g1", "u3", "Member", "2023-01-02T00:00:00Z", ""},
					{"g1", "", "Member", "2023-01-02T00:00:00Z", ""},
					{"g1", "u4", "", "", ""},
					{"g10", "u1", "Member", "2023-01-01T00:00:00+08:00", "x"},
					{"g10", "u2", "Member", "2022-12-31T17:00:00Z", "1"},
					{"g1", "u9", "", "2023-01-02 08:00:00+08", ""},
					{"g10", "u3", "Member", "2022-12-31T16:59:59.999999Z", ""},
					{"g1", "10", "Member", "2023-01-02T00:00:00Z", ""},
				},
			},
			extract.GroupMessages: {
				Columns: gm,
				Rows: [][]string{
					rich([]string{"10", "g1", "u1", "2023-02-01T10:00:00Z", "text", "ten", "", "", "", "", "", "", ""}),
					rich([]string{"9", "g1", "u2", "2023-02-01T10:00:00Z", "text", "nine", "", "", "", "", "", "", ""}),
					rich([]string{"11", "g1", "u1", "2023-02-01T09:59:59.999Z", "text", "earlier", "", "", "", "", "", "", ""}),
					rich([]string{"12", "g1", "u1", "2023-02-01 18:00:00.5+08", "text", "comma, \"quote\" and\nnewline", "", "", "", "", "", "", ""}),
					rich([]string{"3", "g10", "u1", "2023-02-01T00:00:00Z", "image", "", "", "https://cdn.example/a.png", "a.png", "1024", "640", "480", ""},
						`[{"kind":"file","url":"https://cdn.example/b.pdf","file_name":"b, \"final\".pdf","size":9}]`, "1", "1",
						"2023-02-02 08:00:00+08", `{"+1":["u2"]}`),
					rich([]string{"13", "g1", "", "2023-02-01T00:00:00Z", "text", "no sender", "", "", "", "", "", "", ""}),
					rich([]string{"14", "g1", "u1", "2023-13-01T00:00:00Z", "text", "bad month", "", "", "", "", "", "", ""}),
					rich([]string{"15", "g2", "u1", "2023-02-01T00:00:00Z", "file", "", "", "https://cdn.example/f", "f.bin", "big", "", "", ""}),
					rich([]string{"2", "g2", "u2", "2023-01-31T23:59:59Z", "text", "émoji 😀", "", "", "", "", "", "", ""}),
					rich([]string{"1", "g10", "u2", "2023-02-01T00:00:00Z", "custom", "", `{"k":"v, w"}`, "", "", "", "", "", ""}),
					rich([]string{"100", "g1", "u1", "2023-02-01T10:00:00Z", "text", "hundred", "", "", "", "", "", "", ""}),
					rich([]string{"16", "g1", "u2", "2023-02-01T11:00:00+02:00", "text", "zone", "", "", "", "", "", "", ""}),
					rich([]string{"", "g1", "u1", "2023-02-01T00:00:00Z", "text", "no id", "", "", "", "", "", "", ""}),
				},
			},
			extract.DirectMessages: {
				Columns: dm,
				Rows: [][]string{
					rich([]string{"5", "u2", "u1", "2023-03-01T00:00:00Z", "text", "five", "", "", "", "", "", "", ""}),
					rich([]string{"4", "u1", "u2", "2023-03-01T00:00:00Z", "text", "four", "", "", "", "", "", "", ""}, "", "5", "", "2023-03-01T01:00:00Z"),
					rich([]string{"3", "u1", "u3", "2023-02-28T00:00:00Z", "text", "three", "", "", "", "", "", "", ""}),
					rich([]string{"20", "u3", "u1", "2023-02-27T00:00:00Z", "text", "twenty", "", "", "", "", "", "", ""}),
					rich([]string{"1", "u1", "u2", "2023-03-01T00:00:00.000001Z", "text", "one", "", "", "", "", "", "", ""}),
					rich([]string{"6", "u10", "u9", "2023-01-01T00:00:00Z", "sound", "", "", "https://cdn.example/s.mp3", "", "2048", "", "", "7"}),
					rich([]string{"7", "u1", "", "2023-03-01T00:00:00Z", "text", "no recipient", "", "", "", "", "", "", ""}),
					rich([]string{"8", "u2", "u1", "", "text", "no time", "", "", "", "", "", "", ""}),
					rich([]string{"9", "u2", "u1", "2023-03-01T00:00:00Z", "sound", "", "", "https://cdn.example/9.mp3", "", "", "", "", "3.5"}),
					rich([]string{"10", "u1", "u2", "2023-03-01T01:00:00+01:00", "text", "ten, same instant", "", "", "", "", "", "", ""}),
					rich([]string{"11", "u9", "u10", "2022-12-31T23:59:59Z", "video", "", "", "https://cdn.example/v.mp4", "v.mp4", "4096", "1920", "1080", "60"}),
					rich([]string{"12", "u1", "u1", "2023-01-01T00:00:00Z", "text", "note to self\twith a tab", "", "", "", "", "", "", ""}),
					rich([]string{"30", "u1", "u2", "2023-03-02T00:00:00Z", "text", "bad edit", "", "", "", "", "", "", ""}, "", "", "", "yesterday"),
				},
			},
			extract.Friends: {
				Columns: []string{"user_id", "friend_id", "remark", "added_at"},
				Rows: [][]string{
					{"u1", "u2", "best friend", "2023-01-01T00:00:00Z"},
					{"u1", "u3", "", ""},
					{"u2", "", "dangling", ""},
					{"u2", "u1", "remark, with comma", "2023-01-01T00:00:00+00:00"},
					{"u3", "u1", "", "yesterday"},
				},
			},
			extract.Topics: {
				Columns: []string{"id", "group_id", "name", "creator_id", "introduction", "created_at"},
				Rows: [][]string{
					{"t1", "g1", "General, first", "u1", "", "2023-01-01T00:00:00Z"},
					{"t2", "", "no group", "u1", "", ""},
					{"t3", "g1", "话题 three", "", "intro\nline", ""},
				},
			},
			extract.GroupDMs: {
				Columns: []string{"id", "members", "created_at", "name", "creator_id"},
				Rows: [][]string{
					{"dm1", `["u1","u2","u3"]`, "2023-01-01T00:00:00Z", "", "u1"},
					{"dm2", `{u2,u3,"u 4","a\\\"b"}`, "", "Ops, \"team\"", ""},
					{"dm3", "", "", "no members", ""},
					{"dm4", "u1,u2,u3", "", "", ""},
					{"dm5", ` [1, 2, 30] `, "", "", ""},
					{"dm6", `["u1",null,"u2"]`, "", "", ""},
				},
			},
		},
	}
}

package synth

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/internal/atomicfile"
)

// The CSV export's files and headers, as a legacy exporter would name them; the
// generated mapping maps them onto extract's canonical fields.
const (
	usersFile          = "users.csv"
	groupsFile         = "groups.csv"
	membersFile        = "group_members.csv"
	groupMessagesFile  = "group_messages.csv"
	directMessagesFile = "direct_messages.csv"
	friendsFile        = "friends.csv"
	plantedFile        = "planted.jsonl"
	friendsTimeLayout  = "2006-01-02 15:04:05"
)

var (
	usersHeader    = []string{"user_id", "display_name", "avatar_url", "created"}
	groupsHeader   = []string{"group_id", "owner", "kind", "title", "description", "announcement", "icon", "capacity", "created"}
	membersHeader  = []string{"group_id", "user_id", "role", "joined", "unread_count"}
	messagesHeader = []string{"msg_id", "group_id", "from_user", "sent_ms", "type", "body", "payload",
		"media_url", "media_name", "media_size", "media_width", "media_height", "media_seconds"}
	directHeader = []string{"msg_id", "from_user", "to_user", "sent_ms", "type", "body", "payload",
		"media_url", "media_name", "media_size", "media_width", "media_height", "media_seconds"}
	friendsHeader = []string{"user_id", "friend_id", "remark", "since"}
)

// Summary counts what a generator wrote.
type Summary struct {
	// Rows is the number of rows written per entity, planted ones included.
	Rows map[extract.Entity]int
	// Planted is the number of planted bad records written.
	Planted int
}

// WriteCSV writes the dataset of cfg into dir (created if needed): one CSV file per
// entity, planted.jsonl, the legacy PostgreSQL schema (schema.sql) and two mapping
// files reading the same data, csv.yaml and postgres.yaml. The CSV files are in
// stream order, so the mapping declares them sorted.
func WriteCSV(ctx context.Context, cfg Config, dir string) (Summary, error) {
	g, err := newGenerator(cfg)
	if err != nil {
		return Summary{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Summary{}, fmt.Errorf("synth: %w", err)
	}
	sum := Summary{Rows: map[extract.Entity]int{}}
	// Every file is written atomically (atomicfile): a failed generate leaves the
	// files of an earlier one whole.
	planted, err := atomicfile.Create(filepath.Join(dir, plantedFile), 0o644)
	if err != nil {
		return sum, fmt.Errorf("synth: %w", err)
	}
	defer planted.Abort() // a no-op once committed
	pw := bufio.NewWriter(planted)
	enc := json.NewEncoder(pw)
	onPlant := func(p Planted) error {
		sum.Planted++
		return enc.Encode(p)
	}

	steps := []struct {
		entity extract.Entity
		file   string
		header []string
		rows   func(yield func(*csvRecord) bool)
	}{
		{extract.Users, usersFile, g.usersHeader(), adapt(g.userRows, g.userRecord())},
		{extract.Groups, groupsFile, groupsHeader, adapt(g.groupRows, groupRecord)},
		{extract.Members, membersFile, membersHeader, adapt(g.memberRows, memberRecord)},
		{extract.GroupMessages, groupMessagesFile, messagesHeader, adapt(g.groupMessageRows, groupMessageRecord)},
		{extract.DirectMessages, directMessagesFile, directHeader, adapt(g.directMessageRows, directMessageRecord)},
	}
	if g.cfg.GroupDMs > 0 {
		steps = append(steps, struct {
			entity extract.Entity
			file   string
			header []string
			rows   func(yield func(*csvRecord) bool)
		}{extract.GroupDMs, groupDMsFile, groupDMsHeader, adapt(g.groupDMRows, groupDMRecord)})
	}
	if g.cfg.extras() {
		// Extra columns and the topics (extras.go), only then: a dataset without
		// them keeps its bytes.
		steps[1].header = append(slices.Clone(groupsHeader), "support_topic")
		steps[1].rows = adapt(g.withSupportTopic(g.groupRows), withExtraColumns(groupRecord, 1, func(r *groupRow, f []string) {
			f[0] = ""
			if r.supportTopic {
				f[0] = "true"
			}
		}))
		steps[3].header = append(slices.Clone(messagesHeader), extraMessageHeader...)
		steps[3].rows = adapt(g.withTopics(g.withRich(g.groupMessageRows)), withExtraColumns(groupMessageRecord, len(extraMessageHeader), extraMessageFields))
		steps[4].header = append(slices.Clone(directHeader), extraMessageHeader...)
		steps[4].rows = adapt(g.withRich(g.directMessageRows), withExtraColumns(directMessageRecord, len(extraMessageHeader), extraMessageFields))
		if g.cfg.TopicGroups > 0 {
			steps = append(steps[:2], append([]struct {
				entity extract.Entity
				file   string
				header []string
				rows   func(yield func(*csvRecord) bool)
			}{{extract.Topics, topicsFile, topicsHeader, adapt(g.topicRows, topicRecord)}}, steps[2:]...)...)
		}
	}
	if g.cfg.Friends > 0 {
		steps = append(steps, struct {
			entity extract.Entity
			file   string
			header []string
			rows   func(yield func(*csvRecord) bool)
		}{extract.Friends, friendsFile, friendsHeader, adapt(g.friendRows, friendRecord)})
	}
	for _, st := range steps {
		n, err := writeFile(ctx, filepath.Join(dir, st.file), st.header, st.rows, func(rec *csvRecord, line int64) error {
			if rec.plant.kind == nil {
				return nil
			}
			return onPlant(plantedOf(st.entity, rec.plant, st.file+":"+strconv.FormatInt(line, 10)))
		})
		sum.Rows[st.entity] = n
		if err != nil {
			return sum, err
		}
	}
	if err := pw.Flush(); err != nil {
		return sum, fmt.Errorf("synth: %w", err)
	}
	if err := planted.Commit(); err != nil {
		return sum, fmt.Errorf("synth: %w", err)
	}
	for name, data := range map[string][]byte{
		"schema.sql":    []byte(Schema()),
		"csv.yaml":      g.csvMapping(),
		"postgres.yaml": g.postgresMapping(),
	} {
		err := atomicfile.WriteFile(filepath.Join(dir, name), 0o644, func(w io.Writer) error { _, err := w.Write(data); return err })
		if err != nil {
			return sum, fmt.Errorf("synth: %w", err)
		}
	}
	return sum, nil
}

func plantedOf(e extract.Entity, p plant, origin string) Planted {
	return Planted{
		Entity: e, LegacyID: p.legacyID, Kind: p.kind.Name, Rule: p.kind.Rule,
		Severity: p.kind.Severity, Origin: origin, CSVOnly: p.kind.CSVOnly,
	}
}

// csvRecord is one rendered row: its fields, how many of them to write (fewer for
// a ragged row) and what was planted.
type csvRecord struct {
	fields []string
	n      int
	plant  plant
}

// adapt renders each row of a stream into one reused csvRecord.
func adapt[T any](rows func(func(*T) bool), render func(*T, *csvRecord)) func(func(*csvRecord) bool) {
	return func(yield func(*csvRecord) bool) {
		rec := &csvRecord{}
		rows(func(row *T) bool {
			render(row, rec)
			return yield(rec)
		})
	}
}

func (rec *csvRecord) reset(n int, p plant) {
	if cap(rec.fields) < n {
		rec.fields = make([]string, n)
	}
	rec.fields = rec.fields[:n]
	rec.n = n
	rec.plant = p
}

func optInt(v int64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

// profileHeader are the users' profile columns (Config.Profiles).
var profileHeader = []string{"gender", "birthday", "kind", "active"}

func (g *generator) usersHeader() []string {
	if !g.cfg.Profiles {
		return usersHeader
	}
	return append(slices.Clone(usersHeader), profileHeader...)
}

func (g *generator) userRecord() func(*userRow, *csvRecord) {
	if !g.cfg.Profiles {
		return userRecord
	}
	return func(u *userRow, rec *csvRecord) {
		rec.reset(8, u.plant)
		rec.fields[0], rec.fields[1], rec.fields[2] = u.id, u.nick, u.face
		rec.fields[3] = strconv.FormatInt(u.created.Unix(), 10)
		rec.fields[4], rec.fields[5], rec.fields[6], rec.fields[7] = u.gender, "", u.kind, u.active
		if !u.birthday.IsZero() {
			rec.fields[5] = u.birthday.Format(time.DateOnly)
		}
	}
}

func userRecord(u *userRow, rec *csvRecord) {
	rec.reset(4, u.plant)
	rec.fields[0], rec.fields[1], rec.fields[2] = u.id, u.nick, u.face
	rec.fields[3] = strconv.FormatInt(u.created.Unix(), 10)
}

func groupRecord(g *groupRow, rec *csvRecord) {
	rec.reset(9, g.plant)
	copy(rec.fields, []string{g.id, g.owner, g.typ, g.name, g.intro, g.notice, g.face,
		optInt(int64(g.maxMembers)), g.created.UTC().Format(time.RFC3339)})
}

func memberRecord(m *memberRow, rec *csvRecord) {
	rec.reset(5, m.plant)
	rec.fields[0], rec.fields[1], rec.fields[2] = m.group, m.user, m.role
	rec.fields[3] = m.joined.UTC().Format(time.RFC3339)
	rec.fields[4] = ""
	if m.hasUnread {
		rec.fields[4] = strconv.Itoa(m.unread)
	}
	if m.defect == defectRagged {
		rec.n = 2
	}
}

// messageRecord renders a message; a and b are group_id and from_user for a group
// message, from_user and to_user for a direct one.
func messageRecord(m *messageRow, rec *csvRecord, a, b string) {
	rec.reset(13, m.plant)
	f := rec.fields
	f[0], f[1], f[2] = strconv.FormatInt(m.id, 10), a, b
	f[3] = strconv.FormatInt(m.sent.UnixMilli(), 10)
	f[4], f[5], f[6], f[7], f[8] = m.kind, m.text, m.payload, m.url, m.fileName
	f[9], f[10], f[11], f[12] = optInt(m.size), optInt(int64(m.width)), optInt(int64(m.height)), optInt(int64(m.duration))
	switch m.defect {
	case defectRagged:
		rec.n = 5
	case defectBadTime:
		f[3] = "yesterday"
	case defectBadNumber:
		f[10] = "wide"
	}
}

func groupMessageRecord(m *messageRow, rec *csvRecord) { messageRecord(m, rec, m.group, m.sender) }

func directMessageRecord(m *messageRow, rec *csvRecord) { messageRecord(m, rec, m.sender, m.recipient) }

func friendRecord(f *friendRow, rec *csvRecord) {
	rec.reset(4, plant{})
	rec.fields[0], rec.fields[1], rec.fields[2] = f.user, f.friend, f.remark
	rec.fields[3] = f.added.UTC().Format(friendsTimeLayout)
}

// writeFile writes one CSV file, calling onRow with each record's 1-based physical
// start line (a quoted field with newlines spans several lines).
func writeFile(ctx context.Context, path string, header []string, rows func(func(*csvRecord) bool), onRow func(*csvRecord, int64) error) (int, error) {
	f, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return 0, fmt.Errorf("synth: %w", err)
	}
	defer f.Abort() // a no-op once committed
	bw := bufio.NewWriterSize(f, 1<<16)
	w := csv.NewWriter(bw)
	if err := w.Write(header); err != nil {
		return 0, fmt.Errorf("synth: %s: %w", path, err)
	}
	line := int64(2)
	n := 0
	var werr error
	rows(func(rec *csvRecord) bool {
		if n%4096 == 0 {
			if werr = ctx.Err(); werr != nil {
				return false
			}
		}
		fields := rec.fields[:rec.n]
		if werr = w.Write(fields); werr != nil {
			return false
		}
		if werr = onRow(rec, line); werr != nil {
			return false
		}
		line++
		for _, s := range fields {
			line += int64(strings.Count(s, "\n"))
		}
		n++
		return true
	})
	if werr != nil {
		return n, fmt.Errorf("synth: %s: %w", path, werr)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return n, fmt.Errorf("synth: %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("synth: %s: %w", path, err)
	}
	return n, f.Commit()
}

// WritePlanted writes planted records as JSON lines.
func WritePlanted(w io.Writer, planted []Planted) error {
	enc := json.NewEncoder(w)
	for _, p := range planted {
		if err := enc.Encode(p); err != nil {
			return err
		}
	}
	return nil
}

// ReadPlanted reads planted.jsonl.
func ReadPlanted(r io.Reader) ([]Planted, error) {
	var out []Planted
	dec := json.NewDecoder(r)
	for dec.More() {
		var p Planted
		if err := dec.Decode(&p); err != nil {
			return out, fmt.Errorf("synth: planted: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

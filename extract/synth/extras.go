package synth

import (
	"slices"
	"strconv"
	"time"
)

// Extras: topic-enabled communities, rich messages and messages to split
// (Config.TopicGroups, Rich, SplitMessages). They change valid records only, and
// are derived from the message ids and the plan without drawing from the random
// streams, so a dataset without them is byte for byte what it was, and with them
// every other record stays as it was. They are written to the CSV export only.

// Topics of a topic group: its messages go to the group itself or to one of
// them by id.
var extraTopics = []string{"general", "random"}

const (
	topicsFile = "topics.csv"
	// communityType is groupTypes' index of "community".
	communityType = 3
)

var topicsHeader = []string{"id", "group_id", "name", "creator_id", "created_at"}

func (c Config) extras() bool { return c.TopicGroups > 0 || c.Rich || c.SplitMessages > 0 }

// topicGroups returns the indexes of the groups whose messages live in topics:
// the first TopicGroups valid community groups without any planted record of
// their own (whose positions a reordering would move).
func (g *generator) topicGroups() []int {
	var out []int
	for i, gp := range g.groups {
		if len(out) == g.cfg.TopicGroups {
			break
		}
		if gp.typ == communityType && gp.msgs > 0 && len(g.groupBad[i]) == 0 && len(g.memberBad[i]) == 0 && len(g.groupMsgs[i]) == 0 {
			out = append(out, i)
		}
	}
	return out
}

// topicOf is the topic of a topic group's message ("" for the group's own).
func topicOf(id int64) string {
	if k := id % int64(len(extraTopics)+1); k > 0 {
		return extraTopics[k-1]
	}
	return ""
}

// withSupportTopic marks the topic groups' rows.
func (g *generator) withSupportTopic(rows func(func(*groupRow) bool)) func(func(*groupRow) bool) {
	topic := map[string]bool{}
	for _, i := range g.topicGroups() {
		topic[g.groupID(i)] = true
	}
	return func(yield func(*groupRow) bool) {
		rows(func(row *groupRow) bool {
			row.supportTopic = topic[row.id] && row.plant.kind == nil
			return yield(row)
		})
	}
}

// topicRows yields the topics of the topic groups, in (group, topic) order.
func (g *generator) topicRows(yield func(*topicRow) bool) {
	for _, i := range g.topicGroups() {
		gp := g.groups[i]
		for _, name := range extraTopics {
			row := topicRow{id: name, group: g.groupID(i), name: "#" + name, creator: g.userID(int(gp.owner)), created: gp.created.Add(time.Minute)}
			if !yield(&row) {
				return
			}
		}
	}
}

// withTopics puts the topic groups' messages into their topics: a group's
// messages come together from rows, and leave as the reader orders them — the
// group's own first, then each topic's, each in time order (extract.Reader).
func (g *generator) withTopics(rows func(func(*messageRow) bool)) func(func(*messageRow) bool) {
	topic := map[string]bool{}
	for _, i := range g.topicGroups() {
		topic[g.groupID(i)] = true
	}
	return func(yield func(*messageRow) bool) {
		var held []messageRow
		flush := func() bool {
			for _, name := range append([]string{""}, extraTopics...) {
				for i := range held {
					if held[i].topic == name && !yield(&held[i]) {
						return false
					}
				}
			}
			held = held[:0]
			return true
		}
		ok := true
		rows(func(m *messageRow) bool {
			if len(held) > 0 && held[0].group != m.group && !flush() {
				ok = false
				return false
			}
			if !topic[m.group] {
				return yield(m)
			}
			row := *m
			row.topic = topicOf(row.id)
			held = append(held, row)
			return true
		})
		if ok && len(held) > 0 {
			flush()
		}
	}
}

// withRich adds rich fields and splits to valid messages, by id: replies,
// edits, reactions, a file attachment after a text, and texts over 12,000 bytes
// (policies.oversize: split).
func (g *generator) withRich(rows func(func(*messageRow) bool)) func(func(*messageRow) bool) {
	every := int64(0)
	if n := g.cfg.SplitMessages; n > 0 {
		every = max(1, int64(g.cfg.GroupMessages+g.cfg.DirectMessages)/int64(n))
	}
	return func(yield func(*messageRow) bool) {
		rows(func(m *messageRow) bool {
			if m.plant.kind != nil || m.defect != defectNone || (m.kind != "text" && m.kind != "") {
				return yield(m)
			}
			id := m.id
			if every > 0 && id%every == every/2 {
				// 13,000 to 37,000 bytes: two to four parts.
				m.text = longParagraphs(id, 13000+int(id%5)*6000)
			}
			if g.cfg.Rich {
				if id%10 == 3 && id > 1 {
					m.replyTo = strconv.FormatInt(id-1, 10)
				}
				if id%17 == 5 {
					m.edited = m.sent.Add(90 * time.Second)
				}
				if id%19 == 7 {
					m.reactions = `{"+1":["` + m.sender + `"],"🎉":[]}`
				}
				if id%23 == 11 {
					m.attachments = `[{"kind":"file","url":"https://cdn.example.com/att/` + strconv.FormatInt(id, 10) +
						`.pdf","file_name":"att-` + strconv.FormatInt(id, 10) + `.pdf","size":` + strconv.FormatInt(1000+id, 10) + `}]`
				}
			}
			return yield(m)
		})
	}
}

// longParagraphs is a text of at least n bytes in lines and paragraphs.
func longParagraphs(id int64, n int) string {
	b := make([]byte, 0, n+64)
	for i := 0; len(b) < n; i++ {
		b = append(b, "Paragraph "...)
		b = strconv.AppendInt(b, id, 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ": lorem ipsum <dolor> & sit amet, 你好世界, \"quoted\".\n"...)
		if i%5 == 4 {
			b = append(b, '\n')
		}
	}
	return string(b)
}

// extraMessageFields renders the extra columns of a message row.
func extraMessageFields(m *messageRow, f []string) {
	f[0], f[1], f[3] = m.attachments, m.replyTo, m.reactions
	f[2] = ""
	if !m.edited.IsZero() {
		f[2] = strconv.FormatInt(m.edited.UnixMilli(), 10)
	}
	f[4] = m.topic
}

var extraMessageHeader = []string{"attachments", "reply_to", "edited_at", "reactions", "topic_id"}

func withExtraColumns[T any](render func(*T, *csvRecord), extra int, fill func(*T, []string)) func(*T, *csvRecord) {
	return func(row *T, rec *csvRecord) {
		render(row, rec)
		n := rec.n
		full := len(rec.fields)
		rec.fields = slices.Grow(rec.fields, extra)[:full+extra]
		fill(row, rec.fields[full:])
		if n == full {
			rec.n = full + extra
		}
	}
}

func topicRecord(t *topicRow, rec *csvRecord) {
	rec.reset(5, plant{})
	copy(rec.fields, []string{t.id, t.group, t.name, t.creator, t.created.UTC().Format(time.RFC3339)})
}

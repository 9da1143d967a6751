package synth

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The message row streams (see gen.go for their order): group messages one group
// after another, direct messages one conversation after another, with the planted
// bad messages among them.

// stream generates the valid times of one stream of n messages starting after t0:
// mostly spread over the rest of the range, with some messages in the same second
// and some in the same millisecond (ties broken by id).
type stream struct {
	r    *rand.Rand
	t    time.Time
	mean time.Duration
	end  time.Time
}

func newStream(r *rand.Rand, t0, end time.Time, n int) *stream {
	return &stream{r: r, t: t0, mean: end.Sub(t0) / time.Duration(n+1), end: end}
}

func (s *stream) next() time.Time {
	switch p := s.r.IntN(100); {
	case p == 0: // same millisecond
	case p < 5: // same second, most likely
		s.t = s.t.Add(time.Duration(2+s.r.IntN(998)) * time.Millisecond)
	default:
		s.t = s.t.Add(s.mean/2 + time.Duration(s.r.Int64N(int64(s.mean)+1)))
	}
	if !s.t.Before(s.end) {
		s.t = s.end.Add(-time.Millisecond)
	}
	s.t = s.t.Truncate(time.Millisecond)
	return s.t
}

// fill sets a message's kind and content; media says whether rich media may be
// drawn (direct messages) or only what groups accept.
func fill(m *messageRow, r *rand.Rand, b *strings.Builder, media bool) {
	id := strconv.FormatInt(m.id, 10)
	p := r.IntN(100)
	if !media {
		p = p * 85 / 100 // only the first kinds below
	}
	switch {
	case p < 70:
		m.kind, m.text = "text", sentence(r, b)
		if r.IntN(50) == 0 {
			m.kind = "" // the mapping's default kind
		}
	case p < 74:
		m.kind, m.payload = "sticker", strconv.Itoa(r.IntN(40))
	case p < 76:
		m.kind = "like"
	case p < 79:
		m.kind, m.payload = "location", locationPayload(r)
	case p < 85:
		m.kind, m.text, m.payload = "card", "Contact card", cardPayload(r, "u"+strconv.Itoa(r.IntN(1000)))
	case p < 93:
		m.kind, m.url, m.hasMedia = "image", "https://cdn.example.com/img/"+id+".jpg", true
		m.width, m.height, m.size = 320+r.IntN(1600), 240+r.IntN(1200), int64(20_000+r.IntN(2_000_000))
	case p < 96:
		m.kind, m.url, m.hasMedia = "file", "https://cdn.example.com/files/"+id+".pdf", true
		m.fileName, m.size = "report-"+id+".pdf", int64(1_000+r.IntN(10_000_000))
	case p < 98:
		m.kind, m.url, m.hasMedia = "voice", "https://cdn.example.com/voice/"+id+".m4a", true
		m.size, m.duration = int64(5_000+r.IntN(500_000)), 1+r.IntN(60)
	default:
		m.kind, m.url, m.hasMedia = "video", "https://cdn.example.com/video/"+id+".mp4", true
		m.payload = "https://cdn.example.com/thumb/" + id + ".jpg"
		m.width, m.height = 640, 360
		m.size, m.duration = int64(100_000+r.IntN(50_000_000)), 1+r.IntN(300)
	}
}

// plantMessage turns m (already carrying an id, stream and time) into a planted bad
// message of kind k.
func (g *generator) plantMessage(m *messageRow, k *Kind, r *rand.Rand, b *strings.Builder, n int) {
	id := strconv.FormatInt(m.id, 10)
	m.kind, m.text = "text", sentence(r, b)
	switch k.Name {
	case "group_message_sender_unknown":
		m.sender = g.userID(r.IntN(g.cfg.Users)) + "-gone" + strconv.Itoa(n)
	case "group_message_oversize", "direct_message_oversize":
		m.text = longText(tencentimMaxBody + 500)
		if g.cfg.SplitMessages > 0 {
			// policies.oversize: split would split a text: a card has none to cut.
			m.kind, m.text, m.payload = "card", "Contact card", `{"blob":"`+longText(tencentimMaxBody+500)+`"}`
		}
	case "group_message_kind_unmapped", "direct_message_kind_unmapped":
		m.kind, m.text, m.payload = "poll", "Lunch?", `{"question":"Lunch?","options":["yes","no"]}`
	case "group_message_missing_sender":
		m.sender = ""
	case "group_message_rich_media":
		m.kind, m.text, m.url, m.hasMedia = "image", "", "https://cdn.example.com/img/"+id+".jpg", true
		m.width, m.height, m.size = 800, 600, 123_456
	case "group_message_bad_time":
		m.defect = defectBadTime
	case "group_message_ragged":
		m.defect = defectRagged
	case "direct_message_image_no_url":
		m.kind, m.text, m.hasMedia = "image", "", true
		m.width, m.height, m.size = 800, 600, 123_456
	case "direct_message_invalid_utf8":
		m.text = "caf\xe9 " + m.text // Latin-1, as old exports sometimes are
		m.defect = defectBadUTF8
	case "direct_message_bad_number":
		m.kind, m.text, m.url, m.hasMedia = "image", "", "https://cdn.example.com/img/"+id+".jpg", true
		m.width, m.height, m.size = 800, 600, 123_456
		m.defect = defectBadNumber
	}
	m.plant = plant{kind: k, legacyID: id}
}

// tencentimMaxBody mirrors tencentim.MaxMsgBodyBytes (spec §6.3) without importing
// the vendor package into a source-side generator.
const tencentimMaxBody = 12000

func (g *generator) groupMessageRows(yield func(*messageRow) bool) {
	g.groupsMessageRows(yield)
	g.groupDMMessageRows(yield) // after every group's: their ids sort last
}

func (g *generator) groupsMessageRows(yield func(*messageRow) bool) {
	var b strings.Builder
	id := int64(0)
	counter := 0
	for i, gp := range g.groups {
		gid := g.groupID(i)
		bad := g.groupMsgs[i]
		if gp.msgs == 0 && len(bad) == 0 {
			continue
		}
		rows, _ := g.memberSet(i)
		r := g.rng(tagGroupMessages, i)
		s := newStream(r, gp.created.Add(time.Hour+time.Duration(r.Int64N(int64(24*time.Hour)))), g.cfg.End, int(gp.msgs))
		var m messageRow
		var dups []messageRow
		var ghosts int
		for p := int32(0); p < gp.msgs; p++ {
			id++
			m = messageRow{id: id, group: gid, sender: rows[r.IntN(len(rows))].user, sent: s.next()}
			fill(&m, r, &b, false)
			if !yield(&m) {
				return
			}
			for ; len(bad) > 0 && bad[0].pos == p; bad = bad[1:] {
				counter++
				switch bad[0].kind.Name {
				case "group_message_duplicate":
					dups = append(dups, m)
					continue
				case "group_message_future":
					continue
				case "group_message_group_unknown":
					ghosts++
					continue
				}
				id++
				x := messageRow{id: id, group: gid, sender: m.sender, sent: m.sent}
				g.plantMessage(&x, bad[0].kind, r, &b, counter)
				if !yield(&x) {
					return
				}
			}
		}
		// Duplicates and future messages come last in their stream, as the readers
		// order them by time.
		last := s.t
		for _, d := range dups {
			last = last.Add(time.Second)
			if !yield(duplicate(&d, last, "group_message_duplicate")) {
				return
			}
		}
		for _, bm := range g.groupMsgs[i] {
			if bm.kind.Name != "group_message_future" {
				continue
			}
			id++
			last = futureStart.Add(time.Duration(id) * time.Minute)
			m = messageRow{id: id, group: gid, sender: rows[0].user, sent: last}
			g.plantMessage(&m, bm.kind, r, &b, counter)
			if !yield(&m) {
				return
			}
		}
		for n := range ghosts {
			id++
			ghost := gid + "-nogroup" + pad(n+1)
			m = messageRow{id: id, group: ghost, sender: rows[0].user, sent: gp.created.Add(time.Hour)}
			g.plantMessage(&m, ptrKind("group_message_group_unknown"), r, &b, counter)
			if !yield(&m) {
				return
			}
		}
	}
}

// pad numbers the unknown ids that open streams of their own, so that bytewise
// order (the readers') equals numeric order (the generator's).
func pad(n int) string { return fmt.Sprintf("%06d", n) }

func ptrKind(name string) *Kind { return plantOf(name, "").kind }

// duplicate turns a copy of a valid message into a planted repeat of its id, sent
// later. The copy keeps the content, so both sources read the same row (in
// PostgreSQL it joins the original's attachment), and writes no attachment of its
// own.
func duplicate(d *messageRow, sent time.Time, kind string) *messageRow {
	d.sent = sent
	d.hasMedia = false
	d.plant = plantOf(kind, strconv.FormatInt(d.id, 10))
	return d
}

func (g *generator) directMessageRows(yield func(*messageRow) bool) {
	var b strings.Builder
	id := g.directIDBase
	counter := 0
	for ci, cv := range g.convs {
		r := g.rng(tagDirectMessages, ci)
		lo, hi := g.userID(int(cv.lo)), g.userID(int(cv.hi))
		var m messageRow
		switch {
		case cv.self:
			id++
			m = messageRow{id: id, sender: lo, recipient: lo, sent: cv.start}
			g.plantMessage(&m, ptrKind("direct_message_self"), r, &b, 0)
			if !yield(&m) {
				return
			}
			continue
		case cv.ghost > 0:
			id++
			m = messageRow{id: id, sender: lo, recipient: hi + "-gone" + pad(int(cv.ghost)), sent: cv.start}
			g.plantMessage(&m, ptrKind("direct_message_recipient_unknown"), r, &b, 0)
			if !yield(&m) {
				return
			}
			continue
		}
		bad := g.directMsgs[convKey(cv.lo, cv.hi)]
		s := newStream(r, cv.start, g.cfg.End, int(cv.msgs))
		var dups []messageRow
		for p := int32(0); p < cv.msgs; p++ {
			id++
			m = messageRow{id: id, sender: lo, recipient: hi, sent: s.next()}
			if r.IntN(2) == 0 {
				m.sender, m.recipient = hi, lo
			}
			fill(&m, r, &b, true)
			if !yield(&m) {
				return
			}
			for ; len(bad) > 0 && bad[0].pos == p; bad = bad[1:] {
				counter++
				switch bad[0].kind.Name {
				case "direct_message_duplicate":
					dups = append(dups, m)
					continue
				case "direct_message_future":
					continue
				}
				id++
				x := messageRow{id: id, sender: m.sender, recipient: m.recipient, sent: m.sent}
				g.plantMessage(&x, bad[0].kind, r, &b, counter)
				if !yield(&x) {
					return
				}
			}
		}
		last := s.t
		for _, d := range dups {
			last = last.Add(time.Second)
			if !yield(duplicate(&d, last, "direct_message_duplicate")) {
				return
			}
		}
		for _, bm := range g.directMsgs[convKey(cv.lo, cv.hi)] {
			if bm.kind.Name != "direct_message_future" {
				continue
			}
			id++
			last = futureStart.Add(time.Duration(id) * time.Minute)
			m = messageRow{id: id, sender: lo, recipient: hi, sent: last}
			g.plantMessage(&m, bm.kind, r, &b, counter)
			if !yield(&m) {
				return
			}
		}
	}
}

package synth

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The row streams. Each yields rows in the order the extract readers produce them
// (users and groups by id, members by (group, joined_at, user), messages by stream,
// then (sent_at, id)), so that CSV files can be declared sorted and PostgreSQL keyset
// order equals file order. A yielded row is reused after yield returns.

func (g *generator) userRows(yield func(*userRow) bool) {
	r := g.rng(tagUsers, 0)
	day := 24 * time.Hour
	created := func() time.Time { return randTime(r, g.cfg.Start.Add(-365*day), 365*day, time.Second) }
	face := func(id string) string {
		if r.IntN(10) < 3 {
			return ""
		}
		return faceURL("avatars", id)
	}
	var row userRow
	for n, h := range g.reserved {
		id := "@RBT#" + g.userID(h)
		row = userRow{id: id, nick: "bot " + strconv.Itoa(n+1), created: created(), plant: plantOf("user_id_reserved", id)}
		if !yield(&row) {
			return
		}
	}
	counter := 0
	var extras []userRow
	for i := range g.cfg.Users {
		id := g.userID(i)
		row = userRow{id: id, nick: nick(r), face: face(id), created: created()}
		extras = extras[:0]
		for _, k := range g.userBad[i] {
			counter++
			n := strconv.Itoa(counter)
			switch k.Name {
			case "user_nick_long":
				row.nick = longNick()
				row.plant = plantOf(k.Name, id)
				continue
			case "user_duplicate":
				// Filled below from the final row, so that both rows are identical.
				extras = append(extras, userRow{id: id, plant: plantOf(k.Name, id)})
				continue
			}
			var xid string
			switch k.Name {
			case "user_id_too_long":
				xid = id + "-" + strings.Repeat("l", 32) + n
			case "user_id_invalid_chars":
				xid = id + " x" + n
			case "user_id_unusual":
				xid = id + ".x" + n
			}
			extras = append(extras, userRow{id: xid, nick: nick(r), face: face(xid), created: created(), plant: plantOf(k.Name, xid)})
		}
		if !yield(&row) {
			return
		}
		for j := range extras {
			if extras[j].plant.kind.Name == "user_duplicate" {
				p := extras[j].plant
				extras[j] = row
				extras[j].plant = p
			}
		}
		slices.SortStableFunc(extras, func(a, b userRow) int { return strings.Compare(a.id, b.id) })
		for j := range extras {
			if !yield(&extras[j]) {
				return
			}
		}
	}
}

func plantOf(kind, legacyID string) plant {
	k, ok := kindByName(kind)
	if !ok {
		panic("synth: unknown kind " + kind)
	}
	return plant{kind: &k, legacyID: legacyID}
}

func (g *generator) groupRows(yield func(*groupRow) bool) {
	r := g.rng(tagGroups, 0)
	span := g.cfg.End.Sub(g.cfg.Start)
	counter := 0
	var extras []groupRow
	for i, gp := range g.groups {
		id := g.groupID(i)
		row := groupRow{
			id:      id,
			owner:   g.userID(int(gp.owner)),
			typ:     groupTypes[gp.typ],
			name:    groupWords[r.IntN(len(groupWords))] + " " + strconv.Itoa(i+1),
			created: gp.created,
		}
		if r.IntN(2) == 0 {
			row.intro = sentence(r, new(strings.Builder))
		}
		if r.IntN(4) == 0 {
			row.notice = "Be nice, " + nick(r) + "!"
		}
		if r.IntN(3) == 0 {
			row.face = faceURL("groups", id)
		}
		row.maxMembers = []int{0, 200, 500, 2000}[r.IntN(4)]
		if row.maxMembers != 0 && row.maxMembers < int(gp.members) || row.maxMembers == 0 && gp.members > 2000 {
			row.maxMembers = int(gp.members) + 100
		}
		extras = extras[:0]
		for _, k := range g.groupBad[i] {
			counter++
			n := strconv.Itoa(counter)
			switch k.Name {
			case "group_name_long":
				row.name = "The very long name of group " + strconv.Itoa(i+1) + " 🚀"
				row.plant = plantOf(k.Name, id)
				continue
			case "group_create_late":
				// Legacy data where the group row was written after the group was in
				// use: its members joined and its messages were sent before.
				row.created = gp.created.Add(60 * 24 * time.Hour)
				row.plant = plantOf(k.Name, id)
				continue
			case "group_duplicate":
				extras = append(extras, groupRow{id: id, plant: plantOf(k.Name, id)})
				continue
			}
			x := groupRow{
				id:      id + "-" + strings.TrimPrefix(k.Name, "group_") + n,
				owner:   g.userID(r.IntN(g.cfg.Users)),
				typ:     "public",
				name:    "Extra group " + n,
				created: randTime(r, g.cfg.Start, span/2, time.Second),
			}
			switch k.Name {
			case "group_avchatroom":
				x.typ = "broadcast"
			case "group_type_unmapped":
				x.typ = "channel"
			case "group_name_empty":
				x.name = ""
			case "group_owner_unknown":
				x.owner = g.userID(r.IntN(g.cfg.Users)) + "-gone" + n
			case "group_id_invalid":
				x.id = id + "-" + strings.Repeat("x", 48) + n
			case "group_create_future":
				x.created = futureStart.Add(time.Duration(counter) * 24 * time.Hour)
			}
			x.plant = plantOf(k.Name, x.id)
			extras = append(extras, x)
		}
		if !yield(&row) {
			return
		}
		for j := range extras {
			if extras[j].plant.kind.Name == "group_duplicate" {
				p := extras[j].plant
				extras[j] = row
				extras[j].plant = p
			}
		}
		slices.SortStableFunc(extras, func(a, b groupRow) int { return strings.Compare(a.id, b.id) })
		for j := range extras {
			if !yield(&extras[j]) {
				return
			}
		}
	}
}

// memberSet derives the valid members of group i, owner first, and returns the
// random stream it used so that the members pass can go on drawing from it.
func (g *generator) memberSet(i int) ([]memberRow, *rand.Rand) {
	gp := g.groups[i]
	r := g.rng(tagMembers, i)
	gid := g.groupID(i)
	rows := make([]memberRow, 0, gp.members)
	rows = append(rows, memberRow{group: gid, user: g.userID(int(gp.owner)), role: "owner", joined: gp.created})
	in := map[int32]bool{gp.owner: true}
	for int32(len(rows)) < gp.members {
		u := int32(r.IntN(g.cfg.Users))
		if in[u] {
			continue
		}
		in[u] = true
		m := memberRow{
			group: gid,
			user:  g.userID(int(u)),
			// Members join after the group was created, so only planted rows need
			// a CreateTime repair.
			joined: randTime(r, gp.created.Add(time.Hour), 30*24*time.Hour, time.Second),
		}
		switch p := r.IntN(100); {
		case p < 8:
			m.role = "admin"
		case p < 12:
			m.role = "moderator"
		case p < 15:
			m.role = "" // the mapping's default role
		default:
			m.role = "member"
		}
		if r.IntN(10) < 3 {
			m.unread, m.hasUnread = r.IntN(20), true
		}
		rows = append(rows, m)
	}
	return rows, r
}

func (g *generator) memberRows(yield func(*memberRow) bool) {
	counter := 0
	for i := range g.groups {
		rows, r := g.memberSet(i)
		gp := g.groups[i]
		gid := g.groupID(i)
		in := make(map[string]bool, len(rows))
		for _, m := range rows {
			in[m.user] = true
		}
		outsider := func() (string, bool) {
			for range 50 {
				u := g.userID(r.IntN(g.cfg.Users))
				if !in[u] {
					in[u] = true
					return u, true
				}
			}
			return "", false
		}
		var ghosts []memberRow
		for _, k := range g.memberBad[i] {
			counter++
			n := strconv.Itoa(counter)
			m := memberRow{group: gid, role: "member", joined: gp.created.Add(2 * time.Hour)}
			switch k.Name {
			case "member_user_unknown":
				m.user = g.userID(r.IntN(g.cfg.Users)) + "-gone" + n
			case "member_role_unmapped", "member_join_future", "member_ragged":
				u, ok := outsider()
				if !ok {
					continue
				}
				m.user = u
				switch k.Name {
				case "member_role_unmapped":
					m.role = "superuser"
				case "member_join_future":
					m.joined = futureStart.Add(time.Duration(counter) * time.Hour)
				case "member_ragged":
					m.defect = defectRagged
				}
			case "member_duplicate":
				if gp.members < 2 {
					continue
				}
				// A valid row, never the owner's (which is skipped by policy).
				m = rows[1+r.IntN(int(gp.members)-1)]
			case "member_group_unknown":
				m.group = gid + "-nogroup" + pad(counter)
				m.user = g.userID(r.IntN(g.cfg.Users))
				m.plant = plantOf(k.Name, m.group+"/"+m.user)
				ghosts = append(ghosts, m)
				continue
			}
			m.plant = plantOf(k.Name, m.group+"/"+m.user)
			rows = append(rows, m)
		}
		// A stable sort keeps a planted duplicate after the row it repeats.
		slices.SortStableFunc(rows, func(a, b memberRow) int {
			return cmp.Or(a.joined.Compare(b.joined), strings.Compare(a.user, b.user))
		})
		for j := range rows {
			if !yield(&rows[j]) {
				return
			}
		}
		for j := range ghosts {
			if !yield(&ghosts[j]) {
				return
			}
		}
	}
}

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

func (g *generator) friendRows(yield func(*friendRow) bool) {
	r := g.rng(tagFriends, 0)
	seen := make(map[uint64]bool, g.cfg.Friends)
	pairs := make([][2]int32, 0, g.cfg.Friends)
	for len(pairs) < g.cfg.Friends {
		a, b := int32(r.IntN(g.cfg.Users)), int32(r.IntN(g.cfg.Users-1))
		if b >= a {
			b++
		}
		if seen[convKey(a, b)] {
			continue
		}
		seen[convKey(a, b)] = true
		pairs = append(pairs, [2]int32{a, b})
	}
	slices.SortFunc(pairs, func(x, y [2]int32) int { return cmp.Or(cmp.Compare(x[0], y[0]), cmp.Compare(x[1], y[1])) })
	var row friendRow
	for _, p := range pairs {
		row = friendRow{user: g.userID(int(p[0])), friend: g.userID(int(p[1])),
			added: randTime(r, g.cfg.Start, g.cfg.End.Sub(g.cfg.Start), time.Second)}
		if r.IntN(3) == 0 {
			row.remark = nick(r)
		}
		if !yield(&row) {
			return
		}
	}
}

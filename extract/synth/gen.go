package synth

import (
	"cmp"
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
		if g.cfg.Profiles {
			g.profile(&row, i)
		}
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
		// A friendship row is one direction (the friend in the user's list):
		// half the friendships are mutual, two rows, one per direction.
		if len(pairs) < g.cfg.Friends && r.IntN(2) == 0 && !seen[convKey(b, a)] {
			seen[convKey(b, a)] = true
			pairs = append(pairs, [2]int32{b, a})
		}
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

// profile sets the profile fields of valid user i (Config.Profiles), from i alone
// so that no other row changes: a third of the users are women, a third men and a
// third say nothing; most have a birthday; one in 10 is a bot, one in 7 a guest,
// one in 11 deactivated.
func (g *generator) profile(u *userRow, i int) {
	u.gender = [3]string{"f", "m", ""}[i%3]
	if i%4 != 3 {
		u.birthday = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (i*7919)%(40*365))
	}
	switch {
	case i%10 == 9:
		u.kind = "bot"
	case i%7 == 6:
		u.kind = "guest"
	default:
		u.kind = "human"
	}
	u.active = "1"
	if i%11 == 10 {
		u.active = "0"
	}
}

package synth

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/immigrate/immigrate/extract"
)

// Group DMs (Config.GroupDMs): conversations of 3-6 users without a group, each
// with 0-12 text messages in the group_messages file after the groups' own (their
// ids, "m…", sort after every group id, so the file stays in stream order), and
// planted ones of two people or with an unknown member, which have no messages
// so that their reject cascades into nothing. Everything comes from the group
// DMs' own random stream, so a dataset without group DMs is the same bytes as
// before they existed.

const (
	groupDMsFile = "group_dms.csv"
	// groupDMMsgIDBase starts the group DMs' message ids, apart from the one id
	// sequence of the groups' and the conversations' messages (the PostgreSQL
	// attachments join on it).
	groupDMMsgIDBase = 9_000_000_000_000
)

var groupDMsHeader = []string{"dm_id", "participants", "created", "title", "started_by"}

type dmPlan struct {
	members []int32
	created time.Time
	msgs    int32
	bad     []*Kind // planted group DMs after this one
}

type groupDMRow struct {
	id               string
	members          []string
	created          time.Time
	title, startedBy string
	plant            plant
}

func (g *generator) groupDMID(i int) string {
	return fmt.Sprintf("m%0*d", len(strconv.Itoa(max(g.cfg.GroupDMs, 1))), i+1)
}

// planGroupDMs draws the group DMs, after plan.
func (g *generator) planGroupDMs() {
	c := g.cfg
	if c.GroupDMs == 0 {
		return
	}
	r := g.rng(tagGroupDMs, 0)
	span := c.End.Sub(c.Start)
	g.dms = make([]dmPlan, c.GroupDMs)
	for i := range g.dms {
		n := min(3+r.IntN(4), c.Users)
		picked := map[int32]bool{}
		d := &g.dms[i]
		for len(d.members) < n {
			u := int32(r.IntN(c.Users))
			if !picked[u] {
				picked[u] = true
				d.members = append(d.members, u)
			}
		}
		d.created = randTime(r, c.Start, span/2, time.Second)
		d.msgs = int32(r.IntN(13))
	}
	for i := range kinds {
		k := &kinds[i]
		if k.Entity != extract.GroupDMs {
			continue
		}
		for range c.count(*k, c.GroupDMs) {
			h := r.IntN(c.GroupDMs)
			g.dms[h].bad = append(g.dms[h].bad, k)
		}
	}
}

func (g *generator) groupDMRows(yield func(*groupDMRow) bool) {
	var row groupDMRow
	for i, d := range g.dms {
		id := g.groupDMID(i)
		row = groupDMRow{id: id, created: d.created}
		for _, u := range d.members {
			row.members = append(row.members, g.userID(int(u)))
		}
		if i%4 == 1 {
			row.title = groupWords[i%len(groupWords)] + " chat"
		}
		if i%2 == 0 {
			row.startedBy = row.members[0]
		}
		if !yield(&row) {
			return
		}
		for n, k := range d.bad {
			x := groupDMRow{id: fmt.Sprintf("%s-x%d", id, n+1), created: d.created, plant: plantOf(k.Name, "")}
			x.plant.legacyID = x.id
			switch k.Name {
			case "group_dm_two_members":
				x.members = row.members[:2]
			case "group_dm_member_unknown":
				x.members = append(append([]string(nil), row.members...), id+"-ghost")
			}
			if !yield(&x) {
				return
			}
		}
	}
}

// groupDMMessageRows yields the group DMs' messages, each DM one stream in time
// order, sent by its members.
func (g *generator) groupDMMessageRows(yield func(*messageRow) bool) {
	var b strings.Builder
	id := int64(groupDMMsgIDBase)
	for i, d := range g.dms {
		if d.msgs == 0 {
			continue
		}
		r := g.rng(tagGroupDMs, i+1)
		s := newStream(r, d.created.Add(time.Hour), g.cfg.End, int(d.msgs))
		for range d.msgs {
			id++
			m := messageRow{id: id, group: g.groupDMID(i), sender: g.userID(int(d.members[r.IntN(len(d.members))])), sent: s.next(),
				kind: "text", text: sentence(r, &b)}
			if !yield(&m) {
				return
			}
		}
	}
}

func groupDMRecord(d *groupDMRow, rec *csvRecord) {
	rec.reset(5, d.plant)
	members, _ := json.Marshal(d.members)
	rec.fields[0], rec.fields[1] = d.id, string(members)
	rec.fields[2] = d.created.UTC().Format(time.RFC3339)
	rec.fields[3], rec.fields[4] = d.title, d.startedBy
}

func groupDMValues(d *groupDMRow, v []any) (plant, bool) {
	v[0], v[1], v[2], v[3], v[4] = d.id, d.members, d.created, null(d.title), null(d.startedBy)
	return d.plant, true
}

// The group DMs' parts of the generated mappings.
const (
	groupDMsCSVEntity = `  group_dms:
    file: group_dms.csv
    columns: {id: dm_id, members: participants, created_at: created, name: title, creator_id: started_by}
    time: rfc3339
`
	groupDMsPostgresEntity = `  group_dms:
    query: SELECT id, members, created_at, title AS name, creator_id FROM group_dms
`
	groupDMsSection = `
group_dms:
  type: Private                   # each group DM becomes a private group named after its members
`
)

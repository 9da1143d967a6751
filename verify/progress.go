package verify

import (
	"sync/atomic"

	"github.com/immigrate/immigrate/extract"
)

// Progress is the live count of checked records per entity, updated by Run and
// read by whoever draws it (style.md habit 11: only cmd draws). Safe for
// concurrent use.
type Progress struct {
	checkedN [nEntities]atomic.Int64 // by index in entities
	totals   [nEntities]atomic.Int64
	findings atomic.Int64
}

// nEntities is len(entities); init checks it.
const nEntities = 8

func init() {
	if len(entities) != nEntities {
		panic("verify: nEntities is not the number of entities")
	}
}

// NewProgress returns zero counters.
func NewProgress() *Progress { return &Progress{} }

// SetTotal sets the number of records of e to check, when known (0: unknown).
func (p *Progress) SetTotal(e extract.Entity, n int64) {
	if i := entityIndex(e); i >= 0 {
		p.totals[i].Store(n)
	}
}

// EntityProgress is one entity's progress.
type EntityProgress struct {
	Entity  extract.Entity
	Checked int64
	Total   int64 // 0: unknown
}

// Snapshot returns every entity's progress in migration order, and the findings
// so far.
func (p *Progress) Snapshot() ([]EntityProgress, int64) {
	out := make([]EntityProgress, 0, len(entities))
	for i, e := range entities {
		ep := EntityProgress{Entity: e.entity, Checked: p.checkedN[i].Load(), Total: p.totals[i].Load()}
		if (e.entity == extract.GroupDMs || e.entity == extract.Profiles) && ep.Checked == 0 && ep.Total == 0 {
			continue // group DMs and profiles only when there are some
		}
		out = append(out, ep)
	}
	return out, p.findings.Load()
}

func (p *Progress) checked(e extract.Entity) {
	if i := entityIndex(e); i >= 0 {
		p.checkedN[i].Add(1)
	}
}

func (p *Progress) found() { p.findings.Add(1) }

func entityIndex(e extract.Entity) int {
	for i, x := range entities {
		if x.entity == e {
			return i
		}
	}
	return -1
}

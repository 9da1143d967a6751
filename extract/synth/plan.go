package synth

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Random streams. Every stream of rows has its own PCG seeded by (Config.Seed,
// tag<<40 | index), so that a pass can be regenerated on its own — the members of
// a group are derived again when its messages pick their senders — and the
// PostgreSQL loader can walk the messages twice (messages, then attachments).
const (
	tagPlan uint64 = iota + 1
	tagUsers
	tagGroups
	tagMembers
	tagGroupMessages
	tagDirectMessages
	tagFriends
	tagGroupDMs
)

func (g *generator) rng(tag uint64, index int) *rand.Rand {
	return rand.New(rand.NewPCG(g.cfg.Seed, tag<<40|uint64(index)))
}

// groupPlan is what every pass needs to know of one valid group.
type groupPlan struct {
	owner   int32
	members int32
	msgs    int32
	typ     uint8 // index into groupTypes
	created time.Time
}

// convPlan is one conversation stream. Planted self-conversations are (a, a);
// planted unknown-recipient conversations are (lo, hi, ghost>0) with recipient
// userID(hi)+"-gone<ghost>", which sorts right after (lo, hi) and before (lo, hi+1).
type convPlan struct {
	lo, hi int32
	ghost  int32
	self   bool
	msgs   int32
	start  time.Time
}

// badMsg places a planted message in a stream, after its pos-th valid message.
type badMsg struct {
	pos  int32
	kind *Kind
}

// generator holds the plan of a dataset: per-group and per-conversation facts and
// where each planted record goes. It never holds a message.
type generator struct {
	cfg    Config
	uw, gw int // digits of user and group numbers

	groups []groupPlan
	convs  []convPlan

	userBad    map[int][]*Kind // host user → planted users after (or on) it
	reserved   []int           // hosts of the "@RBT#" users, which sort before all
	groupBad   map[int][]*Kind
	memberBad  map[int][]*Kind
	groupMsgs  map[int][]badMsg
	directMsgs map[uint64][]badMsg // by convKey(lo, hi)

	directIDBase int64 // direct message ids follow the group messages' (one legacy id space)

	dms []dmPlan // groupdms.go
}

func convKey(lo, hi int32) uint64 { return uint64(uint32(lo))<<32 | uint64(uint32(hi)) }

var groupTypes = []string{"public", "private", "meeting", "community"}

func newGenerator(cfg Config) (*generator, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	g := &generator{
		cfg:        cfg,
		uw:         len(strconv.Itoa(cfg.Users)),
		gw:         len(strconv.Itoa(max(cfg.Groups, 1))),
		userBad:    map[int][]*Kind{},
		groupBad:   map[int][]*Kind{},
		memberBad:  map[int][]*Kind{},
		groupMsgs:  map[int][]badMsg{},
		directMsgs: map[uint64][]badMsg{},
	}
	g.plan()
	g.planGroupDMs()
	return g, nil
}

func (g *generator) userID(i int) string  { return fmt.Sprintf("u%0*d", g.uw, i+1) }
func (g *generator) groupID(i int) string { return fmt.Sprintf("g%0*d", g.gw, i+1) }

// randTime returns a time in [from, from+span), truncated to unit.
func randTime(r *rand.Rand, from time.Time, span, unit time.Duration) time.Time {
	if span <= 0 {
		return from.Truncate(unit)
	}
	return from.Add(time.Duration(r.Int64N(int64(span)))).Truncate(unit)
}

func (g *generator) plan() {
	c := g.cfg
	r := g.rng(tagPlan, 0)
	span := c.End.Sub(c.Start)

	// Groups: created in the first half of the range, so that they have a history.
	g.groups = make([]groupPlan, c.Groups)
	for i := range g.groups {
		g.groups[i] = groupPlan{
			owner:   int32(r.IntN(c.Users)),
			members: int32(min(c.MembersMin+r.IntN(c.MembersMax-c.MembersMin+1), c.Users)),
			typ:     uint8(r.IntN(len(groupTypes))),
			created: randTime(r, c.Start, span/2, time.Second),
		}
	}
	for i, n := range skewed(r, c.GroupMessages, c.Groups) {
		g.groups[i].msgs = int32(n)
	}

	// Conversations: distinct unordered pairs, each starting somewhere in the range.
	seen := make(map[uint64]bool, c.Conversations)
	for len(g.convs) < c.Conversations {
		a, b := int32(r.IntN(c.Users)), int32(r.IntN(c.Users-1))
		if b >= a {
			b++
		}
		lo, hi := min(a, b), max(a, b)
		if seen[convKey(lo, hi)] {
			continue
		}
		seen[convKey(lo, hi)] = true
		g.convs = append(g.convs, convPlan{lo: lo, hi: hi, start: randTime(r, c.Start, span-24*time.Hour, time.Millisecond)})
	}
	sortConvs(g.convs)
	for i, n := range skewed(r, c.DirectMessages, len(g.convs)) {
		g.convs[i].msgs = int32(n)
	}

	members := 0
	for _, gp := range g.groups {
		members += int(gp.members)
	}
	groupMsgIDs := int64(c.GroupMessages)
	groupCum := cumulative(len(g.groups), func(i int) int { return int(g.groups[i].msgs) })
	convCum := cumulative(len(g.convs), func(i int) int { return int(g.convs[i].msgs) })
	goodConvs := len(g.convs)
	selfUsed := map[int32]bool{}
	ghosts := map[uint64]int32{}

	for i := range kinds {
		k := &kinds[i]
		switch k.Entity {
		case "users":
			for range c.count(*k, c.Users) {
				h := r.IntN(c.Users)
				if k.Name == "user_id_reserved" {
					g.reserved = append(g.reserved, h)
					continue
				}
				g.userBad[h] = append(g.userBad[h], k)
			}
		case "groups":
			for range c.count(*k, c.Groups) {
				h := r.IntN(c.Groups)
				if k.Name == "group_create_late" {
					// The clamp needs a member join or a message after the legacy
					// CreateTime: a group with nothing but its owner cannot show it.
					for try := 0; try < 20 && g.groups[h].members < 2 && g.groups[h].msgs == 0; try++ {
						h = r.IntN(c.Groups)
					}
					if g.groups[h].members < 2 && g.groups[h].msgs == 0 {
						continue
					}
				}
				g.groupBad[h] = append(g.groupBad[h], k)
			}
		case "group_members":
			for range c.count(*k, members) {
				h := r.IntN(c.Groups)
				g.memberBad[h] = append(g.memberBad[h], k)
			}
		case "group_messages":
			for range c.count(*k, c.GroupMessages) {
				m := r.IntN(c.GroupMessages)
				h := sort.Search(len(groupCum), func(i int) bool { return groupCum[i] > m }) - 1
				g.groupMsgs[h] = append(g.groupMsgs[h], badMsg{pos: int32(m - groupCum[h]), kind: k})
				if k.Name != "group_message_duplicate" {
					groupMsgIDs++
				}
			}
		case "direct_messages":
			for range c.count(*k, c.DirectMessages) {
				switch k.Name {
				case "direct_message_self":
					a := int32(r.IntN(c.Users))
					for selfUsed[a] && len(selfUsed) < c.Users {
						a = int32(r.IntN(c.Users))
					}
					if selfUsed[a] {
						continue
					}
					selfUsed[a] = true
					g.convs = append(g.convs, convPlan{lo: a, hi: a, self: true, msgs: 1,
						start: randTime(r, c.Start, span-24*time.Hour, time.Millisecond)})
				case "direct_message_recipient_unknown":
					host := g.convs[r.IntN(goodConvs)]
					ghosts[convKey(host.lo, host.hi)]++
					g.convs = append(g.convs, convPlan{lo: host.lo, hi: host.hi, ghost: ghosts[convKey(host.lo, host.hi)], msgs: 1,
						start: randTime(r, c.Start, span-24*time.Hour, time.Millisecond)})
				default:
					m := r.IntN(c.DirectMessages)
					h := sort.Search(len(convCum), func(i int) bool { return convCum[i] > m }) - 1
					key := convKey(g.convs[h].lo, g.convs[h].hi)
					g.directMsgs[key] = append(g.directMsgs[key], badMsg{pos: int32(m - convCum[h]), kind: k})
				}
			}
		}
	}
	slices.Sort(g.reserved)
	g.reserved = slices.Compact(g.reserved)
	sortConvs(g.convs)
	for _, bad := range g.groupMsgs {
		slices.SortStableFunc(bad, func(a, b badMsg) int { return cmp.Compare(a.pos, b.pos) })
	}
	for _, bad := range g.directMsgs {
		slices.SortStableFunc(bad, func(a, b badMsg) int { return cmp.Compare(a.pos, b.pos) })
	}
	g.directIDBase = groupMsgIDs
}

// sortConvs orders conversations as extract.ConversationKey orders their streams:
// user ids are zero-padded, so numeric order is bytewise order; a self-conversation
// (a, a) comes before every (a, b > a); an unknown recipient "<hi>-gone<n>" right
// after (lo, hi).
func sortConvs(cs []convPlan) {
	slices.SortFunc(cs, func(a, b convPlan) int {
		return cmp.Or(cmp.Compare(a.lo, b.lo), cmp.Compare(a.hi, b.hi), cmp.Compare(a.ghost, b.ghost))
	})
}

// skewed splits n items over k buckets with a Zipf-like skew (weight 1/rank, ranks
// shuffled), so that a few streams are large and most are small.
func skewed(r *rand.Rand, n, k int) []int {
	out := make([]int, k)
	if k == 0 || n == 0 {
		return out
	}
	ranks := r.Perm(k)
	total := 0.0
	for _, rk := range ranks {
		total += 1 / float64(rk+1)
	}
	given := 0
	for i, rk := range ranks {
		out[i] = int(float64(n) / float64(rk+1) / total)
		given += out[i]
	}
	for i := 0; given < n; i = (i + 1) % k {
		out[i]++
		given++
	}
	return out
}

// cumulative returns the start offset of each of n buckets.
func cumulative(n int, size func(int) int) []int {
	out := make([]int, n)
	sum := 0
	for i := range n {
		out[i] = sum
		sum += size(i)
	}
	return out
}

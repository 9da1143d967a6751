package synth

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Config sizes a dataset. The same Config always yields the same dataset, byte for
// byte.
type Config struct {
	Seed uint64
	// Users is the number of valid users; bad users are planted on top.
	Users int
	// Groups is the number of valid groups; bad groups are planted on top.
	Groups int
	// MembersMin and MembersMax bound the members per group, owner included.
	MembersMin, MembersMax int
	// GroupMessages and DirectMessages are the valid messages, spread over the
	// groups and the conversations with a skewed (Zipf-like) distribution so that
	// some streams are much larger than others.
	GroupMessages  int
	DirectMessages int
	// Conversations is the number of one-to-one conversations; 0 means one per 40
	// direct messages.
	Conversations int
	// Friends is the number of (one-way) friendships; the optional friends entity.
	Friends int
	// GroupDMs is the number of valid group DMs (conversations of 3-6 users
	// without a group); the optional group_dms entity.
	GroupDMs int
	// TopicGroups is the number of community groups whose messages are spread
	// over two topics besides the group itself (spec §8.11); Rich gives some
	// valid messages a file attachment, a reply_to, an edit time or reactions;
	// SplitMessages is about how many valid text messages are over 12,000 bytes,
	// split by the mapping's policies.oversize: split. These extras are written
	// to the CSV export only (extras.go).
	TopicGroups   int
	Rich          bool
	SplitMessages int
	// Profiles gives the users profile fields (spec §4): a gender and a birthday
	// for some, and the custom fields Kind (bot, guest or human) and Active (0 for
	// deactivated users, else 1), which the mappings import in the profiles phase.
	// They are a function of the user alone, so the rest of the dataset is the
	// same with or without them.
	Profiles bool
	// BadShare is the share, for every kind of bad record, of its entity's valid
	// records planted as that kind (0.01 = 1 %), at least one per kind when > 0.
	BadShare float64
	// KindShare overrides BadShare for the named kinds (see Kinds); 0 plants none.
	KindShare map[string]float64
	// Start and End bound the data's time range; zero means 2023-01-01 and
	// 2025-01-01 UTC.
	Start, End time.Time
}

// Defaults of Config.
var (
	DefaultStart = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	DefaultEnd   = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
)

// futureStart is where planted future timestamps begin: far enough that no
// validation clock will reach it.
var futureStart = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)

func (c Config) withDefaults() Config {
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	if c.End.IsZero() {
		c.End = DefaultEnd
	}
	if c.MembersMin == 0 && c.MembersMax == 0 {
		c.MembersMin, c.MembersMax = 2, 20
	}
	if c.Conversations == 0 && c.DirectMessages > 0 {
		c.Conversations = max(1, c.DirectMessages/40)
	}
	return c
}

// Validate reports every problem of the configuration.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Users < 2 {
		bad("users %d: need at least 2", c.Users)
	}
	if c.Groups < 0 || c.GroupMessages < 0 || c.DirectMessages < 0 || c.Conversations < 0 || c.Friends < 0 || c.GroupDMs < 0 {
		bad("sizes must not be negative")
	}
	if c.MembersMin < 1 || c.MembersMax < c.MembersMin {
		bad("members per group %d..%d: need 1 ≤ min ≤ max", c.MembersMin, c.MembersMax)
	}
	if c.GroupMessages > 0 && c.Groups == 0 {
		bad("group messages need at least one group")
	}
	if c.DirectMessages > 0 && c.Conversations > c.DirectMessages {
		bad("conversations %d: more than the %d direct messages", c.Conversations, c.DirectMessages)
	}
	if pairs := float64(c.Users) * float64(c.Users-1) / 2; float64(c.Conversations) > pairs/2 {
		bad("conversations %d: too many for %d users (at most %.0f)", c.Conversations, c.Users, pairs/2)
	}
	if pairs := float64(c.Users) * float64(c.Users-1); float64(c.Friends) > pairs/2 {
		bad("friends %d: too many for %d users (at most %.0f)", c.Friends, c.Users, pairs/2)
	}
	if c.GroupDMs > 0 && c.Users < 3 {
		bad("group DMs need at least 3 users")
	}
	if !(c.BadShare >= 0 && c.BadShare <= 0.5) {
		bad("bad share %v: must be in [0, 0.5]", c.BadShare)
	}
	for name, s := range c.KindShare {
		if _, ok := kindByName(name); !ok {
			bad("unknown bad-record kind %q", name)
		}
		if !(s >= 0 && s <= 0.5) {
			bad("share of %s %v: must be in [0, 0.5]", name, s)
		}
	}
	if !c.End.After(c.Start.Add(24 * time.Hour)) {
		bad("time range %s..%s: end must be more than a day after start", c.Start, c.End)
	}
	if !c.End.Before(futureStart) {
		bad("end %s: must be before %s, where planted future timestamps start", c.End, futureStart)
	}
	return errors.Join(errs...)
}

// count returns how many records of kind k to plant, given the valid records of
// its entity.
func (c Config) count(k Kind, base int) int {
	share, ok := c.KindShare[k.Name]
	if !ok {
		share = c.BadShare
	}
	if share <= 0 || base <= 0 {
		return 0
	}
	return max(1, int(math.Round(share*float64(base))))
}

// KindNames lists the names of every kind, sorted, for usage messages.
func KindNames() []string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.Name
	}
	slices.Sort(names)
	return names
}

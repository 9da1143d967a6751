package transform

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string // substring of the error; "" = valid
	}{
		{"test config", func(*Config) {}, ""},
		{"policies any case", func(c *Config) { c.LongNames = "Reject"; c.InvalidIDs = "REWRITE" }, ""},
		{"no now", func(c *Config) { c.Now = time.Time{} }, "now is required"},
		{"bad group type", func(c *Config) { c.GroupTypes["x"] = "Club" }, `group_types["x"]`},
		{"conflicting group types", func(c *Config) { c.GroupTypes["PUBLIC"] = "Private" }, "mapped twice"},
		{"bad default group type", func(c *Config) { c.DefaultGroupType = "Club" }, "default_group_type"},
		{"bad role", func(c *Config) { c.Roles["boss"] = "King" }, `roles["boss"]`},
		{"bad element", func(c *Config) { c.Kinds["gif"] = KindRule{Element: "gif"} }, `kinds["gif"]`},
		{"default kind not mapped", func(c *Config) { c.DefaultKind = "poll" }, "default_kind"},
		{"bad unknown kind", func(c *Config) { c.UnknownKind = "drop" }, "unknown_kind"},
		{"bad rich media", func(c *Config) { c.GroupRichMedia = "drop" }, "group_rich_media"},
		{"bad ids policy", func(c *Config) { c.InvalidIDs = "fix" }, "ids.invalid"},
		{"bad long names", func(c *Config) { c.LongNames = "cut" }, "long_names"},
		{"bad create time", func(c *Config) { c.GroupCreateTime = "move" }, "group_create_time"},
		{"bad unknown users", func(c *Config) { c.UnknownUsers = "create" }, "unknown_users"},
		{"long prefix", func(c *Config) { c.GroupIDPrefix = strings.Repeat("p", 17) }, "group_id_prefix"},
		{"reserved prefix", func(c *Config) { c.GroupIDPrefix = "@TGS#x" }, "group_id_prefix"},
		{"non-ASCII prefix", func(c *Config) { c.GroupIDPrefix = "é" }, "group_id_prefix"},
		{"bad sync", func(c *Config) { c.SyncDefault = 3 }, "sync default"},
		{"negative limit", func(c *Config) { c.AccountLimit = -1 }, "account limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.mod(&cfg)
			err := cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if _, err := New(cfg); err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tc.want)
			}
			if _, err := New(cfg); err == nil {
				t.Errorf("New accepted an invalid config")
			}
		})
	}
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	cfg := testConfig()
	cfg.Now = time.Time{}
	cfg.LongNames = "cut"
	cfg.SyncDefault = 9
	err := cfg.Validate()
	for _, want := range []string{"now", "long_names", "sync default"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to mention %q", err, want)
		}
	}
}

func TestGroupTypes(t *testing.T) {
	tests := []struct {
		legacy, wire, id string
	}{
		{"public", tencentim.GroupPublic, "g"},
		{"PRIVATE", tencentim.GroupPrivate, "g"}, // mapped to Work, sent as Private
		{"meeting", tencentim.GroupChatRoom, "g"},
		{"community", tencentim.GroupCommunity, "@TGS#_g"},
		{"", tencentim.GroupPublic, "g"}, // default_group_type
	}
	for _, tc := range tests {
		t.Run(tc.legacy, func(t *testing.T) {
			tr := newTestTransformer(t, func(c *Config) { c.DefaultGroupType = "public" })
			tr.User(user("u1"))
			g := grp("g", "u1")
			g.Type = tc.legacy
			if r := tr.Group(g); !r.OK || r.GroupID != tc.id {
				t.Fatalf("Group = %+v, want OK with GroupID %q", r, tc.id)
			}
			f := tr.Groups()
			if len(f) != 1 || f[0].Group.Type != tc.wire || f[0].Group.GroupID != tc.id || f[0].Group.OwnerAccount != "u1" {
				t.Errorf("final %+v, want type %s id %s owner u1", f, tc.wire, tc.id)
			}
		})
	}
}

func TestCreateTimeFinal(t *testing.T) {
	sec := func(d time.Duration) int64 { return t0.Add(d).Unix() }
	tests := []struct {
		name    string
		created time.Time
		joins   []time.Duration // after t0
		msgs    []time.Duration
		want    int64 // final CreateTime, 0 = omitted
		rule    string
	}{
		{"before everything", t0, []time.Duration{hour}, []time.Duration{2 * hour}, sec(0), ""},
		{"member before", t0, []time.Duration{-hour, hour}, nil, sec(-hour - time.Second), RuleGroupCreateTimeClamped},
		{"member at the same second", t0, []time.Duration{0}, nil, sec(-time.Second), RuleGroupCreateTimeClamped},
		{"message before the member", t0, []time.Duration{-hour}, []time.Duration{-2 * hour}, sec(-2*hour - time.Second), RuleGroupCreateTimeClamped},
		{"no CreateTime", time.Time{}, []time.Duration{hour}, []time.Duration{30 * time.Minute}, sec(30*time.Minute - time.Second), RuleGroupCreateTimeDerived},
		{"no CreateTime, nothing else", time.Time{}, nil, nil, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs := base(with(grp("g2", "u1"), func(g *extract.Group) { g.CreatedAt = tc.created }))
			for i, d := range tc.joins {
				recs = append(recs, member("g2", []string{"u2", "u3"}[i], t0.Add(d)))
			}
			for i, d := range tc.msgs {
				recs = append(recs, gmsg(itoa(i), "g2", "u1", t0.Add(d)))
			}
			res := run(t, nil, recs)
			for _, o := range res.outcomes {
				if !o.ok {
					t.Fatalf("%s %s rejected: %v", o.entity, o.origin, rules(o.issues))
				}
			}
			f := res.final(t, "g2")
			if f.Group.CreateTime != tc.want {
				t.Errorf("CreateTime = %d, want %d", f.Group.CreateTime, tc.want)
			}
			if got := rules(f.Issues); tc.rule == "" && len(got) > 0 || tc.rule != "" && !slices.Equal(got, []string{tc.rule}) {
				t.Errorf("issues %v, want [%s]", got, tc.rule)
			}
			// Spec §8.8, §8.9: every member joined and every message was sent
			// strictly after the final CreateTime.
			for _, d := range append(tc.joins, tc.msgs...) {
				if tc.want != 0 && t0.Add(d).Unix() <= tc.want {
					t.Errorf("record at %v not after CreateTime %d", t0.Add(d), tc.want)
				}
			}
		})
	}
}

func TestCreateTimeConflictCascades(t *testing.T) {
	recs := base(
		user("u4"),
		member("g1", "u2", t0.Add(hour)),      // accepted before the conflict shows
		gmsg("1", "g1", "u2", t0.Add(-hour)),  // the conflict
		gmsg("2", "g1", "u3", t0.Add(2*hour)), // later: rejected with the group
	)
	res := run(t, rejectClamp, recs)
	var msgs []outcome
	for _, o := range res.outcomes {
		switch o.entity {
		case extract.Members:
			if !o.ok {
				t.Errorf("member rejected in pass 3: %v", rules(o.issues))
			}
		case extract.GroupMessages:
			msgs = append(msgs, o)
		}
	}
	for _, o := range msgs {
		if o.ok || !hasRule(o.issues, RuleGroupCreateTimeConflict) {
			t.Errorf("message %s: OK=%v issues %v, want the conflict", o.origin, o.ok, rules(o.issues))
		}
	}
	f := res.final(t, "g1")
	if f.OK || !hasRule(f.Issues, RuleGroupCreateTimeConflict) {
		t.Errorf("final g1: OK=%v issues %v, want rejected with the conflict", f.OK, rules(f.Issues))
	}
	if f.Members != 1 || f.Messages != 0 {
		t.Errorf("final g1 counts %d members, %d messages; want 1 and 0 (for the pipeline to reclassify)", f.Members, f.Messages)
	}
	if !strings.Contains(f.Issues[0].Message, `message "1"`) {
		t.Errorf("conflict message %q does not name the record that caused it", f.Issues[0].Message)
	}
}

func TestMembers(t *testing.T) {
	res := run(t, nil, base(
		with(member("g1", "u2", later), func(m *extract.Member) { m.Role = "Moderator"; m.Unread, m.HasUnread = 3, true }),
		with(member("g1", "u3", time.Time{}), func(m *extract.Member) { m.Role = "" }),
	))
	want := []tencentim.ImportMember{
		{MemberAccount: "u2", Role: tencentim.RoleAdmin, JoinTime: later.Unix(), UnreadMsgNum: 3},
		{MemberAccount: "u3"},
	}
	var got []tencentim.ImportMember
	for _, o := range res.outcomes {
		if o.entity == extract.Members {
			if !o.ok {
				t.Fatalf("member rejected: %v", rules(o.issues))
			}
			got = append(got, o.payload.(tencentim.ImportMember))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("members %+v, want %+v", got, want)
	}
	if f := res.final(t, "g1"); f.Members != 2 {
		t.Errorf("final Members = %d, want 2", f.Members)
	}
}

func TestGroupFullCountsTheOwner(t *testing.T) {
	recs := base(with(grp("g2", "u1"), func(g *extract.Group) { g.MaxMembers = 3 }), user("u4"))
	for _, u := range []string{"u2", "u3", "u4"} {
		recs = append(recs, member("g2", u, later))
	}
	res := run(t, nil, recs)
	var oks []bool
	for _, o := range res.outcomes {
		if o.entity == extract.Members {
			oks = append(oks, o.ok)
		}
	}
	if !slices.Equal(oks, []bool{true, true, false}) {
		t.Errorf("member outcomes %v, want the third rejected (owner + 2 = 3)", oks)
	}
}

func TestRandomWindow(t *testing.T) {
	a, b := collidingIDs[0], collidingIDs[1]
	tests := []struct {
		name   string
		gap    time.Duration
		group2 string
		rehash bool
	}{
		{"same second", 0, "g1", true},
		{"300 s apart", 300 * time.Second, "g1", true},
		{"301 s apart", 301 * time.Second, "g1", false},
		{"other group", 0, "g2", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, nil, base(grp("g2", "u1"),
				gmsg(a, "g1", "u1", later),
				mark(gmsg(b, tc.group2, "u1", later.Add(tc.gap))),
			))
			o := res.marked(t)
			if !o.ok {
				t.Fatalf("rejected: %v", rules(o.issues))
			}
			r := o.payload.(tencentim.GroupMsg).Random
			if got := r != GroupRandom(b); got != tc.rehash {
				t.Errorf("Random %d rehashed = %v, want %v", r, got, tc.rehash)
			}
			if tc.rehash && (r == GroupRandom(a) || r == 0) {
				t.Errorf("rehashed Random %d still collides", r)
			}
			if hasRule(o.issues, RuleGroupMessageRandomRehashed) != tc.rehash {
				t.Errorf("issues %v", rules(o.issues))
			}
		})
	}
}

func TestDirectMessageIdentity(t *testing.T) {
	sec := later
	recs := base(
		dmsg("1", "u1", "u2", sec),
		dmsg("2", "u2", "u1", sec.Add(100*time.Millisecond)), // same second, same conversation
		dmsg("3", "u1", "u1", sec.Add(200*time.Millisecond)), // to oneself: rejected, a conversation of its own
		dmsg("4", "u1", "u3", sec),                           // new conversation: rank 0
		dmsg("5", "u1", "u3", sec.Add(time.Second)),          // new second: rank 0
		dmsg("6", "u3", "u1", sec.Add(time.Second)),          // rank 1
	)
	res := run(t, func(c *Config) { c.RealtimeAfter = sec.Add(time.Second) }, recs)
	type id struct {
		seq  uint32
		sync int
		ts   int64
	}
	var got []id
	for _, o := range res.outcomes {
		if o.entity != extract.DirectMessages || !o.ok {
			continue
		}
		m := o.payload.(tencentim.ImportMsgRequest)
		got = append(got, id{m.MsgSeq, m.SyncFromOldSystem, m.MsgTimeStamp})
		wantSeq, wantRandom := C2CIdentity(o.id, int(m.MsgSeq>>c2cHashBits))
		if m.MsgSeq != wantSeq || m.MsgRandom != wantRandom {
			t.Errorf("message %s: (%d, %d), want C2CIdentity's (%d, %d)", o.id, m.MsgSeq, m.MsgRandom, wantSeq, wantRandom)
		}

	}
	rank := func(s uint32) uint32 { return s >> c2cHashBits }
	if len(got) != 5 {
		t.Fatalf("%d accepted messages, want 5", len(got))
	}
	wantRanks := []uint32{0, 1, 0, 0, 1}
	wantSync := []int{2, 2, 2, 5, 5}
	wantTS := []int64{sec.Unix(), sec.Unix(), sec.Unix(), sec.Unix() + 1, sec.Unix() + 1}
	for i, g := range got {
		if rank(g.seq) != wantRanks[i] || g.sync != wantSync[i] || g.ts != wantTS[i] {
			t.Errorf("message %d: rank %d sync %d time %d, want rank %d sync %d time %d",
				i, rank(g.seq), g.sync, g.ts, wantRanks[i], wantSync[i], wantTS[i])
		}
	}
}

func TestImpliedAccounts(t *testing.T) {
	mod := func(c *Config) { importUnknown(c); rewriteIDs(c) }
	res := run(t, mod, base(
		grp("g2", "zed"),                            // implied owner
		member("g1", "yan", later),                  // implied member
		gmsg("1", "g1", "x y", later),               // implied sender, rewritten
		dmsg("2", "walt", "vic", later),             // two implied at once
		dmsg("3", "walt", "vic", later),             // rejected duplicate: nothing new
		dmsg("4", "ursula", "u1", future),           // rejected: ursula is not implied
		member("g1", "yan", later.Add(time.Second)), // duplicate member: not implied twice
	))
	want := []string{"vic", "walt", mustUserID("x y"), "yan", "zed"}
	slices.Sort(want)
	if got := res.tr.ImpliedAccounts(); !slices.Equal(got, want) {
		t.Errorf("ImpliedAccounts = %v, want %v", got, want)
	}
	implied := 0
	for _, o := range res.outcomes {
		for _, is := range o.issues {
			if is.Rule == RuleAccountImplied {
				implied++
			}
		}
	}
	if implied != len(want) {
		t.Errorf("%d account.implied issues, want one per account (%d)", implied, len(want))
	}
	if rw := res.tr.Rewrites(); !slices.Contains(rw, Rewrite{Entity: extract.Users, Legacy: "x y", Target: mustUserID("x y")}) {
		t.Errorf("Rewrites %v lack the implied rewrite", rw)
	}
}

func TestGroupsOrderAndIdempotence(t *testing.T) {
	tr := newTestTransformer(t, nil)
	tr.User(user("u1"))
	for _, id := range []string{"b", "a10", "a9", "bad"} {
		g := grp(id, "u1")
		if id == "bad" {
			g.Type = "live"
		}
		tr.Group(g)
	}
	first := tr.Groups()
	var ids []string
	for _, f := range first {
		ids = append(ids, f.LegacyID)
	}
	if want := []string{"a10", "a9", "b"}; !slices.Equal(ids, want) {
		t.Errorf("Groups order %v, want %v (bytewise, rejected groups left out)", ids, want)
	}
	second := tr.Groups()
	if len(second) != len(first) {
		t.Fatalf("second call differs")
	}
	for i := range first {
		if !reflect.DeepEqual(first[i], second[i]) {
			t.Errorf("Groups not idempotent at %d", i)
		}
	}
}

func TestRewrites(t *testing.T) {
	res := run(t, rewriteIDs, base(user("a b"), grp("@TGS#g", "a b"), member("@TGS#g", "a b", later)))
	want := []Rewrite{
		{Entity: extract.Users, Legacy: "a b", Target: mustUserID("a b")},
		{Entity: extract.Groups, Legacy: "@TGS#g", Target: mustGroupID("@TGS#g")},
	}
	if got := res.tr.Rewrites(); !slices.Equal(got, want) {
		t.Errorf("Rewrites = %v, want %v", got, want)
	}
	// The member row is the owner's: references resolve through the rewrite.
	for _, o := range res.outcomes {
		if o.entity == extract.Members && !hasRule(o.issues, RuleMemberOwnerRow) {
			t.Errorf("owner row not recognised through the rewrite: %v", rules(o.issues))
		}
	}
}

func TestElements(t *testing.T) {
	tests := []struct {
		name    string
		kind    string
		text    string
		payload string
		group   bool
		want    string // MsgType + " " + MsgContent
	}{
		{"face index from payload", "sticker", "t", "12", false, `TIMFaceElem {"Index":12,"Data":"t"}`},
		{"face default index", "sticker", "t", "", false, `TIMFaceElem {"Index":3,"Data":"t"}`},
		{"face data payload", "sticker", "t", "smile", false, `TIMFaceElem {"Index":3,"Data":"smile"}`},
		{"location JSON", "location", "", `{"Latitude":1.5,"Longitude":-2,"Description":"here"}`, true, `TIMLocationElem {"Desc":"here","Latitude":1.5,"Longitude":-2}`},
		{"location pair", "location", "spot", "1.5,2.5", false, `TIMLocationElem {"Desc":"spot","Latitude":1.5,"Longitude":2.5}`},
		{"custom payload", "card", "desc", `{"a":1}`, true, `TIMCustomElem {"Data":"{\"a\":1}","Desc":"desc"}`},
		{"custom from text", "card", "only text", "", false, `TIMCustomElem {"Data":"only text"}`},
		{"text falls back to payload", "text", "", "p", false, `TIMTextElem {"Text":"p"}`},
		{"kind case-insensitive", "TeXt", "x", "", true, `TIMTextElem {"Text":"x"}`},
		{"empty kind uses default", "", "x", "", true, `TIMTextElem {"Text":"x"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := dmsg("1", "u1", "u2", later)
			if tc.group {
				m = gmsg("1", "g1", "u2", later)
			}
			m.Kind, m.Text, m.Payload = tc.kind, tc.text, tc.payload
			res := run(t, nil, base(mark(m)))
			o := res.marked(t)
			if !o.ok {
				t.Fatalf("rejected: %v", rules(o.issues))
			}
			var body []tencentim.MsgElem
			switch p := o.payload.(type) {
			case tencentim.GroupMsg:
				body = p.MsgBody
			case tencentim.ImportMsgRequest:
				body = p.MsgBody
			}
			if len(body) != 1 {
				t.Fatalf("body %v", body)
			}
			if got := body[0].MsgType + " " + string(body[0].MsgContent); got != tc.want {
				t.Errorf("element %s, want %s", got, tc.want)
			}
		})
	}
}

func TestUnknownKindAsTextUsesPayload(t *testing.T) {
	m := with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Kind, m.Text, m.Payload = "poll", "", `{"q":"?"}` })
	res := run(t, func(c *Config) { c.UnknownKind = PolicyText }, base(mark(m)))
	o := res.marked(t)
	body := o.payload.(tencentim.ImportMsgRequest).MsgBody
	if !o.ok || string(body[0].MsgContent) != `{"Text":"{\"q\":\"?\"}"}` {
		t.Errorf("OK=%v body %s", o.ok, body[0].MsgContent)
	}
}

func TestIssueMessagesNameValueAndLimit(t *testing.T) {
	res := run(t, nil, base(mark(with(grp("g2", "u1"), func(g *extract.Group) { g.Name = strings.Repeat("n", 41) }))))
	o := res.marked(t)
	if len(o.issues) != 1 {
		t.Fatalf("issues %v", rules(o.issues))
	}
	msg := o.issues[0].Message
	for _, want := range []string{"41 bytes", "TIM allows 30", "§8.4", "truncated to 30"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if o.issues[0].LegacyID != "g2" {
		t.Errorf("LegacyID %q", o.issues[0].LegacyID)
	}
}

func TestMemberIssueLegacyID(t *testing.T) {
	res := run(t, nil, base(mark(member("g1", "ghost", later))))
	if got := res.marked(t).issues[0].LegacyID; got != "g1/ghost" {
		t.Errorf("LegacyID %q, want g1/ghost", got)
	}
}

package transform

import (
	"strings"
	"testing"
)

func TestUserID(t *testing.T) {
	tests := []struct {
		legacy, policy string
		want           string // "" = refused; "*" = rewritten (checked for validity)
	}{
		{"alice", PolicyReject, "alice"},
		{"alice", PolicyRewrite, "alice"},
		{"a.b@c", PolicyReject, "a.b@c"}, // printable ASCII is accepted (design §7 A23)
		{strings.Repeat("a", 32), PolicyReject, strings.Repeat("a", 32)},
		{strings.Repeat("a", 33), PolicyReject, ""},
		{strings.Repeat("a", 33), "", ""},
		{strings.Repeat("a", 33), PolicyRewrite, "*"},
		{"a b", PolicyReject, ""},
		{"a b", PolicyRewrite, "*"},
		{"josé", "REWRITE", "*"},
		{"@RBT#bot", PolicyReject, ""},
		{"@RBT#bot", PolicyRewrite, "*"},
		{"", PolicyRewrite, ""},
	}
	for _, tc := range tests {
		t.Run(tc.legacy+"/"+tc.policy, func(t *testing.T) {
			got, ok := UserID(tc.legacy, tc.policy)
			switch tc.want {
			case "":
				if ok {
					t.Fatalf("UserID = %q, true; want refused", got)
				}
			case "*":
				if !ok || got == tc.legacy {
					t.Fatalf("UserID = %q, %v; want a rewrite", got, ok)
				}
				if p := userIDProblem(got); p != "" || unusualUserID(got) {
					t.Errorf("rewritten %q is not a clean UserID (%s)", got, p)
				}
				if again, _ := UserID(tc.legacy, tc.policy); again != got {
					t.Errorf("rewrite not deterministic: %q then %q", got, again)
				}
			default:
				if !ok || got != tc.want {
					t.Fatalf("UserID = %q, %v; want %q", got, ok, tc.want)
				}
			}
		})
	}
}

func TestUserIDRewriteKeepsDistinctIDsDistinct(t *testing.T) {
	seen := map[string]string{}
	for _, legacy := range []string{"a b", "a_b", "a  b", "a\tb", "ä b", strings.Repeat("x", 40), strings.Repeat("x", 41)} {
		got, ok := UserID(legacy, PolicyRewrite)
		if !ok {
			t.Fatalf("UserID(%q) refused", legacy)
		}
		if prev, dup := seen[got]; dup {
			t.Errorf("%q and %q both rewrite to %q", prev, legacy, got)
		}
		seen[got] = legacy
	}
}

func TestGroupID(t *testing.T) {
	tests := []struct {
		name                        string
		legacy, prefix, typ, policy string
		want                        string // "" = refused; "*" = rewritten
	}{
		{"plain", "g1", "", "Public", PolicyReject, "g1"},
		{"prefix", "g1", "acme_", "Private", PolicyReject, "acme_g1"},
		{"space is printable", "my group", "", "Public", PolicyReject, "my group"},
		{"community frame", "g1", "acme_", "Community", PolicyReject, "@TGS#_acme_g1"},
		{"community type case-insensitive", "g1", "", "community", PolicyReject, "@TGS#_g1"},
		{"48 bytes", strings.Repeat("g", 48), "", "Public", PolicyReject, strings.Repeat("g", 48)},
		{"49 bytes", strings.Repeat("g", 49), "", "Public", PolicyReject, ""},
		{"49 bytes rewritten", strings.Repeat("g", 49), "", "Public", PolicyRewrite, "*"},
		{"community 49 bytes rewritten", strings.Repeat("g", 43), "", "Community", PolicyRewrite, "*"},
		{"reserved prefix", "@TGS#abc", "", "Public", PolicyReject, ""},
		{"reserved prefix rewritten", "@TGS#abc", "", "Public", PolicyRewrite, "*"},
		{"non-ASCII", "grüppe", "p-", "ChatRoom", PolicyReject, ""},
		{"non-ASCII rewritten", "grüppe", "p-", "ChatRoom", PolicyRewrite, "*"},
		{"empty legacy", "", "p-", "Public", PolicyRewrite, ""},
		{"invalid prefix", "g1", "@TGS#", "Public", PolicyRewrite, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := GroupID(tc.legacy, tc.prefix, tc.typ, tc.policy)
			community := strings.EqualFold(tc.typ, "Community")
			switch tc.want {
			case "":
				if ok {
					t.Fatalf("GroupID = %q, true; want refused", got)
				}
			case "*":
				if !ok {
					t.Fatalf("GroupID refused; want a rewrite")
				}
				if p := groupIDProblem(got, community); p != "" {
					t.Errorf("rewritten %q is invalid: %s", got, p)
				}
				frame := tc.prefix
				if community {
					frame = communityGroupPrefix + frame
				}
				if !strings.HasPrefix(got, frame) {
					t.Errorf("rewritten %q lost its frame %q", got, frame)
				}
			default:
				if !ok || got != tc.want {
					t.Fatalf("GroupID = %q, %v; want %q", got, ok, tc.want)
				}
			}
		})
	}
}

func TestGroupRandom(t *testing.T) {
	ids := []string{"", "1", "2", "10", "msg-1", strings.Repeat("z", 100)}
	seen := map[uint32]string{}
	for _, id := range ids {
		r := GroupRandom(id)
		if r == 0 {
			t.Errorf("GroupRandom(%q) = 0, which the request would omit", id)
		}
		if r != GroupRandom(id) {
			t.Errorf("GroupRandom(%q) not deterministic", id)
		}
		if prev, dup := seen[r]; dup {
			t.Errorf("GroupRandom(%q) = GroupRandom(%q)", id, prev)
		}
		seen[r] = id
		for salt := uint32(1); salt < 4; salt++ {
			if groupRandomSalted(id, salt) == r {
				t.Errorf("salt %d gives the unsalted Random for %q", salt, id)
			}
		}
	}
}

func TestC2CIdentity(t *testing.T) {
	t.Run("rank orders MsgSeq", func(t *testing.T) {
		// Different ids at increasing ranks, as in one busy second: MsgSeq must
		// increase whatever the hashes are.
		var prev uint32
		for rank := 0; rank <= MaxC2CRank; rank++ {
			seq, _ := C2CIdentity("id-"+itoa(MaxC2CRank-rank), rank)
			if rank > 0 && seq <= prev {
				t.Fatalf("rank %d: MsgSeq %d not above rank %d's %d", rank, seq, rank-1, prev)
			}
			prev = seq
		}
	})
	t.Run("deterministic", func(t *testing.T) {
		s1, r1 := C2CIdentity("42", 3)
		s2, r2 := C2CIdentity("42", 3)
		if s1 != s2 || r1 != r2 {
			t.Errorf("C2CIdentity differs between calls: (%d,%d) vs (%d,%d)", s1, r1, s2, r2)
		}
	})
	t.Run("random independent of rank", func(t *testing.T) {
		_, r1 := C2CIdentity("42", 0)
		_, r2 := C2CIdentity("42", 7)
		if r1 != r2 {
			t.Errorf("MsgRandom depends on the rank")
		}
	})
	t.Run("rank saturates", func(t *testing.T) {
		a, _ := C2CIdentity("42", MaxC2CRank)
		b, _ := C2CIdentity("42", MaxC2CRank+100)
		c, _ := C2CIdentity("42", -5)
		d, _ := C2CIdentity("42", 0)
		if a != b || c != d {
			t.Errorf("ranks outside [0, MaxC2CRank] not clamped")
		}
	})
}

func TestFPSet(t *testing.T) {
	var s fpSet
	const n = 10000
	for i := uint64(0); i < n; i++ {
		if !s.add(i * 0x9e3779b97f4a7c15) {
			t.Fatalf("add %d reported present", i)
		}
	}
	if s.add(0) {
		t.Errorf("0 was added twice (0 is stored as 1, and 0*k = 0 was added)")
	}
	if s.len() != n {
		t.Errorf("len = %d, want %d", s.len(), n)
	}
	for i := uint64(0); i < n; i++ {
		if !s.has(i * 0x9e3779b97f4a7c15) {
			t.Fatalf("has %d = false", i)
		}
	}
	if s.has(12345) {
		t.Errorf("has an absent fingerprint")
	}
	if got := len(s.slots); got > 4*n {
		t.Errorf("%d slots for %d entries: more than 32 bytes an entry", got, n)
	}
	s.reset()
	if s.len() != 0 || s.has(0x9e3779b97f4a7c15) {
		t.Errorf("reset left entries")
	}
	if !s.add(7) || !s.has(7) {
		t.Errorf("set unusable after reset")
	}
}

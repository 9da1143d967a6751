package extract

import (
	"bytes"
	"cmp"
	mrand "math/rand/v2"
	"testing"
	"time"
)

// The sort compares encoded keys only, so they must order records exactly as the
// stream order does, ties broken by line.
func TestSortKeysMatchStreamOrder(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(3, 4))
	strs := []string{"", "a", "a\x00", "a\x00\x00", "a\x00b", "a\x01", "ab", "b", "\x00", "\xff", "u1", "u10", "u9", "ä"}
	times := []time.Time{
		{}, time.Unix(-1, 0).UTC(), time.Unix(-1, 5).UTC(), time.Unix(0, 0).UTC(), time.Unix(0, 1).UTC(),
		time.Unix(1700000000, 0).UTC(), time.Unix(1700000000, 999999999).UTC(), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
	}
	ids := []string{"1", "9", "10", "100", "09", "a", "", "\x00"}
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	line := func() Origin { return Origin{Line: int64(rng.IntN(3) + 1)} }
	sign := func(x int) int { return cmp.Compare(x, 0) }

	messages := []struct {
		name  string
		codec *sortCodec[Message]
	}{
		{"group messages", groupMessageCodec},
		{"direct messages", directMessageCodec},
	}
	for _, tc := range messages {
		t.Run(tc.name, func(t *testing.T) {
			for range 50000 {
				a := Message{ID: pick(ids), GroupID: pick(strs), SenderID: pick(strs), RecipientID: pick(strs),
					SentAt: times[rng.IntN(len(times))], Origin: line()}
				b := Message{ID: pick(ids), GroupID: pick(strs), SenderID: pick(strs), RecipientID: pick(strs),
					SentAt: times[rng.IntN(len(times))], Origin: line()}
				want := tc.codec.compare(&a, &b)
				if want == 0 {
					want = cmp.Compare(a.Origin.Line, b.Origin.Line)
				}
				if got := bytes.Compare(tc.codec.key(nil, &a), tc.codec.key(nil, &b)); sign(got) != sign(want) {
					t.Fatalf("key order %d, stream order %d:\n%+v\n%+v", got, want, a, b)
				}
			}
		})
	}
	t.Run("members", func(t *testing.T) {
		for range 50000 {
			a := Member{GroupID: pick(strs), UserID: pick(strs), JoinedAt: times[rng.IntN(len(times))], Origin: line()}
			b := Member{GroupID: pick(strs), UserID: pick(strs), JoinedAt: times[rng.IntN(len(times))], Origin: line()}
			want := compareMembers(&a, &b)
			if want == 0 {
				want = cmp.Compare(a.Origin.Line, b.Origin.Line)
			}
			if got := bytes.Compare(memberCodec.key(nil, &a), memberCodec.key(nil, &b)); sign(got) != sign(want) {
				t.Fatalf("key order %d, stream order %d:\n%+v\n%+v", got, want, a, b)
			}
		}
	})
}

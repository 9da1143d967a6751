package extract

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestOriginString(t *testing.T) {
	cases := []struct {
		o    Origin
		want string
	}{
		{Origin{Source: "users.csv", Line: 12}, "users.csv:12"},
		{Origin{Source: "users", Key: "id=42"}, "users[id=42]"},
		{Origin{Source: "group_members", Key: "group_id=g1,user_id=u2"}, "group_members[group_id=g1,user_id=u2]"},
		{Origin{Source: "users"}, "users"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.o.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestConversationKey(t *testing.T) {
	cases := []struct{ a, b, lo, hi string }{
		{"u1", "u2", "u1", "u2"},
		{"u2", "u1", "u1", "u2"},
		{"u9", "u10", "u10", "u9"}, // bytewise, not numeric
		{"B", "a", "B", "a"},
		{"x", "x", "x", "x"},
	}
	for _, tc := range cases {
		t.Run(tc.a+","+tc.b, func(t *testing.T) {
			if lo, hi := ConversationKey(tc.a, tc.b); lo != tc.lo || hi != tc.hi {
				t.Errorf("ConversationKey = %q, %q, want %q, %q", lo, hi, tc.lo, tc.hi)
			}
		})
	}
}

func TestFieldsAndRequired(t *testing.T) {
	for _, e := range Entities() {
		t.Run(string(e), func(t *testing.T) {
			fields := Fields(e)
			if len(fields) == 0 || len(fields) > maxFields {
				t.Fatalf("%d fields", len(fields))
			}
			for _, r := range Required(e) {
				if !slices.Contains(fields, r) {
					t.Errorf("required %q is not a field", r)
				}
			}
			if tf := timeField[e]; !slices.Contains([]string{"created_at", "joined_at", "sent_at", "added_at"}, fields[tf]) {
				t.Errorf("time field is %q", fields[tf])
			}
		})
	}
	if Entity("bots").Valid() || Fields("bots") != nil {
		t.Error("unknown entity is valid")
	}
	// The decoders index messages by fixed positions shared by both kinds.
	for _, e := range []Entity{GroupMessages, DirectMessages} {
		f := Fields(e)
		if f[fMsgID] != "id" || f[fMsgSentAt] != "sent_at" || f[fMsgKind] != "kind" || f[fMsgDuration] != "duration" {
			t.Errorf("%s field positions moved: %q", e, f)
		}
	}
}

func TestCompareIDs(t *testing.T) {
	ids := []string{"10", "9", "100", "a", "1", "09", "b0"}
	slices.SortFunc(ids, compareIDs)
	want := []string{"1", "9", "a", "09", "10", "b0", "100"}
	if !slices.Equal(ids, want) {
		t.Errorf("sorted = %q, want %q", ids, want)
	}
}

func TestSpillCodecRoundTrip(t *testing.T) {
	msgs := []Message{
		{},
		{ID: "42", GroupID: "g", SenderID: "ü", RecipientID: "r", SentAt: time.Unix(1700000000, 123456789).UTC(),
			Kind: "image", Text: "a\nb", Payload: `{"x":1}`, URL: "https://x", FileName: "f", Size: -1 << 40,
			Width: 1, Height: -2, Duration: 3, Origin: Origin{Source: "dm.csv", Line: 1 << 40}},
		{ID: "1", SentAt: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
		{ID: "2", SentAt: time.Unix(-1, 999999999).UTC()},
	}
	for _, m := range msgs {
		d := spillDecoder{s: string(encodeMessage(nil, &m))}
		var got Message
		decodeMessage(&d, &got)
		if d.bad || d.i != len(d.s) || got != m {
			t.Errorf("message round trip: got %+v (bad=%v), want %+v", got, d.bad, m)
		}
	}
	members := []Member{
		{},
		{GroupID: "g", UserID: "u", Role: "Admin", JoinedAt: time.Unix(5, 6).UTC(), Unread: 7, HasUnread: true,
			Origin: Origin{Source: "m.csv", Line: 3}},
		{GroupID: "g", UserID: "u", Origin: Origin{Source: "m.csv", Line: 4}, Dropped: []DroppedField{
			{Field: "role", Rule: RuleInvalidUTF8, Message: `field "role" is not valid UTF-8`},
			{Field: "unread", Rule: RuleNumber, Message: `field "unread": "x" is not an integer`},
		}},
	}
	for _, m := range members {
		d := spillDecoder{s: string(encodeMember(nil, &m))}
		var got Member
		decodeMember(&d, &got)
		if d.bad || d.i != len(d.s) || !reflect.DeepEqual(got, m) {
			t.Errorf("member round trip: got %+v (bad=%v), want %+v", got, d.bad, m)
		}
	}
	// A truncated record is reported, not misread.
	full := encodeMessage(nil, &msgs[1])
	d := spillDecoder{s: string(full[:len(full)/2])}
	var got Message
	decodeMessage(&d, &got)
	if !d.bad {
		t.Error("truncated record decoded without error")
	}
}

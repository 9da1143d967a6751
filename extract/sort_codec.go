package extract

import (
	"encoding/binary"
	"time"
)

// The sort's codecs: per record type, the order key and the compact payload a
// record is held and spilled in.

// Order keys. Each component compares bytewise as its value does:
//   - a string is escaped (0x00 becomes 0x00 0xFF) and ends with 0x00 0x01, so a
//     prefix sorts first and later components are never compared against its bytes;
//   - a time is its seconds with the sign bit flipped, then its nanoseconds, big-endian;
//   - a legacy id is its length then its bytes (shortlex);
//   - the source line is big-endian.

func appendKeyString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			b = append(b, 0, 0xFF)
		} else {
			b = append(b, s[i])
		}
	}
	return append(b, 0, 1)
}

func appendKeyTime(b []byte, t time.Time) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Unix())^1<<63)
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

func appendKeyID(b []byte, id string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(id)))
	return append(b, id...)
}

func appendKeyLine(b []byte, line int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(line)^1<<63)
}

func groupMessageKey(b []byte, m *Message) []byte {
	b = appendKeyString(b, m.GroupID)
	b = appendKeyString(b, m.TopicID)
	b = appendKeyTime(b, m.SentAt)
	b = appendKeyID(b, m.ID)
	return appendKeyLine(b, m.Origin.Line)
}

func directMessageKey(b []byte, m *Message) []byte {
	lo, hi := ConversationKey(m.SenderID, m.RecipientID)
	b = appendKeyString(b, lo)
	b = appendKeyString(b, hi)
	b = appendKeyTime(b, m.SentAt)
	b = appendKeyID(b, m.ID)
	return appendKeyLine(b, m.Origin.Line)
}

// friendKey is the Friends order of the PostgreSQL reader: user, then friend, so a
// user's friend list is one contiguous stream (one friend_import call in flight
// per user, spec §5.1).
func friendKey(b []byte, f *Friend) []byte {
	b = appendKeyString(b, f.UserID)
	b = appendKeyString(b, f.FriendID)
	return appendKeyLine(b, f.Origin.Line)
}

func memberKey(b []byte, m *Member) []byte {
	b = appendKeyString(b, m.GroupID)
	b = appendKeyTime(b, m.JoinedAt)
	b = appendKeyString(b, m.UserID)
	return appendKeyLine(b, m.Origin.Line)
}

// spillDecoder reads the compact record encoding from one string; strings it returns
// are slices of it. A malformed record sets bad.
type spillDecoder struct {
	s   string
	i   int
	bad bool
}

func (d *spillDecoder) uvarint() uint64 {
	var x uint64
	var shift uint
	for d.i < len(d.s) {
		b := d.s[d.i]
		d.i++
		if b < 0x80 {
			if shift >= 64 || (shift == 63 && b > 1) {
				d.bad = true
				return 0
			}
			return x | uint64(b)<<shift
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	d.bad = true
	return 0
}

func (d *spillDecoder) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (d *spillDecoder) str() string {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.s)-d.i) {
		d.bad = true
		return ""
	}
	s := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return s
}

func (d *spillDecoder) time() time.Time {
	sec := d.varint()
	nsec := d.varint()
	return time.Unix(sec, nsec).UTC()
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendTime stores t as seconds and nanoseconds since the epoch, which round-trips
// every time including the zero Time.
func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendVarint(b, int64(t.Nanosecond()))
}

func encodeMessage(b []byte, m *Message) []byte {
	b = appendStr(b, m.ID)
	b = appendStr(b, m.GroupID)
	b = appendStr(b, m.SenderID)
	b = appendStr(b, m.RecipientID)
	b = appendTime(b, m.SentAt)
	b = appendStr(b, m.Kind)
	b = appendStr(b, m.Text)
	b = appendStr(b, m.Payload)
	b = appendStr(b, m.URL)
	b = appendStr(b, m.FileName)
	b = binary.AppendVarint(b, m.Size)
	b = binary.AppendVarint(b, int64(m.Width))
	b = binary.AppendVarint(b, int64(m.Height))
	b = binary.AppendVarint(b, int64(m.Duration))
	b = appendStr(b, m.Attachments)
	b = appendStr(b, m.ReplyTo)
	b = appendStr(b, m.ThreadID)
	b = appendTime(b, m.EditedAt)
	b = appendStr(b, m.Reactions)
	b = appendStr(b, m.TopicID)
	b = appendStr(b, m.Origin.Source)
	return binary.AppendVarint(b, m.Origin.Line)
}

func decodeMessage(d *spillDecoder, m *Message) {
	*m = Message{
		ID: d.str(), GroupID: d.str(), SenderID: d.str(), RecipientID: d.str(), SentAt: d.time(),
		Kind: d.str(), Text: d.str(), Payload: d.str(), URL: d.str(), FileName: d.str(),
		Size: d.varint(), Width: int(d.varint()), Height: int(d.varint()), Duration: int(d.varint()),
		Attachments: d.str(), ReplyTo: d.str(), ThreadID: d.str(), EditedAt: d.time(), Reactions: d.str(),
		TopicID: d.str(),
	}
	m.Origin.Source = d.str()
	m.Origin.Line = d.varint()
}

func encodeMember(b []byte, m *Member) []byte {
	b = appendStr(b, m.GroupID)
	b = appendStr(b, m.UserID)
	b = appendStr(b, m.Role)
	b = appendTime(b, m.JoinedAt)
	b = binary.AppendVarint(b, int64(m.Unread))
	if m.HasUnread {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendStr(b, m.Origin.Source)
	b = binary.AppendVarint(b, m.Origin.Line)
	return appendDropped(b, m.Dropped)
}

func decodeMember(d *spillDecoder, m *Member) {
	*m = Member{GroupID: d.str(), UserID: d.str(), Role: d.str(), JoinedAt: d.time(), Unread: int(d.varint())}
	m.HasUnread = d.uvarint() == 1
	m.Origin.Source = d.str()
	m.Origin.Line = d.varint()
	m.Dropped = d.dropped()
}

func encodeFriend(b []byte, f *Friend) []byte {
	b = appendStr(b, f.UserID)
	b = appendStr(b, f.FriendID)
	b = appendStr(b, f.Remark)
	b = appendTime(b, f.AddedAt)
	b = appendStr(b, f.Group)
	b = appendStr(b, f.Origin.Source)
	b = binary.AppendVarint(b, f.Origin.Line)
	return appendDropped(b, f.Dropped)
}

func decodeFriend(d *spillDecoder, f *Friend) {
	*f = Friend{UserID: d.str(), FriendID: d.str(), Remark: d.str(), AddedAt: d.time(), Group: d.str()}
	f.Origin.Source = d.str()
	f.Origin.Line = d.varint()
	f.Dropped = d.dropped()
}

// appendDropped stores a record's dropped fields: their count (almost always 0),
// then each one's field, rule and message.
func appendDropped(b []byte, dropped []DroppedField) []byte {
	b = binary.AppendUvarint(b, uint64(len(dropped)))
	for _, f := range dropped {
		b = appendStr(b, f.Field)
		b = appendStr(b, f.Rule)
		b = appendStr(b, f.Message)
	}
	return b
}

func (d *spillDecoder) dropped() []DroppedField {
	n := d.uvarint()
	if n == 0 || d.bad {
		return nil
	}
	if n > uint64(len(d.s)-d.i) { // each one takes at least three bytes
		d.bad = true
		return nil
	}
	out := make([]DroppedField, 0, n)
	for range n {
		out = append(out, DroppedField{Field: d.str(), Rule: d.str(), Message: d.str()})
	}
	return out
}

var (
	groupMessageCodec = &sortCodec[Message]{
		compare: compareGroupMessages, line: messageLine, key: groupMessageKey,
		encode: encodeMessage, decode: decodeMessage,
	}
	directMessageCodec = &sortCodec[Message]{
		compare: compareDirectMessages, line: messageLine, key: directMessageKey,
		encode: encodeMessage, decode: decodeMessage,
	}
	memberCodec = &sortCodec[Member]{
		compare: compareMembers, line: func(m *Member) int64 { return m.Origin.Line }, key: memberKey,
		encode: encodeMember, decode: decodeMember,
	}
	friendCodec = &sortCodec[Friend]{
		compare: compareFriends, line: func(f *Friend) int64 { return f.Origin.Line }, key: friendKey,
		encode: encodeFriend, decode: decodeFriend,
	}
)

func messageLine(m *Message) int64 { return m.Origin.Line }

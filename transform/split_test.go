package transform

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

func splitPolicy(c *Config) { c.Oversize = PolicySplit }

// longPost is a text of about n bytes in lines of words, with characters JSON
// escapes (quotes, <, &, tabs) and multi-byte runes.
func longPost(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString("line ")
		b.WriteString(itoa(i))
		b.WriteString(": \"quoted\" <b>&amp;</b>\t李白 静夜思 🌙 床前明月光")
		if i%7 == 6 {
			b.WriteString(" " + strings.Repeat("word ", 40))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func partText(t *testing.T, body []tencentim.MsgElem) string {
	t.Helper()
	if body[0].MsgType != tencentim.MsgText {
		t.Fatalf("part starts with %s, want its text", body[0].MsgType)
	}
	var c tencentim.TextContent
	if err := json.Unmarshal(body[0].MsgContent, &c); err != nil {
		t.Fatal(err)
	}
	return c.Text
}

// TestSplitDirect: a C2C message over 12,000 bytes becomes consecutive messages
// within the limit, cut after line breaks, whose texts concatenate to the
// original; the attachment stays with the last part; the parts keep the
// message's time and take increasing MsgSeqs of distinct dedup keys, before the
// conversation's next message of the same second; CloudCustomData numbers them.
func TestSplitDirect(t *testing.T) {
	text := longPost(40000)
	rec := with(dmsg("m1", "u1", "u2", later), func(m *extract.Message) {
		m.Text, m.ReplyTo = text, "m0"
		m.Attachments = `[{"kind":"file","url":"https://x/a.pdf","file_name":"a.pdf"}]`
	})
	next := dmsg("m2", "u1", "u2", later) // same second
	splitRun := func() DirectMessageResult {
		tr := newTestTransformer(t, func(c *Config) { splitPolicy(c); c.KeepLegacyID = true })
		for _, u := range []string{"u1", "u2"} {
			tr.User(user(u))
		}
		res := tr.DirectMessage(rec)
		res.Parts = append(res.Parts, tr.DirectMessage(next).Msg) // the next message, last
		return res
	}
	res := splitRun()
	if !res.OK || !hasRule(res.Issues, RuleMessageBodySplit) {
		t.Fatalf("ok %v, issues %v; want a split", res.OK, rules(res.Issues))
	}
	parts, after := res.Parts[:len(res.Parts)-1], res.Parts[len(res.Parts)-1]
	n := len(parts)
	if n < 4 {
		t.Fatalf("%d parts for %d bytes, want at least 4", n, len(text))
	}
	if !reflect.DeepEqual(res.Msg, parts[0]) {
		t.Errorf("Msg is not the first part")
	}
	var joined strings.Builder
	keys := map[[3]int64]bool{}
	for i, p := range parts {
		size := bodySize(p.MsgBody) + len(p.CloudCustomData)
		if size > tencentim.MaxMsgBodyBytes || size < tencentim.MaxMsgBodyBytes/2 && i < n-1 {
			t.Errorf("part %d: body + cloud %d bytes, want at most %d and not far below", i+1, size, tencentim.MaxMsgBodyBytes)
		}
		if raw, err := json.Marshal(p.MsgBody); err != nil || len(raw) != bodySize(p.MsgBody) {
			t.Errorf("part %d: bodySize %d, serialized %d (%v)", i+1, bodySize(p.MsgBody), len(raw), err)
		}
		pt := partText(t, p.MsgBody)
		if !utf8.ValidString(pt) || pt == "" {
			t.Errorf("part %d: text is empty or not UTF-8", i+1)
		}
		if i < n-1 && !strings.HasSuffix(pt, "\n") {
			t.Errorf("part %d ends with %q, want a cut after a line break", i+1, pt[len(pt)-10:])
		}
		joined.WriteString(pt)
		wantElems := 1
		if i == n-1 {
			wantElems = 2
		}
		if len(p.MsgBody) != wantElems || (i == n-1 && p.MsgBody[1].MsgType != tencentim.MsgFile) {
			t.Errorf("part %d has %d elements, want %d (the file in the last part)", i+1, len(p.MsgBody), wantElems)
		}
		var cd CloudData
		if err := json.Unmarshal([]byte(p.CloudCustomData), &cd); err != nil {
			t.Fatal(err)
		}
		if cd.Part != i+1 || cd.Parts != n || cd.ReplyTo != "m0" || cd.LegacyID != "m1" {
			t.Errorf("part %d CloudCustomData %s, want part %d of %d with reply_to and legacy_id", i+1, p.CloudCustomData, i+1, n)
		}
		if p.FromAccount != "u1" || p.ToAccount != "u2" || p.MsgTimeStamp != later.Unix() {
			t.Errorf("part %d: %s→%s at %d, want u1→u2 at the message's time", i+1, p.FromAccount, p.ToAccount, p.MsgTimeStamp)
		}
		if i > 0 && p.MsgSeq <= parts[i-1].MsgSeq {
			t.Errorf("part %d MsgSeq %d not after part %d's %d: same-second order is by MsgSeq (spec §6.4)", i+1, p.MsgSeq, i, parts[i-1].MsgSeq)
		}
		keys[[3]int64{int64(p.MsgSeq), int64(p.MsgRandom), p.MsgTimeStamp}] = true
	}
	if joined.String() != text {
		t.Errorf("the parts' texts do not concatenate to the original (%d vs %d bytes)", joined.Len(), len(text))
	}
	if after.MsgSeq <= parts[n-1].MsgSeq || after.MsgTimeStamp != parts[0].MsgTimeStamp {
		t.Errorf("next message of the second: MsgSeq %d, want after the last part's %d", after.MsgSeq, parts[n-1].MsgSeq)
	}
	keys[[3]int64{int64(after.MsgSeq), int64(after.MsgRandom), after.MsgTimeStamp}] = true
	if len(keys) != n+1 {
		t.Errorf("%d distinct (MsgSeq, MsgRandom, MsgTimeStamp) for %d messages: the target would dedup some (spec §7.1)", len(keys), n+1)
	}
	if again := splitRun(); !reflect.DeepEqual(again, res) {
		t.Errorf("a second transform of the same records gives other parts: a resume would not be idempotent")
	}
}

// TestSplitGroup: a group message's parts share its time and sender and take
// distinct Randoms (the 300 s dedup, spec §8.9 A4), also from the next message.
func TestSplitGroup(t *testing.T) {
	text := strings.Repeat("床前明月光，疑是地上霜。", 1500) // 54,000 bytes, no breaks
	tr := newTestTransformer(t, splitPolicy)
	for _, u := range []string{"u1", "u2"} {
		tr.User(user(u))
	}
	tr.Group(grp("g1", "u1"))
	res := tr.GroupMessage(with(gmsg("1", "g1", "u2", later), func(m *extract.Message) { m.Text = text }))
	next := tr.GroupMessage(gmsg("2", "g1", "u1", later))
	if !res.OK || !hasRule(res.Issues, RuleMessageBodySplit) || !next.OK {
		t.Fatalf("ok %v, issues %v; want a split", res.OK, rules(res.Issues))
	}
	randoms := map[uint32]bool{next.Msg.Random: true}
	var joined strings.Builder
	for i, p := range res.Parts {
		if bodySize(p.MsgBody) > tencentim.MaxMsgBodyBytes {
			t.Errorf("part %d is %d bytes", i+1, bodySize(p.MsgBody))
		}
		if p.SendTime != later.Unix() || p.FromAccount != "u2" {
			t.Errorf("part %d: %s at %d, want u2 at the message's time", i+1, p.FromAccount, p.SendTime)
		}
		randoms[p.Random] = true
		joined.WriteString(partText(t, p.MsgBody))
	}
	if len(res.Parts) != 5 || len(randoms) != len(res.Parts)+1 {
		t.Errorf("%d parts, %d distinct Randoms with the next message; want 5 parts, all distinct", len(res.Parts), len(randoms))
	}
	if joined.String() != text {
		t.Errorf("the parts' texts do not concatenate to the original")
	}
	if res.Parts[0].Random != GroupRandom("1") {
		t.Errorf("first part Random %d, want the message's own %d", res.Parts[0].Random, GroupRandom("1"))
	}
}

// TestCutText: every chunk within its budget by jsonStringLen, on rune
// boundaries, concatenating to the input, for random texts rich in escapes.
func TestCutText(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", " ", "\n", "\"", "\\", "<", "&", "\x01", "é", "李", "🌙", "\u2028", "\xff"}
	for i := 0; i < 200; i++ {
		var b strings.Builder
		for n := r.IntN(2000); b.Len() < n; {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := b.String()
		budget, last := 200+r.IntN(800), 8+r.IntN(300)
		chunks := cutText(s, budget, last)
		if chunks == nil {
			if len(s) > 0 {
				t.Fatalf("no cut of %d bytes at budgets %d/%d", len(s), budget, last)
			}
			continue
		}
		if strings.Join(chunks, "") != s {
			t.Fatalf("chunks do not concatenate to the input")
		}
		for j, c := range chunks {
			want := budget
			if j == len(chunks)-1 {
				want = last
			}
			if jsonStringLen(c) > want {
				t.Fatalf("chunk %d of %d: JSON length %d over budget %d", j+1, len(chunks), jsonStringLen(c), want)
			}
			if j < len(chunks)-1 && (c == "" || !utf8.RuneStart(s[len(strings.Join(chunks[:j+1], ""))])) {
				t.Fatalf("chunk %d is empty or cut inside a rune", j+1)
			}
		}
	}
}

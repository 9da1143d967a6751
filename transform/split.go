package transform

import (
	"encoding/json"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/immigrate/immigrate/tencentim"
)

// policies.oversize: split. A message whose MsgBody (with its CloudCustomData)
// is over the 12,000 bytes of spec §6.3 (design §7 A5: the serialized MsgBody
// plus CloudCustomData, JSON escapes included) becomes several consecutive
// messages of the same sender in the same conversation or group:
//
//   - its longest text element is cut at UTF-8 rune boundaries, preferably just
//     after a line break, else after a space, near the limit; the parts' texts,
//     concatenated, are the original text;
//   - every other element (attachments, a second text) stays in the last part,
//     after the end of the text, in its order: a post's files follow its words;
//   - all parts keep the message's time. C2C orders a second's messages by MsgSeq
//     (spec §6.4), and the parts take consecutive same-second ranks in it (the
//     conversation's later messages of that second move up by as many), so they
//     sort in order and their (MsgSeq, MsgRandom, MsgTimeStamp) differ from each
//     other's and every other message's (spec §7.1 dedup). In a group equal
//     seconds are ordered by the call order (design §7 A2) and each part takes a
//     Random of its own from the 300 s window (spec §8.9, design §7 A4);
//   - identities derive from the legacy id and the part number, so a resume
//     resends the same parts and the target's dedup drops the ones it holds;
//   - a C2C part's CloudCustomData carries "part" and "parts" (1-based), next to
//     the message's own fields; import_group_msg has no CloudCustomData (spec
//     §8.9), so group parts carry no number.

// maxSplitParts bounds the parts of one message: more than this many would be
// a document rather than a message, and would crowd a second's C2C ranks.
const maxSplitParts = 100

// splitBody cuts body into parts that each fit 12,000 bytes together with the
// CloudCustomData that cloud returns for part p of n (nil: none). It returns
// the parts' bodies and CloudCustomData, or nil (with message.body.too_large)
// when no split fits.
func (t *Transformer) splitBody(body []tencentim.MsgElem, cloud func(p, n int) string, is *issueList) ([][]tencentim.MsgElem, []string) {
	if cloud == nil {
		cloud = func(int, int) string { return "" }
	}
	whole := cloud(0, 0)
	tooLarge := func() {
		what := "MsgBody"
		if whole != "" {
			what = "MsgBody with CloudCustomData"
		}
		is.add(RuleMessageBodyTooLarge, "%s is %d bytes serialized; TIM allows %d, and no split into at most %d messages of its text fits (policies.oversize: split; spec §6.3, design §7 A5)",
			what, bodySize(body)+len(whole), tencentim.MaxMsgBodyBytes, maxSplitParts)
	}
	longest, text := -1, ""
	for i, e := range body {
		if e.MsgType != tencentim.MsgText {
			continue
		}
		var c tencentim.TextContent
		if json.Unmarshal(e.MsgContent, &c) == nil && len(c.Text) > len(text) {
			longest, text = i, c.Text
		}
	}
	if longest < 0 {
		tooLarge()
		return nil, nil
	}
	// The CloudCustomData reserve of a part: the longest a part number of n
	// parts makes it. n is not known before the cut, so cut again when the
	// count needs more digits than guessed.
	guess := 2
	for {
		reserve := len(cloud(guess, guess))
		// A text element of JSON string length L serializes to fixed+L bytes;
		// in the last part, the other elements add theirs.
		fixed := bodySize(textBody("")) - jsonStringLen("")
		last := append([]tencentim.MsgElem(nil), body...)
		last[longest] = textBody("")[0]
		fixedLast := bodySize(last) - jsonStringLen("")
		chunks := cutText(text, tencentim.MaxMsgBodyBytes-reserve-fixed, tencentim.MaxMsgBodyBytes-reserve-fixedLast)
		if chunks == nil || len(chunks) > maxSplitParts {
			tooLarge()
			return nil, nil
		}
		n := len(chunks)
		if len(strconv.Itoa(n)) > len(strconv.Itoa(guess)) {
			guess = n
			continue
		}
		bodies := make([][]tencentim.MsgElem, n)
		clouds := make([]string, n)
		for p, c := range chunks {
			if p < n-1 {
				bodies[p] = textBody(c)
			} else {
				b := append([]tencentim.MsgElem(nil), body...)
				b[longest] = textBody(c)[0]
				bodies[p] = b
			}
			clouds[p] = cloud(p+1, n)
			if bodySize(bodies[p])+len(clouds[p]) > tencentim.MaxMsgBodyBytes {
				// cutText's costs are jsonStringLen's: cannot happen.
				tooLarge()
				return nil, nil
			}
		}
		is.add(RuleMessageBodySplit, "MsgBody was %d bytes serialized; TIM allows %d, so its text of %d bytes was split into %d consecutive messages (policies.oversize: split; spec §6.3, design §7 A5)",
			bodySize(body)+len(whole), tencentim.MaxMsgBodyBytes, len(text), n)
		return bodies, clouds
	}
}

// cutText cuts s into chunks whose JSON string length (quotes and escapes
// included, as jsonStringLen counts it) is at most budget, the last one at most
// lastBudget. A cut falls on a rune boundary, just after the last line break of
// the chunk's final quarter if there is one, else after its last space there,
// else as late as the budget allows. It returns nil when a budget cannot hold a
// single rune.
func cutText(s string, budget, lastBudget int) []string {
	const maxRuneCost = 6 // \u00XX, \ufffd, \u2028
	if budget < 2+maxRuneCost || lastBudget < 2+maxRuneCost {
		return nil
	}
	var out []string
	for {
		if jsonStringLen(s) <= lastBudget {
			return append(out, s)
		}
		if len(out) >= maxSplitParts {
			return nil
		}
		// The longest prefix within budget.
		end, cost := 0, 2
		for end < len(s) {
			c, size := runeJSONLen(s[end:])
			if cost+c > budget {
				break
			}
			cost += c
			end += size
		}
		if end == len(s) {
			// All of s fits a part but not the last one: the last part is the
			// longest tail that fits it.
			tail, cost := len(s), 2
			for tail > 0 {
				_, size := utf8.DecodeLastRuneInString(s[:tail])
				c, _ := runeJSONLen(s[tail-size:])
				if cost+c > lastBudget {
					break
				}
				cost += c
				tail -= size
			}
			if tail == len(s) {
				return nil
			}
			return append(out, s[:tail], s[tail:])
		}
		cut := breakBefore(s[:end], end-end/4)
		out = append(out, s[:cut])
		s = s[cut:]
	}
}

// breakBefore returns where to cut s (which is cut at len(s) otherwise): just
// after its last line break at or after from, else after its last whitespace
// there, else len(s).
func breakBefore(s string, from int) int {
	space := -1
	for i := len(s); i > from; {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		if r == '\n' {
			return i
		}
		if space < 0 && unicode.IsSpace(r) {
			space = i
		}
		i -= size
	}
	if space > 0 {
		return space
	}
	return len(s)
}

// runeJSONLen is the JSON string length of the first rune (or invalid byte) of
// s and its size in s, as jsonStringLen counts them.
func runeJSONLen(s string) (cost, size int) {
	if b := s[0]; b < utf8.RuneSelf {
		switch {
		case b == '\\' || b == '"' || b == '\b' || b == '\f' || b == '\n' || b == '\r' || b == '\t':
			return 2, 1
		case b < 0x20 || b == '<' || b == '>' || b == '&':
			return 6, 1
		}
		return 1, 1
	}
	r, size := utf8.DecodeRuneInString(s)
	if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
		return 6, size
	}
	return size, size
}

// PartID names part p (1-based) of n of a split message with legacy id id: the
// plan's records, rejects and verify findings use it.
func PartID(id string, p, n int) string {
	return id + "#" + strconv.Itoa(p) + "/" + strconv.Itoa(n)
}

// fitOrSplit applies policies.oversize to a group message's body (cloud is
// "": import_group_msg has none): the body to send and, when it was split, all
// the parts' bodies.
func (t *Transformer) fitOrSplit(body []tencentim.MsgElem, cloud string, is *issueList) ([]tencentim.MsgElem, [][]tencentim.MsgElem) {
	if t.oversize != PolicySplit || bodySize(body)+len(cloud) <= tencentim.MaxMsgBodyBytes {
		return t.fitSize(body, cloud, is), nil
	}
	parts, _ := t.splitBody(body, nil, is)
	if parts == nil {
		return nil, nil
	}
	return parts[0], parts
}

// groupParts makes the messages of a split group message from its first part's
// message: each later part takes a Random of its own from the group's 300 s
// window (spec §8.9, design §7 A4), derived from the legacy id and the part.
func (t *Transformer) groupParts(id string, first tencentim.GroupMsg, bodies [][]tencentim.MsgElem) []tencentim.GroupMsg {
	out := make([]tencentim.GroupMsg, len(bodies))
	for p, b := range bodies {
		msg := first
		msg.MsgBody = b
		if p > 0 {
			msg.Random, _ = t.window.pick(partKey(id, p+1), first.SendTime)
		}
		out[p] = msg
	}
	return out
}

// directParts makes the messages of a split C2C message from its first part's
// request: part p (from 1) takes rank rank+p-1 of its second, so MsgSeq orders
// the parts and keeps their dedup keys apart (spec §6.4, §7.1).
func directParts(id string, rank int, first tencentim.ImportMsgRequest, bodies [][]tencentim.MsgElem, clouds []string) []tencentim.ImportMsgRequest {
	out := make([]tencentim.ImportMsgRequest, len(bodies))
	for p, b := range bodies {
		msg := first
		msg.MsgBody, msg.CloudCustomData = b, clouds[p]
		if p > 0 {
			msg.MsgSeq, msg.MsgRandom = C2CIdentity(partKey(id, p+1), rank+p)
		}
		out[p] = msg
	}
	return out
}

// partKey is the identity source of part p (from 2; part 1 keeps the message's
// own) of a split message.
func partKey(id string, p int) string { return id + "\x00part" + strconv.Itoa(p) }

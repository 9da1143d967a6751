package synth

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// Content: names, texts and payloads with the things that break naive exporters —
// quotes, commas, newlines, non-Latin scripts and emoji.

var words = []string{
	"hello", "ok", "thanks", "see", "you", "tomorrow", "meeting", "at", "the", "office",
	"lunch", "deploy", "release", "bug", "fixed", "coffee", "call", "me", "later", "sure",
	"好的", "谢谢", "明天见", "没问题", "こんにちは", "안녕하세요", "Grüße", "café", "naïve",
	"😀", "👍", "🎉", "🚀", `"quoted"`, "a,b", "100%", "it's", "#general", "@team", "v2.1",
}

var firstNames = []string{
	"Ana", "Wei", "Sofia", "Kenji", "Olu", "Marta", "Ravi", "Lena", "Jonas", "Aiko",
	"王伟", "李娜", "Zoë", "José", "Åsa", "Mia", "O'Brien", "Nguyễn", "Søren", "Fatima",
}

var lastNames = []string{
	"Silva", "Chen", "Müller", "Sato", "Okafor", "Kowalski", "Patel", "Novak", "Berg",
	"Tanaka", "Smith, Jr.", "García", "Ivanova", "Kim", "Dubois", "Rossi",
}

var groupWords = []string{
	"Team", "Project", "Family", "Book club", "Hiking", "Ops", "Alumni", "Gamers",
	"周末", "読書会", "Support", "Launch", "Design", "Café",
}

func nick(r *rand.Rand) string {
	return firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))]
}

// sentence returns 1-20 words; one text in a hundred spans two lines.
func sentence(r *rand.Rand, b *strings.Builder) string {
	b.Reset()
	n := 1 + r.IntN(20)
	for i := range n {
		if i > 0 {
			if r.IntN(100) == 0 {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.String()
}

// longText returns a text of at least n bytes (for oversize bodies).
func longText(n int) string {
	const unit = "lorem ipsum 你好 "
	return strings.Repeat(unit, n/len(unit)+1)
}

// longNick returns a nick of more than 500 bytes made of multi-byte runes, so that
// a truncation that splits a rune would show.
func longNick() string { return strings.Repeat("名前", 90) } // 540 bytes

func faceURL(kind, id string) string {
	return "https://cdn.example.com/" + kind + "/" + id + ".png"
}

func locationPayload(r *rand.Rand) string {
	lat := -60 + r.Float64()*120
	lng := -180 + r.Float64()*360
	return `{"lat":` + strconv.FormatFloat(lat, 'f', 5, 64) + `,"lng":` + strconv.FormatFloat(lng, 'f', 5, 64) +
		`,"desc":"` + []string{"Office", "Home", "Café Central", "駅前"}[r.IntN(4)] + `"}`
}

func cardPayload(r *rand.Rand, user string) string {
	return `{"card":"contact","user":"` + user + `","score":` + strconv.Itoa(r.IntN(100)) + `}`
}

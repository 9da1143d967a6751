package transform

import (
	"strconv"
	"testing"
	"time"

	"github.com/immigrate/immigrate/extract"
)

// benchUsers is the number of users of the benchmark population.
const benchUsers = 10000

func benchTransformer(b *testing.B) *Transformer {
	b.Helper()
	tr := newTestTransformer(b, nil)
	for i := 0; i < benchUsers; i++ {
		if r := tr.User(user("user" + strconv.Itoa(i))); !r.OK {
			b.Fatalf("user rejected: %v", rules(r.Issues))
		}
	}
	return tr
}

// benchStream makes the i-th benchmark message from prebuilt ids and user names,
// so that the loop measures the transformer rather than record construction:
// streams (conversations or groups) of 50 text messages, three per second.
type benchStream struct {
	ids, users, groups []string
}

func newBenchStream(n int) benchStream {
	s := benchStream{ids: make([]string, n), users: make([]string, benchUsers), groups: make([]string, 100)}
	for i := range s.ids {
		s.ids[i] = strconv.Itoa(i)
	}
	for i := range s.users {
		s.users[i] = "user" + strconv.Itoa(i)
	}
	for i := range s.groups {
		s.groups[i] = "g" + strconv.Itoa(i)
	}
	return s
}

const benchText = "a typical chat message, about sixty bytes long — with ünïcode"

func (s benchStream) message(i int, group bool) extract.Message {
	stream := i / 50
	a, c := s.users[stream%benchUsers], s.users[(stream+1)%benchUsers]
	if i%2 == 1 {
		a, c = c, a
	}
	m := extract.Message{ID: s.ids[i], SenderID: a, SentAt: t0.Add(time.Duration(i/3) * time.Second), Kind: "text", Text: benchText}
	if group {
		m.GroupID = s.groups[stream%len(s.groups)]
	} else {
		m.RecipientID = c
	}
	return m
}

func BenchmarkDirectMessage(b *testing.B) {
	tr := benchTransformer(b)
	s := newBenchStream(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := tr.DirectMessage(s.message(i, false)); !r.OK {
			b.Fatalf("rejected: %v", rules(r.Issues))
		}
	}
}

func BenchmarkGroupMessage(b *testing.B) {
	tr := benchTransformer(b)
	s := newBenchStream(b.N)
	for _, g := range s.groups {
		tr.Group(grp(g, "user0"))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := tr.GroupMessage(s.message(i, true)); !r.OK {
			b.Fatalf("rejected: %v", rules(r.Issues))
		}
	}
}

func BenchmarkUser(b *testing.B) {
	tr := newTestTransformer(b, nil)
	users := make([]extract.User, b.N)
	for i := range users {
		users[i] = user("user" + strconv.Itoa(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range users {
		tr.User(users[i])
	}
}

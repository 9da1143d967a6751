package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type meta struct{ Hash string }

func build(t *testing.T, dir string, recs map[string][]Record, m meta) {
	t.Helper()
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, phase := range []string{"accounts", "direct_messages"} {
		for _, r := range recs[phase] {
			if err := w.Append(phase, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Seal(m); err != nil {
		t.Fatal(err)
	}
}

func readAll(t *testing.T, r *Reader, phase string) []Record {
	t.Helper()
	var got []Record
	if err := r.Records(t.Context(), phase, func(rec Record) error { got = append(got, rec); return nil }); err != nil {
		t.Fatal(err)
	}
	return got
}

func sample() map[string][]Record {
	recs := map[string][]Record{
		"accounts": {{Origin: "users.csv:2", LegacyID: "u1", Payload: []byte(`{"UserID":"u1"}`)}, {Origin: "users.csv:3", LegacyID: "u2", Payload: []byte(`{}`)}},
	}
	for c := range 3 {
		for m := range 4 {
			recs["direct_messages"] = append(recs["direct_messages"], Record{
				Stream: fmt.Sprintf("a\x00b%d", c), Origin: fmt.Sprintf("dm.csv:%d", c*4+m), LegacyID: fmt.Sprint(c*4 + m),
				Payload: []byte(fmt.Sprintf(`{"n":%d}`, m)),
			})
		}
	}
	// A stream that comes back, an empty stream after a named one, binary bytes.
	recs["direct_messages"] = append(recs["direct_messages"],
		Record{Stream: "a\x00b0", LegacyID: "again"},
		Record{Stream: "", LegacyID: "empty stream", Payload: []byte{0, 0xff}},
		Record{Stream: "\xff\x00", Origin: "", LegacyID: ""})
	return recs
}

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plan")
	want := sample()
	build(t, dir, want, meta{Hash: "h1"})
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var m meta
	if err := r.Meta(&m); err != nil || m.Hash != "h1" {
		t.Fatalf("meta = %+v, %v", m, err)
	}
	for phase, recs := range want {
		got := readAll(t, r, phase)
		if len(got) != len(recs) {
			t.Fatalf("%s: %d records, want %d", phase, len(got), len(recs))
		}
		for i := range recs {
			g, w := got[i], recs[i]
			if g.Stream != w.Stream || g.Origin != w.Origin || g.LegacyID != w.LegacyID || string(g.Payload) != string(w.Payload) {
				t.Errorf("%s[%d] = %+q, want %+q", phase, i, g, w)
			}
		}
		if r.Info(phase).Records != int64(len(recs)) {
			t.Errorf("%s: Info.Records = %d", phase, r.Info(phase).Records)
		}
	}
	if got := readAll(t, r, "unread"); len(got) != 0 {
		t.Errorf("phase without records yielded %d", len(got))
	}
}

func TestUnsealedIsNotFound(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plan")
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append("accounts", Record{LegacyID: "u1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open before Seal: %v, want ErrNotFound", err)
	}
	w.Abort()
	if _, err := os.Stat(dir + tmpSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Abort left %s: %v", dir+tmpSuffix, err)
	}
}

func TestReplaceKeepsOldUntilSeal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plan")
	build(t, dir, sample(), meta{Hash: "old"})
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	w.Append("accounts", Record{LegacyID: "new"})
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var m meta
	r.Meta(&m)
	if m.Hash != "old" {
		t.Fatalf("before Seal the spool is %q, want the old one", m.Hash)
	}
	if err := w.Seal(meta{Hash: "new"}); err != nil {
		t.Fatal(err)
	}
	r, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r.Meta(&m)
	got := readAll(t, r, "accounts")
	if m.Hash != "new" || len(got) != 1 || got[0].LegacyID != "new" || r.Info("direct_messages").Records != 0 {
		t.Fatalf("after Seal: meta %q, accounts %+v, dm %d", m.Hash, got, r.Info("direct_messages").Records)
	}
}

func TestCorruption(t *testing.T) {
	for name, damage := range map[string]func(path string) error{
		"flipped byte": func(p string) error {
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0x40
			return os.WriteFile(p, b, 0o644)
		},
		"truncated": func(p string) error {
			st, _ := os.Stat(p)
			return os.Truncate(p, st.Size()-3)
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "plan")
			build(t, dir, sample(), meta{})
			if err := damage(filepath.Join(dir, "direct_messages"+recExt)); err != nil {
				t.Fatal(err)
			}
			r, err := Open(dir)
			if err == nil {
				err = r.Records(t.Context(), "direct_messages", func(Record) error { return nil })
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestRecordsStops(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plan")
	build(t, dir, sample(), meta{})
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	n := 0
	err = r.Records(t.Context(), "direct_messages", func(Record) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Fatalf("fn error: got %v after %d records", err, n)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := r.Records(ctx, "direct_messages", func(Record) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestInvalidPhase(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "plan"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for _, p := range []string{"", "a/b", "../x"} {
		if err := (&Writer{tmp: w.tmp, phases: map[string]*phaseWriter{}}).Append(p, Record{}); err == nil {
			t.Errorf("phase %q accepted", p)
		}
	}
}

func BenchmarkAppendRead(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "plan")
	payload := []byte(`{"SyncFromOldSystem":2,"From_Account":"u012345","To_Account":"u067890","MsgSeq":123456789,"MsgRandom":987654321,"MsgTimeStamp":1700000000,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello there, how are you doing today?"}}]}`)
	w, err := Create(dir)
	if err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		w.Append("direct_messages", Record{Stream: fmt.Sprintf("u%d\x00u%d", i/50, i/50+1), Origin: fmt.Sprintf("direct_messages.csv:%d", i+2), LegacyID: fmt.Sprint(i), Payload: payload})
	}
	if err := w.Seal(meta{}); err != nil {
		b.Fatal(err)
	}
	r, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Records(context.Background(), "direct_messages", func(Record) error { return nil }); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(r.Bytes())/float64(b.N), "spool-bytes/record")
}

// TestLargestStreams: the seal indexes the largest streams; each reads on its own,
// and RecordsBesides yields exactly the other records, so that the two together
// are Records.
func TestLargestStreams(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plan")
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	// LargestStreams+200 streams; stream i has 1 + (i*7919)%97 records, so sizes
	// repeat and are spread over the file.
	streams := LargestStreams + 200
	size := func(i int) int { return 1 + (i*7919)%97 }
	var all []Record
	for i := range streams {
		for m := range size(i) {
			r := Record{Stream: fmt.Sprintf("s%04d", i), LegacyID: fmt.Sprintf("%d/%d", i, m), Payload: []byte(fmt.Sprint(m))}
			all = append(all, r)
			if err := w.Append("direct_messages", r); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Accounts have no stream: no index.
	if err := w.Append("accounts", Record{LegacyID: "u1"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Seal(meta{}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Largest("accounts"); len(got) != 0 {
		t.Fatalf("accounts index %+v, want none", got)
	}
	big := r.Largest("direct_messages")
	if len(big) != LargestStreams {
		t.Fatalf("%d indexed streams, want %d", len(big), LargestStreams)
	}
	// The index holds the largest: every stream left out is no larger than the
	// smallest indexed one, and the index is sorted largest first.
	in := map[string]bool{}
	for i, s := range big {
		in[s.Stream] = true
		if i > 0 && s.Records > big[i-1].Records {
			t.Fatalf("index not sorted: %d after %d", s.Records, big[i-1].Records)
		}
	}
	smallest := big[len(big)-1].Records
	for i := range streams {
		if k := fmt.Sprintf("s%04d", i); !in[k] && int64(size(i)) > smallest {
			t.Fatalf("stream %s of %d records left out, the index holds one of %d", k, size(i), smallest)
		}
	}
	var got []Record
	for _, s := range big {
		var n int
		if err := r.ReadStream(t.Context(), "direct_messages", s, func(rec Record) error {
			i, _ := strconv.Atoi(s.Stream[1:])
			if want := fmt.Sprintf("%d/%d", i, n); rec.Stream != s.Stream || rec.LegacyID != want {
				t.Fatalf("stream %s record %d: %+v", s.Stream, n, rec)
			}
			n++
			got = append(got, rec)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if int64(n) != s.Records {
			t.Fatalf("stream %s: %d records, index says %d", s.Stream, n, s.Records)
		}
	}
	if err := r.RecordsBesides(t.Context(), "direct_messages", func(rec Record) error {
		if in[rec.Stream] {
			t.Fatalf("RecordsBesides yielded %+v of an indexed stream", rec)
		}
		got = append(got, rec)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	key := func(r Record) string { return r.Stream + "|" + r.LegacyID + "|" + string(r.Payload) }
	want := map[string]int{}
	for _, rec := range all {
		want[key(rec)]++
	}
	for _, rec := range got {
		want[key(rec)]--
	}
	for k, n := range want {
		if n != 0 {
			t.Fatalf("record %q: %d more in Records than in the stream reads", k, n)
		}
	}
	if len(got) != len(all) {
		t.Fatalf("%d records read, %d written", len(got), len(all))
	}

	// A flipped byte inside an indexed stream fails its read.
	path := filepath.Join(dir, "direct_messages.rec")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := big[0]
	b[s.Offset+s.Bytes-1] ^= 0x01
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	err = r.ReadStream(t.Context(), "direct_messages", s, func(Record) error { return nil })
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("ReadStream of a flipped stream: %v, want ErrCorrupt", err)
	}
	if err := r.ReadStream(t.Context(), "direct_messages", StreamInfo{Stream: "nope"}, func(Record) error { return nil }); err == nil {
		t.Fatal("ReadStream of a stream the index does not hold: no error")
	}
}

// TestLargestStreamsLeaveOutReturningStreams: a stream that comes back after
// another began must be read in file order, so the index leaves it out.
func TestLargestStreamsLeaveOutReturningStreams(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plan")
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []struct {
		stream string
		n      int
	}{{"a", 3}, {"b", 5}, {"c", 2}, {"a", 9}, {"d", 1}} {
		for i := range run.n {
			if err := w.Append("group_messages", Record{Stream: run.stream, LegacyID: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Seal(meta{}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range r.Largest("group_messages") {
		got = append(got, fmt.Sprintf("%s:%d", s.Stream, s.Records))
	}
	if want := []string{"b:5", "c:2", "d:1"}; !slices.Equal(got, want) {
		t.Fatalf("index %v, want %v", got, want)
	}
	var besides []string
	if err := r.RecordsBesides(t.Context(), "group_messages", func(rec Record) error {
		besides = append(besides, rec.Stream)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := "aaaaaaaaaaaa"; strings.Join(besides, "") != want {
		t.Fatalf("RecordsBesides streams %v, want %s", besides, want)
	}
}

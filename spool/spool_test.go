package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

package load

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// largeSource is a memSource that is also a StreamSource: the n longest stream
// runs of each message phase are its large streams, as the spool's index would
// list them.
type largeSource struct {
	*memSource
	n int

	mu    sync.Mutex
	reads []string // the keys ReadStream was called for, in call order
}

type streamRun struct{ start, records int }

// phaseRuns returns the phase's records and its stream runs.
func (s *largeSource) phaseRuns(ctx context.Context, ph Phase) ([]Record, []streamRun, error) {
	var recs []Record
	if err := s.memSource.Records(ctx, ph, func(r Record) error { recs = append(recs, r); return nil }); err != nil {
		return nil, nil, err
	}
	var runs []streamRun
	for i, r := range recs {
		if i == 0 || r.Stream != recs[i-1].Stream {
			runs = append(runs, streamRun{start: i})
		}
		runs[len(runs)-1].records++
	}
	return recs, runs, nil
}

func (s *largeSource) large(ph Phase) []streamRun {
	_, runs, err := s.phaseRuns(context.Background(), ph)
	if err != nil {
		return nil
	}
	slices.SortStableFunc(runs, func(a, b streamRun) int { return b.records - a.records })
	return runs[:min(s.n, len(runs))]
}

func (s *largeSource) LargeStreams(ph Phase) []StreamRef {
	recs, _, _ := s.phaseRuns(context.Background(), ph)
	var out []StreamRef
	for _, r := range s.large(ph) {
		out = append(out, StreamRef{Key: recs[r.start].Stream, Records: int64(r.records), Pos: int64(r.start)})
	}
	return out
}

func (s *largeSource) ReadStream(ctx context.Context, ph Phase, ref StreamRef, fn func(Record) error) error {
	s.mu.Lock()
	s.reads = append(s.reads, ref.Key)
	s.mu.Unlock()
	recs, _, err := s.phaseRuns(ctx, ph)
	if err != nil {
		return err
	}
	for _, r := range recs[ref.Pos : ref.Pos+ref.Records] {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (s *largeSource) RecordsBesides(ctx context.Context, ph Phase, fn func(Record) error) error {
	recs, _, err := s.phaseRuns(ctx, ph)
	if err != nil {
		return err
	}
	skip := map[int]bool{}
	for _, r := range s.large(ph) {
		for i := r.start; i < r.start+r.records; i++ {
			skip[i] = true
		}
	}
	for i, r := range recs {
		if skip[i] {
			continue
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// TestEngineLargeStreamsReachTheSameState: a StreamSource run, its large streams
// read on their own, reaches the state of the plain sequential run, with faults
// too (lost answers of import_group_msg batches are reconciled the same way).
func TestEngineLargeStreamsReachTheSameState(t *testing.T) {
	mem := buildDataset(t, e2eSpec)
	clean := newTarget(t, nil)
	cfg := Config{Rates: highRates(), UseMultiAccount: true, RecentContactFlag: true, Streams: 4, Workers: 8}
	if _, err := runEngine(t, clean, mem, cfg); err != nil {
		t.Fatalf("sequential run: %v", err)
	}
	want := clean.srv.State()
	for _, tc := range []struct {
		name   string
		n      int
		faults bool
	}{
		{"some streams large", 5, false},
		{"every stream large", 1 << 20, false},
		{"some streams large, faults", 5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &largeSource{memSource: mem, n: tc.n}
			tg := newTarget(t, func(c *sandbox.Config) {
				if tc.faults {
					c.Faults = faults10()
					c.Seed = 5
				}
			})
			sum, err := runEngine(t, tg, src, cfg)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			checkAccounting(t, sum, mem)
			if len(src.reads) == 0 {
				t.Fatal("no large stream was read on its own")
			}
			if got := tg.srv.State(); !reflect.DeepEqual(got, want) {
				gj, _ := json.MarshalIndent(got, "", " ")
				wj, _ := json.MarshalIndent(want, "", " ")
				t.Fatalf("state differs from the sequential run's:\n%s", firstDiff(string(gj), string(wj)))
			}
		})
	}
}

// TestEngineStartsLargeStreamsFirst: with one stream in flight at a time, the
// one-to-one messages reach the target large streams first, in LargeStreams'
// order, then the others in the source's order.
func TestEngineStartsLargeStreamsFirst(t *testing.T) {
	mem := buildDataset(t, e2eSpec)
	src := &largeSource{memSource: mem, n: 3}
	var (
		mu    sync.Mutex
		order []string // conversation of each importmsg request, in arrival order
	)
	tg := newWrappedTarget(t, nil, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if bytes.Contains([]byte(r.URL.Path), []byte("importmsg")) {
				body, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(bytes.NewReader(body))
				var req tencentim.ImportMsgRequest
				if json.Unmarshal(body, &req) == nil {
					mu.Lock()
					order = append(order, ConversationStream(req.FromAccount, req.ToAccount))
					mu.Unlock()
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	if _, err := runEngine(t, tg, src, Config{Rates: highRates(), UseMultiAccount: true, Streams: 1, Workers: 8}); err != nil {
		t.Fatalf("run: %v", err)
	}
	var want []string
	for _, ref := range src.LargeStreams(PhaseDirectMessages) {
		for range ref.Records {
			want = append(want, ref.Key)
		}
	}
	big := map[string]bool{}
	for _, k := range want {
		big[k] = true
	}
	for _, m := range mem.direct {
		if k := ConversationStream(m.Req.FromAccount, m.Req.ToAccount); !big[k] {
			want = append(want, k)
		}
	}
	if !slices.Equal(order, want) {
		t.Fatalf("importmsg order by conversation:\n got  %q\n want %q", order[:min(20, len(order))], want[:min(20, len(want))])
	}
}

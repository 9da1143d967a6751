package load

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// Benchmarks of design §8 (run them with -run '^$' -bench Engine -benchtime 1x):
//
//   - BenchmarkEngineDirectMessages: importmsg against an unthrottled sandbox with
//     no latency, the engine unlimited too: the calls/s show whether the engine
//     (with the client and the loopback HTTP stack) could ever be the bottleneck.
//   - BenchmarkEngineRateLimited: the whole pipeline against a sandbox enforcing
//     the documented limits, with a simulated round trip, the engine at its
//     defaults (95 % of the documented rates): per API, achieved calls/s ÷
//     configured rate while the API had work.

func BenchmarkEngineDirectMessages(b *testing.B) {
	const perConv = 20
	msgs := max(b.N, 20000)
	spec := dataSpec{users: 200, convs: msgs / perConv * 2, convMsgs: perConv}
	src := buildDataset(b, spec)
	// buildDataset varies conversation sizes; trim to the wanted count.
	if len(src.direct) > msgs {
		src.direct = src.direct[:msgs]
	}
	tg := newTarget(b, nil)
	rates := map[tencentim.Command]float64{}
	for _, c := range usedAPIs {
		rates[c] = math.Inf(1)
	}
	e := NewEngine(tg.client, Config{Rates: rates, UseMultiAccount: true, Streams: 256})
	b.ResetTimer()
	sum, err := e.Run(b.Context(), src)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	a := sum.APIs[tencentim.CmdImportMsg.String()]
	if a == nil || a.Calls != int64(len(src.direct)) {
		b.Fatalf("importmsg calls %v, want %d", a, len(src.direct))
	}
	b.ReportMetric(a.AchievedRate(), "importmsg-calls/s")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkEngineRateLimited(b *testing.B) {
	for _, rtt := range []time.Duration{50 * time.Millisecond, 200 * time.Millisecond} {
		b.Run(fmt.Sprintf("rtt=%v", rtt), func(b *testing.B) {
			for range b.N {
				benchRateLimited(b, rtt)
			}
		})
	}
}

func benchRateLimited(b *testing.B, rtt time.Duration) {
	// Sized so that each API runs for several seconds at its rate: ~2,300 importmsg
	// (12 s at 190/s), ~1,000 import_group_msg (5 s), 600 account_import (3 s).
	spec := dataSpec{users: 600, nicks: 600, groupMsgs: make([]int, 100), convs: 400, convMsgs: 11}
	for i := range spec.groupMsgs {
		spec.groupMsgs[i] = 70
	}
	src := buildDataset(b, spec)
	tg := newTarget(b, func(c *sandbox.Config) {
		c.RateLimits = sandbox.DocumentedRateLimits()
		c.Latency = rtt
		c.LatencyJitter = rtt / 5
	})
	e := NewEngine(tg.client, Config{UseMultiAccount: true})
	start := time.Now()
	sum, err := e.Run(b.Context(), src)
	if err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	// The lower bound: the critical path at the configured rates (design §3):
	// accounts, then max(group phases, importmsg).
	rate := func(c tencentim.Command) float64 { return 0.95 * tencentim.DocumentedRate[c] }
	calls := func(c tencentim.Command) float64 {
		if a := sum.APIs[c.String()]; a != nil {
			return float64(a.Calls)
		}
		return 0
	}
	accounts := calls(tencentim.CmdAccountImport) / rate(tencentim.CmdAccountImport)
	groupPath := calls(tencentim.CmdImportGroup)/rate(tencentim.CmdImportGroup) +
		calls(tencentim.CmdImportGroupMember)/rate(tencentim.CmdImportGroupMember) +
		calls(tencentim.CmdImportGroupMsg)/rate(tencentim.CmdImportGroupMsg)
	c2c := calls(tencentim.CmdImportMsg) / rate(tencentim.CmdImportMsg)
	bound := accounts + math.Max(groupPath, c2c)
	for _, x := range []struct {
		ph  Phase
		api tencentim.Command
	}{
		{PhaseAccounts, tencentim.CmdAccountImport},
		{PhaseGroupMessages, tencentim.CmdImportGroupMsg},
		{PhaseDirectMessages, tencentim.CmdImportMsg},
	} {
		a, p := sum.APIs[x.api.String()], sum.Phases[x.ph]
		if a == nil {
			b.Fatalf("no calls of %s", x.api)
		}
		// While the phase had work queued (until its source was read), and over
		// the whole phase, tail included.
		queued := float64(p.CallsAtReadDone) / p.ReadDone.Sub(a.First).Seconds()
		b.ReportMetric(queued/a.Rate, x.api.Name+"-queued-ratio")
		b.ReportMetric(a.AchievedRate()/a.Rate, x.api.Name+"-overall-ratio")
		if a.RateLimited > 0 {
			b.ReportMetric(float64(a.RateLimited), x.api.Name+"-60007")
		}
	}
	b.ReportMetric(elapsed.Seconds()/bound, "wall/lower-bound")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkEngineMemory imports 1,000,000 one-to-one messages, generated on the
// fly, into a target that answers OK at once without storing anything (the
// sandbox would hold every message in memory and hide the engine's own use), and
// reports the peak Go heap: it must stay flat whatever the dataset size (design
// §3: memory bounded by the streams in flight).
func BenchmarkEngineMemory(b *testing.B) {
	const total = 1_000_000
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`)
	}))
	b.Cleanup(hs.Close)
	client := newTestClient(b, hs.URL, testKey)
	rates := map[tencentim.Command]float64{}
	for _, c := range usedAPIs {
		rates[c] = math.Inf(1)
	}
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	body := textBody(b, "a message of ordinary length, about as long as a chat line usually is")
	src := &genSource{n: total, body: body}
	e := NewEngine(client, Config{Rates: rates, Streams: 256})
	b.ResetTimer()
	sum, err := e.Run(b.Context(), src)
	b.StopTimer()
	close(stop)
	<-sampled
	if err != nil {
		b.Fatal(err)
	}
	if got := sum.Phases[PhaseDirectMessages].Imported; got != total {
		b.Fatalf("imported %d, want %d", got, total)
	}
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(sum.APIs[tencentim.CmdImportMsg.String()].AchievedRate(), "importmsg-calls/s")
	b.ReportMetric(0, "ns/op")
}

// genSource yields n one-to-one messages in conversations of 50, building each
// payload when it is asked for, like a streaming reader would.
type genSource struct {
	n    int
	body []tencentim.MsgElem
}

func (s *genSource) Records(ctx context.Context, ph Phase, fn func(Record) error) error {
	if ph == PhaseDirectMessages {
		return s.DirectMessages(ctx, func(m DirectMessage) error {
			r, err := m.record()
			if err != nil {
				return err
			}
			return fn(r)
		})
	}
	return nil
}

func (s *genSource) DirectMessages(ctx context.Context, fn func(DirectMessage) error) error {
	for i := range s.n {
		conv := i / 50
		legacy := strconv.Itoa(i)
		err := fn(DirectMessage{
			Item: Item{Origin: "direct_messages.csv:" + legacy, LegacyID: legacy},
			Req: tencentim.ImportMsgRequest{
				SyncFromOldSystem: tencentim.SyncHistorical,
				FromAccount:       "user" + strconv.Itoa(conv), ToAccount: "peer" + strconv.Itoa(conv),
				MsgSeq: uint32(i), MsgRandom: uint32(i) * 2654435761, MsgTimeStamp: 1_600_000_000 + int64(i),
				MsgBody: s.body,
			},
		})
		if err != nil {
			return err
		}
	}
	return nil
}

package load

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/immigrate/immigrate/checkpoint"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// crashStore is a checkpoint.Store whose writes stop reaching the file once
// crashed: what it holds then is what a process killed at that moment leaves.
type crashStore struct {
	checkpoint.Store
	crashed atomic.Bool
	fail    atomic.Bool // Apply fails without crashing (a database outage)
}

var errCrashed = errors.New("the process is dead")

func (s *crashStore) Apply(ctx context.Context, b *checkpoint.Batch) error {
	if s.crashed.Load() || s.fail.Load() {
		return errCrashed
	}
	return s.Store.Apply(ctx, b)
}

// session is one run's checkpoint: a store on path, begun, with a writer.
type session struct {
	store *crashStore
	w     *checkpoint.Writer
	cp    *Checkpoint
}

func openSession(t *testing.T, path string) *session {
	t.Helper()
	st, err := checkpoint.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	cs := &crashStore{Store: st}
	if _, err := cs.Begin(t.Context(), checkpoint.Manifest{MappingHash: "hash", Target: "sandbox"}, checkpoint.BeginOptions{}); err != nil {
		t.Fatal(err)
	}
	// A short interval: crashes then land between flushes as well as before them.
	w := checkpoint.NewWriter(cs, checkpoint.WriterConfig{Interval: 5 * time.Millisecond})
	cp, err := NewCheckpoint(t.Context(), cs, w)
	if err != nil {
		t.Fatal(err)
	}
	return &session{store: cs, w: w, cp: cp}
}

// close ends a session cleanly (flushing) or, after a crash, as a dead process
// would: whatever the writer still holds is lost.
func (s *session) close(t *testing.T) {
	t.Helper()
	err := s.w.Close(context.Background())
	if err != nil && !s.store.crashed.Load() {
		t.Fatalf("writer close: %v", err)
	}
	if err := s.store.Close(); err != nil {
		t.Fatal(err)
	}
}

// resumeConfig is the engine configuration of the resume tests.
func resumeConfig(s *session, hooks Hooks, sink RejectSink) Config {
	return Config{Rates: highRates(), UseMultiAccount: true, RecentContactFlag: true, Streams: 8, Workers: 4,
		Checkpoint: s.cp, Hooks: hooks, Rejects: sink}
}

// TestResumeAfterCrashes kills (simulates killing) a run at a point of each phase,
// possibly several times, then runs again until it finishes: the target ends in
// the state an uninterrupted run reaches, every record counted once, and the
// final summary balanced over the whole migration.
func TestResumeAfterCrashes(t *testing.T) {
	type crash struct {
		ph Phase
		n  int64 // crash at the n-th confirmation of ph in that run
	}
	tests := []struct {
		name    string
		crashes []crash
		faults  []sandbox.Fault
	}{
		{"accounts", []crash{{PhaseAccounts, 150}}, nil},
		{"groups", []crash{{PhaseGroups, 3}}, nil},
		{"members", []crash{{PhaseMembers, 200}, {PhaseMembers, 150}}, nil},
		{"group messages", []crash{{PhaseGroupMessages, 20}, {PhaseGroupMessages, 37}, {PhaseGroupMessages, 11}}, nil},
		{"direct messages", []crash{{PhaseDirectMessages, 60}, {PhaseDirectMessages, 90}}, nil},
		{"unread", []crash{{PhaseUnread, 2}}, nil},
		{"every phase", []crash{{PhaseAccounts, 50}, {PhaseMembers, 30}, {PhaseGroupMessages, 9}, {PhaseDirectMessages, 200}}, nil},
		{"lost answers", []crash{{PhaseGroupMessages, 15}, {PhaseGroupMessages, 15}, {PhaseDirectMessages, 100}},
			[]sandbox.Fault{{Probability: 0.1, Kind: sandbox.FaultDropResponse}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := buildDataset(t, e2eSpec)
			tg := newTarget(t, func(c *sandbox.Config) { c.Faults = tt.faults })
			path := filepath.Join(t.TempDir(), "checkpoint.db")
			for i, c := range tt.crashes {
				s := openSession(t, path)
				ctx, cancel := context.WithCancel(t.Context())
				var n atomic.Int64
				hooks := Hooks{OnConfirmed: func(ph Phase, _ string, _ Item, _ Outcome) {
					if ph == c.ph && n.Add(1) == c.n {
						s.store.crashed.Store(true)
						cancel()
					}
				}}
				e := NewEngine(tg.client, resumeConfig(s, hooks, nil))
				fastRetries(e)
				_, err := e.Run(ctx, src)
				cancel()
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("run %d: err = %v, want the crash (%s had %d confirmations)", i+1, err, c.ph, n.Load())
				}
				s.close(t)
			}
			s := openSession(t, path)
			sink := &memSink{}
			e := NewEngine(tg.client, resumeConfig(s, Hooks{}, sink))
			fastRetries(e)
			sum, err := e.Run(t.Context(), src)
			if err != nil {
				t.Fatalf("final run: %v", err)
			}
			s.close(t)
			checkState(t, tg.srv.State(), src, nil)
			checkAccounting(t, sum, src)
			for ph, n := range src.counts() {
				if p := sum.Phases[ph]; p.Imported+p.Present != n || p.Rejected != 0 {
					t.Errorf("%s: imported %d + present %d, rejected %d; want %d records once", ph, p.Imported, p.Present, p.Rejected, n)
				}
			}
			if len(sink.rejects) != 0 {
				t.Errorf("rejects: %+v", sink.rejects)
			}
			checkStored(t, path, src.counts(), 0)
		})
	}
}

// checkStored asserts that the checkpoint at path holds every phase as done with
// counts equal to the records, and rejects rejects.
func checkStored(t *testing.T, path string, want map[Phase]int64, rejects int) {
	t.Helper()
	st, err := checkpoint.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counters, err := st.Counters(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[Phase]checkpoint.PhaseCounters{}
	for _, pc := range counters {
		got[Phase(pc.Phase)] = pc
	}
	for ph, n := range want {
		pc := got[ph]
		if sum := pc.Imported + pc.Present + pc.Rejected; (n > 0 && !pc.Done) || sum != n || pc.Intents != 0 {
			t.Errorf("checkpoint %s: done %v, imported %d + present %d + rejected %d, %d open intents; want done, %d",
				ph, pc.Done, pc.Imported, pc.Present, pc.Rejected, pc.Intents, n)
		}
	}
	n := 0
	if err := st.Rejects(t.Context(), func(checkpoint.Reject) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != rejects {
		t.Errorf("checkpoint holds %d rejects, want %d", n, rejects)
	}
}

// TestResumeSkipsFinishedWork: a run over a finished checkpoint calls neither the
// source nor the target, and its summary comes from the checkpoint.
func TestResumeSkipsFinishedWork(t *testing.T) {
	src := buildDataset(t, dataSpec{users: 60, nicks: 2, groupMsgs: []int{12, 5}, convs: 10, convMsgs: 5, unreadPerGrp: 2})
	tg := newTarget(t, nil)
	path := filepath.Join(t.TempDir(), "checkpoint.db")
	s := openSession(t, path)
	if _, err := runEngine(t, tg, src, resumeConfig(s, Hooks{}, nil)); err != nil {
		t.Fatal(err)
	}
	s.close(t)
	before := compactJSON(t, tg.srv.State())

	src.called = nil
	s = openSession(t, path)
	sum, err := runEngine(t, tg, src, resumeConfig(s, Hooks{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	s.close(t)
	if len(sum.APIs) != 0 {
		t.Errorf("the finished migration made calls: %v", sum.APIs)
	}
	if len(src.called) != 0 {
		t.Errorf("the finished migration read the source: %v", src.called)
	}
	checkAccounting(t, sum, src)
	for ph, n := range src.counts() {
		if p := sum.Phases[ph]; p.Imported != n {
			t.Errorf("%s: imported %d from the checkpoint, want %d", ph, p.Imported, n)
		}
	}
	if after := compactJSON(t, tg.srv.State()); after != before {
		t.Error("the target changed")
	}
}

// TestResumeReconcilesOpenIntent: an interrupted run left an intent for a group's
// first batch and the target holds only part of it. The resumed run reads the group
// back and sends the rest, whatever its batch size now: a blind resend would fail
// the stored, older messages with 10004 (design §4 rule 3).
func TestResumeReconcilesOpenIntent(t *testing.T) {
	tests := []struct {
		batch     int
		readBacks int64 // batches starting within the intent's 7 messages
	}{
		{7, 1},
		{5, 2},
		{3, 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("batch %d", tt.batch), func(t *testing.T) {
			src := buildDataset(t, dataSpec{users: 30, groupMsgs: []int{20}})
			tg := newTarget(t, nil)
			path := filepath.Join(t.TempDir(), "checkpoint.db")

			// A first run finishes the groups and members and dies once the
			// intent of its first message batch is saved.
			s := openSession(t, path)
			ctx, cancel := context.WithCancel(t.Context())
			hooks := Hooks{OnIntent: func(context.Context, Phase, string, []Item) error {
				s.store.crashed.Store(true)
				cancel()
				return context.Canceled
			}}
			e := NewEngine(tg.client, Config{Rates: highRates(), Checkpoint: s.cp, Hooks: hooks})
			if _, err := e.Run(ctx, src); !errors.Is(err, context.Canceled) {
				t.Fatalf("first run: %v", err)
			}
			cancel()
			s.close(t)

			// What its call had stored: four of the seven messages, the fourth a
			// second later than the first three.
			req := tencentim.ImportGroupMsgRequest{GroupID: src.groupMsgs[0].GroupID}
			for _, m := range src.groupMsgs[:4] {
				req.MsgList = append(req.MsgList, m.Msg)
			}
			if _, err := tg.client.ImportGroupMsg(t.Context(), &req); err != nil {
				t.Fatal(err)
			}

			s = openSession(t, path)
			if in, ok := s.cp.intents[req.GroupID]; !ok || in.First != 0 || in.Last != 6 || in.LastID != src.groupMsgs[6].LegacyID {
				t.Fatalf("open intent %+v, want messages 0..6 of %s", in, req.GroupID)
			}
			sink := &memSink{}
			cfg := resumeConfig(s, Hooks{}, sink)
			cfg.GroupMsgBatch = tt.batch
			sum, err := runEngine(t, tg, src, cfg)
			s.close(t)
			if err != nil {
				t.Fatal(err)
			}
			if len(sink.rejects) != 0 {
				t.Fatalf("rejects (a blind resend?): %+v", sink.rejects)
			}
			checkState(t, tg.srv.State(), src, nil)
			checkAccounting(t, sum, src)
			if a := sum.APIs[tencentim.CmdGroupMsgGetSimple.String()]; a == nil || a.Calls != tt.readBacks {
				t.Errorf("group_msg_get_simple: %+v, want %d read-backs", a, tt.readBacks)
			}
			checkStored(t, path, src.counts(), 0)
		})
	}
}

// TestResumeReadBackFailureStops: when the group cannot be read back, the resumed
// run stops instead of resending the batch in doubt, and leaves the intent open.
func TestResumeReadBackFailureStops(t *testing.T) {
	src := buildDataset(t, dataSpec{users: 30, groupMsgs: []int{20}})
	path := filepath.Join(t.TempDir(), "checkpoint.db")
	st, err := checkpoint.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	in := checkpoint.Intent{Phase: string(PhaseGroupMessages), Stream: src.groups[0].Req.GroupID, First: 0, Last: 6}
	if err := st.Apply(t.Context(), &checkpoint.Batch{Intents: []checkpoint.Intent{in}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	tg := newTarget(t, func(c *sandbox.Config) {
		c.Faults = []sandbox.Fault{{Command: tencentim.CmdGroupMsgGetSimple, Probability: 1, Kind: sandbox.FaultCode, Code: 70169}}
	})
	s := openSession(t, path)
	cfg := resumeConfig(s, Hooks{}, nil)
	cfg.MaxAttempts = 2
	sum, err := runEngine(t, tg, src, cfg)
	s.close(t)
	var ee *ExhaustedError
	if err == nil || !errors.As(err, &ee) {
		t.Fatalf("err = %v, want the exhausted read-back", err)
	}
	if a := sum.APIs[tencentim.CmdImportGroupMsg.String()]; a != nil {
		t.Errorf("import_group_msg was called %d times for a batch in doubt", a.Calls)
	}
	st, err = checkpoint.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var open []checkpoint.Intent
	if err := st.Intents(t.Context(), func(in checkpoint.Intent) error { open = append(open, in); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].Stream != in.Stream {
		t.Errorf("open intents %+v, want the one of %s", open, in.Stream)
	}
}

// TestResumeSourceChanged: a source that no longer yields the records the marks
// name stops the run with ErrSourceChanged instead of skipping the wrong ones.
func TestResumeSourceChanged(t *testing.T) {
	// conv returns the indexes in src.direct of the first conversation with at
	// least four messages.
	conv := func(src *memSource) []int {
		byKey := map[string][]int{}
		var order []string
		for i, m := range src.direct {
			k := conversationKey(m.Req.FromAccount, m.Req.ToAccount)
			if byKey[k] == nil {
				order = append(order, k)
			}
			byKey[k] = append(byKey[k], i)
		}
		for _, k := range order {
			if len(byKey[k]) >= 4 {
				return byKey[k]
			}
		}
		t.Fatal("no conversation with four messages")
		return nil
	}
	tests := []struct {
		name   string
		change func(src *memSource)
	}{
		{"unchanged", func(*memSource) {}},
		{"record at the accounts mark differs", func(src *memSource) { src.accounts[9].LegacyID = "someone-else" }},
		{"fewer accounts than the mark", func(src *memSource) { src.accounts = src.accounts[:5] }},
		{"record at a conversation mark differs", func(src *memSource) { src.direct[conv(src)[2]].LegacyID = "changed" }},
		{"conversation shorter than its mark", func(src *memSource) {
			idx := conv(src)
			src.direct = append(src.direct[:idx[1]:idx[1]], src.direct[idx[len(idx)-1]+1:]...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := buildDataset(t, dataSpec{users: 60, groupMsgs: []int{5}, convs: 8, convMsgs: 6})
			// The checkpoint of an interrupted run: accounts 0..9 and messages 0..2
			// of a conversation confirmed.
			path := filepath.Join(t.TempDir(), "checkpoint.db")
			st, err := checkpoint.OpenSQLite(path)
			if err != nil {
				t.Fatal(err)
			}
			dm := src.direct[conv(src)[2]]
			err = st.Apply(t.Context(), &checkpoint.Batch{Marks: []checkpoint.Mark{
				{Phase: string(PhaseAccounts), Ordinal: 9, LegacyID: src.accounts[9].LegacyID},
				{Phase: string(PhaseDirectMessages), Stream: conversationKey(dm.Req.FromAccount, dm.Req.ToAccount), Ordinal: 2, LegacyID: dm.LegacyID},
			}, Counts: []checkpoint.PhaseCount{
				{Phase: string(PhaseAccounts), Counts: checkpoint.Counts{Imported: 10}},
				{Phase: string(PhaseDirectMessages), Counts: checkpoint.Counts{Imported: 3}},
			}})
			st.Close()
			if err != nil {
				t.Fatal(err)
			}
			// ... and the target holds what they confirmed.
			tg := newTarget(t, nil)
			for _, a := range src.accounts { // the rest is imported again, harmlessly
				if _, err := tg.client.AccountImport(t.Context(), &a.Req); err != nil {
					t.Fatal(err)
				}
			}
			for _, i := range conv(src)[:3] {
				if _, err := tg.client.ImportMsg(t.Context(), &src.direct[i].Req); err != nil {
					t.Fatal(err)
				}
			}
			tt.change(src)
			s := openSession(t, path)
			sum, err := runEngine(t, tg, src, resumeConfig(s, Hooks{}, nil))
			s.close(t)
			if tt.name == "unchanged" {
				if err != nil {
					t.Fatal(err)
				}
				// The skipped records are counted, not sent.
				checkAccounting(t, sum, src)
				checkState(t, tg.srv.State(), src, nil)
				if p := sum.Phases[PhaseDirectMessages]; p.Imported != int64(len(src.direct)) || p.Calls != int64(len(src.direct)-3) {
					t.Errorf("direct messages: %+v, want %d imported in %d calls", p, len(src.direct), len(src.direct)-3)
				}
				return
			}
			if !errors.Is(err, ErrSourceChanged) {
				t.Fatalf("err = %v, want ErrSourceChanged", err)
			}
		})
	}
}

// TestResumeRemembersRefusedGroups: a group the target refused in an earlier run
// keeps its members, messages and unread counts out of the resumed run, rejected
// without calls as in one run; rejects and counts are recorded once.
func TestResumeRemembersRefusedGroups(t *testing.T) {
	src := buildDataset(t, dataSpec{users: 40, groupMsgs: []int{9}, unreadPerGrp: 1})
	base := src.groups[0].Req.CreateTime
	src.groups = append(src.groups, Group{Item: Item{Origin: "groups.csv:9", LegacyID: "bad-group"},
		Req: tencentim.ImportGroupRequest{Type: tencentim.GroupPublic, GroupID: "@TGS#nope", Name: "bad", CreateTime: base}})
	src.members = append(src.members, Member{Item: Item{Origin: "members.csv:90", LegacyID: "bad-group/u001"}, GroupID: "@TGS#nope",
		M: tencentim.ImportMember{MemberAccount: "u001", JoinTime: base + 1}})
	src.groupMsgs = append(src.groupMsgs, GroupMessage{Item: Item{Origin: "gm.csv:92", LegacyID: "bad-group/m0"}, GroupID: "@TGS#nope",
		Msg: tencentim.GroupMsg{FromAccount: "u001", SendTime: base + 10, Random: 1, MsgBody: textBody(t, "x")}})
	want := map[string]string{
		"bad-group":      "target.10004",
		"bad-group/u001": RuleGroupNotImported,
		"bad-group/m0":   RuleGroupNotImported,
	}
	skip := map[string]bool{}
	for id := range want {
		skip[id] = true
	}

	tg := newTarget(t, nil)
	path := filepath.Join(t.TempDir(), "checkpoint.db")
	// The first run stops once the groups phase is saved as done.
	s := openSession(t, path)
	ctx, cancel := context.WithCancel(t.Context())
	hooks := Hooks{OnConfirmed: func(ph Phase, _ string, _ Item, _ Outcome) {
		if ph == PhaseMembers {
			cancel()
		}
	}}
	e := NewEngine(tg.client, Config{Rates: highRates(), Workers: 1, Checkpoint: s.cp, Hooks: hooks})
	if _, err := e.Run(ctx, src); !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v", err)
	}
	cancel()
	s.close(t)

	s = openSession(t, path)
	if !s.cp.finished(PhaseGroups) || len(s.cp.failed) != 1 || s.cp.failed[0] != "@TGS#nope" {
		t.Fatalf("checkpoint: groups done %v, refused groups %v", s.cp.finished(PhaseGroups), s.cp.failed)
	}
	sink := &memSink{}
	sum, err := runEngine(t, tg, src, resumeConfig(s, Hooks{}, sink))
	s.close(t)
	if err != nil {
		t.Fatal(err)
	}
	got := sink.byID()
	for id, rule := range want {
		if id == "bad-group" {
			if _, again := got[id]; again {
				t.Errorf("the refused group was sent again")
			}
			continue
		}
		if r, ok := got[id]; !ok || r.Rule != rule {
			t.Errorf("%s: reject %+v, want rule %s", id, r, rule)
		}
	}
	checkState(t, tg.srv.State(), src, skip)
	checkAccounting(t, sum, src)
	if p := sum.Phases[PhaseGroups]; p.Rejected != 1 || p.Imported != int64(len(src.groups)-1) {
		t.Errorf("groups from the checkpoint: %+v", p)
	}
	checkStored(t, path, src.counts(), len(want))
}

// TestResumeStopsWhenCheckpointFails: a run whose checkpoint cannot be written
// stops once writes kept failing for maxFailing, rather than import for hours
// without a way to resume.
func TestResumeStopsWhenCheckpointFails(t *testing.T) {
	src := buildDataset(t, dataSpec{users: 20, convs: 200, convMsgs: 12})
	tg := newTarget(t, nil)
	s := openSession(t, filepath.Join(t.TempDir(), "checkpoint.db"))
	s.cp.maxFailing = 0
	s.store.fail.Store(true)
	_, err := runEngine(t, tg, src, resumeConfig(s, Hooks{}, nil))
	s.store.fail.Store(false)
	s.close(t)
	if !errors.Is(err, errCrashed) {
		t.Fatalf("err = %v, want the checkpoint's write error", err)
	}
}

// TestLowWater: out-of-order confirmations move the mark only over an unbroken
// run of positions, carrying the counts and rejects of exactly what it covers.
func TestLowWater(t *testing.T) {
	type step struct {
		ord      int64
		rejected bool
	}
	tests := []struct {
		name  string
		start int64
		steps []step
		marks []string // "ordinal:imported/rejected:rejects" per emitted mark
		wait  int
	}{
		{"in order", 0, []step{{0, false}, {1, false}, {2, true}}, []string{"0:1/0:0", "1:1/0:0", "2:0/1:1"}, 0},
		{"out of order", 0, []step{{2, false}, {1, true}, {0, false}, {3, false}}, []string{"2:2/1:1", "3:1/0:0"}, 0},
		{"gap left", 5, []step{{6, false}, {7, false}}, nil, 2},
		{"after a resume", 5, []step{{6, false}, {5, false}}, []string{"6:2/0:0"}, 0},
		{"a covered record again", 3, []step{{1, false}, {3, false}}, []string{"3:1/0:0"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &lowWater{next: tt.start, pending: map[int64]*settled{}}
			var marks []string
			var mu sync.Mutex
			for _, s := range tt.steps {
				it := Item{LegacyID: fmt.Sprint("r", s.ord), Ordinal: s.ord}
				c := checkpoint.Counts{Imported: 1}
				if s.rejected {
					l.reject(s.ord, checkpoint.Reject{LegacyID: it.LegacyID, Rule: "r"})
					c = checkpoint.Counts{Rejected: 1}
				}
				l.settle(it, c, func(m checkpoint.Mark, sum checkpoint.Counts, rj []checkpoint.Reject) {
					mu.Lock()
					defer mu.Unlock()
					if m.LegacyID != fmt.Sprint("r", m.Ordinal) {
						t.Errorf("mark %d names %s", m.Ordinal, m.LegacyID)
					}
					marks = append(marks, fmt.Sprintf("%d:%d/%d:%d", m.Ordinal, sum.Imported, sum.Rejected, len(rj)))
				})
			}
			if fmt.Sprint(marks) != fmt.Sprint(tt.marks) {
				t.Errorf("marks %v, want %v", marks, tt.marks)
			}
			if got := l.waiting(); got != tt.wait {
				t.Errorf("waiting %d, want %d", got, tt.wait)
			}
		})
	}
}

package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/tencentim/sandbox"
)

// profilesSource has 120 accounts, each with a profile (gender, level, custom
// Kind), and two profiles the target refuses as a whole: one of an account that
// was never imported (40003) and one with a custom tag no app can declare (40009).
func profilesSource() *memSource {
	src := &memSource{}
	item := func(tag string, v any) tencentim.ProfileItem {
		raw, _ := json.Marshal(v)
		return tencentim.ProfileItem{Tag: tag, Value: raw}
	}
	for i := range 120 {
		id := userID(i)
		src.accounts = append(src.accounts, Account{Item: Item{Origin: "users.csv", LegacyID: id}, Req: tencentim.AccountImportRequest{UserID: id}})
		kind := []string{"human", "bot", "guest"}[i%3]
		src.profiles = append(src.profiles, Profile{Item: Item{Origin: "users.csv:" + strconv.Itoa(i+2), LegacyID: id}, Req: tencentim.PortraitSetRequest{
			FromAccount: id, ProfileItem: []tencentim.ProfileItem{
				item(tencentim.TagGender, tencentim.GenderFemale), item(tencentim.TagLevel, i),
				item(tencentim.CustomTagPrefix+"Kind", kind), item(tencentim.CustomTagPrefix+"Active", strconv.Itoa(i%2)),
			}}})
	}
	src.profiles = append(src.profiles,
		Profile{Item: Item{Origin: "users.csv:200", LegacyID: "ghost"}, Req: tencentim.PortraitSetRequest{
			FromAccount: "ghost", ProfileItem: []tencentim.ProfileItem{item(tencentim.TagLevel, 1)}}},
		Profile{Item: Item{Origin: "users.csv:201", LegacyID: "u000"}, Req: tencentim.PortraitSetRequest{
			FromAccount: "u000", ProfileItem: []tencentim.ProfileItem{item(tencentim.CustomTagPrefix+"Nine9", "x")}}},
	)
	return src
}

// profileState returns the sandbox's profile tags of each account, as JSON
// "tag=value" strings in tag order.
func profileState(st sandbox.State) map[string][]string {
	out := map[string][]string{}
	for _, a := range st.Accounts {
		for _, p := range a.Profile {
			out[a.UserID] = append(out[a.UserID], p.Tag+"="+string(p.Value))
		}
	}
	return out
}

// wantProfiles is what the target must hold after profilesSource: every accepted
// request's items, byte for byte.
func wantProfiles(src *memSource) map[string][]string {
	want := map[string][]string{}
	for _, p := range src.profiles[:120] {
		var tags []string
		for _, it := range p.Req.ProfileItem {
			tags = append(tags, it.Tag+"="+string(it.Value))
		}
		slices.Sort(tags)
		want[p.Req.FromAccount] = tags
	}
	return want
}

func checkProfiles(t *testing.T, st sandbox.State, src *memSource) {
	t.Helper()
	got, want := profileState(st), wantProfiles(src)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("target profiles differ:\n got %v\nwant %v", got, want)
	}
}

func TestEngineProfiles(t *testing.T) {
	for _, tt := range []struct {
		name   string
		faults []sandbox.Fault
	}{
		{"clean", nil},
		// Lost answers and transient failures: a resent portrait_set writes the
		// same values, so the state is the same.
		{"faults", faults10()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := profilesSource()
			tg := newTarget(t, func(c *sandbox.Config) { c.Faults = tt.faults })
			sink := &memSink{}
			sum, err := runEngine(t, tg, src, Config{Rates: highRates(), UseMultiAccount: true, Rejects: sink, Streams: 8, Workers: 4})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			st := sum.Phases[PhaseProfiles]
			if st.Read != 122 || st.Imported != 120 || st.Rejected != 2 || st.Present != 0 {
				t.Errorf("profiles: read %d imported %d present %d rejected %d, want 122/120/0/2", st.Read, st.Imported, st.Present, st.Rejected)
			}
			var rules []string
			for _, r := range sink.rejects {
				rules = append(rules, r.Entity+" "+r.LegacyID+" "+r.Rule)
			}
			slices.Sort(rules)
			if want := []string{"profiles ghost target.40003", "profiles u000 target.40009"}; fmt.Sprint(rules) != fmt.Sprint(want) {
				t.Errorf("rejects %v, want %v", rules, want)
			}
			if tt.faults == nil {
				if got := sum.APIs[tencentim.CmdPortraitSet.String()].Calls; got != 122 {
					t.Errorf("portrait_set calls = %d, want 122 (one per profile)", got)
				}
			}
			checkProfiles(t, tg.srv.State(), src)
		})
	}
}

// TestResumeProfiles interrupts the profiles phase twice, then runs again: the
// marks of the batch phase (one per phase, the low-water mark of the confirmed
// profiles) skip what the target confirmed, the rest is set, nothing is counted
// twice and the target holds every profile once.
func TestResumeProfiles(t *testing.T) {
	src := profilesSource()
	tg := newTarget(t, nil)
	path := filepath.Join(t.TempDir(), "checkpoint.db")
	var calls int64
	for i, at := range []int64{40, 30} {
		s := openSession(t, path)
		ctx, cancel := context.WithCancel(t.Context())
		var n atomic.Int64
		hooks := Hooks{OnConfirmed: func(ph Phase, _ string, _ Item, _ Outcome) {
			if ph == PhaseProfiles && n.Add(1) == at {
				s.store.crashed.Store(true)
				cancel()
			}
		}}
		e := NewEngine(tg.client, resumeConfig(s, hooks, nil))
		fastRetries(e)
		sum, err := e.Run(ctx, src)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run %d: err = %v, want the crash (%d profiles confirmed)", i+1, err, n.Load())
		}
		calls += sum.APIs[tencentim.CmdPortraitSet.String()].Calls
		s.close(t)
	}
	s := openSession(t, path)
	next := int64(0) // the first profile the checkpoint does not cover
	if m, ok, err := s.store.Mark(t.Context(), string(PhaseProfiles), ""); err != nil {
		t.Fatal(err)
	} else if ok {
		next = m.Ordinal + 1
	}
	sink := &memSink{}
	e := NewEngine(tg.client, resumeConfig(s, Hooks{}, sink))
	fastRetries(e)
	sum, err := e.Run(t.Context(), src)
	if err != nil {
		t.Fatalf("final run: %v", err)
	}
	s.close(t)
	final := sum.APIs[tencentim.CmdPortraitSet.String()].Calls
	calls += final
	// The final run sets exactly the profiles past the mark, each once.
	if final != 122-next {
		t.Errorf("final run: %d portrait_set calls, want %d (the checkpoint covers %d of 122)", final, 122-next, next)
	}
	checkProfiles(t, tg.srv.State(), src)
	p := sum.Phases[PhaseProfiles]
	if p.Imported+p.Present != 120 || p.Rejected != 2 {
		t.Errorf("profiles over the migration: imported %d + present %d, rejected %d; want 120 once and 2 rejected", p.Imported, p.Present, p.Rejected)
	}
	if len(sink.rejects) > 2 {
		t.Errorf("the final run rejected %d profiles: %+v", len(sink.rejects), sink.rejects)
	}
	// Resumes skip the profiles below the mark: far fewer calls than three
	// full runs (3 × 122), and at least one per profile.
	if calls < 122 || calls >= 3*122 {
		t.Errorf("portrait_set calls over three runs = %d, want from 122 to %d", calls, 3*122-1)
	}
	checkStored(t, path, map[Phase]int64{PhaseAccounts: 120, PhaseProfiles: 122}, 2)
}

package load

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/immigrate/immigrate/tencentim"
)

// groupMsgRequest is one import_group_msg request as it reached the sandbox.
type groupMsgRequest struct {
	groupID string
	bytes   int      // the whole body
	randoms []uint32 // of its messages, in order
}

// groupMsgRecorder records every import_group_msg request before the sandbox sees
// it.
type groupMsgRecorder struct {
	mu   sync.Mutex
	reqs []groupMsgRequest
	err  error
}

func (r *groupMsgRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.URL.Path, "/"+tencentim.CmdImportGroupMsg.Name) {
			body, err := io.ReadAll(req.Body)
			var parsed struct {
				GroupID string `json:"GroupId"`
				MsgList []struct {
					Random uint32 `json:"Random"`
				} `json:"MsgList"`
			}
			if err == nil {
				err = json.Unmarshal(body, &parsed)
			}
			rec := groupMsgRequest{groupID: parsed.GroupID, bytes: len(body)}
			for _, m := range parsed.MsgList {
				rec.randoms = append(rec.randoms, m.Random)
			}
			r.mu.Lock()
			r.reqs = append(r.reqs, rec)
			if err != nil && r.err == nil {
				r.err = err
			}
			r.mu.Unlock()
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, req)
	})
}

// TestEngineCutsGroupBatchesBySize: an import_group_msg batch closes before the
// message that would take the request body over groupMsgRequestBytes (spec §6.3,
// §8.9, design §7 A5), not only at GroupMsgBatch messages. So batches of large
// messages are never refused whole with 10020 and bisected, each batch is as full
// as the limit allows, and a message too large on its own goes alone and gets its
// own result.
func TestEngineCutsGroupBatchesBySize(t *testing.T) {
	tests := []struct {
		name string
		msgs []int // messages per group
		// text is the length of the text of message m of group g.
		text      func(g, m int) int
		oversize  map[string]bool // legacy ids rejected with 80002
		wantCalls int64           // 0: not checked beyond maximality
	}{
		{
			name: "3 KB messages go three to a call",
			msgs: []int{20, 9, 4},
			text: func(g, m int) int { return 3000 },
			// Four 3 KB messages exceed the limit: 7 + 3 + 2 calls.
			wantCalls: 12,
		},
		{
			name: "small messages still fill batches of 7",
			msgs: []int{20, 15},
			text: func(g, m int) int { return 100 },
			// 3 + 3 calls.
			wantCalls: 6,
		},
		{
			name: "mixed sizes",
			msgs: []int{40, 31, 17},
			text: func(g, m int) int { return 50 + int(hash32(fmt.Sprintf("%d/%d", g, m))%6000) },
		},
		{
			name: "a message over the limit goes alone",
			msgs: []int{12},
			text: func(g, m int) int {
				if m == 5 {
					return 12050
				}
				return 2500
			},
			oversize: map[string]bool{"imm_g0/m5": true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := buildDataset(t, dataSpec{users: 30, groupMsgs: tt.msgs})
			for i := range src.groupMsgs {
				m := &src.groupMsgs[i]
				var g, k int
				if _, err := fmt.Sscanf(strings.TrimPrefix(m.LegacyID, communityPrefix), "imm_g%d/m%d", &g, &k); err != nil {
					t.Fatalf("legacy id %q: %v", m.LegacyID, err)
				}
				m.Msg.MsgBody = textBody(t, strings.Repeat(string(rune('a'+k%26)), tt.text(g, k)))
			}
			var rec groupMsgRecorder
			tg := newWrappedTarget(t, nil, rec.wrap)
			sink := &memSink{}
			sum, err := runEngine(t, tg, src, Config{Rates: highRates(), UseMultiAccount: true, RecentContactFlag: true, Rejects: sink})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if rec.err != nil {
				t.Fatalf("unreadable import_group_msg request: %v", rec.err)
			}
			checkState(t, tg.srv.State(), src, tt.oversize)
			checkAccounting(t, sum, src)
			for _, r := range sink.rejects {
				if !tt.oversize[r.LegacyID] || r.Rule != "target.80002" {
					t.Errorf("unexpected reject %+v", r)
				}
			}
			if len(sink.rejects) != len(tt.oversize) {
				t.Errorf("%d rejects, want %d", len(sink.rejects), len(tt.oversize))
			}
			api := sum.APIs[tencentim.CmdImportGroupMsg.String()]
			if api == nil {
				t.Fatal("no import_group_msg call")
			}
			// No request was refused as a whole (10020), so none was bisected.
			if api.Failed != 0 || api.Calls != int64(len(rec.reqs)) {
				t.Errorf("import_group_msg: %d calls, %d failed, %d requests seen; want no failure", api.Calls, api.Failed, len(rec.reqs))
			}
			if tt.wantCalls != 0 && api.Calls != tt.wantCalls {
				t.Errorf("import_group_msg calls = %d, want %d", api.Calls, tt.wantCalls)
			}

			// Each group's requests carry its messages in order, each within the
			// limit (or alone), and each as full as the limit allows: a batch closes
			// only at GroupMsgBatch messages, at the group's end, or before a message
			// that would not fit.
			byGroup := map[string][]GroupMessage{}
			for _, m := range src.groupMsgs {
				byGroup[m.GroupID] = append(byGroup[m.GroupID], m)
			}
			pos := map[string]int{}
			for i, r := range rec.reqs {
				msgs := byGroup[r.groupID]
				at := pos[r.groupID]
				if at+len(r.randoms) > len(msgs) {
					t.Fatalf("request %d of %s carries %d messages past the group's end", i, r.groupID, at+len(r.randoms)-len(msgs))
				}
				for j, rnd := range r.randoms {
					if msgs[at+j].Msg.Random != rnd {
						t.Fatalf("request %d of %s: message %d out of order", i, r.groupID, j)
					}
				}
				pos[r.groupID] = at + len(r.randoms)
				if r.bytes > groupMsgRequestBytes && len(r.randoms) > 1 {
					t.Errorf("request %d of %s: %d messages in %d bytes, over the %d-byte limit", i, r.groupID, len(r.randoms), r.bytes, groupMsgRequestBytes)
				}
				next := at + len(r.randoms)
				if len(r.randoms) == tencentim.MaxGroupMsgBatch || next == len(msgs) {
					continue
				}
				raw, err := json.Marshal(msgs[next].Msg)
				if err != nil {
					t.Fatal(err)
				}
				if r.bytes+1+len(raw) <= groupMsgRequestBytes {
					t.Errorf("request %d of %s: %d messages in %d bytes, but the next one (%d bytes) would have fit", i, r.groupID, len(r.randoms), r.bytes, len(raw))
				}
			}
			for g, msgs := range byGroup {
				if pos[g] != len(msgs) {
					t.Errorf("group %s: %d messages sent, want %d", g, pos[g], len(msgs))
				}
			}
		})
	}
}

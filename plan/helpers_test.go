package plan

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/immigrate/immigrate/load"
	"github.com/immigrate/immigrate/secret"
	"github.com/immigrate/immigrate/tencentim"
	"github.com/immigrate/immigrate/tencentim/sandbox"
	"github.com/immigrate/immigrate/transform"
)

type rejectList []load.Reject

func (l *rejectList) Reject(r load.Reject) error { *l = append(*l, r); return nil }

func hash32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32() | 1
}

// replayConfig is the transformer configuration of the spool tests (that of
// testDataset's tests).
func replayConfig(mod func(*transform.Config)) transform.Config {
	cfg := transform.Config{
		Now:         testNow,
		GroupTypes:  map[string]string{"public": "Public"},
		Roles:       map[string]string{"owner": "Owner", "admin": "Admin", "member": "Member"},
		Kinds:       map[string]transform.KindRule{"text": {Element: "text"}},
		DefaultKind: "text",
	}
	if mod != nil {
		mod(&cfg)
	}
	return cfg
}

func newReplayTransformer(t *testing.T, cfg transform.Config) *transform.Transformer {
	t.Helper()
	tr, err := transform.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// groupMsgRecorder records the import_group_msg requests that reach the sandbox.
type groupMsgRecorder struct {
	mu   sync.Mutex
	reqs []int // body sizes
	err  error
}

func (r *groupMsgRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.URL.Path, "/"+tencentim.CmdImportGroupMsg.Name) {
			body, err := io.ReadAll(req.Body)
			var parsed struct{ MsgList []json.RawMessage }
			if err == nil {
				err = json.Unmarshal(body, &parsed)
			}
			r.mu.Lock()
			r.reqs = append(r.reqs, len(body))
			if err != nil && r.err == nil {
				r.err = err
			}
			r.mu.Unlock()
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, req)
	})
}

// sandboxClient serves a faithful sandbox behind wrap (when not nil) and returns
// a client of it: loading is tested over real HTTP (design §9).
func sandboxClient(t *testing.T, wrap func(http.Handler) http.Handler) *tencentim.Client {
	t.Helper()
	const key = "plan-test-key"
	srv, err := sandbox.New(sandbox.Config{SDKAppID: 1400000001, SecretKey: secret.New(key), Admins: []string{"admin"}, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(srv)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	c, err := tencentim.NewClient(tencentim.Config{SDKAppID: 1400000001, SecretKey: secret.New(key), Admin: "admin", Endpoint: hs.URL, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func highRates() map[tencentim.Command]float64 {
	r := map[tencentim.Command]float64{}
	for _, name := range load.APINames() {
		for cmd := range tencentim.DocumentedRate {
			if cmd.String() == name {
				r[cmd] = 20000
			}
		}
	}
	return r
}

type memSink struct {
	mu      sync.Mutex
	rejects []load.Reject
}

func (s *memSink) Reject(r load.Reject) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects = append(s.rejects, r)
	return nil
}

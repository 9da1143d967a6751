package urlcheck

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestChecker runs against a loopback server: live, redirected, HEAD-refusing,
// missing and failing URLs, and one whose server is gone.
func TestChecker(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/live.png":
		case "/moved":
			http.Redirect(w, r, "/live.png", http.StatusMovedPermanently)
		case "/nohead":
			if r.Method == http.MethodHead {
				w.WriteHeader(http.StatusMethodNotAllowed)
			}
		case "/boom":
			w.WriteHeader(http.StatusInternalServerError)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	goneURL := gone.URL + "/x"
	gone.Close()

	c := New(context.Background(), Config{Concurrency: 2})
	for i, p := range []string{"/live.png", "/moved", "/nohead", "/missing", "/boom"} {
		c.Add(Link{Entity: "direct_messages", Origin: fmt.Sprintf("dm.csv:%d", i+2), LegacyID: fmt.Sprint(i), URL: srv.URL + p})
	}
	c.Add(Link{Entity: "group_messages", Origin: "gm.csv:2", LegacyID: "g", URL: goneURL})
	res := c.Wait()
	if res.Checked != 6 || res.Live != 3 || len(res.Dead) != 3 {
		t.Fatalf("checked %d, live %d, dead %+v; want 6, 3 and 3 dead", res.Checked, res.Live, res.Dead)
	}
	want := []struct {
		origin string
		status int
	}{{"dm.csv:5", 404}, {"dm.csv:6", 500}, {"gm.csv:2", 0}}
	for i, w := range want {
		d := res.Dead[i]
		if d.Origin != w.origin || d.Status != w.status {
			t.Errorf("dead[%d] = %+v, want origin %s status %d", i, d, w.origin, w.status)
		}
	}
	if d := res.Dead[2]; d.Error == "" || !strings.Contains(d.URL, "/x") {
		t.Errorf("unreachable link %+v: want its error", d)
	}
}

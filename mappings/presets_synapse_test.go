package mappings

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/extract"
)

// TestPresetSynapseParse loads presets/synapse.yaml with the environment its
// header documents and checks the choices the header promises: the five
// entities as PostgreSQL queries with Synapse's time units, join rules as
// group types, Matrix msgtypes as kinds, ids rewritten, legacy ids and media
// URLs carried, over-long bodies truncated. The queries themselves run against
// Synapse's schema in cmd/immigrate TestPresetSynapse.
func TestPresetSynapseParse(t *testing.T) {
	t.Setenv("IMMIGRATE_SOURCE_PG_URL", "postgres://synapse_ro@db.internal:5432/synapse")
	t.Setenv("TIM_SDKAPPID", "1400000001")
	t.Setenv("TIM_SECRET_KEY", "0123456789abcdef")
	f, err := Load(filepath.Join("presets", "synapse.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, ok := f.PostgresConfig()
	if !ok {
		t.Fatal("not a PostgreSQL source")
	}
	times := map[extract.Entity]extract.TimeFormat{
		extract.Users:          extract.TimeUnix, // users.creation_ts is seconds
		extract.Groups:         extract.TimeUnixMS,
		extract.Members:        extract.TimeUnixMS,
		extract.GroupMessages:  extract.TimeUnixMS,
		extract.DirectMessages: extract.TimeUnixMS,
	}
	if len(cfg.Entities) != len(times) {
		t.Errorf("entities = %d, want %d", len(cfg.Entities), len(times))
	}
	for e, tf := range times {
		src, ok := cfg.Entities[e]
		if !ok {
			t.Errorf("%s: missing", e)
			continue
		}
		if src.Time != tf {
			t.Errorf("%s: time %q, want %q", e, src.Time, tf)
		}
		if !strings.Contains(src.Query, "FROM ") {
			t.Errorf("%s: query %q", e, src.Query)
		}
	}
	for legacy, want := range map[string]string{"public": "Public", "invite": "Private", "knock": "Private",
		"restricted": "Private", "knock_restricted": "Private", "": "Private"} {
		if got, ok := f.GroupType(legacy); !ok || got != want {
			t.Errorf("join rule %q: group type %q (%v), want %s", legacy, got, ok, want)
		}
	}
	if _, ok := f.GroupType("org.example.unknown"); ok {
		t.Error("an unknown join rule maps to a group type")
	}
	for kind, want := range map[string]Element{"m.text": ElemText, "m.notice": ElemText, "m.emote": ElemText,
		"m.location": ElemLocation, "m.image": ElemImage, "m.file": ElemFile, "m.video": ElemVideo, "m.audio": ElemSound, "": ElemText} {
		if k, ok := f.Messages.Kind(kind); !ok || k.Element != want {
			t.Errorf("msgtype %q: element %q (%v), want %s", kind, k.Element, ok, want)
		}
	}
	if f.Messages.UnknownKind != UnknownKindText || !f.Messages.KeepLegacyID ||
		!strings.HasPrefix(f.Messages.URLTemplate, "https://") || !strings.Contains(f.Messages.URLTemplate, "{host}/{path}") {
		t.Errorf("messages = %+v", f.Messages)
	}
	if f.IDs.Invalid != "rewrite" || f.Policies.Oversize != OversizeTruncate {
		t.Errorf("ids = %+v, policies = %+v", f.IDs, f.Policies)
	}
	for _, r := range []struct{ legacy, want string }{{"owner", "Owner"}, {"admin", "Admin"}, {"member", "Member"}} {
		if got, ok := f.Role(r.legacy); !ok || got != r.want {
			t.Errorf("role %q: %q (%v), want %s", r.legacy, got, ok, r.want)
		}
	}
}

package mappings

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/immigrate/immigrate/extract"
)

// TestPresetZulipParse loads presets/zulip.yaml with its documented environment
// and checks what the preset's header promises: a PostgreSQL source with the six
// entities (topics included), streams as Communities and group DMs as Private
// groups, Zulip's admin roles, text/image/file kinds, an upload URL rewrite and
// truncation of oversize messages; the secrets it reads stay redacted.
func TestPresetZulipParse(t *testing.T) {
	const key = "zulip-preset-secret-key"
	t.Setenv("IMMIGRATE_SOURCE_PG_URL", "postgres://zulip:pw-in-url@db.internal:5432/zulip")
	t.Setenv("TIM_SDKAPPID", "1400000001")
	t.Setenv("TIM_SECRET_KEY", key)
	path := filepath.Join("presets", "zulip.yaml")
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, ok := f.PostgresConfig()
	if !ok {
		t.Fatal("not a PostgreSQL source")
	}
	want := []extract.Entity{extract.Users, extract.Groups, extract.Topics, extract.Members, extract.GroupMessages, extract.DirectMessages}
	got := slices.Sorted(maps.Keys(cfg.Entities))
	if slices.Sort(want); !slices.Equal(got, want) {
		t.Errorf("entities %v, want %v", got, want)
	}
	for e, src := range cfg.Entities {
		if !strings.Contains(src.Query, "zerver_") {
			t.Errorf("%s: query reads no zerver_ table:\n%s", e, src.Query)
		}
	}
	for legacy, tim := range map[string]string{"stream": "Community", "direct_message_group": "Private"} {
		if got, ok := f.GroupType(legacy); !ok || got != tim {
			t.Errorf("group type %q → %q, %v; want %q", legacy, got, ok, tim)
		}
	}
	for legacy, tim := range map[string]string{"admin": "Admin", "member": "Member"} {
		if got, ok := f.Role(legacy); !ok || got != tim {
			t.Errorf("role %q → %q, %v; want %q", legacy, got, ok, tim)
		}
	}
	if _, ok := f.Role("owner"); ok {
		t.Error("role owner is mapped; the preset leaves the owner to owner_id")
	}
	for legacy, elem := range map[string]Element{"text": "text", "image": "image", "file": "file", "": "text"} {
		if k, ok := f.Messages.Kind(legacy); !ok || k.Element != elem {
			t.Errorf("kind %q → %+v, %v; want element %s", legacy, k, ok, elem)
		}
	}
	if _, ok := f.Messages.Kind("sticker"); ok {
		t.Error("an unknown kind is mapped")
	}
	if !strings.HasPrefix(f.Messages.URLTemplate, "https://") || !strings.Contains(f.Messages.URLTemplate, "{path}") {
		t.Errorf("url_template %q: want an https URL built from {path}", f.Messages.URLTemplate)
	}
	if f.Policies.Oversize != OversizeTruncate {
		t.Errorf("oversize policy %q, want %q", f.Policies.Oversize, OversizeTruncate)
	}
	if f.IDs.GroupIDPrefix == "" {
		t.Error("no group_id_prefix: stream and group DM ids would be bare numbers")
	}
	if s := fmt.Sprintf("%+v %#v", f, f); strings.Contains(s, key) || strings.Contains(s, "pw-in-url") {
		t.Error("a secret of the environment shows in the printed configuration")
	}

	// Without its environment the preset names what is missing.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"IMMIGRATE_SOURCE_PG_URL": "postgres://db/zulip", "TIM_SDKAPPID": "1400000001"}
	_, err = Parse(data, path, func(name string) (string, bool) { v, ok := env[name]; return v, ok })
	if err == nil || !strings.Contains(err.Error(), "TIM_SECRET_KEY") {
		t.Errorf("without TIM_SECRET_KEY: %v", err)
	}
}

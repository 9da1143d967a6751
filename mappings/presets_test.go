package mappings

import (
	"path/filepath"
	"testing"

	"github.com/immigrate/immigrate/extract"
)

// TestPresetsParse loads every preset under presets/ with its documented
// environment and checks that it is a complete PostgreSQL mapping: parsed
// strictly and validated as `immigrate validate` would before reading a row.
func TestPresetsParse(t *testing.T) {
	t.Setenv("IMMIGRATE_SOURCE_PG_URL", "postgres://reader@db.internal:5432/chat")
	t.Setenv("TIM_SDKAPPID", "1400000001")
	t.Setenv("TIM_SECRET_KEY", "0123456789abcdef")
	t.Setenv("MATTERMOST_FILES_URL", "https://files.example.com/mattermost")
	paths, err := filepath.Glob(filepath.Join("presets", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no presets found")
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			f, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			cfg, ok := f.PostgresConfig()
			if !ok {
				t.Fatal("not a PostgreSQL source")
			}
			for _, e := range []extract.Entity{extract.Users, extract.Groups, extract.Members, extract.GroupMessages, extract.DirectMessages} {
				if _, ok := cfg.Entities[e]; !ok {
					t.Errorf("no %s query: every preset reads users, groups, members, group and direct messages", e)
				}
			}
		})
	}
}

package mappings

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
)

// presetFS holds every starting mapping of presets/ (a file NAME.yaml is the
// preset NAME), embedded in the binary for `immigrate init --preset`.
//
//go:embed presets/*.yaml
var presetFS embed.FS

// ErrUnknownPreset is returned by Preset for a name that no preset has.
var ErrUnknownPreset = errors.New("unknown preset")

// PresetNames returns the names of the embedded presets, sorted.
func PresetNames() []string {
	entries, err := fs.ReadDir(presetFS, "presets")
	if err != nil { // the directory is embedded: cannot fail
		return nil
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Preset returns the embedded preset name as written in presets/NAME.yaml.
// An unknown name is an error wrapping ErrUnknownPreset that lists the presets.
func Preset(name string) ([]byte, error) {
	if slices.Contains(PresetNames(), name) {
		return presetFS.ReadFile(path.Join("presets", name+".yaml"))
	}
	return nil, fmt.Errorf("%w %q; the presets are %s", ErrUnknownPreset, name, strings.Join(PresetNames(), ", "))
}

// PresetSummary is the first line of a preset's header comment, without the
// comment mark: what the preset is for.
func PresetSummary(data []byte) string {
	line, _, _ := strings.Cut(string(data), "\n")
	if s, ok := strings.CutPrefix(line, "#"); ok {
		return strings.TrimSpace(s)
	}
	return ""
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// EnvReferences returns the names of the environment variables a mapping file's
// values reference (${NAME}; comments and the $${ escape left out), in order of
// first use.
func EnvReferences(data []byte) []string {
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") {
			continue
		}
		line = strings.ReplaceAll(line, "$${", "")
		for _, m := range envRef.FindAllStringSubmatch(line, -1) {
			if !slices.Contains(names, m[1]) {
				names = append(names, m[1])
			}
		}
	}
	return names
}

package mappings

import (
	"fmt"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim/vocab"
)

// validateCustom checks entities.<e>.custom: custom profile fields belong to users,
// each names a custom tag the app can have declared (1-8 letters after
// Tag_Profile_Custom_, spec §4.2 supplement) and a source column.
func (f *File) validateCustom(l *errorList, e extract.Entity, base string, src extract.EntitySource) {
	if len(src.Custom) == 0 {
		return
	}
	if e != extract.Users {
		l.add(base+".custom", "custom profile fields belong to users")
		return
	}
	if len(src.Custom) > extract.MaxCustomFields {
		l.add(base+".custom", fmt.Sprintf("%d custom profile fields; at most %d", len(src.Custom), extract.MaxCustomFields))
	}
	for _, name := range sortedKeys(src.Custom) {
		path := joinPath(base+".custom", name)
		if !vocab.ValidCustomTagName(name) {
			l.add(path, fmt.Sprintf("custom profile field %q: the name after %s must be 1-%d letters (spec §4.2)", name, vocab.CustomTagPrefix, vocab.MaxCustomTagName))
		}
		if src.Custom[name] == "" {
			l.add(path, "the source column name must not be empty")
		}
	}
}

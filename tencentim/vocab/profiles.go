package vocab

// CustomTagPrefix starts every custom profile tag (spec §4.1, §4.2). The app
// declares its custom fields in the console; the name after the prefix is at most
// MaxCustomTagName letters (spec §4.2 supplement, the vendor's usage-limits page).
const (
	CustomTagPrefix  = "Tag_Profile_Custom_"
	MaxCustomTagName = 8
)

// ValidCustomTagName reports whether name (without CustomTagPrefix) can be a
// custom profile field: 1 to MaxCustomTagName ASCII letters (spec §4.2
// supplement).
func ValidCustomTagName(name string) bool {
	if name == "" || len(name) > MaxCustomTagName {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

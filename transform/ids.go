package transform

const (
	// reservedGroupPrefix starts every server-assigned GroupId; a custom id must
	// not (design §7 A36) — except Community ids, which must start with
	// communityGroupPrefix.
	reservedGroupPrefix  = "@TGS#"
	communityGroupPrefix = "@TGS#_"
	// reservedUserPrefix marks chatbot accounts (spec §3.1).
	reservedUserPrefix = "@RBT#"
)

// printableGroupIDBytes reports whether s is printable ASCII 0x20-0x7e, the custom
// GroupId alphabet (spec §8.3 SUPPLEMENT, design §7 A36).
func printableGroupIDBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

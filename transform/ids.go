package transform

import (
	"strings"

	"github.com/immigrate/immigrate/tencentim"
)

// Target identities are deterministic functions of legacy ids (design §4 rules 1-2):
// re-running the same migration must produce byte-identical payloads so that the
// vendor's idempotent answers make a resume harmless. Hashes are FNV-1a 64 with a
// per-purpose domain byte, finished by the splitmix64 mixer; nothing here is seeded
// at run time.

const (
	// reservedGroupPrefix starts every server-assigned GroupId; a custom id must
	// not (design §7 A36) — except Community ids, which must start with
	// communityGroupPrefix.
	reservedGroupPrefix  = "@TGS#"
	communityGroupPrefix = "@TGS#_"
	// reservedUserPrefix marks chatbot accounts (spec §3.1).
	reservedUserPrefix = "@RBT#"
)

// Hash domains keep the hashes of one id for different purposes independent.
const (
	domainFingerprint = 'f'
	domainRewrite     = 'w'
	domainGroupRandom = 'g'
	domainC2CSeq      = 's'
	domainC2CRandom   = 'r'
)

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// hash64 is FNV-1a 64 over the domain byte, then s, then salt (when non-zero),
// mixed with the splitmix64 finalizer so that every output bit depends on every
// input bit.
func hash64(domain byte, s string, salt uint32) uint64 {
	h := uint64(fnvOffset)
	h ^= uint64(domain)
	h *= fnvPrime
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	for ; salt != 0; salt >>= 8 {
		h ^= uint64(salt & 0xff)
		h *= fnvPrime
	}
	return mix64(h)
}

func mix64(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// fingerprint is the 64-bit key of an id in the compact sets. Two distinct ids
// collide with probability about n²/2⁶⁵ (≈ 3·10⁻⁶ for ten million ids).
func fingerprint(s string) uint64 { return hash64(domainFingerprint, s, 0) }

// userIDProblem returns the rule an invalid UserID breaks, or "" if TIM accepts it:
// 1-32 bytes (spec §3.1) of printable ASCII 0x21-0x7e (design §7 A23), not starting
// with the chatbot prefix @RBT# (spec §3.1).
func userIDProblem(id string) string {
	switch {
	case id == "":
		return RuleUserIDEmpty
	case len(id) > tencentim.MaxUserIDBytes:
		return RuleUserIDTooLong
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return RuleUserIDInvalidChars
		}
	}
	if strings.HasPrefix(id, reservedUserPrefix) {
		return RuleUserIDReservedPrefix
	}
	return ""
}

// unusualUserID reports characters outside [A-Za-z0-9_-], which TIM accepts but
// the vendor's stricter documents do not (design §7 A23: warn only).
func unusualUserID(id string) bool {
	for i := 0; i < len(id); i++ {
		if !plainIDByte(id[i]) {
			return true
		}
	}
	return false
}

func plainIDByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// UserID maps a legacy user id to its TIM UserID. A valid id maps to itself
// (design §4 rule 1). An invalid one (see the user.id.* rules) is refused under
// policy "reject" (or "") and rewritten under "rewrite" to a readable prefix of the
// legacy id plus a hash of it, e.g. "jos__garc_a-k3j9x0c1m2ab": always the same
// target for the same legacy id. An empty id is refused under every policy.
func UserID(legacy string, policy string) (target string, ok bool) {
	switch userIDProblem(legacy) {
	case "":
		return legacy, true
	case RuleUserIDEmpty:
		return "", false
	}
	if !strings.EqualFold(policy, PolicyRewrite) {
		return "", false
	}
	return rewriteID(legacy, "", tencentim.MaxUserIDBytes), true
}

// groupIDProblem returns why target cannot be a custom GroupId of a group of type
// community-or-not, or "" if TIM accepts it (spec §8.3 SUPPLEMENT, design §7 A36).
func groupIDProblem(target string, community bool) string {
	switch {
	case len(target) > tencentim.MaxGroupIDBytes:
		return "is longer than 48 bytes"
	case !printableGroupIDBytes(target):
		return "has characters outside printable ASCII"
	case !community && strings.HasPrefix(target, reservedGroupPrefix):
		return "starts with " + reservedGroupPrefix + ", reserved for server-assigned ids"
	}
	return ""
}

// GroupID maps a legacy group id to its custom GroupId: prefix + legacy, and for a
// Community (timType, case-insensitive) "@TGS#_" + prefix + legacy, since
// community ids must start with @TGS#_ (design §7 A36). An id TIM would refuse
// (longer than 48 bytes, not printable ASCII, or starting with @TGS# for another
// type) is refused under policy "reject" (or "") and rewritten under "rewrite" to
// the same frame around a readable part of the legacy id plus its hash. An empty
// legacy id, or a prefix that is itself invalid, is refused under every policy.
func GroupID(legacy, prefix, timType, policy string) (target string, ok bool) {
	community := strings.EqualFold(timType, tencentim.GroupCommunity)
	frame := prefix
	if community {
		frame = communityGroupPrefix + prefix
	}
	if legacy == "" || groupIDProblem(frame, community) != "" ||
		len(frame)+1+rewriteHashChars > tencentim.MaxGroupIDBytes {
		return "", false
	}
	target = frame + legacy
	if groupIDProblem(target, community) == "" {
		return target, true
	}
	if !strings.EqualFold(policy, PolicyRewrite) {
		return "", false
	}
	return rewriteID(legacy, frame, tencentim.MaxGroupIDBytes), true
}

// rewriteHashChars is the length of the hash suffix of a rewritten id: 12 base-32
// characters, 60 bits.
const rewriteHashChars = 12

const base32Lower = "abcdefghijklmnopqrstuvwxyz234567"

// rewriteID builds frame + readable(legacy) + "-" + hash(legacy), at most max
// bytes. The readable part keeps [A-Za-z0-9_-] and turns every other character
// (each rune, not each byte) into '_', so it is valid for both UserIDs and
// GroupIds and cannot start with a reserved '@' prefix.
func rewriteID(legacy, frame string, max int) string {
	room := max - len(frame) - 1 - rewriteHashChars
	b := make([]byte, 0, max)
	b = append(b, frame...)
	n := 0
	for _, r := range legacy {
		if n >= room {
			break
		}
		if r < 0x80 && plainIDByte(byte(r)) {
			b = append(b, byte(r))
		} else {
			b = append(b, '_')
		}
		n++
	}
	b = append(b, '-')
	h := hash64(domainRewrite, legacy, 0)
	for i := 0; i < rewriteHashChars; i++ {
		b = append(b, base32Lower[h&31])
		h >>= 5
	}
	return string(b)
}

// GroupRandom is the import_group_msg Random of a legacy message id (design §4 rule
// 2): a hash of the id, never 0, since a zero Random is omitted from the request
// and would switch off the server's dedup of a resent message (spec §8.9, A4).
func GroupRandom(legacyMsgID string) uint32 { return groupRandomSalted(legacyMsgID, 0) }

// groupRandomSalted derives the alternative Randoms tried when GroupRandom would
// repeat inside the 300 s dedup window (design §7 A4); salt 0 is GroupRandom.
func groupRandomSalted(legacyMsgID string, salt uint32) uint32 {
	r := uint32(hash64(domainGroupRandom, legacyMsgID, salt) >> 32)
	if r == 0 {
		r = 1
	}
	return r
}

// C2C MsgSeq layout: the rank of the message among its conversation's messages in
// the same second in the high bits, a hash of its id in the low bits. The server
// orders a second's messages by MsgSeq (spec §6.4), so the rank makes that order
// the legacy order; the hash keeps MsgSeq varied for the dedup key
// (MsgSeq, MsgRandom, MsgTimeStamp) (spec §7.1).
const (
	c2cRankBits = 12
	c2cHashBits = 32 - c2cRankBits
	// MaxC2CRank is the highest rank C2CIdentity encodes; later messages of the same
	// second share it and are ordered among themselves by hash only.
	MaxC2CRank = 1<<c2cRankBits - 1
)

// C2CIdentity is the importmsg MsgSeq and MsgRandom of a legacy message id whose
// 0-based rank among its conversation's messages of the same second is
// rankInSecond (design §4 rule 2). MsgSeq increases with the rank; ranks above
// MaxC2CRank count as MaxC2CRank, negative ones as 0.
func C2CIdentity(legacyMsgID string, rankInSecond int) (msgSeq, msgRandom uint32) {
	rank := uint32(min(max(rankInSecond, 0), MaxC2CRank))
	low := uint32(hash64(domainC2CSeq, legacyMsgID, 0)) & (1<<c2cHashBits - 1)
	msgSeq = rank<<c2cHashBits | low
	msgRandom = uint32(hash64(domainC2CRandom, legacyMsgID, 0) >> 32)
	return msgSeq, msgRandom
}

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

package vocab

// Limits of the vendor contract used by both the client and the sandbox.
const (
	MaxUserIDBytes          = 32     // spec §3.1
	MaxProfileValueBytes    = 500    // spec §3.4, §4.1 (40601)
	MaxMultiAccountImport   = 100    // spec §3.5
	MaxAccountCheck         = 100    // spec §3.6
	MaxAccountDelete        = 100    // spec §3.7
	MaxPortraitGet          = 100    // spec §4.3
	MaxGroupMsgBatch        = 7      // spec §8.9, design §7 A1
	MaxGroupMemberBatch     = 300    // spec §8.8
	MaxGetGroupInfo         = 50     // spec §8.12
	MaxGroupMsgGetSimple    = 20     // spec §8.14
	MaxGroupNameBytes       = 30     // spec §8.4
	MaxGroupIntroBytes      = 240    // spec §8.4
	MaxGroupNotifBytes      = 300    // spec §8.4
	MaxGroupFaceURLBytes    = 100    // spec §8.4
	MaxGroupIDBytes         = 48     // spec §8.3 supplement, design §7 A36
	DefaultMaxMemberCount   = 2000   // spec §8.4 A10
	MaxMemberCount          = 6000   // spec §8.4 A10
	MaxCommunityMemberCount = 100000 // spec §8.4 A10
	MaxMsgBodyBytes         = 12000  // spec §6.3, design §7 A5
	MaxC2CRequestBytes      = 12288  // spec §6.3, design §7 A5 (93000)
	GroupDedupWindowSeconds = 300    // spec §8.9, design §7 A4
)

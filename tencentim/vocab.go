package tencentim

import "github.com/immigrate/immigrate/tencentim/vocab"

// The vendor's vocabulary is defined in package vocab, so that packages which only
// name commands, limits or regions need not import the client; the client and its
// callers use it under the names below.

// Command names an API: its service and command path segments (see vocab.Command).
type Command = vocab.Command

// The commands of the APIs immigrate uses, and of the checklist-only APIs the
// sandbox serves (spec §14).
var (
	CmdAccountImport      = vocab.CmdAccountImport
	CmdMultiAccountImport = vocab.CmdMultiAccountImport
	CmdAccountCheck       = vocab.CmdAccountCheck
	CmdAccountDelete      = vocab.CmdAccountDelete
	CmdPortraitSet        = vocab.CmdPortraitSet
	CmdPortraitGet        = vocab.CmdPortraitGet
	CmdFriendImport       = vocab.CmdFriendImport
	CmdFriendGet          = vocab.CmdFriendGet
	CmdImportMsg          = vocab.CmdImportMsg
	CmdAdminGetRoamMsg    = vocab.CmdAdminGetRoamMsg
	CmdImportGroup        = vocab.CmdImportGroup
	CmdImportGroupMember  = vocab.CmdImportGroupMember
	CmdImportGroupMsg     = vocab.CmdImportGroupMsg
	CmdSetUnreadMsgNum    = vocab.CmdSetUnreadMsgNum
	CmdGetGroupInfo       = vocab.CmdGetGroupInfo
	CmdGetGroupMemberInfo = vocab.CmdGetGroupMemberInfo
	CmdGroupMsgGetSimple  = vocab.CmdGroupMsgGetSimple
	CmdGetAppIDGroupList  = vocab.CmdGetAppIDGroupList
	CmdDestroyGroup       = vocab.CmdDestroyGroup

	CmdCreateGroup        = vocab.CmdCreateGroup
	CmdChangeGroupOwner   = vocab.CmdChangeGroupOwner
	CmdImportTopic        = vocab.CmdImportTopic
	CmdGetC2CUnreadMsgNum = vocab.CmdGetC2CUnreadMsgNum
	CmdRecentContactList  = vocab.CmdRecentContactList
)

// Commands lists the commands of the APIs immigrate uses (the same slice as
// vocab.Commands).
var Commands = vocab.Commands

// DocumentedRate is each command's maximum call frequency in calls per second
// (spec §1.10); the same map as vocab.DocumentedRate.
var DocumentedRate = vocab.DocumentedRate

// Limits of the vendor contract used by both the client and the sandbox.
const (
	MaxUserIDBytes          = vocab.MaxUserIDBytes
	MaxProfileValueBytes    = vocab.MaxProfileValueBytes
	MaxMultiAccountImport   = vocab.MaxMultiAccountImport
	MaxAccountCheck         = vocab.MaxAccountCheck
	MaxAccountDelete        = vocab.MaxAccountDelete
	MaxPortraitGet          = vocab.MaxPortraitGet
	MaxGroupMsgBatch        = vocab.MaxGroupMsgBatch
	MaxGroupMemberBatch     = vocab.MaxGroupMemberBatch
	MaxGetGroupInfo         = vocab.MaxGetGroupInfo
	MaxGroupMsgGetSimple    = vocab.MaxGroupMsgGetSimple
	MaxGroupNameBytes       = vocab.MaxGroupNameBytes
	MaxGroupIntroBytes      = vocab.MaxGroupIntroBytes
	MaxGroupNotifBytes      = vocab.MaxGroupNotifBytes
	MaxGroupFaceURLBytes    = vocab.MaxGroupFaceURLBytes
	MaxGroupIDBytes         = vocab.MaxGroupIDBytes
	DefaultMaxMemberCount   = vocab.DefaultMaxMemberCount
	MaxMemberCount          = vocab.MaxMemberCount
	MaxCommunityMemberCount = vocab.MaxCommunityMemberCount
	MaxMsgBodyBytes         = vocab.MaxMsgBodyBytes
	MaxC2CRequestBytes      = vocab.MaxC2CRequestBytes
	GroupDedupWindowSeconds = vocab.GroupDedupWindowSeconds
)

// Group types as the import APIs spell them (spec §8.1, A11).
const (
	GroupPrivate    = vocab.GroupPrivate
	GroupPublic     = vocab.GroupPublic
	GroupChatRoom   = vocab.GroupChatRoom
	GroupAVChatRoom = vocab.GroupAVChatRoom
	GroupCommunity  = vocab.GroupCommunity
	GroupWork       = vocab.GroupWork
	GroupMeeting    = vocab.GroupMeeting
)

// Member roles (spec §8.5).
const (
	RoleOwner  = vocab.RoleOwner
	RoleAdmin  = vocab.RoleAdmin
	RoleMember = vocab.RoleMember
)

// Message element types (spec §6.1).
const (
	MsgText     = vocab.MsgText
	MsgLocation = vocab.MsgLocation
	MsgFace     = vocab.MsgFace
	MsgCustom   = vocab.MsgCustom
	MsgSound    = vocab.MsgSound
	MsgImage    = vocab.MsgImage
	MsgFile     = vocab.MsgFile
	MsgVideo    = vocab.MsgVideo
)

// SyncFromOldSystem values for importmsg (spec §7.1).
const (
	SyncHistorical = vocab.SyncHistorical
	SyncRealtime   = vocab.SyncRealtime
)

// Region is a data-centre of Tencent Cloud Chat with its REST API domains (spec §1.2).
type Region = vocab.Region

// Regions lists every documented region (the same slice as vocab.Regions).
var Regions = vocab.Regions

// LookupRegion finds a region by name, case-insensitively and accepting aliases
// (see vocab.LookupRegion).
func LookupRegion(name string) (Region, error) { return vocab.LookupRegion(name) }

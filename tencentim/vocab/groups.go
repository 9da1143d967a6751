package vocab

// Group types as the import APIs spell them (spec §8.1, A11).
const (
	GroupPrivate    = "Private"
	GroupPublic     = "Public"
	GroupChatRoom   = "ChatRoom"
	GroupAVChatRoom = "AVChatRoom"
	GroupCommunity  = "Community"
	GroupWork       = "Work"    // alias of Private
	GroupMeeting    = "Meeting" // alias of ChatRoom
)

// Member roles (spec §8.5).
const (
	RoleOwner  = "Owner"
	RoleAdmin  = "Admin"
	RoleMember = "Member"
)

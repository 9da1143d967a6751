package vocab

// Command names an API: its service and command path segments, e.g.
// {"im_open_login_svc", "account_import"} for v4/im_open_login_svc/account_import.
type Command struct {
	Service string
	Name    string
}

// Path is the URL path of the command, e.g. "/v4/openim/importmsg" (spec §1.1).
func (c Command) Path() string { return "/v4/" + c.Service + "/" + c.Name }

func (c Command) String() string { return c.Service + "/" + c.Name }

// The commands of the APIs immigrate uses.
var (
	CmdAccountImport      = Command{"im_open_login_svc", "account_import"}
	CmdMultiAccountImport = Command{"im_open_login_svc", "multiaccount_import"}
	CmdAccountCheck       = Command{"im_open_login_svc", "account_check"}
	CmdAccountDelete      = Command{"im_open_login_svc", "account_delete"}
	CmdPortraitSet        = Command{"profile", "portrait_set"}
	CmdPortraitGet        = Command{"profile", "portrait_get"}
	CmdFriendImport       = Command{"sns", "friend_import"}
	CmdFriendGet          = Command{"sns", "friend_get"}
	CmdImportMsg          = Command{"openim", "importmsg"}
	CmdAdminGetRoamMsg    = Command{"openim", "admin_getroammsg"}
	CmdImportGroup        = Command{"group_open_http_svc", "import_group"}
	CmdImportGroupMember  = Command{"group_open_http_svc", "import_group_member"}
	CmdImportGroupMsg     = Command{"group_open_http_svc", "import_group_msg"}
	CmdSetUnreadMsgNum    = Command{"group_open_http_svc", "set_unread_msg_num"}
	CmdGetGroupInfo       = Command{"group_open_http_svc", "get_group_info"}
	CmdGetGroupMemberInfo = Command{"group_open_http_svc", "get_group_member_info"}
	CmdGroupMsgGetSimple  = Command{"group_open_http_svc", "group_msg_get_simple"}
	CmdGetAppIDGroupList  = Command{"group_open_http_svc", "get_appid_group_list"}
	CmdDestroyGroup       = Command{"group_open_http_svc", "destroy_group"}
)

// Commands lists every command above, for tables keyed by command.
var Commands = []Command{
	CmdAccountImport, CmdMultiAccountImport, CmdAccountCheck, CmdAccountDelete,
	CmdPortraitSet, CmdPortraitGet, CmdFriendImport, CmdFriendGet,
	CmdImportMsg, CmdAdminGetRoamMsg,
	CmdImportGroup, CmdImportGroupMember, CmdImportGroupMsg, CmdSetUnreadMsgNum,
	CmdGetGroupInfo, CmdGetGroupMemberInfo, CmdGroupMsgGetSimple, CmdGetAppIDGroupList,
	CmdDestroyGroup,
}

// DocumentedRate is each command's maximum call frequency in calls per second
// (spec §1.10).
var DocumentedRate = map[Command]float64{
	CmdAccountImport:      200,
	CmdMultiAccountImport: 100,
	CmdAccountCheck:       100,
	CmdAccountDelete:      100,
	CmdPortraitSet:        200,
	CmdPortraitGet:        200,
	CmdFriendImport:       200,
	CmdFriendGet:          200,
	CmdImportMsg:          200,
	CmdAdminGetRoamMsg:    200,
	CmdImportGroup:        200,
	CmdImportGroupMember:  200,
	CmdImportGroupMsg:     200,
	CmdSetUnreadMsgNum:    200,
	CmdGetGroupInfo:       200,
	CmdGetGroupMemberInfo: 200,
	CmdGroupMsgGetSimple:  200,
	CmdGetAppIDGroupList:  1,
	CmdDestroyGroup:       200,
	CmdCreateGroup:        200,
	CmdChangeGroupOwner:   200,
	CmdImportTopic:        200,
	CmdGetC2CUnreadMsgNum: 200,
	CmdRecentContactList:  200,
}

// Further commands, of the checklist-only APIs (spec §14): not used by the migration
// itself, but part of the contract the sandbox emulates and tests read back through.
var (
	CmdCreateGroup        = Command{"group_open_http_svc", "create_group"}
	CmdChangeGroupOwner   = Command{"group_open_http_svc", "change_group_owner"}
	CmdImportTopic        = Command{"group_open_http_svc", "import_topic"}
	CmdGetC2CUnreadMsgNum = Command{"openim", "get_c2c_unread_msg_num"}
	CmdRecentContactList  = Command{"recentcontact", "get_list"}
)

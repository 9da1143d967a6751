package vocab

// Message element types (spec §6.1).
const (
	MsgText     = "TIMTextElem"
	MsgLocation = "TIMLocationElem"
	MsgFace     = "TIMFaceElem"
	MsgCustom   = "TIMCustomElem"
	MsgSound    = "TIMSoundElem"
	MsgImage    = "TIMImageElem"
	MsgFile     = "TIMFileElem"
	MsgVideo    = "TIMVideoFileElem"
)

// SyncFromOldSystem values for importmsg (spec §7.1).
const (
	SyncHistorical = 2 // marked read, not pushed
	SyncRealtime   = 5 // marked unread, pushed
)

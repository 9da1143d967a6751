package tencentim

// ---- one-to-one messages (spec §7) ----

// ImportMsgRequest is v4/openim/importmsg (spec §7.1).
type ImportMsgRequest struct {
	SyncFromOldSystem int       `json:"SyncFromOldSystem"`
	FromAccount       string    `json:"From_Account"`
	ToAccount         string    `json:"To_Account"`
	MsgSeq            uint32    `json:"MsgSeq"`
	MsgRandom         uint32    `json:"MsgRandom"`
	MsgTimeStamp      int64     `json:"MsgTimeStamp"`
	MsgBody           []MsgElem `json:"MsgBody"`
	CloudCustomData   string    `json:"CloudCustomData,omitempty"`
}

// ImportMsgResponse is the envelope only.
type ImportMsgResponse struct {
	Envelope
}

// AdminGetRoamMsgRequest is v4/openim/admin_getroammsg (spec §7.2).
type AdminGetRoamMsgRequest struct {
	OperatorAccount string `json:"Operator_Account"`
	PeerAccount     string `json:"Peer_Account"`
	MaxCnt          int    `json:"MaxCnt"`
	MinTime         int64  `json:"MinTime"`
	MaxTime         int64  `json:"MaxTime"`
	LastMsgKey      string `json:"LastMsgKey,omitempty"`
}

// RoamMsg is one message of admin_getroammsg.
type RoamMsg struct {
	FromAccount     string    `json:"From_Account"`
	ToAccount       string    `json:"To_Account"`
	MsgSeq          uint32    `json:"MsgSeq"`
	MsgRandom       uint32    `json:"MsgRandom"`
	MsgTimeStamp    int64     `json:"MsgTimeStamp"`
	MsgFlagBits     int       `json:"MsgFlagBits"`
	IsPeerRead      int       `json:"IsPeerRead"`
	MsgKey          string    `json:"MsgKey"`
	MsgBody         []MsgElem `json:"MsgBody"`
	CloudCustomData string    `json:"CloudCustomData"`
}

// AdminGetRoamMsgResponse is one page of admin_getroammsg.
type AdminGetRoamMsgResponse struct {
	Envelope
	Complete    int       `json:"Complete"`
	MsgCnt      int       `json:"MsgCnt"`
	LastMsgTime int64     `json:"LastMsgTime"`
	LastMsgKey  string    `json:"LastMsgKey"`
	MsgList     []RoamMsg `json:"MsgList"`
}

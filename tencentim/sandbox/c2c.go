package sandbox

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/immigrate/immigrate/tencentim"
)

// openim (C2C) codes (spec §7.1-§7.3).
const (
	codeC2CParse       = 90001
	codeC2CBody        = 90002
	codeC2CTo          = 90003
	codeC2CRandom      = 90005
	codeC2CTime        = 90006
	codeC2CBodyArray   = 90007
	codeC2CFrom        = 90008
	codeC2CElem        = 90010
	codeC2CToNotExist  = 90012
	codeC2CSync        = 90030
	maxRoamPageBytes   = 13 * 1024 // admin_getroammsg page limit "13 KB" (spec §7.2)
	maxUnreadPeerQuery = 10        // get_c2c_unread_msg_num Peer_Account (spec §7.3)
)

// ---- message elements (spec §6), shared with the group half ----

type elemFieldType int

const (
	elemString elemFieldType = iota
	elemInt                  // an integral JSON number
	elemNumber               // any JSON number
	elemImages               // ImageInfoArray: a non-empty array of image objects
)

type elemField struct {
	name     string
	typ      elemFieldType
	required bool
	// mustBe is the only value a required integer may take (the download flags,
	// which the vendor page says must be 2); 0 means any.
	mustBe int64
}

// elemSchemas is the MsgContent of each MsgType (spec §6.2 supplement, adopted as
// the element schema). "Required" is what the vendor page says a REST send must
// include; present optional fields must still have the right type.
var elemSchemas = map[string][]elemField{
	tencentim.MsgText: {
		{name: "Text", typ: elemString, required: true},
	},
	tencentim.MsgLocation: {
		{name: "Desc", typ: elemString},
		{name: "Latitude", typ: elemNumber, required: true},
		{name: "Longitude", typ: elemNumber, required: true},
	},
	tencentim.MsgFace: {
		{name: "Index", typ: elemInt, required: true},
		{name: "Data", typ: elemString},
	},
	tencentim.MsgCustom: {
		{name: "Data", typ: elemString},
		{name: "Desc", typ: elemString},
		{name: "Ext", typ: elemString},
		{name: "Sound", typ: elemString},
	},
	tencentim.MsgSound: {
		{name: "Url", typ: elemString, required: true},
		{name: "UUID", typ: elemString, required: true},
		{name: "Download_Flag", typ: elemInt, required: true, mustBe: 2},
		{name: "Size", typ: elemInt},
		{name: "Second", typ: elemInt},
	},
	tencentim.MsgImage: {
		{name: "UUID", typ: elemString, required: true},
		{name: "ImageFormat", typ: elemInt},
		{name: "ImageInfoArray", typ: elemImages, required: true},
	},
	tencentim.MsgFile: {
		{name: "Url", typ: elemString, required: true},
		{name: "UUID", typ: elemString, required: true},
		{name: "Download_Flag", typ: elemInt, required: true, mustBe: 2},
		{name: "FileSize", typ: elemInt},
		{name: "FileName", typ: elemString},
	},
	tencentim.MsgVideo: {
		{name: "VideoUrl", typ: elemString, required: true},
		{name: "VideoUUID", typ: elemString, required: true},
		{name: "VideoDownloadFlag", typ: elemInt, required: true, mustBe: 2},
		{name: "ThumbUrl", typ: elemString, required: true},
		{name: "ThumbUUID", typ: elemString, required: true},
		{name: "ThumbWidth", typ: elemInt, required: true},
		{name: "ThumbHeight", typ: elemInt, required: true},
		{name: "ThumbDownloadFlag", typ: elemInt, required: true, mustBe: 2},
		{name: "VideoSize", typ: elemInt},
		{name: "VideoSecond", typ: elemInt},
		{name: "VideoFormat", typ: elemString},
		{name: "ThumbSize", typ: elemInt},
		{name: "ThumbFormat", typ: elemString},
	},
}

// imageInfoSchema is one ImageInfoArray entry; REST sends need URL, Width and
// Height (spec §6.2).
var imageInfoSchema = []elemField{
	{name: "Type", typ: elemInt},
	{name: "Size", typ: elemInt},
	{name: "Width", typ: elemInt, required: true},
	{name: "Height", typ: elemInt, required: true},
	{name: "URL", typ: elemString, required: true},
}

// c2cElemTypes are the MsgTypes importmsg accepts: all eight of spec §6.1.
var c2cElemTypes = []string{
	tencentim.MsgText, tencentim.MsgLocation, tencentim.MsgFace, tencentim.MsgCustom,
	tencentim.MsgSound, tencentim.MsgImage, tencentim.MsgFile, tencentim.MsgVideo,
}

// bodyError is why a MsgBody is invalid. Structural problems (an empty body, an
// element that is not an object) are 90002 for C2C; element format problems
// (unknown or disallowed MsgType, bad MsgContent, two custom elements) are 90010.
type bodyError struct {
	structural bool
	reason     string
}

// checkMsgBody validates a MsgBody array (spec §6.1, §6.2): at least one element;
// each an object with a MsgType from allowed and a MsgContent object matching
// elemSchemas; at most one TIMCustomElem per message (spec §6.2).
func checkMsgBody(elems []json.RawMessage, allowed []string) *bodyError {
	if len(elems) == 0 {
		return &bodyError{true, "MsgBody is empty"}
	}
	customs := 0
	for i, raw := range elems {
		at := "MsgBody[" + strconv.Itoa(i) + "]"
		e, ok := asObject(raw)
		if !ok {
			return &bodyError{true, at + " is not an object"}
		}
		typ, aerr := e.str("MsgType", true, 0, 0)
		if aerr != nil {
			return &bodyError{false, at + "." + aerr.Info}
		}
		schema, known := elemSchemas[typ]
		if !known || !slices.Contains(allowed, typ) {
			return &bodyError{false, at + ": MsgType " + strconv.Quote(typ) + " is not allowed here"}
		}
		if typ == tencentim.MsgCustom {
			if customs++; customs > 1 {
				return &bodyError{false, "at most one TIMCustomElem per message"}
			}
		}
		content, aerr := e.object("MsgContent", true, 0, 0)
		if aerr != nil {
			return &bodyError{false, at + "." + aerr.Info}
		}
		if reason := checkFields(content, schema); reason != "" {
			return &bodyError{false, at + ".MsgContent." + reason}
		}
	}
	return nil
}

func checkFields(f fields, schema []elemField) string {
	for _, fs := range schema {
		v, ok := f.value(fs.name)
		if !ok {
			if fs.required {
				return fs.name + " is missing"
			}
			continue
		}
		switch fs.typ {
		case elemString:
			if _, ok := asString(v); !ok {
				return fs.name + " must be a string"
			}
		case elemNumber:
			if _, ok := asNumber(v); !ok {
				return fs.name + " must be a number"
			}
		case elemInt:
			n, ok := asInt64(v)
			if !ok {
				return fs.name + " must be an integer"
			}
			if fs.mustBe != 0 && n != fs.mustBe {
				return fs.name + " must be " + strconv.FormatInt(fs.mustBe, 10)
			}
		case elemImages:
			a, ok := asArray(v)
			if !ok || len(a) == 0 {
				return fs.name + " must be a non-empty array"
			}
			for i, raw := range a {
				info, ok := asObject(raw)
				if !ok {
					return fmt.Sprintf("%s[%d] must be an object", fs.name, i)
				}
				if reason := checkFields(info, imageInfoSchema); reason != "" {
					return fmt.Sprintf("%s[%d].%s", fs.name, i, reason)
				}
			}
		}
	}
	return ""
}

// ---- importmsg ----

// handleImportMsg is v4/openim/importmsg (spec §7.1; items 27-35). Decisions:
//   - SyncFromOldSystem other than 2 or 5 → 90030 (A32 REC, item 29).
//   - From_Account not imported → 90008 (A32 REC); To_Account not imported → 90012.
//   - A duplicate (same MsgSeq, MsgRandom, MsgTimeStamp in the conversation,
//     either direction) answers OK and changes nothing: the first import wins
//     (A8, items 30-31), and unread counts and conversations are not touched
//     again, so a resent message after a lost answer is harmless.
//   - Any arrival order is accepted; history is kept in (time, MsgSeq) order (A7).
//   - A MsgTimeStamp in the future is accepted: neither the seeds nor A32 give a
//     rule or a code for it, and a clock-skewed legacy source should not lose
//     messages. A timestamp <= 0 is not a send time and answers 90006.
//   - An omitted MsgSeq is drawn at random (spec §7.1), so such a message is not
//     deduplicated on resend.
//   - A bad type for the optional MsgSeq or CloudCustomData answers 90001: the
//     vendor lists no code for them, and 90001 is its parse-failure code.
func handleImportMsg(s *Server, c *call) (any, *apiError) {
	sync, aerr := c.int64("SyncFromOldSystem", true, codeC2CSync, codeC2CSync)
	if aerr != nil {
		return nil, aerr
	}
	if sync != tencentim.SyncHistorical && sync != tencentim.SyncRealtime {
		return nil, errf(codeC2CSync, "SyncFromOldSystem must be 2 or 5")
	}
	from, aerr := c.str("From_Account", true, codeC2CFrom, codeC2CFrom)
	if aerr != nil {
		return nil, aerr
	}
	to, aerr := c.str("To_Account", true, codeC2CTo, codeC2CTo)
	if aerr != nil {
		return nil, aerr
	}
	random, aerr := c.uint32("MsgRandom", true, codeC2CRandom, codeC2CRandom)
	if aerr != nil {
		return nil, aerr
	}
	ts, aerr := c.int64("MsgTimeStamp", true, codeC2CTime, codeC2CTime)
	if aerr != nil {
		return nil, aerr
	}
	if ts <= 0 {
		return nil, errf(codeC2CTime, "MsgTimeStamp must be a positive Unix time")
	}
	seq, aerr := c.uint32("MsgSeq", false, codeC2CParse, codeC2CParse)
	if aerr != nil {
		return nil, aerr
	}
	if !c.has("MsgSeq") {
		seq = uint32(c.draw(s.randUint64))
	}
	elems, aerr := c.array("MsgBody", true, codeC2CBodyArray, codeC2CBodyArray)
	if aerr != nil {
		return nil, aerr
	}
	if be := checkMsgBody(elems, c2cElemTypes); be != nil {
		code := codeC2CElem
		if be.structural {
			code = codeC2CBody
		}
		return nil, errf(code, be.reason)
	}
	cloud, aerr := c.str("CloudCustomData", false, codeC2CParse, codeC2CParse)
	if aerr != nil {
		return nil, aerr
	}
	if !s.users.exists(from) {
		return nil, errf(codeC2CFrom, "From_Account "+from+" does not exist")
	}
	if !s.users.exists(to) {
		return nil, errf(codeC2CToNotExist, "To_Account "+to+" is not registered")
	}
	body, _ := c.value("MsgBody")
	m := &c2cMsg{
		key:   msgKey{ts: ts, seq: seq, random: random},
		from:  from,
		to:    to,
		body:  compactJSON(body),
		cloud: cloud,
		sync:  int(sync),
	}
	if !s.users.conversation(from, to, true).insert(m) {
		return &tencentim.ImportMsgResponse{}, nil
	}
	if sync == tencentim.SyncRealtime && from != to {
		// Item 33: real-time messages arrive unread; historical ones are read.
		peers := s.users.unread[to]
		if peers == nil {
			peers = map[string]int{}
			s.users.unread[to] = peers
		}
		peers[from]++
	}
	// Item 34: the conversation moves up in both parties' recent contacts.
	s.users.touchSession(from, sessionKey{sessionC2C, to}, ts)
	s.users.touchSession(to, sessionKey{sessionC2C, from}, ts)
	return &tencentim.ImportMsgResponse{}, nil
}

// ---- admin_getroammsg ----

// msgKeyString is the MsgKey of a C2C message, "{MsgSeq}_{MsgRandom}_{MsgTimeStamp}"
// (spec §6.4, INFERRED from every sample).
func msgKeyString(k msgKey) string {
	return strconv.FormatUint(uint64(k.seq), 10) + "_" + strconv.FormatUint(uint64(k.random), 10) + "_" + strconv.FormatInt(k.ts, 10)
}

func parseMsgKey(s string) (msgKey, bool) {
	parts := strings.Split(s, "_")
	if len(parts) != 3 {
		return msgKey{}, false
	}
	seq, err1 := strconv.ParseUint(parts[0], 10, 32)
	random, err2 := strconv.ParseUint(parts[1], 10, 32)
	ts, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return msgKey{}, false
	}
	return msgKey{ts: ts, seq: uint32(seq), random: uint32(random)}, true
}

func roamMsg(m *c2cMsg) tencentim.RoamMsg {
	var body []tencentim.MsgElem
	_ = json.Unmarshal(m.body, &body) // validated on import
	return tencentim.RoamMsg{
		FromAccount:     m.from,
		ToAccount:       m.to,
		MsgSeq:          m.key.seq,
		MsgRandom:       m.key.random,
		MsgTimeStamp:    m.key.ts,
		MsgKey:          msgKeyString(m.key),
		MsgBody:         body,
		CloudCustomData: m.cloud,
	}
}

// handleAdminGetRoamMsg is v4/openim/admin_getroammsg (spec §7.2; items 27, 35-38),
// with the paging of A17 as inferred from the vendor's samples: a page holds the
// newest messages of [MinTime, MaxTime] (bounds inclusive) that fit in MaxCnt and
// 13 KB, listed oldest first; LastMsgTime/LastMsgKey name the page's oldest
// message. The next request sends MaxTime = LastMsgTime and LastMsgKey, and gets
// the messages strictly before that key, so pages walk back in time without gaps
// or duplicates even inside one second. Complete is 1 on the last page. Messages
// older than the roaming period (Config.RoamingPeriod, item 38) are not returned.
// Unknown Operator_Account → 90008 (item 37); unknown Peer_Account → 90003
// (INFERRED); bad MaxCnt/MinTime/MaxTime/LastMsgKey → 90001.
func handleAdminGetRoamMsg(s *Server, c *call) (any, *apiError) {
	op, aerr := c.str("Operator_Account", true, codeC2CFrom, codeC2CFrom)
	if aerr != nil {
		return nil, aerr
	}
	peer, aerr := c.str("Peer_Account", true, codeC2CTo, codeC2CTo)
	if aerr != nil {
		return nil, aerr
	}
	maxCnt, aerr := c.int64("MaxCnt", true, codeC2CParse, codeC2CParse)
	if aerr != nil {
		return nil, aerr
	}
	if maxCnt <= 0 {
		return nil, errf(codeC2CParse, "MaxCnt must be positive")
	}
	minTime, aerr := c.int64("MinTime", true, codeC2CParse, codeC2CParse)
	if aerr != nil {
		return nil, aerr
	}
	maxTime, aerr := c.int64("MaxTime", true, codeC2CParse, codeC2CParse)
	if aerr != nil {
		return nil, aerr
	}
	lastKeyStr, aerr := c.str("LastMsgKey", false, codeC2CParse, codeC2CParse)
	if aerr != nil {
		return nil, aerr
	}
	var lastKey msgKey
	hasLastKey := lastKeyStr != ""
	if hasLastKey {
		var ok bool
		if lastKey, ok = parseMsgKey(lastKeyStr); !ok {
			return nil, errf(codeC2CParse, "LastMsgKey is malformed")
		}
	}
	if !s.users.exists(op) {
		return nil, errf(codeC2CFrom, "Operator_Account "+op+" does not exist")
	}
	if !s.users.exists(peer) {
		return nil, errf(codeC2CTo, "Peer_Account "+peer+" does not exist")
	}
	if p := s.cfg.RoamingPeriod; p > 0 {
		minTime = max(minTime, c.now.Add(-p).Unix())
	}
	resp := &tencentim.AdminGetRoamMsgResponse{Complete: 1, MsgList: []tencentim.RoamMsg{}}
	conv := s.users.conversation(op, peer, false)
	if conv == nil || minTime > maxTime {
		return resp, nil
	}
	msgs := conv.msgs
	// [lo, hi) are the candidates, in ascending key order.
	lo, _ := slices.BinarySearchFunc(msgs, minTime, func(m *c2cMsg, t int64) int {
		if m.key.ts < t {
			return -1
		}
		return 1
	})
	hi, _ := slices.BinarySearchFunc(msgs, maxTime, func(m *c2cMsg, t int64) int {
		if m.key.ts <= t {
			return -1
		}
		return 1
	})
	if hasLastKey {
		k, _ := slices.BinarySearchFunc(msgs, lastKey, func(m *c2cMsg, k msgKey) int { return m.key.compare(k) })
		hi = min(hi, k)
	}
	if lo >= hi {
		return resp, nil
	}
	var page []tencentim.RoamMsg
	size := 0
	i := hi - 1
	for ; i >= lo && int64(len(page)) < maxCnt; i-- {
		rm := roamMsg(msgs[i])
		b, _ := json.Marshal(rm)
		// Always return at least one message, or a caller could never advance.
		if len(page) > 0 && size+len(b)+1 > maxRoamPageBytes {
			break
		}
		size += len(b) + 1
		page = append(page, rm)
	}
	slices.Reverse(page)
	resp.MsgList = page
	resp.MsgCnt = len(page)
	resp.LastMsgTime = page[0].MsgTimeStamp
	resp.LastMsgKey = page[0].MsgKey
	if i >= lo {
		resp.Complete = 0
	}
	return resp, nil
}

// ---- get_c2c_unread_msg_num ----

// handleGetC2CUnreadMsgNum is v4/openim/get_c2c_unread_msg_num (spec §7.3; item
// 33): the unread counts of To_Account, in total or for at most 10 peers. An
// unknown peer is an ErrorList entry with 70107.
func handleGetC2CUnreadMsgNum(s *Server, c *call) (any, *apiError) {
	to, aerr := c.str("To_Account", true, codeC2CTo, codeC2CTo)
	if aerr != nil {
		return nil, aerr
	}
	raw, aerr := c.array("Peer_Account", false, codeC2CParse, codeC2CParse)
	if aerr != nil {
		return nil, aerr
	}
	if len(raw) > maxUnreadPeerQuery {
		return nil, errf(codeC2CParse, "more than 10 accounts in Peer_Account")
	}
	peers, aerr := accountStrings("Peer_Account", raw)
	if aerr != nil {
		return nil, aerr
	}
	if !s.users.exists(to) {
		return nil, errf(codeC2CTo, "To_Account "+to+" does not exist")
	}
	counts := s.users.unread[to]
	resp := &tencentim.GetC2CUnreadMsgNumResponse{}
	for _, n := range counts {
		resp.AllC2CUnreadMsgNum += n
	}
	for _, p := range peers {
		if !s.users.exists(p) {
			resp.ErrorList = append(resp.ErrorList, tencentim.PeerError{PeerAccount: p, ErrorCode: codeAccountNotExist})
			continue
		}
		resp.C2CUnreadMsgNumList = append(resp.C2CUnreadMsgNumList, tencentim.C2CUnreadMsgNum{PeerAccount: p, C2CUnreadMsgNum: counts[p]})
	}
	return resp, nil
}

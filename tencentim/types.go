package tencentim

import "encoding/json"

// This file and the files named after an API family (accounts.go, profiles.go,
// friends.go, c2c.go, groups.go, checklist.go) hold the wire types of every API
// immigrate uses, field names exactly as the vendor spells them (spec digest §3-§8).
// Requests use omitempty only where the field is optional; responses embed Envelope.

// Envelope is the common response envelope (spec §1.4). HTTP status is 200 whatever
// ErrorCode says.
type Envelope struct {
	ActionStatus string `json:"ActionStatus"`
	ErrorInfo    string `json:"ErrorInfo"`
	ErrorCode    int    `json:"ErrorCode"`
	// ErrorDisplay is returned by the profile and relationship-chain APIs (spec §1.4).
	ErrorDisplay string `json:"ErrorDisplay,omitempty"`
}

// envelope lets the client read the envelope of any response type.
func (e *Envelope) envelope() *Envelope { return e }

// Action status values (spec §1.4).
const (
	ActionOK   = "OK"
	ActionFail = "FAIL"
)

// MsgElem is one element of a MsgBody (spec §6.1). MsgContent stays raw so that a
// message round-trips byte for byte; use the *Content types below to build it.
type MsgElem struct {
	MsgType    string          `json:"MsgType"`
	MsgContent json.RawMessage `json:"MsgContent"`
}

// TextContent is the MsgContent of TIMTextElem.
type TextContent struct {
	Text string `json:"Text"`
}

// LocationContent is the MsgContent of TIMLocationElem.
type LocationContent struct {
	Desc      string  `json:"Desc"`
	Latitude  float64 `json:"Latitude"`
	Longitude float64 `json:"Longitude"`
}

// FaceContent is the MsgContent of TIMFaceElem.
type FaceContent struct {
	Index int    `json:"Index"`
	Data  string `json:"Data"`
}

// CustomContent is the MsgContent of TIMCustomElem.
type CustomContent struct {
	Data  string `json:"Data"`
	Desc  string `json:"Desc,omitempty"`
	Ext   string `json:"Ext,omitempty"`
	Sound string `json:"Sound,omitempty"`
}

// SoundContent is the MsgContent of TIMSoundElem (spec §6.2).
type SoundContent struct {
	URL          string `json:"Url"`
	UUID         string `json:"UUID"`
	Size         int64  `json:"Size,omitempty"`
	Second       int    `json:"Second,omitempty"`
	DownloadFlag int    `json:"Download_Flag"`
}

// ImageInfo is one entry of ImageContent.ImageInfoArray.
type ImageInfo struct {
	Type   int    `json:"Type"` // 1 original, 2 large, 3 thumbnail
	Size   int64  `json:"Size"`
	Width  int    `json:"Width"`
	Height int    `json:"Height"`
	URL    string `json:"URL"`
}

// ImageContent is the MsgContent of TIMImageElem (spec §6.2).
type ImageContent struct {
	UUID           string      `json:"UUID"`
	ImageFormat    int         `json:"ImageFormat"`
	ImageInfoArray []ImageInfo `json:"ImageInfoArray"`
}

// FileContent is the MsgContent of TIMFileElem (spec §6.2).
type FileContent struct {
	URL          string `json:"Url"`
	UUID         string `json:"UUID"`
	FileSize     int64  `json:"FileSize,omitempty"`
	FileName     string `json:"FileName,omitempty"`
	DownloadFlag int    `json:"Download_Flag"`
}

// VideoContent is the MsgContent of TIMVideoFileElem (spec §6.2).
type VideoContent struct {
	VideoURL          string `json:"VideoUrl"`
	VideoUUID         string `json:"VideoUUID"`
	VideoSize         int64  `json:"VideoSize,omitempty"`
	VideoSecond       int    `json:"VideoSecond,omitempty"`
	VideoFormat       string `json:"VideoFormat,omitempty"`
	VideoDownloadFlag int    `json:"VideoDownloadFlag"`
	ThumbURL          string `json:"ThumbUrl"`
	ThumbUUID         string `json:"ThumbUUID"`
	ThumbSize         int64  `json:"ThumbSize,omitempty"`
	ThumbWidth        int    `json:"ThumbWidth"`
	ThumbHeight       int    `json:"ThumbHeight"`
	ThumbFormat       string `json:"ThumbFormat,omitempty"`
	ThumbDownloadFlag int    `json:"ThumbDownloadFlag"`
}

// NewElem builds a MsgElem from one of the *Content types.
func NewElem(msgType string, content any) (MsgElem, error) {
	raw, err := json.Marshal(content)
	if err != nil {
		return MsgElem{}, err
	}
	return MsgElem{MsgType: msgType, MsgContent: raw}, nil
}

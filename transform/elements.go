package transform

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

// kindRule returns the element rule of a legacy kind. Kinds match
// case-insensitively; the common all-lower-case kind costs one map lookup and no
// allocation.
func (t *Transformer) kindRule(kind string) (KindRule, bool) {
	if kind == "" {
		return t.defaultKind, t.hasDefaultKind
	}
	if r, ok := t.kinds[kind]; ok {
		return r, true
	}
	for i := 0; i < len(kind); i++ {
		if c := kind[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			r, ok := t.kinds[strings.ToLower(kind)]
			return r, ok
		}
	}
	return KindRule{}, false
}

// msgBody builds the MsgBody of m for a group (import_group_msg accepts only text,
// face, location and custom elements, spec §6.1, §8.9) or for C2C (all eight types,
// spec §7.1), raising the element rules on is. It returns nil when the message is
// rejected.
func (t *Transformer) msgBody(m *extract.Message, group bool, is *issueList) []tencentim.MsgElem {
	rule, ok := t.kindRule(m.Kind)
	if !ok {
		kind := m.Kind
		if kind == "" {
			kind = "(empty)"
		}
		if t.unknownKind != PolicyText {
			is.add(RuleMessageKindUnmapped, "message kind %s is not mapped in messages.kinds and unknown_kind is reject (spec §6.1)", shown(kind))
			return nil
		}
		text := firstNonEmpty(m.Text, m.Payload)
		if text == "" {
			is.add(RuleMessageTextEmpty, "message kind %s is not mapped and the message has neither text nor payload to import as text (spec §6.2)", shown(kind))
			return nil
		}
		is.add(RuleMessageKindAsText, "message kind %s is not mapped; imported as TIMTextElem (unknown_kind: text)", shown(kind))
		return textBody(text)
	}

	switch rule.Element {
	case ElemText:
		text := firstNonEmpty(m.Text, m.Payload)
		if text == "" {
			is.add(RuleMessageTextEmpty, "text message has no text; TIMTextElem needs Text (spec §6.2)")
			return nil
		}
		return textBody(text)
	case ElemFace:
		return elemBody(tencentim.MsgFace, faceContent(m, rule), RuleMessageTextEmpty, is)
	case ElemLocation:
		loc, ok := locationContent(m)
		if !ok {
			is.add(RuleMessageLocationBad, "location payload %s has no valid latitude and longitude; expected JSON {\"lat\":…,\"lng\":…,\"desc\":…} or \"lat,lng\" (spec §6.2)", shown(m.Payload))
			return nil
		}
		return elemBody(tencentim.MsgLocation, loc, RuleMessageLocationBad, is)
	case ElemCustom:
		c := tencentim.CustomContent{Data: m.Payload, Desc: m.Text}
		if c.Data == "" {
			c.Data, c.Desc = m.Text, ""
		}
		if c.Data == "" {
			is.add(RuleMessageCustomEmpty, "custom message has neither payload nor text for TIMCustomElem Data (spec §6.2)")
			return nil
		}
		return elemBody(tencentim.MsgCustom, c, RuleMessageCustomEmpty, is)
	}
	if group {
		return t.groupMedia(m, rule.Element, is)
	}
	return mediaBody(m, rule.Element, is)
}

// mediaRule is the missing-field rule of each rich-media element.
var mediaRule = map[string]string{
	ElemImage: RuleMessageImageMissing,
	ElemFile:  RuleMessageFileMissing,
	ElemSound: RuleMessageSoundMissing,
	ElemVideo: RuleMessageVideoMissing,
}

// mediaBody builds a C2C rich-media element. The vendor's REST sends need the
// fields of spec §6.2: UUIDs are the MD5 of the URL (deterministic, as the
// supplement recommends) and Download_Flag is 2 (download from the URL).
func mediaBody(m *extract.Message, elem string, is *issueList) []tencentim.MsgElem {
	const dl = 2
	switch elem {
	case ElemImage:
		if m.URL == "" || m.Width <= 0 || m.Height <= 0 {
			is.add(RuleMessageImageMissing, "image message (url %s, %dx%d) lacks a URL or a positive width and height; TIMImageElem needs URL, UUID, Width and Height (spec §6.2)", shown(m.URL), m.Width, m.Height)
			return nil
		}
		// One source image serves as original, large and thumbnail (types 1-3):
		// clients look for the thumbnail to draw the conversation.
		info := make([]tencentim.ImageInfo, 3)
		for i := range info {
			info[i] = tencentim.ImageInfo{Type: i + 1, Size: m.Size, Width: m.Width, Height: m.Height, URL: m.URL}
		}
		return elemBody(tencentim.MsgImage, tencentim.ImageContent{
			UUID: urlUUID(m.URL), ImageFormat: imageFormat(m.URL), ImageInfoArray: info,
		}, RuleMessageImageMissing, is)
	case ElemFile:
		if m.URL == "" {
			is.add(RuleMessageFileMissing, "file message has no URL; TIMFileElem needs Url, UUID and Download_Flag (spec §6.2)")
			return nil
		}
		return elemBody(tencentim.MsgFile, tencentim.FileContent{
			URL: m.URL, UUID: urlUUID(m.URL), FileSize: m.Size, FileName: fileName(m), DownloadFlag: dl,
		}, RuleMessageFileMissing, is)
	case ElemSound:
		if m.URL == "" {
			is.add(RuleMessageSoundMissing, "sound message has no URL; TIMSoundElem needs Url, UUID and Download_Flag (spec §6.2)")
			return nil
		}
		return elemBody(tencentim.MsgSound, tencentim.SoundContent{
			URL: m.URL, UUID: urlUUID(m.URL), Size: m.Size, Second: m.Duration, DownloadFlag: dl,
		}, RuleMessageSoundMissing, is)
	default: // ElemVideo; Config.Validate admits no other element
		thumb := videoThumb(m.Payload)
		if m.URL == "" || thumb == "" || m.Width <= 0 || m.Height <= 0 {
			is.add(RuleMessageVideoMissing, "video message (url %s, thumbnail %s, %dx%d) lacks a URL, a thumbnail URL in the payload or a positive thumbnail width and height; TIMVideoFileElem needs them (spec §6.2)", shown(m.URL), shown(thumb), m.Width, m.Height)
			return nil
		}
		return elemBody(tencentim.MsgVideo, tencentim.VideoContent{
			VideoURL: m.URL, VideoUUID: urlUUID(m.URL), VideoSize: m.Size, VideoSecond: m.Duration,
			VideoFormat: urlExt(m.URL), VideoDownloadFlag: dl,
			ThumbURL: thumb, ThumbUUID: urlUUID(thumb), ThumbWidth: m.Width, ThumbHeight: m.Height,
			ThumbFormat: strings.ToUpper(urlExt(thumb)), ThumbDownloadFlag: dl,
		}, RuleMessageVideoMissing, is)
	}
}

// MediaDescription is the JSON that GroupRichMedia "custom" puts in the Data of the
// TIMCustomElem replacing an image, file, sound or video in a group; its Ext is
// MediaExt, so clients can recognise and render it.
type MediaDescription struct {
	Type     string `json:"type"` // image, file, sound, video
	URL      string `json:"url"`
	Name     string `json:"name,omitempty"`
	Size     int64  `json:"size,omitempty"`
	Width    int    `json:"width,omitempty"`
	Height   int    `json:"height,omitempty"`
	Duration int    `json:"duration,omitempty"`
	ThumbURL string `json:"thumb_url,omitempty"`
	Text     string `json:"text,omitempty"`
}

// MediaExt is the Ext of a TIMCustomElem carrying a MediaDescription.
const MediaExt = "immigrate.media"

// groupMedia converts a rich-media message for a group, which accepts only text,
// face, location and custom elements (spec §6.1, §8.9), per GroupRichMedia.
func (t *Transformer) groupMedia(m *extract.Message, elem string, is *issueList) []tencentim.MsgElem {
	if t.groupRichMedia == PolicyReject {
		is.add(RuleGroupMessageMediaRejected, "%s message in a group: import_group_msg accepts only text, face, location and custom elements and group_rich_media is reject (spec §6.1, §8.9)", elem)
		return nil
	}
	if m.URL == "" {
		is.add(mediaRule[elem], "%s message has no URL to carry into the group message (spec §6.2)", elem)
		return nil
	}
	if t.groupRichMedia == PolicyText {
		is.add(RuleGroupMessageMediaConverted, "%s message converted to TIMTextElem: groups accept only text, face, location and custom elements (spec §6.1, §8.9)", elem)
		text := "[" + elem + "] " + m.URL
		if elem == ElemFile {
			text = "[file] " + fileName(m) + " " + m.URL
		}
		if m.Text != "" {
			text = m.Text + "\n" + text
		}
		return textBody(text)
	}
	d := MediaDescription{Type: elem, URL: m.URL, Size: m.Size, Width: m.Width, Height: m.Height, Duration: m.Duration, Text: m.Text}
	switch elem {
	case ElemFile:
		d.Name = fileName(m)
	case ElemVideo:
		d.ThumbURL = videoThumb(m.Payload)
	}
	data, err := json.Marshal(d)
	if err != nil { // strings and integers only: cannot fail
		is.add(mediaRule[elem], "%s message cannot be described as JSON: %v", elem, err)
		return nil
	}
	is.add(RuleGroupMessageMediaConverted, "%s message converted to TIMCustomElem: groups accept only text, face, location and custom elements (spec §6.1, §8.9)", elem)
	return elemBody(tencentim.MsgCustom, tencentim.CustomContent{Data: string(data), Desc: "[" + elem + "]", Ext: MediaExt}, mediaRule[elem], is)
}

// textBody builds a one-element TIMTextElem body by hand: text is the bulk of every
// migration, and this path is byte-identical to json.Marshal(TextContent) at a
// fraction of its cost.
func textBody(text string) []tencentim.MsgElem {
	raw := make([]byte, 0, len(text)+len(`{"Text":""}`)+8)
	raw = append(raw, `{"Text":`...)
	raw = appendJSONString(raw, text)
	raw = append(raw, '}')
	return []tencentim.MsgElem{{MsgType: tencentim.MsgText, MsgContent: raw}}
}

// elemBody builds a one-element body from one of the tencentim *Content types.
func elemBody(msgType string, content any, rule string, is *issueList) []tencentim.MsgElem {
	e, err := tencentim.NewElem(msgType, content)
	if err != nil {
		is.add(rule, "%s content cannot be encoded: %v", msgType, err)
		return nil
	}
	return []tencentim.MsgElem{e}
}

// bodySize is the length of json.Marshal(body): MsgContent is already compact
// JSON and MsgType needs no escaping beyond what jsonStringLen counts.
func bodySize(body []tencentim.MsgElem) int {
	n := 2 + max(len(body)-1, 0) // brackets and commas
	for _, e := range body {
		n += len(`{"MsgType":`) + jsonStringLen(e.MsgType) + len(`,"MsgContent":`) + len(e.MsgContent) + len(`}`)
	}
	return n
}

func faceContent(m *extract.Message, rule KindRule) tencentim.FaceContent {
	c := tencentim.FaceContent{Index: rule.FaceIndex, Data: m.Text}
	if p := strings.TrimSpace(m.Payload); p != "" {
		if n, err := strconv.Atoi(p); err == nil {
			c.Index = n
		} else {
			c.Data = m.Payload
		}
	}
	return c
}

// locationContent reads a location from the payload: a JSON object with lat/latitude,
// lng/lon/longitude and desc/description (keys case-insensitive), or "lat,lng".
// The description falls back to the message text.
func locationContent(m *extract.Message) (tencentim.LocationContent, bool) {
	var p struct {
		Lat         *float64 `json:"lat"`
		Latitude    *float64 `json:"latitude"`
		Lng         *float64 `json:"lng"`
		Lon         *float64 `json:"lon"`
		Longitude   *float64 `json:"longitude"`
		Desc        string   `json:"desc"`
		Description string   `json:"description"`
	}
	var lat, lng *float64
	desc := ""
	if s := strings.TrimSpace(m.Payload); strings.HasPrefix(s, "{") {
		if json.Unmarshal([]byte(s), &p) != nil {
			return tencentim.LocationContent{}, false
		}
		lat = firstFloat(p.Lat, p.Latitude)
		lng = firstFloat(p.Lng, p.Lon, p.Longitude)
		desc = firstNonEmpty(p.Desc, p.Description)
	} else if a, b, ok := strings.Cut(s, ","); ok {
		x, errA := strconv.ParseFloat(strings.TrimSpace(a), 64)
		y, errB := strconv.ParseFloat(strings.TrimSpace(b), 64)
		if errA == nil && errB == nil {
			lat, lng = &x, &y
		}
	}
	// The negated ranges also refuse NaN, which JSON could not encode.
	if lat == nil || lng == nil || !(*lat >= -90 && *lat <= 90) || !(*lng >= -180 && *lng <= 180) {
		return tencentim.LocationContent{}, false
	}
	return tencentim.LocationContent{Desc: firstNonEmpty(desc, m.Text), Latitude: *lat, Longitude: *lng}, true
}

// videoThumb finds a video's thumbnail URL in its payload: the payload itself when
// it is a URL, or the thumb_url (or thumb) field of a JSON object.
func videoThumb(payload string) string {
	s := strings.TrimSpace(payload)
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return s
	}
	if !strings.HasPrefix(s, "{") {
		return ""
	}
	var p struct {
		ThumbURL string `json:"thumb_url"`
		Thumb    string `json:"thumb"`
	}
	if json.Unmarshal([]byte(s), &p) != nil {
		return ""
	}
	return firstNonEmpty(p.ThumbURL, p.Thumb)
}

// urlUUID is the UUID of a media URL: the hex MD5 of the URL, stable across runs.
func urlUUID(url string) string {
	sum := md5.Sum([]byte(url))
	return hex.EncodeToString(sum[:])
}

// urlExt is the lower-case extension of a URL's path ("" if none).
func urlExt(url string) string {
	if i := strings.IndexAny(url, "?#"); i >= 0 {
		url = url[:i]
	}
	url = url[strings.LastIndexByte(url, '/')+1:]
	i := strings.LastIndexByte(url, '.')
	if i < 0 {
		return ""
	}
	return strings.ToLower(url[i+1:])
}

// imageFormat is TIMImageElem's ImageFormat from the URL's extension (spec §6.2:
// JPG 1, GIF 2, PNG 3, BMP 4, other 255).
func imageFormat(url string) int {
	switch urlExt(url) {
	case "jpg", "jpeg":
		return 1
	case "gif":
		return 2
	case "png":
		return 3
	case "bmp":
		return 4
	}
	return 255
}

// fileName is the legacy file name, else the last segment of the URL's path.
func fileName(m *extract.Message) string {
	if m.FileName != "" {
		return m.FileName
	}
	url := m.URL
	if i := strings.IndexAny(url, "?#"); i >= 0 {
		url = url[:i]
	}
	return url[strings.LastIndexByte(url, '/')+1:]
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func firstFloat(v ...*float64) *float64 {
	for _, f := range v {
		if f != nil {
			return f
		}
	}
	return nil
}

package transform

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

// Rich messages: a MsgBody of several elements (spec §6.1: MsgBody is an array,
// one message may hold several elements), CloudCustomData from the thread, edit
// and reaction columns, media URLs rewritten by a template, and the size policy
// for a message over 12,000 bytes (spec §6.3, design §7 A5).

// Attachment is one element of a message's attachments field (a JSON array):
// a media file that follows the message's own element in its MsgBody.
type Attachment struct {
	// Kind is a legacy kind mapped by messages.kinds to image, file, sound or
	// video; empty means file.
	Kind     string `json:"kind"`
	URL      string `json:"url"`
	FileName string `json:"file_name"`
	Size     int64  `json:"size"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	Duration int    `json:"duration"`
	// ThumbURL is a video's thumbnail (its Width and Height are the thumbnail's,
	// as for a video message).
	ThumbURL string `json:"thumb_url"`
}

// CloudData is the JSON shape of the CloudCustomData the transform writes
// (mappings/README.md "CloudCustomData"); empty fields are left out, and a
// message with none has no CloudCustomData.
type CloudData struct {
	LegacyID string `json:"legacy_id,omitempty"`
	ReplyTo  string `json:"reply_to,omitempty"`
	ThreadID string `json:"thread_id,omitempty"`
	// EditedAt is Unix seconds.
	EditedAt  int64           `json:"edited_at,omitempty"`
	Reactions json.RawMessage `json:"reactions,omitempty"`
	// Part and Parts number the messages a split made (policies.oversize:
	// split): part Part of Parts, from 1.
	Part  int `json:"part,omitempty"`
	Parts int `json:"parts,omitempty"`
}

// TruncatedMarker ends a text that policies.oversize: truncate cut.
const TruncatedMarker = "…[truncated]"

// richBody builds m's MsgBody: its own element (unless it is an empty text and
// attachments follow), then one element per attachment, in order. Media URLs
// are rewritten by the URL template first. It returns nil when the message is
// rejected.
func (t *Transformer) richBody(m *extract.Message, group bool, is *issueList) []tencentim.MsgElem {
	var atts []Attachment
	if strings.TrimSpace(m.Attachments) != "" {
		if err := json.Unmarshal([]byte(m.Attachments), &atts); err != nil {
			is.add(RuleMessageAttachmentsInvalid, "attachments %s is not a JSON array of objects {kind, url, file_name, size, width, height, duration, thumb_url}: %v", shown(m.Attachments), err)
			return nil
		}
	}
	primary := *m
	rule, mapped := t.kindRule(m.Kind)
	media := mapped && mediaRule[rule.Element] != ""
	if media && !t.rewriteMedia(&primary, rule.Element, "url", is) {
		return nil
	}
	var body []tencentim.MsgElem
	if len(atts) == 0 || !mapped || rule.Element != ElemText || firstNonEmpty(m.Text, m.Payload) != "" {
		if body = t.msgBody(&primary, group, is); body == nil {
			return nil
		}
	}
	descs := 0 // group media described in one TIMCustomElem
	var descList []MediaDescription
	if group && media && t.groupRichMedia == PolicyCustom && len(atts) > 0 {
		// The primary's own description joins the attachments' below.
		body, descs = body[:0], 1
		descList = append(descList, mediaDescription(&primary, rule.Element))
	}
	for i, a := range atts {
		am := extract.Message{ID: m.ID, Kind: a.Kind, URL: a.URL, FileName: a.FileName, Size: a.Size,
			Width: a.Width, Height: a.Height, Duration: a.Duration, Payload: a.ThumbURL}
		elem := ElemFile
		if a.Kind != "" {
			r, ok := t.kindRule(a.Kind)
			if !ok || mediaRule[r.Element] == "" {
				is.add(RuleMessageAttachmentsInvalid, "attachment %d has kind %s, which messages.kinds does not map to image, file, sound or video (spec §6.2)", i+1, shown(a.Kind))
				return nil
			}
			elem = r.Element
		}
		if !t.rewriteMedia(&am, elem, "attachment "+strconv.Itoa(i+1)+" url", is) {
			return nil
		}
		if group && t.groupRichMedia == PolicyCustom {
			if am.URL == "" {
				is.add(mediaRule[elem], "attachment %d (%s) has no URL to carry into the group message (spec §6.2)", i+1, elem)
				return nil
			}
			descList = append(descList, mediaDescription(&am, elem))
			descs++
			continue
		}
		var e []tencentim.MsgElem
		if group {
			e = t.groupMedia(&am, elem, is)
		} else {
			e = mediaBody(&am, elem, is)
		}
		if e == nil {
			return nil
		}
		body = append(body, e...)
	}
	if descs > 0 {
		// At most one TIMCustomElem per message (spec §6.2): every file of a group
		// post is described in one, whose Data is a JSON array when there are
		// several.
		var data []byte
		var err error
		if len(descList) == 1 {
			data, err = json.Marshal(descList[0])
		} else {
			data, err = json.Marshal(descList)
		}
		if err != nil { // strings and integers only: cannot fail
			is.add(RuleMessageAttachmentsInvalid, "attachments cannot be described as JSON: %v", err)
			return nil
		}
		is.add(RuleGroupMessageMediaConverted, "%d attachment(s) converted to one TIMCustomElem: groups accept only text, face, location and custom elements (spec §6.1, §8.9)", descs)
		c, err := tencentim.NewElem(tencentim.MsgCustom, tencentim.CustomContent{
			Data: string(data), Desc: "[" + strconv.Itoa(descs) + " files]", Ext: MediaExt})
		if err != nil {
			is.add(RuleMessageAttachmentsInvalid, "attachments cannot be encoded: %v", err)
			return nil
		}
		body = append(body, c)
	}
	if len(body) == 0 {
		is.add(RuleMessageTextEmpty, "message has no text and no attachments (spec §6.2)")
		return nil
	}
	customs := 0
	for _, e := range body {
		if e.MsgType == tencentim.MsgCustom {
			customs++
		}
	}
	if customs > 1 {
		is.add(RuleMessageCustomMultiple, "message would hold %d TIMCustomElem; TIM allows at most one per message (spec §6.2)", customs)
		return nil
	}
	return body
}

// mediaDescription describes a rich-media message for a group's TIMCustomElem.
func mediaDescription(m *extract.Message, elem string) MediaDescription {
	d := MediaDescription{Type: elem, URL: m.URL, Size: m.Size, Width: m.Width, Height: m.Height, Duration: m.Duration, Text: m.Text}
	switch elem {
	case ElemFile:
		d.Name = fileName(m)
	case ElemVideo:
		d.ThumbURL = videoThumb(m.Payload)
	}
	return d
}

// rewriteMedia applies the URL template to a media message's URL and, for a
// video, to its thumbnail (which then becomes the payload, where videoThumb
// finds a URL). what names the URL in the issue.
func (t *Transformer) rewriteMedia(m *extract.Message, elem, what string, is *issueList) bool {
	if t.urlTemplate == "" {
		return true
	}
	if m.URL != "" {
		u, ok := t.rewriteURL(m.URL, m, what, is)
		if !ok {
			return false
		}
		m.URL = u
	}
	if elem == ElemVideo {
		if thumb := videoThumb(m.Payload); thumb != "" {
			u, ok := t.rewriteURL(thumb, m, what+" (thumbnail)", is)
			if !ok {
				return false
			}
			m.Payload = u
		}
	}
	return true
}

// rewriteURL expands the URL template for one legacy URL: {url} is it whole;
// {scheme}, {host}, {path} (without its leading "/") and {query} are its parts,
// a bare path being all {path}; {file_name} and {message_id} are path-escaped.
// The result must be an absolute http or https URL with a host.
func (t *Transformer) rewriteURL(legacy string, m *extract.Message, what string, is *issueList) (string, bool) {
	var scheme, host, path, query string
	if u, err := url.Parse(legacy); err == nil {
		scheme, host, path, query = u.Scheme, u.Host, u.EscapedPath(), u.RawQuery
	} else {
		path = legacy
	}
	path = strings.TrimPrefix(path, "/")
	r := strings.NewReplacer(
		"{url}", legacy, "{scheme}", scheme, "{host}", host, "{path}", path, "{query}", query,
		"{file_name}", url.PathEscape(fileName(m)), "{message_id}", url.PathEscape(m.ID))
	out := r.Replace(t.urlTemplate)
	u, err := url.Parse(out)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		is.add(RuleMessageURLInvalid, "%s %s rewritten by messages.url_template to %s, which is not an absolute http(s) URL (spec §6.2: clients download media from it)", what, shown(legacy), shown(out))
		return "", false
	}
	return out, true
}

// cloudData builds m's CloudCustomData (CloudData as JSON), "" when it has
// nothing to carry.
func (t *Transformer) cloudData(m *extract.Message, is *issueList) (string, bool) {
	return t.cloudDataPart(m, 0, 0, is)
}

// cloudDataPart is cloudData for part p of n of a split message (n 0: not
// split).
func (t *Transformer) cloudDataPart(m *extract.Message, p, n int, is *issueList) (string, bool) {
	d := CloudData{ReplyTo: m.ReplyTo, ThreadID: m.ThreadID, Part: p, Parts: n}
	if t.keepLegacyID {
		d.LegacyID = m.ID
	}
	if !m.EditedAt.IsZero() {
		d.EditedAt = m.EditedAt.Unix()
	}
	if r := strings.TrimSpace(m.Reactions); r != "" {
		if !json.Valid([]byte(r)) {
			is.add(RuleMessageReactionsInvalid, "reactions %s is not JSON; it goes into CloudCustomData as JSON", shown(m.Reactions))
			return "", false
		}
		d.Reactions = json.RawMessage(r)
	}
	if d.LegacyID == "" && d.ReplyTo == "" && d.ThreadID == "" && d.EditedAt == 0 && d.Reactions == nil && d.Parts == 0 {
		return "", true
	}
	b, err := json.Marshal(d)
	if err != nil { // Reactions is valid JSON: cannot fail
		is.add(RuleMessageReactionsInvalid, "CloudCustomData cannot be encoded: %v", err)
		return "", false
	}
	return string(b), true
}

// fitSize keeps a message's serialized MsgBody plus CloudCustomData within
// 12,000 bytes (spec §6.3, design §7 A5). Over it, policies.oversize reject
// rejects the message; truncate cuts its longest text element at a UTF-8
// boundary and ends it with TruncatedMarker, reported as a repair. It returns
// the body to send, nil when the message is rejected.
func (t *Transformer) fitSize(body []tencentim.MsgElem, cloud string, is *issueList) []tencentim.MsgElem {
	limit := tencentim.MaxMsgBodyBytes - len(cloud)
	n := bodySize(body)
	if n <= limit {
		return body
	}
	tooLarge := func() {
		what := "MsgBody"
		if cloud != "" {
			what = "MsgBody with CloudCustomData"
		}
		is.add(RuleMessageBodyTooLarge, "%s is %d bytes serialized; TIM allows %d (spec §6.3, design §7 A5)", what, n+len(cloud), tencentim.MaxMsgBodyBytes)
	}
	if t.oversize != PolicyTruncate {
		tooLarge()
		return nil
	}
	longest, text := -1, ""
	for i, e := range body {
		if e.MsgType != tencentim.MsgText {
			continue
		}
		var c tencentim.TextContent
		if json.Unmarshal(e.MsgContent, &c) == nil && len(c.Text) > len(text) {
			longest, text = i, c.Text
		}
	}
	if longest < 0 {
		tooLarge()
		return nil
	}
	out := append([]tencentim.MsgElem(nil), body...)
	keep := len(text)
	for {
		// Each cut removes at least the overshoot: escaping makes a byte of text
		// one byte or more of JSON.
		keep -= bodySize(out) - limit
		if keep < 0 {
			tooLarge()
			return nil
		}
		out[longest] = textBody(truncateUTF8(text, keep) + TruncatedMarker)[0]
		if bodySize(out) <= limit {
			break
		}
	}
	is.add(RuleMessageBodyTruncated, "MsgBody was %d bytes serialized; its text of %d bytes was cut to %d bytes and marked %q to fit TIM's %d (policies.oversize: truncate; spec §6.3)", n+len(cloud), len(text), keep, TruncatedMarker, tencentim.MaxMsgBodyBytes)
	return out
}

package transform

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/immigrate/immigrate/extract"
	"github.com/immigrate/immigrate/tencentim"
)

const testAttachments = `[{"kind":"image","url":"https://old.example/up/a.png?v=2","size":10,"width":4,"height":3},` +
	`{"url":"/files/r%C3%A9sum%C3%A9.pdf","file_name":"résumé.pdf","size":20}]`

func cdnTemplate(c *Config) { c.URLTemplate = "https://cdn.example.com/{path}" }

func bodyJSON(t *testing.T, body []tencentim.MsgElem) string {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRichBody checks MsgBody byte for byte: the message's text, then its
// attachments in order, with URLs rewritten by the template, for C2C and for a
// group (one TIMCustomElem describing every file, spec §6.2).
func TestRichBody(t *testing.T) {
	post := func(m *extract.Message) { m.Text, m.Attachments = "caption", testAttachments }
	tests := []struct {
		name string
		mod  func(*Config)
		rec  extract.Message
		want string
	}{
		{
			name: "c2c text and two files, rewritten",
			mod:  cdnTemplate,
			rec:  with(dmsg("1", "u1", "u2", later), post),
			want: `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"caption"}},` +
				`{"MsgType":"TIMImageElem","MsgContent":{"UUID":"` + urlUUID("https://cdn.example.com/up/a.png") + `","ImageFormat":3,"ImageInfoArray":[` +
				`{"Type":1,"Size":10,"Width":4,"Height":3,"URL":"https://cdn.example.com/up/a.png"},` +
				`{"Type":2,"Size":10,"Width":4,"Height":3,"URL":"https://cdn.example.com/up/a.png"},` +
				`{"Type":3,"Size":10,"Width":4,"Height":3,"URL":"https://cdn.example.com/up/a.png"}]}},` +
				`{"MsgType":"TIMFileElem","MsgContent":{"Url":"https://cdn.example.com/files/r%C3%A9sum%C3%A9.pdf","UUID":"` +
				urlUUID("https://cdn.example.com/files/r%C3%A9sum%C3%A9.pdf") + `","FileSize":20,"FileName":"résumé.pdf","Download_Flag":2}}]`,
		},
		{
			name: "group text and two files in one custom element",
			mod:  cdnTemplate,
			rec:  with(gmsg("1", "g1", "u1", later), post),
			want: `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"caption"}},` +
				`{"MsgType":"TIMCustomElem","MsgContent":{"Data":"[{\"type\":\"image\",\"url\":\"https://cdn.example.com/up/a.png\",\"size\":10,\"width\":4,\"height\":3},` +
				`{\"type\":\"file\",\"url\":\"https://cdn.example.com/files/r%C3%A9sum%C3%A9.pdf\",\"name\":\"résumé.pdf\",\"size\":20}]","Desc":"[2 files]","Ext":"immigrate.media"}}]`,
		},
		{
			name: "files without a caption",
			rec: with(dmsg("1", "u1", "u2", later), func(m *extract.Message) {
				m.Text, m.Attachments = "", `[{"kind":"file","url":"https://x/a.pdf"}]`
			}),
			want: `[{"MsgType":"TIMFileElem","MsgContent":{"Url":"https://x/a.pdf","UUID":"` + urlUUID("https://x/a.pdf") + `","FileName":"a.pdf","Download_Flag":2}}]`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := run(t, tc.mod, base(mark(tc.rec))).marked(t)
			if !o.ok {
				t.Fatalf("rejected: %v", rules(o.issues))
			}
			var body []tencentim.MsgElem
			switch p := o.payload.(type) {
			case tencentim.ImportMsgRequest:
				body = p.MsgBody
			case tencentim.GroupMsg:
				body = p.MsgBody
			}
			if got := bodyJSON(t, body); got != tc.want {
				t.Errorf("MsgBody\n got %s\nwant %s", got, tc.want)
			}
			if n := bodySize(body); n != len(bodyJSON(t, body)) {
				t.Errorf("bodySize %d, serialized %d", n, len(bodyJSON(t, body)))
			}
		})
	}
}

func TestCloudCustomData(t *testing.T) {
	rec := with(dmsg("m7", "u1", "u2", later), func(m *extract.Message) {
		m.ReplyTo, m.ThreadID, m.EditedAt, m.Reactions = "m5", "m1", later.Add(hour), ` {"+1":["u2","u3"]} `
	})
	o := run(t, func(c *Config) { c.KeepLegacyID = true }, base(mark(rec))).marked(t)
	if !o.ok {
		t.Fatalf("rejected: %v", rules(o.issues))
	}
	want := `{"legacy_id":"m7","reply_to":"m5","thread_id":"m1","edited_at":` + itoa(int(later.Add(hour).Unix())) + `,"reactions":{"+1":["u2","u3"]}}`
	if got := o.payload.(tencentim.ImportMsgRequest).CloudCustomData; got != want {
		t.Errorf("CloudCustomData\n got %s\nwant %s", got, want)
	}
	// Without any of the fields there is none, so existing payloads are unchanged.
	o = run(t, nil, base(mark(dmsg("m8", "u1", "u2", later)))).marked(t)
	if got := o.payload.(tencentim.ImportMsgRequest).CloudCustomData; got != "" {
		t.Errorf("CloudCustomData of a plain message = %q, want none", got)
	}
}

// TestOversizeTruncate: the text is cut on a rune boundary, marked, and the
// message fits 12,000 bytes with its CloudCustomData.
func TestOversizeTruncate(t *testing.T) {
	text := strings.Repeat("李", 5000) // 15,000 bytes
	rec := with(dmsg("1", "u1", "u2", later), func(m *extract.Message) { m.Text, m.ReplyTo = text, "0" })
	o := run(t, func(c *Config) { c.Oversize = PolicyTruncate }, base(mark(rec))).marked(t)
	if !o.ok || !hasRule(o.issues, RuleMessageBodyTruncated) {
		t.Fatalf("ok %v, issues %v; want a truncation repair", o.ok, rules(o.issues))
	}
	msg := o.payload.(tencentim.ImportMsgRequest)
	n := bodySize(msg.MsgBody) + len(msg.CloudCustomData)
	if n > tencentim.MaxMsgBodyBytes || n < tencentim.MaxMsgBodyBytes-3-len(TruncatedMarker) {
		t.Errorf("body + cloud = %d bytes, want just under %d", n, tencentim.MaxMsgBodyBytes)
	}
	var c tencentim.TextContent
	if err := json.Unmarshal(msg.MsgBody[0].MsgContent, &c); err != nil {
		t.Fatal(err)
	}
	cut, ok := strings.CutSuffix(c.Text, TruncatedMarker)
	if !ok || !utf8.ValidString(cut) || !strings.HasPrefix(text, cut) {
		t.Errorf("truncated text is not a valid prefix with the marker: …%q", c.Text[len(c.Text)-30:])
	}
	// Under the default policy the same message is rejected.
	o = run(t, nil, base(mark(rec))).marked(t)
	if o.ok || !hasRule(o.issues, RuleMessageBodyTooLarge) {
		t.Errorf("default policy: ok %v, issues %v; want message.body.too_large", o.ok, rules(o.issues))
	}
}

func TestRewriteURL(t *testing.T) {
	tests := []struct {
		template, legacy, want string // want "" = rejected
	}{
		{"https://cdn.example.com/{path}", "https://old.example/a/b.png?x=1", "https://cdn.example.com/a/b.png"},
		{"https://cdn.example.com/{path}", "uploads/a b.png", "https://cdn.example.com/uploads/a%20b.png"},
		{"https://cdn.example.com/{path}?{query}", "https://old/a.png?x=1", "https://cdn.example.com/a.png?x=1"},
		{"https://cdn.example.com/m/{message_id}/{file_name}", "https://old/x", "https://cdn.example.com/m/m%2F1/a%20b.pdf"},
		{"{url}", "ftp://old/a.png", ""},
		{"{url}", "https://old/a.png", "https://old/a.png"},
		{"/cdn/{path}", "https://old/a.png", ""},
	}
	for _, tc := range tests {
		tr := newTestTransformer(t, func(c *Config) { c.URLTemplate = tc.template })
		is := newIssues(extract.DirectMessages, extract.Origin{Source: "x"}, "m/1", "")
		m := extract.Message{ID: "m/1", URL: tc.legacy, FileName: "a b.pdf"}
		got, ok := tr.rewriteURL(tc.legacy, &m, "url", &is)
		if tc.want == "" {
			if ok || !hasRule(is.list, RuleMessageURLInvalid) {
				t.Errorf("%s on %s = %q, want a reject", tc.template, tc.legacy, got)
			}
			continue
		}
		if !ok || got != tc.want {
			t.Errorf("%s on %s = %q (%v), want %q", tc.template, tc.legacy, got, rules(is.list), tc.want)
		}
	}
}

package mappings

import (
	"strings"
	"testing"
)

func TestRichMessageKeys(t *testing.T) {
	const doc = `version: 1
source: {csv: {dir: .}}
target: {sandbox: embedded}
entities: {users: {file: users.csv}}
messages:
  url_template: %s
  keep_legacy_id: true
policies: {oversize: %s}
`
	f, err := Parse([]byte(strings.Replace(strings.Replace(doc, "%s", `"https://cdn.example.com/{path}?m={message_id}"`, 1), "%s", "truncate", 1)), "m.yaml", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if f.Messages.URLTemplate != "https://cdn.example.com/{path}?m={message_id}" || !f.Messages.KeepLegacyID || f.Policies.Oversize != OversizeTruncate {
		t.Errorf("parsed %+v, %+v", f.Messages, f.Policies)
	}
	for _, tc := range []struct{ template, oversize, want string }{
		{`"https://cdn/{pth}"`, "reject", `line 6: messages.url_template: unknown placeholder {pth}`},
		{`"https://cdn/{path"`, "reject", `line 6: messages.url_template: a '{' without its '}'`},
		{`"https://cdn/{path}"`, "cut", `policies.oversize: "cut" is not one of`},
	} {
		_, err := Parse([]byte(strings.Replace(strings.Replace(doc, "%s", tc.template, 1), "%s", tc.oversize, 1)), "m.yaml", envOf(nil))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s / %s: err %v, want %q", tc.template, tc.oversize, err, tc.want)
		}
	}
	if f, err := Parse([]byte(strings.Replace(strings.Replace(doc, "%s", `"https://cdn/{path}"`, 1), "%s", "split", 1)), "m.yaml", envOf(nil)); err != nil || f.Policies.Oversize != OversizeSplit {
		t.Errorf("oversize split = %q (%v), want split", f.Policies.Oversize, err)
	}
	if f, err := Parse([]byte("version: 1\nsource: {csv: {dir: .}}\ntarget: {sandbox: embedded}\nentities: {users: {file: users.csv}}\n"), "m.yaml", envOf(nil)); err != nil || f.Policies.Oversize != OversizeReject {
		t.Errorf("default oversize = %q (%v), want reject", f.Policies.Oversize, err)
	}
}

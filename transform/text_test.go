package transform

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/immigrate/immigrate/tencentim"
)

func TestTruncateUTF8(t *testing.T) {
	tests := []struct {
		s    string
		max  int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 5, "hello"},
		{"hello", 3, "hel"},
		{"héllo", 2, "h"}, // é is 2 bytes and would straddle
		{"héllo", 3, "hé"},
		{"群群群", 7, "群群"},
		{"群群群", 8, "群群"},
		{"群群群", 9, "群群群"},
		{"a😀b", 4, "a"},
		{"a😀b", 5, "a😀"},
		{"a\xffb", 2, "a\xff"}, // an invalid byte counts as one
		{"abc", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.s, func(t *testing.T) {
			if got := truncateUTF8(tc.s, tc.max); got != tc.want {
				t.Errorf("truncateUTF8(%q, %d) = %q, want %q", tc.s, tc.max, got, tc.want)
			}
		})
	}
}

// TestTruncateUTF8NeverSplitsARune cuts mixed-width text at every length.
func TestTruncateUTF8NeverSplitsARune(t *testing.T) {
	s := strings.Repeat("aé群😀", 20)
	for max := 0; max <= len(s); max++ {
		got := truncateUTF8(s, max)
		if len(got) > max {
			t.Fatalf("max %d: %d bytes", max, len(got))
		}
		if !utf8.ValidString(got) {
			t.Fatalf("max %d: %q is not valid UTF-8", max, got)
		}
		if !strings.HasPrefix(s, got) {
			t.Fatalf("max %d: not a prefix", max)
		}
		// It is the longest such prefix: one more rune would not fit.
		if rest := s[len(got):]; rest != "" {
			_, size := utf8.DecodeRuneInString(rest)
			if len(got)+size <= max {
				t.Fatalf("max %d: %q stops early", max, got)
			}
		}
	}
}

var jsonStrings = []string{
	"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr", "\b\f\x00\x01\x1f\x7f",
	"<html> & </html>", "é 群 😀", "line\u2028sep\u2029para", "bad \xff\xfe utf8", "\xe4\xb8", "a\x80b",
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonStrings {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
		if n := jsonStringLen(s); n != len(want) {
			t.Errorf("jsonStringLen(%q) = %d, want %d", s, n, len(want))
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
		if n := jsonStringLen(s); n != len(want) {
			t.Errorf("jsonStringLen(%q) = %d, want %d", s, n, len(want))
		}
	})
}

func TestTextBodyMatchesNewElem(t *testing.T) {
	for _, s := range jsonStrings {
		want, err := tencentim.NewElem(tencentim.MsgText, tencentim.TextContent{Text: s})
		if err != nil {
			t.Fatal(err)
		}
		got := textBody(s)
		if len(got) != 1 || got[0].MsgType != want.MsgType || string(got[0].MsgContent) != string(want.MsgContent) {
			t.Errorf("textBody(%q) = %s, want %s", s, got[0].MsgContent, want.MsgContent)
		}
	}
}

func TestBodySize(t *testing.T) {
	img, _ := tencentim.NewElem(tencentim.MsgImage, tencentim.ImageContent{UUID: "u", ImageInfoArray: []tencentim.ImageInfo{{Type: 1, URL: "<x>"}}})
	bodies := [][]tencentim.MsgElem{
		textBody("hello <world>"),
		{textBody("a")[0], img},
		{img, img, img},
	}
	for i, body := range bodies {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		if got := bodySize(body); got != len(b) {
			t.Errorf("body %d: bodySize = %d, json.Marshal gives %d bytes", i, got, len(b))
		}
	}
}

func TestShown(t *testing.T) {
	if got := shown("abc"); got != `"abc"` {
		t.Errorf("shown(abc) = %s", got)
	}
	long := strings.Repeat("群", 100)
	got := shown(long)
	if len(got) > 80 || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Errorf("shown(long) = %s", got)
	}
}

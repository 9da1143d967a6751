package sandbox

import (
	"reflect"
	"testing"
)

// The decoding helpers give the missing code for an absent or null member, the
// type code for a member of the wrong JSON type, and never panic (spec §14 item 9).
func TestFieldAccessors(t *testing.T) {
	const missingCode, typeCode = 1, 2
	f, ok := parseObject([]byte(`{
		"s": "x", "empty": "", "n": 42, "neg": -7, "big": 4294967296, "frac": 1.5, "intf": 3.0, "exp": 1e3,
		"huge": 1e300, "b": true, "nul": null, "a": [1, "y"], "sa": ["p", "q"], "o": {"k": "v"}, "oa": [{"k": 1}, {}],
		"mixed": [{"k": 1}, 5]
	}`))
	if !ok {
		t.Fatal("parseObject refused a valid object")
	}
	type result struct {
		v    any
		code int
	}
	code := func(e *apiError) int {
		if e == nil {
			return 0
		}
		return e.Code
	}
	tests := []struct {
		name     string
		got      func(required bool) result
		required result
		optional result // the same member read as optional
	}{
		{"str present", func(r bool) result { v, e := f.str("s", r, missingCode, typeCode); return result{v, code(e)} }, result{"x", 0}, result{"x", 0}},
		{"str empty", func(r bool) result { v, e := f.str("empty", r, missingCode, typeCode); return result{v, code(e)} }, result{"", 0}, result{"", 0}},
		{"str absent", func(r bool) result { v, e := f.str("zz", r, missingCode, typeCode); return result{v, code(e)} }, result{"", 1}, result{"", 0}},
		{"str null", func(r bool) result { v, e := f.str("nul", r, missingCode, typeCode); return result{v, code(e)} }, result{"", 1}, result{"", 0}},
		{"str number", func(r bool) result { v, e := f.str("n", r, missingCode, typeCode); return result{v, code(e)} }, result{"", 2}, result{"", 2}},
		{"int64", func(r bool) result { v, e := f.int64("n", r, missingCode, typeCode); return result{v, code(e)} }, result{int64(42), 0}, result{int64(42), 0}},
		{"int64 negative", func(r bool) result { v, e := f.int64("neg", r, missingCode, typeCode); return result{v, code(e)} }, result{int64(-7), 0}, result{int64(-7), 0}},
		{"int64 integral float", func(r bool) result { v, e := f.int64("intf", r, missingCode, typeCode); return result{v, code(e)} }, result{int64(3), 0}, result{int64(3), 0}},
		{"int64 exponent", func(r bool) result { v, e := f.int64("exp", r, missingCode, typeCode); return result{v, code(e)} }, result{int64(1000), 0}, result{int64(1000), 0}},
		{"int64 fraction", func(r bool) result { v, e := f.int64("frac", r, missingCode, typeCode); return result{v, code(e)} }, result{int64(0), 2}, result{int64(0), 2}},
		{"int64 out of range", func(r bool) result { v, e := f.int64("huge", r, missingCode, typeCode); return result{v, code(e)} }, result{int64(0), 2}, result{int64(0), 2}},
		{"int64 string", func(r bool) result { v, e := f.int64("s", r, missingCode, typeCode); return result{v, code(e)} }, result{int64(0), 2}, result{int64(0), 2}},
		{"int64 bool", func(r bool) result { v, e := f.int64("b", r, missingCode, typeCode); return result{v, code(e)} }, result{int64(0), 2}, result{int64(0), 2}},
		{"int64 absent", func(r bool) result { v, e := f.int64("zz", r, missingCode, typeCode); return result{v, code(e)} }, result{int64(0), 1}, result{int64(0), 0}},
		{"uint32", func(r bool) result { v, e := f.uint32("n", r, missingCode, typeCode); return result{v, code(e)} }, result{uint32(42), 0}, result{uint32(42), 0}},
		{"uint32 negative", func(r bool) result { v, e := f.uint32("neg", r, missingCode, typeCode); return result{v, code(e)} }, result{uint32(0), 2}, result{uint32(0), 2}},
		{"uint32 2^32", func(r bool) result { v, e := f.uint32("big", r, missingCode, typeCode); return result{v, code(e)} }, result{uint32(0), 2}, result{uint32(0), 2}},
		{"uint64 2^32", func(r bool) result { v, e := f.uint64("big", r, missingCode, typeCode); return result{v, code(e)} }, result{uint64(1 << 32), 0}, result{uint64(1 << 32), 0}},
		{"uint64 negative", func(r bool) result { v, e := f.uint64("neg", r, missingCode, typeCode); return result{v, code(e)} }, result{uint64(0), 2}, result{uint64(0), 2}},
		{"number fraction", func(r bool) result { v, e := f.number("frac", r, missingCode, typeCode); return result{v, code(e)} }, result{1.5, 0}, result{1.5, 0}},
		{"number string", func(r bool) result { v, e := f.number("s", r, missingCode, typeCode); return result{v, code(e)} }, result{0.0, 2}, result{0.0, 2}},
		{"array", func(r bool) result { v, e := f.array("a", r, missingCode, typeCode); return result{len(v), code(e)} }, result{2, 0}, result{2, 0}},
		{"array of object", func(r bool) result { v, e := f.array("o", r, missingCode, typeCode); return result{len(v), code(e)} }, result{0, 2}, result{0, 2}},
		{"array absent", func(r bool) result { v, e := f.array("zz", r, missingCode, typeCode); return result{len(v), code(e)} }, result{0, 1}, result{0, 0}},
		{"strings", func(r bool) result { v, e := f.strings("sa", r, missingCode, typeCode); return result{v, code(e)} }, result{[]string{"p", "q"}, 0}, result{[]string{"p", "q"}, 0}},
		{"strings mixed", func(r bool) result { v, e := f.strings("a", r, missingCode, typeCode); return result{v, code(e)} }, result{[]string(nil), 2}, result{[]string(nil), 2}},
		{"object", func(r bool) result { v, e := f.object("o", r, missingCode, typeCode); return result{len(v), code(e)} }, result{1, 0}, result{1, 0}},
		{"object of array", func(r bool) result { v, e := f.object("a", r, missingCode, typeCode); return result{len(v), code(e)} }, result{0, 2}, result{0, 2}},
		{"objects", func(r bool) result { v, e := f.objects("oa", r, missingCode, typeCode); return result{len(v), code(e)} }, result{2, 0}, result{2, 0}},
		{"objects mixed", func(r bool) result {
			v, e := f.objects("mixed", r, missingCode, typeCode)
			return result{len(v), code(e)}
		}, result{0, 2}, result{0, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.got(true); !reflect.DeepEqual(got, tc.required) {
				t.Errorf("required: got %#v, want %#v", got, tc.required)
			}
			if got := tc.got(false); !reflect.DeepEqual(got, tc.optional) {
				t.Errorf("optional: got %#v, want %#v", got, tc.optional)
			}
		})
	}
}

func TestParseObject(t *testing.T) {
	tests := []struct {
		body string
		ok   bool
	}{
		{`{}`, true},
		{` {"a":1} `, true},
		{`{"a":1} {}`, false},
		{`[]`, false},
		{`null`, false},
		{`"{}"`, false},
		{`{"a":}`, false},
		{``, false},
	}
	for _, tc := range tests {
		t.Run(tc.body, func(t *testing.T) {
			f, ok := parseObject([]byte(tc.body))
			if ok != tc.ok || (ok && f == nil) {
				t.Errorf("parseObject(%q) = %v, %v; want ok %v and a non-nil map", tc.body, f, ok, tc.ok)
			}
		})
	}
}

func TestCompactJSON(t *testing.T) {
	got := compactJSON([]byte("[ {\"MsgType\" : \"TIMTextElem\",\n \"MsgContent\": {\"Text\": \"a b\"}} ]"))
	if want := `[{"MsgType":"TIMTextElem","MsgContent":{"Text":"a b"}}]`; string(got) != want {
		t.Errorf("compactJSON = %s, want %s", got, want)
	}
}

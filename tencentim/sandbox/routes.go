package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/immigrate/immigrate/tencentim"
)

// call is one authenticated request that reached a command handler: the gateway
// (gateway.go) has already checked method, path, query parameters, UserSig, rate
// limits and faults, and that the body is a JSON object.
type call struct {
	cmd    tencentim.Command
	raw    []byte    // the request body as sent
	fields           // the body's top-level members
	now    time.Time // the server clock at arrival

	// draws are the random numbers the handler drew (see draw): recorded when
	// the call is served, given back when the journal replays it.
	draws     []uint64
	replaying bool
	drawn     int
}

// draw returns a random number for the handler from src, recording it for the
// journal; a replayed call gets the numbers it drew when it was served, in order,
// so that it assigns the same IDs.
func (c *call) draw(src func() uint64) uint64 {
	if !c.replaying {
		v := src()
		c.draws = append(c.draws, v)
		return v
	}
	c.drawn++
	if c.drawn > len(c.draws) {
		return src() // replay notices the count differs and fails
	}
	return c.draws[c.drawn-1]
}

// callSource is a rand.Source that draws through a call.
type callSource struct {
	c   *call
	src func() uint64
}

func (cs callSource) Uint64() uint64 { return cs.c.draw(cs.src) }

// handler serves one command while holding the Server's state lock (s.mu). It
// returns the response value to encode (a tencentim *Response type whose Envelope
// the gateway fills in when ErrorCode is 0), or an *apiError for a request-level
// failure. Handlers never panic on bad input: every malformed field is an apiError
// with the documented code.
type handler func(s *Server, c *call) (any, *apiError)

// apiError is a request-level failure: the response is the envelope with
// ActionStatus FAIL, this code and this info (spec §1.4).
type apiError struct {
	Code int
	Info string
}

func errf(code int, info string) *apiError { return &apiError{Code: code, Info: info} }

// Common error codes (spec §1.6) used by every command.
const (
	codeHTTPParse      = 60002
	codeJSONParse      = 60003
	codeBadSDKAppID    = 60006
	codeRateLimited    = 60007
	codeBadResource    = 60009
	codeNotAdmin       = 60010
	codeNoSDKAppID     = 60012
	codeAccountType    = 60015 // "accounts must be strings" (checklist 9)
	codeInternalServer = 70500
)

// fields is a JSON object's members, decoded one at a time so that a member of the
// wrong JSON type is answered with the API's documented code instead of a generic
// decode failure (spec §14 item 9), and never with a panic.
//
// Every accessor treats a member whose value is null like an absent one. An absent
// required member gives missingCode; a present member of the wrong type gives
// typeCode. An absent optional member gives the zero value and no error; use has to
// tell absence from zero.
type fields map[string]json.RawMessage

// parseObject decodes raw as a JSON object; ok is false for anything else (an
// array, a string, malformed JSON, trailing garbage).
func parseObject(raw []byte) (f fields, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, false
	}
	if f == nil {
		f = fields{}
	}
	return f, true
}

// value returns the member's raw value, with ok false when it is absent or null.
func (f fields) value(name string) (json.RawMessage, bool) {
	v, ok := f[name]
	if !ok {
		return nil, false
	}
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return nil, false
	}
	return v, true
}

// has reports whether the member is present and not null.
func (f fields) has(name string) bool {
	_, ok := f.value(name)
	return ok
}

func missing(code int, name string) *apiError {
	return errf(code, name+" is missing")
}

func wrongType(code int, name, want string) *apiError {
	return errf(code, name+" must be "+want)
}

// str returns a string member.
func (f fields) str(name string, required bool, missingCode, typeCode int) (string, *apiError) {
	v, ok := f.value(name)
	if !ok {
		if required {
			return "", missing(missingCode, name)
		}
		return "", nil
	}
	s, ok := asString(v)
	if !ok {
		return "", wrongType(typeCode, name, "a string")
	}
	return s, nil
}

// int64 returns an integer member. A number with a fraction, a string or any other
// JSON type is a type error.
func (f fields) int64(name string, required bool, missingCode, typeCode int) (int64, *apiError) {
	v, ok := f.value(name)
	if !ok {
		if required {
			return 0, missing(missingCode, name)
		}
		return 0, nil
	}
	n, ok := asInt64(v)
	if !ok {
		return 0, wrongType(typeCode, name, "an integer")
	}
	return n, nil
}

// uint32 returns an integer member in [0, 2^32-1] (MsgSeq, MsgRandom, Random).
func (f fields) uint32(name string, required bool, missingCode, typeCode int) (uint32, *apiError) {
	n, err := f.int64(name, required, missingCode, typeCode)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > math.MaxUint32 {
		return 0, wrongType(typeCode, name, "a 32-bit unsigned integer")
	}
	return uint32(n), nil
}

// uint64 returns a non-negative integer member (group MsgSeq, cursors).
func (f fields) uint64(name string, required bool, missingCode, typeCode int) (uint64, *apiError) {
	v, ok := f.value(name)
	if !ok {
		if required {
			return 0, missing(missingCode, name)
		}
		return 0, nil
	}
	n, ok := asUint64(v)
	if !ok {
		return 0, wrongType(typeCode, name, "a non-negative integer")
	}
	return n, nil
}

// number returns a numeric member, fractions allowed (Latitude, Longitude).
func (f fields) number(name string, required bool, missingCode, typeCode int) (float64, *apiError) {
	v, ok := f.value(name)
	if !ok {
		if required {
			return 0, missing(missingCode, name)
		}
		return 0, nil
	}
	x, ok := asNumber(v)
	if !ok {
		return 0, wrongType(typeCode, name, "a number")
	}
	return x, nil
}

// array returns an array member's raw elements.
func (f fields) array(name string, required bool, missingCode, typeCode int) ([]json.RawMessage, *apiError) {
	v, ok := f.value(name)
	if !ok {
		if required {
			return nil, missing(missingCode, name)
		}
		return nil, nil
	}
	a, ok := asArray(v)
	if !ok {
		return nil, wrongType(typeCode, name, "an array")
	}
	return a, nil
}

// strings returns an array-of-strings member; a non-string element is a type error.
func (f fields) strings(name string, required bool, missingCode, typeCode int) ([]string, *apiError) {
	a, err := f.array(name, required, missingCode, typeCode)
	if err != nil || a == nil {
		return nil, err
	}
	out := make([]string, len(a))
	for i, e := range a {
		s, ok := asString(e)
		if !ok {
			return nil, wrongType(typeCode, fmt.Sprintf("%s[%d]", name, i), "a string")
		}
		out[i] = s
	}
	return out, nil
}

// object returns an object member.
func (f fields) object(name string, required bool, missingCode, typeCode int) (fields, *apiError) {
	v, ok := f.value(name)
	if !ok {
		if required {
			return nil, missing(missingCode, name)
		}
		return nil, nil
	}
	o, ok := asObject(v)
	if !ok {
		return nil, wrongType(typeCode, name, "an object")
	}
	return o, nil
}

// objects returns an array-of-objects member; a non-object element is a type error.
func (f fields) objects(name string, required bool, missingCode, typeCode int) ([]fields, *apiError) {
	a, err := f.array(name, required, missingCode, typeCode)
	if err != nil || a == nil {
		return nil, err
	}
	out := make([]fields, len(a))
	for i, e := range a {
		o, ok := asObject(e)
		if !ok {
			return nil, wrongType(typeCode, fmt.Sprintf("%s[%d]", name, i), "an object")
		}
		out[i] = o
	}
	return out, nil
}

// asString decodes a JSON string.
func asString(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || v[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

// isNumberLiteral reports whether v starts like a JSON number.
func isNumberLiteral(v json.RawMessage) bool {
	return len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))
}

// asInt64 decodes a JSON number that is an integer in int64 range. Integral forms
// with a fraction or exponent ("5.0", "1e3") are accepted, as a JSON library reading
// into an integer would.
func asInt64(v json.RawMessage) (int64, bool) {
	v = bytes.TrimSpace(v)
	if !isNumberLiteral(v) {
		return 0, false
	}
	if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		return n, true
	}
	x, err := strconv.ParseFloat(string(v), 64)
	if err != nil || x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
		return 0, false
	}
	return int64(x), true
}

// asUint64 decodes a JSON number that is a non-negative integer in uint64 range.
func asUint64(v json.RawMessage) (uint64, bool) {
	v = bytes.TrimSpace(v)
	if !isNumberLiteral(v) {
		return 0, false
	}
	if n, err := strconv.ParseUint(string(v), 10, 64); err == nil {
		return n, true
	}
	x, err := strconv.ParseFloat(string(v), 64)
	if err != nil || x != math.Trunc(x) || x < 0 || x >= math.MaxUint64 {
		return 0, false
	}
	return uint64(x), true
}

// asNumber decodes any JSON number.
func asNumber(v json.RawMessage) (float64, bool) {
	v = bytes.TrimSpace(v)
	if !isNumberLiteral(v) {
		return 0, false
	}
	x, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return 0, false
	}
	return x, true
}

// asArray decodes a JSON array into its raw elements.
func asArray(v json.RawMessage) ([]json.RawMessage, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || v[0] != '[' {
		return nil, false
	}
	var a []json.RawMessage
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, false
	}
	if a == nil {
		a = []json.RawMessage{}
	}
	return a, true
}

// asObject decodes a JSON object.
func asObject(v json.RawMessage) (fields, bool) {
	return parseObject(v)
}

// compactJSON returns v without insignificant whitespace, so that stored message
// bodies compare byte for byte whatever the client's formatting.
func compactJSON(v json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return append(json.RawMessage(nil), v...)
	}
	return b.Bytes()
}

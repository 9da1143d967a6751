package sandbox

import (
	"encoding/json"
	"time"

	"github.com/immigrate/immigrate/tencentim"
)

// call is one authenticated request that reached a command handler: the gateway
// (server.go) has already checked method, path, query parameters, UserSig, rate
// limits and faults, and that the body is a JSON object.
type call struct {
	cmd    tencentim.Command
	raw    []byte                     // the request body as sent
	fields map[string]json.RawMessage // the body's top-level fields
	now    time.Time                  // the server clock at arrival
}

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

package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/immigrate/immigrate/tencentim"
)

// The gateway does, for every /v4 request and in this order: method (POST only,
// item 2), path (item 3), query parameters (items 4, 6, 8), UserSig (item 7,
// design §7), rate limit (item 10), fault injection (item 11), body (items 5, 32),
// then the command handler under the state lock. Whatever happens the answer is
// HTTP 200 with the JSON envelope (item 1), except for the injected HTTP 502 and
// connection resets.

// Paths of the loopback tooling endpoints, outside the vendor's /v4 namespace.
const (
	statePath = "/_sandbox/state"
	resetPath = "/_sandbox/reset"
)

// Body size limits. The vendor does not state a general one; 1 MiB is far above
// any valid import request. importmsg's whole JSON packet is limited to 12 KB
// (93000, spec §6.3, design §7 A5); import_group_msg's to 12 KB (10020, spec §8.9).
const maxBodyBytes = 1 << 20

var bodyLimits = map[tencentim.Command]struct{ max, code int }{
	tencentim.CmdImportMsg:      {tencentim.MaxC2CRequestBytes, 93000},
	tencentim.CmdImportGroupMsg: {tencentim.MaxC2CRequestBytes, 10020},
}

// UserSig failures (design §7 "UserSig" row, spec §1.8 supplement).
const (
	codeSigExpired    = 70001
	codeSigMalformed  = 70003
	codeSigMismatch   = 70009
	codeSigIdentifier = 70013
	codeSigSDKAppID   = 70014
)

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v) // resetConnection's deliberate abort
			}
			// Last resort: a handler bug must still answer the documented envelope.
			writeEnvelope(w, tencentim.Command{}, errf(codeInternalServer, "internal error"))
		}
	}()
	switch r.URL.Path {
	case statePath:
		s.serveState(w, r)
		return
	case resetPath:
		s.serveReset(w, r)
		return
	}
	s.serveAPI(w, r)
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	cmd, aerr := s.route(r)
	if aerr == nil {
		aerr = s.authenticate(r.URL.RawQuery)
	}
	if aerr == nil && !s.limits.allow(cmd, s.now()) {
		aerr = errf(codeRateLimited, "REST API call frequency limit exceeded")
	}
	var drop bool
	if aerr == nil {
		if f := s.faults.pick(cmd, s.randFloat64); f != nil {
			switch f.Kind {
			case FaultCode:
				aerr = errf(f.Code, "injected fault")
			case FaultHTTP502:
				s.sleepLatency(r.Context())
				http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
				return
			case FaultReset:
				s.sleepLatency(r.Context())
				resetConnection(w)
				return
			case FaultDropResponse:
				drop = true
			}
		}
	}
	var resp any
	if aerr == nil {
		var f fields
		var raw []byte
		raw, f, aerr = readBody(cmd, r.Body)
		if aerr == nil {
			resp, aerr = s.dispatch(cmd, raw, f)
		}
	}
	s.sleepLatency(r.Context())
	if drop {
		// The request was applied; the caller never learns it (item 11, the case
		// resume logic must survive).
		resetConnection(w)
		return
	}
	if aerr != nil {
		writeEnvelope(w, cmd, aerr)
		return
	}
	writeResponse(w, cmd, resp)
}

// route checks the method and resolves /v4/{service}/{command}.
func (s *Server) route(r *http.Request) (tencentim.Command, *apiError) {
	if r.Method != http.MethodPost {
		return tencentim.Command{}, errf(codeHTTPParse, "HTTP parse error: only POST is supported")
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v4/")
	if !ok {
		return tencentim.Command{}, errf(codeBadResource, "request resource error: unknown path")
	}
	svc, name, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(name, "/") {
		return tencentim.Command{}, errf(codeBadResource, "request resource error: unknown path")
	}
	cmd := tencentim.Command{Service: svc, Name: name}
	if _, ok := s.routes[cmd]; !ok {
		return tencentim.Command{}, errf(codeBadResource, "request resource error: unknown command")
	}
	return cmd, nil
}

// authenticate checks the query parameters of spec §1.1. Names and values are
// case-sensitive (item 8): "SdkAppId" is not "sdkappid". random and contenttype are
// not checked: the vendor does not document an error for them.
func (s *Server) authenticate(rawQuery string) *apiError {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return errf(codeHTTPParse, "HTTP parse error: malformed query string")
	}
	appID := q.Get("sdkappid")
	if appID == "" {
		return errf(codeNoSDKAppID, "sdkappid is missing from the URL")
	}
	if n, err := strconv.ParseInt(appID, 10, 64); err != nil || n != s.cfg.SDKAppID {
		return errf(codeBadSDKAppID, "invalid sdkappid")
	}
	id := q.Get("identifier")
	if !slices.Contains(s.cfg.Admins, id) {
		return errf(codeNotAdmin, "the request requires app admin permissions")
	}
	err = s.verifySig(id, q.Get("usersig"), s.now())
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tencentim.ErrSigExpired):
		return errf(codeSigExpired, "usersig expired")
	case errors.Is(err, tencentim.ErrSigSDKAppID):
		return errf(codeSigSDKAppID, "sdkappid in the request differs from the one in the usersig")
	case errors.Is(err, tencentim.ErrSigIdentifier):
		return errf(codeSigIdentifier, "identifier in the request differs from the one in the usersig")
	case errors.Is(err, tencentim.ErrSigSignature):
		return errf(codeSigMismatch, "usersig verification failed")
	default:
		return errf(codeSigMalformed, "usersig cannot be decoded")
	}
}

// verifySig checks a UserSig as tencentim.VerifyUserSig does, through the cache of
// signatures already verified: a client signs one admin UserSig and sends it on
// every call (spec §1.1), and inflating and HMAC-ing it each time cost the
// sandbox about an eighth of its CPU. Only a successful verification is cached,
// keyed by identifier and signature; the server's sdkappid and key are fixed, so a
// hit can change its answer only by expiring, which is checked on every hit
// against the server clock, exactly as VerifyUserSig would.
func (s *Server) verifySig(identifier, sig string, now time.Time) error {
	if expire, ok := s.sigs.lookup(identifier, sig); ok {
		if now.Unix() > expire {
			s.sigs.forget(identifier, sig)
			return tencentim.ErrSigExpired
		}
		return nil
	}
	if err := tencentim.VerifyUserSig(s.cfg.SDKAppID, s.cfg.SecretKey, identifier, sig, now); err != nil {
		return err
	}
	claims, _, err := tencentim.DecodeUserSig(sig)
	if err != nil {
		return err // not reached: the signature just decoded
	}
	s.sigs.add(identifier, sig, claims.Time.Unix()+int64(claims.Expire/time.Second))
	return nil
}

// sigCacheMax bounds the verified UserSigs kept. A migration uses one admin
// UserSig at a time (renewed daily); the bound only matters against a client that
// signs a fresh UserSig per call, which then costs what it cost without a cache.
const sigCacheMax = 256

// sigCache maps verified (identifier, UserSig) pairs to their expiry in Unix
// seconds (TLS.time + TLS.expire). The zero value is ready; it is safe for
// concurrent use, and lookups, the common case, share a read lock.
type sigCache struct {
	mu sync.RWMutex
	m  map[sigKey]int64
}

type sigKey struct{ identifier, sig string }

func (c *sigCache) lookup(identifier, sig string) (int64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	exp, ok := c.m[sigKey{identifier, sig}]
	return exp, ok
}

// add remembers a verified signature. When the cache is full, one arbitrary
// entry makes room: map order is random, so no client can pin its entries.
func (c *sigCache) add(identifier, sig string, expire int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[sigKey]int64)
	}
	k := sigKey{identifier, sig}
	if _, ok := c.m[k]; !ok && len(c.m) >= sigCacheMax {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = expire
}

func (c *sigCache) forget(identifier, sig string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, sigKey{identifier, sig})
}

func (c *sigCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// parseErrorCode is the code for an empty or malformed body: 90001 for the openim
// commands, 60003 elsewhere (item 5, REC).
func parseErrorCode(cmd tencentim.Command) int {
	if cmd.Service == "openim" {
		return 90001
	}
	return codeJSONParse
}

// readBody reads at most the command's size limit and decodes a JSON object.
func readBody(cmd tencentim.Command, body io.Reader) ([]byte, fields, *apiError) {
	limit, tooBig := maxBodyBytes, codeJSONParse
	if l, ok := bodyLimits[cmd]; ok {
		limit, tooBig = l.max, l.code
	}
	raw, err := io.ReadAll(io.LimitReader(body, int64(limit)+1))
	if err != nil {
		return nil, nil, errf(parseErrorCode(cmd), "cannot read the request body")
	}
	if len(raw) > limit {
		return nil, nil, errf(tooBig, "the JSON packet exceeds the maximum size of "+strconv.Itoa(limit)+" bytes")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		// Spec §1.3: the body must not be empty; send {} when an API takes no fields.
		return nil, nil, errf(parseErrorCode(cmd), "empty request body")
	}
	f, ok := parseObject(raw)
	if !ok {
		return nil, nil, errf(parseErrorCode(cmd), "the request body is not a JSON object")
	}
	return raw, f, nil
}

// dispatch runs the command's handler under the state lock. On a durable Server
// a state-changing call is journaled under the lock, so records are in the order
// of application, and is on disk before dispatch returns, so before anyone can
// be answered — the dropped answer of the "drop" fault included. Failed calls are
// journaled too: replay does not have to know what a handler changes before it
// fails.
func (s *Server) dispatch(cmd tencentim.Command, raw []byte, f fields) (any, *apiError) {
	h := s.routes[cmd]
	c := &call{cmd: cmd, raw: raw, fields: f, now: s.now()}
	journaled := s.journal != nil && !readOnlyCommands[cmd]
	s.mu.Lock()
	if journaled {
		if err := s.journal.failed(); err != nil {
			s.mu.Unlock()
			return nil, errf(codeInternalServer, "sandbox: "+err.Error())
		}
	}
	resp, aerr := h(s, c)
	var seq uint64
	var err error
	if journaled {
		seq, err = s.journalCall(c)
	}
	s.mu.Unlock()
	if err == nil {
		err = s.durable(seq)
	}
	if err != nil {
		return nil, errf(codeInternalServer, "sandbox: "+err.Error())
	}
	return resp, aerr
}

// sleepLatency waits the configured latency plus jitter, outside the state lock,
// or until the client goes away.
func (s *Server) sleepLatency(ctx context.Context) {
	d := s.cfg.Latency
	if s.cfg.LatencyJitter > 0 {
		d += time.Duration(s.randFloat64() * float64(s.cfg.LatencyJitter))
	}
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// resetConnection closes the client connection without an answer. On TCP it sends
// a reset (linger 0) so the client sees an error at once; where hijacking is
// impossible (HTTP/2) the handler aborts, which resets the stream.
func resetConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// hasErrorDisplay reports whether the command's service returns ErrorDisplay in
// its envelope: profile, relationship chain and recent contacts (spec §1.4).
func hasErrorDisplay(cmd tencentim.Command) bool {
	switch cmd.Service {
	case "profile", "sns", "recentcontact":
		return true
	}
	return false
}

// failEnvelope is a request-level failure. ErrorDisplay is a pointer so that it is
// present (as "") exactly for the services that return it.
type failEnvelope struct {
	ActionStatus string  `json:"ActionStatus"`
	ErrorInfo    string  `json:"ErrorInfo"`
	ErrorCode    int     `json:"ErrorCode"`
	ErrorDisplay *string `json:"ErrorDisplay,omitempty"`
}

func writeEnvelope(w http.ResponseWriter, cmd tencentim.Command, e *apiError) {
	env := failEnvelope{ActionStatus: tencentim.ActionFail, ErrorInfo: e.Info, ErrorCode: e.Code}
	if hasErrorDisplay(cmd) {
		env.ErrorDisplay = new(string)
	}
	writeJSON(w, http.StatusOK, env)
}

var envelopeType = reflect.TypeFor[tencentim.Envelope]()

// writeResponse fills in the success envelope of a handler's response value (a
// pointer to a tencentim *Response struct embedding Envelope) and writes it.
func writeResponse(w http.ResponseWriter, cmd tencentim.Command, resp any) {
	if resp == nil {
		resp = &tencentim.Envelope{}
	}
	if v := reflect.ValueOf(resp); v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
		var env reflect.Value
		if v.Elem().Type() == envelopeType {
			env = v.Elem()
		} else if f := v.Elem().FieldByName("Envelope"); f.IsValid() && f.Type() == envelopeType {
			env = f
		}
		if env.IsValid() {
			e := env.Addr().Interface().(*tencentim.Envelope)
			if e.ErrorCode == 0 {
				e.ActionStatus, e.ErrorInfo = tencentim.ActionOK, ""
			} else if e.ActionStatus == "" {
				e.ActionStatus = tencentim.ActionFail
			}
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(failEnvelope{ActionStatus: tencentim.ActionFail, ErrorInfo: "internal error", ErrorCode: codeInternalServer})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

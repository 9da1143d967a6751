package tencentim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/immigrate/immigrate/secret"
)

// Defaults of Config.
const (
	// DefaultTimeout is the per-request timeout. The backend gives up after 3 s
	// (spec §1.5), so the client must wait longer than that.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxConns is the size of the connection pool per domain (spec §1.5:
	// persistent connections and a pool).
	DefaultMaxConns = 64
	// DefaultUserSigTTL is the validity of the admin UserSig the client signs. The
	// vendor recommends at least 24 h (spec §1.8 supplement, 70001).
	DefaultUserSigTTL = 24 * time.Hour

	backendTimeout = 3 * time.Second // spec §1.5
	// maxResponseBytes bounds what the client reads; the vendor caps group reads at
	// 1 MB (10018), so anything near this is not a TIM answer.
	maxResponseBytes = 32 << 20
)

// Config configures a Client. SDKAppID, SecretKey, Admin and one of Region or
// Endpoint are required; the rest has defaults.
type Config struct {
	SDKAppID  int64
	SecretKey secret.Secret
	Admin     string // admin identifier used in every call (spec §1.1)
	// Region is a region name of spec §1.2 ("china", "singapore", "seoul",
	// "frankfurt", "mumbai", "siliconvalley", "jakarta", "tokyo"), case-insensitive,
	// with aliases (see LookupRegion).
	Region string
	// Endpoint is an explicit base URL, e.g. "http://127.0.0.1:8080" or
	// "https://console.tim.qq.com". It overrides Region and has no backup domain.
	// Plain http is allowed only to loopback hosts (design §5).
	Endpoint   string
	Timeout    time.Duration     // per request; default DefaultTimeout
	MaxConns   int               // connection pool size per domain; default DefaultMaxConns
	UserSigTTL time.Duration     // admin UserSig validity; default DefaultUserSigTTL
	Now        func() time.Time  // clock for UserSig; nil means time.Now
	Transport  http.RoundTripper // optional, for tests
}

// Client calls the Tencent Cloud Chat REST API as the app admin. It is safe for
// concurrent use by many goroutines.
//
// Every call is one POST with a fresh random and the cached admin UserSig (spec §1.1).
// The only retry inside the client is the one spec §1.9 prescribes: after 70001,
// 60004, 60005 or 20002 it regenerates the UserSig and repeats the call once.
// Backoff, rate limiting and all other retries belong to the caller (design §5).
//
// With a Region, a transport error (connection refused, reset, timeout) switches
// the following calls to the region's other domain (spec §1.2 primary/backup).
type Client struct {
	sdkappid int64
	key      secret.Secret
	admin    string
	bases    []string      // base URLs, primary first
	active   atomic.Uint32 // index into bases of the domain in use
	timeout  time.Duration
	ttl      time.Duration
	now      func() time.Time
	http     *http.Client

	sigMu      sync.Mutex
	sig        secret.Secret // the cached admin UserSig, redacted in %v dumps
	sigRenewAt time.Time
}

// NewClient validates cfg and builds a Client.
func NewClient(cfg Config) (*Client, error) {
	if cfg.SDKAppID <= 0 {
		return nil, errors.New("tencentim: sdkappid must be a positive number")
	}
	if cfg.SecretKey.IsZero() {
		return nil, errors.New("tencentim: secret key is required")
	}
	if cfg.Admin == "" {
		return nil, errors.New("tencentim: admin identifier is required")
	}

	var (
		bases    []string
		loopback bool
	)
	if cfg.Region != "" {
		// Validated even when Endpoint overrides it, so that a typo does not wait
		// for the day the override is removed.
		r, err := LookupRegion(cfg.Region)
		if err != nil {
			return nil, fmt.Errorf("tencentim: %w", err)
		}
		bases = r.BaseURLs()
	}
	if cfg.Endpoint != "" {
		base, lb, err := parseEndpoint(cfg.Endpoint)
		if err != nil {
			return nil, fmt.Errorf("tencentim: %w", err)
		}
		bases, loopback = []string{base}, lb
	}
	if len(bases) == 0 {
		return nil, errors.New("tencentim: a region or an endpoint is required")
	}

	timeout := cfg.Timeout
	switch {
	case timeout == 0:
		timeout = DefaultTimeout
	case timeout < 0:
		return nil, fmt.Errorf("tencentim: timeout %v is negative", timeout)
	case timeout <= backendTimeout && !loopback:
		// A shorter timeout abandons requests the backend may still complete
		// (spec §1.5); only a local sandbox may use one, e.g. in tests.
		return nil, fmt.Errorf("tencentim: timeout %v must be longer than the backend's %v", timeout, backendTimeout)
	}
	maxConns := cfg.MaxConns
	switch {
	case maxConns == 0:
		maxConns = DefaultMaxConns
	case maxConns < 0:
		return nil, fmt.Errorf("tencentim: max connections %d is negative", maxConns)
	}
	ttl := cfg.UserSigTTL
	switch {
	case ttl == 0:
		ttl = DefaultUserSigTTL
	case ttl < time.Second:
		return nil, fmt.Errorf("tencentim: usersig ttl %v is shorter than a second", ttl)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}

	rt := cfg.Transport
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = maxConns * len(bases)
		t.MaxIdleConnsPerHost = maxConns
		t.MaxConnsPerHost = maxConns
		rt = t
	}
	return &Client{
		sdkappid: cfg.SDKAppID,
		key:      cfg.SecretKey,
		admin:    cfg.Admin,
		bases:    bases,
		timeout:  timeout,
		ttl:      ttl,
		now:      now,
		http: &http.Client{
			Transport: rt,
			// The API answers POSTs directly; a redirect is a misconfigured endpoint
			// and following it would resend the usersig elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// parseEndpoint returns the normalized base URL and whether its host is loopback.
func parseEndpoint(raw string) (string, bool, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", false, errors.New("endpoint is not a valid url")
	}
	if u.Host == "" {
		return "", false, fmt.Errorf("endpoint %q has no host", u.Redacted())
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		// Not echoed: whatever it carries may be secret.
		return "", false, errors.New("endpoint must not carry credentials, a query or a fragment")
	}
	loopback := isLoopbackHost(u.Hostname())
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !loopback {
			return "", false, errors.New("endpoint must be https")
		}
	default:
		return "", false, errors.New("endpoint must be https")
	}
	return strings.ToLower(u.Scheme) + "://" + u.Host + strings.TrimRight(u.Path, "/"), loopback, nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// BaseURL is the base URL the next call goes to.
func (c *Client) BaseURL() string { return c.bases[int(c.active.Load())%len(c.bases)] }

// URL is the full URL of cmd with a current UserSig and a fresh random, for curl
// and debugging. It contains the UserSig: never log it.
func (c *Client) URL(cmd Command) string {
	sig, err := c.userSig()
	if err != nil {
		// Signing only fails if zlib or json fail on a few hundred bytes; the URL
		// is then still useful to show the shape.
		sig = secret.Secret{}
	}
	return c.buildURL(c.BaseURL(), cmd, sig.Reveal())
}

// buildURL writes the query parameters in the order of spec §1.1.
func (c *Client) buildURL(base string, cmd Command, sig string) string {
	var b strings.Builder
	b.Grow(len(base) + len(cmd.Path()) + len(sig) + 128)
	b.WriteString(base)
	b.WriteString(cmd.Path())
	b.WriteString("?sdkappid=")
	b.WriteString(strconv.FormatInt(c.sdkappid, 10))
	b.WriteString("&identifier=")
	b.WriteString(url.QueryEscape(c.admin))
	b.WriteString("&usersig=")
	b.WriteString(url.QueryEscape(sig))
	b.WriteString("&random=")
	// A fresh 32-bit random per request identifies it (spec §1.1).
	b.WriteString(strconv.FormatUint(uint64(rand.Uint32()), 10))
	b.WriteString("&contenttype=json")
	return b.String()
}

// renewMargin is how long before expiry the cached UserSig is replaced: a quarter
// of its validity, at most an hour.
func (c *Client) renewMargin() time.Duration { return min(c.ttl/4, time.Hour) }

// userSig returns the cached admin UserSig, signing a new one when none is cached or
// the cached one is within renewMargin of its expiry.
func (c *Client) userSig() (secret.Secret, error) {
	c.sigMu.Lock()
	defer c.sigMu.Unlock()
	now := c.now()
	if !c.sig.IsZero() && now.Before(c.sigRenewAt) {
		return c.sig, nil
	}
	sig, err := GenUserSig(c.sdkappid, c.key, c.admin, now, c.ttl)
	if err != nil {
		return secret.Secret{}, fmt.Errorf("sign usersig: %w", err)
	}
	// The UserSig's clock has whole seconds; expiry counts from the truncated time.
	issued := time.Unix(now.Unix(), 0)
	c.sig = secret.New(sig)
	c.sigRenewAt = issued.Add(c.ttl - c.renewMargin())
	return c.sig, nil
}

// dropUserSig forgets used if it is still the cached UserSig, so that many calls
// failing with the same stale UserSig cause one regeneration, not one each.
func (c *Client) dropUserSig(used secret.Secret) {
	c.sigMu.Lock()
	defer c.sigMu.Unlock()
	if c.sig == used {
		c.sig = secret.Secret{}
	}
}

// errEncodeRequest marks a request that could not be marshalled: a defect of that
// request, not of the transport, so Classify rejects it.
var errEncodeRequest = errors.New("encode request")

// Call marshals req (nil means an empty request, sent as "{}", spec §1.3), POSTs it
// as cmd and decodes the answer into resp, a pointer to an *XxxResponse that embeds
// Envelope (or nil to check only the envelope).
//
// It returns a *Error when ErrorCode != 0 (resp is then decoded all the same), when
// the HTTP status is not 200, on transport errors and when the answer cannot be
// decoded. Per-item failures inside an OK answer (FailAccounts, MemberList[].Result,
// ImportMsgResult[].Result, ResultItem[].ResultCode) are not errors.
func (c *Client) Call(ctx context.Context, cmd Command, req, resp any) error {
	_, err := c.call(ctx, cmd, req, resp)
	return err
}

// Exchange is Call without the client's own retry: exactly one HTTP exchange.
// After an answer that asks for fresh credentials (70001, 60004, 60005, 20002,
// spec §1.9) it forgets the cached UserSig, so that the next call signs a new one,
// and returns the error, for which NeedsRefresh is true. A caller that paces its
// calls (load's engine) retries through its own rate limiter instead of the
// immediate resend Call makes.
func (c *Client) Exchange(ctx context.Context, cmd Command, req, resp any) error {
	body := []byte("{}")
	if req != nil {
		b, err := json.Marshal(req)
		if err != nil {
			return &Error{API: cmd, Err: fmt.Errorf("%w: %w", errEncodeRequest, err)}
		}
		if string(b) != "null" {
			body = b
		}
	}
	if resp != nil {
		if v := reflect.ValueOf(resp); v.Kind() != reflect.Pointer || v.IsNil() {
			return fmt.Errorf("tencentim: %s: response must be a non-nil pointer, got %T", cmd, resp)
		}
	}
	used, _, err := c.once(ctx, cmd, body, resp)
	if NeedsRefresh(err) {
		c.dropUserSig(used)
	}
	return err
}

// NeedsRefresh reports whether err is an answer that asks for fresh credentials
// (spec §1.9): the call may succeed once with a new UserSig.
func NeedsRefresh(err error) bool {
	var e *Error
	return errors.As(err, &e) && isRefreshCode(e.Code)
}

// CallRaw is Call with the body sent exactly as given, even when empty or malformed,
// for tests of how the server treats bad input.
func (c *Client) CallRaw(ctx context.Context, cmd Command, body []byte, resp any) error {
	_, err := c.callBody(ctx, cmd, body, resp)
	return err
}

func (c *Client) call(ctx context.Context, cmd Command, req, resp any) (bool, error) {
	body := []byte("{}")
	if req != nil {
		b, err := json.Marshal(req)
		if err != nil {
			return false, &Error{API: cmd, Err: fmt.Errorf("%w: %w", errEncodeRequest, err)}
		}
		// A nil *XxxRequest marshals to null; the API wants an object (spec §1.3).
		if string(b) != "null" {
			body = b
		}
	}
	return c.callBody(ctx, cmd, body, resp)
}

func (c *Client) callBody(ctx context.Context, cmd Command, body []byte, resp any) (bool, error) {
	if resp != nil {
		if v := reflect.ValueOf(resp); v.Kind() != reflect.Pointer || v.IsNil() {
			return false, fmt.Errorf("tencentim: %s: response must be a non-nil pointer, got %T", cmd, resp)
		}
	}
	used, decoded, err := c.once(ctx, cmd, body, resp)
	var e *Error
	if errors.As(err, &e) && isRefreshCode(e.Code) {
		// Spec §1.9: refresh credentials, then retry once.
		c.dropUserSig(used)
		_, decoded, err = c.once(ctx, cmd, body, resp)
	}
	return decoded, err
}

// once performs one HTTP exchange. It returns the UserSig it used, whether resp was
// decoded from a well-formed answer, and the call's error.
func (c *Client) once(ctx context.Context, cmd Command, body []byte, resp any) (secret.Secret, bool, error) {
	sig, err := c.userSig()
	if err != nil {
		return secret.Secret{}, false, fmt.Errorf("tencentim: %s: %w", cmd, err)
	}
	idx := c.active.Load()
	base := c.bases[int(idx)%len(c.bases)]

	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.buildURL(base, cmd, sig.Reveal()), bytes.NewReader(body))
	if err != nil {
		return sig, false, &Error{API: cmd, Err: redactURLError(err)}
	}
	req.Header.Set("Content-Type", "application/json")

	res, err := c.http.Do(req)
	if err != nil {
		c.failover(ctx, idx)
		return sig, false, &Error{API: cmd, Err: redactURLError(err)}
	}
	defer res.Body.Close()
	// Reading to the end (bounded) lets the connection go back to the pool.
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	if res.StatusCode != http.StatusOK {
		return sig, false, &Error{API: cmd, HTTPStatus: res.StatusCode}
	}
	if err != nil {
		c.failover(ctx, idx)
		return sig, false, &Error{API: cmd, Err: fmt.Errorf("read response: %w", redactURLError(err))}
	}
	if len(data) > maxResponseBytes {
		return sig, false, &Error{API: cmd, Err: fmt.Errorf("response over %d bytes", maxResponseBytes)}
	}

	env, err := decodeResponse(data, resp)
	if err != nil {
		// A 200 whose body is not a TIM answer (truncated, proxy page) is a
		// transport fault, retryable like any other (design §5).
		return sig, false, &Error{API: cmd, Err: err}
	}
	if env.ErrorCode != 0 {
		return sig, true, &Error{API: cmd, Code: env.ErrorCode, Info: env.ErrorInfo}
	}
	return sig, true, nil
}

// decodeResponse fills resp (reset first, so that a retried call leaves nothing of
// the first answer behind) and returns the envelope.
func decodeResponse(data []byte, resp any) (*Envelope, error) {
	var env *Envelope
	if resp != nil {
		reflect.ValueOf(resp).Elem().SetZero()
		if err := json.Unmarshal(data, resp); err != nil {
			return nil, fmt.Errorf("decode response: %w", err)
		}
		if p, ok := resp.(interface{ envelope() *Envelope }); ok {
			env = p.envelope()
		}
	}
	if env == nil {
		env = new(Envelope)
		if err := json.Unmarshal(data, env); err != nil {
			return nil, fmt.Errorf("decode response: %w", err)
		}
	}
	// Every answer carries ActionStatus (spec §1.4); without it ("null", "{}", an
	// unrelated JSON document) the body is not an answer at all.
	if env.ActionStatus == "" {
		return nil, errors.New("decode response: no ActionStatus in the answer")
	}
	return env, nil
}

// failover moves the following calls to the other domain after a transport error on
// domain idx, unless the caller gave up (its context is done) or another call has
// already moved them.
func (c *Client) failover(ctx context.Context, idx uint32) {
	if len(c.bases) < 2 || ctx.Err() != nil {
		return
	}
	c.active.CompareAndSwap(idx, (idx+1)%uint32(len(c.bases)))
}

// invoke is the body of every typed method: the response is returned whenever it was
// decoded, even with an error (ErrorCode != 0).
func invoke[R any](ctx context.Context, c *Client, cmd Command, req any) (*R, error) {
	resp := new(R)
	decoded, err := c.call(ctx, cmd, req, resp)
	if !decoded {
		return nil, err
	}
	return resp, err
}

// AccountImport calls v4/im_open_login_svc/account_import (spec §3.4).
func (c *Client) AccountImport(ctx context.Context, req *AccountImportRequest) (*AccountImportResponse, error) {
	return invoke[AccountImportResponse](ctx, c, CmdAccountImport, req)
}

// MultiAccountImport calls v4/im_open_login_svc/multiaccount_import (spec §3.5).
func (c *Client) MultiAccountImport(ctx context.Context, req *MultiAccountImportRequest) (*MultiAccountImportResponse, error) {
	return invoke[MultiAccountImportResponse](ctx, c, CmdMultiAccountImport, req)
}

// AccountCheck calls v4/im_open_login_svc/account_check (spec §3.6).
func (c *Client) AccountCheck(ctx context.Context, req *AccountCheckRequest) (*AccountCheckResponse, error) {
	return invoke[AccountCheckResponse](ctx, c, CmdAccountCheck, req)
}

// AccountDelete calls v4/im_open_login_svc/account_delete (spec §3.7).
func (c *Client) AccountDelete(ctx context.Context, req *AccountDeleteRequest) (*AccountDeleteResponse, error) {
	return invoke[AccountDeleteResponse](ctx, c, CmdAccountDelete, req)
}

// PortraitSet calls v4/profile/portrait_set (spec §4.1).
func (c *Client) PortraitSet(ctx context.Context, req *PortraitSetRequest) (*PortraitSetResponse, error) {
	return invoke[PortraitSetResponse](ctx, c, CmdPortraitSet, req)
}

// PortraitGet calls v4/profile/portrait_get (spec §4.3).
func (c *Client) PortraitGet(ctx context.Context, req *PortraitGetRequest) (*PortraitGetResponse, error) {
	return invoke[PortraitGetResponse](ctx, c, CmdPortraitGet, req)
}

// FriendImport calls v4/sns/friend_import (spec §5.1).
func (c *Client) FriendImport(ctx context.Context, req *FriendImportRequest) (*FriendImportResponse, error) {
	return invoke[FriendImportResponse](ctx, c, CmdFriendImport, req)
}

// FriendGet calls v4/sns/friend_get (spec §5.3).
func (c *Client) FriendGet(ctx context.Context, req *FriendGetRequest) (*FriendGetResponse, error) {
	return invoke[FriendGetResponse](ctx, c, CmdFriendGet, req)
}

// ImportMsg calls v4/openim/importmsg (spec §7.1).
func (c *Client) ImportMsg(ctx context.Context, req *ImportMsgRequest) (*ImportMsgResponse, error) {
	return invoke[ImportMsgResponse](ctx, c, CmdImportMsg, req)
}

// AdminGetRoamMsg calls v4/openim/admin_getroammsg (spec §7.2).
func (c *Client) AdminGetRoamMsg(ctx context.Context, req *AdminGetRoamMsgRequest) (*AdminGetRoamMsgResponse, error) {
	return invoke[AdminGetRoamMsgResponse](ctx, c, CmdAdminGetRoamMsg, req)
}

// ImportGroup calls v4/group_open_http_svc/import_group (spec §8.7).
func (c *Client) ImportGroup(ctx context.Context, req *ImportGroupRequest) (*ImportGroupResponse, error) {
	return invoke[ImportGroupResponse](ctx, c, CmdImportGroup, req)
}

// ImportGroupMember calls v4/group_open_http_svc/import_group_member (spec §8.8).
func (c *Client) ImportGroupMember(ctx context.Context, req *ImportGroupMemberRequest) (*ImportGroupMemberResponse, error) {
	return invoke[ImportGroupMemberResponse](ctx, c, CmdImportGroupMember, req)
}

// ImportGroupMsg calls v4/group_open_http_svc/import_group_msg (spec §8.9).
func (c *Client) ImportGroupMsg(ctx context.Context, req *ImportGroupMsgRequest) (*ImportGroupMsgResponse, error) {
	return invoke[ImportGroupMsgResponse](ctx, c, CmdImportGroupMsg, req)
}

// SetUnreadMsgNum calls v4/group_open_http_svc/set_unread_msg_num (spec §8.10).
func (c *Client) SetUnreadMsgNum(ctx context.Context, req *SetUnreadMsgNumRequest) (*SetUnreadMsgNumResponse, error) {
	return invoke[SetUnreadMsgNumResponse](ctx, c, CmdSetUnreadMsgNum, req)
}

// GetGroupInfo calls v4/group_open_http_svc/get_group_info (spec §8.12). Check each
// GroupInfo's own ErrorCode: when the answer lists groups, its top-level ErrorCode
// is meaningless (spec §1.4) and is not returned as an error, so that one missing
// group does not fail the lookup of the others.
func (c *Client) GetGroupInfo(ctx context.Context, req *GetGroupInfoRequest) (*GetGroupInfoResponse, error) {
	resp, err := invoke[GetGroupInfoResponse](ctx, c, CmdGetGroupInfo, req)
	var e *Error
	if resp != nil && len(resp.GroupInfo) > 0 && errors.As(err, &e) && e.Code != 0 {
		return resp, nil
	}
	return resp, err
}

// GetGroupMemberInfo calls v4/group_open_http_svc/get_group_member_info (spec §8.13).
func (c *Client) GetGroupMemberInfo(ctx context.Context, req *GetGroupMemberInfoRequest) (*GetGroupMemberInfoResponse, error) {
	return invoke[GetGroupMemberInfoResponse](ctx, c, CmdGetGroupMemberInfo, req)
}

// GroupMsgGetSimple calls v4/group_open_http_svc/group_msg_get_simple (spec §8.14).
func (c *Client) GroupMsgGetSimple(ctx context.Context, req *GroupMsgGetSimpleRequest) (*GroupMsgGetSimpleResponse, error) {
	return invoke[GroupMsgGetSimpleResponse](ctx, c, CmdGroupMsgGetSimple, req)
}

// GetAppIDGroupList calls v4/group_open_http_svc/get_appid_group_list (spec §8.15).
func (c *Client) GetAppIDGroupList(ctx context.Context, req *GetAppIDGroupListRequest) (*GetAppIDGroupListResponse, error) {
	return invoke[GetAppIDGroupListResponse](ctx, c, CmdGetAppIDGroupList, req)
}

// DestroyGroup calls v4/group_open_http_svc/destroy_group (spec §8.16).
func (c *Client) DestroyGroup(ctx context.Context, req *DestroyGroupRequest) (*DestroyGroupResponse, error) {
	return invoke[DestroyGroupResponse](ctx, c, CmdDestroyGroup, req)
}

// CreateGroup calls v4/group_open_http_svc/create_group (spec §8.6).
func (c *Client) CreateGroup(ctx context.Context, req *CreateGroupRequest) (*CreateGroupResponse, error) {
	return invoke[CreateGroupResponse](ctx, c, CmdCreateGroup, req)
}

// ChangeGroupOwner calls v4/group_open_http_svc/change_group_owner (spec §8.17).
func (c *Client) ChangeGroupOwner(ctx context.Context, req *ChangeGroupOwnerRequest) (*ChangeGroupOwnerResponse, error) {
	return invoke[ChangeGroupOwnerResponse](ctx, c, CmdChangeGroupOwner, req)
}

// ImportTopic calls v4/group_open_http_svc/import_topic (spec §8.11).
func (c *Client) ImportTopic(ctx context.Context, req *ImportTopicRequest) (*ImportTopicResponse, error) {
	return invoke[ImportTopicResponse](ctx, c, CmdImportTopic, req)
}

// GetC2CUnreadMsgNum calls v4/openim/get_c2c_unread_msg_num (spec §7.3).
func (c *Client) GetC2CUnreadMsgNum(ctx context.Context, req *GetC2CUnreadMsgNumRequest) (*GetC2CUnreadMsgNumResponse, error) {
	return invoke[GetC2CUnreadMsgNumResponse](ctx, c, CmdGetC2CUnreadMsgNum, req)
}

// RecentContactList calls v4/recentcontact/get_list (spec §9).
func (c *Client) RecentContactList(ctx context.Context, req *RecentContactListRequest) (*RecentContactListResponse, error) {
	return invoke[RecentContactListResponse](ctx, c, CmdRecentContactList, req)
}

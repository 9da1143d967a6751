package sandbox

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/immigrate/immigrate/tencentim"
)

// Account-service codes (spec §3, §1.7).
const (
	codeAccountNotExist = 70107
	codeAccountLimit    = 70398
	codeAccountParam    = 70402
	codeValueTooLong    = 40601
)

// robotPrefix marks chatbot accounts (spec §3.1); ordinary imports may not use it
// (INFERRED).
const robotPrefix = "@RBT#"

// validUserID is the UserID rule of design §7 A23: 1-32 bytes of printable ASCII
// 0x21-0x7e (spec §3.1), not starting with the reserved chatbot prefix.
func validUserID(id string) bool {
	if len(id) == 0 || len(id) > tencentim.MaxUserIDBytes || strings.HasPrefix(id, robotPrefix) {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// userIDProblem explains why id is not a valid UserID, for ErrorInfo.
func userIDProblem(id string) string {
	switch {
	case id == "":
		return "UserID is empty"
	case len(id) > tencentim.MaxUserIDBytes:
		return "UserID is longer than 32 bytes"
	case strings.HasPrefix(id, robotPrefix):
		return "UserID prefix @RBT# is reserved for chatbots"
	default:
		return "UserID must be printable ASCII without spaces"
	}
}

// canCreate reports whether n more accounts fit under the edition's account limit
// (spec §3.3, item 15).
func (s *Server) canCreate(n int) bool {
	return s.cfg.AccountLimit <= 0 || len(s.users.accounts)+n <= s.cfg.AccountLimit
}

func (u *userStore) create(id string) *account {
	a := u.accounts[id]
	if a == nil {
		a = &account{id: id, profile: map[string]json.RawMessage{}}
		u.accounts[id] = a
	}
	return a
}

// handleAccountImport is v4/im_open_login_svc/account_import (spec §3.4; items
// 12-15). Re-importing is idempotent; Nick and FaceUrl, when given, set the
// profile tags Tag_Profile_IM_Nick and Tag_Profile_IM_Image so that portrait_get
// reads them back.
func handleAccountImport(s *Server, c *call) (any, *apiError) {
	id, aerr := c.str("UserID", true, codeAccountParam, codeAccountType)
	if aerr != nil {
		return nil, aerr
	}
	if !validUserID(id) {
		return nil, errf(codeAccountParam, userIDProblem(id))
	}
	set := map[string]json.RawMessage{}
	for _, f := range []struct{ field, tag string }{{"Nick", tencentim.TagNick}, {"FaceUrl", tencentim.TagImage}} {
		if !c.has(f.field) {
			continue
		}
		v, aerr := c.str(f.field, false, codeAccountParam, codeAccountParam)
		if aerr != nil {
			return nil, aerr
		}
		// INFERRED (spec §3.4): the profile's 500-byte limit applies to both.
		if len(v) > tencentim.MaxProfileValueBytes {
			return nil, errf(codeValueTooLong, f.field+" exceeds 500 bytes")
		}
		set[f.tag] = jsonString(v)
	}
	if !s.users.exists(id) && !s.canCreate(1) {
		return nil, errf(codeAccountLimit, "the number of accounts exceeds the limit of "+strconv.Itoa(s.cfg.AccountLimit))
	}
	a := s.users.create(id)
	for tag, v := range set {
		a.profile[tag] = v
	}
	return &tencentim.AccountImportResponse{}, nil
}

// handleMultiAccountImport is v4/im_open_login_svc/multiaccount_import (spec §3.5;
// item 16). More than 100 accounts fail the request (70402, A35 REC). Invalid
// UserIDs are listed in FailAccounts; accounts that already exist are not
// failures (re-import is idempotent). When the valid new accounts would exceed the
// account limit, the whole request fails with 70398 and nothing is created, so a
// caller never has to work out which part of a batch landed.
func handleMultiAccountImport(s *Server, c *call) (any, *apiError) {
	raw, aerr := c.array("Accounts", true, codeAccountParam, codeAccountParam)
	if aerr != nil {
		return nil, aerr
	}
	if len(raw) > tencentim.MaxMultiAccountImport {
		return nil, errf(codeAccountParam, "more than 100 accounts in one request")
	}
	ids, aerr := accountStrings("Accounts", raw)
	if aerr != nil {
		return nil, aerr
	}
	resp := &tencentim.MultiAccountImportResponse{FailAccounts: []string{}}
	var create []string
	seen := map[string]bool{}
	for _, id := range ids {
		if !validUserID(id) {
			resp.FailAccounts = append(resp.FailAccounts, id)
			continue
		}
		if !seen[id] && !s.users.exists(id) {
			create = append(create, id)
		}
		seen[id] = true
	}
	if !s.canCreate(len(create)) {
		return nil, errf(codeAccountLimit, "the number of accounts exceeds the limit of "+strconv.Itoa(s.cfg.AccountLimit))
	}
	for _, id := range create {
		s.users.create(id)
	}
	return resp, nil
}

// accountStrings decodes an array of UserIDs; a non-string element is 60015
// (accounts must be strings, spec §1.6, item 9).
func accountStrings(name string, raw []json.RawMessage) ([]string, *apiError) {
	out := make([]string, len(raw))
	for i, e := range raw {
		s, ok := asString(e)
		if !ok {
			return nil, wrongType(codeAccountType, name+"["+strconv.Itoa(i)+"]", "a string")
		}
		out[i] = s
	}
	return out, nil
}

// userIDItems decodes an array of {"UserID": ...} objects (account_check,
// account_delete), with at most max items.
func userIDItems(c *call, name string, max int) ([]string, *apiError) {
	items, aerr := c.objects(name, true, codeAccountParam, codeAccountParam)
	if aerr != nil {
		return nil, aerr
	}
	if len(items) > max {
		return nil, errf(codeAccountParam, "more than "+strconv.Itoa(max)+" items in "+name)
	}
	ids := make([]string, len(items))
	for i, it := range items {
		id, aerr := it.str("UserID", true, codeAccountParam, codeAccountType)
		if aerr != nil {
			aerr.Info = name + "[" + strconv.Itoa(i) + "]." + aerr.Info
			return nil, aerr
		}
		ids[i] = id
	}
	return ids, nil
}

// handleAccountCheck is v4/im_open_login_svc/account_check (spec §3.6; item 17).
func handleAccountCheck(s *Server, c *call) (any, *apiError) {
	ids, aerr := userIDItems(c, "CheckItem", tencentim.MaxAccountCheck)
	if aerr != nil {
		return nil, aerr
	}
	resp := &tencentim.AccountCheckResponse{ResultItem: make([]tencentim.AccountCheckResult, len(ids))}
	for i, id := range ids {
		status := tencentim.AccountNotImported
		if s.users.exists(id) {
			status = tencentim.AccountImported
		}
		resp.ResultItem[i] = tencentim.AccountCheckResult{UserID: id, AccountStatus: status}
	}
	return resp, nil
}

// handleAccountDelete is v4/im_open_login_svc/account_delete (spec §3.7; item 18).
// Deleting removes the profile, the relationship chain, conversations and group
// memberships (line 21218); the UserID may be imported again (trial edition).
func handleAccountDelete(s *Server, c *call) (any, *apiError) {
	ids, aerr := userIDItems(c, "DeleteItem", tencentim.MaxAccountDelete)
	if aerr != nil {
		return nil, aerr
	}
	resp := &tencentim.AccountDeleteResponse{ResultItem: make([]tencentim.AccountDeleteResult, len(ids))}
	for i, id := range ids {
		r := tencentim.AccountDeleteResult{UserID: id}
		if s.users.exists(id) {
			s.users.deleteAccount(id)
			s.groups.removeUser(id)
		} else {
			r.ResultCode = codeAccountNotExist
			r.ResultInfo = "Err_TLS_PT_Open_Login_Account_Not_Exist"
		}
		resp.ResultItem[i] = r
	}
	return resp, nil
}

// jsonString encodes s as a JSON string value, without HTML escaping, so that a
// value is stored (and dumped) the same way whoever wrote it.
func jsonString(s string) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimRight(b.Bytes(), "\n")
}
